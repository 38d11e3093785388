#!/usr/bin/env python3
"""Writes the scripted sync scenarios under Fixtures/history (deterministic; re-run to regenerate).

Each scenario is a directory with scenario.json (format: README "Scenario files") and mail/*.eml.
"""
import json, os, shutil

ROOT = os.path.join(os.path.dirname(__file__), "..", "Fixtures", "history")
BASE = 1709658000000  # 2024-03-05T17:00:00Z
FIRM = "firm.example"

def eml(frm, to, subject, mid, date_ms, body, in_reply_to=None, refs=(), cc=None, attachment=None):
    import datetime
    d = datetime.datetime.fromtimestamp(date_ms / 1000, datetime.timezone.utc).strftime("%a, %d %b %Y %H:%M:%S +0000")
    h = [f"From: {frm}", f"To: {to}"] + ([f"Cc: {cc}"] if cc else []) + [f"Subject: {subject}", f"Date: {d}", f"Message-ID: <{mid}>"]
    if in_reply_to:
        h.append(f"In-Reply-To: <{in_reply_to}>")
    if refs:
        h.append("References: " + " ".join(f"<{r}>" for r in refs))
    h.append("MIME-Version: 1.0")
    if attachment:
        name, data = attachment
        import base64
        b = base64.encodebytes(data).decode().replace("\n", "\r\n")
        h.append('Content-Type: multipart/mixed; boundary="b1"')
        text = "\r\n".join(h) + "\r\n\r\n--b1\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n" + body + "\r\n--b1\r\n"
        text += f'Content-Type: application/pdf; name="{name}"\r\nContent-Disposition: attachment; filename="{name}"\r\nContent-Transfer-Encoding: base64\r\n\r\n{b}--b1--\r\n'
        return text
    h.append("Content-Type: text/plain; charset=UTF-8")
    return "\r\n".join(h) + "\r\n\r\n" + body + "\r\n"

def write(name, users, steps, messages):
    d = os.path.join(ROOT, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(os.path.join(d, "mail"))
    for fn, text in messages.items():
        with open(os.path.join(d, "mail", fn), "w", newline="") as f:
            f.write(text)
    with open(os.path.join(d, "scenario.json"), "w") as f:
        json.dump({"users": users, "steps": steps}, f, indent=1)
        f.write("\n")

def investor_mail(n, t, who="alice"):
    return eml(f"Maya Chen <maya@lumenridge.example.com>", f"{who}@{FIRM}", f"Deal update {n}", f"deal-{n}@lumenridge.example.com",
               BASE + t, f"Update number {n} on the round.")

# 1. Incremental: adds, label changes, deletes, add-then-delete inside one window.
msgs = {f"m{i}.eml": investor_mail(i, i * 60000) for i in range(1, 6)}
msgs["late1.eml"] = investor_mail(101, 3600000)
msgs["late2.eml"] = investor_mail(102, 3660000)
msgs["transient.eml"] = investor_mail(103, 3720000)
write("incremental-basic",
      [{"email": f"alice@{FIRM}", "messages": [{"eml": f"mail/m{i}.eml", "labelIds": ["INBOX", "UNREAD"], "internalDate": str(BASE + i * 60000), "ref": f"m{i}"} for i in range(1, 6)]}],
      [{"op": "checkpoint", "name": "backfill"},
       {"op": "advance", "seconds": 3600},
       {"op": "insert", "user": f"alice@{FIRM}", "eml": "mail/late1.eml", "labelIds": ["INBOX", "UNREAD"], "ref": "late1"},
       {"op": "relabel", "user": f"alice@{FIRM}", "ref": "m1", "add": ["STARRED"], "remove": ["UNREAD"]},
       {"op": "delete", "user": f"alice@{FIRM}", "ref": "m2"},
       {"op": "insert", "user": f"alice@{FIRM}", "eml": "mail/transient.eml", "labelIds": ["INBOX"], "ref": "transient"},
       {"op": "delete", "user": f"alice@{FIRM}", "ref": "transient"},
       {"op": "insert", "user": f"alice@{FIRM}", "eml": "mail/late2.eml", "labelIds": ["SPAM"], "ref": "late2"},
       {"op": "checkpoint", "name": "incremental"}],
      msgs)

# 2. History expiry mid-life: gap mail arrives, an old message is deleted, then history expires.
msgs = {f"m{i}.eml": investor_mail(i, i * 60000) for i in range(1, 4)}
msgs.update({f"gap{i}.eml": investor_mail(200 + i, 86400000 + i * 60000) for i in range(1, 4)})
write("history-expiry",
      [{"email": f"alice@{FIRM}", "messages": [{"eml": f"mail/m{i}.eml", "labelIds": ["INBOX"], "internalDate": str(BASE + i * 60000), "ref": f"m{i}"} for i in range(1, 4)]}],
      [{"op": "checkpoint", "name": "backfill"},
       {"op": "advance", "seconds": 86400}]
      + [{"op": "insert", "user": f"alice@{FIRM}", "eml": f"mail/gap{i}.eml", "labelIds": ["INBOX"], "ref": f"gap{i}"} for i in range(1, 4)]
      + [{"op": "delete", "user": f"alice@{FIRM}", "ref": "m1"},
         {"op": "expireHistory", "user": f"alice@{FIRM}"},
         {"op": "checkpoint", "name": "after-expiry"}],
      msgs)

# 3. Faults during backfill: 503 and 429 on some batch parts, one message that always 404s.
msgs = {f"m{i}.eml": investor_mail(i, i * 60000) for i in range(1, 13)}
write("batch-faults",
      [{"email": f"alice@{FIRM}", "messages": [{"eml": f"mail/m{i}.eml", "labelIds": ["INBOX"], "internalDate": str(BASE + i * 60000), "ref": f"m{i}"} for i in range(1, 13)]}],
      [{"op": "fault", "rule": {"method": "messages.get", "batchPart": 2, "status": 503, "count": 2}},
       {"op": "fault", "rule": {"method": "messages.get", "batchPart": 6, "status": 429, "retryAfterText": 2, "count": 1}},
       {"op": "checkpoint", "name": "backfill"},
       {"op": "clearFaults"}],
      msgs)

# 4. Two teammates on one conversation: Bob was on the first half, Alice on the second.
conv = []
msgs = {}
refs = []
for i in range(1, 5):
    mid = f"conv-{i}@lumenridge.example.com"
    to = f"bob@{FIRM}" if i <= 2 else f"alice@{FIRM}"
    cc = f"alice@{FIRM}" if i == 2 else None
    msgs[f"c{i}.eml"] = eml("Maya Chen <maya@lumenridge.example.com>", to, "Fund III allocation" if i == 1 else "Re: Fund III allocation",
                            mid, BASE + i * 3600000, f"Message {i} of the conversation.", in_reply_to=refs[-1] if refs else None, refs=list(refs), cc=cc)
    refs.append(mid)
write("two-teammates",
      [{"email": f"alice@{FIRM}", "messages": [{"eml": f"mail/c{i}.eml", "labelIds": ["INBOX"], "internalDate": str(BASE + i * 3600000), "ref": f"a{i}"} for i in (2, 3, 4)]},
       {"email": f"bob@{FIRM}", "messages": [{"eml": f"mail/c{i}.eml", "labelIds": ["INBOX"], "internalDate": str(BASE + i * 3600000), "ref": f"b{i}"} for i in (1, 2)]}],
      [{"op": "checkpoint", "name": "backfill"}],
      msgs)

# Push (Gmail's users.watch side; the watch itself is set by the capture under test, see README "Push notifications").
ALICE = f"alice@{FIRM}"

def alice_with(n):
    """Alice's mailbox with n investor messages (m1..mn), and their .eml files."""
    msgs = {f"m{i}.eml": investor_mail(i, i * 60000) for i in range(1, n + 1)}
    user = {"email": ALICE, "messages": [{"eml": f"mail/m{i}.eml", "labelIds": ["INBOX"], "internalDate": str(BASE + i * 60000), "ref": f"m{i}"} for i in range(1, n + 1)]}
    return user, msgs

def insert(fn, ref, labels=("INBOX", "UNREAD")):
    return {"op": "insert", "user": ALICE, "eml": f"mail/{fn}", "labelIds": list(labels), "ref": ref}

# 5. A burst: 100 new messages within one virtual second, pushes delivered as they go; the notifier's one
#    per second per mailbox coalesces them. Expect one or two syncs, not 100.
user, msgs = alice_with(1)
burst = []
for i in range(1, 101):
    msgs[f"burst{i:03}.eml"] = investor_mail(300 + i, 600000 + i * 10)
    burst.append(insert(f"burst{i:03}.eml", f"burst{i}"))
    if i % 10 == 1:
        burst.append({"op": "deliverPushes"})
write("push-burst", [user],
      [{"op": "checkpoint", "name": "backfill"}]
      + burst
      + [{"op": "advance", "seconds": 1},  # the second ends: the coalesced notification goes out
         {"op": "deliverPushes"},
         {"op": "checkpoint", "name": "burst"}],
      msgs)

# 6. Dropped: Gmail never publishes the notification; only the scheduler's poll can catch the mail.
user, msgs = alice_with(3)
msgs["late1.eml"] = investor_mail(401, 3600000)
write("push-dropped", [user],
      [{"op": "checkpoint", "name": "backfill"},
       {"op": "notificationFault", "user": ALICE, "kind": "drop"},
       insert("late1.eml", "late1"),
       {"op": "deliverPushes"},
       {"op": "checkpoint", "name": "dropped"}],
      msgs)

# 7. A lapsed watch: Gmail lets it expire silently, new mail is not notified; a day later the daily
#    renewal re-establishes it and the next change is pushed.
user, msgs = alice_with(3)
msgs["late1.eml"] = investor_mail(501, 3600000)
msgs["late2.eml"] = investor_mail(502, 90000000)
write("push-lapsed-watch", [user],
      [{"op": "checkpoint", "name": "backfill"},
       {"op": "expireWatch", "user": ALICE},
       insert("late1.eml", "late1"),
       {"op": "deliverPushes"},
       {"op": "checkpoint", "name": "lapsed"},
       {"op": "advance", "seconds": 86400},
       {"op": "checkpoint", "name": "a-day-later"},
       insert("late2.eml", "late2"),
       {"op": "deliverPushes"},
       {"op": "checkpoint", "name": "renewed"}],
      msgs)

# 8. Duplicate and stale: one change notified twice, then notifications at or below the client's cursor
#    (the current historyId once synced, the watch's starting one, and 1). At most one history.list.
user, msgs = alice_with(3)
msgs["late1.eml"] = investor_mail(601, 3600000)
write("push-duplicate-stale", [user],
      [{"op": "checkpoint", "name": "backfill"},
       {"op": "notificationFault", "user": ALICE, "kind": "duplicate", "count": 1},
       insert("late1.eml", "late1"),
       {"op": "deliverPushes"},
       {"op": "checkpoint", "name": "duplicate"},
       {"op": "deliverPushes"},
       {"op": "checkpoint", "name": "redelivery"},
       {"op": "notify", "user": ALICE},
       {"op": "notify", "user": ALICE, "stale": True},
       {"op": "notify", "user": ALICE, "historyId": "1"},
       {"op": "deliverPushes"},
       {"op": "checkpoint", "name": "stale"}],
      msgs)

# 9. Latency: single new messages more than a second apart (outside the notifier's one-per-second
#    window, so each is notified at once); a test measures delivery to stored for the first N samples
#    (40 for PUSH_LATENCY_SAMPLES=40).
user, msgs = alice_with(2)
samples = []
for n in range(1, 41):
    msgs[f"sample{n:02}.eml"] = investor_mail(700 + n, 3600000 + n * 1100)
    samples += [{"op": "advance", "seconds": 1.1},
                insert(f"sample{n:02}.eml", f"sample{n}"),
                {"op": "deliverPushes"},
                {"op": "checkpoint", "name": f"sample-{n}"}]
write("push-latency", [user], [{"op": "checkpoint", "name": "watched"}] + samples, msgs)
print("wrote", sorted(os.listdir(ROOT)))
