#!/usr/bin/env bash
# The project's test command (README "Tests"; CI runs exactly this). The whole suite runs in parallel;
# the wall-clock latency tests (PushLiveTests: new mail stored within 2 s of delivery over real sockets)
# and the real-browser run (BrowserTests: headless Chromium against `serve --fake`) then run on their own,
# because on a 2-core machine the parallel suite can hold a socket round trip for seconds and a latency
# bound or a browser timeout measured under that load says nothing about the code.
set -euo pipefail
cd "$(dirname "$0")/.."
swift test --skip PushLiveTests --skip BrowserTests "$@"
swift test --skip-build --filter PushLiveTests "$@"
swift test --skip-build --filter BrowserTests "$@"
