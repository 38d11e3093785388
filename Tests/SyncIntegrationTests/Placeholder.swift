import Testing
@Test func placeholderSyncIntegrationTests() { #expect(Bool(true)) }
