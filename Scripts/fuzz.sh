#!/usr/bin/env bash
# Fuzz the MIME parser and the Gmail payload parser with libFuzzer (not part of CI).
#   Scripts/fuzz.sh [SECONDS]   (default 600)
# Builds Fuzz/fuzz-mime with -sanitize=fuzzer,address into .build-fuzz, seeds the corpus from
# Fixtures/mime (raw, prefixed with 0x00) and ../shared/gmail-real (JSON, prefixed with 0x01), runs for
# SECONDS with a 2 GB RSS limit and a 10 s per-input timeout, and prints a summary. Crashers land in
# Fuzz/artifacts/; turn each into a regression fixture under Fuzz/regressions/ (ParserTests replays them).
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_TO_RUN="${1:-600}"
FUZZ=1 swift build -c release --product fuzz-mime --scratch-path .build-fuzz \
    --sanitize=fuzzer -Xswiftc -sanitize=fuzzer,address 2>&1 | grep -v "Cannot export local symbol" | tail -n 3
mkdir -p Fuzz/corpus Fuzz/artifacts
python3 - <<'PY'
import glob, os, hashlib, json
out = "Fuzz/corpus"
def put(prefix, data):
    data = bytes([prefix]) + data
    open(os.path.join(out, hashlib.sha1(data).hexdigest()), "wb").write(data)
for f in glob.glob("Fixtures/mime/**/*.eml", recursive=True):
    data = open(f, "rb").read()
    if len(data) < 200_000:
        put(0, data)
for f in glob.glob("Fuzz/regressions/*"):
    put(0, open(f, "rb").read())
for f in glob.glob("../shared/gmail-real/*.json"):
    d = json.load(open(f))
    put(1, json.dumps(d["full"]).encode())
PY
START=$(date +%s)
SWIFT_BACKTRACE=enable=no .build-fuzz/release/fuzz-mime Fuzz/corpus \
    -max_total_time="$SECONDS_TO_RUN" -rss_limit_mb=2048 -timeout=10 -max_len=262144 \
    -artifact_prefix=Fuzz/artifacts/ -print_final_stats=1 2>&1 | tee .build-fuzz/last-run.log | grep -E "^#|stat::|ERROR|SUMMARY|crash|timeout|oom" | tail -n 25
echo "fuzzed for $(( $(date +%s) - START )) s; artifacts: $(ls Fuzz/artifacts | wc -l)"
