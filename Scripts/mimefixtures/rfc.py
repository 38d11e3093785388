"""rfc/: header syntax (RFC 5322 / 2047 / 6532), address lists, threading, folding, line endings."""

from .common import (D, MONTHS, RCPT, hexid, addr, b64, base_expect, ew_b, ew_q, fake_pdf, file_part, gmail_boundary,
                     gmail_headers, gmail_msgid, join, message, multipart, part, qp, register, text_part)

ME = addr("Alex Morgan", RCPT)
TO_ME = f"Alex Morgan <{RCPT}>"
PLAIN = 'text/plain; charset="UTF-8"'


def simple(num, slug, covers, seed, date, frm, frm_e, subject, subject_e, body, *, to=TO_ME, to_e=None,
           cc=None, pre=(), post=(), more=None, ct=PLAIN, cte=None, sender_domain="example.org",
           from_gmail=True, crlf=False, date_hdr=None):
    """A single text/plain message from a Gmail-like sender."""
    mid = gmail_msgid(seed)
    if cte == "quoted-printable":
        body = qp(body) + "\n"
    elif cte == "base64":
        body = b64(body.encode("utf-8") if isinstance(body, str) else body)
    hs = gmail_headers(seed, date, frm, to, subject, sender_domain=sender_domain, cc=cc, pre=pre, post=post,
                       msgid=mid, content_type=ct, cte=cte, from_gmail=from_gmail,
                       date_hdr=date_hdr)
    exp = base_expect(subject_e, frm_e, to_e if to_e is not None else [ME], date, mid)
    exp.update(more or {})
    exp.setdefault("htmlBody", None)
    exp.setdefault("attachments", [])
    exp.setdefault("attachmentCount", len(exp["attachments"]))
    exp.setdefault("calendar", False)
    register("rfc", num, slug, covers, message(hs, body), exp, crlf=crlf)


# 001 ----------------------------------------------------------------------------------------------
simple(1, "plain-ascii", "Plain 7-bit ASCII text/plain message with a full Gmail delivery header set",
       "001", D(2024, 3, 5, 9, 4, 0, -480),
       "Maya Chen <maya.chen@lumenridge.example.com>", addr("Maya Chen", "maya.chen@lumenridge.example.com"),
       "Intro call next week?", "Intro call next week?",
       "Hi Alex,\n\nThanks for sending over the deck. The team at Lumen Ridge Capital enjoyed\n"
       "reading it, especially the section on unit economics.\n\n"
       "Would you have 30 minutes next Tuesday or Wednesday for an intro call?\n\nBest,\nMaya\n\n"
       "-- \nMaya Chen | Partner | Lumen Ridge Capital\n",
       sender_domain="lumenridge.example.com",
       more={"textBodyContains": ["Thanks for sending over the deck.",
                                  "Would you have 30 minutes next Tuesday or Wednesday for an intro call?",
                                  "Maya Chen | Partner | Lumen Ridge Capital"]})

# 002 ----------------------------------------------------------------------------------------------
simple(2, "utf8-raw-headers",
       "RFC 6532 raw 8-bit UTF-8 in Subject and the From display name (no encoded words); 8bit UTF-8 body",
       "002", D(2024, 2, 14, 16, 45, 12, 60),
       "Zoë Ångström <zoe@fjordpeak.example.org>", addr("Zoë Ångström", "zoe@fjordpeak.example.org"),
       "Grüße aus Zürich — Série A ✅ 日本語", "Grüße aus Zürich — Série A ✅ 日本語",
       "Hej Alex,\n\nGrüße aus Zürich! Fjordpeak Ventures würde gerne an der Série A teilnehmen.\n"
       "Prochaine étape : la due diligence. 日本語のメモも添付します。\n\nZoë\n",
       sender_domain="fjordpeak.example.org", from_gmail=False, cte="8bit",
       more={"textBodyContains": ["Grüße aus Zürich!", "Prochaine étape : la due diligence.",
                                  "日本語のメモも添付します。"]})

# 003 ----------------------------------------------------------------------------------------------
simple(3, "rfc2047-base64-words",
       "RFC 2047 B-encoded Subject (folded into two encoded words) and B-encoded display names in From, To and Cc",
       "003", D(2024, 1, 22, 11, 30, 0, 60),
       ew_b("Émilie Durand") + " <emilie.durand@harborlight.example.net>",
       addr("Émilie Durand", "emilie.durand@harborlight.example.net"),
       ew_b("Série A – proposition de ") + "\n " + ew_b("term sheet révisée"),
       "Série A – proposition de term sheet révisée",
       "Bonjour Alex,\n\nVous trouverez ci-dessous les points principaux de la term sheet.\n\nÉmilie\n",
       to=ew_b("Alex Morgan-Łukasik") + f" <{RCPT}>", to_e=[addr("Alex Morgan-Łukasik", RCPT)],
       cc=ew_b("Søren Holm") + " <soren@harborlight.example.net>",
       ct=PLAIN, cte="8bit", sender_domain="harborlight.example.net",
       more={"cc": [addr("Søren Holm", "soren@harborlight.example.net")],
             "textBodyContains": ["les points principaux de la term sheet"]})

# 004 ----------------------------------------------------------------------------------------------
simple(4, "rfc2047-q-words",
       "RFC 2047 Q encoding: ISO-8859-1 Subject with underscores and =XX, lowercase ?q?, UTF-8 display names, "
       "encoded word followed by plain text",
       "004", D(2024, 4, 2, 8, 15, 30, 120),
       ew_q("François Lévesque") + " <francois@harborlight.example.org>",
       addr("François Lévesque", "francois@harborlight.example.org"),
       "Re: " + ew_q("Réunion du comité d'investissement", "ISO-8859-1") + " (ordre du jour)",
       "Re: Réunion du comité d'investissement (ordre du jour)",
       "Alex,\n\nL'ordre du jour est confirmé pour jeudi.\n\nFrançois\n",
       to=f"=?iso-8859-1?q?J=F6rg_M=FCller?= <joerg@example.net>, {TO_ME}",
       to_e=[addr("Jörg Müller", "joerg@example.net"), ME],
       ct='text/plain; charset="UTF-8"', cte="quoted-printable", sender_domain="harborlight.example.org",
       more={"textBodyContains": ["L'ordre du jour est confirmé pour jeudi."]})

# 005 ----------------------------------------------------------------------------------------------
simple(5, "adjacent-encoded-words",
       "Adjacent encoded words: whitespace (including a fold) between them is dropped; whitespace between an "
       "encoded word and plain text is kept",
       "005", D(2024, 3, 18, 14, 2, 9, -240),
       "=?UTF-8?Q?Ana?= =?UTF-8?Q?_Sousa?= <ana.sousa@cobaltmesa.example.com>",
       addr("Ana Sousa", "ana.sousa@cobaltmesa.example.com"),
       "=?UTF-8?Q?Term_sheet_?= =?UTF-8?Q?=E2=80=94_final?=\n =?UTF-8?B?IHZlcnNpb24=?=",
       "Term sheet — final version",
       "Alex,\n\nAttached below is the final version of the term sheet text.\n\nAna\n",
       cc="=?UTF-8?Q?Jos=C3=A9?= Ortega <jose.ortega@cobaltmesa.example.com>",
       sender_domain="cobaltmesa.example.com",
       more={"cc": [addr("José Ortega", "jose.ortega@cobaltmesa.example.com")],
             "textBodyContains": ["the final version of the term sheet text"]})

# 006 ----------------------------------------------------------------------------------------------
simple(6, "mixed-charset-encoded-words",
       "Mixed charsets in one header: a UTF-8 encoded word next to an ISO-8859-1 one (Subject), and "
       "ISO-8859-1 + UTF-8 words in a display name",
       "006", D(2024, 5, 6, 10, 0, 0, 120),
       "=?ISO-8859-1?Q?Ren=E9e?= =?UTF-8?Q?_Nov=C3=A1kov=C3=A1?= <renee@quillstone.example.net>",
       addr("Renée Nováková", "renee@quillstone.example.net"),
       "=?UTF-8?Q?Gr=C3=BC=C3=9Fe_aus_?= =?ISO-8859-1?Q?M=FCnchen?=",
       "Grüße aus München",
       "Hallo Alex,\n\nviele Grüße von der Quillstone Capital Konferenz.\n\nRenée\n",
       cte="8bit", sender_domain="quillstone.example.net",
       more={"textBodyContains": ["viele Grüße von der Quillstone Capital Konferenz."]})

# 007 ----------------------------------------------------------------------------------------------
_jp = "日本語の投資メモ".encode("utf-8")
simple(7, "split-multibyte-encoded-words",
       "A multi-byte UTF-8 character split across two encoded words (B in Subject, Q in the From name); "
       "decoders must join the bytes before converting",
       "007", D(2024, 6, 11, 18, 20, 0, 540),
       "=?UTF-8?Q?Ji=C5?= =?UTF-8?Q?=99=C3=AD_Novotn=C3=BD?= <jiri@example.net>",
       addr("Jiří Novotný", "jiri@example.net"),
       ew_b(_jp[:4]) + " " + ew_b(_jp[4:]), "日本語の投資メモ",
       "Alex,\n\nPlease see the investment memo summary below.\n\nJiri\n",
       sender_domain="example.net",
       more={"textBodyContains": ["Please see the investment memo summary below."]})

# 008 ----------------------------------------------------------------------------------------------
simple(8, "address-lists",
       "Address syntax: quoted name with comma and escaped quotes, group with members, comment as name, bare "
       "address, obsolete route, multiple Reply-To, Sender, Cc, Bcc, Delivered-To",
       "008", D(2024, 2, 29, 23, 59, 59, -300),
       '"Doe, John \\"JD\\"" <jd@quillstone.example.com>', addr('Doe, John "JD"', "jd@quillstone.example.com"),
       "Board deck distribution list", "Board deck distribution list",
       "All,\n\nThe board deck goes out Friday. Reply to the deals desk with comments.\n\nJD\n",
       to="Team: a@example.com, b@example.com;, john@example.com (John Doe), bare@example.net,\n"
          " <@relay.example:mary@example.net>",
       to_e=[addr(None, "a@example.com"), addr(None, "b@example.com"), addr("John Doe", "john@example.com"),
             addr(None, "bare@example.net"), addr(None, "mary@example.net")],
       cc="\"O'Brien, Pat\" <pat@example.org>, =?UTF-8?Q?Ren=C3=A9e_Faure?= <renee.faure@example.org>",
       post=["Bcc: Alex Morgan <alex.morgan@example.com>, audit@quillstone.example.com",
             "Reply-To: deals@quillstone.example.com, \"Quillstone Deals Desk\" <desk@quillstone.example.com>",
             "Sender: Executive Assistant <assistant@quillstone.example.com>"],
       sender_domain="quillstone.example.com",
       more={"cc": [addr("O'Brien, Pat", "pat@example.org"), addr("Renée Faure", "renee.faure@example.org")],
             "bcc": [ME, addr(None, "audit@quillstone.example.com")],
             "replyTo": [addr(None, "deals@quillstone.example.com"),
                         addr("Quillstone Deals Desk", "desk@quillstone.example.com")],
             "textBodyContains": ["The board deck goes out Friday."]})

# 009 ----------------------------------------------------------------------------------------------
simple(9, "groups-undisclosed",
       'Empty group "Undisclosed recipients:;" in To (no addresses) and a named group with display-named '
       "members in Cc",
       "009", D(2024, 1, 8, 7, 5, 0, 0),
       "Harborlight Partners <ir@harborlight.example.com>", addr("Harborlight Partners", "ir@harborlight.example.com"),
       "Q4 LP letter", "Q4 LP letter",
       "Dear Limited Partners,\n\nPlease find the fourth quarter letter summary below.\n\nHarborlight Partners IR\n",
       to="Undisclosed recipients:;", to_e=[],
       cc='Board: Ann Lee <ann@example.org>, "Park, Ben" <ben@example.org>;',
       sender_domain="harborlight.example.com",
       more={"cc": [addr("Ann Lee", "ann@example.org"), addr("Park, Ben", "ben@example.org")],
             "textBodyContains": ["Please find the fourth quarter letter summary below."]})

# 010 ----------------------------------------------------------------------------------------------
_r1, _r2, _r3 = gmail_msgid("010a"), gmail_msgid("010b"), gmail_msgid("010c")
simple(10, "reply-threading",
       "A reply: In-Reply-To and References (three ids, folded), Re: subject, quoted text",
       "010", D(2024, 3, 7, 13, 12, 44, -480),
       "Maya Chen <maya.chen@lumenridge.example.com>", addr("Maya Chen", "maya.chen@lumenridge.example.com"),
       "Re: Intro call next week?", "Re: Intro call next week?",
       "Tuesday at 10am works. I'll send an invite.\n\nMaya\n\n"
       "On Wed, Mar 6, 2024 at 4:40 PM Alex Morgan <alex.morgan@example.com> wrote:\n"
       "> Happy to. Does Tuesday morning work for you?\n>\n",
       pre=[f"References: <{_r1}>\n <{_r2}>\n <{_r3}>", f"In-Reply-To: <{_r3}>"],
       sender_domain="lumenridge.example.com",
       more={"inReplyTo": _r3, "references": [_r1, _r2, _r3],
             "textBodyContains": ["Tuesday at 10am works.", "Does Tuesday morning work for you?"]})

# 011 ----------------------------------------------------------------------------------------------
_refs = []
for _i in range(64):
    if _i % 3 == 0:
        _refs.append(gmail_msgid(f"011-{_i}"))
    elif _i % 3 == 1:
        _refs.append(f"DM6PR{1000 + _i * 7}MB{_i:04d}{hexid('o' + str(_i), 12).upper()}@DM6PR{1000 + _i * 7}"
                     f"MB{_i:04d}.namprd{_i % 20:02d}.prod.outlook.com")
    else:
        _refs.append(f"{hexid('u' + str(_i), 8)}-{hexid('v' + str(_i), 4)}-4{hexid('w' + str(_i), 3)}-"
                     f"a{hexid('x' + str(_i), 3)}-{hexid('y' + str(_i), 12)}@cobaltmesa.example.com")
simple(11, "long-references",
       "References with 64 message ids (Gmail, Outlook and UUID styles) folded one per line; In-Reply-To is the last",
       "011", D(2024, 7, 1, 9, 0, 0, -420),
       "Ana Sousa <ana.sousa@cobaltmesa.example.com>", addr("Ana Sousa", "ana.sousa@cobaltmesa.example.com"),
       "Re: Re: Re: Portfolio sync (long thread)", "Re: Re: Re: Portfolio sync (long thread)",
       "Adding one more note to this very long thread.\n\nAna\n",
       pre=["References: " + "\n ".join(f"<{r}>" for r in _refs), f"In-Reply-To: <{_refs[-1]}>"],
       sender_domain="cobaltmesa.example.com",
       more={"inReplyTo": _refs[-1], "references": _refs,
             "textBodyContains": ["Adding one more note to this very long thread."]})

# 012 ----------------------------------------------------------------------------------------------
simple(12, "folded-headers",
       "Folded headers: Subject over 3 lines (space continuation, then tab continuation); To folded with a tab",
       "012", D(2024, 4, 19, 17, 33, 0, 60),
       "Ingrid Berg <ingrid@fjordpeak.example.org>", addr("Ingrid Berg", "ingrid@fjordpeak.example.org"),
       "Re: Follow-up on the Series B data room access and the\n updated cap table for the Fjordpeak"
       " Ventures\n\tinvestment committee",
       "Re: Follow-up on the Series B data room access and the updated cap table for the Fjordpeak Ventures "
       "investment committee",
       "Alex,\n\nThe data room invite has been resent.\n\nIngrid\n",
       to=f"{TO_ME},\n\tPriya Raman <priya@example.org>", to_e=[ME, addr("Priya Raman", "priya@example.org")],
       sender_domain="fjordpeak.example.org",
       more={"textBodyContains": ["The data room invite has been resent."]})

# 013 / 014 / 015 line endings ------------------------------------------------------------------
def _alt_message(num, slug, covers, seed, crlf):
    date = D(2024, 5, 14, 15, 20, 0, -240)
    b = gmail_boundary(seed)
    mid = gmail_msgid(seed)
    pdf = fake_pdf("Lumen Ridge - Pipeline Review", pages=2, pad=3000)
    fpart, fexp = file_part(pdf, "application/pdf", "pipeline-review.pdf", cid=f"f_{seed}lt9x3k", 
                            extra=[f"X-Attachment-Id: f_{seed}lt9x3k"])
    alt_b = gmail_boundary(seed + "alt")
    alt = multipart(alt_b, [
        text_part("Hi Alex,\n\nThe pipeline review is attached.\n\nMaya\n"),
        text_part("<div dir=\"ltr\">Hi Alex,<div><br></div><div>The pipeline review is attached.</div>"
                  "<div><br></div><div>Maya</div></div>\n", subtype="html"),
    ])
    body = multipart(b, [part([f'Content-Type: multipart/alternative; boundary="{alt_b}"'], alt), fpart])
    hs = gmail_headers(seed, date, "Maya Chen <maya.chen@lumenridge.example.com>", TO_ME,
                       "Pipeline review (" + ("CRLF" if crlf else "LF") + ")",
                       sender_domain="lumenridge.example.com", msgid=mid,
                       content_type=f'multipart/mixed; boundary="{b}"')
    exp = base_expect("Pipeline review (" + ("CRLF" if crlf else "LF") + ")",
                      addr("Maya Chen", "maya.chen@lumenridge.example.com"), [ME], date, mid,
                      textBodyContains=["The pipeline review is attached."],
                      htmlBodyContains=["<div>The pipeline review is attached.</div>"],
                      attachments=[fexp], attachmentCount=1, calendar=False)
    register("rfc", num, slug, covers, message(hs, body), exp, crlf=crlf)


_alt_message(13, "lf-line-endings", "Every line ends in bare LF (as on Unix mbox / Maildir): multipart/mixed > "
             "multipart/alternative + PDF attachment", "013", crlf=False)
_alt_message(14, "crlf-line-endings", "Every line ends in CRLF (wire format, Gmail raw): the same structure as 013",
             "014", crlf=True)

simple(15, "crlf-quoted-printable",
       "CRLF message whose quoted-printable body has soft line breaks (=CRLF) and UTF-8 =XX escapes",
       "015", D(2024, 5, 15, 8, 0, 0, 0),
       "Priya Raman <priya@example.org>", addr("Priya Raman", "priya@example.org"),
       "Notes from the partner meeting", "Notes from the partner meeting",
       "Notes: the partners agreed to lead the round at a pre-money valuation of €48M, with a 15% option pool "
       "refreshed before closing, and a one-week exclusivity window.\n\nNext: café meeting with the founders.\n",
       cte="quoted-printable", crlf=True,
       more={"textBodyContains": ["the partners agreed to lead the round at a pre-money valuation of €48M, with a "
                                  "15% option pool refreshed before closing, and a one-week exclusivity window.",
                                  "Next: café meeting with the founders."]})


# 016-025 dates -----------------------------------------------------------------------------------
def _named_zone(y, mo, d, h, mi, s, off, zone, weekday=True, seconds=True, yy=False):
    x = D(y, mo, d, h, mi, s, off)
    wd = x.hdr.split(",")[0] + ", " if weekday else ""
    yr = f"{y % 100:02d}" if yy else str(y)
    t = f"{h:02d}:{mi:02d}" + (f":{s:02d}" if seconds else "")
    return x, f"{wd}{d} {MONTHS[mo - 1]} {yr} {t} {zone}"


_dates = [
    (16, "date-two-digit-year-est", "Obsolete date: two-digit year and named zone EST (\"Mon, 1 Jan 01 10:00:00 EST\")",
     _named_zone(2001, 1, 1, 10, 0, 0, -300, "EST", yy=True)),
    (17, "date-two-digit-year-1999", "Obsolete date: two-digit year >= 50 means 19xx (\"99\" is 1999)",
     _named_zone(1999, 12, 31, 23, 59, 59, 0, "+0000", yy=True)),
    (18, "date-zone-pdt", "Named zone PDT (-0700)", _named_zone(2024, 7, 12, 8, 30, 0, -420, "PDT")),
    (19, "date-zone-gmt", "Named zone GMT", _named_zone(2024, 1, 17, 12, 0, 0, 0, "GMT")),
    (20, "date-zone-ut", "Named zone UT", _named_zone(2024, 1, 18, 6, 45, 10, 0, "UT")),
    (21, "date-zone-z", "Military zone Z (= UT)", _named_zone(2024, 1, 19, 22, 10, 0, 0, "Z")),
    (22, "date-no-seconds", "Time without seconds (\"09:04 -0800\")",
     _named_zone(2024, 3, 5, 9, 4, 0, -480, "-0800", seconds=False)),
    (23, "date-no-weekday", "Date without the optional day-of-week, half-hour zone +0530",
     _named_zone(2024, 3, 5, 9, 4, 0, 330, "+0530", weekday=False)),
    (24, "date-zone-comment", "Numeric zone followed by a comment \"(PST)\"",
     _named_zone(2024, 2, 5, 9, 4, 0, -480, "-0800 (PST)")),
    (25, "date-minus-zero", "Zone -0000 (UTC, local zone unknown)",
     _named_zone(2024, 3, 10, 2, 30, 0, 0, "-0000")),
]
for _num, _slug, _cov, (_d, _txt) in _dates:
    simple(_num, _slug, _cov + f'; Date: {_txt}', f"{_num:03d}", _d,
           "Cobalt Mesa Ventures <noreply@cobaltmesa.example.com>",
           addr("Cobalt Mesa Ventures", "noreply@cobaltmesa.example.com"),
           f"Weekly digest #{_num}", f"Weekly digest #{_num}",
           f"Your weekly digest number {_num} from Cobalt Mesa Ventures.\n",
           sender_domain="cobaltmesa.example.com", date_hdr=_txt,
           more={"textBodyContains": [f"Your weekly digest number {_num} from Cobalt Mesa Ventures."]})
