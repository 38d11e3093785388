#!/usr/bin/env python3
"""Turn a directory of .eml files (e.g. a Scripts/make_bench_corpus.py corpus) into a fakegmail-server
scenario directory, the format `gmail-capture bench generate` writes; describe a scenario; derive a
CRM investors file from a scenario's senders.

    python3 Scripts/corpus_to_scenario.py CORPUS_DIR SCENARIO_DIR [--user user0@firm.example]
        [--owner alex.morgan.bench@gmail.com] [--owner-name "User Zero"] [--sent-pct 10] [--unread-pct 30] [--seed 1]
    python3 Scripts/corpus_to_scenario.py --describe SCENARIO_DIR     # (re)write SCENARIO_DIR/stats.json and investors.json

The scenario: SCENARIO_DIR/scenario.json ({"users": [{"email", "messages": [{"eml", "labelIds",
"internalDate"}]}]}, as FakeGmail's Scenario.load reads it) and SCENARIO_DIR/mail/<name>.eml, one
mailbox (--user). Two extra files that fakegmail-server ignores:

  stats.json      {"messages", "attachments", "messagesWithAttachments", "bytes", "users"}: what a
                  complete backfill must store. "attachments" counts the parts gmail-capture records
                  and downloads: the parts its parser (CaptureParsing's Assembler) files as attachments
                  and that Gmail (and FakeGmail's PayloadRenderer) serves through attachments.get, i.e.
                  non-empty leaves other than the message's text/plain and text/html bodies (inline
                  cid: images and .ics files included; the parts of a forwarded message/rfc822 too).
  investors.json  CRM investors (`gmail-capture investors import`), so the capture's investor matching
                  and relationship index have work: one firm per non-freemail sender domain (the 30
                  most frequent), with its domain and its 10 most frequent sender addresses (the
                  relationship index counts investors' addresses only), and up to 20 individuals
                  with freemail addresses (every 10th distinct freemail sender). Bulk senders
                  (List-Id, List-Unsubscribe, Precedence) and SENT messages are not looked at.

Deterministic: every choice hashes (--seed, file name), so the same corpus gives the same scenario.
Each message is the corpus file's bytes, except in its header block:
  - the corpus owner's address (--owner, make_bench_corpus.py's USER) becomes the mailbox (--user);
  - for the messages labelled SENT, the From field is replaced by "--owner-name <--user>".
Labels: --sent-pct percent of the personal messages (no List-*/Precedence header) are ["SENT"]; the
others are INBOX with a category (CATEGORY_PROMOTIONS for Precedence: bulk, CATEGORY_UPDATES for other
list mail, CATEGORY_PERSONAL), UNREAD for --unread-pct percent, IMPORTANT for a third of personal mail.
internalDate: the Date header plus 1-120 s of delivery (epoch ms; 2023-01-01 + i minutes when the
Date is missing or unreadable).
"""
import argparse
import hashlib
import json
import os
import re
import sys
from email import policy
from email.parser import BytesParser, BytesHeaderParser
from email.utils import getaddresses, parsedate_to_datetime

PUBLIC_DOMAINS = {"gmail.com", "googlemail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com", "proton.me",
                  "protonmail.com", "fastmail.com", "gmx.de", "yandex.ru", "aol.com", "live.com", "me.com"}
FALLBACK_EPOCH_MS = 1672531200000  # 2023-01-01T00:00:00Z


def frac(seed, name, what):
    """A deterministic number in [0, 1) for (seed, file, decision)."""
    d = hashlib.sha256(("%s:%s:%s" % (seed, name, what)).encode()).digest()
    return int.from_bytes(d[:8], "big") / 2.0 ** 64


def split_head(raw):
    i = raw.find(b"\r\n\r\n")
    if i >= 0:
        return raw[:i + 2], raw[i + 2:]
    i = raw.find(b"\n\n")
    if i >= 0:
        return raw[:i + 1], raw[i + 1:]
    return raw, b""


FROM_FIELD = re.compile(rb"(?im)^From:[^\r\n]*(?:\r?\n[ \t][^\r\n]*)*")


def header_values(head, name):
    msg = BytesHeaderParser(policy=policy.compat32).parsebytes(head + b"\r\n")
    return [str(v) for v in msg.get_all(name, [])]


def is_list_mail(head):
    h = head.lower()
    return b"\nlist-unsubscribe:" in h or b"\nlist-id:" in h or b"\nprecedence:" in h or h.startswith(
        (b"list-unsubscribe:", b"list-id:", b"precedence:"))


def is_bulk(head):
    return re.search(rb"(?im)^precedence:\s*bulk", head) is not None


# --------------------------------------------------------------------------
# Attachment count: what gmail-capture files and downloads
# --------------------------------------------------------------------------

def _filename(part):
    try:
        return part.get_filename() or ""
    except Exception:  # noqa: BLE001 - a malformed parameter: treat as no name
        return ""


def _disposition(part):
    v = part.get("content-disposition")
    return str(v).split(";")[0].strip().lower() if v else None


def _is_body_text(part):
    return (part.get_content_type() in ("text/plain", "text/html") and not _filename(part)
            and _disposition(part) != "attachment")


def _collect(part, in_alt):
    """(texts, htmls, attachments) as CaptureParsing's Assembler.collect files them."""
    ct = part.get_content_type()
    texts, htmls, atts = [], [], []
    if ct in ("message/delivery-status", "message/global-delivery-status"):
        return texts, htmls, atts
    children = part.get_payload() if part.is_multipart() else None
    if ct.startswith("message/") and children:
        for child in children:
            t, h, a = _collect(child, False)
            atts += a + [x for x in t if _filename(x)]
        return texts, htmls, atts
    if not children:
        if _is_body_text(part):
            (texts if ct == "text/plain" else htmls).append(part)
        elif ct in ("text/calendar", "application/ics"):
            if not in_alt or _disposition(part) == "attachment" or _filename(part):
                atts.append(part)
        elif in_alt and ct.startswith("text/") and not _filename(part) and _disposition(part) != "attachment":
            pass
        else:
            atts.append(part)
        return texts, htmls, atts
    if ct == "multipart/alternative":
        best_t, best_h = None, None
        for child in children:
            t, h, a = _collect(child, True)
            if t and best_t is None:
                best_t = t
            if h:
                best_h = h
            atts += a
        return best_t or [], best_h or [], atts
    if ct == "multipart/related":
        for k, child in enumerate(children):
            t, h, a = _collect(child, False)
            if k == 0:
                texts += t
                htmls += h
            else:
                atts += t + h
            atts += a
        return texts, htmls, atts
    for child in children:
        t, h, a = _collect(child, False)
        texts += t
        htmls += h
        atts += a
    return texts, htmls, atts


def downloadable_attachments(raw):
    """The attachments gmail-capture records for this message and can download (Gmail gives them an
    attachmentId: not a text/plain or text/html part without a file name, and not empty)."""
    msg = BytesParser(policy=policy.compat32).parsebytes(raw)
    n = 0
    for part in _collect(msg, False)[2]:
        if part.get_content_type() in ("text/plain", "text/html") and not _filename(part):
            continue  # served inline (body.data), no attachmentId
        data = part.get_payload(decode=True)
        if data:
            n += 1
    return n


# --------------------------------------------------------------------------
# Describe a scenario: stats.json and investors.json
# --------------------------------------------------------------------------

def describe(scenario_dir, workspace_domain="firm.example"):
    spec = json.load(open(os.path.join(scenario_dir, "scenario.json")))
    stats = {"messages": 0, "attachments": 0, "messagesWithAttachments": 0, "bytes": 0, "users": []}
    firms, people = {}, set()
    for u in spec.get("users", []):
        stats["users"].append(u["email"])
        for m in u.get("messages", []):
            raw = open(os.path.join(scenario_dir, m["eml"]), "rb").read()
            n = downloadable_attachments(raw)
            stats["messages"] += 1
            stats["bytes"] += len(raw)
            stats["attachments"] += n
            stats["messagesWithAttachments"] += n > 0
            head, _ = split_head(raw)
            if is_list_mail(head) or "SENT" in m.get("labelIds", []):
                continue
            for _, addr in getaddresses(header_values(head, "from")):
                addr = addr.strip().lower()
                if "@" not in addr:
                    continue
                domain = addr.rsplit("@", 1)[1]
                if domain == workspace_domain or domain.endswith("." + workspace_domain):
                    continue
                if domain in PUBLIC_DOMAINS:
                    people.add(addr)
                else:
                    firm = firms.setdefault(domain, {})
                    firm[addr] = firm.get(addr, 0) + 1
    investors = []
    for domain, senders in sorted(firms.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))[:30]:
        name = domain.split(".")[0].replace("-", " ").title()
        emails = sorted(sorted(senders, key=lambda a: (-senders[a], a))[:10])
        investors.append({"id": "inv-firm-" + domain, "name": name, "emails": emails, "domains": [domain]})
    for k, addr in enumerate(sorted(people)):
        if k % 10 == 0 and len([i for i in investors if not i["domains"]]) < 20:
            investors.append({"id": "inv-person-" + addr, "name": addr.split("@")[0].replace(".", " ").title(),
                              "emails": [addr], "domains": []})
    stats["investors"] = len(investors)
    with open(os.path.join(scenario_dir, "stats.json"), "w") as f:
        json.dump(stats, f, indent=1, sort_keys=True)
    with open(os.path.join(scenario_dir, "investors.json"), "w") as f:
        json.dump(investors, f, indent=1)
    return stats


# --------------------------------------------------------------------------
# Corpus -> scenario
# --------------------------------------------------------------------------

def internal_date_ms(head, seed, name, index):
    vals = header_values(head, "date")
    if vals:
        try:
            dt = parsedate_to_datetime(vals[0])
            if dt.tzinfo is not None:
                return int(dt.timestamp() * 1000) + int(1000 + frac(seed, name, "delivery") * 119_000)
        except (TypeError, ValueError, IndexError):
            pass
    return FALLBACK_EPOCH_MS + index * 60_000


def convert(args):
    names = sorted(n for n in os.listdir(args.corpus) if n.endswith(".eml"))
    if not names:
        sys.exit("%s: no .eml files" % args.corpus)
    mail = os.path.join(args.scenario, "mail")
    os.makedirs(mail, exist_ok=True)
    owner = re.compile(re.escape(args.owner.encode()), re.IGNORECASE)
    sender = ("From: %s <%s>" % (args.owner_name, args.user)).encode()
    messages = []
    for i, name in enumerate(names):
        raw = open(os.path.join(args.corpus, name), "rb").read()
        head, body = split_head(raw)
        head = owner.sub(args.user.encode(), head)
        personal = not is_list_mail(head)
        if personal and frac(args.seed, name, "sent") * 100 < args.sent_pct:
            head = FROM_FIELD.sub(lambda _: sender, head, count=1)
            labels = ["SENT"]
        else:
            category = ("CATEGORY_PERSONAL" if personal else
                        "CATEGORY_PROMOTIONS" if is_bulk(head) else "CATEGORY_UPDATES")
            labels = ["INBOX", category]
            if frac(args.seed, name, "unread") * 100 < args.unread_pct:
                labels.append("UNREAD")
            if personal and frac(args.seed, name, "important") < 1 / 3:
                labels.append("IMPORTANT")
        with open(os.path.join(mail, name), "wb") as f:
            f.write(head + body)
        messages.append({"eml": "mail/" + name, "labelIds": labels,
                         "internalDate": str(internal_date_ms(head, args.seed, name, i))})
    with open(os.path.join(args.scenario, "scenario.json"), "w") as f:
        json.dump({"users": [{"email": args.user, "messages": messages}]}, f, indent=1, sort_keys=True)
    stats = describe(args.scenario, args.user.split("@", 1)[1])
    sent = sum(1 for m in messages if m["labelIds"] == ["SENT"])
    print("%s: %d messages (%d SENT), %d attachments in %d messages, %.1f MB, %d investors" % (
        args.scenario, stats["messages"], sent, stats["attachments"], stats["messagesWithAttachments"],
        stats["bytes"] / 1e6, stats["investors"]))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n", 1)[1])
    ap.add_argument("dirs", nargs="*", metavar="DIR", help="CORPUS_DIR SCENARIO_DIR (or, with --describe, SCENARIO_DIR)")
    ap.add_argument("--describe", action="store_true",
                    help="only (re)write SCENARIO_DIR/stats.json and investors.json and print the stats")
    ap.add_argument("--user", default="user0@firm.example", help="the mailbox (default user0@firm.example)")
    ap.add_argument("--owner", default="alex.morgan.bench@gmail.com",
                    help="the corpus owner's address, rewritten to --user in header blocks")
    ap.add_argument("--owner-name", default="User Zero", help="display name in the From of SENT messages")
    ap.add_argument("--sent-pct", type=float, default=10.0, help="percent of personal messages labelled SENT (10)")
    ap.add_argument("--unread-pct", type=float, default=30.0, help="percent of INBOX messages labelled UNREAD (30)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workspace-domain", default=None,
                    help="with --describe: the firm's domain, never an investor (default: firm.example)")
    args = ap.parse_args(argv)
    if args.describe:
        if len(args.dirs) != 1:
            ap.error("--describe takes one SCENARIO_DIR")
        stats = describe(args.dirs[0], args.workspace_domain or "firm.example")
        print(json.dumps(stats, sort_keys=True))
        return 0
    if len(args.dirs) != 2:
        ap.error("give CORPUS_DIR and SCENARIO_DIR")
    args.corpus, args.scenario = args.dirs
    convert(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
