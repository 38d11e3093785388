import Foundation
import MIMEKit
import TestSupport
import Testing

@Suite struct StructureTests {
    static func message(_ s: String, limits: MIMELimits = .default) -> MIMEMessage {
        MIMEMessage.parse(Array(s.utf8), limits: limits)
    }

    @Test func splitsPartsAndKeepsPreambleAndEpilogue() {
        let m = Self.message(
            """
            Content-Type: multipart/mixed; boundary="b1"

            preamble text
            --b1
            Content-Type: text/plain

            one
            --b1
            Content-Type: text/html

            <p>two</p>
            --b1--
            epilogue text

            """)
        #expect(m.root.children.map(\.partId) == ["0", "1"])
        #expect(m.root.children.map(\.contentType.mimeType) == ["text/plain", "text/html"])
        #expect(String(decoding: m.rawBody(m.root.children[0]), as: UTF8.self) == "one")
        #expect(String(decoding: m.bytes[m.root.preambleRange!], as: UTF8.self) == "preamble text")
        #expect(String(decoding: m.bytes[m.root.epilogueRange!], as: UTF8.self) == "epilogue text\n")
        #expect(m.problems.isEmpty)
    }

    @Test func aLineThatOnlyStartsWithTheBoundaryDoesNotSplit() {
        let m = Self.message(
            "Content-Type: multipart/mixed; boundary=abc\n\n--abc\n\nfirst\n--abcdef not a delimiter\n--abc \nContent-Type: text/plain\n\nsecond\n--abc--\n"
        )
        #expect(m.root.children.count == 2)
        #expect(String(decoding: m.rawBody(m.root.children[0]), as: UTF8.self) == "first\n--abcdef not a delimiter")
    }

    @Test func missingFinalBoundaryKeepsTheLastPartAndReports() {
        let m = Self.message(
            "Content-Type: multipart/alternative; boundary=x\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nhello\r\n--x\r\nContent-Type: text/html\r\n\r\n<b>hi</b>\r\n"
        )
        #expect(m.root.children.count == 2)
        #expect(String(decoding: m.rawBody(m.root.children[1]), as: UTF8.self) == "<b>hi</b>")
        #expect(m.problems.contains { $0.message.contains("missing final boundary") })
    }

    @Test func embeddedMessageGetsGmailStylePartIds() {
        let m = Self.message(
            """
            Content-Type: multipart/mixed; boundary=o

            --o
            Content-Type: text/plain

            see below
            --o
            Content-Type: message/rfc822

            Subject: inner
            Content-Type: multipart/alternative; boundary=i

            --i
            Content-Type: text/plain

            inner text
            --i
            Content-Type: text/html

            <p>inner</p>
            --i--
            --o--
            """)
        #expect(m.allParts().map(\.partId) == ["", "0", "1", "1.0", "1.0.0", "1.0.1"])
        #expect(m.part(withId: "1.0")?.headers["Subject"] == "inner")
    }

    @Test func depthLimitKeepsDeepPartsOpaque() {
        var s = ""
        let depth = 100
        for i in 0..<depth { s += "Content-Type: multipart/mixed; boundary=b\(i)\n\n--b\(i)\n" }
        s += "Content-Type: text/plain\n\nbottom\n"
        for i in (0..<depth).reversed() { s += "--b\(i)--\n" }
        let m = Self.message(s, limits: MIMELimits(maxDepth: 10))
        #expect(m.allParts().count == 11)
        #expect(m.allParts().last?.keptOpaque == true)
        #expect(m.problems.contains { $0.message.contains("nesting deeper than 10") })
    }

    @Test func partCountLimitIsEnforced() {
        var s = "Content-Type: multipart/mixed; boundary=z\n\n"
        for i in 0..<50 { s += "--z\nContent-Type: text/plain\n\npart \(i)\n" }
        s += "--z--\n"
        let m = Self.message(s, limits: MIMELimits(maxParts: 10))
        #expect(m.allParts().count <= 10)
        #expect(m.problems.contains { $0.message.contains("more than 10 parts") })
    }

    @Test func missingContentTypeDefaultsToTextPlainUSASCII() {
        let m = Self.message("Subject: x\n\nbody")
        #expect(m.root.contentType.mimeType == "text/plain")
        #expect(!m.root.hasDeclaredContentType)
        var p: [String] = []
        #expect(m.text(m.root, problems: &p) == "body")
    }

    @Test func digestChildrenDefaultToMessageRFC822() {
        let m = Self.message("Content-Type: multipart/digest; boundary=d\n\n--d\n\nSubject: one\n\nbody one\n--d--\n")
        #expect(m.root.children.first?.contentType.mimeType == "message/rfc822")
        #expect(m.part(withId: "0.0")?.headers["Subject"] == "one")
    }

    @Test func transferDecodingAndCharsetConversion() {
        let m = Self.message(
            "Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\nCaf=E9 cr=E8me=\n br=FBl=E9e\n")
        var p: [String] = []
        #expect(m.text(m.root, problems: &p) == "Café crème brûlée\n")
        #expect(p.isEmpty)
    }

    @Test func utf8BOMIsDropped() {
        let bytes: [UInt8] = Array("Content-Type: text/plain; charset=utf-8\n\n".utf8) + [0xEF, 0xBB, 0xBF] + Array("hello".utf8)
        let m = MIMEMessage.parse(bytes)
        var p: [String] = []
        #expect(m.text(m.root, problems: &p) == "hello")
    }

    @Test func multipartWithoutBoundaryParameterIsKeptAsText() {
        let m = Self.message("Content-Type: multipart/mixed\n\nno parts here")
        #expect(m.root.children.isEmpty)
        #expect(m.root.keptOpaque)
        #expect(!m.problems.isEmpty)
    }
}

@Suite struct HTMLTextTests {
    @Test(arguments: [
        ("<p>Hello <b>world</b></p><p>Second</p>", "Hello world\n\nSecond"),
        ("Line one<br>Line two<br><br>After gap", "Line one\nLine two\n\nAfter gap"),
        ("<ul><li>alpha</li><li>beta</li></ul>", "- alpha\n- beta"),
        ("<ol><li>first</li><li>second</li></ol>", "1. first\n2. second"),
        ("<a href=\"https://example.com/deck\">the deck</a>", "the deck (https://example.com/deck)"),
        ("<a href=\"https://example.com\">https://example.com</a>", "https://example.com"),
        ("<a href=\"mailto:ir@example.com\">ir@example.com</a>", "ir@example.com"),
        ("Fish &amp; chips &lt;3 &#8217;n&#x2019; caf&eacute;&nbsp;ok", "Fish & chips <3 ’n’ café ok"),
        ("<head><title>T</title><style>p{color:red}</style></head><body><script>alert(1)</script>Body</body>", "Body"),
        ("<!--[if mso]><table><tr><td>MSO only</td></tr></table><![endif]--><div>Shown</div>", "Shown"),
        ("<table><tr><td>a</td><td>b</td></tr><tr><td>c</td><td>d</td></tr></table>", "a b\nc d"),
        ("<p>x</p><pre>  keep   this\n  spacing</pre>", "x\n\n  keep   this\n  spacing"),
        ("   lots    of\n\n\n   space   ", "lots of space"),
        ("<div>a</div><div></div><div></div><div>b</div>", "a\nb"),
        ("1 < 2 and 3 > 2", "1 < 2 and 3 > 2"),
        ("<p>unterminated <b", "unterminated"),
    ])
    func converts(_ html: String, _ text: String) {
        #expect(HTMLText.text(fromHTML: html) == text)
    }

    @Test func decodesEntitiesInStrings() {
        #expect(HTMLText.decodeEntities("l&#39;impl&eacute;mentation &amp; co") == "l'implémentation & co")
    }
}
