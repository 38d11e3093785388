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
"""
import argparse
import base64
import hashlib
import json
import os
import resource
import sqlite3
import sys
import tempfile
import time
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


def parse_row(mailbox, resource_json):
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
    for part in msg.iter_attachments():
        content = part.get_content()
        data = content if isinstance(content, bytes) else str(content).encode()
        attachments.append((part.get_filename(), part.get_content_type(), len(data), hashlib.sha256(data).hexdigest()))
    row = (resource_json["id"], mailbox, resource_json.get("threadId"), str(msg["message-id"] or ""), str(msg["subject"] or ""),
           people[0][1] if people and people[0][0] == "from" else None, date, int(resource_json.get("internalDate", 0)),
           ",".join(resource_json.get("labelIds", [])), text.get_content() if text else None, html.get_content() if html else None,
           len(raw))
    return row, people, attachments, len(raw)


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
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="bench-python-")
    db = sqlite3.connect(os.path.join(tmp, "crm.db"))
    db.executescript(SCHEMA)
    counters = {"requests": 0, "stored": 0, "bytes": 0}
    t0 = time.perf_counter()
    for mailbox in args.users.split(","):
        counters["requests"] += 1  # the token exchange
        backfill(args.server.rstrip("/"), args.key, mailbox, db, args.batch, counters)
    seconds = time.perf_counter() - t0
    db.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    out = {"impl": "python-google-api-client", "mode": "external-server", "stored": counters["stored"],
           "messages": counters["stored"], "bytes": counters["bytes"], "seconds": seconds,
           "messagesPerSec": counters["stored"] / seconds, "mbPerSec": counters["bytes"] / 1e6 / seconds,
           "httpRequests": counters["requests"], "batchSizeFinal": args.batch, "peakRSSBytes": peak}
    if args.json:
        print(json.dumps(out, sort_keys=True))
    else:
        print(f"python-google-api-client backfill: {out['stored']} messages, {out['bytes']} bytes in {seconds:.2f} s wall")
        print(f"  {out['messagesPerSec']:.0f} messages/s, {out['mbPerSec']:.1f} MB/s end to end")
        print(f"  HTTP requests: {out['httpRequests']}; batch size {args.batch}")
        print(f"  peak RSS {peak / 1048576:.1f} MiB")
    for name in os.listdir(tmp):
        os.remove(os.path.join(tmp, name))
    os.rmdir(tmp)


if __name__ == "__main__":
    sys.exit(main())
