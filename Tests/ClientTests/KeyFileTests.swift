import FakeGmail
import FakeGmailBridge
import Foundation
import GmailCapture
import CaptureParsing
import Logging
import Synchronization
import Testing

/// Captures log records in memory (per test; no global bootstrap).
final class CapturingLogHandler: LogHandler, @unchecked Sendable {
    let records = Mutex<[String]>([])
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) {
        records.withLock { $0.append("\(event.level) \(event.message)") }
    }
}

@Suite struct KeyFileTests {
    @Test func warnsWhenTheKeyFileIsReadableByOthers() async throws {
        let fake = FakeGmail(options: .init(quota: .off))
        let key = try await fake.serviceAccountKeyJSON()
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sa-\(UUID().uuidString).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try key.write(to: URL(fileURLWithPath: path))
        let handler = CapturingLogHandler()
        let logger = Logger(label: "test") { _ in handler }
        let clock = VirtualCaptureClock(start: Date(timeIntervalSince1970: 1_700_000_000))
        let transport = InProcessFakeTransport(fake: fake)
        _ = chmod(path, 0o644)
        _ = try ServiceAccountTokenProvider.load(path: path, transport: transport, clock: clock, logger: logger)
        #expect(handler.records.withLock { $0 }.contains { $0.contains("warning") && $0.contains("readable by other users") })
        handler.records.withLock { $0.removeAll() }
        _ = chmod(path, 0o600)
        _ = try ServiceAccountTokenProvider.load(path: path, transport: transport, clock: clock, logger: logger)
        #expect(handler.records.withLock { $0 }.isEmpty)
        // A key file that is not a Google key is a clear error.
        try Data(#"{"hello": "world"}"#.utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: ServiceAccountTokenProvider.KeyError.self) {
            try ServiceAccountTokenProvider.load(path: path, transport: transport, clock: clock, logger: logger)
        }
    }
}
