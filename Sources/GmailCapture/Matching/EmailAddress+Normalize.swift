import Foundation
import CaptureParsing
/// Address canonicalisation for identity and matching.
public enum AddressNormalizer {
    /// A domain as written in a blocklist, a mark or a query: lowercased, a leading `@` or `.` and a
    /// trailing `.` dropped (`@Payroll.Example.` → `payroll.example`); nil when nothing is left.
    public static func domain(_ raw: String) -> String? {
        var d = Substring(raw.trimmingCharacters(in: .whitespacesAndNewlines).lowercased())
        while d.hasPrefix("@") || d.hasPrefix(".") { d = d.dropFirst() }
        while d.hasSuffix(".") { d = d.dropLast() }
        return d.isEmpty ? nil : String(d)
    }

    /// `domain(raw)` when it looks like a domain name (a dot, no `@`, no whitespace), else nil.
    public static func validDomain(_ raw: String) -> String? {
        guard let d = domain(raw), d.contains("."), !d.contains("@"), !d.contains(where: \.isWhitespace) else { return nil }
        return d
    }

    /// Whether a canonical address is at `domain` or one of its subdomains (`b@eu.fund.example` is at
    /// `fund.example`; `c@otherfund.example` is not).
    public static func isAt(_ canonical: String, domain: String) -> Bool {
        guard let at = canonical.lastIndex(of: "@") else { return false }
        let host = canonical[canonical.index(after: at)...]
        return host == domain || host.hasSuffix("." + domain)
    }

    /// Providers where `+tag` is a sub-address of the same mailbox.
    public static let plusTagProviders: Set<String> = [
        "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "msn.com", "icloud.com", "me.com", "mac.com",
        "fastmail.com", "fastmail.fm", "proton.me", "protonmail.com", "pm.me", "hey.com", "zoho.com", "yandex.com", "yandex.ru",
    ]

    /// Lowercased; for gmail.com/googlemail.com dots dropped and `googlemail.com` folded into `gmail.com`;
    /// `+tag` dropped for known providers. Returns nil for something that is not an address.
    public static func canonical(_ address: String) -> String? {
        let a = address.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        guard let at = a.lastIndex(of: "@"), at != a.startIndex, a.index(after: at) != a.endIndex else { return nil }
        var local = String(a[..<at])
        var domain = String(a[a.index(after: at)...])
        if domain.hasSuffix(".") { domain.removeLast() }
        if local.hasPrefix("\"") && local.hasSuffix("\"") && local.count >= 2 { local = String(local.dropFirst().dropLast()) }
        if domain == "googlemail.com" { domain = "gmail.com" }
        if plusTagProviders.contains(domain), let plus = local.firstIndex(of: "+") { local = String(local[..<plus]) }
        if domain == "gmail.com" { local = local.replacingOccurrences(of: ".", with: "") }
        guard !local.isEmpty, domain.contains(".") else { return nil }
        return local + "@" + domain
    }

    public static func domain(of address: String) -> String? {
        canonical(address).map { String($0[$0.index(after: $0.lastIndex(of: "@")!)...]) }
    }
}

/// Public mail providers: their domains never identify a firm.
public enum PublicMailProviders {
    public static let domains: Set<String> = [
        "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "hotmail.co.uk", "live.com", "msn.com", "yahoo.com",
        "yahoo.co.uk", "yahoo.fr", "ymail.com", "rocketmail.com", "aol.com", "icloud.com", "me.com", "mac.com", "proton.me",
        "protonmail.com", "pm.me", "gmx.com", "gmx.de", "gmx.net", "web.de", "mail.com", "zoho.com", "yandex.com", "yandex.ru",
        "fastmail.com", "fastmail.fm", "hey.com", "tutanota.com", "tuta.io", "qq.com", "163.com", "126.com", "naver.com",
        "mail.ru", "comcast.net", "verizon.net", "att.net", "orange.fr", "free.fr", "libero.it", "t-online.de", "btinternet.com",
    ]

    public static func contains(_ domain: String) -> Bool { domains.contains(domain.lowercased()) }
}
