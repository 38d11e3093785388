"""malformed/: broken encoded words, missing or duplicated fields, broken transfer encodings and framing."""

import base64

from .common import (D, ME, RCPT, TO_ME, addr, att, b64, emit, fake_pdf, fake_png, file_part, gmail_boundary,
                     gmail_headers, gmail_msgid, join, FIXTURES, multipart, part, register, text_part, base_expect)

PRIYA = ("Priya Raman <priya@example.org>", addr("Priya Raman", "priya@example.org"))
KW = {"sender_domain": "example.org"}
PLAIN = 'text/plain; charset="UTF-8"'


def body_only(num, slug, covers, subject, text, *, subject_e=None, more=None, frm=PRIYA, **kw):
    emit("malformed", num, slug, covers, f"{num}", D(2024, 10, num - 290, 12, 0, 0, 0), *frm, subject, PLAIN, text,
         subject_e=subject_e,
         more=dict({"textBodyContains": [text.strip().split("\n")[0]], "htmlBody": None}, **(more or {})),
         **dict(KW, **kw))


# 300-303 encoded words -----------------------------------------------------------------------------
body_only(300, "ew-bad-base64",
          "Encoded word whose base64 contains invalid characters ('*', '!') in the Subject; subject value not "
          "asserted, the parser must not crash and must report it",
          "=?UTF-8?B?U2VyaWVz*IEEg!!dXBkYXRl?=", "The subject line of this message has broken base64.\n",
          more={"problems": True})
FIXTURES[-1][5].pop("subject")  # how invalid base64 in an encoded word decodes is not specified

body_only(301, "ew-unknown-charset-name",
          "Encoded word with an unknown charset (x-unknown-foo) in the From display name; its text is ASCII",
          "Unknown charset in the sender name", "The sender name uses an unregistered charset label.\n",
          frm=("=?x-unknown-foo?Q?Lumen_Ridge_Capital?= <info@lumenridge.example.com>",
               addr("Lumen Ridge Capital", "info@lumenridge.example.com")),
          more={"problems": True})

body_only(302, "ew-missing-terminator",
          "Encoded word without the closing ?= in the Subject: not an encoded word, kept literally",
          "=?UTF-8?B?SGVsbG8gV29ybGQ", "The encoded word in the subject is never terminated.\n",
          subject_e="=?UTF-8?B?SGVsbG8gV29ybGQ", more={"problems": True})

body_only(303, "ew-inside-quoted-name",
          'Encoded word inside a quoted display name ("=?UTF-8?Q?Ren=C3=A9e_Faure?=" <...>): forbidden by RFC 2047 '
          "but written by some clients; decoded (as Gmail does) and reported",
          "Quoted encoded word", "The sender's display name is an encoded word inside quotes.\n",
          frm=('"=?UTF-8?Q?Ren=C3=A9e_Faure?=" <renee.faure@example.org>',
               addr("Renée Faure", "renee.faure@example.org")),
          more={"problems": True})

# 304 missing Content-Type -------------------------------------------------------------------------
emit("malformed", 304, "missing-content-type",
     "No Content-Type (and no Content-Transfer-Encoding): defaults to text/plain; charset=us-ascii",
     "304", D(2024, 10, 14, 12, 0, 0, 0), *PRIYA, "No content type", None,
     "A message without any Content-Type header is plain US-ASCII text.\n",
     more={"textBodyContains": ["A message without any Content-Type header is plain US-ASCII text."],
           "htmlBody": None}, **KW)

# 305 missing Message-ID ---------------------------------------------------------------------------
_d305 = D(2024, 10, 15, 12, 0, 0, 0)
_hs305 = gmail_headers("305", _d305, PRIYA[0], TO_ME, "No message id", msgid=False, content_type=PLAIN, **KW)
register("malformed", 305, "missing-message-id", "No Message-ID field at all",
         join(b"\n".join(h.encode() if isinstance(h, str) else h for h in _hs305), "\n\n",
              "This message has no Message-ID header.\n"),
         base_expect("No message id", PRIYA[1], [ME], _d305, None,
                     textBodyContains=["This message has no Message-ID header."], htmlBody=None,
                     attachments=[], attachmentCount=0, calendar=False))

# 306 two Message-ID fields ------------------------------------------------------------------------
_m1, _m2 = gmail_msgid("306a"), gmail_msgid("306b")
emit("malformed", 306, "duplicate-message-id",
     "Two Message-ID fields: the first one is used and the duplicate is reported",
     "306", D(2024, 10, 16, 12, 0, 0, 0), *PRIYA, "Two message ids", PLAIN,
     "This message carries two Message-ID header fields.\n", msgid=_m1, post=[f"Message-ID: <{_m2}>"],
     more={"textBodyContains": ["This message carries two Message-ID header fields."], "htmlBody": None,
           "problems": True}, **KW)

# 307 / 308 dates ----------------------------------------------------------------------------------
emit("malformed", 307, "garbage-date", "Unparseable Date field (\"sometime last week, probably\"): date is null",
     "307", D(2024, 10, 17, 12, 0, 0, 0), *PRIYA, "Garbage date", PLAIN, "The Date header is not a date.\n",
     date_hdr="sometime last week, probably",
     more={"textBodyContains": ["The Date header is not a date."], "htmlBody": None, "problems": True}, **KW)

emit("malformed", 308, "missing-date", "No Date field at all: date is null",
     "308", D(2024, 10, 18, 12, 0, 0, 0), *PRIYA, "Missing date", PLAIN, "This message has no Date header.\n",
     date_hdr="", more={"textBodyContains": ["This message has no Date header."], "htmlBody": None}, **KW)

# 309 missing final boundary -------------------------------------------------------------------------
_pdf309 = fake_pdf("Truncated upload", pad=1200)
_b309 = gmail_boundary("309")
_p309, _e309 = file_part(_pdf309, "application/pdf", "report.pdf")
emit("malformed", 309, "missing-final-boundary",
     "multipart/mixed whose closing --boundary-- line is missing: the message ends right after the last base64 "
     "line of the PDF, which must still be complete",
     "309", D(2024, 10, 19, 12, 0, 0, 0), *PRIYA, "Missing close delimiter", f'multipart/mixed; boundary="{_b309}"',
     multipart(_b309, [text_part("The closing boundary of this message is missing.\n"), _p309], close=False),
     more={"textBodyContains": ["The closing boundary of this message is missing."], "htmlBody": None,
           "attachments": [_e309], "problems": True}, **KW)


# 310-312 base64 damage -----------------------------------------------------------------------------
def _chunks(data, sizes):
    """Base64 of consecutive slices of `data`, each encoded (and padded) on its own, one per line."""
    out, i = [], 0
    for n in sizes:
        out.append(base64.b64encode(data[i:i + n]).decode())
        i += n
    assert i == len(data)
    return out


_png310 = fake_png(40, 30, "310")
_bin310 = bytes((i * 37 + 11) % 256 for i in range(1000))
_b310 = gmail_boundary("310")
_lines = _chunks(_png310, [57, 57, 10, 1, 2, len(_png310) - 127])  # 10, 1 and 2 bytes end in '==', '==', '='
_lines[3] += "="  # too much padding: 'xx===' instead of 'xx=='
emit("malformed", 310, "base64-bad-padding",
     "base64 with bad padding: independently padded chunks concatenated (padding in mid-stream, each '=' ends a "
     "quantum) and an over-padded quantum ('==='); the second file's final '==' padding is followed by two more '='",
     "310", D(2024, 10, 20, 12, 0, 0, 0), *PRIYA, "Bad base64 padding", f'multipart/mixed; boundary="{_b310}"',
     multipart(_b310, [
         text_part("Both attachments have irregular base64 padding.\n"),
         part(['Content-Type: image/png; name="chunked.png"', 'Content-Disposition: attachment; filename="chunked.png"',
               "Content-Transfer-Encoding: base64"], "\n".join(_lines) + "\n"),
         part(['Content-Type: application/octet-stream; name="extra-padding.bin"',
               'Content-Disposition: attachment; filename="extra-padding.bin"', "Content-Transfer-Encoding: base64"],
              b64(_bin310).rstrip("\n") + "==\n")]),
     more={"textBodyContains": ["Both attachments have irregular base64 padding."], "htmlBody": None,
           "attachments": [att(_png310, "image/png", "chunked.png"),
                           att(_bin310, "application/octet-stream", "extra-padding.bin")]}, **KW)

_pdf311 = fake_pdf("No padding", pad=301)
assert len(_pdf311) % 3 != 0
_b311 = gmail_boundary("311")
_txt311 = "The text body itself is base64 without its trailing padding too.\n".encode()
assert len(_txt311) % 3 != 0
emit("malformed", 311, "base64-missing-padding",
     "base64 with the final '=' padding stripped, in both the text/plain body and a PDF attachment",
     "311", D(2024, 10, 21, 12, 0, 0, 0), *PRIYA, "Missing base64 padding", f'multipart/mixed; boundary="{_b311}"',
     multipart(_b311, [
         part(["Content-Type: " + PLAIN, "Content-Transfer-Encoding: base64"],
              b64(_txt311).rstrip("=\n") + "\n"),
         part(['Content-Type: application/pdf; name="nopad.pdf"', 'Content-Disposition: attachment; filename="nopad.pdf"',
               "Content-Transfer-Encoding: base64"], b64(_pdf311).rstrip("=\n") + "\n")]),
     more={"textBodyContains": ["The text body itself is base64 without its trailing padding too."],
           "htmlBody": None, "attachments": [att(_pdf311, "application/pdf", "nopad.pdf")]}, **KW)


def _noisy(data):
    """Valid base64 of `data` wrecked with line noise: spaces and tabs inside lines, characters outside the
    alphabet (never '-' or '_', which base64url decoders accept), a 5,000-character line and short lines."""
    s = base64.b64encode(data).decode()
    out = [s[:60] + " " + s[60:70] + "\t" + s[70:76]]
    out.append(s[76:100] + "!" + s[100:130] + "*#" + s[130:152])
    out.append(s[152:5152])          # one very long line
    out.append(s[5152:5160])         # a very short one
    out.append("  " + s[5160:5236] + "  ")  # leading/trailing blanks
    out.append("~" + s[5236:5300] + "%.")
    rest = s[5300:]
    out += [rest[i:i + 76] for i in range(0, len(rest), 76)]
    return "\n".join(out) + "\n"


_bin312 = bytes((i * 131 + 7) % 251 for i in range(6000))
_b312 = gmail_boundary("312")
emit("malformed", 312, "base64-line-noise",
     "base64 with line noise: spaces, tabs, invalid characters (! * # ~ % .), a 5,000-character line, short lines, "
     "leading/trailing blanks; RFC 2045 says characters outside the alphabet are ignored",
     "312", D(2024, 10, 22, 12, 0, 0, 0), *PRIYA, "Noisy base64", f'multipart/mixed; boundary="{_b312}"',
     multipart(_b312, [text_part("The attachment's base64 is full of noise.\n"),
                       part(['Content-Type: application/octet-stream; name="noisy.bin"',
                             'Content-Disposition: attachment; filename="noisy.bin"',
                             "Content-Transfer-Encoding: base64"], _noisy(_bin312))]),
     more={"textBodyContains": ["The attachment's base64 is full of noise."], "htmlBody": None,
           "attachments": [att(_bin312, "application/octet-stream", "noisy.bin")], "problems": True}, **KW)


# 313-315 empty and header-only messages ------------------------------------------------------------
def _raw(num, slug, covers, tail, more=None):
    d = D(2024, 10, 23 + num - 313, 12, 0, 0, 0)
    mid = gmail_msgid(f"{num}")
    hs = gmail_headers(f"{num}", d, PRIYA[0], TO_ME, slug.replace("-", " ").capitalize(), msgid=mid,
                       content_type=PLAIN, **KW)
    data = join(b"\n".join(h.encode() if isinstance(h, str) else h for h in hs), tail)
    exp = base_expect(slug.replace("-", " ").capitalize(), PRIYA[1], [ME], d, mid, htmlBody=None, attachments=[],
                      attachmentCount=0, calendar=False)
    exp.update(more or {})
    register("malformed", num, slug, covers, data, exp)


_raw(313, "empty-body", "Headers, the blank separator line, then nothing: an empty body", "\n\n")
_raw(314, "headers-only-no-blank-line",
     "Only a header block: the last field ends with a line break but there is no blank line and no body", "\n")
_raw(315, "headers-only-no-final-newline",
     "Only a header block and the last field (Content-Type) is not even terminated by a line break", "")

# 316 NUL bytes ----------------------------------------------------------------------------------------
emit("malformed", 316, "nul-bytes-in-body",
     "NUL (0x00) bytes inside an 8bit text/plain body (forbidden by RFC 2045); text around them must survive",
     "316", D(2024, 10, 26, 12, 0, 0, 0), *PRIYA, "NUL bytes", PLAIN,
     b"Text before the first NUL\x00text after the first NUL.\n\x00\x00\x00\nText after a line of NULs.\n"
     b"Z\xc3\xbcrich\x00Gen\xc3\xa8ve\n",
     cte="8bit",
     more={"textBodyContains": ["Text before the first NUL", "text after the first NUL.", "Text after a line of NULs.",
                                "Zürich", "Genève"], "htmlBody": None}, **KW)

# 317 a 2,500+ character header line ----------------------------------------------------------------
_lps = [f"limited.partner.{i:03d}@investors.example.org" for i in range(60)]
_to317 = ", ".join(_lps)
assert len("To: " + _to317) >= 2500, len(_to317)
_track = ("X-Campaign-Data: " + "".join(f"k{i:04d}=v{i:04d};" for i in range(250)))[:2500]
emit("malformed", 317, "long-header-line",
     f"A single unfolded To line of {len('To: ' + _to317):,} characters (60 addresses) and a 2,500-character "
     "X-Campaign-Data line: far past the 998-character limit of RFC 5322",
     "317", D(2024, 10, 27, 12, 0, 0, 0), *PRIYA, "Capital call notice to all LPs", PLAIN,
     "Capital call notice: please wire by Friday.\n", to=_to317, to_e=[addr(None, a) for a in _lps],
     post=[_track],
     more={"textBodyContains": ["Capital call notice: please wire by Friday."], "htmlBody": None}, **KW)

# 318 raw ISO-8859-1 bytes in headers -------------------------------------------------------------------
emit("malformed", 318, "raw-latin1-subject",
     "Raw 8-bit ISO-8859-1 bytes (not UTF-8) in the Subject, as old mailers send; the decoded subject is not "
     "asserted (fallback charset heuristics differ), the parser must not crash",
     "318", D(2024, 10, 28, 12, 0, 0, 0), *PRIYA, "Réunion à Genève".encode("latin-1"), 'text/plain; charset="ISO-8859-1"',
     "Le compte rendu de la réunion suit.\n".encode("latin-1"), cte="8bit",
     more={"textBodyContains": ["Le compte rendu de la réunion suit."], "htmlBody": None}, **KW)
FIXTURES[-1][5].pop("subject")
