"""The gpxpy engine of the GPX reader: ``read_gpx(..., engine="gpxpy")``.

`gpxpy <https://github.com/tkrajina/gpxpy>`_ (Apache-2.0) parses the file into
tracks, segments and points; this module turns its points into the same
:class:`kneedata.io.track.Track` the default reader builds, so everything after
parsing (sport, cadence unit, distance, pauses, the activity) is shared and the
two engines differ only in how the XML is read. The default reader is faster and
reads damaged files gpxpy refuses (``tests/io/test_gpx.py``); gpxpy is the
independent second opinion, as fitparse is for FIT files.

A file with a DTD internal subset (``<!DOCTYPE gpx [...]>``, entity declarations)
is refused before gpxpy sees it, as the default reader refuses it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kneedata.errors import FileFormatError
from kneedata.io.track import Track, parse_times
from kneedata.io.xmlsafe import LocalNameMap, point_values

__all__ = ["GpxpyFile", "gpxpy_file", "gpxpy_track"]

_INTERNAL_SUBSET = re.compile(rb"<!DOCTYPE[^>\[]*\[|<!ENTITY", re.IGNORECASE)


@dataclass
class GpxpyFile:
    """What gpxpy read from a GPX file.

    Attributes
    ----------
    tracks
        Per ``<trk>``: its ``<name>``, its ``<type>`` and its gpxpy segments.
    creator
        The ``creator`` attribute (the device or app), ``None`` when absent.
    n_routes, n_waypoints
        ``<rte>`` and ``<wpt>`` elements (named when the file holds no track point).
    """

    tracks: list[tuple[str | None, str | None, list[Any]]] = field(default_factory=list)
    creator: str | None = None
    n_routes: int = 0
    n_waypoints: int = 0


def gpxpy_file(data: bytes, source_file: str) -> GpxpyFile:
    """Parse GPX bytes with gpxpy.

    Parameters
    ----------
    data
        The file's bytes (UTF-8, a byte-order mark allowed).
    source_file
        Named in messages.

    Returns
    -------
    GpxpyFile

    Raises
    ------
    FileFormatError
        gpxpy is not installed, the file declares entities, or gpxpy cannot
        parse it (the message says to use the default reader, which salvages
        damaged files).
    """
    try:
        import gpxpy
        import gpxpy.gpx
    except ImportError as err:  # pragma: no cover - gpxpy is a dependency
        raise FileFormatError(f"{source_file}: engine 'gpxpy' is not installed; "
                              "`pip install gpxpy` or use engine=None") from err
    if _INTERNAL_SUBSET.search(data):
        raise FileFormatError(f"{source_file}: the GPX file declares a DTD internal subset or "
                              "entities, which are refused (never expanded); remove the "
                              "<!DOCTYPE ...> block or export the activity again")
    try:
        parsed = gpxpy.parse(data.decode("utf-8-sig", errors="replace"))
    except gpxpy.gpx.GPXException as err:
        raise FileFormatError(f"{source_file}: gpxpy cannot read this file ({err}); use "
                              "engine=None (the default reader salvages damaged files)") from err
    return GpxpyFile(tracks=[(trk.name, trk.type, list(trk.segments)) for trk in parsed.tracks],
                     creator=(parsed.creator or "").strip() or None,
                     n_routes=len(parsed.routes), n_waypoints=len(parsed.waypoints))


def gpxpy_track(segments: Sequence[Any], notes: list[str], *, fields: Mapping[str, str],
                columns: Sequence[str]) -> Track:
    """The :class:`kneedata.io.track.Track` of gpxpy segments (one activity's).

    Parameters
    ----------
    segments
        gpxpy ``GPXTrackSegment`` objects, in file order.
    notes
        Notes of the activity; appended to (values that are not numbers, times).
    fields
        Local names (lower case) of point extensions -> column, as the default
        reader uses them.
    columns
        Columns of the track (``latitude_deg`` ... ``speed_m_s``); a column no
        point holds is NaN, ``speed_m_s`` is dropped when no point states it.

    Returns
    -------
    Track
        ``latitude_deg``/``longitude_deg`` [deg] and ``altitude_m`` [m] from the
        point attributes, the other columns from the extensions (file units).
    """
    lookup = LocalNameMap({**fields, "time": "time"}, lower=True)
    values: dict[str, list[float]] = {c: [] for c in columns}
    times: list[str | None] = []
    seg_ids: list[int] = []
    n_bad = 0
    for index, segment in enumerate(segments):
        for point in segment.points:
            found: dict[str, float] = {}
            for extension in point.extensions:
                more, _, bad = point_values(extension, lookup)
                n_bad += bad
                found = {**more, **found}
            found.update(latitude_deg=point.latitude, longitude_deg=point.longitude)
            if point.elevation is not None:
                found["altitude_m"] = point.elevation
            for column in columns:
                values[column].append(float(found.get(column, np.nan)))
            times.append(point.time.isoformat() if point.time is not None else None)
            seg_ids.append(index)
    if n_bad:
        notes.append(f"{n_bad} track point values were not numbers (e.g. 'null') or not finite "
                     "('inf') and were left out")
    arrays = {c: np.asarray(v, dtype=float) for c, v in values.items()}
    if "speed_m_s" in arrays and np.isnan(arrays["speed_m_s"]).all():
        del arrays["speed_m_s"]
    return Track(time=parse_times(times, notes), segment=np.asarray(seg_ids, dtype=np.int64),
                 columns=arrays)
