"""Planning an import: which files to read, and what to record for the others.

:func:`walk_paths` lists the files given (folders recursively, the store itself
left out). :func:`plan_file` looks at one file (stat, first bytes, zip members) and
yields what to do with it: a :class:`~kneedata.store.worker.Task` for a worker to
read, or a decision for the importer to apply to the files index (:class:`Settle`,
:class:`Unchanged`, :class:`Split`, :class:`Forget`). Planning reads files but never
changes the index itself.
"""

from __future__ import annotations

import os
import stat
import warnings
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from kneedata.errors import KneedataError
from kneedata.io.apple_health import is_apple_health_xml
from kneedata.io.exports import (
    MEMBER_SEP,
    ArchiveMember,
    LimitExceeded,
    ZipLimits,
    activity_suffix,
    gunzip_limited,
    is_strava_activities_csv,
    iter_zip,
    join_member_path,
    read_strava_activities,
)
from kneedata.io.read import sniff_format
from kneedata.io.wellness import is_garmin_wellness_json
from kneedata.store.files_index import (
    Entry,
    children,
    hash_bytes,
    hash_file,
    key_basename,
    stale,
    stat_unchanged,
)
from kneedata.store.worker import Task, cannot_read

__all__ = [
    "HEAD_BYTES",
    "Forget",
    "PlanContext",
    "Settle",
    "Split",
    "Unchanged",
    "classify",
    "plan_archive",
    "plan_file",
    "plan_other",
    "walk_paths",
]

#: Bytes read from the start of a file to tell what it is.
HEAD_BYTES = 65536


@dataclass(frozen=True)
class Settle:
    """Index ``key`` with ``fields`` without a worker reading it.

    ``meta_rows``: the rows of a Strava CSV read here (they replace the rows the
    same key gave before).
    """

    key: str
    fields: dict[str, Any]
    meta_rows: pd.DataFrame | None = None


@dataclass(frozen=True)
class Unchanged:
    """``key`` is as indexed; ``recurse``: so are its members. ``new_stat``: (size, mtime_ns)
    of a file touched without a change of content."""

    key: str
    recurse: bool = True
    new_stat: tuple[int, int] | None = None


@dataclass(frozen=True)
class Split:
    """Archive ``key``'s share of the progress goes to its ``members``."""

    key: str
    members: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Forget:
    """``key`` (a member of an archive read again) is gone: drop it from the index."""

    key: str


Step = Task | Settle | Unchanged | Split | Forget


@dataclass(frozen=True)
class PlanContext:
    """What planning needs to know of the store and the import.

    ``intact(key)``: whether everything ``key`` provided is still in the store
    (an unchanged file with a lost record file is read again).
    """

    index: Mapping[str, Entry]
    intact: Callable[[str], bool]
    store_dir: str
    limits: ZipLimits
    force: bool = False
    fit_engine: str | None = None


def walk_paths(paths: Iterable[Any], store_dir: str | os.PathLike[str]) -> tuple[list[str], list[dict[str, Any]]]:
    """The files to import, and a report row for each path that does not exist.

    Folders are walked recursively in sorted order, following links to folders (a
    runner's ``watch/`` may be a link to the watch's mount or a synced folder); a
    folder reached a second time (a link loop, or two links to one folder) is not
    walked again and gets a report row saying where it was read. The store folder
    (and anything below it) is left out; each file is listed once, in the order
    given.
    """
    store_real = os.path.realpath(store_dir)
    out: list[str] = []
    seen: set[str] = set()
    missing: list[dict[str, Any]] = []
    walked: dict[str, str] = {}  # real folder -> the path it was walked as

    def add(path: str) -> None:
        if path not in seen:
            seen.add(path)
            out.append(path)

    for given in paths:
        path = os.path.abspath(os.path.expanduser(os.fspath(given)))
        if os.path.isdir(path):
            for folder, dirs, names in os.walk(path, followlinks=True):
                real = os.path.realpath(folder)
                if real == store_real or real.startswith(store_real + os.sep):
                    dirs[:] = []
                    continue
                if real in walked:
                    dirs[:] = []
                    if walked[real] == folder:  # given again (overlapping paths): listed once already
                        continue
                    missing.append({"path": folder, "status": "not_an_activity", "activity_ids": [],
                                    "reason": f"a link to a folder already read as {walked[real]} "
                                              "(a link loop, or a second link to it); not read twice"})
                    continue
                walked[real] = folder
                dirs.sort()
                for name in sorted(names):
                    add(os.path.join(folder, name))
        elif os.path.lexists(path):
            add(path)
        else:
            missing.append({"path": path, "status": "failed", "activity_ids": [],
                            "reason": "no such file or folder; check the path"})
    return out, missing


def classify(name: str, head: bytes) -> str:
    """``"archive"``, ``"activity"``, ``"wellness"``, ``"strava_csv"`` or ``"other"`` from the name and first bytes.

    ``"wellness"``: a Garmin export's wellness JSON or an Apple Health
    ``export.xml`` (a worker reads it like an activity file; FIT wellness files are
    ``"activity"`` until read).
    """
    if name.lower().endswith(".zip") or head[:4] == b"PK\x03\x04":
        return "archive"
    if activity_suffix(name):
        return "activity"
    if is_garmin_wellness_json(name) or is_apple_health_xml(name):
        return "wellness"
    if name.lower().endswith(".csv") and is_strava_activities_csv(head):
        return "strava_csv"
    probe = head
    if head[:2] == b"\x1f\x8b":
        try:
            probe = gunzip_limited(head, limit=HEAD_BYTES, what=name)
        except (LimitExceeded, OSError, EOFError, ValueError, zlib.error):
            probe = b""
    return "activity" if sniff_format(probe) else "other"


def plan_other(key: str, kind: str, data: bytes | None, *, size: int, mtime_ns: int,
               sha: str, container: str) -> Settle:
    """The index entry of a file no worker reads: a Strava CSV (parsed here) or another file."""
    common = {"size": size, "mtime_ns": mtime_ns, "sha256": sha, "container": container}
    if kind != "strava_csv" or data is None:
        ext = os.path.splitext(key_basename(key))[1] or "no extension"
        return Settle(key, {"kind": "other", **common, "status": "not_an_activity",
                            "reason": f"not an activity file ({ext}: not FIT, GPX or TCX by name or content)"})
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            rows = read_strava_activities(data, source_name=key)
    except (KneedataError, ValueError) as err:
        return Settle(key, {"kind": "strava_csv", **common, "status": "failed", "reason": str(err)})
    rows["csv_path"] = key
    rows["file_key"] = [join_member_path(key, f) if isinstance(f, str) and f else None
                        for f in rows["filename"]]
    notes = [str(w.message) for w in caught]
    return Settle(key, {"kind": "strava_csv", **common, "status": "not_an_activity",
                        "reason": "; ".join(["Strava activities.csv", *notes])}, meta_rows=rows)


def _unchanged(key: str, st: os.stat_result, ctx: PlanContext) -> Unchanged | None:
    """:class:`Unchanged` when ``key`` is indexed, intact and of the same stat or content."""
    entry = ctx.index.get(key)
    if entry is None or ctx.force or not ctx.intact(key) or stale(ctx.index, key):
        return None  # new, forced, lost rows, or read by another reader version
    if stat_unchanged(entry, st):
        return Unchanged(key)
    if entry["sha256"]:
        try:
            sha = hash_file(key)
        except OSError:
            sha = ""
        if sha == entry["sha256"]:
            return Unchanged(key, new_stat=(st.st_size, st.st_mtime_ns))
    return None


def plan_file(key: str, ctx: PlanContext) -> Iterator[Step]:
    """What to do with the file ``key`` (for an archive: with each of its members)."""
    try:
        st = os.stat(key)
    except OSError as err:
        yield Settle(key, {"status": "failed", "reason": cannot_read(err)})
        return
    if not stat.S_ISREG(st.st_mode):
        yield Settle(key, {"status": "not_an_activity", "reason": "not a regular file (device, pipe or socket)"})
        return
    same = _unchanged(key, st, ctx)
    if same is not None:
        yield same
        return
    try:
        with open(key, "rb") as fh:
            head = fh.read(HEAD_BYTES)
    except OSError as err:
        yield Settle(key, {"status": "failed", "reason": cannot_read(err)})
        return
    kind = classify(key, head)
    if kind == "archive":
        yield from plan_archive(key, st, ctx)
        return
    if kind in ("activity", "wellness"):
        yield Task(key=key, path=key, data=None, store_dir=ctx.store_dir, fit_engine=ctx.fit_engine,
                   limits=ctx.limits, size=st.st_size, mtime_ns=st.st_mtime_ns)
        return
    data = head if st.st_size <= len(head) else None
    if kind == "strava_csv":
        try:
            data = Path(key).read_bytes()
        except OSError as err:
            yield Settle(key, {"status": "failed", "reason": cannot_read(err)})
            return
    sha = hash_bytes(data) if data is not None else ""
    yield plan_other(key, kind, data, size=st.st_size, mtime_ns=st.st_mtime_ns, sha=sha, container="")


def _plan_nested_archive(member: ArchiveMember, key: str, *, size: int, mtime: int, container: str) -> Iterator[Step]:
    """The entry of an archive (the zip itself or a zip inside it)."""
    if member.error:
        yield Settle(member.key, {"kind": "archive", "status": "failed", "reason": member.error,
                                  "size": size, "mtime_ns": mtime, "container": container})
        return
    sha = hash_file(key) if member.key == key else ""
    yield Split(member.key, list(member.children))
    yield Settle(member.key, {
        "kind": "archive", "status": "not_an_activity", "size": size, "mtime_ns": mtime,
        "sha256": sha, "container": container,
        "reason": (f"archive with {member.n_members} file(s); each is reported as "
                   f"'{key_basename(member.key)}{MEMBER_SEP}<member>'"),
    })


def _plan_member(member: ArchiveMember, ctx: PlanContext, *, container: str) -> Iterator[Step]:
    """What to do with one file inside an archive."""
    if member.error or member.data is None:
        yield Settle(member.key, {"kind": "activity" if activity_suffix(member.name) else "other",
                                  "status": "failed", "reason": member.error or "unreadable member",
                                  "size": member.size, "mtime_ns": -1, "container": container})
        return
    data = member.data
    sha = hash_bytes(data)
    entry = ctx.index.get(member.key)
    if (entry is not None and not ctx.force and entry["sha256"] == sha
            and entry["kind"] != "archive" and ctx.intact(member.key) and not stale(ctx.index, member.key)):
        yield Unchanged(member.key, recurse=False)
        return
    kind = classify(member.name, data[:HEAD_BYTES])
    if kind in ("activity", "wellness"):
        yield Task(key=member.key, path=None, data=data, store_dir=ctx.store_dir, fit_engine=ctx.fit_engine,
                   limits=ctx.limits, size=len(data), mtime_ns=-1, container=container, sha256=sha)
    else:
        yield plan_other(member.key, kind if kind != "archive" else "other", data,
                         size=len(data), mtime_ns=-1, sha=sha, container=container)


def plan_archive(key: str, st: os.stat_result, ctx: PlanContext) -> Iterator[Step]:
    """The steps of a zip ``key`` and of every member (nested zips included), then the members gone."""
    before = set(children(ctx.index, key))
    walked: set[str] = set()
    for member in iter_zip(key, key, limits=ctx.limits):
        container = member.key.rsplit(MEMBER_SEP, 1)[0] if member.key != key else ""
        walked.add(member.key)
        if member.is_archive:
            size = st.st_size if member.key == key else member.size
            mtime = st.st_mtime_ns if member.key == key else -1
            yield from _plan_nested_archive(member, key, size=size, mtime=mtime, container=container)
        else:
            yield from _plan_member(member, ctx, container=container)
    for gone in sorted(before - walked):
        yield Forget(gone)
