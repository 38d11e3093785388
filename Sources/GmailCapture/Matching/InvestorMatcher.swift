import Foundation
import CaptureParsing

/// An investor as the CRM knows it.
public struct Investor: Sendable, Equatable, Codable {
    public var id: String
    public var name: String
    /// The first address is the primary; the rest are aliases.
    public var emails: [String]
    /// Firm domains (subdomains match too).
    public var domains: [String]

    public init(id: String, name: String, emails: [String] = [], domains: [String] = []) {
        self.id = id
        self.name = name
        self.emails = emails
        self.domains = domains
    }
}

/// How a link was made, with its confidence. Every link explains itself.
public enum MatchRule: String, Sendable, Codable, Equatable, CaseIterable {
    case exact, alias, domain
    /// Linked by a person in the CRM; rematch never removes it.
    case manual

    public var confidence: Double {
        switch self {
        case .exact, .manual: return 1.0
        case .alias: return 0.95
        case .domain: return 0.7
        }
    }
}

public struct InvestorLink: Sendable, Equatable, Codable, Hashable {
    public var investorId: String
    public var rule: MatchRule
    /// The participant address that matched (canonical).
    public var address: String
    public var confidence: Double { rule.confidence }
}

/// The matching index: exact canonical addresses, aliases, firm domains (with subdomains), guarded
/// against public providers and the firm's own workspace domain. Pure: build it, ask it.
public struct InvestorIndex: Sendable {
    var byAddress: [String: (investorId: String, rule: MatchRule)] = [:]
    var byDomain: [String: [String]] = [:]
    public let workspaceDomain: String?
    /// What was ignored while building, for the import report.
    public private(set) var warnings: [String] = []

    public init(investors: [Investor], workspaceDomain: String?) {
        self.workspaceDomain = workspaceDomain?.lowercased()
        for inv in investors.sorted(by: { $0.id < $1.id }) {
            for (n, e) in inv.emails.enumerated() {
                guard let c = AddressNormalizer.canonical(e) else {
                    warnings.append("investor \(inv.id): \"\(e)\" is not an email address; ignored")
                    continue
                }
                let rule: MatchRule = n == 0 ? .exact : .alias
                if let existing = byAddress[c], existing.investorId != inv.id {
                    warnings.append("investor \(inv.id): address \(c) also belongs to investor \(existing.investorId); the first keeps it")
                    continue
                }
                if byAddress[c] == nil || rule == .exact { byAddress[c] = (inv.id, rule) }
            }
            for d in inv.domains {
                var domain = d.trimmingCharacters(in: .whitespaces).lowercased()
                if domain.hasPrefix("@") { domain.removeFirst() }
                if PublicMailProviders.contains(domain) {
                    warnings.append("investor \(inv.id): \(domain) is a public mail provider; ignored for matching")
                    continue
                }
                if let w = self.workspaceDomain, domain == w || domain.hasSuffix("." + w) {
                    warnings.append("investor \(inv.id): \(domain) is the firm's own workspace domain; ignored for matching")
                    continue
                }
                guard domain.contains("."), !domain.contains("@") else {
                    warnings.append("investor \(inv.id): \"\(d)\" is not a domain; ignored")
                    continue
                }
                if !(byDomain[domain]?.contains(inv.id) ?? false) { byDomain[domain, default: []].append(inv.id) }
            }
        }
    }

    func isInternal(_ canonical: String) -> Bool {
        guard let w = workspaceDomain else { return false }
        return AddressNormalizer.isAt(canonical, domain: w)
    }

    /// Links for one message's participants. Exact/alias matches link that investor only; a participant
    /// without one falls back to its domain (and parent domains), linking every investor of that firm.
    /// Internal-only mail (every participant on the workspace domain) links nothing.
    public func links(for participants: [String]) -> [InvestorLink] {
        let canonical = participants.compactMap(AddressNormalizer.canonical)
        if canonical.isEmpty || canonical.allSatisfy(isInternal) { return [] }
        var best: [String: InvestorLink] = [:]
        func offer(_ l: InvestorLink) {
            if let cur = best[l.investorId], cur.confidence >= l.confidence { return }
            best[l.investorId] = l
        }
        for address in Set(canonical) where !isInternal(address) {
            if let hit = byAddress[address] {
                offer(InvestorLink(investorId: hit.investorId, rule: hit.rule, address: address))
                continue
            }
            var domain = String(address[address.index(after: address.lastIndex(of: "@")!)...])
            if PublicMailProviders.contains(domain) { continue }
            while true {
                if let ids = byDomain[domain] {
                    for id in ids { offer(InvestorLink(investorId: id, rule: .domain, address: address)) }
                    break
                }
                guard let dot = domain.firstIndex(of: "."), domain[domain.index(after: dot)...].contains(".") else { break }
                domain = String(domain[domain.index(after: dot)...])
            }
        }
        return best.values.sorted { ($0.investorId, $0.address) < ($1.investorId, $1.address) }
    }
}
