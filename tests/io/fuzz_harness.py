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
#: Mutators of the second campaign (``--ops new``): values that stay well-formed but
#: become impossible, and re-encodings. The first campaign's :data:`OPS` keep their seeds.
NEW_OPS = ("magnify", "shift", "fitfield", "utf16")
_PLAIN_NUMBER = re.compile(rb"(?<=>)-?\d+(?:\.\d+)?(?=<)|(?<=\")-?\d+\.\d+(?=\")")
_POSITION = re.compile(rb'(?:lat|lon)="(-?\d+(?:\.\d+)?)"|<(?:LatitudeDegrees|LongitudeDegrees)>(-?\d+(?:\.\d+)?)<')

# --- a FIT walker from the protocol (no kneedata code): where each field of each data message is


def fit_fields(data: bytes):
    """(global message number, field number, byte offset, size, architecture) of every field."""
    pos = data[0]
    end = min(pos + int.from_bytes(data[4:8], "little"), len(data) - 2)
    defs: dict[int, tuple[int, int, list[tuple[int, int]], int]] = {}
    while pos < end:
        head = data[pos]
        pos += 1
        if head & 0x80:  # compressed timestamp header: a data message
            local, definition = (head >> 5) & 0x3, False
        else:
            local, definition = head & 0x0F, bool(head & 0x40)
        if definition:
            arch = data[pos + 1]
            number = int.from_bytes(data[pos + 2:pos + 4], "big" if arch else "little")
            n_fields = data[pos + 4]
            pos += 5
            fields = [(data[pos + 3 * i], data[pos + 3 * i + 1]) for i in range(n_fields)]
            pos += 3 * n_fields
            dev = 0
            if head & 0x20:
                n_dev = data[pos]
                dev = sum(data[pos + 1 + 3 * i + 1] for i in range(n_dev))
                pos += 1 + 3 * n_dev
            defs[local] = (number, arch, fields, dev)
            continue
        if local not in defs:
            return
        number, arch, fields, dev = defs[local]
        for field_num, size in fields:
            if pos + size > end:
                return
            yield number, field_num, pos, size, arch
            pos += size
        pos += dev


def _crc16(data: bytes) -> int:
    """CRC-16/ARC as the FIT protocol defines it (polynomial 0xA001, reflected)."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def set_fit_field(data: bytes, message: int, field: int, raw: int, *, which: int = 0) -> bytes:
    """``data`` with field ``field`` of the ``which``-th ``message`` set to ``raw``; file CRC fixed."""
    hits = [(pos, size, arch) for m, f, pos, size, arch in fit_fields(data) if m == message and f == field]
    return _set_at(data, *hits[which], raw)


def _set_at(data: bytes, pos: int, size: int, arch: int, raw: int) -> bytes:
    buf = bytearray(data)
    buf[pos:pos + size] = raw.to_bytes(size, "big" if arch else "little")
    buf[-2:] = _crc16(bytes(buf[:-2])).to_bytes(2, "little")
    return bytes(buf)


def _is_fit(data: bytes) -> bool:
    return len(data) >= 14 and data[8:12] == b".FIT"


def _mutate_new(data: bytes, op: str, rng: np.random.Generator) -> bytes:
    """One of :data:`NEW_OPS`; a FIT file gets ``fitfield`` for the text-only ones and vice versa."""
    if _is_fit(data):
        fields = [f for f in fit_fields(data) if f[0] in (18, 19, 20) and f[3] in (1, 2, 4)]
        if not fields:
            return data
        _, _, pos, size, arch = fields[int(rng.integers(0, len(fields)))]  # session, lap or record
        top = 256 ** size
        raw = int(rng.choice([top - 2, top // 2, int(rng.integers(0, top))]))  # top - 1 means 'invalid'
        return _set_at(data, pos, size, arch, raw)
    if op == "utf16":
        text = data.decode("utf-8", "replace")
        encoding = ["utf-16", "utf-16-le", "utf-16-be"][int(rng.integers(0, 3))]
        if rng.random() < 0.5:
            text = re.sub(r'encoding="[^"]*"', 'encoding="UTF-16"', text, count=1)
        return text.encode(encoding)
    if op == "shift":
        found = list(_POSITION.finditer(data))
        if found:
            m = found[int(rng.integers(0, len(found)))]
            group = 1 if m.group(1) is not None else 2
            value = float(m.group(group)) + float(rng.choice([1.0, -1.0, 0.05, 90.0, 200.0]))
            return data[:m.start(group)] + f"{value:.7f}".encode() + data[m.end(group):]
    found = list(_PLAIN_NUMBER.finditer(data))
    if not found:
        return data
    for _ in range(int(rng.integers(1, 4))):  # magnify one to three numbers
        m = found[int(rng.integers(0, len(found)))]
        value = float(m.group(0)) * 10.0 ** int(rng.integers(2, 7))
        data = data[:m.start()] + f"{value:.6g}".encode() + data[m.end():]
        found = list(_PLAIN_NUMBER.finditer(data))
    return data


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
    """``data`` changed by one operation of :data:`OPS` or :data:`NEW_OPS`, drawn from ``rng``."""
    if op in NEW_OPS:
        return _mutate_new(data, op, rng)
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
    return _impossible_value(act)


#: Values no runner or rider produces (written here, not taken from kneedata).
IMPOSSIBLE = {"latitude_deg": (-90, 90), "longitude_deg": (-180, 180), "cadence_spm": (0, 300),
              "cadence_rpm": (0, 250), "heart_rate_bpm": (0, 250), "speed_m_s": (0, 100)}
FOOT = ("running", "walking", "hiking", "trail_running")


def _impossible_value(act: object) -> str | None:
    """A physically impossible value stored in the records or the summary, or None."""
    s, records = act.summary, act.records  # type: ignore[attr-defined]
    for name, (low, high) in IMPOSSIBLE.items():
        if name in records.columns and len(records):
            values = records[name].to_numpy(dtype=float, na_value=np.nan)
            with np.errstate(invalid="ignore"):
                bad = (values < low) | (values > high)
            if bad.any():
                return f"records {name} holds {values[bad][0]:g} (possible {low} to {high})"
    foot = str(s.get("sport")) in FOOT
    limit = 15.0 if foot else 100.0
    if foot and "speed_m_s" in records.columns and (records["speed_m_s"] > limit).any():
        return f"records speed_m_s of a {s.get('sport')} activity over {limit} m/s"
    durations = [v for v in (s.get("elapsed_time_s"), s.get("timer_time_s"))
                 if isinstance(v, float) and not math.isnan(v)]
    distance = s.get("distance_m")
    if durations and isinstance(distance, float) and distance > limit * max(durations) + 100:
        return f"distance_m {distance:g} in {max(durations):g} s (over {limit} m/s)"
    for name, high in (("avg_cadence_spm", 300), ("avg_heart_rate_bpm", 250), ("avg_speed_m_s", limit)):
        value = s.get(name)
        if isinstance(value, float) and value > high:
            return f"{name} is {value:g} (possible up to {high})"
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
    parser.add_argument("--ops", choices=("old", "new"), default="old",
                        help="the first campaign's mutators (default) or the second's")
    args = parser.parse_args(argv)
    ops = OPS if args.ops == "old" else NEW_OPS
    signal.signal(signal.SIGALRM, _alarm)
    originals = [(p.name, crop_xml(p.read_bytes(), args.crop)) for p in args.files]
    for name, data in originals:  # warm up: lazy imports and mapped data (time zones) count too
        read_one(data, name, args.seconds)
    _limit_memory(args.memory_mib)
    for i in range(args.mutants):
        seed = args.seed * 1_000_003 + i
        rng = np.random.default_rng(seed)
        name, data = originals[i % len(originals)]
        op = ops[int(rng.integers(0, len(ops)))]
        mutant = mutate(data, op, rng)
        started = time.perf_counter()
        outcome, detail = read_one(mutant, f"{name}~{op}~{seed}", args.seconds)
        print(json.dumps({"file": name, "op": op, "seed": seed, "outcome": outcome, "detail": detail,
                          "seconds": round(time.perf_counter() - started, 3)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
