"""The analysis settings in one place: exposures, windows, caveats, which models the report fits.

Every number and list that decides *what* the report, the notebooks and the
models answer lives here, so that changing the question is one edit and the
report, notebook 04 and :func:`kneedata.report_findings` keep answering the same
one. The modules that use a setting import it from here (:mod:`kneedata.notebook`,
:mod:`kneedata.report` and :mod:`kneedata.models` re-export the old names).

This module imports nothing from kneedata, so any module may read it.

- Exposure sets: :data:`PRIMARY_EXPOSURES` (the lead, :func:`kneedata.primary_analysis`),
  :data:`CASE_CROSSOVER_EXPOSURES`, :data:`DAILY_EXPOSURES` (the sensitivity
  analyses), :data:`COHORT_EXPOSURES` (the cohort report), :data:`RECOVERY_EXPOSURES`
  (the recovery family, where the runner has wellness data or ratings).
- Windows: :data:`HAZARD_DAYS`, :data:`STRATUM_DAYS`, :data:`HIGHLIGHT_DAYS`.
- The lead's design: :data:`PRIMARY_DESIGN`; what the data could show:
  :data:`DETECTABLE_SIMS`.
- Which models the report fits, with which options, into which CSV:
  :data:`REPORT_MODELS` (:class:`ReportModel`).
- Caveats: :data:`MODEL_CAVEAT` (printed with every model result) and
  :data:`CAVEATS` (under the report's and notebook 04's model results).

Examples
--------
>>> from kneedata.settings import REPORT_MODELS, HAZARD_DAYS
>>> [m.csv for m in REPORT_MODELS.values()]
['model_primary.csv', 'model_case_crossover.csv', 'model_daily.csv']
>>> REPORT_MODELS["daily_model"].options["lags"] == (HAZARD_DAYS,)
True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

__all__ = [
    "CASE_CROSSOVER_EXPOSURES",
    "CAVEATS",
    "COHORT_EXPOSURES",
    "DAILY_EXPOSURES",
    "DETECTABLE_SIMS",
    "HAZARD_DAYS",
    "HIGHLIGHT_DAYS",
    "MODEL_CAVEAT",
    "PRIMARY_DESIGN",
    "PRIMARY_EXPOSURES",
    "RECOVERY_EXPOSURES",
    "REPORT_MODELS",
    "STRATUM_DAYS",
    "ReportModel",
]


# --- exposures ------------------------------------------------------------------------

#: Exposures of the primary analysis (the report's lead) when none are given:
#: transient ones that come and go within weeks (a large single-run spike,
#: strength sessions).
PRIMARY_EXPOSURES: tuple[str, ...] = ("spike_large", "n_strength")

#: Exposures of the report's case-crossover (same-day frame columns; the models
#: build the windows): transient ones that can differ between a hazard window and
#: referent windows a few weeks away - a large single-run spike, and strength
#: sessions (a logged routine that comes and goes week to week).
CASE_CROSSOVER_EXPOSURES: tuple[str, ...] = ("spike_large", "n_strength")

#: Exposures of the report's daily model: the same plus a slow one (cadence), which
#: the case-crossover cannot place; shown so the reader sees what each design can
#: and cannot do. Exposures absent from the frame are skipped.
DAILY_EXPOSURES: tuple[str, ...] = ("spike_large", "n_strength", "cadence_moving_spm")

#: Exposures the cohort report compares across designs (those present and non-zero).
COHORT_EXPOSURES: tuple[str, ...] = ("spike_large", "spike_moderate", "weekly_change_gt30")

#: The recovery family (docs/recovery.md): short sleep, sleep and the diary ratings
#: against the runner's own usual, HRV below and resting HR above the runner's own
#: band (:func:`kneedata.metrics.recovery.recovery_daily`). Used only where the
#: runner has wellness data or ratings, each term fitted on the days it is known
#: (:mod:`kneedata.recovery`): in the main analysis they are counted into the lead's
#: Benjamini-Hochberg correction (whole-report false findings on 120 null runners
#: with wellness: 5.0 %, SE 2.0; with a correction of their own 7.5 %,
#: ``benchmarks/recovery_null_study.py``); in the run-response model they are checks.
RECOVERY_EXPOSURES: tuple[str, ...] = (
    "short_sleep", "sleep_vs_usual_h", "hrv_rmssd_low", "hrv_sdnn_low", "resting_hr_high",
    "sleep_quality_vs_usual_pts", "fatigue_vs_usual_pts", "soreness_vs_usual_pts",
    "stress_vs_usual_pts")


# --- windows --------------------------------------------------------------------------

#: Hazard window of the case-crossover, window of the primary analysis and lag of
#: the daily model [d].
HAZARD_DAYS = 7

#: Calendar strata of the report's case-crossover [d]: 84 rather than 28, because after
#: each onset the runner is out of the risk set for weeks and 28-day strata keep 1-3
#: referents (single-runner study, README: coverage 89-93 % at 84 days, 41-71 % at 28).
STRATUM_DAYS = 84

#: Runs this many days before an episode are highlighted in cadence vs speed [d].
HIGHLIGHT_DAYS = 14


# --- the lead's design and what the data could show ------------------------------------

#: The design of :func:`kneedata.primary_analysis`, chosen by the single-runner
#: simulation study (README; ``benchmarks/single_runner_study.py``).
PRIMARY_DESIGN: dict[str, Any] = {"link": "logit", "penalty": "logF", "cov_type": "nonrobust",
                                  "calendar_df": 0}

#: Simulated histories per odds ratio when the report says what the data could show
#: (:func:`kneedata.detectable_odds_ratio`).
DETECTABLE_SIMS = 100


# --- which models the report fits -------------------------------------------------------


@dataclass(frozen=True)
class ReportModel:
    """One model the report fits: its role, its exposures, its options and its CSV.

    Attributes
    ----------
    section
        The section of :func:`kneedata.report_findings` its rows go to (``"lead"``
        makes findings; the others are checks stated against the lead).
    csv
        The file its :attr:`kneedata.ModelResult.table` is written to in the
        report folder.
    exposures
        Frame columns it is fitted on (those present and non-zero).
    options
        Keyword arguments of the :mod:`kneedata.models` function named by the key
        of :data:`REPORT_MODELS` (windows in days).
    separated_refit
        Options added for a refit when the maximum-likelihood fit reports
        separation (the refit is the one shown); empty: no refit.
    """

    section: str
    csv: str
    exposures: tuple[str, ...]
    options: Mapping[str, Any] = field(default_factory=dict)
    separated_refit: Mapping[str, Any] = field(default_factory=dict)


#: The models the report fits, keyed by their :mod:`kneedata.models` function, in
#: the order it shows them: the lead (log-F penalised, model-based errors), the
#: case-crossover (maximum likelihood, refitted log-F penalised on separation) and
#: the daily model (fitted like the lead: the unpenalised fit with HAC errors gave
#: 14.5 % false positives for cadence alone, docs/findings.md).
REPORT_MODELS: Mapping[str, ReportModel] = MappingProxyType({
    "primary_analysis": ReportModel(
        section="lead", csv="model_primary.csv", exposures=PRIMARY_EXPOSURES,
        options=MappingProxyType({"window_days": HAZARD_DAYS})),
    "case_crossover": ReportModel(
        section="sensitivity: case-crossover", csv="model_case_crossover.csv",
        exposures=CASE_CROSSOVER_EXPOSURES,
        options=MappingProxyType({"hazard_days": HAZARD_DAYS, "stratum_days": STRATUM_DAYS}),
        separated_refit=MappingProxyType({"penalty": "logF"})),
    "daily_model": ReportModel(
        section="sensitivity: daily model", csv="model_daily.csv", exposures=DAILY_EXPOSURES,
        options=MappingProxyType({"lags": (HAZARD_DAYS,), "penalty": "logF",
                                  "cov_type": "nonrobust"})),
})


# --- caveats ----------------------------------------------------------------------------

#: Printed with every model result (:meth:`kneedata.ModelResult.summary`, the cohort
#: report).
MODEL_CAVEAT = (
    "Associations in observational data, not causes and not medical advice: a ratio "
    "above 1 means pain started more often after the exposure than at other times, "
    "which can also come from things that change together with it."
)

#: The honest caveats printed under the report's model results (plain words).
CAVEATS: tuple[str, ...] = (
    "These are associations in one person's records, not causes: something that "
    "changed at the same time (a busy week, a new route, an illness) can produce the "
    "same pattern.",
    "One runner's data can show transient exposures - things that come and go within "
    "weeks, like a single run much longer than usual - because each episode is "
    "compared with the same runner's own time just before and after. Slow exposures "
    "(months of strength work, a cadence that drifts over a season, body weight) "
    "barely change inside those comparison windows, so this design cannot place "
    "them, and a daily model on a handful of episodes cannot either.",
    "Few episodes mean wide intervals: with under about 10 episodes per exposure an "
    "odds ratio can look large by chance, and an interval that spans 1 means the data "
    "cannot tell the direction.",
    "Early pain changes running (shorter runs, rest): exposures are taken from the "
    "days before the first pain day, which guards only partly against this.",
    "Several exposures are tested at once; the adjusted p-values "
    "(Benjamini-Hochberg) account for that, the raw ones do not.",
    "This is not medical advice. Persistent or worsening knee pain deserves a visit "
    "to a physiotherapist or doctor.",
)
