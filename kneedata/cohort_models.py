"""Cohort models that stay honest: compare each runner with themselves, then pool.

Across runners, a trait that is constant within a runner (weak hips, a history of
injury, the kind of runner who does long runs) can cause both the exposure and the
pain. A *pooled* comparison of runners with each other (:func:`kneedata.daily_model`
without runner terms) then reports the trait as an effect of the exposure.
*Within-runner* designs compare each runner's at-risk days only with their own
other days, so such a trait cancels:

- :func:`kneedata.case_crossover` on the cohort frame: one stratum per runner x
  episode (hazard window against referent windows of the same runner).
- :func:`conditional_poisson`: every at-risk day of the cohort, onset counts
  conditioned on their total within each runner x calendar period (the
  self-controlled case series / conditional Poisson of Armstrong et al. 2014);
  ``period_days=None`` gives the daily hazard model with runner fixed effects.
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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from kneedata.models import (
    ModelFitError,
    ModelResult,
    case_crossover,
    daily_model,
    lagged_design,
)

__all__ = ["RunnerEffects", "compare_designs", "conditional_poisson", "runner_effects"]

_EPOCH = np.datetime64("1970-01-01", "D")


def _strata(rows: pd.DataFrame, period_days: int | None) -> np.ndarray:
    """Integer codes of runner (x calendar period of ``period_days`` from 1970-01-01)."""
    if period_days is None:
        return pd.factorize(rows["runner_id"])[0]
    day = (rows["date"].to_numpy().astype("datetime64[D]") - _EPOCH).astype(np.int64)
    return pd.factorize(pd.MultiIndex.from_arrays([rows["runner_id"], day // int(period_days)]))[0]


def conditional_poisson(
    frame: pd.DataFrame,
    exposures: str | Iterable[str],
    *,
    lag: int = 7,
    period_days: int | None = 91,
    gap_days: int = 0,
    agg: Mapping[str, str] | None = None,
    alpha: float = 0.05,
) -> ModelResult:
    """Onsets on at-risk days compared within runner x period: a conditional Poisson model.

    Parameters
    ----------
    frame
        Cohort analysis frame (several runners; :func:`kneedata.cohort.derive_cohort`).
    exposures
        Frame columns; each gives the term ``<exposure>_<lag>d`` (its window summary
        over days ``t - lag .. t - 1``, as in :func:`kneedata.daily_model`).
    lag
        Window length [d].
    period_days
        Calendar period of a stratum [d] (blocks counted from 1970-01-01); ``None``:
        one stratum per runner (the daily hazard model with runner fixed effects).
    gap_days
        Shift the window further back against reverse causation [d].
    agg
        Override the window rule per exposure.
    alpha
        1 - confidence level.

    Returns
    -------
    ModelResult
        ``model`` ``"conditional_poisson"``, ``results`` the statsmodels
        ``ConditionalPoisson`` fit, ``table`` with rate ratios (column
        ``odds_ratio``; at a daily risk near 1 % they equal odds ratios to < 2 %).

    Notes
    -----
    ``log E[onset_t] = alpha_s + b' W(t)`` on at-risk days ``t`` of stratum ``s``;
    conditioning on each stratum's number of onsets removes ``alpha_s``, so anything
    constant within a runner and period (traits, a season, the device) cancels, and
    only strata with at least one onset inform ``b``. Shorter periods control
    slower time trends but leave fewer informative days (Armstrong et al. 2014).
    """
    from statsmodels.discrete.conditional_models import ConditionalPoisson

    if period_days is not None and (int(period_days) != period_days or period_days < lag + 1):
        raise ValueError(f"conditional_poisson: period_days must be an integer > lag ({lag}) "
                         f"or None, got {period_days!r}")
    d = lagged_design(frame, exposures, lags=(lag,), gap_days=gap_days, agg=agg, alpha=alpha,
                      who="conditional_poisson", intercept=False)
    strata = _strata(d.rows, period_days)
    events = np.bincount(strata, weights=d.rows["onset"].to_numpy(dtype=float))
    keep = events[strata] > 0  # strata without an onset add nothing to the likelihood
    rows = d.rows[keep].reset_index(drop=True)
    y = rows["onset"].to_numpy(dtype=float)
    X = rows[d.used].to_numpy(dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fit = ConditionalPoisson(y, X, groups=strata[keep]).fit(disp=False, maxiter=200)
        except (np.linalg.LinAlgError, ValueError) as err:
            raise ModelFitError(f"conditional_poisson: the fit failed ({err}); drop rare terms") from err
    params, bse = np.asarray(fit.params, dtype=float), np.asarray(fit.bse, dtype=float)
    table = d.table(params, bse, ratio="rate ratio", alpha=alpha)
    notes = list(d.notes)
    n_runners = int(rows["runner_id"].nunique())
    if n_runners < 2 and frame["runner_id"].nunique() > 1:
        notes.append("only one runner has an onset in a stratum")
    settings = {"lag": lag, "period_days": period_days, "gap_days": gap_days, "alpha": alpha,
                "n_episodes": int(y.sum()), "n_strata": int(np.unique(strata[keep]).size),
                "n_runners": n_runners, "n_days": len(rows), "terms_used": d.used}
    design = rows.assign(stratum=strata[keep])
    return ModelResult("conditional_poisson", fit, table, notes, design, settings)


@dataclass
class RunnerEffects:
    """A hierarchical model's answer: the typical effect and how much runners differ.

    Attributes
    ----------
    table
        One row: ``term``, ``odds_ratio`` (the typical runner's, exp of the fixed
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
        One frame column (window ``t - lag .. t - 1``, see :func:`conditional_poisson`).
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

    d = lagged_design(frame, [exposure], lags=(lag,), gap_days=gap_days, who="runner_effects",
                      intercept=True)
    term = f"{exposure}_{lag}d"
    if term not in d.used:
        raise ModelFitError(f"runner_effects: {term} is not usable ({'; '.join(d.notes)})")
    data = pd.DataFrame({"onset": d.rows["onset"].to_numpy(dtype=float),
                         "x": d.rows[term].to_numpy(dtype=float),
                         "runner_id": d.rows["runner_id"].astype(str).to_numpy()})
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
        "term": [term], "odds_ratio": [np.exp(b)], "ci_low": [np.exp(b - 1.96 * sd)],
        "ci_high": [np.exp(b + 1.96 * sd)], "sd_log_or": [sd_slope],
        "range_low": [np.exp(b - 1.96 * sd_slope)], "range_high": [np.exp(b + 1.96 * sd_slope)]})
    notes = ["variational Bayes: intervals are approximate and too narrow",
             "the random intercept assumes a runner's proneness is unrelated to their "
             "exposure; a runner trait behind both biases this towards the pooled model"]
    per_runner = float(d.n_onsets) / max(len(ids), 1)
    if random_slope and per_runner < 5:
        notes.append(f"{per_runner:.1f} onsets per runner: the spread across runners is "
                     "mostly the prior's, not the data's")
    return RunnerEffects(table, runners, fit, notes)


def _row(design: str, within: bool, result: Any, term: str) -> dict[str, Any]:
    table = result.table.set_index("term")
    if term not in table.index:
        return {"design": design, "within_runner": within, "note": f"{term} not estimable"}
    r = table.loc[term]
    return {"design": design, "within_runner": within, "odds_ratio": r["odds_ratio"],
            "ci_low": r["ci_low"], "ci_high": r["ci_high"],
            "n_episodes": int(getattr(result, "n_episodes", 0) or 0), "note": ""}


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
        One row per design: ``design``, ``within_runner``, ``odds_ratio``,
        ``ci_low``, ``ci_high``, ``n_episodes``, ``note`` (why a design gave no
        number). Ratios are odds or rate ratios per exposed window.
    """
    term = f"{exposure}_{lag}d"
    fits: list[tuple[str, bool, Any]] = [
        ("case-crossover (runner x episode strata)", True,
         lambda: case_crossover(frame, [exposure], hazard_days=lag)),
        (f"conditional Poisson (runner x {period_days}-day strata)", True,
         lambda: conditional_poisson(frame, [exposure], lag=lag, period_days=period_days)),
        ("daily hazard, runner fixed effects", True,
         lambda: conditional_poisson(frame, [exposure], lag=lag, period_days=None)),
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
            key = term if name.startswith(("conditional", "daily", "pooled", "GEE")) else None
            rows.append(_row(name, within, result, key or result.table["term"].iloc[0]))
        if hierarchical:
            try:
                he = runner_effects(frame, exposure, lag=lag)
                r = he.table.iloc[0]
                rows.append({"design": "hierarchical (random runner intercept and slope)",
                             "within_runner": False, "odds_ratio": r["odds_ratio"],
                             "ci_low": r["ci_low"], "ci_high": r["ci_high"],
                             "n_episodes": int(he.runners["n_onsets"].sum()),
                             "note": f"effect varies across runners: SD {r['sd_log_or']:.2g} log OR"})
            except (ValueError, RuntimeError, np.linalg.LinAlgError) as err:
                rows.append({"design": "hierarchical", "within_runner": False, "note": str(err)})
    cols = ["design", "within_runner", "odds_ratio", "ci_low", "ci_high", "n_episodes", "note"]
    return pd.DataFrame(rows).reindex(columns=cols)
