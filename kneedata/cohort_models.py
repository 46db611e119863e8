"""Cohort models that stay honest: compare each runner with themselves, then pool.

Across runners, a trait that is constant within a runner (weak hips, a history of
injury, the kind of runner who does long runs) can cause both the exposure and the
pain. A *pooled* comparison of runners with each other (:func:`kneedata.daily_model`
without runner terms) then reports the trait as an effect of the exposure.
*Within-runner* designs compare each runner's at-risk days only with their own
other days, so such a trait cancels:

- :func:`kneedata.case_crossover` on the cohort frame: one stratum per runner x
  episode (hazard window against referent windows of the same runner).
- :func:`kneedata.case_series`: every at-risk day of the cohort, onset counts
  conditioned on their total within each runner x calendar period (the
  self-controlled case series / conditional Poisson of Armstrong et al. 2014);
  :func:`runner_fixed_effects` is the same with one stratum per runner: the daily
  hazard model with runner fixed effects.
- :func:`runner_effects`: a hierarchical logistic model (statsmodels
  ``BinomialBayesMixedGLM``) with a random intercept and a random exposure slope
  per runner, reporting how much the effect varies across runners.

:func:`compare_designs` fits them side by side with the pooled model, so the
difference between a within-runner and a between-runner answer is shown, not
hidden. Validated on :func:`kneedata.simulate_cohort` with trait confounding
(tests/test_cohort_models.py and the README).

References
----------
Armstrong BG, Gasparrini A, Tobias A (2014). Conditional Poisson models: a flexible
alternative to conditional logistic case cross-over analysis. BMC Med Res Methodol
14:122. doi:10.1186/1471-2288-14-122
Whitaker HJ, Farrington CP, Spiessens B, Musonda P (2006). Tutorial in biostatistics:
the self-controlled case series method. Stat Med 25:1768-1797. doi:10.1002/sim.2302
Neuhaus JM, Kalbfleisch JD (1998). Between- and within-cluster covariate effects in
the analysis of clustered data. Biometrics 54:638-645. doi:10.2307/3109770
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from kneedata.models import (
    ModelFitError,
    ModelResult,
    case_crossover,
    case_series,
    daily_model,
)

__all__ = ["WHOLE_RECORD_DAYS", "RunnerEffects", "compare_designs", "runner_effects",
           "runner_fixed_effects"]


#: A calendar period longer than any record: one stratum per runner [d].
WHOLE_RECORD_DAYS = 10**6


def runner_fixed_effects(
    frame: pd.DataFrame,
    exposures: str | Iterable[str],
    *,
    lag: int = 7,
    gap_days: int = 0,
    penalty: str | float | None = None,
    alpha: float = 0.05,
) -> ModelResult:
    """The daily hazard model with runner fixed effects (conditional Poisson by runner).

    :func:`kneedata.case_series` with one stratum per runner: onsets on at-risk days
    are compared with the same runner's other at-risk days over the whole record,
    so every trait constant within a runner cancels (conditioning on each runner's
    number of onsets removes the runner's baseline, with no incidental-parameter
    bias). Unlike the 91-day strata of :func:`kneedata.case_series` it does not
    control slow changes within a runner's record (seasons, fitness).

    Parameters
    ----------
    frame
        Cohort analysis frame (:func:`kneedata.cohort.derive_cohort`).
    exposures
        Frame columns; each gives the term ``<exposure>_<lag>d`` (days ``t - lag ..
        t - 1``).
    lag, gap_days
        Window length and shift [d].
    penalty, alpha
        As for :func:`kneedata.case_series`.

    Returns
    -------
    ModelResult
        Rate ratios; ``settings["period_days"]`` is :data:`WHOLE_RECORD_DAYS`.
    """
    return case_series(frame, exposures, lags=(lag,), period_days=WHOLE_RECORD_DAYS,
                       gap_days=gap_days, penalty=penalty, alpha=alpha)


@dataclass
class RunnerEffects:
    """A hierarchical model's answer: the typical effect and how much runners differ.

    Attributes
    ----------
    table
        One row: ``term``, ``ratio`` (the typical runner's odds ratio, exp of the fixed
        effect's posterior mean), ``ci_low``, ``ci_high`` (95 % posterior interval),
        ``sd_log_or`` (SD of the effect across runners [log OR]; NaN when the model
        had no random slope), ``range_low``, ``range_high`` (odds ratios of the
        middle 95 % of runners).
    runners
        One row per runner: ``runner_id``, ``log_or`` and ``odds_ratio`` (posterior
        mean of that runner's effect), ``n_onsets``.
    results
        The statsmodels ``BinomialBayesMixedGLM`` variational-Bayes fit.
    warnings
        Caveats that apply.
    """

    table: pd.DataFrame
    runners: pd.DataFrame
    results: Any
    warnings: list[str]


def runner_effects(
    frame: pd.DataFrame,
    exposure: str,
    *,
    lag: int = 7,
    gap_days: int = 0,
    random_slope: bool = True,
) -> RunnerEffects:
    """Runner-specific effects of one exposure: random intercept and slope per runner.

    Parameters
    ----------
    frame
        Cohort analysis frame.
    exposure
        One frame column (window ``t - lag .. t - 1``, see :func:`runner_fixed_effects`).
    lag, gap_days
        Window length and shift [d].
    random_slope
        Let the exposure's effect vary across runners (the spread reported);
        ``False``: a random intercept only.

    Returns
    -------
    RunnerEffects

    Notes
    -----
    ``logit P(onset_t) = b0 + u_r + (b1 + v_r) W(t)``, ``u_r ~ N(0, s_u^2)``,
    ``v_r ~ N(0, s_v^2)``, fitted by variational Bayes
    (``BinomialBayesMixedGLM.fit_vb``; priors: N(0, 2^2) fixed effects, log SDs
    N(0, 1)). The spread ``s_v`` is what a cohort adds: whether the exposure matters
    to most runners or to a few. Variational posteriors are too narrow, and with a
    few onsets per runner ``s_v`` is mostly prior. The random intercept assumes the
    runner's proneness is unrelated to how often they are exposed; with trait
    confounding that fails and ``b1`` is biased towards the pooled answer; prefer
    the within-runner designs for the effect itself.
    """
    from statsmodels.genmod.bayes_mixed_glm import BinomialBayesMixedGLM

    # the at-risk days with known windows, as the within-runner model uses them
    rows = runner_fixed_effects(frame, [exposure], lag=lag, gap_days=gap_days).design
    term = f"{exposure}_{lag}d"
    if term not in rows.columns:
        raise ModelFitError(f"runner_effects: {term} does not vary over the at-risk days")
    data = pd.DataFrame({"onset": rows["onset"].to_numpy(dtype=float),
                         "x": rows[term].to_numpy(dtype=float),
                         "runner_id": rows["runner_id"].astype(str).to_numpy()})
    vc = {"runner": "0 + C(runner_id)"}
    if random_slope:
        vc["slope"] = "0 + C(runner_id):x"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = BinomialBayesMixedGLM.from_formula("onset ~ x", vc, data)
        fit = model.fit_vb()
    b, sd = float(fit.fe_mean[1]), float(fit.fe_sd[1])
    sd_slope = float(np.exp(fit.vcp_mean[1])) if random_slope else float("nan")
    names = list(model.vc_names)
    slope_means = np.asarray(fit.vc_mean)[[i for i, n in enumerate(names) if ":x" in n]]
    ids = sorted(data["runner_id"].unique())
    onsets = data.groupby("runner_id")["onset"].sum()
    runners = pd.DataFrame({"runner_id": pd.array(ids, dtype="str")})
    runners["log_or"] = b + (slope_means if random_slope else 0.0)
    runners["odds_ratio"] = np.exp(runners["log_or"])
    runners["n_onsets"] = onsets.reindex(ids).to_numpy(dtype=np.int64)
    table = pd.DataFrame({
        "term": [term], "ratio": [np.exp(b)], "ci_low": [np.exp(b - 1.96 * sd)],
        "ci_high": [np.exp(b + 1.96 * sd)], "sd_log_or": [sd_slope],
        "range_low": [np.exp(b - 1.96 * sd_slope)], "range_high": [np.exp(b + 1.96 * sd_slope)]})
    notes = ["variational Bayes: intervals are approximate and too narrow",
             "the random intercept assumes a runner's proneness is unrelated to their "
             "exposure; a runner trait behind both biases this towards the pooled model"]
    per_runner = float(data["onset"].sum()) / max(len(ids), 1)
    if random_slope and per_runner < 5:
        notes.append(f"{per_runner:.1f} onsets per runner: the spread across runners is "
                     "mostly the prior's, not the data's")
    return RunnerEffects(table, runners, fit, notes)


def _row(design: str, within: bool, result: Any, term: str) -> dict[str, Any]:
    table = result.table.set_index("term")
    if term not in table.index:
        return {"design": design, "within_runner": within, "note": f"{term} not estimable"}
    r = table.loc[term]
    note = "" if bool(r["estimable"]) else f"not estimable: {r['status']}"
    return {"design": design, "within_runner": within, "ratio": r["ratio"],
            "ci_low": r["ci_low"], "ci_high": r["ci_high"],
            "n_episodes": int(getattr(result, "n_episodes", 0) or 0), "note": note}


def compare_designs(
    frame: pd.DataFrame,
    exposure: str,
    *,
    lag: int = 7,
    traits: Sequence[str] = (),
    period_days: int = 91,
    hierarchical: bool = True,
) -> pd.DataFrame:
    """The same exposure estimated by every cohort design, within- and between-runner.

    Parameters
    ----------
    frame
        Cohort analysis frame.
    exposure
        One frame column.
    lag
        Hazard window / lag [d] of every design.
    traits
        Measured runner-level columns (constant within a runner) added to a second
        GEE fit: what adjusting for *measured* traits does.
    period_days
        Stratum period of the conditional Poisson model [d].
    hierarchical
        Also fit :func:`runner_effects` (slower).

    Returns
    -------
    pandas.DataFrame
        One row per design: ``design``, ``within_runner``, ``ratio``,
        ``ci_low``, ``ci_high``, ``n_episodes``, ``note`` (why a design gave no
        number). Ratios are odds or rate ratios per exposed window.
    """
    term = f"{exposure}_{lag}d"
    fits: list[tuple[str, bool, Any]] = [
        ("case-crossover (runner x episode strata)", True,
         lambda: case_crossover(frame, [exposure], hazard_days=lag)),
        (f"case series / conditional Poisson (runner x {period_days}-day strata)", True,
         lambda: case_series(frame, [exposure], lags=(lag,), period_days=period_days)),
        ("daily hazard, runner fixed effects", True,
         lambda: runner_fixed_effects(frame, [exposure], lag=lag)),
        ("pooled GEE (runners compared with each other)", False,
         lambda: daily_model(frame, [exposure], lags=(lag,), groups="runner_id")),
    ]
    if traits:
        fits.append((f"GEE adjusted for measured traits ({', '.join(traits)})", False,
                     lambda: daily_model(frame, [exposure, *traits], lags=(lag,), groups="runner_id")))
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, within, fit in fits:
            try:
                result = fit()
            except (ValueError, RuntimeError, np.linalg.LinAlgError) as err:
                rows.append({"design": name, "within_runner": within, "note": str(err)})
                continue
            key = term if not name.startswith("case-crossover") else None
            rows.append(_row(name, within, result, key or result.table["term"].iloc[0]))
        if hierarchical:
            try:
                he = runner_effects(frame, exposure, lag=lag)
                r = he.table.iloc[0]
                rows.append({"design": "hierarchical (random runner intercept and slope)",
                             "within_runner": False, "ratio": r["ratio"],
                             "ci_low": r["ci_low"], "ci_high": r["ci_high"],
                             "n_episodes": int(he.runners["n_onsets"].sum()),
                             "note": f"effect varies across runners: SD {r['sd_log_or']:.2g} log OR"})
            except (ValueError, RuntimeError, np.linalg.LinAlgError) as err:
                rows.append({"design": "hierarchical", "within_runner": False, "note": str(err)})
    cols = ["design", "within_runner", "ratio", "ci_low", "ci_high", "n_episodes", "note"]
    return pd.DataFrame(rows).reindex(columns=cols)
