"""Turn ``hubopt bench`` result files into the Markdown table of ``benchmarks/engine.md``.

Reproduce the full run (about an hour on 2 cores) and the report::

    for p in usaphmp umaphmp; do
      hubopt bench --suite cab --problem $p --jobs 2 --out benchmarks/results/cab_$p.json --force
      hubopt bench --suite ap  --problem $p --out benchmarks/results/ap_$p.json --force
      hubopt bench --suite tr  --problem $p --out benchmarks/results/tr_$p.json --force
    done
    for p in usahlp umahlp csahlp; do
      hubopt bench --suite ap --problem $p --out benchmarks/results/ap_$p.json --force
    done
    python benchmarks/engine_report.py benchmarks/results/*.json > benchmarks/engine.md
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

from hubopt.bench import machine_description


def fmt(x: float | None, spec: str = ",.2f") -> str:
    return "-" if x is None else format(x, spec)


def main(paths: list[str]) -> None:
    rows: list[dict] = []
    for p in paths:
        rows.extend(json.loads(Path(p).read_text(encoding="utf-8")))
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    out = [
        "# hubopt bench: CAB, AP and TR",
        "",
        f"Machine: {machine_description()}; code at commit {commit} (see the note on runs below).",
        "Objectives in the published units (AP: /1000 plus FcostX; CAB: normalised flows).",
        "`ref` is the value in `optima.json` where it has one; *match* means equal to its",
        "printed two decimals. Held-out references (CAB 25, AP 50) are blank by design.",
        "",
        "Reproduce: see the docstring of `benchmarks/engine_report.py` (one `hubopt bench` call",
        "per suite and problem, then this script over the result files in `benchmarks/results/`).",
        "",
    ]
    summary: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for r in rows:
        summary[(r["suite"], r["problem"])].append(r)
    out += [
        "## Summary",
        "",
        "| suite | problem | instances | proven optimal | with reference | match | total s |",
        "|---|---|---|---|---|---|---|",
    ]
    for (suite, prob), rs in sorted(summary.items()):
        n_ref = sum(1 for r in rs if r.get("reference") is not None)
        n_match = sum(1 for r in rs if r.get("matches_reference"))
        n_opt = sum(1 for r in rs if r["status"] == "optimal")
        total = sum(r["seconds"] for r in rs)
        out.append(
            f"| {suite} | {prob} | {len(rs)} | {n_opt} | {n_ref} | {n_match} | {total:.1f} |"
        )
    out.append("")
    for (suite, prob), rs in sorted(summary.items()):
        out += [
            f"## {suite.upper()} {prob}",
            "",
            "| n | p | alpha | F/C | objective | bound | gap | status | s | ref | match | hubs |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for r in rs:
            fc = f"{r['fixed_cost'] or ''}{r['capacity'] or ''}" or "-"
            match = {True: "yes", False: "NO", None: ""}[r.get("matches_reference")]
            out.append(
                f"| {r['n']} | {r['p']} | {r['alpha']:g} | {fc} | {fmt(r['objective'])} | "
                f"{fmt(r['bound'])} | {fmt(r['gap'], '.2e')} | {r['status']} | "
                f"{r['seconds']:.2f} | {fmt(r.get('reference'))} | {match} | "
                f"{','.join(map(str, r['hubs']))} |"
            )
        out.append("")
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
