"""Simulated runner-days with a known hazard, to check that the models recover it.

The simulator writes frames in the layout of :func:`kneedata.analysis_frame` (same
column names, dtypes and meaning for the columns it simulates), so a model that
recovers the simulated odds ratios here does the same computation on real data.

The data-generating process
---------------------------
Each runner lives ``n_days`` days. On every day:

1. **Hazard.** A runner who is free of pain (not in a prodrome, an episode or its
   washout) and has ``window_days`` days of history starts a pain episode with
   probability ``p`` where::

       logit p = logit(base_daily_risk) + u_runner + sum_k log(OR_k) * W_k(t)

   ``W_k(t)`` is exposure ``k`` summarised over the days ``t - window_days .. t - 1``
   with the rule of :func:`kneedata.frame.window_kind` (``any`` for flags such as
   ``spike_large``, ``sum`` for counts such as ``n_strength``), ``OR_k`` is
   ``effects[k]`` and ``u_runner ~ N(0, frailty_sd**2)`` is a runner's own,
   time-invariant proneness.
2. **Exposures of the day** are drawn given the state: a run with probability
   ``p_run`` (times ``episode_run_factor`` on episode pain days and
   ``prodrome_run_factor`` on prodrome days); given a run, its spike category
   (``none``/``small``/``moderate``/``large``) with probabilities ``spike_probs``
   (spike probabilities times ``prodrome_run_factor`` during a prodrome, so a
   runner with early symptoms avoids long runs); ``null_exposure`` (a flag with no
   effect unless given one) and a strength session, independent of everything.
   Spike categories are drawn directly, not derived from the distances, so their
   prevalence and effect are under control; ``distance_km`` is a nuisance column.
3. **Episodes.** With ``prodrome_days = P > 0`` the biological onset at day ``T0``
   is followed by ``P`` prodrome days of mild pain (1-2 / 10, below the pain-day
   threshold) during which the runner runs less, and the recorded onset (first
   pain day >= threshold) is ``T0 + P``: the *reverse causation* scenario. The
   episode then has ``1 + Poisson(pain_days_mean - 1)`` consecutive pain days
   (pain 3-8) and ``washout_days`` pain-free days, during which no new onset can
   occur (a pain day there would continue the episode, as in
   :func:`kneedata.pain_episodes`). Then the runner is at risk again.
4. **Trait confounding** (optional, ``trait_confounding=TraitConfounding(...)``).
   A time-invariant runner trait (say, weak hips), carried by the first
   ``round(prevalence * n_runners)`` runners, adds ``log(hazard_or)`` to that
   runner's log-odds of onset *and* multiplies the probability that a run is a
   ``large`` spike by ``spike_factor`` (taken from ``none``). The trait is a common
   cause of spikes and of pain: a model comparing runners with each other sees
   spikes where the pain is, whatever the true spike effect; a self-matched design
   (case-crossover) compares each runner with themselves and is unaffected.

The diary is complete (every day known), so ``at_risk`` is True except on
``[onset + 1, last pain day + washout_days]``. ``bio_onset`` marks the biological
onset (equal to ``onset`` when ``prodrome_days = 0``).

Notes
-----
With a daily risk of about 1 %, the odds ratio of the logistic hazard and the rate
ratio that a case-crossover or a Cox model estimates differ by under 2 %
(``OR 3`` on a base of 1 % is a risk ratio of 2.94), which the recovery tests
allow for.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from kneedata.frame import window_kind

__all__ = ["DEFAULT_EFFECTS", "SIMULATED_COLUMNS", "TraitConfounding", "simulate_cohort",
           "simulate_runner_days"]

#: Odds ratios of the default scenario: a large single-session spike in the previous
#: week triples the daily odds of an onset; ``null_exposure`` has no effect.
DEFAULT_EFFECTS: dict[str, float] = {"spike_large": 3.0, "null_exposure": 1.0}

#: Columns the simulator writes, in order.
SIMULATED_COLUMNS = (
    "runner_id", "date", "distance_km", "duration_min", "n_runs", "longest_run_km",
    "spike_ratio_max", "spike_small", "spike_moderate", "spike_large", "null_exposure",
    "n_strength", "strength_min", "max_pain_0_10", "pain_day", "diary_known",
    "in_episode", "episode_id", "onset", "at_risk", "n_prior_episodes", "bio_onset",
)

_EFFECT_COLUMNS = ("spike_small", "spike_moderate", "spike_large", "null_exposure",
                   "n_strength", "strength_min", "n_runs", "distance_km", "duration_min")

# spike ratio (run / longest run in the previous 30 days) ranges per category
_RATIO_RANGES = ((0.3, 1.1), (1.1, 1.3), (1.3, 2.0), (2.0, 3.0))



@dataclass(frozen=True)
class TraitConfounding:
    """A time-invariant runner trait that raises both the onset hazard and spike frequency.

    Parameters
    ----------
    prevalence
        Share of runners with the trait; the first ``round(prevalence * n_runners)``
        runners (in ``runner_ids`` order) carry it [0-1].
    hazard_or
        Odds ratio of onset for a runner with the trait, on every day [ratio].
    spike_factor
        Multiplier of the probability that a run is a ``large`` spike for a runner
        with the trait (the extra probability is taken from ``none``) [ratio].

    Notes
    -----
    For a runner with the trait ``logit p = logit(base_daily_risk) + u_runner +
    log(hazard_or) + sum_k log(OR_k) * W_k(t)`` and ``P(large | run) =
    spike_factor * spike_probs[3]``. Being constant within a runner, the trait
    cancels in a self-matched comparison (case-crossover) but confounds a pooled
    comparison across runners (:func:`kneedata.daily_model` without a runner
    term), which then overstates the spike odds ratio.
    """

    prevalence: float = 0.3
    hazard_or: float = 4.0
    spike_factor: float = 3.0

    def runner_has_trait(self, n_runners: int) -> np.ndarray:
        """Boolean array: which of ``n_runners`` runners (in order) carry the trait."""
        return np.arange(n_runners) < int(round(self.prevalence * n_runners))

    def check(self, spike_probs: np.ndarray) -> None:
        """Raise ValueError for an impossible setting (given the spike probabilities)."""
        if not 0 <= self.prevalence <= 1:
            raise ValueError(f"simulate: trait prevalence must be in [0, 1], got {self.prevalence!r}")
        for name in ("hazard_or", "spike_factor"):
            value = getattr(self, name)
            if not np.isfinite(value) or value <= 0:
                raise ValueError(f"simulate: trait {name} must be > 0, got {value!r}")
        total = spike_probs[1] + spike_probs[2] + spike_probs[3] * self.spike_factor
        if total > 1 + 1e-12:
            raise ValueError(
                f"simulate: trait spike_factor={self.spike_factor} makes the spike "
                f"probabilities of a trait runner sum to {total:.3f} > 1; lower spike_factor "
                "or spike_probs[3]"
            )


# states
_FREE, _PRODROME, _PAIN, _WASHOUT = 0, 1, 2, 3


def _rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        raise ValueError("simulate: pass seed=<int> or a numpy Generator (results must be reproducible)")
    return np.random.default_rng(seed)


def _check_effects(effects: Mapping[str, float]) -> dict[str, float]:
    out = {}
    for name, ratio in effects.items():
        if name not in _EFFECT_COLUMNS:
            raise ValueError(
                f"simulate: effect on {name!r} is not supported; choose from {_EFFECT_COLUMNS}"
            )
        if not np.isfinite(ratio) or ratio <= 0:
            raise ValueError(f"simulate: odds ratio for {name!r} must be > 0, got {ratio!r}")
        out[name] = float(ratio)
    return out


def _check_spike_probs(spike_probs: Sequence[float]) -> np.ndarray:
    probs = np.asarray(spike_probs, dtype=float)
    if probs.shape != (4,) or np.any(probs < 0) or not np.isclose(probs.sum(), 1.0):
        raise ValueError(
            "simulate: spike_probs must be 4 probabilities (none, small, moderate, large) "
            f"summing to 1, got {spike_probs!r}"
        )
    return probs


def _runner_spike_probs(
    probs: np.ndarray, n_runners: int, trait_confounding: TraitConfounding | None
) -> tuple[np.ndarray, np.ndarray]:
    """Per-runner spike probabilities (rows equal without a trait) and who has the trait."""
    runner_probs = np.tile(probs, (n_runners, 1))
    trait = np.zeros(n_runners, dtype=bool)
    if trait_confounding is not None:
        trait_confounding.check(probs)
        trait = trait_confounding.runner_has_trait(n_runners)
        runner_probs[trait, 3] = probs[3] * trait_confounding.spike_factor
        runner_probs[trait, 0] = 1.0 - runner_probs[trait, 1:].sum(axis=1)
    return runner_probs, trait


def _advance(cur: np.ndarray, remaining: np.ndarray, onset_today: np.ndarray,
             rng: np.random.Generator, *, pain_days_mean: float, washout_days: int) -> None:
    """Move runners whose prodrome, pain or washout has run out to the next state (in place)."""
    expired = (cur != _FREE) & (remaining == 0)
    for r in np.flatnonzero(expired):
        if cur[r] == _PRODROME:
            cur[r] = _PAIN
            remaining[r] = 1 + rng.poisson(max(pain_days_mean - 1.0, 0.0))
            onset_today[r] = True
        elif cur[r] == _PAIN:
            cur[r] = _WASHOUT
            remaining[r] = washout_days
            if washout_days == 0:
                cur[r] = _FREE
        else:
            cur[r] = _FREE


def _spike_category(u: np.ndarray, runner_probs: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Spike categories 1..3 from uniforms ``u`` with scaled probabilities; 0 = none."""
    cat = np.zeros(len(u), dtype=np.int64)
    lo = np.zeros(len(u))
    for level in (1, 2, 3):
        hi = lo + runner_probs[:, level] * scale
        cat[(u >= lo) & (u < hi)] = level
        lo = hi
    return cat


def _simulate(
    n_runners: int,
    n_days: int,
    rng: np.random.Generator,
    *,
    runner_ids: Sequence[str],
    effects: Mapping[str, float],
    base_daily_risk: float,
    window_days: int,
    start: str,
    p_run: float,
    spike_probs: Sequence[float],
    p_null: float,
    p_strength: float,
    pain_days_mean: float,
    washout_days: int,
    episode_run_factor: float,
    prodrome_days: int,
    prodrome_run_factor: float,
    frailty_sd: float,
    threshold: float,
    trait_confounding: TraitConfounding | None = None,
) -> pd.DataFrame:
    if n_days < 1 or n_runners < 1:
        raise ValueError(f"simulate: n_days and n_runners must be >= 1, got {n_days}, {n_runners}")
    if not 0 < base_daily_risk < 1:
        raise ValueError(f"simulate: base_daily_risk must be in (0, 1), got {base_daily_risk}")
    probs = _check_spike_probs(spike_probs)
    effects = _check_effects(effects)
    R, D = n_runners, n_days
    runner_probs, trait = _runner_spike_probs(probs, R, trait_confounding)
    ran = np.zeros((R, D), dtype=bool)
    category = np.full((R, D), -1, dtype=np.int64)
    null = rng.random((R, D)) < p_null
    strength = rng.random((R, D)) < p_strength
    pain = np.zeros((R, D))
    state = np.zeros((R, D), dtype=np.int64)
    bio = np.zeros((R, D), dtype=bool)
    onset = np.zeros((R, D), dtype=bool)
    cols: dict[str, np.ndarray] = {
        "null_exposure": null.astype(float),
        "n_strength": strength.astype(float),
        "strength_min": np.where(strength, 30.0, 0.0),
        "spike_small": np.zeros((R, D)),
        "spike_moderate": np.zeros((R, D)),
        "spike_large": np.zeros((R, D)),
    }
    km = np.exp(rng.normal(np.log(7.5), 0.35, (R, D)))
    pace = rng.uniform(5.2, 6.8, (R, D))  # [min/km]
    ratio_u = rng.random((R, D))
    u_runner = rng.normal(0.0, frailty_sd, R) if frailty_sd > 0 else np.zeros(R)
    logit0 = np.log(base_daily_risk / (1 - base_daily_risk)) + u_runner
    if trait_confounding is not None:
        logit0 = logit0 + np.where(trait, np.log(trait_confounding.hazard_or), 0.0)
    betas = {k: np.log(v) for k, v in effects.items() if v != 1.0}
    kinds = {k: window_kind(k, bool if k.startswith("spike_") or k == "null_exposure" else float)
             for k in betas}
    # pending schedule per runner: remaining days in prodrome / pain / washout
    remaining = np.zeros(R, dtype=np.int64)
    cur = np.full(R, _FREE, dtype=np.int64)
    for t in range(D):
        # advance the schedule
        _advance(cur, remaining, onset[:, t], rng, pain_days_mean=pain_days_mean,
                 washout_days=washout_days)
        # hazard for free runners with full history
        if t >= window_days:
            free = cur == _FREE
            if free.any():
                lp = logit0.copy()
                for k, beta in betas.items():
                    window = _window_values(k, cols, ran, category, km, pace, t, window_days)
                    lp = lp + beta * _aggregate(window, kinds[k])
                p = 1.0 / (1.0 + np.exp(-lp))
                start_now = free & (rng.random(R) < p)
                for r in np.flatnonzero(start_now):
                    bio[r, t] = True
                    if prodrome_days > 0:
                        cur[r] = _PRODROME
                        remaining[r] = prodrome_days
                    else:
                        cur[r] = _PAIN
                        remaining[r] = 1 + rng.poisson(max(pain_days_mean - 1.0, 0.0))
                        onset[r, t] = True
        state[:, t] = cur
        # exposures of the day given the state
        factor = np.where(cur == _PAIN, episode_run_factor,
                          np.where(cur == _PRODROME, prodrome_run_factor, 1.0))
        ran[:, t] = rng.random(R) < p_run * factor
        u = rng.random(R)
        spike_scale = np.where(cur == _PRODROME, prodrome_run_factor, 1.0)
        category[:, t] = np.where(ran[:, t], _spike_category(u, runner_probs, spike_scale), -1)
        cols["spike_small"][:, t] = category[:, t] == 1
        cols["spike_moderate"][:, t] = category[:, t] == 2
        cols["spike_large"][:, t] = category[:, t] == 3
        # pain of the day
        pain[:, t] = np.where(cur == _PAIN, rng.integers(int(np.ceil(threshold)), 9, R),
                              np.where(cur == _PRODROME, rng.integers(1, 3, R), 0))
        remaining = np.where(cur != _FREE, remaining - 1, remaining)
    frame = _assemble(runner_ids, start, ran, category, km, pace, ratio_u, cols, pain, state,
                      bio, onset, threshold)
    if trait_confounding is not None:
        frame.attrs["trait_runners"] = [str(r) for r, t in zip(runner_ids, trait, strict=True) if t]
    return frame


def _window_values(
    name: str,
    cols: Mapping[str, np.ndarray],
    ran: np.ndarray,
    category: np.ndarray,
    km: np.ndarray,
    pace: np.ndarray,
    t: int,
    window_days: int,
) -> np.ndarray:
    sl = slice(t - window_days, t)
    if name in cols:
        return cols[name][:, sl]
    if name == "n_runs":
        return ran[:, sl].astype(float)
    if name == "distance_km":
        return np.where(ran[:, sl], km[:, sl], 0.0)
    if name == "duration_min":
        return np.where(ran[:, sl], km[:, sl] * pace[:, sl], 0.0)
    raise ValueError(f"simulate: no values for {name!r}")  # pragma: no cover - checked above


def _aggregate(window: np.ndarray, kind: str) -> np.ndarray:
    if kind == "any":
        return (window != 0).any(axis=1).astype(float)
    if kind == "sum":
        return window.sum(axis=1)
    return window.mean(axis=1)


def _assemble(
    runner_ids: Sequence[str],
    start: str,
    ran: np.ndarray,
    category: np.ndarray,
    km: np.ndarray,
    pace: np.ndarray,
    ratio_u: np.ndarray,
    cols: Mapping[str, np.ndarray],
    pain: np.ndarray,
    state: np.ndarray,
    bio: np.ndarray,
    onset: np.ndarray,
    threshold: float,
) -> pd.DataFrame:
    R, D = ran.shape
    dates = pd.date_range(start, periods=D, freq="D", name="date").as_unit("ns")
    distance = np.where(ran, km, 0.0)
    lo = np.array([r[0] for r in _RATIO_RANGES])
    hi = np.array([r[1] for r in _RATIO_RANGES])
    cat_c = np.clip(category, 0, 3)
    ratio = np.where(ran, lo[cat_c] + ratio_u * (hi[cat_c] - lo[cat_c]), np.nan)
    in_episode = state == _PAIN
    at_risk = (state == _FREE) | (state == _PRODROME) | onset
    n_prior = np.cumsum(onset, axis=1) - onset
    episode_id = np.where(in_episode, np.cumsum(onset, axis=1), 0)
    frame = pd.DataFrame(
        {
            "runner_id": pd.Series(np.repeat(np.asarray(runner_ids, dtype=object), D), dtype="str"),
            "date": np.tile(dates.to_numpy(), R),
            "distance_km": distance.ravel(),
            "duration_min": (distance * pace).ravel(),
            "n_runs": ran.astype(float).ravel(),
            "longest_run_km": distance.ravel(),
            "spike_ratio_max": ratio.ravel(),
            "spike_small": pd.array((category == 1).ravel(), dtype="boolean"),
            "spike_moderate": pd.array((category == 2).ravel(), dtype="boolean"),
            "spike_large": pd.array((category == 3).ravel(), dtype="boolean"),
            "null_exposure": pd.array(cols["null_exposure"].astype(bool).ravel(), dtype="boolean"),
            "n_strength": cols["n_strength"].ravel(),
            "strength_min": cols["strength_min"].ravel(),
            "max_pain_0_10": pain.astype(float).ravel(),
            "pain_day": (pain >= threshold).ravel(),
            "diary_known": np.ones(R * D, dtype=bool),
            "in_episode": in_episode.ravel(),
            "episode_id": pd.array(np.where(in_episode, episode_id, -1).ravel(), dtype="Int64"),
            "onset": onset.ravel(),
            "at_risk": at_risk.ravel(),
            "n_prior_episodes": n_prior.astype(np.int64).ravel(),
            "bio_onset": bio.ravel(),
        }
    )
    frame["episode_id"] = frame["episode_id"].mask(frame["episode_id"] < 0)
    frame["date"] = frame["date"].astype("datetime64[ns]")
    return frame[list(SIMULATED_COLUMNS)]


def simulate_cohort(
    n_runners: int,
    n_days: int,
    *,
    seed: int | np.random.Generator,
    effects: Mapping[str, float] | None = None,
    base_daily_risk: float = 0.01,
    window_days: int = 7,
    start: str = "2023-01-02",
    p_run: float = 0.6,
    spike_probs: Sequence[float] = (0.78, 0.10, 0.05, 0.07),
    p_null: float = 0.04,
    p_strength: float = 0.15,
    pain_days_mean: float = 4.0,
    washout_days: int = 14,
    episode_run_factor: float = 0.5,
    prodrome_days: int = 0,
    prodrome_run_factor: float = 0.3,
    frailty_sd: float = 0.0,
    threshold: float = 3,
    runner_ids: Sequence[str] | None = None,
    trait_confounding: TraitConfounding | None = None,
) -> pd.DataFrame:
    """Simulate several runners with a known onset hazard, stacked with ``runner_id``.

    Parameters
    ----------
    n_runners, n_days
        Number of runners and of days per runner.
    seed
        Integer seed or a :class:`numpy.random.Generator` (the only randomness).
    effects
        Odds ratio per unit of each exposure's window summary (``any`` -> per
        exposed window, ``sum`` -> per session/km in the window), e.g.
        ``{"spike_large": 3.0, "null_exposure": 1.0}`` (the default). Supported:
        spike flags, ``null_exposure``, ``n_strength``, ``strength_min``, ``n_runs``,
        ``distance_km``, ``duration_min``.
    base_daily_risk
        Daily onset probability of an unexposed runner at risk [1/d].
    window_days
        Length of the exposure window before each day [d] (days ``t-window..t-1``).
    start
        First local date.
    p_run
        Probability of a run on a pain-free day.
    spike_probs
        Probabilities of the spike categories none, small, moderate, large per run.
    p_null, p_strength
        Daily probabilities of ``null_exposure`` and of a 30-min strength session.
    pain_days_mean
        Mean number of pain days of an episode [d] (``1 + Poisson(mean - 1)``).
    washout_days
        Pain-free days that end an episode, not at risk [d].
    episode_run_factor
        Multiplier of ``p_run`` on episode pain days.
    prodrome_days
        Days of mild, below-threshold pain between the biological and the recorded
        onset (0: none). Use > 0 for the reverse-causation scenario.
    prodrome_run_factor
        Multiplier of ``p_run`` and of the spike probabilities during a prodrome.
    frailty_sd
        SD of a runner's own log-odds offset (time-invariant confounder that a
        case-crossover cancels) [log-odds].
    threshold
        Pain score of a pain day [0-10].
    runner_ids
        Ids (default ``"sim-000"``, ``"sim-001"`` ...).
    trait_confounding
        A :class:`TraitConfounding`: a time-invariant runner trait that raises the
        onset hazard and makes large spikes more frequent (a confounder of the
        spike effect between runners). ``None`` (default): no such trait.

    Returns
    -------
    pandas.DataFrame
        :data:`SIMULATED_COLUMNS`, one row per runner-day, in the layout of
        :func:`kneedata.analysis_frame` (names and dtypes of
        :data:`kneedata.schema.FRAME`) plus ``null_exposure`` and ``bio_onset``.
        With ``trait_confounding``, ``frame.attrs["trait_runners"]`` lists the
        runner ids that carry the trait (kept out of the columns: the trait is
        meant to be unmeasured).

    Notes
    -----
    The hazard and episode dynamics are in the module docstring.

    Examples
    --------
    >>> from kneedata.simulate import TraitConfounding
    >>> frame = simulate_cohort(10, 200, seed=1, effects={"spike_large": 1.0},
    ...                         trait_confounding=TraitConfounding(prevalence=0.3))
    >>> frame.attrs["trait_runners"]
    ['sim-000', 'sim-001', 'sim-002']
    """
    rng = _rng(seed)
    ids = list(runner_ids) if runner_ids is not None else [f"sim-{i:03d}" for i in range(n_runners)]
    if len(ids) != n_runners or len(set(ids)) != n_runners:
        raise ValueError(f"simulate: need {n_runners} distinct runner_ids, got {ids!r}")
    return _simulate(
        n_runners, n_days, rng, runner_ids=ids,
        effects=DEFAULT_EFFECTS if effects is None else effects,
        base_daily_risk=base_daily_risk, window_days=window_days, start=start,
        p_run=p_run, spike_probs=spike_probs, p_null=p_null, p_strength=p_strength,
        pain_days_mean=pain_days_mean, washout_days=washout_days,
        episode_run_factor=episode_run_factor, prodrome_days=prodrome_days,
        prodrome_run_factor=prodrome_run_factor, frailty_sd=frailty_sd,
        threshold=threshold, trait_confounding=trait_confounding,
    )


def simulate_runner_days(
    n_days: int,
    *,
    seed: int | np.random.Generator,
    effects: Mapping[str, float] | None = None,
    runner_id: str = "sim-000",
    **kwargs: Any,
) -> pd.DataFrame:
    """Simulate one runner's days with a known onset hazard.

    Parameters
    ----------
    n_days
        Number of days.
    seed
        Integer seed or a :class:`numpy.random.Generator`.
    effects
        Odds ratios per exposure (see :func:`simulate_cohort`); default
        :data:`DEFAULT_EFFECTS`.
    runner_id
        Value of the ``runner_id`` column.
    **kwargs
        Any other option of :func:`simulate_cohort` (``base_daily_risk``,
        ``prodrome_days`` ...).

    Returns
    -------
    pandas.DataFrame
        One row per day, columns :data:`SIMULATED_COLUMNS`.

    Examples
    --------
    >>> frame = simulate_runner_days(365, seed=1)
    >>> bool(frame["onset"].sum() > 0), frame.shape[0]
    (True, 365)
    """
    return simulate_cohort(1, n_days, seed=seed, effects=effects, runner_ids=[runner_id], **kwargs)
