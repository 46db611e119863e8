"""The counting-process Cox model of recurrent episodes."""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from kneedata.models.design import _lagged_design, _LaggedDesign
from kneedata.models.engines import (
    _caught_notes,
    _converged,
    _finish,
    _Fit,
    _is_ridge,
    _logf_strata,
)
from kneedata.models.results import ModelFitError, ModelResult

__all__ = ["recurrent_cox"]


def _phreg_clustered(
    model: Any, fit: Any, X: np.ndarray, stop: np.ndarray, status: np.ndarray,
    strata: np.ndarray, groups: np.ndarray,
) -> Any:
    """PHReg results with the cluster-robust (sandwich) covariance.

    ``PHReg.fit(groups=...)`` is not used: with delayed entry its score residuals do
    not sum to the score (statsmodels 0.15) and rows outside every risk set come
    back NaN, which turns every standard error into NaN. Our rows are unit
    intervals ``(k - 1, k]`` on an integer time scale, so row ``i`` belongs to the
    risk set of one event time only (its own ``stop``), and its score residual is
    ``U_i = (x_i - xbar) (status_i - exp(eta_i) d / S0)`` with ``S0``, ``xbar``
    and ``d`` the risk-set sum of ``exp(eta)``, the weighted mean covariate and the
    number of events at that (stratum, time) (Breslow form; zero when no event
    occurs there). Covariance ``H^-1 (sum_g U_g U_g') H^-1`` with ``H`` the
    Hessian of the fitted partial likelihood (Lin & Wei 1989,
    doi:10.1080/01621459.1989.10478874).
    """
    from statsmodels.duration.hazard_regression import PHRegResults

    params = np.asarray(fit.params, dtype=float)
    eta = X @ params
    eta = eta - eta.max()
    w = np.exp(eta)
    key = pd.factorize(pd.MultiIndex.from_arrays([strata, stop]))[0]
    n_key = key.max() + 1
    s0 = np.bincount(key, weights=w, minlength=n_key)
    d = np.bincount(key, weights=status, minlength=n_key)
    s1 = np.column_stack([np.bincount(key, weights=w * X[:, j], minlength=n_key)
                          for j in range(X.shape[1])])
    xbar = s1 / s0[:, None]
    resid = (X - xbar[key]) * (status - w * d[key] / s0[key])[:, None]
    codes = pd.factorize(groups)[0]
    sums = np.zeros((codes.max() + 1, X.shape[1]))
    np.add.at(sums, codes, resid)
    hess_inv = np.linalg.inv(model.hessian(params))
    cov = hess_inv @ (sums.T @ sums) @ hess_inv
    model.groups = np.asarray(groups)
    return PHRegResults(model, params, cov, covariance_type="robust")


def _cox_times(d: _LaggedDesign, time_scale: str) -> tuple[np.ndarray, np.ndarray]:
    """(start, stop] of each at-risk day on the chosen time scale (unit intervals)."""
    rows, days = d.rows, d.days
    row = rows["_row"].to_numpy()
    day = days.dn[row]
    if time_scale == "total":
        origin = (days.dn - days.pos)[row]
    else:  # first at-risk day of each (runner, episode number) period
        at = days.flag("at_risk")
        key = pd.MultiIndex.from_arrays([days.code[at], days.prior()[at]])
        period_start = pd.Series(days.dn[at]).groupby(key).min()
        origin = period_start.reindex(
            pd.MultiIndex.from_arrays([days.code[row], rows["n_prior_episodes"].to_numpy()])
        ).to_numpy(dtype=np.int64)
    stop = (day - origin + 1).astype(float)
    # PHReg counts a row as at risk at its entry time (entry <= t, statsmodels 0.15),
    # while the interval (k-1, k] is at risk only at t = k. With integer event
    # times, entry k - 0.5 gives exactly the counting-process risk sets.
    return stop - 0.5, stop


def _fit_cox(X: np.ndarray, stop: np.ndarray, status: np.ndarray, strata: np.ndarray,
             groups: np.ndarray, *, names: list[str], ties: str, penalty: Any,
             clustered: bool) -> _Fit:
    """PHReg fit (rows: unit intervals), ML, log-F (pseudo-strata) or ridge."""
    from statsmodels.duration.hazard_regression import PHReg

    k = X.shape[1]
    base = PHReg(stop, pd.DataFrame(X, columns=names), status=status, entry=stop - 0.5,
                 strata=strata, ties=ties)
    if penalty == "logF":
        Xa, sa, ga = _logf_strata(k, int(strata.max()) + 1)
        X, status = np.vstack([X, Xa]), np.concatenate([status, sa])
        stop, strata = np.concatenate([stop, np.ones(len(sa))]), np.concatenate([strata, ga])
        groups = np.concatenate([groups, groups.max() + 1 + ga])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model = PHReg(stop, pd.DataFrame(X, columns=names), status=status,
                          entry=stop - 0.5, strata=strata, ties=ties)
            if _is_ridge(penalty):
                fit = model.fit_regularized(alpha=float(penalty), L1_wt=0.0)
                params = np.asarray(fit.params, dtype=float)
                return _Fit(fit, params, np.full(k, np.nan), True, params, 0, None,
                            _caught_notes(caught))
            fit = model.fit()
            if not np.all(np.isfinite(fit.params)):  # Newton overshoots on near-separated data
                fit = model.fit(method="bfgs", maxiter=500)
            if clustered:
                fit = _phreg_clustered(model, fit, X, stop, status, strata, groups)
        except (np.linalg.LinAlgError, ValueError, OverflowError) as err:
            raise ModelFitError(
                f"recurrent_cox: PHReg failed ({type(err).__name__}: {err}); drop rare or "
                "collinear terms"
            ) from err
    params = np.asarray(fit.params, dtype=float)
    with np.errstate(invalid="ignore"):
        bse = np.asarray(fit.bse, dtype=float)
    return _Fit(fit, params, bse, _converged(fit, caught), params, 0, base.loglike,
                _caught_notes(caught))


def recurrent_cox(
    frame: pd.DataFrame,
    exposures: str | Iterable[str],
    *,
    lags: Iterable[int] = (7,),
    gap_days: int = 0,
    time_scale: str = "gap",
    stratify: bool | None = None,
    max_stratum: int = 3,
    ties: str = "efron",
    penalty: str | float | None = None,
    agg: Mapping[str, str] | None = None,
    alpha: float = 0.05,
) -> ModelResult:
    """Counting-process Cox model of recurrent episodes (Prentice-Williams-Peterson).

    Parameters
    ----------
    frame
        Analysis frame (one or several runners).
    exposures
        Frame columns; one term per lag, ``<exposure>_<L>d`` (as in :func:`daily_model`).
    lags
        Window lengths [d] (days ``t-L .. t-1``); one per exposure by default.
    gap_days
        Shift every window ``gap_days`` further back [d].
    time_scale
        ``"gap"``: days since the runner became at risk again; ``"total"``: days
        since the runner's first day.
    stratify
        Stratify by episode number (``n_prior_episodes``, capped at
        ``max_stratum``). Default: True for several runners; False for one runner,
        whose episode-number strata would each hold a single at-risk period.
    max_stratum
        Episode numbers >= this share one stratum.
    ties
        ``"efron"`` or ``"breslow"``.
    penalty
        ``None``, ``"logF"`` (pseudo-strata adding a log-F(2,2) prior) or a ridge
        weight > 0 (point estimates only).
    agg
        Override the window rule per exposure.
    alpha
        1 - confidence level.

    Returns
    -------
    ModelResult
        Hazard ratios (``ratio_kind="hazard"``); ``results`` is the ``PHReg`` fit;
        ``design`` has one row per at-risk day with ``start``, ``stop``,
        ``status`` and ``stratum``.

    Notes
    -----
    Each at-risk day ``t`` is an interval ``(k - 1, k]`` on the chosen time scale
    with time-varying exposures and ``status`` = onset; ``PHReg(stop, X, status,
    entry=start, strata=stratum, ties=ties)``, with cluster-robust (sandwich)
    errors on runner for several runners (Lin & Wei 1989) and none for one runner
    (its episodes are treated as independent given the exposures). Measured on
    one runner (README; lag 7, unpenalised): coverage 71 % for a null exposure
    and 90-96 % otherwise, power 32 % at OR 3 and 56 % at OR 6.

    References
    ----------
    Prentice RL, Williams BJ, Peterson AV (1981). On the regression analysis of
    multivariate failure time data. Biometrika 68:373-379. doi:10.1093/biomet/68.2.373
    Andersen PK, Gill RD (1982). Cox's regression model for counting processes: a
    large sample study. Ann Stat 10:1100-1120. doi:10.1214/aos/1176345976
    """
    if time_scale not in ("gap", "total"):
        raise ValueError(f"recurrent_cox: time_scale must be 'gap' or 'total', got {time_scale!r}")
    if ties not in ("efron", "breslow"):
        raise ValueError(f"recurrent_cox: ties must be 'efron' or 'breslow', got {ties!r}")
    d = _lagged_design(frame, exposures, lags=lags, gap_days=gap_days, agg=agg, alpha=alpha,
                       penalty=penalty, who="recurrent_cox", intercept=False)
    rows, used = d.rows, d.used
    n_runners = rows["runner_id"].nunique()
    stratify = n_runners > 1 if stratify is None else stratify
    start, stop = _cox_times(d, time_scale)
    stratum = np.minimum(rows["n_prior_episodes"].to_numpy(dtype=np.int64), max_stratum)
    if n_runners == 1:
        d.notes.append("one runner: episodes treated as independent given the exposures")
    status_all = rows["onset"].to_numpy(dtype=float)
    strata_all = stratum if stratify else np.zeros(len(stop), np.int64)
    # A unit interval (k-1, k] is in the risk set of event time k only; rows whose
    # (stratum, k) holds no event never enter the partial likelihood: left out.
    risk_key = pd.factorize(pd.MultiIndex.from_arrays([strata_all, stop]))[0]
    keep = np.bincount(risk_key, weights=status_all)[risk_key] > 0
    fit = _fit_cox(rows.loc[keep, used].to_numpy(dtype=float), stop[keep], status_all[keep],
                   strata_all[keep], pd.factorize(rows["runner_id"])[0][keep], names=used,
                   ties=ties, penalty=penalty, clustered=n_runners > 1)
    if penalty == "logF":
        d.notes.append("log-F(2,2) penalised: estimates shrunk towards 1")
    design = rows[["runner_id", "date", *used]].assign(
        start=start, stop=stop, status=status_all.astype(np.int64),
        stratum=stratum if stratify else 0).reset_index(drop=True)
    settings: dict[str, Any] = {
        "lags": d.lags, "gap_days": gap_days, "agg": d.kinds, "alpha": alpha,
        "time_scale": time_scale, "stratify": bool(stratify), "max_stratum": max_stratum,
        "ties": ties, "penalty": penalty, "n_episodes": d.n_onsets, "n_days": len(rows),
        "n_runners": int(n_runners), "n_rows_in_risk_sets": int(keep.sum()), "terms_used": used,
    }
    return _finish("recurrent_cox", fit, d.terms, ratio_kind="hazard", n_episodes=d.n_onsets,
                   alpha=alpha, penalty=penalty, notes=d.notes, design=design, settings=settings)
