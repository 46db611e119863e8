"""Many runners: a manifest, import and derive per runner on any executor.

A clinic, a club or a study lists its runners in a *manifest* (CSV): one row per
runner and input path, with the runner's logs and body measures::

    runner_id,path,diary,shoes,routines,height_m,leg_length_m
    ana,ana/watch,ana/pain_diary.csv,ana/shoes.csv,,1.68,
    ben,ben/export.zip,ben/pain_diary.csv,,,1.81,0.95
    ben,ben/phone,,,,,

Paths are relative to the manifest's folder. :func:`import_cohort` imports each
runner into its own part of one store and :func:`derive_cohort` writes each runner's
analysis frame as one partition of a Parquet dataset. Both run one task per runner
on any :class:`concurrent.futures.Executor`: a process pool on one machine, or a
Dask ``distributed.Client(...).get_executor()`` on a cluster (docs/design.md section 6; no
home-made scheduler). A task holds one runner's data, so the memory of a worker is
bounded by the largest runner, not by the cohort. One runner that fails (a bad
diary, no runs) is reported with its reason and never stops the others.
"""

from __future__ import annotations

import concurrent.futures as cf
import functools
import os
import resource
import sys
import time
import uuid
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from kneedata.errors import KneedataError, SchemaError
from kneedata.runners import check_runner_id
from kneedata.schema import check_option

__all__ = [
    "MANIFEST_COLUMNS",
    "CohortDerive",
    "CohortImport",
    "derive_cohort",
    "import_cohort",
    "read_cohort_frame",
    "read_manifest",
]

#: Columns of a manifest: required first, then optional.
MANIFEST_COLUMNS = ("runner_id", "path", "diary", "shoes", "routines", "height_m", "leg_length_m")
_REQUIRED = ("runner_id", "path")
_PER_RUNNER = ("diary", "shoes", "routines", "height_m", "leg_length_m")
_PATHS = ("path", "diary", "shoes", "routines")
_MEASURES = ("height_m", "leg_length_m")  # ranges: kneedata.schema.OPTIONS, as DeriveOptions


# ------------------------------------------------------------------ the manifest
def _cell(value: Any) -> str:
    return "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value).strip()


def _manifest_rows(path: Path) -> pd.DataFrame:
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except (OSError, ValueError, pd.errors.ParserError) as err:
        raise SchemaError(f"{path}: cannot read the manifest ({err}); write it as a CSV with "
                          f"the columns {', '.join(MANIFEST_COLUMNS)}") from err
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    missing = [c for c in _REQUIRED if c not in raw.columns]
    unknown = [c for c in raw.columns if c not in MANIFEST_COLUMNS]
    if missing or unknown:
        parts = ([f"missing column(s) {missing}"] if missing else []) + (
            [f"unknown column(s) {unknown}"] if unknown else [])
        raise SchemaError(f"{path}: {'; '.join(parts)}; a manifest has the columns "
                          f"{', '.join(MANIFEST_COLUMNS)} (runner_id and path required)")
    for col in MANIFEST_COLUMNS:
        if col not in raw.columns:
            raw[col] = ""
    return raw[list(MANIFEST_COLUMNS)].map(_cell)


def _row_problems(row: pd.Series, line: int, base: Path) -> tuple[dict[str, Any], list[str]]:
    """One manifest row as plain values (paths resolved) and the problems found."""
    problems: list[str] = []
    out: dict[str, Any] = {"line": line}
    try:
        out["runner_id"] = check_runner_id(row["runner_id"], where="runner_id")
    except ValueError as err:
        problems.append(f"line {line}: {err}")
    if not row["path"]:
        problems.append(f"line {line}: path is empty; give the runner's watch file, folder or export")
    for col in _PATHS:
        out[col] = str((base / row[col]).resolve()) if row[col] else None
    for col in _MEASURES:
        text = row[col]
        value = float("nan")
        if text:
            try:
                value = float(text.replace(",", "."))
            except ValueError:
                value = float("nan")
            problem = check_option(col, value)
            if problem:
                problems.append(f"line {line}: {col} {text!r} {problem}")
        out[col] = value
    return out, problems


def read_manifest(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a cohort manifest (see the module docstring) into one row per runner.

    Parameters
    ----------
    path
        The manifest CSV: columns ``runner_id``, ``path`` and optionally ``diary``,
        ``shoes``, ``routines``, ``height_m`` [m], ``leg_length_m`` [m]. Several rows
        of one runner add input paths; the runner's logs and measures may be given
        on any one of them (twice only if equal). Paths are relative to the
        manifest's folder.

    Returns
    -------
    pandas.DataFrame
        ``runner_id``, ``paths`` (list of absolute paths), ``diary``, ``shoes``,
        ``routines`` (absolute path or None), ``height_m``, ``leg_length_m`` (NaN
        when not given), in the order of first appearance.

    Raises
    ------
    kneedata.SchemaError
        Listing every bad line at once (line 1 is the header).
    """
    path = Path(path).expanduser()
    raw = _manifest_rows(path)
    base = path.resolve().parent
    runners: dict[str, dict[str, Any]] = {}
    problems: list[str] = []
    for i, row in raw.iterrows():
        line = int(str(i)) + 2
        values, bad = _row_problems(row, line, base)
        problems += bad
        if bad:
            continue
        entry = runners.setdefault(values["runner_id"], {"runner_id": values["runner_id"], "paths": [],
                                                         "lines": []})
        entry["paths"].append(values["path"])
        entry["lines"].append(line)
        for col in _PER_RUNNER:
            new, old = values[col], entry.get(col)
            given = new is not None and not (isinstance(new, float) and np.isnan(new))
            if not given:
                entry.setdefault(col, new)
                continue
            known = old is not None and not (isinstance(old, float) and np.isnan(old))
            if known and old != new:
                problems.append(f"line {line}: runner {values['runner_id']!r} has {col} {new!r} here "
                                f"but {old!r} on line {entry['lines'][0]}; give it once")
            entry[col] = new
    if problems:
        raise SchemaError(f"{path}: {len(problems)} problem(s) in the manifest:\n  "
                          + "\n  ".join(problems), problems=problems)
    if not runners:
        raise SchemaError(f"{path}: the manifest lists no runner; add rows runner_id,path")
    frame = pd.DataFrame([{k: v for k, v in e.items() if k != "lines"} for e in runners.values()])
    return frame[["runner_id", "paths", *_PER_RUNNER]]


# ------------------------------------------------------------------ running tasks
def _peak_rss_mb() -> float:
    """Peak resident memory of this process so far [MB] (Linux reports KiB)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 if sys.platform != "darwin" else peak / 2**20


def _run_tasks(
    fn: Callable[..., dict[str, Any]],
    jobs: list[dict[str, Any]],
    *,
    executor: cf.Executor | None,
    progress: bool,
    desc: str,
) -> list[dict[str, Any]]:
    """Run ``fn(**job)`` for each job (in this process without an executor), with a bar.

    A job that raises becomes ``{"runner_id", "status": "failed", "reason"}``.
    """
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(jobs), unit="runner", desc=desc, file=sys.stderr, dynamic_ncols=True)

    def failed(job: dict[str, Any], err: BaseException) -> dict[str, Any]:
        return {"runner_id": job["runner_id"], "status": "failed",
                "reason": f"{type(err).__name__}: {err}"}

    out: list[dict[str, Any]] = []
    try:
        if executor is None:
            for job in jobs:
                try:
                    out.append(fn(**job))
                except Exception as err:  # one runner never stops the others
                    out.append(failed(job, err))
                if bar is not None:
                    bar.update(1)
        else:
            # keyword arguments go in a partial: a Dask client's submit() would take
            # names such as ``workers`` as its own scheduling options
            futures = {executor.submit(functools.partial(fn, **job)): job for job in jobs}
            for fut in cf.as_completed(futures):
                try:
                    out.append(fut.result())
                except Exception as err:
                    out.append(failed(futures[fut], err))
                if bar is not None:
                    bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    order = {job["runner_id"]: i for i, job in enumerate(jobs)}
    return sorted(out, key=lambda r: order[r["runner_id"]])


def _entries(manifest: pd.DataFrame | str | os.PathLike[str]) -> pd.DataFrame:
    return manifest if isinstance(manifest, pd.DataFrame) else read_manifest(manifest)


def _path(value: Any) -> str | None:
    """A manifest path cell as a string, or None when blank (None or NaN)."""
    return _cell(value) or None


def _root(store: Any) -> str:
    return str(getattr(store, "path", store))


# ------------------------------------------------------------------ import
def import_runner(store_path: str, runner_id: str, paths: list[str], *, force: bool = False,
                  workers: int | None = 1) -> dict[str, Any]:
    """Import one runner's paths into the store at ``store_path`` (one executor task)."""
    from kneedata.store import Store

    started = time.perf_counter()
    report = Store(store_path).import_paths(paths, runner_id=runner_id, workers=workers,
                                            progress=False, force=force)
    return {"runner_id": runner_id, "status": "ok", "reason": "", "report": report,
            "seconds": time.perf_counter() - started, "peak_rss_mb": _peak_rss_mb(),
            "pid": os.getpid()}


@dataclass
class CohortImport:
    """What :func:`import_cohort` did: one :class:`kneedata.ImportReport` per runner."""

    reports: dict[str, Any]
    runners: pd.DataFrame
    elapsed_s: float = 0.0

    def summary(self) -> str:
        """Files per status and runner, then the runners or files that failed (plain text)."""
        cols = ["runner_id", "imported", "duplicate", "unchanged", "failed", "not_an_activity"]
        lines = [f"{len(self.runners)} runners imported in {self.elapsed_s:.1f} s",
                 self.runners[cols].to_string(index=False)]
        for rid, reason in zip(self.runners["runner_id"], self.runners["reason"], strict=True):
            if reason:
                lines.append(f"runner {rid}: {reason}")
        for rid, report in self.reports.items():
            failures = report.failures()
            lines += [f"  {rid}: {p}: {r}" for p, r in zip(failures["path"], failures["reason"],
                                                           strict=True)]
        return "\n".join(lines)


def import_cohort(
    store: Any,
    manifest: pd.DataFrame | str | os.PathLike[str],
    *,
    executor: cf.Executor | None = None,
    progress: bool = True,
    force: bool = False,
) -> CohortImport:
    """Import every runner of a manifest into one store, one task per runner.

    Parameters
    ----------
    store
        A :class:`kneedata.Store` or its folder (reachable from the workers).
    manifest
        A manifest path or the frame of :func:`read_manifest`.
    executor
        Any :class:`concurrent.futures.Executor` (a Dask client's
        ``get_executor()``); each task imports one runner with one process. ``None``:
        the runners one after the other in this process, each read with all cores.
    progress
        A progress bar over runners on stderr.
    force
        Re-read files even when unchanged.

    Returns
    -------
    CohortImport
        ``reports`` (runner_id -> ImportReport) and ``runners``: one row per runner
        with the file counts per status, ``seconds``, ``peak_rss_mb`` (peak memory
        of the process that ran it [MB]) and ``reason`` when the runner failed.
    """
    from kneedata.store import STATUSES

    entries = _entries(manifest)
    started = time.perf_counter()
    jobs = [{"store_path": _root(store), "runner_id": r, "paths": list(p), "force": force,
             "workers": 1 if executor is not None else None}
            for r, p in zip(entries["runner_id"], entries["paths"], strict=True)]
    results = _run_tasks(import_runner, jobs, executor=executor, progress=progress, desc="import")
    rows, reports = [], {}
    for res in results:
        counts = res["report"].counts() if "report" in res else dict.fromkeys(STATUSES, 0)
        if "report" in res:
            reports[res["runner_id"]] = res["report"]
        rows.append({"runner_id": res["runner_id"], **counts, "seconds": res.get("seconds", np.nan),
                     "peak_rss_mb": res.get("peak_rss_mb", np.nan), "pid": res.get("pid", -1),
                     "reason": res.get("reason", "")})
    return CohortImport(reports, pd.DataFrame(rows), time.perf_counter() - started)


# ------------------------------------------------------------------ derive
def _write_partition(frame: pd.DataFrame, out: Path, runner_id: str) -> Path:
    folder = out / f"runner_id={runner_id}"
    folder.mkdir(parents=True, exist_ok=True)
    dest = folder / "part-0.parquet"
    tmp = folder / f".part-0.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
    try:
        frame.drop(columns=["runner_id"]).to_parquet(tmp, index=False, engine="pyarrow")
        os.replace(tmp, dest)
    finally:
        if tmp.exists():
            tmp.unlink()
    return dest


def runner_frame(store_path: str, runner_id: str, *, diary: str | None, shoes: str | None = None,
                 routines: str | None = None, height_m: float = float("nan"),
                 leg_length_m: float = float("nan"), options: Mapping[str, Any] | None = None,
                 ) -> pd.DataFrame:
    """One runner's analysis frame: :func:`kneedata.derive` on the runner's part of the store.

    ``options`` are :class:`kneedata.DeriveOptions` fields (``complete``,
    ``threshold`` ...) plus ``dayfirst`` for the logs; the manifest's
    ``height_m``/``leg_length_m`` fill those options. Raises
    :class:`kneedata.SchemaError` when the runner has no diary (no outcome).
    """
    from kneedata.frame import analysis_frame
    from kneedata.pipeline import DeriveOptions, derive
    from kneedata.store import Store

    if diary is None:
        raise SchemaError(f"runner {runner_id!r} has no pain diary in the manifest; without one "
                          "there is no outcome to model (add a diary column)")
    fields = dict(options or {})
    dayfirst = bool(fields.pop("dayfirst", False))
    for name, value in (("height_m", height_m), ("leg_length_m", leg_length_m)):
        if not np.isnan(value):
            fields[name] = float(value)
    derived = derive(Store(store_path).runner(runner_id), diary, shoes=shoes, routines=routines,
                     dayfirst=dayfirst, options=DeriveOptions.from_kwargs(**fields))
    return analysis_frame(derived, runner_id=runner_id)


def derive_runner(store_path: str, runner_id: str, out: str, **inputs: Any) -> dict[str, Any]:
    """Derive one runner's analysis frame and write it as its partition (one executor task)."""
    started = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frame = runner_frame(store_path, runner_id, **inputs)
    path = _write_partition(frame, Path(out), runner_id)
    return {"runner_id": runner_id, "status": "ok", "reason": "", "path": str(path),
            "n_days": len(frame), "n_onsets": int(frame["onset"].sum()),
            "n_at_risk": int(frame["at_risk"].sum()), "seconds": time.perf_counter() - started,
            "peak_rss_mb": _peak_rss_mb(), "pid": os.getpid(),
            "notes": list(dict.fromkeys(str(w.message) for w in caught))}


def _unified_schema(files: list[Path]) -> pa.Schema:
    schemas = [pq.read_schema(f) for f in files]
    return pa.unify_schemas([s.remove_metadata() for s in schemas], promote_options="permissive")


def conform_partition(path: str, schema: pa.Schema) -> None:
    """Rewrite one partition with the cohort's columns (absent ones as nulls), in order."""
    table = pq.read_table(path)
    if table.schema.remove_metadata().equals(schema):
        return
    cols = [table.column(f.name).cast(f.type) if f.name in table.column_names
            else pa.nulls(len(table), f.type) for f in schema]
    tmp = f"{path}.{uuid.uuid4().hex[:8]}.tmp"
    pq.write_table(pa.Table.from_arrays(cols, schema=schema), tmp)
    os.replace(tmp, path)


@dataclass
class CohortDerive:
    """What :func:`derive_cohort` did: where the frame is and one row per runner."""

    path: Path
    runners: pd.DataFrame
    elapsed_s: float = 0.0
    notes: dict[str, list[str]] = field(default_factory=dict)

    def frame(self, runner_ids: Iterable[str] | None = None) -> pd.DataFrame:
        """The cohort analysis frame (all runners, or those given) read back."""
        return read_cohort_frame(self.path, runner_ids=runner_ids)


def derive_cohort(
    store: Any,
    manifest: pd.DataFrame | str | os.PathLike[str],
    *,
    out: str | os.PathLike[str],
    executor: cf.Executor | None = None,
    progress: bool = True,
    **options: Any,
) -> CohortDerive:
    """Each runner's analysis frame, derived in one task per runner, as partitioned Parquet.

    Parameters
    ----------
    store
        A :class:`kneedata.Store` (or its folder) holding the manifest's runners.
    manifest
        A manifest path or the frame of :func:`read_manifest`.
    out
        Folder of the dataset: ``out/runner_id=<id>/part-0.parquet`` (hive layout,
        read as one table by pandas, pyarrow and ``dask.dataframe``).
    executor
        Any :class:`concurrent.futures.Executor` (e.g. a Dask client's
        ``get_executor()``); ``None``: in this process.
    progress
        A progress bar over runners on stderr.
    **options
        :class:`kneedata.DeriveOptions` fields for every runner (``complete``,
        ``threshold``, ``washout_days``, ``include`` ...) plus ``dayfirst`` for the
        logs.

    Returns
    -------
    CohortDerive
        ``path``, ``runners`` (one row per runner: ``status`` ok/failed,
        ``reason``, ``n_days``, ``n_onsets``, ``n_at_risk``, ``seconds``,
        ``peak_rss_mb``) and ``frame()`` to read the cohort frame.

    Notes
    -----
    After all runners are written, partitions lacking a column another runner has
    (no shoes table, no gait data) are rewritten with that column as nulls, so
    every reader sees one schema.
    """
    entries = _entries(manifest)
    out = Path(out).expanduser()
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    jobs = [{"store_path": _root(store), "runner_id": e["runner_id"], "out": str(out),
             "diary": _path(e["diary"]), "shoes": _path(e["shoes"]), "routines": _path(e["routines"]),
             "height_m": float(e["height_m"]), "leg_length_m": float(e["leg_length_m"]),
             "options": options} for e in entries.to_dict("records")]
    results = _run_tasks(derive_runner, jobs, executor=executor, progress=progress, desc="derive")
    files = [Path(r["path"]) for r in results if r["status"] == "ok"]
    if files:
        schema = _unified_schema(files)
        if executor is None:
            for f in files:
                conform_partition(str(f), schema)
        else:
            list(executor.map(conform_partition, [str(f) for f in files], [schema] * len(files)))
    cols = ["runner_id", "status", "reason", "n_days", "n_onsets", "n_at_risk", "seconds",
            "peak_rss_mb", "pid"]
    table = pd.DataFrame([{c: r.get(c, np.nan) for c in cols} for r in results], columns=cols)
    notes = {r["runner_id"]: r["notes"] for r in results if r.get("notes")}
    return CohortDerive(out, table, time.perf_counter() - started, notes)


def read_cohort_frame(path: str | os.PathLike[str], *, runner_ids: Iterable[str] | None = None,
                      ) -> pd.DataFrame:
    """Read the partitioned cohort frame written by :func:`derive_cohort`.

    Parameters
    ----------
    path
        The folder given to ``derive_cohort(..., out=)`` (``runner_id=<id>/`` parts).
    runner_ids
        Only these runners (default: every runner in the folder).

    Returns
    -------
    pandas.DataFrame
        ``runner_id`` (str) first, then the frame's columns, sorted by runner and
        date.

    Raises
    ------
    KneedataError
        No folder at ``path``.
    """
    import pyarrow.dataset as ds

    path = Path(path).expanduser()
    if not path.is_dir():
        raise KneedataError(f"no cohort frame at {path}; write it with derive_cohort(..., out=...)")
    dataset = ds.dataset(path, format="parquet", partitioning="hive")
    filt = None
    if runner_ids is not None:
        filt = ds.field("runner_id").isin([str(r) for r in runner_ids])
    frame = dataset.to_table(filter=filt).to_pandas()
    rid = frame.pop("runner_id").astype(str)
    frame.insert(0, "runner_id", pd.Series(rid.to_numpy(), index=frame.index, dtype="str"))
    return frame.sort_values(["runner_id", "date"], kind="stable").reset_index(drop=True)
