import Foundation
import CaptureParsing
import MIMEKit

/// What is captured, decided from a metadata fetch before bodies or attachments are downloaded.
public struct CapturePolicy: Sendable, Equatable {
    /// Messages carrying any of these labels are not captured.
    public var skipLabels: Set<String> = ["SPAM", "TRASH", "CHAT", "DRAFT"]
    /// Canonical addresses never captured.
    public var blockedAddresses: Set<String> = []
    /// Domains (and their subdomains) never captured.
    public var blockedDomains: Set<String> = []

    public init(skipLabels: Set<String> = ["SPAM", "TRASH", "CHAT", "DRAFT"], blocklist: [String] = []) {
        self.skipLabels = skipLabels
        for entry in blocklist.map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) where !entry.isEmpty {
            if entry.contains("@"), let c = AddressNormalizer.canonical(entry) {
                blockedAddresses.insert(c)
            } else {
                // "@payroll.example", "payroll.example." and "payroll.example" name the same domain.
                if let domain = AddressNormalizer.domain(entry) { blockedDomains.insert(domain) }
            }
        }
    }

    public enum Decision: Sendable, Equatable {
        case capture
        case exclude(String)
    }

    public func decide(labels: [String], participants: [String]) -> Decision {
        if let l = labels.first(where: { skipLabels.contains($0) }) { return .exclude("label \(l)") }
        for p in participants {
            guard let c = AddressNormalizer.canonical(p) else { continue }
            if blockedAddresses.contains(c) { return .exclude("blocked address") }
            let domain = String(c[c.index(after: c.lastIndex(of: "@")!)...])
            if blockedDomains.contains(where: { domain == $0 || domain.hasSuffix("." + $0) }) { return .exclude("blocked domain") }
        }
        return .capture
    }

    /// Participant addresses from a metadata payload's headers.
    static func participants(_ m: GmailMessageResource) -> [String] {
        var out: [String] = []
        for h in m.payload?.headers ?? [] where ["from", "to", "cc", "bcc", "reply-to", "sender"].contains(h.name.lowercased()) {
            var p: [String] = []
            out += AddressParser.parseList(Array(h.value.utf8), problems: &p).map(\.address)
        }
        return out
    }
}
