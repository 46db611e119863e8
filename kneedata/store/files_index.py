"""The files index: one row per file or zip member seen (schema.FILES), and file hashes.

An entry is a dict of the :data:`kneedata.schema.FILES` columns keyed by the file's
key (its path, or ``<zip>::<member>``). Pure functions over the index, plus hashing.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from kneedata.io.exports import MEMBER_SEP
from kneedata.io.read import READER_VERSION
from kneedata.schema import FILES

__all__ = [
    "Entry",
    "children",
    "files_frame",
    "hash_bytes",
    "hash_file",
    "key_basename",
    "new_entry",
    "other_copies",
    "providers",
    "read_files_index",
    "stale",
    "stat_unchanged",
]

#: Kinds of entry whose content a reader turned into rows (read again by a new reader).
READ_KINDS = ("activity", "strava_csv")

Entry = dict[str, Any]


def key_basename(key: str) -> str:
    """The file name of a key: the last path part of its innermost member."""
    inner = key.rsplit(MEMBER_SEP, 1)[-1]
    return inner.replace("\\", "/").rsplit("/", 1)[-1]


def new_entry(key: str, **fields: Any) -> Entry:
    """An index entry for ``key``: the defaults (an unread other file) updated by ``fields``."""
    entry: Entry = {
        "path": key, "size": -1, "mtime_ns": -1, "sha256": "", "status": "not_an_activity",
        "activity_ids": [], "reason": "", "kind": "other", "container": "",
        "reader_version": READER_VERSION,
    }
    entry.update(fields)
    return entry


def read_files_index(file: Path) -> dict[str, Entry]:
    """The index stored in ``file`` (files.parquet) by key; empty when there is none."""
    index: dict[str, Entry] = {}
    if not file.exists():
        return index
    for row in pq.read_table(file).to_pylist():  # fast: plain Python values
        row["activity_ids"] = [str(a) for a in row.get("activity_ids") or []]
        for col in ("size", "mtime_ns"):
            row[col] = -1 if row.get(col) is None else int(row[col])
        for col in ("sha256", "reason", "kind", "container", "status", "reader_version"):
            row[col] = "" if row.get(col) is None else str(row[col])
        index[row["path"]] = row
    return index


def files_frame(index: Mapping[str, Entry]) -> pd.DataFrame:
    """The index as the files table (columns of schema.FILES, sizes int64)."""
    files = pd.DataFrame.from_records(list(index.values()), columns=list(FILES))
    for col in ("size", "mtime_ns"):
        files[col] = files[col].astype("int64")
    return files


def providers(index: Mapping[str, Entry]) -> dict[str, set[str]]:
    """Activity id -> keys of the activity files that hold it."""
    out: dict[str, set[str]] = {}
    for key, entry in index.items():
        if entry["kind"] == "activity":
            for aid in entry["activity_ids"]:
                out.setdefault(aid, set()).add(key)
    return out


def stale(index: Mapping[str, Entry], key: str) -> list[str]:
    """Keys of ``key`` (and, for an archive, its members) read by another reader version.

    Only entries a reader turned into rows (:data:`READ_KINDS`) count; an unread
    'other' file has nothing to read again.
    """
    entry = index[key]
    keys = [key, *children(index, key)] if entry["kind"] == "archive" else [key]
    return [k for k in keys if index[k]["kind"] in READ_KINDS
            and index[k].get("reader_version", "") != READER_VERSION]


def children(index: Mapping[str, Entry], key: str) -> list[str]:
    """Keys of the members of archive ``key`` (nested members included), in index order."""
    prefix = key + MEMBER_SEP
    return [k for k in index if k.startswith(prefix)]


def other_copies(index: Mapping[str, Entry], source_of: Mapping[str, Any]) -> dict[str, list[str]]:
    """Activity id -> the readable activity files holding it that are not its ``source_file``.

    ``source_of`` maps an activity id to its row (``source_file``); ids without a row
    are skipped.
    """
    copies: dict[str, list[str]] = {}
    for key, entry in index.items():
        if entry["kind"] != "activity" or entry["status"] == "failed":
            continue
        for aid in entry["activity_ids"]:
            row = source_of.get(aid)
            if row is not None and row.get("source_file") != key:
                copies.setdefault(aid, []).append(key)
    return copies


def stat_unchanged(entry: Mapping[str, Any], st: os.stat_result) -> bool:
    """Whether the file's size and mtime are those indexed (read as unchanged without hashing)."""
    return bool(entry["size"] == st.st_size and entry["mtime_ns"] == st.st_mtime_ns)


def hash_bytes(data: bytes) -> str:
    """Hex SHA-256 of ``data`` (the ``sha256`` of the files index)."""
    return hashlib.sha256(data).hexdigest()


def hash_file(path: str) -> str:
    """Hex SHA-256 of a file's raw bytes, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
