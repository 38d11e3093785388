"""Shared helpers for the MIME fixture generator (Scripts/make_mime_fixtures.py).

Every fixture is built as exact bytes (LF line ends unless a fixture asks for CRLF) together with an
"expect" dict of facts that are true by construction. Modules call `register(...)`; the entry point
writes the files. Nothing here uses randomness without a fixed seed, so output is byte-identical
on every run.
"""

import base64
import datetime
import hashlib
import io
import struct
import zipfile
import zlib

FOLDERS = ("rfc", "gmail", "charsets", "malformed", "structure")

# (folder, num, slug, covers, data, expect)
FIXTURES = []


def register(folder, num, slug, covers, data, expect, crlf=False):
    """Record one fixture. `data` is str (encoded as UTF-8) or bytes, written with LF line ends;
    `crlf=True` converts every LF to CRLF. Bare CR is never allowed."""
    assert folder in FOLDERS, folder
    if isinstance(data, str):
        data = data.encode("utf-8")
    assert b"\r" not in data, f"{slug}: bare CR in source"
    if crlf:
        data = data.replace(b"\n", b"\r\n")
    assert all(n != num for (_, n, *_rest) in FIXTURES), f"duplicate number {num}"
    assert all(s != slug for (_, _, s, *_rest) in FIXTURES), f"duplicate slug {slug}"
    FIXTURES.append((folder, num, slug, covers, data, expect))


# --------------------------------------------------------------------------------------------
# bytes helpers

def B(x):
    """str -> UTF-8 bytes; bytes unchanged."""
    return x.encode("utf-8") if isinstance(x, str) else x


def join(*parts):
    return b"".join(B(p) for p in parts)


def prng(seed, n):
    """n deterministic pseudo-random bytes from a string seed (SHA-256 in counter mode)."""
    out = bytearray()
    i = 0
    while len(out) < n:
        out += hashlib.sha256(f"{seed}:{i}".encode()).digest()
        i += 1
    return bytes(out[:n])


def hexid(seed, n=16):
    return hashlib.sha256(seed.encode()).hexdigest()[:n]


def sha256(data):
    return hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------------------------
# transfer encodings

# (folder, number) -> (block, count): fixtures whose base64 body is `block` repeated `count` times,
# stored as a template (see make_mime_fixtures.py).
TEMPLATES = {}


def template(data, block, count):
    """`data` with the base64 body of block*count replaced by the marker line the Swift tests expand."""
    body = b64(block * count).encode("ascii")
    assert data.count(body) == 1, "the repeated body must occur exactly once"
    marker = ("@@base64-repeat lines=76 count=%d block=%s@@\n" % (count, base64.b64encode(block).decode("ascii"))).encode("ascii")
    return data.replace(body, marker)


def b64(data, width=76):
    """Base64 in lines of `width` characters, LF separated, with a final LF."""
    s = base64.b64encode(data).decode("ascii")
    return "".join(s[i:i + width] + "\n" for i in range(0, len(s), width))


def qp(data, width=76):
    """Quoted-printable (RFC 2045 §6.7) of bytes whose line ends are LF. Soft breaks keep every
    encoded line <= width characters; '=', controls, 8-bit bytes and trailing blanks are escaped."""
    data = B(data)
    out = []
    lines = data.split(b"\n")
    for idx, line in enumerate(lines):
        toks = []
        for j, c in enumerate(line):
            last = j == len(line) - 1
            if c == 0x3D or c > 126 or (c < 32 and c != 9) or (last and c in (9, 32)):
                toks.append("=%02X" % c)
            else:
                toks.append(chr(c))
        cur = ""
        for t in toks:
            if len(cur) + len(t) > width - 1:
                out.append(cur + "=")
                cur = ""
            cur += t
        out.append(cur)
    return "\n".join(out)


# --------------------------------------------------------------------------------------------
# RFC 2047 encoded words

def ew_b(text, charset="UTF-8", codec=None):
    raw = text.encode(codec or charset) if isinstance(text, str) else text
    return f"=?{charset}?B?{base64.b64encode(raw).decode()}?="


def ew_q(text, charset="UTF-8", codec=None):
    raw = text.encode(codec or charset) if isinstance(text, str) else text
    s = ""
    for c in raw:
        if c == 0x20:
            s += "_"
        elif (0x30 <= c <= 0x39) or (0x41 <= c <= 0x5A) or (0x61 <= c <= 0x7A) or chr(c) in "!*+-/":
            s += chr(c)
        else:
            s += "=%02X" % c
    return f"=?{charset}?Q?{s}?="


# --------------------------------------------------------------------------------------------
# dates

DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


class D:
    """A date: .hdr is the RFC 5322 form ("Tue, 5 Mar 2024 09:04:00 -0800"), .iso the UTC ISO form."""

    def __init__(self, y, mo, d, h, mi, s=0, off_min=0):
        tz = datetime.timezone(datetime.timedelta(minutes=off_min))
        self.dt = datetime.datetime(y, mo, d, h, mi, s, tzinfo=tz)
        sign = "-" if off_min < 0 else "+"
        a = abs(off_min)
        self.zone = f"{sign}{a // 60:02d}{a % 60:02d}"
        self.hdr = (f"{DAYS[self.dt.weekday()]}, {d} {MONTHS[mo - 1]} {y} "
                    f"{h:02d}:{mi:02d}:{s:02d} {self.zone}")
        self.iso = self.dt.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    def minus(self, seconds):
        """The same zone, `seconds` earlier (for Received stamps)."""
        t = self.dt - datetime.timedelta(seconds=seconds)
        return (f"{DAYS[t.weekday()]}, {t.day} {MONTHS[t.month - 1]} {t.year} "
                f"{t.hour:02d}:{t.minute:02d}:{t.second:02d} {self.zone}")

    def utc_minus(self, seconds):
        t = (self.dt - datetime.timedelta(seconds=seconds)).astimezone(datetime.timezone.utc)
        return (f"{DAYS[t.weekday()]}, {t.day:02d} {MONTHS[t.month - 1]} {t.year} "
                f"{t.hour:02d}:{t.minute:02d}:{t.second:02d} +0000 (UTC)")


# --------------------------------------------------------------------------------------------
# realistic header sets

def fold_b64_param(prefix, value, first=70, rest=74):
    """`prefix` + a long token folded with tab continuations (DKIM/ARC style)."""
    lines = [prefix + value[:first]]
    v = value[first:]
    while v:
        lines.append("\t " + v[:rest])
        v = v[rest:]
    return "\n".join(lines)


def fake_sig(seed, n=344):
    return base64.b64encode(prng("sig" + seed, n * 3 // 4)).decode()[:n]


def dkim(domain, selector, seed, headers="from:to:subject:date:message-id:mime-version:content-type"):
    bh = base64.b64encode(hashlib.sha256(("bh" + seed).encode()).digest()).decode()
    t = 1700000000 + int(hexid(seed, 6), 16) % 20000000
    return (f"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;\n"
            f"        d={domain}; s={selector}; t={t}; x={t + 604800};\n"
            f"        h={headers};\n"
            f"        bh={bh};\n" +
            fold_b64_param("        b=", fake_sig(seed)))


def gmail_trace(rcpt, sender_domain, date, seed, ip="203.0.113.25", sender_host=None):
    """Headers Gmail adds on delivery (Delivered-To ... Authentication-Results), newest first."""
    sh = sender_host or f"mail-out.{sender_domain}"
    h = hexid(seed, 12)
    return [
        f"Delivered-To: {rcpt}",
        f"Received: by 2002:a05:7300:{h[:4]}:b0:{h[4:8]}:{h[8:12]}:{h[:4]} with SMTP id {h}csp{int(h[:6], 16)};\n"
        f"        {date.minus(2)}",
        f"X-Google-Smtp-Source: {fake_sig('xg' + seed, 88)}",
        f"X-Received: by 2002:a17:907:{h[2:6]}:b0:{h[6:10]}:{h[:4]} with SMTP id {h[::-1]}.{int(h[:4], 16)}.{h[4:10]};\n"
        f"        {date.minus(2)}",
        "ARC-Seal: i=1; a=rsa-sha256; t=1709658242; cv=none;\n"
        "        d=google.com; s=arc-20160816;\n" + fold_b64_param("        b=", fake_sig("arc" + seed, 172)),
        f"Return-Path: <bounces+{h[:8]}@{sender_domain}>",
        f"Received: from {sh} ({sh}. [{ip}])\n"
        f"        by mx.google.com with ESMTPS id {h}.{int(h[3:7], 16)}.2024.{h[:6]}\n"
        f"        for <{rcpt}>\n"
        f"        (version=TLS1_3 cipher=TLS_AES_256_GCM_SHA384 bits=256/256);\n"
        f"        {date.minus(3)}",
        f"Received-SPF: pass (google.com: domain of bounces+{h[:8]}@{sender_domain} designates {ip} as permitted sender) client-ip={ip};",
        "Authentication-Results: mx.google.com;\n"
        f"       dkim=pass header.i=@{sender_domain} header.s=s1 header.b={fake_sig('ar' + seed, 8)};\n"
        f"       spf=pass (google.com: domain of bounces+{h[:8]}@{sender_domain} designates {ip} as permitted sender) smtp.mailfrom=bounces+{h[:8]}@{sender_domain};\n"
        f"       dmarc=pass (p=NONE sp=NONE dis=NONE) header.from={sender_domain}",
    ]


def gmail_sender_headers(domain, date, seed):
    """DKIM for a message sent from Gmail / Google Workspace."""
    return [dkim(domain, "google", seed, "mime-version:from:date:message-id:subject:to:cc"),
            f"X-Google-DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;\n"
            f"        d=1e100.net; s=20230601; t=1709658241; x=1710263041;\n"
            f"        h=to:subject:message-id:date:from:mime-version:x-gm-message-state\n"
            f"         :from:to:cc:subject:date:message-id:reply-to;\n" +
            fold_b64_param("        b=", fake_sig("xgd" + seed, 172)),
            f"X-Gm-Message-State: {fake_sig('gms' + seed, 60)}"]


def gmail_msgid(seed):
    return "CA" + base64.b64encode(prng("mid" + seed, 36)).decode().replace("/", "_").replace("+", "-") + "@mail.gmail.com"


def gmail_boundary(seed):
    return "000000000000" + hexid("gb" + seed, 16)


# --------------------------------------------------------------------------------------------
# message assembly

def message(headers, body):
    """Header lines (str/bytes, may contain folded continuations), a blank line, the body."""
    return join(b"\n".join(B(h) for h in headers), b"\n\n", body)


def part(headers, body):
    return join(b"\n".join(B(h) for h in headers), b"\n\n", body)


def multipart(boundary, parts, preamble=None, epilogue=None, close=True):
    """A multipart body. Each part should end with LF (that LF belongs to the next delimiter)."""
    out = b""
    if preamble is not None:
        out += B(preamble)
    for p in parts:
        p = B(p)
        if not p.endswith(b"\n"):
            p += b"\n"
        out += join("--", boundary, "\n", p)
    if close:
        out += join("--", boundary, "--\n")
    if epilogue is not None:
        out += B(epilogue)
    return out


def text_part(text, subtype="plain", charset="UTF-8", cte="7bit", codec=None, extra=(), ct_extra=""):
    raw = text.encode(codec or charset) if isinstance(text, str) else text
    if cte == "quoted-printable":
        body = qp(raw)
        if not body.endswith("\n"):
            body += "\n"
    elif cte == "base64":
        body = b64(raw)
    else:
        body = raw
    cs = f'; charset="{charset}"' if charset else ""
    hs = [f"Content-Type: text/{subtype}{cs}{ct_extra}"]
    if cte:
        hs.append(f"Content-Transfer-Encoding: {cte}")
    hs += list(extra)
    return part(hs, body)


def att(data, mime, filename=None, cid=None, inline=False):
    """The expect entry of an attachment whose decoded bytes are `data`."""
    d = {"filename": filename, "mimeType": mime}
    if data is not None:
        d["size"] = len(data)
        d["sha256"] = sha256(data)
    d["contentId"] = cid
    d["inline"] = inline
    return d


def file_part(data, mime, filename=None, disposition="attachment", cid=None, name_param=True,
              extra=(), ct_params=""):
    """A base64 leaf. Returns (bytes, expect entry). disposition None omits the header."""
    ct = f"Content-Type: {mime}"
    if filename is not None and name_param:
        ct += f'; name="{filename}"'
    ct += ct_params
    hs = [ct]
    if disposition:
        hs.append(f'Content-Disposition: {disposition}' + (f'; filename="{filename}"' if filename is not None else ""))
    hs.append("Content-Transfer-Encoding: base64")
    if cid:
        hs.append(f"Content-ID: <{cid}>")
    hs += list(extra)
    inline = disposition == "inline" or (disposition is None and cid is not None)
    return part(hs, b64(data)), att(data, mime, filename, cid, inline)


def addr(name, address):
    return {"name": name, "address": address}


# --------------------------------------------------------------------------------------------
# synthetic file contents (deterministic, small)

def fake_pdf(title, pages=1, pad=0):
    """A small structurally plausible PDF."""
    objs = []
    content = f"BT /F1 18 Tf 72 720 Td ({title}) Tj ET".encode()
    objs.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    kids = " ".join(f"{3 + i} 0 R" for i in range(pages))
    objs.append(f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode())
    n_font = 3 + pages + 1
    for i in range(pages):
        objs.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {3 + pages} 0 R "
                    f"/Resources << /Font << /F1 {n_font} 0 R >> >> >>".encode())
    objs.append(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
    objs.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offs = []
    for i, o in enumerate(objs):
        offs.append(len(out))
        out += b"%d 0 obj\n" % (i + 1) + o + b"\nendobj\n"
    if pad:
        out += b"% " + prng("pdfpad" + title, pad).hex().encode()[:pad] + b"\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for o in offs:
        out += b"%010d 00000 n \n" % o
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


def fake_png(w, h, seed):
    """A valid RGB PNG with a deterministic colour pattern."""
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    salt = prng("png" + seed, 3)
    raw = bytearray()
    for y in range(h):
        raw.append(0)
        for x in range(w):
            k = (x // 8 + y // 8) % 4  # 8x8 checker of four colours: small after deflate
            raw += bytes(((salt[0] + 60 * k) & 255, (salt[1] + 40 * k) & 255, (salt[2] + 90 * k) & 255))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(bytes(raw), 9)) + chunk(b"IEND", b""))


def fake_gif():
    """The classic 1x1 transparent GIF (a tracking pixel)."""
    return base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


def fake_zip(files):
    """A stored (uncompressed) ZIP with fixed timestamps: fully deterministic."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for name, content in files:
            zi = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            z.writestr(zi, B(content))
    return buf.getvalue()


def fake_docx(text):
    return fake_zip([
        ("[Content_Types].xml", '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'),
        ("word/document.xml", '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>' + text + '</w:t></w:r></w:p></w:body></w:document>'),
    ])


DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# --------------------------------------------------------------------------------------------
# a whole Gmail-received header block

RCPT = "alex.morgan@example.com"
RCPT_NAME = "Alex Morgan"


def gmail_headers(seed, date, frm, to, subject, *, sender_domain="example.org", cc=None,
                  pre=(), post=(), msgid=None, content_type=None, cte=None, rcpt=RCPT,
                  from_gmail=True, date_hdr=None, mime_version="MIME-Version: 1.0"):
    """Headers as seen in a message fetched from Gmail: delivery trace, DKIM, MIME-Version,
    then the originator fields. `frm`, `to`, `subject` are raw header values (str or bytes; None
    omits the field). `pre` go after MIME-Version (References, In-Reply-To ...), `post` after To/Cc.
    `date_hdr` overrides the Date field text (None: date.hdr; "" omits the field)."""
    hs = gmail_trace(rcpt, sender_domain, date, seed)
    if from_gmail:
        hs += gmail_sender_headers(sender_domain, date, seed)
    else:
        hs.append(dkim(sender_domain, "s1", seed))
    if mime_version:
        hs.append(mime_version)
    hs += list(pre)
    if frm is not None:
        hs.append(join("From: ", frm))
    dh = date.hdr if date_hdr is None else date_hdr
    if dh != "":
        hs.append("Date: " + dh)
    if msgid is not False:
        hs.append(f"Message-ID: <{msgid or gmail_msgid(seed)}>")
    if subject is not None:
        hs.append(join("Subject: ", subject))
    if to is not None:
        hs.append(join("To: ", to))
    if cc is not None:
        hs.append(join("Cc: ", cc))
    hs += list(post)
    if content_type:
        hs.append("Content-Type: " + content_type)
    if cte:
        hs.append("Content-Transfer-Encoding: " + cte)
    return hs


def base_expect(subject, frm, to, date, msgid, **more):
    e = {"subject": subject, "from": frm, "to": to, "date": date.iso if isinstance(date, D) else date,
         "messageId": msgid}
    e.update(more)
    return e


# --------------------------------------------------------------------------------------------
# Outlook / Exchange Online and Apple Mail flavoured fields

def outlook_msgid(seed):
    h = hexid("ol" + seed, 32).upper()
    return f"AM0PR07MB{h[:4]}{h[4:20]}@AM0PR07MB{h[:4]}.eurprd07.prod.outlook.com"


def outlook_boundary(seed, n=1):
    h = hexid("olb" + seed, 32)
    return f"_{n:03d}_AM0PR07MB{h[:4].upper()}{h[4:16]}_"


def thread_index(seed):
    return base64.b64encode(prng("ti" + seed, 22)).decode()


def outlook_fields(seed, topic, has_attach):
    """Fields Outlook / Exchange add to an outgoing message (placed after To/Cc)."""
    return [f"Thread-Topic: {topic}",
            f"Thread-Index: {thread_index(seed)}",
            "Accept-Language: en-US, de-DE",
            "Content-Language: en-US",
            f"X-MS-Has-Attach: {'yes' if has_attach else ''}",
            "X-MS-TNEF-Correlator:",
            "msip_labels:",
            f"X-MS-Exchange-Organization-SCL: -1",
            f"x-ms-publictraffictype: Email",
            f"x-ms-traffictypediagnostic: AM0PR07MB{hexid('td' + seed, 4).upper()}:EE_",
            f"x-ms-office365-filtering-correlation-id: {hexid('fc' + seed, 8)}-{hexid('fd' + seed, 4)}-"
            f"{hexid('fe' + seed, 4)}-{hexid('ff' + seed, 4)}-{hexid('fg' + seed, 12)}"]


def apple_boundary(seed):
    h = hexid("ap" + seed, 32).upper()
    return f"Apple-Mail=_{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def apple_msgid(seed):
    h = hexid("am" + seed, 32).upper()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}@fjordpeak.example.org"


ME = addr(RCPT_NAME, RCPT)
TO_ME = f"{RCPT_NAME} <{RCPT}>"


def emit(folder, num, slug, covers, seed, date, frm, frm_e, subject, ctype, body, *, subject_e=None, to=TO_ME,
         to_e=None, crlf=False, msgid=None, more=None, cte=None, defaults=True, **kw):
    """Register a message framed by `gmail_headers`; expect gets subject/from/to/date/messageId + `more`.
    With defaults=True the keys attachments/attachmentCount/calendar default to none/0/false."""
    mid = msgid or gmail_msgid(seed)
    hs = gmail_headers(seed, date, frm, to, subject, msgid=mid, content_type=ctype, cte=cte, **kw)
    exp = base_expect(subject if subject_e is None else subject_e, frm_e, [ME] if to_e is None else to_e,
                      date, mid)
    if kw.get("date_hdr") is not None:
        exp["date"] = None
    exp.update(more or {})
    if defaults:
        exp.setdefault("attachments", [])
        exp["attachmentCount"] = len(exp["attachments"])
        exp.setdefault("calendar", False)
    register(folder, num, slug, covers, message(hs, body), exp, crlf=crlf)
