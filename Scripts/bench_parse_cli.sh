#!/usr/bin/env bash
# End-to-end parse benchmark, as users run it: `gmail-capture parse --json FILE...` over a whole
# corpus in ONE process, against Python's `email` (policy=default) doing the same full parse and
# the same JSON output (Scripts/bench_parse_python.py --cli-json), timed from outside, per shape.
#
# Usage: Scripts/bench_parse_cli.sh [--messages N] [--runs R] [--shapes LIST] [--seed S] [--check]
#
#   --messages N   messages per shape (default 2000)
#   --runs R       measured runs per implementation and shape, taken in turn (default 3)
#   --shapes LIST  comma-separated corpus shapes of Scripts/make_bench_corpus.py
#                  (default gmail-small,newsletter,mixed,attachments)
#   --seed S       corpus seed (default 1)
#   --check        no timing: run each side once per shape with its JSON lines kept in
#                  .build-bench/parse-cli/<corpus>.{swift,python}.jsonl, report exit status and
#                  stderr, and compare the two outputs (bench_parse_python.py --compare)
#
# Environment:
#   SWIFT_BIN  the gmail-capture binary (default .build/release/gmail-capture; this script never
#              builds it: swift build -c release --product gmail-capture)
#   PYTHON     Python interpreter (default python3; resolved to sys.executable so that a pyenv
#              shim's start-up is not timed)
#
# What it does, per shape:
#   1. generates the corpus into .build-bench/parse-cli/<shape>-n<N>-s<S>/ (reused when its .stamp
#      matches the generator source, shape, seed and N) and reads it once to warm the page cache;
#   2. R times, in turn: "$SWIFT_BIN" parse --json FILES... > /dev/null, then
#      "$PYTHON" Scripts/bench_parse_python.py --cli-json FILES... > /dev/null, every file of the
#      corpus as arguments of one process (split with xargs only when the argument list would not
#      fit in ARG_MAX; the summary says so); wall seconds by date +%s.%N around the process, peak RSS
#      by /usr/bin/time -f %M (or a Python wrapper's getrusage when /usr/bin/time is missing);
#   3. prints per shape: messages, MB, median message KB, median MB/s and messages/s of both, peak
#      RSS, and swift/python (the median over runs of python seconds / swift seconds).
# Per-run JSON lines are kept in .build-bench/parse-cli/results-<timestamp>.jsonl.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

MESSAGES=2000
RUNS=3
SEED=1
SHAPES="gmail-small,newsletter,mixed,attachments"
CHECK=0
need_value() { [[ $# -ge 2 && -n "$2" ]] || { echo "$1 needs a value" >&2; exit 2; }; }
while [[ $# -gt 0 ]]; do
    case "$1" in
        --messages|--runs|--seed|--shapes) need_value "$@" ;;&
        --messages) MESSAGES="$2"; shift 2 ;;
        --messages=*) MESSAGES="${1#*=}"; shift ;;
        --runs) RUNS="$2"; shift 2 ;;
        --runs=*) RUNS="${1#*=}"; shift ;;
        --seed) SEED="$2"; shift 2 ;;
        --seed=*) SEED="${1#*=}"; shift ;;
        --shapes) SHAPES="$2"; shift 2 ;;
        --shapes=*) SHAPES="${1#*=}"; shift ;;
        --check) CHECK=1; shift ;;
        -h|--help) sed -n '2,33p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
done
[[ "$MESSAGES" =~ ^[1-9][0-9]*$ ]] || { echo "--messages must be a positive integer" >&2; exit 2; }
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || { echo "--runs must be a positive integer" >&2; exit 2; }
[[ "$SEED" =~ ^[0-9]+$ ]] || { echo "--seed must be a non-negative integer" >&2; exit 2; }
IFS=',' read -r -a SHAPE_LIST <<< "$SHAPES"
for s in "${SHAPE_LIST[@]}"; do
    case "$s" in
        gmail-small|newsletter|mixed|attachments) ;;
        *) echo "unknown shape: $s (gmail-small, newsletter, mixed, attachments)" >&2; exit 2 ;;
    esac
done

PYTHON="${PYTHON:-python3}"
command -v "$PYTHON" >/dev/null 2>&1 || { echo "error: $PYTHON not found" >&2; exit 1; }
# Time the interpreter itself: a pyenv/asdf shim in front of it costs ~50 ms of bash per start.
PYTHON_REAL="$("$PYTHON" -c 'import sys; print(sys.executable)' 2>/dev/null || true)"
if [[ -n "$PYTHON_REAL" && -x "$PYTHON_REAL" ]]; then PYTHON="$PYTHON_REAL"; fi
SWIFT_BIN="${SWIFT_BIN:-.build/release/gmail-capture}"
PY_CLI=Scripts/bench_parse_python.py
OUT_DIR=.build-bench/parse-cli
mkdir -p "$OUT_DIR"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

HAVE_SWIFT=1
if [[ ! -x "$SWIFT_BIN" ]]; then
    HAVE_SWIFT=0
    if [[ $CHECK -eq 1 ]]; then
        echo "error: $SWIFT_BIN not found (build it with: swift build -c release --product gmail-capture)" >&2
        exit 1
    fi
    echo "note: $SWIFT_BIN not found; build it with"
    echo "        swift build -c release --product gmail-capture"
    echo "      (or set SWIFT_BIN). Skipping the Swift rows."
fi
HAVE_TIME=0
if [[ -x /usr/bin/time ]] && /usr/bin/time -f %M -o "$TMP/probe" true 2>/dev/null; then HAVE_TIME=1; fi

GEN_SUM="$(cksum < Scripts/make_bench_corpus.py | cut -d' ' -f1)"
ARG_MAX="${BENCH_ARG_MAX:-$(getconf ARG_MAX 2>/dev/null || echo 131072)}"   # BENCH_ARG_MAX: to test the xargs path
ENV_BYTES="$(env | wc -c)"
XARGS_S=$((ARG_MAX - ENV_BYTES - 4096)); (( XARGS_S >= 4096 )) || XARGS_S=4096   # xargs -s: fill ARG_MAX, not 128 KiB

# ---------------------------------------------------------------- helpers
# make_corpus SHAPE -> sets CORPUS
make_corpus() {
    local shape="$1" stamp count
    CORPUS="$OUT_DIR/$shape-n$MESSAGES-s$SEED"
    stamp="shape=$shape seed=$SEED messages=$MESSAGES gen=$GEN_SUM"
    count=0
    if [[ -d "$CORPUS" ]]; then count=$(find "$CORPUS" -maxdepth 1 -name '*.eml' | wc -l); fi
    if [[ "$count" -eq "$MESSAGES" && -f "$CORPUS/.stamp" && "$(cat "$CORPUS/.stamp")" == "$stamp" ]]; then
        echo "==> corpus: reusing $CORPUS ($count messages)"
    else
        echo "==> corpus: generating $MESSAGES $shape messages into $CORPUS"
        rm -rf "$CORPUS"
        "$PYTHON" Scripts/make_bench_corpus.py "$CORPUS" --shape "$shape" --messages "$MESSAGES" --seed "$SEED" \
            | sed 's/^/    /'
        echo "$stamp" > "$CORPUS/.stamp"
    fi
}

# Decide whether FILES fit in one argument list; sets PROCS_NOTE and USE_XARGS.
plan_args() {
    local need=$((ENV_BYTES + 4096)) f
    for f in "${FILES[@]}"; do need=$((need + ${#f} + 1 + 8)); done   # string + NUL + argv pointer
    USE_XARGS=0
    if (( need > ARG_MAX * 9 / 10 )); then
        USE_XARGS=1
        local n
        n=$(printf '%s\0' "${FILES[@]}" | xargs -0 -s "$XARGS_S" sh -c 'echo x' sh | wc -l)
        echo "    note: argument list of ~$need bytes exceeds ARG_MAX ($ARG_MAX); xargs splits it into $n processes"
        PROCS=$n
    else
        PROCS=1
    fi
}

# run_timed OUTFILE CMD... : runs CMD with all FILES appended (or via xargs), stdout to OUTFILE.
# Sets WALL (seconds), RSS_KB (peak of the largest process), RC, ERR_LINES.
run_timed() {
    local outfile="$1"; shift
    local t0 t1
    RC=0
    t0=$(date +%s.%N)
    if [[ $USE_XARGS -eq 1 ]]; then
        if [[ $HAVE_TIME -eq 1 ]]; then
            printf '%s\0' "${FILES[@]}" | /usr/bin/time -f %M -o "$TMP/rss" xargs -0 -s "$XARGS_S" "$@" > "$outfile" 2> "$TMP/err" || RC=$?
        else
            printf '%s\0' "${FILES[@]}" | "$PYTHON" "$TMP/rusage.py" "$TMP/rss" xargs -0 -s "$XARGS_S" "$@" > "$outfile" 2> "$TMP/err" || RC=$?
        fi
    else
        if [[ $HAVE_TIME -eq 1 ]]; then
            /usr/bin/time -f %M -o "$TMP/rss" "$@" "${FILES[@]}" > "$outfile" 2> "$TMP/err" || RC=$?
        else
            "$PYTHON" "$TMP/rusage.py" "$TMP/rss" "$@" "${FILES[@]}" > "$outfile" 2> "$TMP/err" || RC=$?
        fi
    fi
    t1=$(date +%s.%N)
    WALL=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }')
    RSS_KB=$(tail -n 1 "$TMP/rss" 2>/dev/null | tr -dc '0-9')
    RSS_KB=${RSS_KB:-0}
    ERR_LINES=$(wc -l < "$TMP/err")
}

# Fallback peak-RSS wrapper (only used without /usr/bin/time): its own start-up is outside
# the process being measured but inside the wall time, so prefer /usr/bin/time.
cat > "$TMP/rusage.py" <<'PY'
import resource, subprocess, sys
rc = subprocess.call(sys.argv[2:])
with open(sys.argv[1], "w") as f:
    f.write("%d\n" % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(rc)
PY

# ---------------------------------------------------------------- check mode
if [[ $CHECK -eq 1 ]]; then
    status=0
    for shape in "${SHAPE_LIST[@]}"; do
        make_corpus "$shape"
        FILES=( "$CORPUS"/*.eml )
        plan_args
        for impl in swift python; do
            out="$CORPUS.$impl.jsonl"
            if [[ $impl == swift ]]; then
                run_timed "$out" "$SWIFT_BIN" parse --json
            else
                run_timed "$out" "$PYTHON" "$PY_CLI" --cli-json
            fi
            lines=$(wc -l < "$out")
            printf '    %-6s exit %d, %d JSON lines for %d files, %d stderr lines, %.2f s, peak RSS %.1f MB -> %s\n' \
                "$impl" "$RC" "$lines" "${#FILES[@]}" "$ERR_LINES" "$WALL" "$(awk -v k="$RSS_KB" 'BEGIN{print k/1024}')" "$out"
            if [[ $RC -ne 0 || $ERR_LINES -ne 0 || $lines -ne ${#FILES[@]} ]]; then
                status=1
                head -n 5 "$TMP/err" | sed 's/^/      stderr: /'
            fi
        done
        "$PYTHON" - "$CORPUS.swift.jsonl" <<'PY' || status=1
import json, sys
bad = 0
problems = 0
for n, line in enumerate(open(sys.argv[1], encoding="utf-8"), 1):
    try:
        r = json.loads(line)
    except ValueError as e:
        bad += 1
        if bad <= 3:
            print("      swift line %d is not JSON: %s" % (n, e))
        continue
    if r.get("problems"):
        problems += 1
        if problems <= 3:
            print("      swift problems in %s: %s" % (r["file"], r["problems"][:3]))
print("    swift output: %d lines not JSON, %d files with problems" % (bad, problems))
sys.exit(1 if bad else 0)
PY
        "$PYTHON" "$PY_CLI" --compare "$CORPUS.swift.jsonl" "$CORPUS.python.jsonl" | sed 's/^/    /' || status=1
    done
    if [[ $status -eq 0 ]]; then echo "==> check: OK"; else echo "==> check: FAILED (see above)"; fi
    exit $status
fi

# ---------------------------------------------------------------- timing runs
RESULTS="$OUT_DIR/results-$(date +%Y%m%d-%H%M%S).jsonl"
: > "$RESULTS"
echo "==> swift:  $SWIFT_BIN$([[ $HAVE_SWIFT -eq 1 ]] && echo " ($(stat -c '%y' "$SWIFT_BIN" | cut -d. -f1))")"
echo "==> python: $PYTHON ($("$PYTHON" -c 'import sys; print(sys.version.split()[0])'), email policy=default)"
echo "==> results: $RESULTS"

record() {  # shape impl run messages bytes corpus
    printf '{"shape":"%s","impl":"%s","run":%d,"messages":%d,"bytes":%d,"corpus":"%s","seconds":%s,"peakRSSKB":%d,"exit":%d,"stderrLines":%d,"xargs":%s,"processes":%d}\n' \
        "$1" "$2" "$3" "$4" "$5" "$6" "$WALL" "$RSS_KB" "$RC" "$ERR_LINES" \
        "$([[ $USE_XARGS -eq 1 ]] && echo true || echo false)" "$PROCS" >> "$RESULTS"
    printf '    run %d %-6s %8.3f s  %8.2f MB/s  %9.1f msg/s  peak RSS %7.1f MB  exit %d%s\n' \
        "$3" "$2" "$WALL" "$(awk -v b="$5" -v s="$WALL" 'BEGIN{print b/1e6/s}')" \
        "$(awk -v m="$4" -v s="$WALL" 'BEGIN{print m/s}')" "$(awk -v k="$RSS_KB" 'BEGIN{print k/1024}')" "$RC" \
        "$([[ $ERR_LINES -gt 0 ]] && echo "  ($ERR_LINES stderr lines: $(head -c 200 "$TMP/err" | head -n 1))")"
}

for shape in "${SHAPE_LIST[@]}"; do
    make_corpus "$shape"
    FILES=( "$CORPUS"/*.eml )
    BYTES=$(printf '%s\0' "${FILES[@]}" | xargs -0 cat | wc -c)   # also warms the page cache
    plan_args
    echo "==> $shape: ${#FILES[@]} messages, $BYTES bytes, $RUNS run(s)"
    for ((i = 1; i <= RUNS; i++)); do
        if [[ $HAVE_SWIFT -eq 1 ]]; then
            run_timed /dev/null "$SWIFT_BIN" parse --json
            record "$shape" swift "$i" "${#FILES[@]}" "$BYTES" "$CORPUS"
        fi
        run_timed /dev/null "$PYTHON" "$PY_CLI" --cli-json
        record "$shape" python "$i" "${#FILES[@]}" "$BYTES" "$CORPUS"
    done
done

# ---------------------------------------------------------------- summary
"$PYTHON" - "$RESULTS" <<'PY'
import json, os, statistics, sys

rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
shapes = []
for r in rows:
    if r["shape"] not in shapes:
        shapes.append(r["shape"])
print()
hdr = "%-12s %6s %8s %7s | %9s %9s %8s | %9s %9s %8s | %9s" % (
    "shape", "msgs", "MB", "med KB", "swift MB/s", "msg/s", "RSS MB", "py MB/s", "msg/s", "RSS MB", "swift/py")
print(hdr)
print("-" * len(hdr))
notes = []
for shape in shapes:
    rs = [r for r in rows if r["shape"] == shape]
    first = rs[0]
    sizes = sorted(os.path.getsize(os.path.join(first["corpus"], n))
                   for n in os.listdir(first["corpus"]) if n.endswith(".eml"))
    med_kb = statistics.median(sizes) / 1e3 if sizes else 0
    by = {}
    for r in rs:
        by.setdefault(r["impl"], []).append(r)
    cells = []
    for impl in ("swift", "python"):
        x = by.get(impl)
        if not x:
            cells.append("%9s %9s %8s" % ("-", "-", "-"))
            continue
        mbps = statistics.median(r["bytes"] / 1e6 / r["seconds"] for r in x)
        mps = statistics.median(r["messages"] / r["seconds"] for r in x)
        rss = max(r["peakRSSKB"] for r in x) / 1024
        cells.append("%9.2f %9.1f %8.1f" % (mbps, mps, rss))
        for r in x:
            if r["exit"] or r["stderrLines"]:
                notes.append("%s %s run %d: exit %d, %d stderr lines" % (shape, impl, r["run"], r["exit"], r["stderrLines"]))
        if any(r.get("xargs") for r in x):
            notes.append("%s %s: argument list too long for ARG_MAX, run through xargs (%d process(es))" % (
                shape, impl, max(r["processes"] for r in x)))
    ratio = "-"
    if by.get("swift") and by.get("python"):
        sw = {r["run"]: r["seconds"] for r in by["swift"]}
        ratios = [r["seconds"] / sw[r["run"]] for r in by["python"] if r["run"] in sw]
        if ratios:
            ratio = "%.1fx" % statistics.median(ratios)
    print("%-12s %6d %8.1f %7.1f | %s | %s | %9s" % (
        shape, first["messages"], first["bytes"] / 1e6, med_kb, cells[0], cells[1], ratio))
print()
print("MB = 1e6 bytes; wall time of the whole process (start-up, reading, parsing, JSON to /dev/null);")
print("medians over runs; RSS = max peak RSS over runs; swift/py = median over runs of python s / swift s.")
for n in notes:
    print("note: " + n)
print("raw results: %s" % sys.argv[1])
PY
