import Testing
@Test func placeholderMatcherTests() { #expect(Bool(true)) }
