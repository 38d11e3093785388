#!/usr/bin/env python3
"""Deterministic generator of the MIME parsing fixture corpus.

Usage:
    python3 Scripts/make_mime_fixtures.py [--out Fixtures/mime]

Writes OUT/{rfc,gmail,charsets,malformed,structure}/NNN-slug.eml and NNN-slug.expect.json plus
OUT/README.md, removing stale .eml/.expect.json files first, so re-running is idempotent. A fixture
registered in common.TEMPLATES (a large attachment of one repeated block) is written as
NNN-slug.eml.template, its base64 body replaced by one `@@base64-repeat ...@@` line that the Swift
tests expand (TestSupport.CorpusFile), so git never holds megabytes of repetition. The
fixtures themselves are defined in Scripts/mimefixtures/*.py (one module per folder); helpers live in
Scripts/mimefixtures/common.py.
"""

import argparse
import os
import sys

sys.dont_write_bytecode = True  # keep Scripts/ free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from mimefixtures import common  # noqa: E402
from mimefixtures import rfc, params, charsets, structure, malformed, gmail  # noqa: E402,F401
from mimefixtures import readme  # noqa: E402

LARGE = 5 * 1024 * 1024  # files above this are excluded from the "small corpus" budget


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(here, "..", "Fixtures", "mime"))
    ap.add_argument("--verify", action="store_true", help="cross-check with Python's email package afterwards")
    args = ap.parse_args()
    out = os.path.normpath(args.out)

    for folder in common.FOLDERS:
        d = os.path.join(out, folder)
        os.makedirs(d, exist_ok=True)
        for name in os.listdir(d):
            if name.endswith((".eml", ".eml.template", ".expect.json", ".actual.json")):
                os.remove(os.path.join(d, name))

    fixtures = sorted(common.FIXTURES, key=lambda f: f[1])
    stats = {f: [0, 0] for f in common.FOLDERS}
    small_total = 0
    total = 0
    for folder, num, slug, covers, data, expect in fixtures:
        base = os.path.join(out, folder, f"{num:03d}-{slug}")
        if (folder, num) in common.TEMPLATES:
            with open(base + ".eml.template", "wb") as fh:
                fh.write(common.template(data, *common.TEMPLATES[(folder, num)]))
        else:
            with open(base + ".eml", "wb") as fh:
                fh.write(data)
        with open(base + ".expect.json", "w", encoding="utf-8", newline="\n") as fh:
            fh.write(readme.dump_expect(expect))
        ej = os.path.getsize(base + ".expect.json")
        stats[folder][0] += 1
        stats[folder][1] += len(data) + ej
        total += len(data) + ej
        if len(data) <= LARGE:
            small_total += len(data) + ej

    with open(os.path.join(out, "README.md"), "w", encoding="utf-8", newline="\n") as fh:
        fh.write(readme.render(fixtures))

    print(f"{'folder':<10} {'messages':>8} {'bytes':>12}")
    for f in common.FOLDERS:
        print(f"{f:<10} {stats[f][0]:>8} {stats[f][1]:>12,}")
    print(f"{'total':<10} {len(fixtures):>8} {total:>12,}")
    print(f"total excluding files > {LARGE // (1024 * 1024)} MB: {small_total:,} bytes")
    if small_total > 2 * 1024 * 1024:
        print("WARNING: small corpus exceeds 2 MB", file=sys.stderr)
    if args.verify:
        from mimefixtures import verify
        verify.run(out)


if __name__ == "__main__":
    main()
