"""charsets/: one message per body/header charset, plus mislabelled, unknown, BOM and undeclared 8-bit cases."""

from .common import (D, RCPT, addr, b64, base_expect, ew_b, ew_q, gmail_boundary, gmail_headers, gmail_msgid,
                     message, multipart, part, qp, register)

ME = addr("Alex Morgan", RCPT)
TO_ME = f"Alex Morgan <{RCPT}>"

# num, slug, label, codec, subject, subject encoding, sender name, name encoding (None: ASCII), body, CTE, html
CHARSETS = [
    (200, "iso-8859-1", "ISO-8859-1", "latin-1", "Réunion à Genève", "Q", "Amélie Fournier", "Q",
     "Bonjour Alex,\n\nL'équipe de Lumen Ridge a reçu vos données financières.\n"
     "Señor Muñoz confirme : ½ du capital, façade à Genève, Grüße.\n", "quoted-printable", False),
    (201, "iso-8859-2", "ISO-8859-2", "iso8859_2", "Spotkanie zarządu w Łodzi", "Q", "Łukasz Wiśniewski", "Q",
     "Cześć Alex,\n\nZażółć gęślą jaźń. Příliš žluťoučký kůň úpěl ďábelské ódy.\n"
     "Spotkanie zarządu odbędzie się w Łodzi.\n", "8bit", False),
    (202, "iso-8859-5", "ISO-8859-5", "iso8859_5", "Протокол заседания", "B", "Дмитрий Орлов", "B",
     "Здравствуйте, Алекс!\n\nИнвестиционный комитет одобрил сделку.\nПротокол заседания во вложении.\n",
     "8bit", False),
    (203, "iso-8859-7", "ISO-8859-7", "iso8859_7", "Πρακτικά συνεδρίασης", "B", "Ελένη Παπαδοπούλου", "B",
     "Γεια σας Alex,\n\nΗ επιτροπή επενδύσεων ενέκρινε τη συμφωνία.\nΤα πρακτικά συνεδρίασης επισυνάπτονται.\n",
     "base64", False),
    (204, "iso-8859-15", "ISO-8859-15", "iso8859_15", "Budget 2024 : 5 000 €", "Q", "Chloé Lefèvre", "Q",
     "Bonjour,\n\nLe budget de l'œuvre est de 5 000 € pour le cœur du projet.\nŸ et Š sont aussi en Latin-9.\n",
     "quoted-printable", False),
    (205, "windows-1250", "windows-1250", "cp1250", "Schůzka představenstva", "Q", "Tomáš Dvořáček", "Q",
     "Dobrý den,\n\n„Příliš žluťoučký kůň“ – schůzka představenstva je v úterý.\n", "8bit", False),
    (206, "windows-1251", "windows-1251", "cp1251", "Встреча №5 — «Инвестиции»", "B", "Ольга Смирнова", "B",
     "Добрый день!\n\nВстреча №5 — «Инвестиции в Series A» — переносится на пятницу.\n", "8bit", False),
    (207, "windows-1252", "windows-1252", "cp1252", "The “Series A” closes at €12M", "Q", "Siobhán O’Neill", "Q",
     "Hi Alex,\n\nThe “Series A” closes at €12M – that’s final… Cheers.\n", "quoted-printable", True),
    (208, "koi8-r", "KOI8-R", "koi8_r", "Привет из Москвы", "B", "Игорь Волков", "B",
     "Привет, Алекс!\n\nСделка закрыта. Документы подписаны вчера вечером.\n", "8bit", False),
    (209, "shift-jis", "Shift_JIS", "shift_jis", "議事録のご送付", "B", "田中 花子", "B",
     "アレックス様\n\n投資委員会の議事録をお送りします。\nよろしくお願いいたします。\n", "base64", False),
    (210, "iso-2022-jp", "ISO-2022-JP", "iso2022_jp", "テストです：投資の件", "B", "佐藤 健", "B",
     "アレックス様\n\nテストです。投資の件、承知しました。\n来週の会議でご説明します。\n", "7bit", False),
    (211, "euc-kr", "EUC-KR", "euc_kr", "투자 위원회 회의록", "B", "김민수", "B",
     "알렉스님께,\n\n투자 위원회 회의록을 보내드립니다.\n감사합니다.\n", "8bit", False),
    (212, "gb2312", "GB2312", "gb2312", "投资委员会会议纪要", "B", "王小明", "B",
     "亚历克斯，你好：\n\n附件是投资委员会会议纪要，请查收。\n", "base64", False),
    (213, "gbk", "GBK", "gbk", "张喆的投资备忘录", "B", "张喆", "B",
     "亚历克斯：\n\n张喆的投资备忘录已经更新。（喆、镕 不在 GB2312 中）\n", "quoted-printable", False),
    (214, "gb18030", "GB18030", "gb18030", "会议纪要 㐀 €", "B", "李华", "B",
     "你好，\n\n会议纪要：四字节字符 㐀 与 😀，欧元符号 €。\n", "base64", False),
    (215, "big5", "Big5", "big5", "投資委員會會議紀錄", "B", "陳志明", "B",
     "亞歷克斯您好：\n\n投資委員會會議紀錄，請查收。\n", "8bit", False),
]


def _header_words(text, label, codec, enc):
    return ew_b(text, label, codec) if enc == "B" else ew_q(text, label, codec)


for (num, slug, label, codec, subj, senc, name, nenc, body, cte, html) in CHARSETS:
    seed = f"{num}"
    date = D(2024, 8, 1 + (num - 200), 9 + (num - 200) % 8, 15, 0, 60)
    dom = f"{slug.replace('-', '')}.example.net"
    local = f"sender{num}"
    frm = _header_words(name, label, codec, nenc) + f" <{local}@{dom}>"
    raw = body.encode(codec)
    if cte == "quoted-printable":
        enc_body = qp(raw) + "\n"
    elif cte == "base64":
        enc_body = b64(raw)
    else:
        enc_body = raw
    mid = gmail_msgid(seed)
    tbody_contains = [ln for ln in body.split("\n")[2:] if ln.strip()]
    exp = base_expect(subj, addr(name, f"{local}@{dom}"), [ME], date, mid,
                      textBodyContains=tbody_contains)
    if html:
        hraw = ("<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=" + label + "\"></head>"
                "<body><p>" + body.split("\n")[2] + "</p></body></html>\n").encode(codec)
        b = gmail_boundary(seed)
        tb = multipart(b, [
            part([f'Content-Type: text/plain; charset="{label}"', f"Content-Transfer-Encoding: {cte}"], enc_body),
            part([f'Content-Type: text/html; charset="{label}"', f"Content-Transfer-Encoding: {cte}"],
                 qp(hraw) + "\n"),
        ])
        hs = gmail_headers(seed, date, frm, TO_ME, _header_words(subj, label, codec, senc), sender_domain=dom,
                           msgid=mid, from_gmail=False, content_type=f'multipart/alternative; boundary="{b}"')
        exp["htmlBodyContains"] = ["<p>" + body.split("\n")[2] + "</p>"]
        msg = message(hs, tb)
    else:
        hs = gmail_headers(seed, date, frm, TO_ME, _header_words(subj, label, codec, senc), sender_domain=dom,
                           msgid=mid, from_gmail=False, content_type=f'text/plain; charset="{label}"', cte=cte)
        exp["htmlBody"] = None
        msg = message(hs, enc_body)
    exp.update(attachments=[], attachmentCount=0, calendar=False)
    register("charsets", num, slug,
             f"{label} body ({cte}) and {label} RFC 2047 {senc}-encoded Subject and {nenc}-encoded From name"
             + (", plus a text/html alternative" if html else ""), msg, exp)


def _single(num, slug, covers, seed_date, frm, frm_e, subject, subject_e, ctype, cte, body_bytes, contains,
            more=None):
    seed = f"{num}"
    mid = gmail_msgid(seed)
    hs = gmail_headers(seed, seed_date, frm, TO_ME, subject, sender_domain="example.net", msgid=mid,
                       from_gmail=False, content_type=ctype, cte=cte)
    exp = base_expect(subject_e, frm_e, [ME], seed_date, mid, textBodyContains=contains, htmlBody=None,
                      attachments=[], attachmentCount=0, calendar=False)
    exp.update(more or {})
    register("charsets", num, slug, covers, message(hs, body_bytes), exp)


_u7 = "Hi Mom -☺-! The A≢Α rule costs £1 — 日本語 too.\nPlain ASCII line stays as is.\n"
_single(216, "utf-7", "UTF-7 (RFC 2152) body with 7bit transfer encoding: modified-base64 runs like +Jjo- and '+-'",
        D(2024, 8, 20, 10, 0, 0, -300), "Priya Raman <priya@example.net>", addr("Priya Raman", "priya@example.net"),
        "UTF-7 body test", "UTF-7 body test", 'text/plain; charset="UTF-7"', "7bit",
        _u7.encode("utf-7") + b"A literal plus: 1 +- 1 = 2\n",
        ["Hi Mom -☺-! The A≢Α rule costs £1 — 日本語 too.", "Plain ASCII line stays as is.",
         "A literal plus: 1 + 1 = 2"])

_single(217, "mislabelled-us-ascii",
        "Declared charset=us-ascii but the 8bit body contains UTF-8 bytes (so does a us-ascii encoded word in the From "
        "name): decode as UTF-8 and report",
        D(2024, 8, 21, 10, 0, 0, 0), "=?us-ascii?Q?Jo=C3=ABl_Martin?= <joel@example.net>",
        addr("Joël Martin", "joel@example.net"), "Mislabelled charset", "Mislabelled charset",
        'text/plain; charset="us-ascii"', "8bit",
        "Déjà vu: the “label” says ASCII but this is UTF-8 — naïve café.\n".encode("utf-8"),
        ["Déjà vu: the “label” says ASCII but this is UTF-8 — naïve café."], more={"problems": True})

_single(218, "unknown-charset",
        'Unknown charset "x-unknown-foo" on the body (UTF-8 bytes inside) and in an encoded-word Subject whose text '
        "is plain ASCII",
        D(2024, 8, 22, 10, 0, 0, 0), "Priya Raman <priya@example.net>", addr("Priya Raman", "priya@example.net"),
        "=?x-unknown-foo?Q?Quarterly_update?=", "Quarterly update",
        'text/plain; charset="x-unknown-foo"', "8bit",
        b"Plain ASCII sentence in an unknown charset.\nUTF-8 inside: Z\xc3\xbcrich.\n",
        ["Plain ASCII sentence in an unknown charset.", "UTF-8 inside: Zürich."], more={"problems": True})

_single(219, "utf8-bom-body",
        "A UTF-8 byte order mark (EF BB BF) at the start of a base64 text/plain body; the text itself must not "
        "start with U+FEFF garbage like \"ï»¿\"",
        D(2024, 8, 23, 10, 0, 0, 0), "Priya Raman <priya@example.net>", addr("Priya Raman", "priya@example.net"),
        "Exported notes", "Exported notes", 'text/plain; charset="utf-8"', "base64",
        b64("\ufeffExported from Notes.app: Straße & café.\nSecond line.\n".encode("utf-8")),
        ["Exported from Notes.app: Straße & café.", "Second line."], more={"textBodyAbsent": ["ï»¿"]})

_single(220, "8bit-without-cte",
        "Raw 8-bit UTF-8 body with no Content-Transfer-Encoding header at all (nominally 7bit)",
        D(2024, 8, 24, 10, 0, 0, 0), "Priya Raman <priya@example.net>", addr("Priya Raman", "priya@example.net"),
        "No transfer encoding", "No transfer encoding", 'text/plain; charset="UTF-8"', None,
        "Ünïcödé without a Content-Transfer-Encoding header: 東京, Zürich, São Paulo.\n".encode("utf-8"),
        ["Ünïcödé without a Content-Transfer-Encoding header: 東京, Zürich, São Paulo."])
