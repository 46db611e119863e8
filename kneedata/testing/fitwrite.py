"""A small, correct FIT encoder: hand-built activity files for tests and sample data.

Writes FIT protocol 2.0 files (14-byte header with header CRC, definition and data
messages, little-endian, file CRC-16) for the messages a running watch writes:
``file_id``, ``device_info``, ``event``, ``record``, ``lap``, ``session`` and
``activity``, and those of its wellness files (``monitoring_info``,
``monitoring_hr_data``, ``stress_level``, ``sleep_level``, ``sleep_assessment``,
``hrv_status_summary``; their enums as integers). Field numbers, base types, scales and offsets follow the FIT profile
(the same numbers as fitparse's ``profile.py``, SDK 20.8, and fitdecode's profile).

Values are given in *profile units* (the units a FIT decoder returns after applying
scale and offset): metres, m/s, seconds, semicircles for positions, strides/min
("rpm") for running cadence. ``None`` or NaN writes the base type's invalid value.
Times are tz-aware datetimes (converted to seconds since the FIT epoch
1989-12-31T00:00:00Z) or plain ints (raw FIT seconds, e.g. device-relative times
below 0x10000000 as written by old devices).

Examples
--------
>>> import datetime as dt
>>> t0 = dt.datetime(2024, 5, 1, 6, 0, tzinfo=dt.timezone.utc)
>>> w = FitWriter()
>>> _ = w.file_id(type="activity", manufacturer="garmin", product=2691,
...               serial_number=1234, time_created=t0)
>>> _ = w.record(timestamp=t0, distance=0.0, heart_rate=120, cadence=80)
>>> data = w.to_bytes()
>>> data[8:12]
b'.FIT'
>>> fit_crc(data) == 0  # a FIT file's CRC over everything, CRC included, is 0
True
"""

from __future__ import annotations

import datetime as dt
import math
import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kneedata.errors import SchemaError
from kneedata.io.activity import is_foot_sport
from kneedata.io.fit import FIT_EPOCH_S

__all__ = [
    "FIT_EPOCH",
    "FitWriter",
    "deg_to_semicircles",
    "fit_crc",
    "fit_time",
    "write_activity_fit",
]

#: 1989-12-31T00:00:00Z, the zero of FIT ``date_time`` values.
FIT_EPOCH = dt.datetime(1989, 12, 31, tzinfo=dt.timezone.utc)
_FIT_EPOCH_UNIX = FIT_EPOCH_S  # 1989-12-31T00:00:00Z, the FIT epoch (shared with the reader)

# --- CRC-16 as in the FIT protocol (equivalent to CRC-16/ARC, poly 0xA001) ---------
_CRC_NIBBLE = (
    0x0000, 0xCC01, 0xD801, 0x1400, 0xF001, 0x3C00, 0x2800, 0xE401,
    0xA001, 0x6C00, 0x7800, 0xB401, 0x5000, 0x9C01, 0x8801, 0x4400,
)  # fmt: skip


def _byte_table() -> tuple[int, ...]:
    """256-entry table equivalent to two steps of the FIT SDK's nibble algorithm."""
    table = []
    for byte in range(256):
        crc = 0
        for nibble in (byte & 0xF, byte >> 4):
            tmp = _CRC_NIBBLE[crc & 0xF]
            crc = ((crc >> 4) & 0x0FFF) ^ tmp ^ _CRC_NIBBLE[nibble]
        table.append(crc)
    return tuple(table)


_CRC_BYTE = _byte_table()


def fit_crc(data: bytes, crc: int = 0) -> int:
    """CRC-16 of ``data`` as defined by the FIT protocol.

    Parameters
    ----------
    data
        Bytes to checksum.
    crc
        Running CRC to continue from (0 to start).

    Returns
    -------
    int
        The 16-bit CRC. Over a whole FIT file including its trailing CRC it is 0.

    Notes
    -----
    The FIT SDK processes each byte as two nibbles through a 16-entry table; this
    is the same polynomial (0xA001, reflected 0x8005, initial value 0) processed a
    byte at a time through a 256-entry table built from that nibble table.

    References
    ----------
    Garmin, FIT Protocol, section "CRC" (FIT SDK ``fit_crc.c``).
    """
    table = _CRC_BYTE
    for byte in data:
        crc = (crc >> 8) ^ table[(crc ^ byte) & 0xFF]
    return crc


def fit_time(value: Any) -> int:
    """Seconds since the FIT epoch for a tz-aware datetime or Timestamp (ints pass through)."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value)
    ts = pd.Timestamp(value)
    if ts.tzinfo is None:
        raise SchemaError(
            f"FIT time {value!r} has no timezone: give a tz-aware UTC time "
            "(e.g. pd.Timestamp(..., tz='UTC')) or raw FIT seconds as an int"
        )
    return int(math.floor(ts.timestamp())) - _FIT_EPOCH_UNIX


def deg_to_semicircles(deg: Any) -> Any:
    """Degrees to FIT semicircles: ``deg * 2**31 / 180`` (scalars or arrays)."""
    return np.asarray(deg, dtype=float) * (2**31 / 180.0) if np.ndim(deg) else (
        float(deg) * (2**31 / 180.0)
    )


# --- base types: number, struct code, size, invalid value ---------------------------
@dataclass(frozen=True)
class _Base:
    number: int
    code: str  # struct code; "s" for strings
    size: int
    invalid: int
    low: float
    high: float


_BASES: dict[str, _Base] = {
    "enum": _Base(0x00, "B", 1, 0xFF, 0, 0xFE),
    "sint8": _Base(0x01, "b", 1, 0x7F, -0x80, 0x7E),
    "uint8": _Base(0x02, "B", 1, 0xFF, 0, 0xFE),
    "sint16": _Base(0x83, "h", 2, 0x7FFF, -0x8000, 0x7FFE),
    "uint16": _Base(0x84, "H", 2, 0xFFFF, 0, 0xFFFE),
    "sint32": _Base(0x85, "i", 4, 0x7FFFFFFF, -0x80000000, 0x7FFFFFFE),
    "uint32": _Base(0x86, "I", 4, 0xFFFFFFFF, 0, 0xFFFFFFFE),
    "string": _Base(0x07, "s", 1, 0x00, 0, 0),
    "float32": _Base(0x88, "f", 4, 0xFFFFFFFF, -3.4e38, 3.4e38),
    "byte": _Base(0x0D, "s", 1, 0xFF, 0, 0),
    "uint8z": _Base(0x0A, "B", 1, 0x00, 1, 0xFF),
    "uint16z": _Base(0x8B, "H", 2, 0x0000, 1, 0xFFFF),
    "uint32z": _Base(0x8C, "I", 4, 0x00000000, 1, 0xFFFFFFFF),
}

# --- enums (FIT profile "types" sheet), names as fitparse/fitdecode print them ------
_ENUMS: dict[str, dict[str, int]] = {
    "file": {"device": 1, "settings": 2, "sport": 3, "activity": 4, "workout": 5,
             "course": 6},
    "manufacturer": {"garmin": 1, "dynastream": 15, "suunto": 23, "wahoo_fitness": 32,
                     "polar": 123, "stryd": 95, "development": 255, "strava": 265,
                     "coros": 294},
    "sport": {"generic": 0, "running": 1, "cycling": 2, "transition": 3,
              "fitness_equipment": 4, "swimming": 5, "training": 10, "walking": 11,
              "hiking": 17},
    "sub_sport": {"generic": 0, "treadmill": 1, "street": 2, "trail": 3, "track": 4,
                  "spin": 5, "indoor_cycling": 6, "road": 7, "mountain": 8,
                  "indoor_running": 45, "virtual_activity": 58},
    "event": {"timer": 0, "workout": 3, "session": 8, "lap": 9, "activity": 26},
    "event_type": {"start": 0, "stop": 1, "marker": 3, "stop_all": 4},
    "lap_trigger": {"manual": 0, "time": 1, "distance": 2, "position_start": 3,
                    "session_end": 7},
    "session_trigger": {"activity_end": 0, "manual": 1, "auto_multi_sport": 2},
    "activity": {"manual": 0, "auto_multi_sport": 1},
    "timer_trigger": {"manual": 0, "auto": 1, "fitness_equipment": 2},
}  # fmt: skip


@dataclass(frozen=True)
class _Field:
    number: int
    base: str
    scale: float = 1.0
    offset: float = 0.0
    enum: str | None = None
    time: bool = False


def _f(number: int, base: str, scale: float = 1.0, offset: float = 0.0) -> _Field:
    return _Field(number, base, scale, offset)


def _e(number: int, enum: str) -> _Field:
    base = "uint16" if enum == "manufacturer" else "enum"
    return _Field(number, base, enum=enum)


def _t(number: int) -> _Field:
    return _Field(number, "uint32", time=True)


# Global message numbers and fields (FIT profile, "Messages" sheet).
_MESSAGES: dict[str, tuple[int, dict[str, _Field]]] = {
    "file_id": (0, {
        "type": _e(0, "file"), "manufacturer": _e(1, "manufacturer"),
        "product": _f(2, "uint16"), "serial_number": _f(3, "uint32z"),
        "time_created": _t(4), "number": _f(5, "uint16"),
        "product_name": _f(8, "string"),
    }),
    "device_info": (23, {
        "timestamp": _t(253), "device_index": _f(0, "uint8"),
        "device_type": _f(1, "uint8"), "manufacturer": _e(2, "manufacturer"),
        "serial_number": _f(3, "uint32z"), "product": _f(4, "uint16"),
        "software_version": _f(5, "uint16", 100), "hardware_version": _f(6, "uint8"),
        "product_name": _f(27, "string"),
    }),
    "event": (21, {
        "timestamp": _t(253), "event": _e(0, "event"),
        "event_type": _e(1, "event_type"), "data16": _f(2, "uint16"),
        "data": _f(3, "uint32"), "event_group": _f(4, "uint8"),
    }),
    "record": (20, {
        "timestamp": _t(253), "position_lat": _f(0, "sint32"),
        "position_long": _f(1, "sint32"), "altitude": _f(2, "uint16", 5, 500),
        "heart_rate": _f(3, "uint8"), "cadence": _f(4, "uint8"),
        "distance": _f(5, "uint32", 100), "speed": _f(6, "uint16", 1000),
        "power": _f(7, "uint16"), "grade": _f(9, "sint16", 100),
        "temperature": _f(13, "sint8"),
        "vertical_oscillation": _f(39, "uint16", 10),
        "stance_time_percent": _f(40, "uint16", 100),
        "stance_time": _f(41, "uint16", 10),
        "fractional_cadence": _f(53, "uint8", 128),
        "enhanced_speed": _f(73, "uint32", 1000),
        "enhanced_altitude": _f(78, "uint32", 5, 500),
        "vertical_ratio": _f(83, "uint16", 100),
        "stance_time_balance": _f(84, "uint16", 100),
        "step_length": _f(85, "uint16", 10),
    }),
    "lap": (19, {
        "timestamp": _t(253), "message_index": _f(254, "uint16"),
        "event": _e(0, "event"), "event_type": _e(1, "event_type"),
        "start_time": _t(2), "start_position_lat": _f(3, "sint32"),
        "start_position_long": _f(4, "sint32"), "end_position_lat": _f(5, "sint32"),
        "end_position_long": _f(6, "sint32"),
        "total_elapsed_time": _f(7, "uint32", 1000),
        "total_timer_time": _f(8, "uint32", 1000),
        "total_distance": _f(9, "uint32", 100), "total_cycles": _f(10, "uint32"),
        "total_calories": _f(11, "uint16"), "avg_speed": _f(13, "uint16", 1000),
        "max_speed": _f(14, "uint16", 1000), "avg_heart_rate": _f(15, "uint8"),
        "max_heart_rate": _f(16, "uint8"), "avg_cadence": _f(17, "uint8"),
        "max_cadence": _f(18, "uint8"), "avg_power": _f(19, "uint16"),
        "total_ascent": _f(21, "uint16"), "total_descent": _f(22, "uint16"),
        "lap_trigger": _e(24, "lap_trigger"), "sport": _e(25, "sport"),
        "sub_sport": _e(39, "sub_sport"),
        "avg_vertical_oscillation": _f(77, "uint16", 10),
        "avg_stance_time_percent": _f(78, "uint16", 100),
        "avg_stance_time": _f(79, "uint16", 10),
        "avg_fractional_cadence": _f(80, "uint8", 128),
        "max_fractional_cadence": _f(81, "uint8", 128),
        "enhanced_avg_speed": _f(110, "uint32", 1000),
        "enhanced_max_speed": _f(111, "uint32", 1000),
        "avg_vertical_ratio": _f(118, "uint16", 100),
        "avg_stance_time_balance": _f(119, "uint16", 100),
        "avg_step_length": _f(120, "uint16", 10),
    }),
    "session": (18, {
        "timestamp": _t(253), "message_index": _f(254, "uint16"),
        "event": _e(0, "event"), "event_type": _e(1, "event_type"),
        "start_time": _t(2), "start_position_lat": _f(3, "sint32"),
        "start_position_long": _f(4, "sint32"), "sport": _e(5, "sport"),
        "sub_sport": _e(6, "sub_sport"),
        "total_elapsed_time": _f(7, "uint32", 1000),
        "total_timer_time": _f(8, "uint32", 1000),
        "total_distance": _f(9, "uint32", 100), "total_cycles": _f(10, "uint32"),
        "total_calories": _f(11, "uint16"), "avg_speed": _f(14, "uint16", 1000),
        "max_speed": _f(15, "uint16", 1000), "avg_heart_rate": _f(16, "uint8"),
        "max_heart_rate": _f(17, "uint8"), "avg_cadence": _f(18, "uint8"),
        "max_cadence": _f(19, "uint8"), "avg_power": _f(20, "uint16"),
        "total_ascent": _f(22, "uint16"), "total_descent": _f(23, "uint16"),
        "first_lap_index": _f(25, "uint16"), "num_laps": _f(26, "uint16"),
        "trigger": _e(28, "session_trigger"),
        "total_moving_time": _f(59, "uint32", 1000),
        "avg_vertical_oscillation": _f(89, "uint16", 10),
        "avg_stance_time_percent": _f(90, "uint16", 100),
        "avg_stance_time": _f(91, "uint16", 10),
        "avg_fractional_cadence": _f(92, "uint8", 128),
        "max_fractional_cadence": _f(93, "uint8", 128),
        "enhanced_avg_speed": _f(124, "uint32", 1000),
        "enhanced_max_speed": _f(125, "uint32", 1000),
        "avg_vertical_ratio": _f(132, "uint16", 100),
        "avg_stance_time_balance": _f(133, "uint16", 100),
        "avg_step_length": _f(134, "uint16", 10),
    }),
    "developer_data_id": (207, {
        "developer_id": _f(0, "byte"), "application_id": _f(1, "byte"),
        "manufacturer_id": _e(2, "manufacturer"),
        "developer_data_index": _f(3, "uint8"),
        "application_version": _f(4, "uint32"),
    }),
    "field_description": (206, {
        "developer_data_index": _f(0, "uint8"),
        "field_definition_number": _f(1, "uint8"),
        "fit_base_type_id": _f(2, "uint8"), "field_name": _f(3, "string"),
        "scale": _f(6, "uint8"), "offset": _f(7, "sint8"), "units": _f(8, "string"),
        "native_mesg_num": _f(14, "uint16"), "native_field_num": _f(15, "uint8"),
    }),
    "activity": (34, {
        "timestamp": _t(253), "total_timer_time": _f(0, "uint32", 1000),
        "num_sessions": _f(1, "uint16"), "type": _e(2, "activity"),
        "event": _e(3, "event"), "event_type": _e(4, "event_type"),
        "local_timestamp": _t(5), "event_group": _f(6, "uint8"),
    }),
    # wellness files (monitoring, sleep, HRV status); enums written as their integers
    "monitoring_info": (103, {"timestamp": _t(253), "local_timestamp": _t(0)}),
    "monitoring_hr_data": (211, {
        "timestamp": _t(253), "resting_heart_rate": _f(0, "uint8"),
        "current_day_resting_heart_rate": _f(1, "uint8"),
    }),
    "stress_level": (227, {"stress_level_value": _f(0, "sint16"), "stress_level_time": _t(1)}),
    "sleep_level": (275, {"timestamp": _t(253), "sleep_level": _f(0, "uint8")}),
    "sleep_assessment": (346, {"overall_sleep_score": _f(6, "uint8")}),
    "hrv_status_summary": (370, {
        "timestamp": _t(253), "weekly_average": _f(0, "uint16", 128),
        "last_night_average": _f(1, "uint16", 128), "status": _f(6, "uint8"),
    }),
}  # fmt: skip

# Sub-field names (profile "subfields") written as their parent field.
_ALIASES: dict[str, dict[str, str]] = {
    "lap": {"avg_running_cadence": "avg_cadence", "max_running_cadence": "max_cadence",
            "total_strides": "total_cycles"},
    "session": {"avg_running_cadence": "avg_cadence",
                "max_running_cadence": "max_cadence", "total_strides": "total_cycles"},
    "event": {"timer_trigger": "data"},
}

_MAX_LOCAL_TYPES = 16


def _field_spec(message: str, name: str) -> tuple[str, _Field]:
    if message not in _MESSAGES:
        raise SchemaError(
            f"FIT message {message!r} is not supported by FitWriter; use one of "
            f"{sorted(_MESSAGES)}"
        )
    alias = name
    name = _ALIASES.get(message, {}).get(name, name)
    fields = _MESSAGES[message][1]
    if alias in _ENUMS and name != alias and name in fields:  # e.g. event.timer_trigger
        return name, replace(fields[name], enum=alias)
    if name not in fields:
        raise SchemaError(
            f"FIT message {message!r} has no field {name!r} in FitWriter's profile; "
            f"known fields: {sorted(fields)}"
        )
    return name, fields[name]


def _raw_scalar(message: str, name: str, spec: _Field, value: Any) -> int | bytes:
    base = _BASES[spec.base]
    if spec.base == "string":
        return (str(value) if value is not None else "").encode("utf-8") + b"\x00"
    if spec.base == "byte":
        if not isinstance(value, (bytes, bytearray)):
            raise SchemaError(
                f"FIT {message}.{name}: byte-array field needs bytes, got {value!r}"
            )
        return bytes(value)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return base.invalid.to_bytes(base.size, "little") if spec.base == "float32" else (
            base.invalid)
    if spec.base == "float32":
        return struct.pack("<f", (float(value) + spec.offset) * spec.scale)
    if spec.enum is not None and isinstance(value, str):
        try:
            return _ENUMS[spec.enum][value]
        except KeyError:
            raise SchemaError(
                f"FIT {message}.{name}: {value!r} is not a known {spec.enum} value; "
                f"use one of {sorted(_ENUMS[spec.enum])} or the profile's integer"
            ) from None
    if spec.time:
        raw = fit_time(value)
    else:
        raw = int(round((float(value) + spec.offset) * spec.scale))
    if not base.low <= raw <= base.high:
        raise SchemaError(
            f"FIT {message}.{name}: {value!r} encodes to {raw}, outside {spec.base} "
            f"range {base.low:.0f}..{base.high:.0f} (scale {spec.scale}, offset "
            f"{spec.offset}); pass a value in the profile's units"
        )
    return raw


class FitWriter:
    """Build a FIT file message by message, then get its bytes.

    Each call appends one data message (and, when its field set is new, a
    definition message first). Local message types 0-15 are reused in
    least-recently-defined order when more than 16 layouts are in use.

    Parameters
    ----------
    profile_version
        Profile version written in the header (e.g. 2132 for 21.32).

    Examples
    --------
    >>> w = FitWriter()
    >>> _ = w.event(timestamp=1_000_000_000, event="timer", event_type="start")
    >>> len(w.to_bytes())  # 14 header + 6+3*3 definition + 1+4+1+1 data + 2 CRC
    38
    """

    def __init__(self, *, profile_version: int = 2132) -> None:
        self.profile_version = profile_version
        self._chunks: list[bytes] = []
        # layout signature -> local type; local type -> signature (definition order)
        self._local_of: dict[tuple, int] = {}
        self._order: list[tuple] = []
        # developer field name -> (developer_data_index, field number, spec)
        self._dev_fields: dict[str, tuple[int, int, _Field]] = {}

    # --- low level ------------------------------------------------------------
    def _local_type(self, signature: tuple) -> tuple[int, bool]:
        if signature in self._local_of:
            return self._local_of[signature], False
        if len(self._order) < _MAX_LOCAL_TYPES:
            local = len(self._order)
        else:
            oldest = self._order.pop(0)
            local = self._local_of.pop(oldest)
        self._order.append(signature)
        self._local_of[signature] = local
        return local, True

    def _define(self, local: int, global_num: int, layout: Sequence[tuple[int, int, int]],
                dev_layout: Sequence[tuple[int, int, int]] = ()) -> None:
        body = struct.pack("<BBHB", 0, 0, global_num, len(layout))
        body += b"".join(struct.pack("<BBB", num, size, base) for num, size, base in layout)
        header = 0x40 | local
        if dev_layout:  # developer data flag, then (field number, size, dev index)
            header |= 0x20
            body += bytes([len(dev_layout)]) + b"".join(
                struct.pack("<BBB", num, size, index) for num, size, index in dev_layout)
        self._chunks.append(bytes([header]) + body)

    def message(
        self, name: str, *, developer: Mapping[str, Any] | None = None, **fields: Any
    ) -> FitWriter:
        """Append one message with the given fields (profile units; None = invalid).

        Parameters
        ----------
        name
            Message name: file_id, device_info, event, record, lap, session,
            activity, developer_data_id, field_description.
        developer
            Developer field values by ``field_name``, for fields declared before
            with :meth:`field_description` (e.g. ``{"Cadence": 84}``).
        **fields
            Field values by FIT profile name (sub-field names such as
            ``avg_running_cadence`` are accepted). Fields set to None are written as
            invalid; to omit a field, leave it out.

        Returns
        -------
        FitWriter
            ``self``, so calls chain.
        """
        if name not in _MESSAGES:
            _field_spec(name, "")  # raises the unsupported-message error
        global_num = _MESSAGES[name][0]
        layout: list[tuple[int, int, int]] = []
        body = b""
        for key, value in fields.items():
            canonical, spec = _field_spec(name, key)
            raw = _raw_scalar(name, canonical, spec, value)
            base = _BASES[spec.base]
            packed = raw if isinstance(raw, bytes) else struct.pack("<" + base.code, raw)
            layout.append((spec.number, len(packed), base.number))
            body += packed
        dev_layout: list[tuple[int, int, int]] = []
        for key, value in (developer or {}).items():
            if key not in self._dev_fields:
                raise SchemaError(
                    f"FIT {name}: developer field {key!r} was not declared; call "
                    "field_description(field_name=...) first (declared: "
                    f"{sorted(self._dev_fields)})"
                )
            index, number, spec = self._dev_fields[key]
            raw = _raw_scalar(name, key, spec, value)
            base = _BASES[spec.base]
            packed = raw if isinstance(raw, bytes) else struct.pack("<" + base.code, raw)
            dev_layout.append((number, len(packed), index))
            body += packed
        signature = (global_num, tuple(layout), tuple(dev_layout))
        local, new = self._local_type(signature)
        if new:
            self._define(local, global_num, layout, dev_layout)
        self._chunks.append(bytes([local]) + body)
        if name == "field_description":
            self._declare(fields)
        return self

    def _declare(self, fields: Mapping[str, Any]) -> None:
        """Remember a developer field from its field_description message."""
        base_id = fields.get("fit_base_type_id")
        by_number = {b.number: key for key, b in _BASES.items()}
        if base_id not in by_number or not fields.get("field_name"):
            raise SchemaError(
                "field_description needs field_name and fit_base_type_id (a base type "
                f"number, e.g. 0x02 uint8, 0x84 uint16, 0x88 float32); got {dict(fields)}"
            )
        spec = _Field(int(fields["field_definition_number"]), by_number[base_id],
                      float(fields.get("scale") or 1), float(fields.get("offset") or 0))
        self._dev_fields[str(fields["field_name"])] = (
            int(fields.get("developer_data_index") or 0), spec.number, spec)

    def raw(self, data: bytes) -> FitWriter:
        """Append raw bytes to the data section (for hand-built damaged files)."""
        self._chunks.append(bytes(data))
        return self

    # --- named messages ---------------------------------------------------------
    def file_id(self, **fields: Any) -> FitWriter:
        """``file_id``: type, manufacturer, product, serial_number, time_created, ..."""
        return self.message("file_id", **fields)

    def device_info(self, **fields: Any) -> FitWriter:
        """``device_info``: timestamp, device_index, manufacturer, product, ..."""
        return self.message("device_info", **fields)

    def event(self, **fields: Any) -> FitWriter:
        """``event``: timestamp, event ('timer'), event_type ('start', 'stop_all'), ..."""
        return self.message("event", **fields)

    def record(self, **fields: Any) -> FitWriter:
        """``record``: timestamp, position_lat/long [semicircles], distance [m], ..."""
        return self.message("record", **fields)

    def lap(self, **fields: Any) -> FitWriter:
        """``lap``: timestamp, start_time, total_elapsed_time [s], total_distance [m], ..."""
        return self.message("lap", **fields)

    def session(self, **fields: Any) -> FitWriter:
        """``session``: sport, sub_sport, start_time, totals and averages."""
        return self.message("session", **fields)

    def developer_data_id(self, **fields: Any) -> FitWriter:
        """``developer_data_id``: developer_data_index, application_id (16 bytes), ..."""
        return self.message("developer_data_id", **fields)

    def field_description(self, **fields: Any) -> FitWriter:
        """``field_description``: declares a developer field for later messages.

        Needs ``developer_data_index``, ``field_definition_number``,
        ``fit_base_type_id`` (base type number: 0x02 uint8, 0x84 uint16, 0x88
        float32, ...) and ``field_name``; ``units``, ``scale``, ``offset``,
        ``native_mesg_num`` and ``native_field_num`` are optional.
        """
        return self.message("field_description", **fields)

    def activity(self, **fields: Any) -> FitWriter:
        """``activity``: timestamp, local_timestamp, num_sessions, total_timer_time."""
        return self.message("activity", **fields)

    def records(self, frame: pd.DataFrame) -> FitWriter:
        """Append many ``record`` messages at once (vectorised).

        Parameters
        ----------
        frame
            One row per record; columns are ``record`` field names in profile
            units (``timestamp`` as raw FIT seconds or tz-aware times). NaN writes
            the invalid value. Every row uses one definition.

        Returns
        -------
        FitWriter
            ``self``.
        """
        if frame.empty:
            return self
        columns: list[tuple[str, _Field]] = [_field_spec("record", c) for c in frame.columns]
        layout = [(s.number, _BASES[s.base].size, _BASES[s.base].number) for _, s in columns]
        dtype = np.dtype(
            [("header", "u1")]
            + [(c, "<" + np.dtype(_BASES[s.base].code).str[1:]) for c, s in columns]
        )
        out = np.zeros(len(frame), dtype=dtype)
        for (canonical, spec), column in zip(columns, frame.columns, strict=True):
            base = _BASES[spec.base]
            series = frame[column]
            if spec.time:
                if pd.api.types.is_integer_dtype(series.dtype):
                    raw = series.to_numpy(dtype="int64")
                else:
                    times = pd.DatetimeIndex(series)
                    if times.tz is None:
                        raise SchemaError(
                            "FIT records: column 'timestamp' has naive times; give "
                            "tz-aware UTC times"
                        )
                    raw = times.as_unit("s").asi8 - _FIT_EPOCH_UNIX
                out[canonical] = raw
                continue
            values = series.to_numpy(dtype=float)
            scaled = np.round((values + spec.offset) * spec.scale)
            bad = ~np.isnan(scaled) & ((scaled < base.low) | (scaled > base.high))
            if bad.any():
                row = int(np.flatnonzero(bad)[0])
                raise SchemaError(
                    f"FIT records: column {column!r} row {row} value {float(values[row]):g} is "
                    f"outside the {spec.base} range after scale {spec.scale} and "
                    f"offset {spec.offset} ({int(bad.sum())} such rows); pass values "
                    "in the profile's units"
                )
            out[canonical] = np.where(np.isnan(scaled), base.invalid, scaled).astype(
                out.dtype[canonical]
            )
        local, new = self._local_type((20, tuple(layout)))
        if new:
            self._define(local, 20, layout)
        out["header"] = local
        self._chunks.append(out.tobytes())
        return self

    # --- output -------------------------------------------------------------
    def data_bytes(self) -> bytes:
        """The data section (all messages) without header and CRC."""
        return b"".join(self._chunks)

    def to_bytes(self, *, header_size: int = 14) -> bytes:
        """The complete file: header (with header CRC when 14 bytes), data, file CRC.

        Parameters
        ----------
        header_size
            14 (protocol 2.0 style, with header CRC) or 12 (legacy, no header CRC).
        """
        if header_size not in (12, 14):
            raise SchemaError(f"FIT header_size must be 12 or 14, got {header_size!r}")
        data = self.data_bytes()
        header = struct.pack(
            "<BBHI4s", header_size, 0x20, self.profile_version, len(data), b".FIT"
        )
        if header_size == 14:
            header += struct.pack("<H", fit_crc(header))
        body = header + data
        return body + struct.pack("<H", fit_crc(body))

    def write(self, path: str | Path, **kwargs: Any) -> Path:
        """Write :meth:`to_bytes` to ``path`` and return it."""
        path = Path(path)
        path.write_bytes(self.to_bytes(**kwargs))
        return path


# --- convenience: a whole activity from a canonical records frame --------------------
_RD_COLUMNS = {
    "step_length_m": ("step_length", 1000.0),
    "stance_time_ms": ("stance_time", 1.0),
    "vertical_oscillation_mm": ("vertical_oscillation", 1.0),
    "stance_time_balance_pct": ("stance_time_balance", 1.0),
    "vertical_ratio_pct": ("vertical_ratio", 1.0),
}
_RD_SUMMARY = {
    "step_length_m": "avg_step_length",
    "stance_time_ms": "avg_stance_time",
    "vertical_oscillation_mm": "avg_vertical_oscillation",
    "stance_time_balance_pct": "avg_stance_time_balance",
    "vertical_ratio_pct": "avg_vertical_ratio",
}


def _timer_weights(times: np.ndarray, pauses: Sequence[tuple[int, int]]) -> np.ndarray:
    """Seconds of timer-running time each sample stands for (to the next sample).

    A sample's interval ends at the next sample, or earlier at a timer stop;
    intervals inside a pause count 0. The last sample stands for the median interval.
    """
    n = len(times)
    if n == 0:
        return np.zeros(0)
    nxt = np.append(times[1:], times[-1] + (np.median(np.diff(times)) if n > 1 else 1))
    weights = (nxt - times).astype(float)
    for stop, start in pauses:
        inside = (times < stop) & (nxt > stop)
        weights[inside] = stop - times[inside]
        paused = (times >= stop) & (times < start)
        weights[paused] = 0.0
    return weights


def _wmean(values: np.ndarray, weights: np.ndarray) -> float:
    ok = ~np.isnan(values) & (weights > 0)
    if not ok.any():
        return math.nan
    return float(np.sum(values[ok] * weights[ok]) / np.sum(weights[ok]))


def _climb(altitude: np.ndarray, *, threshold_m: float = 1.0) -> tuple[float, float]:
    """Total ascent and descent [m] with a hysteresis of ``threshold_m``."""
    alt = altitude[~np.isnan(altitude)]
    if alt.size < 2:
        return math.nan, math.nan
    up = down = 0.0
    ref = alt[0]
    for a in alt[1:]:
        if a - ref >= threshold_m:
            up += a - ref
            ref = a
        elif ref - a >= threshold_m:
            down += ref - a
            ref = a
    return up, down


def _summary_fields(
    frame: pd.DataFrame,
    times: np.ndarray,
    weights: np.ndarray,
    *,
    foot: bool,
    running_dynamics: bool,
) -> dict[str, Any]:
    """Lap/session totals computed from the samples, in FIT profile units."""
    out: dict[str, Any] = {}
    dist = frame["distance_m"].to_numpy(float) if "distance_m" in frame else None
    if dist is not None and np.isfinite(dist).any():
        out["total_distance"] = float(np.nanmax(dist) - np.nanmin(dist))
    timer = float(weights.sum())
    if "speed_m_s" in frame:
        speed = frame["speed_m_s"].to_numpy(float)
        if "total_distance" in out and timer > 0:
            out["avg_speed"] = out["total_distance"] / timer
        else:
            out["avg_speed"] = _wmean(speed, weights)
        out["max_speed"] = float(np.nanmax(speed)) if np.isfinite(speed).any() else None
    if "heart_rate_bpm" in frame:
        hr = frame["heart_rate_bpm"].to_numpy(float)
        if np.isfinite(hr).any():
            out["avg_heart_rate"] = _wmean(hr, weights)
            out["max_heart_rate"] = float(np.nanmax(hr))
    cad_col = "cadence_spm" if foot else "cadence_rpm"
    if cad_col in frame:
        cad = frame[cad_col].to_numpy(float)
        if np.isfinite(cad).any():
            mean = _wmean(cad, weights)
            mx = float(np.nanmax(cad))
            if foot:  # the watch's strides/min: integer part + fraction (1/128)
                strides, smax = mean / 2.0, mx / 2.0
                out["avg_running_cadence"] = math.floor(strides)
                out["avg_fractional_cadence"] = strides - math.floor(strides)
                out["max_running_cadence"] = math.floor(smax)
                out["max_fractional_cadence"] = smax - math.floor(smax)
            else:
                out["avg_cadence"] = mean
                out["max_cadence"] = mx
    if "power_w" in frame and np.isfinite(frame["power_w"].to_numpy(float)).any():
        out["avg_power"] = _wmean(frame["power_w"].to_numpy(float), weights)
    if "altitude_m" in frame:
        up, down = _climb(frame["altitude_m"].to_numpy(float))
        if not math.isnan(up):
            out["total_ascent"] = up
            out["total_descent"] = down
    if running_dynamics:
        for column, field in _RD_SUMMARY.items():
            if column in frame:
                values = frame[column].to_numpy(float)
                if column == "step_length_m":
                    values = values * 1000.0
                if np.isfinite(values).any():
                    out[field] = _wmean(values, weights)
    return out


def _fraction_fix(fields: dict[str, Any]) -> dict[str, Any]:
    """Round fractional cadences to 1/128 and carry 128/128 into the integer part."""
    for whole, frac in (("avg_running_cadence", "avg_fractional_cadence"),
                        ("max_running_cadence", "max_fractional_cadence")):
        if frac in fields and fields[frac] is not None:
            raw = int(round(fields[frac] * 128))
            if raw >= 128:
                fields[whole] = fields[whole] + 1
                raw -= 128
            fields[frac] = raw / 128
    return fields


def _column(frame: pd.DataFrame, name: str) -> np.ndarray | None:
    """A records column as float numpy, ``None`` when absent."""
    return frame[name].to_numpy(float) if name in frame else None


def _record_columns(frame: pd.DataFrame, times: np.ndarray, *, foot: bool, enhanced: bool,
                    running_dynamics: bool) -> pd.DataFrame:
    """The record messages' fields in FIT profile units (one row per sample)."""
    rec = pd.DataFrame({"timestamp": times})

    def col(name: str) -> np.ndarray | None:
        return _column(frame, name)

    lat, lon = col("latitude_deg"), col("longitude_deg")
    if lat is not None and lon is not None:
        rec["position_lat"] = np.round(lat * (2**31 / 180.0))
        rec["position_long"] = np.round(lon * (2**31 / 180.0))
    alt = col("altitude_m")
    if alt is not None:
        rec["enhanced_altitude" if enhanced else "altitude"] = alt
    hr = col("heart_rate_bpm")
    if hr is not None:
        rec["heart_rate"] = hr
    if foot and col("cadence_spm") is not None:
        strides = np.asarray(col("cadence_spm")) / 2.0
        whole = np.floor(strides)
        frac = np.round((strides - whole) * 128)
        whole = np.where(frac >= 128, whole + 1, whole)
        frac = np.where(frac >= 128, frac - 128, frac)
        rec["cadence"] = whole
        rec["fractional_cadence"] = frac / 128
    elif not foot and col("cadence_rpm") is not None:
        rec["cadence"] = col("cadence_rpm")
    dist = col("distance_m")
    if dist is not None:
        rec["distance"] = dist
    speed = col("speed_m_s")
    if speed is not None:
        rec["enhanced_speed" if enhanced else "speed"] = speed
    if col("power_w") is not None:
        rec["power"] = col("power_w")
    if col("temperature_c") is not None:
        rec["temperature"] = col("temperature_c")
    if running_dynamics:
        for column, (field, factor) in _RD_COLUMNS.items():
            values = col(column)
            if values is not None:
                rec[field] = values * factor
    rec.index = frame.index
    return rec



def _lap_bounds(laps: Any, times: np.ndarray, dist: np.ndarray | None) -> list[int]:
    """Lap end times in raw FIT seconds (end-inclusive), the last one the final sample."""
    end_time = int(times[-1])
    if laps is None:
        bounds = [end_time]
    elif isinstance(laps, (int, float)):
        if dist is None:
            raise SchemaError("write_activity_fit: auto-laps by distance need distance_m")
        d0 = np.nanmin(dist)
        lap_no = np.floor((np.nan_to_num(dist, nan=d0) - d0) / float(laps)).astype(int)
        change = np.flatnonzero(np.diff(lap_no) > 0)
        bounds = [int(times[i + 1]) for i in change] + [end_time]
        bounds = sorted(set(bounds))
    else:
        bounds = sorted(fit_time(t) for t in laps)
        if bounds[-1] < end_time:
            bounds.append(end_time)
    return bounds


def _write_records(w: FitWriter, rec: pd.DataFrame, times: np.ndarray,
                   pause_raw: list[tuple[int, int]]) -> None:
    """Record messages interleaved with the timer stop/start events of the pauses."""
    events = sorted(
        [(stop, 0, "stop_all") for stop, _ in pause_raw]
        + [(start, 1, "start") for _, start in pause_raw]
    )
    pos = 0
    for when, _, kind in events:
        upto = int(np.searchsorted(times, when, side="left" if kind == "start" else "right"))
        w.records(rec.iloc[pos:upto])
        pos = upto
        w.event(timestamp=when, event="timer", event_type=kind, event_group=0,
                timer_trigger="manual")
    w.records(rec.iloc[pos:])


def write_activity_fit(
    path: str | Path | None,
    records: pd.DataFrame,
    *,
    sport: str = "running",
    sub_sport: str = "generic",
    utc_offset_min: float | None = 0.0,
    pauses: Iterable[tuple[Any, Any]] = (),
    laps: float | Sequence[Any] | None = 1000.0,
    session_totals: Mapping[str, Any] | None = None,
    running_dynamics: bool = False,
    enhanced: bool = True,
    manufacturer: str | int = "garmin",
    product: int = 2691,
    serial_number: int = 3_912_345_678,
    software_version: float | None = 9.30,
) -> bytes:
    """Write one single-session activity FIT file from a canonical records frame.

    Parameters
    ----------
    path
        Where to write the file; ``None`` only returns the bytes.
    records
        Canonical records (see ``kneedata.schema.RECORDS``): a tz-aware UTC
        ``DatetimeIndex`` and columns such as ``distance_m`` [m], ``speed_m_s``
        [m/s], ``cadence_spm`` [steps/min] (foot sports) or ``cadence_rpm``
        [1/min] (cycling), ``heart_rate_bpm``, ``altitude_m`` [m], ``latitude_deg``,
        ``longitude_deg`` [deg], running dynamics (``step_length_m`` [m],
        ``stance_time_ms``, ``vertical_oscillation_mm``, ``stance_time_balance_pct``,
        ``vertical_ratio_pct``), ``power_w``, ``temperature_c``. Not modified.
    sport, sub_sport
        FIT sport names (``running``, ``cycling``; ``generic``, ``trail``, ...).
    utc_offset_min
        Local time minus UTC [min]; written as ``activity.local_timestamp``
        (``None`` leaves it out, as some devices do).
    pauses
        ``(stop, start)`` pairs of tz-aware times: timer ``stop_all`` / ``start``
        events. Samples inside a pause are written as given (normally none).
    laps
        ``None`` for one lap, a distance [m] for auto-laps (default 1000 m), or a
        sequence of lap end times (tz-aware) ending at or after the last sample.
    session_totals
        Session fields (FIT profile names and units) that replace the computed
        ones, e.g. ``{"total_distance": 10012.5}``.
    running_dynamics
        Write the running-dynamics columns (and their averages) when present.
    enhanced
        Write ``enhanced_speed``/``enhanced_altitude`` (newer devices) instead of
        ``speed``/``altitude`` (older devices).
    manufacturer, product, serial_number, software_version
        Device identity for ``file_id`` and ``device_info``.

    Returns
    -------
    bytes
        The FIT file.

    Notes
    -----
    Running cadence is written as the watch does: strides/min in ``cadence`` plus
    the remainder in ``fractional_cadence`` (1/128 resolution), i.e.
    ``cadence + fractional_cadence = cadence_spm / 2``. Session and lap averages
    are time-weighted over timer-running time with zeros included, which is how
    the watch's ``avg_running_cadence`` relates to its records.
    """
    if not isinstance(records.index, pd.DatetimeIndex) or records.index.tz is None:
        raise SchemaError(
            "write_activity_fit: records need a tz-aware UTC DatetimeIndex named "
            "'timestamp'; got " + type(records.index).__name__
        )
    if records.empty:
        raise SchemaError("write_activity_fit: records frame is empty; nothing to write")
    frame = records.sort_index()
    foot = is_foot_sport(sport, sub_sport)
    utc_index = pd.DatetimeIndex(frame.index).tz_convert("UTC")
    if utc_index.has_duplicates:
        raise SchemaError(
            "write_activity_fit: records have duplicate timestamps "
            f"({int(utc_index.duplicated().sum())}); FIT records need one time each"
        )
    times = utc_index.floor("s").as_unit("s").asi8 - _FIT_EPOCH_UNIX
    pause_raw = sorted((fit_time(a), fit_time(b)) for a, b in pauses)
    weights = _timer_weights(times, pause_raw)

    rec = _record_columns(frame, times, foot=foot, enhanced=enhanced,
                          running_dynamics=running_dynamics)
    lat, lon, dist = (_column(frame, c) for c in ("latitude_deg", "longitude_deg", "distance_m"))
    bounds = _lap_bounds(laps, times, dist)
    end_time = int(times[-1])

    start_time = int(times[0])
    w = FitWriter()
    w.file_id(type="activity", manufacturer=manufacturer, product=product,
              serial_number=serial_number, time_created=start_time)
    w.device_info(timestamp=start_time, device_index=0, manufacturer=manufacturer,
                  product=product, serial_number=serial_number,
                  software_version=software_version)
    w.event(timestamp=start_time, event="timer", event_type="start", event_group=0,
            timer_trigger="manual")

    _write_records(w, rec, times, pause_raw)
    w.event(timestamp=end_time, event="timer", event_type="stop_all", event_group=0,
            timer_trigger="manual")

    lap_start = start_time
    sport_fields = {"sport": sport, "sub_sport": sub_sport}
    for index, bound in enumerate(bounds):
        if index == len(bounds) - 1:
            mask = times >= lap_start
        else:
            mask = (times >= lap_start) & (times < bound)
        sub = frame[mask]
        lap_w = _timer_weights(times[mask], pause_raw) if mask.any() else np.zeros(0)
        fields = _summary_fields(sub, times[mask], lap_w, foot=foot,
                                 running_dynamics=running_dynamics)
        lap_end = bound if index < len(bounds) - 1 else end_time
        elapsed = float(lap_end - lap_start)
        timer = elapsed - sum(
            max(0, min(b, lap_end) - max(a, lap_start)) for a, b in pause_raw
        )
        if "total_distance" in fields and index < len(bounds) - 1 and dist is not None:
            # a lap runs to the first sample of the next lap
            nxt = dist[np.flatnonzero(times >= bound)[0]]
            fields["total_distance"] = float(nxt - np.nanmin(sub["distance_m"]))
        if "total_distance" in fields and timer > 0:
            fields["avg_speed"] = fields["total_distance"] / timer
        fields = _fraction_fix(fields)
        if enhanced and "avg_speed" in fields:
            fields["enhanced_avg_speed"] = fields["avg_speed"]
            fields["enhanced_max_speed"] = fields.get("max_speed")
        w.lap(timestamp=lap_end, message_index=index, event="lap", event_type="stop",
              start_time=lap_start, total_elapsed_time=elapsed, total_timer_time=timer,
              lap_trigger="distance" if isinstance(laps, (int, float))
              and index < len(bounds) - 1 else "session_end",
              **sport_fields, **fields)
        lap_start = lap_end

    elapsed = float(end_time - start_time)
    timer = elapsed - sum(max(0, min(b, end_time) - max(a, start_time)) for a, b in pause_raw)
    fields = _summary_fields(frame, times, weights, foot=foot,
                             running_dynamics=running_dynamics)
    if "total_distance" in fields and timer > 0:
        fields["avg_speed"] = fields["total_distance"] / timer
    session = {
        "timestamp": end_time, "message_index": 0, "event": "session",
        "event_type": "stop", "start_time": start_time, **sport_fields,
        "total_elapsed_time": elapsed, "total_timer_time": timer, **fields,
        "first_lap_index": 0, "num_laps": len(bounds), "trigger": "activity_end",
    }
    if lat is not None and np.isfinite(lat).any():
        first = int(np.flatnonzero(np.isfinite(lat))[0])
        session["start_position_lat"] = round(lat[first] * (2**31 / 180.0))
        session["start_position_long"] = round(lon[first] * (2**31 / 180.0))  # type: ignore[index]
    session.update(session_totals or {})
    session = _fraction_fix(session)
    if enhanced and "avg_speed" in session:
        session["enhanced_avg_speed"] = session["avg_speed"]
        session["enhanced_max_speed"] = session.get("max_speed")
    w.session(**session)
    activity: dict[str, Any] = {
        "timestamp": end_time, "total_timer_time": session["total_timer_time"],
        "num_sessions": 1, "type": "manual", "event": "activity", "event_type": "stop",
    }
    if utc_offset_min is not None:
        activity["local_timestamp"] = end_time + int(round(utc_offset_min * 60))
    w.activity(**activity)
    data = w.to_bytes()
    if path is not None:
        Path(path).write_bytes(data)
    return data
