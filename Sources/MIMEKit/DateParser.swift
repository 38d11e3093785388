public import Foundation

/// RFC 5322 §3.3 date-time, with the obsolete forms of §4.3 and common real-world deviations:
/// optional weekday, two- and three-digit years, missing seconds, named and military zones,
/// comments, `-` separators, missing zone (assumed UTC and reported).
public enum DateParser {
    public struct Result: Sendable, Equatable {
        public var date: Date?
        public var problem: String?
    }

    static let months: [String: Int] = [
        "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
        "january": 1, "february": 2, "march": 3, "april": 4, "june": 6, "july": 7, "august": 8,
        "september": 9, "sept": 9, "october": 10, "november": 11, "december": 12,
    ]
    static let zones: [String: Int] = [
        "ut": 0, "utc": 0, "gmt": 0, "z": 0, "est": -300, "edt": -240, "cst": -360, "cdt": -300,
        "mst": -420, "mdt": -360, "pst": -480, "pdt": -420, "bst": 60, "cet": 60, "cest": 120, "met": 60, "mest": 120,
        "eet": 120, "eest": 180, "wet": 0, "west": 60, "jst": 540, "kst": 540, "ist": 330, "hkt": 480, "sgt": 480, "aest": 600, "aedt": 660,
    ]
    static let weekdays: Set<String> = [
        "mon", "tue", "wed", "thu", "fri", "sat", "sun",
        "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
        "tues", "thur", "thurs",
    ]

    /// Parses a Date header value.
    public static func parse(_ text: String) -> Result {
        // Strip comments and split into tokens on whitespace and commas.
        var cleaned = ""
        var depth = 0
        for ch in text {
            if ch == "(" { depth += 1; cleaned.append(" "); continue }
            if ch == ")" { depth = max(0, depth - 1); cleaned.append(" "); continue }
            if depth == 0 { cleaned.append(ch) }
        }
        // obs-FWS around ':' in the time ("09 :  55") is removed before tokenizing.
        var compact = ""
        var pendingWS = ""
        for ch in cleaned {
            if ch == " " || ch == "\t" || ch == "\r" || ch == "\n" { pendingWS.append(ch); continue }
            if ch == ":" || compact.last == ":" { pendingWS = "" }
            compact += pendingWS
            pendingWS = ""
            compact.append(ch)
        }
        cleaned = compact
        var tokens = cleaned.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "," || $0 == "\r" || $0 == "\n" }).map(String.init)
        if tokens.isEmpty { return Result(date: nil, problem: "empty Date") }
        // "1-Jan-2001" style
        if tokens.count >= 1, tokens[0].split(separator: "-").count == 3, Int(tokens[0].split(separator: "-")[0]) != nil {
            let p = tokens[0].split(separator: "-").map(String.init)
            tokens = p + tokens.dropFirst()
        } else if tokens.count >= 2, tokens[1].split(separator: "-").count == 3, Int(tokens[1].split(separator: "-")[0]) != nil {
            let p = tokens[1].split(separator: "-").map(String.init)
            tokens = [tokens[0]] + p + tokens.dropFirst(2)
        }
        var idx = 0
        var notes: [String] = []
        if idx < tokens.count, weekdays.contains(tokens[idx].lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "."))) {
            idx += 1
        }
        var day: Int?, month: Int?, year: Int?
        // Day and month may come in either order ("Jan 1 2001" from some clients).
        if idx < tokens.count, let d = Int(tokens[idx]) {
            day = d; idx += 1
            if idx < tokens.count {
                month = months[tokens[idx].lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "."))]; idx += 1
            }
        } else if idx < tokens.count, let m = months[tokens[idx].lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "."))] {
            month = m; idx += 1
            if idx < tokens.count, let d = Int(tokens[idx]) { day = d; idx += 1 }
        }
        // Year, then time; asctime puts the time before the year.
        var timeToken: String?
        if idx < tokens.count, tokens[idx].contains(":") { timeToken = tokens[idx]; idx += 1 }
        var yearDigits = 4
        if idx < tokens.count, let y = Int(tokens[idx]) { year = y; yearDigits = tokens[idx].count; idx += 1 }
        if timeToken == nil, idx < tokens.count, tokens[idx].contains(":") { timeToken = tokens[idx]; idx += 1 }
        guard let d = day, let m = month, var y = year else { return Result(date: nil, problem: "unparseable Date \"\(text.prefix(80))\"") }
        if yearDigits <= 2 {
            y += y < 50 ? 2000 : 1900; notes.append("two-digit year")
        } else if yearDigits == 3 {
            y += 1900; notes.append("three-digit year")
        }
        var hh = 0, mm = 0, ss = 0
        if let t = timeToken {
            let parts = t.split(separator: ":").map { Int($0) }
            guard parts.count >= 2, parts.allSatisfy({ $0 != nil }) else { return Result(date: nil, problem: "unparseable time in Date") }
            hh = parts[0]!; mm = parts[1]!; ss = parts.count > 2 ? parts[2]! : 0
            if parts.count == 2 { notes.append("no seconds") }
        } else {
            notes.append("no time of day")
        }
        // Zone.
        var offsetMinutes = 0
        if idx < tokens.count {
            let z = tokens[idx]
            if (z.hasPrefix("+") || z.hasPrefix("-")), z.count == 5, let v = Int(z.dropFirst()) {
                let sign = z.hasPrefix("-") ? -1 : 1
                offsetMinutes = sign * ((v / 100) * 60 + v % 100)
                if v % 100 >= 60 || v / 100 > 23 { return Result(date: nil, problem: "invalid zone offset in Date") }
            } else if let named = zones[z.lowercased()] {
                offsetMinutes = named
            } else if z.count == 1, z.first!.isLetter {
                offsetMinutes = 0  // RFC 5322 §4.3: military zones are unreliable; treat as -0000
                notes.append("military zone")
            } else {
                notes.append("unknown zone \(z)")
            }
        } else {
            notes.append("no zone; assumed UTC")
        }
        guard (1...12).contains(m), (1...31).contains(d), (0...23).contains(hh), (0...59).contains(mm), (0...60).contains(ss),
            d <= daysIn(month: m, year: y)
        else {
            return Result(date: nil, problem: "out-of-range Date \"\(text.prefix(80))\"")
        }
        let days = daysFromCivil(year: y, month: m, day: d)
        let seconds = Int64(days) * 86400 + Int64(hh * 3600 + mm * 60 + min(ss, 59)) - Int64(offsetMinutes * 60)
        let problem =
            notes.contains(where: { $0.hasPrefix("unknown") || $0.hasPrefix("no zone") || $0 == "no time of day" })
            ? "Date: " + notes.joined(separator: ", ") : nil
        return Result(date: Date(timeIntervalSince1970: TimeInterval(seconds)), problem: problem)
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 for a proleptic Gregorian date (H. Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    /// Formats a date as ISO 8601 UTC with seconds (`2024-03-05T17:04:00Z`).
    public static func iso8601(_ date: Date) -> String {
        let t = Int64(date.timeIntervalSince1970.rounded(.down))
        var days = t / 86400
        var rem = t % 86400
        if rem < 0 { rem += 86400; days -= 1 }
        let (y, m, d) = civilFromDays(Int(days))
        func p2(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let yy = String(y).count < 4 ? String(repeating: "0", count: 4 - String(y).count) + String(y) : String(y)
        return "\(yy)-\(p2(m))-\(p2(d))T\(p2(Int(rem / 3600))):\(p2(Int(rem % 3600 / 60))):\(p2(Int(rem % 60)))Z"
    }

    static func civilFromDays(_ z0: Int) -> (Int, Int, Int) {
        let z = z0 + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }
}

/// Message-ID lists (Message-ID, In-Reply-To, References).
public enum MessageIDParser {
    /// Extracts `<...>` ids (brackets removed). When there are none, whitespace-separated words
    /// that look like ids (contain `@`) are taken, and the non-standard form is reported.
    public static func parseList(_ text: String, limit: Int = 2000, problems: inout [String]) -> [String] {
        var ids: [String] = text.utf8.allSatisfy { $0 < 0x80 } ? asciiBracketed(text) : bracketed(text)
        if ids.isEmpty {
            let words = text.split(whereSeparator: { $0.isWhitespace || $0 == "," }).map(String.init).filter { $0.contains("@") }
            if !words.isEmpty { problems.append("message id without angle brackets") }
            ids = words
        }
        if ids.count > limit {
            problems.append("id list of \(ids.count) entries truncated to \(limit)")
            ids = Array(ids.suffix(limit))
        }
        return ids
    }

    /// The `<…>` ids of a list, outside comments, whitespace removed from each, by `Character`.
    static func bracketed(_ text: String) -> [String] {
        var ids: [String] = []
        var current: String?
        var depth = 0
        for ch in text {
            if current == nil && ch == "(" { depth += 1; continue }
            if current == nil && ch == ")" { depth = max(0, depth - 1); continue }
            if depth > 0 { continue }
            if ch == "<" { current = ""; continue }
            if ch == ">" {
                if let c = current {
                    let t = c.filter { !$0.isWhitespace }
                    if !t.isEmpty { ids.append(t) }
                }
                current = nil
                continue
            }
            if current != nil { current!.append(ch) }
        }
        return ids
    }

    /// `bracketed` for ASCII text (References headers nearly always are), on bytes: the same answer,
    /// because for ASCII every character is one byte except CR LF, and CR and LF are both whitespace,
    /// removed inside an id and ignored outside one. Walking long References chains by `Character`
    /// (and asking each one `isWhitespace`) was a tenth of `parse`'s time on Gmail-like mail.
    static func asciiBracketed(_ text: String) -> [String] {
        var ids: [String] = []
        var current: [UInt8] = []
        var inside = false
        var depth = 0
        for b in text.utf8 {
            if !inside && b == UInt8(ascii: "(") {
                depth += 1
                continue
            }
            if !inside && b == UInt8(ascii: ")") {
                depth = max(0, depth - 1)
                continue
            }
            if depth > 0 { continue }
            if b == UInt8(ascii: "<") {
                inside = true
                current.removeAll(keepingCapacity: true)
                continue
            }
            if b == UInt8(ascii: ">") {
                if inside && !current.isEmpty { ids.append(String(decoding: current, as: UTF8.self)) }
                inside = false
                continue
            }
            if inside && !(b == 0x20 || (0x09...0x0D).contains(b)) { current.append(b) }
        }
        return ids
    }
}
