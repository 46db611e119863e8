"""Seeded mutation fuzzing of the activity readers (issue 14), run in a child process.

Usage (the test and ``benchmarks/bench_fuzz.py`` call it so)::

    python tests/io/fuzz_harness.py --seed 14 --mutants 100 --crop 30000 FILE...

Each mutant is a real file changed by one seeded operation (byte flips, truncation,
inserted or deleted bytes, a spliced chunk, header and size fields, a number replaced
by a hostile value). The child process limits its own address space
(``RLIMIT_AS``: what it maps after reading each original once, plus
``--memory-mib``) and each read's
time (``SIGALRM``, ``--seconds``), reads every mutant with
:func:`kneedata.io.read.read_activities_bytes` and prints one JSON line per
mutant: ``{"file", "op", "seed", "outcome", "detail", "seconds"}`` where outcome is

* ``read`` - activities that hold no impossible value (see :func:`check_activity`);
* ``incomplete`` - the same, with ``complete=False`` and a note;
* ``refused`` - a :class:`~kneedata.errors.FileFormatError`;
* ``bad`` - anything else: another exception, a time or memory limit, an
  impossible value. The test fails on any ``bad`` and prints the seed to replay it.

Nothing here imports the test suite; the mutations know nothing of the readers.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import resource
import signal
import sys
import time
import warnings
from pathlib import Path

import numpy as np

#: Values a fuzzer puts where a number or a time was.
HOSTILE = [b"1e309", b"-1e309", b"inf", b"NaN", b"-0", b"1e-320", b"99999999999999999999",
           b"9999-12-31T23:59:59Z", b"1970-01-01T00:00:00Z", b"0001-01-01T00:00:00Z",
           b"2262-04-12T00:00:00Z", b"", b"&amp;", b"\xff\xfe", b"<", b"]]>"]
_NUMBER = re.compile(rb"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?:T[\d:.]+Z?)?")
OPS = ("flip", "truncate", "insert", "delete", "splice", "header", "number")


def crop_xml(data: bytes, size: int) -> bytes:
    """The first ``size`` bytes of a GPX/TCX file, cut after a whole point and closed again."""
    if size <= 0 or len(data) <= size:
        return data
    for end_tag, closing in ((b"</trkpt>", b"</trkseg></trk></gpx>"),
                             (b"</Trackpoint>", b"</Track></Lap></Activity></Activities>"
                                                b"</TrainingCenterDatabase>")):
        cut = data.rfind(end_tag, 0, size)
        if cut > 0:
            return data[: cut + len(end_tag)] + closing
    return data


def mutate(data: bytes, op: str, rng: np.random.Generator) -> bytes:
    """``data`` changed by one operation of :data:`OPS`, drawn from ``rng``."""
    n = len(data)
    buf = bytearray(data)
    if n == 0:
        return bytes(rng.integers(0, 256, 16, dtype=np.uint8))
    at = int(rng.integers(0, n))
    if op == "flip":
        for i in rng.integers(0, n, int(rng.integers(1, 9))):
            buf[int(i)] ^= 1 << int(rng.integers(0, 8))
    elif op == "truncate":
        del buf[at:]
    elif op == "insert":
        buf[at:at] = bytes(rng.integers(0, 256, int(rng.integers(1, 257)), dtype=np.uint8))
    elif op == "delete":
        del buf[at: at + int(rng.integers(1, 4097))]
    elif op == "splice":  # a chunk of the file copied elsewhere
        src = int(rng.integers(0, n))
        buf[at:at] = data[src: src + int(rng.integers(1, 8193))]
    elif op == "header":  # the first 16 bytes: FIT header, size field, XML declaration
        for _ in range(int(rng.integers(1, 4))):
            buf[int(rng.integers(0, min(16, n)))] = int(rng.integers(0, 256))
    elif op == "number":
        found = list(_NUMBER.finditer(data))
        if found:
            m = found[int(rng.integers(0, len(found)))]
            buf[m.start():m.end()] = HOSTILE[int(rng.integers(0, len(HOSTILE)))]
        else:
            buf[at] ^= 0xFF
    return bytes(buf)


def check_activity(act: object) -> str | None:
    """What is impossible in a read activity (None when nothing is)."""
    import pandas as pd

    s = act.summary  # type: ignore[attr-defined]
    for name, value in s.items():
        if isinstance(value, float) and math.isinf(value):
            return f"{name} is {value}"
    start = s["start_time_utc"]
    if not isinstance(start, pd.Timestamp) or pd.isna(start) or str(start.tz) != "UTC":
        return f"start_time_utc is {start!r}"
    elapsed = s["elapsed_time_s"]
    if isinstance(elapsed, float) and not math.isnan(elapsed) and not 0 <= elapsed <= 7 * 86400:
        return f"elapsed_time_s is {elapsed} (a week at most: clock glitches are dropped)"
    idx = act.records.index  # type: ignore[attr-defined]
    if len(idx) and (str(idx.tz) != "UTC" or not idx.is_monotonic_increasing or idx.has_duplicates):
        return "records index not sorted, unique, UTC"
    if not s["complete"] and not act.warnings:  # type: ignore[attr-defined]
        return "complete=False without a note"
    return None


class _Timeout(Exception):
    pass


def _alarm(signum: int, frame: object) -> None:
    raise _Timeout


def read_one(data: bytes, name: str, seconds: float) -> tuple[str, str]:
    """``(outcome, detail)`` of reading one mutant (see the module docstring)."""
    from kneedata.errors import FileFormatError
    from kneedata.io.read import read_activities_bytes

    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            acts = read_activities_bytes(data, name)
    except FileFormatError as err:
        return "refused", str(err)[:200]
    except _Timeout:
        return "bad", f"took more than {seconds} s"
    except MemoryError:
        return "bad", "ran out of the memory limit"
    except Exception as err:
        return "bad", f"{type(err).__name__}: {str(err)[:300]}"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    for act in acts:
        problem = check_activity(act)
        if problem:
            return "bad", problem
    return ("incomplete" if any(not a.summary["complete"] for a in acts) else "read"), ""


def _limit_memory(extra_mib: int) -> None:
    status = Path("/proc/self/status")
    if not status.exists():  # no /proc: the time limit still holds
        return
    vm = next(int(line.split()[1]) for line in status.read_text().splitlines() if line.startswith("VmSize"))
    limit = vm * 1024 + extra_mib * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--mutants", type=int, default=100, help="mutants in all, spread over the files")
    parser.add_argument("--crop", type=int, default=0, help="crop GPX/TCX to about this many bytes")
    parser.add_argument("--seconds", type=float, default=60.0, help="time limit per mutant [s]")
    parser.add_argument("--memory-mib", type=int, default=2048, help="memory per mutant over baseline [MiB]")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGALRM, _alarm)
    originals = [(p.name, crop_xml(p.read_bytes(), args.crop)) for p in args.files]
    for name, data in originals:  # warm up: lazy imports and mapped data (time zones) count too
        read_one(data, name, args.seconds)
    _limit_memory(args.memory_mib)
    for i in range(args.mutants):
        seed = args.seed * 1_000_003 + i
        rng = np.random.default_rng(seed)
        name, data = originals[i % len(originals)]
        op = OPS[int(rng.integers(0, len(OPS)))]
        mutant = mutate(data, op, rng)
        started = time.perf_counter()
        outcome, detail = read_one(mutant, f"{name}~{op}~{seed}", args.seconds)
        print(json.dumps({"file": name, "op": op, "seed": seed, "outcome": outcome, "detail": detail,
                          "seconds": round(time.perf_counter() - started, 3)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
