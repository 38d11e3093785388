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
print("wrote", sorted(os.listdir(ROOT)))
