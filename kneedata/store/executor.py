"""Running the read tasks: in this process, in a process pool, or on any executor.

Workers are started with the forkserver (spawn on Windows), never re-run the caller's
main script, and end when the importing process dies. A pool broken by one file is
replaced and the file retried once; a file that breaks a pool twice is read alone.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import multiprocessing
import os
import sys
import threading
import time
import types
from collections.abc import Callable, Iterator
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from kneedata.store.worker import Task, failure, read_task

__all__ = [
    "PARENT_CHECK_S",
    "TaskRunner",
    "exit_with_parent",
    "parent_alive",
    "read_alone",
    "worker_context",
    "worker_count",
]

Apply = Callable[[dict[str, Any]], None]


def worker_count(workers: int | None) -> int:
    """Worker processes to use: ``workers``, or every core for None."""
    n_workers = int(workers) if workers else (os.cpu_count() or 1)
    if n_workers < 1:
        raise ValueError(f"workers={workers!r}: give 1 or more worker processes (or None for all cores)")
    return n_workers


class TaskRunner:
    """Read tasks in this process (one worker, no executor), in an own pool, or on ``executor``.

    The pool this runner starts is shut down by :meth:`close`; a given executor is not.
    """

    def __init__(self, *, workers: int | None, executor: cf.Executor | None) -> None:
        self.n_workers = worker_count(workers)
        self.executor = executor
        self.serial = executor is None and self.n_workers == 1
        self.own_pool: cf.ProcessPoolExecutor | None = None

    def make_pool(self) -> cf.Executor:
        """The given executor, or a new process pool (replacing a broken one)."""
        if self.executor is not None:
            return self.executor
        self.own_pool = cf.ProcessPoolExecutor(max_workers=self.n_workers, mp_context=worker_context(),
                                               initializer=exit_with_parent, initargs=(os.getpid(),))
        return self.own_pool

    def run(self, tasks: Iterator[Task], apply: Apply) -> None:
        """Read every task and hand each result to ``apply`` (in this process), as they finish."""
        if self.serial:
            for task in tasks:
                try:
                    res = read_task(task)
                except Exception as err:  # never let one file stop the others
                    res = failure(task, f"internal error ({type(err).__name__}: {err})")
                apply(res)
            return
        window = max(4, 3 * self.n_workers) if self.executor is None else 64
        run_parallel(tasks, self.make_pool, apply, window=window)

    def close(self) -> None:
        """Shut down the pool this runner started (waiting for running tasks)."""
        if self.own_pool is not None:
            self.own_pool.shutdown(wait=True, cancel_futures=True)


def run_parallel(tasks: Iterator[Task], make_pool: Callable[[], cf.Executor], apply: Apply, *,
                 window: int) -> None:
    """Submit ``tasks`` with at most ``window`` in flight; ``apply`` each result as it comes."""
    pool: cf.Executor | None = None
    pending: dict[cf.Future[Any], Task] = {}
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
                        res = read_alone(task, err)
                    else:  # another file may have killed the pool: retry once in a new one
                        retried.add(task.key)
                        if isinstance(pool, cf.ProcessPoolExecutor):
                            pool.shutdown(wait=False, cancel_futures=True)
                            pool = make_pool()
                        assert pool is not None
                        pending[pool.submit(read_task, task)] = task
                        continue
                except Exception as err:  # executor-side failure of one task
                    res = failure(task, f"worker error ({type(err).__name__}: {err})")
                apply(res)

    for task in tasks:
        if pool is None:
            pool = make_pool()
        pending[pool.submit(read_task, task)] = task
        if len(pending) >= window:
            collect(window - 1)
    collect(0)


def read_alone(task: Task, err: BaseException) -> dict[str, Any]:
    """Read a file that was in flight when a pool broke twice, alone in a new worker.

    A pool breaks for many reasons (a worker killed for memory, a worker that cannot
    start); only a worker that dies while reading this file and nothing else blames
    the file. When no worker process can start at all, the file is read in this process.
    """
    with cf.ProcessPoolExecutor(max_workers=1, mp_context=worker_context(), initializer=exit_with_parent,
                                initargs=(os.getpid(),)) as solo:
        try:
            solo.submit(os.getpid).result()
        except BrokenProcessPool:
            return read_task(task)  # the workers are what is broken, not the file
        try:
            return solo.submit(read_task, task).result()
        except BrokenProcessPool as again:
            return failure(task, f"the reader crashed its worker process while reading this "
                                  f"file alone ({again}; first: {err})")


@contextlib.contextmanager
def _main_module_hidden() -> Iterator[None]:
    """Hide the caller's ``__main__`` while a worker process is launched.

    ``spawn`` and ``forkserver`` workers re-run the parent's main script (or ``-m``
    module) before they take work, so a script that calls :meth:`Store.import_paths`
    at its top level without an ``if __name__ == "__main__":`` guard would run again
    in every worker. Our workers only run :func:`read_task` (kneedata code): they are
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


def worker_context() -> Any:
    """The multiprocessing context of import workers (forkserver where available)."""
    ctx = _WorkerContext()
    if ctx.get_start_method() == "forkserver":
        ctx.set_forkserver_preload(["kneedata.store", "kneedata.io.read"])
    return ctx
