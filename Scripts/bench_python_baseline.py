#!/usr/bin/env python3
"""The Python baseline for `gmail-capture bench backfill`: the same backfill done the way a Python
team would write it with Google's own client libraries.

    python3 Scripts/bench_python_baseline.py --server http://127.0.0.1:PORT --key sa.json \
        --users user0@firm.example[,user1@...] [--batch 50] [--json]

For each mailbox: google-auth service-account credentials with domain-wide delegation (subject =
the mailbox), google-api-python-client built from its bundled discovery document, messages.list
paged at 500, then BatchHttpRequest gets of 50 (format=raw). Each message is parsed with the
standard library's `email` package (policy.default: RFC 2047 headers, charsets, transfer
encodings), and one sqlite3 transaction per batch inserts the message row, its participants and
its attachments' metadata (name, type, size, SHA-256 of the decoded bytes). Attachment bytes come
inline with format=raw, so no attachments.get calls are needed (the Swift engine makes them and
writes the files to disk: it does strictly more work).

Prints the same figures as the Swift benchmark: messages/s, MB/s (raw message bytes), HTTP
requests, peak RSS, wall time; --json prints one object with the Swift benchmark's keys.

--attachments raw|fetch (for Scripts/bench_sync.sh, against `gmail-capture sync --once`) makes the
baseline store what sync stores: every attachment's decoded bytes written to a content-addressed
file (ROOT/ab/cd/<sha256>, through a temporary file that is fsynced and renamed into place, the
directory fsynced, the same bytes stored once: Sources/GmailCapture/Attachments/AttachmentStore.swift's
scheme) and a row (message, part, name, type, size, sha256, path) in sqlite. "Attachment" means what
gmail-capture downloads: every part Gmail serves through attachments.get, i.e. non-empty leaves other
than text/plain and text/html bodies without a file name (inline images and .ics files included).
  raw    messages.get format=raw in batches of 50 as above; the attachments come out of the MIME
         parse (part.get_payload(decode=True)), no attachments.get calls: the fewest requests.
  fetch  what the Swift engine does and the Gmail API guide shows: messages.get format=full in
         batches of 50 (headers and text/html bodies read from the payload tree, no MIME parse),
         then attachments.get for every part with a body.attachmentId, in batches of 50.
--store DIR keeps the database and the attachment files in DIR (default: a temporary directory,
removed); --no-fsync skips the fsyncs. With --attachments the JSON adds attachments (rows),
attachmentFiles (distinct files written), attachmentBytes and wallSeconds (whole process, imports
included, from the interpreter's start).
"""
import time

PROCESS_START = time.time()  # before the imports: --attachments' wallSeconds includes them

import argparse
import base64
import hashlib
import json
import os
import resource
import shutil
import sqlite3
import sys
import tempfile
import uuid
from email import policy
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime

from google.oauth2 import service_account
from googleapiclient.discovery import build
from googleapiclient.http import BatchHttpRequest

SCOPES = ["https://www.googleapis.com/auth/gmail.readonly"]

SCHEMA = """
CREATE TABLE messages (id TEXT PRIMARY KEY, mailbox TEXT, thread_id TEXT, message_id TEXT, subject TEXT,
  from_addr TEXT, sent_at TEXT, internal_date INTEGER, label_ids TEXT, body_text TEXT, body_html TEXT, size INTEGER);
CREATE TABLE participants (message_id TEXT, role TEXT, address TEXT, name TEXT);
CREATE TABLE attachments (message_id TEXT, filename TEXT, mime_type TEXT, size INTEGER, sha256 TEXT);
CREATE INDEX participants_address ON participants(address);
"""

# --attachments raw|fetch: one row per stored attachment (the files are in the store).
STORE_SCHEMA = """
CREATE TABLE messages (id TEXT PRIMARY KEY, mailbox TEXT, thread_id TEXT, message_id TEXT, subject TEXT,
  from_addr TEXT, sent_at TEXT, internal_date INTEGER, label_ids TEXT, body_text TEXT, body_html TEXT, size INTEGER);
CREATE TABLE participants (message_id TEXT, role TEXT, address TEXT, name TEXT);
CREATE TABLE attachments (message_id TEXT, part_id TEXT, filename TEXT, mime_type TEXT, size INTEGER, sha256 TEXT,
  path TEXT, PRIMARY KEY (message_id, part_id));
CREATE INDEX participants_address ON participants(address);
CREATE INDEX attachments_sha256 ON attachments(sha256);
"""


class AttachmentStore:
    """Content-addressed files, as GmailCapture's AttachmentStore: ROOT/ab/cd/<sha256>, written to
    ROOT/tmp, fsynced, renamed into place, the directory fsynced; bytes already stored are not rewritten."""

    def __init__(self, root, fsync=True):
        self.root = root
        self.fsync = fsync
        self.tmp = os.path.join(root, "tmp")
        os.makedirs(self.tmp, mode=0o700, exist_ok=True)

    def put(self, data, counters):
        sha = hashlib.sha256(data).hexdigest()
        rel = os.path.join(sha[:2], sha[2:4], sha)
        target = os.path.join(self.root, rel)
        try:
            if os.stat(target).st_size == len(data):
                return sha, rel
        except FileNotFoundError:
            pass
        directory = os.path.dirname(target)
        os.makedirs(directory, mode=0o700, exist_ok=True)
        tmp = os.path.join(self.tmp, "%s.%s.part" % (sha, uuid.uuid4().hex))
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            if self.fsync:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.rename(tmp, target)
        if self.fsync:
            dfd = os.open(directory, os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
        counters["attachmentFiles"] += 1
        return sha, rel


def raw_attachments(msg):
    """(part path, filename, type, decoded bytes) of every non-empty leaf that is not a body text part."""
    out = []

    def walk(part, path):
        if part.is_multipart():
            for k, child in enumerate(part.get_payload()):
                walk(child, path + (str(k),))
            return
        ctype = part.get_content_type()
        name = part.get_filename()
        if ctype in ("text/plain", "text/html") and not name:
            return  # Gmail serves these inline (body.data): not attachments
        data = part.get_payload(decode=True)
        if data:
            out.append((".".join(path), name, ctype, data))

    walk(msg, ())
    return out


def header_map(headers):
    out = {}
    for h in headers:
        out.setdefault(h["name"].lower(), []).append(h["value"])
    return out


def full_row(mailbox, resource_json):
    """A format=full resource: headers and bodies from the payload tree; the attachments to fetch."""
    payload = resource_json.get("payload", {})
    headers = header_map(payload.get("headers", []))
    first = lambda name: headers.get(name, [None])[0]
    text = html = None
    attachments = []
    stack = [payload]
    while stack:
        part = stack.pop(0)
        if part.get("parts"):
            stack[0:0] = part["parts"]
            continue
        body = part.get("body", {})
        ctype = part.get("mimeType", "")
        if body.get("attachmentId"):
            attachments.append((part.get("partId"), part.get("filename") or None, ctype, body.get("size", 0),
                                body["attachmentId"]))
        elif "data" in body and not part.get("filename"):
            decoded = base64.urlsafe_b64decode(body["data"]).decode("utf-8", "replace")
            if ctype == "text/plain" and text is None:
                text = decoded
            elif ctype == "text/html":
                html = decoded
    date = None
    if first("date"):
        try:
            date = parsedate_to_datetime(first("date")).isoformat()
        except (TypeError, ValueError):
            date = None
    people = []
    for role in ("from", "to", "cc", "bcc"):
        for name, address in getaddresses(headers.get(role, [])):
            if address:
                people.append((role, address.lower(), name))
    size = int(resource_json.get("sizeEstimate", 0))
    row = (resource_json["id"], mailbox, resource_json.get("threadId"), first("message-id") or "", first("subject") or "",
           people[0][1] if people and people[0][0] == "from" else None, date, int(resource_json.get("internalDate", 0)),
           ",".join(resource_json.get("labelIds", [])), text, html, size)
    return row, people, attachments, size


def parse_row(mailbox, resource_json, msg=None, raw=None, hash_attachments=True):
    if msg is None:
        raw = base64.urlsafe_b64decode(resource_json["raw"])
        msg = BytesParser(policy=policy.default).parsebytes(raw)
    text = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    date = None
    if msg["date"]:
        try:
            date = parsedate_to_datetime(str(msg["date"])).isoformat()
        except (TypeError, ValueError):
            date = None
    people = []
    for role in ("from", "to", "cc", "bcc"):
        for name, address in getaddresses([str(v) for v in msg.get_all(role, [])]):
            if address:
                people.append((role, address.lower(), name))
    attachments = []
    for part in (msg.iter_attachments() if hash_attachments else ()):
        content = part.get_content()
        data = content if isinstance(content, bytes) else str(content).encode()
        attachments.append((part.get_filename(), part.get_content_type(), len(data), hashlib.sha256(data).hexdigest()))
    row = (resource_json["id"], mailbox, resource_json.get("threadId"), str(msg["message-id"] or ""), str(msg["subject"] or ""),
           people[0][1] if people and people[0][0] == "from" else None, date, int(resource_json.get("internalDate", 0)),
           ",".join(resource_json.get("labelIds", [])), text.get_content() if text else None, html.get_content() if html else None,
           len(raw))
    return row, people, attachments, len(raw)


def run_batch(base, requests, counters):
    """Executes (request_id, request) pairs as one batch; returns {request_id: response}."""
    results, errors = {}, []

    def callback(request_id, response, exception):
        if exception is not None:
            errors.append(exception)
        else:
            results[request_id] = response

    batch = BatchHttpRequest(callback=callback, batch_uri=base + "/batch")
    for rid, req in requests:
        batch.add(req, request_id=rid)
    batch.execute()
    counters["requests"] += 1
    if errors:
        raise SystemExit(f"batch failed: {errors[0]}")
    return results


def backfill_storing(base, key, mailbox, db, batch_size, counters, mode, store):
    """--attachments raw|fetch: the backfill with every attachment stored (file + row)."""
    creds = service_account.Credentials.from_service_account_file(key, scopes=SCOPES, subject=mailbox)
    gmail = build("gmail", "v1", credentials=creds, static_discovery=True, cache_discovery=False,
                  client_options={"api_endpoint": base})
    ids = []
    page = None
    while True:
        resp = gmail.users().messages().list(userId="me", maxResults=500, pageToken=page).execute()
        counters["requests"] += 1
        ids += [m["id"] for m in resp.get("messages", [])]
        page = resp.get("nextPageToken")
        if not page:
            break

    def store_attachment(message_id, part_id, filename, ctype, data):
        sha, rel = store.put(data, counters)
        db.execute("INSERT OR REPLACE INTO attachments VALUES (?,?,?,?,?,?,?)",
                   (message_id, part_id, filename, ctype, len(data), sha, rel))
        counters["attachments"] += 1
        counters["attachmentBytes"] += len(data)

    fmt = "raw" if mode == "raw" else "full"
    for start in range(0, len(ids), batch_size):
        chunk = ids[start:start + batch_size]
        got = run_batch(base, [(i, gmail.users().messages().get(userId="me", id=i, format=fmt)) for i in chunk], counters)
        owed = []  # fetch: (message id, part id, filename, type, size, attachmentId)
        with db:
            for i in chunk:
                r = got[i]
                if mode == "raw":
                    raw = base64.urlsafe_b64decode(r["raw"])
                    msg = BytesParser(policy=policy.default).parsebytes(raw)
                    row, people, _, size = parse_row(mailbox, r, msg=msg, raw=raw, hash_attachments=False)
                else:
                    row, people, attachments, size = full_row(mailbox, r)
                    owed += [(r["id"],) + a for a in attachments]
                db.execute("INSERT OR REPLACE INTO messages VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", row)
                db.executemany("INSERT INTO participants VALUES (?,?,?,?)", [(row[0],) + p for p in people])
                if mode == "raw":
                    for part_id, name, ctype, data in raw_attachments(msg):
                        store_attachment(r["id"], part_id, name, ctype, data)
                counters["stored"] += 1
                counters["bytes"] += size
        for a_start in range(0, len(owed), batch_size):
            group = owed[a_start:a_start + batch_size]
            reqs = [(str(k), gmail.users().messages().attachments().get(userId="me", messageId=mid, id=aid))
                    for k, (mid, _, _, _, _, aid) in enumerate(group)]
            bodies = run_batch(base, reqs, counters)
            with db:
                for k, (mid, part_id, name, ctype, size, _) in enumerate(group):
                    data = base64.urlsafe_b64decode(bodies[str(k)].get("data", ""))
                    if len(data) != size:
                        raise SystemExit(f"attachment {mid}/{part_id}: {len(data)} bytes, announced {size}")
                    store_attachment(mid, part_id, name, ctype, data)


def backfill(base, key, mailbox, db, batch_size, counters):
    creds = service_account.Credentials.from_service_account_file(key, scopes=SCOPES, subject=mailbox)
    gmail = build("gmail", "v1", credentials=creds, static_discovery=True, cache_discovery=False,
                  client_options={"api_endpoint": base})
    ids = []
    page = None
    while True:
        resp = gmail.users().messages().list(userId="me", maxResults=500, pageToken=page).execute()
        counters["requests"] += 1
        ids += [m["id"] for m in resp.get("messages", [])]
        page = resp.get("nextPageToken")
        if not page:
            break
    for start in range(0, len(ids), batch_size):
        results = []
        errors = []

        def callback(request_id, response, exception):
            if exception is not None:
                errors.append(exception)
            else:
                results.append(response)

        # The batch URI comes from the discovery document (rootUrl + batchPath), not api_endpoint.
        batch = BatchHttpRequest(callback=callback, batch_uri=base + "/batch")
        for i in ids[start:start + batch_size]:
            batch.add(gmail.users().messages().get(userId="me", id=i, format="raw"))
        batch.execute()
        counters["requests"] += 1
        if errors:
            raise SystemExit(f"batch failed: {errors[0]}")
        with db:
            for r in results:
                row, people, attachments, size = parse_row(mailbox, r)
                db.execute("INSERT OR REPLACE INTO messages VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", row)
                db.executemany("INSERT INTO participants VALUES (?,?,?,?)", [(row[0],) + p for p in people])
                db.executemany("INSERT INTO attachments VALUES (?,?,?,?,?)", [(row[0],) + a for a in attachments])
                counters["stored"] += 1
                counters["bytes"] += size


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--server", required=True, help="fakegmail-server base URL")
    ap.add_argument("--key", required=True, help="service-account key file written by fakegmail-server --service-account-out")
    ap.add_argument("--users", required=True, help="comma-separated mailboxes")
    ap.add_argument("--batch", type=int, default=50)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--attachments", choices=["none", "raw", "fetch"], default="none",
                    help="none (default): attachment metadata only; raw: format=raw, files from the MIME parse; "
                         "fetch: format=full + attachments.get; raw and fetch store every attachment (file + row)")
    ap.add_argument("--store", help="keep the database and attachment files in this directory (created)")
    ap.add_argument("--no-fsync", action="store_true", help="with --attachments: do not fsync attachment files")
    args = ap.parse_args()
    if args.store:
        os.makedirs(args.store, exist_ok=True)
        if os.listdir(args.store):
            ap.error(f"--store {args.store}: not empty")
        tmp = args.store
    else:
        tmp = tempfile.mkdtemp(prefix="bench-python-")
    db = sqlite3.connect(os.path.join(tmp, "crm.db"))
    db.executescript(SCHEMA if args.attachments == "none" else STORE_SCHEMA)
    store = AttachmentStore(os.path.join(tmp, "attachments"), fsync=not args.no_fsync) if args.attachments != "none" else None
    counters = {"requests": 0, "stored": 0, "bytes": 0, "attachments": 0, "attachmentFiles": 0, "attachmentBytes": 0}
    t0 = time.perf_counter()
    for mailbox in args.users.split(","):
        counters["requests"] += 1  # the token exchange
        if args.attachments == "none":
            backfill(args.server.rstrip("/"), args.key, mailbox, db, args.batch, counters)
        else:
            backfill_storing(args.server.rstrip("/"), args.key, mailbox, db, args.batch, counters, args.attachments, store)
    seconds = time.perf_counter() - t0
    db.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    out = {"impl": "python-google-api-client", "mode": "external-server", "stored": counters["stored"],
           "messages": counters["stored"], "bytes": counters["bytes"], "seconds": seconds,
           "messagesPerSec": counters["stored"] / seconds, "mbPerSec": counters["bytes"] / 1e6 / seconds,
           "httpRequests": counters["requests"], "batchSizeFinal": args.batch, "peakRSSBytes": peak}
    if args.attachments != "none":
        out.update({"attachmentsMode": args.attachments, "attachments": counters["attachments"],
                    "attachmentFiles": counters["attachmentFiles"], "attachmentBytes": counters["attachmentBytes"],
                    "fsync": not args.no_fsync, "wallSeconds": time.time() - PROCESS_START})
    if args.json:
        print(json.dumps(out, sort_keys=True))
    else:
        print(f"python-google-api-client backfill: {out['stored']} messages, {out['bytes']} bytes in {seconds:.2f} s wall")
        print(f"  {out['messagesPerSec']:.0f} messages/s, {out['mbPerSec']:.1f} MB/s end to end")
        print(f"  HTTP requests: {out['httpRequests']}; batch size {args.batch}")
        if args.attachments != "none":
            print(f"  attachments ({args.attachments}): {out['attachments']} stored, {out['attachmentFiles']} files, "
                  f"{out['attachmentBytes']} bytes")
        print(f"  peak RSS {peak / 1048576:.1f} MiB")
    if not args.store:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    sys.exit(main())
