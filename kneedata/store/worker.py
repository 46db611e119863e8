"""Worker side of an import: read one file or member, its records and laps as Arrow tables.

:func:`read_task` runs in a worker process (or in the importing process) and returns
a plain dict that the importing process applies to the tables (it writes the records
and laps of many files together: :mod:`kneedata.store.dataset`); it never raises for
a bad file.
"""

from __future__ import annotations

import contextlib
import io
import signal
import threading
import time
import warnings
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from kneedata.errors import FileFormatError, NotAnActivityError
from kneedata.io.activity import Activity
from kneedata.io.apple_health import (
    is_apple_health_xml,
    read_apple_health_stream,
    route_opener_folder,
)
from kneedata.io.exports import MEMBER_SEP, ZipLimits
from kneedata.io.read import read_activities_bytes
from kneedata.io.wellness import (
    NotWellness,
    is_garmin_wellness_json,
    read_wellness_bytes,
)
from kneedata.store.dataset import Piece, frame_piece
from kneedata.store.files_index import hash_bytes, key_basename

__all__ = ["FileTimeLimit", "Task", "cannot_read", "failure", "read_task", "time_limit"]


@dataclass
class Task:
    """One file or zip member for a worker to read.

    ``data`` holds a member's bytes (None: read ``path``); ``sha256`` the hash of
    those bytes when the planner already computed it (empty: hashed by the worker).
    """

    key: str
    path: str | None
    data: bytes | None
    store_dir: str
    limits: ZipLimits
    size: int
    mtime_ns: int
    container: str = ""
    fit_engine: str | None = None
    sha256: str = ""


class FileTimeLimit(BaseException):
    """Raised in the reading thread when a file's time limit is reached.

    A ``BaseException`` (like ``KeyboardInterrupt``) so that no ``except Exception``
    inside a reader or a library swallows it and reads on.
    """


@contextlib.contextmanager
def time_limit(seconds: float | None) -> Iterator[bool]:
    """Raise :class:`FileTimeLimit` in this thread once ``seconds`` have passed.

    Uses ``SIGALRM`` (``setitimer``), so it works only in a process's main thread
    on a system that has it; elsewhere (Windows, executor threads) nothing is
    limited. Yields whether the limit is armed. A timer set before is restored
    (less the time spent here).
    """
    armed = bool(seconds and seconds > 0 and hasattr(signal, "setitimer")
                 and threading.current_thread() is threading.main_thread())
    if not armed:
        yield False
        return

    def on_alarm(signum: int, frame: Any) -> None:
        raise FileTimeLimit(seconds)

    previous = signal.signal(signal.SIGALRM, on_alarm)
    started = time.monotonic()
    old_delay, old_interval = signal.setitimer(signal.ITIMER_REAL, float(seconds or 0))
    try:
        yield True
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous if previous is not None else signal.SIG_DFL)
        if old_delay > 0:
            signal.setitimer(signal.ITIMER_REAL, max(old_delay - (time.monotonic() - started), 1e-3),
                             old_interval)


def _vm_bytes() -> int | None:
    """This process's virtual memory size (Linux ``/proc``), None where unknown."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return None
    line = next((ln for ln in status.splitlines() if ln.startswith("VmSize:")), None)
    return int(line.split()[1]) * 1024 if line else None


@contextlib.contextmanager
def memory_limit(nbytes: int | None) -> Iterator[bool]:
    """Let this process map at most ``nbytes`` more while the block runs (``MemoryError`` beyond).

    Only in a worker process's main thread on Linux (``RLIMIT_AS``): the limit is
    the whole process's, so it is never set in the importing process or beside other
    threads' tasks. Yields whether it is armed; the previous limit is restored.
    """
    import multiprocessing

    vm = _vm_bytes() if nbytes and nbytes > 0 else None
    armed = bool(vm is not None and multiprocessing.parent_process() is not None
                 and threading.current_thread() is threading.main_thread())
    if not armed:
        yield False
        return
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = int(vm or 0) + int(nbytes or 0)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    if soft != resource.RLIM_INFINITY:
        limit = min(limit, soft)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        yield True
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def memory_limit_reason(key: str, nbytes: int) -> str:
    """Report reason of a file stopped at the memory limit."""
    return (f"reading {key_basename(key)!r} needed more than the per-file memory limit of "
            f"{nbytes / 2**20:,.0f} MiB, so it was stopped and the other files were imported; if it is "
            "a genuine (very large) file, raise the limit (ZipLimits(max_file_memory_bytes=...)) and "
            "import it again with --force")


def time_limit_reason(key: str, seconds: float) -> str:
    """Report reason of a file stopped at the time limit."""
    return (f"reading {key_basename(key)!r} took longer than the per-file time limit of {seconds:g} s, "
            "so it was stopped and the other files were imported; if it is a genuine (very large) "
            "file, raise the limit (ZipLimits(max_file_seconds=...), or kneedata import "
            "--file-seconds N) and import it again with --force")


def cannot_read(err: OSError) -> str:
    """Report reason of a file the operating system would not read."""
    return f"cannot read the file ({err.strerror or err})"


def failure(task: Task, reason: str) -> dict[str, Any]:
    """The result of a task that failed outside the reader (retried by the next import)."""
    # size/mtime -1: a transient failure is retried by the next import
    return {"key": task.key, "size": -1, "mtime_ns": -1, "sha256": "",
            "container": task.container, "ok": False, "reason": reason, "activities": [],
            "n_records": 0}


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value


def _store_activity(act: Activity, key: str, caught_text: list[str]) -> tuple[dict[str, Any], list[Piece]]:
    """One activity's summary row, and its records and laps as Arrow tables for the store."""
    summary: dict[str, Any] = {str(k): _plain(v) for k, v in act.summary.items()}
    aid = str(summary["activity_id"])
    summary["source_file"] = key
    pieces = [frame_piece("records", aid, act.records), frame_piece("laps", aid, act.laps)]
    value_cols = [c for c in act.records.columns if c != "moving"]
    n_cols = int(act.records[value_cols].notna().any().sum()) if len(act.records) else 0
    notes = list(act.warnings) or [t for t in caught_text if aid in t]
    summary.update(n_records=int(len(act.records)), n_record_columns=n_cols, warnings=notes)
    return summary, pieces


def _read(task: Task, raw: bytes, result: dict[str, Any]) -> tuple[list[Activity], list[str]] | None:
    """The activities of ``raw`` and the warnings raised reading them; None (reason set) on failure."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            acts = read_activities_bytes(raw, task.key, limits=task.limits, engine=task.fit_engine,
                                         sha256=result["sha256"])
        except FileFormatError as err:
            text = str(err)
            result["reason"] = text[len(task.key) + 2:] if text.startswith(task.key + ": ") else text
            result["not_an_activity"] = isinstance(err, NotAnActivityError)
            return None
        except MemoryError:
            raise  # the per-file memory limit: reported by read_task
        except Exception as err:  # a reader bug must not stop the other files
            result["reason"] = f"reader error ({type(err).__name__}: {err})"
            return None
    return acts, [str(w.message) for w in caught]


def _read_wellness(task: Task, raw: bytes, result: dict[str, Any]) -> dict[str, Any]:
    """``result`` with the wellness items of ``raw`` (unchanged when it holds none)."""
    try:
        got = read_wellness_bytes(raw, task.key)
    except NotWellness:
        return result
    except FileFormatError as err:
        text = str(err)
        result.update(not_an_activity=False, kind="wellness",
                      reason=text[len(task.key) + 2:] if text.startswith(task.key + ": ") else text)
        return result
    except Exception as err:  # a reader bug must not stop the other files
        result.update(not_an_activity=False, kind="wellness",
                      reason=f"wellness reader error ({type(err).__name__}: {err})")
        return result
    result.update(ok=True, not_an_activity=False, kind="wellness", wellness=got.items,
                  reason="; ".join([got.summary, *got.notes]))
    return result


#: Slowest expected Apple Health read [bytes/s] (measured ~7 MB/s of XML on one core;
#: benchmarks/bench_apple_health.py): the time limit of an export is at least its size at this rate.
APPLE_BYTES_PER_S = 1.0e6


def _apple_routes(task: Task) -> Any:
    """``path -> bytes`` of the workout routes next to an Apple Health ``export.xml``."""
    if task.data is None:
        return route_opener_folder(Path(task.path or task.key).parent)
    archive, _, member = task.key.rpartition(MEMBER_SEP)
    folder = member.rsplit("/", 1)[0] + "/" if "/" in member else ""

    def opener(path: str) -> bytes | None:
        try:  # a top-level zip on disk (a zip inside a zip: the routes import on their own)
            with zipfile.ZipFile(archive) as zf:
                return zf.read(folder + path.lstrip("/"))
        except (OSError, KeyError, zipfile.BadZipFile):
            return None
    return opener


def _read_apple(task: Task, result: dict[str, Any], started: float) -> dict[str, Any]:
    """An Apple Health ``export.xml``, read streaming from disk (or from the member's bytes).

    Its time limit grows with its size (:data:`APPLE_BYTES_PER_S`): an export of
    several GB is one file.
    """
    seconds = task.limits.max_file_seconds if task.limits is not None else None
    if seconds is not None:
        seconds = max(float(seconds), max(task.size, len(task.data or b"")) / APPLE_BYTES_PER_S)
    try:
        with time_limit(seconds), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            raw = io.BytesIO(task.data) if task.data is not None else Path(task.path or task.key).open("rb")
            with raw:
                got = read_apple_health_stream(raw, task.key, open_route=_apple_routes(task))
    except FileTimeLimit:
        result.update(reason=time_limit_reason(task.key, float(seconds or 0)))
        return result
    except OSError as err:
        result["reason"] = cannot_read(err)
        result["size"] = result["mtime_ns"] = -1
        return result
    except FileFormatError as err:
        text = str(err)
        result["reason"] = text[len(task.key) + 2:] if text.startswith(task.key + ": ") else text
        return result
    except Exception as err:  # a reader bug must not stop the other files
        result["reason"] = f"Apple Health reader error ({type(err).__name__}: {err})"
        return result
    result["sha256"] = task.sha256 if task.data is not None and task.sha256 else got.sha256
    result["size"] = len(task.data) if task.data is not None else task.size
    out, pieces = [], []
    for act in got.activities:
        summary, tables = _store_activity(act, task.key, [str(w.message) for w in caught])
        result["n_records"] += summary["n_records"]
        out.append(summary)
        pieces += tables
    result.update(ok=True, activities=out, pieces=pieces, wellness=got.wellness,
                  reason="; ".join([got.summary, *got.notes]), seconds=time.perf_counter() - started)
    return result


def read_task(task: Task) -> dict[str, Any]:
    """Read one file or member; return its rows, records and laps for the parent to store.

    Runs in a worker process (or in-process); never raises for a bad file.
    """
    started = time.perf_counter()
    result: dict[str, Any] = {
        "key": task.key, "size": task.size, "mtime_ns": task.mtime_ns, "sha256": "",
        "container": task.container, "ok": False, "reason": "", "activities": [],
        "n_records": 0,
    }
    if is_apple_health_xml(task.key):
        return _read_apple(task, result, started)
    try:
        raw = task.data if task.data is not None else Path(task.path or task.key).read_bytes()
    except OSError as err:
        result["reason"] = cannot_read(err)
        result["size"] = result["mtime_ns"] = -1  # retried by the next import
        return result
    # one hash of the raw bytes: the files index, and the activity id of a plain file
    result["sha256"] = task.sha256 if task.data is not None and task.sha256 else hash_bytes(raw)
    result["size"] = len(raw) if task.data is not None else task.size
    seconds = task.limits.max_file_seconds if task.limits is not None else None
    nbytes = task.limits.max_file_memory_bytes if task.limits is not None else None
    try:
        with time_limit(seconds), memory_limit(nbytes):
            return _read_and_store(task, raw, result, started)
    except FileTimeLimit:
        reason = time_limit_reason(task.key, float(seconds or 0))
    except MemoryError:
        reason = memory_limit_reason(task.key, int(nbytes or 0))
    result.update(ok=False, activities=[], pieces=[], n_records=0, reason=reason)
    result.pop("not_an_activity", None)
    return result


def _read_and_store(task: Task, raw: bytes, result: dict[str, Any], started: float) -> dict[str, Any]:
    """Read ``raw`` and turn its activities (or its wellness items) into rows and Arrow tables (in ``result``)."""
    if is_garmin_wellness_json(task.key):
        return _read_wellness(task, raw, result)
    read = _read(task, raw, result)
    if read is None:
        if result.get("not_an_activity"):  # a FIT monitoring, sleep or HRV file: wellness
            return _read_wellness(task, raw, result)
        return result
    acts, caught_text = read
    if not acts:
        result["reason"] = "the file holds no activity session"
        return result
    out, pieces = [], []
    for act in acts:
        try:
            summary, tables = _store_activity(act, task.key, caught_text)
        except MemoryError:
            raise
        except Exception as err:
            aid = act.summary.get("activity_id")
            result["reason"] = f"cannot store the records of {aid} ({type(err).__name__}: {err})"
            return result
        result["n_records"] += summary["n_records"]
        out.append(summary)
        pieces += tables
    result["ok"] = True
    result["activities"] = out
    result["pieces"] = pieces
    result["seconds"] = time.perf_counter() - started
    return result
