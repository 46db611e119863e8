"""The recovery family in the report's models: sleep, HRV, resting HR and how the runner felt.

The exposures are the frame columns of :func:`kneedata.metrics.recovery.recovery_daily`
(:data:`kneedata.settings.RECOVERY_EXPOSURES`). They reach two models, only where
the runner has wellness data or diary ratings, each term fitted on the days its
own data are known so that a watch worn only some nights never costs the other
terms an episode (docs/recovery.md):

- **onsets**: :func:`fit_recovery_onsets` fits each recovery term in the main
  analysis (:func:`kneedata.primary_analysis`, 7-day window) next to the lead's
  own terms, on the days its window is known (:func:`kneedata.findings.fit_by_coverage`),
  and takes its row. Those rows are counted into the lead's Benjamini-Hochberg
  correction (:func:`adjust_with_lead`), so a recovery row can be a finding
  only under the same rule and bound as the lead's terms; the whole report's
  false findings with it are measured by ``benchmarks/recovery_null_study.py``.
- **run responses**: :func:`fit_recovery_runs` fits each recovery term of the
  run (the night before it, that morning's ratings) alone in
  :func:`kneedata.run_response_model`, on the scored runs where it is known; those
  rows are checks beside the lead, never findings.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from kneedata.settings import HAZARD_DAYS, RECOVERY_EXPOSURES

__all__ = [
    "RUN_SECTION",
    "adjust_with_lead",
    "fit_recovery_onsets",
    "fit_recovery_runs",
    "recovery_present",
    "recovery_run_rows",
    "with_recovery",
]

#: Section of :func:`kneedata.report_findings` the run-response rows of the family go to.
RUN_SECTION = "beside the lead: recovery run response"

def recovery_present(table: pd.DataFrame, exposures: Iterable[str] = RECOVERY_EXPOSURES
                     ) -> list[str]:
    """The recovery exposures ``table`` (a frame or run features) holds a known value of."""
    present = []
    for name in exposures:
        if name in table.columns:
            values = table[name]
            if pd.api.types.is_extension_array_dtype(values.dtype):
                values = values.astype("Float64")
            if pd.to_numeric(values, errors="coerce").notna().any():
                present.append(name)
    return present


def fit_recovery_onsets(frame: pd.DataFrame, lead: Sequence[str], *,
                        exposures: Iterable[str] = RECOVERY_EXPOSURES,
                        window_days: int = HAZARD_DAYS) -> Any:
    """Each recovery term in the main analysis, beside the lead's terms, on its known days.

    Parameters
    ----------
    frame
        Analysis frame (with the recovery columns where the runner has the data).
    lead
        The lead's exposures (fitted with each recovery term as adjustment; their
        rows are not taken from these fits).
    exposures
        Recovery exposures to try; those absent or never known are skipped.
    window_days
        The main analysis' window [d].

    Returns
    -------
    ModelResult or None
        ``model="recovery_onsets"``: one table row per recovery term (columns of
        :data:`kneedata.models.TABLE_COLUMNS` plus ``episodes_note``), ``p_value``
        raw and ``p_adjusted`` Benjamini-Hochberg within the family (the report
        re-adjusts with the lead, :func:`adjust_with_lead`); ``None`` when the
        runner has no recovery data or no episode.
    """
    from kneedata.findings import fit_by_coverage
    from kneedata.models import ModelFitError, primary_analysis

    names = recovery_present(frame, exposures)
    if not names or not bool(frame["onset"].any()):
        return None
    base, rows = None, []
    for name in names:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fit = fit_by_coverage(primary_analysis, frame, [*lead, name],
                                      known_days=window_days, window_days=window_days)
        except (ModelFitError, ValueError, RuntimeError, np.linalg.LinAlgError):
            continue
        base = base or fit
        rows.append(fit.table.loc[fit.table["exposure"] == name])
    if base is None or not rows:
        return None
    table = pd.concat(rows, ignore_index=True)
    table["p_adjusted"] = _bh(table["p_value"].to_numpy(dtype=float))
    return replace(base, model="recovery_onsets", table=table,
                   settings={**base.settings, "lead": list(lead)})


def _bh(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values of the finite entries (NaN elsewhere)."""
    from statsmodels.stats.multitest import multipletests

    out = np.full(len(p), np.nan)
    ok = np.isfinite(p)
    if ok.any():
        out[ok] = multipletests(p[ok], method="fdr_bh")[1]
    return out


def adjust_with_lead(lead_table: pd.DataFrame, recovery_table: pd.DataFrame
                     ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Benjamini-Hochberg over the lead's terms and the recovery terms together.

    The recovery rows are counted into the lead's correction: with ``m`` lead
    terms and ``k`` recovery terms every adjusted p-value is over ``m + k``
    tests, so the report's rule (a finding: estimable, adjusted p < 0.05,
    interval excluding 1) keeps its bound with the recovery family in it.

    Returns
    -------
    (lead_table, recovery_table)
        Copies with ``p_adjusted`` replaced.
    """
    p = np.concatenate([lead_table["p_value"].to_numpy(dtype=float),
                        recovery_table["p_value"].to_numpy(dtype=float)])
    adjusted = _bh(p)
    n = len(lead_table)
    return (lead_table.assign(p_adjusted=adjusted[:n]),
            recovery_table.assign(p_adjusted=adjusted[n:]))


def fit_recovery_runs(derived: Any, *, exposures: Iterable[str] = RECOVERY_EXPOSURES,
                      responses: pd.DataFrame | None = None,
                      features: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each recovery term of the run alone in the run-response model, on the runs it is known.

    Parameters
    ----------
    derived
        :func:`kneedata.derive` of the runner.
    exposures
        Recovery exposures to try (columns of :func:`kneedata.run_features`).
    responses, features
        :func:`kneedata.run_responses` and :func:`kneedata.run_features`, computed
        here when ``None``.

    Returns
    -------
    pandas.DataFrame
        Rows of :data:`kneedata.models.run_response.RUN_RESPONSE_COLUMNS`, one per
        recovery term present (``p_adjusted`` Benjamini-Hochberg within the
        family); empty without recovery data or scored runs.
    """
    from kneedata.models.run_response import (
        EXPOSURES,
        RUN_RESPONSE_COLUMNS,
        run_response_model,
    )
    from kneedata.responses import run_features, run_responses

    features = run_features(derived) if features is None else features
    names = [n for n in recovery_present(features, exposures) if n in EXPOSURES]
    if not names:
        return pd.DataFrame(columns=list(RUN_RESPONSE_COLUMNS))
    responses = run_responses(derived) if responses is None else responses
    rows = []
    for name in names:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = run_response_model(derived, [name], responses=responses, features=features)
        rows.append(fit.table)
    table = pd.concat(rows, ignore_index=True)
    ok = table["estimable"].to_numpy(dtype=bool)
    p = np.where(ok, table["p_value"].to_numpy(dtype=float), np.nan)
    table["p_adjusted"] = _bh(p)
    return table



def with_recovery(fits: Any, frame: pd.DataFrame) -> Any:
    """The report's fits with the recovery family in the lead's correction.

    Parameters
    ----------
    fits
        :class:`kneedata.findings.ReportFits` of the frame (the lead fitted).
    frame
        The analysis frame.

    Returns
    -------
    ReportFits
        ``fits`` itself when the runner has no recovery data or the lead was not
        fitted; else a copy whose ``recovery`` is :func:`fit_recovery_onsets` and
        whose lead table and recovery table carry ``p_adjusted`` over both
        (:func:`adjust_with_lead`).
    """
    if fits.primary is None:
        return fits
    lead = list(fits.primary.table["exposure"])
    result = fit_recovery_onsets(frame, lead)
    if result is None:
        return fits
    lead_table, table = adjust_with_lead(fits.primary.table, result.table)
    return replace(fits, primary=replace(fits.primary, table=lead_table),
                   recovery=replace(result, table=table))


def recovery_run_rows(derived: Any, **kwargs: Any) -> pd.DataFrame:
    """:func:`fit_recovery_runs` as rows of :func:`kneedata.report_findings` (checks, never findings).

    Parameters
    ----------
    derived
        :func:`kneedata.derive` of the runner.
    **kwargs
        Passed to :func:`fit_recovery_runs`.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`kneedata.findings.FINDING_COLUMNS`, section
        :data:`RUN_SECTION`, ``finding`` False; empty without recovery data.
    """
    from kneedata.findings import FINDING_COLUMNS
    from kneedata.physio import run_response_sentence

    table = fit_recovery_runs(derived, **kwargs)
    rows = []
    for _, row in table.iterrows():
        ok = bool(row["estimable"])
        rows.append({
            "section": RUN_SECTION, "model": "run_response_model", "term": row["term"],
            "exposure": row["term"], "direction": "unclear" if ok else "not_estimable",
            "estimate": row["estimate"] if ok else np.nan,
            "ci_low": row["ci_low"] if ok else np.nan,
            "ci_high": row["ci_high"] if ok else np.nan,
            "p_adjusted": row["p_adjusted"] if ok else np.nan, "finding": False,
            "agrees_with_lead": pd.NA, "n_episodes": 0,
            "episodes_note": f"{int(row['n_runs'])} scored runs with it known",
            "statement": run_response_sentence(row, finding=False)})
    return pd.DataFrame(rows, columns=list(FINDING_COLUMNS))
