/// How an image reference (an `<img src>`, a `background` attribute or a CSS `url()`) is treated.
enum ImageSourceDecision: Equatable {
    /// Use this URL.
    case use([UInt8])
    /// An http(s) image while remote images are off: drop it and count it.
    case blockedRemote
    /// Anything else: drop it.
    case drop
}

/// URL decisions. Inputs are already entity-decoded (and, for CSS, escape-decoded). Every scheme test runs on
/// the URL as the WHATWG URL parser would see it: leading and trailing C0 controls and spaces trimmed, tabs and
/// newlines removed anywhere. Only allowlisted schemes pass, so `javascript:`, `data:text/html`, `vbscript:`,
/// relative and protocol-relative URLs all fall to the default.
enum SanitizerURLs {
    /// `a href`: absolute http, https or mailto go through `options.link`; everything else (fragments included)
    /// has no href.
    static func link(_ decoded: [UInt8], options: HTMLSanitizer.Options) -> [UInt8]? {
        let url = cleaned(decoded)
        guard hasSchemePrefix(url, "http:") || hasSchemePrefix(url, "https:") || hasSchemePrefix(url, "mailto:") else { return nil }
        return options.link(String(decoding: url, as: UTF8.self)).map { Array($0.utf8) }
    }

    static func image(_ decoded: [UInt8], options: HTMLSanitizer.Options) -> ImageSourceDecision {
        let url = cleaned(decoded)
        if hasSchemePrefix(url, "cid:") {
            let reference = contentID(url[4...])
            guard let mapped = options.inlineImage(reference) else { return .drop }
            return .use(Array(mapped.utf8))
        }
        if hasSchemePrefix(url, "data:") {
            return dataImage(url).map(ImageSourceDecision.use) ?? .drop
        }
        if hasSchemePrefix(url, "http:") || hasSchemePrefix(url, "https:") {
            return options.allowRemoteImages ? .use(url) : .blockedRemote
        }
        return .drop
    }

    /// Trims leading and trailing C0 controls and spaces and removes tabs, LFs and CRs, as URL parsing does.
    static func cleaned(_ bytes: [UInt8]) -> [UInt8] {
        var start = 0
        var end = bytes.count
        while start < end, bytes[start] <= 0x20 { start += 1 }
        while end > start, bytes[end - 1] <= 0x20 { end -= 1 }
        return bytes[start..<end].filter { $0 != .tab && $0 != .lineFeed && $0 != .carriageReturn }
    }

    static func hasSchemePrefix(_ url: [UInt8], _ scheme: StaticString) -> Bool {
        let n = scheme.utf8CodeUnitCount
        guard url.count >= n else { return false }
        return scheme.withUTF8Buffer { buffer in
            for k in 0..<n where url[k].asciiLowercased != buffer[k] { return false }
            return true
        }
    }

    /// The part after `cid:`, percent-decoded, without surrounding angle brackets.
    static func contentID(_ bytes: ArraySlice<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = bytes.startIndex
        while i < bytes.endIndex {
            if bytes[i] == UInt8(ascii: "%"), i + 2 < bytes.endIndex, bytes[i + 1].isASCIIHexDigit, bytes[i + 2].isASCIIHexDigit {
                out.append(UInt8(bytes[i + 1].hexValue << 4 | bytes[i + 2].hexValue))
                i += 3
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        var text = Substring(String(decoding: out, as: UTF8.self))
        while text.first == "<" { text.removeFirst() }
        while text.last == ">" { text.removeLast() }
        return String(text)
    }

    private static let dataImagePrefixes: [[UInt8]] = ["png", "gif", "jpeg", "webp"].map { Array("data:image/\($0);base64,".utf8) }

    /// `data:image/(png|gif|jpeg|webp);base64,` followed by base64 (whitespace ignored), normalised to a
    /// lowercase prefix and a payload without whitespace; nil for anything else.
    static func dataImage(_ url: [UInt8]) -> [UInt8]? {
        for prefix in dataImagePrefixes where url.count > prefix.count {
            guard zip(prefix, url).allSatisfy({ $0 == $1.asciiLowercased }) else { continue }
            var out = prefix
            out.reserveCapacity(url.count)
            for b in url[prefix.count...] where b > 0x20 {
                guard b.isASCIIAlphanumeric || b == UInt8(ascii: "+") || b == .slash || b == .equals else { return nil }
                out.append(b)
            }
            return out.count > prefix.count ? out : nil
        }
        return nil
    }
}
