"""TCX (Garmin Training Center XML) reader.

A TCX file holds ``<Activity Sport="Running|Biking|Other">`` elements (several in a
``<MultiSportSession>``), each made of ``<Lap>`` elements with the watch's own lap
totals (``TotalTimeSeconds`` = timer time, ``DistanceMeters``, average heart rate,
``AvgRunCadence`` in the ``LX`` extension) and ``<Track>`` elements of
``<Trackpoint>`` samples. Each ``<Activity>`` becomes one
:class:`~kneedata.io.activity.Activity`, built by
:func:`~kneedata.io.activity.build_activity`:

* **records**: ``Time``, ``Position`` (``LatitudeDegrees``, ``LongitudeDegrees``),
  ``AltitudeMeters``, ``DistanceMeters`` (the watch's cumulative distance; haversine
  along the fixes where a file lacks it), ``HeartRateBpm/Value``, ``TPX/Speed`` (the
  watch's speed; derived from distance where absent), ``TPX/RunCadence`` or
  ``<Cadence>`` (Polar and Suunto write running cadence there; unit decided per
  file, see :func:`kneedata.io.track.decide_cadence_unit`), ``TPX/Watts``.
* **pauses**: the lap timer times add up to less than the wall-clock span of the
  samples when the timer was stopped. The missing time is attributed to the longest
  gaps between samples (:func:`timer_gaps`), which become the
  ``(stop_utc, start_utc)`` pauses.
* **watch totals**: the sums over laps of ``TotalTimeSeconds`` (timer time) and
  ``DistanceMeters``, and the lap-time-weighted averages of ``AverageHeartRateBpm``
  and of the lap cadence (``AvgRunCadence``, or ``<Cadence>``; doubled when the
  file's cadence is strides/min). They win over the sample-derived figures, unless
  the laps plainly cover only part of the samples (then the samples win and a note
  says so). ``summary['totals_detail']`` says which figure came from where; the
  sample-derived figures stay available through
  :func:`kneedata.io.activity.sample_totals` on ``records``.
"""

from __future__ import annotations

import math
import warnings
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from kneedata._dates import as_utc
from kneedata.errors import DataQualityWarning, FileFormatError
from kneedata.io.activity import (
    MAX_NAME_CHARS,
    Activity,
    build_activity,
    cap_text,
    is_cycling_sport,
    is_foot_sport,
)
from kneedata.io.track import Track, map_sport, parse_times, track_records
from kneedata.io.xmlsafe import (
    LocalNameMap,
    PointSink,
    child,
    child_text,
    children,
    local_name,
    number,
    parse_xml,
    point_values,
)

__all__ = ["MIN_PAUSE_S", "read_tcx", "timer_gaps"]

#: Shortest gap between samples that can count as a timer pause [s]; on smart
#: recording files the limit is three typical sample intervals, if longer.
MIN_PAUSE_S = 5.0

#: Trackpoint children (local names) read as floats -> column name.
_TP_FIELDS = {
    "LatitudeDegrees": "latitude_deg",
    "LongitudeDegrees": "longitude_deg",
    "AltitudeMeters": "altitude_m",
    "DistanceMeters": "distance_m",
    "Speed": "speed_m_s",
    "RunCadence": "run_cadence",
    "Cadence": "cadence_core",
    "Watts": "power_w",
}
_TP_COLUMNS = ("latitude_deg", "longitude_deg", "altitude_m", "distance_m", "speed_m_s",
               "run_cadence", "cadence_core", "power_w", "heart_rate_bpm")


@dataclass
class _Lap:
    start: str | None
    timer_s: float
    distance_m: float
    avg_hr: float
    cadence: float          # lap <Cadence> (bike cadence, or Polar/Suunto running)
    avg_run_cadence: float  # LX/AvgRunCadence
    avg_speed_m_s: float
    trigger: str | None
    n_bad: int = 0  # stated values that were not finite numbers

    @property
    def run_cadence(self) -> float:
        """Lap running cadence in file units: ``AvgRunCadence``, else ``<Cadence>``."""
        return self.cadence if math.isnan(self.avg_run_cadence) else self.avg_run_cadence


@dataclass
class _TcxActivity:
    sport_raw: str | None
    device: str | None
    laps: list[_Lap] = field(default_factory=list)
    track: Track | None = None
    lap_of_point: np.ndarray | None = None


def _value_of(elem: ET.Element, name: str) -> float:
    """``<name><Value>x</Value></name>`` -> x (heart rate elements)."""
    c = child(elem, name)
    if c is None:
        return math.nan
    return number(child_text(c, "Value"))


def _lap_summary(lap: ET.Element) -> _Lap:
    ext: dict[str, float] = {}
    extensions = child(lap, "Extensions")
    if extensions is not None:
        for el in extensions.iter():
            name = local_name(el.tag)
            if name in ("AvgSpeed", "AvgRunCadence") and el.text:
                ext.setdefault(name, number(el.text.strip()))
    texts = {name: child_text(lap, name) for name in ("TotalTimeSeconds", "DistanceMeters", "Cadence")}
    values = {name: number(text) for name, text in texts.items()}
    n_bad = sum(1 for name, text in texts.items() if text is not None and math.isnan(values[name]))
    return _Lap(
        start=lap.get("StartTime"),
        timer_s=values["TotalTimeSeconds"],
        distance_m=values["DistanceMeters"],
        avg_hr=_value_of(lap, "AverageHeartRateBpm"),
        cadence=values["Cadence"],
        avg_run_cadence=ext.get("AvgRunCadence", math.nan),
        avg_speed_m_s=ext.get("AvgSpeed", math.nan),
        trigger=child_text(lap, "TriggerMethod"),
        n_bad=n_bad,
    )


def _point_sink() -> PointSink:
    """Trackpoints read as they are parsed (a file of a million points never holds their elements)."""
    # a Trackpoint's only <Value> is the one inside <HeartRateBpm>
    lookup = LocalNameMap({**_TP_FIELDS, "Time": "time", "Value": "heart_rate_bpm"})
    return PointSink("Trackpoint", lambda tp: point_values(tp, lookup), _TP_COLUMNS)


def _read_activity(act: ET.Element, sink: PointSink, notes: list[str]) -> _TcxActivity:
    creator = child(act, "Creator")
    device = child_text(creator, "Name") if creator is not None else None
    out = _TcxActivity(sport_raw=act.get("Sport"), device=device)
    parts = []
    track_no: list[int] = []
    lap_no: list[int] = []
    for lap_index, lap_el in enumerate(children(act, "Lap")):
        out.laps.append(_lap_summary(lap_el))
        for track_el in children(lap_el, "Track"):
            part = sink.points(track_el)
            parts.append(part)
            track_no.append(len(parts) - 1)
            lap_no.append(lap_index)
    sizes = [len(part) for part in parts]
    bad_values = sum(part.n_bad for part in parts)
    times = [t for part in parts for t in part.times]
    cols = {c: np.concatenate([np.frombuffer(part.values[c], dtype=float) for part in parts])
            if parts else np.empty(0) for c in _TP_COLUMNS}
    bad_lap_values = sum(lap.n_bad for lap in out.laps)
    if bad_lap_values:
        notes.append(f"{bad_lap_values} lap totals were not finite numbers (e.g. 'inf') and were left out")
    if bad_values:
        notes.append(f"{bad_values} trackpoint values were not numbers (e.g. 'null') or not finite ('inf') "
                     "and were left out")
    arrays = dict(cols)
    run_cad = arrays.pop("run_cadence")
    core_cad = arrays.pop("cadence_core")
    arrays["cadence"] = np.where(np.isnan(run_cad), core_cad, run_cad)
    for name in ("speed_m_s", "distance_m"):
        if np.isnan(arrays[name]).all():
            del arrays[name]
    out.track = Track(time=parse_times(times, notes), segment=np.repeat(np.asarray(track_no, dtype=np.int64), sizes),
                      columns=arrays)
    out.lap_of_point = np.repeat(np.asarray(lap_no, dtype=np.int64), sizes)
    return out


def timer_gaps(t_s: np.ndarray, timer_s: float) -> list[int]:
    """Which gaps between samples are timer pauses, given the watch's timer time.

    Parameters
    ----------
    t_s
        Sample times [s], strictly increasing.
    timer_s
        The watch's timer time for these samples (sum of lap ``TotalTimeSeconds``)
        [s].

    Returns
    -------
    list of int
        Indices ``i`` such that the interval from ``t_s[i]`` to ``t_s[i + 1]`` was a
        pause, in time order.

    Notes
    -----
    The time the timer was stopped is :math:`M = (t_{n-1} - t_0) - T`. Candidate
    gaps are those longer than ``max(MIN_PAUSE_S, 3 * median interval)``. Taking
    them from the longest down, a gap :math:`g` is a pause while it fits in the
    time still unexplained (:math:`g \\le M_{left} + tol`, tol = max(2 s,
    2 median intervals)); :math:`M_{left}` then drops by :math:`g`. Gaps the
    timer ran through (lost GPS, smart recording) stay timer time.

    Examples
    --------
    Samples every second with a 60 s stop, timer 10 s:

    >>> t = np.array([0., 1, 2, 3, 4, 5, 65, 66, 67, 68, 69, 70])
    >>> timer_gaps(t, 10.0)
    [5]
    """
    if len(t_s) < 2 or not np.isfinite(timer_s):
        return []
    dt = np.diff(t_s)
    typical = float(np.median(dt))
    missing = float(t_s[-1] - t_s[0]) - timer_s
    tol = max(2.0, 2.0 * typical)
    min_gap = max(MIN_PAUSE_S, 3.0 * typical)
    if missing < min_gap - tol:
        return []
    chosen = []
    for i in np.argsort(-dt, kind="stable"):
        g = float(dt[i])
        if g < min_gap or missing < min_gap - tol:
            break
        if g <= missing + tol:
            chosen.append(int(i))
            missing -= g
    return sorted(chosen)


def _weighted(values: list[float], weights: list[float]) -> float:
    """Lap-time-weighted mean; NaN unless every lap with time has a value."""
    pairs = [(v, w) for v, w in zip(values, weights, strict=True) if w > 0]
    if not pairs or any(math.isnan(v) for v, _ in pairs):
        return math.nan
    total = sum(w for _, w in pairs)
    return sum(v * w for v, w in pairs) / total


def _watch_totals(laps: list[_Lap], sport: str, unit: str) -> dict[str, float]:
    totals: dict[str, float] = {}
    if not laps:
        return totals
    timers = [lap.timer_s for lap in laps]
    if all(not math.isnan(t) for t in timers):
        totals["timer_time_s"] = float(sum(timers))
    distances = [lap.distance_m for lap in laps]
    if all(not math.isnan(d) for d in distances):
        totals["distance_m"] = float(sum(distances))
    weights = [0.0 if math.isnan(t) else t for t in timers]
    totals["avg_heart_rate_bpm"] = _weighted([lap.avg_hr for lap in laps], weights)
    if is_foot_sport(sport) and unit in ("strides_doubled", "steps_as_is"):
        avg = _weighted([lap.run_cadence for lap in laps], weights)
        totals["avg_cadence_spm"] = avg * 2.0 if unit == "strides_doubled" else avg
    elif is_cycling_sport(sport):
        totals["avg_cadence_rpm"] = _weighted([lap.cadence for lap in laps], weights)
    return {k: v for k, v in totals.items() if not math.isnan(v)}


def _parse_start(text: str | None) -> pd.Timestamp | None:
    if not text:
        return None
    try:
        ts = pd.Timestamp(text)
        if pd.isna(ts):
            return None
        return as_utc(ts).as_unit("ns")
    except (ValueError, OverflowError):  # unreadable, or outside 1677-2262
        return None


#: TCX ``TriggerMethod`` -> FIT ``lap_trigger`` names.
_TRIGGERS = {"Manual": "manual", "Distance": "distance", "Time": "time",
             "Location": "position_lap", "HeartRate": "heart_rate"}


def _laps_frame(tcx: _TcxActivity, sport: str, unit: str, notes: list[str]) -> pd.DataFrame:
    """The laps table (columns of :data:`kneedata.schema.LAPS`).

    Lap start is the stated ``StartTime`` unless the lap's trackpoints contradict it
    (it lies after the lap's first trackpoint or before the previous lap's last):
    Polar writes start times that ignore pauses. Lap elapsed time runs from the
    lap's first trackpoint to the next lap's first trackpoint (or its own last).
    """
    assert tcx.track is not None and tcx.lap_of_point is not None
    factor = 2.0 if unit == "strides_doubled" else 1.0
    foot = is_foot_sport(sport) and unit in ("strides_doubled", "steps_as_is")
    cycling = is_cycling_sport(sport)
    t_ns = np.asarray(tcx.track.time, dtype="datetime64[ns]")
    ok = ~np.isnat(t_ns)
    firsts: list[pd.Timestamp | None] = []
    lasts: list[pd.Timestamp | None] = []
    for i in range(len(tcx.laps)):
        mine = t_ns[(tcx.lap_of_point == i) & ok].view(np.int64)
        firsts.append(pd.Timestamp(int(mine.min()), unit="ns", tz="UTC") if len(mine) else None)
        lasts.append(pd.Timestamp(int(mine.max()), unit="ns", tz="UTC") if len(mine) else None)
    rows = []
    fixed = 0
    previous_last: pd.Timestamp | None = None
    for i, lap in enumerate(tcx.laps):
        start = _parse_start(lap.start)
        first = firsts[i]
        if first is not None and (start is None or start > first
                                  or (previous_last is not None and start < previous_last)):
            if start is not None:
                fixed += 1
            start = first
        following = next((f for f in firsts[i + 1:] if f is not None), None)
        end = following if following is not None else lasts[i]
        elapsed = (end - first).total_seconds() if first is not None and end is not None else math.nan
        if lasts[i] is not None:
            previous_last = lasts[i]
        # distance / timer time where the lap states both: Polar writes LX AvgSpeed
        # in km/h, Garmin in m/s
        if lap.timer_s > 0 and not math.isnan(lap.distance_m):
            avg_speed = lap.distance_m / lap.timer_s
        else:
            avg_speed = lap.avg_speed_m_s
        rows.append(
            {
                "lap_index": i,
                "start_time_utc": start,
                "distance_m": lap.distance_m,
                "timer_time_s": lap.timer_s,
                "elapsed_time_s": elapsed,
                "avg_speed_m_s": avg_speed,
                "avg_heart_rate_bpm": lap.avg_hr,
                "avg_cadence_spm": lap.run_cadence * factor if foot else math.nan,
                "avg_cadence_rpm": lap.cadence if cycling else math.nan,
                "trigger": _TRIGGERS.get(lap.trigger or "", (lap.trigger or "").lower() or None),
            }
        )
    if fixed:
        notes.append(
            f"{fixed} lap start times contradicted the trackpoint times (they ignore a pause); "
            "the lap's first trackpoint time was used"
        )
    return pd.DataFrame(rows)


def _coverage_problem(records: pd.DataFrame, pauses_s: float, totals: dict[str, float]) -> str | None:
    """Why the lap totals cannot stand for the samples, or None when they can."""
    if records.empty:
        return None
    span = pd.DatetimeIndex(records.index)
    sample_timer = (span[-1] - span[0]).total_seconds() - pauses_s
    timer = totals.get("timer_time_s")
    if timer is not None and timer < 0.9 * sample_timer - 30.0:
        return (f"the laps' timer time ({timer:.0f} s) covers only part of the {sample_timer:.0f} s "
                "of timer-running samples")
    d = records["distance_m"].to_numpy(dtype=float)
    d = d[~np.isnan(d)]
    distance = totals.get("distance_m")
    if distance is not None and len(d):
        sample_distance = float(d.max() - d[0])
        if distance < 0.9 * sample_distance - 100.0:
            return (f"the laps' distance ({distance:.0f} m) covers only part of the "
                    f"{sample_distance:.0f} m of the samples")
    return None


def read_tcx(data: bytes, source_file: str, file_hash: str) -> list[Activity]:
    """Read a TCX file into activities (one per ``<Activity>`` element).

    Parameters
    ----------
    data
        The file's bytes (decompressed).
    source_file
        Path (or ``zip!member``) named in messages and in ``summary['source_file']``.
    file_hash
        First 16 hex digits of the SHA-256 of ``data``; activity ids are
        ``f"{file_hash}-{index}"`` with ``index`` the position of the ``<Activity>``
        element in the file.

    Returns
    -------
    list of Activity
        Built by :func:`kneedata.io.activity.build_activity`.

    Raises
    ------
    FileFormatError
        Empty, not TCX, a DTD/entity declaration (refused), no ``<Activity>`` (a
        course or workout file), or no trackpoint with a time in any activity.

    Notes
    -----
    See the module docstring. An ``<Activity>`` without trackpoints inside a file
    that has others is skipped with a :class:`~kneedata.DataQualityWarning`.
    """
    sink = _point_sink()
    parsed = parse_xml(data, source_file, kind="TCX", points=sink)
    root = parsed.root
    if local_name(root.tag) != "TrainingCenterDatabase":
        raise FileFormatError(
            f"{source_file}: not a TCX file (root element <{local_name(root.tag)}>, expected "
            "<TrainingCenterDatabase>); pass a TCX activity export"
        )
    elements = [e for e in root.iter() if local_name(e.tag) == "Activity"]
    if not elements:
        courses = sum(1 for e in root.iter() if local_name(e.tag) in ("Course", "Workout"))
        raise FileFormatError(
            f"{source_file}: the TCX file holds no <Activity> ({courses} courses/workouts); a "
            "planned course or workout is not a recorded activity - export the activity instead"
        )
    activities: list[Activity] = []
    for index, element in enumerate(elements):
        notes = parsed.damage_notes("trackpoints")
        tcx = _read_activity(element, sink, notes)
        track = tcx.track
        assert track is not None
        if np.isnat(track.time).all():
            if len(elements) > 1:
                warnings.warn(
                    f"{source_file}: <Activity> number {index} "
                    f"(Sport={cap_text(str(tcx.sport_raw), MAX_NAME_CHARS)!r}) has no "
                    "trackpoints with a time and was skipped; the other activities were read",
                    DataQualityWarning,
                    stacklevel=2,
                )
            continue
        mapped = map_sport(tcx.sport_raw)
        if mapped is None:
            notes.append(f"Sport={cap_text(str(tcx.sport_raw), MAX_NAME_CHARS)!r} not recognised; read as 'generic' (cadence not kept)")
            mapped = ("generic", "generic")
        sport, sub_sport = mapped

        t_ns = np.unique(track.time[~np.isnat(track.time)].astype("datetime64[ns]").astype(np.int64))
        t_s = t_ns / 1e9
        timers = [lap.timer_s for lap in tcx.laps]
        timer_total = float(sum(timers)) if timers and not any(math.isnan(t) for t in timers) else math.nan
        gaps = timer_gaps(t_s, timer_total)
        stops = np.array([t_s[i] for i in gaps])
        pauses = [(pd.Timestamp(t_ns[i], tz="UTC"), pd.Timestamp(t_ns[i + 1], tz="UTC")) for i in gaps]
        records, unit = track_records(track, sport=sport, notes=notes, pause_stops_s=stops,
                                      source_file=source_file)

        totals = _watch_totals(tcx.laps, sport, unit)
        problem = _coverage_problem(records, float(sum(t_s[i + 1] - t_s[i] for i in gaps)), totals)
        if problem is not None:
            notes.append(f"{problem}; the summary is computed from the samples instead of the laps")
            totals = {}
        laps = _laps_frame(tcx, sport, unit, notes)
        activities.append(
            build_activity(
                records,
                source_file=source_file,
                source_format="tcx",
                sport=sport,
                sub_sport=sub_sport,
                activity_id=f"{file_hash}-{index}",
                cadence_unit_source=unit,
                laps=laps,
                pauses=pauses,
                watch_totals=totals,
                device=tcx.device,
                complete=parsed.complete,
                warnings=notes,
            )
        )
    if not activities:
        raise FileFormatError(
            f"{source_file}: none of the {len(elements)} <Activity> elements has trackpoints with "
            "a time; there is no recorded activity to read - export the activity again"
        )
    return activities
