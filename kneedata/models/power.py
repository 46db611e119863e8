"""The detectable odds ratio of the primary analysis (power by simulation or approximation)."""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from kneedata.models.design import _exposure_list, _lagged_design
from kneedata.models.engines import _fit_binomial
from kneedata.models.primary import PRIMARY_EXPOSURES, _present
from kneedata.models.results import MIN_EPISODES, MIN_INFORMATIVE, ModelFitError

__all__ = ["detectable_odds_ratio"]


def _simulated_onsets(rng: np.random.Generator, prob: np.ndarray, day: np.ndarray,
                      refractory_days: int) -> np.ndarray:
    """Onsets drawn day by day; after each one the next ``refractory_days`` days are skipped."""
    u = rng.random(prob.size)
    out = np.zeros(prob.size, dtype=bool)
    free_from = -np.inf
    for i in np.flatnonzero(u < prob):
        if day[i] >= free_from:
            out[i] = True
            free_from = day[i] + refractory_days
    return out


def _refit_power(rng: np.random.Generator, x: np.ndarray, day: np.ndarray, n_onsets: int,
                 odds_ratio: float, *, n_sim: int, refractory_days: int,
                 alpha: float) -> tuple[float, float]:
    """(power, median SE of the log OR) of the primary fit for one true OR, by simulation.

    Detected: the interval lies on the true effect's side of 1 (above for
    ``odds_ratio`` > 1, below for a protective one) with at least
    :data:`MIN_INFORMATIVE` exposed onsets.
    """
    from scipy import stats

    base = n_onsets / max(1.0, float(np.sum(odds_ratio ** x)))
    prob = np.clip(base * odds_ratio ** x * (1 + refractory_days * n_onsets / max(1, x.size)),
                   0, 0.5)
    X = pd.DataFrame({"const": 1.0, "x": x})
    z = stats.norm.ppf(1 - alpha / 2)
    hits, ses = 0, []
    for _ in range(n_sim):
        y = _simulated_onsets(rng, prob, day, refractory_days).astype(float)
        if y.sum() < MIN_EPISODES:
            continue  # counted as not detected
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                fit = _fit_binomial(y, X, k=1, link="logit", penalty="logF",
                                    cov_type="nonrobust", hac_lags=1, groups=None,
                                    cov_struct="independence")
            except ModelFitError:
                continue
        b, se = float(fit.params[0]), float(fit.bse[0])
        if np.isfinite(se):
            ses.append(se)
            n_inf = int(((x != 0) & (y == 1)).sum())
            side = b - z * se > 0 if odds_ratio > 1 else b + z * se < 0
            hits += int(side and n_inf >= MIN_INFORMATIVE)
    return hits / n_sim, float(np.median(ses)) if ses else np.nan


def detectable_odds_ratio(
    frame: pd.DataFrame,
    exposures: str | Iterable[str] | None = None,
    *,
    power: float = 0.8,
    n_sim: int = 100,
    seed: int = 0,
    odds_ratios: Sequence[float] = (1.5, 2.0, 3.0, 4.0, 6.0, 10.0),
    window_days: int = 7,
    refractory_days: int = 21,
    alpha: float = 0.05,
    direction: str = "harmful",
) -> pd.DataFrame:
    """What this runner's data could show: the smallest odds ratio the primary analysis detects.

    For each exposure, new pain onsets are simulated on the runner's own at-risk
    days, with the runner's own exposure windows and number of episodes, at each
    true odds ratio of ``odds_ratios`` (after every simulated onset the next
    ``refractory_days`` days are not at risk, as after a real episode), and the
    primary analysis is refitted; its power is the share of fits whose interval
    lies above 1 with at least :data:`MIN_INFORMATIVE` exposed onsets. For a
    protective effect the true odds ratios are the inverses (``1 / 2`` is "pain
    half as often") and the interval must lie below 1. Each power is a share of
    ``n_sim`` simulated histories, so it carries a simulation error of
    ``sqrt(p (1 - p) / n_sim)`` (up to 5 points at 100 simulations; given in the
    ``*_se`` columns).

    Parameters
    ----------
    frame
        Analysis frame of one runner.
    exposures
        As for :func:`primary_analysis`.
    power
        Target power (0-1).
    n_sim
        Simulated histories per odds ratio.
    seed
        Seed of the simulation (reproducible).
    odds_ratios
        True odds ratios tried (per unit of the window summary).
    window_days
        Window of the primary analysis [d].
    refractory_days
        Days not at risk after a simulated onset [d].
    alpha
        1 - confidence level.
    direction
        ``"harmful"`` (pain more often after the exposure), ``"protective"`` (less
        often) or ``"both"`` (one row for each).

    Returns
    -------
    pandas.DataFrame
        One row per exposure (and direction): ``exposure``, ``term``,
        ``direction``, ``n_episodes`` (this runner's), ``detectable_odds_ratio``
        (harmful: the smallest OR of the grid with power >= ``power``, ``inf`` if
        none; protective: the largest ``1 / OR`` with that power, ``0`` if none),
        ``power_at_2``, ``power_at_3`` (power for a twofold and a threefold effect
        in that direction: OR 2 and 3, or 1/2 and 1/3), ``power_at_2_se``,
        ``power_at_3_se`` (their simulation errors), ``episodes_for_or_2``,
        ``episodes_for_or_3`` (episodes needed for ``power`` at that effect, from the
        simulated standard errors scaled as ``1 / sqrt(episodes)``; -1 when unknown).
    """
    from scipy import stats

    if not 0 < power < 1:
        raise ValueError(f"detectable_odds_ratio: power must be in (0, 1), got {power!r}")
    if int(n_sim) != n_sim or n_sim < 10:
        raise ValueError(f"detectable_odds_ratio: n_sim must be an integer >= 10, got {n_sim!r}")
    if direction not in ("harmful", "protective", "both"):
        raise ValueError("detectable_odds_ratio: direction must be 'harmful', 'protective' "
                         f"or 'both', got {direction!r}")
    signs = {"harmful": (1,), "protective": (-1,), "both": (1, -1)}[direction]
    names = (_present(frame, PRIMARY_EXPOSURES) if exposures is None
             else _exposure_list(exposures))
    z_sum = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    grid = sorted({float(o) for o in (*odds_ratios, 2.0, 3.0)})
    rows = []
    for name in names:
        blank: dict[str, Any] = {"exposure": name, "term": f"{name}_{window_days}d",
                                 "n_episodes": 0, "power_at_2": 0.0, "power_at_3": 0.0,
                                 "power_at_2_se": 0.0, "power_at_3_se": 0.0,
                                 "episodes_for_or_2": -1, "episodes_for_or_3": -1}
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                d = _lagged_design(frame, [name], lags=(window_days,), gap_days=0, agg=None,
                                   alpha=alpha, penalty=None, who="detectable_odds_ratio",
                                   intercept=False)
        except ModelFitError:  # no onset at risk, or the exposure never varies: nothing to detect
            rows += [{**blank, "direction": _DIRECTION[sign],
                      "detectable_odds_ratio": np.inf if sign > 0 else 0.0} for sign in signs]
            continue
        x = d.rows[blank["term"]].to_numpy(dtype=float)
        day = (pd.to_datetime(d.rows["date"]) - pd.Timestamp("1970-01-01")).dt.days.to_numpy()
        for sign in signs:
            rng = np.random.default_rng(seed)
            sim = {o: _refit_power(rng, x, day, d.n_onsets, o ** sign, n_sim=int(n_sim),
                                   refractory_days=refractory_days, alpha=alpha) for o in grid}
            # episodes needed: standard errors simulated at >= 15 episodes, scaled as 1/sqrt(n)
            n_ref = max(d.n_onsets, 15)
            need = {}
            for o in (2.0, 3.0):
                se = sim[o][1] if n_ref == d.n_onsets else _refit_power(
                    rng, x, day, n_ref, o ** sign, n_sim=int(n_sim),
                    refractory_days=refractory_days, alpha=alpha)[1]
                need[o] = (int(np.ceil(n_ref * (se * z_sum / np.log(o)) ** 2))
                           if np.isfinite(se) else -1)
            found = next((o for o in grid if o in odds_ratios and sim[o][0] >= power), np.inf)
            rows.append({**blank, "direction": _DIRECTION[sign], "n_episodes": d.n_onsets,
                         "detectable_odds_ratio": float(found) ** sign,
                         "power_at_2": sim[2.0][0], "power_at_3": sim[3.0][0],
                         "power_at_2_se": _sim_error(sim[2.0][0], int(n_sim)),
                         "power_at_3_se": _sim_error(sim[3.0][0], int(n_sim)),
                         "episodes_for_or_2": need[2.0], "episodes_for_or_3": need[3.0]})
    columns = ["exposure", "term", "direction", "n_episodes", "detectable_odds_ratio",
               "power_at_2", "power_at_3", "power_at_2_se", "power_at_3_se",
               "episodes_for_or_2", "episodes_for_or_3"]
    return pd.DataFrame(rows, columns=columns)


_DIRECTION = {1: "harmful", -1: "protective"}


def _sim_error(p: float, n_sim: int) -> float:
    """Binomial simulation error of a power estimated from ``n_sim`` histories."""
    return float(np.sqrt(p * (1 - p) / n_sim))
