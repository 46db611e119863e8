"""The runner's own cadence-speed line, fitted on a trailing window of earlier runs.

Cadence rises with speed, so a run's cadence only means something against the
cadence the same runner usually has *at that speed*. For every run, the line
``cadence = a + b * speed`` is fitted on the runner's runs of the previous
``window_days`` days (never the run itself, a later run or a run the same day), and
the run's cadence is expressed as a percentage deviation from the line at the
run's speed: the unit the evidence uses (a 5-10 % higher step rate lowers knee
load; Heiderscheit 2011, Lenhart 2014).

Pure functions on one row per run (a speed and a cadence); the per-run figures
come from :func:`kneedata.gait_metrics`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "BASELINE_DAYS",
    "MIN_BASELINE_RUNS",
    "fit_cadence_line",
    "trailing_cadence_baseline",
]

#: Default trailing window of the baseline [d]: long enough to hold easy, long and
#: fast runs, short enough to follow a slow change of form or fitness.
BASELINE_DAYS = 180
#: Warm-up: a run gets a deviation once the trailing window holds this many usable
#: runs (with four runs a week, after about two and a half weeks).
MIN_BASELINE_RUNS = 10
#: Prior slope of cadence on speed [steps/min per m/s]; within-runner slopes are
#: typically 8-12 steps/min per m/s at running speeds (Cavanagh & Kram 1989,
#: doi:10.1249/00005768-198908000-00011). Used only where the window's speeds
#: barely vary (see :data:`SLOPE_PRIOR_WEIGHT`).
PRIOR_SLOPE_SPM_PER_M_S = 10.0
#: Weight of the prior slope, as a speed variance [(m/s)^2]: the slope is
#: ``(cov(v, c) + w * b0) / (var(v) + w)``, so a window whose run speeds vary with an
#: SD of 0.05 m/s gets half its slope from the prior, one with 0.3 m/s under 3 %.
SLOPE_PRIOR_WEIGHT = 0.0025
#: Tukey biweight tuning constant (95 % efficiency under normal residuals) ...
BIWEIGHT_C = 4.685
#: ... and the smallest residual scale the robust fit assumes [steps/min] (the
#: watch reports cadence in whole strides, 2 steps/min apart).
MIN_SCALE_SPM = 0.5
#: A run faster or slower than every baseline run by more than this gets no
#: deviation: the line would be extrapolated [m/s].
MAX_EXTRAPOLATION_M_S = 0.5


def _weighted_line(v: np.ndarray, c: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """Weighted least-squares line with the slope shrunk towards the prior."""
    sw = w.sum()
    mv, mc = (w @ v) / sw, (w @ c) / sw
    dv = v - mv
    var = (w @ (dv * dv)) / sw
    cov = (w @ (dv * (c - mc))) / sw
    b = (cov + SLOPE_PRIOR_WEIGHT * PRIOR_SLOPE_SPM_PER_M_S) / (var + SLOPE_PRIOR_WEIGHT)
    return float(mc - b * mv), float(b)


def _shorth_mean(r: np.ndarray) -> float:
    """Mean of the shortest interval holding just over half of ``r``: the majority's level."""
    r = np.sort(r)
    h = len(r) // 2 + 1
    k = int(np.argmin(r[h - 1:] - r[: len(r) - h + 1]))
    return float(r[k:k + h].mean())


def fit_cadence_line(speed_m_s: np.ndarray, cadence_spm: np.ndarray) -> dict[str, float]:
    """Robust line ``cadence = a + b * speed`` through one point per run.

    Parameters
    ----------
    speed_m_s
        Each run's speed [m/s].
    cadence_spm
        Each run's cadence at that speed [steps/min].

    Returns
    -------
    dict
        ``intercept_spm``, ``slope_spm_per_m_s``, ``residual_sd_spm`` (robust scale
        of the majority's residuals), ``speed_min_m_s``, ``speed_max_m_s``,
        ``n_runs``. NaN figures when no run is given.

    Notes
    -----
    The line of the *majority* of runs: a least-squares slope gives residuals
    whose densest half (the shortest half, "shorth") sets the starting level and
    the scale (1.4826 x median absolute residual), then Tukey's biweight
    (c = 4.685 scales) refines intercept and slope by iteratively reweighted least
    squares; the scale is then re-estimated on the runs the line kept and the line
    refitted (three rounds). Runs far from the majority's line get no weight, so a block of runs
    with changed form covering less than about half the window does not move the
    line; a change that lasts longer becomes the new usual. The slope is shrunk
    towards 10 steps/min per m/s by a prior worth a speed SD of 0.05 m/s (see
    :data:`SLOPE_PRIOR_WEIGHT`), so a runner whose runs all have the same pace still
    gets a sensible line.

    Examples
    --------
    >>> v = np.array([2.5, 3.0, 3.5, 4.0])
    >>> line = fit_cadence_line(v, 120 + 12 * v)  # the prior (10) pulls the slope a little
    >>> round(line["intercept_spm"], 2), round(line["slope_spm_per_m_s"], 2)
    (120.05, 11.98)
    """
    v = np.asarray(speed_m_s, dtype=float)
    c = np.asarray(cadence_spm, dtype=float)
    out = {"intercept_spm": math.nan, "slope_spm_per_m_s": math.nan,
           "residual_sd_spm": math.nan, "speed_min_m_s": math.nan,
           "speed_max_m_s": math.nan, "n_runs": float(len(v))}
    if len(v) == 0:
        return out
    _, b = _weighted_line(v, c, np.ones(len(v)))
    a = _shorth_mean(c - b * v)
    kept = np.ones(len(v), dtype=bool)
    for _ in range(3):  # the scale of the runs the line keeps, then refit
        scale = max(1.4826 * float(np.median(np.abs((c - a - b * v)[kept]))), MIN_SCALE_SPM)
        a, b, now_kept = _biweight(v, c, a, b, scale)
        if np.array_equal(now_kept, kept):
            break
        kept = now_kept
    out.update(intercept_spm=a, slope_spm_per_m_s=b, residual_sd_spm=scale,
               speed_min_m_s=float(v.min()), speed_max_m_s=float(v.max()))
    return out


def _biweight(v: np.ndarray, c: np.ndarray, a: float, b: float,
              scale: float) -> tuple[float, float, np.ndarray]:
    """Tukey biweight IRLS from ``a + b v`` at a fixed scale; the runs kept (weight > 0)."""
    w = np.ones(len(v))
    for _ in range(50):
        u = (c - a - b * v) / (BIWEIGHT_C * scale)
        w = np.where(np.abs(u) < 1.0, (1.0 - u * u) ** 2, 0.0)
        if w.sum() <= 0:
            break
        a_new, b_new = _weighted_line(v, c, w)
        converged = abs(a_new - a) < 1e-6 and abs(b_new - b) < 1e-6  # [steps/min]
        a, b = a_new, b_new
        if converged:
            break
    return a, b, w > 0


def trailing_cadence_baseline(
    runs: pd.DataFrame,
    *,
    window_days: int = BASELINE_DAYS,
    min_runs: int = MIN_BASELINE_RUNS,
) -> pd.DataFrame:
    """Each run's cadence against the runner's own line from the previous days only.

    Parameters
    ----------
    runs
        One row per run: ``date`` (local day), ``speed_m_s`` [m/s] and
        ``cadence_spm`` [steps/min] (NaN where the run has no usable figure).
    window_days
        Trailing window [d]: the line for a run on day ``d`` is fitted on the runs
        of days ``d - window_days`` to ``d - 1``.
    min_runs
        Warm-up: fewer usable runs than this in the window give no deviation.

    Returns
    -------
    pandas.DataFrame
        Same index as ``runs``: ``baseline_cadence_spm`` (the line at the run's
        speed), ``n_baseline_runs``, ``cadence_deviation_pct`` and
        ``step_length_deviation_pct``, and ``baseline_note`` (why a deviation is
        missing; None when present).

    Notes
    -----
    ``cadence_deviation_pct = (c / c_hat - 1) x 100`` with ``c_hat = a + b v`` from
    :func:`fit_cadence_line`. At a matched speed step length is ``60 v / c``, so the
    step-length line is ``60 v / c_hat`` and ``step_length_deviation_pct =
    (c_hat / c - 1) x 100``: -7 % cadence is +7.5 % step length. Negative cadence
    deviation = fewer, longer steps than usual at that speed. Only earlier days
    enter a run's window, so adding later runs never changes an earlier value.

    References
    ----------
    Heiderscheit BC et al. (2011). Med Sci Sports Exerc 43:296-302.
    doi:10.1249/MSS.0b013e3181ebedf4
    Lenhart RL et al. (2014). Med Sci Sports Exerc 46:557-564.
    doi:10.1249/MSS.0b013e3182a78c3a
    Willson JD et al. (2014). Clin Biomech 29:243-247.
    doi:10.1016/j.clinbiomech.2013.12.016
    """
    if window_days < 1 or min_runs < 2:
        raise ValueError(
            f"trailing_cadence_baseline: window_days={window_days} and min_runs={min_runs}; "
            "use window_days >= 1 and min_runs >= 2 (a line needs two runs)."
        )
    day = pd.to_datetime(runs["date"]).to_numpy(dtype="datetime64[D]").astype(np.int64)
    v = pd.to_numeric(runs["speed_m_s"], errors="coerce").to_numpy(dtype=float)
    c = pd.to_numeric(runs["cadence_spm"], errors="coerce").to_numpy(dtype=float)
    usable = np.isfinite(v) & np.isfinite(c) & (v > 0) & (c > 0)
    order = np.argsort(day[usable], kind="stable")
    base_day, base_v, base_c = day[usable][order], v[usable][order], c[usable][order]
    n = len(runs)
    expected = np.full(n, np.nan)
    n_base = np.zeros(n, dtype=np.int64)
    notes: list[Any] = [None] * n
    window: tuple[int, int] = (-1, -1)
    line: dict[str, float] = {}
    for i in range(n):
        lo = np.searchsorted(base_day, day[i] - window_days, side="left")
        hi = np.searchsorted(base_day, day[i], side="left")  # earlier days only
        n_base[i] = hi - lo
        if not usable[i]:
            notes[i] = "no speed and cadence figure for the run"
            continue
        if hi - lo < min_runs:
            notes[i] = (f"warm-up: {hi - lo} of {min_runs} runs in the previous "
                        f"{window_days} days")
            continue
        if (lo, hi) != window:
            window, line = (lo, hi), fit_cadence_line(base_v[lo:hi], base_c[lo:hi])
        if not (line["speed_min_m_s"] - MAX_EXTRAPOLATION_M_S <= v[i]
                <= line["speed_max_m_s"] + MAX_EXTRAPOLATION_M_S):
            notes[i] = (f"speed {v[i]:.2f} m/s outside the baseline's speeds "
                        f"({line['speed_min_m_s']:.2f}-{line['speed_max_m_s']:.2f} m/s)")
            continue
        expected[i] = line["intercept_spm"] + line["slope_spm_per_m_s"] * v[i]
    with np.errstate(invalid="ignore", divide="ignore"):
        deviation = (c / expected - 1.0) * 100.0
        sl_deviation = (expected / c - 1.0) * 100.0
    return pd.DataFrame(
        {"baseline_cadence_spm": expected, "n_baseline_runs": n_base,
         "cadence_deviation_pct": deviation, "step_length_deviation_pct": sl_deviation,
         "baseline_note": pd.Series(notes, dtype="object").to_numpy()},
        index=runs.index,
    )
