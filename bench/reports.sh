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

# Copied out at once: a build directory shared with other worktrees may be
# overwritten by their builds of the same binary.
cargo build -q --release -p ward-reports --example gen_corpus
cp "$TARGET/release/examples/gen_corpus" "$WORK/gen_corpus"
cargo build -q --release -p ward --bin ward
cp "$TARGET/release/ward" "$WORK/ward"
WARD="$WORK/ward"
GEN="$WORK/gen_corpus"

if [ -z "${PARSEDMARC:-}" ]; then
  if [ ! -x "$WORK/venv/bin/parsedmarc" ]; then
    python3 -m venv "$WORK/venv"
    "$WORK/venv/bin/pip" install -q parsedmarc
  fi
  PARSEDMARC="$WORK/venv/bin/parsedmarc"
fi

# Corpus A (MB), and corpus B: as large, with different reports. ward ingests A, then
# A and B together: twice the data should not need more memory.
[ -d "$WORK/corpus-a" ] || "$GEN" "$WORK/corpus-a" "$MB" 1 > "$WORK/corpus-a.txt"
[ -d "$WORK/corpus-b" ] || "$GEN" "$WORK/corpus-b" "$MB" 100000001 > "$WORK/corpus-b.txt"

measure() { # name corpora command...   (corpora: "a" or "a b")
  local name="$1" corpora="$2"; shift 2
  local tag="$name-${corpora// /}"
  local t="$WORK/time-$tag"
  # Dirty pages left by the build (or the previous run) would be flushed inside the
  # measured run's first fsync; start every run with none.
  sync
  /usr/bin/time -f "%e %M" -o "$t" "$@" > "$WORK/out-$tag" 2> "$WORK/err-$tag" || true
  local bytes=0 reports=0 wall rss c
  for c in $corpora; do
    bytes=$(( bytes + $(du -sb "$WORK/corpus-$c" | cut -f1) ))
    reports=$(( reports + $(grep -o '^[0-9]*' "$WORK/corpus-$c.txt") ))
  done
  read -r wall rss < <(tail -1 "$t")
  echo "$bytes $reports $wall $rss" > "$WORK/figures-$tag"
  awk -v n="$name" -v b="$bytes" -v r="$reports" -v w="$wall" -v m="$rss" 'BEGIN {
    printf "| %-16s | %8.1f | %7d | %8.2f | %9.2f | %9.1f | %9.1f |\n",
      n, b/1e6, r, w, b/1e6/w, r/w, m/1024 }'
}

echo "$(date -u '+%Y-%m-%d %H:%M UTC'); load average before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) CPUs"
echo
echo "| run              | MB disk  | reports | wall (s) | MB/s      | reports/s | peak MiB  |"
echo "|------------------|----------|---------|----------|-----------|-----------|-----------|"
# ward's few seconds on corpus A move by 10-15% from run to run on a shared VM, so it is
# run three times, each into a new database, and the median run is the one compared.
# parsedmarc's single run lasts minutes and varies much less in proportion.
for i in 1 2 3; do
  rm -f "$WORK"/ward-a.db*
  measure "ward A, run $i" "a" "$WARD" reports ingest --db "$WORK/ward-a.db" "$WORK/corpus-a"
  cp "$WORK/figures-ward A, run $i-a" "$WORK/run-$i"
done
median=$(for i in 1 2 3; do echo "$(cut -d' ' -f3 "$WORK/run-$i") $i"; done | sort -n | sed -n 2p | cut -d' ' -f2)
cp "$WORK/figures-ward A, run $median-a" "$WORK/figures-ward A-a"
cp "$WORK/out-ward A, run $median-a" "$WORK/out-ward A-a"
rm -f "$WORK"/ward-ab.db*
measure "ward A+B" "a b" "$WARD" reports ingest --db "$WORK/ward-ab.db" "$WORK/corpus-a" "$WORK/corpus-b"
if [ -z "${SKIP_PARSEDMARC:-}" ]; then
  rm -rf "$WORK/parsedmarc-out"
  measure "parsedmarc A" "a" "$PARSEDMARC" --offline -s -r -o "$WORK/parsedmarc-out" "$WORK/corpus-a"
fi
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ -z "${SKIP_PARSEDMARC:-}" ]; then
  # The ratios the issue asks about, from this run's figures only.
  read -r _ _ ward_wall ward_rss < "$WORK/figures-ward A-a"
  read -r _ _ ab_wall ab_rss < "$WORK/figures-ward A+B-ab"
  read -r _ _ pm_wall pm_rss < "$WORK/figures-parsedmarc A-a"
  awk -v w="$ward_wall" -v p="$pm_wall" -v wm="$ward_rss" -v pm="$pm_rss" -v abm="$ab_rss" 'BEGIN {
    printf "throughput: ward (median of three runs) %.1fx parsedmarc (goal 100x)\n", p / w
    printf "peak memory: ward 1/%.0f of parsedmarc (goal at most 1/20)\n", pm / wm
    printf "memory, twice the corpus: %.1f MiB for A, %.1f MiB for A+B\n", wm / 1024, abm / 1024 }'
fi
echo
echo "ward A:     $(cat "$WORK/out-ward A-a")"
echo "ward A+B:   $(cat "$WORK/out-ward A+B-ab")"
echo "parsedmarc: $(python3 -c "import json,sys; a=json.load(open(sys.argv[1]+'/aggregate.json')); t=json.load(open(sys.argv[1]+'/smtp_tls.json')); print(len(a), 'aggregate and', len(t), 'TLS reports parsed')" "$WORK/parsedmarc-out" 2>/dev/null || echo 'not run or no output')"
echo "work folder: $WORK"
