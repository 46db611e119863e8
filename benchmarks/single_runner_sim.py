"""An independent generator of one runner's days: runs, spikes, pain episodes, diary.

Used by ``benchmarks/single_runner_study.py`` and the single-runner coverage test.
It never imports :mod:`kneedata` (neither the models nor the window rules of the
analysis frame): it draws run distances, derives the spike flag from them with its
own rule, draws pain onsets from a stated daily hazard, and writes a frame in the
analysis-frame layout (``date``, ``runner_id``, ``onset``, ``at_risk``,
``in_episode``, exposures), so the models see it as they would see real data.

The true model
--------------
- Runs: the runner runs on about ``run_days_per_week`` days a week, distance
  log-normal around ``base_km`` (log-sd 0.35); in a week with probability
  ``big_run_week_prob`` one run is 1.9-3.2 times the longest run of the 30 days
  before it (a race, an ambitious long run). During an episode and its washout
  the runner runs half as far (so the first normal runs after it can be spikes too).
- Spike (the exposure, derived here from distances): a run longer than twice the
  longest run of the 30 days before it (days ``d-30 .. d-1``).
- Hazard: on a day ``t`` at risk, ``P(onset) = h0 * OR ** E(t)`` with ``E(t)`` =
  a spike on any of days ``t-7 .. t-1``.
- Refractory: after an onset the runner has ``pain_days`` (3-14) pain days and
  then 14 pain-free days of washout before being at risk again (2.5-4 weeks).
- Diary: ``"daily"`` (every day logged) or ``"patchy"`` (logging comes in spells:
  a logged day is followed by an unlogged one with probability 0.12, an unlogged
  by a logged one with probability 0.25, so about 2/3 of days are logged). An
  unlogged day is unknown (not at risk); an onset on an unlogged day is seen on
  the first logged pain day of the episode, if any.

A slow exposure (``slow_or``): 8-week blocks of low cadence (a block starts with
probability 1/3 at each 8-week boundary) multiply the hazard by ``slow_or``;
written as the daily 0/1 column ``low_cadence_block``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

#: The hazard window of the truth [d]: days t-7 .. t-1.
TRUE_WINDOW_DAYS = 7
#: Washout after the last pain day [d].
WASHOUT_DAYS = 14


@dataclass(frozen=True)
class Scenario:
    """One runner's true model (see the module docstring)."""

    odds_ratio: float = 3.0
    years: float = 3.0
    target_episodes: float = 15.0
    diary: str = "daily"
    base_km: float = 8.0
    run_days_per_week: float = 4.5
    big_run_week_prob: float = 0.10
    slow_or: float = 1.0
    #: Days after a spike on which the hazard is raised (first, last); the truth of the
    #: docstring is (1, 7). A mistimed window, e.g. (2, 4), tests a fixed 7-day analysis.
    effect_days: tuple[int, int] = (1, TRUE_WINDOW_DAYS)


def run_distances(rng: np.random.Generator, n_days: int, s: Scenario) -> tuple[np.ndarray, np.ndarray]:
    """Daily running distance [km] (0 = no run) and the big-run factor per day (0 = none).

    A big run's distance is set from the runner's own recent runs as the days are
    walked through (see :func:`simulate`), because it is relative to them.
    """
    runs = rng.random(n_days) < s.run_days_per_week / 7
    km = s.base_km * np.exp(rng.normal(0.0, 0.35, n_days))
    n_weeks = n_days // 7 + 1
    big_weeks = np.flatnonzero(rng.random(n_weeks) < s.big_run_week_prob)
    big_days = np.minimum(big_weeks * 7 + rng.integers(0, 7, big_weeks.size), n_days - 1)
    factor = np.zeros(n_days)
    factor[big_days] = rng.uniform(1.9, 3.2, big_days.size)
    runs[big_days] = True
    return np.where(runs, km, 0.0), factor


def spikes(km: np.ndarray) -> np.ndarray:
    """Runs longer than twice the longest run of the 30 days before (bool per day)."""
    prev_max = pd.Series(km).shift(1).rolling(30, min_periods=30).max().to_numpy()
    return (km > 0) & np.isfinite(prev_max) & (prev_max > 0) & (km > 2 * prev_max)


def _window_any(flag: np.ndarray, days: int) -> np.ndarray:
    """True on day t when ``flag`` is set on any of days t-days .. t-1."""
    out = np.zeros(flag.size, dtype=bool)
    for lag in range(1, days + 1):
        out[lag:] |= flag[:-lag]
    return out


def _diary_logged(rng: np.random.Generator, n_days: int, kind: str) -> np.ndarray:
    if kind == "daily":
        return np.ones(n_days, dtype=bool)
    if kind != "patchy":
        raise ValueError(f"diary must be 'daily' or 'patchy', got {kind!r}")
    logged = np.ones(n_days, dtype=bool)
    u = rng.random(n_days)
    for t in range(1, n_days):
        logged[t] = u[t] >= 0.12 if logged[t - 1] else u[t] < 0.25
    return logged


def _slow_blocks(rng: np.random.Generator, n_days: int) -> np.ndarray:
    block = np.repeat(rng.random(n_days // 56 + 1) < 1 / 3, 56)[:n_days]
    return block


def simulate(s: Scenario, seed: int) -> tuple[pd.DataFrame, dict[str, float]]:
    """One runner: the analysis-frame-shaped days and a few realised facts.

    Returns
    -------
    (frame, facts)
        ``frame``: one row per day with ``runner_id``, ``date``, ``distance_km``,
        ``spike_large`` (bool), ``low_cadence_block`` (bool), ``onset``,
        ``at_risk``, ``in_episode``. ``facts``: realised episodes (true and
        observed), share of weeks with a spike, share of days logged.
    """
    rng = np.random.default_rng(seed)
    n_days = int(round(s.years * 365))
    km, big = run_distances(rng, n_days, s)
    for t in np.flatnonzero(big):  # relative to the month before (episodes are rare enough
        if t >= 30:                # not to change this much; km is halved in them later)
            km[t] = big[t] * km[t - 30:t].max()
    slow = _slow_blocks(rng, n_days)
    logged = _diary_logged(rng, n_days, s.diary)
    # baseline hazard from the planned episode count (exposure prevalence of this draw)
    first, last = s.effect_days
    exposed0 = _window_any(spikes(km), last)  # before episodes change km
    if first > 1:
        exposed0 &= ~_window_any(spikes(km), first - 1)
    refractory_share = min(0.6, s.target_episodes * 22 / n_days)
    mult = 1 + exposed0.mean() * (s.odds_ratio - 1) + slow.mean() * (s.slow_or - 1)
    h0 = s.target_episodes / (n_days * (1 - refractory_share) * mult)
    onset_true = np.zeros(n_days, dtype=bool)
    in_episode = np.zeros(n_days, dtype=bool)
    pain = np.zeros(n_days, dtype=bool)
    spike = np.zeros(n_days, dtype=bool)  # filled day by day: later runs change with pain
    free_from = 0  # first day at risk again
    u = rng.random(n_days)
    for t in range(n_days):
        if t >= 31:
            prev = km[t - 31:t - 1].max()
            spike[t - 1] = km[t - 1] > 2 * prev > 0
        if t < free_from:
            continue
        exposed = bool(spike[max(0, t - last):max(0, t - first + 1)].any())
        odds = h0 / (1 - h0) * (s.odds_ratio if exposed else 1.0) * (
            s.slow_or if slow[t] else 1.0)
        if u[t] < odds / (1 + odds):
            n_pain = int(rng.integers(3, 15))
            end = min(n_days, t + n_pain + WASHOUT_DAYS)
            onset_true[t] = True
            in_episode[t:end] = True
            pain[t:min(n_days, t + n_pain)] = True
            km[t + 1:end] *= 0.5  # the runner eases off while in pain
            free_from = end
    onset, at_risk, seen_episode = _observe(onset_true, in_episode, pain, logged)
    frame = pd.DataFrame({
        "runner_id": pd.array(["sim"] * n_days, dtype="str"),
        "date": pd.date_range("2022-01-03", periods=n_days, freq="D").as_unit("ns"),
        "distance_km": km,
        "spike_large": spike,
        "low_cadence_block": slow,
        "onset": onset,
        "at_risk": at_risk,
        "in_episode": seen_episode,
    })
    weeks = spike[: n_days // 7 * 7].reshape(-1, 7).any(axis=1)
    facts = {"n_onsets_true": float(onset_true.sum()), "n_onsets_seen": float(onset.sum()),
             "spike_week_share": float(weeks.mean()), "logged_share": float(logged.mean())}
    return frame, facts


def _observe(onset_true: np.ndarray, in_episode: np.ndarray, pain: np.ndarray,
             logged: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What the diary shows: (onset, at_risk, in_episode) as a diary-based frame has them.

    An onset is seen on the episode's first logged pain day; the episode is known
    from then on. An episode with no logged pain day is missed: its logged
    washout days look pain-free and count as at risk, as they would in real data.
    """
    onset = np.zeros_like(onset_true)
    seen_episode = np.zeros_like(in_episode)
    for t in np.flatnonzero(onset_true):
        days = np.flatnonzero(pain[t:] & logged[t:])
        if days.size and pain[t:t + days[0] + 1].all():
            first = t + int(days[0])
            onset[first] = True
            end = t + int(np.argmin(in_episode[t:])) if not in_episode[t:].all() else in_episode.size
            seen_episode[first:end] = True
    at_risk = logged & (~seen_episode | onset)
    return onset, at_risk, seen_episode
