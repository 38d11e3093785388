import CaptureWeb
import Testing

// MARK: - Fixtures

/// Which sanitiser a case runs through.
enum SanitizerSetup: String, Sendable {
    /// Default options: no inline images, no links, remote images blocked.
    case plain
    /// cid: images map to /inline/<id>, links to /warn?to=<url>.
    case rewriting
    /// Default callbacks but remote images allowed.
    case remote

    var sanitizer: HTMLSanitizer {
        switch self {
        case .plain: HTMLSanitizer(options: .init())
        case .rewriting: HTMLSanitizer(options: .init(inlineImage: { "/inline/\($0)" }, link: { "/warn?to=\($0)" }))
        case .remote: HTMLSanitizer(options: .init(allowRemoteImages: true))
        }
    }
}

struct SanitizerCase: Sendable, CustomTestStringConvertible {
    var input: String
    var html: String
    var blocked = 0
    var setup = SanitizerSetup.plain

    init(_ input: String, _ html: String, blocked: Int = 0, _ setup: SanitizerSetup = .plain) {
        self.input = input
        self.html = html
        self.blocked = blocked
        self.setup = setup
    }

    var testDescription: String { "\(setup): \(input.prefix(80))" }
}

private let anchorAttributes = #"target="_blank" rel="noopener noreferrer""#
private let bareAnchor = "<a \(anchorAttributes)>"

private func check(_ c: SanitizerCase) {
    let result = c.setup.sanitizer.sanitize(c.input)
    #expect(result.html == c.html, "input: \(c.input)")
    #expect(result.blockedRemoteImages == c.blocked, "input: \(c.input)")
}

// MARK: - Hostile inputs

@Suite struct HTMLSanitizerHostileInputTests {
    static let scripting: [SanitizerCase] = [
        SanitizerCase("<script>alert(1)</script>", ""),
        SanitizerCase("<SCRIPT>alert(1)</SCRIPT>after", "after"),
        SanitizerCase(#"<p><script>"</div>"</script>ok</p>"#, "<p>ok</p>"),
        SanitizerCase("<script>document.write('</scr'+'ipt>')</script>ok", "ok"),
        SanitizerCase("<scr<script>ipt>alert(1)</script>", "ipt&gt;alert(1)"),
        SanitizerCase("<<script>alert(1)//<</script>", "&lt;"),
        SanitizerCase("<img src=x onerror=alert(1)>", ""),
        SanitizerCase("<img src=x onerror=alert(1)//", ""),
        SanitizerCase(
            #"<img src="data:image/png;base64,iVBORw0KGgo=" onerror=alert(1) onload="alert(2)">"#,
            #"<img src="data:image/png;base64,iVBORw0KGgo=">"#),
        SanitizerCase(#"<div onclick="alert(1)" onmouseover=alert(2) ONFOCUS=alert(3)>x</div>"#, "<div>x</div>"),
        SanitizerCase("<body onload=alert(1)><p>x</p></body>", "<p>x</p>"),
        SanitizerCase("<svg><script>alert(1)</script></svg>", ""),
        SanitizerCase("<svg onload=alert(1)>", ""),
        SanitizerCase("<svg onload=alert(1)><p>after</p>", "<p>after</p>"),
        SanitizerCase("<svg/onload=alert(1)><p>x</p>", "<p>x</p>"),
        SanitizerCase("<math><mi xlink:href=javascript:alert(1)>click</mi></math>", ""),
        SanitizerCase("<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>", "<table></table>"),
        SanitizerCase("<iframe src=\"http://evil.example\"></iframe>ok", "ok"),
        SanitizerCase(#"<iframe srcdoc="<script>alert(1)</script>"></iframe>ok"#, "ok"),
        SanitizerCase(#"<object data="http://evil.example/x.swf"><param name=a value=b>fallback</object>ok"#, "ok"),
        SanitizerCase(#"<embed src="http://evil.example/x.swf">ok"#, "ok"),
        SanitizerCase("<applet code=x>inside</applet>ok", "ok"),
        SanitizerCase("<template><img src=x onerror=alert(1)></template>ok", "ok"),
        SanitizerCase("<select><option><img src=x onerror=1></select>ok", "ok"),
        SanitizerCase("<video><source src=x onerror=alert(1)></video><audio src=x></audio>ok", "ok"),
        SanitizerCase("<frameset><frame src=x></frameset>after", "after"),
        SanitizerCase("<xmp><img src=x onerror=1></xmp>after", "after"),
        SanitizerCase("<noembed><img src=x onerror=1></noembed>ok", "ok"),
        SanitizerCase("<noframes><img src=x onerror=1></noframes>ok", "ok"),
        SanitizerCase("<plaintext><img src=x></plaintext>", ""),
        SanitizerCase("<dialog open>phish</dialog><canvas>c</canvas><map><area href=x></map>ok", "ok"),
        SanitizerCase("<portal src=http://evil.example></portal>ok", "ok"),
    ]

    static let navigation: [SanitizerCase] = [
        SanitizerCase(#"<meta http-equiv=refresh content="0;url=http://evil.example">"#, ""),
        SanitizerCase("<base href=http://evil.example/>", ""),
        SanitizerCase("<link rel=stylesheet href=http://evil.example/x.css>ok", "ok"),
        SanitizerCase("<form action=http://evil.example><input name=a><button>go</button></form>", ""),
        SanitizerCase("<form action=http://evil.example><input name=a><button>go</button></form>after", "after"),
        SanitizerCase("<form><form>x</form>y</form>z", "z"),
        SanitizerCase("<table><tr><td><form>inside</td><td>next</td></tr></table>", "<table><tr><td></td><td>next</td></tr></table>"),
        SanitizerCase(#"<button formaction="javascript:alert(1)">x</button>ok"#, "ok"),
    ]

    static let links: [SanitizerCase] = [
        SanitizerCase(#"<a href="javascript:alert(1)">x</a>"#, "\(bareAnchor)x</a>", .rewriting),
        SanitizerCase(#"<a href="jav&#x61;script:alert(1)">x</a>"#, "\(bareAnchor)x</a>", .rewriting),
        SanitizerCase("<a href=\" java\tscript:alert(1)\">x</a>", "\(bareAnchor)x</a>", .rewriting),
        SanitizerCase(#"<a href=" JAVASCRIPT:alert(1)">x</a>"#, "\(bareAnchor)x</a>", .rewriting),
        SanitizerCase("<a href=\"\u{1}javascript:alert(1)\">x</a>", "\(bareAnchor)x</a>", .rewriting),
        SanitizerCase(#"<a href="java&Tab;script:alert(1)">x</a>"#, "\(bareAnchor)x</a>", .rewriting),
        SanitizerCase(#"<a href="javascript&colon;alert(1)">x</a>"#, "\(bareAnchor)x</a>", .rewriting),
        SanitizerCase(
            #"<a href="&#x6A&#x61&#x76&#x61&#x73&#x63&#x72&#x69&#x70&#x74&#x3A&#x61&#x6C&#x65&#x72&#x74&#x28&#x31&#x29">x</a>"#,
            "\(bareAnchor)x</a>", .rewriting),
        SanitizerCase(#"<a href="&#106;avascript:alert(1)">x</a>"#, "\(bareAnchor)x</a>", .rewriting),
        SanitizerCase(#"<a href="vbscript:msgbox(1)">x</a>"#, "\(bareAnchor)x</a>", .rewriting),
        SanitizerCase(#"<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>"#, "\(bareAnchor)x</a>", .rewriting),
        SanitizerCase(#"<a href="file:///etc/passwd">x</a>"#, "\(bareAnchor)x</a>", .rewriting),
        SanitizerCase(#"<a href="//evil.example/">x</a>"#, "\(bareAnchor)x</a>", .rewriting),
        SanitizerCase(#"<a href="/relative">x</a>"#, "\(bareAnchor)x</a>", .rewriting),
        SanitizerCase(##"<a href="#top">x</a>"##, "\(bareAnchor)x</a>", .rewriting),
        SanitizerCase(#"<a/href="javascript:alert(1)">x</a>"#, "\(bareAnchor)x</a>", .rewriting),
        SanitizerCase(
            #"<a href="https://example.com/?a=1&b=2">go</a>"#,
            #"<a href="/warn?to=https://example.com/?a=1&amp;b=2" \#(anchorAttributes)>go</a>"#, .rewriting),
        SanitizerCase(
            #"<a href="https://x" onclick="evil()" target="_self" rel="opener">x</a>"#,
            #"<a href="/warn?to=https://x" \#(anchorAttributes)>x</a>"#, .rewriting),
        SanitizerCase(
            #"<a href="mailto:a@b.example?subject=hi">m</a>"#,
            #"<a href="/warn?to=mailto:a@b.example?subject=hi" \#(anchorAttributes)>m</a>"#, .rewriting),
        SanitizerCase(#"<a href="HTTPS://X">x</a>"#, #"<a href="/warn?to=HTTPS://X" \#(anchorAttributes)>x</a>"#, .rewriting),
        SanitizerCase(
            #"<a href="javascript:alert(1)" href="https://ok.example">x</a>"#, "\(bareAnchor)x</a>", .rewriting),
        SanitizerCase(#"<a href="https://ok.example">x</a>"#, "\(bareAnchor)x</a>"),
        SanitizerCase(#"<a name="top">x</a>"#, "\(bareAnchor)x</a>"),
        SanitizerCase(
            #"<a href="https://a">1<a href="https://b">2</a>"#,
            #"<a href="/warn?to=https://a" \#(anchorAttributes)>1</a><a href="/warn?to=https://b" \#(anchorAttributes)>2</a>"#, .rewriting),
    ]

    static let mutationXSS: [SanitizerCase] = [
        SanitizerCase(#"<noscript><p title="</noscript><img src=x onerror=alert(1)>">"#, #""&gt;"#),
        SanitizerCase(#"<svg></p><style><a id="</style><img src=1 onerror=alert(1)>">"#, #""&gt;"#),
        SanitizerCase("<!--<img src=x onerror=alert(1)>-->", ""),
        SanitizerCase("<!--><img src=x onerror=alert(1)>-->", "--&gt;"),
        SanitizerCase("<title><img src=x onerror=alert(1)></title>", ""),
        SanitizerCase("<textarea></textarea><img src=x onerror=alert(1)>", ""),
        SanitizerCase("<textarea><img src=x onerror=alert(1)></textarea>ok", "ok"),
        SanitizerCase("<![CDATA[<img src=x onerror=alert(1)>]]>", "]]&gt;"),
        SanitizerCase(#"<style>a{content:"</style><script>alert(1)</script>"}</style>"#, #""}"#),
        SanitizerCase(#"<style>a{font-family:"\3c /style\3e "}</style>"#, ""),
        SanitizerCase(
            #"<p title="</p><script>alert(1)</script>">x</p>"#, #"<p title="&lt;/p&gt;&lt;script&gt;alert(1)&lt;/script&gt;">x</p>"#),
        SanitizerCase(#"<p title='" onmouseover="alert(1)'>x</p>"#, #"<p title="&quot; onmouseover=&quot;alert(1)">x</p>"#),
        SanitizerCase("<div><svg><foreignObject><div>x</div></foreignObject></svg></div>", "<div><div>x</div></div>"),
    ]

    static let css: [SanitizerCase] = [
        SanitizerCase(
            "<style>@import url(http://evil.example/x.css); body{background:url(http://tracker.example/p.gif)}</style>",
            "<style>body{background: none}</style>", blocked: 1),
        SanitizerCase(
            #"<div style="background-image: url('http://tracker.example/p.gif')">x</div>"#,
            #"<div style="background-image: none">x</div>"#, blocked: 1),
        SanitizerCase(#"<div style="width: expression(alert(1))">x</div>"#, "<div>x</div>"),
        SanitizerCase(#"<div style="width: exp/**/ression(alert(1)); color: red">x</div>"#, #"<div style="color: red">x</div>"#),
        SanitizerCase(#"<div style="width: \65 xpression(alert(1))">x</div>"#, "<div>x</div>"),
        SanitizerCase(
            #"<div style="background:\75 rl(http://evil.example)">x</div>"#, #"<div style="background: none">x</div>"#, blocked: 1),
        SanitizerCase(#"<div style="background:u\rl(http://evil.example)">x</div>"#, #"<div style="background: none">x</div>"#, blocked: 1),
        SanitizerCase(
            #"<div style="background:u/**/rl(http://evil.example)">x</div>"#, #"<div style="background: none">x</div>"#, blocked: 1),
        SanitizerCase(
            #"<div style="background:url&#40;http://x/p.gif&#41;">x</div>"#, #"<div style="background: none">x</div>"#, blocked: 1),
        SanitizerCase(
            #"<div style="background:u&#92;72l(http://t.example/a.gif)">x</div>"#, #"<div style="background: none">x</div>"#, blocked: 1),
        SanitizerCase(#"<div style="background:url(javascript:alert(1))">x</div>"#, "<div>x</div>"),
        SanitizerCase(#"<div style="background:url(java\73 cript:alert(1)); color: red">x</div>"#, #"<div style="color: red">x</div>"#),
        SanitizerCase(#"<div style="x:vbscript:msgbox(1)">x</div>"#, "<div>x</div>"),
        SanitizerCase(#"<div style="behavior: url(x.htc); color: blue">x</div>"#, #"<div style="color: blue">x</div>"#),
        SanitizerCase(#"<div style="-moz-binding:url(x.xml#y);color:blue">x</div>"#, #"<div style="color: blue">x</div>"#),
        SanitizerCase(#"<div style="@import 'x.css'; color: blue">x</div>"#, #"<div style="color: blue">x</div>"#),
        SanitizerCase(#"<div style="background-image:image-set('http://t.example/p.gif' 1x)">x</div>"#, "<div>x</div>"),
        SanitizerCase(#"<div style="--x:url(http://t.example/p.gif);color:var(--x)">x</div>"#, "<div>x</div>"),
        SanitizerCase(
            #"<div style="filter:progid:DXImageTransform.Microsoft.AlphaImageLoader(src='http://t.example/a.png')">x</div>"#,
            "<div>x</div>"),
        SanitizerCase(#"<div style="content:'\2f\2a'">x</div>"#, "<div>x</div>"),
        SanitizerCase(#"<div style="color: red; } body { x">x</div>"#, #"<div style="color: red">x</div>"#),
        SanitizerCase(#"<div style="x:y(">x</div>"#, "<div>x</div>"),
        SanitizerCase(#"<p style="color:red">hi</p>"#, #"<p style="color: red">hi</p>"#),
        SanitizerCase(
            #"<div style="background:#fff url(http://t.example/bg.png) no-repeat;color:red">x</div>"#,
            #"<div style="background: #fff none no-repeat; color: red">x</div>"#, blocked: 1),
        SanitizerCase(
            #"<div style="background:#fff url(http://t.example/bg.png) no-repeat">x</div>"#,
            #"<div style="background: #fff url(&quot;http://t.example/bg.png&quot;) no-repeat">x</div>"#, .remote),
        SanitizerCase(
            #"<div style="background-image:url(cid:bg)">x</div>"#,
            #"<div style="background-image: url(&quot;/inline/bg&quot;)">x</div>"#, .rewriting),
        SanitizerCase(#"<div style="background-image:url(cid:bg)">x</div>"#, #"<div style="background-image: none">x</div>"#),
        SanitizerCase(
            #"<div style="background:url(data:image/png;base64,iVBORw0KGgo=)">x</div>"#,
            #"<div style="background: url(&quot;data:image/png;base64,iVBORw0KGgo=&quot;)">x</div>"#),
        SanitizerCase(
            #"<div style="background:url(data:image/svg+xml;base64,PHN2Zz4=)">x</div>"#, #"<div style="background: none">x</div>"#),
        SanitizerCase(#"<div style="background:url(/relative.png)">x</div>"#, #"<div style="background: none">x</div>"#),
        SanitizerCase(#"<div style="color:red/*x*/;wid/**/th:10px">x</div>"#, #"<div style="color: red; width: 10px">x</div>"#),
        SanitizerCase(#"<div style="color:red;;  ;font-weight:bold">x</div>"#, #"<div style="color: red; font-weight: bold">x</div>"#),
        SanitizerCase(
            #"<div style="color:rgb(1,2,3);width:calc(100% - (2 * 10px))">x</div>"#,
            #"<div style="color: rgb(1,2,3); width: calc(100% - (2 * 10px))">x</div>"#),
        SanitizerCase(#"<div style="font-family:'a;b';color:red">x</div>"#, #"<div style="font-family: 'a;b'; color: red">x</div>"#),
        SanitizerCase(#"<div style="color:red !important">x</div>"#, #"<div style="color: red !important">x</div>"#),
        SanitizerCase(
            #"<p style="font-family:&quot;Helvetica Neue&quot;, Arial">x</p>"#,
            #"<p style="font-family: &quot;Helvetica Neue&quot;, Arial">x</p>"#),
        SanitizerCase(#"<P STYLE="COLOR:RED">Hi</P>"#, #"<p style="color: RED">Hi</p>"#),
        SanitizerCase(#"<div style="">x</div><div style="junk">y</div>"#, "<div>x</div><div>y</div>"),
    ]

    static let styleElements: [SanitizerCase] = [
        SanitizerCase("<style>p{color:red}</style><p>x</p>", "<style>p{color: red}</style><p>x</p>"),
        SanitizerCase("<style><!-- p{color:red} --></style><p>x</p>", "<style>p{color: red}</style><p>x</p>"),
        SanitizerCase(#"<style>@\69mport url(x.css); p{color:red}</style>"#, "<style>p{color: red}</style>"),
        SanitizerCase("<style>@import 'x.css';</style>ok", "ok"),
        SanitizerCase(
            "<style>@media (max-width:600px){.x{width:100%!important}}</style>",
            "<style>@media (max-width:600px){.x{width: 100%!important}}</style>"),
        SanitizerCase(
            "<style>@media screen{@media print{@supports (display:grid){a{color:red}}}}</style>",
            "<style>@media screen{@media print{@supports (display:grid){a{color: red}}}}</style>"),
        SanitizerCase(
            "<style>@namespace svg url(http://www.w3.org/2000/svg); @charset \"utf-8\"; a{color:red}</style>",
            "<style>a{color: red}</style>"),
        SanitizerCase("<style>a{color:red;b{color:blue}}</style>", "<style>a{color: red}</style>"),
        SanitizerCase("<style>a { color : red } ; b{color:blue}</style>", "<style>a{color: red}</style>"),
        SanitizerCase("<style>p{color:red}</style", "<style>p{color: red}</style>"),
        SanitizerCase(
            #"<style>a[href^="http"]{color:red} .x>p{margin:0}</style>"#, "<style>a[href^=\"http\"]{color: red}\n.x>p{margin: 0}</style>"),
        SanitizerCase(
            "<style>body{background:url(http://a/1.gif)} td{background-image:url('http://a/2.gif')}</style>",
            "<style>body{background: none}\ntd{background-image: none}</style>", blocked: 2),
        SanitizerCase(
            #"<style>@font-face{font-family:X;src:url(http://t.example/f.woff) format("woff"),local(Arial)}</style>"#,
            #"<style>@font-face{font-family: X; src: none format("woff"),local(Arial)}</style>"#, blocked: 1),
        SanitizerCase(
            "<style>@keyframes spin{from{transform:rotate(0deg)}to{transform:rotate(360deg)}}</style>",
            "<style>@keyframes spin{from{transform: rotate(0deg)}\nto{transform: rotate(360deg)}}</style>"),
        SanitizerCase(
            #"<style>p{color:red}</style><style type="text/less">p{color:blue}</style><style media="print">p{color:green}</style>"#,
            "<style>p{color: red}</style><style>@media print{p{color: green}}</style>"),
        SanitizerCase("<style>p{x:expression(alert(1))}</style>", ""),
        SanitizerCase("<style>p{color:red}</style><svg><style>p{color:blue}</style></svg>", "<style>p{color: red}</style>"),
        SanitizerCase("<style>a{color:red}<" + "/style foo=\"</style>\">x", "<style>a{color: red}</style>x"),
    ]

    static let images: [SanitizerCase] = [
        SanitizerCase(#"<img src="http://tracker.example/pixel.gif" width=1 height=1>"#, "", blocked: 1),
        SanitizerCase(
            #"<img src="http://tracker.example/pixel.gif" width=1 height=1>"#,
            #"<img src="http://tracker.example/pixel.gif" width="1" height="1">"#,
            .remote),
        SanitizerCase(#"<img src="https://t.example/x.gif" onerror=alert(1)>"#, #"<img src="https://t.example/x.gif">"#, .remote),
        SanitizerCase(#"<img src="https://t.example/x.gif" srcset="http://t.example/y.gif 2x" lowsrc=x dynsrc=y>"#, "", blocked: 1),
        SanitizerCase(#"<img/src="http://t.example/p.gif">"#, "", blocked: 1),
        SanitizerCase(#"<img src="cid:logo@x" alt=Logo>"#, #"<img src="/inline/logo@x" alt="Logo">"#, .rewriting),
        SanitizerCase(#"<img src="CID:%3Clogo@x%3E">"#, #"<img src="/inline/logo@x">"#, .rewriting),
        SanitizerCase(#"<img src="cid:logo@x">"#, ""),
        SanitizerCase(#"<img src="data:image/png;base64,iVBORw0KGgo=" alt="">"#, #"<img src="data:image/png;base64,iVBORw0KGgo=" alt="">"#),
        SanitizerCase(#"<img src="DATA:IMAGE/GIF;BASE64,R0lG ODlh">"#, #"<img src="data:image/gif;base64,R0lGODlh">"#),
        SanitizerCase(#"<img src="data:image/svg+xml;base64,PHN2Zz4=">"#, ""),
        SanitizerCase(#"<img src="data:text/html,<script>alert(1)</script>">"#, ""),
        SanitizerCase(#"<img src="data:image/png;base64,<script>">"#, ""),
        SanitizerCase(#"<img src="/relative.png"><img src="//cdn.example/x.png"><img alt="no src">"#, ""),
        SanitizerCase(#"<img src="javascript:alert(1)">"#, ""),
        SanitizerCase(
            #"<table background="http://tracker.example/bg.gif"><tr><td>x</td></tr></table>"#, "<table><tr><td>x</td></tr></table>",
            blocked: 1),
        SanitizerCase(
            #"<table background="http://tracker.example/bg.gif"><tr><td>x</td></tr></table>"#,
            #"<table background="http://tracker.example/bg.gif"><tr><td>x</td></tr></table>"#, .remote),
        SanitizerCase(#"<td background="javascript:alert(1)">x"#, "x"),
        SanitizerCase(
            #"<img src=http://a/1.gif><img src=https://b/2.gif><div style="background:url(http://c/3.gif)">x</div>"#,
            #"<div style="background: none">x</div>"#, blocked: 3),
    ]

    @Test(arguments: scripting) func scriptingIsRemoved(_ c: SanitizerCase) { check(c) }
    @Test(arguments: navigation) func navigationAndFormsAreRemoved(_ c: SanitizerCase) { check(c) }
    @Test(arguments: links) func linksAreRewrittenOrDisarmed(_ c: SanitizerCase) { check(c) }
    @Test(arguments: mutationXSS) func mutationXSSInputsStayInert(_ c: SanitizerCase) { check(c) }
    @Test(arguments: css) func styleAttributesAreSanitised(_ c: SanitizerCase) { check(c) }
    @Test(arguments: styleElements) func styleElementsAreReserialised(_ c: SanitizerCase) { check(c) }
    @Test(arguments: images) func imagesFollowThePolicy(_ c: SanitizerCase) { check(c) }
}

// MARK: - Tokenizing and structure

@Suite struct HTMLSanitizerStructureTests {
    static let tokenizing: [SanitizerCase] = [
        SanitizerCase("", ""),
        SanitizerCase("plain text", "plain text"),
        SanitizerCase(#"hello <a href="x"#, "hello "),
        SanitizerCase(#"<a href="x"#, ""),
        SanitizerCase("<p>x<!-- unterminated", "<p>x</p>"),
        SanitizerCase("a<!-->b<!--->c<!-- -- -->d<!--x--!>e<!--unterminated", "abcde"),
        SanitizerCase("<!DOCTYPE html><p>x</p>", "<p>x</p>"),
        SanitizerCase(#"<?xml version="1.0"?>hi"#, "hi"),
        SanitizerCase("a</>b</ x>c", "abc"),
        SanitizerCase("a <b", "a "),
        SanitizerCase("a < b <3 <", "a &lt; b &lt;3 &lt;"),
        SanitizerCase("1 < 2 & 3 > 2", "1 &lt; 2 &amp; 3 &gt; 2"),
        SanitizerCase(
            "&amp; &copy; &#169; &#xA9; &bogus &#xZZ; &lt;script&gt; & &; &#;",
            "&amp; &copy; &#169; &#xA9; &amp;bogus &amp;#xZZ; &lt;script&gt; &amp; &amp;; &amp;#;"),
        SanitizerCase("a\u{0}b<scr\u{0}ipt>x</script>", "ab"),
        SanitizerCase("a\r\nb\rc", "a\nb\nc"),
        SanitizerCase(#"<p title=a class='b' id="c" lang = d dir>x</p>"#, #"<p title="a" class="b" id="c" lang="d" dir="">x</p>"#),
        SanitizerCase(#"<p/title="a"/class=b>x</p>"#, #"<p title="a" class="b">x</p>"#),
        SanitizerCase(#"<P TITLE="A" Title="B">x</P>"#, #"<p title="A">x</p>"#),
        SanitizerCase(#"<p title='a"b<c>&d'>x</p>"#, #"<p title="a&quot;b&lt;c&gt;&amp;d">x</p>"#),
        SanitizerCase(#"<p title="&lt;b&gt; &amp; &eacute;">x</p>"#, #"<p title="&lt;b&gt; &amp; &eacute;">x</p>"#),
        SanitizerCase(#"<p title="x"class="y">z</p>"#, #"<p title="x" class="y">z</p>"#),
        SanitizerCase(#"<p "onclick"=x =title=y>z</p>"#, "<p>z</p>"),
        SanitizerCase(
            "<ol start=3 type=a><li type=i value=2>x</ol><div type=x>y</div>",
            #"<ol start="3" type="a"><li type="i">x</li></ol><div>y</div>"#),
        SanitizerCase(#"<div data-x=1 ping=x poster=y action=z formaction=w xmlns=q name=n>x</div>"#, "<div>x</div>"),
        SanitizerCase(
            ##"<font face="Arial" size=2 color="#333">x</font>"##, ##"<font face="Arial" size="2" color="#333">x</font>"##),
        SanitizerCase("<custom-tag>hi</custom-tag><center><marquee>yo</marquee></center>", "hi<center>yo</center>"),
    ]

    static let trees: [SanitizerCase] = [
        SanitizerCase("<b><i>x</b>y</i>", "<b><i>x</i></b>y"),
        SanitizerCase("<div><span>x", "<div><span>x</span></div>"),
        SanitizerCase("</div>x</span>", "x"),
        SanitizerCase("<br></br><hr/><wbr></wbr>", "<br><br><hr><wbr>"),
        SanitizerCase("<p>a<p>b<div>c</div>", "<p>a</p><p>b</p><div>c</div>"),
        SanitizerCase("<ul><li>a<li>b</ul>", "<ul><li>a</li><li>b</li></ul>"),
        SanitizerCase("<ul><li>a<ul><li>b</ul>c</ul>", "<ul><li>a<ul><li>b</li></ul>c</li></ul>"),
        SanitizerCase("<li>a<li>b", "<li>a</li><li>b</li>"),
        SanitizerCase("<dl><dt>a<dd>b<dt>c</dl>", "<dl><dt>a</dt><dd>b</dd><dt>c</dt></dl>"),
        SanitizerCase("<h1>a<h2>b</h2></h1>", "<h1>a</h1><h2>b</h2>"),
        SanitizerCase("<table><tr><td>a<td>b<tr><td>c</table>", "<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>"),
        SanitizerCase(
            "<table><tbody><tr><td>a</td></tr><tbody><tr><td>b</table>",
            "<table><tbody><tr><td>a</td></tr></tbody><tbody><tr><td>b</td></tr></tbody></table>"),
        SanitizerCase(
            "<table><tr><td><table><tr><td>inner</td></tr></table>outer</td></tr></table>",
            "<table><tr><td><table><tr><td>inner</td></tr></table>outer</td></tr></table>"),
        SanitizerCase("<table><tr><td><div>x</td></tr></table>", "<table><tr><td><div>x</div></td></tr></table>"),
        SanitizerCase("<div><table><tr><td></div>x</td></tr></table></div>", "<div><table><tr><td>x</td></tr></table></div>"),
        SanitizerCase("<td>x</td><tr><th>y</th></tr>", "xy"),
        SanitizerCase("<p>x<table><tr><td>y</td></tr></table>", "<p>x</p><table><tr><td>y</td></tr></table>"),
        SanitizerCase("<details><summary>s</summary>body</details>", "<details><summary>s</summary>body</details>"),
        SanitizerCase(
            "<html><head><title>T</title><meta charset=utf-8><style>p{margin:0}</style></head><body bgcolor=red><p>Hi</p></body></html>",
            "<style>p{margin: 0}</style><p>Hi</p>"),
        SanitizerCase("<head><link rel=x href=y>\n <style>p{margin:0}</style>junk</head>text", "<style>p{margin: 0}</style>junktext"),
        SanitizerCase("<head><style>a{b:c}</style><div>x</div>", "<style>a{b: c}</style><div>x</div>"),
        SanitizerCase("x<head><title>t</title>", "x"),
    ]

    @Test(arguments: tokenizing) func tokenizesLikeABrowser(_ c: SanitizerCase) { check(c) }
    @Test(arguments: trees) func closesElementsLikeABrowser(_ c: SanitizerCase) { check(c) }

    @Test func deepNestingNeitherOverflowsNorLosesStructure() {
        let depth = 10_000
        let closed = String(repeating: "<div>", count: depth) + "x" + String(repeating: "</div>", count: depth)
        #expect(SanitizerSetup.plain.sanitizer.sanitize(closed).html == closed)
        // Unclosed: closed at the end, innermost first.
        let unclosed = String(repeating: "<div><span>", count: depth) + "y"
        let expected = unclosed + String(repeating: "</span></div>", count: depth)
        #expect(SanitizerSetup.plain.sanitizer.sanitize(unclosed).html == expected)
        // Nested dropped containers and nested CSS blocks.
        let svg =
            String(repeating: "<svg>", count: depth) + "<script>alert(1)</script>" + String(repeating: "</svg>", count: depth) + "after"
        #expect(SanitizerSetup.plain.sanitizer.sanitize(svg).html == "after")
        let css =
            "<style>" + String(repeating: "@media screen{", count: depth) + "a{color:red}" + String(repeating: "}", count: depth)
            + "</style>"
        #expect(SanitizerSetup.plain.sanitizer.sanitize(css).html == "")
        let parens =
            "<p style=\"width:" + String(repeating: "calc(", count: depth) + "1px" + String(repeating: ")", count: depth) + "\">x</p>"
        #expect(SanitizerSetup.plain.sanitizer.sanitize(parens).html.hasPrefix("<p style=\"width: calc(calc("))
    }

    @Test func callbacksSeeDecodedValues() {
        let sanitizer = HTMLSanitizer(
            options: .init(
                inlineImage: { $0 == "logo@x" ? "/inline/1" : nil },
                link: { $0 == "https://example.com/?a=1&b=2" ? "/warn/1" : nil }))
        let result = sanitizer.sanitize(#"<a href=" https://example.com/?a=1&amp;b=2 ">a</a><img src="cid:%3Clogo@x%3E">"#)
        #expect(result.html == #"<a href="/warn/1" \#(anchorAttributes)>a</a><img src="/inline/1">"#)
    }

    @Test func callbackResultsAreEscaped() {
        let sanitizer = HTMLSanitizer(options: .init(inlineImage: { _ in #"/i?a="<b>&c"# }, link: { _ in #"/w?"<x>&y"# }))
        let result = sanitizer.sanitize(#"<a href="https://x">a</a><img src="cid:q"><p style="background:url(cid:q)">p</p>"#)
        #expect(
            result.html
                == #"<a href="/w?&quot;&lt;x&gt;&amp;y" \#(anchorAttributes)>a</a><img src="/i?a=&quot;&lt;b&gt;&amp;c">"#
                + #"<p style="background: url(&quot;/i?a=%22%3Cb%3E&amp;c&quot;)">p</p>"#)
    }
}

// MARK: - Properties over random tag soup

/// SplitMix64: a tiny deterministic generator so every run sees the same documents.
private struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Random, mostly hostile, tag soup. `javascript` only ever appears in URL, event-handler and CSS positions,
/// never in text or in plain attributes, so "the output never contains javascript:" is a fair property.
private struct TagSoup {
    var rng: SplitMix64

    static let tags = [
        "a", "A", "p", "div", "DIV", "span", "b", "i", "img", "IMG", "table", "tr", "td", "th", "tbody", "li", "ul", "ol",
        "br", "hr", "font", "center", "h1", "pre", "blockquote", "details", "summary", "col", "colgroup", "caption",
        "script", "SCRIPT", "style", "STYLE", "iframe", "svg", "math", "mi", "foreignObject", "object", "embed", "form",
        "input", "button", "select", "option", "textarea", "title", "noscript", "xmp", "template", "meta", "base",
        "link", "head", "body", "html", "frameset", "noembed", "plaintext", "video", "o:p", "x-custom", "scr<script",
    ]
    static let hostileAttributes = [
        "href", "src", "HREF", "SRC", "background", "onclick", "onerror", "ONLOAD", "onmouseover", "formaction",
        "srcset", "xlink:href", "action", "poster", "ping", "dynsrc", "lowsrc", "data-x", "target", "rel", "style",
        "STYLE", "type", "on", "onx", "/onload",
    ]
    static let plainAttributes = ["title", "alt", "class", "id", "width", "lang", "dir", "colspan", "name", "value"]
    static let urls = [
        "javascript:alert(1)", "JaVaScRiPt:alert(1)", "jav&#x61;script:alert(1)", " java\tscript:alert(1)",
        "java&Tab;script:x", "&#106;avascript:x", "javascript&colon;x", "vbscript:x", "data:text/html,<script>x</script>",
        "data:image/png;base64,iVBORw0KGgo=", "data:image/svg+xml;base64,PHN2Zz4=", "http://tracker.example/p.gif",
        "https://example.com/?a=1&b=2", "https://example.com/?a=1&amp;b=2", "HTTPS://EXAMPLE.COM/", "mailto:a@b.example",
        "cid:logo@x", "cid:%3Cpart1%3E", "//evil.example/", "/relative", "#frag", "", "x", "\"", "'",
    ]
    static let cssValues = [
        "color:red", "background:url(http://t.example/p.gif)", "background-image:url('http://t.example/q.gif')",
        "width:expression(alert(1))", "background:\\75 rl(javascript:alert(1))", "background:u\\rl(http://x.example/a)",
        "x:u/**/rl(javascript:alert(1))", "behavior:url(x.htc)", "-moz-binding:url(x)", "@import 'x.css'",
        "background:url(cid:bg)", "background:url(data:image/gif;base64,R0lGODlh)", "color:rgb(1,2,3)", "}", "{", "/*",
        "*/", "\\", "font-family:&quot;A B&quot;", "content:'</style>'", "a:b(", "x:image-set('http://t.example/i.png' 1x)",
        "margin:0 !important", "color:\\3c /style\\3e ",
    ]
    static let plainValues = [
        "hello", "a b", "<b>", "</style>", "\" onmouseover=\"alert(1)", "' onfocus='alert(2)", "&amp;", "&lt;x&gt;", "x&y",
        "&#60;p&#62;", "", "=", "`", "</textarea><img src=x onerror=alert(1)>",
    ]
    static let texts = [
        "hello", " ", "\n", "a & b", "1 < 2", "3 > 2", "&amp;", "&#60;", "&#x3C;", "&lt;", "&bogus", "&#", "\"", "'", "=",
        "<", "</", ">", "/>", "<!--", "-->", "--!>", "<!", "<![CDATA[", "]]>", "<?", "<!DOCTYPE html>", "alert(1)", "x",
        "\u{0}", "\r\n", "é", "💥",
    ]
    static let styleSheets = [
        "p{color:red}", "@import url(http://evil.example/x.css);", "body{background:url(http://t.example/p.gif)}",
        "a{x:expression(alert(1))}", "@media screen{a{color:blue}}", "<!--", "-->", "}", "{", "a{content:\"</style>\"}",
        "@\\69mport 'x';", "b{background:\\75 rl(javascript:alert(1))}", "/* c */", "td{width:10px;;}", "@font-face{src:url(x)}",
    ]

    mutating func pick(_ list: [String]) -> String { list[Int(rng.next() % UInt64(list.count))] }
    mutating func chance(_ percent: UInt64) -> Bool { rng.next() % 100 < percent }

    mutating func quoted(_ value: String) -> String {
        switch rng.next() % 12 {
        case 0..<5: "\"\(value)\""
        case 5..<8: "'\(value)'"
        case 8..<11: value.isEmpty ? "\"\"" : value
        default: "\"\(value)"  // unterminated now and then
        }
    }

    mutating func attribute() -> String {
        let name: String
        let value: String
        if chance(50) {
            name = pick(Self.hostileAttributes)
            value = name.lowercased() == "style" ? pick(Self.cssValues) + (chance(50) ? ";" + pick(Self.cssValues) : "") : pick(Self.urls)
        } else {
            name = pick(Self.plainAttributes)
            value = pick(Self.plainValues)
        }
        let separator = chance(80) ? " " : (chance(50) ? "/" : "\t")
        return chance(10) ? separator + name : separator + name + "=" + (chance(2) ? "" : quoted(value))
    }

    mutating func piece() -> String {
        switch rng.next() % 10 {
        case 0, 1, 2:
            var tag = "<" + pick(Self.tags)
            for _ in 0..<(rng.next() % 4) { tag += attribute() }
            return tag + (chance(5) ? "" : chance(10) ? "/>" : ">")
        case 3, 4:
            return "</" + pick(Self.tags) + (chance(5) ? "" : ">")
        case 5:
            return "<style>" + (0..<(1 + rng.next() % 3)).map { _ in pick(Self.styleSheets) }.joined() + (chance(80) ? "</style>" : "")
        default:
            return pick(Self.texts)
        }
    }

    mutating func document() -> String {
        (0..<(5 + rng.next() % 60)).map { _ in piece() }.joined()
    }
}

/// What `canonicalForm` read from an output.
private struct CanonicalForm {
    /// The first way the output departs from the canonical form, if any.
    var problem: String?
    /// Every attribute of every start tag: (tag, attribute name, raw value).
    var attributes: [(tag: String, name: String, value: String)] = []
    /// The content of every `<style>` element.
    var sheets: [String] = []
}

/// Reads `html` as the sanitiser's canonical output form: text with only well-formed references and no `<` or
/// `>`, allowlisted tags with allowlisted double-quoted attributes, balanced non-void elements, and `<style>`
/// elements without any `<` inside.
private func canonicalForm(_ html: String) -> CanonicalForm {
    let allowedTags: Set<String> = [
        "a", "abbr", "address", "b", "bdi", "bdo", "big", "blockquote", "br", "caption", "center", "cite", "code", "col",
        "colgroup", "dd", "del", "details", "dfn", "div", "dl", "dt", "em", "figcaption", "figure", "font", "h1", "h2",
        "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "rp", "rt", "ruby",
        "s", "samp", "small", "span", "strike", "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th",
        "thead", "time", "tr", "tt", "u", "ul", "var", "wbr",
    ]
    let voids: Set<String> = ["br", "hr", "img", "col", "wbr"]
    let allowedAttributes: Set<String> = [
        "style", "class", "id", "dir", "lang", "title", "align", "valign", "width", "height", "bgcolor", "color",
        "border", "cellpadding", "cellspacing", "colspan", "rowspan", "face", "size", "alt", "start", "datetime",
        "nowrap", "span", "headers", "scope", "abbr", "type", "href", "src", "background", "target", "rel",
    ]
    let tagPattern = /<(\/?)([a-z0-9]+)((?: [a-z]+="[^"<>]*")*)>/
    let attributePattern = /[ ]([a-z]+)="([^"<>]*)"/
    let referencePattern = /&(?:[A-Za-z][A-Za-z0-9]{0,31}|#[0-9]{1,8}|#[xX][0-9A-Fa-f]{1,8});/
    var form = CanonicalForm()
    var stack: [String] = []
    var rest = Substring(html)
    while let first = rest.first {
        if rest.hasPrefix("<style>") {
            guard let end = rest.firstRange(of: "</style>") else {
                form.problem = "unclosed style element"
                return form
            }
            let sheet = rest[rest.index(rest.startIndex, offsetBy: 7)..<end.lowerBound]
            form.sheets.append(String(sheet))
            if sheet.contains("<") { form.problem = "'<' inside a style element: \(sheet)" }
            rest = rest[end.upperBound...]
        } else if first == "<" {
            guard let match = rest.prefixMatch(of: tagPattern) else {
                form.problem = "malformed tag at \(rest.prefix(60))"
                return form
            }
            let name = String(match.output.2)
            if !allowedTags.contains(name) { form.problem = "disallowed tag \(name)" }
            for attribute in match.output.3.matches(of: attributePattern) {
                form.attributes.append((name, String(attribute.output.1), String(attribute.output.2)))
                if !allowedAttributes.contains(String(attribute.output.1)) { form.problem = "disallowed attribute \(attribute.output.1)" }
            }
            if match.output.1.isEmpty {
                if !voids.contains(name) { stack.append(name) }
            } else {
                guard stack.last == name else {
                    form.problem = "unbalanced </\(name)>"
                    return form
                }
                stack.removeLast()
            }
            rest = rest[match.range.upperBound...]
        } else if first == ">" {
            form.problem = "bare '>' in text"
            return form
        } else if first == "&" {
            guard let match = rest.prefixMatch(of: referencePattern) else {
                form.problem = "stray '&' at \(rest.prefix(20))"
                return form
            }
            rest = rest[match.range.upperBound...]
        } else {
            rest = rest.dropFirst()
        }
    }
    if form.problem == nil, !stack.isEmpty { form.problem = "unclosed \(stack)" }
    return form
}

@Suite struct HTMLSanitizerPropertyTests {
    static let setups: [(String, HTMLSanitizer)] = [
        ("default options", HTMLSanitizer(options: .init())),
        ("remote images allowed", HTMLSanitizer(options: .init(allowRemoteImages: true))),
        // Callbacks whose results are themselves accepted unchanged, so a second pass is a fixed point.
        (
            "identity links, data: inline images",
            HTMLSanitizer(options: .init(inlineImage: { _ in "data:image/gif;base64,R0lGODlhAQABAAAAACw=" }, link: { $0 }))
        ),
    ]

    @Test(arguments: 0..<3, [1, 2, 3, 4])
    func randomTagSoupComesOutInert(setupIndex: Int, seed: UInt64) {
        let (label, sanitizer) = Self.setups[setupIndex]
        var soup = TagSoup(rng: SplitMix64(state: seed &* 0x1234_5678_9ABC))
        let handler = /\son[a-z]+=/.ignoresCase()
        let liveAttributes: Set<String> = ["href", "src", "background", "style"]
        for round in 0..<400 {
            let input = soup.document()
            let output = sanitizer.sanitize(input).html
            let lowered = output.lowercased()
            let context = "\(label), seed \(seed), round \(round)\ninput: \(input)\noutput: \(output)"
            for element in ["<script", "<iframe", "<svg", "<math", "<object", "<embed", "<form", "<meta", "<base", "<link", "<textarea"] {
                #expect(!lowered.contains(element), "\(context)")
            }
            // Event handlers inside tags, with quoted values taken out (escaped text in a title is not a handler).
            for tag in output.matches(of: /<[a-zA-Z][^>]*>/) {
                let unquoted = String(tag.output).replacing(/"[^"]*"/, with: "\"\"")
                #expect(unquoted.firstMatch(of: handler) == nil, "\(context)")
            }
            let form = canonicalForm(output)
            if let problem = form.problem {
                Issue.record("\(problem)\n\(context)")
            }
            // Where a script URL or a CSS expression could act: URL and style attributes, and style sheets. (In
            // text or a title, "javascript:" is just words; the soup puts hostile strings there when tags break.)
            let live = form.attributes.filter { liveAttributes.contains($0.name) }.map(\.value) + form.sheets
            for value in live.map({ $0.lowercased() }) {
                #expect(!value.contains("javascript") && !value.contains("vbscript") && !value.contains("expression"), "\(context)")
                #expect(!value.contains("</") && !value.contains("\\") && !value.contains("/*"), "\(context)")
            }
            for (tag, name, value) in form.attributes where name == "href" || name == "src" {
                let ok =
                    tag == "a" && name == "href" && (value.hasPrefix("http") || value.lowercased().hasPrefix("mailto:"))
                    || tag == "img" && name == "src" && (value.hasPrefix("data:image/") || value.hasPrefix("http"))
                #expect(ok, "\(tag) \(name)=\(value)\n\(context)")
            }
            let again = sanitizer.sanitize(output).html
            #expect(again == output, "not idempotent: \(context)\nagain: \(again)")
        }
    }

    @Test func hostileCasesAreIdempotentAndCanonical() {
        let all =
            HTMLSanitizerHostileInputTests.scripting + HTMLSanitizerHostileInputTests.navigation + HTMLSanitizerHostileInputTests.links
            + HTMLSanitizerHostileInputTests.mutationXSS
            + HTMLSanitizerHostileInputTests.css + HTMLSanitizerHostileInputTests.styleElements + HTMLSanitizerHostileInputTests.images
            + HTMLSanitizerStructureTests.tokenizing
            + HTMLSanitizerStructureTests.trees
        for c in all where c.setup != .rewriting {
            let sanitizer = c.setup.sanitizer
            let once = sanitizer.sanitize(c.input).html
            #expect(sanitizer.sanitize(once).html == once, "input: \(c.input)")
            #expect(canonicalForm(once).problem == nil, "input: \(c.input)")
        }
    }
}
