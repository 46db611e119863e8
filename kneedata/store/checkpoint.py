"""Writing the store's tables: atomic Parquet files, one checkpoint of every table.

Every table is written to a temporary file in the same folder and renamed over the
old one (``os.replace`` is atomic), records before the rows that point at them, the
files index last, so a kill at any moment leaves a readable store. An archive gets
its index entry only after every member has one (``ImportRun``), so a checkpoint in the
middle of a zip records the members read so far and no archive: the next import reads
the zip again and skips only those members.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Collection
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from kneedata.store.metadata import METADATA_COLUMNS
from kneedata.store.tables import SUMMARY_ORDER, empty_activities, frame_from_rows

__all__ = [
    "CheckpointClock",
    "atomic_write",
    "activities_frame",
    "atomic_parquet",
    "remove_orphans",
    "remove_temp_files",
    "write_tables",
]


def atomic_write(dest: Path, write: Any, *, fsync: bool = False) -> None:
    """Call ``write(tmp)`` for a temporary file next to ``dest``, then rename it over ``dest``."""
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        write(tmp)
        if fsync:
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
        os.replace(tmp, dest)
    finally:
        if tmp.exists():
            tmp.unlink()


def atomic_parquet(frame: pd.DataFrame, dest: Path, *, index: bool, fsync: bool = False) -> None:
    """Write ``frame`` to ``dest`` through a temporary file renamed over it."""
    # what frame.to_parquet does, minus a thread pool started for every file
    table = pa.Table.from_pandas(frame, preserve_index=index, nthreads=1)
    atomic_write(dest, lambda tmp: pq.write_table(table, tmp), fsync=fsync)


def activities_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Kept activity rows as the activities table, sorted by start time then id."""
    kept = frame_from_rows(rows, SUMMARY_ORDER)
    for col in METADATA_COLUMNS:
        if col in kept:
            kept[col] = kept[col].astype("str")
    if len(kept):
        kept = kept.sort_values(["start_time_utc", "activity_id"], kind="stable").reset_index(drop=True)
    return kept if len(kept) else empty_activities()


def _write_or_remove(frame: pd.DataFrame, dest: Path) -> None:
    if len(frame):
        atomic_parquet(frame, dest, index=False, fsync=True)
    elif dest.exists():
        dest.unlink()


def write_tables(root: Path, *, activities: pd.DataFrame, duplicates: pd.DataFrame,
                 exports: pd.DataFrame, files: pd.DataFrame) -> None:
    """One checkpoint: every table of the store at ``root``, the files index last.

    An empty duplicates or exports table removes its file; the activities table is
    always written (with no rows when empty).
    """
    atomic_parquet(activities, root / "activities.parquet", index=False, fsync=True)
    _write_or_remove(duplicates, root / "duplicates.parquet")
    _write_or_remove(exports, root / "exports.parquet")
    atomic_parquet(files, root / "files.parquet", index=False, fsync=True)


def remove_orphans(root: Path, keep: Collection[str]) -> None:
    """Delete per-activity record and lap files (the layout before parts) of ids not in ``keep``."""
    for folder in ("records", "laps"):
        for file in (root / folder).glob("*.parquet"):
            if not file.name.startswith("part-") and file.name[: -len(".parquet")] not in keep:
                with contextlib.suppress(OSError):
                    file.unlink()


def remove_temp_files(root: Path) -> None:
    """Delete the temporary files a killed import left (tables, records, laps)."""
    for tmp in [*root.glob(".*.tmp"), *root.glob("records/.*.tmp"), *root.glob("laps/.*.tmp")]:
        with contextlib.suppress(OSError):
            tmp.unlink()


class CheckpointClock:
    """When to checkpoint during an import: after ``every`` files read or ``seconds`` [s].

    ``clock`` gives the time [s] (default :func:`time.monotonic`).
    """

    def __init__(self, every: int, seconds: float, clock: Any = time.monotonic) -> None:
        self.every, self.seconds, self.clock = int(every), float(seconds), clock
        self.files = 0
        self.since = clock()

    def read_one(self) -> bool:
        """Count one file read; whether a checkpoint is due."""
        self.files += 1
        return self.files >= self.every or self.clock() - self.since >= self.seconds

    def reset(self) -> None:
        """A checkpoint was written: start counting again."""
        self.files = 0
        self.since = self.clock()
