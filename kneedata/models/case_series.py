"""The self-controlled case series (conditional Poisson with long calendar periods)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from kneedata.models.design import _lagged_design
from kneedata.models.engines import _finish, _fit_conditional
from kneedata.models.results import ModelResult

__all__ = ["case_series"]


def case_series(
    frame: pd.DataFrame,
    exposures: str | Iterable[str],
    *,
    lags: Iterable[int] = (7,),
    period_days: int = 91,
    gap_days: int = 0,
    penalty: str | float | None = None,
    agg: Mapping[str, str] | None = None,
    alpha: float = 0.05,
) -> ModelResult:
    """Self-controlled case series as a conditional Poisson model over at-risk days.

    Parameters
    ----------
    frame
        Analysis frame (one or several runners).
    exposures
        Frame columns; one term per lag, ``<exposure>_<L>d`` (as in :func:`daily_model`).
    lags
        Window lengths [d] (days ``t-L .. t-1``).
    period_days
        Length of the fixed calendar periods (counted from 1970-01-01) within
        which the baseline rate is constant [d]; each runner x period is a stratum.
    gap_days
        Shift every window ``gap_days`` further back [d].
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
        Rate ratios (``ratio_kind="rate"``); ``results`` is the
        ``ConditionalPoisson`` fit; ``design`` the at-risk days with ``period``.

    Notes
    -----
    ``log rate(t) = a_(runner, period) + sum b W(t)``, conditioned on each
    stratum's number of onsets, so the period effects drop out: every time-invariant
    trait and every slow change slower than a period cancels (Whitaker et al.
    2006). Days not at risk (episode, washout, unknown diary) leave the
    observation time, as SCCS does for refractory periods. Strata with no onset
    carry no information and are left out of the fit. Equivalent to a
    time-stratified case-crossover with every at-risk day as referent
    (Armstrong et al. 2014). Measured on one runner (README; 182-day periods,
    log-F): coverage 95-99 %, power 29 % at OR 3 and 63 % at OR 6, a little
    below the primary analysis, in exchange for robustness to slow trends.

    References
    ----------
    Whitaker HJ, Farrington CP, Spiessens B, Musonda P (2006). Tutorial in
    biostatistics: the self-controlled case series method. Stat Med 25:1768-1797.
    doi:10.1002/sim.2302
    Armstrong BG, Gasparrini A, Tobias A (2014). Conditional Poisson models: a
    flexible alternative to conditional logistic case cross-over analysis. BMC Med
    Res Methodol 14:122. doi:10.1186/1471-2288-14-122
    """
    from statsmodels.discrete.conditional_models import ConditionalPoisson

    if int(period_days) != period_days or period_days < 14:
        raise ValueError(f"case_series: period_days must be an integer >= 14, got {period_days!r}")
    d = _lagged_design(frame, exposures, lags=lags, gap_days=gap_days, agg=agg, alpha=alpha,
                       penalty=penalty, who="case_series", intercept=False)
    rows, used = d.rows, d.used
    row = rows["_row"].to_numpy()
    period = pd.factorize(pd.MultiIndex.from_arrays([d.days.code[row], d.days.dn[row] // period_days]))[0]
    y = rows["onset"].to_numpy(dtype=float)
    keep = np.bincount(period, weights=y)[period] > 0
    fit = _fit_conditional(ConditionalPoisson, y[keep], rows.loc[keep, used].to_numpy(dtype=float),
                           period[keep], used, penalty)
    if penalty == "logF":
        d.notes.append("log-F(2,2) penalised: estimates shrunk towards 1")
    design = rows[["runner_id", "date", "onset", *used]].assign(period=period).reset_index(drop=True)
    settings: dict[str, Any] = {"lags": d.lags, "gap_days": gap_days, "agg": d.kinds,
                                "alpha": alpha, "period_days": period_days, "penalty": penalty,
                                "n_episodes": d.n_onsets, "n_days": int(keep.sum()),
                                "terms_used": used}
    return _finish("case_series", fit, d.terms, ratio_kind="rate", n_episodes=d.n_onsets,
                   alpha=alpha, penalty=penalty, notes=d.notes, design=design, settings=settings)
