// swift-tools-version:6.1
import PackageDescription

/// Compiler settings every source target builds with (as Hummingbird does): `any` spelled out, members
/// visible only through the file's own imports, imports internal unless marked `public import`.
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "GmailCapture",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "MIMEKit", targets: ["MIMEKit"]),
        .library(name: "GmailCapture", targets: ["GmailCapture"]),
        .library(name: "FakeGmail", targets: ["FakeGmail"]),
        .executable(name: "fakegmail-server", targets: ["fakegmail-server"]),
        .executable(name: "gmail-capture", targets: ["gmail-capture"]),
        .executable(name: "parse-bench", targets: ["parse-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        // traits: [] avoids a SwiftPM bug that rebuilds Hummingbird at random (SWIFT_STACK_NOTES pitfall 1)
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/modelcontextprotocol/swift-sdk", from: "0.12.1"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
    ],
    targets: [
        // Shared MIME module: RFC 5322/2045-2047/2231 codecs, charsets, multipart structure, HTML to text.
        .target(name: "MIMEKit"),
        // The pure parsing core: Gmail message wire types, the canonical message and its two front ends.
        // No I/O dependencies, so the fuzzer builds it alone.
        .target(
            name: "CaptureParsing",
            dependencies: [
                "MIMEKit",
                .product(name: "Crypto", package: "swift-crypto"),
            ]),
        // File and process I/O around the parser: reading message files, the parse benchmark, RSS figures.
        .target(name: "CaptureFiles", dependencies: ["CaptureParsing", "MIMEKit"]),
        .target(
            name: "GmailCapture",
            dependencies: [
                "MIMEKit", "CaptureParsing",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ], resources: [.copy("Migrations")]),
        .target(
            name: "FakeGmail",
            dependencies: [
                "MIMEKit",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // The read-only MCP server over captured mail (stdio for `gmail-capture mcp`, streamable HTTP for `serve`).
        .target(
            name: "CaptureMCP",
            dependencies: [
                "GmailCapture",
                .product(name: "MCP", package: "swift-sdk"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]),
        // The web UI (`serve` at `/`): server-rendered pages (swift-mustache), sessions, sandboxed HTML mail.
        .target(
            name: "CaptureWeb",
            dependencies: [
                "GmailCapture", "CaptureParsing",
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ], resources: [.copy("Templates"), .copy("Static")]),
        // Serves GmailCapture's transport seam from an in-process FakeGmail (tests and the demo).
        .target(name: "FakeGmailBridge", dependencies: ["FakeGmail", "GmailCapture"]),
        .executableTarget(
            name: "fakegmail-server",
            dependencies: [
                "FakeGmail",
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]),
        .executableTarget(
            name: "gmail-capture",
            dependencies: [
                "GmailCapture", "FakeGmail", "FakeGmailBridge", "MIMEKit", "CaptureFiles", "CaptureMCP", "CaptureWeb",
                .product(name: "MCP", package: "swift-sdk"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]),
        // Test helpers shared by the test targets (fixture paths, golden files, seeded randomness).
        .target(name: "TestSupport", dependencies: ["CaptureParsing"]),
        // The parse benchmark linked against the parser only (memory figures without the app's libraries).
        .executableTarget(name: "parse-bench", dependencies: ["CaptureParsing", "CaptureFiles"]),
        .testTarget(name: "MIMETests", dependencies: ["MIMEKit", "TestSupport"]),
        .testTarget(
            name: "ParserTests",
            dependencies: ["GmailCapture", "CaptureFiles", "MIMEKit", "TestSupport", .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(name: "MatcherTests", dependencies: ["GmailCapture", "TestSupport"]),
        .testTarget(name: "ThreadTests", dependencies: ["GmailCapture", "TestSupport"]),
        .testTarget(name: "RelationshipTests", dependencies: ["GmailCapture", "CaptureParsing", "TestSupport"]),
        .testTarget(
            name: "RouteTests",
            dependencies: [
                "GmailCapture", "FakeGmail", "FakeGmailBridge", "TestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .testTarget(
            name: "StorageTests",
            dependencies: [
                "GmailCapture", "FakeGmail", "FakeGmailBridge", "TestSupport",
            ]),
        .testTarget(
            name: "FakeGmailTests",
            dependencies: [
                "FakeGmail", "MIMEKit", "TestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]),
        .testTarget(
            name: "ClientTests",
            dependencies: [
                "GmailCapture", "FakeGmail", "FakeGmailBridge", "TestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .testTarget(
            name: "MCPTests",
            dependencies: [
                "CaptureMCP", "GmailCapture", "CaptureParsing", "MIMEKit", "FakeGmail", "FakeGmailBridge", "TestSupport",
                .product(name: "MCP", package: "swift-sdk"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ]),
        .testTarget(
            name: "WebTests",
            dependencies: [
                "CaptureWeb", "GmailCapture", "FakeGmail", "FakeGmailBridge", "TestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .testTarget(name: "SyncIntegrationTests", dependencies: ["GmailCapture", "FakeGmail", "FakeGmailBridge", "TestSupport"]),
        .testTarget(
            name: "PushTests",
            dependencies: [
                "GmailCapture", "FakeGmail", "FakeGmailBridge", "TestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]),
    ]
)

for target in package.targets where target.type != .test {
    target.swiftSettings = (target.swiftSettings ?? []) + strict
}

// libFuzzer harness: only declared on demand (it has no main; libFuzzer supplies one).
if Context.environment["FUZZ"] != nil {
    package.targets.append(.executableTarget(name: "fuzz-mime", dependencies: ["MIMEKit", "CaptureParsing"], path: "Fuzz/fuzz-mime"))
}
