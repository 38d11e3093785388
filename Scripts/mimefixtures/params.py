"""rfc/ (continued): MIME parameters (RFC 2231 and RFC 2047 file names), quoted-printable, dispositions."""

import base64

from .common import (D, RCPT, XLSX, DOCX, addr, att, b64, base_expect, fake_docx, fake_pdf, fake_png, fake_zip,
                     file_part, gmail_boundary, gmail_headers, gmail_msgid, message, multipart, outlook_boundary,
                     outlook_fields, outlook_msgid, part, register, text_part)

ME = addr("Alex Morgan", RCPT)
TO_ME = f"Alex Morgan <{RCPT}>"


def mixed(num, slug, covers, seed, date, frm, frm_e, subject, text, parts, atts, *, post=(), msgid=None,
          from_gmail=True, sender_domain="example.org", more=None, text_part_bytes=None, subject_e=None):
    """multipart/mixed: a text/plain body, then `parts` (bytes); `atts` their expect entries."""
    b = gmail_boundary(seed)
    mid = msgid or gmail_msgid(seed)
    body = multipart(b, [text_part_bytes or text_part(text)] + list(parts))
    hs = gmail_headers(seed, date, frm, TO_ME, subject, sender_domain=sender_domain, msgid=mid, post=post,
                       content_type=f'multipart/mixed; boundary="{b}"', from_gmail=from_gmail)
    exp = base_expect(subject if subject_e is None else subject_e, frm_e, [ME], date, mid, attachments=atts, attachmentCount=len(atts),
                      calendar=False, htmlBody=None)
    exp.update(more or {})
    register("rfc", num, slug, covers, message(hs, body), exp)


# 026 ----------------------------------------------------------------------------------------------
_pdf26 = fake_pdf("Uebersicht Q1 Beteiligungen", pages=1, pad=1500)
_name26 = "Übersicht Q1 – Beteiligungen.pdf"
mixed(26, "rfc2231-utf8-filename",
      "RFC 2231 extended file name filename*=UTF-8''%C3%9C... (percent-encoded UTF-8, no name= fallback)",
      "026", D(2024, 4, 3, 9, 12, 0, 120),
      "Ingrid Berg <ingrid@fjordpeak.example.org>", addr("Ingrid Berg", "ingrid@fjordpeak.example.org"),
      "=?UTF-8?Q?Q1_=C3=9Cbersicht?=", "Hallo Alex,\n\nanbei die Übersicht für Q1.\n\nIngrid\n",
      [part(["Content-Type: application/pdf",
             "Content-Disposition: attachment;\n filename*=UTF-8''%C3%9Cbersicht%20Q1%20%E2%80%93%20Beteiligungen.pdf",
             "Content-Transfer-Encoding: base64"], b64(_pdf26))],
      [att(_pdf26, "application/pdf", _name26)], subject_e="Q1 Übersicht", sender_domain="fjordpeak.example.org",
      more={"textBodyContains": ["anbei die Übersicht für Q1."]})

# 027 ----------------------------------------------------------------------------------------------
_docx27 = fake_docx("Geschaeftsbericht 2023")
_name27 = "Geschäftsbericht 2023 – Fjordpeak Ventures Fund II (final).docx"
_pdf27 = fake_pdf("Anlage", pad=800)
_name27b = "Anlage – Kapitalabruf.pdf"
mixed(27, "rfc2231-continuations",
      "RFC 2231 parameter continuations: name*0*/name*1* and filename*0*/filename*1*/filename*2 (mixing encoded "
      "and quoted plain segments); second file splits a UTF-8 sequence (%E2%80 | %93) across segments",
      "027", D(2024, 4, 4, 10, 0, 0, 120),
      "Ingrid Berg <ingrid@fjordpeak.example.org>", addr("Ingrid Berg", "ingrid@fjordpeak.example.org"),
      "Annual report 2023", "Alex,\n\nthe annual report and the capital call notice are attached.\n",
      [part([f"Content-Type: {DOCX};\n"
             " name*0*=UTF-8''Gesch%C3%A4ftsbericht%202023%20%E2%80%93%20Fjordpeak%20Ven;\n"
             " name*1*=tures%20Fund%20II%20%28final%29.docx",
             "Content-Disposition: attachment;\n"
             " filename*0*=UTF-8''Gesch%C3%A4ftsbericht%202023%20%E2%80%93%20Fjordpeak%20Ven;\n"
             " filename*1*=tures%20Fund%20II%20;\n"
             ' filename*2="(final).docx"',
             "Content-Transfer-Encoding: base64"], b64(_docx27)),
       part(["Content-Type: application/pdf",
             "Content-Disposition: attachment;\n"
             " filename*0*=utf-8''Anlage%20%E2%80;\n"
             " filename*1*=%93%20Kapitalabruf.pdf",
             "Content-Transfer-Encoding: base64"], b64(_pdf27))],
      [att(_docx27, DOCX, _name27), att(_pdf27, "application/pdf", _name27b)],
      sender_domain="fjordpeak.example.org",
      more={"textBodyContains": ["the annual report and the capital call notice are attached."]})

# 028 ----------------------------------------------------------------------------------------------
_pdf28 = fake_pdf("Resume executif", pad=600)
_txt28 = "Sommaire exécutif – Quillstone Capital\r\nVersion 2\r\n".encode("utf-8")
mixed(28, "rfc2231-language-tag",
      "RFC 2231 with a language tag: filename*=iso-8859-1'fr'... and a continued filename*0*=UTF-8'en-us'...",
      "028", D(2024, 4, 8, 16, 0, 0, 120),
      "=?ISO-8859-1?Q?Ang=E8le_Roux?= <angele@quillstone.example.net>",
      addr("Angèle Roux", "angele@quillstone.example.net"),
      "Executive summary", "Alex,\n\nhere are the French and English summaries.\n",
      [part(["Content-Type: application/pdf",
             "Content-Disposition: attachment; filename*=iso-8859-1'fr'r%E9sum%E9%20ex%E9cutif.pdf",
             "Content-Transfer-Encoding: base64"], b64(_pdf28)),
       part(['Content-Type: text/plain; charset="UTF-8"',
             "Content-Disposition: attachment;\n filename*0*=UTF-8'en-us'Executive%20summary%20%E2%80%94;\n"
             " filename*1*=%20Quillstone.txt",
             "Content-Transfer-Encoding: base64"], b64(_txt28))],
      [att(_pdf28, "application/pdf", "résumé exécutif.pdf"),
       att(_txt28, "text/plain", "Executive summary — Quillstone.txt")],
      sender_domain="quillstone.example.net",
      more={"textBodyContains": ["here are the French and English summaries."]})

# 029 ----------------------------------------------------------------------------------------------
_pdf29 = fake_pdf("Praesentation Beirat", pages=3, pad=2500)
_n29a = "Präsentation Beirat – März 2024.pdf"
_xlsx29 = fake_zip([("[Content_Types].xml", "<Types/>"), ("xl/workbook.xml", "<workbook/>"),
                    ("xl/worksheets/sheet1.xml", "<worksheet><sheetData/></worksheet>")])
_n29b = "Финансовая модель Series A v3 (итог).xlsx"
_w29a, _w29b = _n29b[:17].encode("utf-8"), _n29b[17:].encode("utf-8")  # Outlook splits on characters
_ew29 = f"=?utf-8?B?{base64.b64encode(_w29a).decode()}?=\n =?utf-8?B?{base64.b64encode(_w29b).decode()}?="
_ewa = "=?utf-8?B?" + base64.b64encode(_n29a.encode()).decode() + "?="
_ol_b = outlook_boundary("029")
_ol_mid = outlook_msgid("029")
_date29 = D(2024, 3, 12, 11, 47, 3, 60)
_text29 = ("Hi Alex,\n\nPlease find attached the advisory board presentation and the financial model.\n\n"
           "Kind regards,\nKlaus\n")
_body29 = multipart(_ol_b, [
    text_part(_text29, charset="utf-8", cte="quoted-printable"),
    part(["Content-Type: application/pdf;\n\tname=\"" + _ewa + "\"",
          "Content-Description: " + _ewa,
          "Content-Disposition: attachment;\n\tfilename=\"" + _ewa + "\";\n\tsize=%d;\n"
          "\tcreation-date=\"Tue, 12 Mar 2024 10:45:58 GMT\";\n"
          "\tmodification-date=\"Tue, 12 Mar 2024 10:47:03 GMT\"" % len(_pdf29),
          "Content-Transfer-Encoding: base64"], b64(_pdf29)),
    part([f"Content-Type: {XLSX};\n\tname=\"" + _ew29 + "\"",
          "Content-Description: " + _ew29,
          "Content-Disposition: attachment;\n\tfilename=\"" + _ew29 + "\";\n\tsize=%d;\n"
          "\tcreation-date=\"Tue, 12 Mar 2024 10:46:12 GMT\";\n"
          "\tmodification-date=\"Tue, 12 Mar 2024 10:47:03 GMT\"" % len(_xlsx29),
          "Content-Transfer-Encoding: base64"], b64(_xlsx29)),
])
_hs29 = gmail_headers("029", _date29, "Klaus Weber <klaus.weber@harborlight.example.com>", TO_ME,
                      "Beiratssitzung Unterlagen", sender_domain="harborlight.example.com", msgid=_ol_mid,
                      from_gmail=False,
                      post=outlook_fields("029", "Beiratssitzung Unterlagen", True),
                      content_type=f'multipart/mixed;\n\tboundary="{_ol_b}"')
register("rfc", 29, "rfc2047-filename-outlook",
         "Outlook-style RFC 2047 encoded words inside quoted name=/filename= parameters (one name folded into two "
         "encoded words), Content-Description, size/creation-date/modification-date disposition parameters",
         message(_hs29, _body29),
         base_expect("Beiratssitzung Unterlagen", addr("Klaus Weber", "klaus.weber@harborlight.example.com"), [ME],
                     _date29, _ol_mid, textBodyContains=["Please find attached the advisory board presentation"],
                     htmlBody=None,
                     attachments=[att(_pdf29, "application/pdf", _n29a), att(_xlsx29, XLSX, _n29b)],
                     attachmentCount=2, calendar=False))

# 030 ----------------------------------------------------------------------------------------------
_qp_plain = """Hi Alex,=20

The valuation cap is $12M =3D 12,000,000 USD. Caf=C3=A9 meeting at 9 on Thu=
rsday, the founder=E2=80=99s deck is in the data room.

Soft-broken multibyte: Caf=C3=
=A9 and the em dash =E2=80=
=94 should come out whole.
=E6=97=A5=E6=9C=AC=E8=AA=9E=E3=81=AE=E3=83=A1=E3=83=A2 (Japanese).
This sentence is deliberately long so that the encoder had to wrap it with=
 several soft line breaks, and a decoder must join the pieces back togethe=
r without adding any spaces or newlines in between.
Tab	inside and trailing tab=09
"""
_qp_html = """<div dir=3D"ltr"><p style=3D"margin:0 0 1em 0">Caf=C3=A9 &amp; croissants a=
t 9</p><p><a href=3D"https://lumenridge.ex=
ample.com/memo?id=3D42&amp;v=3D2">memo</a></p></div>
"""
_b30 = gmail_boundary("030")
_d30 = D(2024, 6, 3, 7, 58, 0, -420)
_mid30 = gmail_msgid("030")
_hs30 = gmail_headers("030", _d30, "Maya Chen <maya.chen@lumenridge.example.com>", TO_ME, "Thursday coffee",
                      sender_domain="lumenridge.example.com", msgid=_mid30,
                      content_type=f'multipart/alternative; boundary="{_b30}"')
_body30 = multipart(_b30, [
    part(['Content-Type: text/plain; charset="UTF-8"', "Content-Transfer-Encoding: quoted-printable"], _qp_plain),
    part(['Content-Type: text/html; charset="UTF-8"', "Content-Transfer-Encoding: quoted-printable"], _qp_html),
])
register("rfc", 30, "quoted-printable-soft-breaks",
         "Quoted-printable: soft line breaks (mid-word and mid-URL), =3D, =20/=09 trailing whitespace, UTF-8 "
         "multi-byte escapes including sequences split across a soft line break",
         message(_hs30, _body30),
         base_expect("Thursday coffee", addr("Maya Chen", "maya.chen@lumenridge.example.com"), [ME], _d30, _mid30,
                     textBodyContains=["The valuation cap is $12M = 12,000,000 USD.",
                                       "Café meeting at 9 on Thursday, the founder’s deck is in the data room.",
                                       "Soft-broken multibyte: Café and the em dash — should come out whole.",
                                       "日本語のメモ (Japanese).",
                                       "had to wrap it with several soft line breaks, and a decoder must join the "
                                       "pieces back together without adding any spaces or newlines in between.",
                                       "Tab\tinside and trailing tab\t"],
                     htmlBodyContains=["Café &amp; croissants at 9</p>",
                                       '<a href="https://lumenridge.example.com/memo?id=42&amp;v=2">memo</a>'],
                     attachments=[], attachmentCount=0, calendar=False))

# 031 ----------------------------------------------------------------------------------------------
_png31a = fake_png(64, 40, "chart31")
_png31b = fake_png(32, 32, "logo31")
_png31c = fake_png(16, 16, "sig31")
_txt31 = b"Meeting notes\nAction items: send the LPA draft\n"
_p31a, _e31a = file_part(_png31a, "image/png", "chart.png", disposition="inline", cid="chart31@lumenridge.example.com")
_p31b, _e31b = file_part(_png31b, "image/png", "logo.png", disposition="attachment")
_p31c, _e31c = file_part(_png31c, "image/png", None, disposition=None, cid="sig31@lumenridge.example.com")
_p31d, _e31d = file_part(_txt31, "text/plain", "notes.txt", disposition="inline", ct_params='; charset="UTF-8"')
mixed(31, "disposition-inline-vs-attachment",
      "Content-Disposition variants: inline image with filename, attachment image, no disposition but a "
      "Content-ID (inline, no filename), and a text/plain part with a filename and inline disposition "
      "(an attachment, not body text)",
      "031", D(2024, 6, 4, 12, 0, 0, -420),
      "Maya Chen <maya.chen@lumenridge.example.com>", addr("Maya Chen", "maya.chen@lumenridge.example.com"),
      "Chart and notes", "Alex,\n\nchart inline, logo attached, notes as a text file.\n",
      [_p31a, _p31b, _p31c, _p31d], [_e31a, _e31b, _e31c, _e31d], sender_domain="lumenridge.example.com",
      more={"textBodyContains": ["chart inline, logo attached, notes as a text file."],
            "textBodyAbsent": ["Action items: send the LPA draft"]})
