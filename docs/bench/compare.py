"""Summarises one tls_bench.sh run: speed, connections per host, peak memory, and
whether ward and sslyze found the same protocol versions and cipher suites."""
import json, re, sys
from pathlib import Path

d = Path(sys.argv[1])

def timing(name):
    text = (d / f"{name}.time").read_text()
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", text).group(1)
    secs = 0.0
    for part in wall.split(":"):
        secs = secs * 60 + float(part)
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1))
    return secs, rss

ward = json.loads((d / "ward.json").read_text())
sslyze = json.loads((d / "sslyze.json").read_text())
names = {"ssl_3_0": "SSLV3", "tls_1_0": "TLS10", "tls_1_1": "TLS11", "tls_1_2": "TLS12", "tls_1_3": "TLS13"}
theirs = {}
for r in sslyze["server_scan_results"]:
    host = r["server_location"]["hostname"]
    found = {}
    for key, label in names.items():
        res = (r.get("scan_result") or {}).get(f"{key}_cipher_suites") or {}
        accepted = (res.get("result") or {}).get("accepted_cipher_suites") or []
        if accepted:
            found[label] = sorted(a["cipher_suite"]["name"] for a in accepted)
    theirs[host] = found
ours = {h: v["versions"] for h, v in ward["hosts"].items()}
same = sum(1 for h in ours if ours[h] == theirs.get(h))
diff = [h for h in ours if ours[h] != theirs.get(h)]
wc = json.loads((d / "ward.counts").read_text())
sc = json.loads((d / "sslyze.counts").read_text())
n = len(ours)
(ws, wr), (ss, sr) = timing("ward"), timing("sslyze")
print(f"hosts                     {n}")
print(f"                          ward        sslyze")
print(f"wall time (s)             {ws:<11.2f} {ss:.2f}")
print(f"hosts per second          {n / ws:<11.1f} {n / ss:.1f}")
print(f"connections per host      {sum(wc.values()) / n:<11.1f} {sum(sc.values()) / n:.1f}")
print(f"max connections one host  {max(wc.values()):<11} {max(sc.values())}")
print(f"peak RSS (MiB)            {wr / 1024:<11.1f} {sr / 1024:.1f}")
print(f"same versions and suites  {same}/{n}")
print(f"ward could-not-tell       {sum(v['could_not_tell'] for v in ward['hosts'].values())} version probes")
for h in diff[:5]:
    print(f"DIFF {h}: ward {ours[h]} sslyze {theirs.get(h)}")
