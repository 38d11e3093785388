import ArgumentParser
import FakeGmail
@main struct FakeGmailServerCommand: AsyncParsableCommand { func run() async throws {} }
