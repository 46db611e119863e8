"""Models of what tends to come before a pain episode.

Every model reads the analysis frame (:func:`kneedata.analysis_frame`, or a
simulated frame) and returns a :class:`ModelResult`: the statsmodels result, a tidy
table with one row per term (ratio, 95 % interval, p-value, Benjamini-Hochberg
adjusted p-value, episodes used, whether the data can estimate it and why not),
typed flags (separated terms, dropped terms, penalty, ratio kind), the caveats
that apply, and the design the model was fitted on.

- :func:`kneedata.primary_analysis` (module :mod:`kneedata.models.primary`) is the
  single-runner analysis chosen by simulation; the functions here are its
  building blocks and its sensitivity analyses.
- :func:`case_crossover`: each episode against referent windows of the same runner.
- :func:`daily_model`: discrete-time hazard (logit or cloglog) on at-risk days.
- :func:`case_series`: self-controlled case series / conditional Poisson with
  long calendar periods.
- :func:`recurrent_cox`: counting-process Cox model of recurrent episodes.

Windows
-------
Exposures in the frame are same-day values; the models summarise them over
windows of days before an *index day* ``t`` with :func:`kneedata.frame.window_aggregate`
(``any`` for flags, ``sum`` for counts and distances, ``mean`` for the rest;
:func:`kneedata.frame.window_kind`). The index day itself is never in its window.
For the case-crossover the hazard window of an onset on day ``t`` is days
``t - gap_days - hazard_days .. t - gap_days - 1``; for the other models lag ``L``
is the window ``t - L .. t - 1`` and the term is named ``<exposure>_<L>d``.

Status of a term
----------------
``ok`` (estimable), ``no_variation`` (dropped: the exposure never differs where
it would have to, or is a linear combination of others), ``too_few_episodes``
(fewer than :data:`MIN_EPISODES` episodes in the fit or fewer than
:data:`MIN_INFORMATIVE` informative ones for the term), ``separated`` (the
maximum-likelihood ratio is infinite or 0: shown as such with the finite
profile-likelihood bound, or as the penalised estimate), ``not_converged``
(shown as NaN, never the optimiser's stopping point).

What the results are
--------------------
Associations in one person's (or a cohort's) observational data, not causes and
not medical advice. See :data:`CAVEAT`.

Modules
-------
:mod:`~kneedata.models.results` (result type, table columns, statuses, caveat),
:mod:`~kneedata.models.design` (checks, day index, windows, lagged designs),
:mod:`~kneedata.models.engines` (fits, log-F and ridge penalties, profile bounds, tables),
one module per model family (:mod:`~kneedata.models.case_crossover`,
:mod:`~kneedata.models.daily`, :mod:`~kneedata.models.case_series`,
:mod:`~kneedata.models.cox`), :mod:`~kneedata.models.primary` and
:mod:`~kneedata.models.power` (detectable odds ratio) and
:mod:`~kneedata.models.run_response` (next-morning pain after each run, for a runner
whose pain seldom goes away; ``docs/run-response.md``). Every public name is
importable from here.
"""

from __future__ import annotations

from kneedata.models.case_crossover import REFERENT_SCHEMES, case_crossover
from kneedata.models.case_series import case_series
from kneedata.models.cox import recurrent_cox
from kneedata.models.daily import daily_model
from kneedata.models.power import detectable_odds_ratio
from kneedata.models.primary import PRIMARY_DESIGN, PRIMARY_EXPOSURES, primary_analysis
from kneedata.models.results import (
    CAVEAT,
    MIN_EPISODES,
    MIN_EPISODES_PER_EXPOSURE,
    MIN_INFORMATIVE,
    RATIO_KINDS,
    STATUSES,
    TABLE_COLUMNS,
    ModelFitError,
    ModelResult,
)
from kneedata.models.run_response import (
    RunResponseResult,
    detectable_flare,
    run_response_model,
)

__all__ = [
    "CAVEAT",
    "MIN_EPISODES",
    "MIN_EPISODES_PER_EXPOSURE",
    "MIN_INFORMATIVE",
    "ModelFitError",
    "PRIMARY_DESIGN",
    "PRIMARY_EXPOSURES",
    "ModelResult",
    "RATIO_KINDS",
    "REFERENT_SCHEMES",
    "RunResponseResult",
    "STATUSES",
    "TABLE_COLUMNS",
    "case_crossover",
    "case_series",
    "daily_model",
    "detectable_flare",
    "detectable_odds_ratio",
    "primary_analysis",
    "recurrent_cox",
    "run_response_model",
]
