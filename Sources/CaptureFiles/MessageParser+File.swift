public import CaptureParsing
import Foundation

extension MessageParser {
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
        do { return try parse(bytes: bytes, input: input) } catch let e as InputError { throw FileError(path: path, reason: e.description) }
    }
}
