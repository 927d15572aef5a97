#!/usr/bin/env bash
# Memory and time of one large DMARC aggregate report: ward ingests a 200 MB report
# (and a gzip of a 95 MB one, under the 100 MB decompression limit), then the same
# files again as duplicates. Prints one table (docs/performance.md keeps a copy).
#
#   bench/large_report.sh                 # the ward of this checkout
#   OLD_WARD=/path/to/ward bench/large_report.sh   # and another build beside it
#
# Needs: cargo, python3, gzip, GNU time (/usr/bin/time). BENCH_DIR keeps the work folder.
set -euo pipefail
cd "$(dirname "$0")/.."
WORK="${BENCH_DIR:-$(mktemp -d)}"
TARGET="${CARGO_TARGET_DIR:-target}"
mkdir -p "$WORK"
cargo build -q --release -p ward --bin ward
cp "$TARGET/release/ward" "$WORK/ward"

# Fixed seed: the same 200 MB report on every run.
[ -f "$WORK/large.xml" ] || python3 - "$WORK" <<'PY'
import random, sys
work = sys.argv[1]
random.seed(1)
head = ('<?xml version="1.0" encoding="UTF-8"?>\n<feedback><version>1.0</version>'
        '<report_metadata><org_name>big.example</org_name><email>d@big.example</email>'
        '<report_id>big-1</report_id><date_range><begin>1767139200</begin>'
        '<end>1767225600</end></date_range></report_metadata><policy_published>'
        '<domain>party.example</domain><adkim>r</adkim><aspf>r</aspf><p>none</p>'
        '<pct>100</pct></policy_published>\n')
def records(limit, out):
    size, n = len(head), 0
    out.write(head)
    while size < limit:
        ip = f"198.51.{random.randint(0, 255)}.{random.randint(1, 254)}"
        r = (f"<record><row><source_ip>{ip}</source_ip><count>{random.randint(1, 50)}</count>"
             "<policy_evaluated><disposition>none</disposition><dkim>pass</dkim><spf>fail</spf>"
             "</policy_evaluated></row><identifiers><header_from>party.example</header_from>"
             "</identifiers><auth_results><dkim><domain>party.example</domain><selector>s1"
             f"</selector><result>pass</result></dkim><spf><domain>mail{n % 97}.example</domain>"
             "<result>fail</result></spf></auth_results></record>\n")
        out.write(r)
        size += len(r)
        n += 1
    out.write("</feedback>\n")
with open(f"{work}/large.xml", "w") as f:
    records(200_000_000, f)
random.seed(2)
with open(f"{work}/mid.xml", "w") as f:
    records(95_000_000, f)
PY
[ -f "$WORK/mid.xml.gz" ] || gzip -k -1 "$WORK/mid.xml"

run() { # label ward db file
  local label="$1" bin="$2" db="$3" file="$4" t="$WORK/time"
  sync
  /usr/bin/time -f "%e %M" -o "$t" "$bin" reports ingest --db "$db" "$file" > "$WORK/out" 2>&1 || true
  read -r wall rss < <(tail -1 "$t")
  printf "| %-28s | %-12s | %8.2f | %9.1f | %s\n" "$label" "$(basename "$file")" "$wall" \
    "$(echo "$rss" | awk '{print $1/1024}')" "$(head -1 "$WORK/out")"
}

echo "$(date -u '+%Y-%m-%d %H:%M UTC'); load average before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) CPUs"
echo
echo "| run                          | file         | wall (s) | peak MiB  | ward said"
echo "|------------------------------|--------------|----------|-----------|----------"
for build in old new; do
  if [ "$build" = old ]; then
    [ -n "${OLD_WARD:-}" ] || continue
    bin="$OLD_WARD"
  else
    bin="$WORK/ward"
  fi
  for file in large.xml mid.xml.gz; do
    rm -f "$WORK/$build.db"*
    run "$build: first" "$bin" "$WORK/$build.db" "$WORK/$file"
    run "$build: same file again" "$bin" "$WORK/$build.db" "$WORK/$file"
  done
done
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
