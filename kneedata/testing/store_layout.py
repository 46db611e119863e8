"""A store in the layout before records and laps became datasets: one file per activity.

:func:`write_per_activity_layout` copies a store into that layout
(``records/<activity_id>.parquet`` with the ``timestamp`` index, ``laps/<activity_id>.parquet``
without an index, written as the import wrote them then: ``pyarrow.Table.from_pandas``
and ``pyarrow.parquet.write_table`` with the defaults), so tests can open and re-import
an old store, and ``benchmarks/bench_store.py`` can time the old reading path.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from kneedata.store import Store
from kneedata.store.dataset import INDEX_FILE, KINDS

__all__ = ["write_per_activity_layout"]


def write_per_activity_layout(store: str | os.PathLike[str], dest: str | os.PathLike[str]) -> Path:
    """Copy the single-runner store ``store`` into ``dest`` in the per-activity layout."""
    src, out = Path(store), Path(dest)
    shutil.copytree(src, out, ignore=shutil.ignore_patterns(*KINDS, INDEX_FILE, ".lock"))
    view = Store(src)
    ids = [*view.activities()["activity_id"].astype(str), *view.duplicates()["activity_id"].astype(str)]
    for kind in KINDS:
        (out / kind).mkdir(exist_ok=True)
        for aid in ids:
            frame = view.records(aid) if kind == "records" else view.laps(aid)
            table = pa.Table.from_pandas(frame, preserve_index=kind == "records", nthreads=1)
            pq.write_table(table, out / kind / f"{aid}.parquet")
    return out
