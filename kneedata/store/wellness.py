"""The store's wellness table: items per file during an import, one row per wake date when read.

:class:`WellnessItems` holds the items (:data:`kneedata.schema.WELLNESS_ITEMS`) of every
wellness file of a runner's store by file key while an import runs (a file read again
replaces its items; a file gone takes them away) and writes ``wellness.parquet``.
:func:`daily_wellness` turns the items into :data:`kneedata.schema.WELLNESS`, one row per
local wake date, the table :meth:`kneedata.Store.wellness` returns.

Rules of the daily table (docs/recovery.md):

- **Local date.** The file's own local date where it says one (Garmin's ``calendarDate``;
  a monitoring file's local clock), else the end time shifted by the runner's UTC offset
  on the nearest activity (within :data:`OFFSET_SEARCH_DAYS`), else UTC (``date_from``
  says which).
- **One source per measure.** Within a date, each measure comes from one source: Garmin
  before Apple Health, and within Garmin the export's daily figures before the FIT files'
  (they are Garmin's own daily summaries of the same watch). ``source`` lists the sources
  a row's values came from. Apple's SDNN and Garmin's RMSSD are separate columns.
- **Sleep.** The main sleep of a wake date is its longest sleep not flagged a nap; every
  other sleep ending that date is a nap (``nap_duration_h``). The same night read from
  two files (start and end equal) counts once.
- Daily figures: resting HR and training readiness the last value written that day;
  stress the mean over all measured samples of the day (weighted by their number);
  Body Battery the highest; SDNN the mean of the day's readings.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kneedata.io.wellness import items_frame
from kneedata.schema import WELLNESS, WELLNESS_ITEMS
from kneedata.store.checkpoint import atomic_parquet

__all__ = ["OFFSET_SEARCH_DAYS", "WellnessItems", "daily_wellness", "empty_wellness"]

#: How far from an item the runner's activities are searched for its UTC offset [days].
OFFSET_SEARCH_DAYS = 14
#: Preference of origins for the same measure on the same date (lower first).
_ORIGIN_RANK = {"export_json": 0, "fit": 1, "export_xml": 2}
_SOURCE_RANK = {"garmin": 0, "apple_health": 1}
_FILE = "wellness.parquet"


class WellnessItems:
    """The wellness items of a store, by the key of the file that held them."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.by_key: dict[str, pd.DataFrame] = {}
        file = root / _FILE
        if file.exists():
            table = items_frame(pd.read_parquet(file).to_dict("records"))
            for key, part in table.groupby("source_file", sort=False):
                self.by_key[str(key)] = part.reset_index(drop=True)
        self.dirty = False

    def replace(self, key: str, items: pd.DataFrame) -> None:
        """The items of ``key`` are now ``items`` (a file read again)."""
        self.by_key[key] = items.assign(source_file=key)
        self.dirty = True

    def drop(self, key: str) -> None:
        """``key`` is gone or no longer a wellness file: forget its items."""
        if self.by_key.pop(key, None) is not None:
            self.dirty = True

    def frame(self) -> pd.DataFrame:
        """Every item, in file order."""
        parts = [p for p in self.by_key.values() if len(p)]
        if not parts:
            return items_frame([])
        return items_frame(pd.concat(parts, ignore_index=True).to_dict("records"))

    def write(self) -> None:
        """Write ``wellness.parquet`` (removed when there are no items)."""
        if not self.dirty:
            return
        frame = self.frame()
        dest = self.root / _FILE
        if len(frame):
            atomic_parquet(frame, dest, index=False, fsync=True)
        elif dest.exists():
            dest.unlink()
        self.dirty = False


def empty_wellness() -> pd.DataFrame:
    """:data:`~kneedata.schema.WELLNESS` with no rows (every column typed)."""
    return pd.DataFrame({name: pd.Series(dtype=col.dtype) for name, col in WELLNESS.items()})


def _activity_offsets(activities: pd.DataFrame | None) -> tuple[np.ndarray, np.ndarray]:
    """Start times [ns since epoch] and UTC offsets [min] of the activities that know theirs."""
    if activities is None or not len(activities) or "utc_offset_min" not in activities:
        return np.array([], dtype="int64"), np.array([])
    acts = activities[["start_time_utc", "utc_offset_min"]].dropna()
    if "local_time_source" in activities:
        acts = acts[activities.loc[acts.index, "local_time_source"].astype(str) != "assumed_utc"]
    acts = acts.sort_values("start_time_utc")
    times = pd.to_datetime(acts["start_time_utc"], utc=True)
    return times.astype("int64").to_numpy(), acts["utc_offset_min"].to_numpy(dtype=float)


def _dates(items: pd.DataFrame, activities: pd.DataFrame | None) -> tuple[pd.Series, pd.Series]:
    """Each item's local date and how it was decided."""
    at = items["end_utc"].fillna(items["start_utc"])
    out = pd.Series(pd.NaT, index=items.index, dtype="datetime64[ns]")
    how = pd.Series("", index=items.index, dtype=object)
    given = items["local_date"].notna()
    out[given] = pd.to_datetime(items.loc[given, "local_date"])
    how[given] = "file"
    own = ~given & items["utc_offset_min"].notna() & at.notna()
    shifted = at[own] + pd.to_timedelta(items.loc[own, "utc_offset_min"], unit="min")
    out[own] = shifted.dt.tz_localize(None).dt.normalize()
    how[own] = "offset"
    rest = ~given & ~own & at.notna()
    if rest.any():
        times, offsets = _activity_offsets(activities)
        when = at[rest].astype("int64").to_numpy()
        offset = np.zeros(len(when))
        found = np.zeros(len(when), dtype=bool)
        if len(times):
            pos = np.clip(np.searchsorted(times, when), 1, len(times)) if len(times) > 1 else np.zeros(len(when), int)
            left = np.clip(pos - 1, 0, len(times) - 1)
            right = np.clip(pos, 0, len(times) - 1)
            nearest = np.where(np.abs(times[left] - when) <= np.abs(times[right] - when), left, right)
            found = np.abs(times[nearest] - when) <= OFFSET_SEARCH_DAYS * 86_400 * 10**9
            offset = np.where(found, offsets[nearest], 0.0)
        local = at[rest] + pd.to_timedelta(offset, unit="min")
        out[rest] = local.dt.tz_localize(None).dt.normalize().to_numpy()
        how[rest] = np.where(found, "activities", "utc")
    return out, how


def _best(part: pd.DataFrame) -> pd.DataFrame:
    """The rows of the most preferred source and origin of one measure on one date."""
    rank = part["source"].map(_SOURCE_RANK).fillna(9) * 10 + part["origin"].map(_ORIGIN_RANK).fillna(9)
    return part[rank == rank.min()]


def daily_wellness(items: pd.DataFrame, activities: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per local wake date and the measures of :data:`~kneedata.schema.WELLNESS`.

    Parameters
    ----------
    items
        Wellness items (:data:`~kneedata.schema.WELLNESS_ITEMS`).
    activities
        The runner's activities (``start_time_utc``, ``utc_offset_min``): the local
        offset of items whose file does not say it.
    """
    missing = [c for c in WELLNESS_ITEMS if c not in items.columns]
    if missing:
        raise ValueError(f"wellness items lack the columns {missing}; build them with kneedata.io.wellness")
    if not len(items):
        return empty_wellness()
    items = items.copy()
    items["date"], items["date_from"] = _dates(items, activities)
    items = items[items["date"].notna()]
    rows: dict[Any, dict[str, Any]] = {}
    for (day, kind), part in items.groupby(["date", "kind"], sort=True):
        row = rows.setdefault(day, {"date": day, "_sources": set(), "_how": set()})
        best = _best(part)
        row["_sources"].add(str(best["source"].iloc[0]))
        row["_how"].update(best["date_from"])
        if kind == "sleep":
            _sleep(row, best)
        elif kind == "sleep_score":
            row["sleep_score"] = float(best.sort_values("end_utc")["value"].iloc[-1])
        elif kind in ("resting_hr", "training_readiness"):
            ordered = best.sort_values("end_utc", na_position="first", kind="stable")
            row["resting_hr_bpm" if kind == "resting_hr" else kind] = float(ordered["value"].iloc[-1])
        elif kind == "stress_avg":
            w = best["weight"].fillna(1.0).clip(lower=0)
            row["stress_avg"] = float(np.average(best["value"], weights=w)) if w.sum() > 0 else np.nan
        elif kind == "body_battery_max":
            row["body_battery_max"] = float(best["value"].max())
        elif kind == "hrv_rmssd":
            row["hrv_rmssd_ms"] = float(best.sort_values("end_utc")["value"].iloc[-1])
        elif kind == "hrv_sdnn":
            row["hrv_sdnn_ms"] = float(best["value"].mean())
    out = []
    for row in rows.values():
        row["source"] = "+".join(sorted(row.pop("_sources"), key=lambda s: _SOURCE_RANK.get(s, 9)))
        hows = row.pop("_how")
        row["date_from"] = next((h for h in ("utc", "activities", "offset", "file") if h in hows), "")
        out.append(row)
    frame = pd.DataFrame(out)
    result = empty_wellness()
    result = pd.concat([result, frame[[c for c in WELLNESS if c in frame]]], ignore_index=True) \
        if len(frame) else result
    for name, col in WELLNESS.items():
        if col.dtype == "float64":
            result[name] = pd.to_numeric(result[name], errors="coerce").astype("float64")
        elif col.dtype.startswith("datetime64[ns, UTC]"):
            result[name] = pd.to_datetime(result[name], utc=True)
        elif col.dtype == "datetime64[ns]":
            result[name] = pd.to_datetime(result[name])
    return result.sort_values("date").reset_index(drop=True)


def _sleep(row: dict[str, Any], sleeps: pd.DataFrame) -> None:
    """Main sleep and naps of one wake date (the same night from two files counted once)."""
    sleeps = sleeps.drop_duplicates(subset=["start_utc", "end_utc", "value", "is_nap"])
    main_pool = sleeps[~sleeps["is_nap"]]
    if len(main_pool):
        main = main_pool.iloc[int(np.argmax(main_pool["value"].to_numpy()))]
        row["sleep_duration_h"] = float(main["value"])
        row["sleep_start_utc"] = main["start_utc"]
        row["wake_utc"] = main["end_utc"]
        naps = sleeps[sleeps.index != main.name]
    else:
        naps = sleeps
    row["nap_duration_h"] = float(naps["value"].sum()) if len(naps) else 0.0
