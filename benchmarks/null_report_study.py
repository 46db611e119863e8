"""The whole report's false findings, and the lead's power, before and after the findings rule.

Each re-draw is one runner from an independent generator (``single_runner_sim.py``
for runs, spikes, pain onsets and the diary, plus strength sessions and cadence
drawn here; neither imports kneedata). Under the null (``--odds-ratio 1``) nothing
the report looks at changes the chance of pain: a spike, a strength session and
cadence are all unrelated to onsets. With a planted spike effect (OR 3 or 6 for the
7 days after a spike) only the spike matters.

Each runner is analysed twice, on the same frame:

- **before**: the report as it was (lead: ``primary_analysis``, an interval that
  excludes 1 stated as "the interval does not include 1"; case-crossover: ML, log-F
  when separated; daily model: unpenalised with HAC errors; each section's term
  stated as "more/less common before pain" when its interval excludes 1);
- **after**: :func:`kneedata.report_findings` (a finding only in the lead: estimable,
  BH ``p_adjusted`` < 0.05, interval excluding 1; the other sections are checks).

Measured per scenario over ``--reps`` runners: the share of runners told at least one
association anywhere (``any``) and per section, and the share in which the lead
states the spike term as harmful (power when OR > 1). Binomial standard errors are
printed with each share; before and after are paired (the same runners).

``--whole REPS...`` instead measures the whole report as a runner gets it: runners from
``persistent_generator.py`` (another independent generator: activities table and diary CSV),
a routines log and cadence drawn here, read through ``kd.derive`` and
:func:`kneedata.report_findings` of the :class:`kneedata.Derived` (every section, the
run-response rows included); scenarios :data:`WHOLE_SCENARIOS` (no effect with episodes,
planted spike OR 3, no effect with pain most days). About 6-10 s CPU per runner; rows are
appended as they finish, so ``--part K/N`` processes can share one ``--out`` and a stopped run
resumes. Its figures are in docs/findings.md.

Run from the repository root (about 1-2 s per runner and scenario on one core)::

    .venv/bin/python benchmarks/null_report_study.py --reps 40            # quick look
    .venv/bin/python benchmarks/null_report_study.py --reps 400 --workers 2
    .venv/bin/python benchmarks/null_report_study.py --whole 400 100 100 --part 0/2 &
    .venv/bin/python benchmarks/null_report_study.py --whole 400 100 100 --part 1/2

Results: ``benchmarks/results/null_report_study.csv`` (one row per runner and
scenario) and the summary printed as Markdown (copied into docs/findings.md).
Seeds: ``scenario_index * 100000 + rep``, so every number is reproducible.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from single_runner_sim import Scenario, simulate

import kneedata as kd

RESULTS = Path(__file__).resolve().parent / "results" / "null_report_study.csv"

#: Planted odds ratios of the spike (1 = the null runner).
ODDS_RATIOS = (1.0, 3.0, 6.0)


# --- the runner: an independent generator ------------------------------------------


def runner(odds_ratio: float, seed: int, effect_days: tuple[int, int] = (1, 7)) -> pd.DataFrame:
    """One runner's days in the analysis-frame layout, with strength and cadence.

    Runs, spikes, onsets and the diary come from ``single_runner_sim`` (2-4 years,
    8-25 planned episodes, daily or patchy diary, spikes in 5-15 % of weeks). Drawn
    here, independent of pain: ``n_strength`` (about 1.5 sessions a week, in spells:
    weeks with a routine and weeks without), logged from a start day in the first
    half of the record only (a routines log begun later: unknown before, as in
    real data); ``cadence_moving_spm`` on run days, a slow drift (AR(1), sd about
    3 spm over months) plus 2 spm per-run noise, 4 spm lower in the generator's
    8-week low-cadence blocks (which under this scenario change nothing).
    """
    rng = np.random.default_rng([seed, 23])
    s = Scenario(odds_ratio=odds_ratio, years=float(rng.uniform(2, 4)),
                 target_episodes=float(rng.uniform(8, 25)),
                 diary="patchy" if rng.random() < 0.5 else "daily",
                 big_run_week_prob=float(rng.uniform(0.05, 0.15)), effect_days=effect_days)
    frame, _ = simulate(s, seed)
    n = len(frame)
    weeks = n // 7 + 1
    active_week = np.repeat(rng.random(weeks) < 0.6, 7)[:n]  # spells of strength work
    sessions = (rng.random(n) < 2.5 / 7) & active_week
    start = int(rng.integers(0, n // 2))
    strength = sessions.astype(float)
    strength[:start] = np.nan
    drift = np.zeros(n)
    phi, sd = 0.995, 3.0
    e = rng.normal(0.0, sd * np.sqrt(1 - phi ** 2), n)
    for t in range(1, n):
        drift[t] = phi * drift[t - 1] + e[t]
    cadence = 168 + drift - 4 * frame["low_cadence_block"].to_numpy(dtype=float) + rng.normal(0, 2, n)
    ran = frame["distance_km"].to_numpy(dtype=float) > 0
    frame["n_strength"] = strength
    frame["cadence_moving_spm"] = np.where(ran, cadence, np.nan)
    return frame.drop(columns=["low_cadence_block"])


# --- the whole report: a runner's files through kd.derive -----------------------------


#: Scenarios of the whole-report panel: (label, generator mode, spike odds ratio).
WHOLE_SCENARIOS = (("null, episodes", "episodic", 1.0), ("spike OR 3, episodes", "episodic", 3.0),
                   ("null, mostly painful", "persistent", 1.0))


def whole_runner(mode: str, odds_ratio: float, seed: int, folder: Path) -> Any:
    """One runner's own files, through :func:`kneedata.derive` as the report reads them.

    The runs and the pain diary (morning, during and after-run entries, linked to runs
    by time) come from ``persistent_generator.py`` (an independent generator: never
    imports kneedata), ``mode="episodic"`` (2-4 years, 8-25 planned episodes) or
    ``"persistent"`` (pain that never settles, 1-3 years; no flare); at most 3.9 years
    (the generator's calendar starts on 2 January 2023: no diary day in the future). Drawn here,
    independent of pain: a routines log of strength sessions (spells of weeks with
    about 2.5 a week, begun on a day in the first half of the record, so strength is
    unknown before it) and each run's cadence as the gait table (the generator's
    average cadence; no effect on pain).
    """
    from persistent_generator import Scenario as WholeScenario
    from persistent_generator import simulate as simulate_whole

    rng = np.random.default_rng([seed, 2023])
    # the generator starts on 2 Jan 2023 and a diary may not run into the future
    years = min(float(rng.uniform(2, 4) if mode == "episodic" else rng.uniform(1, 3)), 3.9)
    s = WholeScenario(mode=mode, years=years, odds_ratio=odds_ratio,
                      target_episodes=float(rng.uniform(8, 25)))
    sim = simulate_whole(s, seed)
    days = pd.DatetimeIndex(pd.to_datetime(sim.days["date"]))
    n = len(days)
    active = np.repeat(rng.random(n // 7 + 1) < 0.6, 7)[:n]
    sessions = (rng.random(n) < 2.5 / 7) & active
    start = int(rng.integers(0, n // 2))
    sessions[:start] = False
    first = days[start]
    routines = pd.DataFrame({"date": days[sessions].strftime("%Y-%m-%d"), "kind": "strength",
                             "minutes": "30", "exercises": ""})
    # the log's first line marks where it begins (a day of stretching, not strength)
    routines = pd.concat([pd.DataFrame({"date": [first.strftime("%Y-%m-%d")],
                                        "kind": ["stretching"], "minutes": ["10"],
                                        "exercises": [""]}), routines], ignore_index=True)
    routines.to_csv(folder / "routines.csv", index=False)
    acts = sim.activities
    gait = pd.DataFrame({"activity_id": acts["activity_id"].astype(str),
                         "cadence_moving_spm": acts["avg_cadence_spm"].astype(float)})
    return kd.derive({"activities": acts, "gait": gait}, sim.write_diary(folder / "diary.csv"),
                     routines=folder / "routines.csv")


def whole(args: tuple[int, str, str, float, int]) -> dict[str, Any]:
    """One runner of the whole-report panel: before and after on the same files."""
    import tempfile

    from kneedata.findings import ReportFits, findings_table, fit_lead

    index, label, mode, odds_ratio, rep = args
    seed = 500000 + index * 100000 + rep
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        derived = whole_runner(mode, odds_ratio, seed, Path(tmp))
        frame = kd.analysis_frame(derived)
        if odds_ratio == 1:  # the null panel: every section of the whole report
            b = dict.fromkeys(("lead", "case_crossover", "daily_model", "spike", "any"), np.nan)
            rows = kd.report_findings(derived)
        else:  # the power panel: the lead's spike row, the old rule and the findings rule
            b = before(frame, lead_only=True)
            rows = findings_table(ReportFits(primary=fit_lead(frame)[0]))
    a = after_rows(rows)
    row: dict[str, Any] = {"scenario": label, "odds_ratio": odds_ratio, "seed": seed,
                           "n_episodes": int(frame["onset"].sum()),
                           "lead": "run_response" if bool((rows["model"].eq("run_response_model")
                                                           & rows["section"].eq("lead")).any())
                           else "onset"}
    row.update({f"before_{k}": v for k, v in b.items()})
    row.update({f"after_{k}": v for k, v in a.items()})
    return row


def odds_ratio_of(label: str) -> float:
    """The planted spike odds ratio of a whole-report scenario."""
    return next(odds for name, _, odds in WHOLE_SCENARIOS if name == label)


def whole_summary(results: pd.DataFrame) -> pd.DataFrame:
    """One line per whole-report scenario: shares (%, ± binomial SE), before and after."""
    lines = []
    for label, part in results.groupby("scenario", sort=False):
        line: dict[str, Any] = {"runners": label, "n": len(part),
                                "median episodes": int(part["n_episodes"].median())}
        line["after: any finding"] = _share(part["after_any"].astype(bool))
        line["after: onset lead"] = _share(part["after_lead"].astype(bool))
        line["after: run-response lead"] = _share(part["after_run_response"].astype(bool))
        if odds_ratio_of(str(label)) > 1:
            line["lead finds the spike: old rule"] = _share(part["before_spike"].astype(bool))
            line["findings rule"] = _share(part["after_spike"].astype(bool))
            diff = part["after_spike"].astype(float) - part["before_spike"].astype(float)
            line["change (points, paired)"] = (
                f"{100 * diff.mean():+.1f} ± {100 * diff.std(ddof=1) / np.sqrt(len(diff)):.1f}")
        lines.append(line)
    return pd.DataFrame(lines)


# --- the two rules ------------------------------------------------------------------


def _excludes_one(table: pd.DataFrame) -> pd.Series:
    est = table["estimable"].astype(bool)
    return est & ((table["ci_low"] > 1) | (table["ci_high"] < 1))


def before(frame: pd.DataFrame, *, lead_only: bool = False) -> dict[str, Any]:
    """What the report said before: any interval excluding 1, in any section (or the lead)."""
    from kneedata.findings import STRATUM_DAYS, _usable
    from kneedata.notebook import CASE_CROSSOVER_EXPOSURES, DAILY_EXPOSURES

    out: dict[str, Any] = {"lead": False, "case_crossover": False, "daily_model": False,
                           "spike": False}
    failures = (ValueError, RuntimeError, np.linalg.LinAlgError)
    try:
        lead = kd.primary_analysis(frame).table
        told = _excludes_one(lead)
        out["lead"] = bool(told.any())
        out["spike"] = bool((told & lead["exposure"].eq("spike_large")
                             & (lead["ratio"] > 1)).any())
    except failures:
        pass
    if lead_only:
        return {**out, "any": out["lead"]}
    try:
        names = _usable(frame, CASE_CROSSOVER_EXPOSURES)
        cc = kd.case_crossover(frame, names, hazard_days=7, stratum_days=STRATUM_DAYS)
        if cc.separated:
            cc = kd.case_crossover(frame, names, hazard_days=7, stratum_days=STRATUM_DAYS,
                                   penalty="logF")
        out["case_crossover"] = bool(_excludes_one(cc.table).any())
    except failures:
        pass
    try:
        dm = kd.daily_model(frame, _usable(frame, DAILY_EXPOSURES), lags=(7,))
        out["daily_model"] = bool(_excludes_one(dm.table).any())
    except failures:
        pass
    out["any"] = out["lead"] or out["case_crossover"] or out["daily_model"]
    return out


def after(frame: pd.DataFrame) -> dict[str, Any]:
    """What the report says now: the ``finding`` rows of :func:`kneedata.report_findings`."""
    return after_rows(kd.report_findings(frame))


def after_rows(rows: pd.DataFrame) -> dict[str, Any]:
    """Which sections of :func:`kneedata.report_findings` rows state an association."""
    found = rows["finding"].astype(bool)
    by = {m: bool(found[rows["model"].eq(m)].any())
          for m in ("primary_analysis", "case_crossover", "daily_model")}
    spike = rows.loc[rows["model"].eq("primary_analysis") & rows["exposure"].eq("spike_large")]
    checks = rows.loc[~rows["model"].eq("primary_analysis")]
    disagree = checks["agrees_with_lead"].astype("boolean").eq(False).fillna(False)
    return {"lead": by["primary_analysis"], "case_crossover": by["case_crossover"],
            "run_response": bool(found[rows["model"].eq("run_response_model")].any()),
            "daily_model": by["daily_model"], "any": bool(found.any()),
            "spike": bool((spike["finding"] & spike["direction"].eq("harmful")).any()),
            "spike_episodes": int(spike["n_episodes"].iloc[0]) if len(spike) else 0,
            "checks_disagree": bool(disagree.any())}


def one(args: tuple[int, float, int]) -> dict[str, Any]:
    index, odds_ratio, rep = args
    seed = index * 100000 + rep
    frame = runner(odds_ratio, seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        b, a = before(frame), after(frame)
    row: dict[str, Any] = {"odds_ratio": odds_ratio, "seed": seed,
                           "n_episodes": int(frame["onset"].sum())}
    row.update({f"before_{k}": v for k, v in b.items()})
    row.update({f"after_{k}": v for k, v in a.items()})
    return row


def mistimed(args: tuple[int, int, int]) -> dict[str, Any]:
    """The lead's spike row when the true effect is on days ``first..last`` after a spike."""
    first, last, rep = args
    seed = 900000 + rep  # the same runners for every window
    frame = runner(6.0, seed, effect_days=(first, last))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rows = kd.report_findings(frame)
    spike = rows.loc[rows["model"].eq("primary_analysis") & rows["exposure"].eq("spike_large")]
    est = float(spike["estimate"].iloc[0]) if len(spike) else np.nan
    return {"true_days": f"{first}-{last}", "seed": seed, "estimate": est,
            "finding": bool(len(spike) and spike["finding"].iloc[0])}


def mistimed_summary(rows: pd.DataFrame) -> pd.DataFrame:
    """Median estimate and share found, per true window (planted OR 6)."""
    return pd.DataFrame([{
        "true effect on days": days, "runners": len(part),
        "median estimate (planted 6)": f"{part['estimate'].median():.2g}",
        "lead finds it": _share(part["finding"].astype(bool))}
        for days, part in rows.groupby("true_days", sort=False)])


def _share(x: pd.Series) -> str:
    p, n = float(x.mean()), len(x)
    return f"{100 * p:.1f} ± {100 * np.sqrt(p * (1 - p) / n):.1f}"


def summary(results: pd.DataFrame) -> pd.DataFrame:
    """One line per scenario: shares (%, ± binomial SE) before and after."""
    lines = []
    for odds, part in results.groupby("odds_ratio"):
        line: dict[str, Any] = {"spike OR": f"{odds:g}", "runners": len(part),
                                "median episodes": int(part["n_episodes"].median())}
        for when in ("before", "after"):
            for what in ("any", "lead", "case_crossover", "daily_model", "spike"):
                line[f"{when} {what}"] = _share(part[f"{when}_{what}"].astype(bool))
        diff = part["after_spike"].astype(float) - part["before_spike"].astype(float)
        line["spike power change (points)"] = (
            f"{100 * diff.mean():+.1f} ± {100 * diff.std(ddof=1) / np.sqrt(len(diff)):.1f}")
        lines.append(line)
    return pd.DataFrame(lines)


def run_whole(reps: list[int], out: Path, *, part: tuple[int, int] = (0, 1)) -> None:
    """The whole-report panel, one runner at a time, each row appended to ``out``
    (runners already in ``out`` are skipped; ``part=(k, n)``: every n-th from the k-th)."""
    jobs = [(i, label, mode, odds, rep)
            for i, ((label, mode, odds), n) in enumerate(zip(WHOLE_SCENARIOS, reps, strict=False))
            for rep in range(n)][part[0]::part[1]]
    done = read_whole(out)["seed"].astype(int).tolist() if out.exists() else []
    out.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    for k, job in enumerate(jobs, 1):
        if 500000 + job[0] * 100000 + job[4] in done:
            continue
        row = pd.DataFrame([whole(job)])
        row.to_csv(out, mode="a", header=not out.exists(), index=False)
        print(f"[{time.perf_counter() - t0:6.0f} s] {k}/{len(jobs)} {job[1]} rep {job[4]}: "
              f"any finding {bool(row['after_any'].iloc[0])}", flush=True)
    print(markdown(whole_summary(read_whole(out))))


def read_whole(path: Path) -> pd.DataFrame:
    """The whole-report rows (parts written by several processes; a repeated header dropped)."""
    import csv

    with open(path, newline="", encoding="utf-8") as handle:
        lines = [line for line in csv.reader(handle) if line and line[2] != "seed"]
    full = ["scenario", "odds_ratio", "seed", "n_episodes", "lead",
            *(f"before_{k}" for k in ("lead", "case_crossover", "daily_model", "spike", "any")),
            *(f"after_{k}" for k in ("lead", "case_crossover", "run_response", "daily_model",
                                     "any", "spike", "spike_episodes", "checks_disagree"))]
    short = [*full[:5], "before_any", "before_spike", *full[10:]]  # null rows of a first version
    rows = pd.DataFrame([dict(zip(full if len(line) == len(full) else short, line, strict=True))
                         for line in lines], columns=full)
    rows = rows.drop_duplicates("seed")
    for column in rows.columns:
        if column.startswith(("before_", "after_")) and column != "after_spike_episodes":
            rows[column] = rows[column].map({"True": True, "False": False})
    rows["odds_ratio"] = rows["odds_ratio"].astype(float)
    rows["n_episodes"] = rows["n_episodes"].astype(int)
    return rows


def markdown(table: pd.DataFrame) -> str:
    """A Markdown table (no extra dependency)."""
    cols = [str(c) for c in table.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in table.itertuples(index=False)]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=400)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--odds-ratios", type=float, nargs="+", default=list(ODDS_RATIOS))
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--mistimed", type=int, default=0, metavar="REPS",
                        help="instead: the lead's spike estimate for a planted OR 6 on days "
                             "1-7 vs 2-4 after a spike (the analysis window stays 7 days)")
    parser.add_argument("--part", default="0/1", metavar="K/N",
                        help="with --whole: only every N-th runner from the K-th (run N "
                             "processes with K = 0..N-1 and the same --out to share the work)")
    parser.add_argument("--whole", type=int, nargs="+", metavar="REPS",
                        help="instead: the whole-report panel (runner's files through "
                             "kd.derive), REPS runners for each of WHOLE_SCENARIOS (one "
                             "number per scenario, 0 skips it); rows are appended to --out "
                             "as they finish")
    args = parser.parse_args()
    if args.whole:
        k, n = (int(x) for x in args.part.split("/"))
        run_whole(args.whole, args.out.with_name("null_report_whole.csv")
                  if args.out == RESULTS else args.out, part=(k, n))
        return
    if args.mistimed:
        jobs3 = [(a, b, rep) for a, b in ((1, 7), (2, 4), (4, 7)) for rep in range(args.mistimed)]
        with ProcessPoolExecutor(max(1, args.workers)) as pool:
            found = pd.DataFrame(list(pool.map(mistimed, jobs3, chunksize=4)))
        found.to_csv(args.out.with_name("null_report_mistimed.csv"), index=False)
        print(markdown(mistimed_summary(found)))
        return
    jobs = [(i, odds, rep) for i, odds in enumerate(args.odds_ratios) for rep in range(args.reps)]
    t0 = time.perf_counter()
    if args.workers > 1:
        with ProcessPoolExecutor(args.workers) as pool:
            rows = list(pool.map(one, jobs, chunksize=4))
    else:
        rows = [one(job) for job in jobs]
    results = pd.DataFrame(rows)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    results.to_csv(args.out, index=False)
    print(markdown(summary(results)))
    print(f"\n{len(rows)} runner analyses in {time.perf_counter() - t0:.0f} s "
          f"({args.workers} worker(s)); rows in {args.out}")


if __name__ == "__main__":
    main()
