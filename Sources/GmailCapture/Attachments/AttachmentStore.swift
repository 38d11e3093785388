import Crypto
public import Foundation
import CaptureParsing
#if canImport(Glibc)
    import Glibc
#endif

/// Content-addressed attachment files: `ROOT/ab/cd/<sha256>`. The path comes from the hash, never from
/// a filename. Writes go to a temporary file, are fsynced and renamed into place, so a crash leaves
/// either nothing or a complete file; the same content from any mailbox is stored once.
public struct AttachmentStore: Sendable {
    public let root: URL

    public enum Failure: Error, Equatable, CustomStringConvertible {
        case sizeMismatch(expected: Int, actual: Int)
        case hashMismatch(expected: String, actual: String)
        case io(String)
        public var description: String {
            switch self {
            case .sizeMismatch(let e, let a): return "attachment size \(a) does not match the announced \(e)"
            case .hashMismatch(let e, let a): return "attachment hash \(a) does not match the expected \(e)"
            case .io(let s): return "attachment store: \(s)"
            }
        }
    }

    public init(root: URL) { self.root = root }

    public static func hex(_ bytes: some Collection<UInt8>) -> String {
        sha256Hex(Array(bytes))
    }

    /// Relative path of a blob: `ab/cd/abcd…`.
    public static func relativePath(sha256: String) -> String {
        let s = Array(sha256)
        return "\(String(s[0..<2]))/\(String(s[2..<4]))/\(sha256)"
    }

    public func url(sha256: String) -> URL { root.appendingPathComponent(Self.relativePath(sha256: sha256)) }

    /// Stores bytes (verified against `expectedSize`/`expectedSHA256` when given); returns the hash.
    @discardableResult
    public func put(_ bytes: [UInt8], expectedSize: Int? = nil, expectedSHA256: String? = nil) throws -> String {
        try store(bytes, expectedSize: expectedSize, expectedSHA256: expectedSHA256).sha256
    }

    /// `put`, also telling whether the blob was written now (`fresh`) or already stored (the same
    /// content from another message or mailbox). The bytes are hashed once.
    public func store(_ bytes: [UInt8], expectedSize: Int? = nil, expectedSHA256: String? = nil) throws -> (sha256: String, fresh: Bool) {
        if let e = expectedSize, e != bytes.count { throw Failure.sizeMismatch(expected: e, actual: bytes.count) }
        let sha = Self.hex(bytes)
        if let e = expectedSHA256, e != sha { throw Failure.hashMismatch(expected: e, actual: sha) }
        let target = url(sha256: sha)
        let fm = FileManager.default
        var existing = stat()
        if stat(target.path, &existing) == 0, Int(existing.st_size) == bytes.count {
            return (sha, false)  // already stored (dedup)
        }
        let dir = target.deletingLastPathComponent()
        let tmpDir = root.appendingPathComponent("tmp")
        try ensureDirectory(dir)
        try ensureDirectory(tmpDir)
        let tmp = tmpDir.appendingPathComponent("\(sha).\(UUID().uuidString).part")
        let fd = open(tmp.path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { throw Failure.io("cannot create a temporary file") }
        var written = 0
        let ok: Bool = bytes.withUnsafeBytes { buf in
            while written < buf.count {
                let n = write(fd, buf.baseAddress! + written, buf.count - written)
                if n < 0 { if errno == EINTR { continue }; return false }
                written += n
            }
            return fsync(fd) == 0
        }
        close(fd)
        guard ok else { try? fm.removeItem(at: tmp); throw Failure.io("cannot write \(tmp.lastPathComponent)") }
        guard rename(tmp.path, target.path) == 0 else { try? fm.removeItem(at: tmp); throw Failure.io("cannot rename into place") }
        let dfd = open(dir.path, O_RDONLY)
        if dfd >= 0 { fsync(dfd); close(dfd) }
        return (sha, true)
    }

    /// `dir` exists afterwards: one `mkdir` when it already exists or only it is missing (the usual
    /// cases: a blob's `ab/cd` directory, the temporary directory), `makePrivateDirectories` otherwise.
    func ensureDirectory(_ dir: URL) throws {
        if mkdir(dir.path, 0o700) == 0 {
            chmod(dir.path, 0o700)
            return
        }
        if errno == EEXIST { return }
        try makePrivateDirectories(dir)
    }

    /// Creates `dir` and any missing directory between the root and it (the root included) with mode
    /// 0700, whatever the umask. Directories above the root are created as the umask says.
    func makePrivateDirectories(_ dir: URL) throws {
        let fm = FileManager.default
        let rootPath = root.standardizedFileURL.path
        let parent = root.standardizedFileURL.deletingLastPathComponent().path
        do { try fm.createDirectory(atPath: parent, withIntermediateDirectories: true) } catch {
            throw Failure.io("cannot create \(parent)")
        }
        var chain: [String] = []
        var cur = dir.standardizedFileURL.path
        while cur.hasPrefix(rootPath) {
            chain.append(cur)
            if cur == rootPath { break }
            cur = URL(fileURLWithPath: cur).deletingLastPathComponent().path
        }
        for path in chain.reversed() {
            if mkdir(path, 0o700) == 0 {
                chmod(path, 0o700)
            } else if errno != EEXIST {
                throw Failure.io("cannot create \(path)")
            }
        }
    }

    /// Reads a stored blob, verifying its hash.
    public func get(sha256: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: url(sha256: sha256).path) else { throw Failure.io("no blob \(sha256)") }
        let bytes = [UInt8](data)
        let actual = Self.hex(bytes)
        if actual != sha256 { throw Failure.hashMismatch(expected: sha256, actual: actual) }
        return bytes
    }
}
