import Testing
@Test func placeholderClientTests() { #expect(Bool(true)) }
