"""Track maths shared by the GPX and TCX readers: sports, times, distance, speed, cadence.

GPX and TCX files both hold a list of timestamped points with positions and vendor
values. Once a reader has parsed its XML into a :class:`Track`, everything else is
common and lives here:

* **sport** - :func:`map_sport` maps a GPX ``<type>`` or TCX ``Sport`` (words or
  Strava's numeric codes) to lower-case FIT names; :func:`sport_from_name` guesses
  one from a track name.
* **times** - :func:`parse_times`: ISO 8601 to ``datetime64[ns]`` UTC, dropping
  impossible dates and clock glitches (:data:`OUTLIER_TIME_S`).
* **distance_m** - the file's own cumulative distance where it states one for most
  points, else haversine distance along each segment (the jump between segments,
  a pause, is not counted).
* **speed_m_s** - the file's own speed where stated, else distance over time in a
  centred window of +-5 s (:func:`derive_speed_m_s`).
* **cadence** - strides/min or steps/min decided per file
  (:func:`decide_cadence_unit`); cycling goes to ``cadence_rpm``.

:func:`track_records` turns a :class:`Track` into the canonical records table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from kneedata.io.activity import is_cycling_sport, is_foot_sport
from kneedata.io.geo import cumulative_distance_m
from kneedata.io.plausible import (
    check_records,
    clean_distance,
    clean_fixes,
    max_speed_m_s,
)

__all__ = [
    "OUTLIER_TIME_S",
    "SPEED_HALF_WINDOW_S",
    "STEPS_P90_SPM",
    "STEPS_THRESHOLD_SPM",
    "STEPS_THRESHOLD_WALK_SPM",
    "Track",
    "decide_cadence_unit",
    "derive_speed_m_s",
    "map_sport",
    "parse_times",
    "sport_from_name",
    "track_records",
]

#: Half-width of the centred window over which speed is derived from distance [s].
SPEED_HALF_WINDOW_S = 5.0

#: Median moving cadence above which a foot-sport file already counts steps/min
#: [1/min]: running strides are ~60-105/min (120-210 steps/min), so a median above
#: 130 cannot be strides. Walking and hiking use :data:`STEPS_THRESHOLD_WALK_SPM`.
STEPS_THRESHOLD_SPM = 130.0
#: The same threshold for walking and hiking [1/min]: walking strides are
#: ~45-65/min, walking steps ~90-130/min.
STEPS_THRESHOLD_WALK_SPM = 85.0
#: 90th percentile of moving cadence above which a running file counts steps even
#: when walk breaks pull its median down [1/min] (140 strides/min would be 280
#: steps/min, faster than a sprint).
STEPS_P90_SPM = 140.0


# --------------------------------------------------------------------------------
# sports

#: Strava's numeric activity types as written in ``<type>`` of Strava GPX exports
#: (source: sports-alliance/sports-lib ``StravaGPXTypeMapping``), as FIT names.
_STRAVA_TYPES: dict[str, tuple[str, str]] = {
    "1": ("cycling", "generic"),
    "2": ("alpine_skiing", "generic"),
    "3": ("alpine_skiing", "backcountry"),
    "4": ("hiking", "generic"),
    "5": ("ice_skating", "generic"),
    "6": ("inline_skating", "generic"),
    "7": ("cross_country_skiing", "generic"),
    "8": ("cross_country_skiing", "generic"),
    "9": ("running", "generic"),
    "10": ("walking", "generic"),
    "11": ("training", "generic"),
    "12": ("snowboarding", "generic"),
    "13": ("snowshoeing", "generic"),
    "14": ("kitesurfing", "generic"),
    "15": ("windsurfing", "generic"),
    "16": ("swimming", "generic"),
    "17": ("cycling", "virtual_activity"),
    "18": ("e_biking", "generic"),
    "19": ("cycling", "generic"),
    "21": ("paddling", "generic"),
    "22": ("kayaking", "generic"),
    "23": ("rowing", "generic"),
    "24": ("stand_up_paddleboarding", "generic"),
    "25": ("surfing", "generic"),
    "26": ("training", "cardio_training"),
    "27": ("fitness_equipment", "elliptical"),
    "28": ("rock_climbing", "generic"),
    "29": ("fitness_equipment", "stair_climbing"),
    "30": ("training", "strength_training"),
    "31": ("training", "yoga"),
    "51": ("cycling", "hand_cycling"),
    "53": ("running", "virtual_activity"),
}

#: Sport words used by Garmin Connect, Strava, Amazfit, Polar, Suunto and TCX
#: (normalised: lower case, ``_`` for spaces and dashes), as FIT (sport, sub_sport).
_SPORT_WORDS: dict[str, tuple[str, str]] = {
    "running": ("running", "generic"),
    "run": ("running", "generic"),
    "jogging": ("running", "generic"),
    "trail_running": ("running", "trail"),
    "trailrun": ("running", "trail"),
    "trail_run": ("running", "trail"),
    "treadmill_running": ("running", "treadmill"),
    "treadmill": ("running", "treadmill"),
    "street_running": ("running", "street"),
    "track_running": ("running", "track"),
    "indoor_running": ("running", "indoor_running"),
    "virtual_run": ("running", "virtual_activity"),
    "virtualrun": ("running", "virtual_activity"),
    "cycling": ("cycling", "generic"),
    "biking": ("cycling", "generic"),
    "bike": ("cycling", "generic"),
    "ride": ("cycling", "generic"),
    "road_biking": ("cycling", "road"),
    "road_cycling": ("cycling", "road"),
    "mountain_biking": ("cycling", "mountain"),
    "mountainbikeride": ("cycling", "mountain"),
    "gravel_cycling": ("cycling", "gravel_cycling"),
    "gravelride": ("cycling", "gravel_cycling"),
    "cyclocross": ("cycling", "cyclocross"),
    "indoor_cycling": ("cycling", "indoor_cycling"),
    "virtual_ride": ("cycling", "virtual_activity"),
    "virtualride": ("cycling", "virtual_activity"),
    "e_bike_ride": ("e_biking", "generic"),
    "ebikeride": ("e_biking", "generic"),
    "e_biking": ("e_biking", "generic"),
    "walking": ("walking", "generic"),
    "walk": ("walking", "generic"),
    "casual_walking": ("walking", "casual_walking"),
    "speed_walking": ("walking", "speed_walking"),
    "hiking": ("hiking", "generic"),
    "hike": ("hiking", "generic"),
    "mountaineering": ("mountaineering", "generic"),
    "snowshoeing": ("snowshoeing", "generic"),
    "swimming": ("swimming", "generic"),
    "swim": ("swimming", "generic"),
    "lap_swimming": ("swimming", "lap_swimming"),
    "open_water_swimming": ("swimming", "open_water"),
    "rowing": ("rowing", "generic"),
    "kayaking": ("kayaking", "generic"),
    "other": ("generic", "generic"),
    "generic": ("generic", "generic"),
    "uncategorized": ("generic", "generic"),
}

#: FIT sport names accepted as they are.
_FIT_SPORTS = frozenset(
    {
        "generic", "running", "cycling", "transition", "fitness_equipment", "swimming",
        "basketball", "soccer", "tennis", "american_football", "training", "walking",
        "cross_country_skiing", "alpine_skiing", "snowboarding", "rowing",
        "mountaineering", "hiking", "multisport", "paddling", "e_biking",
        "inline_skating", "rock_climbing", "ice_skating", "snowshoeing",
        "stand_up_paddleboarding", "surfing", "kayaking", "windsurfing", "kitesurfing",
    }
)

_NAME_SPORTS = (
    (re.compile(r"\b(run|running|jog|jogging|course)\b"), ("running", "generic")),
    (re.compile(r"\b(ride|cycling|biking|bike)\b"), ("cycling", "generic")),
    (re.compile(r"\b(walk|walking)\b"), ("walking", "generic")),
    (re.compile(r"\b(hike|hiking)\b"), ("hiking", "generic")),
)


def map_sport(raw: str | None) -> tuple[str, str] | None:
    """FIT ``(sport, sub_sport)`` for a GPX ``<type>`` or TCX ``Sport`` value.

    Parameters
    ----------
    raw
        As written in the file: ``"running"``, ``"Running"``, ``"road_biking"``,
        ``"Biking"``, ``"Other"``, or a Strava number (``"9"`` = run, ``"1"`` = ride).

    Returns
    -------
    tuple of str or None
        Lower-case FIT sport and sub-sport names, or None when the value is missing
        or not recognised.

    Examples
    --------
    >>> map_sport("9")
    ('running', 'generic')
    >>> map_sport("road_biking")
    ('cycling', 'road')
    >>> map_sport("Biking")
    ('cycling', 'generic')
    """
    if raw is None:
        return None
    key = raw.strip().lower().replace(" ", "_").replace("-", "_")
    if not key:
        return None
    if key in _STRAVA_TYPES:
        return _STRAVA_TYPES[key]
    if key in _SPORT_WORDS:
        return _SPORT_WORDS[key]
    if key in _FIT_SPORTS:
        return key, "generic"
    return None


def sport_from_name(name: str | None) -> tuple[str, str] | None:
    """FIT ``(sport, sub_sport)`` guessed from a track or activity name (``"Morning Run"``), or None."""
    if not name:
        return None
    text = name.lower()
    for pattern, sport in _NAME_SPORTS:
        if pattern.search(text):
            return sport
    return None


# --------------------------------------------------------------------------------
# track maths


def _segment_bounds(segment: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    first = np.searchsorted(segment, segment, side="left")
    last = np.searchsorted(segment, segment, side="right") - 1
    return first, last


def derive_speed_m_s(t_s: np.ndarray, distance_m: np.ndarray, segment: np.ndarray,
                     *, half_window_s: float = SPEED_HALF_WINDOW_S) -> np.ndarray:
    """Speed from cumulative distance and time, lightly smoothed [m/s].

    Parameters
    ----------
    t_s
        Sample times [s], strictly increasing.
    distance_m
        Cumulative distance [m]; NaN samples get NaN speed.
    segment
        Segment number of each sample (non-decreasing); windows never cross a
        segment boundary (a timer pause).
    half_window_s
        Half-width of the centred window [s].

    Returns
    -------
    numpy.ndarray
        Speed [m/s] per sample.

    Notes
    -----
    For sample :math:`i`, take the first sample :math:`a` and the last sample
    :math:`b` of the same segment with :math:`|t - t_i| \\le h` (:math:`h` =
    ``half_window_s``), widened to at least the neighbouring sample on each side:
    :math:`v_i = (D_b - D_a) / (t_b - t_a)`. On 1 s data this is a 10 s moving
    average of speed, which removes most GPS jitter but keeps accelerations of a
    stride-by-stride interval session; on sparse "smart recording" data it reduces
    to the centred difference of the two neighbours. A segment of one sample has
    NaN speed.
    """
    n = len(t_s)
    out = np.full(n, np.nan)
    idx = np.flatnonzero(~np.isnan(distance_m))
    if len(idx) < 2:
        return out
    t = t_s[idx] - t_s[idx[0]]
    d = distance_m[idx]
    seg = segment[idx]
    # renumber so that segments are consecutive runs, then separate them in "time"
    seg = np.concatenate([[0], np.cumsum(seg[1:] != seg[:-1])])
    key = t + seg * (t[-1] + 10 * half_window_s + 1.0)
    lo = np.searchsorted(key, key - half_window_s, side="left")
    hi = np.searchsorted(key, key + half_window_s, side="right") - 1
    first, last = _segment_bounds(seg)
    i = np.arange(len(idx))
    lo = np.minimum(np.maximum(lo, first), np.maximum(i - 1, first))
    hi = np.maximum(np.minimum(hi, last), np.minimum(i + 1, last))
    dt = t[hi] - t[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        v = np.where(dt > 0, (d[hi] - d[lo]) / dt, np.nan)
    out[idx] = np.clip(v, 0.0, None)
    return out


def decide_cadence_unit(cadence: np.ndarray, speed_m_s: np.ndarray, sport: str
                        ) -> tuple[np.ndarray, np.ndarray, str]:
    """Put a GPX/TCX cadence column into steps/min or crank rpm.

    Parameters
    ----------
    cadence
        Cadence as written in the file [1/min]; NaN where absent.
    speed_m_s
        Speed of each sample [m/s] (NaN allowed), used to pick moving samples.
    sport
        FIT sport name (``running``, ``cycling`` ...).

    Returns
    -------
    cadence_spm, cadence_rpm : numpy.ndarray
        Steps/min (foot sports) and crank rpm (cycling); the other is all NaN.
    cadence_unit_source : str
        ``strides_doubled``, ``steps_as_is``, ``cycling_rpm`` or ``none``.

    Notes
    -----
    GPX ``gpxtpx:cad`` and TCX ``RunCadence`` / Polar and Suunto ``<Cadence>``
    usually hold strides/min (one count per left-foot contact), but some apps write
    steps/min. The unit is decided per file from the moving samples (cadence > 0 and,
    where speed is known, speed > 0.5 m/s): the values are steps/min already when
    their median exceeds :data:`STEPS_THRESHOLD_SPM` (walking, hiking:
    :data:`STEPS_THRESHOLD_WALK_SPM`) or their 90th percentile exceeds
    :data:`STEPS_P90_SPM` (a run in steps/min with many walk breaks); otherwise they
    are strides and are doubled. Cycling cadence is crank rpm and never doubled.
    Sports that are neither (swimming, generic) keep no cadence.
    """
    n = len(cadence)
    nan = np.full(n, np.nan)
    has = ~np.isnan(cadence)
    if not has.any():
        return nan, nan.copy(), "none"
    if is_cycling_sport(sport):
        return nan, cadence.astype(float), "cycling_rpm"
    if not is_foot_sport(sport):
        return nan, nan.copy(), "none"
    with np.errstate(invalid="ignore"):
        moving = has & (cadence > 0) & (np.isnan(speed_m_s) | (speed_m_s > 0.5))
    # a huge cadence (1e308) doubles to infinity, which the plausibility check empties
    doubled = np.multiply(cadence, 2.0, where=np.abs(cadence) < 1e300, out=np.full(n, np.inf))
    doubled[np.isnan(cadence)] = np.nan
    values = cadence[moving]
    if len(values) == 0:
        return doubled, nan, "strides_doubled"
    threshold = STEPS_THRESHOLD_WALK_SPM if sport in ("walking", "hiking") else STEPS_THRESHOLD_SPM
    median = float(np.median(values))
    p90 = float(np.percentile(values, 90))
    if median > threshold or p90 > STEPS_P90_SPM:
        return cadence.astype(float), nan, "steps_as_is"
    return doubled, nan, "strides_doubled"


@dataclass
class Track:
    """Samples of one activity as read from a GPX/TCX file, before canonical units.

    Every array has one value per sample, in file order; NaN (NaT) where the file
    has no value.

    Attributes
    ----------
    time
        Sample times, ``datetime64[ns]`` UTC (NaT where missing/unreadable).
    segment
        Segment (GPX ``trkseg``) or track number of each sample.
    columns
        Float arrays: ``latitude_deg``, ``longitude_deg``, ``altitude_m``,
        ``heart_rate_bpm``, ``cadence`` (file units), ``temperature_c``, ``power_w``,
        and optionally ``distance_m`` and ``speed_m_s`` as stated by the file.
    """

    time: np.ndarray
    segment: np.ndarray
    columns: dict[str, np.ndarray] = field(default_factory=dict)


def _mostly_present(values: np.ndarray | None) -> bool:
    if values is None or len(values) == 0:
        return False
    return bool(np.count_nonzero(~np.isnan(values)) >= 0.5 * len(values))


def _speed_ratio(stated: np.ndarray, derived: np.ndarray) -> float | None:
    """Median stated / derived speed over samples where both show movement."""
    with np.errstate(invalid="ignore"):
        both = (stated > 0.5) & (derived > 0.5)
    if np.count_nonzero(both) < 10:
        return None
    return float(np.median(stated[both] / derived[both]))


def _fill_cumulative(values: np.ndarray, t_s: np.ndarray, notes: list[str]) -> np.ndarray:
    """Fill gaps in a stated cumulative distance and make it non-decreasing."""
    s = pd.Series(values, index=t_s)
    filled = s.interpolate(method="index", limit_area="inside").ffill().bfill()
    out = filled.to_numpy(dtype=float)
    drops = np.diff(out) < -10.0
    if drops.any():
        notes.append(
            f"the stated distance went backwards at {int(drops.sum())} samples; "
            "held at its running maximum"
        )
    return np.fmax.accumulate(out)


def track_records(track: Track, *, sport: str, notes: list[str],
                  pause_stops_s: np.ndarray | None = None, source_file: str = "") -> tuple[pd.DataFrame, str]:
    """Canonical records from a :class:`Track`.

    Parameters
    ----------
    track
        The samples as read.
    sport
        FIT sport name; decides the cadence column.
    notes
        Data-quality messages are appended here (samples dropped, merged ...).
    pause_stops_s
        Optional times at which the timer stopped [s since 1970-01-01 UTC]; when
        given they split the samples into segments for distance and speed instead of
        ``track.segment`` (TCX timer pauses found in the sample times).
    source_file
        Named in the notes.

    Returns
    -------
    records : pandas.DataFrame
        UTC ``DatetimeIndex`` named ``timestamp`` (sorted, unique) and the columns
        ``distance_m``, ``speed_m_s``, ``cadence_spm``, ``cadence_rpm``,
        ``heart_rate_bpm``, ``altitude_m``, ``latitude_deg``, ``longitude_deg``,
        ``power_w``, ``temperature_c``.
    cadence_unit_source : str
        See :func:`decide_cadence_unit`.

    Notes
    -----
    GPS fixes out of range or that spike faster than the sport can move
    (:func:`kneedata.io.plausible.clean_fixes`) are dropped before the distance is
    computed; ``records.attrs["n_impossible"]`` counts them (the activity is then
    not ``complete``). Samples without a readable time are dropped; samples out of order are sorted;
    samples sharing a time are merged (first value of each column wins). Distance
    is the file's own cumulative distance when at least half the samples state one
    (gaps interpolated in time), else :func:`cumulative_distance_m` from the fixes.
    Speed is the file's own where at least half the samples state one (gaps from
    :func:`derive_speed_m_s`) and its median agrees with the derived speed within a
    factor 1.5 (a km/h column would be 3.6 times too large), else
    :func:`derive_speed_m_s`.
    """
    frame = pd.DataFrame(dict(track.columns))
    frame["_segment"] = track.segment
    t_ns = np.asarray(track.time, dtype="datetime64[ns]")
    has_time = ~np.isnat(t_ns)
    if not has_time.all():
        notes.append(f"{int((~has_time).sum())} track points without a readable time were dropped")
        frame = frame[has_time]
    frame["_t"] = t_ns[has_time].view(np.int64)
    steps = np.diff(frame["_t"].to_numpy())
    if (steps < 0).any():
        notes.append(f"{int((steps < 0).sum())} track points were out of time order; sorted")
        frame = frame.sort_values("_t", kind="stable")
    dup = frame["_t"].duplicated(keep="first").to_numpy()
    if dup.any():
        notes.append(f"{int(dup.sum())} track points repeated the time of the previous one; merged")
        # first non-missing value of each column wins
        frame = frame.groupby("_t", sort=True, as_index=False).first()
    n = len(frame)
    t_int = frame["_t"].to_numpy(dtype=np.int64)
    t_s = t_int / 1e9
    index = pd.DatetimeIndex(pd.to_datetime(t_int, unit="ns", utc=True), name="timestamp")
    if pause_stops_s is None:
        segment = frame["_segment"].to_numpy(dtype=np.int64)
    else:
        segment = np.searchsorted(np.sort(np.asarray(pause_stops_s, dtype=float)), t_s, side="left")

    def col(name: str) -> np.ndarray:
        if name in frame.columns:
            return frame[name].to_numpy(dtype=float, na_value=np.nan)
        return np.full(n, np.nan)

    lat, lon = col("latitude_deg"), col("longitude_deg")
    bad_fix = (lat == 0) & (lon == 0)
    if bad_fix.any():
        # 0,0 is what some devices write before the first fix ("null island")
        notes.append(f"{int(bad_fix.sum())} track points at latitude 0, longitude 0 treated as no fix")
        lat = np.where(bad_fix, np.nan, lat)
        lon = np.where(bad_fix, np.nan, lon)
    speed_limit = max_speed_m_s(is_foot_sport(sport), is_cycling_sport(sport))
    lat, lon, n_impossible = clean_fixes(t_s, lat, lon, segment=segment, source_file=source_file,
                                         notes=notes, speed_limit_m_s=speed_limit)
    stated_distance = col("distance_m") if "distance_m" in frame.columns else None
    if stated_distance is not None and _mostly_present(stated_distance):
        # an impossible step (a spike up and back) before the gaps are filled: the
        # running maximum would otherwise hold the spike to the end
        stated_distance, n_steps = clean_distance(t_s, stated_distance, speed_limit_m_s=speed_limit,
                                                  source_file=source_file, notes=notes)
        n_impossible += n_steps
        distance = _fill_cumulative(stated_distance, t_s, notes)
    else:
        distance = cumulative_distance_m(lat, lon, segment)
    derived = derive_speed_m_s(t_s, distance, segment)
    # GPS noise (a fix re-acquired after a stop) can make the derived speed impossible:
    # left empty with a note; the file stated no such value, so it stays complete
    check_records({"speed_m_s": derived}, source_file=source_file, speed_limit_m_s=speed_limit,
                  notes=notes, what="derived from the GPS track")
    stated_speed = col("speed_m_s") if "speed_m_s" in frame.columns else None
    speed = derived
    if stated_speed is not None and _mostly_present(stated_speed):
        ratio = _speed_ratio(stated_speed, derived)
        if ratio is None or 0.67 <= ratio <= 1.5:
            speed = np.where(np.isnan(stated_speed), derived, stated_speed)
        else:
            notes.append(
                f"the file's speed values are {ratio:.2f} times the speed derived from distance "
                "and time (wrong unit?); derived speed used instead"
            )
    cadence_spm, cadence_rpm, unit = decide_cadence_unit(col("cadence"), speed, sport)
    records = pd.DataFrame(
        {
            "distance_m": distance,
            "speed_m_s": speed,
            "cadence_spm": cadence_spm,
            "cadence_rpm": cadence_rpm,
            "heart_rate_bpm": col("heart_rate_bpm"),
            "altitude_m": col("altitude_m"),
            "latitude_deg": lat,
            "longitude_deg": lon,
            "power_w": col("power_w"),
            "temperature_c": col("temperature_c"),
        },
        index=index,
    )
    records.attrs["n_impossible"] = n_impossible
    return records, unit


# --------------------------------------------------------------------------------
# times

_ZONE_RE = re.compile(r"(Z|[+-]\d\d:?\d\d)$", re.IGNORECASE)
#: Track points dated further than this from the median time of their activity are
#: a clock glitch (a single point dated 1970-01-01 would make a 54-year run) [s];
#: the FIT reader drops such records by the same rule.
OUTLIER_TIME_S = 2 * 86400.0
_NS_MIN = np.datetime64(pd.Timestamp.min.ceil("us").tz_localize(None).as_unit("us"))
_NS_MAX = np.datetime64(pd.Timestamp.max.floor("us").as_unit("us"))


def parse_times(texts: list[str | None], notes: list[str]) -> np.ndarray:
    """ISO 8601 strings -> ``datetime64[ns]`` UTC (NaT where missing or unreadable).

    Times with an offset are converted to UTC; times without a zone are taken as
    UTC (GPX and TCX both require UTC) with a note.
    """
    series = pd.Series(texts, dtype=object)
    first = next((t for t in texts if t), None)
    if first is not None and not _ZONE_RE.search(first.strip()):
        notes.append("track point times carry no time zone; taken as UTC as GPX/TCX require")
    parsed = pd.to_datetime(series, utc=True, format="ISO8601", errors="coerce")
    # pandas parses in microseconds: a date past 2262 (or before 1677) would wrap
    # silently when cast to nanoseconds, so such times are dropped first
    stamps = np.array(parsed.dt.tz_localize(None).to_numpy(dtype="datetime64[us]"), copy=True)
    out_of_range = (stamps < _NS_MIN) | (stamps > _NS_MAX)
    if out_of_range.any():
        example = texts[int(np.flatnonzero(out_of_range)[0])]
        notes.append(
            f"{int(out_of_range.sum())} track points dated outside 1677-2262 (e.g. {example!r}) "
            "dropped: no device records such dates"
        )
        stamps[out_of_range] = np.datetime64("NaT")
    times = stamps.astype("datetime64[ns]")
    return _drop_outlier_times(times, notes)


def _drop_outlier_times(times: np.ndarray, notes: list[str]) -> np.ndarray:
    """NaT for times more than :data:`OUTLIER_TIME_S` from the median time (a clock glitch)."""
    ok = ~np.isnat(times)
    if not ok.any():
        return times
    t_s = times[ok].astype(np.int64) / 1e9
    median = float(np.median(t_s))
    far = np.zeros(len(times), dtype=bool)
    far[ok] = np.abs(t_s - median) > OUTLIER_TIME_S
    if far.any():
        example = str(times[far][0])[:19]
        notes.append(
            f"{int(far.sum())} track points dated more than {OUTLIER_TIME_S / 86400:.0f} days from "
            f"the rest of the activity (e.g. {example}, a clock glitch) dropped"
        )
        times = times.copy()
        times[far] = np.datetime64("NaT")
    return times
