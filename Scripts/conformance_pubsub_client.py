#!/usr/bin/env python3
"""Conformance: Google's own Python client (google-api-python-client + google-auth, from PyPI,
unmodified, with the discovery documents it ships: no network) against the Cloud Pub/Sub emulator and
Gmail's users.watch / users.stop in a started fakegmail-server.

    python3 Scripts/conformance_pubsub_client.py [--server PATH_TO_fakegmail-server]

Starts the server on a free loopback port with a service-account key file, then with
build("pubsub", "v1"): creates a topic, reads and sets its IAM policy (granting publish to Gmail's push
account), creates a pull subscription; with build("gmail", "v1"): users.watch (refused before the
grant, accepted after); delivers mail through the fake's control route; pulls the notification,
acknowledges it, checks an acknowledged message is not redelivered and an unacknowledged one is,
after the ack deadline on the fake's virtual clock; then users.stop and clean-up.
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

from google.auth.credentials import AnonymousCredentials
from google.oauth2 import service_account
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
USER = "alice@firm.example"
SCOPES = ["https://www.googleapis.com/auth/gmail.readonly"]
GMAIL_PUSH = "serviceAccount:gmail-api-push@system.gserviceaccount.com"

results = []


def check(name, condition, detail=""):
    results.append((name, bool(condition)))
    print(("PASS " if condition else "FAIL ") + name + (f" ({detail})" if detail and not condition else ""))


def control(base, method, path, body=None, content_type="application/json"):
    data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method, headers={"Content-Type": content_type})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read() or b"{}")


def http_status(call):
    """The HTTP status of a call expected to fail (0 if it succeeded)."""
    try:
        call.execute()
        return 0, b""
    except HttpError as e:
        return e.resp.status, e.content


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", default=os.path.join(ROOT, ".build", "debug", "fakegmail-server"))
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="fakegmail-pubsub-conformance-")
    key_path = os.path.join(tmp, "sa.json")
    scenario = os.path.join(ROOT, "Fixtures", "history", "incremental-basic")
    proc = subprocess.Popen([args.server, "--port", "0", "--scenario", scenario, "--service-account-out", key_path,
                             "--project-id", "crm-conformance"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True)
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


def decode(message):
    return json.loads(base64.b64decode(message["data"]))


def run(base, key_path):
    key = json.load(open(key_path))
    project = key["project_id"]
    check("the key file names the server's project", project == "crm-conformance", project)
    topic = f"projects/{project}/topics/gmail-push"
    sub = f"projects/{project}/subscriptions/crm-pull"

    # Like Google's own emulator, the fake's Pub/Sub takes no credentials.
    pubsub = build("pubsub", "v1", credentials=AnonymousCredentials(), static_discovery=True, cache_discovery=False,
                   client_options={"api_endpoint": base})
    creds = service_account.Credentials.from_service_account_file(key_path, scopes=SCOPES, subject=USER)
    gmail = build("gmail", "v1", credentials=creds, static_discovery=True, cache_discovery=False,
                  client_options={"api_endpoint": base})

    created = pubsub.projects().topics().create(name=topic, body={}).execute()
    check("topics.create", created == {"name": topic}, created)
    status, content = http_status(pubsub.projects().topics().create(name=topic, body={}))
    check("topics.create again is 409 ALREADY_EXISTS", status == 409 and b"ALREADY_EXISTS" in content, status)
    status, _ = http_status(pubsub.projects().topics().get(topic=f"projects/{project}/topics/nope"))
    check("topics.get of an unknown topic is 404", status == 404, status)

    # Before the grant Gmail may not publish: users.watch is refused.
    status, content = http_status(gmail.users().watch(userId="me", body={"topicName": topic}))
    check("users.watch before the IAM grant is 403 forbidden", status == 403 and b"forbidden" in content, content[:200])
    status, _ = http_status(gmail.users().watch(userId="me", body={"topicName": "projects/someone-else/topics/gmail-push"}))
    check("users.watch on another project's topic is 400", status == 400, status)

    policy = pubsub.projects().topics().getIamPolicy(resource=topic).execute()
    check("topics.getIamPolicy of a new topic is an empty policy", "bindings" not in policy and "etag" in policy, policy)
    policy["bindings"] = [{"role": "roles/pubsub.publisher", "members": [GMAIL_PUSH]}]
    granted = pubsub.projects().topics().setIamPolicy(resource=topic, body={"policy": policy}).execute()
    check("topics.setIamPolicy grants publish to Gmail",
          granted.get("bindings") == policy["bindings"] and granted["etag"] != policy["etag"], granted)

    made = pubsub.projects().subscriptions().create(name=sub, body={"topic": topic, "ackDeadlineSeconds": 10}).execute()
    check("subscriptions.create (pull)", made["name"] == sub and made["topic"] == topic and made["ackDeadlineSeconds"] == 10, made)

    now = control(base, "GET", "/__fake/clock")["nowMillis"]
    watch = gmail.users().watch(userId="me", body={"topicName": topic, "labelIds": ["INBOX"],
                                                   "labelFilterBehavior": "include"}).execute()
    check("users.watch answers historyId and expiration as strings",
          isinstance(watch["historyId"], str) and isinstance(watch["expiration"], str), watch)
    check("the watch expires 7 days ahead on the fake's clock", int(watch["expiration"]) == now + 7 * 86400 * 1000, watch)

    # New mail, delivered through the control route: Gmail publishes {emailAddress, historyId}.
    eml = open(os.path.join(ROOT, "Fixtures", "mime", "gmail", "100-gmail-web-reply-attachment.eml"), "rb").read()
    inserted = control(base, "POST", f"/__fake/users/{USER}/messages?labelIds=INBOX,UNREAD", eml, "message/rfc822")
    pulled = pubsub.projects().subscriptions().pull(subscription=sub,
                                                    body={"maxMessages": 10, "returnImmediately": True}).execute()
    received = pulled.get("receivedMessages", [])
    check("subscriptions.pull returns the notification", len(received) == 1, pulled)
    if not received:
        return
    note = decode(received[0]["message"])
    check("the notification is {emailAddress, historyId} of the new mail",
          note.get("emailAddress") == USER and str(note.get("historyId")) == inserted["historyId"], note)
    check("the message has a messageId and a publishTime",
          received[0]["message"]["messageId"].isdigit() and received[0]["message"]["publishTime"].endswith("Z"), received[0])
    acked = pubsub.projects().subscriptions().acknowledge(subscription=sub,
                                                          body={"ackIds": [received[0]["ackId"]]}).execute()
    check("subscriptions.acknowledge", acked == {}, acked)
    control(base, "POST", "/__fake/clock/advance", {"seconds": 30})
    again = pubsub.projects().subscriptions().pull(subscription=sub, body={"maxMessages": 10}).execute()
    check("an acknowledged message is not redelivered after the deadline", again.get("receivedMessages") is None, again)

    # An unacknowledged one comes back after the 10 s deadline, with a new ack id; acked, it is gone.
    control(base, "POST", f"/__fake/users/{USER}/watch/notify", {})
    first = pubsub.projects().subscriptions().pull(subscription=sub, body={"maxMessages": 10}).execute()["receivedMessages"]
    extended = pubsub.projects().subscriptions().modifyAckDeadline(
        subscription=sub, body={"ackIds": [first[0]["ackId"]], "ackDeadlineSeconds": 20}).execute()
    check("subscriptions.modifyAckDeadline", extended == {}, extended)
    control(base, "POST", "/__fake/clock/advance", {"seconds": 15})
    early = pubsub.projects().subscriptions().pull(subscription=sub, body={"maxMessages": 10}).execute()
    check("no redelivery inside the extended deadline", early.get("receivedMessages") is None, early)
    control(base, "POST", "/__fake/clock/advance", {"seconds": 6})
    redelivered = pubsub.projects().subscriptions().pull(subscription=sub, body={"maxMessages": 10}).execute()
    got = redelivered.get("receivedMessages", [])
    check("an unacknowledged message is redelivered after its deadline",
          len(got) == 1 and got[0]["message"]["messageId"] == first[0]["message"]["messageId"]
          and got[0]["ackId"] != first[0]["ackId"], redelivered)
    if got:
        pubsub.projects().subscriptions().acknowledge(subscription=sub, body={"ackIds": [got[0]["ackId"]]}).execute()
    control(base, "POST", "/__fake/clock/advance", {"seconds": 30})
    gone = pubsub.projects().subscriptions().pull(subscription=sub, body={"maxMessages": 10}).execute()
    check("once acknowledged the redelivery is gone", gone.get("receivedMessages") is None, gone)

    stopped = gmail.users().stop(userId="me").execute()
    check("users.stop answers no content", stopped in ("", {}, None), stopped)
    control(base, "POST", "/__fake/clock/advance", {"seconds": 2})
    control(base, "POST", f"/__fake/users/{USER}/messages?labelIds=INBOX", eml, "message/rfc822")
    after = pubsub.projects().subscriptions().pull(subscription=sub, body={"maxMessages": 10}).execute()
    check("no notification after users.stop", after.get("receivedMessages") is None, after)

    status, _ = http_status(pubsub.projects().subscriptions().pull(subscription=f"projects/{project}/subscriptions/nope",
                                                                    body={"maxMessages": 1}))
    check("pull on an unknown subscription is 404", status == 404, status)
    pubsub.projects().subscriptions().delete(subscription=sub).execute()
    pubsub.projects().topics().delete(topic=topic).execute()
    status, _ = http_status(pubsub.projects().subscriptions().get(subscription=sub))
    check("subscriptions.delete and topics.delete", status == 404, status)


if __name__ == "__main__":
    sys.exit(main())
