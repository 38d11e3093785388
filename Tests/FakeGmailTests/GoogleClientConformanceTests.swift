import Foundation
import TestSupport
import Testing

/// Google's official Python client against the standalone server (Scripts/conformance_google_client.py).
/// .ci/run installs google-api-python-client and google-auth; where they are missing the test says so
/// and skips.
@Suite struct GoogleClientConformanceTests {
    static var server: URL {
        BuiltProduct.url("fakegmail-server")
    }

    static func run(_ args: [String]) throws -> (Int32, String) {
        let r = try BuiltProduct.run(URL(fileURLWithPath: "/usr/bin/env"), args)
        return (r.status, r.output)
    }

    @Test func googleApiPythonClientCannotTellTheDifference() throws {
        let (probe, _) = try Self.run(["python3", "-c", "import googleapiclient.discovery, google.oauth2.service_account"])
        guard probe == 0 else {
            print("SKIPPED: google-api-python-client / google-auth not installed (pip install google-api-python-client google-auth)")
            return
        }
        try #require(FileManager.default.isExecutableFile(atPath: Self.server.path))
        let (status, output) = try Self.run(["python3", "Scripts/conformance_google_client.py", "--server", Self.server.path])
        print(output)
        #expect(status == 0)
        #expect(output.contains("19 passed, 0 failed"))
    }
}
