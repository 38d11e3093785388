import Testing
@Test func placeholderThreadTests() { #expect(Bool(true)) }
