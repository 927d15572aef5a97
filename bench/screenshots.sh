#!/usr/bin/env bash
# Screenshots of ward serve's main pages, as a person sees them in Chromium, for
# docs/screenshots/. They are taken by the browser test itself (tests/browser), which
# walks through the pages a branch volunteer uses; WARD_SCREENSHOTS tells it where to
# save them. Needs Debian's chromium and chromium-driver (.ci/run installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-docs/screenshots}"
mkdir -p "$out"
WARD_SCREENSHOTS="$(cd "$out" && pwd)" cargo test -q -p ward --test browser
ls -l "$out"
