#!/usr/bin/env python3
"""Deterministic generator of a Gmail-like .eml corpus for MIME parsing benchmarks.

Usage:
    python3 Scripts/make_bench_corpus.py OUTDIR [--messages 5000] [--seed 1]
        [--shape attachments|gmail-small|newsletter|mixed|mixed-attach] [--large-pct PCT]
        [--attach-pct PCT]

Writes OUTDIR/000001.eml ... OUTDIR/NNNNNN.eml (CRLF line endings, like Gmail's
"raw" / RFC822 format) and prints the total number of messages and bytes, and
the median/mean/max message size.

Determinism: message i is generated from its own `random.Random(f"{seed}:{i}")`
(string seeds are hashed with SHA-512, independent of PYTHONHASHSEED), so the
output is byte-identical on every run, and a smaller corpus is a prefix of a
larger one with the same seed. Shapes other than the default use the seed
f"{shape}:{seed}:{i}", so they are independent of each other and the default
shape's output is unchanged by their existence. (mixed-attach is the exception:
it draws mixed's messages from mixed's seeds and its added files from
f"mixed-attach:{seed}:{i}".)

Shapes (--shape):
  attachments  (default) the original attachment-heavy mix described below.
  gmail-small  personal/work mail: 2-15 KB encoded body, Gmail-style header block
               of ~4.5-7 KB (4-9 Received, DKIM-Signature and X-Google-DKIM-Signature
               with long folded b=/bh=, ARC-Seal, ARC-Message-Signature,
               ARC-Authentication-Results, Authentication-Results, Received-SPF,
               X-Google-Smtp-Source, X-Gm-Message-State, X-Received, Return-Path,
               Delivered-To, MIME-Version, Message-ID), 1-20 To/Cc recipients with
               display names (RFC 2047 B/Q encoded, some raw UTF-8 per RFC 6532);
               85% multipart/alternative text+html, 15% text/plain; text parts
               ~80% quoted-printable (else base64, 7bit/8bit); 60% replies with
               In-Reply-To/References and 1-4 levels of Gmail-style quoted history
               (nested "> " in text, nested gmail_quote blockquotes in HTML).
               Non-UTF-8 bodies as in the default mix (iso-8859-1, windows-1252,
               shift_jis, koi8-r). ~12 KB per message, ~25 MB per 2,000.
  newsletter   bulk mail: 30-150 KB of table HTML with inline CSS and many
               tracking links (60% QP, 30% base64, 10% 8bit), a 1-5 KB text/plain
               alternative, List-Unsubscribe(-Post), List-Id, Precedence: bulk,
               Feedback-ID; 10% multipart/related with inline cid: PNGs.
               ~100 KB per message.
  mixed        roughly issue #17's corpus (2,000 messages ~ 120 MB, median ~27 KB):
               39% gmail-small, 18% medium personal threads (12-50 KB body),
               24% notifications (12-45 KB HTML), 15% newsletters, 4% personal mail
               with 1-2 attachments of 20-300 KB, and exactly round(N*PCT/100)
               messages (--large-pct, default 0.7) with a 1-5 MB attachment
               (mostly PDF), evenly spread.
  mixed-attach mixed's messages (same text and headers, message for message), with
               files added as in issue #17's mailbox (3,000 messages, ~1,700
               attachments): --attach-pct (default 48) percent of the personal
               messages carry 1-4 files of the everyday kinds (PDF, PNG, JPEG, DOCX,
               XLSX, ZIP, ICS, CSV; 5-200 KB log-uniform), and 0.6 times that share
               of the notifications a receipt (PDF or .ics). 3,000 messages:
               1,701 attachments in 1,178 messages, 269 MB (median ~44 KB).

Mix of the default "attachments" shape (approximate, per message):
  29%  personal text/plain (some replies with References/In-Reply-To + quoting)
  17%  personal multipart/alternative (Gmail style text+html, some replies)
  25%  newsletters: multipart/alternative with large inline-CSS HTML (mostly QP)
   8%  notifications/receipts: short multipart/alternative
  13%  multipart/mixed with base64 attachments (pdf/png/docx/xlsx/zip/ics/csv,
       mostly 5-200 KB, log-uniform)
   5%  multipart/related with cid: inline images (optionally wrapped in mixed)
   2%  forwards: multipart/mixed with a message/rfc822 part
   1%  (--large-pct) multipart/mixed with a 1-8 MB attachment (median ~1.3 MB,
       mean ~2.1 MB); these are scheduled, exactly round(N*pct/100) of them
Non-UTF-8 bodies: iso-8859-1 (fr/de), windows-1252, shift_jis, koi8-r.
Headers: Delivered-To, Received x3-6, X-Received, X-Google-Smtp-Source, ARC-Seal,
ARC-Message-Signature, ARC-Authentication-Results, Return-Path, Received-SPF,
Authentication-Results, DKIM-Signature, RFC 2047 subjects / display names
(UTF-8 B and Q, ISO-8859-1 Q, Shift_JIS/KOI8-R B), RFC 2231 filenames.

Note on sizing: with 5,000 messages a 300 MB total leaves room for only ~1% of
messages carrying a 1-8 MB attachment (3% x 5000 x >=1 MB x 1.37 base64 overhead
would already be >= 205 MB on its own), so the default --large-pct is 1.0.
"""

import argparse
import base64
import binascii
import datetime
import math
import os
import struct
import sys
import zlib
from random import Random

CRLF = "\r\n"
USER = "alex.morgan.bench@gmail.com"
USER_NAME = "Alex Morgan"

# --------------------------------------------------------------------------
# Vocabulary
# --------------------------------------------------------------------------

WORDS = """
the of and to a in is it you that he was for on are with as I his they be at one
have this from or had by hot word but what some we can out other were all there
when up use your how said an each she which do their time if will way about many
then them write would like so these her long make thing see him two has look more
day could go come did number sound no most people my over know water than call
first who may down side been now find any new work part take get place made live
where after back little only round man year came show every good me give our under
name very through just form sentence great think say help low line differ turn
cause much mean before move right boy old too same tell does set three want air
well also play small end put home read hand port large spell add even land here
must big high such follow act why ask men change went light kind off need house
picture try us again animal point mother world near build self earth father head
stand own page should country found answer school grow study still learn plant
cover food sun four between state keep eye never last let thought city tree cross
farm hard start might story saw far sea draw left late run while press close night
real life few north open seem together next white children begin got walk example
ease paper group always music those both mark often letter until mile river car
feet care second book carry took science eat room friend began idea fish mountain
stop once base hear horse cut sure watch color face wood main enough plain girl
usual young ready above ever red list though feel talk bird soon body dog family
direct pose leave song measure door product black short numeral class wind question
happen complete ship area half rock order fire south problem piece told knew pass
since top whole king space heard best hour better true during hundred five remember
step early hold west ground interest reach fast verb sing listen six table travel
less morning ten simple several vowel toward war lay against pattern slow center
love person money serve appear road map rain rule govern pull cold notice voice
unit power town fine certain fly fall lead cry dark machine note wait plan figure
star box noun field rest correct able pound done beauty drive stood contain front
teach week final gave green oh quick develop ocean warm free minute strong special
mind behind clear tail produce fact street inch multiply nothing course stay wheel
full force blue object decide surface deep moon island foot system busy test record
boat common gold possible plane stead dry wonder laugh thousand ago ran check game
shape equate miss brought heat snow tire bring yes distant fill east paint language
among meeting agenda quarterly report budget invoice deadline project review draft
schedule customer account shipping order delivery update release version feature
deploy server database migration roadmap sprint ticket estimate contract proposal
""".split()

FR_WORDS = """
bonjour merci réunion équipe prochaine semaine déjà très été où voilà château
élève Noël crème brûlée garçon français naïve hôtel fenêtre forêt île août
à côté après-midi rendez-vous déjeuner société général événement réponse
le la les un une des et est dans pour avec sur nous vous ils elles mais donc
projet rapport budget facture réservation confirmée prévue modifié présentation
""".split()

DE_WORDS = """
Grüße schön Straße Müller Übersicht größer Bestätigung Änderung Bürogebäude
Tagesordnung nächste Woche über für während Geschäftsführer Mitarbeiter Prüfung
der die das und ist nicht mit auf ein eine wir Sie bitte danke heute morgen
Termin Besprechung Rechnung Angebot Lieferung Schlüssel Frühstück Kündigung
""".split()

CP1252_WORDS = [
    "\u201cquoted\u201d", "it\u2019s", "we\u2019re", "don\u2019t", "\u2013", "\u2014",
    "\u2026", "\u20ac250", "\u20ac1,200", "brand\u2122", "caf\u00e9", "na\u00efve",
    "r\u00e9sum\u00e9", "\u2018single\u2019", "\u2022", "price", "offer", "team",
    "the", "and", "for", "with", "meeting", "today", "invoice", "total", "update",
    "please", "review", "attached", "thanks", "regards", "schedule", "next", "week",
]

JA_WORDS = """
こんにちは 会議 資料 確認 お願いします ありがとうございます 来週 予定 東京
メール 送信 添付 ファイル よろしく お疲れ様です 打ち合わせ 報告書 締め切り
変更 担当 日程 調整 ご連絡 いたします 本日 明日 弊社 御社 見積書 請求書
""".split()

RU_WORDS = """
привет встреча документ спасибо завтра отчёт проект команда пожалуйста письмо
сегодня неделя работа вопрос ответ счёт договор время место компания клиент
и в не на что как с по это мы вы они но для
""".split()

UTF8_SUBJECT_BITS = [
    "Café ☕ meetup", "Résumé — final", "Ünïcödé test", "Zoë’s party 🎉",
    "Reunión de equipo", "Αναφορά Q3", "日本語のテスト", "Отчёт за неделю",
    "Déjà vu – again", "Crème brûlée recipe", "Straße & Grüße", "📦 Your order shipped",
    "✈️ Flight confirmation", "50% off — today only 🔥", "Ελληνικά", "中文邮件主题",
    "Naïve façade", "Smørrebrød in København", "Łódź office update", "İstanbul trip",
]

FIRST = """James Mary John Patricia Robert Jennifer Michael Linda William Elizabeth
David Barbara Richard Susan Joseph Jessica Thomas Sarah Charles Karen Christopher
Nancy Daniel Lisa Matthew Betty Anthony Margaret Mark Sandra Priya Wei Hiroshi
Olga Ahmed Fatima Lucas Sofia Noah Emma Liam Olivia Ethan Ava Mateo Isabella""".split()
LAST = """Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez
Hernandez Lopez Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee
Perez Thompson White Harris Sanchez Clark Ramirez Lewis Robinson Walker Young
Allen King Wright Scott Torres Nguyen Hill Flores Green Adams Nelson Baker""".split()
NONASCII_NAMES = [
    "José Álvarez", "Zoë Müller", "Søren Kierkegård", "François Lefèvre", "Renée Côté",
    "Jürgen Groß", "Łukasz Wiśniewski", "田中 太郎", "Иван Петров", "Ólafur Arnalds",
    "Chloé Dubois", "Björn Ångström", "Nuño Peña", "Αλέξανδρος Παπαδόπουλος", "李 伟",
]
LATIN1_NAMES = ["José Álvarez", "Zoë Müller", "François Lefèvre", "Renée Côté",
                "Jürgen Groß", "Chloé Dubois", "Björn Ångström", "Nuño Peña"]

PERSONAL_DOMAINS = ["gmail.com", "yahoo.com", "outlook.com", "hotmail.com",
                    "icloud.com", "proton.me", "fastmail.com", "gmx.de", "yandex.ru"]
WORK_DOMAINS = ["northwind-traders.com", "contoso.com", "fabrikam.io", "initech.net",
                "globex-corp.com", "umbrella-labs.org", "acme-widgets.co.uk",
                "hooli.xyz", "piedpiper.dev", "wayne-enterprises.com"]
NEWS_SENDERS = [
    ("The Weekly Digest", "news", "weeklydigest-mail.com"),
    ("ShopRight Deals", "deals", "em.shopright.example"),
    ("TravelHub", "offers", "mail.travelhub.example"),
    ("Dev Community", "digest", "devcommunity.example"),
    ("FitLife Magazine", "hello", "fitlife-news.example"),
    ("Bookworm Club", "newsletter", "bookwormclub.example"),
    ("Cloud Platform Updates", "no-reply", "cloudplatform.example"),
    ("Local Farmers Market", "market", "farmersmarket.example"),
]
NOTIFY_SENDERS = [
    ("GitHub", "notifications", "github.example"),
    ("Bank of Example", "alerts", "alerts.bankofexample.example"),
    ("Parcel Service", "tracking", "parcel.example"),
    ("Calendar", "calendar-notification", "google.com"),
    ("Payments Inc.", "receipts", "payments.example"),
    ("Airline Co", "itinerary", "airlineco.example"),
]

BENCH_EPOCH = datetime.datetime(2023, 1, 1, tzinfo=datetime.timezone.utc)
TZ_OFFSETS = [-8, -7, -5, -4, 0, 1, 2, 3, 5.5, 8, 9]
DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


# --------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------

def rfc_date(dt, tz_hours, rng=None, comment=False):
    off = datetime.timedelta(hours=tz_hours)
    local = (dt + off).replace(tzinfo=None)
    sign = "+" if tz_hours >= 0 else "-"
    a = abs(tz_hours)
    h, m = int(a), int(round((a - int(a)) * 60))
    s = "%s, %d %s %d %02d:%02d:%02d %s%02d%02d" % (
        DAYS[local.weekday()], local.day, MONTHS[local.month - 1], local.year,
        local.hour, local.minute, local.second, sign, h, m)
    if comment:
        s += {-8: " (PST)", -7: " (PDT)", -5: " (EST)", -4: " (EDT)", 0: " (UTC)"}.get(tz_hours, "")
    return s


def hexs(rng, n):
    return "%0*x" % (n, rng.getrandbits(4 * n))


def b64s(rng, nbytes):
    return base64.b64encode(rng.randbytes(nbytes)).decode()


ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def token(rng, n, alphabet=ALNUM):
    return "".join(rng.choice(alphabet) for _ in range(n))


def fold_token(value, first_room, width=76, indent="        "):
    """Break an unbreakable token (e.g. b=<base64>) across folded lines."""
    out = [value[:first_room]]
    rest = value[first_room:]
    while rest:
        out.append(indent + rest[:width])
        rest = rest[width:]
    return CRLF.join(out)


def b64_body(data):
    return base64.encodebytes(data).replace(b"\n", b"\r\n")


def qp_body(text_bytes_lf):
    """Quoted-printable encode bytes whose line breaks are LF; returns CRLF output."""
    enc = binascii.b2a_qp(text_bytes_lf, quotetabs=False, istext=True, header=False)
    return enc.replace(b"\n", b"\r\n")


def crlf(s):
    return s.replace("\r\n", "\n").replace("\n", "\r\n")


def wrap(text, width=76):
    """Simple greedy word wrap, preserves paragraph breaks (\\n\\n)."""
    out = []
    for para in text.split("\n"):
        if not para:
            out.append("")
            continue
        line = ""
        words = []
        for w in para.split(" "):
            # unbreakable runs (e.g. Japanese text without spaces) are cut hard
            while len(w) > 300:
                words.append(w[:300])
                w = w[300:]
            words.append(w)
        for w in words:
            if line and len(line) + 1 + len(w) > width:
                out.append(line)
                line = w
            else:
                line = w if not line else line + " " + w
        out.append(line)
    return "\n".join(out)


# --------------------------------------------------------------------------
# Text generation
# --------------------------------------------------------------------------

def sentence(rng, words=WORDS, lo=6, hi=18, sep=" ", end="."):
    n = rng.randint(lo, hi)
    ws = [rng.choice(words) for _ in range(n)]
    s = sep.join(ws)
    if sep == " " and s[:1].isalpha():
        s = s[0].upper() + s[1:]
    return s + end


def paragraph(rng, words=WORDS, lo=2, hi=6, sep=" ", end="."):
    return " ".join(sentence(rng, words, sep=sep, end=end) for _ in range(rng.randint(lo, hi)))


def body_text(rng, approx_bytes, words=WORDS, sep=" ", end="."):
    paras = []
    total = 0
    while total < approx_bytes:
        p = paragraph(rng, words, sep=sep, end=end)
        paras.append(p)
        total += len(p.encode("utf-8")) + 2
    return "\n\n".join(paras)


LANGS = {
    # name: (charset, words, sep, end, greeting, closing)
    "fr": ("iso-8859-1", FR_WORDS, " ", ".", "Bonjour à tous,", "Cordialement,\nFrançois"),
    "de": ("iso-8859-1", DE_WORDS, " ", ".", "Hallo zusammen,", "Viele Grüße\nJürgen"),
    "cp1252": ("windows-1252", CP1252_WORDS, " ", ".", "Hi team \u2013", "Thanks \u2014 J\u00fcrgen"),
    "ja": ("shift_jis", JA_WORDS, "", "。", "お疲れ様です。", "よろしくお願いします。\n田中"),
    "ru": ("koi8-r", RU_WORDS, " ", ".", "Привет всем,", "С уважением,\nИван"),
}


def pick_lang(rng):
    r = rng.random()
    if r < 0.05:
        return "fr"
    if r < 0.08:
        return "de"
    if r < 0.11:
        return "cp1252"
    if r < 0.13:
        return "ja"
    if r < 0.15:
        return "ru"
    if r < 0.22:
        return "utf8-intl"   # UTF-8 with non-ASCII content
    return "en"


def lang_text(rng, lang, approx_bytes):
    if lang in LANGS:
        _cs, words, sep, end, greet, close = LANGS[lang]
        core = body_text(rng, approx_bytes, words, sep, end)
        return greet + "\n\n" + core + "\n\n" + close
    if lang == "utf8-intl":
        core = body_text(rng, approx_bytes)
        # sprinkle non-ASCII phrases
        bits = [rng.choice(UTF8_SUBJECT_BITS) for _ in range(3)]
        return "Hi \u2014 " + bits[0] + "\n\n" + core + "\n\n" + bits[1] + " / " + bits[2] + "\n\nCheers,\n" + rng.choice(NONASCII_NAMES)
    name = rng.choice(FIRST)
    core = body_text(rng, approx_bytes)
    return "Hi %s,\n\n%s\n\nBest,\n%s" % (rng.choice(FIRST), core, name)


# --------------------------------------------------------------------------
# RFC 2047
# --------------------------------------------------------------------------

Q_SAFE = set(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!*+-/")


def _q_encode_chunk(bs):
    out = []
    for b in bs:
        if b == 0x20:
            out.append("_")
        elif b in Q_SAFE:
            out.append(chr(b))
        else:
            out.append("=%02X" % b)
    return "".join(out)


def encode_words(text, charset, mode, maxlen=75):
    """Encode text as a list of RFC 2047 encoded-words, splitting on character
    boundaries so each word decodes on its own."""
    prefix = "=?%s?%s?" % (charset, mode)
    budget = maxlen - len(prefix) - 2
    words = []
    cur = ""
    for ch in text:
        cand = cur + ch
        raw = cand.encode(charset)
        enc_len = len(base64.b64encode(raw)) if mode == "B" else len(_q_encode_chunk(raw))
        if enc_len > budget and cur:
            words.append(cur)
            cur = ch
        else:
            cur = cand
    if cur:
        words.append(cur)
    out = []
    for w in words:
        raw = w.encode(charset)
        payload = base64.b64encode(raw).decode() if mode == "B" else _q_encode_chunk(raw)
        out.append(prefix + payload + "?=")
    return out


def encode_header_text(rng, text, charset=None):
    """Return a header value for `text`: plain if ASCII, else RFC 2047 encoded
    (charset/mode chosen like real clients do)."""
    try:
        text.encode("ascii")
        return text
    except UnicodeEncodeError:
        pass
    if charset is None:
        charset = "UTF-8"
        try:
            text.encode("iso-8859-1")
            if rng.random() < 0.35:
                charset = "ISO-8859-1"
        except UnicodeEncodeError:
            pass
    if charset.upper() in ("SHIFT_JIS", "KOI8-R", "UTF-8"):
        mode = "B" if (charset.upper() != "UTF-8" or rng.random() < 0.6) else "Q"
    else:
        mode = "Q"
    return (CRLF + " ").join(encode_words(text, charset, mode))


def mailbox(rng, name, addr, charset=None):
    if not name:
        return addr if rng.random() < 0.5 else "<%s>" % addr
    enc = encode_header_text(rng, name, charset)
    if enc == name:
        if any(c in name for c in ',.()"'):
            return '"%s" <%s>' % (name.replace('"', '\\"'), addr)
        if rng.random() < 0.5:
            return '"%s" <%s>' % (name, addr)
        return "%s <%s>" % (name, addr)
    return "%s <%s>" % (enc, addr)


def random_person(rng, domain=None, nonascii=0.12):
    if rng.random() < nonascii:
        name = rng.choice(NONASCII_NAMES)
        local = "user%d" % rng.randint(100, 99999)
    else:
        f, l = rng.choice(FIRST), rng.choice(LAST)
        name = "%s %s" % (f, l)
        if rng.random() < 0.1:
            name = "%s, %s" % (l, f)
        local = rng.choice(["%s.%s" % (f, l), "%s%s" % (f[0], l), "%s_%s%d" % (f, l, rng.randint(1, 99))]).lower()
    if domain is None:
        domain = rng.choice(PERSONAL_DOMAINS + WORK_DOMAINS)
    return name, "%s@%s" % (local, domain)


def address_list(rng, people, charset=None):
    items = [mailbox(rng, n, a, charset) for n, a in people]
    out = items[0]
    linelen = len(out)
    for it in items[1:]:
        if linelen + len(it) + 2 > 70:
            out += "," + CRLF + " " + it
            linelen = len(it) + 1
        else:
            out += ", " + it
            linelen += len(it) + 2
    return out


# --------------------------------------------------------------------------
# Header blocks
# --------------------------------------------------------------------------

def hdr(name, value):
    return "%s: %s%s" % (name, value, CRLF)


def gmail_trace_headers(rng, dt, from_addr, sender_domain, n_received, force_gm=False):
    """Headers Gmail prepends on delivery + sender-side Received chain.

    force_gm: always add X-Google-DKIM-Signature + X-Gm-Message-State (the default
    "attachments" shape leaves it False, so its output and random stream are unchanged)."""
    t = int(dt.timestamp())
    ip = "209.85.%d.%d" % (rng.randint(128, 255), rng.randint(1, 254))
    sel = rng.choice(["20230601", "google", "s1", "selector1", "k1", "mail", "dkim"])
    arc_b = fold_token("b=" + b64s(rng, 256), 68)
    arc_bh = "bh=" + b64s(rng, 32)
    dkim_hdrs = "from:to:subject:date:message-id:mime-version:content-type"
    h = []
    h.append(hdr("Delivered-To", USER))
    pst = rfc_date(dt, -8, comment=True)
    h.append(hdr("Received", "by 2002:a05:%s:%s:b0:%s:%s:%s with SMTP id %s;%s        %s" % (
        hexs(rng, 4), hexs(rng, 4), hexs(rng, 3), hexs(rng, 4), hexs(rng, 4),
        token(rng, 14).lower(), CRLF, pst)))
    h.append(hdr("X-Google-Smtp-Source", token(rng, 80, ALNUM + "+/") + "=="))
    h.append(hdr("X-Received", "by 2002:a17:%s:%s:b0:%s:%s with SMTP id %s.%d.%d;%s        %s" % (
        hexs(rng, 3), hexs(rng, 4), hexs(rng, 3), hexs(rng, 4), token(rng, 14).lower(),
        rng.randint(1, 99), rng.randint(10 ** 12, 10 ** 13), CRLF, pst)))
    h.append(hdr("ARC-Seal", "i=1; a=rsa-sha256; t=%d; cv=none;%s        d=google.com; s=arc-20160816;%s        %s" % (
        t, CRLF, CRLF, arc_b)))
    h.append(hdr("ARC-Message-Signature", "i=1; a=rsa-sha256; c=relaxed/relaxed; d=google.com; s=arc-20160816;%s"
                 "        h=to:subject:message-id:date:from:mime-version:dkim-signature;%s        %s;%s        %s" % (
                     CRLF, CRLF, arc_bh, CRLF, fold_token("b=" + b64s(rng, 256), 68))))
    auth = ("i=1; mx.google.com;%s       dkim=pass header.i=@%s header.s=%s header.b=%s;%s"
            "       spf=pass (google.com: domain of %s designates %s as permitted sender) smtp.mailfrom=%s;%s"
            "       dmarc=pass (p=%s sp=%s dis=NONE) header.from=%s") % (
        CRLF, sender_domain, sel, token(rng, 8), CRLF, from_addr, ip, from_addr, CRLF,
        rng.choice(["NONE", "QUARANTINE", "REJECT"]), rng.choice(["NONE", "REJECT"]), sender_domain)
    h.append(hdr("ARC-Authentication-Results", auth))
    h.append(hdr("Return-Path", "<%s>" % from_addr))
    host = "mail-%s.%s" % (token(rng, 6).lower(), sender_domain)
    h.append(hdr("Received", "from %s (%s. [%s])%s        by mx.google.com with SMTPS id %s.%d.%d%s"
                 "        for <%s>%s        (Google Transport Security);%s        %s" % (
                     host, host, ip, CRLF, token(rng, 20).lower(), rng.randint(1, 999),
                     rng.randint(10 ** 12, 10 ** 13), CRLF, USER, CRLF, CRLF, pst)))
    h.append(hdr("Received-SPF", "pass (google.com: domain of %s designates %s as permitted sender) client-ip=%s;" % (
        from_addr, ip, ip)))
    h.append(hdr("Authentication-Results", auth[len("i=1; "):]))
    # remaining Received headers from the sender side (total 3..6)
    for k in range(max(0, n_received - 2)):
        d2 = dt - datetime.timedelta(seconds=rng.randint(1, 30) * (k + 1))
        kind = rng.random()
        if kind < 0.4:
            v = "from [10.%d.%d.%d] (unknown [%d.%d.%d.%d])%s        by smtp.%s (Postfix) with ESMTPSA id %s%s        for <%s>; %s" % (
                rng.randint(0, 255), rng.randint(0, 255), rng.randint(1, 254),
                rng.randint(1, 223), rng.randint(0, 255), rng.randint(0, 255), rng.randint(1, 254), CRLF,
                sender_domain, token(rng, 10, "0123456789ABCDEF"), CRLF, USER, rfc_date(d2, 0))
        elif kind < 0.7:
            v = "from localhost (localhost [127.0.0.1])%s        by mx%d.%s (Postfix) with ESMTP id %s;%s        %s" % (
                CRLF, rng.randint(1, 9), sender_domain, token(rng, 11, "0123456789ABCDEF"), CRLF, rfc_date(d2, 1))
        else:
            v = "from %s.prod.outlook.com (2603:10b6:%s:%s::%s) by%s %s.prod.outlook.com%s (2603:10b6:%s:%s::%s) with Microsoft SMTP Server%s (version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.20.%d.%d; %s" % (
                token(rng, 12).upper(), hexs(rng, 3), hexs(rng, 3), hexs(rng, 2), CRLF,
                token(rng, 12).upper(), CRLF, hexs(rng, 3), hexs(rng, 3), hexs(rng, 2), CRLF,
                rng.randint(1000, 9999), rng.randint(10, 99), rfc_date(d2, 0))
        h.append(hdr("Received", v))
    dkim = ("v=1; a=rsa-sha256; c=relaxed/relaxed;%s        d=%s; s=%s; t=%d; x=%d;%s"
            "        h=%s;%s        %s;%s        %s") % (
        CRLF, sender_domain, sel, t, t + 604800, CRLF, dkim_hdrs, CRLF, "bh=" + b64s(rng, 32),
        CRLF, fold_token("b=" + b64s(rng, 256), 68))
    h.append(hdr("DKIM-Signature", dkim))
    if force_gm or sender_domain == "gmail.com" or rng.random() < 0.3:
        h.append(hdr("X-Google-DKIM-Signature", "v=1; a=rsa-sha256; c=relaxed/relaxed;%s        d=1e100.net; s=20230601; t=%d; x=%d;%s        %s;%s        %s" % (
            CRLF, t, t + 604800, CRLF, "bh=" + b64s(rng, 32), CRLF, fold_token("b=" + b64s(rng, 256), 68))))
        h.append(hdr("X-Gm-Message-State", token(rng, 60, ALNUM + "+/") + "=="))
    return h


def msg_id(rng, domain):
    kind = rng.random()
    if kind < 0.4:
        return "<CA%s+%s@mail.gmail.com>" % (token(rng, 20), token(rng, 24, ALNUM + "_-"))
    if kind < 0.7:
        return "<%s.%s@%s>" % (hexs(rng, 16), rng.randint(10 ** 9, 10 ** 10), domain)
    return "<%s-%s-%s@%s>" % (hexs(rng, 8), hexs(rng, 4), hexs(rng, 12), domain)


# --------------------------------------------------------------------------
# MIME building
# --------------------------------------------------------------------------

def boundary(rng):
    k = rng.random()
    if k < 0.5:
        return "000000000000%s" % hexs(rng, 16)
    if k < 0.7:
        return "Apple-Mail=_%s-%s-%s-%s-%s" % (hexs(rng, 8).upper(), hexs(rng, 4).upper(), hexs(rng, 4).upper(),
                                               hexs(rng, 4).upper(), hexs(rng, 12).upper())
    if k < 0.85:
        return "_000_%s_" % token(rng, 40)
    return "----=_Part_%d_%d.%d" % (rng.randint(1, 999999), rng.randint(1, 10 ** 9), rng.randint(10 ** 12, 10 ** 13))


def entity(headers, body):
    """headers: list of 'Name: value' strings (no CRLF). body: bytes."""
    return ("".join(h + CRLF for h in headers) + CRLF).encode("ascii") + body


def multipart(rng, subtype, parts, extra_params="", preamble=None):
    b = boundary(rng)
    hdrs = ['Content-Type: multipart/%s; boundary="%s"%s' % (subtype, b, extra_params)]
    chunks = []
    if preamble is None and rng.random() < 0.2:
        preamble = "This is a multi-part message in MIME format."
    if preamble:
        chunks.append(preamble.encode() + b"\r\n")
    bb = b.encode()
    for p in parts:
        chunks.append(b"--" + bb + b"\r\n" + p + b"\r\n")
    chunks.append(b"--" + bb + b"--\r\n")
    return hdrs, b"".join(chunks)


def text_part(rng, subtype, text, charset="UTF-8", cte=None, extra_hdrs=(), flowed=False):
    """Encode `text` (str with \\n line breaks) as a text/* entity."""
    raw_lf = text.encode(charset, errors="xmlcharrefreplace" if subtype == "html" else "replace")
    ascii_only = all(b < 0x80 for b in raw_lf)
    if cte is None:
        if ascii_only:
            cte = rng.choice(["7bit", "7bit", "quoted-printable"]) if subtype == "plain" else rng.choice(["7bit", "quoted-printable", "quoted-printable"])
        elif charset.lower() in ("shift_jis", "koi8-r"):
            cte = rng.choice(["base64", "8bit"])
        else:
            cte = rng.choice(["quoted-printable", "quoted-printable", "base64", "8bit"])
    if cte in ("7bit", "8bit") and any(len(l) > 900 for l in raw_lf.split(b"\n")):
        # RFC 5322 line-length limit (998) for unencoded bodies
        raw_lf = (wrap(text) if subtype == "plain" else wrap(text, 200)).encode(
            charset, errors="xmlcharrefreplace" if subtype == "html" else "replace")
    if cte == "quoted-printable":
        body = qp_body(raw_lf)
    elif cte == "base64":
        body = b64_body(raw_lf.replace(b"\n", b"\r\n"))
    else:
        body = raw_lf.replace(b"\n", b"\r\n")
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    ct = 'Content-Type: text/%s; charset="%s"' % (subtype, charset)
    if flowed:
        ct += "; format=flowed"
    hdrs = [ct] + list(extra_hdrs)
    if cte != "7bit" or rng.random() < 0.5:
        hdrs.append("Content-Transfer-Encoding: %s" % cte)
    return entity(hdrs, body)


# --------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------

PALETTE = ["#1a73e8", "#d93025", "#188038", "#f29900", "#a142f4", "#202124", "#5f6368", "#e8710a"]
FONTS = ["Helvetica,Arial,sans-serif", "'Segoe UI',Roboto,Arial,sans-serif", "Georgia,'Times New Roman',serif",
         "-apple-system,BlinkMacSystemFont,'Helvetica Neue',Arial,sans-serif"]


def track_url(rng, domain):
    return "https://click.%s/ls/click?upn=%s" % (domain, token(rng, rng.randint(80, 220), ALNUM + "-_"))


def html_escape(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def newsletter_html(rng, title, domain, approx_bytes, charset="UTF-8", images=None):
    """Table-based newsletter with inline CSS. images: optional list of cid: names."""
    font = rng.choice(FONTS)
    accent = rng.choice(PALETTE)
    out = []
    out.append('<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" '
               '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n')
    out.append('<html xmlns="http://www.w3.org/1999/xhtml" xmlns:v="urn:schemas-microsoft-com:vml" '
               'xmlns:o="urn:schemas-microsoft-com:office:office">\n<head>\n'
               '<meta http-equiv="Content-Type" content="text/html; charset=%s">\n'
               '<meta name="viewport" content="width=device-width, initial-scale=1.0">\n'
               '<meta http-equiv="X-UA-Compatible" content="IE=edge">\n<title>%s</title>\n' % (charset, html_escape(title)))
    out.append('<style type="text/css">\n'
               'body,table,td,a{-webkit-text-size-adjust:100%%;-ms-text-size-adjust:100%%;}\n'
               'table,td{mso-table-lspace:0pt;mso-table-rspace:0pt;}\n'
               'img{-ms-interpolation-mode:bicubic;border:0;height:auto;line-height:100%%;outline:none;text-decoration:none;}\n'
               'body{margin:0 !important;padding:0 !important;width:100%% !important;}\n'
               'a[x-apple-data-detectors]{color:inherit !important;text-decoration:none !important;}\n'
               '@media only screen and (max-width:620px){\n'
               '  .wrapper{width:100%% !important;max-width:100%% !important;}\n'
               '  .column{display:block !important;width:100%% !important;}\n'
               '  .mobile-pad{padding:12px 16px !important;}\n'
               '  h1{font-size:24px !important;line-height:30px !important;}\n}\n'
               '.btn:hover{background-color:%s !important;}\n</style>\n'
               '<!--[if mso]><style type="text/css">body,table,td{font-family:Arial,sans-serif !important;}</style><![endif]-->\n'
               '</head>\n' % accent)
    out.append('<body style="margin:0;padding:0;background-color:#f4f4f7;font-family:%s;">\n' % font)
    out.append('<div style="display:none;font-size:1px;color:#f4f4f7;line-height:1px;max-height:0;max-width:0;opacity:0;overflow:hidden;">%s&nbsp;&zwnj;&nbsp;&zwnj;&nbsp;&zwnj;&nbsp;&zwnj;</div>\n' % html_escape(sentence(rng)))
    out.append('<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background-color:#f4f4f7;">\n'
               '<tr><td align="center" style="padding:24px 8px;">\n'
               '<table role="presentation" class="wrapper" width="600" cellpadding="0" cellspacing="0" border="0" '
               'style="width:600px;max-width:600px;background-color:#ffffff;border-radius:8px;overflow:hidden;">\n')
    logo = ("cid:" + images[0]) if images else "https://cdn.%s/assets/logo-%s.png" % (domain, hexs(rng, 8))
    out.append('<tr><td class="mobile-pad" style="padding:20px 32px;border-bottom:3px solid %s;">'
               '<a href="%s" target="_blank" style="text-decoration:none;"><img src="%s" width="140" height="40" alt="%s" '
               'style="display:block;border:0;outline:none;text-decoration:none;width:140px;height:40px;"></a></td></tr>\n' % (
                   accent, track_url(rng, domain), logo, html_escape(title.split(" ")[0])))
    size = sum(len(x) for x in out)
    img_i = 1
    while size < approx_bytes:
        kind = rng.random()
        if kind < 0.35:
            hero = ("cid:" + images[img_i % len(images)]) if images and img_i < len(images) else \
                "https://cdn.%s/img/%s/%s.jpg" % (domain, hexs(rng, 6), hexs(rng, 16))
            img_i += 1
            chunk = ('<tr><td style="padding:0;"><a href="%s" target="_blank"><img src="%s" width="600" alt="%s" '
                     'style="display:block;width:100%%;max-width:600px;height:auto;border:0;"></a></td></tr>\n'
                     '<tr><td class="mobile-pad" style="padding:28px 32px 8px 32px;">'
                     '<h1 style="margin:0 0 12px 0;font-family:%s;font-size:28px;line-height:34px;font-weight:700;color:#111111;">%s</h1>\n'
                     '<p style="margin:0 0 16px 0;font-family:%s;font-size:16px;line-height:24px;color:#3c4043;">%s</p>\n'
                     '<table role="presentation" cellpadding="0" cellspacing="0" border="0"><tr>'
                     '<td align="center" bgcolor="%s" style="border-radius:4px;">'
                     '<a class="btn" href="%s" target="_blank" style="display:inline-block;padding:12px 28px;font-family:%s;'
                     'font-size:15px;font-weight:600;color:#ffffff;text-decoration:none;border-radius:4px;background-color:%s;">%s</a>'
                     '</td></tr></table></td></tr>\n') % (
                track_url(rng, domain), hero, html_escape(sentence(rng, lo=3, hi=6)), font,
                html_escape(sentence(rng, lo=4, hi=9, end="")), font, html_escape(paragraph(rng, lo=2, hi=4)),
                accent, track_url(rng, domain), font, accent,
                rng.choice(["Shop now", "Read more", "Learn more", "Book today", "Get started", "View offer"]))
        elif kind < 0.65:
            cols = rng.choice([2, 3])
            w = 600 // cols
            cells = []
            for _ in range(cols):
                cells.append(
                    '<td class="column" width="%d" valign="top" style="padding:12px;width:%dpx;">'
                    '<a href="%s" target="_blank"><img src="https://cdn.%s/p/%s.jpg" width="%d" alt="" '
                    'style="display:block;width:100%%;height:auto;border:0;border-radius:4px;"></a>'
                    '<p style="margin:8px 0 4px 0;font-family:%s;font-size:15px;line-height:20px;font-weight:600;color:#202124;">%s</p>'
                    '<p style="margin:0 0 8px 0;font-family:%s;font-size:13px;line-height:18px;color:#5f6368;">%s</p>'
                    '<p style="margin:0;font-family:%s;font-size:16px;font-weight:700;color:%s;">$%d.%02d '
                    '<span style="text-decoration:line-through;color:#9aa0a6;font-weight:400;font-size:13px;">$%d.99</span></p></td>' % (
                        w, w, track_url(rng, domain), domain, hexs(rng, 12), w - 24, font,
                        html_escape(sentence(rng, lo=2, hi=4, end="")), font, html_escape(sentence(rng, lo=6, hi=12)),
                        font, accent, rng.randint(5, 300), rng.randint(0, 99), rng.randint(300, 500)))
            chunk = ('<tr><td class="mobile-pad" style="padding:8px 20px;">\n<table role="presentation" width="100%" '
                     'cellpadding="0" cellspacing="0" border="0"><tr>\n' + "\n".join(cells) + '\n</tr></table>\n</td></tr>\n')
        else:
            paras = "".join('<p style="margin:0 0 14px 0;font-family:%s;font-size:16px;line-height:26px;color:#3c4043;">%s '
                            '<a href="%s" style="color:%s;text-decoration:underline;">%s</a> %s</p>\n' % (
                                font, html_escape(paragraph(rng, lo=1, hi=3)), track_url(rng, domain), accent,
                                html_escape(sentence(rng, lo=2, hi=4, end="")), html_escape(sentence(rng)))
                            for _ in range(rng.randint(2, 5)))
            chunk = ('<tr><td class="mobile-pad" style="padding:16px 32px;">\n<h2 style="margin:0 0 10px 0;font-family:%s;'
                     'font-size:20px;line-height:26px;color:#202124;">%s</h2>\n%s</td></tr>\n') % (
                font, html_escape(sentence(rng, lo=3, hi=7, end="")), paras)
        out.append(chunk)
        size += len(chunk)
    out.append('<tr><td style="padding:24px 32px;background-color:#f8f9fa;font-family:%s;font-size:12px;line-height:18px;color:#80868b;" align="center">'
               'You are receiving this email because you subscribed to %s.<br>'
               '<a href="%s" style="color:#80868b;text-decoration:underline;">Unsubscribe</a> &middot; '
               '<a href="%s" style="color:#80868b;text-decoration:underline;">Manage preferences</a> &middot; '
               '<a href="%s" style="color:#80868b;text-decoration:underline;">View in browser</a><br>'
               '%d Market Street, Suite %d, San Francisco, CA 94105</td></tr>\n'
               '</table>\n</td></tr></table>\n<img src="https://open.%s/o/%s.gif" width="1" height="1" alt="" '
               'style="display:block;width:1px;height:1px;border:0;">\n</body>\n</html>\n' % (
                   font, html_escape(title), track_url(rng, domain), track_url(rng, domain), track_url(rng, domain),
                   rng.randint(1, 999), rng.randint(100, 999), domain, token(rng, 64)))
    return "".join(out)


def simple_html_from_text(rng, text, quote_html=None):
    """Gmail-style HTML alternative for a personal message."""
    paras = text.split("\n\n")
    body = "".join('<div dir="ltr">%s</div><div><br></div>' % html_escape(p).replace("\n", "<br>") for p in paras)
    if quote_html:
        body += quote_html
    return '<div dir="ltr">%s</div>\n' % body


# --------------------------------------------------------------------------
# Binary attachments
# --------------------------------------------------------------------------

def fake_pdf(rng, n):
    head = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n" \
           b"2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n" \
           b"3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>\nendobj\n"
    tail = b"\nendstream\nendobj\nxref\n0 5\n0000000000 65535 f \ntrailer\n<< /Size 5 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % n
    body_len = max(16, n - len(head) - len(tail) - 60)
    mid = b"4 0 obj\n<< /Length %d /Filter /FlateDecode >>\nstream\n" % body_len
    return head + mid + rng.randbytes(body_len) + tail


def _png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def fake_png(rng, n):
    w, h = rng.randint(64, 2048), rng.randint(64, 2048)
    out = [b"\x89PNG\r\n\x1a\n", _png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0))]
    remaining = max(64, n - 57)
    while remaining > 0:
        k = min(remaining, 65536)
        out.append(_png_chunk(b"IDAT", rng.randbytes(k)))
        remaining -= k + 12
    out.append(_png_chunk(b"IEND", b""))
    return b"".join(out)


def fake_jpeg(rng, n):
    head = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x01\x00H\x00H\x00\x00\xff\xdb\x00C\x00" + rng.randbytes(64)
    return head + rng.randbytes(max(16, n - len(head) - 2)) + b"\xff\xd9"


def fake_zip(rng, n, names):
    out = []
    per = max(32, n // max(1, len(names)))
    for nm in names:
        data = rng.randbytes(per)
        nmb = nm.encode()
        out.append(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0x0808, 8, 0, 0x5721,
                               zlib.crc32(data) & 0xFFFFFFFF, len(data), len(data) * 3, len(nmb), 0) + nmb + data)
    out.append(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(names), len(names), 46 * len(names), sum(len(x) for x in out), 0))
    return b"".join(out)


ATTACH_KINDS = [
    # (weight, mime, ext, maker)
    (30, "application/pdf", "pdf", "pdf"),
    (18, "image/png", "png", "png"),
    (16, "image/jpeg", "jpg", "jpg"),
    (12, "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx", "docx"),
    (8, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx", "xlsx"),
    (6, "application/zip", "zip", "zip"),
    (5, "text/calendar", "ics", "ics"),
    (5, "text/csv", "csv", "csv"),
]
ATTACH_BASENAMES = ["Invoice-2023-%04d", "Report_Q%d_final", "scan_%05d", "IMG_%04d", "Screenshot 2023-%02d-14 at 10.32.11",
                    "contract_v%d", "Résumé_%d", "Präsentation_%d", "Budget FY%d", "photo-%d", "報告書_%d", "Договор_%d"]


def pick_attach_kind(rng):
    total = sum(k[0] for k in ATTACH_KINDS)
    r = rng.uniform(0, total)
    for k in ATTACH_KINDS:
        r -= k[0]
        if r <= 0:
            return k
    return ATTACH_KINDS[0]


def ics_text(rng, dt):
    return crlf("BEGIN:VCALENDAR\nPRODID:-//Google Inc//Google Calendar 70.9054//EN\nVERSION:2.0\nCALSCALE:GREGORIAN\n"
                "METHOD:REQUEST\nBEGIN:VEVENT\nDTSTART:%sZ\nDTEND:%sZ\nDTSTAMP:%sZ\nORGANIZER;CN=%s:mailto:%s\n"
                "UID:%s@google.com\nATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE\n"
                " ;CN=%s;X-NUM-GUESTS=0:mailto:%s\nDESCRIPTION:%s\nSUMMARY:%s\nLOCATION:%s\nSEQUENCE:0\nSTATUS:CONFIRMED\n"
                "END:VEVENT\nEND:VCALENDAR\n" % (
                    dt.strftime("%Y%m%dT%H%M%S"), (dt + datetime.timedelta(hours=1)).strftime("%Y%m%dT%H%M%S"),
                    dt.strftime("%Y%m%dT%H%M%S"), rng.choice(FIRST), "organizer@contoso.com", token(rng, 26).lower(),
                    USER_NAME, USER, paragraph(rng, lo=1, hi=2)[:300], sentence(rng, lo=3, hi=6, end=""),
                    rng.choice(["Room 4B", "https://meet.google.com/abc-defg-hij", "Cafe downstairs"])))


def csv_text(rng, n):
    rows = ["date,description,amount,currency,category"]
    size = len(rows[0])
    while size < n:
        r = "2023-%02d-%02d,%s,%d.%02d,%s,%s" % (rng.randint(1, 12), rng.randint(1, 28), " ".join(rng.choice(WORDS) for _ in range(3)),
                                                 rng.randint(1, 5000), rng.randint(0, 99), rng.choice(["USD", "EUR", "GBP"]),
                                                 rng.choice(["travel", "meals", "software", "office"]))
        rows.append(r)
        size += len(r) + 2
    return "\r\n".join(rows) + "\r\n"


def attachment_size(rng):
    # log-uniform 5 KB .. 200 KB
    return int(5000 * (40 ** rng.random()))


def large_attachment_size(rng):
    # 1 MB .. 8 MB, skewed towards the low end (median ~1.3 MB, mean ~2.1 MB)
    return int(1_000_000 * (8 ** (rng.random() ** 3)))


def filename_params(rng, fname):
    try:
        fname.encode("ascii")
        return '; name="%s"' % fname, '; filename="%s"' % fname
    except UnicodeEncodeError:
        if rng.random() < 0.5:
            # RFC 2231 (Gmail / Thunderbird style)
            from urllib.parse import quote
            enc = "UTF-8''" + quote(fname.encode("utf-8"), safe="")
            return '; name="%s"' % encode_header_text(rng, fname, "UTF-8").replace(CRLF + " ", " "), "; filename*=%s" % enc
        # RFC 2047 in quoted params (Outlook style; technically non-standard but ubiquitous)
        e = encode_header_text(rng, fname, "UTF-8").replace(CRLF + " ", " ")
        return '; name="%s"' % e, '; filename="%s"' % e


def attachment_part(rng, size, dt, kind=None, inline_cid=None):
    weight, mime, ext, maker = kind or pick_attach_kind(rng)
    base = rng.choice(ATTACH_BASENAMES)
    fname = (base % rng.randint(1, 9999) if "%" in base else base) + "." + ext
    if maker == "pdf":
        data = fake_pdf(rng, size)
    elif maker == "png":
        data = fake_png(rng, size)
    elif maker == "jpg":
        data = fake_jpeg(rng, size)
    elif maker == "docx":
        data = fake_zip(rng, size, ["[Content_Types].xml", "_rels/.rels", "word/document.xml", "word/styles.xml", "docProps/core.xml"])
    elif maker == "xlsx":
        data = fake_zip(rng, size, ["[Content_Types].xml", "xl/workbook.xml", "xl/worksheets/sheet1.xml", "xl/styles.xml"])
    elif maker == "zip":
        data = fake_zip(rng, size, ["files/%s.bin" % token(rng, 8) for _ in range(rng.randint(1, 6))])
    elif maker == "ics":
        fname = "invite.ics"
        text = ics_text(rng, dt)
        return entity(['Content-Type: text/calendar; charset="UTF-8"; method=REQUEST; name="invite.ics"',
                       'Content-Disposition: attachment; filename="invite.ics"',
                       "Content-Transfer-Encoding: base64"], b64_body(text.encode()))
    elif maker == "csv":
        text = csv_text(rng, min(size, 60000))
        np_, fp_ = filename_params(rng, fname)
        return entity(['Content-Type: text/csv; charset="UTF-8"' + np_,
                       "Content-Disposition: attachment" + fp_,
                       "Content-Transfer-Encoding: base64"], b64_body(text.encode()))
    else:
        data = rng.randbytes(size)
    np_, fp_ = filename_params(rng, fname)
    att_id = "f_%s" % token(rng, 9).lower()
    hdrs = ["Content-Type: %s%s" % (mime, np_)]
    if inline_cid:
        hdrs.append("Content-Disposition: inline" + fp_)
        hdrs.append("Content-Transfer-Encoding: base64")
        hdrs.append("Content-ID: <%s>" % inline_cid)
        hdrs.append("X-Attachment-Id: %s" % inline_cid.split("@")[0])
    else:
        hdrs.append("Content-Disposition: attachment" + fp_)
        hdrs.append("Content-Transfer-Encoding: base64")
        if rng.random() < 0.6:
            hdrs.append("Content-ID: <%s>" % att_id)
            hdrs.append("X-Attachment-Id: %s" % att_id)
    return entity(hdrs, b64_body(data))


# --------------------------------------------------------------------------
# Message kinds
# --------------------------------------------------------------------------

class Ctx:
    def __init__(self, rng, idx):
        self.rng = rng
        self.idx = idx
        self.dt = BENCH_EPOCH + datetime.timedelta(seconds=rng.randint(0, 365 * 86400))
        self.tz = rng.choice(TZ_OFFSETS)


def subject_text(rng, lang):
    r = rng.random()
    if lang in ("ja", "ru", "fr", "de", "cp1252"):
        _cs, words, sep, end, *_ = LANGS[lang]
        return sentence(rng, words, lo=2, hi=6, sep=sep, end="")
    if lang == "utf8-intl" or r < 0.12:
        return rng.choice(UTF8_SUBJECT_BITS) + " " + sentence(rng, lo=1, hi=4, end="")
    return sentence(rng, lo=3, hi=9, end="")


def subject_header(rng, subj, lang):
    cs = None
    if lang in ("ja", "ru") and rng.random() < 0.6:
        cs = LANGS[lang][0].upper()
        cs = "Shift_JIS" if cs == "SHIFT_JIS" else cs
    elif lang in ("fr", "de") and rng.random() < 0.6:
        cs = "ISO-8859-1"
    elif lang == "cp1252" and rng.random() < 0.5:
        cs = "windows-1252"
    return encode_header_text(rng, subj, cs)


def reply_bits(rng, sender_name, sender_addr, ctx, quoted_text):
    n_refs = rng.randint(1, 8)
    refs = [msg_id(rng, rng.choice(WORK_DOMAINS + ["mail.gmail.com"])) for _ in range(n_refs)]
    when = ctx.dt - datetime.timedelta(hours=rng.randint(1, 72))
    attrib = "On %s, %s %d, %d at %d:%02d %s %s <%s> wrote:" % (
        DAYS[when.weekday()], MONTHS[when.month - 1], when.day, when.year, (when.hour % 12) or 12, when.minute,
        "AM" if when.hour < 12 else "PM", sender_name, sender_addr)
    qlines = wrap(quoted_text, 74).split("\n")
    quote_plain = attrib + "\n\n" + "\n".join(("> " + l) if l else ">" for l in qlines)
    quote_html = ('<br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">%s<br></div>'
                  '<blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;border-left:1px solid rgb(204,204,204);padding-left:1ex">%s</blockquote></div>' % (
                      html_escape(attrib), "".join("<div>%s</div>" % html_escape(p) for p in quoted_text.split("\n\n"))))
    return refs, quote_plain, quote_html


def top_headers(ctx, from_name, from_addr, to_people, cc_people, subj_hdr, mid, extra=(), charset_for_names=None,
                n_received=None):
    rng = ctx.rng
    domain = from_addr.split("@")[1]
    if n_received is None:
        n_received = rng.randint(3, 6)
    h = gmail_trace_headers(rng, ctx.dt, from_addr, domain, n_received)
    sender = []
    sender.append(hdr("MIME-Version", "1.0"))
    sender.append(hdr("From", mailbox(rng, from_name, from_addr, charset_for_names)))
    sender.append(hdr("Date", rfc_date(ctx.dt, ctx.tz)))
    sender.append(hdr("Message-ID", mid))
    for e in extra:
        sender.append(e)
    sender.append(hdr("Subject", subj_hdr))
    sender.append(hdr("To", address_list(rng, to_people, charset_for_names)))
    if cc_people:
        sender.append(hdr("Cc", address_list(rng, cc_people, charset_for_names)))
    if rng.random() < 0.3:
        rng.shuffle(sender)
    return "".join(h + sender)


def finish(top, ct_hdrs, body):
    return top.encode("ascii") + entity(ct_hdrs, body)


def split_entity(ent):
    """Split an entity() result back into (header lines, body) for use as a top-level body."""
    i = ent.index(b"\r\n\r\n")
    return ent[:i].decode("ascii").split("\r\n"), ent[i + 4:]


def recipients(rng, n_to_max=4, cc_prob=0.3):
    to = [(USER_NAME, USER)] + [random_person(rng) for _ in range(rng.randint(0, n_to_max - 1))]
    rng.shuffle(to)
    cc = [random_person(rng) for _ in range(rng.randint(1, 4))] if rng.random() < cc_prob else []
    return to, cc


def lang_charset(lang):
    return LANGS[lang][0] if lang in LANGS else "UTF-8"


def gen_personal(ctx, html_alt):
    rng = ctx.rng
    lang = pick_lang(rng)
    charset = lang_charset(lang)
    fname, faddr = random_person(rng)
    if lang in ("fr", "de"):
        fname = rng.choice(LATIN1_NAMES)
    to, cc = recipients(rng)
    subj = subject_text(rng, lang)
    is_reply = rng.random() < 0.35
    text = lang_text(rng, lang, rng.choice([300, 600, 1200, 2500, 5000]))
    extra = []
    qplain = qhtml = None
    if is_reply:
        subj = rng.choice(["Re: ", "RE: ", "Re: Re: ", "AW: ", "Fwd: Re: "]) + subj
        other_name, other_addr = random_person(rng)
        refs, qplain, qhtml = reply_bits(rng, other_name, other_addr, ctx, lang_text(rng, lang, rng.choice([400, 1500, 4000])))
        extra.append(hdr("In-Reply-To", refs[-1]))
        extra.append(hdr("References", (CRLF + " ").join(refs)))
    if rng.random() < 0.2:
        extra.append(hdr("X-Mailer", rng.choice(["Apple Mail (2.3731.700.6)", "Microsoft Outlook 16.0", "iPhone Mail (20G75)"])))
    full_plain = text + ("\n\n" + qplain if qplain else "")
    cs_name = charset
    subj_hdr = subject_header(rng, subj, lang)
    mid = msg_id(rng, faddr.split("@")[1])
    top = top_headers(ctx, fname, faddr, to, cc, subj_hdr, mid, extra)
    if not html_alt:
        ent = text_part(rng, "plain", wrap(full_plain) if rng.random() < 0.7 else full_plain, cs_name,
                        flowed=rng.random() < 0.1)
        return top.encode("ascii") + ent
    p1 = text_part(rng, "plain", full_plain, cs_name)
    p2 = text_part(rng, "html", simple_html_from_text(rng, text, qhtml), cs_name)
    ct, body = multipart(rng, "alternative", [p1, p2])
    return finish(top, ct, body)


def newsletter_text_version(rng, title, domain, approx):
    parts = [title.upper(), "=" * min(60, len(title)), ""]
    size = 0
    while size < approx:
        p = "%s\n\n%s\n\nRead more: %s\n" % (sentence(rng, lo=3, hi=7, end=""), paragraph(rng, lo=1, hi=3), track_url(rng, domain))
        parts.append(p)
        size += len(p)
    parts.append("Unsubscribe: %s" % track_url(rng, domain))
    return "\n".join(parts)


def gen_newsletter(ctx, notification=False):
    rng = ctx.rng
    name, local, domain = rng.choice(NOTIFY_SENDERS if notification else NEWS_SENDERS)
    faddr = "%s@%s" % (local, domain)
    subj = subject_text(rng, "en" if rng.random() < 0.8 else "utf8-intl")
    if notification:
        html_size = rng.randint(3000, 15000)
        text_size = rng.randint(500, 2500)
    else:
        html_size = int(10000 * (5 ** rng.random()))   # 10 KB .. 50 KB of HTML source
        text_size = rng.randint(1500, 7000)
    extra = [hdr("List-Unsubscribe", "<mailto:unsubscribe@%s?subject=unsub-%s>,%s <%s>" % (
        domain, token(rng, 16), CRLF, track_url(rng, domain))),
        hdr("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        hdr("Feedback-ID", "%d:%d:%s:%s" % (rng.randint(1, 99), rng.randint(1000, 99999), token(rng, 8), domain)),
        hdr("X-Campaign-ID", token(rng, 24))]
    if rng.random() < 0.3:
        extra.append(hdr("Precedence", "bulk"))
    top = top_headers(ctx, name, faddr, [(USER_NAME if rng.random() < 0.5 else None, USER)], [],
                      encode_header_text(rng, subj), msg_id(rng, domain), extra)
    html = newsletter_html(rng, subj, domain, html_size)
    txt = newsletter_text_version(rng, subj, domain, text_size)
    p1 = text_part(rng, "plain", txt, "UTF-8", cte=rng.choice(["quoted-printable", "7bit", "8bit"]))
    p2 = text_part(rng, "html", html, "UTF-8", cte=rng.choice(["quoted-printable"] * 6 + ["base64"] * 2 + ["8bit"]))
    ct, body = multipart(rng, "alternative", [p1, p2])
    return finish(top, ct, body)


def gen_attachments(ctx, large=False):
    rng = ctx.rng
    lang = pick_lang(rng)
    charset = lang_charset(lang)
    fname, faddr = random_person(rng, rng.choice(WORK_DOMAINS) if rng.random() < 0.6 else None)
    to, cc = recipients(rng)
    subj = rng.choice(["", "Fwd: ", "Re: "]) + subject_text(rng, lang)
    text = lang_text(rng, lang, rng.choice([200, 500, 1200]))
    top = top_headers(ctx, fname, faddr, to, cc, subject_header(rng, subj, lang), msg_id(rng, faddr.split("@")[1]))
    if rng.random() < 0.6:
        p1 = text_part(rng, "plain", text, charset)
        p2 = text_part(rng, "html", simple_html_from_text(rng, text), charset)
        act, abody = multipart(rng, "alternative", [p1, p2])
        first = entity(act, abody)
    else:
        first = text_part(rng, "plain", wrap(text), charset)
    parts = [first]
    if large:
        kind = rng.choice([k for k in ATTACH_KINDS if k[3] in ("pdf", "png", "jpg", "docx", "zip")])
        parts.append(attachment_part(rng, large_attachment_size(rng), ctx.dt, kind))
        if rng.random() < 0.3:
            parts.append(attachment_part(rng, attachment_size(rng), ctx.dt))
    else:
        n = rng.choices([1, 2, 3, 4], weights=[72, 18, 7, 3])[0]
        for _ in range(n):
            parts.append(attachment_part(rng, attachment_size(rng), ctx.dt))
    ct, body = multipart(rng, "mixed", parts)
    return finish(top, ct, body)


def gen_related(ctx):
    rng = ctx.rng
    fname, faddr = random_person(rng, rng.choice(WORK_DOMAINS))
    to, cc = recipients(rng)
    subj = subject_text(rng, "en")
    n_img = rng.randint(1, 4)
    stamp = "%s.%s" % (hexs(rng, 8).upper(), hexs(rng, 8).upper())
    cids = ["image%03d.%s@%s" % (k + 1, rng.choice(["png", "jpg"]), stamp) for k in range(n_img)]
    top = top_headers(ctx, fname, faddr, to, cc, encode_header_text(rng, subj), msg_id(rng, faddr.split("@")[1]))
    text = lang_text(rng, "en", rng.choice([400, 1200, 3000]))
    sig_imgs = "".join('<img width="%d" height="%d" src="cid:%s" alt="%s">' % (
        rng.randint(50, 600), rng.randint(20, 400), c, c.split("@")[0]) for c in cids)
    if rng.random() < 0.5:
        html = simple_html_from_text(rng, text) + '<div><table><tr><td>%s</td></tr></table></div>\n' % sig_imgs
    else:
        html = newsletter_html(rng, subj, faddr.split("@")[1], rng.randint(8000, 30000), images=cids)
        html = html.replace("</body>", sig_imgs + "\n</body>")
    p1 = text_part(rng, "plain", text, "UTF-8")
    p2 = text_part(rng, "html", html, "UTF-8")
    act, abody = multipart(rng, "alternative", [p1, p2])
    rel_parts = [entity(act, abody)]
    for c in cids:
        kind = next(k for k in ATTACH_KINDS if k[2] == c.split("@")[0].split(".")[1])
        rel_parts.append(attachment_part(rng, int(3000 * (20 ** rng.random())), ctx.dt, kind, inline_cid=c))
    rct, rbody = multipart(rng, "related", rel_parts, extra_params='; type="multipart/alternative"')
    if rng.random() < 0.35:
        parts = [entity(rct, rbody)] + [attachment_part(rng, attachment_size(rng), ctx.dt) for _ in range(rng.randint(1, 2))]
        ct, body = multipart(rng, "mixed", parts)
        return finish(top, ct, body)
    return finish(top, rct, rbody)


def inner_message(ctx):
    """A smaller embedded message (for message/rfc822 forwards)."""
    rng = ctx.rng
    fname, faddr = random_person(rng)
    to = [random_person(rng) for _ in range(rng.randint(1, 3))]
    subj = subject_text(rng, "en" if rng.random() < 0.8 else "utf8-intl")
    h = [hdr("Received", "from mail.%s (mail.%s [%d.%d.%d.%d]) by mx.%s with ESMTPS id %s; %s" % (
        faddr.split("@")[1], faddr.split("@")[1], rng.randint(1, 223), rng.randint(0, 255), rng.randint(0, 255),
        rng.randint(1, 254), rng.choice(WORK_DOMAINS), token(rng, 10), rfc_date(ctx.dt - datetime.timedelta(days=2), 0))),
        hdr("MIME-Version", "1.0"),
        hdr("From", mailbox(rng, fname, faddr)),
        hdr("To", address_list(rng, to)),
        hdr("Subject", encode_header_text(rng, subj)),
        hdr("Date", rfc_date(ctx.dt - datetime.timedelta(days=2), ctx.tz)),
        hdr("Message-ID", msg_id(rng, faddr.split("@")[1]))]
    text = lang_text(rng, "en", rng.choice([500, 2000]))
    if rng.random() < 0.5:
        ent = text_part(rng, "plain", wrap(text), "UTF-8")
    else:
        p1 = text_part(rng, "plain", text, "UTF-8")
        p2 = text_part(rng, "html", simple_html_from_text(rng, text), "UTF-8")
        parts = [entity(*multipart(rng, "alternative", [p1, p2]))]
        if rng.random() < 0.5:
            parts.append(attachment_part(rng, attachment_size(rng) // 2, ctx.dt))
        ct, body = multipart(rng, "mixed", parts)
        ent = entity(ct, body)
    return "".join(h).encode("ascii") + ent


def gen_forward(ctx):
    rng = ctx.rng
    fname, faddr = random_person(rng)
    to, cc = recipients(rng)
    subj = "Fwd: " + subject_text(rng, "en")
    top = top_headers(ctx, fname, faddr, to, cc, encode_header_text(rng, subj), msg_id(rng, faddr.split("@")[1]))
    intro = text_part(rng, "plain", "FYI, see the forwarded message below.\n\n" + paragraph(rng), "UTF-8")
    inner = inner_message(ctx)
    fwd = entity(['Content-Type: message/rfc822; name="forwarded message.eml"',
                  'Content-Disposition: attachment; filename="forwarded message.eml"'], inner)
    ct, body = multipart(rng, "mixed", [intro, fwd])
    return finish(top, ct, body)


# --------------------------------------------------------------------------
# Shapes other than the default ("attachments"): gmail-small, newsletter, mixed
# --------------------------------------------------------------------------
#
# Each message of these shapes is generated from its own
# `Random(f"{shape}:{seed}:{i}")`, so the shapes are independent streams and the
# default shape's output (seeded "{seed}:{i}") is untouched.

def log_uniform(rng, lo, hi):
    return lo * ((hi / lo) ** rng.random())


def mailbox_any(rng, name, addr, raw_utf8_prob=0.0):
    """Like mailbox(), but a non-ASCII display name is sent as raw UTF-8 (RFC 6532,
    as SMTPUTF8 senders deliver it) with probability raw_utf8_prob, else RFC 2047."""
    if name and raw_utf8_prob and not name.isascii() and rng.random() < raw_utf8_prob:
        if rng.random() < 0.5:
            return '"%s" <%s>' % (name.replace('"', '\\"'), addr)
        return "%s <%s>" % (name, addr)
    return mailbox(rng, name, addr)


def address_list_any(rng, people, raw_utf8_prob=0.0):
    items = [mailbox_any(rng, n, a, raw_utf8_prob) for n, a in people]
    out = items[0]
    linelen = len(out)
    for it in items[1:]:
        if linelen + len(it) + 2 > 70:
            out += "," + CRLF + " " + it
            linelen = len(it) + 1
        else:
            out += ", " + it
            linelen += len(it) + 2
    return out


def many_recipients(rng, lo=1, hi=20):
    """lo..hi recipients in total (skewed towards few), split over To and Cc; the
    mailbox owner is one of them."""
    n = lo + int((hi - lo + 1) * rng.random() ** 2.2)
    n = min(hi, max(lo, n))
    people = [(USER_NAME, USER)] + [random_person(rng, nonascii=0.2) for _ in range(n - 1)]
    rng.shuffle(people)
    if n == 1:
        return people, []
    n_to = rng.randint(1, n) if rng.random() < 0.6 else n
    return people[:n_to], people[n_to:]


def gmail_top(ctx, from_name, from_addr, to, cc, subj_hdr, mid, extra=(), raw_utf8_prob=0.0, n_received=None):
    """Gmail-style header block (4-9 Received, DKIM, ARC, X-Gm-Message-State, ...) as UTF-8 bytes."""
    rng = ctx.rng
    domain = from_addr.split("@")[1]
    if n_received is None:
        n_received = rng.randint(4, 9)
    h = gmail_trace_headers(rng, ctx.dt, from_addr, domain, n_received, force_gm=True)
    sender = [hdr("MIME-Version", "1.0"),
              hdr("From", mailbox_any(rng, from_name, from_addr, raw_utf8_prob)),
              hdr("Date", rfc_date(ctx.dt, ctx.tz)),
              hdr("Message-ID", mid)]
    sender += list(extra)
    sender.append(hdr("Subject", subj_hdr))
    if to:
        sender.append(hdr("To", address_list_any(rng, to, raw_utf8_prob)))
    if cc:
        sender.append(hdr("Cc", address_list_any(rng, cc, raw_utf8_prob)))
    if rng.random() < 0.3:
        rng.shuffle(sender)
    return "".join(h + sender).encode("utf-8")


def pick_text_cte(rng, text, charset):
    """Mostly quoted-printable, as Gmail sends non-trivial text."""
    r = rng.random()
    if r < 0.80:
        return "quoted-printable"
    if r < 0.90:
        return "base64"
    try:
        text.encode("ascii")
        return "7bit"
    except UnicodeEncodeError:
        return "8bit" if charset.lower() not in ("shift_jis",) else "base64"


def gmail_attribution(rng, when, name, addr):
    return "On %s, %s %d, %d at %d:%02d %s %s <%s> wrote:" % (
        DAYS[when.weekday()], MONTHS[when.month - 1], when.day, when.year, (when.hour % 12) or 12, when.minute,
        "AM" if when.hour < 12 else "PM", name, addr)


def signature(rng, name, lang):
    if lang not in ("en", "utf8-intl") or rng.random() < 0.4:
        return ""
    return "\n\n--\n%s\n%s | %s\n+1 (%03d) %03d-%04d\nhttps://www.%s" % (
        name, rng.choice(["Partner", "Associate", "Analyst", "Principal", "VP Finance", "CFO", "Head of IR"]),
        rng.choice(WORK_DOMAINS).split(".")[0].replace("-", " ").title(),
        rng.randint(200, 999), rng.randint(200, 999), rng.randint(0, 9999), rng.choice(WORK_DOMAINS))


def thread_bodies(rng, ctx, fresh, history):
    """fresh: the new text; history: [(name, addr, text)] newest first.
    Returns (plain, html) with Gmail-style nested quoting of the history."""
    when = ctx.dt
    attribs = []
    for name, addr, _ in history:
        when = when - datetime.timedelta(minutes=rng.randint(20, 3 * 24 * 60))
        attribs.append(gmail_attribution(rng, when, name, addr))
    # plain: each older message is quoted one level deeper, like Gmail does
    plain = ""
    for (name, addr, text), attrib in reversed(list(zip(history, attribs))):
        inner = wrap(text, 74) + (("\n\n" + plain) if plain else "")
        plain = attrib + "\n\n" + "\n".join(("> " + l) if l else ">" for l in inner.split("\n"))
    plain = fresh + ("\n\n" + plain if plain else "")
    # html: nested gmail_quote blockquotes
    html = ""
    for (name, addr, text), attrib in reversed(list(zip(history, attribs))):
        inner = "".join('<div dir="ltr">%s</div><div><br></div>' % html_escape(p).replace("\n", "<br>")
                        for p in text.split("\n\n"))
        html = ('<div class="gmail_quote"><div dir="ltr" class="gmail_attr">%s<br></div>'
                '<blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;border-left:1px solid rgb(204,204,204);'
                'padding-left:1ex">%s%s</blockquote></div>') % (html_escape(attrib), inner, ("<br>" + html) if html else "")
    fresh_html = "".join('<div dir="ltr">%s</div><div><br></div>' % html_escape(p).replace("\n", "<br>")
                         for p in fresh.split("\n\n"))
    html = '<div dir="ltr">%s</div>%s\n' % (fresh_html, ("<br>" + html) if html else "")
    return plain, html


def gen_gmail_personal(ctx, body_lo=2000, body_hi=15000, n_attach=0, large=False, raw_utf8_prob=0.15, extra_attach=0):
    """A personal/work Gmail message: 2-15 KB body (by default), multi-KB Gmail header
    block, 1-20 recipients, mostly QP multipart/alternative, replies with quoted history.
    extra_attach: that many more files of the everyday kinds (ATTACH_KINDS, 5-200 KB),
    after the n_attach ones (shape mixed-attach; 0 leaves the message as it was)."""
    rng = ctx.rng
    lang = pick_lang(rng)
    charset = lang_charset(lang)
    fname, faddr = random_person(rng, rng.choice(WORK_DOMAINS) if rng.random() < 0.5 else None, nonascii=0.15)
    if lang in ("fr", "de"):
        fname = rng.choice(LATIN1_NAMES)
    to, cc = many_recipients(rng)
    subj = subject_text(rng, lang)
    body_target = log_uniform(rng, body_lo, body_hi)
    alt = rng.random() < 0.85
    extra = []
    people = []
    if rng.random() < 0.6:
        depth = rng.choice([1, 1, 2, 2, 3, 4])
        people = [random_person(rng, nonascii=0.15) for _ in range(depth)]
        subj = rng.choice(["Re: ", "Re: ", "RE: ", "Re: Re: ", "AW: ", "Fwd: Re: "]) + subj
        refs = [msg_id(rng, rng.choice(WORK_DOMAINS + ["mail.gmail.com"])) for _ in range(depth + rng.randint(0, 6))]
        extra.append(hdr("In-Reply-To", refs[-1]))
        extra.append(hdr("References", (CRLF + " ").join(refs)))
    if rng.random() < 0.15:
        extra.append(hdr("X-Mailer", rng.choice(["Apple Mail (2.3731.700.6)", "Microsoft Outlook 16.0",
                                                  "iPhone Mail (20G75)"])))
    top = gmail_top(ctx, fname, faddr, to, cc, subject_header(rng, subj, lang),
                    msg_id(rng, faddr.split("@")[1]), extra, raw_utf8_prob)
    fresh_share = rng.uniform(0.15, 0.5) if people else 1.0
    sig = signature(rng, fname, lang)

    def build(text_budget):
        fresh = lang_text(rng, lang, text_budget * fresh_share) + sig
        per = max(150.0, text_budget * (1 - fresh_share) / max(1, len(people)))
        history = [(hn, ha, lang_text(rng, lang, per * rng.uniform(0.6, 1.4))) for hn, ha in people]
        plain, html = thread_bodies(rng, ctx, fresh, history)
        if alt:
            p1 = text_part(rng, "plain", plain, charset, cte=pick_text_cte(rng, plain, charset))
            p2 = text_part(rng, "html", html, charset, cte=pick_text_cte(rng, html, charset))
            return multipart(rng, "alternative", [p1, p2])
        ent = text_part(rng, "plain", wrap(plain) if rng.random() < 0.7 else plain, charset,
                        cte=pick_text_cte(rng, plain, charset), flowed=rng.random() < 0.1)
        return split_entity(ent)

    # The encoded body (both alternatives, QP/base64 overhead, quoting, MIME framing)
    # must land in [body_lo, body_hi]: start from an estimate, then rescale (deterministic).
    budget = max(300.0, body_target * (0.40 if alt else 0.80) - 700)
    for _attempt in range(6):
        first_ct, first_body = build(budget)
        n = len(first_body)
        if body_lo <= n <= body_hi:
            break
        budget = max(100.0, budget * (body_target / n))
    if not n_attach and not large and not extra_attach:
        return top + entity(first_ct, first_body)
    parts = [entity(first_ct, first_body)]
    if large:
        kind = rng.choice([k for k in ATTACH_KINDS if k[3] == "pdf"] * 3 +
                          [k for k in ATTACH_KINDS if k[3] in ("docx", "zip", "png")])
        parts.append(attachment_part(rng, int(1_000_000 * (5 ** (rng.random() ** 2))), ctx.dt, kind))
    for _ in range(n_attach):
        parts.append(attachment_part(rng, int(log_uniform(rng, 20_000, 300_000)), ctx.dt))
    for _ in range(extra_attach):
        parts.append(attachment_part(rng, attachment_size(rng), ctx.dt))
    ct, body = multipart(rng, "mixed", parts)
    return top + entity(ct, body)


LIST_MAILERS = ["MailChimp Mailer - **CID%s**", "Customer.io", "SendGrid", "Braze", "Salesforce Marketing Cloud",
                "Klaviyo", "HubSpot"]


def gen_bulk(ctx, html_lo=30_000, html_hi=150_000, notification=False, extra_attach=0):
    """Bulk mail: newsletter (30-150 KB of inline-CSS table HTML, small text/plain
    alternative, sometimes base64 HTML, sometimes inline images) or, with
    notification=True, a transactional notification (smaller HTML).
    extra_attach: that many receipt-like files (PDF 5-200 KB, or an .ics invite) in a
    multipart/mixed around the alternative (shape mixed-attach; 0 leaves it as it was)."""
    rng = ctx.rng
    name, local, domain = rng.choice(NOTIFY_SENDERS if notification else NEWS_SENDERS)
    faddr = "%s@%s" % (local, domain)
    subj = subject_text(rng, "en" if rng.random() < 0.8 else "utf8-intl")
    html_size = int(log_uniform(rng, html_lo, html_hi))
    text_size = rng.randint(500, 2500) if notification else rng.randint(1000, 5000)
    list_name = name.lower().replace(" ", "-").replace(".", "")
    extra = [hdr("List-Unsubscribe", "<mailto:unsubscribe@%s?subject=unsub-%s>,%s <%s>" % (
        domain, token(rng, 16), CRLF, track_url(rng, domain))),
        hdr("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        hdr("Feedback-ID", "%d:%d:%s:%s" % (rng.randint(1, 99), rng.randint(1000, 99999), token(rng, 8), domain)),
        hdr("X-Campaign-ID", token(rng, 24))]
    if not notification or rng.random() < 0.3:
        extra.append(hdr("List-Id", '"%s" <%s.%s.list-id.%s>' % (name, list_name, hexs(rng, 12), domain)))
    if not notification or rng.random() < 0.4:
        extra.append(hdr("Precedence", "bulk"))
    if rng.random() < 0.6:
        m = rng.choice(LIST_MAILERS)
        extra.append(hdr("X-Mailer", m % hexs(rng, 10) if "%" in m else m))
    if rng.random() < 0.5:
        extra.append(hdr("Reply-To", mailbox(rng, name, "reply-%s@%s" % (token(rng, 10).lower(), domain))))
    top = gmail_top(ctx, name, faddr, [(USER_NAME if rng.random() < 0.5 else None, USER)], [],
                    encode_header_text(rng, subj), msg_id(rng, domain), extra, n_received=rng.randint(3, 6))
    related = not notification and rng.random() < 0.1
    cids = None
    if related:
        stamp = "%s.%s" % (hexs(rng, 8).upper(), hexs(rng, 8).upper())
        cids = ["img%03d.png@%s" % (k + 1, stamp) for k in range(rng.randint(1, 3))]
    html = newsletter_html(rng, subj, domain, html_size, images=cids)
    txt = newsletter_text_version(rng, subj, domain, text_size)
    p1 = text_part(rng, "plain", txt, "UTF-8", cte=rng.choice(["quoted-printable", "quoted-printable", "7bit"]))
    html_cte = rng.choices(["quoted-printable", "base64", "8bit"], weights=[60, 30, 10])[0]
    p2 = text_part(rng, "html", html, "UTF-8", cte=html_cte)
    act, abody = multipart(rng, "alternative", [p1, p2])
    if not related and extra_attach:
        receipt = [k for k in ATTACH_KINDS if k[2] in ("pdf", "pdf", "ics")]
        parts = [entity(act, abody)] + [attachment_part(rng, attachment_size(rng), ctx.dt, rng.choice(receipt))
                                        for _ in range(extra_attach)]
        ct, body = multipart(rng, "mixed", parts)
        return top + entity(ct, body)
    if not related:
        return top + entity(act, abody)
    png = next(k for k in ATTACH_KINDS if k[2] == "png")
    rel = [entity(act, abody)] + [attachment_part(rng, int(log_uniform(rng, 3000, 30000)), ctx.dt, png, inline_cid=c)
                                  for c in cids]
    rct, rbody = multipart(rng, "related", rel, extra_params='; type="multipart/alternative"')
    return top + entity(rct, rbody)


def scheduled(idx, pct):
    """True for exactly round(N * pct / 100) of the first N messages, evenly spread."""
    p = pct / 100.0
    return math.floor(idx * p + 0.5) > math.floor((idx - 1) * p + 0.5)


def make_mixed(ctx, large_pct, arng=None, attach_pct=0.0):
    """Roughly the issue #17 corpus: 2,000 messages ~ 116 MB, median ~27 KB.

    With arng (shape mixed-attach), files are added to mixed's messages: attach_pct% of the
    small and medium personal messages carry 1-4 (weights 60/25/10/5, 5-200 KB each, the
    everyday kinds) and attach_pct*0.6% of the notifications a receipt (PDF or .ics). The
    decisions come from arng, a stream of their own, so every message's text and headers are
    mixed's; only the added parts (and the multipart/mixed around them) differ."""
    rng = ctx.rng

    def personal_files():
        if arng is None or arng.random() * 100.0 >= attach_pct:
            return 0
        return arng.choices([1, 2, 3, 4], weights=[60, 25, 10, 5])[0]

    def receipts():
        return 1 if arng is not None and arng.random() * 100.0 < attach_pct * 0.6 else 0

    if scheduled(ctx.idx, large_pct):
        return gen_gmail_personal(ctx, large=True)
    r = rng.random() * 100.0
    if r < 39:
        return gen_gmail_personal(ctx, extra_attach=personal_files())    # small personal (2-15 KB body)
    if r < 57:
        return gen_gmail_personal(ctx, body_lo=12_000, body_hi=50_000,   # medium: longer threads
                                  extra_attach=personal_files())
    if r < 81:
        return gen_bulk(ctx, 12_000, 45_000, notification=True,          # notifications / receipts
                        extra_attach=receipts())
    if r < 96:
        return gen_bulk(ctx)                                             # newsletters (30-150 KB HTML)
    return gen_gmail_personal(ctx, n_attach=rng.choice([1, 1, 1, 2]))    # 20-300 KB attachments


SHAPES = {
    # name: (description, default --large-pct or None when the option does not apply)
    "attachments": ("the original attachment-heavy mix (default)", 1.0),
    "gmail-small": ("small personal messages (2-15 KB body) with multi-KB Gmail header blocks", None),
    "newsletter": ("HTML-heavy newsletters (30-150 KB HTML, bulk headers)", None),
    "mixed": ("issue #17's corpus: mostly Gmail-like messages, newsletters, a few multi-MB attachments", 0.7),
    "mixed-attach": ("mixed with files added as in issue #17's mailbox (~0.57 attachments a message)", 0.7),
}

# mixed-attach: default share (%) of personal messages carrying files (see make_mixed).
MIXED_ATTACH_PCT = 48.0


def make_shaped_message(shape, seed, idx, large_pct, attach_pct=MIXED_ATTACH_PCT):
    if shape == "attachments":
        return make_message(seed, idx, large_pct)
    if shape == "mixed-attach":
        # mixed's own stream (so the messages are mixed's), plus a stream for the added files.
        ctx = Ctx(Random("mixed:%d:%d" % (seed, idx)), idx)
        return make_mixed(ctx, large_pct, arng=Random("mixed-attach:%d:%d" % (seed, idx)), attach_pct=attach_pct)
    rng = Random("%s:%d:%d" % (shape, seed, idx))
    ctx = Ctx(rng, idx)
    if shape == "gmail-small":
        return gen_gmail_personal(ctx)
    if shape == "newsletter":
        return gen_bulk(ctx)
    if shape == "mixed":
        return make_mixed(ctx, large_pct)
    raise ValueError("unknown shape %r" % shape)


def make_message(seed, idx, large_pct):
    rng = Random("%d:%d" % (seed, idx))
    ctx = Ctx(rng, idx)
    # Large-attachment messages are scheduled (not drawn) so that exactly
    # round(N * large_pct / 100) of the first N messages carry one, evenly spread.
    p = large_pct / 100.0
    if math.floor(idx * p + 0.5) > math.floor((idx - 1) * p + 0.5):
        return gen_attachments(ctx, large=True)
    r = rng.random() * 100.0
    if r < 29:
        return gen_personal(ctx, html_alt=False)
    if r < 46:
        return gen_personal(ctx, html_alt=True)
    if r < 71:
        return gen_newsletter(ctx)
    if r < 79:
        return gen_newsletter(ctx, notification=True)
    if r < 92:
        return gen_attachments(ctx)
    if r < 97:
        return gen_related(ctx)
    if r < 99:
        return gen_forward(ctx)
    return gen_personal(ctx, html_alt=rng.random() < 0.5)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("outdir")
    ap.add_argument("--messages", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--shape", choices=list(SHAPES), default="attachments",
                    help="corpus shape: " + "; ".join("%s = %s" % (k, v[0]) for k, v in SHAPES.items()))
    ap.add_argument("--large-pct", type=float, default=None,
                    help="percentage of messages carrying a multi-MB attachment (attachments: default 1.0, "
                         "1-8 MB; mixed and mixed-attach: default 0.7, 1-5 MB; not used by the other shapes)")
    ap.add_argument("--attach-pct", type=float, default=None,
                    help="mixed-attach only: percentage of personal messages carrying 1-4 files (default %g; "
                         "notifications get a receipt at 0.6 times that rate)" % MIXED_ATTACH_PCT)
    args = ap.parse_args(argv)
    if args.attach_pct is not None and args.shape != "mixed-attach":
        ap.error("--attach-pct applies only to --shape mixed-attach")
    attach_pct = MIXED_ATTACH_PCT if args.attach_pct is None else args.attach_pct
    default_pct = SHAPES[args.shape][1]
    if args.large_pct is not None and default_pct is None:
        ap.error("--large-pct does not apply to --shape %s" % args.shape)
    large_pct = default_pct if args.large_pct is None else args.large_pct
    os.makedirs(args.outdir, exist_ok=True)
    total = 0
    sizes = []
    width = max(6, len(str(args.messages)))
    for i in range(1, args.messages + 1):
        data = make_shaped_message(args.shape, args.seed, i, large_pct, attach_pct)
        with open(os.path.join(args.outdir, "%0*d.eml" % (width, i)), "wb") as f:
            f.write(data)
        total += len(data)
        sizes.append(len(data))
    sizes.sort()
    n = len(sizes)
    median = (sizes[(n - 1) // 2] + sizes[n // 2]) / 2 if n else 0
    print("messages: %d" % args.messages)
    print("bytes: %d (%.1f MB)" % (total, total / 1e6))
    print("shape: %s  median: %.1f KB  mean: %.1f KB  max: %.1f KB" % (
        args.shape, median / 1e3, (total / n / 1e3) if n else 0, (sizes[-1] / 1e3) if n else 0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
