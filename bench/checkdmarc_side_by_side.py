#!/usr/bin/env python3
"""ward's and checkdmarc's SPF and DMARC verdicts, side by side, on the lab's own zones.

    bench/checkdmarc_side_by_side.py [--ward BIN] [--checkdmarc-python PY]
                                     [--fixture DIR|demo]... [--json OUT]

For each fixture (by default the demo party, then bench/fixtures/checkdmarc, one domain per
SPF or DMARC rule), serves it with `ward lab`, scans its inventory and
every other zone it serves with `ward scan --format json`, runs checkdmarc's `check_spf` and
`check_dmarc` on the same domains with the lab's DNS server as the only nameserver, and
prints one line per domain: each tool's verdict, reduced to the same words, and whether
they agree. The disagreements follow, each with what both tools said. docs/conformance.md
keeps the list from the last run and says why each one is ward's verdict.

The verdicts compared:

- SPF: `none` (no record), `invalid` (receivers get permerror: syntax, several records,
  too many lookups or void lookups, a loop), or `valid` with the qualifier of the `all`
  the policy ends in (following `redirect`; `neutral` when there is none).
- DMARC: `none`, `invalid` (refused, or several records), `own p=<p>` (the domain's own
  record; `+ broken tag` when ward kept the policy of a record with a broken optional tag),
  `inherited <policy> from <domain>` (the parent's `sp`, or `np` for a name that does
  not exist), or `does not exist`.

Either side may say `could not tell`. The lookup counts are shown beside the SPF verdict
but are not part of it.

The driver uses only the standard library; checkdmarc runs in its own interpreter
(--checkdmarc-python, or $CHECKDMARC_PYTHON; without either, a venv is made in the work
folder and checkdmarc is installed into it with pip). The ward binary is --ward, $WARD,
or $CARGO_TARGET_DIR/debug/ward (target/debug/ward); build it first. BENCH_DIR keeps the
work folder (otherwise it is removed, venv and all). Exit status: 0 when the run completed (whatever the tools said), 3 when it
could not run.
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tomllib
from datetime import datetime, timezone

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Runs inside checkdmarc's interpreter: argv = lab address, port, domains file (JSON list
# of [domain, parked]). Prints one JSON object: versions and per-domain results.
DRIVER = r"""
import json, sys
import dns.nameserver, dns.version
import checkdmarc
from checkdmarc.spf import check_spf
from checkdmarc.dmarc import check_dmarc
ip, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
ns = [dns.nameserver.Do53Nameserver(ip, port)]
out = {"checkdmarc": checkdmarc.__version__, "dnspython": dns.version.version, "domains": {}}
for domain, parked in json.load(open(path)):
    row = {}
    for name, fn in (("spf", check_spf), ("dmarc", check_dmarc)):
        try:
            row[name] = fn(domain, parked=parked, nameservers=ns, timeout=2.0)
        except Exception as e:  # a crash is a verdict too
            row[name] = {"valid": False, "record": None, "error": f"exception: {e!r}"}
    out["domains"][domain] = row
print(json.dumps(out, default=str))
"""


def fail(msg):
    print(f"checkdmarc_side_by_side: {msg}", file=sys.stderr)
    sys.exit(3)


def find_ward(arg):
    path = arg or os.environ.get("WARD")
    if not path:
        target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
        path = os.path.join(target, "debug", "ward")
    if not os.access(path, os.X_OK):
        fail(f"no ward binary at {path}: run `cargo build -p ward` or pass --ward")
    return path


def checkdmarc_python(arg, work):
    py = arg or os.environ.get("CHECKDMARC_PYTHON")
    if py:
        return py
    venv = os.path.join(work, "venv")
    py = os.path.join(venv, "bin", "python")
    if not os.access(py, os.X_OK):
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
        subprocess.run([py, "-m", "pip", "install", "-q", "checkdmarc"], check=True)
    return py


def start_lab(ward, state, fixture):
    cmd = [ward, "lab", "--state-dir", state]
    if fixture:
        cmd += ["--fixture", fixture]
    out = open(os.path.join(state, "lab.out"), "w")
    err = open(os.path.join(state, "lab.err"), "w")
    lab = subprocess.Popen(cmd, stdout=out, stderr=err)
    deadline = time.monotonic() + 120
    text = ""
    while time.monotonic() < deadline:
        text = open(os.path.join(state, "lab.out")).read()
        if "Press Ctrl-C" in text:
            return lab, text
        if lab.poll() is not None:
            fail("ward lab exited:\n" + open(os.path.join(state, "lab.err")).read())
        time.sleep(0.1)
    lab.kill()
    fail("ward lab did not start within 120 s")


def lab_facts(text):
    """The resolver address, the scan arguments and the zones `ward lab` printed."""
    m = re.search(r"DNS \(resolver\)\s+(\S+):(\d+)", text)
    if not m:
        fail("ward lab printed no resolver address")
    ip, port = m.group(1), int(m.group(2))
    lines = text.splitlines()
    scan_args = None
    for i, line in enumerate(lines):
        if line.startswith("Scan the whole organisation:") and i + 1 < len(lines):
            scan_args = lines[i + 1].strip().split()[2:]  # drop "ward scan"
    if scan_args is None:
        # No inventory: the one-domain example's flags, without its domain.
        for i, line in enumerate(lines):
            if line.startswith("Scan one domain:") and i + 1 < len(lines):
                scan_args = lines[i + 1].strip().split()[2:-1]
    if scan_args is None:
        fail("ward lab printed no scan command")
    zones, in_zones = [], False
    for line in lines:
        if re.match(r"\s+zones \(\d+\):", line):
            in_zones = True
            continue
        if in_zones:
            if not line.startswith("    ") or not line.strip():
                break
            zones.append(line.strip().rstrip("."))
    return ip, port, scan_args, zones


def inventory_domains(scan_args):
    """(domain, parked) for every domain of the inventory the scan command names."""
    if "--inventory" not in scan_args:
        return []
    path = scan_args[scan_args.index("--inventory") + 1]
    with open(path, "rb") as f:
        inv = tomllib.load(f)
    out = []
    for org in inv.get("organisation", []):
        for d in org.get("domain", []):
            out.append((d["name"].rstrip(".").lower(), "parked" in d.get("roles", [])))
    return out


def by_check(asset):
    return {f["check"]: f for f in asset["findings"]}


# --- ward's verdicts -------------------------------------------------------------------

QUALIFIER = {"-": "fail", "~": "softfail", "?": "neutral", "+": "pass"}


def ward_spf(f):
    present = f.get("spf.present")
    if present is None:
        return "not judged", None, ""
    why = present["summary"]
    if present["status"] == "error":
        return "could not tell", None, why
    if present["status"] == "info":
        return ("does not exist" if "does not exist" in why else "not judged"), None, why
    if present["status"] == "fail":
        records = present["evidence"].get("spf_records") or []
        return ("none" if not records else "invalid"), None, why
    lookups = f["spf.lookups"]["evidence"].get("total")
    for check in ("spf.syntax", "spf.lookups", "spf.void_lookups", "spf.loops"):
        if f[check]["status"] == "fail":
            return "invalid", lookups, f[check]["summary"]
    unknown = [c for c in ("spf.syntax", "spf.lookups", "spf.all") if f[c]["status"] == "error"]
    if unknown:
        return "could not tell", lookups, f[unknown[0]]["summary"]
    summary = f["spf.all"]["summary"]
    m = re.search(r"ends in `([^`]*)`", summary)
    if m:
        term = m.group(1).strip()
        qualifier = QUALIFIER.get(term[:1], "pass")
    elif "neither `all` nor `redirect`" in summary:
        qualifier = "neutral"
    else:
        return "invalid", lookups, summary
    return f"valid, all={qualifier}", lookups, summary


def ward_dmarc(f):
    present = f.get("dmarc.present")
    if present is None:
        return "not judged", ""
    status, why = present["status"], present["summary"]
    if status == "error":
        return "could not tell", why
    if status == "pass":
        ev = f["dmarc.policy"]["evidence"]
        policy = (ev.get("p") or "none").lower()
        testing = " t=y" if ev.get("t") else ""
        broken = f["dmarc.syntax"]["status"] == "fail"
        return f"own p={policy}{testing}" + (" + broken tag" if broken else ""), (
            f["dmarc.syntax"]["summary"] if broken else f["dmarc.policy"]["summary"]
        )
    inherited = f.get("dmarc.inherited", {})
    ev = inherited.get("evidence") or {}
    if ev.get("from"):
        return f"inherited {str(ev.get('applied')).lower()} from {ev['from']}", inherited["summary"]
    if status == "fail" and f.get("dmarc.syntax", {}).get("status") == "fail":
        return "invalid", f["dmarc.syntax"]["summary"]
    if status == "fail" and re.search(r"publishes \d+ DMARC records", why):
        return "invalid", why
    if "does not exist" in why:
        return "does not exist", why
    return "none", why


# --- checkdmarc's verdicts -------------------------------------------------------------

GONE = re.compile(r"^The domain does not exist", re.I)
NOT_FOUND = re.compile(r"does not have an SPF|not exist|no SPF|A DMARC record does not exist", re.I)
DNS_TROUBLE = re.compile(r"timed out|timeout|SERVFAIL|DNS error|no nameservers|refused", re.I)


def cdm_spf(r):
    if r.get("valid"):
        parsed = r.get("parsed") or {}
        return f"valid, all={parsed.get('all', 'neutral')}", r.get("dns_lookups"), ""
    error = r.get("error", "")
    if GONE.search(error):
        return "does not exist", None, error
    if r.get("record") is None and NOT_FOUND.search(error):
        return "none", None, error
    if DNS_TROUBLE.search(error):
        return "could not tell", None, error
    return "invalid", r.get("dns_lookups"), error


def cdm_dmarc(r, domain):
    if r.get("valid"):
        tags = r.get("tags") or {}
        p = (tags.get("p") or {}).get("value", "none")
        location = (r.get("location") or domain).rstrip(".").lower()
        if location == domain:
            testing = " t=y" if (tags.get("t") or {}).get("value") in ("y", True) else ""
            return f"own p={p}{testing}", ""
        sp = (tags.get("sp") or {}).get("value", p)
        return f"inherited {sp} from {location}", ""
    error = r.get("error", "")
    if GONE.search(error):
        return "does not exist", error
    if NOT_FOUND.search(error):
        return "none", error
    if DNS_TROUBLE.search(error):
        return "could not tell", error
    return "invalid", error


DEFAULT_FIXTURES = ["demo", os.path.join(ROOT, "bench", "fixtures", "checkdmarc")]


def run_fixture(ward, py, work, fixture):
    """Serves `fixture` ("demo": the built-in demo party), runs both tools, and returns
    (ward's scan document, checkdmarc's results, the domains as (name, parked))."""
    name = "demo" if fixture == "demo" else os.path.basename(os.path.normpath(fixture))
    state = os.path.join(work, f"lab-{name}")
    os.makedirs(state, exist_ok=True)
    lab, text = start_lab(ward, state, None if fixture == "demo" else fixture)
    try:
        ip, port, scan_args, zones = lab_facts(text)
        listed = inventory_domains(scan_args)
        known = {d for d, _ in listed}
        # Every other zone the lab serves, but the top-level ones (`example.`) and reverse
        # zones, which no one sends mail as.
        extra = [
            z for z in zones
            if "." in z and z not in known and not z.endswith((".in-addr.arpa", ".ip6.arpa"))
        ]
        domains = listed + [(z, False) for z in extra]
        scan = subprocess.run(
            [ward, "scan", *scan_args, "--format", "json", *extra],
            capture_output=True, text=True,
        )
        if scan.returncode not in (0, 1):
            fail(f"ward scan exited {scan.returncode}:\n{scan.stderr}")
        report = json.loads(scan.stdout)
        dom_file = os.path.join(state, "domains.json")
        with open(dom_file, "w") as f:
            json.dump(domains, f)
        driver = os.path.join(work, "driver.py")
        with open(driver, "w") as f:
            f.write(DRIVER)
        cdm = subprocess.run([py, driver, ip, str(port), dom_file], capture_output=True, text=True)
        if cdm.returncode != 0:
            fail(f"the checkdmarc driver exited {cdm.returncode}:\n{cdm.stderr}")
        peer = json.loads(cdm.stdout)
    finally:
        # Ctrl-C, as a person would: the lab then stops its servers (and their children).
        lab.send_signal(signal.SIGINT)
        try:
            lab.wait(timeout=30)
        except subprocess.TimeoutExpired:
            lab.kill()
    return report, peer, domains


def compare(report, peer, domains):
    """Rows of verdicts, the disagreements, and the domains not compared."""
    wards = {a["domain"]: by_check(a) for a in report["assets"]}
    rows, disagreements, skipped = [], [], []
    for domain, parked in domains:
        f = wards.get(domain, {})
        if "spf.present" not in f and "dmarc.present" not in f:
            skipped.append(domain)  # ward judges no mail for it (a web-only domain)
            continue
        c = peer["domains"][domain]
        ws, wl, wwhy = ward_spf(f)
        cs, cl, cwhy = cdm_spf(c["spf"])
        wd, wdwhy = ward_dmarc(f)
        cd, cdwhy = cdm_dmarc(c["dmarc"], domain)
        row = {
            "domain": domain, "parked": parked,
            "spf": {"ward": ws, "checkdmarc": cs, "ward_lookups": wl, "checkdmarc_lookups": cl,
                    "ward_why": wwhy, "checkdmarc_why": cwhy,
                    "record": (c["spf"].get("record") or "")},
            "dmarc": {"ward": wd, "checkdmarc": cd, "ward_why": wdwhy, "checkdmarc_why": cdwhy,
                      "record": (c["dmarc"].get("record") or "")},
        }
        rows.append(row)
        for family in ("spf", "dmarc"):
            if row[family]["ward"] != row[family]["checkdmarc"]:
                disagreements.append((domain, family, row[family]))
    return rows, disagreements, skipped


def show(title, rows, disagreements, skipped):
    print(f"## {title}")
    print()
    w = max(len(r["domain"]) for r in rows)
    print(f"{'domain':<{w}}  {'SPF: ward':<26} {'checkdmarc':<26}    "
          f"{'DMARC: ward':<44} checkdmarc")
    for r in rows:
        s, d = r["spf"], r["dmarc"]
        lk = f"{s['ward_lookups']}/{s['checkdmarc_lookups']}" if s["ward_lookups"] is not None else ""
        print(f"{r['domain']:<{w}}  {s['ward']:<26} {s['checkdmarc']:<26} "
              f"{'=' if s['ward'] == s['checkdmarc'] else 'x':<3}"
              f"{d['ward']:<44} {d['checkdmarc']:<44} {'=' if d['ward'] == d['checkdmarc'] else 'x'}"
              f"{'   lookups ' + lk if lk else ''}")
    if skipped:
        print(f"not compared (no mail or parked role, so ward judges no SPF or DMARC): "
              f"{', '.join(skipped)}")
    print()
    spf_n = sum(1 for _, fam, _ in disagreements if fam == "spf")
    dmarc_n = len(disagreements) - spf_n
    print(f"SPF: {len(rows) - spf_n} agree, {spf_n} disagree; "
          f"DMARC: {len(rows) - dmarc_n} agree, {dmarc_n} disagree")
    for domain, family, v in disagreements:
        print()
        print(f"{domain} {family.upper()}: ward `{v['ward']}`, checkdmarc `{v['checkdmarc']}`")
        if v["record"]:
            print(f"  record: {v['record']}")
        print(f"  ward: {v['ward_why']}")
        print(f"  checkdmarc: {v['checkdmarc_why'] or '(no error)'}")
    print()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ward")
    ap.add_argument("--checkdmarc-python")
    ap.add_argument("--fixture", action="append",
                    help="a fixture folder, or `demo`; may be repeated (default: the demo "
                         "party and bench/fixtures/checkdmarc)")
    ap.add_argument("--json", help="also write every verdict and reason to this file")
    args = ap.parse_args()

    keep = os.environ.get("BENCH_DIR")
    work = keep or tempfile.mkdtemp(prefix="cdm-side-")
    os.makedirs(work, exist_ok=True)
    try:
        run(args, work)
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)


def run(args, work):
    # Copied out at once: a build directory shared with other worktrees may be rebuilt
    # under us.
    ward = os.path.join(work, "ward")
    shutil.copy2(find_ward(args.ward), ward)
    py = checkdmarc_python(args.checkdmarc_python, work)

    results, versions = [], None
    for fixture in args.fixture or DEFAULT_FIXTURES:
        report, peer, domains = run_fixture(ward, py, work, fixture)
        versions = (report.get("ward_version"), peer["checkdmarc"], peer["dnspython"])
        results.append((fixture, domains, compare(report, peer, domains)))

    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    print(f"{now}; ward {versions[0]} ({ward_rev()}); checkdmarc {versions[1]} "
          f"(dnspython {versions[2]})")
    print()
    total = 0
    for fixture, domains, (rows, disagreements, skipped) in results:
        title = "the demo party" if fixture == "demo" else os.path.relpath(fixture, ROOT)
        show(f"{title}: {len(domains)} domains", rows, disagreements, skipped)
        total += len(disagreements)
    print(f"{total} disagreements in all")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"run": now, "versions": versions,
                       "fixtures": [{"fixture": fx, "rows": r[0]} for fx, _, r in results]},
                      f, indent=1)


def ward_rev():
    try:
        return subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown commit"


if __name__ == "__main__":
    main()
