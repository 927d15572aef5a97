#!/usr/bin/env bash
# Ingestion benchmark: ward against parsedmarc (offline) on the same generated corpus,
# in the same run. Prints one table (docs/performance.md keeps a copy).
#
#   bench/reports.sh [MEGABYTES]          # default 200
#
# Needs: cargo, python3 (for a venv with parsedmarc, unless PARSEDMARC names one),
# GNU time (/usr/bin/time, Debian package `time`). BENCH_DIR keeps the work folder.
set -euo pipefail
cd "$(dirname "$0")/.."
MB="${1:-200}"
WORK="${BENCH_DIR:-$(mktemp -d)}"
TARGET="${CARGO_TARGET_DIR:-target}"
mkdir -p "$WORK"

cargo build -q --release -p ward-reports --example gen_corpus
cargo build -q --release -p ward --bin ward
WARD="$TARGET/release/ward"
GEN="$TARGET/release/examples/gen_corpus"

if [ -z "${PARSEDMARC:-}" ]; then
  if [ ! -x "$WORK/venv/bin/parsedmarc" ]; then
    python3 -m venv "$WORK/venv"
    "$WORK/venv/bin/pip" install -q parsedmarc
  fi
  PARSEDMARC="$WORK/venv/bin/parsedmarc"
fi

# Two corpora: the full one, and a tenth of it, to show whether memory follows size.
SMALL=$(( MB / 10 ))
for size in "$SMALL" "$MB"; do
  if [ ! -d "$WORK/corpus-$size" ]; then
    "$GEN" "$WORK/corpus-$size" "$size" > "$WORK/corpus-$size.txt"
  fi
done

measure() { # name corpus-size command...
  local name="$1" size="$2"; shift 2
  local t="$WORK/time-$name-$size"
  /usr/bin/time -f "%e %M" -o "$t" "$@" > "$WORK/out-$name-$size" 2> "$WORK/err-$name-$size" || true
  local bytes reports wall rss
  bytes=$(du -sb "$WORK/corpus-$size" | cut -f1)
  reports=$(grep -o '^[0-9]*' "$WORK/corpus-$size.txt")
  read -r wall rss < <(tail -1 "$t")
  awk -v n="$name" -v b="$bytes" -v r="$reports" -v w="$wall" -v m="$rss" 'BEGIN {
    printf "| %-10s | %8.1f | %7d | %8.2f | %9.2f | %9.1f | %9.1f |\n",
      n, b/1e6, r, w, b/1e6/w, r/w, m/1024 }'
}

echo "| tool       | MB disk  | reports | wall (s) | MB/s      | reports/s | peak MiB  |"
echo "|------------|----------|---------|----------|-----------|-----------|-----------|"
for size in "$SMALL" "$MB"; do
  rm -f "$WORK/ward-$size.db"*
  measure ward "$size" "$WARD" reports ingest --db "$WORK/ward-$size.db" "$WORK/corpus-$size"
done
rm -rf "$WORK/parsedmarc-out"
measure parsedmarc "$MB" "$PARSEDMARC" --offline -s -r -o "$WORK/parsedmarc-out" "$WORK/corpus-$MB"
echo
echo "ward:       $(cat "$WORK/out-ward-$MB")"
echo "parsedmarc: $(python3 -c "import json,sys; a=json.load(open(sys.argv[1]+'/aggregate.json')); t=json.load(open(sys.argv[1]+'/smtp_tls.json')); print(len(a), 'aggregate and', len(t), 'TLS reports parsed')" "$WORK/parsedmarc-out" 2>/dev/null || echo 'no output')"
echo "work folder: $WORK"
