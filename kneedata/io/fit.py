"""FIT reader: one :class:`~kneedata.io.activity.Activity` per session.

Decoding is delegated to an engine. By default ``fitfast`` (a Rust decoder, when
installed) reads the file and hands the record messages over as numpy columns; a
file it refuses (damage, a feature it does not expand) is read by ``fitdecode``,
which salvages what came before any damage. ``fitdecode``, ``fitparse`` and
``garmin_fit_sdk`` can be asked for by name. Everything after decoding - units,
cadence doubling, pauses, session split, timestamp anchoring, damage salvage - is
done here once, the same way for every engine; ``summary['decoder']`` names the
engine that read each activity.

Conversions (FIT profile -> :data:`kneedata.schema.RECORDS`):

- ``position_lat/long`` semicircles -> degrees (x 180 / 2**31);
- ``enhanced_speed``/``enhanced_altitude`` preferred over ``speed``/``altitude``;
- foot sports: ``cadence_spm = 2 x (cadence + fractional_cadence)`` (FIT running
  cadence counts strides); the Stryd developer field ``Cadence`` (also strides) is
  used where the native field is missing; session ``avg_running_cadence`` /
  ``avg_cadence`` + ``avg_fractional_cadence`` doubled the same way;
- cycling: ``cadence_rpm = cadence + fractional_cadence`` (never doubled);
- ``step_length`` mm -> m; stance time [ms], vertical oscillation [mm], vertical
  ratio [%], stance time balance [%] kept.
"""

from __future__ import annotations

import importlib
import io
import math
import re
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from kneedata.errors import FileFormatError, NotAnActivityError
from kneedata.io.activity import (
    Activity,
    build_activity,
    is_cycling_sport,
    is_foot_sport,
)

__all__ = ["ENGINES", "FastEngineRefused", "fitfast_module", "read_fit"]

#: Seconds between the Unix epoch and the FIT epoch (1989-12-31T00:00:00Z).
FIT_EPOCH_S = 631065600
#: FIT date_time values below this are seconds since device power-on, not UTC.
FIT_DATETIME_MIN = 0x10000000
_SEMICIRCLE_DEG = 180.0 / 2**31

#: Record fields read, in row order. Capitalised names are developer fields (Stryd).
_RECORD_FIELDS = (
    "timestamp", "position_lat", "position_long", "distance", "enhanced_speed",
    "speed", "enhanced_altitude", "altitude", "heart_rate", "cadence",
    "fractional_cadence", "step_length", "stance_time", "stance_time_balance",
    "vertical_oscillation", "vertical_ratio", "power", "temperature", "Cadence",
    "Power",
)
_RI = {name: i for i, name in enumerate(_RECORD_FIELDS)}
_N_RF = len(_RECORD_FIELDS)
#: Other messages kept (as dicts of every field).
_KEEP = frozenset({"session", "lap", "event", "activity", "file_id", "device_info", "sport"})
_TIMER_EVENTS = {"start", "stop", "stop_all", "stop_disable", "stop_disable_all"}
#: date_time fields anchored together with the timestamps.
_TIME_FIELDS = ("timestamp", "start_time", "time_created")


@dataclass
class _Decoded:
    """What an engine hands back: raw rows and messages, plus how reading ended.

    Record values come either as ``rows`` (one list per message, in
    :data:`_RECORD_FIELDS` order) or, from a columnar engine, as ``columns`` (an
    ``(n, len(_RECORD_FIELDS))`` float array in the same order).
    """

    rows: list[list[Any]] = field(default_factory=list)
    messages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    columns: np.ndarray | None = None


class FastEngineRefused(Exception):
    """The fast engine cannot read a file exactly; another engine must read it."""


# --------------------------------------------------------------------------------
# engines


def _scalar(value: Any) -> Any:
    if isinstance(value, tuple):
        for v in value:
            if v is not None:
                return v
        return None
    return value


def _decode_fitdecode(data: bytes, source_file: str) -> _Decoded:
    import fitdecode

    out = _Decoded()
    rows = out.rows
    messages = out.messages
    ri = _RI
    n_rf = _N_RF
    keep = _KEEP
    offset = 0  # where the FIT file being read starts in ``data``
    check = fitdecode.CrcCheck.RAISE
    while offset < len(data):
        reader = fitdecode.FitReader(
            io.BytesIO(data[offset:]),
            processor=None,
            check_crc=check,
            error_handling=fitdecode.ErrorHandling.IGNORE,
        )
        file_start = next_start = offset
        restart: int | None = None
        try:
            for frame in reader:
                ftype = frame.frame_type
                if ftype == fitdecode.FIT_FRAME_DATA:
                    name = frame.name
                    if name == "record":
                        row = [None] * n_rf
                        for fd in frame.fields:
                            j = ri.get(fd.name)
                            # a component expanded from an invalid field (None)
                            # never hides the same field written natively
                            if j is not None and (row[j] is None or fd.value is not None):
                                row[j] = fd.value
                        rows.append(row)
                    elif name in keep:
                        values: dict[str, Any] = {}
                        for fd in frame.fields:
                            value = _scalar(fd.value)
                            if value is not None or values.get(fd.name) is None:
                                values[fd.name] = value
                        messages.setdefault(name, []).append(values)
                elif ftype == fitdecode.FIT_FRAME_HEADER:
                    file_start = next_start
                    next_start = file_start + frame.header_size + frame.body_size + 2
        except fitdecode.FitCRCError as err:
            if "header" in str(err):
                out.errors.append(
                    f"FIT header CRC mismatch in the FIT file at byte {file_start}; read "
                    "from there on without CRC checks"
                )
                check = fitdecode.CrcCheck.DISABLED
                restart = file_start
            else:
                out.errors.append(
                    f"file CRC mismatch in the FIT file at byte {file_start} (its data "
                    "were read; the file was altered or damaged)"
                )
                restart = next_start
        except (fitdecode.FitError, ValueError, KeyError, IndexError, AssertionError,
                TypeError, AttributeError, struct.error) as err:
            out.errors.append(_decoding_stopped(err, file_start, len(data)))
        finally:
            reader.close()
        if restart is None:
            break
        offset = restart
    return out


def _file_type(decoded: _Decoded) -> str:
    """``file_id.type`` of the first FIT file ("activity", "monitoring_b", ...), or ""."""
    for fid in decoded.messages.get("file_id", [])[:1]:
        value = fid.get("type")
        return "" if value is None else str(value)
    return ""


def _decoding_stopped(err: Exception, file_start: int, size: int) -> str:
    """Where decoding stopped, as an absolute byte offset in the file when known.

    fitdecode puts ``@ <offset>``, counted from the start of the FIT file being
    read (a chained file may hold several), at the end of its messages or before
    the reason (``FIT parsing error @ 262: local message 1 not defined``).
    """
    text = str(err)
    found = re.search(r"\s*@\s*(\d+)", text)
    where = f"in the FIT file starting at byte {file_start}"
    if found:
        text = text[: found.start()] + text[found.end():]
        where = f"at byte {file_start + int(found.group(1))} of {size}"
    return (f"decoding stopped {where} ({type(err).__name__}: {text}); the file is cut "
            "short or damaged there, the data before it were kept")


def _decode_fitparse(data: bytes, source_file: str) -> _Decoded:
    import fitparse

    out = _Decoded()
    ri = _RI
    try:
        fitfile = fitparse.FitFile(io.BytesIO(data), check_crc=True)
        for message in fitfile.get_messages():
            name = message.name
            if name != "record" and name not in _KEEP:
                continue
            values: dict[str, Any] = {}
            for fd in message.fields:
                tname = getattr(fd.type, "name", None)
                value = fd.raw_value if tname in ("date_time", "local_date_time") else fd.value
                # a component expanded from an invalid field (None) never hides
                # the same field written natively
                if value is not None or values.get(fd.name) is None:
                    values[fd.name] = value
            if name == "record":
                row: list[Any] = [None] * _N_RF
                for key, value in values.items():
                    j = ri.get(key)
                    if j is not None:
                        row[j] = value
                out.rows.append(row)
            else:
                out.messages.setdefault(name, []).append(
                    {k: _scalar(v) for k, v in values.items()}
                )
    except Exception as err:  # fitparse raises many kinds; salvage what was read
        out.errors.append(f"decoding stopped: {type(err).__name__}: {err}")
    return out


def _decode_garmin_fit_sdk(data: bytes, source_file: str) -> _Decoded:
    try:
        from garmin_fit_sdk import Decoder, Stream
    except ImportError as err:
        raise FileFormatError(
            f"{source_file}: engine 'garmin_fit_sdk' is not installed; use engine=None "
            "(fitdecode) or pip install garmin-fit-sdk"
        ) from err
    out = _Decoded()
    decoder = Decoder(Stream.from_byte_array(bytearray(data)))
    messages: Any
    errors: Any
    messages, errors = decoder.read(
        convert_datetimes_to_dates=False,
        convert_types_to_strings=True,
        expand_components=True,
        merge_heart_rates=False,
    )
    out.errors.extend(f"decoding stopped: {e}" for e in errors)
    plural = {
        "session": "session_mesgs", "lap": "lap_mesgs", "event": "event_mesgs",
        "activity": "activity_mesgs", "file_id": "file_id_mesgs",
        "device_info": "device_info_mesgs", "sport": "sport_mesgs",
    }
    for name, key in plural.items():
        for m in messages.get(key, []):
            d = {k: _scalar(v) for k, v in m.items() if isinstance(k, str)}
            if name == "file_id" and "garmin_product" not in d and "product" in d:
                d["garmin_product"] = d["product"]
            out.messages.setdefault(name, []).append(d)
    dev_names = {
        fd.get("key", i): fd.get("field_name")
        for i, fd in enumerate(messages.get("field_description_mesgs", []))
    }
    for m in messages.get("record_mesgs", []):
        row: list[Any] = [None] * _N_RF
        for key, value in m.items():
            j = _RI.get(key) if isinstance(key, str) else None
            if j is not None:
                row[j] = value
        for key, value in (m.get("developer_fields") or {}).items():
            j = _RI.get(dev_names.get(key) or "")
            if j is not None and row[j] is None:
                row[j] = value
        out.rows.append(row)
    return out


#: Field of FIT ``file_id``/``device_info`` whose number names a product per maker.
_PRODUCT_MAKERS = frozenset({"garmin", "dynastream", "dynastream_oem", "tacx"})
#: date_time / local_date_time keys of the kept messages (fitfast gives Unix seconds).
_FAST_TIME_KEYS = (*_TIME_FIELDS, "local_timestamp")


def fitfast_module() -> Any:
    """The ``fitfast`` module, or ``None`` when it is not installed."""
    try:
        return importlib.import_module("fitfast")
    except ImportError:
        return None


def _decode_fitfast(data: bytes, source_file: str) -> _Decoded:
    """Decode with fitfast: record columns straight into one float array.

    Raises :class:`FastEngineRefused` for a file fitfast rejects (checksum, early
    end, an undefined local message) and for one whose records use
    ``compressed_speed_distance``, a component fitfast does not expand.
    """
    fitfast = fitfast_module()
    if fitfast is None:
        raise FileFormatError(
            f"{source_file}: engine 'fitfast' is not installed; use engine=None "
            "(fitdecode then reads the file) or pip install fitfast"
        )
    try:
        columns = fitfast.records(data, degrees=False)
        parsed = fitfast.parse(data)
    except Exception as err:  # FitDecodeError, or any other failure of a young library
        raise FastEngineRefused(f"{type(err).__name__}: {err}") from err
    except BaseException as err:  # a Rust panic surfaces as pyo3's PanicException
        if type(err).__name__ != "PanicException":
            raise
        raise FastEngineRefused(f"PanicException: {err}") from err
    records = parsed.pop("record", [])
    n = len(records)
    if n and "distance" not in columns and "speed" not in columns and any(
        "compressed_speed_distance" in m for m in records
    ):
        raise FastEngineRefused("records use compressed_speed_distance (not expanded)")
    del records
    out = _Decoded(columns=_fast_columns(columns, n))
    for name in _KEEP:
        kept = parsed.get(name)
        if kept:
            out.messages[name] = [_fast_message(m) for m in kept]
    return out


def _fast_columns(columns: dict[str, np.ndarray], n: int) -> np.ndarray:
    """fitfast's record columns in :data:`_RECORD_FIELDS` order (FIT-epoch seconds)."""
    arr = np.full((n, _N_RF), np.nan)
    for name, j in _RI.items():
        column = columns.get(name)
        if column is not None and len(column) == n:
            arr[:, j] = column
    arr[:, _RI["timestamp"]] -= FIT_EPOCH_S
    # fitfast truncates when it expands speed into enhanced_speed (2.006 -> 2.005
    # m/s): where the two are one resolution step (1 mm/s) apart, speed is exact
    speed = arr[:, _RI["speed"]]
    enhanced = arr[:, _RI["enhanced_speed"]]
    expanded = np.abs(enhanced - speed) < 0.0015
    enhanced[expanded] = speed[expanded]
    # the same guard for altitude (scale 5, offset 500: one step is 0.2 m)
    altitude = arr[:, _RI["altitude"]]
    enhanced = arr[:, _RI["enhanced_altitude"]]
    expanded = np.abs(enhanced - altitude) < 0.3
    enhanced[expanded] = altitude[expanded]
    return arr


def _fast_message(message: dict[Any, Any]) -> dict[str, Any]:
    """One fitfast message as the reader expects it: FIT-epoch times, product names."""
    out = {k: v for k, v in message.items() if isinstance(k, str)}
    for key in _FAST_TIME_KEYS:
        value = out.get(key)
        if isinstance(value, int):
            out[key] = value - FIT_EPOCH_S
    product = out.get("product")
    if isinstance(product, int) and out.get("manufacturer") in _PRODUCT_MAKERS:
        from fitdecode.profile import FIELD_TYPES

        out["garmin_product"] = FIELD_TYPES["garmin_product"].enum.get(product, product)
    return out


#: Engine name -> decoder.
ENGINES: dict[str, Callable[[bytes, str], _Decoded]] = {
    "fitdecode": _decode_fitdecode,
    "fitparse": _decode_fitparse,
    "garmin_fit_sdk": _decode_garmin_fit_sdk,
    "fitfast": _decode_fitfast,
}


# --------------------------------------------------------------------------------
# helpers


def _num(value: Any) -> float:
    value = _scalar(value)
    if value is None or isinstance(value, (str, bytes)):
        return math.nan
    try:
        out = float(value)
    except (TypeError, ValueError):
        return math.nan
    return out if math.isfinite(out) else math.nan


def _first_num(msg: dict[str, Any], *names: str, positive: bool = False) -> float:
    for name in names:
        v = _num(msg.get(name))
        if not math.isnan(v) and (not positive or v > 0):
            return v
    return math.nan


def _rows_to_array(rows: list[list[Any]]) -> np.ndarray:
    if not rows:
        return np.empty((0, _N_RF))
    try:
        return np.array(rows, dtype=float)
    except (TypeError, ValueError):
        return np.array([[_num(v) for v in row] for row in rows], dtype=float)


def _text(value: Any) -> str | None:
    value = _scalar(value)
    if value is None:
        return None
    return str(value).strip().lower() or None


def _device(messages: dict[str, list[dict[str, Any]]]) -> str | None:
    parts: list[str] = []
    for m in messages.get("file_id", [])[:1]:
        maker = m.get("manufacturer")
        product = m.get("garmin_product", m.get("product_name", m.get("product")))
        parts = [str(p) for p in (maker, product) if p is not None]
    for m in messages.get("device_info", []):
        if m.get("device_index") in ("creator", 0) and m.get("software_version") is not None:
            parts.append(f"sw {m['software_version']}")
            break
    return " ".join(parts) or None


# --------------------------------------------------------------------------------
# reader


def read_fit(data: bytes, source_file: str, file_hash: str, *, engine: str | None = None) -> list[Activity]:
    """Read FIT bytes into one :class:`Activity` per session.

    Parameters
    ----------
    data
        The (decompressed) FIT file, possibly several chained FIT files.
    source_file
        Name used in messages and ``summary['source_file']``.
    file_hash
        First 16 hex of the SHA-256 of ``data``; activity ids are
        ``f"{file_hash}-{session_index}"``.
    engine
        ``None`` (default): ``fitfast`` when it is installed and reads the file,
        otherwise ``fitdecode``. Or one engine by name: ``"fitfast"``,
        ``"fitdecode"``, ``"fitparse"``, ``"garmin_fit_sdk"``.

    Returns
    -------
    list of Activity
        One per session, in time order. A file without session messages gives one
        activity built from its records (sport from the ``sport`` or ``lap``
        message).

    Raises
    ------
    FileFormatError
        When the header states no data (a file never finalised), the file ends
        after the header, or nothing at all can be decoded.

    Notes
    -----
    Damage (truncation, bad CRC, an undefined local message, a corrupt chained
    header) stops decoding; everything decoded before it is kept and the
    activities get ``complete=False`` and a note in ``Activity.warnings``.

    Device-relative timestamps (< 0x10000000, e.g. Forerunner 70) are anchored
    using the ``activity`` message's ``local_timestamp`` (an absolute local-clock
    time) paired with its relative ``timestamp``; the result is the local wall
    clock, stored as if it were UTC with ``utc_offset_min = 0`` (the true offset is
    unknown, so ``local_date`` is right but ``start_time_utc`` may be off by the
    zone offset). Without that pair, ``file_id.time_created`` (if absolute) is
    taken as the first sample's time. Either way a note says so.
    """
    name = (engine or "auto").lower().replace("-", "_")
    if name != "auto" and name not in ENGINES:
        raise ValueError(
            f"unknown FIT engine {engine!r}; choose one of {sorted(ENGINES)} or None "
            "(fitfast where it reads the file, else fitdecode)"
        )
    header_size = data[0]
    data_size = int.from_bytes(data[4:8], "little") if len(data) >= 8 else 0
    if data_size == 0:
        raise FileFormatError(
            f"{source_file}: the FIT header says the file holds 0 bytes of data (the "
            "device never finalised it); re-export the activity from the watch or app"
        )
    if len(data) <= header_size:
        raise FileFormatError(
            f"{source_file}: the FIT file ends after its {header_size}-byte header (no "
            "data); the copy is incomplete - export the activity again"
        )
    decoded, used = _decode(data, source_file, name)
    notes = list(decoded.errors)
    complete = not decoded.errors
    n_records = len(decoded.columns) if decoded.columns is not None else len(decoded.rows)
    if not n_records and not decoded.messages.get("session"):
        kind = _file_type(decoded)
        if kind not in ("", "activity") and not decoded.errors:
            raise NotAnActivityError(
                f"{source_file}: a FIT '{kind}' file (file_id.type), not an activity: it holds "
                "no run to import; skipped (watches keep settings, health monitoring and "
                "courses in FIT files too)"
            )
        reason = "; ".join(decoded.errors) or "no records and no session messages"
        raise FileFormatError(
            f"{source_file}: no activity data could be decoded from the FIT file "
            f"({reason}); check that it is an activity file and not damaged"
        )
    activities = _assemble(decoded, source_file, file_hash, notes, complete)
    for act in activities:
        act.summary["decoder"] = used
    return activities


def _decode(data: bytes, source_file: str, name: str) -> tuple[_Decoded, str]:
    """Decode with engine ``name``; ``"auto"`` tries fitfast, then fitdecode.

    Returns the decoded file and the name of the engine that read it.
    """
    if name == "auto":
        if fitfast_module() is not None:
            try:
                return _decode_fitfast(data, source_file), "fitfast"
            except FastEngineRefused:
                pass  # fitdecode reads it, salvaging what precedes any damage
        name = "fitdecode"
    try:
        return ENGINES[name](data, source_file), name
    except FastEngineRefused as err:
        raise FileFormatError(
            f"{source_file}: fitfast cannot read this file ({err}); use engine=None "
            "so that fitdecode reads it and salvages what precedes any damage"
        ) from err


def _assemble(decoded: _Decoded, source_file: str, file_hash: str,
              notes: list[str], complete: bool) -> list[Activity]:
    messages = decoded.messages
    arr = decoded.columns if decoded.columns is not None else _rows_to_array(decoded.rows)
    ts = arr[:, _RI["timestamp"]]
    keep = ~np.isnan(ts)
    if not keep.all():
        notes.append(f"{int((~keep).sum())} records without a timestamp dropped")
        arr = arr[keep]
        ts = arr[:, _RI["timestamp"]]

    # device-relative timestamps
    shift, utc_offset_anchor = _anchor(ts, messages, notes)
    if shift:
        rel = ts < FIT_DATETIME_MIN
        ts = np.where(rel, ts + shift, ts)
        for msgs in messages.values():
            for m in msgs:
                for key in _TIME_FIELDS:
                    v = m.get(key)
                    if isinstance(v, (int, float)) and 0 <= v < FIT_DATETIME_MIN:
                        m[key] = v + shift

    sessions = sorted(
        (s for s in messages.get("session", []) if _num(s.get("start_time")) > 0),
        key=lambda s: _num(s.get("start_time")),
    )
    # Implausible sample times (e.g. a corrupt record dated decades later) are dropped,
    # and so are session messages dated far from every record (a damaged message).
    if len(ts):
        sessions = _drop_outlier_sessions(sessions, ts, notes)
        ts, arr = _drop_outlier_times(ts, arr, sessions, notes)

    order = np.argsort(ts, kind="stable")
    if not np.all(order == np.arange(len(ts))):
        ts = ts[order]
        arr = arr[order]

    utc_offset = utc_offset_anchor if utc_offset_anchor is not None else _utc_offset(messages)
    pauses = _pauses(messages.get("event", []))
    device = _device(messages)
    laps_all = messages.get("lap", [])

    if not sessions:
        sport, sub_sport = _sport_without_session(messages)
        notes.append("no session message: totals computed from the records")
        sessions_iter: list[dict[str, Any] | None] = [None]
        bounds = [(-math.inf, math.inf)]
        sports = [(sport, sub_sport)]
    else:
        sessions_iter = list(sessions)
        starts = [_num(s.get("start_time")) for s in sessions]
        bounds = []
        for i, start in enumerate(starts):
            lo = -math.inf if i == 0 else start
            hi = starts[i + 1] if i + 1 < len(starts) else math.inf
            bounds.append((lo, hi))
        sports = [(_text(s.get("sport")) or "generic", _text(s.get("sub_sport")) or "generic") for s in sessions]

    activities = []
    for index, (session, (lo, hi), (sport, sub_sport)) in enumerate(zip(sessions_iter, bounds, sports, strict=True)):
        sel = (ts >= lo) & (ts < hi)
        # cadence units follow the sport (a generic session with a treadmill
        # sub-sport is a run; one with an indoor_cycling sub-sport is a ride)
        foot = is_foot_sport(sport, sub_sport)
        cycling = is_cycling_sport(sport, sub_sport)
        unit_sport = "running" if foot else "cycling" if cycling else sport
        records = _records_frame(ts[sel], arr[sel], unit_sport)
        if foot and not np.isnan(records["cadence_spm"].to_numpy()).all():
            cadence_source = "fit_strides_doubled"
        elif cycling and not np.isnan(records["cadence_rpm"].to_numpy()).all():
            cadence_source = "cycling_rpm"
        else:
            cadence_source = "none"
        totals = _session_totals(session, unit_sport) if session is not None else {}
        laps = _laps_frame(
            [lap for lap in laps_all if lo <= _num(lap.get("start_time", lap.get("timestamp"))) < hi],
            unit_sport,
        )
        activities.append(
            build_activity(
                records,
                source_file=source_file,
                source_format="fit",
                sport=sport,
                sub_sport=sub_sport,
                activity_id=f"{file_hash}-{index}",
                cadence_unit_source=cadence_source,
                laps=laps,
                pauses=pauses,
                watch_totals=totals,
                utc_offset_min=utc_offset,
                device=device,
                complete=complete,
                warnings=list(notes),
            )
        )
    return activities


def _to_utc(fit_s: float) -> pd.Timestamp:
    return pd.Timestamp(round((fit_s + FIT_EPOCH_S) * 1000.0), unit="ms", tz="UTC").as_unit("ns")


def _anchor(ts: np.ndarray, messages: dict[str, list[dict[str, Any]]],
            notes: list[str]) -> tuple[float, float | None]:
    """Shift [s] that turns device-relative times into absolute ones (0 if none).

    Records decide when there are any: absolute record times with a session whose
    start is relative (a damaged message) need no shift; the session is then dropped
    as dated far from the records. Without records a relative session start decides.
    """
    if len(ts):
        relative = bool((ts < FIT_DATETIME_MIN).any())
    else:
        relative = any(0 <= _num(s.get("start_time")) < FIT_DATETIME_MIN
                       for s in messages.get("session", []))
    if not relative:
        return 0.0, None
    for act in messages.get("activity", []):
        t = _num(act.get("timestamp"))
        local = _num(act.get("local_timestamp"))
        if 0 <= t < FIT_DATETIME_MIN and local >= FIT_DATETIME_MIN:
            notes.append(
                "device-relative timestamps (< 0x10000000) anchored to the activity "
                "message's local_timestamp: times are the watch's local clock, the UTC "
                "offset is unknown"
            )
            return local - t, 0.0
    for fid in messages.get("file_id", []):
        created = _num(fid.get("time_created"))
        if created >= FIT_DATETIME_MIN and len(ts):
            first_rel = float(ts[ts < FIT_DATETIME_MIN].min())
            notes.append(
                "device-relative timestamps (< 0x10000000) anchored to "
                "file_id.time_created, taken as the first sample's time"
            )
            return created - first_rel, None
    notes.append(
        "device-relative timestamps (< 0x10000000) and no absolute time in the file: "
        "dates are seconds since device power-on counted from 1989-12-31, not real dates"
    )
    return 0.0, None


def _drop_outlier_sessions(sessions: list[dict[str, Any]], ts: np.ndarray,
                           notes: list[str]) -> list[dict[str, Any]]:
    """Session messages that start more than 2 days from the median record time.

    Such a session is a damaged or spliced message (a fuzzed file gave one dated
    2125 with 26 days of elapsed time): it would be stored as a phantom activity and
    would widen the window that keeps records.
    """
    med = float(np.median(ts))
    kept = [s for s in sessions if abs(_num(s.get("start_time")) - med) <= 2 * 86400.0]
    if len(kept) < len(sessions):
        notes.append(f"{len(sessions) - len(kept)} session message(s) dated more than 2 days from "
                     "the records (corrupt) ignored")
    return kept


def _drop_outlier_times(ts: np.ndarray, arr: np.ndarray, sessions: list[dict[str, Any]],
                        notes: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Drop samples dated far outside the activity (a corrupt timestamp)."""
    med = float(np.median(ts))
    lo, hi = med - 2 * 86400.0, med + 2 * 86400.0
    if sessions:
        starts = [_num(s.get("start_time")) for s in sessions]
        ends = [_num(s.get("start_time")) + _first_num(s, "total_elapsed_time", "total_timer_time") for s in sessions]
        ends = [e for e in ends if not math.isnan(e)]
        lo = min(lo, min(starts) - 3600.0)
        hi = max(hi, max(ends, default=hi) + 3600.0)
    bad = (ts < lo) | (ts > hi)
    if bad.any():
        notes.append(
            f"{int(bad.sum())} records dated outside the activity (corrupt timestamps) dropped"
        )
        ts = ts[~bad]
        arr = arr[~bad]
    return ts, arr


def _utc_offset(messages: dict[str, list[dict[str, Any]]]) -> float | None:
    for act in messages.get("activity", []):
        t = _num(act.get("timestamp"))
        local = _num(act.get("local_timestamp"))
        if t >= FIT_DATETIME_MIN and local >= FIT_DATETIME_MIN:
            minutes = (local - t) / 60.0
            quarter = round(minutes / 15.0) * 15.0
            if -720 <= quarter <= 840:
                return quarter
    return None


def _pauses(events: list[dict[str, Any]]) -> list[tuple[pd.Timestamp, pd.Timestamp | None]]:
    timer = [
        (_num(e.get("timestamp")), e.get("event_type"))
        for e in events
        if e.get("event") == "timer" and e.get("event_type") in _TIMER_EVENTS
        and not math.isnan(_num(e.get("timestamp")))
    ]
    timer.sort(key=lambda x: x[0])
    out: list[tuple[pd.Timestamp, pd.Timestamp | None]] = []
    stopped_at: float | None = None
    for t, kind in timer:
        if kind == "start":
            if stopped_at is not None and t > stopped_at:
                out.append((_to_utc(stopped_at), _to_utc(t)))
            stopped_at = None
        elif stopped_at is None:
            stopped_at = t
    if stopped_at is not None:
        out.append((_to_utc(stopped_at), None))
    return out


def _sport_without_session(messages: dict[str, list[dict[str, Any]]]) -> tuple[str, str]:
    for key in ("sport", "lap"):
        for m in messages.get(key, []):
            sport = _text(m.get("sport"))
            if sport:
                return sport, _text(m.get("sub_sport")) or "generic"
    return "generic", "generic"


def _records_frame(ts: np.ndarray, arr: np.ndarray, sport: str) -> pd.DataFrame:
    n = len(ts)
    c = {name: arr[:, i] for name, i in _RI.items()}

    def pick(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.where(np.isnan(a), b, a)

    cadence = c["cadence"] + np.nan_to_num(c["fractional_cadence"])
    if np.isnan(cadence).all():
        cadence = c["Cadence"]
    else:
        cadence = pick(cadence, c["Cadence"])
    nan = np.full(n, np.nan)
    foot = is_foot_sport(sport)
    cycling = is_cycling_sport(sport)
    ns = np.round((ts + FIT_EPOCH_S) * 1000.0).astype("int64") * 1_000_000  # exact for whole ms
    # int64 ns viewed as datetime64: 25x faster than pd.to_datetime on the integers
    index = pd.DatetimeIndex(ns.view("datetime64[ns]"), name="timestamp").tz_localize("UTC")
    frame = pd.DataFrame(
        {
            "distance_m": c["distance"],
            "speed_m_s": pick(c["enhanced_speed"], c["speed"]),
            "cadence_spm": 2.0 * cadence if foot else nan,
            "cadence_rpm": cadence if cycling else nan,
            "heart_rate_bpm": c["heart_rate"],
            "altitude_m": pick(c["enhanced_altitude"], c["altitude"]),
            "latitude_deg": c["position_lat"] * _SEMICIRCLE_DEG,
            "longitude_deg": c["position_long"] * _SEMICIRCLE_DEG,
            "step_length_m": c["step_length"] / 1000.0,
            "stance_time_ms": c["stance_time"],
            "stance_time_balance_pct": c["stance_time_balance"],
            "vertical_oscillation_mm": c["vertical_oscillation"],
            "vertical_ratio_pct": c["vertical_ratio"],
            "power_w": pick(c["power"], c["Power"]),
            "temperature_c": c["temperature"],
        },
        index=index,
    )
    return frame


def _cadence_total(msg: dict[str, Any], sport: str) -> tuple[float, float]:
    """(avg_cadence_spm, avg_cadence_rpm) stated by a session or lap message."""
    whole = _first_num(msg, "avg_running_cadence", "avg_cadence")
    if math.isnan(whole):
        return math.nan, math.nan
    value = whole + np.nan_to_num(_num(msg.get("avg_fractional_cadence")))
    if is_foot_sport(sport):
        return 2.0 * value, math.nan
    if is_cycling_sport(sport):
        return math.nan, value
    return math.nan, math.nan


def _positive(value: float) -> float:
    return value if value > 0 else math.nan


def _session_totals(s: dict[str, Any], sport: str) -> dict[str, Any]:
    spm, rpm = _cadence_total(s, sport)
    # a stated average cadence of 0 means "no cadence sensor", not a standstill
    spm, rpm = _positive(spm), _positive(rpm)
    distance = _num(s.get("total_distance"))
    speed = _first_num(s, "enhanced_avg_speed", "avg_speed", positive=True)
    out: dict[str, Any] = {
        "start_time_utc": _to_utc(_num(s["start_time"])),
        "distance_m": distance,
        "timer_time_s": _num(s.get("total_timer_time")),
        "elapsed_time_s": _num(s.get("total_elapsed_time")),
        "avg_speed_m_s": speed,
        "avg_heart_rate_bpm": _positive(_num(s.get("avg_heart_rate"))),
        "avg_cadence_spm": spm,
        "avg_cadence_rpm": rpm,
        "ascent_m": _num(s.get("total_ascent")),
        "descent_m": _num(s.get("total_descent")),
        "avg_step_length_m": _positive(_num(s.get("avg_step_length"))) / 1000.0,
        "avg_stance_time_ms": _positive(_num(s.get("avg_stance_time"))),
        "avg_vertical_oscillation_mm": _positive(_num(s.get("avg_vertical_oscillation"))),
        "avg_vertical_ratio_pct": _positive(_num(s.get("avg_vertical_ratio"))),
        "avg_stance_time_balance_pct": _positive(_num(s.get("avg_stance_time_balance"))),
    }
    return out


def _laps_frame(laps: list[dict[str, Any]], sport: str) -> pd.DataFrame:
    rows = []
    for lap in sorted(laps, key=lambda m: _num(m.get("start_time", m.get("timestamp")))):
        spm, rpm = _cadence_total(lap, sport)
        start = _num(lap.get("start_time"))
        rows.append(
            {
                "start_time_utc": _to_utc(start) if not math.isnan(start) else pd.NaT,
                "distance_m": _num(lap.get("total_distance")),
                "timer_time_s": _num(lap.get("total_timer_time")),
                "elapsed_time_s": _num(lap.get("total_elapsed_time")),
                "avg_speed_m_s": _first_num(lap, "enhanced_avg_speed", "avg_speed", positive=True),
                "avg_heart_rate_bpm": _positive(_num(lap.get("avg_heart_rate"))),
                "avg_cadence_spm": spm,
                "avg_cadence_rpm": rpm,
                "ascent_m": _num(lap.get("total_ascent")),
                "descent_m": _num(lap.get("total_descent")),
                "trigger": _text(lap.get("lap_trigger")),
            }
        )
    return pd.DataFrame(rows)
