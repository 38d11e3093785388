"""Cross-check the written fixtures against Python's `email` package (a second, independent parser).

Run: python3 Scripts/make_mime_fixtures.py --verify

Python's parser is lenient in different ways than ours, so a reported difference on a deliberately
malformed fixture (expect "problems": true) can be acceptable; anything else is a generator bug.
"""

import email
import email.policy
import email.utils
import glob
import hashlib
import json
import os
import re


def _addrs(m, name):
    h = m.get(name)
    if h is None:
        return None
    out = []
    for g in h.groups:
        for a in g.addresses:
            out.append({"name": a.display_name or None, "address": a.addr_spec})
    return out


def _leaves(p, acc, embedded=False):
    ct = p.get_content_type()
    if p.is_multipart():
        if ct == "message/rfc822":
            for c in p.iter_parts():
                _leaves(c, acc, True)
            return
        for c in p.iter_parts():
            _leaves(c, acc, embedded)
        return
    acc.append((p, embedded))


def _text(p):
    try:
        return p.get_content()
    except Exception:  # noqa: BLE001
        return (p.get_payload(decode=True) or b"").decode("utf-8", "replace")


def check(path):
    raw = open(path, "rb").read()
    exp = json.load(open(path[:-4] + ".expect.json", encoding="utf-8"))
    diffs = []
    for variant in ("lf", "crlf"):
        data = raw.replace(b"\r\n", b"\n")
        if variant == "crlf":
            data = data.replace(b"\n", b"\r\n")
        m = email.message_from_bytes(data, policy=email.policy.default)
        if "subject" in exp:
            s = m.get("subject")
            s = None if s is None else re.sub(r"\s+", " ", str(s)).strip()
            if s != exp["subject"]:
                diffs.append(f"subject {s!r} != {exp['subject']!r}")
        for key, hname in (("from", "from"), ("to", "to"), ("cc", "cc"), ("bcc", "bcc"), ("replyTo", "reply-to")):
            if key in exp:
                try:
                    got = _addrs(m, hname)
                except Exception as e:  # noqa: BLE001
                    got = f"error {e}"
                if key == "from":
                    got = got[0] if got else None
                want = exp[key]
                if key != "from" and got is None:
                    got = []
                if got != want:
                    diffs.append(f"{key} {got!r} != {want!r}")
        if exp.get("date"):
            try:
                dt = email.utils.parsedate_to_datetime(m["date"])
                iso = dt.astimezone(__import__("datetime").timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            except Exception as e:  # noqa: BLE001
                iso = f"error {e}"
            if iso != exp["date"]:
                diffs.append(f"date {iso} != {exp['date']}")
        leaves = []
        _leaves(m, leaves)
        atts = []
        texts = []
        htmls = []
        for p, emb in leaves:
            ct = p.get_content_type()
            disp = p.get_content_disposition()
            fn = p.get_filename()
            if ct == "message/delivery-status":
                continue
            if ct in ("text/plain", "text/html") and fn is None and disp != "attachment":
                if not emb:
                    (texts if ct == "text/plain" else htmls).append(p)
                continue
            if ct == "text/calendar" and fn is None and disp != "attachment":
                continue
            try:
                payload = p.get_payload(decode=True) or b""
            except Exception:  # noqa: BLE001
                payload = None
            cid = p.get("content-id")
            cid = cid.strip().strip("<>") if cid else None
            a = {"filename": fn, "mimeType": ct}
            a["size"] = len(payload) if payload is not None else None
            a["sha256"] = hashlib.sha256(payload).hexdigest() if payload is not None else None
            a["contentId"] = cid
            a["inline"] = disp == "inline" or (disp is None and cid is not None)
            atts.append(a)
        if "attachments" in exp:
            want = exp["attachments"]
            if len(want) != len(atts):
                diffs.append(f"attachment count {len(atts)} != {len(want)}: {[a['filename'] for a in atts]}")
            for w, g in zip(want, atts):
                for k, v in w.items():
                    if g.get(k) != v:
                        diffs.append(f"attachment {w.get('filename')!r} {k}: {g.get(k)!r} != {v!r}")
        if "textBodyContains" in exp and texts:
            t = _text(texts[0]).replace("\r\n", "\n")
            for s in exp["textBodyContains"]:
                if s not in t:
                    diffs.append(f"text missing {s!r}")
            for s in exp.get("textBodyAbsent", []):
                if s in t:
                    diffs.append(f"text has absent {s!r}")
        if "htmlBodyContains" in exp:
            if not htmls:
                diffs.append("no html body")
            else:
                h = _text(htmls[0])
                for s in exp["htmlBodyContains"]:
                    if s not in h:
                        diffs.append(f"html missing {s!r}")
        if "htmlBody" in exp and exp["htmlBody"] is None and htmls:
            diffs.append("unexpected html body")
    return sorted(set(diffs))


# Differences that come from limitations of Python's email package (see Fixtures/mime/README.md).
KNOWN = {"002", "005", "006", "007", "008", "217", "300", "310"}


def run(root):
    bad = 0
    known = 0
    for path in sorted(glob.glob(os.path.join(root, "*", "*.eml"))):
        if os.path.getsize(path) > 5 * 1024 * 1024:
            continue
        d = check(path)
        if d and os.path.basename(path)[:3] in KNOWN:
            known += 1
            continue
        if d:
            bad += 1
            exp = json.load(open(path[:-4] + ".expect.json", encoding="utf-8"))
            tag = " (problems: true)" if exp.get("problems") else ""
            print(f"{os.path.relpath(path, root)}{tag}")
            for x in d:
                print("    " + x)
    print(f"verify: {bad} unexpected difference(s) from Python's email package "
          f"({known} known, documented ones skipped)")
