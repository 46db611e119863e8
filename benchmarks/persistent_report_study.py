"""End-to-end study: what `kneedata report` tells persistent-pain runners from the independent generator.

The check of tests/test_report_persistent.py over more runners. Each runner of
``benchmarks/persistent_generator.py`` (it never imports kneedata) is handed over as
a runner would: one GPX file per run and a pain diary CSV without activity ids. The
command line imports the folder (``kneedata import``) and writes the report
(``kneedata report``); this script then reads what the runner reads:

- ``model_run_response.csv``: per planted term, was it estimable, did its 95 %
  interval cover the planted points, did it exclude 0;
- ``findings.csv``: was the planted term a finding (``finding``), and was any term
  without a planted effect one (a false finding);
- ``report.html``: did the lead (the text before the onset analysis) say each
  finding's statement in a runner's words, and does a runner without any finding
  read "No feature of your runs made a clear difference".

Scenarios and seeds are fixed here, before any run (seeds ``cell * 1000 + rep``):

    .venv/bin/python benchmarks/persistent_report_study.py --reps 12         # ~4 min CPU
    .venv/bin/python benchmarks/persistent_report_study.py --reps 2 --no-docs

Writes ``benchmarks/results/persistent_report_study.csv`` (one row per runner x
planted term) and, unless ``--no-docs``, the table into docs/run-response.md
(section "End to end: the report", between its markers).
"""

from __future__ import annotations

import argparse
import contextlib
import html
import io
import os
import re
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from persistent_generator import Scenario, simulate  # noqa: E402
from persistent_study import DOC, write_docs  # noqa: E402

from kneedata.cli import main as kneedata  # noqa: E402

MARKERS = ("<!-- persistent_report_study:begin -->", "<!-- persistent_report_study:end -->")
SECTION = "## End to end: the report"
#: Where the onset analysis starts in report.html (the lead is the text before it).
ONSET_HEADING = "The short answer: what came before pain started?"
NO_FINDING = "No feature of your runs made a clear difference"


def cells() -> list[Scenario]:
    """A runner with both flares (the test's kind), a spike-only runner, a null runner."""
    return [
        Scenario(years=2, flare_spike=2.0, flare_per_100m=0.3),
        Scenario(years=2, flare_spike=1.5),
        Scenario(years=2),
    ]


def planted(s: Scenario) -> dict[str, float]:
    """The planted terms in the unit of their estimates (descent per 100 m)."""
    out = {}
    if s.flare_spike:
        out["spike_large"] = s.flare_spike
    if s.flare_per_100m:
        out["descent_m"] = s.flare_per_100m
    return out


def report(folder: Path, s: Scenario, seed: int) -> Path:
    """Write the runner's files, ``kneedata import`` and ``kneedata report``; the report folder."""
    runner = simulate(s, seed)
    runner.write_gpx(folder / "watch", point_s=60.0)
    diary = runner.write_diary(folder / "pain_diary.csv")
    store, out = folder / "store", folder / "report"
    with contextlib.redirect_stdout(io.StringIO()):
        if kneedata(["import", str(folder / "watch"), "--store", str(store), "--workers", "1",
                     "--no-progress"]) != 0:
            raise RuntimeError(f"kneedata import failed for seed {seed}")
        if kneedata(["report", "--store", str(store), "--diary", str(diary), "--out",
                     str(out), "--no-progress"]) != 0:
            raise RuntimeError(f"kneedata report failed for seed {seed}")
    return out


def lead_text(out: Path) -> str:
    """The report's text (tags dropped, one line) up to the onset analysis."""
    page = (out / "report.html").read_text(encoding="utf-8")
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())
    return text[:text.find(ONSET_HEADING)] if ONSET_HEADING in text else text


def _cpu() -> float:
    """CPU seconds of this process and its finished children (the import's worker)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def one_runner(args: tuple[int, Scenario, int]) -> list[dict[str, Any]]:
    """One runner through the command line; one row per planted term (or one for a null runner)."""
    cell, s, rep = args
    seed = cell * 1000 + rep
    t0 = _cpu()
    with tempfile.TemporaryDirectory() as tmp:
        out = report(Path(tmp), s, seed)
        table = pd.read_csv(out / "model_run_response.csv").set_index("term")
        findings = pd.read_csv(out / "findings.csv")
        lead = lead_text(out)
    found = findings.loc[findings["finding"].astype(bool)]
    truth = planted(s)
    base = {"cell": cell, "scenario": s.label(), "rep": rep, "seed": seed,
            "lead_run_response": lead.find("Which runs left your knee worse") >= 0,
            "null_findings": int((~found["term"].isin(list(truth))).sum()),
            "says_no_finding": NO_FINDING in lead,
            "all_findings_said": all(st in lead for st in found["statement"]),
            "cpu_s": _cpu() - t0}
    rows = []
    for term, value in (truth or {"(none)": np.nan}).items():
        row = table.loc[term] if term in table.index else None
        ok = row is not None and bool(row["estimable"])
        rows.append({**base, "term": term, "truth": value, "estimable": ok,
                     "estimate": float(row["estimate"]) if ok else np.nan,
                     "covers": ok and row["ci_low"] <= value <= row["ci_high"],
                     "excludes_0": ok and row["ci_low"] > 0,
                     "finding": term in set(found["term"]),
                     "said_in_lead": bool(found.loc[found["term"] == term, "statement"]
                                          .map(lambda st: st in lead).any())})
    return rows


def _pct(part: int, whole: int) -> str:
    return f"{part}/{whole}" if whole else "-"


def markdown(raw: pd.DataFrame, seconds: float) -> str:
    """One row per scenario x planted term: counts over runners (small numbers, so n/N)."""
    lines = [
        f"{raw['seed'].nunique()} runners through `kneedata import` and `kneedata report` "
        f"(GPX files and a diary CSV; seeds `cell * 1000 + rep`), {seconds / 60:.0f} min wall "
        f"clock, {raw.drop_duplicates('seed')['cpu_s'].sum() / 60:.0f} min CPU. Counts are "
        "runners.",
        "",
        "| runner | term | true value | lead is the run-response answer | estimable | "
        "interval covers the truth | interval excludes 0 | a finding, said in the lead | "
        "a null term named |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for (_, term), g in raw.groupby(["cell", "term"], sort=True):
        n = len(g)
        est = g[g["estimable"]]
        truth = "-" if not np.isfinite(g["truth"].iloc[0]) else f"{g['truth'].iloc[0]:+g} points"
        said = int((g["finding"] & g["said_in_lead"]).sum())
        lines.append(
            f"| {g['scenario'].iloc[0]} | `{term}` | {truth} | {_pct(int(g['lead_run_response'].sum()), n)} | "
            f"{_pct(len(est), n)} | {_pct(int(est['covers'].sum()), len(est))} | "
            f"{_pct(int(est['excludes_0'].sum()), n)} | {_pct(said, n)} | "
            f"{_pct(int((g['null_findings'] > 0).sum()), n)} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=12, help="runners per scenario")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-docs", action="store_true")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    grid = cells()
    tasks = [(i, s, rep) for rep in range(args.reps) for i, s in enumerate(grid)]
    t0 = time.perf_counter()
    records: list[dict[str, Any]] = []
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        for done, chunk in enumerate(pool.map(one_runner, tasks), 1):
            records.extend(chunk)
            pd.DataFrame(records).to_csv(args.out / "persistent_report_study.csv", index=False)
            print(f"{done}/{len(tasks)} runners, {time.perf_counter() - t0:.0f} s",
                  file=sys.stderr, flush=True)
    table = markdown(pd.DataFrame(records), time.perf_counter() - t0)
    print(table)
    if not args.no_docs:
        write_docs(table, DOC, markers=MARKERS, section=SECTION)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
