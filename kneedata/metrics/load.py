"""Training load per day, load ratios and single-session spikes.

Pure functions: activity or daily frames in, new frames out; inputs are never
modified. Column names, units and sources are listed in :mod:`kneedata.schema`
(``DAILY_LOAD``, ``LOAD_METRICS``, ``SESSION_SPIKES``).

Every ratio here (acute:chronic, week-to-week, spike) hides its numerator and
denominator, and the acute:chronic ratio is mathematically coupled when the acute
week is part of the chronic window. Prefer modelling acute and chronic load
separately; the ratios are given because the literature uses them.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view
from scipy.signal import lfilter

from kneedata._dates import local_days
from kneedata.errors import DataQualityWarning, SchemaError
from kneedata.runs import RUN_KINDS, runs_in_order
from kneedata.schema import DAILY_LOAD, LOAD_METRICS, SESSION_SPIKES

__all__ = ["daily_load", "float_column", "load_metrics", "session_spikes"]

#: Banister TRIMP weighting y = k * exp(b * HRr) (Banister 1991; Morton et al. 1990).
TRIMP_COEFFICIENTS: dict[str, tuple[float, float]] = {
    "male": (0.64, 1.92),
    "female": (0.86, 1.67),
}
#: Resting heart rate assumed when none is given: it cannot be estimated from
#: per-run averages.
DEFAULT_HR_REST_BPM = 60.0
#: A hard ~10 km effort averages about 92 % of maximal heart rate; used to estimate
#: HR max from the highest per-run average HR when no per-run maximum is known.
HR_MAX_FROM_AVG_FACTOR = 0.92

#: Allowance [percentage points] when comparing percentages with category edges.
_EDGE_EPS = 1e-9

WEEKLY_CHANGE_CATEGORIES = ["<10%", "10-30%", ">30%"]
SPIKE_CATEGORIES = ["none", "small", "moderate", "large", "first_run"]


# --------------------------------------------------------------------------- helpers
def _require(frame: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise SchemaError(
            f"{what}: missing column(s) {missing}; found {list(frame.columns)}. "
            "Pass the frame from Store.activities() or add the column(s)."
        )


def float_column(frame: pd.DataFrame, name: str) -> np.ndarray:
    """A column as float64 numpy (all-NaN when the column is absent)."""
    if name not in frame.columns:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _empty_daily(columns: dict) -> pd.DataFrame:
    index = pd.DatetimeIndex([], dtype="datetime64[ns]", name="date", freq="D")
    return pd.DataFrame(
        {name: pd.Series(dtype=col.dtype, index=index) for name, col in columns.items()},
        index=index,
    )


# --------------------------------------------------------------------------- daily_load
def daily_load(
    activities: pd.DataFrame,
    *,
    include: Iterable[str] | str | None = RUN_KINDS,
    hr_rest_bpm: float | None = None,
    hr_max_bpm: float | None = None,
    sex: str | None = None,
) -> pd.DataFrame:
    """Training load per local calendar day, every day from the first run to the last.

    Parameters
    ----------
    activities
        One row per activity, as from ``Store.activities()``: ``local_date``,
        ``sport``, ``distance_m`` [m], ``timer_time_s`` [s], ``avg_heart_rate_bpm``
        [1/min], ``ascent_m`` [m], ``descent_m`` [m], optional ``rpe`` [0-10],
        ``max_heart_rate_bpm`` [1/min] and ``start_time_utc``.
    include
        Kinds of run counted (:func:`kneedata.select_runs`: road, trail, track,
        treadmill, virtual by default; walking, hiking opt-in); ``None`` counts
        every activity.
    hr_rest_bpm, hr_max_bpm
        Resting and maximal heart rate for TRIMP [1/min]. When not given they are
        estimated (see Notes), a :class:`DataQualityWarning` says so and
        ``attrs['hr_source']`` records how.
    sex
        ``"male"``/``"female"`` (or ``"m"``/``"f"``) picks Banister's weighting;
        ``None`` uses the male coefficients and says so in ``attrs``.

    Returns
    -------
    pandas.DataFrame
        Indexed by a tz-naive daily ``DatetimeIndex`` named ``date`` (freq ``D``),
        columns of :data:`kneedata.schema.DAILY_LOAD`. Days without a run hold 0
        (rest, not missing; mark missing days in :func:`load_metrics`). ``attrs``
        holds ``hr_rest_bpm``, ``hr_max_bpm``, ``hr_source``, ``trimp_sex``,
        ``include`` (the kinds of run counted) and ``n_runs_lacking`` (runs lacking
        each input).

    Notes
    -----
    Per run, with minutes ``t = timer_time_s / 60`` and
    ``HRr = (HR_avg - HR_rest) / (HR_max - HR_rest)`` clipped to [0, 1]:

    - Banister TRIMP = ``t * HRr * k * exp(b * HRr)``, ``(k, b) = (0.64, 1.92)`` for
      men and ``(0.86, 1.67)`` for women.
    - session-RPE load = ``rpe * t`` [AU] (Foster 2001).

    A day's sum is NaN when any run that day lacks the input (e.g. a run without
    RPE makes that day's ``srpe_au`` NaN: the day's load is unknown, not lower);
    ``longest_run_km`` is the longest known distance. Without ``hr_max_bpm`` the
    maximum is the highest per-run ``max_heart_rate_bpm`` (values over 230 are
    ignored as artefacts), else the highest per-run average divided by 0.92.
    Without ``hr_rest_bpm`` 60 bpm is assumed. Both are rough: pass measured values.

    References
    ----------
    Banister EW (1991). Modeling elite athletic performance. In: Physiological
    Testing of Elite Athletes. Human Kinetics.
    Morton RH, Fitz-Clarke JR, Banister EW (1990). Modeling human performance in
    running. J Appl Physiol 69:1171-1177. doi:10.1152/jappl.1990.69.3.1171
    Foster C et al. (2001). A new approach to monitoring exercise training.
    J Strength Cond Res 15:109-115. doi:10.1519/00124278-200102000-00019
    """
    sex_key = _sex_key(sex)
    order = runs_in_order(activities, include=include)
    runs = activities.loc[order.index]
    columns = DAILY_LOAD
    include_attr = None if include is None else tuple([include] if isinstance(include, str) else include)
    if len(runs) == 0:
        out = _empty_daily(columns)
        out.attrs.update({"include": include_attr, "hr_source": "no runs"})
        return out

    dates = order["_date"].to_numpy()
    first, last = dates.min(), dates.max()
    index = pd.date_range(first, last, freq="D", name="date").as_unit("ns")
    code = ((dates - first) // np.timedelta64(1, "D")).astype(np.int64)
    n_days = len(index)

    dist_km = float_column(runs, "distance_m") / 1000.0
    minutes = float_column(runs, "timer_time_s") / 60.0
    ascent = float_column(runs, "ascent_m")
    descent = float_column(runs, "descent_m")
    hr = float_column(runs, "avg_heart_rate_bpm")
    rpe = float_column(runs, "rpe")

    hr_rest, hr_max, hr_source = _heart_rate_bounds(runs, hr, hr_rest_bpm, hr_max_bpm)
    k, b = TRIMP_COEFFICIENTS[sex_key]
    n_clipped = 0
    if np.isfinite(hr_max):
        hrr_raw = (hr - hr_rest) / (hr_max - hr_rest)
        n_clipped = int(np.sum((hrr_raw < 0) | (hrr_raw > 1)))
        hrr = np.clip(hrr_raw, 0.0, 1.0)
        trimp = minutes * hrr * k * np.exp(b * hrr)
    else:
        trimp = np.full(len(runs), np.nan)
    srpe = rpe * minutes

    def day_sum(values: np.ndarray) -> np.ndarray:
        known = np.isfinite(values)
        total = np.bincount(code, weights=np.where(known, values, 0.0), minlength=n_days)
        lacking = np.bincount(code, weights=(~known).astype(float), minlength=n_days)
        total[lacking > 0] = np.nan
        return total

    longest = np.zeros(n_days)
    known_d = np.isfinite(dist_km)
    np.maximum.at(longest, code[known_d], dist_km[known_d])

    data = {
        "distance_km": day_sum(dist_km),
        "duration_min": day_sum(minutes),
        "n_runs": np.bincount(code, minlength=n_days).astype(np.int64),
        "longest_run_km": longest,
        "ascent_m": day_sum(ascent),
        "descent_m": day_sum(descent),
        "trimp": day_sum(trimp),
        "srpe_au": day_sum(srpe),
    }
    out = pd.DataFrame(data, index=index)
    out = out.astype({name: col.dtype for name, col in columns.items()})[list(columns)]

    lacking = {
        "distance_m": int(np.sum(~np.isfinite(dist_km))),
        "timer_time_s": int(np.sum(~np.isfinite(minutes))),
        "avg_heart_rate_bpm": int(np.sum(~np.isfinite(hr))),
        "rpe": int(np.sum(~np.isfinite(rpe))),
        "ascent_m": int(np.sum(~np.isfinite(ascent))),
        "descent_m": int(np.sum(~np.isfinite(descent))),
    }
    if lacking["distance_m"]:
        warnings.warn(
            f"daily_load: {lacking['distance_m']} of {len(runs)} runs have no distance; "
            "their days' distance_km is NaN (unknown, not rest). Fill distance_m for "
            "those activities or mark the days missing in load_metrics.",
            DataQualityWarning,
            stacklevel=2,
        )
    out.attrs.update(
        {
            "include": include_attr,
            "hr_rest_bpm": hr_rest,
            "hr_max_bpm": hr_max,
            "hr_source": hr_source,
            "trimp_sex": sex_key if sex is not None else "male (sex not given)",
            "n_hrr_clipped": n_clipped,
            "n_runs_lacking": lacking,
        }
    )
    return out


def _sex_key(sex: str | None) -> str:
    if sex is None:
        return "male"
    key = str(sex).strip().lower()
    aliases = {"m": "male", "male": "male", "f": "female", "female": "female"}
    if key not in aliases:
        raise ValueError(
            f"sex={sex!r} is not one of 'male', 'female', 'm', 'f' or None; it picks "
            "Banister's TRIMP weighting."
        )
    return aliases[key]


def _heart_rate_bounds(
    runs: pd.DataFrame,
    hr_avg: np.ndarray,
    hr_rest_bpm: float | None,
    hr_max_bpm: float | None,
) -> tuple[float, float, str]:
    """HR rest and max for TRIMP, and a sentence saying where they came from."""
    notes = []
    if hr_rest_bpm is not None:
        hr_rest = float(hr_rest_bpm)
        notes.append("HR rest given")
    else:
        hr_rest = DEFAULT_HR_REST_BPM
        notes.append(f"HR rest assumed {hr_rest:.0f} bpm (not given)")
    if hr_max_bpm is not None:
        hr_max = float(hr_max_bpm)
        notes.append("HR max given")
    else:
        run_max = float_column(runs, "max_heart_rate_bpm")
        run_max = run_max[np.isfinite(run_max) & (run_max <= 230) & (run_max > hr_rest)]
        finite_avg = hr_avg[np.isfinite(hr_avg)]
        if run_max.size:
            hr_max = float(run_max.max())
            notes.append(
                f"HR max estimated {hr_max:.0f} bpm = highest per-run max HR "
                f"of {run_max.size} runs"
            )
        elif finite_avg.size:
            hr_max = float(finite_avg.max() / HR_MAX_FROM_AVG_FACTOR)
            notes.append(
                f"HR max estimated {hr_max:.0f} bpm = highest run-average HR "
                f"{finite_avg.max():.0f} / {HR_MAX_FROM_AVG_FACTOR}"
            )
        else:
            hr_max = math.nan
            notes.append("HR max unknown: no heart-rate data, TRIMP is NaN")
    if np.isfinite(hr_max) and not hr_max > hr_rest:
        raise ValueError(
            f"hr_max_bpm ({hr_max}) must be greater than hr_rest_bpm ({hr_rest}); "
            "pass both as measured values in beats/min."
        )
    source = "; ".join(notes)
    estimated = (hr_rest_bpm is None or hr_max_bpm is None) and np.isfinite(hr_avg).any()
    if estimated:
        warnings.warn(
            f"daily_load TRIMP: {source}. Pass hr_rest_bpm= and hr_max_bpm= "
            f"for TRIMP on your own scale ({int(np.isfinite(hr_avg).sum())} runs "
            "with heart rate affected).",
            DataQualityWarning,
            stacklevel=3,
        )
    return hr_rest, hr_max, source


# --------------------------------------------------------------------------- load_metrics
def ewma_lambda(n_days: int) -> float:
    """EWMA decay for an ``n_days`` window: ``lambda = 2 / (N + 1)`` (Williams 2017)."""
    return 2.0 / (n_days + 1.0)


def _check_daily_index(daily: pd.DataFrame) -> pd.DataFrame:
    """The daily frame on a complete tz-naive daily index (absent days -> NaN rows)."""
    index = daily.index
    if not isinstance(index, pd.DatetimeIndex):
        raise SchemaError(
            f"daily: index must be a DatetimeIndex named 'date', found {type(index).__name__}; "
            "pass the frame returned by daily_load()."
        )
    if index.tz is not None:
        raise SchemaError(
            f"daily: index must be tz-naive local dates, found tz={index.tz}; "
            "use daily.tz_localize(None) after converting to the runner's local time."
        )
    if index.has_duplicates:
        raise SchemaError(
            f"daily: {int(index.duplicated().sum())} duplicated dates in the index; "
            "aggregate to one row per day first (daily_load does)."
        )
    if len(index) == 0:
        return daily
    normalized = index.normalize()
    if not (normalized == index).all():
        raise SchemaError(
            "daily: index holds times of day, expected midnight local dates; "
            "use daily.index.normalize()."
        )
    full = pd.date_range(index.min(), index.max(), freq="D", name="date").as_unit("ns")
    if len(full) != len(index) or not index.is_monotonic_increasing:
        n_absent = len(full.difference(index))
        if n_absent:
            warnings.warn(
                f"load_metrics: {n_absent} days between {full[0].date()} and "
                f"{full[-1].date()} are absent from the daily index; they are treated "
                "as missing data, not rest. Reindex with 0 for rest days if they were rest.",
                DataQualityWarning,
                stacklevel=3,
            )
        daily = daily.reindex(full)
    elif not (index.dtype == full.dtype and index.name == "date"):
        daily = daily.set_axis(full, axis=0)
    return daily


def _parse_days(known_missing: pd.Series | Iterable | None) -> pd.DatetimeIndex:
    """Known-missing days as a sorted, unique tz-naive DatetimeIndex at midnight."""
    empty = pd.DatetimeIndex([], dtype="datetime64[ns]")
    if known_missing is None:
        return empty
    flagged: Any
    if isinstance(known_missing, pd.Series) and known_missing.dtype == bool:
        flagged = known_missing.index[known_missing.to_numpy()]
    else:
        flagged = list(known_missing)
    if len(flagged) == 0:
        return empty
    try:
        days = local_days(flagged)
    except (TypeError, ValueError) as err:
        raise ValueError(
            "known_missing must be dates (datetime.date, strings, Timestamps) or a "
            f"boolean Series indexed by date; could not read {list(flagged)[:3]}."
        ) from err
    return days.unique().sort_values()


def _missing_mask(
    index: pd.DatetimeIndex, known_missing: pd.Series | Iterable | None
) -> np.ndarray:
    days = _parse_days(known_missing)
    if len(days) == 0:
        return np.zeros(len(index), dtype=bool)
    return index.isin(days)


def _gap_mask(active: np.ndarray, min_gap: int) -> np.ndarray:
    """True on days inside runs of >= ``min_gap`` consecutive inactive days."""
    inactive = ~active
    if not inactive.any():
        return np.zeros_like(inactive)
    padded = np.concatenate([[False], inactive, [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    starts, ends = edges[::2], edges[1::2]
    mask = np.zeros(len(active), dtype=bool)
    for s, e in zip(starts, ends, strict=True):
        if e - s >= min_gap:
            mask[s:e] = True
    return mask


def _windows(x: np.ndarray, window: int) -> np.ndarray:
    """Trailing windows ending on each day (days before the record are NaN)."""
    padded = np.concatenate([np.full(window - 1, np.nan), x])
    return sliding_window_view(padded, window)


def _need(window: int, min_coverage: float) -> int:
    return max(1, math.ceil(min_coverage * window - 1e-9))


def _windowed_mean(x: np.ndarray, window: int, min_coverage: float) -> np.ndarray:
    """Mean over the observed days of each trailing window (NaN if coverage too low)."""
    win = _windows(x, window)
    n_obs = np.sum(np.isfinite(win), axis=1)
    total = np.nansum(win, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / n_obs
    mean[n_obs < _need(window, min_coverage)] = np.nan
    return mean


def _ewm(x: np.ndarray, alpha: float, prior_weight: float, min_coverage: float) -> np.ndarray:
    """Exponentially weighted mean renormalised over observed days.

    ``s_t = (1 - a) s_(t-1) + a x_t`` over observed days (missing days add 0),
    ``w_t`` the same recursion on the observed indicator; the estimate is
    ``s_t / w_t``, NaN where ``w_t < min_coverage``. ``prior_weight`` is ``w`` before
    the first day: 1 treats the time before the record as observed zero load (the
    CTL/ATL convention), 0 as unknown.
    """
    observed = np.isfinite(x)
    b, a = [alpha], [1.0, -(1.0 - alpha)]
    s = lfilter(b, a, np.where(observed, x, 0.0), zi=[0.0])[0]
    w = lfilter(b, a, observed.astype(float), zi=[(1.0 - alpha) * prior_weight])[0]
    with np.errstate(invalid="ignore", divide="ignore"):
        est = s / w
    est[w < min_coverage - 1e-12] = np.nan
    return est


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num / den``; NaN where the denominator is not positive."""
    with np.errstate(invalid="ignore", divide="ignore"):
        r = num / den
    r[~(den > 0)] = np.nan
    return r


def _monotony_strain(
    x: np.ndarray, mean7: np.ndarray, acute: np.ndarray, min_coverage: float
) -> tuple[np.ndarray, np.ndarray]:
    """Foster monotony (mean / population SD of 7 days) and strain (acute x monotony)."""
    win7 = _windows(x, 7)
    ok7 = np.sum(np.isfinite(win7), axis=1) >= _need(7, min_coverage)
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        sd7 = np.nanstd(win7, axis=1, ddof=0)
    sd7[~ok7] = np.nan
    flat = ok7 & (sd7 <= 1e-12 * np.maximum(1.0, np.abs(mean7)))
    with np.errstate(invalid="ignore", divide="ignore"):
        monotony = mean7 / sd7
    monotony[flat | ~ok7] = np.nan
    strain = acute * monotony
    strain[ok7 & (acute == 0)] = 0.0
    return monotony, strain


def _weekly_change(acute: np.ndarray) -> tuple[np.ndarray, Any]:
    """Rolling-week change vs the week before [%] and its Nielsen category."""
    prev_week = np.concatenate([np.full(7, np.nan), acute])[: len(acute)]
    change = (_ratio(acute, prev_week) - 1.0) * 100.0
    both_zero = (prev_week == 0) & (acute == 0)
    from_zero = (prev_week == 0) & (acute > 0)
    change[both_zero] = 0.0
    cat_code = np.full(len(acute), -1, dtype=np.int64)
    # boundaries are compared with a 1e-9 percentage-point allowance for rounding
    cat_code[change < 10 - _EDGE_EPS] = 0
    cat_code[(change >= 10 - _EDGE_EPS) & (change <= 30 + _EDGE_EPS)] = 1
    cat_code[(change > 30 + _EDGE_EPS) | from_zero] = 2
    cats = pd.Categorical.from_codes(
        cat_code, categories=pd.Index(WEEKLY_CHANGE_CATEGORIES), ordered=True
    )
    return change, cats


def load_metrics(
    daily: pd.DataFrame,
    *,
    column: str = "distance_km",
    known_missing: pd.Series | Iterable | None = None,
    infer_missing_gap_days: int | None = None,
    min_coverage: float = 0.9,
) -> pd.DataFrame:
    """Acute and chronic load, load ratios, monotony, fitness-fatigue and weekly change.

    Parameters
    ----------
    daily
        Daily frame from :func:`daily_load` (complete tz-naive daily index named
        ``date``). Absent dates are treated as missing, with a warning.
    column
        The daily load to summarise, e.g. ``"distance_km"`` [km], ``"duration_min"``
        [min], ``"trimp"`` [AU], ``"srpe_au"`` [AU].
    known_missing
        Days without watch data that were not rest (watch lost, runs logged
        elsewhere): dates, or a boolean Series indexed by date. Their load is
        unknown (NaN), not 0.
    infer_missing_gap_days
        If given, every stretch of at least this many consecutive days without a run
        is also treated as missing data (use when long gaps mean "no watch", not
        "no running"). ``attrs['missing_source']`` says which rule was used.
    min_coverage
        Fraction of a window's weight that must come from observed days [0-1]. With
        the default 0.9 a 7-day window needs all 7 days and a 28-day window 26.

    Returns
    -------
    pandas.DataFrame
        A copy of ``daily`` with the columns of :data:`kneedata.schema.LOAD_METRICS`
        added; ``attrs`` gains ``load_column``, ``missing_source``,
        ``n_missing_days`` and ``min_coverage``.

    Notes
    -----
    With ``x_t`` the daily load (missing days NaN):

    - ``acute_7d`` = sum of the last 7 days; ``chronic_28d`` = mean weekly load of
      the last 28 days (sum / 4); ``chronic_prev_21d`` = mean weekly load of days
      t-27..t-7 (excludes the acute week).
    - ``acwr_coupled = acute_7d / chronic_28d``; ``acwr_uncoupled = acute_7d /
      chronic_prev_21d``; hence ``coupled = 4R / (R + 3)`` for uncoupled ``R``.
    - ``ewma_acute_7d``, ``ewma_chronic_28d``: ``E_t = l x_t + (1 - l) E_(t-1)`` with
      ``l = 2 / (N + 1)`` (0.25 and 0.068966), in daily units; ``acwr_ewma`` is their
      ratio. Time before the record counts as unknown.
    - ``monotony_7d`` = mean / population SD of the 7 daily loads (NaN when SD is 0);
      ``strain_7d = acute_7d * monotony_7d`` (0 for a week without load).
    - ``ctl``, ``atl``: ``F_t = F_(t-1) + (x_t - F_(t-1)) (1 - exp(-1/T))``, T = 42
      and 7 days, starting from 0 before the first day (42 days of 100 give CTL
      63.21); ``tsb_t = ctl_(t-1) - atl_(t-1)`` (yesterday's values, 0 on day one).
    - ``weekly_change_pct = (acute_7d_t / acute_7d_(t-7) - 1) * 100``, a rolling week
      ending each day; ``weekly_change_cat``: ``<10%`` (including decreases),
      ``10-30%``, ``>30%`` (Nielsen 2014). From a week of 0 to a week with load the
      percentage is NaN (undefined) and the category ``>30%``.

    Missing data: missing days are never read as rest. A rolling window reports a
    value only when at least ``ceil(min_coverage * N)`` of its N days are observed,
    and then uses the mean of the observed days (sums are scaled to the window).
    The exponential averages are renormalised over observed days and reported only
    where observed days hold at least ``min_coverage`` of the weight. Days before
    the first row count as missing, except for CTL/ATL (the convention starts
    them from 0).

    Examples
    --------
    Foster's worked week (docs/design.md section 4):

    >>> import pandas as pd
    >>> days = pd.date_range("2024-01-01", periods=7, name="date")
    >>> daily = pd.DataFrame({"distance_km": [300, 0, 450, 300, 600, 0, 900.0]}, index=days)
    >>> last = load_metrics(daily).iloc[-1]
    >>> print(f"{last['monotony_7d']:.4f} {last['strain_7d']:.1f}")
    1.2205 3112.3

    References
    ----------
    Hulin BT et al. (2014). Spikes in acute workload are associated with increased
    injury risk in elite cricket fast bowlers. Br J Sports Med 48:708-712.
    doi:10.1136/bjsports-2013-092524
    Lolli L et al. (2019). Mathematical coupling causes spurious correlation within
    the conventional acute-to-chronic workload ratio calculations. Br J Sports Med
    53:921-922. doi:10.1136/bjsports-2017-098110
    Williams S et al. (2017). Better way to determine the acute:chronic workload
    ratio? Br J Sports Med 51:209-210. doi:10.1136/bjsports-2016-096589
    Foster C (1998). Monitoring training in athletes with reference to overtraining
    syndrome. Med Sci Sports Exerc 30:1164-1168. doi:10.1097/00005768-199807000-00023
    Banister EW et al. (1975). A systems model of training for athletic performance.
    Aust J Sports Med 7:57-61.
    Nielsen RO et al. (2014). Excessive progression in weekly running distance and
    risk of running-related injuries. J Orthop Sports Phys Ther 44:739-747.
    doi:10.2519/jospt.2014.5164
    Impellizzeri FM et al. (2020). Acute:chronic workload ratio: conceptual issues
    and fundamental pitfalls. Int J Sports Physiol Perform 15:907-913.
    doi:10.1123/ijspp.2019-0864
    """
    if column not in daily.columns:
        raise SchemaError(
            f"daily: no column {column!r}; found {list(daily.columns)}. Pass column= "
            "one of the daily_load columns (distance_km, duration_min, trimp, srpe_au)."
        )
    if not 0.0 < min_coverage <= 1.0:
        raise ValueError(f"min_coverage={min_coverage} must be in (0, 1].")
    if infer_missing_gap_days is not None and infer_missing_gap_days < 1:
        raise ValueError(
            f"infer_missing_gap_days={infer_missing_gap_days} must be a positive "
            "number of days (or None to treat days without runs as rest)."
        )
    attrs = dict(daily.attrs)
    out = _check_daily_index(daily).rename_axis("date").copy()
    x = pd.to_numeric(out[column], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    x = x.copy()

    sources = []
    nan_in_column = ~np.isfinite(x)
    if nan_in_column.any():
        sources.append("nan_in_column")
    known = _missing_mask(pd.DatetimeIndex(out.index), known_missing)
    if known_missing is not None:
        sources.append("known_missing")
    inferred = np.zeros(len(x), dtype=bool)
    if infer_missing_gap_days is not None:
        if "n_runs" in out.columns:
            active = pd.to_numeric(out["n_runs"], errors="coerce").fillna(0).to_numpy() > 0
        else:
            active = np.nan_to_num(x, nan=0.0) > 0
        inferred = _gap_mask(active, int(infer_missing_gap_days))
        sources.append(f"inferred_gaps>={int(infer_missing_gap_days)}d")
    missing = nan_in_column | known | inferred
    x[missing] = np.nan

    mean7 = _windowed_mean(x, 7, min_coverage)
    mean28 = _windowed_mean(x, 28, min_coverage)
    mean21 = _windowed_mean(x, 21, min_coverage)
    acute = 7.0 * mean7
    chronic = 7.0 * mean28
    chronic_prev = np.concatenate([np.full(7, np.nan), 7.0 * mean21])[: len(x)]

    monotony, strain = _monotony_strain(x, mean7, acute, min_coverage)

    ewma_a = _ewm(x, ewma_lambda(7), 0.0, min_coverage)
    ewma_c = _ewm(x, ewma_lambda(28), 0.0, min_coverage)
    ctl = _ewm(x, 1.0 - math.exp(-1.0 / 42.0), 1.0, min_coverage)
    atl = _ewm(x, 1.0 - math.exp(-1.0 / 7.0), 1.0, min_coverage)
    tsb = np.concatenate([[0.0], (ctl - atl)[:-1]]) if len(x) else np.array([])

    change, cats = _weekly_change(acute)

    new = {
        "missing_day": missing,
        "acute_7d": acute,
        "chronic_28d": chronic,
        "chronic_prev_21d": chronic_prev,
        "acwr_coupled": _ratio(acute, chronic),
        "acwr_uncoupled": _ratio(acute, chronic_prev),
        "ewma_acute_7d": ewma_a,
        "ewma_chronic_28d": ewma_c,
        "acwr_ewma": _ratio(ewma_a, ewma_c),
        "monotony_7d": monotony,
        "strain_7d": strain,
        "ctl": ctl,
        "atl": atl,
        "tsb": tsb,
        "weekly_change_pct": change,
        "weekly_change_cat": cats,
    }
    for name in LOAD_METRICS:
        values = new[name]
        if name == "weekly_change_cat":
            out[name] = pd.Series(values, index=out.index)
        else:
            out[name] = np.asarray(values, dtype=LOAD_METRICS[name].dtype)
    attrs.update(
        {
            "load_column": column,
            "missing_source": "+".join(sources) if sources else "none",
            "n_missing_days": int(missing.sum()),
            "n_known_missing_days": int(known.sum()),
            "n_inferred_missing_days": int(inferred.sum()),
            "min_coverage": min_coverage,
        }
    )
    out.attrs = attrs
    return out


# --------------------------------------------------------------------------- spikes
def _range_max(values: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """max(values[lo:hi]) for each pair (NaN for empty ranges); sparse table, O(n log n)."""
    n = len(values)
    out = np.full(len(lo), np.nan)
    if n == 0:
        return out
    table = [values]
    span = 1
    while 2 * span <= n:
        prev = table[-1]
        table.append(np.fmax(prev[:-span], prev[span:]))
        span *= 2
    length = hi - lo
    ok = length > 0
    k = np.zeros(len(lo), dtype=np.int64)
    k[ok] = np.floor(np.log2(length[ok])).astype(np.int64)
    for level in np.unique(k[ok]):
        sel = ok & (k == level)
        row = table[level]
        out[sel] = np.fmax(row[lo[sel]], row[hi[sel] - (1 << level)])
    return out


def session_spikes(
    activities: pd.DataFrame,
    *,
    include: Iterable[str] | str | None = RUN_KINDS,
    window_days: int = 30,
    known_missing: pd.Series | Iterable | None = None,
) -> pd.DataFrame:
    """Single-session spikes: each run against the longest run of the previous 30 days.

    Parameters
    ----------
    activities
        One row per activity (``Store.activities()``): ``activity_id``,
        ``local_date``, ``sport``, ``distance_m`` [m], optional ``start_time_utc``.
    include
        Kinds of run counted (:func:`kneedata.select_runs`); ``None`` counts all.
    window_days
        History window [days]; 30 in Frandsen et al.
    known_missing
        Days without watch data that were not rest (as for :func:`load_metrics`):
        ``n_missing_days_30d`` counts them in each run's window, so runs whose
        history may be incomplete can be left out or checked.

    Returns
    -------
    pandas.DataFrame
        One row per run in chronological order (RangeIndex), columns of
        :data:`kneedata.schema.SESSION_SPIKES`.

    Notes
    -----
    History of a run on local day d: runs on days d-30 .. d-1 and runs earlier the
    same day (by ``start_time_utc``, else row order). Runs with unknown or zero
    distance are not history.

    - ``spike_ratio = d / longest_prev_30d_km``;
      ``spike_pct = (spike_ratio - 1) * 100``.
    - ``spike_category``: ``none`` (spike_pct <= 10), ``small`` (>10-30),
      ``moderate`` (>30-100), ``large`` (>100); ``first_run`` when there is no
      history; NaN when the run's own distance is unknown.

    Frandsen et al. found hazard ratios of 1.64 (small), 1.52 (moderate) and 2.28
    (large) for overuse injury against ``none``, while ACWR and week-to-week ratios
    showed no such signal. A day without data is not a day without running: the
    history only knows the runs it is given, so with ``n_missing_days_30d > 0``
    the longest previous run is a lower bound (a spike may be overstated, a
    ``first_run`` may have had history).

    Examples
    --------
    >>> import datetime as dt
    >>> import pandas as pd
    >>> runs = pd.DataFrame({"activity_id": ["a", "b", "c"], "sport": "running",
    ...                      "local_date": [dt.date(2024, 1, 1), dt.date(2024, 1, 3),
    ...                                     dt.date(2024, 1, 9)],
    ...                      "distance_m": [10000.0, 12000.0, 25000.0]})
    >>> session_spikes(runs)[["activity_id", "spike_pct", "spike_category"]].round(1)
      activity_id  spike_pct spike_category
    0           a        NaN      first_run
    1           b       20.0          small
    2           c      108.3          large

    References
    ----------
    Frandsen JSB et al. (2025). How much running is too much? Identifying high-risk
    running sessions in a 5200-person cohort study. Br J Sports Med.
    doi:10.1136/bjsports-2024-109380
    """
    _require(activities, ["activity_id", "distance_m"], "activities")
    if window_days < 1:
        raise ValueError(f"window_days={window_days} must be at least 1.")
    order = runs_in_order(activities, include=include)
    runs = activities.loc[order.index]
    dates = order["_date"].to_numpy()
    dist_km = float_column(runs, "distance_m") / 1000.0
    history = np.where(np.isfinite(dist_km) & (dist_km > 0), dist_km, np.nan)

    position = np.arange(len(runs))
    lo = np.searchsorted(dates, dates - np.timedelta64(window_days, "D"), side="left")
    longest = _range_max(history, lo, position)  # runs lo .. i-1 (earlier same day too)

    missing_days = _parse_days(known_missing).to_numpy()
    n_missing = (
        np.searchsorted(missing_days, dates, side="right")
        - np.searchsorted(missing_days, dates - np.timedelta64(window_days, "D"), side="left")
    ).astype(np.int64)

    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = dist_km / longest
    pct = (ratio - 1.0) * 100.0
    code = np.full(len(runs), -1, dtype=np.int64)
    p = pct - _EDGE_EPS  # 11 km after 10 km is exactly +10 %, not 10.000000000000009
    code[p <= 10] = 0
    code[(p > 10) & (p <= 30)] = 1
    code[(p > 30) & (p <= 100)] = 2
    code[p > 100] = 3
    code[np.isnan(longest) & np.isfinite(dist_km)] = 4

    out = pd.DataFrame(
        {
            "activity_id": runs["activity_id"].astype("str").to_numpy(),
            "date": dates,
            "distance_km": dist_km,
            "longest_prev_30d_km": longest,
            "spike_ratio": ratio,
            "spike_pct": pct,
            "spike_category": pd.Categorical.from_codes(code, categories=pd.Index(SPIKE_CATEGORIES)),
            "n_missing_days_30d": n_missing,
        }
    )
    out = out.astype(
        {n: c.dtype for n, c in SESSION_SPIKES.items() if c.dtype != "category"}
    )
    out.attrs["window_days"] = window_days
    return out[list(SESSION_SPIKES)]
