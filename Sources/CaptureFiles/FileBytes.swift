#if canImport(Glibc)
    import Foundation
    import CaptureParsing
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads a whole file straight into a byte array (one allocation, no Data bridge), or nil.
public func readFileBytes(_ path: String) -> [UInt8]? {
    let fd = open(path, O_RDONLY)
    if fd < 0 { return nil }
    defer { close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
    let size = Int(st.st_size)
    var failed = false
    let bytes = [UInt8](unsafeUninitializedCapacity: size) { buf, initialized in
        var done = 0
        while done < size {
            let n = read(fd, buf.baseAddress! + done, size - done)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { failed = n < 0; break }
            done += n
        }
        initialized = done
    }
    return failed ? nil : bytes
}
