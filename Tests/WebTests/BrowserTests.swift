import Foundation
import TestSupport
import Testing

/// The web UI in a real browser: Scripts/browser/browser_tests.py drives headless Chromium (Debian's
/// `chromium` and `chromium-driver`, Python's `selenium`; .ci/run installs them) against `gmail-capture
/// serve --fake` on a loopback port, with hostile messages from Fixtures/web delivered into alex's mailbox.
/// Chromium goes through a loopback proxy that records every request and refuses every non-loopback one,
/// so the run proves what each page tried and nothing leaves the machine. Screenshots go to
/// `artifacts/browser-screenshots/ui/` (and `self-test/`). Without Chromium it fails in CI (`CI` set) and is reported as
/// skipped (cancelled) on a developer machine, never passed. Scripts/test.sh runs it after the parallel
/// suite, on its own (a browser under the suite's load measures nothing useful and times out).
@Suite(.serialized) struct BrowserTests {
    static var inCI: Bool {
        guard let v = ProcessInfo.processInfo.environment["CI"]?.trimmingCharacters(in: .whitespaces).lowercased() else { return false }
        return !["", "0", "false", "no"].contains(v)
    }

    static let shots = TestPaths.packageRoot.appendingPathComponent("artifacts/browser-screenshots")

    /// A fresh screenshots folder for one run (an earlier run's failure pictures would mislead).
    static func folder(_ name: String) throws -> URL {
        let url = shots.appendingPathComponent(name)
        try? FileManager.default.removeItem(at: url)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Whether Chromium, chromedriver and selenium are there; records a failure in CI and cancels elsewhere when not.
    static func requireBrowser() throws -> Bool {
        let probe = try BuiltProduct.run(
            URL(fileURLWithPath: "/usr/bin/env"),
            ["sh", "-c", "command -v chromium >/dev/null && command -v chromedriver >/dev/null && python3 -c 'import selenium'"])
        guard probe.status == 0 else {
            let why =
                "Chromium, chromedriver or Python's selenium is missing (apt-get install chromium chromium-driver; pip install selenium)"
            if Self.inCI {
                Issue.record("CI is set but the browser tests cannot start: \(why). .ci/run installs them; the CI image is broken.")
                return false
            }
            print("SKIPPED (not in CI): \(why)")
            try Test.cancel("skipped: \(why)")
        }
        return true
    }

    /// The detectors can fail: the hostile fixtures served raw (no sandbox, no CSP) set every one of them
    /// off, and a page built like the UI's sets none off.
    @Test func theDetectorsFireOnUnsandboxedHostileMail() throws {
        guard try Self.requireBrowser() else { return }
        let run = try BuiltProduct.run(
            URL(fileURLWithPath: "/usr/bin/env"),
            [
                "python3", "Scripts/browser/browser_tests.py", "--self-test", "--screenshots", try Self.folder("self-test").path,
                "--fixtures", TestPaths.fixtures.appendingPathComponent("web").path,
            ])
        print(run.output)
        #expect(run.status == 0, "the browser self-test failed: a detector did not fire on unsandboxed hostile mail")
    }

    @Test func signInInvestorsThreadSearchSharingSignOutAndHostileMailInChromium() throws {
        guard try Self.requireBrowser() else { return }
        let binary = BuiltProduct.url("gmail-capture")
        try #require(FileManager.default.isExecutableFile(atPath: binary.path), "gmail-capture is not built")
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("browser-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        let run = try BuiltProduct.run(
            URL(fileURLWithPath: "/usr/bin/env"),
            [
                "python3", "Scripts/browser/browser_tests.py", "--binary", binary.path, "--workdir", work.path, "--screenshots",
                try Self.folder("ui").path,
                "--fixtures", TestPaths.fixtures.appendingPathComponent("web").path,
            ])
        print(run.output)
        #expect(run.status == 0, "browser tests failed; screenshots and page sources in \(Self.shots.appendingPathComponent("ui").path)")
    }
}
