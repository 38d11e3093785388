import Testing
@Test func placeholderParserTests() { #expect(Bool(true)) }
