"""Reading the store's Parquet tables and shaping their rows (lists, empty tables, columns)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kneedata.schema import ACTIVITIES, DUPLICATES, STORE_ACTIVITIES
from kneedata.store.errors import StoreNotFoundError

__all__ = [
    "SUMMARY_ORDER",
    "activity_rows",
    "as_list",
    "empty_activities",
    "frame_from_rows",
    "is_missing",
    "read_table",
    "restore_lists",
    "stored_ids",
]

#: Column order of the activities and duplicates tables.
SUMMARY_ORDER = [*ACTIVITIES, *STORE_ACTIVITIES]


def read_table(folder: Path, name: str) -> pd.DataFrame | None:
    """The table ``<folder>/<name>.parquet``, or None when it was never written.

    Raises
    ------
    StoreNotFoundError
        When ``folder`` is not a folder (nothing was imported there).
    """
    if not folder.is_dir():
        what = "a file" if folder.exists() else "nothing"
        raise StoreNotFoundError(
            f"no store at {folder} ({what} there): check the path "
            f"for a typo, or import first with `kneedata import PATH --store {folder}` "
            f"(or Store({str(folder)!r}).import_paths([...]))"
        )
    file = folder / f"{name}.parquet"
    if not file.exists():
        return None
    return pd.read_parquet(file)


def is_missing(value: Any) -> bool:
    """None, NaN, NaT or NA."""
    if value is None:
        return True
    if isinstance(value, float):
        return bool(np.isnan(value))
    return value is pd.NaT or value is pd.NA


def as_list(value: Any) -> list[str]:
    """A stored list cell (array, list, None or NaN) as a list of strings."""
    if value is None:
        return []
    if isinstance(value, float) and np.isnan(value):
        return []
    return [str(v) for v in list(value)]


def restore_lists(frame: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """A copy of ``frame`` whose list ``columns`` hold Python lists of strings."""
    frame = frame.copy()
    for col in columns:
        if col in frame:
            frame[col] = pd.Series([as_list(v) for v in frame[col]], index=frame.index, dtype=object)
    return frame


def empty_activities() -> pd.DataFrame:
    """The activities table with no rows (every column typed)."""
    cols = {name: pd.Series(dtype=col.dtype if col.dtype not in ("string",) else "str")
            for name, col in ACTIVITIES.items()}
    cols.update({name: pd.Series(dtype=col.dtype) for name, col in STORE_ACTIVITIES.items()})
    return pd.DataFrame(cols)


def frame_from_rows(rows: list[dict[str, Any]], first: Iterable[str]) -> pd.DataFrame:
    """Rows as a frame, columns ``first`` first; a column of mixed kinds becomes strings."""
    frame = pd.DataFrame.from_records(rows) if rows else pd.DataFrame()
    order = [c for c in first if c in frame.columns]
    order += [c for c in frame.columns if c not in order]
    frame = frame[order] if len(frame.columns) else frame
    for col in frame.columns:
        if frame[col].dtype != object:
            continue
        kinds = {type(v) for v in frame[col] if not is_missing(v)}
        if len(kinds) > 1 and not kinds <= {list, tuple} and not kinds <= {int, float, bool}:
            frame[col] = [None if is_missing(v) else str(v) for v in frame[col]]
    return frame


def activity_rows(folder: Path) -> dict[str, dict[str, Any]]:
    """Every activity row (kept and duplicates) as read back for matching, by id.

    The columns the store adds (sources, metadata, duplicate links) are left out: an
    import computes them again.
    """
    acts: dict[str, dict[str, Any]] = {}
    store_cols = set(STORE_ACTIVITIES) - {"n_record_columns", "warnings"}
    for name in ("activities", "duplicates"):
        table = read_table(folder, name)
        if table is None:
            continue
        table = restore_lists(table, ("warnings",))
        drop = [c for c in table.columns if c in store_cols or c in DUPLICATES]
        for record in table.drop(columns=drop).to_dict("records"):
            acts[str(record["activity_id"])] = {str(k): v for k, v in record.items()}
    return acts


def stored_ids(folder: Path) -> tuple[set[str], dict[str, str]]:
    """Ids of every stored activity (kept and duplicates), and duplicate id -> kept id."""
    known: set[str] = set()
    dup_of: dict[str, str] = {}
    for name in ("activities", "duplicates"):
        file = folder / f"{name}.parquet"
        if not file.exists():
            continue
        cols = ["activity_id", "duplicate_of"] if name == "duplicates" else ["activity_id"]
        ids = pd.read_parquet(file, columns=cols)
        known.update(ids["activity_id"].astype(str))
        if name == "duplicates":
            dup_of = dict(zip(ids["activity_id"].astype(str), ids["duplicate_of"].astype(str), strict=True))
    return known, dup_of
