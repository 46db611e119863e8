"""One activity (session) as canonical tables, and the builder every reader uses.

The format readers (:mod:`kneedata.io.fit`, :mod:`kneedata.io.gpx`,
:mod:`kneedata.io.tcx`) import this module; the entry point for files,
:func:`kneedata.io.read.read_activities`, sits above them. Every reader builds its
activities through :func:`build_activity`, the single place where sample-derived figures (timer, elapsed
and moving time, distance, cadence, heart rate, climb, running dynamics, local date)
are computed, so that a FIT file, a GPX file and a TCX file of the same run are
summarised the same way.
"""

from __future__ import annotations

import math
import threading
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import is_numeric_dtype

from kneedata._dates import as_utc
from kneedata.errors import DataQualityWarning, FileFormatError
from kneedata.io.geo import cumulative_distance_m
from kneedata.io.plausible import (
    RECORD_LIMITS,
    check_records,
    check_stated_totals,
    clean_distance,
    clean_fixes,
    max_speed_m_s,
)
from kneedata.runs import run_kind
from kneedata.schema import ACTIVITIES, LAPS, RECORDS

__all__ = [
    "ASCENT_HYSTERESIS_M",
    "CYCLING_SPORTS",
    "FOOT_SPORTS",
    "MAX_NAME_CHARS",
    "MAX_NOTE_CHARS",
    "MOVING_SPEED_M_S",
    "Activity",
    "build_activity",
    "cap_text",
    "is_cycling_sport",
    "is_foot_sport",
    "sample_totals",
]

#: Speed above which a sample counts as moving [m/s] (1.8 km/h: slower than any walk,
#: faster than GPS drift while standing still).
MOVING_SPEED_M_S = 0.5

#: Hysteresis of the ascent/descent count [m]: a climb or drop only counts once the
#: altitude has moved this far from the last turning point (GoldenCheetah's default
#: elevation hysteresis); smaller wiggles are treated as altitude noise.
ASCENT_HYSTERESIS_M = 3.0

#: Sports whose cadence is counted in steps: FIT sport names (lower case) plus the
#: names GPX/TCX writers use for them.
FOOT_SPORTS = frozenset(
    {
        "running", "walking", "hiking", "trail_running", "trail", "run", "walk",
        "hike", "mountaineering", "snowshoeing", "floor_climbing", "treadmill",
        "track_running", "virtual_run", "virtual_running", "ultra_run",
    }
)

#: Sports whose cadence is crank revolutions per minute (never doubled).
CYCLING_SPORTS = frozenset(
    {
        "cycling", "biking", "bike", "ride", "e_biking", "ebiking", "road_biking",
        "mountain_biking", "virtual_ride", "virtual_cycling", "indoor_cycling",
        "gravel_cycling", "e_bike_ride", "hand_cycling",
    }
)

#: Longest device or sport name stored [characters]; a file can hold megabytes there.
MAX_NAME_CHARS = 200
#: Longest data-quality note kept [characters] (notes quote values from the file).
MAX_NOTE_CHARS = 1000

#: Longest duration a watch can state for one activity [s]: a week. A stated
#: timer, elapsed or moving time beyond it (or below 0) is a damaged message, not
#: a run; the samples' figure is used instead (the same bound as the readers'
#: clock-glitch rule, which drops samples dated more than two days from the rest).
MAX_STATED_DURATION_S = 7 * 86400.0
_DURATIONS = ("timer_time_s", "elapsed_time_s", "moving_time_s")

#: Summary figures computed from samples unless the file states them.
_FIGURES = (
    "distance_m",
    "timer_time_s",
    "elapsed_time_s",
    "moving_time_s",
    "avg_cadence_spm",
    "avg_cadence_rpm",
    "avg_speed_m_s",
    "avg_heart_rate_bpm",
    "ascent_m",
    "descent_m",
    "avg_step_length_m",
    "avg_stance_time_ms",
    "avg_vertical_oscillation_mm",
    "avg_vertical_ratio_pct",
    "avg_stance_time_balance_pct",
)
#: The figures that decide the overall ``totals_source`` label.
_HEADLINE = (
    "distance_m",
    "timer_time_s",
    "elapsed_time_s",
    "avg_cadence_spm",
    "avg_cadence_rpm",
    "avg_speed_m_s",
    "avg_heart_rate_bpm",
)
_DYNAMICS = {
    "avg_step_length_m": "step_length_m",
    "avg_stance_time_ms": "stance_time_ms",
    "avg_vertical_oscillation_mm": "vertical_oscillation_mm",
    "avg_vertical_ratio_pct": "vertical_ratio_pct",
    "avg_stance_time_balance_pct": "stance_time_balance_pct",
}
_FLOAT_RECORDS = [name for name, col in RECORDS.items() if col.dtype == "float64"]
_BOOL_RECORDS = [name for name, col in RECORDS.items() if col.dtype == "bool"]


@dataclass
class Activity:
    """One session of a watch file in canonical tables.

    Attributes
    ----------
    summary
        One value per field of :data:`kneedata.schema.ACTIVITIES` (``activity_id``,
        ``sport``, ``start_time_utc``, ``local_date``, ``distance_m`` ...).
    records
        One row per sample, tz-aware UTC ``DatetimeIndex`` named ``timestamp``,
        the columns of :data:`kneedata.schema.RECORDS` (NaN where the file lacks a
        quantity).
    laps
        One row per lap, the columns of :data:`kneedata.schema.LAPS`.
    warnings
        What was salvaged, assumed or left out while reading, one message each.
    """

    summary: pd.Series
    records: pd.DataFrame
    laps: pd.DataFrame
    warnings: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------------
# sports


def _norm_sport(sport: object) -> str:
    if sport is None or (isinstance(sport, float) and math.isnan(sport)):
        return "generic"
    text = str(sport).strip().lower().replace(" ", "_").replace("-", "_")
    return text or "generic"


#: Sub-sports that make a ``generic``/``fitness_equipment``/``training`` session a
#: cycling activity (older Garmin indoor-bike files; foot ones: kneedata.runs).
_CYCLING_SUB_SPORTS = frozenset({"indoor_cycling", "spin", "road", "mountain", "cyclocross",
                                 "gravel_cycling", "e_bike_fitness", "bmx", "downhill"})
_UNSPECIFIC_SPORTS = frozenset({"generic", "fitness_equipment", "training", "all"})


def is_foot_sport(sport: object, sub_sport: object = None) -> bool:
    """True for sports whose cadence counts steps (running, walking, hiking, ...).

    Runs, walks and hikes as :func:`kneedata.runs.run_kind` defines them (so a
    ``generic`` session with a ``treadmill`` sub-sport is a run), plus other foot
    sports of :data:`FOOT_SPORTS` (floor climbing ...).
    """
    return run_kind(sport, sub_sport) is not None or _norm_sport(sport) in FOOT_SPORTS


def is_cycling_sport(sport: object, sub_sport: object = None) -> bool:
    """True for sports whose cadence is crank revolutions per minute."""
    name = _norm_sport(sport)
    if name in CYCLING_SPORTS:
        return True
    return name in _UNSPECIFIC_SPORTS and _norm_sport(sub_sport) in _CYCLING_SUB_SPORTS


# --------------------------------------------------------------------------------
# sample-derived figures


def _interval_running_s(t_s: np.ndarray, pauses_s: list[tuple[float, float]]) -> np.ndarray:
    """Seconds of timer-running time in each interval [t_i, t_{i+1}) (last = 0)."""
    n = len(t_s)
    if n < 2:
        return np.zeros(n)
    start = t_s[:-1]
    end = t_s[1:]
    run = end - start
    for p0, p1 in pauses_s:
        overlap = np.minimum(end, p1) - np.maximum(start, p0)
        run = run - np.clip(overlap, 0.0, None)
    return np.append(np.clip(run, 0.0, None), 0.0)


def _weighted_mean(values: np.ndarray, weights: np.ndarray, *, positive: bool) -> float:
    ok = ~np.isnan(values) & (weights > 0)
    if positive:
        ok &= values > 0
    total = weights[ok].sum()
    if total <= 0:
        return math.nan
    return float((values[ok] * weights[ok]).sum() / total)


def _climb(altitude_m: np.ndarray, hysteresis_m: float) -> tuple[float, float]:
    """Total ascent and descent [m] between turning points at least ``hysteresis_m`` apart.

    A climb is only confirmed once the altitude has dropped ``hysteresis_m`` below
    its top (and a descent once it has risen that far above its bottom); the full
    height from the previous turning point is then counted.
    """
    alt = altitude_m[~np.isnan(altitude_m)].tolist()
    if len(alt) < 2:
        return math.nan, math.nan
    ascent = descent = 0.0
    direction = 0  # +1 climbing, -1 descending, 0 not yet decided
    low = high = anchor = extreme = alt[0]
    for a in alt:
        if direction == 0:
            low, high = min(low, a), max(high, a)
            if high - low >= hysteresis_m:
                if a == high:
                    direction, anchor, extreme = 1, low, high
                else:
                    direction, anchor, extreme = -1, high, low
        elif direction > 0:
            if a > extreme:
                extreme = a
            elif extreme - a >= hysteresis_m:
                ascent += extreme - anchor
                direction, anchor, extreme = -1, extreme, a
        else:
            if a < extreme:
                extreme = a
            elif a - extreme >= hysteresis_m:
                descent += anchor - extreme
                direction, anchor, extreme = 1, extreme, a
    if direction > 0:
        ascent += extreme - anchor
    elif direction < 0:
        descent += anchor - extreme
    return ascent, descent


def _gps_distance(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Cumulative distance along the GPS fixes [m]; NaN before the first fix."""
    ok = ~np.isnan(lat) & ~np.isnan(lon)
    if ok.sum() < 2:
        return np.full(len(lat), np.nan)
    out = cumulative_distance_m(lat, lon, np.zeros(len(lat), dtype=int))
    out[: int(np.argmax(ok))] = np.nan
    return out


def _moving_mask(t_s: np.ndarray, speed: np.ndarray, distance: np.ndarray,
                 running: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-sample and per-interval moving flags.

    A sample is moving when the timer runs and its speed exceeds
    :data:`MOVING_SPEED_M_S`; where the file has no speed, the speed over the
    following interval (distance / time) stands in. An interval counts as moving
    when its distance-based speed exceeds the threshold (so a gap in recording with
    no distance gained is not moving time), falling back to the sample speed.
    """
    n = len(t_s)
    interval_speed = np.full(n, np.nan)
    if n >= 2:
        dt_s = np.diff(t_s)
        dd = np.diff(distance)
        with np.errstate(invalid="ignore", divide="ignore"):
            v = np.where(dt_s > 0, dd / dt_s, np.nan)
        interval_speed[:-1] = v
    sample_speed = np.where(np.isnan(speed), interval_speed, speed)
    with np.errstate(invalid="ignore"):
        moving = running & (sample_speed > MOVING_SPEED_M_S)
        interval_moving = np.where(
            np.isnan(interval_speed), sample_speed > MOVING_SPEED_M_S,
            interval_speed > MOVING_SPEED_M_S,
        )
    return moving, interval_moving


def sample_totals(records: pd.DataFrame, *, pauses: Iterable[tuple[Any, Any]] = ()) -> dict[str, float]:
    """Summary figures computed from the samples alone.

    Parameters
    ----------
    records
        A records table (see :data:`kneedata.schema.RECORDS`) with a tz-aware
        ``DatetimeIndex``. When no ``pauses`` are given and it has the boolean
        ``timer_running`` column that :func:`build_activity` writes (True when the
        timer runs for most of the interval to the next sample), that column
        decides: :math:`w_i = (t_{i+1} - t_i)` if ``timer_running[i]`` else 0.
    pauses
        ``(stop_utc, start_utc)`` timer pauses; ``start_utc`` may be ``None`` for a
        timer that was never restarted.

    Returns
    -------
    dict
        ``distance_m`` [m], ``timer_time_s``, ``elapsed_time_s``, ``moving_time_s``
        [s], ``avg_cadence_spm`` [steps/min], ``avg_cadence_rpm`` [1/min],
        ``avg_speed_m_s`` [m/s], ``avg_heart_rate_bpm`` [1/min], ``ascent_m``,
        ``descent_m`` [m] and the running-dynamics averages; NaN where the samples
        lack the quantity.

    Notes
    -----
    Each sample :math:`i` stands for the interval up to the next sample; its weight
    :math:`w_i` is the timer-running part of that interval (pauses cut out, the last
    sample weighs 0). Averages are :math:`\\sum_i w_i x_i / \\sum_i w_i` over samples
    with a value: cadence keeps zeros (a stop at a crossing is part of the run, which
    reproduces Garmin's own ``avg_running_cadence``), heart rate and running
    dynamics skip zeros (no signal). Timer time is :math:`\\sum_i w_i`; moving time
    sums :math:`w_i` over intervals faster than :data:`MOVING_SPEED_M_S`; distance is
    the span of the cumulative distance; average speed is distance / timer time.
    Ascent and descent count altitude changes between turning points that exceed
    :data:`ASCENT_HYSTERESIS_M`.
    """
    t_s = _index_seconds(records.index)
    pause_list = _pause_seconds(pauses)
    weights = None
    if not pause_list and "timer_running" in records.columns and len(t_s) >= 2:
        flags = records["timer_running"].to_numpy(dtype=bool)
        weights = np.append(np.diff(t_s) * flags[:-1], 0.0)
    return _totals(records, t_s, pause_list, weights=weights)[0]


def _index_seconds(index: pd.Index) -> np.ndarray:
    if len(index) == 0:
        return np.zeros(0)
    idx = as_utc(pd.DatetimeIndex(index))
    return np.asarray(idx.asi8, dtype=float) / _NS_PER_UNIT[idx.unit]


_NS_PER_UNIT = {"s": 1.0, "ms": 1e3, "us": 1e6, "ns": 1e9}


def _to_seconds(value: Any) -> float:
    if value is None:
        return math.inf
    ts = pd.Timestamp(value)
    if pd.isna(ts):
        return math.inf
    return (as_utc(ts) - pd.Timestamp("1970-01-01", tz="UTC")) / pd.Timedelta(seconds=1)


def _pause_seconds(pauses: Iterable[tuple[Any, Any]]) -> list[tuple[float, float]]:
    out = []
    for stop, start in pauses:
        p0 = _to_seconds(stop)
        p1 = _to_seconds(start)
        if math.isinf(p0) or p1 <= p0:
            continue
        out.append((p0, p1))
    return out


def _totals(records: pd.DataFrame, t_s: np.ndarray, pauses_s: list[tuple[float, float]],
            *, weights: np.ndarray | None = None) -> tuple[dict[str, float], np.ndarray, np.ndarray]:
    n = len(t_s)

    def col(name: str) -> np.ndarray:
        if name in records.columns:
            return records[name].to_numpy(dtype=float, na_value=np.nan)
        return np.full(n, np.nan)

    running = np.ones(n, dtype=bool)
    for p0, p1 in pauses_s:
        running &= ~((t_s > p0) & (t_s < p1))
    w = _interval_running_s(t_s, pauses_s) if weights is None else weights
    distance = col("distance_m")
    moving, interval_moving = _moving_mask(t_s, col("speed_m_s"), distance, running)
    out: dict[str, float] = {}
    valid_d = distance[~np.isnan(distance)]
    # span of the cumulative distance (a multisport leg starts where the last ended)
    out["distance_m"] = float(valid_d.max() - valid_d[0]) if len(valid_d) else math.nan
    out["timer_time_s"] = float(w.sum()) if n else math.nan
    out["elapsed_time_s"] = float(t_s[-1] - t_s[0]) if n else math.nan
    out["moving_time_s"] = float(w[interval_moving].sum()) if n else math.nan
    out["avg_cadence_spm"] = _weighted_mean(col("cadence_spm"), w, positive=False)
    out["avg_cadence_rpm"] = _weighted_mean(col("cadence_rpm"), w, positive=False)
    timer = out["timer_time_s"]
    out["avg_speed_m_s"] = out["distance_m"] / timer if timer and timer > 0 else math.nan
    out["avg_heart_rate_bpm"] = _weighted_mean(col("heart_rate_bpm"), w, positive=True)
    out["ascent_m"], out["descent_m"] = _climb(col("altitude_m"), ASCENT_HYSTERESIS_M)
    for summary_name, record_name in _DYNAMICS.items():
        out[summary_name] = _weighted_mean(col(record_name), w, positive=True)
    return out, running, moving


# --------------------------------------------------------------------------------
# local time


@lru_cache(maxsize=1)
def _tz_finder() -> Any:
    try:
        from timezonefinder import TimezoneFinder
    except ImportError:  # pragma: no cover - declared dependency
        return None
    return TimezoneFinder()


_TZ_LOCK = threading.Lock()


def _zone_of_fix(lat: float, lon: float) -> str | None:
    """IANA zone at a position (timezonefinder, offline; one lookup at a time)."""
    with _TZ_LOCK:
        finder = _tz_finder()
        if finder is None:
            return None
        try:
            return finder.timezone_at(lng=float(lon), lat=float(lat))
        except ValueError:
            return None


def _offset_in_zone(zone: str, when: pd.Timestamp) -> float | None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        offset = when.tz_convert(ZoneInfo(zone)).utcoffset()
    except (ZoneInfoNotFoundError, ValueError, KeyError):
        return None
    return None if offset is None else offset.total_seconds() / 60.0


#: Sub-sports whose positions are a virtual world's (Zwift, indoor apps): their
#: GPS never sets the time zone.
VIRTUAL_SUB_SPORTS = frozenset({"virtual_activity"})
#: The file's UTC offset and the GPS position's zone disagreeing by this much or
#: more [min] is reported, and the GPS zone is used.
ZONE_DISAGREEMENT_MIN = 60.0


def _hours(minutes: float) -> str:
    return f"{minutes / 60:+g} h"


def _local_time(records: pd.DataFrame, start: pd.Timestamp, utc_offset_min: Any, *,
                virtual: bool, notes: list[str]) -> tuple[float, str | None, str]:
    """The run's UTC offset [min], IANA zone and where they came from.

    Rule: the file's own offset (FIT ``activity.local_timestamp``) is used unless the
    zone of the first GPS fix disagrees with it by ``ZONE_DISAGREEMENT_MIN`` (1 h)
    or more: then the position wins (some watches, e.g. COROS, write local time
    equal to UTC wherever the run was) and a note gives both. Without an offset in
    the file the GPS zone gives it; without either, UTC is assumed with a note. A
    virtual activity's positions are a virtual world's and never set the zone.
    """
    fix = _first_fix(records) if len(records) and not virtual else None
    timezone = _zone_of_fix(*fix) if fix is not None else None
    zone_offset = _offset_in_zone(timezone, start) if timezone is not None else None
    if utc_offset_min is not None and not _is_missing(utc_offset_min):
        offset = float(utc_offset_min)
        if zone_offset is None or abs(zone_offset - offset) < ZONE_DISAGREEMENT_MIN:
            return offset, timezone, "file"
        notes.append(
            f"time zones disagree: the file says UTC{_hours(offset)}, the GPS position is in "
            f"{timezone} (UTC{_hours(zone_offset)} that day); the GPS zone was used for the "
            "local date (the watch's clock may not follow the zone)"
        )
        return zone_offset, timezone, "gps_timezone"
    if zone_offset is not None:
        return zone_offset, timezone, "gps_timezone"
    notes.append(
        "no UTC offset in the file and no GPS fix"
        + (" (virtual positions are not used)" if virtual and len(records) else "")
        + ": local date taken in UTC (it may be a day off for runs near midnight)"
    )
    return 0.0, "UTC", "assumed_utc"


# --------------------------------------------------------------------------------
# build


def _first_fix(records: pd.DataFrame) -> tuple[float, float] | None:
    lat = records["latitude_deg"].to_numpy(dtype=float)
    lon = records["longitude_deg"].to_numpy(dtype=float)
    ok = ~np.isnan(lat) & ~np.isnan(lon) & ((lat != 0) | (lon != 0))
    idx = np.flatnonzero(ok)
    if len(idx) == 0:
        return None
    return float(lat[idx[0]]), float(lon[idx[0]])


def _normalise_records(records: pd.DataFrame, source_file: str, notes: list[str]) -> pd.DataFrame:
    if not isinstance(records.index, pd.DatetimeIndex):
        raise FileFormatError(
            f"{source_file}: records must have a DatetimeIndex of sample times, found "
            f"{type(records.index).__name__}; fix the reader to index records by 'timestamp'"
        )
    index = as_utc(records.index)
    data = {}
    for name in _FLOAT_RECORDS:
        if name in records.columns:
            data[name] = records[name].to_numpy(dtype=float, na_value=np.nan)
        else:
            data[name] = np.full(len(records), np.nan)
    out = pd.DataFrame(data, index=pd.DatetimeIndex(index, name="timestamp"))
    if not out.index.is_monotonic_increasing:
        out = out.sort_index(kind="stable")
    if out.index.has_duplicates:
        # Several messages for one second (Strava writes position and distance
        # separately): merge them, keeping the first non-NaN value of each column.
        out = out.groupby(level=0, sort=True).first()
    return out


def _normalise_laps(laps: pd.DataFrame | None) -> pd.DataFrame:
    n = 0 if laps is None else len(laps)
    data: dict[str, Any] = {}
    for name, col in LAPS.items():
        if name == "lap_index":
            data[name] = np.arange(n, dtype="int64")
            continue
        given = laps[name] if laps is not None and name in laps.columns else None
        if col.dtype == "float64" and (given is None or is_numeric_dtype(given.dtype)):
            # numbers straight to float64 (half the time of to_numeric per column)
            data[name] = (np.full(n, np.nan) if given is None
                          else given.to_numpy(dtype="float64", na_value=np.nan))
            continue
        values = given.reset_index(drop=True) if given is not None else pd.Series([None] * n, dtype=object)
        if col.dtype == "float64":
            data[name] = pd.to_numeric(values, errors="coerce").astype("float64")
        elif col.dtype.startswith("datetime64"):
            data[name] = pd.to_datetime(values, utc=True)
        else:
            data[name] = values.astype(pd.StringDtype()) if col.dtype == "string" else values
    return pd.DataFrame(data, index=pd.RangeIndex(n))


def _drop_impossible(recs: pd.DataFrame, t_s: np.ndarray, source_file: str, notes: list[str], *,
                     speed_limit: float) -> int:
    """Impossible sample values to NaN, spiking GPS fixes dropped, impossible distance steps
    left out (in place, with notes; :mod:`kneedata.io.plausible`). Returns how many."""
    if not len(recs):
        return 0
    arrays = {name: recs[name].to_numpy(dtype=float, copy=True) for name in RECORD_LIMITS}
    n_bad = check_records(arrays, source_file=source_file, speed_limit_m_s=speed_limit, notes=notes)
    lat, lon, n_fix = clean_fixes(t_s, arrays["latitude_deg"], arrays["longitude_deg"], segment=None,
                                  speed_limit_m_s=speed_limit, source_file=source_file, notes=notes)
    arrays["latitude_deg"], arrays["longitude_deg"] = lat, lon
    arrays["distance_m"], n_steps = clean_distance(t_s, arrays["distance_m"], speed_limit_m_s=speed_limit,
                                                   source_file=source_file, notes=notes)
    if n_bad or n_fix or n_steps:
        for name, values in arrays.items():
            recs[name] = values
    return n_bad + n_fix + n_steps


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _plausible_durations(stated: Mapping[str, Any], notes: list[str]) -> Mapping[str, Any]:
    """``stated`` without durations outside 0 to :data:`MAX_STATED_DURATION_S` (with a note)."""
    bad = {}
    for name in _DURATIONS:
        value = stated.get(name)
        if isinstance(value, (int, float)) and not math.isnan(value) \
                and not 0 <= value <= MAX_STATED_DURATION_S:
            bad[name] = float(value)
    if not bad:
        return stated
    shown = ", ".join(f"{name} {value / 86400:.3g} days" for name, value in bad.items())
    notes.append(f"the file states {shown}: more than a week (or negative) is a damaged summary, "
                 "not an activity; the samples' figures were used")
    return {k: v for k, v in stated.items() if k not in bad}


def _merge_watch_totals(totals: dict[str, float], stated: Mapping[str, Any], notes: list[str],
                        *, foot: bool, cycling: bool, distance_from_gps: bool,
                        source_file: str = "") -> tuple[dict[str, str], str]:
    """Replace sample totals by the watch's stated ones (in place).

    Stated totals that are impossible (:func:`kneedata.io.plausible.check_stated_totals`)
    are not used. Returns where each figure came from (``watch``/``samples``/``gps``)
    and the headline source (``watch``, ``samples`` or ``mixed``).
    """
    detail: dict[str, str] = {}
    stated = _plausible_durations(stated, notes)
    durations = [float(v) for v in (*(stated.get(n) for n in _DURATIONS[:2]),
                                     totals.get("timer_time_s"), totals.get("elapsed_time_s"))
                 if isinstance(v, (int, float)) and not math.isnan(v)]
    n_stated = len(stated)
    stated = check_stated_totals(stated, duration_s=max(durations, default=math.nan),
                                 speed_limit_m_s=max_speed_m_s(foot, cycling),
                                 source_file=source_file, notes=notes)
    if len(stated) < n_stated:
        totals["_impossible"] = 1.0
    for name in _FIGURES:
        if name in stated:
            if (name == "avg_cadence_spm" and not foot) or (name == "avg_cadence_rpm" and not cycling):
                continue
            totals[name] = float(stated[name])
            detail[name] = "watch"
        elif not math.isnan(totals.get(name, math.nan)):
            detail[name] = "gps" if name == "distance_m" and distance_from_gps else "samples"
    if "avg_speed_m_s" not in stated and "distance_m" in stated:
        timer = totals["timer_time_s"]
        if timer and timer > 0:
            totals["avg_speed_m_s"] = totals["distance_m"] / timer
            detail["avg_speed_m_s"] = "watch"
    _drop_infinite(totals, detail, notes)
    head = [detail[n] for n in _HEADLINE if n in detail]
    if head and all(s == "watch" for s in head):
        return detail, "watch"
    if not any(s == "watch" for s in head):
        return detail, "samples"
    return detail, "mixed"


def build_activity(
    records: pd.DataFrame,
    *,
    source_file: str,
    source_format: str,
    sport: str | None,
    sub_sport: str | None,
    activity_id: str,
    cadence_unit_source: str,
    laps: pd.DataFrame | None = None,
    pauses: Iterable[tuple[Any, Any]] = (),
    watch_totals: Mapping[str, Any] | None = None,
    utc_offset_min: float | None = None,
    device: str | None = None,
    complete: bool = True,
    warnings: list[str] | None = None,
) -> Activity:
    """Canonical :class:`Activity` from a reader's samples, pauses and stated totals.

    Every reader (FIT, GPX, TCX) ends here, so every figure is derived one way.

    Parameters
    ----------
    records
        Samples indexed by a ``DatetimeIndex`` of UTC times (tz-naive is taken as
        UTC), holding a subset of the columns of :data:`kneedata.schema.RECORDS`
        already in canonical units (``cadence_spm`` in steps/min for foot sports,
        ``cadence_rpm`` for cycling). Missing columns are added as NaN; other
        columns are dropped. Not modified.
    source_file, source_format
        Where the samples came from (path or ``zip!member``) and ``"fit"``,
        ``"gpx"`` or ``"tcx"``.
    sport, sub_sport
        Sport names; lower-cased (FIT names: ``running``, ``cycling``, ...).
    activity_id
        ``"<first 16 hex of sha256(file bytes)>-<session index>"``.
    cadence_unit_source
        How the reader interpreted cadence (``fit_strides_doubled``,
        ``strides_doubled``, ``steps_as_is``, ``cycling_rpm``, ``none``).
    laps
        Per-lap table with any of the :data:`kneedata.schema.LAPS` columns.
    pauses
        ``(stop_utc, start_utc)`` timer pauses; ``start_utc=None`` means the timer
        was not restarted. Samples strictly inside a pause are not timer-running.
    watch_totals
        Summary fields the file itself states (``distance_m``, ``timer_time_s``,
        ``avg_cadence_spm``, ``start_time_utc`` ...), already in canonical units.
        They win over the sample-derived figures; NaN/None entries are ignored.
    utc_offset_min
        Local time minus UTC [min] when the file states it (FIT
        ``activity.local_timestamp``). Otherwise the IANA zone of the first GPS fix
        (timezonefinder + zoneinfo) gives it, else UTC is assumed with a warning.
    device
        Manufacturer and product, free text.
    complete
        False when the file was damaged and only partly read.
    warnings
        Reader messages about this activity; build_activity adds its own and emits
        all of them as one :class:`~kneedata.DataQualityWarning`.

    Returns
    -------
    Activity
        ``summary`` holds every field of :data:`kneedata.schema.ACTIVITIES`;
        ``totals_source`` says whether the headline figures came from the
        ``watch``, the ``samples`` or both (``mixed``) and ``totals_detail`` gives
        the source of each figure.

    Raises
    ------
    FileFormatError
        When there are neither samples nor a stated start time.

    Notes
    -----
    A sample is ``moving`` when the timer runs and its speed exceeds
    :data:`MOVING_SPEED_M_S` = 0.5 m/s. Foot sports keep ``cadence_spm`` and get
    NaN ``cadence_rpm``; cycling keeps ``cadence_rpm`` and gets NaN ``cadence_spm``
    and ``avg_cadence_spm``; other sports (swimming, transition, generic) keep
    neither. See :func:`sample_totals` for the formulas.
    """
    notes: list[str] = [cap_text(n, MAX_NOTE_CHARS) for n in warnings or []]
    sport_name = cap_text(_norm_sport(sport), MAX_NAME_CHARS)
    sub_sport_name = cap_text(_norm_sport(sub_sport), MAX_NAME_CHARS)
    device = None if device is None else cap_text(device, MAX_NAME_CHARS)
    recs = _normalise_records(records, source_file, notes)
    foot = is_foot_sport(sport_name, sub_sport_name)
    cycling = is_cycling_sport(sport_name, sub_sport_name)
    if not foot:
        if not np.isnan(recs["cadence_spm"].to_numpy()).all():
            if cycling and np.isnan(recs["cadence_rpm"].to_numpy()).all():
                notes.append(
                    f"cadence given as steps/min for a {sport_name} activity was discarded; "
                    "cycling cadence belongs in cadence_rpm"
                )
            recs["cadence_spm"] = np.nan
    if not cycling:
        recs["cadence_rpm"] = np.nan

    t_s = _index_seconds(recs.index)
    n_impossible = int(records.attrs.get("n_impossible", 0))  # found by the GPX/TCX track reader
    n_impossible += _drop_impossible(recs, t_s, source_file, notes, speed_limit=max_speed_m_s(foot, cycling))
    distance_from_gps = False
    if len(recs) and np.isnan(recs["distance_m"].to_numpy()).all():
        gps = _gps_distance(recs["latitude_deg"].to_numpy(), recs["longitude_deg"].to_numpy())
        if not np.isnan(gps).all():
            gps, n_jumps = clean_distance(t_s, gps, speed_limit_m_s=max_speed_m_s(foot, cycling),
                                          source_file=source_file, notes=notes)
            n_impossible += n_jumps
            recs["distance_m"] = gps
            distance_from_gps = True

    pauses_s = _pause_seconds(pauses)
    if len(recs):
        with np.errstate(over="ignore", invalid="ignore"):
            totals, running, moving = _totals(recs, t_s, pauses_s)
        # timer_running[i]: the timer runs for most of the interval to the next
        # sample (the last sample: the timer runs at its time), so that
        # sample_totals(records) reproduces timer time from the records alone.
        weights = _interval_running_s(t_s, pauses_s)
        gaps = np.append(np.diff(t_s), 0.0)
        running = np.where(gaps > 0, weights > 0.5 * gaps, running)
    else:
        totals = dict.fromkeys(_FIGURES, math.nan)
        running = np.zeros(0, dtype=bool)
        moving = np.zeros(0, dtype=bool)
    recs["moving"] = moving
    recs["timer_running"] = running
    if not foot:
        totals["avg_cadence_spm"] = math.nan
    if not cycling:
        totals["avg_cadence_rpm"] = math.nan

    stated = {k: v for k, v in (watch_totals or {}).items() if not _is_missing(v)}
    detail, totals_source = _merge_watch_totals(totals, stated, notes, foot=foot, cycling=cycling,
                                                distance_from_gps=distance_from_gps, source_file=source_file)
    n_impossible += int(totals.pop("_impossible", 0))

    if "start_time_utc" in stated:
        start = as_utc(pd.Timestamp(stated["start_time_utc"]))
    elif len(recs):
        start = recs.index[0]
    else:
        raise FileFormatError(
            f"{source_file}: the {sport_name} session holds no samples and no start time; "
            "there is nothing to read - re-export the activity from the watch or app"
        )

    offset, timezone, local_time_source = _local_time(
        recs, start, utc_offset_min, virtual=sub_sport_name in VIRTUAL_SUB_SPORTS, notes=notes)
    local_date = (start.tz_localize(None) + pd.Timedelta(minutes=offset)).date()

    summary: dict[str, Any] = dict.fromkeys(ACTIVITIES)
    summary.update(
        activity_id=activity_id,
        sport=sport_name,
        sub_sport=sub_sport_name,
        start_time_utc=start,
        utc_offset_min=offset,
        timezone=timezone,
        local_date=local_date,
        local_time_source=local_time_source,
        device=device,
        complete=bool(complete) and not n_impossible,  # impossible values: a damaged file
        source_file=str(source_file),
        source_format=source_format,
        cadence_unit_source=cadence_unit_source,
        n_records=int(len(recs)),
        n_pauses=sum(1 for p0, p1 in pauses_s if len(t_s) and p0 < t_s[-1] and p1 > t_s[0]),
        totals_source=totals_source,
        totals_detail=";".join(f"{k}={v}" for k, v in detail.items()),
    )
    for name in _FIGURES:
        summary[name] = totals.get(name, math.nan)
    series = pd.Series(summary, dtype=object, name=activity_id)

    if notes:
        _warn(source_file, activity_id, notes)
    return Activity(summary=series, records=recs, laps=_normalise_laps(laps), warnings=notes)


def cap_text(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, saying how much was cut.

    Examples
    --------
    >>> cap_text("Forerunner 945", 200)
    'Forerunner 945'
    >>> cap_text("A" * 1000, 40)
    'AAAAAAAAAAAAAAA... (985 characters cut)'
    """
    if len(text) <= limit:
        return text
    keep = max(limit - len(f"... ({len(text)} characters cut)"), 0)
    return text[:keep] + f"... ({len(text) - keep} characters cut)"


def _drop_infinite(totals: dict[str, float], detail: dict[str, str], notes: list[str]) -> None:
    """NaN (with a note) for summary figures that overflowed to infinity (e.g. lap sums of 1e308 m)."""
    infinite = [name for name in _FIGURES if math.isinf(totals.get(name, math.nan))]
    for name in infinite:
        totals[name] = math.nan
        detail.pop(name, None)
    if infinite:
        notes.append(f"summary figure(s) {', '.join(infinite)} were infinite (absurd values in the "
                     "file) and were left empty")


def _warn(source_file: str, activity_id: str, notes: list[str]) -> None:
    text = "; ".join(notes)
    warnings.warn(
        f"{source_file} (activity {activity_id}): {len(notes)} data-quality note(s): {text}",
        DataQualityWarning,
        stacklevel=3,
    )
