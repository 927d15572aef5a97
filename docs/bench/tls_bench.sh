#!/bin/sh
# ward's TLS engine and sslyze on the same lab HTTPS hosts, in one run.
# Usage: docs/bench/tls_bench.sh [N]   (BIN and SSLYZE may point elsewhere)
# Needs: the tls_bench example (cargo build --release -p ward-probe --example tls_bench),
# sslyze (pip install sslyze, a venv is best), openssl, /usr/bin/time.
set -eu
N=${1:-100}
BIN=${BIN:-target/release/examples/tls_bench}
SSLYZE=${SSLYZE:-sslyze}
DIR=$(mktemp -d)
mkfifo "$DIR/in"
"$BIN" lab "$N" "$DIR" < "$DIR/in" > "$DIR/lab.out" 2> "$DIR/lab.err" &
LAB=$!
exec 3> "$DIR/in"
trap 'exec 3>&-; wait $LAB 2>/dev/null || true' EXIT
i=0
until grep -q READY "$DIR/lab.out" 2>/dev/null; do
  i=$((i + 1)); [ $i -lt 600 ] || { echo "lab did not start" >&2; cat "$DIR/lab.err" >&2; exit 1; }
  sleep 0.1
done
count() { # prints the next JSON line of connection counts
  before=$(wc -l < "$DIR/lab.out"); echo count >&3
  until [ "$(wc -l < "$DIR/lab.out")" -gt "$before" ]; do sleep 0.05; done
  tail -n 1 "$DIR/lab.out"
}
count > /dev/null
/usr/bin/time -v "$BIN" scan "$DIR" > "$DIR/ward.json" 2> "$DIR/ward.time"
count > "$DIR/ward.counts"
/usr/bin/time -v "$SSLYZE" --quiet --targets_in "$DIR/targets.txt" --json_out "$DIR/sslyze.json" \
  --sslv3 --tlsv1 --tlsv1_1 --tlsv1_2 --tlsv1_3 --certinfo > /dev/null 2> "$DIR/sslyze.time"
count > "$DIR/sslyze.counts"
python3 "$(dirname "$0")/compare.py" "$DIR"
