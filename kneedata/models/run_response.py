"""Which runs flare the knee: next-morning pain regressed on each run's own properties.

For a runner whose knee aches most days, episode onsets are too rare to model,
but every run has an answer the next morning. :func:`run_response_model` fits,
over the runner's **run days only**,

.. math:: y_d = a + b\\,\\text{pre}_d + \\sum_k \\beta_k x_{k,d} + u_d,

with :math:`y_d` the waking score the morning after the run of day :math:`d`,
:math:`\\text{pre}_d` the pain just before the run (a ``before`` entry, else that
morning's score), :math:`x_{k,d}` the run's own properties
(:func:`kneedata.run_features`) and :math:`u_d` AR(1) errors over calendar days,
gaps between runs included exactly (:func:`kneedata.experiment.ar1_regression`,
REML). :math:`\\beta_k` is a difference in points of pain on 0-10: how much worse
the next morning was after runs with that property than after the runner's other
runs that started from the same pain.

Two traps the design avoids (tests/test_run_response_model.py):

- **Runs are chosen on good days.** Comparing run days with rest days makes
  running look protective (the runner rests when it hurts). Only run days are
  compared here, with each other.
- **Regression to the mean.** A run started on an unusually good morning is
  followed, on average, by a worse one whatever the run was; a plain change
  score (next morning minus before) is biased by it. The pre-run score is a
  covariate instead.

The binary verdict of :func:`kneedata.run_responses` is shown as counts and never
modelled (a logistic model of it gave 13-29 % false positives in the simulation of
``docs/run-response.md``). See that page for the method and its simulation.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from kneedata.models.results import ModelResult
from kneedata.responses import MAX_PAIN, SETTLE_POINTS, run_features, run_responses
from kneedata.text import count, format_number, format_p

__all__ = [
    "DEFAULT_EXPOSURES",
    "EXPOSURES",
    "MIN_EXPOSED",
    "MIN_RUNS",
    "RUN_RESPONSE_COLUMNS",
    "RUN_RESPONSE_STATUSES",
    "RunResponseResult",
    "detectable_flare",
    "run_response_model",
]


@dataclass(frozen=True)
class Exposure:
    """One property of a run the model can use."""

    kind: str          # "flag" or "number"
    scale: float       # the estimate is per this many units of the feature
    per: str           # the unit of the estimate, in words
    words: str         # what a run with it is, for a person
    day_rule: str      # how two runs on one day combine: any, sum, max, mean
    cap: float | None = None  # values above are taken as this (in the feature's units)


#: What a flag's estimate is per: such a run against the runner's other runs.
FLAG_PER = "such run, vs your other runs"

#: The run properties :func:`run_response_model` knows (columns of
#: :func:`kneedata.run_features`), with the unit each estimate is per.
EXPOSURES: dict[str, Exposure] = {
    "spike_large": Exposure("flag", 1.0, FLAG_PER, "a run more than twice your longest of "
                            "the previous 30 days", "any"),
    # capped at +100 %: beyond it the spike term speaks (a spike is more than twice the
    # longest recent run); uncapped, the two share the spikes and the spike's interval
    # was ~1.6 times as wide in the simulation of docs/run-response.md
    "distance_vs_usual_pct": Exposure("number", 50.0, "50 % above your usual distance "
                                      "(up to twice your usual)",
                                      "a run longer than your usual", "max", cap=100.0),
    "descent_m": Exposure("number", 100.0, "100 m of descent", "a run with more descent",
                          "sum"),
    "cadence_deviation_pct": Exposure("number", 5.0, "5 % more steps/min than your usual "
                                      "at that speed", "a run at a higher cadence than "
                                      "your usual at that speed", "mean"),
    "new_shoe": Exposure("flag", 1.0, FLAG_PER, "a run in the first 100 km of a pair", "any"),
    "high_km_shoe": Exposure("flag", 1.0, FLAG_PER, "a run in a shoe with 800 km or more",
                             "any"),
    "trail": Exposure("flag", 1.0, FLAG_PER, "a trail run", "any"),
    "treadmill": Exposure("flag", 1.0, FLAG_PER, "a treadmill run", "any"),
}
#: The exposures used when none are given: every one of :data:`EXPOSURES` but the
#: recovery family (below), which :mod:`kneedata.recovery` fits one term at a time.
DEFAULT_EXPOSURES: tuple[str, ...] = tuple(EXPOSURES)
#: The recovery family of the run (the night before it, that morning's ratings;
#: :func:`kneedata.metrics.recovery.recovery_daily`, docs/recovery.md).
EXPOSURES.update({
    "short_sleep": Exposure("flag", 1.0, "run after a night under 7 h, vs your other runs",
                            "a run after a night under 7 h asleep", "any"),
    "sleep_vs_usual_h": Exposure("number", 1.0, "hour more sleep than your usual the night "
                                 "before", "a run after more sleep than usual", "mean"),
    "hrv_rmssd_low": Exposure("flag", 1.0, FLAG_PER, "a run after a night with HRV (RMSSD) "
                              "below your own band", "any"),
    "hrv_sdnn_low": Exposure("flag", 1.0, FLAG_PER, "a run on a day with HRV (SDNN) below "
                             "your own band", "any"),
    "resting_hr_high": Exposure("flag", 1.0, FLAG_PER, "a run on a day with resting HR above "
                                "your own band", "any"),
    "sleep_quality_vs_usual_pts": Exposure("number", 1.0, "point better sleep quality than "
                                           "your usual", "a run after better sleep", "mean"),
    "fatigue_vs_usual_pts": Exposure("number", 1.0, "point more tired than your usual",
                                     "a run on a more tired day", "mean"),
    "soreness_vs_usual_pts": Exposure("number", 1.0, "point more sore than your usual",
                                      "a run on a more sore day", "mean"),
    "stress_vs_usual_pts": Exposure("number", 1.0, "point more stressed than your usual",
                                    "a run on a more stressed day", "mean"),
})

#: Scored run days (before and next-morning score known) a fit needs.
MIN_RUNS = 20
#: A flag needs at least this many scored runs with it and without it.
MIN_EXPOSED = 5
#: A term known on fewer than this share of the scored runs is left out.
MIN_KNOWN_SHARE = 2 / 3

#: Columns of :attr:`RunResponseResult.table`, in order.
RUN_RESPONSE_COLUMNS = ("term", "estimate", "ci_low", "ci_high", "p_value", "p_adjusted",
                        "n_runs", "estimable", "status", "per", "std_error", "n_exposed",
                        "why")
#: Values of the table's ``status`` column.
RUN_RESPONSE_STATUSES = ("ok", "no_variation", "too_few_runs", "collinear")

#: Printed with every run-response result.
RUN_CAVEAT = (
    "Associations among your own runs, not causes and not medical advice: a difference "
    "above 0 means your knee was worse the next morning after such runs than after your "
    "other runs that started from the same pain; things that change together with the "
    "run (weather, sleep, what else you did) can cause it too."
)


@dataclass
class RunResponseResult(ModelResult):
    """A :class:`kneedata.ModelResult` of :func:`run_response_model` (differences in points)."""

    @property
    def n_runs(self) -> int:
        """Scored run days the model used."""
        return int(self.settings.get("n_runs", 0))

    def summary_text(self) -> str:
        """The table in human numbers, the caveats, the limits."""
        lines = [f"run_response_model: {self.n_runs} scored run days, differences in "
                 "next-morning pain (points, 0-10)"]
        for row in self.table.itertuples(index=False):
            if not row.estimable:
                lines.append(f"  {row.term:<24} not estimable: {row.status} ({row.why})")
                continue
            lines.append(f"  {row.term:<24} {row.estimate:+.2f} ({row.ci_low:+.2f} to "
                         f"{row.ci_high:+.2f}) per {row.per}, p {format_p(row.p_value)}")
        lines.extend(f"  ! {w}" for w in self.warnings)
        lines.append(RUN_CAVEAT)
        return "\n".join(lines)


def _check_exposures(exposures: Iterable[str] | str | None) -> list[str]:
    if exposures is None:
        return list(DEFAULT_EXPOSURES)
    names = [exposures] if isinstance(exposures, str) else list(exposures)
    unknown = [n for n in names if n not in EXPOSURES]
    if unknown:
        raise ValueError(f"run_response_model: unknown exposure(s) {unknown}; known: "
                         f"{', '.join(EXPOSURES)}.")
    if len(set(names)) < len(names):
        raise ValueError(f"run_response_model: an exposure is named twice in {names}.")
    return names


def response_days(responses: pd.DataFrame, features: pd.DataFrame,
                  exposures: Iterable[str]) -> pd.DataFrame:
    """One row per run day with the next-morning and pre-run scores and the features.

    Runs of one local day share their next morning, so they become one row: flags
    any, descent summed, distance against usual the largest, cadence the mean;
    ``pain_before`` is that of the day's first run. ``n_runs_day`` says how many
    runs a row holds. Days without both scores are left out. Numbers above an
    exposure's ``cap`` are taken as the cap.
    """
    names = list(exposures)
    merged = responses[["activity_id", "date", "pain_before", "pain_next_morning"]].merge(
        features[["activity_id", *names]], on="activity_id", how="left", validate="1:1")
    merged = merged[merged["pain_before"].notna() & merged["pain_next_morning"].notna()]
    data = {n: (merged[n].astype("Float64").astype("float64") if EXPOSURES[n].kind == "flag"
                else pd.to_numeric(merged[n], errors="coerce").clip(upper=EXPOSURES[n].cap))
            for n in names}
    frame = pd.DataFrame({"date": merged["date"], "activity_id": merged["activity_id"],
                          "pain_before": merged["pain_before"],
                          "pain_next_morning": merged["pain_next_morning"], **data})
    rules: dict[str, Any] = {"activity_id": lambda s: ";".join(s),
                             "pain_before": "first", "pain_next_morning": "first"}
    rules.update({n: EXPOSURES[n].day_rule.replace("any", "max") for n in names})
    grouped = frame.groupby("date", sort=True)
    out = grouped.agg(rules)
    out["n_runs_day"] = grouped.size()
    for n in names:  # a day-sum is unknown when any of its runs is; min_count keeps NaN
        if EXPOSURES[n].day_rule == "sum":
            out[n] = grouped[n].sum(min_count=1).where(grouped[n].count() == grouped.size())
    return out.reset_index()


def _term_check(x: np.ndarray, kind: str, n_scored: int, min_exposed: int
                ) -> tuple[str, str, int]:
    """(status, why, n_exposed) of one term before the fit."""
    known = ~np.isnan(x)
    n_known = int(known.sum())
    exposed = int(np.sum(x[known] > 0)) if kind == "flag" else n_known
    if n_known < MIN_KNOWN_SHARE * n_scored:
        return ("too_few_runs", f"known on {n_known} of {n_scored} scored runs", exposed)
    values = x[known]
    if np.ptp(values) == 0 if len(values) else True:
        return "no_variation", "the same on every scored run", exposed
    if kind == "flag" and min(exposed, n_known - exposed) < min_exposed:
        return ("too_few_runs", f"{exposed} scored runs with it and {n_known - exposed} "
                f"without (needs {min_exposed} of each)", exposed)
    return "ok", "", exposed


def _row(term: str, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(RUN_RESPONSE_COLUMNS, math.nan)
    row.update(term=term, per=EXPOSURES[term].per, estimable=False, why="")
    row.update(values)
    return row


def _table(rows: list[dict[str, Any]]) -> pd.DataFrame:
    from statsmodels.stats.multitest import multipletests

    table = pd.DataFrame(rows, columns=list(RUN_RESPONSE_COLUMNS))
    ok = table["estimable"].to_numpy(dtype=bool)
    if ok.any():
        table.loc[ok, "p_adjusted"] = multipletests(table.loc[ok, "p_value"].to_numpy(),
                                                    method="fdr_bh")[1]
    table["n_runs"] = table["n_runs"].fillna(0).astype("int64")
    table["n_exposed"] = table["n_exposed"].astype("Int64")
    table["estimable"] = table["estimable"].astype(bool)
    return table


def _rank_keep(X: np.ndarray, tol: float = 1e-8) -> list[int]:
    """Columns kept in order so that the design has full column rank."""
    keep: list[int] = []
    for j in range(X.shape[1]):
        trial = X[:, [*keep, j]]
        if np.linalg.matrix_rank(trial, tol=tol * max(1.0, float(np.abs(trial).max()))) \
                == len(keep) + 1:
            keep.append(j)
    return keep


@dataclass
class _Design:
    days: pd.DataFrame           # rows used, with the scores and features
    terms: list[str]             # terms in the fit, in order
    rows: dict[str, dict[str, Any]]  # term -> table row for terms not in the fit
    n_scored: int


def _design(derived: Any, names: list[str], *, responses: pd.DataFrame | None,
            features: pd.DataFrame | None, max_pain: float, settle_points: float,
            min_exposed: int) -> _Design:
    if responses is None:
        responses = run_responses(derived, max_pain=max_pain, settle_points=settle_points)
    if features is None:
        features = run_features(derived)
    days = response_days(responses, features, names)
    n_scored = len(days)
    rows: dict[str, dict[str, Any]] = {}
    terms: list[str] = []
    for name in names:
        status, why, exposed = _term_check(days[name].to_numpy(dtype=float),
                                           EXPOSURES[name].kind, n_scored, min_exposed)
        if status == "ok":
            terms.append(name)
        else:
            rows[name] = _row(name, status=status, why=why, n_exposed=exposed,
                              n_runs=n_scored)
    used = days.dropna(subset=terms)
    # The fit keeps only the runs on which every term is known, so a flag with enough
    # runs among all scored runs can fall short on the rows actually fitted: check
    # again there, leave out the term that falls shortest and look again (leaving a
    # term out only adds rows, so the others cannot fall short because of it).
    while (short := _fitted_shortfall(used, days, terms, min_exposed)) is not None:
        name, status, why, exposed = short
        terms.remove(name)
        rows[name] = _row(name, status=status, why=why, n_exposed=exposed, n_runs=len(used))
        used = days.dropna(subset=terms)
    return _Design(used, terms, rows, n_scored)


def _fitted_shortfall(used: pd.DataFrame, days: pd.DataFrame, terms: list[str],
                      min_exposed: int) -> tuple[str, str, str, int] | None:
    """(term, status, why, n_exposed) of the term worst off on the rows fitted, or None.

    A term falls short when it is the same on every fitted row, or (a flag) has
    fewer than ``min_exposed`` fitted rows with it or without it.
    """
    worst: tuple[int, str, str, str, int] | None = None
    n_used, n_scored = len(used), len(days)
    for name in terms:
        x = used[name].to_numpy(dtype=float)
        flag = EXPOSURES[name].kind == "flag"
        exposed = int(np.sum(x > 0)) if flag else n_used
        if n_used and np.ptp(x) == 0:
            side, status = 0, "no_variation"
            why = (f"the same on all {n_used} scored runs where the other properties "
                   "are known too")
        elif flag and min(exposed, n_used - exposed) < min_exposed:
            side, status = min(exposed, n_used - exposed), "too_few_runs"
            total = int(np.sum(days[name].to_numpy(dtype=float) > 0))
            why = (f"{exposed} scored runs with it and {n_used - exposed} without among the "
                   f"{n_used} where the other properties are known too (needs {min_exposed} "
                   f"of each; {total} with it among all {n_scored} scored runs)")
        else:
            continue
        if worst is None or side < worst[0]:
            worst = (side, name, status, why, exposed)
    return None if worst is None else worst[1:]


#: A pre-run score level (rounded to a whole point) with at least this many scored
#: runs gets its own mean in ``pre_pain="levels"``.
MIN_LEVEL_RUNS = 5
#: ``pre_pain`` adjustments of :func:`run_response_model`.
PRE_PAIN = ("levels", "linear")


def _matrix(days: pd.DataFrame, terms: list[str], pre_pain: str = "linear"
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """(day numbers, next-morning scores, design, index of the first exposure column).

    The adjustment columns come first: intercept, pre-run score and, for
    ``pre_pain="levels"``, one indicator per whole-point pre-run level with at least
    :data:`MIN_LEVEL_RUNS` runs (the most common level is the reference).
    """
    y = days["pain_next_morning"].to_numpy(dtype=float)
    pre = days["pain_before"].to_numpy(dtype=float)
    adjust = [np.ones(len(days)), pre]
    if pre_pain == "levels":
        level = np.round(pre)
        values, counts = np.unique(level, return_counts=True)
        common = values[np.argmax(counts)] if len(values) else math.nan
        adjust += [(level == v).astype(float) for v, c in zip(values, counts, strict=True)
                   if c >= MIN_LEVEL_RUNS and v != common]
    X = np.column_stack([*adjust,
                         *[days[t].to_numpy(dtype=float) / EXPOSURES[t].scale for t in terms]])
    day = ((days["date"].to_numpy().astype("datetime64[D]")
            - np.datetime64("1970-01-01", "D")).astype(int))
    return day, y, X, len(adjust)


def run_response_model(derived: Any, exposures: Iterable[str] | str | None = None, *,
                       alpha: float = 0.05, min_runs: int = MIN_RUNS,
                       min_exposed: int = MIN_EXPOSED, max_pain: float = MAX_PAIN,
                       settle_points: float = SETTLE_POINTS,
                       responses: pd.DataFrame | None = None,
                       features: pd.DataFrame | None = None,
                       pre_pain: str = "linear") -> RunResponseResult:
    """Which of the runner's runs were followed by a worse next morning.

    Parameters
    ----------
    derived
        :func:`kneedata.derive` of one runner (runs and a diary with waking scores;
        before-run or morning scores for the pre-run pain).
    exposures
        Properties of each run (columns of :func:`kneedata.run_features`, see
        :data:`EXPOSURES`); default all of them: large spike, distance against the
        usual, descent, speed-matched cadence deviation, new shoe, high-km shoe,
        trail, treadmill.
    alpha
        1 - confidence of the intervals.
    min_runs
        Scored run days (pre-run and next-morning score both known) needed for a
        fit; with fewer nothing is estimated.
    min_exposed
        Scored runs a flag needs both with and without it.
    max_pain, settle_points
        Thresholds of :func:`kneedata.run_responses` (they do not change the model,
        which uses the scores themselves).
    responses, features
        :func:`kneedata.run_responses` and :func:`kneedata.run_features` of
        ``derived`` when already computed.
    pre_pain
        How the pre-run score is adjusted for: ``"linear"`` (default) a straight
        line; ``"levels"`` a line plus its own mean for every whole-point level with
        at least :data:`MIN_LEVEL_RUNS` scored runs (runs compared with runs that
        started from exactly the same score, robust to the floor of the scale). On
        60 simulated runners both kept each term's interval at 93-100 % coverage;
        the levels cost power (a 1-point flare after spikes found in 47 % against
        55 % of 40 runners), hence the default. See ``docs/run-response.md``.

    Returns
    -------
    RunResponseResult
        A :class:`kneedata.ModelResult` with ``ratio_kind == "difference"`` and
        ``model == "run_response"``. ``table`` has one row per exposure asked for,
        columns :data:`RUN_RESPONSE_COLUMNS`: ``term``, ``estimate`` (points of
        next-morning pain per ``per``), ``ci_low``, ``ci_high``, ``p_value``
        (t test), ``p_adjusted`` (Benjamini-Hochberg over the estimable terms),
        ``n_runs`` (scored run days in the fit), ``estimable``, ``status`` (one of
        :data:`RUN_RESPONSE_STATUSES`), ``per``, ``std_error``, ``n_exposed``
        (flags: scored runs with it), ``why`` (why a term is not estimable).
        A term that cannot be estimated has NaN numbers, never a number as an
        answer. ``settings`` holds ``n_runs``, ``ar1_phi``, ``sigma``, the
        pre-run slope ``pain_before_slope`` and ``alpha``; ``design`` the rows used.

    Notes
    -----
    Only run days are compared, with each other (never with rest days: the runner
    picks good days to run). The pre-run score is a covariate (a plain change score
    is biased by regression to the mean). Errors are AR(1) over calendar days with
    gaps (:func:`kneedata.experiment.ar1_regression`). Two runs on one day are one
    row (:func:`response_days`). Terms known on under two thirds of the scored runs,
    without variation, or (flags) with fewer than ``min_exposed`` runs on either
    side are left out of the fit with a status; so are terms that are a linear
    combination of others (``collinear``).
    """
    from kneedata.experiment import ar1_regression

    if not 0 < alpha < 1:
        raise ValueError(f"alpha={alpha!r} must be between 0 and 1 (default 0.05).")
    names = _check_exposures(exposures)
    if pre_pain not in PRE_PAIN:
        raise ValueError(f"pre_pain={pre_pain!r} must be one of {', '.join(PRE_PAIN)}.")
    design = _design(derived, names, responses=responses, features=features,
                     max_pain=max_pain, settle_points=settle_points, min_exposed=min_exposed)
    used, terms, rows = design.days, list(design.terms), dict(design.rows)
    notes: list[str] = []
    n_used = len(used)
    settings: dict[str, Any] = {"n_runs": n_used, "n_scored_runs": design.n_scored,
                                "alpha": alpha, "exposures": names, "n_episodes": 0}
    fit = None
    if n_used < max(min_runs, len(terms) + 4):
        why = (f"{n_used} scored run days (a run with a pre-run and a next-morning score); "
               f"the model needs {max(min_runs, len(terms) + 4)}")
        for t in terms:
            rows[t] = _row(t, status="too_few_runs", why=why, n_runs=n_used)
        terms = []
        notes.append(f"Not enough scored runs yet: {why}. Write the morning score every "
                     "day and a score just before each run.")
    else:
        day, y, X, first = _matrix(used, terms, pre_pain)
        keep = _rank_keep(X)
        for j in range(first, X.shape[1]):
            if j not in keep:
                t = terms[j - first]
                rows[t] = _row(t, status="collinear", n_runs=n_used,
                               why="a combination of the other properties on these runs")
        if 1 not in keep:
            notes.append("The pre-run score never varied; it cannot adjust anything.")
        terms_fit = [terms[j - first] for j in keep if j >= first]
        fit = ar1_regression(day, y, X[:, keep])
        q = stats.t.ppf(1 - alpha / 2, fit.df_resid)
        for pos, j in enumerate(keep):
            if j < first:
                continue
            t = terms[j - first]
            est, se = float(fit.params[pos]), float(fit.std_errors[pos])
            x = used[t].to_numpy(dtype=float)
            rows[t] = _row(t, estimate=est, ci_low=est - q * se, ci_high=est + q * se,
                           p_value=fit.p_value(pos), std_error=se, n_runs=n_used,
                           estimable=True, status="ok",
                           n_exposed=int(np.sum(x > 0)) if EXPOSURES[t].kind == "flag"
                           else n_used)
        settings.update(ar1_phi=fit.phi, sigma=fit.sigma, terms_fitted=terms_fit,
                        pre_pain=pre_pain, n_pre_levels=first - 2,
                        pain_before_slope=(float(fit.params[keep.index(1)])
                                           if 1 in keep else math.nan))
        combined = int((used["n_runs_day"] > 1).sum())
        if combined:
            notes.append(f"{count(combined, 'day')} had more than one run: each such day is one "
                         "row, its runs combined, since one morning follows them all.")
    table = _table([rows[n] for n in names])
    dropped = {str(t): str(s) for t, s, e in zip(table["term"], table["status"],
                                                 table["estimable"], strict=True) if not e}
    return RunResponseResult(model="run_response", results=None if fit is None else fit.results,
                             table=table, warnings=notes, design=used, settings=settings,
                             ratio_kind="difference", dropped=dropped)


def _flag_se(days: pd.DataFrame, fit_terms: list[str], phi: float, sigma: float,
             share: float, rng: np.random.Generator, n_draws: int = 20,
             pre_pain: str = "linear") -> float:
    """GLS standard error of a flag set on ``share`` of these run days (mean of draws)."""
    from kneedata.experiment import ar1_whitened

    day, _, X, _ = _matrix(days, fit_terms, pre_pain)
    n = len(day)
    k = max(1, round(share * n))
    ses = []
    for _ in range(n_draws):
        x = np.zeros(n)
        x[rng.choice(n, size=k, replace=False)] = 1.0
        Xw = ar1_whitened(day, np.column_stack([X, x]), phi)
        cov = np.linalg.pinv(Xw.T @ Xw)
        ses.append(sigma * math.sqrt(max(cov[-1, -1], 0.0)))
    return float(np.mean(ses))


def detectable_flare(derived: Any, exposure: str = "spike_large", *, power: float = 0.8,
                     alpha: float = 0.05, target: float = 1.0,
                     exposed_share: float | None = None,
                     responses: pd.DataFrame | None = None,
                     features: pd.DataFrame | None = None, seed: int = 0) -> pd.Series:
    """The smallest next-morning flare this runner's own runs and diary would detect.

    Parameters
    ----------
    derived
        :func:`kneedata.derive` of one runner.
    exposure
        A flag of :data:`EXPOSURES` (default ``spike_large``): the flare is the
        difference in next-morning pain after runs with it [points].
    power
        Chance of finding a flare of that size (two-sided test at ``alpha``).
    alpha
        Significance level of the test.
    target
        The flare size the runner would like to be able to detect [points]
        (default 1: about the smallest clinically important change, Piva 2009).
    exposed_share
        Share of scored runs with the flag, when the runner has none or too few to
        fit (default: the runner's own share, else 5 %).
    responses, features
        :func:`kneedata.run_responses`, :func:`kneedata.run_features` when
        already computed.
    seed
        Seeds the placements of a hypothetical flag (see Notes).

    Returns
    -------
    pandas.Series
        ``exposure``; ``detectable_points`` (the flare detectable with ``power``;
        NaN when the diary cannot tell); ``std_error`` of the estimate [points];
        ``n_runs`` (scored run days), ``n_exposed``; ``runs_per_week`` (scored run
        days per week of the diary so far); ``weeks_more`` (further weeks of diary at
        that rate until ``target`` is detectable; 0 when it already is, NaN when the
        diary cannot tell); ``basis`` (``fit``: the runner's own estimate's standard
        error; ``hypothetical``: a flag placed at random on ``exposed_share`` of
        the scored runs, when the runner's flag cannot be fitted; ``none``);
        ``text`` (one sentence for the runner).

    Notes
    -----
    Analytic from the GLS standard error of :func:`run_response_model`:
    detectable = (t_{1-alpha/2} + t_{power}) x SE with the residual degrees of
    freedom. The standard error shrinks as 1/sqrt(scored runs), so reaching
    ``target`` needs n x (detectable / target)^2 scored runs; the weeks follow
    from the runner's own rate of scored runs. tests/test_run_response_model.py
    checks the power against a simulation of the fitted model.
    """
    if exposure not in EXPOSURES or EXPOSURES[exposure].kind != "flag":
        flags = [n for n, e in EXPOSURES.items() if e.kind == "flag"]
        raise ValueError(f"detectable_flare: exposure {exposure!r} is not a flag; one of "
                         f"{', '.join(flags)}.")
    if not 0 < power < 1 or not 0 < alpha < 1:
        raise ValueError(f"power={power!r} and alpha={alpha!r} must be between 0 and 1.")
    if target <= 0:
        raise ValueError(f"target={target!r} must be a flare size above 0 points.")
    if responses is None:
        responses = run_responses(derived)
    if features is None:
        features = run_features(derived)
    model = run_response_model(derived, None, responses=responses, features=features)
    row: dict[Any, Any] = model.table.set_index("term").loc[exposure].to_dict()
    out: dict[str, Any] = {"exposure": exposure, "detectable_points": math.nan,
                           "std_error": math.nan, "n_runs": model.n_runs,
                           "n_exposed": row["n_exposed"], "runs_per_week": math.nan,
                           "weeks_more": math.nan, "basis": "none"}
    days = model.design
    if model.results is None or not len(days):
        out["text"] = ("Not enough scored runs yet to say what size of flare the diary "
                       "could detect: write the morning score every day.")
        return pd.Series(out)
    df = int(model.results.df_resid)
    if row["estimable"]:
        se, out["basis"] = float(row["std_error"]), "fit"
    else:
        fitted = list(model.settings.get("terms_fitted", []))
        known = days[exposure].dropna() if exposure in days else pd.Series(dtype=float)
        share = exposed_share if exposed_share is not None else (
            float((known > 0).mean()) if len(known) and (known > 0).any() else 0.05)
        if not 0 < share < 1:
            raise ValueError(f"exposed_share={share!r} must be between 0 and 1.")
        se = _flag_se(days, fitted, float(model.settings["ar1_phi"]),
                      float(model.settings["sigma"]), share, np.random.default_rng(seed),
                      pre_pain=str(model.settings["pre_pain"]))
        out["basis"] = "hypothetical"
        df -= 1
    mult = float(stats.t.ppf(1 - alpha / 2, df) + stats.t.ppf(power, df))
    detectable = mult * se
    span_weeks = max((days["date"].max() - days["date"].min()).days + 1, 7) / 7
    rate = len(days) / span_weeks
    need = len(days) * (detectable / target) ** 2
    weeks = 0.0 if detectable <= target else math.ceil((need - len(days)) / rate)
    out.update(detectable_points=detectable, std_error=se, runs_per_week=rate,
               weeks_more=float(weeks))
    what = EXPOSURES[exposure].words
    hypo = " (if you had such runs)" if out["basis"] == "hypothetical" else ""
    goal = f"{target:g} point{'s' if target != 1 else ''}"
    later = (f"that is already {goal} or less." if weeks == 0 else
             f"about {int(weeks)} more week{'s' if weeks != 1 else ''} of diary at your pace would "
             f"bring it to {goal}.")
    out["text"] = (f"With {len(days)} scored runs, a flare of about "
                   f"{format_number(detectable, 2)} points the morning after {what}{hypo} "
                   f"would be found {power:.0%} of the time; ".replace("%", " %") + later)
    return pd.Series(out)
