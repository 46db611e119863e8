"""Garmin wellness: sleep, resting heart rate, HRV, stress and Body Battery.

Two kinds of input, each read into *wellness items* (:data:`kneedata.schema.WELLNESS_ITEMS`:
one row per measurement, with the times it covers and, where the file says, the
runner's local date); :meth:`kneedata.Store.wellness` turns the items into one row per
local wake date.

- **FIT wellness files** (a watch's ``GARMIN/Monitor``, ``GARMIN/Sleep``,
  ``GARMIN/HRVStatus`` folders, or ``DI-Connect-Wellness`` in an account export):
  ``monitoring_hr_data`` (the day's resting heart rate,
  ``current_day_resting_heart_rate``), ``stress_level`` (0-100 every few minutes;
  negative values mean "not measured" and are left out), ``sleep_level`` epochs
  (file type 49: awake/light/deep/REM; asleep = light + deep + REM, each epoch lasting
  until the next), ``sleep_assessment`` (``overall_sleep_score``) and
  ``hrv_status_summary`` (``last_night_average``: Garmin's overnight HRV, an RMSSD).
  The local clock comes from ``monitoring_info.local_timestamp`` where a file has it.
- **The account export's JSON** (layouts as written by Garmin's "Export Your Data";
  see docs/recovery.md for the fields read): ``DI-Connect-Wellness/*_sleepData.json``
  (the night by ``calendarDate``, the wake date; stage seconds; ``sleepScores``;
  ``napList``), ``DI-Connect-Aggregator/UDSFile_*.json`` (daily summaries:
  ``restingHeartRate``, ``allDayStress`` TOTAL ``averageStressLevel``, ``bodyBattery``
  HIGHEST), ``DI-Connect-Wellness/*_healthStatusData.json`` (``metrics`` of type
  ``HRV``: the overnight RMSSD) and ``DI-Connect-Metrics/TrainingReadinessDTO_*.json``
  (``score``).

Both decoders of the project read the FIT messages by name (fitfast first, fitdecode
for a file fitfast refuses, which also salvages a damaged file's first part).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from kneedata.errors import FileFormatError
from kneedata.schema import WELLNESS_ITEMS

__all__ = [
    "WELLNESS_FIT_MESSAGES",
    "NotWellness",
    "WellnessRead",
    "is_garmin_wellness_json",
    "items_frame",
    "read_garmin_wellness_json",
    "read_wellness",
    "read_wellness_bytes",
    "read_wellness_fit",
]

#: FIT messages that make a file a wellness file.
WELLNESS_FIT_MESSAGES = frozenset({
    "monitoring_hr_data", "stress_level", "sleep_level", "sleep_assessment", "hrv_status_summary",
})
#: FIT ``sleep_level`` enum (FIT profile) for decoders that give numbers.
_SLEEP_LEVELS = {0: "unmeasurable", 1: "awake", 2: "light", 3: "deep", 4: "rem"}
_ASLEEP = frozenset({"light", "deep", "rem"})
#: A sleep-level epoch lasts until the next message, at most this long [s] (a gap
#: longer than this is time the watch did not record).
MAX_EPOCH_S = 30 * 60
#: Garmin export JSON files read, by the pattern of their names.
_JSON_KINDS = (
    ("sleep", re.compile(r"sleepdata.*\.json$", re.I)),
    ("daily", re.compile(r"^udsfile.*\.json$", re.I)),
    ("health_status", re.compile(r"healthstatusdata.*\.json$", re.I)),
    ("readiness", re.compile(r"^trainingreadinessdto.*\.json$", re.I)),
)


class NotWellness(Exception):
    """The file holds no wellness data this module reads."""


@dataclass
class WellnessRead:
    """What one wellness file held: its items and a one-line summary for the import report."""

    items: pd.DataFrame
    summary: str
    notes: list[str] = field(default_factory=list)


def _basename(name: str) -> str:
    inner = name.rsplit("::", 1)[-1]
    return inner.replace("\\", "/").rsplit("/", 1)[-1]


def is_garmin_wellness_json(name: str) -> bool:
    """Whether ``name`` is one of the Garmin export's wellness JSON files (by its name)."""
    return _json_kind(name) is not None


def _json_kind(name: str) -> str | None:
    base = _basename(name)
    for kind, pattern in _JSON_KINDS:
        if pattern.search(base):
            return kind
    return None


def items_frame(rows: Iterable[Mapping[Any, Any]]) -> pd.DataFrame:
    """Item rows as a frame with every :data:`~kneedata.schema.WELLNESS_ITEMS` column typed."""
    frame = pd.DataFrame.from_records(list(rows), columns=list(WELLNESS_ITEMS))
    for col in ("start_utc", "end_utc"):
        frame[col] = pd.to_datetime(frame[col], utc=True)
    for col in ("utc_offset_min", "value", "weight"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("float64")
    frame["is_nap"] = frame["is_nap"].fillna(False).astype(bool)
    for col in ("source", "origin", "kind", "local_date", "source_file"):
        frame[col] = frame[col].astype(object).where(frame[col].notna(), None)
    return frame


def _item(kind: str, value: float, **fields: Any) -> dict[str, Any]:
    """One item row; ``fields``: ``start``, ``end``, ``source_file``, ``origin`` and optionally
    ``local_date``, ``offset_min``, ``weight``, ``is_nap``, ``source`` (default garmin)."""
    return {"source": fields.get("source", "garmin"), "origin": fields["origin"], "kind": kind,
            "start_utc": fields.get("start"), "end_utc": fields.get("end"),
            "local_date": fields.get("local_date"), "utc_offset_min": fields.get("offset_min", math.nan),
            "value": float(value), "weight": float(fields.get("weight", 1.0)),
            "is_nap": bool(fields.get("is_nap", False)), "source_file": fields["source_file"]}


# --------------------------------------------------------------------------------
# FIT


def _fit_messages(data: bytes, source_file: str) -> tuple[dict[str, list[dict[str, Any]]], list[str]]:
    """Every message of a FIT file by name (times as UTC Timestamps) and decoding notes."""
    from kneedata.io.fit import fitfast_module

    fitfast = fitfast_module()
    if fitfast is not None:
        try:
            parsed = fitfast.parse(data)
        except BaseException as err:  # a refusal (or a Rust panic): fitdecode reads it
            if not isinstance(err, Exception) and type(err).__name__ != "PanicException":
                raise
        else:
            out: dict[str, list[dict[str, Any]]] = {}
            for name, msgs in parsed.items():
                if isinstance(name, str):
                    out[name] = [{k: _fast_time(k, v) for k, v in m.items() if isinstance(k, str)}
                                 for m in msgs]
            return out, []
    return _fitdecode_messages(data, source_file)


def _fast_time(key: str, value: Any) -> Any:
    if isinstance(value, int) and (key == "timestamp" or key.endswith("_time") or key.endswith("timestamp")):
        return pd.Timestamp(value, unit="s", tz="UTC")
    return value


def _fitdecode_messages(data: bytes, source_file: str) -> tuple[dict[str, list[dict[str, Any]]], list[str]]:
    import io

    import fitdecode

    out: dict[str, list[dict[str, Any]]] = {}
    notes: list[str] = []
    try:
        with fitdecode.FitReader(io.BytesIO(data), check_crc=fitdecode.CrcCheck.WARN) as reader:
            for frame in reader:
                if isinstance(frame, fitdecode.FitDataMessage):
                    msg = {}
                    for fld in frame.fields:
                        value = fld.value
                        if hasattr(value, "tzinfo") and hasattr(value, "year"):
                            value = pd.Timestamp(value)
                            value = value.tz_localize("UTC") if value.tzinfo is None else value.tz_convert("UTC")
                        msg[fld.name] = value
                    out.setdefault(frame.name, []).append(msg)
    except Exception as err:  # damage: keep what came before it
        notes.append(f"decoding stopped part-way ({type(err).__name__}: {err}); the wellness data "
                     "before the damage were kept")
        if not out:
            raise FileFormatError(f"{source_file}: cannot decode the FIT file ({err}); "
                                  "re-copy it from the watch or the export") from err
    return out, notes


def _local_offset_min(messages: dict[str, list[dict[str, Any]]]) -> float:
    """Minutes local time is ahead of UTC, from ``monitoring_info`` (NaN when the file has none)."""
    for info in messages.get("monitoring_info", []):
        ts, local = info.get("timestamp"), info.get("local_timestamp")
        if isinstance(ts, pd.Timestamp) and isinstance(local, pd.Timestamp):
            minutes = (local - ts).total_seconds() / 60.0
            if abs(minutes) <= 14 * 60:
                return float(round(minutes / 15.0) * 15)
    return math.nan


def _local_date(ts: pd.Timestamp, offset_min: float) -> str | None:
    if math.isnan(offset_min):
        return None
    return str((ts + pd.Timedelta(minutes=offset_min)).date())


def read_wellness_fit(data: bytes, source_file: str) -> WellnessRead:
    """The wellness items of a Garmin FIT wellness file (monitoring, sleep, HRV status).

    Raises
    ------
    NotWellness
        When the file holds none of :data:`WELLNESS_FIT_MESSAGES`.
    FileFormatError
        When nothing can be decoded.
    """
    messages, notes = _fit_messages(data, source_file)
    if not WELLNESS_FIT_MESSAGES & set(messages):
        raise NotWellness(source_file)
    offset = _local_offset_min(messages)
    rows: list[dict[str, Any]] = []
    held: list[str] = []
    common: dict[str, Any] = {"source_file": source_file, "origin": "fit", "offset_min": offset}

    rhr_read = [(m.get("timestamp"), _pos(m.get("current_day_resting_heart_rate")))
                for m in messages.get("monitoring_hr_data", [])]
    rhr = [(t, v) for t, v in rhr_read if isinstance(t, pd.Timestamp) and not math.isnan(v)]
    for t, v in rhr:
        rows.append(_item("resting_hr", v, start=t, end=t, local_date=_local_date(t, offset), **common))
    if rhr:
        held.append(f"resting HR {_range_text([v for _, v in rhr])} bpm ({len(rhr)} value(s))")

    stress = [(m.get("stress_level_time") or m.get("timestamp"), _num(m.get("stress_level_value")))
              for m in messages.get("stress_level", [])]
    valid = [(t, v) for t, v in stress if isinstance(t, pd.Timestamp) and 0 <= v <= 100]
    if valid:
        frame = pd.DataFrame(valid, columns=["t", "v"])
        frame["day"] = [(_local_date(t, offset) or str(t.date())) for t in frame["t"]]
        for day, part in frame.groupby("day", sort=True):
            rows.append(_item("stress_avg", float(part["v"].mean()), start=part["t"].min(), end=part["t"].max(),
                              local_date=day if not math.isnan(offset) else None, weight=len(part), **common))
        held.append(f"stress {len(valid)} of {len(stress)} samples measured (mean {frame['v'].mean():.0f})")
    elif stress:
        held.append(f"stress: none of {len(stress)} samples measured (off wrist or active)")

    levels = messages.get("sleep_level", [])
    if levels:
        sleep_rows, text = _fit_sleep(levels, messages.get("sleep_assessment", []), common)
        rows += sleep_rows
        held.append(text)

    for m in messages.get("hrv_status_summary", []):
        value, when = _pos(m.get("last_night_average")), m.get("timestamp")
        if not math.isnan(value) and isinstance(when, pd.Timestamp):
            rows.append(_item("hrv_rmssd", value, start=when, end=when, local_date=_local_date(when, offset), **common))
            held.append(f"overnight HRV (RMSSD) {value:g} ms, status {m.get('status') or 'unknown'}")
    if not held:
        held.append("no wellness values")
    if math.isnan(offset):
        notes.append("the file does not say the local time: the local date comes from the runner's "
                     "other files of the same days")
    return WellnessRead(items_frame(rows), "Garmin wellness FIT: " + "; ".join(held), notes)


def _fit_sleep(levels: list[dict[str, Any]], assessments: list[dict[str, Any]],
               common: dict[str, Any]) -> tuple[list[dict[str, Any]], str]:
    """The night of a sleep file's ``sleep_level`` epochs (and its score), and what it held."""
    epochs = sorted((m["timestamp"], _level_name(m.get("sleep_level"))) for m in levels
                    if isinstance(m.get("timestamp"), pd.Timestamp))
    if not epochs:
        return [], "sleep levels without times"
    times = pd.DatetimeIndex([t for t, _ in epochs])
    names = np.array([n for _, n in epochs], dtype=object)
    seconds = np.asarray((times - times[0]).total_seconds(), dtype=float)
    gaps = np.diff(seconds)
    durations = np.append(np.minimum(gaps, MAX_EPOCH_S), 60.0)
    asleep = np.isin(names, list(_ASLEEP))
    minutes = {n: float(durations[names == n].sum() / 60) for n in dict.fromkeys(names)}
    spread = f"{times[0]:%Y-%m-%d %H:%M}-{times[-1]:%H:%M} UTC"
    listed = ", ".join(f"{n} {m:.0f} min" for n, m in minutes.items())
    if not asleep.any():
        return [], f"sleep: {len(epochs)} sleep-level epochs ({spread}), none asleep ({listed}): no night recorded"
    first, last = int(np.argmax(asleep)), len(asleep) - 1 - int(np.argmax(asleep[::-1]))
    start = times[first]
    end = times[last] + pd.Timedelta(seconds=float(durations[last]))
    hours = float(durations[asleep].sum() / 3600)
    rows = [_item("sleep", hours, start=start, end=end, local_date=_local_date(end, common["offset_min"]),
                  **common)]
    text = f"sleep {hours:.2f} h asleep ({listed})"
    for a in assessments:
        score = _pos(a.get("overall_sleep_score"))
        if not math.isnan(score):
            rows.append(_item("sleep_score", score, start=start, end=end,
                              local_date=_local_date(end, common["offset_min"]), **common))
            text += f", sleep score {score:g}"
    return rows, text


def _level_name(value: Any) -> str:
    if isinstance(value, (int, np.integer)):
        return _SLEEP_LEVELS.get(int(value), str(value))
    return str(value)


def _num(value: Any) -> float:
    if isinstance(value, (list, tuple)):
        value = next((v for v in value if v is not None), None)
    if value is None or isinstance(value, bool):
        return math.nan
    try:
        out = float(value)
    except (TypeError, ValueError):
        return math.nan
    return out if math.isfinite(out) else math.nan


def _pos(value: Any) -> float:
    """A positive number, else NaN (0 and negative values mean "not measured" in these files)."""
    out = _num(value)
    return out if out > 0 else math.nan


def _range_text(values: list[float]) -> str:
    low, high = min(values), max(values)
    return f"{low:g}" if low == high else f"{low:g}-{high:g}"


# --------------------------------------------------------------------------------
# Garmin export JSON


def _gmt(value: Any) -> pd.Timestamp | None:
    """A Garmin export time: ISO text without a zone (GMT) or epoch milliseconds."""
    if value is None or isinstance(value, bool):
        return None
    try:
        if isinstance(value, (int, float)):
            return pd.Timestamp(int(value), unit="ms", tz="UTC")
        ts = pd.Timestamp(str(value))
    except (ValueError, TypeError, OverflowError):
        return None
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _calendar_date(entry: dict[str, Any]) -> str | None:
    value = entry.get("calendarDate")
    if isinstance(value, str) and re.match(r"^\d{4}-\d{2}-\d{2}", value):
        try:
            return str(date.fromisoformat(value[:10]))
        except ValueError:
            return None
    return None


def read_garmin_wellness_json(data: bytes, source_file: str) -> WellnessRead:
    """The wellness items of one Garmin export JSON file (sleep, daily summary, health status, readiness).

    Entries without a ``calendarDate`` or without any value are skipped and counted
    in the notes (the file's other entries are kept).

    Raises
    ------
    NotWellness
        When the file's name is not one of the wellness files.
    FileFormatError
        When the file is not JSON, or not a list of entries.
    """
    kind = _json_kind(source_file)
    if kind is None:
        raise NotWellness(source_file)
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as err:
        raise FileFormatError(f"{source_file}: not UTF-8 text at byte {err.start}; re-download the export") from err
    except json.JSONDecodeError as err:
        raise FileFormatError(
            f"{source_file}: not valid JSON (line {err.lineno}, column {err.colno}: {err.msg}); "
            "the export may be cut short - download it again") from err
    entries = doc if isinstance(doc, list) else [doc] if isinstance(doc, dict) else None
    if entries is None:
        raise FileFormatError(f"{source_file}: expected a list of daily entries, found a JSON "
                              f"{type(doc).__name__}; is this a Garmin export file?")
    reader = {"sleep": _json_sleep, "daily": _json_daily, "health_status": _json_health,
              "readiness": _json_readiness}[kind]
    rows: list[dict[str, Any]] = []
    skipped: list[str] = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            skipped.append(f"entry {i + 1}: not an object")
            continue
        day = _calendar_date(entry)
        if day is None:
            skipped.append(f"entry {i + 1}: no valid calendarDate ({entry.get('calendarDate')!r})")
            continue
        got = list(reader(entry, day, source_file))
        if not got:
            skipped.append(f"entry {i + 1} ({day}): no values")
        rows += got
    items = items_frame(rows)
    notes = []
    if skipped:
        notes.append(f"{len(skipped)} of {len(entries)} entries held nothing readable "
                     f"(first: {skipped[0]})")
    label = {"sleep": "sleep", "daily": "daily summaries", "health_status": "health status",
             "readiness": "training readiness"}[kind]
    days = items["local_date"].nunique()
    counts = items["kind"].value_counts()
    what = ", ".join(f"{k} {n}" for k, n in counts.items()) or "no values"
    return WellnessRead(items, f"Garmin export {label}: {len(entries)} entries, {days} day(s) ({what})", notes)


def _json_sleep(entry: dict[str, Any], day: str, source_file: str) -> Iterator[dict[str, Any]]:
    start, end = _gmt(entry.get("sleepStartTimestampGMT")), _gmt(entry.get("sleepEndTimestampGMT"))
    stages = [_num(entry.get(k)) for k in ("deepSleepSeconds", "lightSleepSeconds", "remSleepSeconds")]
    total = _num(entry.get("sleepTimeSeconds"))
    if math.isnan(total) and any(not math.isnan(s) for s in stages):
        total = float(np.nansum(stages))
    common: dict[str, Any] = {"source_file": source_file, "origin": "export_json", "local_date": day}
    local_start = _gmt(entry.get("sleepStartTimestampLocal"))
    if local_start is not None and start is not None:
        common["offset_min"] = (local_start - start).total_seconds() / 60
    if total > 0:
        yield _item("sleep", total / 3600, start=start, end=end, **common)
        scores = entry.get("sleepScores") or {}
        score = scores.get("overallScore") if isinstance(scores, dict) else None
        if isinstance(score, dict):  # the Connect API's layout: {"overall": {"value": ..}}
            score = score.get("value")
        if score is None and isinstance(scores, dict) and isinstance(scores.get("overall"), dict):
            score = scores["overall"].get("value")
        if not math.isnan(_pos(score)):
            yield _item("sleep_score", _pos(score), start=start, end=end, **common)
    for nap in entry.get("napList") or []:
        if not isinstance(nap, dict):
            continue
        n_start = _gmt(nap.get("napStartTimestampGMT") or nap.get("startTimestampGMT"))
        n_end = _gmt(nap.get("napEndTimestampGMT") or nap.get("endTimestampGMT"))
        seconds = _num(nap.get("napTimeSec") or nap.get("napTimeSeconds"))
        if math.isnan(seconds) and n_start is not None and n_end is not None:
            seconds = (n_end - n_start).total_seconds()
        if seconds > 0:
            yield _item("sleep", seconds / 3600, start=n_start, end=n_end, is_nap=True,
                        **{**common, "local_date": day})


def _json_daily(entry: dict[str, Any], day: str, source_file: str) -> Iterator[dict[str, Any]]:
    common: dict[str, Any] = {"source_file": source_file, "origin": "export_json", "local_date": day}
    rhr = _pos(entry.get("restingHeartRate"))
    if math.isnan(rhr):
        rhr = _pos(entry.get("currentDayRestingHeartRate"))
    if not math.isnan(rhr):
        yield _item("resting_hr", rhr, **common)
    stress = entry.get("allDayStress") or {}
    aggs = stress.get("aggregatorList") if isinstance(stress, dict) else None
    total = next((a for a in aggs or [] if isinstance(a, dict) and a.get("type") == "TOTAL"), None)
    if total is not None:
        value = _num(total.get("averageStressLevel"))
        if 0 <= value <= 100:  # Garmin writes -1/-2 for too little data
            yield _item("stress_avg", value, **common)
    elif 0 <= _num(entry.get("averageStressLevel")) <= 100:
        yield _item("stress_avg", _num(entry.get("averageStressLevel")), **common)
    battery = entry.get("bodyBattery") or {}
    stats = battery.get("bodyBatteryStatList") if isinstance(battery, dict) else None
    highest = next((s for s in stats or [] if isinstance(s, dict) and s.get("bodyBatteryStatType") == "HIGHEST"),
                   None)
    if highest is not None and 0 <= _num(highest.get("statsValue")) <= 100:
        yield _item("body_battery_max", _num(highest.get("statsValue")), **common)


def _json_health(entry: dict[str, Any], day: str, source_file: str) -> Iterator[dict[str, Any]]:
    for metric in entry.get("metrics") or []:
        if isinstance(metric, dict) and metric.get("type") == "HRV":
            value = _pos(metric.get("value"))
            if not math.isnan(value):
                yield _item("hrv_rmssd", value, start=None, end=None, source_file=source_file,
                            origin="export_json", local_date=day)


def _json_readiness(entry: dict[str, Any], day: str, source_file: str) -> Iterator[dict[str, Any]]:
    score = _num(entry.get("score"))
    if 0 <= score <= 100:
        t = _gmt(entry.get("timestampLocal") or entry.get("timestamp"))
        yield _item("training_readiness", score, start=t, end=t, source_file=source_file,
                    origin="export_json", local_date=day)


# --------------------------------------------------------------------------------
# entry points


def read_wellness_bytes(data: bytes, source_file: str) -> WellnessRead:
    """The wellness items of a Garmin FIT wellness file or export JSON file held in memory.

    Raises
    ------
    NotWellness
        When the file is neither (an activity, a settings file ...).
    FileFormatError
        For a wellness file that cannot be read (the message says why).
    """
    if len(data) >= 12 and data[8:12] == b".FIT":
        return read_wellness_fit(data, source_file)
    if _json_kind(source_file) is not None:
        return read_garmin_wellness_json(data, source_file)
    raise NotWellness(source_file)


def read_wellness(path: str) -> pd.DataFrame:
    """The wellness items of one file (:data:`kneedata.schema.WELLNESS_ITEMS`).

    For a folder or an export, import it into a store and use
    :meth:`kneedata.Store.wellness`.
    """
    from pathlib import Path

    file = Path(path)
    try:
        return read_wellness_bytes(file.read_bytes(), str(file)).items
    except NotWellness as err:
        raise FileFormatError(
            f"{file}: not a Garmin wellness file (FIT monitoring, sleep or HRV status, or an "
            "export's sleepData/UDSFile/healthStatusData/TrainingReadinessDTO JSON)") from err
