"""GPX reader.

A GPX file holds tracks (``<trk>``) of segments (``<trkseg>``) of points
(``<trkpt lat lon>`` with ``<ele>``, ``<time>`` and vendor ``<extensions>``). This
module parses them into a :class:`kneedata.io.track.Track`; the shared track maths
(:mod:`kneedata.io.track`) turns it into the canonical records table, handed to
:func:`kneedata.io.activity.build_activity`:

* **distance_m** - cumulative great-circle (haversine) distance along the points of
  each segment; the jump from the end of one segment to the start of the next is not
  counted (the watch was paused), as in gpxpy's ``length_2d``.
* **speed_m_s** - the file's own speed where it states one for most points
  (``gpxtpx:speed``), else distance over time in a centred window of +-5 s
  (:func:`kneedata.io.track.derive_speed_m_s`).
* **cadence** - ``gpxtpx:cad``, ``cad``, ``cadence`` (any namespace); strides/min or
  steps/min decided per file (:func:`kneedata.io.track.decide_cadence_unit`); cycling goes to
  ``cadence_rpm``.
* heart rate (``hr``, ``heartrate``), temperature (``atemp``, ``temp``,
  ``Temperature``), power (``power``, ``PowerInWatts``), altitude (``ele``).
* **sport** from ``<type>``: words (``running``, ``Running``, ``road_biking``...) or
  Strava's numeric codes (9 = run, 1 = ride, ...), mapped to lower-case FIT sport
  names (:func:`kneedata.io.track.map_sport`).
* **pauses**: each gap between two segments is a timer pause.

Element names are matched by local name, so ``gpxtpx:hr``, ``ns3:hr`` and an
undeclared ``gpxdata:cadence`` are all found; parsing goes through
:func:`kneedata.io.xmlsafe.parse_xml` (tolerant, never expands entities).
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from kneedata.errors import FileFormatError
from kneedata.io.activity import MAX_NAME_CHARS, Activity, build_activity, cap_text
from kneedata.io.track import (
    Track,
    map_sport,
    parse_times,
    sport_from_name,
    track_records,
)
from kneedata.io.xmlsafe import (
    LocalNameMap,
    PointSink,
    child_text,
    children,
    local_name,
    number,
    parse_xml,
    point_values,
)

__all__ = ["read_gpx"]

# --------------------------------------------------------------------------------
# GPX parsing

#: Local names (lower case) of GPX point children and extensions -> column.
_GPX_FIELDS: dict[str, str] = {
    "ele": "altitude_m",
    "hr": "heart_rate_bpm",
    "heartrate": "heart_rate_bpm",
    "heart_rate": "heart_rate_bpm",
    "cad": "cadence",
    "cadence": "cadence",
    "runcadence": "cadence",
    "atemp": "temperature_c",
    "temp": "temperature_c",
    "temperature": "temperature_c",
    "power": "power_w",
    "powerinwatts": "power_w",
    "watts": "power_w",
    "speed": "speed_m_s",
}
_GPX_COLUMNS = ("latitude_deg", "longitude_deg", "altitude_m", "heart_rate_bpm", "cadence",
                "temperature_c", "power_w", "speed_m_s")


@dataclass
class _GpxTrack:
    name: str | None
    sport_raw: str | None
    segments: list[Any]  # ET elements, or gpxpy segments (engine="gpxpy")


def _gpx_point(lookup: LocalNameMap) -> Callable[[ET.Element], tuple[dict[str, float], str | None, int]]:
    """The values of one ``trkpt``: its children and extensions, and ``lat``/``lon``."""
    def read(pt: ET.Element) -> tuple[dict[str, float], str | None, int]:
        values, time_text, n_bad = point_values(pt, lookup)
        for column, attribute in (("latitude_deg", "lat"), ("longitude_deg", "lon")):
            text = pt.get(attribute)
            values[column] = number(text)
            n_bad += text is not None and math.isnan(values[column])
        return values, time_text, n_bad
    return read


def _point_sink() -> PointSink:
    """Track points read as they are parsed (a file of a million points never holds their elements)."""
    lookup = LocalNameMap({**_GPX_FIELDS, "time": "time"}, lower=True)  # per file: bounded
    return PointSink("trkpt", _gpx_point(lookup), _GPX_COLUMNS)


def _read_points(segments: list[ET.Element], sink: PointSink, notes: list[str]) -> Track:
    parts = [sink.points(seg) for seg in segments]
    bad_values = sum(part.n_bad for part in parts)
    if bad_values:
        notes.append(f"{bad_values} track point values were not numbers (e.g. 'null') or not finite ('inf') "
                     "and were left out")
    arrays = {c: np.concatenate([np.frombuffer(part.values[c], dtype=float) for part in parts])
              if parts else np.empty(0) for c in _GPX_COLUMNS}
    # positions outside the WGS84 range: dropped by track_records (kneedata.io.plausible)
    if np.isnan(arrays["speed_m_s"]).all():
        del arrays["speed_m_s"]
    times = [t for part in parts for t in part.times]
    seg_ids = np.repeat(np.arange(len(parts), dtype=np.int64), [len(part) for part in parts])
    return Track(time=parse_times(times, notes), segment=seg_ids, columns=arrays)


def _segment_pauses(track: Track) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """(stop, start) between consecutive non-empty segments, in UTC."""
    t_ns = np.asarray(track.time, dtype="datetime64[ns]")
    ok = ~np.isnat(t_ns)
    if not ok.any():
        return []
    frame = pd.DataFrame({"segment": track.segment[ok], "t": t_ns[ok].view(np.int64)})
    spans = frame.groupby("segment")["t"].agg(["min", "max"]).sort_values("min")
    pauses = []
    previous_end: int | None = None
    for start, end in zip(spans["min"].tolist(), spans["max"].tolist(), strict=True):
        if previous_end is not None and start > previous_end:
            pauses.append((pd.Timestamp(previous_end, unit="ns", tz="UTC"), pd.Timestamp(start, unit="ns", tz="UTC")))
        previous_end = end if previous_end is None else max(previous_end, end)
    return pauses


def _gpx_tracks(root: ET.Element) -> list[_GpxTrack]:
    tracks = []
    for trk in children(root, "trk"):
        segments = children(trk, "trkseg")
        tracks.append(_GpxTrack(name=child_text(trk, "name"), sport_raw=child_text(trk, "type"), segments=segments))
    return tracks


def _group_tracks(tracks: list[_GpxTrack]) -> list[list[_GpxTrack]]:
    """Consecutive <trk> elements of the same sport form one activity."""
    def sport_of(trk: _GpxTrack) -> object:
        return map_sport(trk.sport_raw) or (trk.sport_raw or "")

    groups: list[list[_GpxTrack]] = []
    for trk in tracks:
        if groups and sport_of(trk) == sport_of(groups[-1][-1]):
            groups[-1].append(trk)
        else:
            groups.append([trk])
    return groups


def _resolve_sport(raw: str | None, names: Iterable[str | None], notes: list[str]) -> tuple[str, str]:
    mapped = map_sport(raw)
    if mapped is not None:
        return mapped
    if raw:
        notes.append(
            f"sport type {cap_text(raw, MAX_NAME_CHARS)!r} not recognised; read as 'generic' (cadence not kept) - "
            "tell kneedata's maintainers which sport it is"
        )
        return "generic", "generic"
    for name in names:
        guessed = sport_from_name(name)
        if guessed is not None:
            notes.append(f"the file states no sport; {guessed[0]!r} guessed from the track name "
                         f"{cap_text(str(name), MAX_NAME_CHARS)!r}")
            return guessed
    notes.append("the file states no sport (<type>) and the track name does not say; read as 'generic' "
                 "(cadence not kept)")
    return "generic", "generic"


#: Engines of :func:`read_gpx`: ``None`` (the default reader, streaming and tolerant) or
#: ``"gpxpy"`` (:mod:`kneedata.io.gpx_gpxpy`).
GPX_ENGINES = (None, "gpxpy")


def read_gpx(data: bytes, source_file: str, file_hash: str, *,
             engine: str | None = None) -> list[Activity]:
    """Read a GPX file into activities (one per track, or run of same-sport tracks).

    Parameters
    ----------
    data
        The file's bytes (decompressed).
    source_file
        Path (or ``zip!member``) named in messages and in ``summary['source_file']``.
    file_hash
        First 16 hex digits of the SHA-256 of ``data``; activity ids are
        ``f"{file_hash}-{index}"``.
    engine
        ``None``: the default reader (faster; salvages damaged files). ``"gpxpy"``:
        parse with gpxpy (:mod:`kneedata.io.gpx_gpxpy`); the same activities from
        a sound file, everything after parsing is shared.

    Returns
    -------
    list of Activity
        Built by :func:`kneedata.io.activity.build_activity`; ``summary
        ['totals_source']`` is ``samples`` (a GPX file states no totals).

    Raises
    ------
    FileFormatError
        Empty, not GPX, a DTD/entity declaration (refused), or no track point with a
        time (a route or waypoint file is not an activity).

    Notes
    -----
    See the module docstring for how each column is obtained. Timer pauses are the
    gaps between segments; a single segment has none (GPX has no timer).
    """
    if engine not in GPX_ENGINES:
        raise ValueError(f"unknown GPX engine {engine!r}; choose None (default) or 'gpxpy'")
    if engine == "gpxpy":
        return _read_with_gpxpy(data, source_file, file_hash)
    sink = _point_sink()
    parsed = parse_xml(data, source_file, kind="GPX", points=sink)
    root = parsed.root
    if local_name(root.tag).lower() != "gpx":
        raise FileFormatError(
            f"{source_file}: not a GPX file (root element <{local_name(root.tag)}>, expected <gpx>); "
            "pass a GPX track export"
        )
    creator = (root.get("creator") or "").strip() or None
    tracks = _gpx_tracks(root)
    n_points = sum(len(sink.points(seg)) for trk in tracks for seg in trk.segments)
    if n_points == 0:
        _no_track_points(source_file, len(tracks), len(children(root, "rte")),
                         len(children(root, "wpt")))
    return _activities(tracks, lambda segments, notes: _read_points(segments, sink, notes),
                       source_file=source_file, file_hash=file_hash, creator=creator,
                       complete=parsed.complete, damage=lambda: parsed.damage_notes("points"))


def _no_track_points(source_file: str, n_tracks: int, n_routes: int, n_waypoints: int) -> None:
    raise FileFormatError(
        f"{source_file}: the GPX file holds no track points (<trkpt>): {n_tracks} tracks, "
        f"{n_routes} routes, {n_waypoints} waypoints. A planned route or a list of waypoints is "
        "not an activity; export the recorded activity instead"
    )


def _read_with_gpxpy(data: bytes, source_file: str, file_hash: str) -> list[Activity]:
    """:func:`read_gpx` with gpxpy parsing the XML (:mod:`kneedata.io.gpx_gpxpy`)."""
    from kneedata.io.gpx_gpxpy import gpxpy_file, gpxpy_track

    read = gpxpy_file(data, source_file)
    tracks = [_GpxTrack(name, sport_raw, segments) for name, sport_raw, segments in read.tracks]
    if not any(seg.points for trk in tracks for seg in trk.segments):
        _no_track_points(source_file, len(tracks), read.n_routes, read.n_waypoints)
    return _activities(
        tracks, lambda segments, notes: gpxpy_track(segments, notes, fields=_GPX_FIELDS,
                                                    columns=_GPX_COLUMNS),
        source_file=source_file, file_hash=file_hash, creator=read.creator, complete=True,
        damage=list)


def _activities(tracks: list[_GpxTrack], points: Callable[[list[Any], list[str]], Track], *,
                source_file: str, file_hash: str, creator: str | None, complete: bool,
                damage: Callable[[], list[str]]) -> list[Activity]:
    """One activity per run of same-sport tracks, whichever engine read the points."""
    activities: list[Activity] = []
    groups = _group_tracks(tracks)
    for index, group in enumerate(groups):
        notes: list[str] = damage()
        segments = [seg for trk in group for seg in trk.segments]
        track = points(segments, notes)
        if np.isnat(track.time).all():
            if len(groups) == 1:
                raise FileFormatError(
                    f"{source_file}: the GPX track has {len(track.time)} points but none has a "
                    "readable <time>; a route without times is not an activity - export the "
                    "recorded activity instead"
                )
            continue
        sport, sub_sport = _resolve_sport(group[0].sport_raw, [trk.name for trk in group], notes)
        records, unit = track_records(track, sport=sport, notes=notes, source_file=source_file)
        pauses = _segment_pauses(track)
        activities.append(
            build_activity(
                records,
                source_file=source_file,
                source_format="gpx",
                sport=sport,
                sub_sport=sub_sport,
                activity_id=f"{file_hash}-{index}",
                cadence_unit_source=unit,
                pauses=pauses,
                device=creator,
                complete=complete,
                warnings=notes,
            )
        )
    if not activities:
        raise FileFormatError(
            f"{source_file}: no GPX track has track points with readable <time>; a route "
            "without times is not an activity - export the recorded activity instead"
        )
    return activities
