"""One import into a single-runner store: plan, read, deduplicate, join, checkpoint, report.

The steps live in their own modules (:mod:`~kneedata.store.plan`,
:mod:`~kneedata.store.executor`, :mod:`~kneedata.store.duplicates`,
:mod:`~kneedata.store.metadata`, :mod:`~kneedata.store.checkpoint`); an
:class:`ImportRun` holds the state they share: the files index, every activity row,
the Strava CSV rows and the report in the making.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from kneedata.io.exports import MEMBER_SEP, ZipLimits
from kneedata.io.read import READER_VERSION
from kneedata.store.checkpoint import (
    CheckpointClock,
    activities_frame,
    remove_orphans,
    remove_temp_files,
    write_tables,
)
from kneedata.store.dataset import KINDS, DatasetState, legacy_files
from kneedata.store.duplicates import deduplicate, file_status, fold_duplicates
from kneedata.store.executor import TaskRunner
from kneedata.store.files_index import (
    Entry,
    children,
    files_frame,
    new_entry,
    other_copies,
    providers,
    read_files_index,
    stale,
)
from kneedata.store.metadata import csv_reason, join_metadata
from kneedata.store.plan import (
    Forget,
    PlanContext,
    Settle,
    Split,
    Step,
    Unchanged,
    plan_file,
    walk_paths,
)
from kneedata.store.progress import Progress, interactive
from kneedata.store.report import ImportReport
from kneedata.store.tables import (
    SUMMARY_ORDER,
    activity_rows,
    frame_from_rows,
    read_table,
    stored_ids,
)
from kneedata.store.wellness import WellnessItems
from kneedata.store.worker import Task

__all__ = ["ImportOptions", "ImportRun", "report_rows"]


@dataclass(frozen=True)
class ImportOptions:
    """Where and how to import: the runner's store folder and the import's settings."""

    root: Path
    limits: ZipLimits
    runner_id: str = "runner"
    checkpoint_every: int = 200
    checkpoint_seconds: float = 60.0
    force: bool = False
    progress: bool = True
    fit_engine: str | None = None


class ImportRun:
    """State of one import: the index, all activity rows, the report in the making."""

    def __init__(self, options: ImportOptions) -> None:
        self.options = options
        self.root = options.root
        self._acts: dict[str, dict[str, Any]] | None = None  # loaded on first use
        self.dup_of: dict[str, tuple[str, str]] | None = None  # set by each commit
        self.meta = pd.DataFrame()
        self.seen: dict[str, str] = {}  # key -> "unchanged" | "processed"
        self.extra_rows: list[dict[str, Any]] = []
        self.dirty = False
        self.n_records = 0
        self.n_read = 0
        self.clock = CheckpointClock(options.checkpoint_every, options.checkpoint_seconds)
        self.progress_bar: Progress | None = None
        # archive key -> its held entry and the member tasks not yet applied; the
        # archive is indexed only when every member is (see :meth:`_hold`)
        self.pending: dict[str, tuple[Settle, set[str], list[bool]]] = {}
        self.reread: set[str] = set()  # keys read again because another reader version read them
        remove_temp_files(self.root)
        self.datasets = DatasetState(self.root, options.runner_id)
        self.index = read_files_index(self.root / "files.parquet")
        self.wellness = WellnessItems(self.root)
        self.providers = providers(self.index)
        self._load_tables()

    # ---- state -------------------------------------------------------------------

    def _load_tables(self) -> None:
        self.known_ids, self.stored_dup_of = stored_ids(self.root)
        meta = read_table(self.root, "exports")
        if meta is not None:
            self.meta = meta.drop(columns=["activity_id"], errors="ignore")
        # record and lap files of no activity in the tables: written by the workers of a
        # killed import after its last commit; the files are read again if still given
        remove_orphans(self.root, self.known_ids)
        self.datasets.legacy = {kind: legacy_files(self.root, kind) for kind in KINDS}
        self.record_files = self.datasets.ids("records")
        self.dirty = self.datasets.dirty  # a store in the layout before datasets is moved into parts

    @property
    def acts(self) -> dict[str, dict[str, Any]]:
        """Every activity row (kept and duplicates), read from the tables on first use."""
        if self._acts is None:
            self._acts = activity_rows(self.root)
        return self._acts

    def _has(self, aid: str) -> bool:
        return aid in self._acts if self._acts is not None else aid in self.known_ids

    def intact(self, key: str) -> bool:
        """Whether everything ``key`` provided (activities, record files, members) is still here."""
        entry = self.index[key]
        if entry["status"] in ("imported", "duplicate") and entry["kind"] == "activity":
            return all(self._has(a) and a in self.record_files for a in entry["activity_ids"])
        if entry["kind"] == "archive":
            return all(self.intact(k) for k in children(self.index, key))
        return True

    def _tick(self, key: str) -> None:
        if self.progress_bar is not None:
            self.progress_bar.done(key)

    def _set_entry(self, key: str, **fields: Any) -> None:
        old = self.index.get(key)
        if old is not None:
            self._unlink(key, old)
        self.index[key] = new_entry(key, **fields)
        self.dirty = True

    def _unlink(self, key: str, entry: Entry) -> None:
        """Undo what the index entry ``entry`` of ``key`` provided (activities, CSV rows)."""
        if entry["kind"] == "activity":
            for aid in entry["activity_ids"]:
                self.providers.get(aid, set()).discard(key)
                self._release(aid, key)
        if entry["kind"] == "strava_csv" and len(self.meta):
            self.meta = self.meta[self.meta["csv_path"] != key]
        if entry["kind"] == "wellness":
            self.wellness.drop(key)

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

    # ---- planning ------------------------------------------------------------------

    def _step(self, step: Step) -> None:
        """Apply a planning decision to the index (a task is only marked as seen)."""
        if isinstance(step, Task):
            self.seen[step.key] = "processed"
        elif isinstance(step, Settle):
            self.seen[step.key] = "processed"
            self._set_entry(step.key, **step.fields)
            if step.meta_rows is not None:
                keep = self.meta[self.meta["csv_path"] != step.key] if len(self.meta) else self.meta
                self.meta = pd.concat([keep, step.meta_rows], ignore_index=True) if len(keep) \
                    else step.meta_rows
            self._tick(step.key)
        elif isinstance(step, Unchanged):
            self._unchanged(step)
        elif isinstance(step, Split):
            if self.progress_bar is not None:
                self.progress_bar.split(step.key, step.members)
        elif isinstance(step, Forget):
            gone = self.index.pop(step.key, None)
            if gone is not None:
                self.dirty = True
                self._unlink(step.key, gone)

    def _unchanged(self, step: Unchanged) -> None:
        entry = self.index[step.key]
        if step.new_stat is not None:
            entry["size"], entry["mtime_ns"] = step.new_stat
            self.dirty = True
        self.seen[step.key] = "unchanged"
        self._tick(step.key)
        if step.recurse and entry["kind"] == "archive":
            for child in children(self.index, step.key):
                self.seen[child] = "unchanged"

    def tasks(self, files: list[str], *, sizes: dict[str, int], largest_first: bool) -> Iterator[Task]:
        """Plan every file; in parallel runs the largest first (shorter tail of the pool)."""
        ctx = PlanContext(index=self.index, intact=self.intact, store_dir=str(self.root),
                          limits=self.options.limits, force=self.options.force,
                          fit_engine=self.options.fit_engine)
        if largest_first:
            files = sorted(files, key=lambda k: -sizes[k])
        for key in files:
            if key in self.index and not self.options.force:
                self.reread.update(stale(self.index, key))
            held: tuple[Settle, set[str], list[bool]] | None = None
            for step in plan_file(key, ctx):
                if isinstance(step, Settle) and step.key == key and step.fields.get("kind") == "archive":
                    held = self.pending[key] = (step, set(), [True])
                    continue
                self._step(step)
                if isinstance(step, Task):
                    if held is not None:
                        held[1].add(step.key)
                    yield step
            if held is not None:
                held[2][0] = False  # planned: every member task is known
                self._settle_if_done(key)

    def _settle_if_done(self, archive: str) -> None:
        """Index the held archive entry once it is planned and every member task applied.

        A checkpoint before that writes the members read so far and no archive
        entry, so a killed import reads the archive again and skips only the members
        already indexed (an archive entry is what lets a later import skip the lot).
        """
        held = self.pending.get(archive)
        if held is not None and not held[1] and not held[2][0]:
            del self.pending[archive]
            self._step(held[0])

    # ---- results -------------------------------------------------------------------

    def apply(self, res: dict[str, Any]) -> None:
        """Index a worker's result; checkpoint when enough files or time went by."""
        key = res["key"]
        self.n_read += 1
        self.n_records += int(res.get("n_records", 0))
        fields = {"kind": "activity", "size": res["size"], "mtime_ns": res["mtime_ns"],
                  "sha256": res["sha256"], "container": res.get("container", "")}
        if res.get("wellness") is not None:
            self._set_entry(key, status="imported", reason=res["reason"], **{**fields, "kind": "wellness"})
            self.wellness.replace(key, res["wellness"])
            if res.get("activities"):  # an Apple Health export: its runs too
                self.index[key]["activity_ids"] = [self._add_activity(key, s) for s in res["activities"]]
                self.datasets.add(res.get("pieces", ()))
        elif res.get("not_an_activity"):
            self._set_entry(key, status="not_an_activity", reason=res["reason"],
                            **{**fields, "kind": "other"})
        elif not res["ok"]:
            self._set_entry(key, status="failed", reason=res["reason"], **fields)
        else:
            self._set_entry(key, status="imported", **fields)
            self.index[key]["activity_ids"] = [self._add_activity(key, s) for s in res["activities"]]
            self.datasets.add(res.get("pieces", ()))
        self._tick(key)
        archive = key.split(MEMBER_SEP, 1)[0]
        if archive in self.pending:
            self.pending[archive][1].discard(key)
            self._settle_if_done(archive)
        if self.clock.read_one():
            self.commit(final=False)

    def _add_activity(self, key: str, summary: dict[str, Any]) -> str:
        """Record that ``key`` holds the activity ``summary``; its row unless another file owns it."""
        aid = str(summary["activity_id"])
        current = self.acts.get(aid)
        owner = current.get("source_file") if current is not None else None
        alive = (owner is not None and owner != key and owner in self.index
                 and aid in self.index[owner]["activity_ids"])
        if not alive:
            self.acts[aid] = summary
        self.record_files.add(aid)
        self.providers.setdefault(aid, set()).add(key)
        return aid

    # ---- commit --------------------------------------------------------------------

    def commit(self, *, final: bool) -> None:
        """Deduplicate, join the metadata, update the statuses and write every table."""
        dup_of = deduplicate(self.acts)
        kept_rows, dup_rows = fold_duplicates(self.acts, dup_of, other_copies(self.index, self.acts))
        meta_ids = join_metadata(kept_rows, self.meta)
        self._update_statuses(dup_of, meta_ids)
        exports = self.meta
        if len(self.meta):
            exports = self.meta.copy()
            exports["activity_id"] = [meta_ids.get(i) for i in range(len(exports))]
        # records and laps first (parts, then their index), then the rows that point at them
        self.datasets.write(set(self.acts) if final else None)
        self.wellness.write()  # before the files index: a kill between reads the files again
        write_tables(self.root, activities=activities_frame(kept_rows),
                     duplicates=frame_from_rows(dup_rows, SUMMARY_ORDER), exports=exports,
                     files=files_frame(self.index))
        self.datasets.remove_retired()
        if final:
            remove_orphans(self.root, self.acts)
        self.clock.reset()

    def _update_statuses(self, dup_of: dict[str, tuple[str, str]], meta_ids: dict[int, str]) -> None:
        for key, entry in self.index.items():
            if entry["kind"] == "strava_csv" and entry["status"] != "failed" and len(self.meta):
                entry["reason"] = csv_reason(self.meta, key, meta_ids)
            elif entry["kind"] == "activity" and entry["status"] != "failed":
                entry["status"], entry["reason"] = file_status(key, entry["activity_ids"], self.acts, dup_of)
        self.dup_of = dup_of

    def resolve(self, aid: str) -> str:
        """The kept activity of ``aid`` (itself unless it is a duplicate)."""
        dup_of = self.dup_of or {}
        return dup_of[aid][0] if aid in dup_of else aid

    # ---- running -------------------------------------------------------------------

    def execute(self, paths: list[Any], *, workers: int | None, executor: cf.Executor | None) -> ImportReport:
        """Import ``paths``: plan, read (serially or in workers), checkpoint, and report."""
        started = time.perf_counter()
        files, self.extra_rows = walk_paths(paths, self.root)
        sizes = {}
        for key in files:
            try:
                sizes[key] = os.stat(key).st_size
            except OSError:
                sizes[key] = 0
        runner = TaskRunner(workers=workers, executor=executor)
        if self.options.progress and interactive(sys.stderr):
            self.progress_bar = Progress(sizes)
        finished = False
        try:
            runner.run(self.tasks(files, sizes=sizes, largest_first=not runner.serial), self.apply)
            if self.dirty:
                self.commit(final=True)
            finished = True
        except BaseException:
            # keep what was read: the tables are consistent at every commit
            with contextlib.suppress(Exception):
                if self.dirty:
                    self.commit(final=False)
            raise
        finally:
            runner.close()
            if self.progress_bar is not None:
                self.progress_bar.close(finished=finished)
        if self.dup_of is None:  # nothing committed in this run: the stored mapping
            self.dup_of = {a: (k, "") for a, k in self.stored_dup_of.items()}
        rows = [*self.extra_rows, *report_rows(self, files)]
        notes = []
        if self.reread:
            notes.append(f"{len(self.reread)} file(s) re-read with the new reader (version {READER_VERSION}): "
                         "they were read by an older kneedata, whose rows they replace")
        return ImportReport(rows=rows, store_path=self.root, elapsed_s=time.perf_counter() - started,
                            n_records=self.n_records, n_files_read=self.n_read, notes=notes)


def _report_row(run: ImportRun, key: str, how: str) -> dict[str, Any]:
    entry = run.index.get(key)
    if entry is None:  # should not happen; never drop a file silently
        return {"path": key, "status": "failed", "activity_ids": [],
                "reason": "internal error: the file was seen but not recorded; import again"}
    ids = list(dict.fromkeys(run.resolve(a) for a in entry["activity_ids"])) \
        if entry["status"] in ("imported", "duplicate") else []
    if how == "unchanged" and entry["status"] == "failed":
        # still broken: reported as failed, with its reason, until it changes
        return {"path": key, "status": "failed", "activity_ids": [],
                "reason": f"{entry['reason']} (unchanged since the last import)"}
    if how == "unchanged":
        detail = entry["status"] + (f": {entry['reason']}" if entry["reason"] else "")
        return {"path": key, "status": "unchanged", "activity_ids": ids,
                "reason": f"unchanged since the last import ({detail})"}
    return {"path": key, "status": entry["status"], "activity_ids": ids, "reason": entry["reason"]}


def report_rows(run: ImportRun, files: list[str]) -> list[dict[str, Any]]:
    """One report row per file and member seen, in the order of the files given."""
    position = {key: i for i, key in enumerate(files)}
    seen = sorted(enumerate(run.seen.items()),
                  key=lambda item: (position.get(item[1][0].split(MEMBER_SEP)[0], -1), item[0]))
    return [_report_row(run, key, how) for _, (key, how) in seen]
