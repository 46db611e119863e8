"""The detectable odds ratio of the primary analysis: power by simulating this runner's history.

The simulated histories are fitted through their sufficient statistics
(:class:`_SufficientFits`): the same estimates as refitting each one with the
primary engine, a few dozen fits instead of over a thousand (docs/performance.md).
"""

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


def _onset_prob(x: np.ndarray, n_onsets: int, odds_ratio: float, refractory_days: int) -> np.ndarray:
    """Daily onset probability on the at-risk rows for one true odds ratio."""
    base = n_onsets / max(1.0, float(np.sum(odds_ratio ** x)))
    return np.clip(base * odds_ratio ** x * (1 + refractory_days * n_onsets / max(1, x.size)),
                   0, 0.5)


def _refit(x: np.ndarray, ys: Sequence[np.ndarray]) -> np.ndarray:
    """``(b, se)`` of the log OR of ``y ~ 1 + x`` (log-F(2,2), primary engine), one row per ``y``.

    Every history is refitted by :func:`kneedata.models.engines._fit_binomial`; a
    failed fit gives NaN.
    """
    X = pd.DataFrame({"const": 1.0, "x": x})
    out = np.full((len(ys), 2), np.nan)
    for i, y in enumerate(ys):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                fit = _fit_binomial(y.astype(float), X, k=1, link="logit", penalty="logF",
                                    cov_type="nonrobust", hac_lags=1, groups=None,
                                    cov_struct="independence")
            except ModelFitError:
                continue
        out[i] = float(fit.params[0]), float(fit.bse[0])
    return out


class _SufficientFits:
    """The same fits, each distinct ``(sum y, sum x y)`` solved once, many at a time.

    With the design fixed, the log-likelihood of the logit model ``y ~ 1 + x`` depends
    on ``y`` only through ``X'y = (sum y, sum x y)`` (its sufficient statistics), and
    the log-F(2,2) pseudo-rows are the same for every history; so is the penalised
    estimate and its model-based standard error. Histories sharing the statistics
    share one fit (with a count or 0/1 exposure most do). Each new pair is solved by
    Newton's method on the rows grouped by their value of ``x``, vectorised over the
    pairs; the solution is the one the primary engine's IRLS converges to (its
    standard errors agree to about 1e-6 relative, the IRLS tolerance).
    """

    def __init__(self, x: np.ndarray) -> None:
        self.x = x
        self.values, counts = np.unique(x, return_counts=True)
        self.counts = counts.astype(float)
        self.cache: dict[tuple[float, float], tuple[float, float]] = {}

    def __call__(self, x: np.ndarray, ys: Sequence[np.ndarray]) -> np.ndarray:
        keys = [(float(y.sum()), float(self.x[y].sum())) for y in ys]
        new = sorted({k for k in keys if k not in self.cache})
        if new:
            stats = np.array(new)
            b, se = self._solve(stats[:, 0], stats[:, 1])
            self.cache.update({k: (float(b[i]), float(se[i])) for i, k in enumerate(new)})
        return np.array([self.cache[k] for k in keys], dtype=float).reshape(len(keys), 2)

    def _solve(self, s0: np.ndarray, s1: np.ndarray, *, chunk: int = 512
               ) -> tuple[np.ndarray, np.ndarray]:
        """Penalised MLE of the slope and its standard error for each ``(s0, s1)`` (NaN: failed)."""
        b, se = np.full(s0.size, np.nan), np.full(s0.size, np.nan)
        for lo in range(0, s0.size, chunk):
            part = slice(lo, lo + chunk)
            b[part], se[part] = self._newton(s0[part], s1[part])
        return b, se

    def _newton(self, s0: np.ndarray, s1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        u, c = self.values, self.counts
        n = c.sum()
        beta = np.stack([np.log(s0 / (n - s0)), np.zeros(s0.size)], axis=1)
        done = np.zeros(s0.size, dtype=bool)
        hess = np.zeros((s0.size, 2, 2))
        for _ in range(100):
            with np.errstate(over="ignore"):
                p = 1.0 / (1.0 + np.exp(-(beta[:, :1] + beta[:, 1:] * u)))  # pairs x values
                q = 1.0 / (1.0 + np.exp(-beta[:, 1]))  # the pseudo-rows' probability
            w = c * p * (1.0 - p)
            grad = np.stack([s0 - p @ c, s1 + 1.0 - p @ (c * u) - 2.0 * q], axis=1)
            hess = np.stack([np.stack([w.sum(1), w @ u], 1),
                             np.stack([w @ u, w @ (u * u) + 2.0 * q * (1.0 - q)], 1)], axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                step = np.linalg.solve(hess, grad[..., None])[..., 0]
            step = np.clip(np.nan_to_num(step, nan=0.0), -2.0, 2.0)  # damped far from the optimum
            step[done] = 0.0
            beta = beta + step
            done |= np.abs(step).max(axis=1) < 1e-10
            if done.all():
                break
        with np.errstate(invalid="ignore", divide="ignore"):
            det = hess[:, 0, 0] * hess[:, 1, 1] - hess[:, 0, 1] ** 2
            se = np.sqrt(hess[:, 0, 0] / det)
        ok = done & np.isfinite(beta).all(axis=1) & np.isfinite(se)
        return np.where(ok, beta[:, 1], np.nan), np.where(ok, se, np.nan)


def _sim_power(rng: np.random.Generator, x: np.ndarray, day: np.ndarray, n_onsets: int,
               odds_ratio: float, *, n_sim: int, refractory_days: int, alpha: float,
               fits: Any) -> tuple[float, float]:
    """(power, median SE of the log OR) of the primary fit for one true OR, by simulation.

    Detected: the interval lies on the true effect's side of 1 (above for
    ``odds_ratio`` > 1, below for a protective one) with at least
    :data:`MIN_INFORMATIVE` exposed onsets. ``fits(x, ys)`` gives ``(b, se)`` of each
    simulated history (:func:`_refit` or :class:`_SufficientFits`); histories with
    fewer than :data:`MIN_EPISODES` onsets or a failed fit count as not detected.
    """
    from scipy import stats

    prob = _onset_prob(x, n_onsets, odds_ratio, refractory_days)
    z = stats.norm.ppf(1 - alpha / 2)
    ys = [_simulated_onsets(rng, prob, day, refractory_days) for _ in range(n_sim)]
    ys = [y for y in ys if y.sum() >= MIN_EPISODES]
    if not ys:
        return 0.0, np.nan
    fitted = fits(x, ys)
    b, se = fitted[:, 0], fitted[:, 1]
    ok = np.isfinite(se)
    n_inf = np.array([int(((x != 0) & y).sum()) for y in ys])
    side = b - z * se > 0 if odds_ratio > 1 else b + z * se < 0
    hits = int((ok & side & (n_inf >= MIN_INFORMATIVE)).sum())
    return hits / n_sim, float(np.median(se[ok])) if ok.any() else np.nan


#: How :func:`detectable_odds_ratio` fits the simulated histories.
METHODS = ("sufficient", "refit")


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
    method: str = "sufficient",
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
    method
        How the simulated histories are fitted: ``"sufficient"`` (default) fits each
        distinct pair of sufficient statistics ``(sum y, sum x y)`` once, by Newton's
        method vectorised over the pairs; ``"refit"`` refits every history with the
        primary engine (statsmodels). The histories (same ``seed``) and the model are
        the same, so the two give the same powers (tested); ``"sufficient"`` does a
        few dozen fits where ``"refit"`` does over a thousand.

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
    if method not in METHODS:
        raise ValueError(f"detectable_odds_ratio: method must be one of {METHODS}, got {method!r}")
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
        fits = _SufficientFits(x) if method == "sufficient" else _refit
        for sign in signs:
            rng = np.random.default_rng(seed)
            sim = {o: _sim_power(rng, x, day, d.n_onsets, o ** sign, n_sim=int(n_sim),
                                 refractory_days=refractory_days, alpha=alpha, fits=fits)
                   for o in grid}
            # episodes needed: standard errors simulated at >= 15 episodes, scaled as 1/sqrt(n)
            n_ref = max(d.n_onsets, 15)
            need = {}
            for o in (2.0, 3.0):
                se = sim[o][1] if n_ref == d.n_onsets else _sim_power(
                    rng, x, day, n_ref, o ** sign, n_sim=int(n_sim),
                    refractory_days=refractory_days, alpha=alpha, fits=fits)[1]
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
