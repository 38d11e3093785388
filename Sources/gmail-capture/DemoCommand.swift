import ArgumentParser
import FakeGmail
import FakeGmailBridge
import Foundation
import CaptureParsing
import GmailCapture

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Capture a demo firm's Gmail end to end against an embedded FakeGmail.",
        discussion: """
            Starts an embedded FakeGmail with a generated firm (5 teammates, 32 investors, a few thousand \
            messages with cross-teammate threads, attachments, freemail and internal mail), enrolls every \
            teammate through domain-wide delegation against the fake, backfills, applies scripted changes \
            (new mail, deletes, label changes, one history expiry, a burst of 429/503), syncs incrementally, \
            downloads attachments and prints a summary. The result is a real SQLite file you can open.
            """
    )

    @Option(help: "SQLite file to write (a demo database written before is replaced; anything else is refused).") var db =
        "data/demo-crm.db"
    @Option(help: "Conversations to generate.") var conversations = 700
    @Option(help: "Seed for the generated firm and the fake.") var seed: UInt64 = 2026

    /// Written into the database the demo creates, so only such a database is ever replaced.
    static let marker = "demo"

    func run() async throws {
        let started = ContinuousClock.now
        let tty = isatty(STDOUT_FILENO) == 1
        // The demo replaces only a database it wrote itself (its marker), never anyone else's.
        let contents = try CaptureDatabase.inspect(path: db, markerKey: Self.marker)
        if contents.exists && !contents.isEmpty && contents.marker == nil {
            FileHandle.standardError.write(
                Data("error: \(db) holds data the demo did not write; it is left untouched. Pass --db with a new path.\n".utf8))
            throw ExitCode(1)
        }
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: db + suffix) }
        let attachmentsDir = URL(fileURLWithPath: db).deletingLastPathComponent().appendingPathComponent("demo-attachments")
        try? FileManager.default.removeItem(at: attachmentsDir)

        let firm = DemoFirm(conversations: conversations, seed: seed)
        let fake = FakeGmail(options: .init(seed: seed, quota: .classic, baseURL: "http://fakegmail.demo"))
        try await firm.seed(fake)
        print(
            "FakeGmail: \(DemoFirm.teammates.count) mailboxes, \(firm.deliveries.count) deliveries of \(firm.conversations) conversations")

        // Composition: the same runtime real mode builds, with GmailCapture's real client over the fake's
        // in-process transport, on a virtual clock linked to the fake's (quota waits and backoff are real
        // decisions, taking no wall time).
        var config = CaptureConfig()
        config.integrationEnabled = true
        config.databasePath = db
        config.workspaceDomain = DemoFirm.domain
        config.apiBaseURL = "http://fakegmail.demo"
        config.rateUnitsPerSecond = 150
        config.attachmentDirectory = attachmentsDir.path
        let clock = await VirtualCaptureClock.linked(to: fake)
        let transport = InProcessFakeTransport(fake: fake)
        let tokens = try ServiceAccountTokenProvider(keyJSON: try await fake.serviceAccountKeyJSON(), transport: transport, clock: clock)
        let progress = Progress(tty: tty, total: firm.deliveries.count)
        let runtime = try CaptureRuntime.build(config, transport: transport, tokens: tokens, clock: clock) { p in progress.update(p) }
        let database = runtime.database, directory = runtime.directory, engine = runtime.gmail!.engine
        try await database.setMeta(Self.marker, "written by gmail-capture demo")
        for tm in DemoFirm.teammates {
            try await directory.addUser(email: tm, name: String(tm.split(separator: "@")[0]).capitalized, admin: tm.hasPrefix("alex"))
        }
        let report = try await directory.importInvestors(firm.investors, workspaceDomain: DemoFirm.domain)
        for tm in DemoFirm.teammates { try await database.upsertAccount(email: tm, userId: nil) }

        print("Backfill…")
        let backfill = try await engine.syncAll(concurrency: 2)
        progress.finish()
        for o in backfill { print("  \(o.mailbox): \(o.status), \(o.counts.stored) stored, \(o.counts.skipped) skipped") }

        // Scripted changes: new mail, deletes, label changes, a history expiry, a burst of rate limits and 503s.
        let alex = DemoFirm.teammates[0], sam = DemoFirm.teammates[1]
        let alexIDs = await fake.messageIDs(user: alex)
        for i in 0..<20 {
            let raw = Array(
                "From: Maya <maya@lumenridge.example>\r\nTo: \(alex)\r\nSubject: Follow-up \(i)\r\nMessage-ID: <follow\(i)@lumenridge.example>\r\n\r\nFollowing up (\(i)).\r\n"
                    .utf8)
            try await fake.insertMessage(user: alex, raw: raw)
        }
        for id in alexIDs.suffix(10) { try await fake.deleteMessage(user: alex, id: id) }
        for id in alexIDs.prefix(15) { try await fake.modifyLabels(user: alex, id: id, add: ["STARRED"], remove: ["UNREAD"]) }
        try await fake.insertMessage(
            user: sam,
            raw: Array(
                "From: Omar <omar@quillstone.example>\r\nTo: \(sam)\r\nSubject: While you were away\r\nMessage-ID: <away@quillstone.example>\r\n\r\nNews.\r\n"
                    .utf8))
        try await fake.expireHistory(user: sam)
        try await fake.addFault(FaultRule(method: "messages.get", status: 429, retryAfterText: 2, count: 6))
        try await fake.addFault(FaultRule(method: "history.list", status: 503, count: 2))
        await clock.advance(by: .seconds(3_600))
        print("Incremental (after 20 new, 10 deleted, 15 relabelled, one history expiry, 429/503 burst)…")
        let incremental = try await engine.syncAll(concurrency: 2)
        for o in incremental { print("  \(o.mailbox): \(o.status), \(o.counts.stored) stored, \(o.counts.deleted) deleted") }

        let att = (backfill + incremental).reduce(into: SyncCounts()) {
            $0.attachmentsStored += $1.counts.attachmentsStored
            $0.attachmentsFailed += $1.counts.attachmentsFailed
            $0.attachmentsSkipped += $1.counts.attachmentsSkipped
        }

        let figures = try await database.summary()
        let summary: [String: Int] = [
            "emails": figures.emails, "sightings": figures.liveSightings, "deleted": figures.deletedSightings, "threads": figures.threads,
            "crossTeam": figures.crossTeamThreads, "investors": figures.linkedInvestors, "linkedThreads": figures.linkedThreads,
            "exact": figures.linksByRule[.exact] ?? 0, "alias": figures.linksByRule[.alias] ?? 0,
            "domain": figures.linksByRule[.domain] ?? 0,
            "blobs": figures.blobs, "recoveries": figures.recoveries,
        ]
        let journal = await fake.journal()
        let faults = journal.filter { $0.fault?.hasPrefix("fault:") == true }.count
        let quotaRefusals = journal.filter { $0.fault?.hasPrefix("quota:") == true }.count
        let stats = await fake.stats()
        let took = ContinuousClock.now - started
        print("")
        print("GmailCapture demo summary")
        print("  mailboxes:         \(DemoFirm.teammates.count) (all via domain-wide delegation)")
        print(
            "  messages:          \(summary["emails"]!) unique emails, \(summary["sightings"]!) mailbox copies live, \(summary["deleted"]!) marked deleted"
        )
        print("  threads:           \(summary["threads"]!) (\(summary["crossTeam"]!) seen by more than one teammate)")
        print(
            "  investors matched: \(summary["investors"]!) of \(firm.investors.count) (links: \(summary["exact"]!) exact, \(summary["alias"]!) alias, \(summary["domain"]!) domain; \(summary["linkedThreads"]!) threads)"
        )
        print(
            "  attachments:       \(att.attachmentsStored) downloaded, \(summary["blobs"]!) stored by content hash, \(att.attachmentsSkipped) skipped, \(att.attachmentsFailed) failed"
        )
        print("  faults survived:   \(faults) injected 429/503, \(summary["recoveries"]!) history recovery, nothing lost")
        print(
            "  quota:             \(stats.quotaUnits.values.reduce(0, +)) units spent at 150 units/s per mailbox; \(quotaRefusals) parts refused by Gmail's per-batch concurrency limit (retried)"
        )
        print("  import warnings:   \(report.warnings.count)")
        print("  time taken:        \(took.formatted(.units(allowed: [.seconds, .milliseconds], width: .abbreviated)))")
        print("  database:          \(db) (try: sqlite3 \(db) 'select subject from email_threads limit 5')")
        try await Self.showRelationships(runtime)
        try await Self.showVisibility(runtime, firm: firm)
    }

    /// The three strongest investor relationships and the coldest one (the operator's view, on the demo's clock).
    static func showRelationships(_ runtime: CaptureRuntime) async throws {
        let reports = runtime.relationships
        let all = try await reports.investors(for: .operator)
        print("")
        print("Strongest investor relationships:")
        for r in all.prefix(3) {
            let who = r.teammates.first.map { "\($0.email) (\($0.grade.rawValue))" } ?? "-"
            print(
                "  \(r.name) (\(r.investorId)): \(r.grade.rawValue), strength \(r.strength); last contact \(r.lastContactAt ?? "never") by \(r.lastContactBy ?? "-"); strongest connection \(who)"
            )
        }
        if let cold = try await reports.cold(for: .operator, minInteractions: 3, days: 30).first {
            print(
                "Going cold: \(cold.name) (\(cold.investorId)), \(cold.messagesIn + cold.messagesOut) messages, last contact \(cold.lastContactAt ?? "never") by \(cold.lastContactBy ?? "-")"
            )
        } else {
            print("Going cold: none (no investor with 3+ interactions and no contact for 30 days)")
        }
    }

    /// What two teammates see of one investor's mail under the sharing rules: sam shares subjects, kim
    /// metadata only (the firm default), so the same threads read differently to each.
    static func showVisibility(_ runtime: CaptureRuntime, firm: DemoFirm) async throws {
        let model = runtime.readModel
        let sam = DemoFirm.teammates[1], kim = DemoFirm.teammates[2]
        try await model.setSharingLevel(.subject, for: sam)
        try await model.setSharingLevel(.metadata, for: kim)
        var best: (Investor, Int)?
        for inv in firm.investors {
            let n = try await model.threads(for: .operator, investor: inv.id, limit: 1_000).count
            if n > (best?.1 ?? 0) { best = (inv, n) }
        }
        guard let (investor, _) = best else { return }
        print("")
        print("Who sees what of \(investor.name) (\(investor.id)): \(sam) shares subjects, \(kim) metadata only (the firm default)")
        for viewer in [kim, sam] {
            let threads = try await model.threads(for: .teammate(viewer), investor: investor.id, limit: 1_000)
            let withSubject = threads.filter { $0.subject != nil }.count
            print(
                "  as \(viewer): \(threads.count) threads, \(withSubject) with a subject shown, \(threads.count - withSubject) metadata only"
            )
            for t in threads.prefix(3) {
                print(
                    "    \(t.lastAt ?? "")  \(t.subject.map { "\"\($0)\"" } ?? "(subject hidden)")  mailboxes: \(t.mailboxes.joined(separator: ", "))"
                )
            }
        }
    }
}

/// A one-line progress bar on a terminal; silent when piped.
final class Progress: @unchecked Sendable {
    let tty: Bool
    let total: Int
    let lock = NSLock()
    var stored: [String: Int] = [:]

    init(tty: Bool, total: Int) {
        self.tty = tty
        self.total = total
    }

    func update(_ p: SyncProgress) {
        guard tty else { return }
        lock.lock()
        stored[p.mailbox] = p.stored
        let done = stored.values.reduce(0, +)
        lock.unlock()
        let width = 30
        let filled = min(width, total == 0 ? width : done * width / total)
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        FileHandle.standardOutput.write(Data("\r  [\(bar)] \(done) stored".utf8))
    }

    func finish() {
        if tty { FileHandle.standardOutput.write(Data("\n".utf8)) }
    }
}
