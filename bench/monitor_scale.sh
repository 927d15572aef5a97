#!/usr/bin/env bash
# The monitor at party scale: one full round (every family, servers probed) of the lab's
# scale set, by `ward monitor` on SQLite and by 1, 2 and 4 `ward worker` processes on
# PostgreSQL, on this machine. Prints wall time, domains a second and peak memory per
# process. docs/performance.md keeps a copy.
#
#   bench/monitor_scale.sh [DOMAINS]        # default 10000
#
# Needs: cargo, GNU time (/usr/bin/time), PostgreSQL server binaries (the bench starts
# its own throwaway cluster with .ci/pg-start on port 54339). BENCH_DIR keeps the work
# folder. PER_HOST_RATE (default: ward's own, 20 connections a second per address)
# is passed to every process.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-10000}"
WORK="${BENCH_DIR:-$(mktemp -d)}"
mkdir -p "$WORK"
cargo build -q --release -p ward --bin ward
cp target/release/ward "$WORK/ward"
W="$WORK/ward"
RATE=()
[ -n "${PER_HOST_RATE:-}" ] && RATE=(--per-host-rate "$PER_HOST_RATE")

"$W" lab --scale "$N" --state-dir "$WORK/lab" > "$WORK/lab.out" 2>&1 &
LAB=$!
trap 'kill $LAB 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do grep -q "Press Ctrl-C" "$WORK/lab.out" 2>/dev/null && break; sleep 1; done
NET=$(grep -o -- "--resolver.*lab-trust-anchor.txt" "$WORK/lab.out" | head -1)
# shellcheck disable=SC2206
NET=($NET)
INV="$WORK/lab/inventory.toml"

echo "$(date -u '+%Y-%m-%d %H:%M UTC'); $N domains; load average before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) CPUs"
echo
echo "| run                      | wall (s) | domains/s | peak MiB per process      |"
echo "|--------------------------|----------|-----------|---------------------------|"

row() { # name wall rss-list
  awk -v n="$1" -v w="$2" -v d="$N" -v m="$3" 'BEGIN { printf "| %-24s | %8.1f | %9.1f | %-25s |\n", n, w, d/w, m }'
}

# SQLite: the monitor scans in its own process (SKIP_SQLITE=1 measures PostgreSQL only).
if [ -z "${SKIP_SQLITE:-}" ]; then
rm -f "$WORK/sqlite.db"*
start=$(date +%s.%N)
/usr/bin/time -f "%M" -o "$WORK/time-sqlite" "$W" monitor --once --jitter 0 --no-alerts \
  -i "$INV" --db "$WORK/sqlite.db" "${NET[@]}" "${RATE[@]}" 2> "$WORK/err-sqlite"
end=$(date +%s.%N)
row "monitor, SQLite" "$(echo "$end - $start" | bc)" "$(awk '{printf "%.0f", $1/1024}' "$WORK/time-sqlite")"
fi

export WARD_PG_PORT=54339 WARD_PG_DIR="$WORK/pg"
PGURL=$(.ci/pg-start)
for workers in 1 2 4; do
  db="bench_$workers"
  dburl="${PGURL%/postgres}/$db"
  # A fresh database per run.
  as_pg=(); [ "$(id -u)" = 0 ] && as_pg=(runuser -u postgres --)
  "${as_pg[@]}" "$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)/psql" \
    -h "$WARD_PG_DIR" -p "$WARD_PG_PORT" -U postgres -q -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" postgres > /dev/null 2>&1
  "$W" db migrate --db "$dburl" > /dev/null
  start=$(date +%s.%N)
  "$W" monitor --once --jitter 0 --no-alerts -i "$INV" --db "$dburl" "${NET[@]}" 2> "$WORK/err-monitor-$workers" &
  MON=$!
  # Workers with --until-idle leave when no round is open: start them once it is.
  until "$W" monitor status --db "$dburl" --format json | grep -q '"round"'; do sleep 0.2; done
  pids=()
  for i in $(seq 1 "$workers"); do
    /usr/bin/time -f "%M" -o "$WORK/time-w$workers-$i" "$W" worker --until-idle --poll 200ms \
      --db "$dburl" --name "w$i" "${NET[@]}" "${RATE[@]}" 2> "$WORK/err-w$workers-$i" &
    pids+=($!)
  done
  wait $MON
  end=$(date +%s.%N)
  wait "${pids[@]}"
  rss=$(for i in $(seq 1 "$workers"); do awk '{printf "%.0f ", $1/1024}' "$WORK/time-w$workers-$i"; done)
  row "$workers worker(s), PostgreSQL" "$(echo "$end - $start" | bc)" "$rss"
done
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
grep -h "round 1 ended" "$WORK"/err-sqlite "$WORK"/err-monitor-* 2>/dev/null || true
echo "work folder: $WORK"
