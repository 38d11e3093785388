#!/usr/bin/env bash
# Backfill speed as users run it (issue #17): `gmail-capture sync --once`, the real CLI with its SQLite
# file, attachments downloaded and stored, search and relationship indexes maintained, against
# `fakegmail-server --quota off` on loopback, side by side with the google-api-python-client baseline
# storing every attachment too (Scripts/bench_python_baseline.py --attachments).
#
#   Scripts/bench_sync.sh                          # N=3000, RUNS=3, scenarios "realistic mixed-attach"
#   N=100 RUNS=1 Scripts/bench_sync.sh             # a quick check
#   SCENARIOS="mixed gmail-small" Scripts/bench_sync.sh
#
# Scenarios (SCENARIOS, space separated), each a one-mailbox fakegmail-server scenario of N messages,
# built once and cached in CACHE/NAME-N (with stats.json: messages, attachments, bytes; and
# investors.json, imported into every capture database so investor matching and the relationship
# index have work):
#   realistic, small          `gmail-capture bench generate DIR --messages N --mix NAME`
#   mixed-attach, mixed, gmail-small, newsletter, attachments
#                             `Scripts/make_bench_corpus.py --shape NAME` (seed SEED), turned into a
#                             scenario by Scripts/corpus_to_scenario.py (INBOX/SENT/category labels,
#                             internalDate from the Date header). mixed-attach is issue #17's mailbox:
#                             3,000 messages, 1,701 attachments, 269 MB.
#
# Per scenario: a fresh `fakegmail-server --port 0 --scenario DIR --quota off --service-account-out`,
# warmed by one discarded `sync --once`, then RUNS runs in turn (odd runs Swift first, even runs
# Python first) of:
#   swift   `gmail-capture sync --once` into a fresh directory (crm.db + attachment store), with the
#           environment HardeningCLITests uses (env -i PATH HOME LANG + CRM_GMAIL_INTEGRATION_ENABLED=true,
#           CRM_GMAIL_SA_KEY_PATH, CRM_GMAIL_WORKSPACE_DOMAIN=firm.example, CRM_GMAIL_API_BASE_URL,
#           CRM_DB_PATH, CRM_GMAIL_ATTACHMENT_DIR) plus CRM_GMAIL_RATE_UNITS_SEC=RATE_UNITS and
#           CRM_GMAIL_PROJECT_UNITS_SEC=PROJECT_UNITS: with the defaults (150 units/s a mailbox) the
#           client's own limiter, not the code, would set the pace, and the fake's quota is off.
#           `users add`, `investors import` and `accounts enroll` run before the clock starts.
#   python  Scripts/bench_python_baseline.py --attachments PY_MODE --store DIR (fetch: format=full
#           batches of 50 + attachments.get batches of 50, as the Swift engine fetches; raw: format=raw
#           and the attachments out of Python's MIME parse), every attachment in a content-addressed
#           file (fsynced, like the Swift store) and a sqlite row. fetch is the default: the same
#           API calls as sync, and the faster Python (no MIME parse in Python: on realistic-3000 one
#           run each took 13.1 s with fetch, 26.2 s with raw).
# Each timed run starts after `sync` (the previous run's writeback out of the way). Wall time from
# outside (date +%s.%N around the process), peak RSS from /usr/bin/time -f %M. After each
# run the stored messages and attachments are read back (status --json and the database; the
# baseline's own database) and the script fails if either is short of the mailbox's (stats.json), if a
# run exits non-zero, or if sync reports failed or pending attachments.
#
# Knobs: N (3000), RUNS (3), SCENARIOS ("realistic mixed-attach"), PY_MODE (fetch | raw),
# SEED (1, for the make_bench_corpus shapes), RATE_UNITS (100000), PROJECT_UNITS (1000000),
# WARM (1; 0: no warm-up run), BIN (.build/release: gmail-capture and fakegmail-server),
# BENCH (.build-bench/sync), CACHE ($BENCH/scenarios), OUT ($BENCH/runs-<time>: raw JSON lines
# swift.jsonl, python.jsonl, scenarios.jsonl, and the logs), KEEP_RUNS=1 (keep each run's database
# and attachment files; by default they are removed when the script ends, and kept when a check fails).
# CACHE is reused as it is: delete it (or the one scenario) after changing a generator.
# Needs: release binaries in BIN, python3 with google-api-python-client and google-auth, /usr/bin/time.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then
    sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
    exit 0
fi
[ $# -eq 0 ] || { echo "bench_sync.sh takes no arguments (knobs are environment variables; see --help)" >&2; exit 2; }

N=${N:-3000}
RUNS=${RUNS:-3}
SCENARIOS=${SCENARIOS:-realistic mixed-attach}
PY_MODE=${PY_MODE:-fetch}
SEED=${SEED:-1}
RATE_UNITS=${RATE_UNITS:-100000}
PROJECT_UNITS=${PROJECT_UNITS:-1000000}
WARM=${WARM:-1}
BIN=${BIN:-.build/release}
BENCH=${BENCH:-.build-bench/sync}
CACHE=${CACHE:-$BENCH/scenarios}
OUT=${OUT:-$BENCH/runs-$(date +%Y%m%d-%H%M%S)}
KEEP_RUNS=${KEEP_RUNS:-}
CAPTURE=$(realpath "$BIN/gmail-capture")
FAKE=$(realpath "$BIN/fakegmail-server")
ROOT=$(pwd)

case "$PY_MODE" in fetch|raw) ;; *) echo "PY_MODE must be fetch or raw" >&2; exit 2 ;; esac
for s in $SCENARIOS; do
    case "$s" in realistic|small|mixed-attach|mixed|gmail-small|newsletter|attachments) ;;
        *) echo "unknown scenario $s (realistic, small, mixed-attach, mixed, gmail-small, newsletter, attachments)" >&2; exit 2 ;;
    esac
done
[ -x "$CAPTURE" ] && [ -x "$FAKE" ] || { echo "no release binaries in $BIN (gmail-capture, fakegmail-server)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "/usr/bin/time is needed (apt-get install time)" >&2; exit 1; }
python3 -c "import googleapiclient, google.auth" 2>/dev/null || { echo "pip install google-api-python-client google-auth" >&2; exit 1; }

mkdir -p "$OUT" "$CACHE"
OUT=$(realpath "$OUT")
CACHE=$(realpath "$CACHE")
SERVER_PID=""
cleanup() {
    if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
}
trap cleanup EXIT
fail() { echo "bench_sync: FAILED: $*" >&2; exit 1; }
# Run directories are removed when the script ends, not between runs: on ext4 without a journal (this
# machine's root), every new inode skips the inodes deleted in the last 30 s (dirty_expire_centisecs),
# reading their inode blocks (find_inode_bit, recently_deleted), so removing one run's thousands of
# attachment files made the next run's file creation several times slower (11% of the capture's CPU,
# 29% of its attachment phase under perf), for whichever side ran next. A user's first sync has no
# such neighbour.
discard() { echo "$1" >>"$OUT/discard.list"; }

# Builds (or reuses) the scenario $1 with N messages; prints its directory.
scenario_dir() {
    local name=$1 dir tmp
    case "$name" in realistic|small) dir=$CACHE/$name-$N ;; *) dir=$CACHE/$name-$N-seed$SEED ;; esac
    if [ -f "$dir/stats.json" ]; then echo "$dir"; return; fi
    tmp=$dir.partial
    rm -rf "$tmp" "$tmp.corpus" "$dir"
    case "$name" in
        realistic|small)
            "$CAPTURE" bench generate "$tmp" --messages "$N" --mix "$name" >&2
            python3 Scripts/corpus_to_scenario.py --describe "$tmp" >/dev/null ;;
        *)
            python3 Scripts/make_bench_corpus.py "$tmp.corpus" --messages "$N" --shape "$name" --seed "$SEED" >&2
            python3 Scripts/corpus_to_scenario.py "$tmp.corpus" "$tmp" >&2
            rm -rf "$tmp.corpus" ;;
    esac
    mv "$tmp" "$dir"
    echo "$dir"
}

# Starts fakegmail-server on a free port for scenario $1 (key file $2); sets SERVER_PID and URL.
start_server() {
    : >"$LOGS/server.out"
    "$FAKE" --port 0 --scenario "$1" --quota off --service-account-out "$2" >"$LOGS/server.out" 2>"$LOGS/server.err" &
    SERVER_PID=$!
    for _ in $(seq 6000); do
        if grep -q '^listening on ' "$LOGS/server.out"; then break; fi
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$LOGS/server.err" >&2; fail "fakegmail-server exited"; }
        sleep 0.1
    done
    URL=$(sed -n 's/^listening on //p' "$LOGS/server.out" | head -1)
    [ -n "$URL" ] || fail "fakegmail-server did not start"
}
stop_server() {
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
}

# gmail-capture with exactly the environment HardeningCLITests gives it, for the run directory $1.
capture() {
    local dir=$1; shift
    env -i PATH=/usr/bin:/bin HOME="$dir" LANG=C.UTF-8 \
        CRM_GMAIL_INTEGRATION_ENABLED=true CRM_GMAIL_SA_KEY_PATH="$SA" CRM_GMAIL_WORKSPACE_DOMAIN=firm.example \
        CRM_GMAIL_API_BASE_URL="$URL" CRM_DB_PATH="$dir/crm.db" CRM_GMAIL_ATTACHMENT_DIR="$dir/att" \
        CRM_GMAIL_RATE_UNITS_SEC="$RATE_UNITS" CRM_GMAIL_PROJECT_UNITS_SEC="$PROJECT_UNITS" \
        "$@"
}

# One `sync --once` into a fresh directory $1 (enrolment outside the clock); sets T0 T1.
sync_once() {
    local dir=$1 u
    rm -rf "$dir"
    mkdir -p "$dir"
    for u in $USERS_SP; do
        (cd "$dir" && capture "$dir" "$CAPTURE" users add "$u") >"$dir/setup.log" 2>&1 || { cat "$dir/setup.log" >&2; fail "users add $u"; }
    done
    (cd "$dir" && capture "$dir" "$CAPTURE" investors import "$SCEN/investors.json") >>"$dir/setup.log" 2>&1 || { cat "$dir/setup.log" >&2; fail "investors import"; }
    for u in $USERS_SP; do
        (cd "$dir" && capture "$dir" "$CAPTURE" accounts enroll "$u") >>"$dir/setup.log" 2>&1 || { cat "$dir/setup.log" >&2; fail "accounts enroll $u"; }
    done
    sync
    T0=$(date +%s.%N)
    if ! (cd "$dir" && capture "$dir" /usr/bin/time -f %M -o "$dir.rss" "$CAPTURE" sync --once >"$dir/sync.out" 2>"$dir/sync.err"); then
        T1=$(date +%s.%N)
        cat "$dir/sync.out" "$dir/sync.err" >&2
        fail "sync --once exited non-zero ($dir)"
    fi
    T1=$(date +%s.%N)
}

swift_run() {
    local r=$1 order=$2 dir=$WORKDIR/swift-$r
    sync_once "$dir"
    (cd "$dir" && capture "$dir" "$CAPTURE" status --json) >"$dir/status.json" 2>"$dir/status.err" || fail "status --json ($dir)"
    python3 - "$SCEN/stats.json" "$dir" "$T0" "$T1" "$dir.rss" "$SCENARIO" "$r" "$order" >>"$OUT/swift.jsonl" <<'EOF' || fail "swift run $r of $SCENARIO: see above ($dir kept)"
import json, os, sqlite3, sys
stats_path, d, t0, t1, rss_path, scenario, run, order = sys.argv[1:]
stats = json.load(open(stats_path))
status = json.load(open(os.path.join(d, "status.json")))
db = sqlite3.connect("file:%s?mode=ro" % os.path.join(d, "crm.db"), uri=True)
q = lambda sql: db.execute(sql).fetchone()[0]
states = dict(db.execute("SELECT download_state, count(*) FROM email_attachments GROUP BY 1").fetchall())
files = sum(len([f for f in fs]) for root, _, fs in os.walk(os.path.join(d, "att")) if "/tmp" not in root[len(d):])
seconds = float(t1) - float(t0)
runs = [s["lastRun"] or {} for s in status]
counts = [r.get("counts") or {} for r in runs]
out = {
    "impl": "swift-sync-once", "scenario": scenario, "run": int(run), "order": int(order), "seconds": seconds,
    "mailboxMessages": stats["messages"], "mailboxAttachments": stats["attachments"], "mailboxBytes": stats["bytes"],
    "messages": sum(s["messagesStored"] for s in status), "messagesPerSec": sum(s["messagesStored"] for s in status) / seconds,
    "mbPerSec": stats["bytes"] / 1e6 / seconds,
    "peakRSSBytes": int(open(rss_path).read().split()[-1]) * 1024,
    "runStatus": [r.get("status") for r in runs], "states": [s["state"] for s in status],
    "lastErrors": [s["lastError"] for s in status if s["lastError"]],
    "listed": sum(c.get("listed", 0) for c in counts), "stored": sum(c.get("stored", 0) for c in counts),
    "skipped": sum(c.get("skipped", 0) for c in counts), "parked": sum(c.get("parked", 0) for c in counts),
    "quotaUnits": sum(c.get("quotaUnits", 0) for c in counts),
    "attachmentsStoredRun": sum(c.get("attachmentsStored", 0) for c in counts),
    "attachmentsFailedRun": sum(c.get("attachmentsFailed", 0) for c in counts),
    "attachmentsPending": sum(s["attachmentsPending"] for s in status),
    "attachments": states.get("stored", 0), "attachmentStates": states,
    "attachmentBytes": q("SELECT coalesce(sum(size), 0) FROM email_attachments WHERE download_state = 'stored'"),
    "attachmentFiles": files, "attachmentBlobs": q("SELECT count(*) FROM email_attachment_blobs"),
    "emails": q("SELECT count(*) FROM emails"), "sightings": q("SELECT count(*) FROM email_sightings"),
    "threads": q("SELECT count(*) FROM email_threads"), "investorLinks": q("SELECT count(*) FROM email_investor_links"),
    "searchDocs": sqlite3.connect("file:%s-search?mode=ro" % os.path.join(d, "crm.db"), uri=True).execute(
        "SELECT count(*) FROM email_search").fetchone()[0], "relEntries": q("SELECT count(*) FROM email_rel_entries"),
    "relDirty": q("SELECT count(*) FROM email_rel_dirty"),
    "syncStdout": open(os.path.join(d, "sync.out")).read().strip(),
    "syncStderrBytes": os.path.getsize(os.path.join(d, "sync.err")),
}
problems = []
if out["messages"] < stats["messages"] or out["sightings"] < stats["messages"]:
    problems.append("stored %d messages (%d sightings) of the mailbox's %d" % (out["messages"], out["sightings"], stats["messages"]))
if out["attachments"] < stats["attachments"]:
    problems.append("stored %d attachments of the mailbox's %d (states %s)" % (out["attachments"], stats["attachments"], states))
if out["attachmentsPending"] or out["attachmentsFailedRun"] or set(states) - {"stored"}:
    problems.append("attachments not all stored: pending %d, failed this run %d, states %s" % (
        out["attachmentsPending"], out["attachmentsFailedRun"], states))
if any(s != "ok" for s in out["runStatus"]) or out["lastErrors"]:
    problems.append("run status %s, errors %s" % (out["runStatus"], out["lastErrors"]))
print(json.dumps(out, sort_keys=True))
if problems:
    sys.stderr.write("swift run %s of %s: %s\n" % (run, scenario, "; ".join(problems)))
    sys.exit(1)
EOF
    discard "$dir"
    rm -f "$dir.rss"
}

python_run() {
    local r=$1 order=$2 dir=$WORKDIR/python-$r t0 t1
    rm -rf "$dir"
    mkdir -p "$dir"
    sync
    t0=$(date +%s.%N)
    /usr/bin/time -f %M -o "$dir.rss" python3 Scripts/bench_python_baseline.py --server "$URL" --key "$SA" --users "$USERS" \
        --json --attachments "$PY_MODE" --store "$dir/store" >"$dir/out.json" 2>"$dir/err.log" || { cat "$dir/err.log" >&2; fail "python baseline exited non-zero ($dir)"; }
    t1=$(date +%s.%N)
    python3 - "$SCEN/stats.json" "$dir" "$t0" "$t1" "$dir.rss" "$SCENARIO" "$r" "$order" >>"$OUT/python.jsonl" <<'EOF' || fail "python run $r of $SCENARIO: see above ($dir kept)"
import json, os, sqlite3, sys
stats_path, d, t0, t1, rss_path, scenario, run, order = sys.argv[1:]
stats = json.load(open(stats_path))
inner = json.loads(open(os.path.join(d, "out.json")).read().strip().splitlines()[-1])
db = sqlite3.connect("file:%s?mode=ro" % os.path.join(d, "store", "crm.db"), uri=True)
messages = db.execute("SELECT count(*) FROM messages").fetchone()[0]
attachments, att_bytes = db.execute("SELECT count(*), coalesce(sum(size), 0) FROM attachments").fetchone()
seconds = float(t1) - float(t0)
out = dict(inner)
out.update({"impl": "python-google-api-client", "scenario": scenario, "run": int(run), "order": int(order),
            "seconds": seconds, "secondsInProcess": inner["seconds"], "messagesPerSecInProcess": inner["messagesPerSec"],
            "messages": messages, "messagesPerSec": messages / seconds, "mbPerSec": stats["bytes"] / 1e6 / seconds,
            "attachments": attachments, "attachmentBytes": att_bytes,
            "peakRSSBytes": int(open(rss_path).read().split()[-1]) * 1024,
            "mailboxMessages": stats["messages"], "mailboxAttachments": stats["attachments"], "mailboxBytes": stats["bytes"]})
print(json.dumps(out, sort_keys=True))
problems = []
if messages < stats["messages"]:
    problems.append("stored %d messages of the mailbox's %d" % (messages, stats["messages"]))
if attachments < stats["attachments"]:
    problems.append("stored %d attachments of the mailbox's %d" % (attachments, stats["attachments"]))
if problems:
    sys.stderr.write("python run %s of %s: %s\n" % (run, scenario, "; ".join(problems)))
    sys.exit(1)
EOF
    discard "$dir"
    rm -f "$dir.rss"
}

echo "== machine"
echo "$(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
python3 --version
echo "binaries: $CAPTURE ($(date -r "$CAPTURE" '+%Y-%m-%d %H:%M')), $FAKE ($(date -r "$FAKE" '+%Y-%m-%d %H:%M'))"
echo "N=$N RUNS=$RUNS SCENARIOS=\"$SCENARIOS\" PY_MODE=$PY_MODE RATE_UNITS=$RATE_UNITS PROJECT_UNITS=$PROJECT_UNITS; raw JSON lines in $OUT"

for SCENARIO in $SCENARIOS; do
    echo "== $SCENARIO: building or reusing the scenario"
    SCEN=$(scenario_dir "$SCENARIO")
    USERS=$(python3 -c 'import json,sys; print(",".join(json.load(open(sys.argv[1]))["users"]))' "$SCEN/stats.json")
    USERS_SP=${USERS//,/ }
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d["scenario"]=sys.argv[2]; d["dir"]=sys.argv[3]; print(json.dumps(d, sort_keys=True))' \
        "$SCEN/stats.json" "$SCENARIO" "$SCEN" >>"$OUT/scenarios.jsonl"
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("   %d messages, %d attachments in %d messages, %.1f MB, %d investors; %s" % (d["messages"], d["attachments"], d["messagesWithAttachments"], d["bytes"]/1e6, d["investors"], sys.argv[1].rsplit("/",1)[0]))' "$SCEN/stats.json"
    LOGS=$OUT/$SCENARIO
    WORKDIR=$LOGS/work
    mkdir -p "$WORKDIR"
    SA=$LOGS/sa.json
    start_server "$SCEN" "$SA"
    echo "   fakegmail-server $URL (pid $SERVER_PID)"
    if [ "$WARM" != 0 ]; then
        sync_once "$WORKDIR/warm"
        echo "   warm-up sync --once: $(awk -v a="$T0" -v b="$T1" 'BEGIN {printf "%.2f s", b - a}'); $(cat "$WORKDIR/warm/sync.out")"
        discard "$WORKDIR/warm"
        rm -f "$WORKDIR/warm.rss"
    fi
    for r in $(seq "$RUNS"); do
        if [ $((r % 2)) -eq 1 ]; then swift_run "$r" 1; python_run "$r" 2; else python_run "$r" 1; swift_run "$r" 2; fi
        python3 - "$OUT" "$SCENARIO" "$r" <<'EOF'
import json, sys
out, scenario, run = sys.argv[1], sys.argv[2], int(sys.argv[3])
pick = lambda name: [x for x in map(json.loads, open(f"{out}/{name}.jsonl")) if x["scenario"] == scenario and x["run"] == run][-1]
s, p = pick("swift"), pick("python")
print(f"   run {run}: swift {s['messagesPerSec']:6.0f} msg/s ({s['seconds']:.2f} s, {s['attachments']} attachments, "
      f"peak RSS {s['peakRSSBytes'] / 1048576:.0f} MiB), python {p['messagesPerSec']:6.0f} msg/s ({p['seconds']:.2f} s, "
      f"{p['attachments']} attachments, peak RSS {p['peakRSSBytes'] / 1048576:.0f} MiB); ratio {p['seconds'] / s['seconds']:.1f}x")
EOF
    done
    awk '/VmHWM/ {printf "   fakegmail-server peak RSS %.0f MiB\n", $2 / 1024}' "/proc/$SERVER_PID/status" || true
    stop_server
done

if [ -z "$KEEP_RUNS" ] && [ -f "$OUT/discard.list" ]; then
    xargs -d '\n' rm -rf <"$OUT/discard.list"
    rm -f "$OUT/discard.list"
    for s in $SCENARIOS; do rmdir "$OUT/$s/work" 2>/dev/null || true; done
fi

echo "== summary (medians; raw JSON lines in $OUT)"
python3 - "$OUT" "$SCENARIOS" <<'EOF'
import json, statistics, sys
out, scenarios = sys.argv[1], sys.argv[2].split()
load = lambda name: [json.loads(l) for l in open(f"{out}/{name}.jsonl")]
swift, python, stats = load("swift"), load("python"), {s["scenario"]: s for s in load("scenarios")}
med = statistics.median
for sc in scenarios:
    s = sorted((x for x in swift if x["scenario"] == sc), key=lambda x: x["run"])
    p = sorted((x for x in python if x["scenario"] == sc), key=lambda x: x["run"])
    if not s or not p:
        continue
    st = stats[sc]
    ratios = [b["seconds"] / a["seconds"] for a, b in zip(s, p)]
    print(f"{sc}: {st['messages']} messages, {st['attachments']} attachments ({st['messagesWithAttachments']} messages), "
          f"{st['bytes'] / 1e6:.0f} MB; {len(s)} run(s)")
    print(f"  swift  sync --once   {med([x['messagesPerSec'] for x in s]):7.0f} msg/s  {med([x['seconds'] for x in s]):7.2f} s  "
          f"peak RSS {med([x['peakRSSBytes'] for x in s]) / 1048576:.0f} MiB (max {max(x['peakRSSBytes'] for x in s) / 1048576:.0f})")
    print(f"  python ({p[0].get('attachmentsMode', '?'):5})       {med([x['messagesPerSec'] for x in p]):7.0f} msg/s  "
          f"{med([x['seconds'] for x in p]):7.2f} s  peak RSS {med([x['peakRSSBytes'] for x in p]) / 1048576:.0f} MiB")
    print(f"  ratio (python s / swift s, per run, median of {len(ratios)}): {med(ratios):.1f}x  (runs: {', '.join('%.1f' % r for r in ratios)})")
    if any(a["attachmentBytes"] != b["attachmentBytes"] for a, b in zip(s, p)):
        print(f"  note: attachment bytes differ: swift {[a['attachmentBytes'] for a in s]}, python {[b['attachmentBytes'] for b in p]}")
EOF
