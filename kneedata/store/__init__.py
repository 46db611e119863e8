"""The activity store: a runner's whole history as Parquet on disk, imported once.

Layout of a store folder (created on first use)::

    activities.parquet       one row per activity (duplicates folded in)
    duplicates.parquet       the other copies of the same runs, with duplicate_of
    files.parquet            the files index: one row per file or zip member seen
    exports.parquet          rows of Strava activities.csv files (name, gear, RPE)
    records/part-<id>.parquet   samples of many activities (kneedata.schema.RECORDS)
    laps/part-<id>.parquet      laps of many activities (kneedata.schema.LAPS)
    record_index.parquet        activity -> part file and row group

Modules, one concern each: :mod:`~kneedata.store.core` (:class:`Store`, reading),
:mod:`~kneedata.store.importer` (one import run), :mod:`~kneedata.store.plan`
(walking and planning the inputs), :mod:`~kneedata.store.files_index`,
:mod:`~kneedata.store.duplicates`, :mod:`~kneedata.store.metadata` (pure functions),
:mod:`~kneedata.store.worker` and :mod:`~kneedata.store.executor` (reading in worker
processes), :mod:`~kneedata.store.checkpoint` (atomic table writes),
:mod:`~kneedata.store.tables`, :mod:`~kneedata.store.report`,
:mod:`~kneedata.store.progress`, :mod:`~kneedata.store.errors`,
:mod:`~kneedata.store.dataset` (the records and laps datasets; stores of the
one-file-per-activity layout before them are read and moved into parts by their
next import).

Every table is written to a temporary file in the same folder and renamed over the
old one (``os.replace`` is atomic): record and lap parts, then the index pointing at
them, then the rows that list the activities, the files index last. A kill at any
moment leaves a readable store; a part no index row points at is removed and its files
read again by the next import, which then completes the job.

Default location: ``$KNEEDATA_STORE``, else ``~/.kneedata/store``.
"""

from __future__ import annotations

from kneedata.store.core import Store, default_store_path, quality_notes
from kneedata.store.core import StoredRecords as StoredRecords
from kneedata.store.duplicates import DUPLICATE_DISTANCE_REL as DUPLICATE_DISTANCE_REL
from kneedata.store.duplicates import DUPLICATE_START_S as DUPLICATE_START_S
from kneedata.store.duplicates import FORMAT_RANK as FORMAT_RANK
from kneedata.store.errors import AmbiguousActivityError as AmbiguousActivityError
from kneedata.store.errors import (
    StoreBusyError,
    StoreNotFoundError,
    UnknownActivityError,
)
from kneedata.store.executor import PARENT_CHECK_S as PARENT_CHECK_S
from kneedata.store.executor import exit_with_parent as exit_with_parent
from kneedata.store.executor import parent_alive as parent_alive
from kneedata.store.report import STATUSES, ImportReport

__all__ = [
    "STATUSES",
    "ImportReport",
    "Store",
    "StoreBusyError",
    "StoreNotFoundError",
    "UnknownActivityError",
    "default_store_path",
    "quality_notes",
]
