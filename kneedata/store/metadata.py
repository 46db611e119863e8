"""Joining Strava ``activities.csv`` rows (name, gear, RPE) onto the kept activity rows.

Pure functions of the kept rows and the CSV rows (``kneedata.io.exports.
read_strava_activities`` plus ``csv_path`` and ``file_key``); nothing here reads files.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from kneedata.store.duplicates import DUPLICATE_START_S, is_close, to_number
from kneedata.store.files_index import key_basename
from kneedata.store.tables import is_missing

__all__ = ["METADATA_COLUMNS", "apply_metadata", "csv_reason", "join_metadata"]

#: Text columns a kept row gets from its Strava row (None when it has none).
METADATA_COLUMNS = ("name", "gear", "strava_id", "strava_type", "metadata_match")


def apply_metadata(row: dict[str, Any], meta: pd.Series, how: str) -> None:
    """Copy name, gear, RPE and the Strava id/type of ``meta`` onto ``row``, matched ``how``."""
    def text(value: Any) -> str | None:
        return None if is_missing(value) or value == "" else str(value)

    row["name"] = text(meta.get("name"))
    row["gear"] = text(meta.get("gear"))
    row["rpe"] = to_number(meta.get("rpe"))
    row["strava_id"] = text(meta.get("strava_id"))
    row["strava_type"] = text(meta.get("activity_type"))
    row["metadata_match"] = how


def _match_by_file(kept_rows: list[dict[str, Any]], meta: pd.DataFrame,
                   used: dict[int, str]) -> list[dict[str, Any]]:
    """Join by file key, then by a unique file name; return the rows left unmatched."""
    by_key: dict[str, int] = {}
    by_base: dict[str, list[int]] = {}
    for i, (fkey, fname) in enumerate(zip(meta["file_key"], meta["filename"], strict=True)):
        if isinstance(fkey, str) and fkey:
            by_key.setdefault(fkey, i)
        if isinstance(fname, str) and fname:
            by_base.setdefault(key_basename(fname), []).append(i)
    unmatched: list[dict[str, Any]] = []
    for row in kept_rows:
        hit, how = None, None
        for src in row["source_files"]:
            if src in by_key and by_key[src] not in used:
                hit, how = by_key[src], "file"
                break
        if hit is None:
            for src in row["source_files"]:
                cands = [i for i in by_base.get(key_basename(src), []) if i not in used]
                if len(cands) == 1:
                    hit, how = cands[0], "basename"
                    break
        if hit is None or how is None:
            unmatched.append(row)
            continue
        used[hit] = row["activity_id"]
        apply_metadata(row, meta.iloc[hit], how)
    return unmatched


def _match_by_start(unmatched: list[dict[str, Any]], meta: pd.DataFrame, used: dict[int, str]) -> None:
    """Join the remaining rows: start within 2 min and distance within 3 %, unique both ways."""
    free = [i for i in range(len(meta))
            if i not in used and not is_missing(meta["start_time_utc"].iloc[i])]
    if not (free and unmatched):
        return
    starts = pd.to_datetime(meta.loc[free, "start_time_utc"], utc=True)
    for row in unmatched:
        start = row.get("start_time_utc")
        if not isinstance(start, pd.Timestamp) or pd.isna(start):
            continue
        near = [i for i, s in zip(free, starts, strict=True)
                if i not in used and abs((s - start).total_seconds()) <= DUPLICATE_START_S
                and is_close(meta.at[i, "distance_m"], row.get("distance_m"))]
        if len(near) == 1:
            used[near[0]] = row["activity_id"]
            apply_metadata(row, meta.iloc[near[0]], "start_time")


def join_metadata(kept_rows: list[dict[str, Any]], meta: pd.DataFrame) -> dict[int, str]:
    """Attach Strava name/gear/RPE to ``kept_rows`` (in place); return meta row -> activity_id.

    Parameters
    ----------
    kept_rows
        Kept activity rows with ``activity_id``, ``source_files``, ``start_time_utc``
        and ``distance_m``; every row gets :data:`METADATA_COLUMNS` and ``rpe``
        (None / NaN where no CSV row matches).
    meta
        Strava CSV rows with ``file_key``, ``filename``, ``start_time_utc``,
        ``distance_m`` and the values to copy.

    Returns
    -------
    dict
        Position of each matched CSV row (after ``reset_index``) -> activity id.
        Matched by file key, then by a unique file name, then by start time and
        distance; each CSV row and each activity is used at most once.
    """
    for row in kept_rows:
        for col in METADATA_COLUMNS:
            row[col] = None
        row["rpe"] = float("nan")
    if not len(meta):
        return {}
    meta = meta.reset_index(drop=True)
    used: dict[int, str] = {}
    unmatched = _match_by_file(kept_rows, meta, used)
    _match_by_start(unmatched, meta, used)
    return used


def csv_reason(meta: pd.DataFrame, csv_key: str, meta_ids: dict[int, str]) -> str:
    """Report text of the Strava CSV ``csv_key``: rows listed, joined, without a file."""
    positions = np.flatnonzero((meta["csv_path"] == csv_key).to_numpy())
    joined = sum(1 for p in positions if int(p) in meta_ids)
    missing = [meta.iloc[int(p)] for p in positions if int(p) not in meta_ids]
    example = ", ".join(
        str(r["filename"]) if isinstance(r["filename"], str) else f"id {r['strava_id']}"
        for r in missing[:3])
    return (
        f"Strava activities.csv: {len(positions)} activities listed; {joined} joined to activities in "
        f"the store (name, gear, perceived exertion); {len(missing)} listed without an "
        f"activity file in the store" + (f" (e.g. {example})" if missing else "")
    )
