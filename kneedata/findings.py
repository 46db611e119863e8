"""The report's statements about exposures, as one table: :func:`report_findings`.

Every sentence the report (and notebook 04) says about an exposure comes from one
row of :func:`report_findings`; ``finding`` is True only where the words state an
association. The rule that keeps the whole report's false findings bounded
(docs/findings.md, measured with ``benchmarks/null_report_study.py``):

- Only the lead (the main analysis, :func:`kneedata.primary_analysis`) makes
  findings: a term is a finding when it is ``estimable``, its Benjamini-Hochberg
  adjusted p-value is below :data:`FINDING_ALPHA` and its interval excludes 1.
- The sensitivity analyses (case-crossover, daily model with cadence) are fitted
  with the same log-F penalty and model-based errors, and are stated as agreeing
  or not with the lead, never as new findings: a term outside the lead is shown
  with its numbers but no verdict.
- Missing exposure data never remove episodes from other exposures
  (:func:`fit_by_coverage`): a term whose data are missing on some days is fitted
  on the days where it is known, the other terms keep every episode, and each row
  says which episodes it used and why others were left out (``episodes_note``).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from kneedata.settings import (
    CASE_CROSSOVER_EXPOSURES,
    DAILY_EXPOSURES,
    HAZARD_DAYS,
    PRIMARY_EXPOSURES,
    REPORT_MODELS,
    STRATUM_DAYS,
)
from kneedata.text import count, format_p, format_ratio

__all__ = [
    "DIRECTIONS",
    "FINDING_ALPHA",
    "FINDING_COLUMNS",
    "STRATUM_DAYS",
    "ReportFits",
    "fit_by_coverage",
    "fit_report_models",
    "is_finding",
    "report_findings",
]

#: A lead term is a finding when its adjusted p-value is below this (and it is estimable).
FINDING_ALPHA = 0.05

#: Values of the ``direction`` column.
DIRECTIONS = ("harmful", "protective", "unclear", "not_estimable")

#: Columns of :func:`report_findings`, in order.
FINDING_COLUMNS = (
    "section", "model", "term", "exposure", "direction", "estimate", "ci_low", "ci_high",
    "p_adjusted", "finding", "agrees_with_lead", "n_episodes", "episodes_note", "statement",
)

#: Section names of :func:`report_findings` (as the report titles them).
SECTIONS = {name: model.section for name, model in REPORT_MODELS.items()}
#: The recovery family's rows (kneedata.recovery): in the lead's correction.
SECTIONS["recovery_onsets"] = "lead: recovery"

#: Plain words for the report's exposures (per unit of the window summary).
PLAIN_TERMS = {
    "spike_large": "a run more than twice as long as the longest of the 30 days before it",
    "n_strength": "each strength session",
    "cadence_moving_spm": "each 1 step/min higher average cadence",
    "cadence_deviation_pct": "each 1 % higher cadence than usual at the same speed",
    "weekly_change_gt30": "a week with over 30 % more distance than the week before",
    # the recovery family (kneedata.recovery; per unit of the 7-day mean)
    "short_sleep": "a week of nights under 7 h asleep (vs none)",
    "sleep_vs_usual_h": "each hour more sleep a night than your usual",
    "hrv_rmssd_low": "a week of nights with HRV (RMSSD) below your own band (vs none)",
    "hrv_sdnn_low": "a week of days with HRV (SDNN) below your own band (vs none)",
    "resting_hr_high": "a week of days with resting HR above your own band (vs none)",
    "sleep_quality_vs_usual_pts": "each point better sleep quality than your usual",
    "fatigue_vs_usual_pts": "each point more tired than your usual",
    "soreness_vs_usual_pts": "each point more sore than your usual",
    "stress_vs_usual_pts": "each point more stressed than your usual",
}

#: Why a term is not estimable, in plain words (keys: ``ModelResult.table['status']``).
STATUS_WORDS = {
    "separated": "every informative episode points the same way, so the data only say "
                 "the ratio is large (or small), not how large",
    "too_few_episodes": "not enough episodes yet",
    "not_converged": "the fit did not settle on an answer",
    "no_variation": "it never differed between the compared days",
}


def plain(exposure: str, *, capital: bool = False) -> str:
    """The exposure in the report's words."""
    what = PLAIN_TERMS.get(exposure, exposure.replace("_", " "))
    return what[0].upper() + what[1:] if capital else what


# --- missing exposure data: each term on the days where it is known -----------------


def _window_known(frame: pd.DataFrame, exposure: str, window_days: int) -> np.ndarray:
    """Per frame row: is the exposure's window of the ``window_days`` days before known?"""
    from kneedata.frame import window_aggregate, window_kind

    known = np.zeros(len(frame), dtype=bool)
    groups = (frame.groupby(frame["runner_id"].astype(str), sort=False).indices
              if "runner_id" in frame.columns else {"": np.arange(len(frame))})
    for idx in groups.values():
        part = frame.iloc[idx]
        order = np.argsort(pd.to_datetime(part["date"]).to_numpy(), kind="stable")
        values = pd.to_numeric(part[exposure].iloc[order], errors="coerce").to_numpy(
            dtype=float, na_value=np.nan)
        kind = window_kind(exposure, part[exposure].dtype)
        end_lag, length = (window_days, 1) if kind == "last" else (1, window_days)
        agg = window_aggregate(values, kind, end_lag=end_lag, length=length)
        known[idx[order]] = np.isfinite(agg)
    return known


def _missing_reason(frame: pd.DataFrame, exposure: str) -> str:
    """Why an exposure is unknown on some days, in plain words."""
    values = pd.to_numeric(frame[exposure], errors="coerce")
    dates = pd.to_datetime(frame["date"])[values.notna()]
    span = (f"{dates.min():%d %b %Y} to {dates.max():%d %b %Y}" if len(dates) else "no day")
    if exposure.startswith("n_") or exposure.endswith("_min"):
        return f"the routines log covers only {span}"
    if "cadence" in exposure or exposure.startswith(("step_", "gait_")):
        return "it needs a run with cadence in the days before"
    return f"its data are known only on some days ({span})"


def fit_by_coverage(fit: Callable[..., Any], frame: pd.DataFrame, exposures: Sequence[str],
                    *, known_days: int = HAZARD_DAYS, **kwargs: Any) -> Any:
    """Fit a model so that missing data of one exposure never cost the others episodes.

    The exposures whose windows are known on every at-risk day that any of them is
    known (the "complete" ones) are fitted together on all those days; each other
    exposure is fitted with the complete ones on the days where its own window is
    known, and only its row is taken from that fit.

    Parameters
    ----------
    fit
        A model function of :mod:`kneedata.models` (``fit(frame, exposures, **kwargs)``).
    frame
        Analysis frame.
    exposures
        Frame columns.
    known_days
        The model's window [d] (to see where each exposure's window is known).
    **kwargs
        Passed to ``fit``.

    Returns
    -------
    ModelResult
        The complete exposures' fit with one table row per exposure; its table gains
        ``episodes_note`` (which episodes the row used, and why any were left out) and
        ``p_adjusted`` is recomputed over all rows; ``settings["episodes_notes"]``
        holds the notes by term.

    Raises
    ------
    ModelFitError
        As ``fit`` does when no exposure can be fitted at all.
    """
    from statsmodels.stats.multitest import multipletests

    from kneedata.models import ModelFitError

    names = list(exposures)
    at_risk = frame["at_risk"].to_numpy(dtype=bool)
    onset = frame["onset"].to_numpy(dtype=bool) & at_risk
    known = {e: _window_known(frame, e, known_days) & at_risk for e in names}
    union = np.logical_or.reduce(list(known.values()))
    complete = [e for e in names if (known[e] | ~union).all()]
    if not complete:  # nothing known everywhere: the best-known exposure leads
        complete = [max(names, key=lambda e: (int((known[e] & onset).sum()), int(known[e].sum())))]
    partial = [e for e in names if e not in complete]
    base = fit(frame, complete, **kwargs)
    n_all = int((onset & union).sum())
    tables = [base.table.assign(episodes_note=_all_note(base.table, n_all))]
    notes: dict[str, str] = {}
    for exposure in partial:
        n_known = int((known[exposure] & onset).sum())
        why = _missing_reason(frame, exposure)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                part = fit(frame, [*complete, exposure], **kwargs)
            row = part.table.loc[part.table["exposure"] == exposure]
        except ModelFitError as err:
            row = base.table.iloc[:0].reindex(range(1)).assign(
                term=f"{exposure}_{known_days}d", exposure=exposure, window="",
                ratio_kind=base.ratio_kind, n_episodes=n_known, n_informative=0,
                estimable=False, status=err.status)
        note = _partial_note(int(row["n_episodes"].iloc[0]), n_known, n_all, why)
        tables.append(row.assign(episodes_note=note))
        notes[str(row["term"].iloc[0])] = note
    table = pd.concat(tables, ignore_index=True)
    p = table["p_value"].to_numpy(dtype=float)
    adjusted = np.full(len(p), np.nan)
    ok = np.isfinite(p)
    if ok.any():
        adjusted[ok] = multipletests(p[ok], method="fdr_bh")[1]
    table["p_adjusted"] = adjusted
    table["estimable"] = table["estimable"].astype(bool)
    order = {e: k for k, e in enumerate(names)}
    table = table.sort_values("exposure", key=lambda s: s.map(order), kind="stable")
    settings = {**base.settings, "episodes_notes": {
        **dict(zip(base.table["term"], tables[0]["episodes_note"], strict=True)), **notes}}
    return replace(base, table=table.reset_index(drop=True), settings=settings)


def _partial_note(n_used: int, n_known: int, n_all: int, why: str) -> str:
    """Which episodes a term known on some days used, and why the others were left out."""
    if n_known >= n_all and n_used >= n_all:
        return f"used all {count(n_all, 'episode')} (fitted on the days it is known: {why})"
    out = n_all - min(n_known, n_all)
    note = f"used {n_used} of {count(n_all, 'episode')}: {why}"
    if out:
        note += f"; the other {out} {'is' if out == 1 else 'are'} left out of this answer only"
    if n_used < min(n_known, n_all):
        note += (f"; {n_known - n_used} more had no comparable days with it known "
                 "(too soon after the record or the log began)")
    return note


def _all_note(table: pd.DataFrame, n_all: int) -> list[str]:
    return [f"used {n} of {count(n_all, 'episode')}: the others started too soon after the "
            "record began or on days the diary does not cover" if int(n) < n_all
            else f"used all {count(n_all, 'episode')}" for n in table["n_episodes"]]


# --- fitting what the report shows --------------------------------------------------


@dataclass
class ReportFits:
    """The models behind the report's statements (``None`` where not fitted)."""

    primary: Any = None
    case_crossover: Any = None
    daily_model: Any = None
    errors: list[str] = field(default_factory=list)
    primary_status: str = ""
    #: Rows (columns :data:`FINDING_COLUMNS`) that another section adds, e.g. a
    #: run-response model: appended as they are, so that section owns its rule.
    run_response: pd.DataFrame | None = None
    #: The recovery family in the main analysis (:func:`kneedata.recovery.with_recovery`:
    #: its p-values and the lead's adjusted together); stated under the lead's rule.
    recovery: Any = None


def _usable(frame: pd.DataFrame, exposures: Iterable[str]) -> list[str]:
    """Exposures present in the frame and non-zero on at least one day."""
    usable = []
    for name in exposures:
        if name in frame.columns:
            values = pd.to_numeric(frame[name], errors="coerce").to_numpy(
                dtype=float, na_value=np.nan)
            if np.nansum(np.abs(values)) > 0:
                usable.append(name)
    return usable


def fit_sensitivity(
    frame: pd.DataFrame,
    *,
    case_crossover_exposures: Iterable[str] = CASE_CROSSOVER_EXPOSURES,
    daily_exposures: Iterable[str] = DAILY_EXPOSURES,
    hazard_days: int | None = None,
) -> tuple[Any, Any, Any, list[str]]:
    """Fit the case-crossover and the daily model the report shows as sensitivity analyses.

    The case-crossover is fitted by maximum likelihood; when that reports
    separation it is refitted with the log-F(2,2) penalty (shown); options from
    :data:`kneedata.settings.REPORT_MODELS`. The daily model
    is fitted like the lead: log-F(2,2) penalised with model-based errors (the
    unpenalised fit with HAC errors gave 14.5 % false positives for cadence alone,
    docs/findings.md). Each uses every episode for the exposures with complete
    data (:func:`fit_by_coverage`).

    Returns
    -------
    (case_crossover, case_crossover_ml, daily_model, errors)
        :class:`kneedata.ModelResult` objects (``case_crossover`` is the one to
        show), ``None`` for a model that could not be fitted; ``errors`` says why.
    """
    from kneedata.models import case_crossover, daily_model

    errors: list[str] = []
    if not bool(frame["onset"].any()):
        return None, None, None, ["no pain episode starts inside the period with data"]
    cc = cc_ml = dm = None
    cc_options = dict(REPORT_MODELS["case_crossover"].options)
    dm_options = dict(REPORT_MODELS["daily_model"].options)
    if hazard_days is not None:  # else the windows of the settings
        cc_options["hazard_days"], dm_options["lags"] = hazard_days, (hazard_days,)
    hazard_days = int(cc_options["hazard_days"])
    failures = (ValueError, RuntimeError, np.linalg.LinAlgError)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the caveats are kept in ModelResult.warnings
        cc_names = _usable(frame, case_crossover_exposures)
        if not cc_names:
            errors.append("case-crossover not fitted: none of "
                          f"{list(case_crossover_exposures)} occurs in the data")
        else:
            try:
                cc_ml = fit_by_coverage(case_crossover, frame, cc_names, known_days=hazard_days,
                                        **cc_options)
                cc = cc_ml
                if cc_ml.separated or cc_ml.table["status"].eq("separated").any():
                    cc = fit_by_coverage(case_crossover, frame, cc_names, known_days=hazard_days,
                                         **cc_options,
                                         **REPORT_MODELS["case_crossover"].separated_refit)
            except failures as err:
                errors.append(f"case-crossover not fitted: {err}")
        dm_names = _usable(frame, daily_exposures)
        if not dm_names:
            errors.append(f"daily model not fitted: none of {list(daily_exposures)} "
                          "occurs in the data")
        else:
            try:
                dm = fit_by_coverage(daily_model, frame, dm_names,
                                     known_days=max(dm_options["lags"]), **dm_options)
            except failures as err:
                errors.append(f"daily model not fitted: {err}")
    return cc, cc_ml, dm, errors


def fit_lead(frame: pd.DataFrame, exposures: Sequence[str] | None = None) -> tuple[Any, list[str], str]:
    """The lead (:func:`kneedata.primary_analysis`), each exposure on the days it is known.

    Returns
    -------
    (primary, errors, status)
        The result (``None`` if nothing could be fitted), why not, and that reason
        as a status (``""`` when fitted; ``"too_few_episodes"`` or ``"no_variation"``).
    """
    from kneedata.models import ModelFitError, primary_analysis

    if not bool(frame["onset"].any()):
        return None, ["no pain episode starts inside the period with data"], "too_few_episodes"
    names = list(exposures) if exposures is not None else _usable(frame, PRIMARY_EXPOSURES)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the caveats are kept in ModelResult.warnings
        try:
            if not names:
                raise ModelFitError(f"primary_analysis: none of {list(PRIMARY_EXPOSURES)} "
                                    "occurs in the frame")
            options = REPORT_MODELS["primary_analysis"].options
            primary = fit_by_coverage(primary_analysis, frame, names,
                                      known_days=options["window_days"], **options)
        except (ValueError, RuntimeError, np.linalg.LinAlgError) as err:
            status = err.status if isinstance(err, ModelFitError) else "too_few_episodes"
            return None, [f"main analysis not fitted: {err}"], status
    primary.model = "primary_analysis"
    return primary, [], ""


def fit_report_models(frame: pd.DataFrame) -> ReportFits:
    """Every model the report states something from, fitted on one analysis frame."""
    primary, errors, status = fit_lead(frame)
    cc, _, dm, more = fit_sensitivity(frame)
    return ReportFits(primary=primary, case_crossover=cc,
                      daily_model=dm, errors=errors + more, primary_status=status)


# --- the statements -----------------------------------------------------------------


def is_finding(row: pd.Series) -> bool:
    """The rule: a lead row is a finding when estimable, BH-adjusted p < 0.05 and its CI excludes 1."""
    lo, hi, p = float(row["ci_low"]), float(row["ci_high"]), float(row["p_adjusted"])
    return bool(row["estimable"]) and np.isfinite(p) and p < FINDING_ALPHA and (lo > 1 or hi < 1)


def _window_words(window_days: int) -> str:
    return f"in the {window_days} days after"


def _lead_statement(row: pd.Series, finding: bool, window_days: int) -> str:
    what = plain(str(row["exposure"]), capital=True)
    k, n = int(row["n_informative"]), int(row["n_episodes"])
    based = f"based on {count(n, 'episode')}, {k} with it in the {window_days} days before"
    if not bool(row["estimable"]):
        why = STATUS_WORDS.get(str(row["status"]), "the data cannot estimate it")
        return (f"{what}: the data cannot estimate this yet (how often pain started "
                f"{_window_words(window_days)} it): {why} ({based}).")
    ratio, lo, hi = float(row["ratio"]), float(row["ci_low"]), float(row["ci_high"])
    interval = f"95 % interval {format_ratio(lo)} to {format_ratio(hi)}"
    if finding:
        how = (f"about {format_ratio(ratio)} times as often" if ratio >= 1
               else f"less often (about {format_ratio(ratio)} times as often)")
        return (f"{what}: pain started {how} {_window_words(window_days)} it as at other "
                f"times ({interval}, adjusted p {format_p(float(row['p_adjusted']))}; "
                f"{based}).")
    if lo > 1 or hi < 1:
        verdict = ("the interval just excludes 1, but with several things tested at once "
                   f"(adjusted p {format_p(float(row['p_adjusted']))}) that is not enough to "
                   "call it a finding")
    else:
        verdict = "the interval includes 1, so the data cannot tell whether it matters"
    return (f"{what}: the odds ratio of pain starting {_window_words(window_days)} it is "
            f"{format_ratio(ratio)} ({interval}); {verdict} ({based}).")


def _check_statement(row: pd.Series, model: str, lead: pd.Series | None,
                     window_days: int = HAZARD_DAYS) -> tuple[str, Any]:
    """A sensitivity row in words: its numbers and whether it points the lead's way."""
    name = {"case_crossover": "Case-crossover", "daily_model": "Daily model"}.get(model, model)
    head = f"{name}, {plain(str(row['exposure']))}, {_window_words(window_days)} it"
    if not bool(row["estimable"]):
        why = STATUS_WORDS.get(str(row["status"]), "the data cannot estimate it")
        return f"{head}: not estimable: {why}.", pd.NA
    ratio, lo, hi = float(row["ratio"]), float(row["ci_low"]), float(row["ci_high"])
    numbers = (f"{row.get('ratio_kind', 'odds')} ratio {format_ratio(ratio)} "
               f"(95 % interval {format_ratio(lo)} to {format_ratio(hi)})")
    if lead is None or not bool(lead["estimable"]):
        return (f"{head}: {numbers}; not part of the main answer, so shown as a check only, "
                "not as a finding."), pd.NA
    agrees = bool(np.sign(np.log(ratio)) == np.sign(np.log(float(lead["ratio"]))))
    word = "points the same way as" if agrees else "does not point the same way as"
    return (f"{head}: {numbers}; {word} the main answer's {format_ratio(float(lead['ratio']))} "
            "(a check, not a separate finding)."), agrees


def _direction(row: pd.Series, finding: bool) -> str:
    if not bool(row["estimable"]):
        return "not_estimable"
    if not finding:
        return "unclear"
    return "harmful" if float(row["ratio"]) > 1 else "protective"


def findings_table(fits: ReportFits, *, window_days: int = HAZARD_DAYS) -> pd.DataFrame:
    """:func:`report_findings` from models already fitted."""
    rows: list[dict[str, Any]] = []
    lead_rows: dict[str, pd.Series] = {}
    if fits.primary is not None:
        for _, row in fits.primary.table.iterrows():
            finding = is_finding(row)
            lead_rows[str(row["exposure"])] = row
            rows.append(_row("primary_analysis", row, finding=finding, agrees=pd.NA,
                             statement=_lead_statement(row, finding, window_days)))
    if fits.recovery is not None:
        for _, row in fits.recovery.table.iterrows():
            finding = is_finding(row)
            rows.append(_row("recovery_onsets", row, finding=finding, agrees=pd.NA,
                             statement=_lead_statement(row, finding, window_days)))
    for result in (fits.case_crossover, fits.daily_model):
        if result is None:
            continue
        for _, row in result.table.iterrows():
            statement, agrees = _check_statement(row, result.model,
                                                 lead_rows.get(str(row["exposure"])), window_days)
            rows.append(_row(result.model, row, finding=False, agrees=agrees,
                             statement=statement))
    table = pd.DataFrame(rows, columns=list(FINDING_COLUMNS))
    if fits.run_response is not None and len(fits.run_response):
        extra = fits.run_response.reindex(columns=list(FINDING_COLUMNS))
        table = pd.concat([table, extra], ignore_index=True)
    table["finding"] = table["finding"].fillna(False).astype(bool)
    table["agrees_with_lead"] = table["agrees_with_lead"].astype("boolean")
    return table


def _row(model: str, row: pd.Series, *, finding: bool, agrees: Any, statement: str) -> dict[str, Any]:
    estimable = bool(row["estimable"])
    return {
        "section": SECTIONS.get(model, model), "model": model, "term": str(row["term"]),
        "exposure": str(row["exposure"]), "direction": _direction(row, finding),
        "estimate": float(row["ratio"]) if estimable else np.nan,
        "ci_low": float(row["ci_low"]) if estimable else np.nan,
        "ci_high": float(row["ci_high"]) if estimable else np.nan,
        "p_adjusted": float(row["p_adjusted"]) if estimable else np.nan,
        "finding": finding, "agrees_with_lead": agrees,
        "n_episodes": int(row["n_episodes"]),
        "episodes_note": str(row.get("episodes_note", "") or ""),
        "statement": statement,
    }


def report_findings(derived: Any, *, fits: ReportFits | None = None) -> pd.DataFrame:
    """One row per statement the report makes about an exposure, in any section.

    Parameters
    ----------
    derived
        What the report is built from: a :class:`kneedata.Derived` (with a pain
        diary), its analysis frame (:func:`kneedata.analysis_frame`), or the
        report's :class:`kneedata.report.ReportTables` (models already fitted).
    fits
        Models already fitted (:func:`fit_report_models`); fitted here when ``None``.
        From a :class:`kneedata.Derived` the rows are the whole report's: the onset
        models and the run-response answer the report shows
        (:func:`kneedata.physio.analyse_report`; a finding only when it leads); an
        analysis frame has no runs, so it gives the onset models' rows only.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`FINDING_COLUMNS`: ``section`` (``"lead"``, ``"sensitivity:
        case-crossover"``, ``"sensitivity: daily model"``, ``"beside the lead: run
        response"``), ``model``, ``term``,
        ``exposure``, ``direction`` (:data:`DIRECTIONS`: ``harmful``/``protective``
        only for a finding), ``estimate``, ``ci_low``, ``ci_high`` (the ratio and its
        95 % interval; NaN when not estimable), ``p_adjusted`` (Benjamini-Hochberg
        within the model), ``finding`` (bool: the report states an association in
        words), ``agrees_with_lead`` (sensitivity rows: does the estimate point the
        same way as the lead's; NA when there is no lead estimate), ``n_episodes``
        (episodes the row used), ``episodes_note`` (which, and why others were left
        out) and ``statement`` (the sentence the report prints). Empty (these
        columns) without a diary or episodes.
    """
    from kneedata.frame import analysis_frame
    from kneedata.pipeline import Derived

    if fits is None and hasattr(derived, "derived") and hasattr(derived, "primary"):
        fits = ReportFits(primary=derived.primary, case_crossover=derived.case_crossover,
                          daily_model=derived.daily_model,
                          run_response=getattr(derived, "run_response", None))
    if fits is None:
        if isinstance(derived, pd.DataFrame):
            fits = fit_report_models(derived)
        elif isinstance(derived, Derived):
            if derived.diary is None:
                return pd.DataFrame(columns=list(FINDING_COLUMNS))
            fits = fit_report_models(analysis_frame(derived))
            fits.run_response = _run_response_rows(derived)
        else:
            raise TypeError("report_findings: give a kneedata.Derived, an analysis frame or "
                            f"the report's ReportTables, got {type(derived).__name__}")
    return findings_table(fits)


def _run_response_rows(derived: Any) -> pd.DataFrame | None:
    """The run-response rows the report shows for ``derived`` (``None`` when it shows none)."""
    from kneedata import physio

    return physio.analyse_report(derived)[1]
