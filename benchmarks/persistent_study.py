"""Simulation study: which runs flare a knee that never fully settles, and does the onset model still lead for episodes?

Runners come from the independent generator ``benchmarks/persistent_generator.py``
(it never imports kneedata): **persistent** runners (pain around 3/10 on most days,
next-morning flares after spike runs and per 100 m of descent, a morning and an
after-run entry most days, gaps, runs skipped on bad days) and **episodic** runners
(pain-free between 8-25 episodes whose onset odds rise after a spike). Each runner
goes through kneedata as a real one would: the diary as a CSV file through
``kneedata.read_pain_diary`` (inside ``kd.derive``), the runs as an activities table
(the layout of a store's ``activities()``), ``kd.derive`` -> ``kd.analysis_frame``.
Then both models are fitted with their defaults:

- the **onset model** ``kd.primary_analysis(frame)`` (odds ratio of an episode
  starting within 7 days of a large spike);
- the **run-response model** ``kd.run_response_model(derived)`` (points of
  next-morning pain per run feature, adjusted for pre-run pain), when kneedata has it.

Per cell (scenario) and model term, over ``--reps`` seeded runners:

- ``estimable``: share of runners where the term was estimable;
- ``coverage``: share of estimable fits whose 95 % interval covers the true value
  (run-response: the planted points, 0 for every other term; onset: the true odds
  ratio of an episodic runner; persistent runners have no onset truth);
- ``power``: share of *all* runners where the term is estimable and its interval
  excludes the null on the side of the planted effect; for a null term, the share
  excluding it on either side (``false_pos``);
- ``any_null_named``: share of runners where the run-response table calls some
  term with no planted effect significant (``p_adjusted`` < 0.05).

Run from the repository root::

    .venv/bin/python benchmarks/persistent_study.py --reps 200           # full study
    .venv/bin/python benchmarks/persistent_study.py --reps 10 --no-docs  # a quick look

Writes ``benchmarks/results/persistent_study.csv`` (summary) and
``persistent_study_raw.csv.gz`` (one row per runner x model x term) and, unless
``--no-docs``, the table into the section "Simulation study" of
``docs/run-response.md`` (between its markers; the rest of the page is untouched).
Seeds are ``cell * 100000 + rep``.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from persistent_generator import Scenario, simulate  # noqa: E402

import kneedata as kd  # noqa: E402

DOC = HERE.parent / "docs" / "run-response.md"
BEGIN, END = "<!-- persistent_study:begin -->", "<!-- persistent_study:end -->"


def cells() -> list[Scenario]:
    """The grid: persistent runners (null, spike flares, descent flares, lengths), episodic runners."""
    return [
        Scenario(years=2),
        Scenario(years=2, flare_spike=1.0),
        Scenario(years=3, flare_spike=1.0),
        Scenario(years=2, flare_spike=1.5),
        Scenario(years=2, flare_per_100m=0.25),
        Scenario(mode="episodic", years=3, odds_ratio=1),
        Scenario(mode="episodic", years=3, odds_ratio=3),
        Scenario(mode="episodic", years=3, odds_ratio=6),
    ]


def planted(term: str, s: Scenario, per: str = "") -> float:
    """The true value of a run-response term in the unit of its estimate (``per``).

    The spike's truth is ``flare_spike`` points; the descent's is
    ``flare_per_100m`` scaled to the metres its estimate is per (the table's ``per``,
    e.g. "100 m of descent"). Every other term has no planted effect (0): with the
    spike and the descent in the same model, distance, trail and cadence add
    nothing in the generator.
    """
    name = term.lower()
    if "spike" in name:
        return s.flare_spike
    if "descent" in name:
        metres = re.search(r"(\d+(?:\.\d+)?)\s*m\b", per)
        if metres is None:
            raise ValueError(f"descent term {term!r}: no metres in its unit {per!r}")
        return s.flare_per_100m * float(metres.group(1)) / 100
    return 0.0


def _rows(result: Any, model: str, value_col: str, lo: str, hi: str,
          truth: Any) -> list[dict[str, Any]]:
    out = []
    for _, row in result.table.iterrows():
        term = str(row["term"])
        per = str(row["per"]) if "per" in row else ""
        rec: dict[str, Any] = {
            "model": model, "term": term, "estimate": float(row[value_col]),
            "ci_low": float(row[lo]), "ci_high": float(row[hi]),
            "estimable": bool(row["estimable"]), "status": str(row["status"]),
            "p_adjusted": float(row["p_adjusted"]) if "p_adjusted" in row else np.nan,
            "truth": truth(term, per),
        }
        out.append(rec)
    return out


def one_runner(args: tuple[int, Scenario, int]) -> list[dict[str, Any]]:
    """Simulate one runner, read it through kneedata, fit both models."""
    index, scenario, rep = args
    seed = index * 100_000 + rep
    runner = simulate(scenario, seed)
    base = {"cell": index, "rep": rep, **runner.facts()}
    out: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        derived = kd.derive(runner.activities, runner.write_diary(Path(tmp) / "pain_diary.csv"))
        base["episodes_seen"] = float(len(derived.episodes))
        frame = kd.analysis_frame(derived)
        t0 = time.perf_counter()
        onset_truth = scenario.odds_ratio if scenario.mode == "episodic" else np.nan
        try:
            res = kd.primary_analysis(frame)
            out += _rows(res, "onset", "ratio", "ci_low", "ci_high",
                         lambda term, per: onset_truth)
        except (ValueError, RuntimeError, np.linalg.LinAlgError) as err:
            out.append({"model": "onset", "term": "spike_large_7d", "estimate": np.nan,
                        "ci_low": np.nan, "ci_high": np.nan, "estimable": False,
                        "status": getattr(err, "status", type(err).__name__),
                        "p_adjusted": np.nan, "truth": onset_truth})
        out[-1]["seconds"] = time.perf_counter() - t0
        fit = getattr(kd, "run_response_model", None)
        if fit is not None:
            t0 = time.perf_counter()
            try:
                res = fit(derived)
                truth = ((lambda term, per: planted(term, scenario, per))
                         if scenario.mode == "persistent"
                         else (lambda term, per: np.nan if "spike" in term.lower() else 0.0))
                out += _rows(res, "run_response", "estimate", "ci_low", "ci_high", truth)
            except (ValueError, RuntimeError, np.linalg.LinAlgError) as err:
                out.append({"model": "run_response", "term": "(none)", "estimate": np.nan,
                            "ci_low": np.nan, "ci_high": np.nan, "estimable": False,
                            "status": getattr(err, "status", type(err).__name__),
                            "p_adjusted": np.nan, "truth": np.nan})
            out[-1]["seconds"] = time.perf_counter() - t0
    return [{**base, **rec} for rec in out]


def _null_of(model: str) -> float:
    return 1.0 if model == "onset" else 0.0


def summarise(raw: pd.DataFrame, grid: list[Scenario]) -> pd.DataFrame:
    """Estimable, coverage, power / false positives per cell x model x term."""
    rows = []
    runners = raw.groupby("cell")["rep"].nunique()
    for (cell, model, term), g in raw.groupby(["cell", "model", "term"], sort=False):
        s = grid[int(cell)]
        n = int(runners[cell])
        null = _null_of(model)
        est = g[g["estimable"]]
        truth = float(g["truth"].iloc[0]) if g["truth"].notna().all() else np.nan
        excl_hi, excl_lo = est["ci_low"] > null, est["ci_high"] < null
        if np.isfinite(truth) and truth != null:
            hits = (excl_hi if truth > null else excl_lo).sum()
        else:
            hits = (excl_hi | excl_lo).sum()
        covers = (est["ci_low"] <= truth) & (truth <= est["ci_high"])
        rows.append({
            "cell": int(cell), "scenario": s.label(), "model": model, "term": term,
            "runners": n, "truth": truth,
            "estimable": len(est) / n,
            "median_estimate": float(np.median(est["estimate"])) if len(est) else np.nan,
            "coverage": float(covers.mean()) if len(est) and np.isfinite(truth) else np.nan,
            "power": hits / n,
            "runs": g["n_runs"].mean(), "spikes": g["n_spikes"].mean(),
            "episodes_seen": g["episodes_seen"].mean(),
        })
    summary = pd.DataFrame(rows)
    rr = raw[raw["model"] == "run_response"]
    if len(rr):
        named = rr.assign(null_sig=(rr["truth"] == 0) & (rr["p_adjusted"] < 0.05))
        share = named.groupby(["cell", "rep"])["null_sig"].any().groupby("cell").mean()
        summary["any_null_named"] = summary["cell"].map(share).where(
            summary["model"] == "run_response")
    return summary


def _pct(x: float) -> str:
    return "-" if not np.isfinite(x) else f"{100 * x:.0f} %"


def markdown(summary: pd.DataFrame, seconds: float = float("nan")) -> str:
    """The docs table: one row per cell x model x term that carries a planted effect or the spike."""
    keep = summary[summary["term"].str.contains("spike|descent", case=False)
                   | (summary["model"] == "onset")]
    took = "" if not np.isfinite(seconds) else f", {seconds / 60:.0f} min wall clock"
    lines = [
        f"{int(summary['runners'].min())}-{int(summary['runners'].max())} simulated runners "
        f"per scenario (seeds `cell * 100000 + rep`, rep from 0), "
        f"{len(summary['cell'].unique())} scenarios{took}. "
        "Coverage is over the fits that were estimable; power and false positives are "
        "shares of all runners (a fit that is not estimable detects nothing).",
        "",
        "| runner | model | term | runners | true value | estimable | median estimate | "
        "coverage | power (false pos. when 0) | any null term named |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for _, r in keep.iterrows():
        truth = "-" if not np.isfinite(r["truth"]) else (
            f"OR {r['truth']:g}" if r["model"] == "onset" else f"{r['truth']:+g} points")
        med = "-" if not np.isfinite(r["median_estimate"]) else (
            f"OR {r['median_estimate']:.2g}" if r["model"] == "onset"
            else f"{r['median_estimate']:+.2f}")
        named = _pct(r.get("any_null_named", np.nan)) if r["model"] == "run_response" else ""
        lines.append(f"| {r['scenario']} | {r['model'].replace('_', '-')} | `{r['term']}` | "
                     f"{int(r['runners'])} | "
                     f"{truth} | {_pct(r['estimable'])} | {med} | {_pct(r['coverage'])} | "
                     f"{_pct(r['power'])} | {named} |")
    return "\n".join(lines)


def write_docs(table: str, doc: Path = DOC, *, markers: tuple[str, str] = (BEGIN, END),
               section: str = "## Simulation study") -> None:
    """Put ``table`` between ``markers`` in ``section`` of ``doc`` (the rest untouched)."""
    begin, end = markers
    text = doc.read_text(encoding="utf-8") if doc.exists() else "# Run response\n"
    block = f"{begin}\n{table}\n{end}"
    if begin in text and end in text:
        text = re.sub(re.escape(begin) + r".*?" + re.escape(end), lambda _: block, text,
                      flags=re.S)
    elif section in text:
        text = text.replace(section, f"{section}\n\n{block}\n", 1)
    else:
        text = text.rstrip("\n") + f"\n\n{section}\n\n{block}\n"
    doc.write_text(text, encoding="utf-8")


def _save(records: list[dict[str, Any]], grid: list[Scenario], out: Path
          ) -> pd.DataFrame:
    """Write the raw rows and the summary so far; the summary."""
    raw = pd.DataFrame(records)
    summary = summarise(raw, grid)
    raw.to_csv(out / "persistent_study_raw.csv.gz", index=False)
    summary.to_csv(out / "persistent_study.csv", index=False)
    return summary


def run(tasks: list[tuple[int, Scenario, int]], grid: list[Scenario], out: Path, *,
        workers: int, save_every: int) -> tuple[pd.DataFrame, float]:
    """Fit every task's runner; save the results every ``save_every`` runners (a
    time-boxed run that is stopped keeps what it did). The summary and the seconds."""
    t0 = time.perf_counter()
    records: list[dict[str, Any]] = []
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for done, chunk in enumerate(pool.map(one_runner, tasks, chunksize=2), 1):
            records.extend(chunk)
            if done % save_every == 0:
                _save(records, grid, out)
                print(f"{done}/{len(tasks)} runners, {time.perf_counter() - t0:.0f} s",
                      file=sys.stderr, flush=True)
    return _save(records, grid, out), time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=200, help="runners per scenario")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--cells", type=str, default=None,
                        help="comma-separated cell indices (default: all)")
    parser.add_argument("--no-docs", action="store_true", help="do not touch docs/run-response.md")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    parser.add_argument("--save-every", type=int, default=40,
                        help="write the results so far every N runners")
    parser.add_argument("--from-raw", type=Path, default=None,
                        help="no simulation: the table from a saved persistent_study_raw.csv.gz")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    grid = cells()
    if args.from_raw is not None:
        summary, seconds = summarise(pd.read_csv(args.from_raw), grid), float("nan")
    else:
        chosen = (range(len(grid)) if args.cells is None
                  else [int(c) for c in args.cells.split(",")])
        # rep-major: a run stopped early has about as many runners in every cell
        tasks = [(i, grid[i], rep) for rep in range(args.reps) for i in chosen]
        summary, seconds = run(tasks, grid, args.out, workers=args.workers,
                               save_every=args.save_every)
        print(f"\n{len(tasks)} runners in {seconds:.0f} s", file=sys.stderr)
    table = markdown(summary, seconds)
    print(table)
    if not args.no_docs:
        write_docs(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
