import Crypto
import Foundation
import GmailCapture
import CaptureParsing
import TestSupport
import Testing

@Suite struct ClassifierTests {
    @Test(arguments: [
        (429, nil as String?, "gmail.users.messages.get", FailureClass.retryAfterBackoff),
        (403, "rateLimitExceeded", "gmail.users.messages.get", .retryAfterBackoff),
        (403, "userRateLimitExceeded", "gmail.users.messages.list", .retryAfterBackoff),
        (500, "backendError", "gmail.users.messages.get", .retryAfterBackoff),
        (502, nil, "gmail.users.messages.get", .retryAfterBackoff),
        (503, nil, "gmail.users.history.list", .retryAfterBackoff),
        (504, nil, "gmail.users.messages.get", .retryAfterBackoff),
        (401, "authError", "gmail.users.getProfile", .refreshTokenThenRetryOnce),
        (404, "notFound", "gmail.users.messages.get", .messageGone),
        (404, "notFound", "gmail.users.messages.attachments.get", .messageGone),
        (404, "notFound", "gmail.users.history.list", .historyExpired),
        (404, "notFound", "gmail.users.labels.get", .permanent),
        (403, "forbidden", "gmail.users.getProfile", .needsAdmin),
        (403, "domainPolicy", "gmail.users.getProfile", .needsAdmin),
        (403, "insufficientPermissions", "gmail.users.messages.get", .needsAdmin),
        (400, "failedPrecondition", "gmail.users.getProfile", .needsAdmin),
        (403, "dailyLimitExceeded", "gmail.users.messages.get", .permanent),
        (400, "invalidArgument", "gmail.users.messages.get", .permanent),
    ])
    func httpStatusAndReason(status: Int, reason: String?, method: String, expected: FailureClass) {
        #expect(ErrorClassifier.classify(status: status, reason: reason, oauthError: nil, transport: nil, method: method) == expected)
    }

    @Test func oauthAndTransportFailures() {
        for code in ["invalid_grant", "unauthorized_client", "access_denied", "admin_policy_enforced", "invalid_client"] {
            #expect(
                ErrorClassifier.classify(status: 400, reason: code, oauthError: code, transport: nil, method: "oauth2.token") == .needsAdmin
            )
        }
        #expect(
            ErrorClassifier.classify(status: 500, reason: nil, oauthError: "internal_failure", transport: nil, method: "oauth2.token")
                == .retryAfterBackoff)
        for t in [TransportFailure.timeout, .connectionReset, .truncatedBody, .malformedBody] {
            #expect(
                ErrorClassifier.classify(status: nil, reason: nil, oauthError: nil, transport: t, method: "gmail.users.messages.get")
                    == .retryAfterBackoff)
        }
    }

    @Test func retryHintIsTheLaterOfHeaderAndText() {
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        let text = "User-rate limit exceeded.  Retry after 2023-11-14T22:13:40.000Z"  // now + 20 s
        #expect(ErrorClassifier.retryAfter(header: "5", message: text, now: now) == now.addingTimeInterval(20))
        #expect(ErrorClassifier.retryAfter(header: "30", message: text, now: now) == now.addingTimeInterval(30))
        #expect(ErrorClassifier.retryAfter(header: nil, message: "Backend Error", now: now) == nil)
        #expect(ErrorClassifier.retryAfter(header: "Tue, 14 Nov 2023 22:14:00 GMT", message: nil, now: now) == now.addingTimeInterval(40))
    }
}

@Suite struct RetryStateMachineTests {
    @Test func backoffIsFullJitterUnderTheCapAndStopsAtTheBudget() {
        var m = RetryStateMachine(
            policy: RetryPolicy(maxRetries: 8, baseDelay: .seconds(1), maxDelay: .seconds(8)), random: SeededGenerator(seed: 1))
        var delays: [Duration] = []
        for _ in 0..<8 {
            guard case .retry(let d) = m.next(after: .retryAfterBackoff) else { Issue.record("expected a retry"); return }
            delays.append(d)
        }
        #expect(m.next(after: .retryAfterBackoff) == .fail)
        let bounds: [Duration] = [.seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(8), .seconds(8), .seconds(8), .seconds(8)]
        for (d, b) in zip(delays, bounds) { #expect(d >= .zero && d <= b) }
        // Seeded: the same seed gives the same schedule.
        var again = RetryStateMachine(
            policy: RetryPolicy(maxRetries: 8, baseDelay: .seconds(1), maxDelay: .seconds(8)), random: SeededGenerator(seed: 1))
        let replay: [Duration] = (0..<8).compactMap { _ in
            if case .retry(let d) = again.next(after: .retryAfterBackoff) { return d } else { return nil }
        }
        #expect(replay == delays)
    }

    @Test func serverHintIsHonouredExactly() {
        var m = RetryStateMachine(policy: RetryPolicy(), random: SeededGenerator(seed: 2))
        #expect(m.next(after: .retryAfterBackoff, hint: .seconds(17)) == .retry(after: .seconds(17)))
    }

    @Test func refreshesOnceThenFails() {
        var m = RetryStateMachine(policy: RetryPolicy(), random: SeededGenerator(seed: 3))
        #expect(m.next(after: .refreshTokenThenRetryOnce) == .refreshCredentialsAndRetry)
        #expect(m.next(after: .refreshTokenThenRetryOnce) == .fail)
    }

    @Test(arguments: [FailureClass.messageGone, .historyExpired, .needsAdmin, .permanent])
    func terminalClassesNeverRetry(_ c: FailureClass) {
        var m = RetryStateMachine(policy: RetryPolicy(), random: SeededGenerator(seed: 4))
        #expect(m.next(after: c) == .fail)
    }
}

@Suite struct ConfigTests {
    @Test func defaultsMatchTheSeed() throws {
        let c = try CaptureConfig.load(from: [:])
        #expect(!c.integrationEnabled && c.authMethod == .dwd)
        #expect(c.syncIntervalMinutes == 180 && c.backfillPageSize == 500 && c.maxAttachmentMB == 50 && c.attachmentConcurrency == 4)
        #expect(c.rateUnitsPerSecond == 150 && c.retryMax == 5 && c.historyStaleDays == 5)
        #expect(c.databasePath == "data/crm.db" && c.attachmentDirectory == "data/email_attachments")
        #expect(c.apiBaseURL == "https://gmail.googleapis.com" && c.quotaCosts == .classic)
    }

    @Test func everyProblemIsReportedAtOnceWithoutEchoingSecrets() {
        let env = [
            "CRM_GMAIL_INTEGRATION_ENABLED": "maybe",
            "CRM_GMAIL_AUTH_METHOD": "kerberos",
            "CRM_GMAIL_SYNC_INTERVAL_MIN": "often",
            "CRM_GMAIL_BACKFILL_PAGE_SIZE": "900",
            "CRM_GMAIL_SECRET_KEY": "c3VwZXItc2VjcmV0LXZhbHVl",
            "CRM_GMAIL_API_BASE_URL": "gmail.googleapis.com",
            "CRM_GMAIL_QUOTA_COSTS": "cheap",
            "CRM_GMAIL_WORKSPACE_DOMAIN": "alice@firm.example",
        ]
        do {
            _ = try CaptureConfig.load(from: env)
            Issue.record("expected invalid")
        } catch let invalid as CaptureConfig.Invalid {
            let names = Set(invalid.problems.map(\.variable))
            #expect(
                names == [
                    "CRM_GMAIL_INTEGRATION_ENABLED", "CRM_GMAIL_AUTH_METHOD", "CRM_GMAIL_SYNC_INTERVAL_MIN", "CRM_GMAIL_BACKFILL_PAGE_SIZE",
                    "CRM_GMAIL_SECRET_KEY", "CRM_GMAIL_API_BASE_URL", "CRM_GMAIL_QUOTA_COSTS", "CRM_GMAIL_WORKSPACE_DOMAIN",
                ])
            #expect(!invalid.description.contains("c3VwZXItc2VjcmV0LXZhbHVl"))
            #expect(invalid.problems.allSatisfy { !$0.expected.isEmpty })
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func modeRequirementsApplyOnlyWhenEnabled() {
        let dwd = ["CRM_GMAIL_INTEGRATION_ENABLED": "true"]
        do { _ = try CaptureConfig.load(from: dwd, fileExists: { _ in false }); Issue.record("expected invalid") } catch let i
            as CaptureConfig.Invalid
        {
            #expect(Set(i.problems.map(\.variable)) == ["CRM_GMAIL_SA_KEY_PATH", "CRM_GMAIL_WORKSPACE_DOMAIN"])
        } catch { Issue.record("\(error)") }
        let oauth = ["CRM_GMAIL_INTEGRATION_ENABLED": "1", "CRM_GMAIL_AUTH_METHOD": "oauth"]
        do { _ = try CaptureConfig.load(from: oauth); Issue.record("expected invalid") } catch let i as CaptureConfig.Invalid {
            #expect(
                Set(i.problems.map(\.variable)) == [
                    "CRM_GMAIL_OAUTH_CLIENT_ID", "CRM_GMAIL_OAUTH_CLIENT_SECRET",
                    "CRM_GMAIL_OAUTH_REDIRECT_URI", "CRM_GMAIL_SECRET_KEY",
                ])
        } catch { Issue.record("\(error)") }
        let ok = try? CaptureConfig.load(
            from: ["CRM_GMAIL_INTEGRATION_ENABLED": "true", "CRM_GMAIL_WORKSPACE_DOMAIN": "Firm.Example"],
            fileExists: { _ in true })
        #expect(ok?.workspaceDomain == "firm.example")
        let masked = (try? CaptureConfig.load(from: ["CRM_GMAIL_SECRET_KEY": Data(repeating: 7, count: 32).base64EncodedString()]))?
            .describe()
        #expect(masked?.first { $0.0 == "CRM_GMAIL_SECRET_KEY" }?.1 == "******** (set)")
    }
}

@Suite struct SecretTests {
    static let key = Data((0..<32).map { UInt8($0) })

    @Test func sealOpenRoundTripAndFailures() throws {
        let box = try SecretBox(key: Self.key)
        let sealed = try box.seal("1//refresh-token-value", for: "ana@firm.example")
        #expect(sealed.hasPrefix("v2:") && !sealed.contains("refresh"))
        #expect(try box.open(sealed, for: "ANA@firm.example") == "1//refresh-token-value")
        let other = try SecretBox(key: Data(repeating: 9, count: 32))
        #expect(throws: SecretBox.Failure.cannotDecrypt) { try other.open(sealed, for: "ana@firm.example") }
        var bytes = Array(Data(base64Encoded: String(sealed.dropFirst(3)))!)
        bytes[20] ^= 1
        #expect(throws: SecretBox.Failure.cannotDecrypt) {
            try box.open("v2:" + Data(bytes).base64EncodedString(), for: "ana@firm.example")
        }
        #expect(throws: SecretBox.Failure.malformed) { try box.open("plaintext", for: "ana@firm.example") }
        #expect(throws: SecretBox.Failure.badKey) { try SecretBox(key: Data(repeating: 1, count: 16)) }
    }

    /// Sealed tokens are bound to their mailbox (AES-GCM additional data) and sealed under a key derived
    /// with HKDF, not the raw CRM_GMAIL_SECRET_KEY; rows from before (v1, raw key) still open.
    @Test func sealedTokensAreBoundToTheirMailboxUnderADerivedKey() throws {
        let box = try SecretBox(key: Self.key)
        let sealed = try box.seal("1//t", for: "ana@firm.example")
        #expect(throws: SecretBox.Failure.cannotDecrypt) { try box.open(sealed, for: "bo@firm.example") }
        // Not the raw key: opening with AES-GCM under CRM_GMAIL_SECRET_KEY itself fails.
        let raw = try AES.GCM.SealedBox(combined: Data(base64Encoded: String(sealed.dropFirst(3)))!)
        #expect(throws: (any Error).self) {
            try AES.GCM.open(
                raw, using: SymmetricKey(data: Self.key), authenticating: Data("gmail-capture refresh token for ana@firm.example".utf8))
        }
        // A v1 value (raw key, no binding) opens for any mailbox and asks to be resealed.
        let legacy = try box.sealLegacyV1("1//old")
        #expect(legacy.hasPrefix("v1:") && SecretBox.needsReseal(legacy) && !SecretBox.needsReseal(sealed))
        #expect(try box.open(legacy, for: "ana@firm.example") == "1//old")
        // The sealing key is HKDF(CRM_GMAIL_SECRET_KEY, "gmail-capture refresh-token sealing v2"); the state is signed
        // under HKDF(…, "gmail-capture oauth state"), a different key.
        let sealing = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: Self.key), info: Data("gmail-capture refresh-token sealing v2".utf8),
            outputByteCount: 32)
        let opened = try AES.GCM.open(raw, using: sealing, authenticating: Data("gmail-capture refresh token for ana@firm.example".utf8))
        #expect(String(decoding: opened, as: UTF8.self) == "1//t")
        let stateKey = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: Self.key), info: Data("gmail-capture oauth state".utf8), outputByteCount: 32)
        #expect(throws: (any Error).self) {
            try AES.GCM.open(raw, using: stateKey, authenticating: Data("gmail-capture refresh token for ana@firm.example".utf8))
        }
    }

    @Test func oauthStateIsBoundSignedAndExpiring() throws {
        let signer = OAuthStateSigner(secretKey: Self.key)
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        let s = signer.make(userId: "user-7", expires: now.addingTimeInterval(600), nonce: "n1")
        #expect(try signer.verify(s, now: now, expectedUser: "user-7") == "user-7")
        #expect(throws: OAuthStateSigner.Failure.expired) { try signer.verify(s, now: now.addingTimeInterval(601)) }
        #expect(throws: OAuthStateSigner.Failure.wrongUser) { try signer.verify(s, now: now, expectedUser: "user-8") }
        let forged = "dXNlci04fDk5OTk5OTk5OTl8bjE." + s.split(separator: ".")[1]
        #expect(throws: OAuthStateSigner.Failure.badSignature) { try signer.verify(forged, now: now) }
        #expect(throws: OAuthStateSigner.Failure.badSignature) {
            try OAuthStateSigner(secretKey: Data(repeating: 3, count: 32)).verify(s, now: now)
        }
    }
}
