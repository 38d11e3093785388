"""structure/: multipart shapes, forwards, boundaries, dispositions, size and depth extremes."""

from .common import (D, DOCX, ME, att, b64, qp, emit, fake_docx, fake_gif, fake_pdf, fake_png, file_part,
                     gmail_boundary, gmail_msgid, hexid, message, multipart, part, addr, text_part, TEMPLATES)

MAYA = ("Maya Chen <maya.chen@lumenridge.example.com>", addr("Maya Chen", "maya.chen@lumenridge.example.com"))
KW = {"sender_domain": "lumenridge.example.com"}


def alt(seed, text, html):
    b = gmail_boundary(seed + "alt")
    return b, multipart(b, [text_part(text), text_part(html, subtype="html", cte="quoted-printable")])


# 400 ----------------------------------------------------------------------------------------------
_b, _body = alt("400", "Hi Alex,\n\nThe IC memo draft is ready for review.\n\nMaya\n",
                '<div dir="ltr">Hi Alex,<div><br></div><div>The <b>IC memo</b> draft is ready for review.</div>'
                "<div><br></div><div>Maya</div></div>\n")
emit("structure", 400, "multipart-alternative", "multipart/alternative with text/plain and text/html (Gmail shape)",
     "400", D(2024, 9, 2, 9, 0, 0, -420), *MAYA, "IC memo draft", f'multipart/alternative; boundary="{_b}"', _body,
     more={"textBodyContains": ["The IC memo draft is ready for review."],
           "htmlBodyContains": ["The <b>IC memo</b> draft is ready for review."]}, **KW)

# 401 ----------------------------------------------------------------------------------------------
_pdf = fake_pdf("Series A Term Sheet", pages=2, pad=6000)
_docx = fake_docx("Side letter draft for Lumen Ridge Capital")
_png = fake_png(120, 80, "401")
_b401 = gmail_boundary("401")
_p1, _e1 = file_part(_pdf, "application/pdf", "Term Sheet - Series A.pdf", cid="f_401a", extra=["X-Attachment-Id: f_401a"])
_p2, _e2 = file_part(_docx, DOCX, "Side Letter (draft).docx", cid="f_401b", extra=["X-Attachment-Id: f_401b"])
_p3, _e3 = file_part(_png, "image/png", "cap-table.png", cid="f_401c", extra=["X-Attachment-Id: f_401c"])
_ab, _alt = alt("401", "Alex,\n\nTerm sheet, side letter and the cap table screenshot attached.\n\nMaya\n",
                "<div dir=\"ltr\">Alex,<div><br></div><div>Term sheet, side letter and the cap table screenshot "
                "attached.</div></div>\n")
emit("structure", 401, "multipart-mixed-attachments",
     "multipart/mixed: multipart/alternative body + PDF, DOCX and PNG attachments (disposition attachment, "
     "Gmail X-Attachment-Id / Content-ID)",
     "401", D(2024, 9, 3, 14, 30, 0, -420), *MAYA, "Series A documents", f'multipart/mixed; boundary="{_b401}"',
     multipart(_b401, [part([f'Content-Type: multipart/alternative; boundary="{_ab}"'], _alt), _p1, _p2, _p3]),
     more={"textBodyContains": ["Term sheet, side letter and the cap table screenshot attached."],
           "htmlBodyContains": ["Term sheet, side letter and the cap table screenshot attached."],
           "attachments": [_e1, _e2, _e3]}, **KW)

# 402 ----------------------------------------------------------------------------------------------
_img1 = fake_png(200, 60, "402logo")
_img2 = fake_png(300, 150, "402chart")
_rb = gmail_boundary("402rel")
_ab2, _alt2 = alt("402", "Hi Alex,\n\n[image: Lumen Ridge logo]\nRevenue chart below.\n[image: chart]\n",
                  '<div dir="ltr"><img src="cid:ii_402logo" alt="Lumen Ridge logo" width="200" height="60"><br>'
                  'Revenue chart below.<br><img src="cid:ii_402chart" alt="chart"></div>\n')
_i1, _ie1 = file_part(_img1, "image/png", "logo.png", disposition="inline", cid="ii_402logo",
                      extra=["X-Attachment-Id: ii_402logo"])
_i2, _ie2 = file_part(_img2, "image/png", None, disposition=None, cid="ii_402chart")
emit("structure", 402, "multipart-related-cid",
     "multipart/related: multipart/alternative (HTML references cid: images) + two inline images, one with "
     "inline disposition and filename, one with only a Content-ID",
     "402", D(2024, 9, 4, 11, 0, 0, -420), *MAYA, "Revenue chart", f'multipart/related; boundary="{_rb}"',
     multipart(_rb, [part([f'Content-Type: multipart/alternative; boundary="{_ab2}"'], _alt2), _i1, _i2]),
     more={"textBodyContains": ["Revenue chart below."], "htmlBodyContains": ['<img src="cid:ii_402chart"'],
           "attachments": [_ie1, _ie2]}, **KW)


# 403 / 404 forwards --------------------------------------------------------------------------------
def _inner(seed, date, frm, to, subject, ctype, body, mid):
    return message([f"From: {frm}", f"Date: {date.hdr}", f"Message-ID: <{mid}>", f"Subject: {subject}",
                    f"To: {to}", "MIME-Version: 1.0", f"Content-Type: {ctype}"], body)


_ipdf = fake_pdf("Data room index", pad=2000)
_ib = gmail_boundary("403inner")
_ip, _ie = file_part(_ipdf, "application/pdf", "data-room-index.pdf")
_inner403 = _inner("403i", D(2024, 9, 1, 8, 0, 0, 0), "Founder <founder@startup.example.com>",
                   "Maya Chen <maya.chen@lumenridge.example.com>", "Data room index",
                   f'multipart/mixed; boundary="{_ib}"',
                   multipart(_ib, [text_part("INNER-BODY-403: here is the data room index you asked for.\n"), _ip]),
                   "inner-403@startup.example.com")
_ob = gmail_boundary("403")
emit("structure", 403, "forward-rfc822",
     "Forward as attachment: multipart/mixed with a message/rfc822 part whose own multipart/mixed holds a text "
     "body and a PDF; only the PDF counts as an attachment, the inner text is not the outer body",
     "403", D(2024, 9, 5, 10, 0, 0, -420), *MAYA, "Fwd: Data room index", f'multipart/mixed; boundary="{_ob}"',
     multipart(_ob, [text_part("Alex, forwarding the founder's note below.\n"),
                     part(['Content-Type: message/rfc822; name="Data room index.eml"',
                           'Content-Disposition: attachment; filename="Data room index.eml"'], _inner403)]),
     more={"textBodyContains": ["forwarding the founder's note below."], "textBodyAbsent": ["INNER-BODY-403"],
           "htmlBody": None, "attachments": [_ie]}, **KW)

_png404 = fake_png(48, 48, "404")
_docx404 = fake_docx("Board consent")
_b2 = gmail_boundary("404l2")
_ab4, _alt4 = alt("404l2", "INNER2-BODY-404: the signed board consent is attached.\n",
                  "<p>INNER2-BODY-404: the signed board consent is attached.</p>\n")
_pp, _pe = file_part(_png404, "image/png", "signature.png")
_l2 = _inner("404l2", D(2024, 8, 30, 18, 0, 0, 60), "Counsel <counsel@lawfirm.example.net>",
             "Founder <founder@startup.example.com>", "Board consent",
             f'multipart/mixed; boundary="{_b2}"',
             multipart(_b2, [part([f'Content-Type: multipart/alternative; boundary="{_ab4}"'], _alt4), _pp]),
             "inner2-404@lawfirm.example.net")
_b1 = gmail_boundary("404l1")
_dp, _de = file_part(_docx404, DOCX, "consent-summary.docx")
_l1 = _inner("404l1", D(2024, 9, 1, 9, 0, 0, 0), "Founder <founder@startup.example.com>",
             "Maya Chen <maya.chen@lumenridge.example.com>", "Fwd: Board consent",
             f'multipart/mixed; boundary="{_b1}"',
             multipart(_b1, [text_part("INNER1-BODY-404: forwarding counsel's email.\n"),
                             part(["Content-Type: message/rfc822"], _l2), _dp]),
             "inner1-404@startup.example.com")
_b0 = gmail_boundary("404")
emit("structure", 404, "forward-rfc822-nested",
     "Two levels of message/rfc822 forwards; attachments are collected from both embedded messages in MIME order "
     "(PNG from the innermost, then the DOCX); neither inner text becomes the outer body",
     "404", D(2024, 9, 6, 10, 0, 0, -420), *MAYA, "Fwd: Fwd: Board consent", f'multipart/mixed; boundary="{_b0}"',
     multipart(_b0, [text_part("Alex, see the chain below (two forwards deep).\n"),
                     part(["Content-Type: message/rfc822", "Content-Disposition: inline"], _l1)]),
     more={"textBodyContains": ["see the chain below (two forwards deep)."],
           "textBodyAbsent": ["INNER1-BODY-404", "INNER2-BODY-404"], "htmlBody": None,
           "attachments": [_pe, _de]}, **KW)

# 405 ----------------------------------------------------------------------------------------------
_b405 = "----=_Part_405_1187654321.1725613200000"
_csv = b"company,round,amount\r\nAcme Robotics,Seed,1500000\r\nBeta Bio,Series A,8000000\r\n"
_cp, _ce = file_part(_csv, "text/csv", "pipeline.csv", ct_params='; charset="UTF-8"')
emit("structure", 405, "preamble-epilogue",
     "Preamble before the first boundary and epilogue after the closing boundary (neither is body text); "
     "JavaMail-style boundary with '=' and '.'",
     "405", D(2024, 9, 7, 10, 0, 0, 0), "Deal Flow Bot <bot@cobaltmesa.example.com>",
     addr("Deal Flow Bot", "bot@cobaltmesa.example.com"), "Weekly pipeline export",
     f'multipart/mixed; boundary="{_b405}"',
     multipart(_b405, [text_part("The weekly pipeline export is attached.\n", charset="UTF-8"), _cp],
               preamble="This is a multi-part message in MIME format. PREAMBLE-405\n",
               epilogue="EPILOGUE-405: anything after the close delimiter is ignored.\n"),
     more={"textBodyContains": ["The weekly pipeline export is attached."],
           "textBodyAbsent": ["PREAMBLE-405", "EPILOGUE-405"], "htmlBody": None, "attachments": [_ce]},
     sender_domain="cobaltmesa.example.com", from_gmail=False)

# 406 ----------------------------------------------------------------------------------------------
_pdf406 = fake_pdf("after padded delimiter", pad=500)
_body406 = (
    b"--frontier\n"
    b"Content-Type: text/plain; charset=\"UTF-8\"\n\n"
    b"Lines that merely start with the boundary string do not split the part:\n"
    b"--frontier-not-a-boundary (continues with more characters)\n"
    b"--frontierX also not a boundary\n"
    b"x--frontier in the middle of a line is plain text\n"
    b"--frontier--but-this-is-not-the-end-either\n"
    b"LAST-LINE-406 of the first part.\n"
    b"--frontier  \t\n"
    b"Content-Type: application/pdf; name=\"padded.pdf\"\n"
    b"Content-Disposition: attachment; filename=\"padded.pdf\"\n"
    b"Content-Transfer-Encoding: base64\n\n" + b64(_pdf406).encode() +
    b"--frontier--\n")
emit("structure", 406, "boundary-prefix-lines",
     "Lines inside a part that begin with --boundary but continue with other characters (incl. '--boundary--x') "
     "must not split or close; a real delimiter followed by transport padding (spaces/tab) must",
     "406", D(2024, 9, 8, 10, 0, 0, 0), *MAYA, "Boundary edge cases", 'multipart/mixed; boundary="frontier"',
     _body406,
     more={"textBodyContains": ["--frontier-not-a-boundary (continues with more characters)",
                                "--frontierX also not a boundary", "x--frontier in the middle of a line is plain text",
                                "--frontier--but-this-is-not-the-end-either", "LAST-LINE-406 of the first part."],
           "htmlBody": None, "attachments": [att(_pdf406, "application/pdf", "padded.pdf")]}, **KW)

# 407 ----------------------------------------------------------------------------------------------
_bin = bytes(range(256)) * 8
_gif = fake_gif()
_b407 = gmail_boundary("407")
emit("structure", 407, "attachment-without-filename",
     "Attachments without any file name: application/octet-stream with 'Content-Disposition: attachment' and "
     "no parameters, and a bare image/gif leaf with neither disposition nor Content-ID (non-text leaf)",
     "407", D(2024, 9, 9, 10, 0, 0, 0), *MAYA, "Unnamed files", f'multipart/mixed; boundary="{_b407}"',
     multipart(_b407, [text_part("Two unnamed files follow.\n"),
                       part(["Content-Type: application/octet-stream", "Content-Disposition: attachment",
                             "Content-Transfer-Encoding: base64"], b64(_bin)),
                       part(["Content-Type: image/gif", "Content-Transfer-Encoding: base64"], b64(_gif))]),
     more={"textBodyContains": ["Two unnamed files follow."], "htmlBody": None,
           "attachments": [att(_bin, "application/octet-stream"), att(_gif, "image/gif")]}, **KW)

# 408 ----------------------------------------------------------------------------------------------
_minutes = "Minutes of the IC meeting\nDecision: proceed to term sheet\n".encode()
_b408 = gmail_boundary("408")
_mp, _me = file_part(_minutes, "text/plain", "minutes.txt", ct_params='; charset="UTF-8"')
_hp, _he = file_part(b"<html><body><p>Exported page</p></body></html>\n", "text/html", "export.html",
                     ct_params='; charset="UTF-8"')
emit("structure", 408, "text-attachments",
     "text/plain and text/html parts that carry a filename and disposition attachment: attachments, not the body",
     "408", D(2024, 9, 10, 10, 0, 0, 0), *MAYA, "Minutes as a text file", f'multipart/mixed; boundary="{_b408}"',
     multipart(_b408, [text_part("The minutes are attached as a text file.\n"), _mp, _hp]),
     more={"textBodyContains": ["The minutes are attached as a text file."],
           "textBodyAbsent": ["Decision: proceed to term sheet"], "htmlBody": None, "attachments": [_me, _he]},
     **KW)

# 409 ----------------------------------------------------------------------------------------------
LARGE_SIZE = 10 * 1024 * 1024


def _large_pdf_block():
    head = b"%PDF-1.4\n% pseudo-PDF filler block (1 KiB) repeated to exactly 10 MiB\n"
    line = b"0 0 612 792 re f q 1 0 0 1 72 720 cm BT /F1 12 Tf (Lumen Ridge data room) Tj ET Q\n"
    block = head + line * ((1024 - len(head)) // len(line))
    block += b"%" + b"-" * (1024 - len(block) - 2) + b"\n"
    assert len(block) == 1024
    return block


_block = _large_pdf_block()
_big = _block * (LARGE_SIZE // 1024)
assert len(_big) == LARGE_SIZE
TEMPLATES[("structure", 409)] = (_block, LARGE_SIZE // 1024)
_b409 = gmail_boundary("409")
_bp, _be = file_part(_big, "application/pdf", "data-room-export.pdf", cid="f_409big",
                     extra=["X-Attachment-Id: f_409big"])
emit("structure", 409, "large-attachment-10mb",
     "A 10 MiB attachment: exactly 10,485,760 decoded bytes (1 KiB pseudo-PDF block repeated), base64 in 76-char "
     "lines (about 14 MB on disk)",
     "409", D(2024, 9, 11, 10, 0, 0, -420), *MAYA, "Full data room export", f'multipart/mixed; boundary="{_b409}"',
     multipart(_b409, [text_part("The full data room export (10 MB) is attached.\n"), _bp]),
     more={"textBodyContains": ["The full data room export (10 MB) is attached."], "htmlBody": None,
           "attachments": [_be]}, **KW)

# 410 ----------------------------------------------------------------------------------------------
DEPTH = 120


def _nest(level):
    if level > DEPTH:
        return text_part("DEEP-TEXT-410 at the bottom of 120 nested multiparts.\n")
    b = f"depth-{level:03d}"
    return part([f'Content-Type: multipart/mixed; boundary="{b}"'], multipart(b, [_nest(level + 1)]))


_deep = _nest(2)
emit("structure", 410, "deep-nesting-120",
     "120 nested multipart/mixed levels (past a depth limit of 64) with a text/plain part at the bottom; the parser "
     "must stop descending without crashing and report it",
     "410", D(2024, 9, 12, 10, 0, 0, 0), "Fuzzer <fuzz@example.net>", addr("Fuzzer", "fuzz@example.net"),
     "Deeply nested", 'multipart/mixed; boundary="depth-001"', multipart("depth-001", [_deep]),
     more={"problems": True}, defaults=False, sender_domain="example.net", from_gmail=False)

# 411 ----------------------------------------------------------------------------------------------
_html411 = """<!DOCTYPE html>
<html lang="en">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<title>Quillstone Quarterly</title>
<style type="text/css">
  body { font-family: Helvetica, Arial, sans-serif; color: #333333; }
  .header { background-color: #0b3d91; color: #ffffff; }
</style>
<script type="text/javascript">var trackingPixelId = "QS-2024-Q3"; console.log(trackingPixelId);</script>
</head>
<body>
<!-- preheader: hidden text for inbox previews -->
<h1 class="header">Quillstone Quarterly</h1>
<p>We&#8217;re excited to share our portfolio update.</p>
<p>Our R&amp;D budget grew 20% and the team met at Caf&eacute; Lumi&egrave;re.</p>
<p>Fund&nbsp;II is now fully deployed.</p>
<ul>
  <li>First close completed</li>
  <li>Two new partners joined</li>
</ul>
<ol>
  <li>Read the <a href="https://quillstone.example.com/letter?utm_source=email&amp;utm_medium=q3">full letter</a></li>
</ol>
<table border="0" cellpadding="4">
  <tr><th>Fund</th><th>Net IRR</th></tr>
  <tr><td>Fund I</td><td>24.1%</td></tr>
</table>
<p>&copy; 2024 Quillstone Capital &lt;ir@quillstone.example.com&gt;</p>
<img src="https://quillstone.example.com/open.gif?id=QS-2024-Q3" width="1" height="1" alt="">
</body>
</html>
"""
emit("structure", 411, "html-only",
     "HTML-only newsletter (single text/html part, quoted-printable): <head>, <style>, <script>, comments, lists, "
     "links, a table, entities &amp; &nbsp; &#8217; &eacute;; the text body is derived from the HTML",
     "411", D(2024, 10, 1, 15, 0, 0, -240), "Quillstone Capital <news@quillstone.example.com>",
     addr("Quillstone Capital", "news@quillstone.example.com"), "Quillstone Quarterly: Q3 2024",
     'text/html; charset="utf-8"', qp(_html411) + "\n", cte="quoted-printable",
     more={"textBodyContains": ["We’re excited to share our portfolio update.",
                                "Our R&D budget grew 20% and the team met at Café Lumière.",
                                "First close completed", "Two new partners joined", "full letter", "Fund I",
                                "24.1%", "© 2024 Quillstone Capital <ir@quillstone.example.com>"],
           "textBodyAbsent": ["font-family", "background-color", "trackingPixelId", "console.log", "preheader",
                              "<p>", "&amp;", "&#8217;", "&nbsp;", "&eacute;"],
           "htmlBodyContains": ["<p>We&#8217;re excited to share our portfolio update.</p>", "Fund&nbsp;II",
                                "<table border=\"0\" cellpadding=\"4\">", "R&amp;D"]},
     sender_domain="quillstone.example.com", from_gmail=False,
     post=["List-Unsubscribe: <mailto:unsubscribe@quillstone.example.com?subject=unsubscribe>,\n"
           " <https://quillstone.example.com/unsubscribe?u=QS-2024-Q3>",
           "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
           "Precedence: bulk"])
