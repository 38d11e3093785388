#!/usr/bin/env python3
"""Conformance: Google's own Python client (google-api-python-client + google-auth, from PyPI,
unmodified) against a started fakegmail-server.

    python3 Scripts/conformance_google_client.py [--server PATH_TO_fakegmail-server]

Starts the server on a free loopback port with a service-account key file, then exercises:
the domain-wide-delegation token flow (and its invalid_grant failure), getProfile, messages.list
paging, every messages.get format, attachments.get, history.list including the 404 after expiry,
a batch with a bad id, and a scripted 503 that the client retries with its own num_retries.
Prints one line per check and a closing "N passed, N failed"; exits 1 on any failure.
"""
import argparse
import base64
import json
import os
import subprocess
import sys
import tempfile
import urllib.request

from google.oauth2 import service_account
from google.auth.exceptions import RefreshError
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError
from googleapiclient.http import BatchHttpRequest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
USER = "alice@firm.example"
SCOPES = ["https://www.googleapis.com/auth/gmail.readonly"]

results = []


def check(name, condition, detail=""):
    results.append((name, bool(condition)))
    print(("PASS " if condition else "FAIL ") + name + (f" ({detail})" if detail and not condition else ""))


def control(base, method, path, body=None, content_type="application/json"):
    data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method, headers={"Content-Type": content_type})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read() or b"{}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", default=os.path.join(ROOT, ".build", "debug", "fakegmail-server"))
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="fakegmail-conformance-")
    key_path = os.path.join(tmp, "sa.json")
    scenario = os.path.join(ROOT, "Fixtures", "history", "incremental-basic")
    proc = subprocess.Popen([args.server, "--port", "0", "--scenario", scenario, "--service-account-out", key_path,
                             "--quota", "classic"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        first = proc.stdout.readline().strip()
        check("server prints 'listening on http://HOST:PORT' first", first.startswith("listening on http://127.0.0.1:"), first)
        base = first.split(" ", 2)[2]
        run(base, key_path)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
    passed = sum(1 for _, ok in results if ok)
    failed = len(results) - passed
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


def run(base, key_path):
    key = json.load(open(key_path))
    check("key file is a Google service-account key", key["type"] == "service_account" and key["token_uri"] == base + "/token")

    # Domain-wide delegation: google-auth signs an RS256 JWT and exchanges it at token_uri.
    creds = service_account.Credentials.from_service_account_file(key_path, scopes=SCOPES, subject=USER)
    gmail = build("gmail", "v1", credentials=creds, static_discovery=True, cache_discovery=False,
                  client_options={"api_endpoint": base})

    profile = gmail.users().getProfile(userId="me").execute()
    check("getProfile via a delegated token", profile["emailAddress"] == USER and isinstance(profile["historyId"], str), profile)
    check("access token was minted by the fake", creds.token and creds.token.startswith("ya29.fake-"))

    bad = service_account.Credentials.from_service_account_file(key_path, scopes=SCOPES, subject="nobody@firm.example")
    try:
        build("gmail", "v1", credentials=bad, static_discovery=True, cache_discovery=False,
              client_options={"api_endpoint": base}).users().getProfile(userId="me").execute()
        check("unknown subject fails with invalid_grant", False, "no error")
    except RefreshError as e:
        check("unknown subject fails with invalid_grant", "invalid_grant" in str(e), str(e))

    # messages.list paging with the client's own list_next.
    ids = []
    request = gmail.users().messages().list(userId="me", maxResults=2)
    pages = 0
    while request is not None:
        resp = request.execute()
        ids += [m["id"] for m in resp.get("messages", [])]
        pages += 1
        request = gmail.users().messages().list_next(request, resp)
    check("messages.list pages through every message", len(ids) == 5 and pages == 3, f"{len(ids)} ids in {pages} pages")
    empty = gmail.users().messages().list(userId="me", q="subject:no-such-subject").execute()
    check("empty list is exactly {resultSizeEstimate: 0}", empty == {"resultSizeEstimate": 0}, empty)

    # Insert a message with an attachment through the control plane, then read it back in every format.
    eml = open(os.path.join(ROOT, "Fixtures", "mime", "gmail", "100-gmail-web-reply-attachment.eml"), "rb").read()
    start = profile["historyId"]
    inserted = control(base, "POST", f"/__fake/users/{USER}/messages?labelIds=INBOX,UNREAD", eml, "message/rfc822")
    mid = inserted["id"]
    for fmt in ("minimal", "metadata", "full", "raw"):
        m = gmail.users().messages().get(userId="me", id=mid, format=fmt,
                                         metadataHeaders=["Subject", "From"] if fmt == "metadata" else None).execute()
        check(f"messages.get format={fmt}", m["id"] == mid and isinstance(m["internalDate"], str)
              and (("payload" in m) == (fmt in ("metadata", "full"))) and (("raw" in m) == (fmt == "raw")))
    raw = gmail.users().messages().get(userId="me", id=mid, format="raw").execute()
    check("raw round-trips byte-exact", base64.urlsafe_b64decode(raw["raw"]) == eml)
    full = gmail.users().messages().get(userId="me", id=mid).execute()
    parts = full["payload"].get("parts", [])
    att = next((p for p in parts if p["body"].get("attachmentId")), None)
    check("full payload has an attachment part", att is not None)
    if att:
        data = gmail.users().messages().attachments().get(userId="me", messageId=mid, id=att["body"]["attachmentId"]).execute()
        check("attachments.get returns the announced size", len(base64.urlsafe_b64decode(data["data"])) == att["body"]["size"] == data["size"])

    # history.list, then expiry gives 404.
    h = gmail.users().history().list(userId="me", startHistoryId=start, historyTypes=["messageAdded"]).execute()
    added = [r["messagesAdded"][0]["message"]["id"] for r in h.get("history", [])]
    check("history.list shows the new message", added == [mid], h)
    control(base, "POST", f"/__fake/users/{USER}/history/expire", b"")
    try:
        gmail.users().history().list(userId="me", startHistoryId=start).execute()
        check("expired startHistoryId gives 404", False, "no error")
    except HttpError as e:
        check("expired startHistoryId gives 404", e.resp.status == 404 and "notFound" in e.content.decode(), e.content[:200])

    # A batch with a bad id: the bad part fails alone.
    answers = {}

    def callback(request_id, response, exception):
        answers[request_id] = exception.resp.status if exception else response["id"]

    # The client's batch URI comes from the discovery document (rootUrl + batchPath), not api_endpoint.
    batch = BatchHttpRequest(callback=callback, batch_uri=base + "/batch")
    batch.add(gmail.users().messages().get(userId="me", id=ids[0], format="minimal"), request_id="one")
    batch.add(gmail.users().messages().get(userId="me", id="not-a-valid-id", format="minimal"), request_id="bad")
    batch.add(gmail.users().messages().get(userId="me", id=ids[1], format="minimal"), request_id="two")
    batch.execute()
    check("batch: good parts answered, bad id is a 400 part", answers == {"one": ids[0], "bad": 400, "two": ids[1]}, answers)

    # A scripted 503, retried by the client's own num_retries.
    before = control(base, "GET", "/__fake/stats")["requests"].get("gmail.users.messages.list", 0)
    control(base, "POST", "/__fake/faults", {"method": "messages.list", "status": 503, "count": 2})
    resp = gmail.users().messages().list(userId="me", maxResults=1).execute(num_retries=3)
    after = control(base, "GET", "/__fake/stats")["requests"].get("gmail.users.messages.list", 0)
    check("503 twice then success under num_retries", "messages" in resp and after - before == 3, f"{after - before} calls")
    labels = gmail.users().labels().list(userId="me").execute()
    check("labels.list has the system labels", {"INBOX", "SENT", "SPAM", "TRASH"} <= {l["id"] for l in labels["labels"]})


if __name__ == "__main__":
    sys.exit(main())
