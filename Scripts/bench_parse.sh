#!/usr/bin/env bash
# MIME parsing benchmark: gmail-capture (Swift) vs Python's email package vs GMime 3.
#
# Usage: Scripts/bench_parse.sh [--messages N] [--runs R] [--seed S]
#
#   --messages N  corpus size (default 5000, ~330 MB)
#   --runs R      measured runs per implementation (default 5)
#   --seed S      corpus seed (default 1)
#
# Environment:
#   SWIFT_BIN     Swift binary (default .build/release/gmail-capture); it is run as
#                 "$SWIFT_BIN bench parse DIR --json" and must print one JSON object
#                 with the keys impl/messages/bytes/seconds/mbPerSec/messagesPerSec/peakRSSBytes.
#   PYTHON        Python interpreter (default python3)
#   CC            C compiler (default cc)
#
# What it does:
#   1. installs libgmime-3.0-dev + pkg-config via apt-get if missing (non-interactive);
#   2. generates the corpus into .build-bench/corpus-N with Scripts/make_bench_corpus.py
#      (skipped when it already holds N .eml files made by the same generator/seed);
#   3. builds Scripts/gmime_bench.c into .build-bench/gmime_bench;
#   4. runs, R times, Swift + Python + GMime back to back in the same iteration;
#   5. prints medians (MB/s, messages/s), peak RSS and swift/python, swift/gmime ratios.
# Raw per-run JSON lines are kept in .build-bench/results-N-<timestamp>.jsonl.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

MESSAGES=5000
RUNS=5
SEED=1
need_value() { [[ $# -ge 2 && -n "$2" ]] || { echo "$1 needs a value" >&2; exit 2; }; }
while [[ $# -gt 0 ]]; do
    case "$1" in
        --messages|--runs|--seed) need_value "$@" ;;&
        --messages) MESSAGES="$2"; shift 2 ;;
        --messages=*) MESSAGES="${1#*=}"; shift ;;
        --runs) RUNS="$2"; shift 2 ;;
        --runs=*) RUNS="${1#*=}"; shift ;;
        --seed) SEED="$2"; shift 2 ;;
        --seed=*) SEED="${1#*=}"; shift ;;
        -h|--help) sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
done
[[ "$MESSAGES" =~ ^[1-9][0-9]*$ ]] || { echo "--messages must be a positive integer" >&2; exit 2; }
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || { echo "--runs must be a positive integer" >&2; exit 2; }

PYTHON="${PYTHON:-python3}"
CC="${CC:-cc}"
SWIFT_BIN="${SWIFT_BIN:-.build/release/gmail-capture}"
BENCH_DIR=.build-bench
CORPUS="$BENCH_DIR/corpus-$MESSAGES"
GMIME_BIN="$BENCH_DIR/gmime_bench"
mkdir -p "$BENCH_DIR"

# ---------------------------------------------------------------- 1. deps
missing=()
command -v "$PYTHON" >/dev/null 2>&1 || missing+=(python3)
command -v "$CC" >/dev/null 2>&1 || missing+=(gcc libc6-dev)
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
if ! command -v pkg-config >/dev/null 2>&1 || ! pkg-config --exists gmime-3.0; then
    missing+=(libgmime-3.0-dev)
fi
if [[ ${#missing[@]} -gt 0 ]]; then
    echo "==> installing missing packages: ${missing[*]}"
    SUDO=()
    if [[ $(id -u) -ne 0 ]]; then
        command -v sudo >/dev/null 2>&1 || { echo "need root or sudo to apt-get install ${missing[*]}" >&2; exit 1; }
        SUDO=(sudo)
    fi
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -y -qq install "${missing[@]}" >/dev/null
fi

# ---------------------------------------------------------------- 2. corpus
# The stamp ties the corpus to the generator source + seed, so editing
# make_bench_corpus.py invalidates old corpora.
STAMP="seed=$SEED messages=$MESSAGES gen=$(cksum < Scripts/make_bench_corpus.py | cut -d' ' -f1)"
count=0
if [[ -d "$CORPUS" ]]; then
    count=$(find "$CORPUS" -maxdepth 1 -name '*.eml' | wc -l)
fi
if [[ "$count" -eq "$MESSAGES" && -f "$CORPUS/.stamp" && "$(cat "$CORPUS/.stamp")" == "$STAMP" ]]; then
    echo "==> corpus: reusing $CORPUS ($count messages)"
else
    echo "==> corpus: generating $MESSAGES messages into $CORPUS"
    rm -rf "$CORPUS"
    "$PYTHON" Scripts/make_bench_corpus.py "$CORPUS" --messages "$MESSAGES" --seed "$SEED"
    echo "$STAMP" > "$CORPUS/.stamp"
fi

# ---------------------------------------------------------------- 3. gmime driver
if [[ ! -x "$GMIME_BIN" || Scripts/gmime_bench.c -nt "$GMIME_BIN" ]]; then
    echo "==> building $GMIME_BIN"
    # shellcheck disable=SC2046
    "$CC" -O2 -o "$GMIME_BIN" Scripts/gmime_bench.c $(pkg-config --cflags --libs gmime-3.0)
fi

HAVE_SWIFT=1
if [[ ! -x "$SWIFT_BIN" ]]; then
    HAVE_SWIFT=0
    echo "note: $SWIFT_BIN not found; build it with"
    echo "        swift build -c release --product gmail-capture"
    echo "      (or set SWIFT_BIN). Skipping the Swift rows."
fi

# ---------------------------------------------------------------- 4. runs
RESULTS="$BENCH_DIR/results-$MESSAGES-$(date +%Y%m%d-%H%M%S).jsonl"
: > "$RESULTS"

# Run a benchmark command, keep its last JSON line, print a one-line progress note.
run_one() {
    local label="$1"; shift
    local out line
    if ! out="$("$@")"; then
        echo "error: $label failed: $*" >&2
        exit 1
    fi
    line="$(printf '%s\n' "$out" | grep '^[[:space:]]*{' | tail -n 1 || true)"
    if [[ -z "$line" ]]; then
        echo "error: $label printed no JSON object:" >&2
        printf '%s\n' "$out" >&2
        exit 1
    fi
    printf '%s\n' "$line" >> "$RESULTS"
    printf '%s\n' "$line" | "$PYTHON" -c '
import json, sys
r = json.loads(sys.stdin.read())
print("    %-20s %8.2f MB/s %10.1f msg/s %8.3f s  peak RSS %7.1f MB  errors %s" % (
    r.get("impl", "?"), r["mbPerSec"], r["messagesPerSec"], r["seconds"],
    r["peakRSSBytes"] / 1e6, r.get("errors", "-")))'
}

echo "==> $RUNS run(s) on $CORPUS"
for ((i = 1; i <= RUNS; i++)); do
    echo "  run $i/$RUNS"
    if [[ $HAVE_SWIFT -eq 1 ]]; then
        run_one swift "$SWIFT_BIN" bench parse "$CORPUS" --json
    fi
    run_one python "$PYTHON" Scripts/bench_parse_python.py "$CORPUS" --json
    run_one gmime "$GMIME_BIN" "$CORPUS" --json
done

# ---------------------------------------------------------------- 5. summary
"$PYTHON" - "$RESULTS" <<'PY'
import json, statistics, sys

rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
order = ["swift-gmailcapture", "python-email", "gmime"]
by = {}
for r in rows:
    by.setdefault(r["impl"], []).append(r)
impls = [i for i in order if i in by] + sorted(i for i in by if i not in order)

summary = {}
for impl in impls:
    rs = by[impl]
    summary[impl] = dict(
        runs=len(rs),
        messages=rs[0]["messages"],
        bytes=rs[0]["bytes"],
        mbps=statistics.median(r["mbPerSec"] for r in rs),
        mps=statistics.median(r["messagesPerSec"] for r in rs),
        secs=statistics.median(r["seconds"] for r in rs),
        rss=max(r["peakRSSBytes"] for r in rs),
        # Swift reports "problems" (parse defects), not "errors"; show "-" when absent.
        errors=max((r["errors"] for r in rs if "errors" in r), default=None),
    )

corpus = {(s["messages"], s["bytes"]) for s in summary.values()}
first = next(iter(summary.values()))
print()
print("corpus: %d messages, %d bytes (%.1f MB)" % (first["messages"], first["bytes"], first["bytes"] / 1e6))
if len(corpus) > 1:
    print("WARNING: implementations saw different corpora: %s" % sorted(corpus))
print()
hdr = "%-20s %5s %12s %14s %11s %14s %7s" % ("impl", "runs", "MB/s (med)", "msg/s (med)", "s (med)", "peak RSS MB", "errors")
print(hdr)
print("-" * len(hdr))
for impl in impls:
    s = summary[impl]
    print("%-20s %5d %12.2f %14.1f %11.3f %14.1f %7s" % (
        impl, s["runs"], s["mbps"], s["mps"], s["secs"], s["rss"] / 1e6, "-" if s["errors"] is None else s["errors"]))
print()
sw = summary.get("swift-gmailcapture")
if sw:
    for other in ("python-email", "gmime"):
        o = summary.get(other)
        if o:
            print("swift/%-7s MB/s %.3gx   msg/s %.3gx" % (
                other.split("-")[0], sw["mbps"] / o["mbps"], sw["mps"] / o["mps"]))
else:
    print("(no Swift rows; ratios swift/python and swift/gmime not computed)")
    if "python-email" in summary and "gmime" in summary:
        print("gmime/python MB/s %.3gx" % (summary["gmime"]["mbps"] / summary["python-email"]["mbps"]))
print()
print("raw results: %s" % sys.argv[1])
PY
