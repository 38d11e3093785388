#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import FakeGmail
import Foundation
import Logging

/// A raw HTTP/1.1 exchange over a plain TCP socket: the request line goes on the wire exactly as
/// written (no client library re-encodes the target). Blocking socket calls run on their own thread,
/// never on the concurrency pool the server also needs.
enum RawHTTP {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    struct Answer: Sendable {
        var status: Int
        var headers: [(String, String)]
        var body: [UInt8]

        func header(_ name: String) -> String? {
            headers.first { $0.0.caseInsensitiveCompare(name) == .orderedSame }?.1
        }
    }

    /// Sends `method target HTTP/1.1` (plus `headers`, `Host`, `Connection: close` and a `Content-Length`
    /// for `body`) to the server at `base` (`http://127.0.0.1:PORT`) and reads the answer to EOF.
    static func exchange(
        _ base: String, method: String = "GET", target: String, headers: [(String, String)] = [],
        body: [UInt8] = []
    ) async throws -> Answer {
        guard let port = base.split(separator: ":").last.flatMap({ UInt16($0) }) else { throw Failure(description: "no port in \(base)") }
        var head = "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        for (k, v) in headers { head += "\(k): \(v)\r\n" }
        if !body.isEmpty || method == "POST" { head += "Content-Length: \(body.count)\r\n" }
        let bytes = Array((head + "\r\n").utf8) + body
        let raw: [UInt8] = try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try blocking(port: port, send: bytes) }) }.start()
        }
        return try parse(raw)
    }

    static func parse(_ raw: [UInt8]) throws -> Answer {
        let crlf2: [UInt8] = [13, 10, 13, 10]
        guard let end = (0..<max(0, raw.count - 3)).first(where: { Array(raw[$0..<$0 + 4]) == crlf2 }) else {
            throw Failure(description: "no header block in \(String(decoding: raw, as: UTF8.self))")
        }
        let lines = String(decoding: raw[..<end], as: UTF8.self).components(separatedBy: "\r\n")
        let statusWords = lines[0].split(separator: " ")
        guard statusWords.count >= 2, let status = Int(statusWords[1]) else { throw Failure(description: "bad status line \(lines[0])") }
        let headers: [(String, String)] = lines.dropFirst().compactMap { line in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        return Answer(status: status, headers: headers, body: Array(raw[(end + 4)...]))
    }

    private static func blocking(port: UInt16, send bytes: [UInt8]) throws -> [UInt8] {
        #if canImport(Glibc)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            let sendFlags = Int32(MSG_NOSIGNAL)
        #else
            let fd = socket(AF_INET, SOCK_STREAM, 0)
            let sendFlags: Int32 = 0
        #endif
        guard fd >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw Failure(description: "connect: errno \(errno)") }
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, sendFlags) }
            guard n > 0 else { throw Failure(description: "send: errno \(errno)") }
            sent += n
        }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { break }
            guard n > 0 else { throw Failure(description: "recv: errno \(errno) after \(out.count) bytes") }
            out += buffer[..<n]
        }
        return out
    }
}

/// Runs `body` with a live loopback server for `fake` (the base URL `http://127.0.0.1:PORT`).
func withLiveFake<T: Sendable>(_ fake: FakeGmail, _ body: @Sendable (String) async throws -> T) async throws -> T {
    var logger = Logger(label: "fake-test")
    logger.logLevel = .critical
    return try await FakeGmailHTTPServer.withLiveServer(fake, logger: logger, body)
}
