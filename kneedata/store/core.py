"""The :class:`Store`: reading a store's tables, records and laps, and starting imports.

A store folder holds one runner's tables (see :mod:`kneedata.store` for the layout);
the runners of a cohort live below it (:mod:`kneedata.runners`). Reads never create
the folder; :meth:`Store.import_paths` locks it and hands the work to
:class:`kneedata.store.importer.ImportRun`.

Default location: ``$KNEEDATA_STORE``, else ``~/.kneedata/store``.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import os
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kneedata.io.exports import STRAVA_COLUMNS, ZipLimits
from kneedata.io.wellness import items_frame
from kneedata.runners import (
    DEFAULT_RUNNER_ID,
    RUNNERS_FOLDER,
    check_runner_id,
    publish_activities,
    runner_folder,
    runner_ids,
)
from kneedata.schema import FILES, WELLNESS_ITEMS
from kneedata.store.dataset import (
    INDEX_FILE,
    empty_index,
    read_frame,
    read_index,
    scan_columns,
)
from kneedata.store.errors import (
    AmbiguousActivityError,
    StoreBusyError,
    UnknownActivityError,
)
from kneedata.store.importer import ImportOptions, ImportRun
from kneedata.store.report import ImportReport
from kneedata.store.tables import as_list, empty_activities, read_table, restore_lists
from kneedata.store.wellness import daily_wellness

__all__ = ["Store", "StoredRecords", "default_store_path", "quality_notes"]


def default_store_path() -> Path:
    """``$KNEEDATA_STORE`` when set, else ``~/.kneedata/store``."""
    env = os.environ.get("KNEEDATA_STORE")
    return Path(env).expanduser() if env else Path.home() / ".kneedata" / "store"


class StoredRecords(Mapping[str, pd.DataFrame]):
    """A store's records as a lazy mapping ``activity_id -> records frame`` (read on access).

    Iterates over the ids of :meth:`Store.activities`; looking up another id raises
    ``KeyError`` naming the store.
    """

    def __init__(self, store: Store) -> None:
        self._store = store
        self._ids: list[str] | None = None
        self._owner: dict[str, Store] = {}  # id -> the one runner's store holding it (cohort root)

    def _known(self) -> list[str]:
        if self._ids is None:
            acts = self._store.activities()
            self._ids = (acts["activity_id"].astype(str).tolist()
                         if "activity_id" in acts.columns else [])
            if "runner_id" in acts.columns and acts["runner_id"].nunique() > 1:
                held = acts.groupby(acts["activity_id"].astype(str))["runner_id"].unique()
                views = {str(rid): self._store.runner(str(rid)) for rid in acts["runner_id"].unique()}
                self._owner = {str(aid): views[str(r[0])] for aid, r in held.items() if len(r) == 1}
        return self._ids

    def __getitem__(self, activity_id: str) -> pd.DataFrame:
        self._known()
        # at a cohort root the activities table says whose it is: one folder, not every runner's
        store = self._owner.get(str(activity_id), self._store)
        try:
            return store.records(activity_id)
        except UnknownActivityError as err:
            raise KeyError(str(err)) from err

    def __iter__(self) -> Iterator[str]:
        return iter(self._known())

    def scan(self, ids: Iterable[str], columns: Sequence[str]
             ) -> Iterator[tuple[str, dict[str, np.ndarray] | pd.DataFrame]]:
        """The records of ``ids`` by one scan of each runner's record files (only ``columns``).

        Yields ``(activity_id, {column: float array, "timestamp_ns": int64 array})``
        in storage order (bools as 0/1; a column the activity lacks is left out), and
        ``(activity_id, frame)`` for an activity kept in the layout before datasets.
        Raises ``KeyError`` for an id the store does not hold, as a lookup does.
        """
        self._known()
        # at a cohort root an id no one runner is known to hold is looked up one by one
        # (which says when two runners hold it)
        root = self._store._root is None and (self._store.path / RUNNERS_FOLDER).is_dir()
        by_store: dict[int, tuple[Store | None, list[str]]] = {}
        for aid in map(str, ids):
            store = self._owner.get(aid, None if root else self._store)
            by_store.setdefault(id(store), (store, []))[1].append(aid)
        for store, wanted in by_store.values():
            rows = store._index_rows() if store is not None else {}
            parts = {str(r["part"]) for (k, _), r in rows.items() if k == "records"}
            gone = {p for p in parts if store is None or not (store.path / "records" / p).exists()}
            indexed = [a for a in wanted if ("records", a) in rows and rows[("records", a)]["part"] not in gone]
            if indexed and store is not None:
                index = pd.DataFrame([rows[("records", a)] for a in indexed])
                for aid, arrays in scan_columns(store.path, index, indexed, columns):
                    own = set(rows[("records", aid)]["columns"])
                    yield aid, {k: v for k, v in arrays.items() if k in own or k == "timestamp_ns"}
            scanned = set(indexed)
            for aid in (a for a in wanted if a not in scanned):
                yield aid, self[aid]

    def __len__(self) -> int:
        return len(self._known())


class Store:
    """A runner's activities as Parquet on disk (see :mod:`kneedata.store` for the layout).

    Parameters
    ----------
    path
        Store folder; created by the first :meth:`import_paths`, never by a read
        (reading a folder that does not exist raises :class:`StoreNotFoundError`,
        so a typo in the path is not a silently empty store). Default:
        :func:`default_store_path` (``$KNEEDATA_STORE`` or ``~/.kneedata/store``).
    limits
        Zip/gzip safety limits (:class:`kneedata.io.exports.ZipLimits`).
    checkpoint_every
        During an import, rewrite the tables after this many files were read ...
    checkpoint_seconds
        ... or after this many seconds [s], so a killed import loses little work.

    Examples
    --------
    >>> store = Store("~/.kneedata/store")                      # doctest: +SKIP
    >>> report = store.import_paths(["~/Downloads/export.zip"])  # doctest: +SKIP
    >>> report.counts()                                          # doctest: +SKIP
    {'imported': 812, 'duplicate': 40, 'unchanged': 0, 'failed': 2, 'not_an_activity': 37}
    >>> store.activities()[["start_time_utc", "distance_m", "gear"]]  # doctest: +SKIP
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        limits: ZipLimits | None = None,
        checkpoint_every: int = 200,
        checkpoint_seconds: float = 60.0,
    ) -> None:
        self.path = Path(path).expanduser() if path is not None else default_store_path()
        self.limits = limits or ZipLimits()
        self.checkpoint_every = int(checkpoint_every)
        self.checkpoint_seconds = float(checkpoint_seconds)

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"

    # ---- runners (kneedata.runners: the default runner in this folder, others below) ----

    #: Id of the runner whose data this folder holds (set by :meth:`runner`).
    runner_id: str = DEFAULT_RUNNER_ID
    _root: Path | None = None  # the cohort store this runner's store belongs to

    def runners(self) -> list[str]:
        """Ids of the runners with data in this store, sorted (``["runner"]`` for one runner)."""
        if self._root is not None:
            return [self.runner_id] if (self.path / "files.parquet").exists() else []
        return runner_ids(self.path)

    def runner(self, runner_id: str) -> Store:
        """One runner's own store: ``activities()``, ``records(id)``, ``laps(id)``, ``files()``.

        The default runner (:data:`kneedata.runners.DEFAULT_RUNNER_ID`) is this store.

        Parameters
        ----------
        runner_id
            A runner id as given to ``kneedata import --runner`` or a manifest.

        Returns
        -------
        Store
            That runner's store (its folder under ``runners/``).
        """
        rid = check_runner_id(runner_id)
        if self._root is not None:
            if rid != self.runner_id:
                raise ValueError(f"{self!r} holds runner {self.runner_id!r} only, not {rid!r}; "
                                 "open the cohort store folder instead")
            return self
        if rid == DEFAULT_RUNNER_ID:
            return self
        view = Store(runner_folder(self.path, rid), limits=self.limits,
                     checkpoint_every=self.checkpoint_every,
                     checkpoint_seconds=self.checkpoint_seconds)
        view.runner_id, view._root = rid, self.path
        return view

    # ---- reading ----------------------------------------------------------------

    def exists(self) -> bool:
        """Whether the store folder exists (an import has created it)."""
        return self.path.is_dir()

    def _table(self, name: str) -> pd.DataFrame | None:
        return read_table(self.path, name)

    def activities(self, runner_id: str | None = None) -> pd.DataFrame:
        """One row per activity, sorted by runner then start time.

        Parameters
        ----------
        runner_id
            Only this runner's activities; ``None`` (default): every runner's.

        Returns
        -------
        pandas.DataFrame
            The summary columns of :func:`kneedata.read_activities`
            (:data:`kneedata.schema.ACTIVITIES`) plus :data:`kneedata.schema.STORE_ACTIVITIES`:
            ``name``, ``gear``, ``rpe``, ``strava_id``, ``strava_type`` where an export
            supplies them, ``source_files`` (list: the kept file first, then the
            duplicates folded into this activity), ``n_sources``, ``warnings``, and
            last ``runner_id``.
        """
        if runner_id is not None and check_runner_id(runner_id) != self.runner_id:
            return self.runner(runner_id).activities()
        if runner_id is None and self._root is None:
            ids = [r for r in self.runners() if r != DEFAULT_RUNNER_ID]
            if ids:
                parts = [self._own_activities(), *(self.runner(r).activities() for r in ids)]
                return pd.concat([p for p in parts if len(p)] or parts[:1], ignore_index=True)
        return self._own_activities()

    def _own_activities(self) -> pd.DataFrame:
        frame = self._table("activities")
        frame = empty_activities() if frame is None else restore_lists(frame, ("source_files", "warnings"))
        frame["runner_id"] = pd.Series(self.runner_id, index=frame.index, dtype="str")
        return frame

    def duplicates(self) -> pd.DataFrame:
        """Activities recognised as another copy of a kept one (``duplicate_of``, ``duplicate_reason``)."""
        frame = self._table("duplicates")
        if frame is None:
            out = empty_activities()
            out["duplicate_of"] = pd.Series(dtype="str")
            out["duplicate_reason"] = pd.Series(dtype="str")
            return out
        return restore_lists(frame, ("source_files", "warnings"))

    def files(self) -> pd.DataFrame:
        """The files index: one row per file or zip member ever imported (see schema.FILES)."""
        frame = self._table("files")
        if frame is None:
            return pd.DataFrame({name: pd.Series(dtype=col.dtype) for name, col in FILES.items()})
        return restore_lists(frame, ("activity_ids",))

    def wellness(self) -> pd.DataFrame:
        """Sleep, resting heart rate, HRV, stress and Body Battery: one row per local wake date.

        Read from the wellness files imported (Garmin FIT monitoring, sleep and HRV
        status files; a Garmin export's wellness JSON; an Apple Health export). Columns
        :data:`kneedata.schema.WELLNESS` (NaN where no source has the measure):
        ``date``, ``source``, ``sleep_duration_h``, ``sleep_score``, ``nap_duration_h``,
        ``resting_hr_bpm``, ``hrv_rmssd_ms`` (Garmin), ``hrv_sdnn_ms`` (Apple: a
        different measure, never pooled with RMSSD), ``stress_avg``,
        ``body_battery_max``, ``training_readiness``, the main sleep's times and
        ``date_from``. The rules (local dates, one source per measure, naps) are in
        :mod:`kneedata.store.wellness` and docs/recovery.md. Empty (typed) when no
        wellness file was imported.
        """
        items = self._table("wellness")
        if items is None:
            return daily_wellness(pd.DataFrame(columns=list(WELLNESS_ITEMS)))
        return daily_wellness(items, self._own_activities())

    def wellness_items(self) -> pd.DataFrame:
        """The wellness measurements as read from each file (:data:`kneedata.schema.WELLNESS_ITEMS`)."""
        items = self._table("wellness")
        return items_frame([]) if items is None else items_frame(items.to_dict("records"))

    def strava_activities(self) -> pd.DataFrame:
        """Rows of the Strava ``activities.csv`` files imported, with the matched ``activity_id``."""
        frame = self._table("exports")
        if frame is None:
            cols = [*STRAVA_COLUMNS, "csv_path", "file_key", "activity_id"]
            return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
        return frame

    # a location: ("part", index row) in the datasets, or ("file", path) of the layout before them
    _index_cache: tuple[tuple[int, int], dict[tuple[str, str], Any]] | None = None
    _part_files: dict[str, Any] | None = None

    def _index_rows(self) -> dict[tuple[str, str], Any]:
        """``(kind, activity_id) -> index row`` of this runner's datasets (re-read when changed)."""
        file = self.path / INDEX_FILE
        try:
            st = file.stat()
            key = (st.st_mtime_ns, st.st_size)
        except FileNotFoundError:
            key = (0, 0)
        if self._index_cache is None or self._index_cache[0] != key:
            index = read_index(self.path) if key != (0, 0) else empty_index()
            rows = {(str(r["kind"]), str(r["activity_id"])): r for r in index.to_dict("records")}
            self._index_cache = (key, rows)
            self._part_files = {}
        return self._index_cache[1]

    def _locate(self, activity_id: str, kind: str) -> tuple[str, Any] | None:
        """Where this runner's store holds the ``kind`` of ``activity_id`` (None: nowhere)."""
        row = self._index_rows().get((kind, str(activity_id)))
        if row is not None and (int(row["row_group"]) < 0 or (self.path / kind / str(row["part"])).exists()):
            return "part", row
        file = self.path / kind / f"{activity_id}.parquet"
        return ("file", file) if file.exists() else None

    def _check_id(self, activity_id: str, folder: str) -> tuple[Store, tuple[str, Any]]:
        where = self._locate(activity_id, folder)
        if where is not None:  # fast path: metrics loop over thousands of ids
            return self, where
        if not self._lists(activity_id):
            raise UnknownActivityError(
                f"activity_id {activity_id!r} is not in the store at {self.path}; list the ids "
                f"with Store({str(self.path)!r}).activities()['activity_id'] or "
                f"`kneedata activities --store {self.path}`"
            )
        raise UnknownActivityError(
            f"activity {activity_id!r} is listed but its {folder} in the store at {self.path} "
            "are missing; run the import again to restore them"
        )

    def _find(self, activity_id: str, folder: str) -> tuple[Store, tuple[str, Any]]:
        """Where ``folder`` (records or laps) of ``activity_id`` is; at a cohort root, whose."""
        if self._root is not None or not (self.path / RUNNERS_FOLDER).is_dir():
            return self._check_id(activity_id, folder)
        views = {rid: self.runner(rid) for rid in self.runners()}
        holders = [rid for rid, view in views.items() if view._locate(activity_id, folder) is not None]
        if len(holders) > 1:
            raise AmbiguousActivityError(
                f"activity_id {activity_id!r} is held by runners {', '.join(map(repr, holders))} of the "
                f"store at {self.path}; say whose with store.runner({holders[0]!r}).{folder}"
                f"({activity_id!r})"
            )
        if holders:
            return views[holders[0]]._check_id(activity_id, folder)
        for rid, view in views.items():  # listed by a runner whose records are lost: say so
            if rid != DEFAULT_RUNNER_ID and view._lists(activity_id):
                return view._check_id(activity_id, folder)
        return self._check_id(activity_id, folder)

    def _read(self, activity_id: str, kind: str) -> pd.DataFrame:
        store, (how, where) = self._find(activity_id, kind)
        if how == "file":
            return pd.read_parquet(where)
        store._index_rows()
        return read_frame(store.path, where, files=store._part_files)

    def _lists(self, activity_id: str) -> bool:
        """Whether the activities or duplicates table lists ``activity_id``."""
        known: set[str] = set()
        for name in ("activities", "duplicates"):
            table = self._table(name)
            if table is not None:
                known.update(table["activity_id"].astype(str))
        return str(activity_id) in known

    def records(self, activity_id: str) -> pd.DataFrame:
        """Samples of one activity (tz-aware UTC ``DatetimeIndex`` ``timestamp``; schema.RECORDS).

        At the root of a cohort store the activity is looked up in every runner's folder
        (activity ids are content hashes, so one runner holds it).

        Parameters
        ----------
        activity_id
            An id from :meth:`activities` (``activity_id`` column).

        Returns
        -------
        pandas.DataFrame
            One row per sample: ``distance_m``, ``speed_m_s``, ``cadence_spm``,
            ``heart_rate_bpm``, ... (NaN where the file lacks them).

        Raises
        ------
        UnknownActivityError
            For an id the store does not hold (a ``ValueError``).
        AmbiguousActivityError
            For an id held by two runners (the same file imported for both): use
            ``store.runner(runner_id).records(activity_id)``.
        """
        return self._read(activity_id, "records")

    def records_map(self) -> StoredRecords:
        """Every activity's records as a read-only mapping ``activity_id -> records``.

        Each frame is read from Parquet when looked up (one run in memory at a time),
        so the pure metrics (:func:`kneedata.gait_metrics`) can take the store's
        records like any other mapping.
        """
        return StoredRecords(self)

    def laps(self, activity_id: str) -> pd.DataFrame:
        """Laps of one activity (schema.LAPS), from any runner's folder (as :meth:`records`).

        Parameters
        ----------
        activity_id
            An id from :meth:`activities` (``activity_id`` column).

        Returns
        -------
        pandas.DataFrame
            One row per lap, in the units of the activities table.
        """
        return self._read(activity_id, "laps")

    # ---- importing --------------------------------------------------------------

    def import_paths(
        self,
        paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
        *,
        workers: int | None = None,
        executor: cf.Executor | None = None,
        progress: bool = True,
        force: bool = False,
        fit_engine: str | None = None,
        runner_id: str | None = None,
    ) -> ImportReport:
        """Import files, folders (recursively) and export zips into the store.

        Parameters
        ----------
        paths
            Files and folders: ``.fit``/``.gpx``/``.tcx`` (each optionally ``.gz``),
            ``.zip`` exports (Garmin Connect, Garmin account export with nested zips,
            Strava bulk export), Strava ``activities.csv``. Other files are reported
            as ``not_an_activity``.
        workers
            Worker processes (default ``os.cpu_count()``); 1 reads in this process.
        executor
            Any :class:`concurrent.futures.Executor` (e.g. ``distributed.Client(...)
            .get_executor()``); workers read, parse and write records/laps into the
            store folder (which must be reachable from them), this process owns the
            tables. Overrides ``workers``; it is not shut down.
        progress
            Show a tqdm progress bar on stderr.
        force
            Re-read every file even when unchanged.
        fit_engine
            FIT decoder, as in :func:`kneedata.read_activities`: ``None`` (fitfast
            where it reads the file, else fitdecode) or an engine name.
        runner_id
            The runner the files belong to (see :mod:`kneedata.runners`); ``None``:
            the default runner, which is the only one of a single-runner store.
            Duplicates are matched within a runner, never across runners.

        Returns
        -------
        ImportReport
            One row per file (and zip member) seen, exactly once, with status
            ``imported``, ``duplicate``, ``unchanged``, ``failed`` or
            ``not_an_activity`` and a reason where not imported.

        Notes
        -----
        Incremental: a file whose path, size and mtime match the index is
        ``unchanged`` without being read; a changed stat with the same SHA-256 is
        ``unchanged`` too; changed content is re-read and replaces the activities
        read from that file before. Duplicates across sources (the same run from
        the watch FIT and an app GPX/TCX): sport-compatible, start within
        ``DUPLICATE_START_S`` = 120 s and distance within ``DUPLICATE_DISTANCE_REL``
        = 3 % (elapsed time when a side lacks distance); the richest source is kept
        (FIT > TCX > GPX, then complete, then more record columns), the others are
        listed in ``source_files`` and in :meth:`duplicates`.
        """
        if runner_id is not None and check_runner_id(runner_id) != self.runner_id:
            return self.runner(runner_id).import_paths(
                paths, workers=workers, executor=executor, progress=progress, force=force,
                fit_engine=fit_engine)
        if isinstance(paths, (str, os.PathLike)):
            paths = [paths]
        started = time.perf_counter()
        for sub in ("records", "laps"):
            (self.path / sub).mkdir(parents=True, exist_ok=True)
        with self._lock():
            options = ImportOptions(root=self.path, limits=self.limits, runner_id=self.runner_id,
                                    checkpoint_every=self.checkpoint_every,
                                    checkpoint_seconds=self.checkpoint_seconds, force=force,
                                    progress=progress, fit_engine=fit_engine)
            report = ImportRun(options).execute(list(paths), workers=workers, executor=executor)
            publish_activities(self._root or self.path, self.runner_id, self._own_activities())
        report.elapsed_s = time.perf_counter() - started
        return report

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        lock_path = self.path / ".lock"
        fh = open(lock_path, "a+")  # held for the whole import
        try:
            try:
                import fcntl
            except ImportError:  # pragma: no cover - Windows: no advisory lock
                fcntl = None  # type: ignore[assignment]
            if fcntl is not None:
                try:
                    fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError as err:
                    raise StoreBusyError(
                        f"another import into {self.path} is running; wait for it to finish "
                        "(or use a different --store)"
                    ) from err
            yield
        finally:
            fh.close()


def quality_notes(activities: pd.DataFrame) -> pd.DataFrame:
    """The readers' data-quality notes, one row each, naming the file and the activity.

    Parameters
    ----------
    activities
        :meth:`Store.activities` (``activity_id``, ``source_file``, ``warnings``;
        ``local_date`` and ``sport`` shown when present).

    Returns
    -------
    pandas.DataFrame
        ``file``, ``activity_id``, ``local_date``, ``sport``, ``note``: one row per
        note, in the activities' order; empty (same columns) when there are none.
    """
    columns = ["file", "activity_id", "local_date", "sport", "note"]
    rows = []
    for _, act in activities.iterrows():
        for note in as_list(act.get("warnings")):
            rows.append({"file": act.get("source_file"), "activity_id": act.get("activity_id"),
                         "local_date": act.get("local_date"), "sport": act.get("sport"),
                         "note": note})
    return pd.DataFrame(rows, columns=columns)
