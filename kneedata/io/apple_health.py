"""Apple Health exports: running workouts, their running metrics, sleep, resting HR and HRV.

An Apple Health export (``export.zip`` from the Health app: ``apple_health_export/
export.xml`` and ``workout-routes/*.gpx``) is read *streaming*: the XML goes through
:func:`xml.etree.ElementTree.iterparse` (expat; the DTD is cut first, so no entity can be declared) and every
top-level element is cleared once read, so memory stays flat however large the export
(they reach several GB; ``benchmarks/bench_apple_health.py`` measures it). Two repairs
are made on the stream, each counted in the notes:

- the internal DTD (``<!DOCTYPE HealthData [...]>``) is cut: iOS 16 wrote one that
  is not valid XML, so every standard parser stops on it. A DTD that declares an
  entity is refused, not cut;
- control characters XML forbids (``\\x0b`` and friends, which some apps write into
  names and metadata) are removed.

What is read (the export's own names; units converted from the ``unit`` attribute):

- ``Workout`` elements of ``HKWorkoutActivityTypeRunning`` become activities
  (``source_format`` ``apple_health``): start and end, ``duration`` (timer time),
  distance (``totalDistance``, or the ``WorkoutStatistics`` of
  ``DistanceWalkingRunning`` in newer exports), average heart rate
  (``WorkoutStatistics`` of ``HeartRate``), and the route ``workout-routes/*.gpx``
  the workout's ``FileReference`` names, when the caller can open it.
- Running metric samples (``Record`` of ``RunningStrideLength``,
  ``RunningGroundContactTime``, ``RunningVerticalOscillation``, ``RunningPower``,
  ``RunningSpeed``) inside a workout's time become its records
  (``step_length_m``, ``stance_time_ms``, ``vertical_oscillation_mm``, ``power_w``,
  ``speed_m_s``), joined to the route's nearest point within
  :data:`JOIN_TOLERANCE_S`.
- Wellness items (:data:`kneedata.schema.WELLNESS_ITEMS`, source ``apple_health``):
  ``RestingHeartRate``, ``HeartRateVariabilitySDNN`` (SDNN: never converted to or
  pooled with Garmin's RMSSD) and ``SleepAnalysis`` (the asleep stages; in-bed and
  awake are not sleep). Sleep from several apps or devices of the same night is
  merged as the union of their asleep intervals (never added), then split into
  sleeps at gaps over :data:`SLEEP_GAP_H`; a sleep under 3 h that ends between 10:00
  and 20:00 local is a nap. Apple writes every time with its UTC offset, so the
  local date is the file's own.
"""

from __future__ import annotations

import hashlib
import io
import math
import re
import warnings
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any
from xml.etree import ElementTree as ET
from xml.etree.ElementTree import ParseError

import numpy as np
import pandas as pd

from kneedata.errors import FileFormatError
from kneedata.io.activity import Activity, build_activity
from kneedata.io.wellness import items_frame

__all__ = [
    "JOIN_TOLERANCE_S",
    "SLEEP_GAP_H",
    "AppleHealthRead",
    "CleanStream",
    "is_apple_health_xml",
    "iter_clean",
    "read_apple_health",
    "read_apple_health_stream",
    "route_opener_folder",
]

#: Largest distance in time between a metric sample and the route point it joins [s].
JOIN_TOLERANCE_S = 10.0
#: Asleep intervals further apart than this are two sleeps [h].
SLEEP_GAP_H = 2.0
_HK = "HKQuantityTypeIdentifier"
#: Running metric record types and the records column (with the unit it is stored in).
_METRICS = {
    f"{_HK}RunningStrideLength": "step_length_m",
    f"{_HK}RunningGroundContactTime": "stance_time_ms",
    f"{_HK}RunningVerticalOscillation": "vertical_oscillation_mm",
    f"{_HK}RunningPower": "power_w",
    f"{_HK}RunningSpeed": "speed_m_s",
}
#: Unit conversion to the column's unit, by the export's ``unit`` text.
_UNITS: dict[str, dict[str, float]] = {
    "step_length_m": {"m": 1.0, "cm": 0.01, "km": 1000.0, "ft": 0.3048, "in": 0.0254, "mi": 1609.344},
    "stance_time_ms": {"ms": 1.0, "s": 1000.0},
    "vertical_oscillation_mm": {"cm": 10.0, "mm": 1.0, "m": 1000.0, "in": 25.4},
    "power_w": {"W": 1.0, "kW": 1000.0},
    "speed_m_s": {"m/s": 1.0, "km/hr": 1 / 3.6, "km/h": 1 / 3.6, "mi/hr": 0.44704, "mph": 0.44704},
    "distance_m": {"m": 1.0, "km": 1000.0, "mi": 1609.344, "ft": 0.3048, "yd": 0.9144},
    "duration_s": {"s": 1.0, "sec": 1.0, "min": 60.0, "hr": 3600.0, "h": 3600.0},
}
_SLEEP_TYPE = "HKCategoryTypeIdentifierSleepAnalysis"
_ASLEEP_VALUES = frozenset({
    "HKCategoryValueSleepAnalysisAsleep", "HKCategoryValueSleepAnalysisAsleepUnspecified",
    "HKCategoryValueSleepAnalysisAsleepCore", "HKCategoryValueSleepAnalysisAsleepDeep",
    "HKCategoryValueSleepAnalysisAsleepREM",
})
_WELLNESS_TYPES = {f"{_HK}RestingHeartRate": "resting_hr", f"{_HK}HeartRateVariabilitySDNN": "hrv_sdnn"}
_RUNNING = "HKWorkoutActivityTypeRunning"
#: Characters XML 1.0 forbids (all but tab, LF, CR below 0x20); single bytes in UTF-8.
_FORBIDDEN = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])
_HEAD_MAX = 1 << 20  # the DTD is searched for in the first MiB
_CHUNK = 1 << 20


class CleanStream(io.RawIOBase):
    """A binary stream of an Apple Health XML with the internal DTD cut and forbidden control characters removed.

    Attributes ``dtd_cut`` (bytes of DTD removed) and ``removed`` (control
    characters removed) say what was repaired.

    Raises
    ------
    FileFormatError
        (on reading) when the DTD declares an entity.
    """

    def __init__(self, raw: IO[bytes], source_file: str) -> None:
        super().__init__()
        self.raw, self.source_file = raw, source_file
        self.buffer = b""
        self.head_done = False
        self.dtd_cut = 0
        self.removed = 0
        self.n_bytes = 0
        self.hash = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def _fill(self) -> bool:
        chunk = self.raw.read(_CHUNK)
        if not chunk:
            if not self.head_done:
                self.head_done = True
                self.buffer = self._cut_dtd(self.buffer, final=True)
            return False
        self.n_bytes += len(chunk)
        self.hash.update(chunk)
        clean = chunk.translate(None, _FORBIDDEN)
        self.removed += len(chunk) - len(clean)
        if self.head_done:
            self.buffer += clean
        else:
            self.buffer = self._cut_dtd(self.buffer + clean, final=False)
        return True

    def _cut_dtd(self, head: bytes, *, final: bool) -> bytes:
        if b"<!ENTITY" in head[:_HEAD_MAX]:
            raise FileFormatError(f"{self.source_file}: the XML declares entities (<!ENTITY); entities are "
                                  "refused for safety - this is not an Apple Health export")
        start = head.find(b"<!DOCTYPE")
        if start < 0:
            # no DTD once the root element has begun (or the head is long enough)
            if re.search(rb"<[A-Za-z]", head.replace(b"<?xml", b"")) or final or len(head) > _HEAD_MAX:
                self.head_done = True
            return head
        bracket, close = head.find(b"[", start), head.find(b">", start)
        if close >= 0 and (bracket < 0 or close < bracket):
            end = close + 1  # <!DOCTYPE HealthData>: no internal subset
        else:
            found = head.find(b"]>", start)
            if found < 0:
                if not final and len(head) <= _HEAD_MAX:
                    return head  # read on
                raise FileFormatError(f"{self.source_file}: the DOCTYPE at byte {start} never ends; "
                                      "the export is damaged - export it again from the Health app")
            end = found + 2
        dtd = head[start:end]
        if b"<!ENTITY" in dtd:
            raise FileFormatError(f"{self.source_file}: the XML declares entities (<!ENTITY in its DTD); "
                                  "entities are refused for safety - this is not an Apple Health export")
        self.dtd_cut = len(dtd)
        self.head_done = True
        return head[:start] + head[end:]

    def readinto(self, b: Any) -> int:
        while (not self.head_done or len(self.buffer) < len(b)) and self._fill():
            pass
        n = min(len(b), len(self.buffer))
        b[:n] = self.buffer[:n]
        self.buffer = self.buffer[n:]
        return n


@dataclass
class AppleHealthRead:
    """What an Apple Health export held."""

    activities: list[Activity]
    wellness: pd.DataFrame
    summary: str
    notes: list[str] = field(default_factory=list)
    sha256: str = ""


def is_apple_health_xml(name: str) -> bool:
    """Whether ``name`` is an Apple Health ``export.xml`` (by its name; ``export_cda.xml`` is not)."""
    base = name.rsplit("::", 1)[-1].replace("\\", "/").rsplit("/", 1)[-1].lower()
    return base in ("export.xml", "exportar.xml", "exporter.xml") or base.endswith("_export.xml")


def _time(text: str | None) -> tuple[pd.Timestamp, float] | None:
    """An Apple date (``2023-01-02 07:00:00 +0100``) as UTC and its offset [min]."""
    if not text:
        return None
    try:
        when = datetime.strptime(text.strip(), "%Y-%m-%d %H:%M:%S %z")
    except ValueError:
        return None
    offset = when.utcoffset()
    return pd.Timestamp(when).tz_convert("UTC"), (offset.total_seconds() / 60 if offset else 0.0)


def _convert(value: str | None, unit: str | None, column: str) -> float:
    try:
        number = float(value) if value is not None else math.nan
    except ValueError:
        return math.nan
    factor = _UNITS[column].get((unit or "").strip(), math.nan if unit else 1.0)
    return number * factor if math.isfinite(number) else math.nan


@dataclass
class _Workout:
    start: pd.Timestamp
    end: pd.Timestamp
    offset_min: float
    source: str
    duration_s: float
    distance_m: float
    avg_hr: float
    indoor: bool
    routes: list[str]
    pauses: list[tuple[pd.Timestamp, pd.Timestamp | None]]


def _workout(elem: Any) -> _Workout | None:
    start, end = _time(elem.get("startDate")), _time(elem.get("endDate"))
    if start is None or end is None:
        return None
    duration = _convert(elem.get("duration"), elem.get("durationUnit"), "duration_s")
    distance = _convert(elem.get("totalDistance"), elem.get("totalDistanceUnit"), "distance_m")
    avg_hr, indoor, routes = math.nan, False, []
    pauses: list[tuple[pd.Timestamp, pd.Timestamp | None]] = []
    paused: pd.Timestamp | None = None
    for child in elem:
        tag = child.tag
        if tag == "WorkoutStatistics":
            kind = child.get("type", "")
            if kind == f"{_HK}DistanceWalkingRunning" and math.isnan(distance):
                distance = _convert(child.get("sum"), child.get("unit"), "distance_m")
            elif kind == f"{_HK}HeartRate":
                avg_hr = _convert(child.get("average"), None, "power_w")
        elif tag == "MetadataEntry" and child.get("key") == "HKIndoorWorkout":
            indoor = child.get("value") == "1"
        elif tag == "WorkoutRoute":
            routes += [ref.get("path", "") for ref in child.iter("FileReference") if ref.get("path")]
        elif tag == "WorkoutEvent":
            when = _time(child.get("date"))
            if when is None:
                continue
            if child.get("type") == "HKWorkoutEventTypePause":
                paused = when[0]
            elif child.get("type") == "HKWorkoutEventTypeResume" and paused is not None:
                pauses.append((paused, when[0]))
                paused = None
    if paused is not None:
        pauses.append((paused, None))
    return _Workout(start[0], end[0], start[1], elem.get("sourceName") or "", duration, distance, avg_hr,
                    indoor, routes, pauses)


class _Sleep:
    """Asleep intervals [ns] of the export, with their offsets."""

    def __init__(self) -> None:
        self.rows: list[tuple[int, int, float]] = []

    def add(self, elem: Any) -> None:
        if elem.get("value") not in _ASLEEP_VALUES:
            return
        start, end = _time(elem.get("startDate")), _time(elem.get("endDate"))
        if start is not None and end is not None and end[0] > start[0]:
            self.rows.append((start[0].value, end[0].value, end[1]))

    def items(self, source_file: str) -> list[dict[str, Any]]:
        """One item per sleep: the union of the asleep intervals, split at gaps."""
        if not self.rows:
            return []
        merged: list[list[Any]] = []  # [start, end, offset of the end]: union over sources
        for start, end, off in sorted(self.rows):
            if merged and start <= merged[-1][1]:
                if end > merged[-1][1]:
                    merged[-1][1], merged[-1][2] = end, off
            else:
                merged.append([start, end, off])
        gap = int(SLEEP_GAP_H * 3600e9)
        out: list[dict[str, Any]] = []
        first = 0
        for i in range(1, len(merged) + 1):
            if i == len(merged) or merged[i][0] - merged[i - 1][1] > gap:
                part = merged[first:i]
                asleep = sum(int(e) - int(s_) for s_, e, _ in part)
                out.append(self._item(int(part[0][0]), int(part[-1][1]), asleep, float(part[-1][2]), source_file))
                first = i
        return out

    @staticmethod
    def _item(start: int, end: int, asleep_ns: int, offset: float, source_file: str) -> dict[str, Any]:
        hours = asleep_ns / 3600e9
        wake = pd.Timestamp(end, tz="UTC")
        local_wake = wake + pd.Timedelta(minutes=offset)
        nap = hours < 3 and 10 <= local_wake.hour < 20
        return {"source": "apple_health", "origin": "export_xml", "kind": "sleep",
                "start_utc": pd.Timestamp(start, tz="UTC"), "end_utc": wake,
                "local_date": str(local_wake.date()), "utc_offset_min": offset, "value": hours,
                "weight": 1.0, "is_nap": nap, "source_file": source_file}


def read_apple_health_stream(raw: IO[bytes], source_file: str, *,
                             open_route: Callable[[str], bytes | None] | None = None) -> AppleHealthRead:
    """Read an Apple Health ``export.xml`` from a binary stream (streaming; see the module docstring).

    Parameters
    ----------
    raw
        The XML bytes (a file, or a member opened from the zip).
    source_file
        Named in messages and in the activities' ``source_file``.
    open_route
        ``path -> bytes`` of a ``workout-routes/*.gpx`` file named by a workout (the
        path as the export writes it, e.g. ``/workout-routes/route_2023-01-02.gpx``);
        None, or returning None, leaves the workout without a route.

    Raises
    ------
    FileFormatError
        Not an Apple Health export, entities declared, or damaged before any data.
    """
    stream = CleanStream(raw, source_file)
    workouts: list[_Workout] = []
    metrics: dict[str, list[tuple[int, float]]] = {c: [] for c in _METRICS.values()}
    items: list[dict[str, Any]] = []
    sleep = _Sleep()
    counts = {"records": 0}
    notes: list[str] = []
    depth = 0
    root_tag = None
    complete = True
    try:
        # expat in C (no Python handler per element): the stream it reads has no DTD
        # left (cut; a DTD declaring an entity is refused), so no entity can be defined
        # and a reference to one is an "undefined entity" error; nothing external is read
        for event, elem in ET.iterparse(io.BufferedReader(stream, _CHUNK), events=("start", "end")):
            if event == "start":
                if depth == 0:
                    root_tag = elem.tag
                    if root_tag != "HealthData":
                        raise FileFormatError(f"{source_file}: not an Apple Health export (root element "
                                              f"<{root_tag}>, expected <HealthData>)")
                    root = elem
                depth += 1
                continue
            depth -= 1
            if depth != 1:
                continue
            tag = elem.tag
            if tag == "Record":
                counts["records"] += 1
                kind = elem.get("type", "")
                column = _METRICS.get(kind)
                if column is not None:
                    when = _time(elem.get("startDate"))
                    value = _convert(elem.get("value"), elem.get("unit"), column)
                    if when is not None and math.isfinite(value):
                        metrics[column].append((when[0].value, value))
                elif kind in _WELLNESS_TYPES:
                    when = _time(elem.get("startDate"))
                    value = _convert(elem.get("value"), None, "power_w")
                    if when is not None and value > 0:
                        items.append({"source": "apple_health", "origin": "export_xml",
                                      "kind": _WELLNESS_TYPES[kind], "start_utc": when[0], "end_utc": when[0],
                                      "local_date": str((when[0] + pd.Timedelta(minutes=when[1])).date()),
                                      "utc_offset_min": when[1], "value": value, "weight": 1.0,
                                      "is_nap": False, "source_file": source_file})
                elif kind == _SLEEP_TYPE:
                    sleep.add(elem)
            elif tag == "Workout" and elem.get("workoutActivityType") == _RUNNING:
                got = _workout(elem)
                if got is not None:
                    workouts.append(got)
            root.clear()  # the element and everything read before it
    except ParseError as err:
        if "undefined entity" in str(err):
            raise FileFormatError(f"{source_file}: the XML refers to an entity ({err}); entities are "
                                  "refused for safety - this is not an Apple Health export as written") from err
        if root_tag is None:
            raise FileFormatError(f"{source_file}: not readable XML ({err}); is this the export.xml "
                                  "of an Apple Health export?") from err
        complete = False
        notes.append(f"the export is damaged at {err} (after {counts['records']} records); what came "
                     "before was kept - export it again from the Health app for the rest")
    if stream.dtd_cut:
        notes.append(f"its internal DTD ({stream.dtd_cut} bytes; the one iOS 16 wrote is not valid XML) was cut")
    if stream.removed:
        notes.append(f"{stream.removed} control character(s) XML forbids (such as \\x0b) were removed")
    items += sleep.items(source_file)
    sha = stream.hash.hexdigest()
    by_time = {}  # sorted arrays: each workout finds its samples by bisection
    for column, pairs in metrics.items():
        arr = np.array(pairs, dtype=float).reshape(-1, 2)
        order = np.argsort(arr[:, 0], kind="stable")
        by_time[column] = (arr[order, 0].astype("int64"), arr[order, 1])
    activities = [_activity(w, i, by_time, source_file, sha[:16], open_route, notes, complete)
                  for i, w in enumerate(sorted(workouts, key=lambda w: w.start))]
    wellness = items_frame(items)
    kinds = wellness["kind"].value_counts()
    held = ", ".join(f"{k} {n}" for k, n in kinds.items()) or "no wellness"
    n_metric = sum(len(v) for v in metrics.values())
    summary = (f"Apple Health export: {len(activities)} running workout(s), {n_metric} running-metric "
               f"samples, {held} ({counts['records']} records read)")
    return AppleHealthRead(activities, wellness, summary, notes, sha)


def _activity(w: _Workout, index: int, metrics: dict[str, tuple[np.ndarray, np.ndarray]], source_file: str,
              file_hash: str, open_route: Callable[[str], bytes | None] | None, notes: list[str],
              complete: bool) -> Activity:
    own: list[str] = []
    base = _route_records(w, source_file, open_route, own)
    lo, hi = w.start.value, w.end.value
    samples = pd.DataFrame()
    for column, (times, values) in metrics.items():
        a, b = np.searchsorted(times, lo, "left"), np.searchsorted(times, hi, "right")
        if b > a:
            part = pd.DataFrame({"t": times[a:b], column: values[a:b]}).drop_duplicates("t").set_index("t")
            samples = part if samples.empty else samples.join(part, how="outer")
    if not samples.empty:
        samples.index = pd.to_datetime(samples.index, utc=True)
        samples = samples.sort_index()
    if base is not None and not samples.empty:
        left = base.reset_index().rename(columns={base.index.name or "index": "timestamp"})
        joined = pd.merge_asof(left.sort_values("timestamp"), samples.rename_axis("timestamp").reset_index()
                               .rename(columns={c: f"{c}__m" for c in samples.columns}),
                               on="timestamp", direction="nearest",
                               tolerance=pd.Timedelta(seconds=JOIN_TOLERANCE_S))
        for column in samples.columns:
            joined[column] = joined[f"{column}__m"].where(joined[f"{column}__m"].notna(), joined.get(column))
        records = joined.set_index("timestamp")[[c for c in joined.columns if not c.endswith("__m")
                                                  and c != "timestamp"]]
    elif base is not None:
        records = base
    else:
        records = samples if not samples.empty else pd.DataFrame(index=pd.DatetimeIndex([], tz="UTC"))
    records.index.name = "timestamp"
    totals = {"start_time_utc": w.start, "distance_m": w.distance_m, "timer_time_s": w.duration_s,
              "elapsed_time_s": (w.end - w.start).total_seconds(), "avg_heart_rate_bpm": w.avg_hr}
    return build_activity(
        records, source_file=source_file, source_format="apple_health", sport="running",
        sub_sport="treadmill" if w.indoor else None, activity_id=f"{file_hash}-{index}",
        cadence_unit_source="none", pauses=w.pauses, watch_totals=totals, utc_offset_min=w.offset_min,
        device=w.source or None, complete=complete, warnings=[*own],
    )


def _route_records(w: _Workout, source_file: str, open_route: Callable[[str], bytes | None] | None,
                   notes: list[str]) -> pd.DataFrame | None:
    """The route's samples (positions, altitude, GPS distance and speed), or None."""
    from kneedata.io.gpx import read_gpx

    for path in w.routes:
        data = open_route(path) if open_route is not None else None
        if data is None:
            notes.append(f"its route {path} is not in the export; the run has no positions")
            continue
        try:
            with warnings.catch_warnings():  # the route states no sport: the workout does
                warnings.simplefilter("ignore")
                acts = read_gpx(data, f"{source_file}::{path}", hashlib.sha256(data).hexdigest()[:16])
        except FileFormatError as err:
            notes.append(f"its route {path} cannot be read ({err})")
            continue
        if acts:
            cols = ["latitude_deg", "longitude_deg", "altitude_m", "distance_m", "speed_m_s"]
            return acts[0].records[[c for c in cols if c in acts[0].records]]
    return None


def _zip_member(zf: zipfile.ZipFile) -> str:
    names = [n for n in zf.namelist() if is_apple_health_xml(n)]
    if not names:
        raise FileFormatError(f"{zf.filename}: no export.xml in the zip; is this an Apple Health export?")
    return sorted(names, key=len)[0]


def _route_opener_zip(zf: zipfile.ZipFile, xml_name: str) -> Callable[[str], bytes | None]:
    folder = xml_name.rsplit("/", 1)[0] + "/" if "/" in xml_name else ""
    names = set(zf.namelist())

    def opener(path: str) -> bytes | None:
        name = folder + path.lstrip("/")
        return zf.read(name) if name in names else None
    return opener


def route_opener_folder(folder: Path) -> Callable[[str], bytes | None]:
    """``path -> bytes`` of the route files next to a loose ``export.xml``."""
    def opener(path: str) -> bytes | None:
        file = folder / path.lstrip("/")
        try:
            return file.read_bytes() if file.is_file() else None
        except OSError:
            return None
    return opener


def read_apple_health(path: str | Path) -> AppleHealthRead:
    """Read an Apple Health ``export.zip`` or ``export.xml`` (with its ``workout-routes`` next to it).

    Returns the running workouts as activities, the wellness items and what the
    export held; see the module docstring. For the store, import the export
    (``Store.import_paths``): the runs join the activities, the rest
    :meth:`kneedata.Store.wellness`.
    """
    path = Path(path)
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            name = _zip_member(zf)
            with zf.open(name) as raw:
                return read_apple_health_stream(raw, f"{path}::{name}", open_route=_route_opener_zip(zf, name))
    with path.open("rb") as raw:
        return read_apple_health_stream(raw, str(path), open_route=route_opener_folder(path.parent))


def iter_clean(raw: IO[bytes], source_file: str) -> Iterator[bytes]:
    """The cleaned bytes of an Apple Health XML, chunk by chunk (for tests and tools)."""
    stream = CleanStream(raw, source_file)
    while chunk := stream.read(_CHUNK):
        yield chunk


