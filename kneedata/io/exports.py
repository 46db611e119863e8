"""Export archives and their metadata: safe zip walking, gzip, Strava ``activities.csv``.

A runner's history arrives as loose watch files, gzip-compressed files, a Garmin
Connect "Export Original" zip (``<id>_ACTIVITY.fit``), a Garmin account export
(zips nested in a zip: ``UploadedFiles_*_Part*.zip``) or a Strava bulk export
(``activities.csv`` plus ``activities/<id>.gpx|.fit.gz|.tcx.gz``). This module opens
those containers *without extracting anything to disk* and refuses what could hurt:

- member names that would escape a target folder (``..`` components, absolute
  paths, drive letters) are refused with a reason naming the member;
- members larger than :attr:`ZipLimits.max_member_bytes`, or whose compression ratio
  exceeds :attr:`ZipLimits.max_ratio` (zip bombs), are refused. Headers can lie, so
  every member is stream-read with a byte limit, whatever its header says;
- archives nested deeper than :attr:`ZipLimits.max_depth` are refused;
- everything an archive expands to, across all its nesting levels (nested zips
  and their members counted as inflated), may be at most :attr:`ZipLimits.max_ratio`
  times the compressed size of the archive's members (at least
  :attr:`ZipLimits.ratio_min_bytes`); later members and nested zips are refused,
  each with a report row (one per nested zip, never opened).

Zip members are named ``<archive path>::<member name>`` (nested:
``<archive>::<inner.zip>::<member>``), see :data:`MEMBER_SEP`.
"""

from __future__ import annotations

import csv
import io
import posixpath
import re
import tempfile
import warnings
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from kneedata._dates import as_utc
from kneedata.errors import DataQualityWarning, SchemaError

__all__ = [
    "ACTIVITY_SUFFIXES",
    "MEMBER_SEP",
    "ArchiveMember",
    "LimitExceeded",
    "STRAVA_COLUMNS",
    "ZipLimits",
    "activity_suffix",
    "gunzip_limited",
    "is_strava_activities_csv",
    "iter_zip",
    "join_member_path",
    "read_strava_activities",
    "unsafe_member_reason",
]

#: Separator between an archive's path and a member name in file keys.
MEMBER_SEP = "::"

#: File name endings read as activity files (each also with ``.gz``).
ACTIVITY_SUFFIXES = (".fit", ".gpx", ".tcx")

_CHUNK = 1 << 20


@dataclass(frozen=True)
class ZipLimits:
    """Safety limits for archives and compressed files.

    Parameters
    ----------
    max_member_bytes
        Largest uncompressed member (or decompressed ``.gz`` file) accepted [bytes].
        The largest real FIT file seen is about 5 MB, a 24 h GPX about 100 MB.
    max_ratio
        Largest uncompressed/compressed size ratio accepted for members above
        ``ratio_min_bytes`` [-]. Real FIT compresses about 3:1 and GPX/TCX about
        10-20:1; zip bombs reach 1000:1 and more.
    ratio_min_bytes
        Members smaller than this are never refused for their ratio [bytes]
        (tiny repetitive files compress extremely well and are harmless).
    max_depth
        Deepest archive nesting followed (Garmin account exports nest one level).
    max_nested_bytes
        Largest nested archive accepted; it is spooled to a temporary file [bytes].
    max_file_seconds
        Longest time the import spends reading one file or zip member [s]; a file
        over it is reported ``failed`` with the limit named and the import goes on.
        The largest real files (a 24 h GPX of ~100 MB) read in well under a minute.
        ``None`` or 0: no limit. Enforced with ``SIGALRM`` where the reading runs in
        a process's main thread (the import itself, its worker processes); not on
        Windows, and not in the threads of an executor.
    max_file_memory_bytes
        Most memory one file or member may take while it is read [bytes], over what
        the worker process held before; a file over it is ``failed`` with the limit
        named and the import goes on. A GPX/TCX parse takes about 15 times the
        file's size, so the default 4 GiB reads a GPX of ~250 MB. ``None`` or 0: no
        limit. Enforced (``RLIMIT_AS``, Linux) only in the import's worker processes,
        never in the importing process itself (``workers=1``) or an executor's threads.
    """

    max_member_bytes: int = 512 * 2**20
    max_ratio: float = 200.0
    ratio_min_bytes: int = 2**20
    max_depth: int = 3
    max_nested_bytes: int = 32 * 2**30
    max_file_seconds: float | None = 300.0
    max_file_memory_bytes: int | None = 4 * 2**30


class LimitExceeded(ValueError):
    """A member or compressed stream is larger than a :class:`ZipLimits` allows."""


@dataclass
class ArchiveMember:
    """One entry found while walking an archive.

    Exactly one of ``data`` (the member's bytes), ``error`` (why it was refused or
    unreadable) holds a value for file members; archive members (``is_archive``)
    carry ``n_members`` and are followed by their own members.
    """

    key: str
    name: str
    size: int
    data: bytes | None = None
    error: str | None = None
    is_archive: bool = False
    n_members: int = 0
    children: list[str] = field(default_factory=list)


def activity_suffix(name: str) -> str | None:
    """``".fit"``, ``".gpx"`` or ``".tcx"`` when ``name`` ends in one (optionally ``.gz``)."""
    low = name.lower()
    if low.endswith(".gz"):
        low = low[:-3]
    for suffix in ACTIVITY_SUFFIXES:
        if low.endswith(suffix):
            return suffix
    return None


def unsafe_member_reason(name: str) -> str | None:
    """Why a member name could escape the folder it would be extracted to, or ``None``.

    Refused: absolute paths (``/x``, ``\\x``), Windows drive letters (``C:x``), any
    ``..`` path component, and NUL characters.
    """
    norm = name.replace("\\", "/")
    if "\x00" in norm:
        return "its name holds a NUL character"
    if norm.startswith("/"):
        return "it is an absolute path"
    if re.match(r"^[A-Za-z]:", norm):
        return "it starts with a drive letter"
    if ".." in norm.split("/"):
        return "it contains a '..' component (path traversal)"
    return None


def _read_limited(stream: IO[bytes], limit: int, what: str) -> bytes:
    """Read a stream to its end, refusing more than ``limit`` bytes."""
    out = bytearray()
    while True:
        chunk = stream.read(min(_CHUNK, limit + 1 - len(out)))
        if not chunk:
            return bytes(out)
        out += chunk
        if len(out) > limit:
            raise LimitExceeded(
                f"{what} expands to more than {limit} bytes (the limit); refused as a "
                "possible zip bomb - if it is a genuine file, raise ZipLimits.max_member_bytes"
            )


def gunzip_limited(data: bytes, *, limit: int, what: str) -> bytes:
    """Decompress gzip ``data`` (all members), refusing output beyond ``limit`` bytes.

    A truncated stream yields what was decompressed before the damage (the reader
    then marks the activity incomplete); a stream that yields nothing raises
    ``zlib.error``.

    Raises
    ------
    LimitExceeded
        When the output would exceed ``limit`` bytes (a gzip bomb).
    """
    out = bytearray()
    pending = bytes(data)
    try:
        while pending:
            dec = zlib.decompressobj(wbits=31)
            view = memoryview(pending)
            pos = 0
            while pos < len(view) and not dec.eof:
                out += dec.decompress(view[pos:pos + _CHUNK], limit + 1 - len(out))
                pos += _CHUNK
                while dec.unconsumed_tail and len(out) <= limit:
                    out += dec.decompress(dec.unconsumed_tail, limit + 1 - len(out))
                if len(out) > limit:
                    raise LimitExceeded(
                        f"{what} decompresses to more than {limit} bytes (the limit); refused "
                        "as a possible gzip bomb - if genuine, raise ZipLimits.max_member_bytes"
                    )
            # another gzip member may follow (concatenated .gz files)
            pending = dec.unused_data if dec.eof and dec.unused_data[:2] == b"\x1f\x8b" else b""
    except zlib.error:
        if not out:
            raise
    return bytes(out)


def _member_refusal(info: zipfile.ZipInfo, limits: ZipLimits) -> str | None:
    name = info.filename
    unsafe = unsafe_member_reason(name)
    if unsafe:
        return f"zip member {name!r} refused: {unsafe}"
    if info.flag_bits & 0x1:
        return f"zip member {name!r} refused: it is encrypted (password-protected)"
    if info.file_size > limits.max_member_bytes:
        return (
            f"zip member {name!r} refused: it declares {info.file_size} bytes uncompressed, "
            f"over the {limits.max_member_bytes}-byte limit (possible zip bomb)"
        )
    if (
        info.file_size > limits.ratio_min_bytes
        and info.file_size > limits.max_ratio * max(info.compress_size, 1)
    ):
        ratio = info.file_size / max(info.compress_size, 1)
        return (
            f"zip member {name!r} refused: compression ratio {ratio:.0f}:1 is over the "
            f"{limits.max_ratio:.0f}:1 limit (possible zip bomb)"
        )
    return None


@dataclass
class _Budget:
    """Bytes the whole archive (every nesting level) may expand to, and those used so far."""

    limit: float
    used: int = 0
    #: a member was refused for the budget: no further nested zip is opened (each is
    #: one report row), so a zip of zips cannot multiply the rows either
    spent: bool = False

    def left(self) -> int:
        return max(int(self.limit - self.used), 0)


def _budget_refusal(info: zipfile.ZipInfo, budget: _Budget, limits: ZipLimits) -> str | None:
    """Why a member is refused because the archive as a whole expands too far, or None."""
    if budget.used + info.file_size <= budget.limit and not (budget.spent and _is_zip_name(info.filename)):
        return None
    budget.spent = True
    what = "nested zip" if _is_zip_name(info.filename) else "zip member"
    return (
        f"{what} {info.filename!r} refused: the archive's members together, across all nesting "
        f"levels, expand to more than {budget.limit:.0f} bytes ({budget.used} already read), "
        f"{limits.max_ratio:.0f} times its compressed size (possible zip bomb) - if the export "
        "is genuine, raise ZipLimits.max_ratio"
    )


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, limits: ZipLimits) -> bytes:
    what = f"zip member {info.filename!r}"
    with zf.open(info) as fh:
        data = _read_limited(fh, limit, what)
    if len(data) > limits.ratio_min_bytes and len(data) > limits.max_ratio * max(info.compress_size, 1):
        raise LimitExceeded(
            f"{what}: compression ratio {len(data) / max(info.compress_size, 1):.0f}:1 is over "
            f"the {limits.max_ratio:.0f}:1 limit (possible zip bomb)"
        )
    return data


def _is_zip_name(name: str) -> bool:
    return name.lower().endswith(".zip")


def iter_zip(
    source: str | Path | IO[bytes],
    key: str,
    *,
    limits: ZipLimits | None = None,
    depth: int = 0,
    taken: set[str] | None = None,
    budget: _Budget | None = None,
) -> Iterator[ArchiveMember]:
    """Walk a zip archive (and the zips nested in it) without extracting to disk.

    Parameters
    ----------
    source
        Path of the archive or a seekable binary file object.
    key
        Name of the archive in keys and messages (normally its absolute path).
    limits
        Safety limits (default :class:`ZipLimits`).
    depth
        Nesting depth of this archive (0 for a file on disk).
    taken
        Keys already given out (shared with the archives nested in this one).
    budget
        The expansion budget of the outermost archive (shared with the archives
        nested in it); None: this archive is the outermost.

    Yields
    ------
    ArchiveMember
        First the archive itself (``is_archive=True``, ``n_members`` = number of
        file members, ``error`` set when it cannot be opened), then one entry per
        file member in archive order; a nested ``.zip`` member is yielded as an
        archive followed by its own members. Folder entries are skipped. Every
        member gets its own key: a name that repeats (two members called
        ``a.fit``, or a member literally named ``in.zip::x.fit`` beside a nested
        ``in.zip``) is keyed ``<name> [member <position>]`` (1-based position in
        the archive), so no member is lost to another with the same name.
    """
    limits = limits or ZipLimits()
    taken = set() if taken is None else taken
    try:
        zf = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError) as err:
        yield ArchiveMember(key=key, name=key, size=0, is_archive=True,
                            error=f"cannot open the zip archive ({err}); re-download the export")
        return
    with zf:
        infos = [info for info in zf.infolist() if not info.is_dir()]
        keys = _member_keys(key, infos, taken)
        yield ArchiveMember(
            key=key, name=key, size=sum(i.file_size for i in infos), is_archive=True,
            n_members=len(infos), children=list(keys),
        )
        # all members together, at every nesting level, may expand max_ratio times the
        # outermost archive's compressed size (a zip of many small, highly compressed
        # members is a bomb too, and so is a zip of zips each within its own ratio)
        if budget is None:
            budget = _Budget(max(limits.ratio_min_bytes, limits.max_ratio * sum(i.compress_size for i in infos)))
        for info, mkey in zip(infos, keys, strict=True):
            refusal = _member_refusal(info, limits) or _budget_refusal(info, budget, limits)
            if refusal:
                yield ArchiveMember(key=mkey, name=info.filename, size=info.file_size, error=refusal)
                continue
            if _is_zip_name(info.filename):
                if depth + 1 > limits.max_depth:
                    yield ArchiveMember(
                        key=mkey, name=info.filename, size=info.file_size, is_archive=True,
                        error=(f"nested zip {info.filename!r} refused: archives nested deeper "
                               f"than {limits.max_depth} levels are not followed"),
                    )
                    continue
                yield from _iter_nested(zf, info, mkey, limits, depth + 1, taken, budget)
                continue
            try:
                data = _read_member(zf, info, min(limits.max_member_bytes, budget.left()), limits)
            except LimitExceeded as err:
                budget.spent = budget.spent or budget.left() < limits.max_member_bytes
                yield ArchiveMember(key=mkey, name=info.filename, size=info.file_size,
                                    error=f"refused: {err}")
                continue
            except (zipfile.BadZipFile, OSError, EOFError, zlib.error, NotImplementedError,
                    RuntimeError) as err:
                yield ArchiveMember(key=mkey, name=info.filename, size=info.file_size,
                                    error=f"zip member {info.filename!r} cannot be read ({err})")
                continue
            budget.used += len(data)
            yield ArchiveMember(key=mkey, name=info.filename, size=info.file_size, data=data)


def _member_keys(key: str, infos: list[zipfile.ZipInfo], taken: set[str]) -> list[str]:
    """One key per member, ``<archive>::<name>``; a key already given gets ``[member <n>]``."""
    keys = []
    for position, info in enumerate(infos, start=1):
        base = mkey = key + MEMBER_SEP + info.filename
        copy = 0
        while mkey in taken:
            copy += 1
            mkey = f"{base} [member {position}]" + (f" ({copy})" if copy > 1 else "")
        taken.add(mkey)
        keys.append(mkey)
    return keys


def _iter_nested(zf: zipfile.ZipFile, info: zipfile.ZipInfo, mkey: str, limits: ZipLimits,
                 depth: int, taken: set[str], budget: _Budget) -> Iterator[ArchiveMember]:
    """A nested zip, spooled (its inflated bytes count against the shared budget), then walked."""
    with tempfile.SpooledTemporaryFile(max_size=64 * 2**20) as spool:
        try:
            with zf.open(info) as fh:
                written = 0
                while True:
                    chunk = fh.read(_CHUNK)
                    if not chunk:
                        break
                    written += len(chunk)
                    budget.used += len(chunk)
                    if written > limits.max_nested_bytes:
                        raise LimitExceeded(
                            f"nested zip {info.filename!r} is larger than "
                            f"{limits.max_nested_bytes} bytes (the limit)")
                    if budget.used > budget.limit:
                        budget.spent = True
                        raise LimitExceeded(
                            f"the archive's members together, across all nesting levels, expand to "
                            f"more than {budget.limit:.0f} bytes, {limits.max_ratio:.0f} times its "
                            "compressed size (possible zip bomb) - if the export is genuine, raise "
                            "ZipLimits.max_ratio")
                    spool.write(chunk)
        except (LimitExceeded, zipfile.BadZipFile, OSError, EOFError, zlib.error,
                NotImplementedError, RuntimeError) as err:
            yield ArchiveMember(key=mkey, name=info.filename, size=info.file_size, is_archive=True,
                                error=f"nested zip {info.filename!r} refused or unreadable: {err}")
            return
        spool.seek(0)
        yield from iter_zip(spool, mkey, limits=limits, depth=depth, taken=taken, budget=budget)


def join_member_path(key: str, relative: str) -> str:
    """Key of a file named relative to the folder holding ``key``.

    ``key`` is a path on disk or an archive member key (``zip::dir/activities.csv``);
    ``relative`` a forward-slash path such as Strava's ``activities/123.gpx``.
    """
    relative = relative.replace("\\", "/")
    if MEMBER_SEP in key:
        container, inner = key.rsplit(MEMBER_SEP, 1)
        joined = posixpath.normpath(posixpath.join(posixpath.dirname(inner), relative))
        return container + MEMBER_SEP + joined
    folder = Path(key).parent
    return str(Path(posixpath.normpath(str(folder.joinpath(*relative.split("/"))))))


# --------------------------------------------------------------------------------
# Strava activities.csv

#: Columns of :func:`read_strava_activities`.
STRAVA_COLUMNS = (
    "strava_id", "start_time_utc", "name", "activity_type", "gear", "rpe",
    "distance_m", "elapsed_time_s", "moving_time_s", "filename", "source_line",
)

_STRAVA_REQUIRED = ("Activity ID", "Activity Date", "Filename")
_STRAVA_DATE_FORMAT = "%b %d, %Y, %I:%M:%S %p"


def _decode_text(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def is_strava_activities_csv(head: bytes) -> bool:
    """Whether the first bytes of a file are the header of a Strava ``activities.csv``."""
    text = _decode_text(head[:65536])
    first = text.splitlines()[0] if text else ""
    try:
        header = next(csv.reader([first]))
    except (csv.Error, StopIteration):
        return False
    return all(name in header for name in _STRAVA_REQUIRED)


def _float(value: str) -> float:
    value = value.strip()
    if not value:
        return float("nan")
    try:
        return float(value)
    except ValueError:
        try:
            return float(value.replace(",", ""))  # "1,234.5" thousands separators
        except ValueError:
            return float("nan")


def _parse_dates(dates: list[str], name: str) -> pd.Series:
    start = pd.to_datetime(pd.Series(dates, dtype=object), format=_STRAVA_DATE_FORMAT,
                           errors="coerce", utc=True)
    given = pd.Series([bool(d) for d in dates], dtype=bool)
    bad = np.flatnonzero((start.isna() & given).to_numpy())
    n_bad = 0
    for i in map(int, bad):  # other formats (ISO, other locales pandas knows): row by row
        try:
            stamp = pd.Timestamp(dates[i])
        except (ValueError, TypeError):
            n_bad += 1
            continue
        start.iloc[i] = as_utc(stamp)
    if n_bad:
        warnings.warn(
            f"{name}: {n_bad} 'Activity Date' value(s) could not be parsed as dates "
            "(expected like 'Jan 27, 2021, 1:57:47 PM'); their start time is left empty",
            DataQualityWarning, stacklevel=3,
        )
    return start.astype("datetime64[ns, UTC]")


def read_strava_activities(source: str | Path | bytes, *, source_name: str | None = None) -> pd.DataFrame:
    """Read a Strava bulk-export ``activities.csv`` into one row per activity.

    Parameters
    ----------
    source
        Path of the CSV or its bytes (e.g. a zip member).
    source_name
        Name used in messages (default: the path).

    Returns
    -------
    pandas.DataFrame
        Columns ``strava_id`` (str), ``start_time_utc`` (tz-aware UTC),
        ``name``, ``activity_type`` (Strava's "Run", "Ride", ...), ``gear`` ("Activity
        Gear", the gear's name), ``rpe`` ("Perceived Exertion", 1-10), ``distance_m``
        [m], ``elapsed_time_s`` [s], ``moving_time_s`` [s], ``filename`` (the
        ``Filename`` column, relative to the CSV's folder; NaN for manual entries)
        and ``source_line`` (1-based line of the CSV row, header = 1).

    Raises
    ------
    SchemaError
        When a required column (``Activity ID``, ``Activity Date``, ``Filename``) is
        missing.

    Notes
    -----
    Strava repeats column names: the first ``Distance`` is in display units (km for
    metric accounts), the second in metres; the first ``Elapsed Time`` duplicates the
    second (seconds). The SI copy wins; the display copy (assumed km) is used only
    when the SI copy is empty. ``Activity Date`` (``"Jan 27, 2021, 1:57:47 PM"``) is
    the start time in UTC. Rows whose date cannot be parsed keep ``NaT`` and are
    counted in a :class:`~kneedata.errors.DataQualityWarning`.
    """
    if isinstance(source, bytes):
        text = _decode_text(source)
        name = source_name or "activities.csv"
    else:
        name = source_name or str(source)
        text = _decode_text(Path(source).read_bytes())
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if not rows:
        raise SchemaError(f"{name}: the file is empty; expected a Strava activities.csv header")
    header = [h.strip() for h in rows[0]]
    positions: dict[str, list[int]] = {}
    for i, col in enumerate(header):
        positions.setdefault(col, []).append(i)
    missing = [c for c in _STRAVA_REQUIRED if c not in positions]
    if missing:
        raise SchemaError(
            f"{name}: line 1: column(s) {missing} missing from the header (found "
            f"{header[:6]}...); pass the activities.csv of a Strava bulk export unchanged"
        )

    def cell(row: list[str], col: str, copy: int = 0) -> str:
        idx = positions.get(col, [])
        if len(idx) <= copy or idx[copy] >= len(row):
            return ""
        return row[idx[copy]].strip()

    out: dict[str, list[Any]] = {c: [] for c in STRAVA_COLUMNS}
    dates: list[str] = []
    for lineno, row in enumerate(rows[1:], start=2):
        if not any(v.strip() for v in row):
            continue
        out["strava_id"].append(cell(row, "Activity ID"))
        dates.append(cell(row, "Activity Date"))
        out["name"].append(cell(row, "Activity Name") or np.nan)
        out["activity_type"].append(cell(row, "Activity Type") or np.nan)
        out["gear"].append(cell(row, "Activity Gear") or np.nan)
        rpe = _float(cell(row, "Perceived Exertion"))
        out["rpe"].append(rpe if 0 <= rpe <= 10 else np.nan)
        dist_m = _float(cell(row, "Distance", 1))
        if np.isnan(dist_m):
            dist_m = _float(cell(row, "Distance", 0)) * 1000.0
        out["distance_m"].append(dist_m)
        elapsed = _float(cell(row, "Elapsed Time", 1))
        out["elapsed_time_s"].append(elapsed if not np.isnan(elapsed) else _float(cell(row, "Elapsed Time", 0)))
        out["moving_time_s"].append(_float(cell(row, "Moving Time")))
        out["filename"].append(cell(row, "Filename") or np.nan)
        out["source_line"].append(lineno)
    out["start_time_utc"] = list(_parse_dates(dates, name))
    frame = pd.DataFrame(out, columns=list(STRAVA_COLUMNS))
    frame["start_time_utc"] = pd.to_datetime(frame["start_time_utc"], utc=True).astype(
        "datetime64[ns, UTC]")
    for col in ("rpe", "distance_m", "elapsed_time_s", "moving_time_s"):
        frame[col] = frame[col].astype("float64")
    for col in ("strava_id", "name", "activity_type", "gear", "filename"):
        frame[col] = frame[col].astype("str")
    frame["source_line"] = frame["source_line"].astype("int64")
    return frame
