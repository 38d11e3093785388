"""rfc/: header syntax (RFC 5322 / 2047 / 6532), address lists, threading, folding, line endings."""

from .common import *  # noqa: F401,F403
from .common import (D, RCPT, addr, b64, base_expect, ew_b, ew_q, fake_pdf, file_part, gmail_boundary,
                     gmail_headers, gmail_msgid, join, message, multipart, qp, register, text_part)

ME = addr("Alex Morgan", RCPT)
TO_ME = f"Alex Morgan <{RCPT}>"
PLAIN = 'text/plain; charset="UTF-8"'


def simple(num, slug, covers, seed, date, frm, frm_e, subject, subject_e, body, *, to=TO_ME, to_e=None,
           cc=None, pre=(), post=(), more=None, ct=PLAIN, cte=None, sender_domain="example.org",
           from_gmail=True, crlf=False):
    """A single text/plain message from a Gmail-like sender."""
    mid = gmail_msgid(seed)
    if cte == "quoted-printable":
        body = qp(body) + "\n"
    elif cte == "base64":
        body = b64(body.encode("utf-8") if isinstance(body, str) else body)
    hs = gmail_headers(seed, date, frm, to, subject, sender_domain=sender_domain, cc=cc, pre=pre, post=post,
                       msgid=mid, content_type=ct, cte=cte, from_gmail=from_gmail)
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
