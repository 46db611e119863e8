"""Several runners in one store: runner ids, runner folders, the partitioned activities.

A store holds one runner (the *default* runner, :data:`DEFAULT_RUNNER_ID`) in its own
folder, exactly as before cohorts existed; every other runner is a complete
single-runner store of its own under ``runners/<runner_id>/``. Duplicate matching,
incremental import and locking therefore stay within a runner, and two runners can
be imported at the same time (on different workers) without touching each other.

After each import the runner's activities table is published to a Parquet dataset
partitioned by runner (hive layout) that pandas, pyarrow and ``dask.dataframe`` read
as one table::

    <store>/activities/runner_id=<id>/part-0.parquet

The per-runner tables stay the source of truth (:meth:`kneedata.Store.activities`
reads them); the dataset is their published copy, rewritten atomically after every
import of that runner.
"""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

__all__ = [
    "ACTIVITIES_DATASET",
    "DEFAULT_RUNNER_ID",
    "RUNNERS_FOLDER",
    "check_runner_id",
    "publish_activities",
    "runner_folder",
    "runner_ids",
]

#: The runner of a store that was given no runner id (every single-runner store).
DEFAULT_RUNNER_ID = "runner"
#: Folder (inside the store) of the runners other than the default one.
RUNNERS_FOLDER = "runners"
#: Folder (inside the store) of the activities dataset partitioned by ``runner_id``.
ACTIVITIES_DATASET = "activities"

_RUNNER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def check_runner_id(runner_id: object, *, where: str = "runner_id") -> str:
    """Return ``runner_id`` as a string, or raise ValueError saying what a valid id is.

    A runner id names a folder and a Parquet partition: 1-64 characters, letters,
    digits, ``_``, ``.`` and ``-``, starting with a letter or digit.

    Examples
    --------
    >>> check_runner_id("club-07")
    'club-07'
    >>> check_runner_id("a/b")
    Traceback (most recent call last):
    ...
    ValueError: runner_id 'a/b' is not a valid runner id: use 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit (e.g. 'runner-01')
    """
    text = "" if runner_id is None else str(runner_id).strip()
    if not _RUNNER_ID.match(text):
        raise ValueError(
            f"{where} {runner_id!r} is not a valid runner id: use 1-64 letters, digits, "
            "'_', '.' or '-', starting with a letter or digit (e.g. 'runner-01')"
        )
    return text


def runner_folder(root: str | os.PathLike[str], runner_id: str) -> Path:
    """The folder holding ``runner_id``'s single-runner store (the root for the default)."""
    rid = check_runner_id(runner_id)
    root = Path(root)
    return root if rid == DEFAULT_RUNNER_ID else root / RUNNERS_FOLDER / rid


def _has_data(folder: Path) -> bool:
    return (folder / "files.parquet").exists() or (folder / "activities.parquet").exists()


def runner_ids(root: str | os.PathLike[str]) -> list[str]:
    """Ids of the runners with data in the store at ``root``, sorted.

    The default runner counts when the root folder holds an imported store (which
    every store written before cohorts existed does).
    """
    root = Path(root)
    ids = [DEFAULT_RUNNER_ID] if _has_data(root) else []
    folder = root / RUNNERS_FOLDER
    if folder.is_dir():
        ids += [p.name for p in folder.iterdir()
                if p.is_dir() and _RUNNER_ID.match(p.name) and _has_data(p)]
    return sorted(set(ids))


def _stable_types(frame: pd.DataFrame) -> pa.Table:
    """The frame as an Arrow table whose all-empty columns are typed as strings.

    A runner without any Strava name or reader note would otherwise write ``null`` or
    ``list<null>`` columns, which cannot be read together with another runner's
    ``string`` / ``list<string>`` partition.
    """
    table = pa.Table.from_pandas(frame, preserve_index=False)
    fields = []
    for f in table.schema:
        if pa.types.is_null(f.type):
            f = f.with_type(pa.large_string())
        elif pa.types.is_list(f.type) and pa.types.is_null(f.type.value_type):
            f = f.with_type(pa.list_(pa.string()))
        fields.append(f)
    return table.cast(pa.schema(fields, metadata=table.schema.metadata))


def publish_activities(root: str | os.PathLike[str], runner_id: str, activities: pd.DataFrame) -> Path:
    """Write one runner's activities as its partition of the dataset (atomically).

    ``activities`` is the runner's table without a ``runner_id`` column (the
    partition folder carries it). Returns the partition file.
    """
    rid = check_runner_id(runner_id)
    folder = Path(root) / ACTIVITIES_DATASET / f"runner_id={rid}"
    folder.mkdir(parents=True, exist_ok=True)
    dest = folder / "part-0.parquet"
    tmp = folder / f".part-0.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
    try:
        pq.write_table(_stable_types(activities.drop(columns=["runner_id"], errors="ignore")), tmp)
        os.replace(tmp, dest)
    finally:
        if tmp.exists():
            tmp.unlink()
    return dest
