#!/usr/bin/env python3
"""MIME parsing benchmark: Python's `email` package (policy=email.policy.default).

Usage:
    python3 Scripts/bench_parse_python.py DIR [--json]
    python3 Scripts/bench_parse_python.py --cli-json [--out PATH] [--stats] [--all-headers]
                                          [--files-from LIST] FILE...
    python3 Scripts/bench_parse_python.py --compare SWIFT.jsonl PYTHON.jsonl

--cli-json: the Python equivalent of `gmail-capture parse --json FILE...`, for
end-to-end timing of the whole process (interpreter start, reading each file,
parse, JSON encoding, writing). For every FILE, in argument order, it reads the
file, parses it with BytesParser(policy=default) and writes one JSON line with
the keys of ParsedMessage.cliJSON (Sources/CaptureParsing/Parsing/
ParsedMessage+JSON.swift), in the same order, built the same way:
  file, subject (decoded, whitespace collapsed), from {name,address}, to, cc,
  bcc, replyTo [{name,address}] (all occurrences of each field), date (ISO 8601
  UTC), messageId, inReplyTo, references (ids without <>), textBody (the
  text/plain parts joined by "\n": first plain alternative wins, LF line ends,
  BOM dropped; else text derived from the HTML), htmlBody (last html
  alternative), attachments [{filename, mimeType, size, sha256, contentId,
  inline}] (size and SHA-256 of the transfer-decoded bytes), problems (the
  `email` package's defects, by part).
The selection of body parts vs attachments mirrors MessageParser's Assembler
(multipart/alternative, multipart/related, message/rfc822 rules). Output is
compact UTF-8 JSON (ensure_ascii=False, like the Swift serializer), buffered;
--out /dev/null is the sink (default: stdout). Undecodable 8-bit header bytes
(raw UTF-8 display names) are written back as the original bytes
(surrogateescape). A file that cannot be read or fails to parse is reported on
stderr and makes the exit status 1; the other files are still processed.
--stats prints one JSON summary line on stderr (messages, bytes, seconds since
interpreter start, peakRSSBytes, errors). --all-headers additionally decodes
every top-level header (str(value)), as the Swift parser does internally for
ParsedMessage.headers (not part of the JSON).

--compare: checks two such outputs line by line (same files in the same
order): subject, from, to/cc counts and addresses, messageId, date, attachment
count, whether text/html bodies are present; prints a summary and up to 20
differences; exit status 1 when any field differs.

Default mode (DIR):

Reads every *.eml in DIR (sorted by name) into memory first, then times only the
parse + full walk, which mirrors what a real consumer does:

  * BytesParser(policy=default).parsebytes(data)
  * for every entity yielded by msg.walk() (the message itself, every multipart,
    every leaf, and messages embedded in message/rfc822 parts): str(value) for
    every header (all occurrences, e.g. every Received), i.e. RFC 2047 decoded
    text; for From/To/Cc additionally the parsed .addresses (display name and
    addr-spec of each)
  * for every non-multipart part: get_content() (transfer decoding + charset
    decoding to str for text/*, bytes for everything else); for attachments the
    decoded size is computed.

Output: human-readable summary, or with --json a single JSON object:
  {"impl":"python-email","messages","bytes","seconds","mbPerSec",
   "messagesPerSec","peakRSSBytes","errors", ...extra counters}
MB = 1e6 bytes. peakRSSBytes is ru_maxrss of this process (includes the
in-memory corpus).
"""

import time

_T_START = time.perf_counter()  # before the heavy imports: --stats counts interpreter work from here

import argparse
import email.policy
import hashlib
import html
import json
import os
import re
import resource
import sys
from datetime import timezone
from email.parser import BytesParser

ADDRESS_HEADERS = {"from", "to", "cc"}


def walk_message(msg, counters):
    for part in msg.walk():
        counters["parts"] += 1
        for name, value in part.items():
            s = str(value)
            counters["headers"] += 1
            counters["headerChars"] += len(s)
            if name.lower() in ADDRESS_HEADERS:
                for addr in value.addresses:
                    counters["addresses"] += 1
                    _ = addr.display_name
                    _ = addr.addr_spec
        if part.is_multipart():
            continue
        content = part.get_content()
        if isinstance(content, str):
            n = len(content)
            counters["textChars"] += n
        elif isinstance(content, (bytes, bytearray)):
            n = len(content)
            counters["binaryBytes"] += n
        else:  # e.g. an embedded message returned for message/* leaves
            n = 0
        if part.is_attachment():
            counters["attachments"] += 1
            if isinstance(content, str):
                n = len(content.encode("utf-8", "surrogateescape"))
            counters["attachmentBytes"] += n


# --------------------------------------------------------------------------
# --cli-json: the Python equivalent of `gmail-capture parse --json FILE...`
# --------------------------------------------------------------------------

_WS = re.compile(r"[ \t\r\n]+")
_MSGID = re.compile(r"<([^<>]*)>")
_TAGS_DROP = re.compile(r"(?is)<(script|style|head)\b.*?</\1\s*>|<!--.*?-->")
_BLOCK = re.compile(r"(?i)<\s*(br|/p|/div|/tr|/h[1-6]|/li|/table)\b[^>]*>")
_TAG = re.compile(r"<[^>]*>")
_BLANKS = re.compile(r"[ \t]*\n[ \t\n]*\n[ \t\n]*")
_HSPACE = re.compile(r"[ \t\r\f\v\xa0]+")
ADDRESS_FIELDS = (("from", "from"), ("to", "to"), ("cc", "cc"), ("bcc", "bcc"), ("replyTo", "reply-to"))


def collapse_ws(s):
    """MessageParser.collapseWhitespace: runs of SP/TAB/CR/LF -> one space, trimmed."""
    return _WS.sub(" ", s).strip(" \t\r\n")


def normalize_line_ends(s):
    if "\r" in s:
        s = s.replace("\r\n", "\n").replace("\r", "\n")
    return s


def msg_ids(text):
    """MessageIDParser.parseList: <...> ids without brackets, else words containing @."""
    ids = [t for t in ("".join(i.split()) for i in _MSGID.findall(text)) if t]
    if not ids:
        ids = [w for w in text.replace(",", " ").split() if "@" in w]
    return ids


def html_to_text(h):
    """Rough stand-in for HTMLText.text(fromHTML:) (used only when there is no text/plain)."""
    t = _TAGS_DROP.sub("", h)
    t = _BLOCK.sub("\n", t)
    t = html.unescape(_TAG.sub("", t))
    t = _HSPACE.sub(" ", t)
    return _BLANKS.sub("\n\n", t).strip()


class Node:
    __slots__ = ("part", "mime", "filename", "disposition", "cid", "children")

    def __init__(self, part, problems):
        self.part = part
        self.mime = part.get_content_type()
        for d in part.defects:
            problems.append(type(d).__name__)
        self.children = [Node(c, problems) for c in part.iter_parts()] if part.is_multipart() else []
        fn = None
        if not (self.children and self.mime.startswith("multipart/")):
            fn = part.get_filename()
        self.filename = fn or None
        self.disposition = part.get_content_disposition() or None
        cid = part.get("content-id")
        if cid is not None:
            cid = str(cid).strip()
            if cid.startswith("<"):
                cid = cid[1:]
            if cid.endswith(">"):
                cid = cid[:-1]
            cid = cid or None
        self.cid = cid


def _is_body_text(n):
    return (not n.children and n.mime in ("text/plain", "text/html") and not n.filename
            and n.disposition != "attachment")


def _collect(n, in_alt):
    """Assembler.collect: returns (texts, htmls, attachments)."""
    texts, htmls, atts = [], [], []
    if n.mime in ("message/delivery-status", "message/global-delivery-status"):
        return texts, htmls, atts
    if n.mime.startswith("message/") and n.children:
        for c in n.children:
            t, _h, a = _collect(c, False)
            atts += a + [x for x in t if x.filename]
        return texts, htmls, atts
    if not n.children:
        if _is_body_text(n):
            (texts if n.mime == "text/plain" else htmls).append(n)
        elif n.mime in ("text/calendar", "application/ics"):
            if not in_alt or n.disposition == "attachment" or n.filename:
                atts.append(n)
        elif in_alt and n.mime.startswith("text/") and not n.filename and n.disposition != "attachment":
            pass  # another rendition of the body
        else:
            atts.append(n)
        return texts, htmls, atts
    if n.mime == "multipart/alternative":
        best_t = best_h = None
        for c in n.children:
            t, h, a = _collect(c, True)
            if t and best_t is None:
                best_t = t
            if h:
                best_h = h
            atts += a
        return best_t or [], best_h or [], atts
    if n.mime == "multipart/related":
        for k, c in enumerate(n.children):
            t, h, a = _collect(c, False)
            if k == 0:
                texts += t
                htmls += h
            else:
                atts += t + h
            atts += a
        return texts, htmls, atts
    for c in n.children:
        t, h, a = _collect(c, False)
        texts += t
        htmls += h
        atts += a
    return texts, htmls, atts


def _text_of(node, problems):
    part = node.part
    try:
        t = part.get_content()
    except Exception as e:  # e.g. LookupError for an unknown charset
        problems.append("text: %s" % type(e).__name__)
        t = (part.get_payload(decode=True) or b"").decode("utf-8", "replace")
    if not isinstance(t, str):
        t = bytes(t).decode("utf-8", "replace")
    if t.startswith("\ufeff"):
        t = t[1:]
    return normalize_line_ends(t)


def _addr(a):
    return {"name": a.display_name or None, "address": a.addr_spec}


def cli_json_object(path, msg, all_headers=False):
    problems = []
    if all_headers:  # what the Swift side computes for ParsedMessage.headers (not printed)
        for _name, value in msg.items():
            collapse_ws(str(value))
    subject = msg.get("subject")
    if subject is not None:
        subject = collapse_ws(str(subject))
    addrs = {}
    for key, field in ADDRESS_FIELDS:
        out = []
        for h in msg.get_all(field) or ():
            out += [_addr(a) for a in h.addresses]
        addrs[key] = out
    date = None
    h = msg.get("date")
    if h is not None:
        dt = h.datetime
        if dt is not None:
            dt = dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt.astimezone(timezone.utc)
            date = dt.strftime("%Y-%m-%dT%H:%M:%SZ")
        else:
            problems.append("unparsable Date")
    mid = msg.get_all("message-id")
    message_id = None
    if mid:
        ids = msg_ids(str(mid[0]))
        message_id = ids[-1] if ids else None
    irt = msg.get("in-reply-to")
    in_reply_to = None
    if irt is not None:
        ids = msg_ids(str(irt))
        in_reply_to = ids[0] if ids else None
    refs = msg.get("references")
    references = msg_ids(str(refs)) if refs is not None else []

    root = Node(msg, problems)
    texts, htmls, atts = _collect(root, False)
    text_body = "\n".join(_text_of(n, problems) for n in texts) if texts else None
    html_body = "\n".join(_text_of(n, problems) for n in htmls) if htmls else None
    if text_body is None and html_body is not None:
        text_body = html_to_text(html_body)
    attachments = []
    for n in atts:
        data = n.part.get_payload(decode=True)
        if not isinstance(data, (bytes, bytearray)):
            data = b""
        attachments.append({
            "filename": n.filename,
            "mimeType": n.mime,
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "contentId": n.cid,
            "inline": n.disposition == "inline" or (n.disposition is None and n.cid is not None),
        })
    return {
        "file": path,
        "subject": subject,
        "from": addrs["from"][0] if addrs["from"] else None,
        "to": addrs["to"],
        "cc": addrs["cc"],
        "bcc": addrs["bcc"],
        "replyTo": addrs["replyTo"],
        "date": date,
        "messageId": message_id,
        "inReplyTo": in_reply_to,
        "references": references,
        "textBody": text_body,
        "htmlBody": html_body,
        "attachments": attachments,
        "problems": problems,
    }


def run_cli_json(args):
    files = list(args.paths)
    if args.files_from:
        with open(args.files_from, encoding="utf-8") as f:
            files += [l.rstrip("\n") for l in f if l.strip()]
    if not files:
        print("bench_parse_python: give at least one file", file=sys.stderr)
        return 2
    if args.out == "-":
        out = open(sys.stdout.fileno(), "w", encoding="utf-8", errors="surrogateescape", newline="\n",
                   buffering=1 << 16, closefd=False)
    else:
        out = open(args.out, "w", encoding="utf-8", errors="surrogateescape", newline="\n", buffering=1 << 16)
    parser = BytesParser(policy=email.policy.default)
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    errors = 0
    nbytes = 0
    done = 0
    for path in files:
        try:
            with open(path, "rb") as f:
                data = f.read()
            nbytes += len(data)
            obj = cli_json_object(path, parser.parsebytes(data), args.all_headers)
            out.write(dumps(obj) + "\n")
            done += 1
        except Exception as e:  # report, keep going (the Swift command does the same for unreadable files)
            errors += 1
            out.flush()
            print("bench_parse_python: %s: %s: %s" % (path, type(e).__name__, e), file=sys.stderr)
    out.flush()
    if out is not sys.stdout:
        out.close()
    if args.stats:
        seconds = time.perf_counter() - _T_START
        print(json.dumps({
            "impl": "python-email-cli", "messages": done, "files": len(files), "bytes": nbytes,
            "seconds": round(seconds, 6), "peakRSSBytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
            "errors": errors}), file=sys.stderr)
    return 1 if errors else 0


# --------------------------------------------------------------------------
# --compare: check two `parse --json` outputs against each other
# --------------------------------------------------------------------------

def _load_jsonl(path):
    rows = {}
    order = []
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            r = json.loads(line)
            rows[r["file"]] = r
            order.append(r["file"])
    return order, rows


def run_compare(args):
    if len(args.paths) != 2:
        print("--compare needs exactly two JSONL files (swift, python)", file=sys.stderr)
        return 2
    a_path, b_path = args.paths
    a_order, a = _load_jsonl(a_path)
    b_order, b = _load_jsonl(b_path)

    def addrs(r, k):
        return [x["address"].lower() for x in r.get(k) or []]

    def names(r, k):
        return [collapse_ws(x["name"] or "") for x in r.get(k) or []]

    strict = {
        "subject": lambda r: r.get("subject"),
        "from.address": lambda r: (r["from"] or {}).get("address", "").lower() if r.get("from") else None,
        "to.count": lambda r: len(r.get("to") or []),
        "cc.count": lambda r: len(r.get("cc") or []),
        "to.addresses": lambda r: addrs(r, "to"),
        "cc.addresses": lambda r: addrs(r, "cc"),
        "messageId": lambda r: r.get("messageId"),
        "inReplyTo": lambda r: r.get("inReplyTo"),
        "references.count": lambda r: len(r.get("references") or []),
        "date": lambda r: r.get("date"),
        "attachments.count": lambda r: len(r.get("attachments") or []),
        "hasText": lambda r: r.get("textBody") is not None,
        "hasHTML": lambda r: r.get("htmlBody") is not None,
    }
    info = {
        "from.name": lambda r: collapse_ws((r.get("from") or {}).get("name") or ""),
        "to/cc.names": lambda r: names(r, "to") + names(r, "cc"),
        "textBody": lambda r: (r.get("textBody") or "").rstrip("\n"),
        "htmlBody": lambda r: (r.get("htmlBody") or "").rstrip("\n"),
        "attachments.size+sha256": lambda r: [(x["size"], x["sha256"]) for x in r.get("attachments") or []],
        "attachments.filename": lambda r: [x["filename"] for x in r.get("attachments") or []],
        "attachments.inline": lambda r: [x["inline"] for x in r.get("attachments") or []],
        "problems.nonempty": lambda r: bool(r.get("problems")),
    }
    missing_a = [f for f in b_order if f not in a]
    missing_b = [f for f in a_order if f not in b]
    common = [f for f in a_order if f in b]
    diffs = {k: 0 for k in list(strict) + list(info)}
    examples = []
    for f in common:
        for table in (strict, info):
            for k, fn in table.items():
                va, vb = fn(a[f]), fn(b[f])
                if va != vb:
                    diffs[k] += 1
                    if table is strict and len(examples) < 20:
                        examples.append("%s: %s: %r != %r" % (f, k, va if len(repr(va)) < 200 else repr(va)[:200] + "...",
                                                           vb if len(repr(vb)) < 200 else repr(vb)[:200] + "..."))
    print("compared %d files (%s: %d lines, %s: %d lines)" % (len(common), a_path, len(a_order), b_path, len(b_order)))
    if missing_a or missing_b:
        print("files only in %s: %d, only in %s: %d" % (b_path, len(missing_a), a_path, len(missing_b)))
    print("fields that must agree (files differing):")
    for k in strict:
        print("  %-26s %d" % (k, diffs[k]))
    print("informational (files differing):")
    for k in info:
        print("  %-26s %d" % (k, diffs[k]))
    for e in examples:
        print("  diff " + e)
    bad = any(diffs[k] for k in strict) or missing_a or missing_b
    return 1 if bad else 0


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Benchmark Python email parsing on a directory of .eml files, or (--cli-json) mirror "
                    "`gmail-capture parse --json FILE...`")
    ap.add_argument("paths", nargs="*", metavar="PATH",
                    help="DIR (default mode), FILE... (--cli-json) or SWIFT.jsonl PYTHON.jsonl (--compare)")
    ap.add_argument("--json", action="store_true", help="default mode: print one JSON object")
    ap.add_argument("--cli-json", action="store_true",
                    help="write one `parse --json`-shaped JSON line per FILE (full parse + JSON output)")
    ap.add_argument("--out", default="-", help="--cli-json: output path (default stdout; /dev/null as a sink)")
    ap.add_argument("--files-from", metavar="LIST", help="--cli-json: also read file names from LIST, one a line")
    ap.add_argument("--stats", action="store_true", help="--cli-json: print a JSON summary line on stderr")
    ap.add_argument("--all-headers", action="store_true",
                    help="--cli-json: also decode every top-level header, as the Swift parser does internally")
    ap.add_argument("--compare", action="store_true", help="compare two --cli-json / parse --json outputs")
    args = ap.parse_args(argv)
    if args.cli_json:
        return run_cli_json(args)
    if args.compare:
        return run_compare(args)
    if len(args.paths) != 1:
        ap.error("give one DIR (or use --cli-json FILE... / --compare A B)")
    args.dir = args.paths[0]

    names = sorted(n for n in os.listdir(args.dir) if n.endswith(".eml"))
    blobs = []
    for n in names:
        with open(os.path.join(args.dir, n), "rb") as f:
            blobs.append(f.read())
    total_bytes = sum(len(b) for b in blobs)

    counters = dict(parts=0, headers=0, headerChars=0, addresses=0, textChars=0, binaryBytes=0,
                    attachments=0, attachmentBytes=0)
    errors = 0
    first_errors = []
    parser = BytesParser(policy=email.policy.default)

    t0 = time.perf_counter()
    for i, data in enumerate(blobs):
        try:
            msg = parser.parsebytes(data)
            walk_message(msg, counters)
        except Exception as e:  # count and continue, like a robust consumer would
            errors += 1
            if len(first_errors) < 5:
                first_errors.append("%s: %s: %s" % (names[i], type(e).__name__, e))
    seconds = time.perf_counter() - t0

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB
    n = len(blobs)
    result = {
        "impl": "python-email",
        "messages": n,
        "bytes": total_bytes,
        "seconds": round(seconds, 6),
        "mbPerSec": round(total_bytes / 1e6 / seconds, 3) if seconds > 0 else 0.0,
        "messagesPerSec": round(n / seconds, 3) if seconds > 0 else 0.0,
        "peakRSSBytes": peak,
        "errors": errors,
    }
    result.update(counters)
    if args.json:
        print(json.dumps(result))
    else:
        print("impl:            python-email (Python %s)" % sys.version.split()[0])
        print("messages:        %d" % n)
        print("bytes:           %d (%.1f MB)" % (total_bytes, total_bytes / 1e6))
        print("seconds:         %.3f" % seconds)
        print("MB/s:            %.2f" % result["mbPerSec"])
        print("messages/s:      %.1f" % result["messagesPerSec"])
        print("peak RSS:        %.1f MB" % (peak / 1e6))
        print("errors:          %d" % errors)
        print("parts/headers:   %d / %d  (addresses %d, attachments %d, attachment bytes %d)" % (
            counters["parts"], counters["headers"], counters["addresses"], counters["attachments"],
            counters["attachmentBytes"]))
    for e in first_errors:
        print("error: " + e, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
