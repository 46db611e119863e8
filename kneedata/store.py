"""The activity store: a runner's whole history as Parquet on disk, imported once.

Layout of a store folder (created on first use)::

    activities.parquet       one row per activity (duplicates folded in)
    duplicates.parquet       the other copies of the same runs, with duplicate_of
    files.parquet            the files index: one row per file or zip member seen
    exports.parquet          rows of Strava activities.csv files (name, gear, RPE)
    records/<activity_id>.parquet   samples (kneedata.schema.RECORDS)
    laps/<activity_id>.parquet      laps (kneedata.schema.LAPS)

Every table is written to a temporary file in the same folder and renamed over the
old one (``os.replace`` is atomic), records before the rows that point at them, the
files index last. A kill at any moment leaves a readable store; a record file without
a row is simply redone by the next import, which then completes the job.

Default location: ``$KNEEDATA_STORE``, else ``~/.kneedata/store``.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import hashlib
import multiprocessing
import os
import stat
import sys
import threading
import time
import types
import uuid
import warnings
import zlib
from collections.abc import Collection, Iterable, Iterator, Mapping
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from kneedata.errors import FileFormatError, KneedataError, NotAnActivityError
from kneedata.io.activity import is_cycling_sport
from kneedata.io.exports import (
    MEMBER_SEP,
    STRAVA_COLUMNS,
    LimitExceeded,
    ZipLimits,
    activity_suffix,
    gunzip_limited,
    is_strava_activities_csv,
    iter_zip,
    join_member_path,
    read_strava_activities,
)
from kneedata.io.read import read_activities_bytes, sniff_format
from kneedata.runners import (
    DEFAULT_RUNNER_ID,
    check_runner_id,
    publish_activities,
    runner_folder,
    runner_ids,
)
from kneedata.runs import run_kind
from kneedata.schema import ACTIVITIES, DUPLICATES, FILES, STORE_ACTIVITIES

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

#: Status of a file in an :class:`ImportReport`.
STATUSES = ("imported", "duplicate", "unchanged", "failed", "not_an_activity")

#: Same run: starts at most this far apart [s] ...
DUPLICATE_START_S = 120.0
#: ... and distances at most this far apart, relative to the longer one [-].
DUPLICATE_DISTANCE_REL = 0.03
#: Preference among sources of the same run (higher wins).
FORMAT_RANK = {"fit": 3, "tcx": 2, "gpx": 1}

_GENERIC_SPORTS = {"", "generic", "other", "unknown", "all", "none", "nan"}
_HEAD_BYTES = 65536


def default_store_path() -> Path:
    """``$KNEEDATA_STORE`` when set, else ``~/.kneedata/store``."""
    env = os.environ.get("KNEEDATA_STORE")
    return Path(env).expanduser() if env else Path.home() / ".kneedata" / "store"


class UnknownActivityError(KneedataError, ValueError):
    """An activity id that the store does not hold."""


class StoreBusyError(KneedataError, RuntimeError):
    """Another import into the same store is running."""


class StoreNotFoundError(KneedataError, FileNotFoundError):
    """A read from a store folder that does not exist (nothing was imported there)."""


# --------------------------------------------------------------------------------
# the report


@dataclass
class ImportReport:
    """What happened to every file seen by :meth:`Store.import_paths`.

    Attributes
    ----------
    rows
        One dict per file seen (``path``, ``status``, ``activity_ids``, ``reason``),
        in the order seen. Zip members are named ``<zip>::<member>``.
    store_path
        The store imported into.
    elapsed_s
        Wall-clock time of the import [s].
    n_records
        Samples read from files that were read in this import.
    n_files_read
        Files (and members) actually parsed in this import.
    """

    rows: list[dict[str, Any]]
    store_path: Path
    elapsed_s: float = 0.0
    n_records: int = 0
    n_files_read: int = 0
    notes: list[str] = field(default_factory=list)

    def to_frame(self) -> pd.DataFrame:
        """One row per file seen: ``path``, ``status``, ``activity_ids`` (list), ``reason``."""
        frame = pd.DataFrame(
            {
                "path": pd.Series([r["path"] for r in self.rows], dtype="str"),
                "status": pd.Series([r["status"] for r in self.rows], dtype="str"),
                "activity_ids": pd.Series([list(r["activity_ids"]) for r in self.rows], dtype=object),
                "reason": pd.Series([r["reason"] for r in self.rows], dtype="str"),
            }
        )
        return frame

    def counts(self) -> dict[str, int]:
        """Number of files per status (every status present, zeros included)."""
        out = dict.fromkeys(STATUSES, 0)
        for row in self.rows:
            out[row["status"]] += 1
        return out

    def failures(self) -> pd.DataFrame:
        """The rows with status ``failed``."""
        frame = self.to_frame()
        return frame[frame["status"] == "failed"].reset_index(drop=True)

    @property
    def records_per_s(self) -> float:
        """Samples read per second of import wall-clock time [1/s]."""
        return self.n_records / self.elapsed_s if self.elapsed_s > 0 else float("nan")

    def summary(self) -> str:
        """Counts per status, then each failure with its reason (plain text)."""
        counts = self.counts()
        lines = [
            f"{len(self.rows)} files seen in {self.elapsed_s:.2f} s "
            f"({self.n_files_read} read, {self.n_records} samples) into {self.store_path}",
        ]
        lines += [f"  {status:<16}{counts[status]:>7}" for status in STATUSES]
        failed = [r for r in self.rows if r["status"] == "failed"]
        if failed:
            lines.append("failed:")
            lines += [f"  {r['path']}: {r['reason']}" for r in failed]
        lines += self.notes
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


# --------------------------------------------------------------------------------
# worker side: read one file, write its records and laps, return its summaries


@dataclass
class _Task:
    key: str
    path: str | None
    data: bytes | None
    store_dir: str
    limits: ZipLimits
    size: int
    mtime_ns: int
    container: str = ""
    fit_engine: str | None = None


def _atomic_parquet(frame: pd.DataFrame, dest: Path, *, index: bool, fsync: bool = False) -> None:
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        # what frame.to_parquet does, minus a thread pool started for every file
        table = pa.Table.from_pandas(frame, preserve_index=index, nthreads=1)
        pq.write_table(table, tmp)
        if fsync:
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
        os.replace(tmp, dest)
    finally:
        if tmp.exists():
            tmp.unlink()


def _cannot_read(err: OSError) -> str:
    return f"cannot read the file ({err.strerror or err})"


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value


def _process(task: _Task) -> dict[str, Any]:
    """Read one file or member, write its records/laps, return what the parent needs.

    Runs in a worker process (or in-process); never raises for a bad file.
    """
    started = time.perf_counter()
    result: dict[str, Any] = {
        "key": task.key, "size": task.size, "mtime_ns": task.mtime_ns, "sha256": "",
        "container": task.container, "ok": False, "reason": "", "activities": [],
        "n_records": 0,
    }
    try:
        raw = task.data if task.data is not None else Path(task.path or task.key).read_bytes()
    except OSError as err:
        result["reason"] = _cannot_read(err)
        result["size"] = result["mtime_ns"] = -1  # retried by the next import
        return result
    result["sha256"] = hashlib.sha256(raw).hexdigest()
    result["size"] = len(raw) if task.data is not None else task.size
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            acts = read_activities_bytes(raw, task.key, limits=task.limits, engine=task.fit_engine)
        except FileFormatError as err:
            text = str(err)
            result["reason"] = text[len(task.key) + 2:] if text.startswith(task.key + ": ") else text
            result["not_an_activity"] = isinstance(err, NotAnActivityError)
            return result
        except Exception as err:  # a reader bug must not stop the other files
            result["reason"] = f"reader error ({type(err).__name__}: {err})"
            return result
    if not acts:
        result["reason"] = "the file holds no activity session"
        return result
    store = Path(task.store_dir)
    caught_text = [str(w.message) for w in caught]
    out = []
    for act in acts:
        summary = {k: _plain(v) for k, v in act.summary.items()}
        aid = str(summary["activity_id"])
        summary["source_file"] = task.key
        try:
            _atomic_parquet(act.records, store / "records" / f"{aid}.parquet", index=True)
            _atomic_parquet(act.laps, store / "laps" / f"{aid}.parquet", index=False)
        except Exception as err:
            result["reason"] = f"cannot write the records of {aid} ({type(err).__name__}: {err})"
            return result
        value_cols = [c for c in act.records.columns if c != "moving"]
        n_cols = int(act.records[value_cols].notna().any().sum()) if len(act.records) else 0
        notes = list(act.warnings) or [t for t in caught_text if aid in t]
        summary.update(
            n_records=int(len(act.records)), n_record_columns=n_cols, warnings=notes,
        )
        result["n_records"] += int(len(act.records))
        out.append(summary)
    result["ok"] = True
    result["activities"] = out
    result["seconds"] = time.perf_counter() - started
    return result


# --------------------------------------------------------------------------------
# duplicates


def _num(value: Any) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return float("nan")
    return out


def _sports_compatible(a: dict[str, Any], b: dict[str, Any]) -> bool:
    sa = str(a.get("sport")).lower() if isinstance(a.get("sport"), str) else ""
    sb = str(b.get("sport")).lower() if isinstance(b.get("sport"), str) else ""
    ride_a = is_cycling_sport(sa, a.get("sub_sport"))
    ride_b = is_cycling_sport(sb, b.get("sub_sport"))
    # one definition of a run (kneedata.runs: a generic treadmill session is a run)
    ka, kb = run_kind(sa, a.get("sub_sport")), run_kind(sb, b.get("sub_sport"))
    vague_a = sa in _GENERIC_SPORTS and ka is None and not ride_a
    vague_b = sb in _GENERIC_SPORTS and kb is None and not ride_b
    if vague_a or vague_b:  # a sport that says nothing matches anything
        return True
    if ka is not None or kb is not None:
        return ka is not None and kb is not None
    return sa == sb or (ride_a and ride_b)


def _same_run(a: dict[str, Any], b: dict[str, Any]) -> str | None:
    """Why ``a`` and ``b`` are the same run, or ``None`` (see DUPLICATE_* constants)."""
    if a.get("source_file") == b.get("source_file"):
        return None  # sessions of one file (multisport legs) are never duplicates
    if not _sports_compatible(a, b):
        return None
    dt_s = abs((a["start_time_utc"] - b["start_time_utc"]).total_seconds())
    if dt_s > DUPLICATE_START_S:
        return None
    rel = _rel_gap(a.get("distance_m"), b.get("distance_m"))
    if rel is not None:
        if rel > DUPLICATE_DISTANCE_REL:
            return None
        return f"start {dt_s:.0f} s apart, distance {100 * rel:.1f} % apart"
    # no distance on one side (treadmill without pod, indoor): compare durations
    rel = _rel_gap(a.get("elapsed_time_s"), b.get("elapsed_time_s"))
    if rel is not None and rel <= DUPLICATE_DISTANCE_REL:
        return f"start {dt_s:.0f} s apart, no distance on both, elapsed time {100 * rel:.1f} % apart"
    return None


def _rel_gap(a: Any, b: Any) -> float | None:
    """``|a - b| / max(a, b)`` [-], or None unless both are positive numbers."""
    da, db = _num(a), _num(b)
    if not (da > 0 and db > 0):
        return None
    return abs(da - db) / max(da, db)


def _richness(a: dict[str, Any]) -> tuple[int, int, int, int]:
    return (
        FORMAT_RANK.get(str(a.get("source_format", "")).lower(), 0),
        int(bool(a.get("complete", True))),
        int(a.get("n_record_columns", 0) or 0),
        int(a.get("n_records", 0) or 0),
    )


def _deduplicate(acts: dict[str, dict[str, Any]]) -> dict[str, tuple[str, str]]:
    """Group activities of the same run; map each non-kept id to (kept id, reason)."""
    timed = []
    for aid, a in acts.items():
        start = a.get("start_time_utc")
        if isinstance(start, pd.Timestamp) and not pd.isna(start):
            timed.append((start, aid))
    timed.sort()
    parent = {aid: aid for _, aid in timed}
    why: dict[tuple[str, str], str] = {}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    limit = pd.Timedelta(seconds=DUPLICATE_START_S)
    for i, (start_i, id_i) in enumerate(timed):
        for start_j, id_j in timed[i + 1:]:
            if start_j - start_i > limit:
                break
            reason = _same_run(acts[id_i], acts[id_j])
            if reason:
                why[(id_i, id_j)] = why[(id_j, id_i)] = reason
                ri, rj = find(id_i), find(id_j)
                if ri != rj:
                    parent[rj] = ri
    groups: dict[str, list[str]] = {}
    for _, aid in timed:
        groups.setdefault(find(aid), []).append(aid)
    dup_of: dict[str, tuple[str, str]] = {}
    for members in groups.values():
        if len(members) < 2:
            continue
        ranked = sorted(members, key=lambda m: (tuple(-v for v in _richness(acts[m])), m))
        kept = ranked[0]
        kept_fmt = str(acts[kept].get("source_format", "?"))
        for other in ranked[1:]:
            detail = why.get((kept, other)) or "linked through another copy of the run"
            dup_of[other] = (
                kept,
                f"same run as {kept} from {acts[kept].get('source_file')} ({detail}); "
                f"kept the {kept_fmt} source (preference FIT > TCX > GPX, then complete "
                "files, then more record columns)",
            )
    return dup_of


# --------------------------------------------------------------------------------
# the store


def _key_basename(key: str) -> str:
    inner = key.rsplit(MEMBER_SEP, 1)[-1]
    return inner.replace("\\", "/").rsplit("/", 1)[-1]


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, float) and np.isnan(value):
        return []
    return [str(v) for v in list(value)]


class StoredRecords(Mapping[str, pd.DataFrame]):
    """A store's records as a lazy mapping ``activity_id -> records frame`` (read on access).

    Iterates over the ids of :meth:`Store.activities`; looking up another id raises
    ``KeyError`` naming the store.
    """

    def __init__(self, store: Store) -> None:
        self._store = store
        self._ids: list[str] | None = None

    def _known(self) -> list[str]:
        if self._ids is None:
            acts = self._store.activities()
            self._ids = (acts["activity_id"].astype(str).tolist()
                         if "activity_id" in acts.columns else [])
        return self._ids

    def __getitem__(self, activity_id: str) -> pd.DataFrame:
        try:
            return self._store.records(activity_id)
        except UnknownActivityError as err:
            raise KeyError(str(err)) from err

    def __iter__(self) -> Iterator[str]:
        return iter(self._known())

    def __len__(self) -> int:
        return len(self._known())


class Store:
    """A runner's activities as Parquet on disk (see the module docstring for the layout).

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
        if not self.path.is_dir():
            what = "a file" if self.path.exists() else "nothing"
            raise StoreNotFoundError(
                f"no store at {self.path} ({what} there): check the path "
                f"for a typo, or import first with `kneedata import PATH --store {self.path}` "
                f"(or Store({str(self.path)!r}).import_paths([...]))"
            )
        file = self.path / f"{name}.parquet"
        if not file.exists():
            return None
        return pd.read_parquet(file)

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
        frame = _empty_activities() if frame is None else _restore_lists(frame, ("source_files", "warnings"))
        frame["runner_id"] = pd.Series(self.runner_id, index=frame.index, dtype="str")
        return frame

    def duplicates(self) -> pd.DataFrame:
        """Activities recognised as another copy of a kept one (``duplicate_of``, ``duplicate_reason``)."""
        frame = self._table("duplicates")
        if frame is None:
            out = _empty_activities()
            out["duplicate_of"] = pd.Series(dtype="str")
            out["duplicate_reason"] = pd.Series(dtype="str")
            return out
        return _restore_lists(frame, ("source_files", "warnings"))

    def files(self) -> pd.DataFrame:
        """The files index: one row per file or zip member ever imported (see schema.FILES)."""
        frame = self._table("files")
        if frame is None:
            return pd.DataFrame({name: pd.Series(dtype=col.dtype) for name, col in FILES.items()})
        return _restore_lists(frame, ("activity_ids",))

    def strava_activities(self) -> pd.DataFrame:
        """Rows of the Strava ``activities.csv`` files imported, with the matched ``activity_id``."""
        frame = self._table("exports")
        if frame is None:
            cols = [*STRAVA_COLUMNS, "csv_path", "file_key", "activity_id"]
            return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
        return frame

    def _check_id(self, activity_id: str, folder: str) -> Path:
        file = self.path / folder / f"{activity_id}.parquet"
        if file.exists():  # fast path: metrics loop over thousands of ids
            return file
        known: set[str] = set()
        for name in ("activities", "duplicates"):
            table = self._table(name)
            if table is not None:
                known.update(table["activity_id"].astype(str))
        if str(activity_id) not in known:
            raise UnknownActivityError(
                f"activity_id {activity_id!r} is not in the store at {self.path}; list the ids "
                f"with Store({str(self.path)!r}).activities()['activity_id'] or "
                f"`kneedata activities --store {self.path}`"
            )
        raise UnknownActivityError(
            f"activity {activity_id!r} is listed but its {folder} file {file} is missing; "
            "run the import again to restore it"
        )

    def records(self, activity_id: str) -> pd.DataFrame:
        """Samples of one activity (tz-aware UTC ``DatetimeIndex`` ``timestamp``; schema.RECORDS).

        Raises
        ------
        UnknownActivityError
            For an id the store does not hold (a ``ValueError``).
        """
        return pd.read_parquet(self._check_id(activity_id, "records"))

    def records_map(self) -> StoredRecords:
        """Every activity's records as a read-only mapping ``activity_id -> records``.

        Each frame is read from Parquet when looked up (one run in memory at a time),
        so the pure metrics (:func:`kneedata.gait_metrics`) can take the store's
        records like any other mapping.
        """
        return StoredRecords(self)

    def laps(self, activity_id: str) -> pd.DataFrame:
        """Laps of one activity (schema.LAPS); raises :class:`UnknownActivityError` for unknown ids."""
        return pd.read_parquet(self._check_id(activity_id, "laps"))

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
            run = _ImportRun(self, force=force, progress=progress, fit_engine=fit_engine)
            report = run.execute(list(paths), workers=workers, executor=executor)
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
        for note in _as_list(act.get("warnings")):
            rows.append({"file": act.get("source_file"), "activity_id": act.get("activity_id"),
                         "local_date": act.get("local_date"), "sport": act.get("sport"),
                         "note": note})
    return pd.DataFrame(rows, columns=columns)


def _empty_activities() -> pd.DataFrame:
    cols = {name: pd.Series(dtype=col.dtype if col.dtype not in ("string",) else "str")
            for name, col in ACTIVITIES.items()}
    cols.update({name: pd.Series(dtype=col.dtype) for name, col in STORE_ACTIVITIES.items()})
    return pd.DataFrame(cols)


def _restore_lists(frame: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    frame = frame.copy()
    for col in columns:
        if col in frame:
            frame[col] = pd.Series([_as_list(v) for v in frame[col]], index=frame.index, dtype=object)
    return frame


def _frame_from_rows(rows: list[dict[str, Any]], first: Iterable[str]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(rows) if rows else pd.DataFrame()
    order = [c for c in first if c in frame.columns]
    order += [c for c in frame.columns if c not in order]
    frame = frame[order] if len(frame.columns) else frame
    for col in frame.columns:
        if frame[col].dtype != object:
            continue
        kinds = {type(v) for v in frame[col] if not _missing(v)}
        if len(kinds) > 1 and not kinds <= {list, tuple} and not kinds <= {int, float, bool}:
            frame[col] = [None if _missing(v) else str(v) for v in frame[col]]
    return frame


def _missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float):
        return bool(np.isnan(value))
    return value is pd.NaT or value is pd.NA


_SUMMARY_ORDER = [*ACTIVITIES, *STORE_ACTIVITIES]


class _ImportRun:
    """State of one import: the index, all activity rows, the report in the making."""

    def __init__(self, store: Store, *, force: bool, progress: bool,
                 fit_engine: str | None = None) -> None:
        self.store = store
        self.root = store.path
        self.force = force
        self.fit_engine = fit_engine
        self.progress = progress
        self.index: dict[str, dict[str, Any]] = {}
        self._acts: dict[str, dict[str, Any]] | None = None  # loaded on first use
        self.known_ids: set[str] = set()
        self.stored_dup_of: dict[str, str] = {}
        self._dup_of: dict[str, tuple[str, str]] | None = None  # set by each commit
        self.meta = pd.DataFrame()
        self.seen: dict[str, str] = {}  # key -> "unchanged" | "processed"
        self.extra_rows: list[dict[str, Any]] = []
        self.dirty = False
        self.n_records = 0
        self.n_read = 0
        self.since_commit = 0
        self.last_commit = time.monotonic()
        self.record_files: set[str] = set()
        self.providers: dict[str, set[str]] = {}  # activity_id -> keys of files holding it
        self.progress_bar: _Progress | None = None
        self._load()

    # ---- state -------------------------------------------------------------------

    def _load(self) -> None:
        for tmp in [*self.root.glob(".*.tmp"), *self.root.glob("records/.*.tmp"),
                    *self.root.glob("laps/.*.tmp")]:
            with contextlib.suppress(OSError):
                tmp.unlink()
        files_path = self.root / "files.parquet"
        if files_path.exists():
            import pyarrow.parquet as pq

            for row in pq.read_table(files_path).to_pylist():  # fast: plain Python values
                row["activity_ids"] = [str(a) for a in row.get("activity_ids") or []]
                for col in ("size", "mtime_ns"):
                    row[col] = -1 if row.get(col) is None else int(row[col])
                for col in ("sha256", "reason", "kind", "container", "status"):
                    row[col] = "" if row.get(col) is None else str(row[col])
                self.index[row["path"]] = row
                if row["kind"] == "activity":
                    for aid in row["activity_ids"]:
                        self.providers.setdefault(aid, set()).add(row["path"])
        for name in ("activities", "duplicates"):
            file = self.root / f"{name}.parquet"
            if not file.exists():
                continue
            cols = ["activity_id", "duplicate_of"] if name == "duplicates" else ["activity_id"]
            ids = pd.read_parquet(file, columns=cols)
            self.known_ids.update(ids["activity_id"].astype(str))
            if name == "duplicates":
                self.stored_dup_of = dict(zip(ids["activity_id"].astype(str),
                                              ids["duplicate_of"].astype(str), strict=True))
        meta = self.store._table("exports")
        if meta is not None:
            self.meta = meta.drop(columns=["activity_id"], errors="ignore")
        # record and lap files of no activity in the tables: written by the workers of a
        # killed import after its last commit; the files are read again if still given
        self._remove_orphans(self.known_ids)
        self.record_files = {p.name[: -len(".parquet")] for p in (self.root / "records").glob("*.parquet")}

    @property
    def acts(self) -> dict[str, dict[str, Any]]:
        """Every activity row (kept and duplicates), read from the tables on first use."""
        if self._acts is None:
            acts: dict[str, dict[str, Any]] = {}
            store_cols = set(STORE_ACTIVITIES) - {"n_record_columns", "warnings"}
            for name in ("activities", "duplicates"):
                table = self.store._table(name)
                if table is None:
                    continue
                table = _restore_lists(table, ("warnings",))
                drop = [c for c in table.columns if c in store_cols or c in DUPLICATES]
                for record in table.drop(columns=drop).to_dict("records"):
                    acts[str(record["activity_id"])] = {str(k): v for k, v in record.items()}
            self._acts = acts
        return self._acts

    def _has(self, aid: str) -> bool:
        return aid in self._acts if self._acts is not None else aid in self.known_ids

    def _children(self, key: str) -> list[str]:
        prefix = key + MEMBER_SEP
        return [k for k in self.index if k.startswith(prefix)]

    def _intact(self, key: str) -> bool:
        entry = self.index[key]
        if entry["status"] in ("imported", "duplicate") and entry["kind"] == "activity":
            return all(self._has(a) and a in self.record_files for a in entry["activity_ids"])
        if entry["kind"] == "archive":
            return all(self._intact(k) for k in self._children(key))
        return True

    def _tick(self, key: str) -> None:
        if self.progress_bar is not None:
            self.progress_bar.done(key)

    def _mark_unchanged(self, key: str, *, recurse: bool = True) -> None:
        self.seen[key] = "unchanged"
        self._tick(key)
        if recurse and self.index[key]["kind"] == "archive":
            for child in self._children(key):
                self.seen[child] = "unchanged"

    def _set_entry(self, key: str, **fields: Any) -> None:
        entry = {
            "path": key, "size": -1, "mtime_ns": -1, "sha256": "", "status": "not_an_activity",
            "activity_ids": [], "reason": "", "kind": "other", "container": "",
        }
        entry.update(fields)
        old = self.index.get(key)
        if old is not None:
            self._unlink(key, old)
        self.index[key] = entry
        self.dirty = True

    def _unlink(self, key: str, entry: dict[str, Any]) -> None:
        """Undo what the index entry ``entry`` of ``key`` provided (activities, CSV rows)."""
        if entry["kind"] == "activity":
            for aid in entry["activity_ids"]:
                self.providers.get(aid, set()).discard(key)
                self._release(aid, key)
        if entry["kind"] == "strava_csv" and len(self.meta):
            self.meta = self.meta[self.meta["csv_path"] != key]

    def _release(self, aid: str, key: str) -> None:
        """``key`` no longer provides ``aid``: hand the row to another copy or drop it."""
        row = self.acts.get(aid)
        if row is None or row.get("source_file") != key:
            return
        others = sorted(self.providers.get(aid, set()) - {key})
        if others:
            row["source_file"] = others[0]
            return
        del self.acts[aid]

    def _forget(self, key: str) -> None:
        entry = self.index.pop(key, None)
        if entry is None:
            return
        self.dirty = True
        self._unlink(key, entry)

    # ---- walking the inputs -------------------------------------------------------

    def _walk(self, paths: list[Any]) -> list[str]:
        store_real = os.path.realpath(self.root)
        out: list[str] = []
        seen: set[str] = set()

        def add(path: str) -> None:
            if path not in seen:
                seen.add(path)
                out.append(path)

        for given in paths:
            path = os.path.abspath(os.path.expanduser(os.fspath(given)))
            if os.path.isdir(path):
                for folder, dirs, names in os.walk(path):
                    real = os.path.realpath(folder)
                    if real == store_real or real.startswith(store_real + os.sep):
                        dirs[:] = []
                        continue
                    dirs.sort()
                    for name in sorted(names):
                        add(os.path.join(folder, name))
            elif os.path.lexists(path):
                add(path)
            else:
                self.extra_rows.append({
                    "path": path, "status": "failed", "activity_ids": [],
                    "reason": "no such file or folder; check the path",
                })
        return out

    def _tasks(self, files: list[str], *, sizes: dict[str, int], largest_first: bool) -> Iterator[_Task]:
        """Plan every file; in parallel runs the largest first (shorter tail of the pool)."""
        if largest_first:
            files = sorted(files, key=lambda k: -sizes[k])
        for key in files:
            yield from self._plan_file(key)

    def _classify(self, name: str, head: bytes) -> str:
        if name.lower().endswith(".zip") or head[:4] == b"PK\x03\x04":
            return "archive"
        if activity_suffix(name):
            return "activity"
        if name.lower().endswith(".csv") and is_strava_activities_csv(head):
            return "strava_csv"
        probe = head
        if head[:2] == b"\x1f\x8b":
            try:
                probe = gunzip_limited(head, limit=_HEAD_BYTES, what=name)
            except (LimitExceeded, OSError, EOFError, ValueError, zlib.error):
                probe = b""
        return "activity" if sniff_format(probe) else "other"

    def _settle(self, key: str, **fields: Any) -> None:
        """Index ``key`` as dealt with here, without a worker reading it."""
        self.seen[key] = "processed"
        self._set_entry(key, **fields)
        self._tick(key)

    def _plan_file(self, key: str) -> Iterator[_Task]:
        try:
            st = os.stat(key)
        except OSError as err:
            self._settle(key, status="failed", reason=_cannot_read(err))
            return
        if not stat.S_ISREG(st.st_mode):
            self._settle(key, status="not_an_activity", reason="not a regular file (device, pipe or socket)")
            return
        entry = self.index.get(key)
        if entry is not None and not self.force and self._intact(key):
            if entry["size"] == st.st_size and entry["mtime_ns"] == st.st_mtime_ns:
                self._mark_unchanged(key)
                return
            if entry["sha256"]:
                try:
                    sha = _hash_file(key)
                except OSError:
                    sha = ""
                if sha == entry["sha256"]:
                    entry["size"], entry["mtime_ns"] = st.st_size, st.st_mtime_ns
                    self.dirty = True
                    self._mark_unchanged(key)
                    return
        try:
            with open(key, "rb") as fh:
                head = fh.read(_HEAD_BYTES)
        except OSError as err:
            self._settle(key, status="failed", reason=_cannot_read(err))
            return
        kind = self._classify(key, head)
        if kind == "archive":
            yield from self._plan_archive(key, st)
            return
        if kind == "activity":
            self.seen[key] = "processed"
            yield _Task(key=key, path=key, data=None, store_dir=str(self.root), fit_engine=self.fit_engine,
                        limits=self.store.limits, size=st.st_size, mtime_ns=st.st_mtime_ns)
            return
        self.seen[key] = "processed"
        data = head if st.st_size <= len(head) else None
        if kind == "strava_csv":
            try:
                data = Path(key).read_bytes()
            except OSError as err:
                self._settle(key, status="failed", reason=_cannot_read(err))
                return
        sha = hashlib.sha256(data).hexdigest() if data is not None else ""
        self._plan_other(key, kind, data, size=st.st_size, mtime_ns=st.st_mtime_ns, sha=sha, container="")

    def _plan_other(self, key: str, kind: str, data: bytes | None, *, size: int, mtime_ns: int,
                    sha: str, container: str) -> None:
        if kind == "strava_csv" and data is not None:
            self._set_entry(key, kind="strava_csv", size=size, mtime_ns=mtime_ns, sha256=sha,
                            container=container, status="not_an_activity",
                            reason="Strava activities.csv")
            try:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    rows = read_strava_activities(data, source_name=key)
            except (KneedataError, ValueError) as err:
                self.index[key].update(status="failed", reason=str(err))
                self._tick(key)
                return
            rows["csv_path"] = key
            rows["file_key"] = [join_member_path(key, f) if isinstance(f, str) and f else None
                                for f in rows["filename"]]
            notes = [str(w.message) for w in caught]
            self.index[key]["reason"] = "; ".join(["Strava activities.csv", *notes])
            keep = self.meta[self.meta["csv_path"] != key] if len(self.meta) else self.meta
            self.meta = pd.concat([keep, rows], ignore_index=True) if len(keep) else rows
        else:
            ext = os.path.splitext(_key_basename(key))[1] or "no extension"
            self._set_entry(key, kind="other", size=size, mtime_ns=mtime_ns, sha256=sha,
                            container=container, status="not_an_activity",
                            reason=f"not an activity file ({ext}: not FIT, GPX or TCX by name or content)")
        self._tick(key)

    def _plan_archive(self, key: str, st: os.stat_result) -> Iterator[_Task]:
        before = set(self._children(key))
        walked: set[str] = set()
        for member in iter_zip(key, key, limits=self.store.limits):
            container = member.key.rsplit(MEMBER_SEP, 1)[0] if member.key != key else ""
            size = st.st_size if member.key == key else member.size
            mtime = st.st_mtime_ns if member.key == key else -1
            walked.add(member.key)
            self.seen[member.key] = "processed"
            if member.is_archive:
                if member.error:
                    self._set_entry(member.key, kind="archive", status="failed", reason=member.error,
                                    size=size, mtime_ns=mtime, container=container)
                else:
                    sha = _hash_file(key) if member.key == key else ""
                    self._set_entry(
                        member.key, kind="archive", status="not_an_activity", size=size,
                        mtime_ns=mtime, sha256=sha, container=container,
                        reason=(f"archive with {member.n_members} file(s); each is reported as "
                                f"'{_key_basename(member.key)}{MEMBER_SEP}<member>'"),
                    )
                    if self.progress_bar is not None:
                        self.progress_bar.split(member.key, member.children)
                self._tick(member.key)
                continue
            if member.error or member.data is None:
                self._set_entry(member.key, kind="activity" if activity_suffix(member.name) else "other",
                                status="failed", reason=member.error or "unreadable member",
                                size=size, mtime_ns=mtime, container=container)
                self._tick(member.key)
                continue
            data = member.data
            sha = hashlib.sha256(data).hexdigest()
            entry = self.index.get(member.key)
            if (entry is not None and not self.force and entry["sha256"] == sha
                    and entry["kind"] != "archive" and self._intact(member.key)):
                self._mark_unchanged(member.key, recurse=False)
                continue
            kind = self._classify(member.name, data[:_HEAD_BYTES])
            if kind == "activity":
                yield _Task(key=member.key, path=None, data=data, store_dir=str(self.root), fit_engine=self.fit_engine,
                            limits=self.store.limits, size=len(data), mtime_ns=-1, container=container)
            else:
                self._plan_other(member.key, kind if kind != "archive" else "other", data,
                                 size=len(data), mtime_ns=-1, sha=sha, container=container)
        for gone in before - walked:
            self._forget(gone)

    # ---- results -----------------------------------------------------------------------

    def _apply(self, res: dict[str, Any]) -> None:
        key = res["key"]
        self.n_read += 1
        self.n_records += int(res.get("n_records", 0))
        fields = {"kind": "activity", "size": res["size"], "mtime_ns": res["mtime_ns"],
                  "sha256": res["sha256"], "container": res.get("container", "")}
        if res.get("not_an_activity"):
            self._set_entry(key, status="not_an_activity", reason=res["reason"],
                            **{**fields, "kind": "other"})
        elif not res["ok"]:
            self._set_entry(key, status="failed", reason=res["reason"], **fields)
        else:
            self._set_entry(key, status="imported", **fields)
            ids = []
            for summary in res["activities"]:
                aid = str(summary["activity_id"])
                current = self.acts.get(aid)
                owner = current.get("source_file") if current is not None else None
                alive = (owner is not None and owner != key and owner in self.index
                         and aid in self.index[owner]["activity_ids"])
                if not alive:
                    self.acts[aid] = summary
                self.record_files.add(aid)
                self.providers.setdefault(aid, set()).add(key)
                ids.append(aid)
            self.index[key]["activity_ids"] = ids
        self._tick(key)
        self.since_commit += 1
        if (self.since_commit >= self.store.checkpoint_every
                or time.monotonic() - self.last_commit >= self.store.checkpoint_seconds):
            self._commit(final=False)

    # ---- commit --------------------------------------------------------------------------

    def _commit(self, *, final: bool) -> None:
        dup_of = _deduplicate(self.acts)
        copies: dict[str, list[str]] = {}
        for key, entry in self.index.items():
            if entry["kind"] != "activity" or entry["status"] == "failed":
                continue
            for aid in entry["activity_ids"]:
                row = self.acts.get(aid)
                if row is not None and row.get("source_file") != key:
                    copies.setdefault(aid, []).append(key)
        groups: dict[str, list[str]] = {}
        for aid, (kept_id, _) in dup_of.items():
            groups.setdefault(kept_id, []).append(aid)

        kept_rows: list[dict[str, Any]] = []
        dup_rows: list[dict[str, Any]] = []
        for aid, row in self.acts.items():
            if aid in dup_of:
                out = dict(row)
                out["duplicate_of"], out["duplicate_reason"] = dup_of[aid]
                dup_rows.append(out)
                continue
            members = [aid, *sorted(groups.get(aid, []),
                                    key=lambda m: tuple(-v for v in _richness(self.acts[m])))]
            sources: list[str] = []
            for m in members:
                for src in [str(self.acts[m].get("source_file")), *copies.get(m, [])]:
                    if src not in sources:
                        sources.append(src)
            out = dict(row)
            out["source_files"] = sources
            out["n_sources"] = len(sources)
            kept_rows.append(out)

        meta_ids = self._join_metadata(kept_rows)
        self._update_statuses(dup_of, meta_ids)

        kept = _frame_from_rows(kept_rows, _SUMMARY_ORDER)
        for col in ("name", "gear", "strava_id", "strava_type", "metadata_match"):
            if col in kept:
                kept[col] = kept[col].astype("str")
        if len(kept):
            kept = kept.sort_values(["start_time_utc", "activity_id"], kind="stable").reset_index(drop=True)
        dups = _frame_from_rows(dup_rows, _SUMMARY_ORDER)
        _atomic_parquet(kept if len(kept) else _empty_activities(), self.root / "activities.parquet",
                        index=False, fsync=True)
        if len(dups):
            _atomic_parquet(dups, self.root / "duplicates.parquet", index=False, fsync=True)
        elif (self.root / "duplicates.parquet").exists():
            (self.root / "duplicates.parquet").unlink()
        if len(self.meta):
            meta = self.meta.copy()
            meta["activity_id"] = [meta_ids.get(i) for i in range(len(meta))]
            _atomic_parquet(meta, self.root / "exports.parquet", index=False, fsync=True)
        elif (self.root / "exports.parquet").exists():
            (self.root / "exports.parquet").unlink()
        files = pd.DataFrame.from_records(list(self.index.values()), columns=list(FILES))
        for col in ("size", "mtime_ns"):
            files[col] = files[col].astype("int64")
        _atomic_parquet(files, self.root / "files.parquet", index=False, fsync=True)
        if final:
            self._remove_orphans(self.acts)
        self.since_commit = 0
        self.last_commit = time.monotonic()

    def _remove_orphans(self, keep: Collection[str]) -> None:
        """Delete record and lap files whose activity id is not in ``keep``."""
        for folder in ("records", "laps"):
            for file in (self.root / folder).glob("*.parquet"):
                if file.name[: -len(".parquet")] not in keep:
                    with contextlib.suppress(OSError):
                        file.unlink()

    def _join_metadata(self, kept_rows: list[dict[str, Any]]) -> dict[int, str]:
        """Attach Strava name/gear/RPE to kept rows; return meta row position -> activity_id."""
        for row in kept_rows:
            for col in ("name", "gear", "strava_id", "strava_type", "metadata_match"):
                row[col] = None
            row["rpe"] = float("nan")
        if not len(self.meta):
            return {}
        meta = self.meta.reset_index(drop=True)
        by_key: dict[str, int] = {}
        by_base: dict[str, list[int]] = {}
        for i, (fkey, fname) in enumerate(zip(meta["file_key"], meta["filename"], strict=True)):
            if isinstance(fkey, str) and fkey:
                by_key.setdefault(fkey, i)
            if isinstance(fname, str) and fname:
                by_base.setdefault(_key_basename(fname), []).append(i)
        used: dict[int, str] = {}
        unmatched: list[dict[str, Any]] = []
        for row in kept_rows:
            hit, how = None, None
            for src in row["source_files"]:
                if src in by_key and by_key[src] not in used:
                    hit, how = by_key[src], "file"
                    break
            if hit is None:
                for src in row["source_files"]:
                    cands = [i for i in by_base.get(_key_basename(src), []) if i not in used]
                    if len(cands) == 1:
                        hit, how = cands[0], "basename"
                        break
            if hit is None or how is None:
                unmatched.append(row)
                continue
            used[hit] = row["activity_id"]
            _apply_meta(row, meta.iloc[hit], how)
        # remaining rows: start within 2 min and distance within 3 %, unique both ways
        free = [i for i in range(len(meta))
                if i not in used and not _missing(meta["start_time_utc"].iloc[i])]
        if free and unmatched:
            starts = pd.to_datetime(meta.loc[free, "start_time_utc"], utc=True)
            for row in unmatched:
                start = row.get("start_time_utc")
                if not isinstance(start, pd.Timestamp) or pd.isna(start):
                    continue
                near = [i for i, s in zip(free, starts, strict=True)
                        if i not in used and abs((s - start).total_seconds()) <= DUPLICATE_START_S
                        and _close(meta.at[i, "distance_m"], row.get("distance_m"))]
                if len(near) == 1:
                    used[near[0]] = row["activity_id"]
                    _apply_meta(row, meta.iloc[near[0]], "start_time")
        return used

    def _update_statuses(self, dup_of: dict[str, tuple[str, str]], meta_ids: dict[int, str]) -> None:
        for key, entry in self.index.items():
            if entry["kind"] == "strava_csv" and entry["status"] != "failed" and len(self.meta):
                mask = (self.meta["csv_path"] == key).to_numpy()
                positions = np.flatnonzero(mask)
                n = len(positions)
                joined = sum(1 for p in positions if int(p) in meta_ids)
                missing = [self.meta.iloc[int(p)] for p in positions if int(p) not in meta_ids]
                example = ", ".join(
                    str(r["filename"]) if isinstance(r["filename"], str) else f"id {r['strava_id']}"
                    for r in missing[:3])
                entry["reason"] = (
                    f"Strava activities.csv: {n} activities listed; {joined} joined to activities in "
                    f"the store (name, gear, perceived exertion); {len(missing)} listed without an "
                    f"activity file in the store" + (f" (e.g. {example})" if missing else "")
                )
                continue
            if entry["kind"] != "activity" or entry["status"] == "failed":
                continue
            ids = entry["activity_ids"]
            own = [a for a in ids if a in self.acts and self.acts[a].get("source_file") == key]
            kept_here = [a for a in own if a not in dup_of]
            notes: list[str] = []
            for a in ids:
                row = self.acts.get(a)
                if row is None:
                    continue
                if row.get("source_file") != key:
                    notes.append(f"{a}: identical content to {row.get('source_file')}")
                    if a in dup_of:
                        notes.append(f"{a}: {dup_of[a][1]}")
                elif a in dup_of:
                    notes.append(f"{a}: {dup_of[a][1]}")
            if kept_here:
                entry["status"] = "imported"
                warn = [w for a in kept_here for w in _as_list(self.acts[a].get("warnings"))]
                parts = []
                if warn:
                    parts.append(f"{len(warn)} data-quality note(s): " + "; ".join(warn))
                if notes:
                    parts.append("some sessions are duplicates: " + "; ".join(notes))
                entry["reason"] = " | ".join(parts)
            else:
                entry["status"] = "duplicate"
                entry["reason"] = "; ".join(notes) if notes else "duplicate of an activity in the store"
        self._dup_of = dup_of

    def _resolve(self, aid: str) -> str:
        dup_of = self._dup_of or {}
        return dup_of[aid][0] if aid in dup_of else aid

    # ---- running ---------------------------------------------------------------------------

    def execute(self, paths: list[Any], *, workers: int | None, executor: cf.Executor | None) -> ImportReport:
        started = time.perf_counter()
        files = self._walk(paths)
        sizes = {}
        for key in files:
            try:
                sizes[key] = os.stat(key).st_size
            except OSError:
                sizes[key] = 0
        if self.progress and _interactive(sys.stderr):
            self.progress_bar = _Progress(sizes)
        n_workers = int(workers) if workers else (os.cpu_count() or 1)
        if n_workers < 1:
            raise ValueError(f"workers={workers!r}: give 1 or more worker processes (or None for all cores)")
        own_pool: cf.ProcessPoolExecutor | None = None
        try:
            serial = executor is None and n_workers == 1
            tasks = self._tasks(files, sizes=sizes, largest_first=not serial)
            if serial:
                for task in tasks:
                    try:
                        res = _process(task)
                    except Exception as err:  # never let one file stop the others
                        res = _failure(task, f"internal error ({type(err).__name__}: {err})")
                    self._apply(res)
            else:
                def make_pool() -> cf.Executor:
                    nonlocal own_pool
                    if executor is not None:
                        return executor
                    own_pool = cf.ProcessPoolExecutor(max_workers=n_workers, mp_context=_mp_context(),
                                                      initializer=exit_with_parent,
                                                      initargs=(os.getpid(),))
                    return own_pool

                self._run_parallel(tasks, make_pool, window=max(4, 3 * n_workers) if executor is None else 64)
            if self.dirty:
                self._commit(final=True)
        except BaseException:
            # keep what was read: the tables are consistent at every commit
            with contextlib.suppress(Exception):
                if self.dirty:
                    self._commit(final=False)
            raise
        finally:
            if own_pool is not None:
                own_pool.shutdown(wait=True, cancel_futures=True)
            if self.progress_bar is not None:
                self.progress_bar.close()
        if self._dup_of is None:  # nothing committed in this run: the stored mapping
            self._dup_of = {a: (k, "") for a, k in self.stored_dup_of.items()}
        rows = list(self.extra_rows)
        position = {key: i for i, key in enumerate(files)}
        seen = sorted(enumerate(self.seen.items()),
                      key=lambda item: (position.get(item[1][0].split(MEMBER_SEP)[0], -1), item[0]))
        for _, (key, how) in seen:
            entry = self.index.get(key)
            if entry is None:  # should not happen; never drop a file silently
                rows.append({"path": key, "status": "failed", "activity_ids": [],
                             "reason": "internal error: the file was seen but not recorded; import again"})
                continue
            ids = list(dict.fromkeys(self._resolve(a) for a in entry["activity_ids"])) \
                if entry["status"] in ("imported", "duplicate") else []
            if how == "unchanged" and entry["status"] == "failed":
                # still broken: reported as failed, with its reason, until it changes
                rows.append({"path": key, "status": "failed", "activity_ids": [],
                             "reason": f"{entry['reason']} (unchanged since the last import)"})
            elif how == "unchanged":
                detail = entry["status"] + (f": {entry['reason']}" if entry["reason"] else "")
                rows.append({"path": key, "status": "unchanged", "activity_ids": ids,
                             "reason": f"unchanged since the last import ({detail})"})
            else:
                rows.append({"path": key, "status": entry["status"], "activity_ids": ids,
                             "reason": entry["reason"]})
        return ImportReport(rows=rows, store_path=self.root, elapsed_s=time.perf_counter() - started,
                            n_records=self.n_records, n_files_read=self.n_read)

    def _run_parallel(self, tasks: Iterator[_Task], make_pool: Any, *, window: int) -> None:
        pool: cf.Executor | None = None
        pending: dict[cf.Future[Any], _Task] = {}
        retried: set[str] = set()

        def collect(block_until: int) -> None:
            nonlocal pool
            while len(pending) > block_until:
                done, _ = cf.wait(list(pending), return_when=cf.FIRST_COMPLETED)
                for fut in done:
                    task = pending.pop(fut)
                    try:
                        res = fut.result()
                    except BrokenProcessPool as err:
                        if task.key in retried:
                            res = _read_alone(task, err)
                        else:  # another file may have killed the pool: retry once in a new one
                            retried.add(task.key)
                            if isinstance(pool, cf.ProcessPoolExecutor):
                                pool.shutdown(wait=False, cancel_futures=True)
                                pool = make_pool()
                            assert pool is not None
                            pending[pool.submit(_process, task)] = task
                            continue
                    except Exception as err:  # executor-side failure of one task
                        res = _failure(task, f"worker error ({type(err).__name__}: {err})")
                    self._apply(res)

        for task in tasks:
            if pool is None:
                pool = make_pool()
            pending[pool.submit(_process, task)] = task
            if len(pending) >= window:
                collect(window - 1)
        collect(0)


def _interactive(stream: Any) -> bool:
    """A terminal or a Jupyter kernel: where a progress bar is read, not logged line by line."""
    try:
        if stream.isatty():
            return True
    except (AttributeError, ValueError):
        return False
    return type(stream).__module__.startswith("ipykernel")


class _Progress:
    """Import progress in bytes of the inputs: the total is fixed before the first file.

    An archive hands its share on to its members in equal parts (a nested zip to its
    own members in turn), so the bar moves through one large export without its total
    ever changing.
    """

    def __init__(self, sizes: dict[str, int]) -> None:
        from tqdm import tqdm

        self.share = {key: float(max(size, 1)) for key, size in sizes.items()}
        self.bar = tqdm(total=sum(self.share.values()), unit="B", unit_scale=True, desc="import",
                        file=sys.stderr, dynamic_ncols=True, leave=True)

    def split(self, key: str, children: list[str]) -> None:
        """``key`` is an archive: its share goes to ``children``."""
        if not children:
            return
        part = self.share.pop(key, 0.0) / len(children)
        for child in children:
            self.share[child] = self.share.get(child, 0.0) + part

    def done(self, key: str) -> None:
        share = self.share.pop(key, 0.0)
        if share:
            self.bar.update(share)

    def close(self) -> None:
        if self.bar.total is not None and self.bar.n < self.bar.total:
            self.bar.update(self.bar.total - self.bar.n)
        self.bar.close()


def _read_alone(task: _Task, err: BaseException) -> dict[str, Any]:
    """Read a file that was in flight when a pool broke twice, alone in a new worker.

    A pool breaks for many reasons (a worker killed for memory, a worker that cannot
    start); only a worker that dies while reading this file and nothing else blames
    the file. When no worker process can start at all, the file is read in this process.
    """
    with cf.ProcessPoolExecutor(max_workers=1, mp_context=_mp_context(), initializer=exit_with_parent,
                                initargs=(os.getpid(),)) as solo:
        try:
            solo.submit(os.getpid).result()
        except BrokenProcessPool:
            return _process(task)  # the workers are what is broken, not the file
        try:
            return solo.submit(_process, task).result()
        except BrokenProcessPool as again:
            return _failure(task, f"the reader crashed its worker process while reading this "
                                  f"file alone ({again}; first: {err})")


def _failure(task: _Task, reason: str) -> dict[str, Any]:
    # size/mtime -1: a transient failure is retried by the next import
    return {"key": task.key, "size": -1, "mtime_ns": -1, "sha256": "",
            "container": task.container, "ok": False, "reason": reason, "activities": [],
            "n_records": 0}


def _close(a: Any, b: Any) -> bool:
    rel = _rel_gap(a, b)
    return rel is not None and rel <= DUPLICATE_DISTANCE_REL


def _apply_meta(row: dict[str, Any], meta: pd.Series, how: str) -> None:
    def text(value: Any) -> str | None:
        return None if _missing(value) or value == "" else str(value)

    row["name"] = text(meta.get("name"))
    row["gear"] = text(meta.get("gear"))
    row["rpe"] = _num(meta.get("rpe"))
    row["strava_id"] = text(meta.get("strava_id"))
    row["strava_type"] = text(meta.get("activity_type"))
    row["metadata_match"] = how


def _hash_file(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@contextlib.contextmanager
def _main_module_hidden() -> Iterator[None]:
    """Hide the caller's ``__main__`` while a worker process is launched.

    ``spawn`` and ``forkserver`` workers re-run the parent's main script (or ``-m``
    module) before they take work, so a script that calls :meth:`Store.import_paths`
    at its top level without an ``if __name__ == "__main__":`` guard would run again
    in every worker. Our workers only run :func:`_process` (kneedata code): they are
    launched with a blank ``__main__``, which multiprocessing leaves alone.
    """
    real = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if real is not None:
            sys.modules["__main__"] = real


class _WorkerProcessMixin:
    @staticmethod
    def _Popen(process_obj: Any) -> Any:
        with _main_module_hidden():
            return _BASE_PROCESS._Popen(process_obj)


if "forkserver" in multiprocessing.get_all_start_methods():
    from multiprocessing.context import ForkServerContext as _BaseContext
    from multiprocessing.context import ForkServerProcess as _BASE_PROCESS
else:  # pragma: no cover - Windows
    from multiprocessing.context import SpawnContext as _BaseContext  # type: ignore[assignment]
    from multiprocessing.context import SpawnProcess as _BASE_PROCESS  # type: ignore[assignment]


class _WorkerProcess(_WorkerProcessMixin, _BASE_PROCESS):  # type: ignore[misc,valid-type]
    """A worker that never imports the caller's main script (see :func:`_main_module_hidden`)."""


class _WorkerContext(_BaseContext):  # type: ignore[misc,valid-type]
    Process = _WorkerProcess  # type: ignore[assignment]


#: How often a worker checks that the importing process is still alive [s].
PARENT_CHECK_S = 0.5


def parent_alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (a zombie, killed but not yet reaped, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    try:
        stat_text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # no /proc (macOS): the signal test has to do
        return True
    return stat_text.rpartition(")")[2].split()[0] != "Z"


def exit_with_parent(parent_pid: int) -> None:
    """Worker initializer: end this worker as soon as the importing process ``parent_pid`` dies.

    Pool workers are children of the forkserver, not of the import, so they would
    otherwise outlive a killed import and keep writing record files. A daemon thread
    checks every :data:`PARENT_CHECK_S` seconds and ends the worker with
    ``os._exit`` (a record file it was writing is a temporary file that the next
    import removes).
    """
    def watch() -> None:
        while parent_alive(parent_pid):
            time.sleep(PARENT_CHECK_S)
        os._exit(1)

    threading.Thread(target=watch, name="kneedata-parent-watch", daemon=True).start()


def _mp_context() -> Any:
    ctx = _WorkerContext()
    if ctx.get_start_method() == "forkserver":
        ctx.set_forkserver_preload(["kneedata.store", "kneedata.io.read"])
    return ctx
