import Foundation

/// How much of the mail their mailbox holds a teammate shares with the rest of the team.
public enum SharingLevel: String, Sendable, Codable, CaseIterable, Comparable {
    /// Participants, time, direction, investor links, thread membership; no subject, snippet, body or attachments.
    case metadata
    /// Metadata plus the subject and Gmail's snippet.
    case subject
    /// Everything, attachments included.
    case full

    /// 1, 2, 3 (0 is "hidden").
    public var rank: Int {
        switch self {
        case .metadata: return 1
        case .subject: return 2
        case .full: return 3
        }
    }

    public init?(rank: Int) {
        switch rank {
        case 1: self = .metadata
        case 2: self = .subject
        case 3: self = .full
        default: return nil
        }
    }

    public static func < (a: SharingLevel, b: SharingLevel) -> Bool { a.rank < b.rank }
}

/// An owner's override for a thread, an address or a domain.
public enum PrivacyMode: String, Sendable, Codable, CaseIterable {
    /// Their messages in it (or with it) are hidden from everyone else, not even metadata.
    case `private`
    /// Their messages in it are shown in full whatever their level (never above the firm ceiling).
    case shared
    /// Removes the override.
    case `default`
}

/// Where a read happened (the access log's `surface`).
public enum ReadSurface: String, Sendable, Codable, CaseIterable {
    case cli, api, mcp, ui
}

/// Who is reading.
public enum Viewer: Sendable, Equatable {
    /// The installation's operator (the CLI without `--as`): can read the database file anyway, sees all.
    case `operator`
    /// A teammate, by their mailbox address: sees what the visibility rules allow. Admins are teammates
    /// like any other here (admin is an operational role, not a reading one).
    case teammate(String)

    /// The teammate's address, nil for the operator.
    public var email: String? {
        if case .teammate(let e) = self { return e }
        return nil
    }
}

/// The firm's visibility settings: the default level, the ceiling no teammate can exceed, and the
/// workspace domain (mail whose every participant is on it is internal, private to its owners).
public struct VisibilityPolicy: Sendable, Equatable {
    public var defaultLevel: SharingLevel
    public var ceiling: SharingLevel
    public var workspaceDomain: String?

    public init(defaultLevel: SharingLevel = .metadata, ceiling: SharingLevel = .full, workspaceDomain: String? = nil) {
        self.ceiling = ceiling
        self.defaultLevel = min(defaultLevel, ceiling)
        self.workspaceDomain = workspaceDomain?.lowercased()
    }

    /// The brute-force statement of the rules, for one message and one viewer (the SQL read model is
    /// tested against it): nil when hidden. `owners` are the teammates whose mailboxes hold the message;
    /// `level(o)` is an owner's own level (nil: the default); `mark(o)` an owner's override that covers
    /// this message (a private mark on its thread, or on an address or domain among its participants,
    /// wins over a shared one); `isInternal` whether every participant is on the workspace domain.
    public func visibility(
        viewer: Viewer, owners: [String], isInternal: Bool, level: (String) -> SharingLevel?, mark: (String) -> PrivacyMode?
    )
        -> SharingLevel?
    {
        guard let me = viewer.email else { return .full }
        if owners.contains(where: { $0.caseInsensitiveCompare(me) == .orderedSame }) { return .full }
        var best: SharingLevel?
        for owner in owners {
            if isInternal { return nil }
            switch mark(owner) {
            case .private?: return nil
            case .shared?: best = max(best ?? .metadata, ceiling)
            default: best = max(best ?? .metadata, min(level(owner) ?? defaultLevel, ceiling))
            }
        }
        return best
    }
}

/// One entry of the access log: `viewer` read `owner`'s message at `level` through `surface`.
public struct AccessLogEntry: Sendable, Equatable, Codable {
    public var viewer: String
    public var owner: String
    /// The RFC Message-ID without brackets (the canonical key when the message has none).
    public var messageId: String
    public var level: SharingLevel
    public var surface: ReadSurface
    public var at: String
}
