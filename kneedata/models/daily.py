"""The discrete-time hazard model (logit or cloglog) on at-risk days."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from kneedata.models.design import _calendar_basis, _lagged_design
from kneedata.models.engines import _finish, _fit_binomial
from kneedata.models.results import ModelResult

__all__ = ["daily_model"]


def _check_daily(cov_struct: str, link: str, cov_type: str, calendar_df: int,
                 penalty: str | float | None) -> None:
    if cov_struct not in ("independence", "exchangeable"):
        raise ValueError(f"daily_model: cov_struct must be 'independence' or 'exchangeable', got {cov_struct!r}")
    if link not in ("logit", "cloglog"):
        raise ValueError(f"daily_model: link must be 'logit' or 'cloglog', got {link!r}")
    if cov_type not in ("HAC", "nonrobust"):
        raise ValueError(f"daily_model: cov_type must be 'HAC' or 'nonrobust', got {cov_type!r}")
    if link == "cloglog" and penalty == "logF":
        raise ValueError("daily_model: penalty='logF' is defined for link='logit' (its "
                         "pseudo-data are not centred at ratio 1 under cloglog); use "
                         "link='logit', a ridge penalty, or no penalty")
    if int(calendar_df) != calendar_df or calendar_df < 0 or calendar_df == 1:
        raise ValueError(f"daily_model: calendar_df must be 0 (none) or an integer >= 2, "
                         f"got {calendar_df!r}")


def daily_model(
    frame: pd.DataFrame,
    exposures: str | Iterable[str],
    *,
    lags: Iterable[int] = (7,),
    gap_days: int = 0,
    link: str = "logit",
    calendar_df: int = 0,
    penalty: str | float | None = None,
    groups: str | None = None,
    cov_struct: str = "independence",
    cov_type: str = "HAC",
    maxlags: int | None = None,
    agg: Mapping[str, str] | None = None,
    alpha: float = 0.05,
) -> ModelResult:
    """Discrete-time hazard model of onset on runner-days at risk, lagged exposure windows.

    Parameters
    ----------
    frame
        Analysis frame (one or several runners).
    exposures
        Frame columns; each gives one term per lag, ``<exposure>_<L>d``.
    lags
        Window lengths ``L`` [d]: the term summarises days ``t-L .. t-1``
        (7 = the previous week, the default: one window per exposure, since two
        overlapping windows of one exposure are collinear and unstable); for
        ``last``-rule columns (rolling states such as ``acute_7d``) it is the
        value on day ``t-L``.
    gap_days
        Shift every window ``gap_days`` further back, against reverse causation [d].
    link
        ``"logit"`` (odds ratios) or ``"cloglog"`` (discrete-time hazard ratios).
    calendar_df
        Degrees of freedom of a natural cubic spline of calendar time (0 = none),
        which absorbs slow trends in the baseline risk.
    penalty
        ``None``, ``"logF"`` (log-F(2,2) prior on each term by data augmentation)
        or a ridge weight > 0 (point estimates only).
    groups
        Cluster column for GEE; ``None``: GEE on ``runner_id`` for several
        runners, else a one-runner GLM.
    cov_struct
        GEE working correlation: ``"independence"`` or ``"exchangeable"``.
    cov_type
        One runner: ``"HAC"`` (Newey-West, ``maxlags`` default ``max(lags)``) or
        ``"nonrobust"`` (model-based).
    maxlags
        HAC truncation lag [d].
    agg
        Override the window rule per exposure.
    alpha
        1 - confidence level.

    Returns
    -------
    ModelResult
        ``results`` is a statsmodels ``GLM`` (one runner) or ``GEE`` result;
        ``design`` holds the at-risk days used.

    Notes
    -----
    ``g(P(onset_t | at risk)) = b0 + s(t) + sum_(e, L) b_(e,L) W_(e,L)(t)`` over
    days at risk with every window known, ``g`` the logit or cloglog link and
    ``s`` the optional calendar spline. Measured on one runner (README,
    single-runner study; 3 years, ~15 episodes, lag 7): with ``penalty="logF"``
    and ``cov_type="nonrobust"`` (the primary analysis) coverage 95-99 %, power
    33 % at OR 3 and 67 % at OR 6; unpenalised with HAC errors, power 42 % / 77 %
    but coverage only 77 % for a null exposure (1-2 exposed episodes separate or
    give far too short intervals); ``calendar_df=4`` changes neither.

    References
    ----------
    Singer JD, Willett JB (1993). It's about time: using discrete-time survival
    analysis to study duration and the timing of events. J Educ Stat 18:155-195.
    doi:10.3102/10769986018002155
    Newey WK, West KD (1987). A simple, positive semi-definite, heteroskedasticity
    and autocorrelation consistent covariance matrix. Econometrica 55:703-708.
    doi:10.2307/1913610
    Liang KY, Zeger SL (1986). Longitudinal data analysis using generalized linear
    models. Biometrika 73:13-22. doi:10.1093/biomet/73.1.13
    """

    _check_daily(cov_struct, link, cov_type, calendar_df, penalty)
    if groups is not None and groups not in frame.columns and groups != "runner_id":
        raise ValueError(f"daily_model: groups={groups!r} is not a column of the frame")
    d = _lagged_design(frame, exposures, lags=lags, gap_days=gap_days, agg=agg, alpha=alpha,
                       penalty=penalty, who="daily_model", intercept=True)
    rows, used = d.rows, d.used
    if groups is None and rows["runner_id"].nunique() > 1:
        groups = "runner_id"
    parts = [pd.DataFrame({"const": np.ones(len(rows))})]
    if calendar_df:
        parts.append(_calendar_basis(rows, calendar_df))
    X = pd.concat([*parts, rows[used].astype(float).reset_index(drop=True)], axis=1)
    hac_lags = max(d.lags) if maxlags is None else int(maxlags)
    codes = None
    settings: dict[str, Any] = {"lags": d.lags, "gap_days": gap_days, "agg": d.kinds,
                                "alpha": alpha, "n_episodes": d.n_onsets, "n_days": len(rows),
                                "link": link, "calendar_df": calendar_df, "penalty": penalty}
    if groups is None:
        settings.update({"method": "GLM", "cov_type": cov_type, "maxlags": hac_lags})
    else:
        codes = pd.factorize(d.days.data[groups].to_numpy()[rows["_row"].to_numpy()])[0]
        n_groups = int(np.unique(codes).size)
        settings.update({"method": "GEE", "groups": groups, "cov_struct": cov_struct,
                         "n_groups": n_groups})
        if n_groups < 20:
            d.notes.append(f"GEE with {n_groups} runner(s): robust standard errors are too "
                           "small with fewer than about 20 runners")
    fit = _fit_binomial(rows["onset"].to_numpy(dtype=float), X, k=len(used), link=link,
                        penalty=penalty, cov_type=cov_type, hac_lags=hac_lags, groups=codes,
                        cov_struct=cov_struct)
    if penalty == "logF":
        d.notes.append("log-F(2,2) penalised: estimates shrunk towards 1")
    settings["terms_used"] = used
    design = rows[["runner_id", "date", "onset", "n_prior_episodes", *used]].reset_index(drop=True)
    return _finish("daily_model", fit, d.terms, ratio_kind="hazard" if link == "cloglog" else "odds",
                   n_episodes=d.n_onsets, alpha=alpha, penalty=penalty, notes=d.notes,
                   design=design, settings=settings)
