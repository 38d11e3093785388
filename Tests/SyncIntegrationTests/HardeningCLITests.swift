import Foundation
import GmailCapture
import CaptureParsing
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Issue #11 (hardening) end to end through the built binaries, as an operator runs them: a live
/// `fakegmail-server`, the `gmail-capture` CLI, and `gmail-capture serve` over loopback. Every test
/// works in its own temporary directory, binds port 0, bounds each wait, and stops every child it
/// started (SIGTERM, then SIGKILL after a grace period) even when an expectation fails.
@Suite struct HardeningCLITests {
    // MARK: - 1. Attachments are downloaded by `sync --once` and by `serve`'s scheduler

    @Test func syncOnceDownloadsAttachmentsAndServeReturnsTheExactBytes() async throws {
        let world = try await HCWorld.start(name: "sync-once")
        defer { world.close() }
        try await world.enrollAlice()

        let sync = try await HCChild.run(HCBin.capture, ["sync", "--once"], environment: world.env, in: world.dir, umask000: true)
        #expect(sync.status == 0, "\(sync.output)")
        #expect(sync.stdout.contains("alice@firm.example: ok"), "\(sync.output)")
        #expect(sync.stdout.contains("attachments 1 stored 0 failed"), "\(sync.output)")

        let status = try await HCChild.run(HCBin.capture, ["status", "--json"], environment: world.env, in: world.dir)
        #expect(status.status == 0, "\(status.output)")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [[String: Any]], "\(status.output)")
        let alice = try #require(rows.first { $0["email"] as? String == "alice@firm.example" }, "\(status.stdout)")
        #expect(alice["messagesStored"] as? Int == 1, "\(status.stdout)")
        #expect(alice["attachmentsPending"] as? Int == 0, "\(status.stdout)")
        let counts = (alice["lastRun"] as? [String: Any])?["counts"] as? [String: Any]
        #expect(counts?["attachmentsStored"] as? Int == 1, "\(status.stdout)")
        #expect(counts?["attachmentsFailed"] as? Int == 0, "\(status.stdout)")

        let token = try await world.token(for: "alice@firm.example")
        let serve = try await HCChild.start(HCBin.capture, ["serve", "--port", "0"], environment: world.env, in: world.dir)
        defer { serve.stop() }
        let base = try await serve.listeningURL()
        try await Self.expectAttachmentBytes(base: base, token: token, expected: HCWorld.attachmentBytes)
    }

    @Test func serveSchedulerDownloadsAttachmentsOnRunNow() async throws {
        let world = try await HCWorld.start(name: "serve-run-now")
        defer { world.close() }
        try await world.enrollAlice()
        let token = try await world.token(for: "alice@firm.example")

        // No `sync --once`: the only sync is the one `serve`'s scheduler runs on the trigger.
        let serve = try await HCChild.start(HCBin.capture, ["serve", "--port", "0"], environment: world.env, in: world.dir, umask000: true)
        defer { serve.stop() }
        let base = try await serve.listeningURL()
        let queued = try await HCHTTP.send("POST", base + "/api/email/sync/run-now", token: token)
        #expect(queued.status == 202, "\(queued.text)")

        var mailbox: [String: Any]?
        let deadline = Date().addingTimeInterval(HCLimits.wait)
        while Date() < deadline {
            let r = try await HCHTTP.send("GET", base + "/api/email/status", token: token)
            let m = ((r.json as? [String: Any])?["mailboxes"] as? [[String: Any]])?.first?["mailbox"] as? [String: Any]
            // Stored, nothing pending, and the run that did it finished (its counts are final).
            if let m, (m["messagesStored"] as? Int ?? 0) >= 1, m["attachmentsPending"] as? Int == 0,
                (m["lastRun"] as? [String: Any])?["finishedAt"] is String
            {
                mailbox = m
                break
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        let m = try #require(mailbox, "the scheduler never stored the message and its attachment; serve stderr:\n\(serve.stderrText())")
        let counts = (m["lastRun"] as? [String: Any])?["counts"] as? [String: Any]
        #expect(counts?["attachmentsStored"] as? Int == 1, "\(m)")
        #expect(counts?["attachmentsFailed"] as? Int == 0, "\(m)")
        try await Self.expectAttachmentBytes(base: base, token: token, expected: HCWorld.attachmentBytes)
    }

    /// threads -> thread -> attachment: exactly the inserted bytes, served inert.
    static func expectAttachmentBytes(base: String, token: String, expected: [UInt8]) async throws {
        let threads = try await HCHTTP.send("GET", base + "/api/email/threads", token: token)
        #expect(threads.status == 200, "\(threads.text)")
        let list = try #require((threads.json as? [String: Any])?["threads"] as? [[String: Any]], "\(threads.text)")
        #expect(list.count == 1, "\(threads.text)")
        let threadId = try #require(list.first?["id"] as? Int, "\(threads.text)")
        let thread = try await HCHTTP.send("GET", base + "/api/email/threads/\(threadId)", token: token)
        #expect(thread.status == 200, "\(thread.text)")
        let messages = try #require((thread.json as? [String: Any])?["messages"] as? [[String: Any]], "\(thread.text)")
        let attachment = try #require(messages.first?["attachments"] as? [[String: Any]], "\(thread.text)").first
        let attachmentId = try #require(attachment?["id"] as? Int, "\(thread.text)")
        #expect(attachment?["state"] as? String == "stored", "\(thread.text)")
        #expect(attachment?["filename"] as? String == HCWorld.attachmentName, "\(thread.text)")

        let download = try await HCHTTP.send("GET", base + "/api/email/attachments/\(attachmentId)", token: token)
        #expect(download.status == 200, "\(download.text)")
        #expect(download.body == expected, "got \(download.body.count) bytes, expected \(expected.count)")
        #expect(download.header("Content-Disposition")?.hasPrefix("attachment;") == true, "\(download.headers)")
        #expect(download.header("Content-Disposition")?.contains(#"filename="deck \"Q3\".bin""#) == true, "\(download.headers)")
        #expect(download.header("Content-Security-Policy") == "sandbox", "\(download.headers)")
        #expect(download.header("X-Content-Type-Options") == "nosniff", "\(download.headers)")
        #expect(download.header("Content-Type") == "application/octet-stream", "\(download.headers)")
        // Without a token the same bytes are not served.
        let anonymous = try await HCHTTP.send("GET", base + "/api/email/attachments/\(attachmentId)")
        #expect(anonymous.status == 401 && anonymous.body != expected)
    }

    // MARK: - 2. `serve --fake` never deletes a database it did not create

    @Test func serveFakeNeverDeletesADatabaseItDidNotCreate() async throws {
        let dir = try HCScratch.make("serve-fake-db")
        defer { HCScratch.remove(dir) }
        let env = HCScratch.baseEnvironment(dir)

        // (a) A CRM database with someone else's user and an investor: refused, byte for byte untouched.
        let x = dir.appendingPathComponent("crm-x.db").path
        let add = try await HCChild.run(HCBin.capture, ["users", "add", "someone@else.example", "--db", x], environment: env, in: dir)
        #expect(add.status == 0, "\(add.output)")
        let investors = dir.appendingPathComponent("investors.json")
        try Data(#"[{"id": "inv-1", "name": "Elsewhere Capital", "emails": ["gp@elsewhere.example"], "domains": []}]"#.utf8).write(
            to: investors)
        let imported = try await HCChild.run(HCBin.capture, ["investors", "import", investors.path, "--db", x], environment: env, in: dir)
        #expect(imported.status == 0, "\(imported.output)")
        let usersBefore = try await HCChild.run(HCBin.capture, ["users", "list", "--json", "--db", x], environment: env, in: dir)
        #expect(usersBefore.status == 0, "\(usersBefore.output)")
        let before = HCScratch.snapshot(x)

        let refused = try await HCChild.run(
            HCBin.capture, ["serve", "--fake", "--port", "0", "--db", x], environment: env, in: dir, timeout: HCLimits.shortExit)
        #expect(!refused.timedOut, "serve --fake kept running on a foreign database: \(refused.output)")
        #expect(refused.status != 0, "\(refused.output)")
        #expect(refused.stderr.contains("untouched"), "\(refused.output)")
        #expect(refused.stderr.contains(x), "\(refused.output)")
        #expect(!refused.stdout.contains("listening on"), "\(refused.output)")
        let after = HCScratch.snapshot(x)
        #expect(after[0] == before[0], "serve --fake changed the bytes of a database it did not create")
        #expect(
            after.map { $0 == nil } == before.map { $0 == nil },
            "serve --fake left -wal/-shm files beside a database it refused (present before: \(before.map { $0 != nil }), after: \(after.map { $0 != nil }))"
        )
        let usersAfter = try await HCChild.run(HCBin.capture, ["users", "list", "--json", "--db", x], environment: env, in: dir)
        #expect(usersAfter.stdout == usersBefore.stdout)
        #expect(usersAfter.stdout.contains("someone@else.example"))

        // A file that is not a database at all is refused and left as it is.
        let junk = dir.appendingPathComponent("notes.db").path
        let junkBytes = Data("these are my notes, not a database\n".utf8)
        try junkBytes.write(to: URL(fileURLWithPath: junk))
        let junkRun = try await HCChild.run(
            HCBin.capture, ["serve", "--fake", "--port", "0", "--db", junk], environment: env, in: dir, timeout: HCLimits.shortExit)
        #expect(!junkRun.timedOut && junkRun.status != 0, "\(junkRun.output)")
        #expect(junkRun.stderr.contains("untouched"), "\(junkRun.output)")
        #expect(HCScratch.snapshot(junk) == [junkBytes, nil, nil], "the refused file changed or gained -wal/-shm files")

        // (b) A fresh path is seeded; a restart recognises its own marker and keeps the data.
        let y = dir.appendingPathComponent("demo-y.db").path
        do {
            let first = try await HCChild.start(HCBin.capture, ["serve", "--fake", "--port", "0", "--db", y], environment: env, in: dir)
            defer { first.stop() }
            let base = try await first.listeningURL(deadline: HCLimits.heavyStartup)
            let admin = try #require(first.adminToken(), "no admin token printed:\n\(first.stdoutText())")
            let status = try await HCHTTP.send("GET", base + "/api/email/status", token: admin)
            #expect(status.status == 200, "\(status.text)")
            #expect(first.stdoutText().contains("database: \(y)"), "\(first.stdoutText())")
            let exit = await first.stopAndWait()
            #expect(exit == 0, "serve --fake did not stop cleanly on SIGTERM: \(first.stderrText())")
        }
        #expect(FileManager.default.fileExists(atPath: y))
        let second = try await HCChild.start(HCBin.capture, ["serve", "--fake", "--port", "0", "--db", y], environment: env, in: dir)
        defer { second.stop() }
        let base = try await second.listeningURL(deadline: HCLimits.heavyStartup)
        let listed = try await HCChild.run(HCBin.capture, ["users", "list", "--json", "--db", y], environment: env, in: dir)
        #expect(listed.status == 0, "\(listed.output)")
        let users = try #require(try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]], "\(listed.output)")
        #expect(Set(users.compactMap { $0["email"] as? String }) == Set(Self.demoTeammates), "\(listed.stdout)")
        #expect(users.count == Self.demoTeammates.count, "the restart seeded the demo firm twice: \(listed.stdout)")

        // A token issued by the CLI against the same database works on the running server.
        let issued = try await HCChild.run(HCBin.capture, ["users", "token", "sam@firm.example", "--db", y], environment: env, in: dir)
        #expect(issued.status == 0, "\(issued.output)")
        let sam = issued.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(!sam.isEmpty && !sam.contains("\n"), "\(issued.output)")
        let samStatus = try await HCHTTP.send("GET", base + "/api/email/status", token: sam)
        #expect(samStatus.status == 200, "\(samStatus.text)")
        let samMailboxes = ((samStatus.json as? [String: Any])?["mailboxes"] as? [[String: Any]])?.compactMap {
            ($0["mailbox"] as? [String: Any])?["email"] as? String
        }
        #expect(samMailboxes == ["sam@firm.example"], "a member sees only their own mailbox: \(samStatus.text)")
        // ... and revoking it through the CLI takes effect on the running server.
        let tokens = try await HCChild.run(
            HCBin.capture, ["users", "tokens", "sam@firm.example", "--json", "--db", y], environment: env, in: dir)
        let samTokens = try #require(
            try JSONSerialization.jsonObject(with: Data(tokens.stdout.utf8)) as? [[String: Any]], "\(tokens.output)")
        let samTokenId = try #require(samTokens.last?["id"] as? String, "\(tokens.stdout)")
        let revoked = try await HCChild.run(HCBin.capture, ["users", "revoke", samTokenId, "--db", y], environment: env, in: dir)
        #expect(revoked.status == 0, "\(revoked.output)")
        let afterRevoke = try await HCHTTP.send("GET", base + "/api/email/status", token: sam)
        #expect(afterRevoke.status == 401, "\(afterRevoke.text)")
    }

    @Test func serveFakeHonoursTheSwitchAndResolvesTheDatabaseLikeEveryCommand() async throws {
        let dir = try HCScratch.make("serve-fake-off")
        defer { HCScratch.remove(dir) }
        // (c) CRM_GMAIL_INTEGRATION_ENABLED=false with --fake: 503 JSON; no --db: CRM_DB_PATH is used.
        let w = dir.appendingPathComponent("from-env.db").path
        var env = HCScratch.baseEnvironment(dir)
        env["CRM_GMAIL_INTEGRATION_ENABLED"] = "false"
        env["CRM_DB_PATH"] = w
        let off = try await HCChild.start(HCBin.capture, ["serve", "--fake", "--port", "0"], environment: env, in: dir)
        defer { off.stop() }
        let base = try await off.listeningURL(deadline: HCLimits.heavyStartup)
        let admin = try #require(off.adminToken(), "no admin token printed:\n\(off.stdoutText())")
        for token in [nil, admin] {
            let r = try await HCHTTP.send("GET", base + "/api/email/status", token: token)
            #expect(r.status == 503, "\(r.text)")
            #expect(r.header("Content-Type")?.hasPrefix("application/json") == true, "\(r.headers)")
            #expect(((r.json as? [String: Any])?["error"] as? [String: Any])?["code"] as? Int == 503, "\(r.text)")
        }
        #expect(off.stdoutText().contains("database: \(w)"), "\(off.stdoutText())")
        #expect(FileManager.default.fileExists(atPath: w), "serve --fake ignored CRM_DB_PATH")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("data/serve-demo.db").path))
        let listed = try await HCChild.run(HCBin.capture, ["users", "list", "--json"], environment: env, in: dir)
        let users = try #require(try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]], "\(listed.output)")
        #expect(Set(users.compactMap { $0["email"] as? String }) == Set(Self.demoTeammates), "\(listed.stdout)")

        // (d) Real mode with the integration off starts without any Gmail credentials and answers 503.
        let realDir = dir.appendingPathComponent("real")
        var realEnv = HCScratch.baseEnvironment(dir)
        realEnv["CRM_GMAIL_INTEGRATION_ENABLED"] = "false"
        realEnv["CRM_DB_PATH"] = realDir.appendingPathComponent("crm.db").path
        realEnv["CRM_GMAIL_SA_KEY_PATH"] = realDir.appendingPathComponent("no-such-key.json").path
        realEnv["CRM_GMAIL_ATTACHMENT_DIR"] = realDir.appendingPathComponent("att").path
        let real = try await HCChild.start(HCBin.capture, ["serve", "--port", "0"], environment: realEnv, in: dir)
        defer { real.stop() }
        let realBase = try await real.listeningURL()
        let r = try await HCHTTP.send("GET", realBase + "/api/email/status")
        #expect(r.status == 503, "\(r.text)")
        #expect(((r.json as? [String: Any])?["error"] as? [String: Any])?["code"] as? Int == 503, "\(r.text)")
        #expect(r.header("X-Content-Type-Options") == "nosniff", "\(r.headers)")
    }

    /// The server closes a connection that sends nothing (slowloris) after `--idle-timeout` seconds.
    @Test func serveClosesIdleConnections() async throws {
        let dir = try HCScratch.make("serve-idle")
        defer { HCScratch.remove(dir) }
        var env = HCScratch.baseEnvironment(dir)
        env["CRM_GMAIL_INTEGRATION_ENABLED"] = "false"
        env["CRM_DB_PATH"] = dir.appendingPathComponent("crm.db").path
        let server = try await HCChild.start(HCBin.capture, ["serve", "--port", "0", "--idle-timeout", "1"], environment: env, in: dir)
        defer { server.stop() }
        let base = try await server.listeningURL()
        let port = try #require(base.split(separator: ":").last.flatMap { UInt16($0) })
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd >= 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connectedAt = Date()
        let connected = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        try #require(connected == 0)
        // Half a request line, then silence.
        _ = "GET /api/email/st".withCString { send(fd, $0, 17, 0) }
        var buffer = [UInt8](repeating: 0, count: 64)
        // Not closed early: the server cannot have started its idle timer before `connect`, so the close
        // must come at least the timeout after `connected`. Measured instead of slept-and-checked, so a busy
        // machine that delays this task cannot make a correct server look early.
        var closedAfter: TimeInterval?
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            let n = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            if n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) { closedAfter = Date().timeIntervalSince(connectedAt); break }
            try await Task.sleep(for: .milliseconds(50))
        }
        let after = try #require(closedAfter, "an idle connection was still open after 10 s with --idle-timeout 1")
        #expect(after >= 0.95, "closed \(after) s after connecting, before the 1 s idle timeout")
    }

    static let demoTeammates = ["alex@firm.example", "sam@firm.example", "kim@firm.example", "lee@firm.example", "pat@firm.example"]

    // MARK: - 3. Users and the token lifecycle

    @Test func usersListTokensAndRevokeThroughTheCLI() async throws {
        let world = try await HCWorld.start(name: "tokens")
        defer { world.close() }
        let env = world.env, dir = world.dir
        func cli(_ args: [String]) async throws -> HCChild.Outcome { try await HCChild.run(HCBin.capture, args, environment: env, in: dir) }

        #expect(try await cli(["users", "add", "a@firm.example", "--admin"]).status == 0)
        let list = try await cli(["users", "list", "--json"])
        #expect(list.status == 0, "\(list.output)")
        let users = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]], "\(list.output)")
        #expect(users.count == 1, "\(list.stdout)")
        let u = try #require(users.first)
        #expect(Set(u.keys) == ["id", "email", "name", "admin", "active"], "\(list.stdout)")
        #expect(u["id"] is String, "\(list.stdout)")
        #expect(u["email"] as? String == "a@firm.example")
        #expect(u["name"] is NSNull, "\(list.stdout)")
        let compact = list.stdout.filter { !$0.isWhitespace }
        #expect(compact.contains(#""admin":true"#) && compact.contains(#""active":true"#), "booleans, not numbers: \(list.stdout)")

        let issued = try await cli(["users", "token", "a@firm.example", "--label", "ci", "--expires-in", "1"])
        #expect(issued.status == 0, "\(issued.output)")
        let secret = issued.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(!secret.isEmpty && !secret.contains("\n"), "\(issued.output)")

        let tokensOut = try await cli(["users", "tokens", "a@firm.example", "--json"])
        #expect(tokensOut.status == 0, "\(tokensOut.output)")
        #expect(!tokensOut.stdout.contains(secret), "the token's secret is listed")
        let tokens = try #require(
            try JSONSerialization.jsonObject(with: Data(tokensOut.stdout.utf8)) as? [[String: Any]], "\(tokensOut.output)")
        #expect(tokens.count == 1, "\(tokensOut.stdout)")
        let t = try #require(tokens.first)
        #expect(Set(t.keys) == ["id", "label", "createdAt", "lastUsedAt", "expiresAt", "revoked"], "\(tokensOut.stdout)")
        let tokenId = try #require(t["id"] as? String, "id must be a string: \(tokensOut.stdout)")
        #expect(t["label"] as? String == "ci")
        #expect(t["lastUsedAt"] is NSNull, "\(tokensOut.stdout)")
        #expect(tokensOut.stdout.filter { !$0.isWhitespace }.contains(#""revoked":false"#), "\(tokensOut.stdout)")
        let created = try #require((t["createdAt"] as? String).flatMap(Self.date), "\(tokensOut.stdout)")
        let expires = try #require((t["expiresAt"] as? String).flatMap(Self.date), "\(tokensOut.stdout)")
        #expect(abs(expires.timeIntervalSince(created) - 86_400) <= 5, "\(tokensOut.stdout)")
        #expect(abs(created.timeIntervalSinceNow) < 600, "\(tokensOut.stdout)")

        // The token works on a running server (integration on, against a live fakegmail-server), then
        // stops working the moment the CLI revokes it.
        let serve = try await HCChild.start(HCBin.capture, ["serve", "--port", "0"], environment: env, in: dir)
        defer { serve.stop() }
        let base = try await serve.listeningURL()
        let ok = try await HCHTTP.send("GET", base + "/api/email/status", token: secret)
        #expect(ok.status == 200, "\(ok.text)")
        let used = try await cli(["users", "tokens", "a@firm.example", "--json"])
        let usedRow = (try? JSONSerialization.jsonObject(with: Data(used.stdout.utf8)) as? [[String: Any]])?.first
        #expect(usedRow?["lastUsedAt"] is String, "lastUsedAt not recorded: \(used.stdout)")

        let revoke = try await cli(["users", "revoke", tokenId])
        #expect(revoke.status == 0, "\(revoke.output)")
        let afterRevoke = try await cli(["users", "tokens", "a@firm.example", "--json"])
        #expect(afterRevoke.stdout.filter { !$0.isWhitespace }.contains(#""revoked":true"#), "\(afterRevoke.stdout)")
        let refused = try await HCHTTP.send("GET", base + "/api/email/status", token: secret)
        #expect(refused.status == 401, "\(refused.text)")
        #expect(refused.header("Content-Type")?.hasPrefix("application/json") == true)

        // --all revokes every live token of the user.
        let second = try await cli(["users", "token", "a@firm.example", "--label", "second"])
        let secondSecret = second.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try await HCHTTP.send("GET", base + "/api/email/status", token: secondSecret).status == 200)
        let all = try await cli(["users", "revoke", "--all", "a@firm.example"])
        #expect(all.status == 0, "\(all.output)")
        let finalList = try await cli(["users", "tokens", "a@firm.example", "--json"])
        let finalTokens = try #require(
            try JSONSerialization.jsonObject(with: Data(finalList.stdout.utf8)) as? [[String: Any]], "\(finalList.output)")
        #expect(finalTokens.count == 2, "\(finalList.stdout)")
        #expect(
            finalList.stdout.filter { !$0.isWhitespace }.components(separatedBy: #""revoked":true"#).count - 1 == 2, "\(finalList.stdout)")
        #expect(try await HCHTTP.send("GET", base + "/api/email/status", token: secondSecret).status == 401)

        // Refusals: an unknown id, a zero lifetime, an unknown user.
        let unknown = try await cli(["users", "revoke", "999999"])
        #expect(unknown.status != 0, "\(unknown.output)")
        let zero = try await cli(["users", "token", "a@firm.example", "--expires-in", "0"])
        #expect(zero.status != 0, "\(zero.output)")
        #expect(zero.stdout.isEmpty, "a token was printed: \(zero.output)")
        let nobody = try await cli(["users", "tokens", "nobody@firm.example", "--json"])
        #expect(nobody.status != 0, "\(nobody.output)")
    }

    static func date(_ s: String) -> Date? {
        let f = ISO8601DateFormatter()
        if let d = f.date(from: s) { return d }
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.date(from: s)
    }

    // MARK: - 4. Investor import: numeric ids, every bad row named, all or nothing

    @Test func investorsImportAcceptsNumericIdsAndNamesEveryBadRow() async throws {
        let dir = try HCScratch.make("investors")
        defer { HCScratch.remove(dir) }
        let env = HCScratch.baseEnvironment(dir)
        let db = dir.appendingPathComponent("crm.db").path
        func importFile(_ name: String, _ text: String) async throws -> HCChild.Outcome {
            let url = dir.appendingPathComponent(name)
            try Data(text.utf8).write(to: url)
            return try await HCChild.run(HCBin.capture, ["investors", "import", url.path, "--db", db], environment: env, in: dir)
        }

        let good = try await importFile(
            "good.json",
            """
            [{"id": 42, "name": "Harborline", "emails": ["dana@harborline.example"], "domains": []},
             {"id": "inv-7", "name": "Quill", "emails": [], "domains": ["quill.example"]}]
            """)
        #expect(good.status == 0, "\(good.output)")
        #expect(good.stdout.contains("2 inserted, 0 updated"), "\(good.output)")

        let csv = try await importFile("more.csv", "id,name,emails,domains\n17,Northwind,ops@northwind.example,\n")
        #expect(csv.status == 0, "\(csv.output)")
        #expect(csv.stdout.contains("1 inserted, 0 updated"), "\(csv.output)")
        // The JSON number 42 was stored as the decimal string "42": the CSV row "42" is the same investor.
        let same = try await importFile("same.csv", "id,name,emails,domains\n42,Harborline Partners,dana@harborline.example,\n")
        #expect(same.stdout.contains("0 inserted, 1 updated"), "\(same.output)")

        let bad = try await importFile(
            "bad.json",
            """
            [{"id": 100, "name": "Good One", "emails": ["a@goodone.example"], "domains": []},
             {"id": true, "name": "Bad Id", "emails": ["b@badid.example"], "domains": []},
             {"id": "inv-300", "name": "Good Three", "emails": [], "domains": ["goodthree.example"]},
             {"id": 1.5, "name": "Bad Four", "emails": "x@y.example", "domains": []}]
            """)
        #expect(bad.status == 1, "\(bad.output)")
        for needle in ["row 2", "row 4", #"field "id""#, #"field "emails""#, "expected"] {
            #expect(bad.stderr.contains(needle), "stderr lacks \(needle): \(bad.stderr)")
        }
        #expect(!bad.stderr.contains("row 1") && !bad.stderr.contains("row 3"), "good rows reported as bad: \(bad.stderr)")
        #expect(!bad.stderr.contains("isn't in the correct format"), "\(bad.stderr)")
        #expect(!bad.stdout.contains("inserted"), "\(bad.output)")
        // Nothing of the refused file was imported: its good rows are new now.
        let goodRows = try await importFile(
            "good-rows.json",
            """
            [{"id": 100, "name": "Good One", "emails": ["a@goodone.example"], "domains": []},
             {"id": "inv-300", "name": "Good Three", "emails": [], "domains": ["goodthree.example"]}]
            """)
        #expect(goodRows.stdout.contains("2 inserted, 0 updated"), "\(goodRows.output)")
    }

    // MARK: - 5. File modes whatever the umask

    @Test func databaseFilesAre0600AndAttachmentDirectories0700() async throws {
        let world = try await HCWorld.start(name: "modes")
        defer { world.close() }
        // Every CLI call in enrollAlice and the sync runs under umask 000.
        try await world.enrollAlice()
        let sync = try await HCChild.run(HCBin.capture, ["sync", "--once"], environment: world.env, in: world.dir, umask000: true)
        #expect(sync.status == 0 && sync.stdout.contains("attachments 1 stored"), "\(sync.output)")

        #expect(HCScratch.mode(world.db) == 0o600, "database mode \(HCScratch.octal(HCScratch.mode(world.db)))")
        let root = world.attachments
        var dirs = [root]
        if let e = FileManager.default.enumerator(atPath: root) {
            for case let rel as String in e {
                var isDir: ObjCBool = false
                let p = root + "/" + rel
                if FileManager.default.fileExists(atPath: p, isDirectory: &isDir), isDir.boolValue { dirs.append(p) }
            }
        }
        #expect(dirs.count >= 3, "expected the root and ab/cd directories: \(dirs)")
        for d in dirs { #expect(HCScratch.mode(d) == 0o700, "\(d) has mode \(HCScratch.octal(HCScratch.mode(d)))") }

        // While a server holds the database open, its -wal and -shm exist and are 0600 too.
        let serve = try await HCChild.start(HCBin.capture, ["serve", "--port", "0"], environment: world.env, in: world.dir, umask000: true)
        defer { serve.stop() }
        _ = try await serve.listeningURL()
        var seen = 0
        for suffix in ["-wal", "-shm"] where FileManager.default.fileExists(atPath: world.db + suffix) {
            seen += 1
            #expect(HCScratch.mode(world.db + suffix) == 0o600, "\(suffix) has mode \(HCScratch.octal(HCScratch.mode(world.db + suffix)))")
        }
        #expect(seen > 0, "no -wal or -shm beside a database open in WAL mode")

        // A database created by `migrate` alone, and the files of a WAL database another command opens.
        let fresh = world.dir.appendingPathComponent("fresh/new.db").path
        let migrate = try await HCChild.run(
            HCBin.capture, ["migrate", "--db", fresh], environment: world.env, in: world.dir, umask000: true)
        #expect(migrate.status == 0, "\(migrate.output)")
        #expect(HCScratch.mode(fresh) == 0o600, "migrate created mode \(HCScratch.octal(HCScratch.mode(fresh)))")
        for suffix in ["-wal", "-shm"] where FileManager.default.fileExists(atPath: fresh + suffix) {
            #expect(HCScratch.mode(fresh + suffix) == 0o600)
        }
    }
}

// MARK: - Harness

fileprivate struct HCFailure: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

fileprivate enum HCLimits {
    /// Upper bound of any poll (readiness, a scheduler run). Polls return as soon as they succeed.
    static let wait: TimeInterval = 30
    /// `serve --fake` seeds its embedded FakeGmail with the demo firm before it listens.
    static let heavyStartup: TimeInterval = 60
    /// A command that must refuse at once.
    static let shortExit: TimeInterval = 20
    /// Any other one-shot command.
    static let command: TimeInterval = 120
}

fileprivate enum HCBin {
    static var capture: URL { BuiltProduct.url("gmail-capture") }
    static var fakeServer: URL { BuiltProduct.url("fakegmail-server") }
}

fileprivate enum HCScratch {
    static func make(_ name: String) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hardening-\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    static func remove(_ dir: URL) { try? FileManager.default.removeItem(at: dir) }

    /// A clean environment: nothing of the caller's CRM_* leaks into a child.
    static func baseEnvironment(_ dir: URL) -> [String: String] {
        ["PATH": "/usr/bin:/bin", "HOME": dir.path, "LANG": "C.UTF-8"]
    }

    /// The database file, -wal and -shm as they are (nil for an absent file).
    static func snapshot(_ path: String) -> [Data?] {
        ["", "-wal", "-shm"].map { FileManager.default.contents(atPath: path + $0) }
    }

    static func mode(_ path: String) -> mode_t? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return st.st_mode & 0o7777
    }

    static func octal(_ m: mode_t?) -> String { m.map { String($0, radix: 8) } ?? "absent" }
}

/// A running fakegmail-server with one teammate (alice) and one message carrying a binary attachment,
/// and the CRM_* environment that points gmail-capture at it.
fileprivate struct HCWorld {
    let dir: URL
    let fake: HCChild
    let env: [String: String]
    var db: String { env["CRM_DB_PATH"]! }
    var attachments: String { env["CRM_GMAIL_ATTACHMENT_DIR"]! }

    static let attachmentName = #"deck "Q3".bin"#
    /// Every byte value, in an order that is not the identity, 3,000 bytes.
    static let attachmentBytes: [UInt8] = (0..<3000).map { UInt8(truncatingIfNeeded: $0 &* 151 &+ ($0 >> 8)) }

    static func rawMessage() -> [UInt8] {
        let b64 = Data(attachmentBytes).base64EncodedString(options: [
            .lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed,
        ])
        let text = """
            From: Dana Investor <dana@harborline.example>\r
            To: Alice <alice@firm.example>\r
            Subject: Term sheet draft\r
            Date: Tue, 02 Apr 2024 09:30:00 +0000\r
            Message-ID: <term-sheet-1@harborline.example>\r
            MIME-Version: 1.0\r
            Content-Type: multipart/mixed; boundary="b1"\r
            \r
            --b1\r
            Content-Type: text/plain; charset=utf-8\r
            \r
            Please find the draft attached.\r
            --b1\r
            Content-Type: application/x-msdownload; name="deck \\"Q3\\".bin"\r
            Content-Disposition: attachment; filename="deck \\"Q3\\".bin"\r
            Content-Transfer-Encoding: base64\r
            \r
            \(b64)\r
            --b1--\r

            """
        return Array(text.utf8)
    }

    static func start(name: String) async throws -> HCWorld {
        let dir = try HCScratch.make(name)
        let sa = dir.appendingPathComponent("sa.json").path
        let fake: HCChild
        do {
            fake = try await HCChild.start(
                HCBin.fakeServer, ["--port", "0", "--service-account-out", sa], environment: HCScratch.baseEnvironment(dir), in: dir)
        } catch {
            HCScratch.remove(dir)
            throw error
        }
        do {
            let base = try await fake.listeningURL()
            let user = try await HCHTTP.send("POST", base + "/__fake/users", body: Array(#"{"email": "alice@firm.example"}"#.utf8))
            try #require(user.status == 200, "\(user.text)")
            let inserted = try await HCHTTP.send(
                "POST", base + "/__fake/users/alice@firm.example/messages", body: rawMessage(),
                headers: [("Content-Type", "message/rfc822")])
            try #require(inserted.status == 200, "\(inserted.text)")
            var env = HCScratch.baseEnvironment(dir)
            env["CRM_GMAIL_INTEGRATION_ENABLED"] = "true"
            env["CRM_GMAIL_SA_KEY_PATH"] = sa
            env["CRM_GMAIL_WORKSPACE_DOMAIN"] = "firm.example"
            env["CRM_GMAIL_API_BASE_URL"] = base
            env["CRM_DB_PATH"] = dir.appendingPathComponent("crm.db").path
            env["CRM_GMAIL_ATTACHMENT_DIR"] = dir.appendingPathComponent("att").path
            return HCWorld(dir: dir, fake: fake, env: env)
        } catch {
            fake.stop()
            HCScratch.remove(dir)
            throw error
        }
    }

    /// `users add` and `accounts enroll` for alice, under umask 000.
    func enrollAlice() async throws {
        let add = try await HCChild.run(HCBin.capture, ["users", "add", "alice@firm.example"], environment: env, in: dir, umask000: true)
        try #require(add.status == 0, "\(add.output)")
        let enroll = try await HCChild.run(
            HCBin.capture, ["accounts", "enroll", "alice@firm.example"], environment: env, in: dir, umask000: true)
        try #require(enroll.status == 0, "\(enroll.output)")
    }

    func token(for email: String) async throws -> String {
        let r = try await HCChild.run(HCBin.capture, ["users", "token", email], environment: env, in: dir)
        try #require(r.status == 0, "\(r.output)")
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func close() {
        fake.stop()
        HCScratch.remove(dir)
    }
}

/// A child process whose stdout and stderr go to files (never a pipe that could fill up).
fileprivate final class HCChild: @unchecked Sendable {
    let process: Process
    let stdoutURL: URL
    let stderrURL: URL
    private let logs: URL

    struct Outcome {
        var status: Int32
        var stdout: String
        var stderr: String
        var timedOut: Bool
        var output: String { "status \(status)\(timedOut ? " (timed out, killed)" : "")\nstdout:\n\(stdout)\nstderr:\n\(stderr)" }
    }

    private init(_ executable: URL, _ arguments: [String], environment: [String: String], in cwd: URL, umask000: Bool) throws {
        logs = FileManager.default.temporaryDirectory.appendingPathComponent("hardening-child-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        stdoutURL = logs.appendingPathComponent("stdout")
        stderrURL = logs.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
        process = Process()
        if umask000 {
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", #"umask 000; exec "$0" "$@""#, executable.path] + arguments
        } else {
            process.executableURL = executable
            process.arguments = arguments
        }
        process.environment = environment
        process.currentDirectoryURL = cwd
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: stdoutURL)
        process.standardError = try FileHandle(forWritingTo: stderrURL)
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: logs)
    }

    /// Starts a long-running child; the caller stops it (`defer { child.stop() }`).
    static func start(
        _ executable: URL, _ arguments: [String], environment: [String: String], in cwd: URL, umask000: Bool = false
    ) async throws -> HCChild {
        try #require(FileManager.default.isExecutableFile(atPath: executable.path), "\(executable.path) is not built")
        let c = try HCChild(executable, arguments, environment: environment, in: cwd, umask000: umask000)
        try c.process.run()
        return c
    }

    /// Runs a command to completion, killing it after `timeout` seconds.
    static func run(
        _ executable: URL, _ arguments: [String], environment: [String: String], in cwd: URL, umask000: Bool = false,
        timeout: TimeInterval = HCLimits.command
    ) async throws -> Outcome {
        let c = try await start(executable, arguments, environment: environment, in: cwd, umask000: umask000)
        defer { c.stop() }
        let deadline = Date().addingTimeInterval(timeout)
        while c.process.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        let timedOut = c.process.isRunning
        if timedOut { c.stop() }
        return Outcome(status: c.process.terminationStatus, stdout: c.stdoutText(), stderr: c.stderrText(), timedOut: timedOut)
    }

    func stdoutText() -> String { (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? "" }
    func stderrText() -> String { (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "" }

    /// Waits for the `listening on http://HOST:PORT` line and returns `http://HOST:PORT`.
    func listeningURL(deadline seconds: TimeInterval = HCLimits.wait) async throws -> String {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let line = stdoutText().split(separator: "\n").first(where: { $0.hasPrefix("listening on http://") }) {
                let url = String(line.dropFirst("listening on ".count)).trimmingCharacters(in: .whitespaces)
                try #require(url.hasPrefix("http://127.0.0.1:"), "not loopback: \(url)")
                return url
            }
            if !process.isRunning { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw HCFailure(
            "\(process.arguments ?? []) never listened (running: \(process.isRunning))\nstdout:\n\(stdoutText())\nstderr:\n\(stderrText())")
    }

    /// The admin token `serve --fake` prints on the line after "admin token for ...".
    func adminToken() -> String? {
        let lines = stdoutText().split(separator: "\n").map(String.init)
        guard let i = lines.firstIndex(where: { $0.contains("admin token for") }), i + 1 < lines.count else { return nil }
        let t = lines[i + 1].trimmingCharacters(in: .whitespaces)
        return t.isEmpty ? nil : t
    }

    /// SIGTERM, a grace period, then SIGKILL; returns at once when the child has already exited.
    func stop() {
        guard process.processIdentifier > 0 else { return }
        if process.isRunning {
            process.terminate()
            let deadline = Date().addingTimeInterval(15)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
            }
        }
        process.waitUntilExit()
    }

    /// SIGTERM and wait; the exit status.
    func stopAndWait() async -> Int32 {
        if process.isRunning { process.terminate() }
        let deadline = Date().addingTimeInterval(15)
        while process.isRunning && Date() < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        stop()
        return process.terminationStatus
    }
}

/// Loopback HTTP through the library's own AsyncHTTPClient transport.
fileprivate enum HCHTTP {
    struct Reply {
        var status: Int
        var headers: [(String, String)]
        var body: [UInt8]
        var text: String { "\(status) " + String(decoding: body, as: UTF8.self) }
        var json: Any? { try? JSONSerialization.jsonObject(with: Data(body)) }
        func header(_ name: String) -> String? { headers.first { $0.0.caseInsensitiveCompare(name) == .orderedSame }?.1 }
    }

    static func send(
        _ method: String, _ url: String, token: String? = nil, body: [UInt8] = [], headers: [(String, String)] = []
    ) async throws -> Reply {
        var h = headers
        if let token { h.append(("Authorization", "Bearer \(token)")) }
        if !body.isEmpty && !h.contains(where: { $0.0.lowercased() == "content-type" }) { h.append(("Content-Type", "application/json")) }
        let r = try await AsyncHTTPClientTransport().send(
            TransportRequest(method: method, url: url, headers: h, body: body, operation: "test", timeout: .seconds(30)))
        return Reply(status: r.status, headers: r.headers, body: r.body)
    }
}
