import Foundation
public import CaptureParsing
import MIMEKit

extension GmailClient {
    /// Fetches many messages over the multipart batch endpoint, in batches of at most `batchLimit` (≤ 50) that shrink
    /// on rate errors and grow back on clean batches. Every part's status is read; only failed parts are
    /// retried (each with its own retry budget); each part is charged its own quota before sending.
    /// Results come back in request order: a message, or the typed error that ended its retries.
    public func batchGetMessages(
        mailbox: String, ids: [String], format: Format = .full,
        metadataHeaders: [String] = []
    ) async throws -> [Result<GmailMessageResource, GmailAPIError>] {
        let method = GmailMethod.messagesGet
        var results = [Result<GmailMessageResource, GmailAPIError>?](repeating: nil, count: ids.count)
        var machines: [Int: RetryStateMachine<SplitMix>] = [:]
        var attempts: [Int: Int] = [:]
        var pending = Array(ids.indices)
        var outer = RetryStateMachine(policy: retry, random: random.fork())
        var forceRefresh = false
        let query = Self.getQuery(format, metadataHeaders).map { "\(Self.escape($0.0))=\(Self.escape($0.1))" }.joined(separator: "&")
        var outerAttempts = 0
        while !pending.isEmpty {
            let chunk = Array(pending.prefix(batchSize(for: mailbox)))
            pending.removeFirst(chunk.count)
            let boundary = "batch_gmailcapture_\(random.next() & 0xFFFF_FFFF)"
            var body = ""
            for i in chunk {
                body += "--\(boundary)\r\nContent-Type: application/http\r\nContent-ID: <item-\(i)>\r\n\r\n"
                body += "GET /gmail/v1/users/\(Self.escape(mailbox))/messages/\(Self.escape(ids[i]))?\(query) HTTP/1.1\r\n\r\n"
            }
            body += "--\(boundary)--\r\n"
            let bytes = Array(body.utf8)
            outerAttempts += 1
            let sent = try await send(
                method: .batch, mailbox: mailbox, units: costs.cost(method) * chunk.count, forceRefresh: forceRefresh,
                attempts: outerAttempts
            ) { token in
                TransportRequest(
                    method: "POST", url: "\(self.baseURL)/batch/gmail/v1",
                    headers: [("Authorization", "Bearer \(token)"), ("Content-Type", "multipart/mixed; boundary=\(boundary)")],
                    body: bytes, operation: .batch)
            }
            forceRefresh = false
            // The whole batch failed: retry the chunk as a unit, on the same path as a single call.
            let parts: [Int: (status: Int, headers: [(String, String)], body: [UInt8])]
            switch sent {
            case .success(let r):
                parts = Self.parseBatchResponse(r)
                outerAttempts = 0
            case .failure(let f):
                switch step(after: f, attempts: outerAttempts, machine: &outer) {
                case .retry(let after):
                    pending.insert(contentsOf: chunk, at: 0)
                    try await clock.sleep(for: after)
                case .refresh:
                    forceRefresh = true
                    pending.insert(contentsOf: chunk, at: 0)
                case .fail(let e):
                    for i in chunk { results[i] = .failure(e) }
                }
                continue
            }

            var retryNow: [Int] = []
            var wait: Duration = .zero
            var rateLimitedParts = 0
            for i in chunk {
                attempts[i, default: 0] += 1
                let failure: GmailAPIError
                if let p = parts[i], (200..<300).contains(p.status) {
                    if let m = Self.decodeJSON(GmailMessageResource.self, p.body) {
                        results[i] = .success(m)
                        continue
                    }
                    failure = GmailAPIError(
                        classification: .retryAfterBackoff, method: method, status: p.status, reason: "malformedBody",
                        message: "batch part body is not a Message", attempts: attempts[i]!)
                } else if let p = parts[i] {
                    failure = error(
                        for: TransportResponse(status: p.status, headers: p.headers, body: p.body), method: method, attempts: attempts[i]!)
                    if p.status == 429 || (p.status == 403 && failure.classification == .retryAfterBackoff) { rateLimitedParts += 1 }
                } else {
                    failure = GmailAPIError(
                        classification: .retryAfterBackoff, method: method, status: nil, reason: TransportFailure.truncatedBody.rawValue,
                        message: "batch response has no part for this request", attempts: attempts[i]!)
                }
                var machine = machines[i] ?? RetryStateMachine(policy: retry, random: random.fork())
                switch step(after: failure, attempts: attempts[i]!, machine: &machine) {
                case .retry(let after):
                    retryNow.append(i)
                    wait = max(wait, after)
                case .refresh:
                    forceRefresh = true
                    retryNow.append(i)
                case .fail(let e):
                    results[i] = .failure(e)
                }
                machines[i] = machine
            }
            adapt(mailbox, sent: chunk.count, rateLimited: rateLimitedParts, clean: retryNow.isEmpty)
            if !retryNow.isEmpty {
                pending.insert(contentsOf: retryNow, at: 0)
                if wait > .zero { try await clock.sleep(for: wait) }
            }
        }
        return results.map { $0! }
    }

    /// Splits a multipart/mixed batch response into inner HTTP responses keyed by request index.
    static func parseBatchResponse(_ r: TransportResponse) -> [Int: (status: Int, headers: [(String, String)], body: [UInt8])] {
        guard let ct = r.header("Content-Type") else { return [:] }
        let mime = MIMEMessage.parse(Array("Content-Type: \(ct)\r\n\r\n".utf8) + r.body, limits: MIMELimits(maxDepth: 2, maxParts: 1_000))
        var out: [Int: (Int, [(String, String)], [UInt8])] = [:]
        for part in mime.root.children {
            guard let cid = part.contentID, let r = cid.range(of: "item-"), let index = Int(cid[r.upperBound...]) else { continue }
            let bytes = Array(mime.rawBody(part))
            guard let nl = bytes.firstIndex(of: 10) else { continue }
            let statusLine = String(decoding: bytes[..<nl], as: UTF8.self).split(separator: " ")
            guard statusLine.count >= 2, let status = Int(statusLine[1]) else { continue }
            let rest = Array(bytes[(nl + 1)...])
            let parsed = HeaderBlock.parse(rest)
            let headers = parsed.block.fields.map { ($0.name, $0.unfoldedText) }
            out[index] = (status, headers, Array(rest[min(parsed.bodyStart, rest.count)...]))
        }
        return out
    }
}

extension GmailClient {
    /// The batch size a mailbox's next batch uses.
    public func batchSize(for mailbox: String) -> Int { sizers[mailbox.lowercased()]?.size ?? batchLimit }
    /// The largest batch size known to pass for a mailbox without rate errors.
    public func batchCeiling(for mailbox: String) -> Int { sizers[mailbox.lowercased()]?.ceiling ?? batchLimit }
    /// The smallest current batch size over the mailboxes seen (`batchLimit` before any batch).
    public var batchSize: Int { sizers.values.map(\.size).min() ?? batchLimit }
    /// The smallest ceiling over the mailboxes seen (`batchLimit` before any batch).
    public var batchCeiling: Int { sizers.values.map(\.ceiling).min() ?? batchLimit }

    func adapt(_ mailbox: String, sent: Int, rateLimited: Int, clean: Bool) {
        var sizer = sizers[mailbox.lowercased()] ?? BatchSizer(limit: batchLimit)
        sizer.record(sent: sent, rateLimited: rateLimited, clean: clean)
        sizers[mailbox.lowercased()] = sizer
    }
}

/// Batch size control for one mailbox, as a value type (tested without a client). Rate-limited parts in
/// a batch sent at the current size set a ceiling just under what Gmail accepted (sent - refused); any
/// rate-limited batch at least halves the size (a short batch, sent because few ids were left, says
/// nothing about the ceiling). Clean batches grow the size back a quarter at a time up to the ceiling;
/// after 20 clean batches at the ceiling it is probed 5 higher (up to `limit`).
public struct BatchSizer: Sendable, Equatable {
    public let limit: Int
    public private(set) var size: Int
    public private(set) var ceiling: Int
    var cleanStreak = 0

    public init(limit: Int) {
        self.limit = max(1, limit)
        size = self.limit
        ceiling = self.limit
    }

    public mutating func record(sent: Int, rateLimited: Int, clean: Bool) {
        if rateLimited > 0 {
            if sent >= size { ceiling = max(1, min(ceiling, sent - rateLimited)) }
            size = max(1, min(size / 2, ceiling))
            cleanStreak = 0
            return
        }
        guard clean else { return }
        cleanStreak += 1
        if size < ceiling {
            size = min(ceiling, size + max(1, size / 4))
        } else if cleanStreak >= 20 && ceiling < limit {
            ceiling = min(limit, ceiling + 5)
            size = ceiling
            cleanStreak = 0
        }
    }
}
