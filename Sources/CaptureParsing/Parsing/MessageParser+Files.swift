import Foundation
import MIMEKit

extension MessageParser {
    /// How a file on disk is to be read.
    public enum InputKind: String, Sendable, CaseIterable {
        /// JSON when the first non-blank byte is `{`, else raw RFC 822.
        case auto
        /// Raw RFC 822 (.eml).
        case raw
        /// A Gmail `Message` JSON (format=full or raw), or an export `{"full": ..., "raw": ..., "attachments": ...}`.
        case gmailJSON = "gmail-json"
    }

    /// A file that could not be read or understood; the message names the file.
    public struct FileError: Error, CustomStringConvertible {
        public var path: String
        public var reason: String
        public var description: String { "\(path): \(reason)" }
    }

    /// Reads and parses one file. Malformed mail still parses (problems listed); unreadable files throw.
    public func parseFile(at path: String, input: InputKind = .auto) throws -> ParsedMessage {
        var isDir: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDir)
        guard let bytes = readFileBytes(path) else {
            let reason = !exists ? "no such file" : isDir.boolValue ? "is a directory" : "cannot be read"
            throw FileError(path: path, reason: reason)
        }
        var kind = input
        if kind == .auto {
            let first = bytes.first { $0 != 32 && $0 != 9 && $0 != 10 && $0 != 13 }
            kind = first == UInt8(ascii: "{") ? .gmailJSON : .raw
        }
        switch kind {
        case .raw, .auto:
            return parse(raw: bytes)
        case .gmailJSON:
            do {
                return try parseGmailExport(Data(bytes))
            } catch let e as InputError {
                throw FileError(path: path, reason: e.description)
            }
        }
    }

    /// Parses a Gmail Message JSON, or an export object holding `full` (preferred) or `raw` plus `attachments`.
    public func parseGmailExport(_ data: Data) throws -> ParsedMessage {
        struct Export: Decodable {
            var full: GmailMessageResource?
            var raw: GmailMessageResource?
            var attachments: [String: GmailMessagePartBody]?
        }
        if let export = try? JSONDecoder().decode(Export.self, from: data), export.full != nil || export.raw != nil {
            var attachmentData: [String: [UInt8]] = [:]
            for (id, body) in export.attachments ?? [:] {
                if let d = body.data { attachmentData[id] = Base64.decode(Array(d.utf8)) }
            }
            if let full = export.full, full.payload != nil {
                return try parse(gmail: full, attachmentData: attachmentData)
            }
            return try parse(gmail: export.raw ?? export.full!, attachmentData: attachmentData)
        }
        return try parse(gmailJSON: data)
    }
}
