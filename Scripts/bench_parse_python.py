#!/usr/bin/env python3
"""MIME parsing benchmark: Python's `email` package (policy=email.policy.default).

Usage:
    python3 Scripts/bench_parse_python.py DIR [--json]

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

import argparse
import email.policy
import json
import os
import resource
import sys
import time
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


def main(argv=None):
    ap = argparse.ArgumentParser(description="Benchmark Python email parsing on a directory of .eml files")
    ap.add_argument("dir")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)

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
