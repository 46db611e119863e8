"""Physically impossible values in watch files: the limits, and what the readers do with them.

A damaged or hand-edited file can hold values no body or bike can produce: a FIT
session distance of 0xFFFFFFFE cm (42,950 km in a minute), a GPX point moved by a
degree (111 km in one second), a cadence of 509 steps/min, a latitude of 119 deg, a
speed of 2e6 m/s. Stored as they are they would become a weekly load of thousands
of kilometres. Every reader (FIT, GPX, TCX) ends in
:func:`kneedata.io.activity.build_activity`, which calls the functions here, so the
one set of limits below applies to every file:

- a sample value outside :data:`RECORD_LIMITS` (speed: :func:`max_speed_m_s` of the
  sport) becomes NaN;
- a GPS fix that is both reached and left faster than the sport's limit (plus
  :data:`GPS_ERROR_M` of GPS noise) is dropped (latitude and longitude NaN), before
  distance and speed are derived from the track;
- a step of the cumulative distance faster than that is left out of the distance
  (the samples after it keep their own progress);
- a total the file states (distance, averages, ascent) that is impossible, or a
  stated distance that would need more than the speed limit over the activity's
  duration, is not used: the samples' figure is;

each with a data-quality note naming the file, the field, the worst value and the
limit, and the activity is marked ``complete=False`` (its file is damaged). The
limits are *impossible*, not *unusual*: they are far above what any runner or rider
reaches (a sprinter peaks at 12.4 m/s, cadence at ~280 steps/min, heart rate at
~220 beats/min), so real files never reach them (tests/io/test_plausible.py reads
every file in ``../shared/real_data``). The values between the glossary's
plausible ranges and these limits are kept (:func:`kneedata.schema.validate_ranges`
flags them). The limits are listed in ``docs/robustness.md``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from kneedata.io.geo import haversine_m

__all__ = [
    "GPS_ERROR_M",
    "RECORD_LIMITS",
    "SPEED_LIMITS_M_S",
    "SUMMARY_LIMITS",
    "check_records",
    "check_stated_totals",
    "clean_distance",
    "clean_fixes",
    "max_speed_m_s",
]

#: Highest possible speed by sport family [m/s]. Foot: Usain Bolt's peak is 12.4 m/s.
#: Cycling: a descent on a road bike stays below 30 m/s. Anything else (skiing,
#: skating, a sport the file does not name): 100 m/s, faster than a downhill skier.
SPEED_LIMITS_M_S: dict[str, float] = {"foot": 15.0, "cycling": 40.0, "other": 100.0}

#: GPS noise allowed on top of the speed limit for one step between fixes [m]: a
#: consumer GPS fix in a city can be tens of metres off.
GPS_ERROR_M = 50.0

#: Possible range of each record column (inclusive); ``speed_m_s`` is limited by
#: :func:`max_speed_m_s` instead. Outside: NaN, with a note.
RECORD_LIMITS: dict[str, tuple[float, float]] = {
    "latitude_deg": (-90.0, 90.0),
    "longitude_deg": (-180.0, 180.0),
    "speed_m_s": (0.0, math.inf),
    "distance_m": (0.0, 5e7),  # Earth's circumference is 4e7 m
    "cadence_spm": (0.0, 300.0),
    "cadence_rpm": (0.0, 250.0),
    "heart_rate_bpm": (0.0, 250.0),
    "altitude_m": (-1000.0, 9000.0),  # the Dead Sea shore is at -430 m, Everest 8849 m
    "step_length_m": (0.0, 4.0),
    "stance_time_ms": (0.0, 3000.0),
    "stance_time_balance_pct": (0.0, 100.0),
    "vertical_oscillation_mm": (0.0, 500.0),
    "vertical_ratio_pct": (0.0, 100.0),
    "power_w": (0.0, 3000.0),
    "temperature_c": (-60.0, 70.0),
}

#: Possible range of the totals a file states (inclusive); ``avg_speed_m_s`` and
#: ``distance_m`` are limited by the sport's speed over the duration instead.
SUMMARY_LIMITS: dict[str, tuple[float, float]] = {
    "avg_cadence_spm": RECORD_LIMITS["cadence_spm"],
    "avg_cadence_rpm": RECORD_LIMITS["cadence_rpm"],
    "avg_heart_rate_bpm": RECORD_LIMITS["heart_rate_bpm"],
    "avg_step_length_m": RECORD_LIMITS["step_length_m"],
    "avg_stance_time_ms": RECORD_LIMITS["stance_time_ms"],
    "avg_vertical_oscillation_mm": RECORD_LIMITS["vertical_oscillation_mm"],
    "avg_vertical_ratio_pct": RECORD_LIMITS["vertical_ratio_pct"],
    "avg_stance_time_balance_pct": RECORD_LIMITS["stance_time_balance_pct"],
    "ascent_m": (0.0, 30000.0),  # more than three Everests from sea level
    "descent_m": (0.0, 30000.0),
    "distance_m": (0.0, 5e7),
}

_WHERE = "limits: kneedata.io.plausible, docs/robustness.md"


def max_speed_m_s(foot: bool, cycling: bool) -> float:
    """The speed no sample of the sport can exceed [m/s] (:data:`SPEED_LIMITS_M_S`)."""
    return SPEED_LIMITS_M_S["foot" if foot else "cycling" if cycling else "other"]


def _name(source_file: str) -> str:
    return os.path.basename(source_file.rsplit("::", 1)[-1]) or source_file


def _g(value: float) -> str:
    return f"{value:.3g}"


def check_records(columns: dict[str, np.ndarray], *, source_file: str, speed_limit_m_s: float,
                  notes: list[str], what: str = "") -> int:
    """Set impossible record values to NaN, in place; return how many were.

    ``columns``: record column name -> float array (the canonical units of
    :data:`kneedata.schema.RECORDS`). A latitude or longitude out of range takes
    the other coordinate of the fix with it. One note per column; ``what`` says
    where the values came from when not from the file (``"derived from the GPS track"``).
    """
    n_bad = 0
    limits = {**RECORD_LIMITS, "speed_m_s": (0.0, speed_limit_m_s)}
    bad_fix = None
    for name, (low, high) in limits.items():
        values = columns.get(name)
        if values is None or not len(values):
            continue
        with np.errstate(invalid="ignore"):
            bad = (values < low) | (values > high)
        count = int(np.count_nonzero(bad))
        if not count:
            continue
        worst = values[bad][np.argmax(np.abs(values[bad]))]
        unit = {"speed_m_s": " m/s", "latitude_deg": " deg", "longitude_deg": " deg"}.get(name, "")
        origin = f" {what}" if what else ""
        notes.append(f"{name}{origin} in {_name(source_file)}: {count} impossible value(s) (worst {_g(worst)}"
                     f"{unit}; possible: {_g(low)} to {_g(high)}) were left empty ({_WHERE})")
        values[bad] = np.nan
        n_bad += count
        if name in ("latitude_deg", "longitude_deg"):
            bad_fix = bad if bad_fix is None else bad_fix | bad
    if bad_fix is not None:
        for name in ("latitude_deg", "longitude_deg"):
            if name in columns:
                columns[name][bad_fix] = np.nan
    return n_bad


def _steps(t_s: np.ndarray, idx: np.ndarray, lat: np.ndarray, lon: np.ndarray,
           segment: np.ndarray | None, limit: float) -> np.ndarray:
    """Whether each step between consecutive fixes ``idx`` is impossible (faster than ``limit``)."""
    step = haversine_m(lat[idx[:-1]], lon[idx[:-1]], lat[idx[1:]], lon[idx[1:]])
    dt = np.maximum(np.diff(t_s[idx]), 1.0)
    impossible = step > limit * dt + GPS_ERROR_M
    if segment is not None:  # a jump between track segments is not a step
        impossible &= segment[idx[1:]] == segment[idx[:-1]]
    return np.asarray(impossible, dtype=bool)


def clean_fixes(t_s: np.ndarray, lat: np.ndarray, lon: np.ndarray, *, segment: np.ndarray | None,
                speed_limit_m_s: float, source_file: str, notes: list[str]) -> tuple[np.ndarray, np.ndarray, int]:
    """Drop GPS fixes out of range or reached *and* left faster than the limit.

    Parameters
    ----------
    t_s
        Sample times [s], increasing.
    lat, lon
        Fixes [deg], NaN where none; not modified.
    segment
        Track segment of each sample (None: one segment); steps between segments
        are never judged.
    speed_limit_m_s
        :func:`max_speed_m_s` of the sport.

    Returns
    -------
    (lat, lon, n_dropped)
        Copies with the dropped fixes NaN.

    Notes
    -----
    A fix ``j`` is a spike when the step from the previous fix and the step to the
    next are both longer than ``limit * dt + GPS_ERROR_M`` (``dt`` at least 1 s); the
    first (last) fix when its one step is, and the step after (before) it is not.
    Spikes are removed and the test repeated (at most 5 times), so a run of two or
    three bad fixes goes too. A single jump followed by a plausible track (the
    whole rest moved) is not a spike: it stays, and :func:`clean_distance` leaves
    the jump out of the distance.
    """
    lat, lon = lat.astype(float, copy=True), lon.astype(float, copy=True)
    columns = {"latitude_deg": lat, "longitude_deg": lon}
    n_out = check_records(columns, source_file=source_file, speed_limit_m_s=math.inf, notes=notes)
    dropped = np.zeros(len(lat), dtype=bool)
    worst = 0.0
    for _ in range(5):
        idx = np.flatnonzero(~np.isnan(lat) & ~np.isnan(lon))
        if len(idx) < 3:
            break
        bad_step = _steps(t_s, idx, lat, lon, segment, speed_limit_m_s)
        if not bad_step.any():
            break
        spike = np.zeros(len(idx), dtype=bool)
        spike[1:-1] = bad_step[:-1] & bad_step[1:]
        spike[0] = bad_step[0] and not bad_step[1]
        spike[-1] = bad_step[-1] and not bad_step[-2]
        if not spike.any():
            break
        j = idx[spike]
        prev = idx[np.maximum(np.flatnonzero(spike) - 1, 0)]
        worst = max(worst, float(np.nanmax(haversine_m(lat[prev], lon[prev], lat[j], lon[j]))))
        lat[j] = lon[j] = np.nan
        dropped[j] = True
    n = int(dropped.sum())
    if n:
        notes.append(f"GPS position in {_name(source_file)}: {n} fix(es) reached and left faster than "
                     f"the {_g(speed_limit_m_s)} m/s possible for the sport (worst jump {_g(worst)} m) "
                     f"were dropped before the distance was computed ({_WHERE})")
    return lat, lon, n + n_out


def clean_distance(t_s: np.ndarray, distance_m: np.ndarray, *, speed_limit_m_s: float,
                   source_file: str, notes: list[str]) -> tuple[np.ndarray, int]:
    """The cumulative distance without its impossible steps; and how many were left out.

    A step between consecutive samples with a distance (either way) longer than
    ``limit * dt + GPS_ERROR_M`` (``dt`` at least 1 s) counts 0; every other step is
    kept, so a spike (up and back) and a jump of the whole rest both vanish and
    the distance ran is kept. NaN samples stay NaN.
    """
    idx = np.flatnonzero(~np.isnan(distance_m))
    if len(idx) < 2:
        return distance_m, 0
    d = distance_m[idx]
    step = np.diff(d)
    dt = np.maximum(np.diff(t_s[idx]), 1.0)
    bad = np.abs(step) > speed_limit_m_s * dt + GPS_ERROR_M
    n = int(np.count_nonzero(bad))
    if not n:
        return distance_m, 0
    worst = float(step[bad][np.argmax(np.abs(step[bad]))])
    worst_dt = float(dt[bad][np.argmax(np.abs(step[bad]))])
    step = np.where(bad, 0.0, step)
    out = distance_m.astype(float, copy=True)
    out[idx] = d[0] + np.concatenate([[0.0], np.cumsum(step)])
    notes.append(f"distance_m in {_name(source_file)}: {n} step(s) faster than the {_g(speed_limit_m_s)} m/s "
                 f"possible for the sport (worst {_g(worst)} m in {_g(worst_dt)} s) were left out of the "
                 f"distance ({_WHERE})")
    return out, n


def check_stated_totals(stated: Mapping[str, Any], *, duration_s: float, speed_limit_m_s: float,
                        source_file: str, notes: list[str]) -> dict[str, Any]:
    """``stated`` without the impossible totals (the samples' figures are used instead).

    ``duration_s``: the longest of the activity's stated and sampled elapsed and
    timer times (NaN when unknown). A stated distance is impossible when it would
    need more than ``speed_limit_m_s`` over that duration (plus
    :data:`GPS_ERROR_M`), a stated average speed when it exceeds the limit.
    """
    out = dict(stated)
    bad: list[str] = []
    for name, value in stated.items():
        if not isinstance(value, (int, float)) or isinstance(value, bool) or math.isnan(value):
            continue
        if name == "avg_speed_m_s":
            low, high = 0.0, speed_limit_m_s
        elif name in SUMMARY_LIMITS:
            low, high = SUMMARY_LIMITS[name]
        else:
            continue
        if name == "distance_m" and duration_s > 0 and not math.isnan(duration_s):
            high = min(high, speed_limit_m_s * duration_s + GPS_ERROR_M)
        if not low <= value <= high:
            bad.append(f"{name} {_g(float(value))} (possible: {_g(low)} to {_g(high)})")
            del out[name]
    if bad:
        span = f" over {_g(duration_s)} s" if duration_s > 0 and not math.isnan(duration_s) else ""
        notes.append(f"{_name(source_file)} states impossible totals{span}: {', '.join(bad)}; the "
                     f"samples' figures were used ({_WHERE})")
    return out
