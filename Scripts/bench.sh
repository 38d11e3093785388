#!/usr/bin/env bash
# End-to-end benchmarks, side by side in one run (see BENCHMARKS.md for the method and the figures).
#
#   Scripts/bench.sh                 # backfill Swift vs Python, quota runs, fake throughput
#   MEMORY=1 Scripts/bench.sh        # also the 100,000-message backfill memory run (~12 GB of mail on disk and in the fake)
#
# Knobs: N (messages for the side-by-side backfill, 5000), RUNS (5), QUOTA_N (messages for the quota
# runs, 2000), MEMORY_N (100000), MEMORY_MIX (realistic), SKIP_BUILD=1 (reuse the release build),
# OUT (directory for the raw JSON lines; a temporary one by default).
#
# Each run starts a fresh fakegmail-server (quota off) on loopback, backfills the same generated
# mailbox with `gmail-capture bench backfill --server` and with Scripts/bench_python_baseline.py
# (google-api-python-client + google-auth, batches of 50, Python `email`, sqlite3), alternating which
# goes first, and stops the server. Medians of RUNS runs and the per-run ratio are printed.
# Needs: a release build (built here unless SKIP_BUILD=1) and `pip install google-api-python-client google-auth`.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-5000}
RUNS=${RUNS:-5}
QUOTA_N=${QUOTA_N:-2000}
MEMORY_N=${MEMORY_N:-100000}
MEMORY_MIX=${MEMORY_MIX:-realistic}
SCRATCH=${SCRATCH:-.build-release}
BIN=$SCRATCH/release
WORK=$(mktemp -d /tmp/gmailcapture-bench.XXXXXX)
OUT=${OUT:-$WORK/results}
mkdir -p "$OUT"
SERVER_PID=""
cleanup() {
    if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
    rm -rf "$WORK/scenario" "$WORK/memory-scenario" "$WORK/fake-scenario"
}
trap cleanup EXIT

if [ -z "${SKIP_BUILD:-}" ]; then
    swift build -c release --scratch-path "$SCRATCH" --product gmail-capture
    swift build -c release --scratch-path "$SCRATCH" --product fakegmail-server
fi
python3 -c "import googleapiclient, google.auth" 2>/dev/null || { echo "pip install google-api-python-client google-auth" >&2; exit 1; }

# Starts fakegmail-server on a free port for scenario $1; sets SERVER_PID and URL.
start_server() {
    : >"$WORK/server.out"
    "$BIN/fakegmail-server" --port 0 --scenario "$1" --quota off --service-account-out "$WORK/sa.json" >"$WORK/server.out" 2>"$WORK/server.err" &
    SERVER_PID=$!
    for _ in $(seq 6000); do
        if grep -q '^listening on ' "$WORK/server.out"; then break; fi
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.err" >&2; exit 1; }
        sleep 0.1
    done
    URL=$(sed -n 's/^listening on //p' "$WORK/server.out" | head -1)
    [ -n "$URL" ] || { echo "fakegmail-server did not start" >&2; exit 1; }
}
stop_server() {
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
}

echo "== machine"
echo "$(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
swift --version 2>/dev/null | head -1
python3 --version

echo "== backfill, quota off, over loopback: $N messages, $RUNS runs"
"$BIN/gmail-capture" bench generate "$WORK/scenario" --messages "$N"
for r in $(seq "$RUNS"); do
    start_server "$WORK/scenario"
    # Warm the fresh server (first-touch page faults, lazy allocations) so neither side pays for it.
    "$BIN/gmail-capture" bench backfill --messages "$N" --server "$URL" --key "$WORK/sa.json" --json >/dev/null
    swift_run() { "$BIN/gmail-capture" bench backfill --messages "$N" --server "$URL" --key "$WORK/sa.json" --json >>"$OUT/swift.jsonl"; }
    python_run() { python3 Scripts/bench_python_baseline.py --server "$URL" --key "$WORK/sa.json" --users user0@firm.example --json >>"$OUT/python.jsonl"; }
    if [ $((r % 2)) -eq 1 ]; then swift_run; python_run; else python_run; swift_run; fi
    stop_server
    echo "  run $r: swift $(tail -1 "$OUT/swift.jsonl" | python3 -c 'import json,sys; print("%.0f msg/s" % json.load(sys.stdin)["messagesPerSec"])'), python $(tail -1 "$OUT/python.jsonl" | python3 -c 'import json,sys; print("%.0f msg/s" % json.load(sys.stdin)["messagesPerSec"])')"
done
rm -rf "$WORK/scenario"

echo "== quota on (virtual time, exact): $QUOTA_N messages"
for q in classic 2026; do
    "$BIN/gmail-capture" bench backfill --messages "$QUOTA_N" --quota "$q" --json >>"$OUT/quota.jsonl"
done

echo "== fakegmail-server throughput over loopback ($RUNS runs; load generator in its own process), fake memory per 100k small messages"
"$BIN/gmail-capture" bench generate "$WORK/fake-scenario" --messages 2000 >/dev/null
start_server "$WORK/fake-scenario"
for r in $(seq "$RUNS"); do
    "$BIN/gmail-capture" bench fake --server "$URL" --requests 20000 --json >>"$OUT/fake.jsonl"
done
stop_server
rm -rf "$WORK/fake-scenario"
"$BIN/gmail-capture" bench fake --requests 0 --memory-messages 100000 --memory-mix small --json >>"$OUT/fake-memory.jsonl"

if [ -n "${MEMORY:-}" ]; then
    echo "== memory: $MEMORY_N-message backfill ($MEMORY_MIX mix), capture process only"
    "$BIN/gmail-capture" bench generate "$WORK/memory-scenario" --messages "$MEMORY_N" --mix "$MEMORY_MIX"
    start_server "$WORK/memory-scenario"
    "$BIN/gmail-capture" bench backfill --messages "$MEMORY_N" --server "$URL" --key "$WORK/sa.json" --json >>"$OUT/memory.jsonl"
    awk '/VmHWM/ {printf "%.0f\n", $2 * 1024}' "/proc/$SERVER_PID/status" >"$OUT/memory-server-peak-bytes"
    stop_server
fi

echo "== summary (raw JSON lines in $OUT)"
python3 - "$OUT" <<'EOF'
import json, os, statistics, sys
out = sys.argv[1]
def load(name):
    p = os.path.join(out, name)
    return [json.loads(l) for l in open(p)] if os.path.exists(p) else []
swift, python = load("swift.jsonl"), load("python.jsonl")
med = lambda xs: statistics.median(xs)
if swift and python:
    s = med([r["messagesPerSec"] for r in swift]); p = med([r["messagesPerSec"] for r in python])
    ratios = [a["messagesPerSec"] / b["messagesPerSec"] for a, b in zip(swift, python)]
    print(f"backfill {swift[0]['messages']} messages ({swift[0]['bytes'] / 1e6:.0f} MB), median of {len(swift)}:")
    print(f"  swift  {s:7.0f} msg/s  {med([r['mbPerSec'] for r in swift]):6.1f} MB/s  {med([r['seconds'] for r in swift]):6.2f} s  peak RSS {med([r['peakRSSBytes'] for r in swift]) / 1048576:.0f} MiB")
    print(f"  python {p:7.0f} msg/s  {med([r['mbPerSec'] for r in python]):6.1f} MB/s  {med([r['seconds'] for r in python]):6.2f} s  peak RSS {med([r['peakRSSBytes'] for r in python]) / 1048576:.0f} MiB")
    print(f"  ratio (same run, median of {len(ratios)}): {med(ratios):.1f}x  (runs: {', '.join('%.1f' % x for x in ratios)})")
for r in load("quota.jsonl"):
    print(f"quota {r['quota']}: {r['quotaUnits']} units in {r['virtualSeconds']:.1f} s virtual = {r['unitsPerSecAchieved']:.1f} units/s of "
          f"{r['unitsPerSecBudget']} ({r['unitsPerSecAchieved'] / r['unitsPerSecBudget'] * 100:.1f}%), "
          f"steady {(r['quotaUnits'] - r['unitsPerSecBudget']) / r['virtualSeconds']:.1f} units/s after the first second's burst; "
          f"429/403 answers: {r['rateLimitAnswers']}; batch {r['batchSizeFinal']}")
fake = load("fake.jsonl")
if fake:
    for i, name in enumerate(f["endpoint"] for f in fake[0]["figures"]):
        rows = [f["figures"][i] for f in fake]
        print(f"fake {name}: median {med([x['requestsPerSec'] for x in rows]):.0f} req/s, p50 {med([x['p50Millis'] for x in rows]):.2f} ms, "
              f"p99 {med([x['p99Millis'] for x in rows]):.2f} ms, errors {sum(x['errors'] for x in rows)}")
for m in load("fake-memory.jsonl"):
    if m["memoryMessages"]:
        print(f"fake memory ({m['memoryMix']} mix): {m['memoryMessages']} messages, {m['memoryRawBytes'] / 1e6:.0f} MB raw, "
              f"{m['memoryRSSDeltaBytes'] / 1048576:.0f} MiB RSS; {m['overheadBytesPerMessage']} bytes a message beyond the raw bytes")
for r in load("memory.jsonl"):
    peak = os.path.join(out, "memory-server-peak-bytes")
    server = f"; fakegmail-server holding them peaked at {int(float(open(peak).read())) / 1048576:.0f} MiB" if os.path.exists(peak) else ""
    print(f"memory: {r['stored']} messages ({r['bytes'] / 1e9:.1f} GB) backfilled in {r['seconds']:.0f} s ({r['messagesPerSec']:.0f} msg/s); "
          f"capture peak RSS {r['peakRSSBytes'] / 1048576:.0f} MiB{server}")
EOF
