import Foundation

/// A parsed search query (the query language of README "Search"). Pure: parsing and the per-level
/// plan are decided here and tested without a database; `ReadModel.search` runs the plan.
///
/// - Free words and `"quoted phrases"` match the subject, the text body, participant names and addresses
///   and attachment filenames; a word ending in `*` matches as a prefix.
/// - `from:` (the sender), `to:` (To and Cc), `subject:`, `filename:` match one field.
/// - `investor:ID`, `domain:DOMAIN` (a participant at it or a subdomain), `teammate:EMAIL` (mail that
///   teammate's mailbox holds), `after:YYYY-MM-DD` (that day included), `before:YYYY-MM-DD` (that day
///   excluded), `has:attachment`.
/// - `-` before a word, phrase or operator excludes what it matches.
/// - Every part must hold (AND). An unknown operator or a bad value is an error, never ignored.
public struct SearchQuery: Sendable, Equatable {
    /// The indexed fields (the full-text table's columns, in order).
    public enum Field: String, Sendable, CaseIterable, Comparable {
        case subject, body, sender, recipients, filenames

        /// Column index in `email_search`.
        var column: Int { Self.allCases.firstIndex(of: self)! }
        public static func < (a: Field, b: Field) -> Bool { a.column < b.column }

        /// What a message visible at `level` may be matched on: participants at every level, the subject
        /// from `subject` up, the body and filenames only in full.
        public static func visible(at level: SharingLevel) -> Set<Field> {
            switch level {
            case .metadata: return [.sender, .recipients]
            case .subject: return [.subject, .sender, .recipients]
            case .full: return Set(allCases)
            }
        }
    }

    /// Words or a phrase, in some fields (nil: every field the viewer may see).
    public struct Text: Sendable, Equatable {
        public var text: String
        public var fields: Set<Field>?
        public var prefix = false
        public var negated = false
        /// Narrows candidates only (the tokens of a `domain:`); not part of ranking or highlighting.
        var narrowing = false
    }

    /// Conditions on stored rows rather than text.
    public enum Filter: Sendable, Equatable {
        case investor(String)
        case domain(String)
        case teammate(String)
        /// `YYYY-MM-DD`, inclusive.
        case after(String)
        /// `YYYY-MM-DD`, exclusive.
        case before(String)
        case hasAttachment
    }

    /// A filter, or its exclusion (`-investor:ID`).
    public struct FilterPart: Sendable, Equatable {
        public var filter: Filter
        public var negated: Bool
    }

    public var texts: [Text] = []
    public var filters: [FilterPart] = []

    /// The operators, as documented.
    public static let operators = [
        "from", "to", "subject", "filename", "investor", "domain", "teammate", "after", "before", "has",
    ]

    /// Whether results are ordered by relevance (some positive words or phrases) or by date.
    public var ranked: Bool { texts.contains { !$0.negated && !$0.narrowing } }

    // MARK: - Parsing

    public static func parse(_ input: String) throws(SearchQueryError) -> SearchQuery {
        var q = SearchQuery()
        var i = input.startIndex
        func readQuoted() throws(SearchQueryError) -> String {
            // At an opening quote.
            let start = input.index(after: i)
            guard let end = input[start...].firstIndex(of: "\"") else { throw .unterminatedQuote }
            i = input.index(after: end)
            return String(input[start..<end])
        }
        func readBare() -> String {
            let start = i
            while i < input.endIndex, !input[i].isWhitespace { i = input.index(after: i) }
            return String(input[start..<i])
        }
        while i < input.endIndex {
            if input[i].isWhitespace {
                i = input.index(after: i)
                continue
            }
            var negated = false
            if input[i] == "-", input.index(after: i) < input.endIndex, !input[input.index(after: i)].isWhitespace {
                negated = true
                i = input.index(after: i)
            }
            if input[i] == "\"" {
                let phrase = try readQuoted()
                q.addText(Text(text: phrase, fields: nil, negated: negated))
                continue
            }
            // An operator is letters then a colon: `from:x`, `subject:"a b"`.
            var j = i
            while j < input.endIndex, input[j].isASCII, input[j].isLetter { j = input.index(after: j) }
            if j > i, j < input.endIndex, input[j] == ":" {
                let name = input[i..<j].lowercased()
                guard operators.contains(name) else { throw .unknownOperator(name) }
                i = input.index(after: j)
                let value: String
                if i < input.endIndex, input[i] == "\"" { value = try readQuoted() } else { value = readBare() }
                try q.add(operator: name, value: value, negated: negated)
                continue
            }
            var word = readBare()
            var prefix = false
            if word.count > 1, word.hasSuffix("*") {
                word.removeLast()
                prefix = true
            }
            q.addText(Text(text: word, fields: nil, prefix: prefix, negated: negated))
        }
        guard !q.texts.isEmpty || !q.filters.isEmpty else { throw .empty }
        // Exclusions alone select nothing to exclude from.
        guard q.texts.contains(where: { !$0.negated }) || q.filters.contains(where: { !$0.negated }) else { throw .onlyExclusions }
        return q
    }

    /// Words with no letter or digit (punctuation) are not searchable and are dropped, as Gmail does.
    mutating func addText(_ t: Text) {
        guard t.text.contains(where: { $0.isLetter || $0.isNumber }) else { return }
        texts.append(t)
    }

    mutating func add(operator name: String, value raw: String, negated: Bool) throws(SearchQueryError) {
        let value = raw.trimmingCharacters(in: .whitespaces)
        guard !value.isEmpty else { throw .badValue(operator: name, value: raw, expected: "a value after \(name):") }
        switch name {
        case "from": addFieldText(value, .sender, negated)
        case "to": addFieldText(value, .recipients, negated)
        case "subject": addFieldText(value, .subject, negated)
        case "filename": addFieldText(value, .filenames, negated)
        case "investor": filters.append(FilterPart(filter: .investor(value), negated: negated))
        case "teammate":
            guard AddressNormalizer.canonical(value) != nil else {
                throw .badValue(operator: name, value: value, expected: "a teammate's email address")
            }
            filters.append(FilterPart(filter: .teammate(value.lowercased()), negated: negated))
        case "domain":
            guard let d = AddressNormalizer.validDomain(value) else {
                throw .badValue(operator: name, value: value, expected: "a domain such as example.com")
            }
            filters.append(FilterPart(filter: .domain(d), negated: negated))
            // The domain's labels as words of the participant fields narrow the candidates cheaply; the
            // filter then checks the exact domain.
            if !negated { texts.append(Text(text: d, fields: [.sender, .recipients], narrowing: true)) }
        case "after", "before":
            guard let day = Self.day(value) else {
                throw .badValue(operator: name, value: value, expected: "a date as YYYY-MM-DD")
            }
            guard !negated else { throw .badValue(operator: "-" + name, value: value, expected: "the other operator (after:/before:)") }
            filters.append(FilterPart(filter: name == "after" ? .after(day) : .before(day), negated: false))
        case "has":
            guard value.lowercased() == "attachment" else {
                throw .badValue(operator: name, value: value, expected: "has:attachment")
            }
            filters.append(FilterPart(filter: .hasAttachment, negated: negated))
        default: throw .unknownOperator(name)
        }
    }

    mutating func addFieldText(_ value: String, _ field: Field, _ negated: Bool) {
        addText(Text(text: value, fields: [field], negated: negated))
    }

    /// `YYYY-MM-DD` (or `YYYY/MM/DD`, as Gmail writes it) of a real calendar day, normalised to dashes.
    static func day(_ s: String) -> String? {
        let parts = s.split(separator: s.contains("/") ? "/" : "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, (1...2).contains(parts[1].count), (1...2).contains(parts[2].count),
            let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]), (1...12).contains(m), d >= 1
        else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        guard let date = calendar.date(from: DateComponents(year: y, month: m, day: d)),
            calendar.component(.day, from: date) == d
        else { return nil }
        return String(format: "%04d-%02d-%02d", y, m, d)
    }

    // MARK: - The plan for one visibility level

    /// What to run against messages visible at one level: FTS5 expressions restricted to the fields that
    /// level may be matched on, and the filters that apply. Nil when nothing at that level can match (a
    /// positive part needs a field the viewer may not see there).
    public struct Plan: Equatable, Sendable {
        /// Every positive text part, ANDed (nil: none; the filters select the candidates).
        public var match: String?
        /// Every excluded text part the level may see, ORed (nil: none).
        public var exclude: String?
        /// The positive text parts used for ranking and highlighting (nil: order by date).
        public var highlight: String?
        public var filters: [FilterPart]
        /// bm25 weights per column; zero for the columns this level may not see.
        public var weights: [Double]
    }

    /// Subject matches weigh most, then sender, filenames, recipients, body.
    static let weights: [Field: Double] = [.subject: 8, .body: 1, .sender: 4, .recipients: 2, .filenames: 3]

    public func plan(at level: SharingLevel) -> Plan? {
        let visible = Field.visible(at: level)
        var positive: [String] = []
        var ranking: [String] = []
        var excluded: [String] = []
        for t in texts {
            let fields = (t.fields ?? visible).intersection(visible)
            if fields.isEmpty {
                // A positive part on a hidden field cannot match; an exclusion on one is not checked
                // (checking it would tell the viewer what the hidden field holds).
                if t.negated { continue } else { return nil }
            }
            let expression = Self.expression(t, fields: fields)
            if t.negated {
                excluded.append(expression)
            } else {
                positive.append(expression)
                if !t.narrowing { ranking.append(expression) }
            }
        }
        var applied: [FilterPart] = []
        for f in filters {
            if f.filter == .hasAttachment, level != .full {
                // Whether a message has attachments is content: only in full.
                if f.negated { continue } else { return nil }
            }
            applied.append(f)
        }
        return Plan(
            match: positive.isEmpty ? nil : positive.joined(separator: " AND "),
            exclude: excluded.isEmpty ? nil : excluded.joined(separator: " OR "),
            highlight: ranking.isEmpty ? nil : ranking.joined(separator: " AND "),
            filters: applied,
            weights: Field.allCases.map { visible.contains($0) ? Self.weights[$0]! : 0 })
    }

    /// `{subject body} : "the words"*` with the text quoted as one FTS5 string (its quotes doubled), so
    /// nothing in a query is FTS5 syntax.
    static func expression(_ t: Text, fields: Set<Field>) -> String {
        let quoted = "\"" + t.text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" + (t.prefix ? "*" : "")
        if fields.count == Field.allCases.count { return quoted }
        return "{" + fields.sorted().map(\.rawValue).joined(separator: " ") + "} : " + quoted
    }
}

/// A query, cursor or limit the search cannot use; the message says what to fix.
public enum SearchQueryError: Error, Equatable, Sendable, CustomStringConvertible {
    case empty
    case onlyExclusions
    case unterminatedQuote
    case unknownOperator(String)
    case badValue(operator: String, value: String, expected: String)
    case badCursor
    case badLimit(Int)

    public var description: String {
        switch self {
        case .empty:
            return "empty query: give words, \"phrases\" or operators (\(SearchQuery.operators.map { $0 + ":" }.joined(separator: ", ")))"
        case .onlyExclusions: return "a query needs something to match besides exclusions (-word)"
        case .unterminatedQuote: return "unterminated quote: close the \" of the phrase"
        case .unknownOperator(let name):
            return
                "unknown operator \(name): (known: \(SearchQuery.operators.map { $0 + ":" }.joined(separator: ", "))); quote it to search the text"
        case .badValue(let op, let value, let expected):
            return "bad value for \(op): \(value.isEmpty ? "(empty)" : value); expected \(expected)"
        case .badCursor: return "invalid cursor: pass the nextCursor of the same query's previous page"
        case .badLimit(let n): return "invalid limit \(n): expected 1 to 100"
        }
    }
}
