import Foundation
import CaptureParsing
public import GRDB

// Stored as their raw TEXT values.
extension SyncState: DatabaseValueConvertible {}
extension RunStatus: DatabaseValueConvertible {}
extension RunKind: DatabaseValueConvertible {}
extension LedgerState: DatabaseValueConvertible {}
extension AttachmentState: DatabaseValueConvertible {}
extension MatchRule: DatabaseValueConvertible {}
