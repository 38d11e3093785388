import Testing
@Test func placeholderFakeGmailTests() { #expect(Bool(true)) }
