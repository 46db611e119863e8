"""Records and laps as two Parquet datasets: many activities per file, one row group each.

Layout (inside one runner's store folder)::

    records/part-<id>.parquet   samples of many activities (kneedata.schema.RECORDS)
    laps/part-<id>.parquet      laps of many activities (kneedata.schema.LAPS)
    record_index.parquet        activity -> part file and row group (both datasets)

Every part file holds the activities of one write (one checkpoint of an import), one
Parquet row group per activity, rows sorted by activity then time, with the columns
``activity_id`` and ``runner_id`` first (so the files of every runner read as one
table: :func:`dataset_files`); for records ``timestamp`` (UTC) follows. Float columns
with no value in the whole part are not stored; missing values are Parquet nulls.
Compression: zstd, floats byte-stream-split, timestamps delta-encoded (a store of
1-s records is about 0.8x the bytes of its FIT files, half of the one-file-per-run
layout).

The index says, for each ``kind`` (``records`` or ``laps``) and ``activity_id``, the
``part`` file, its ``row_group``, ``n_rows`` and the ``columns`` of the activity's
frame in order, so :func:`read_frame` gives back exactly the frame that was written
(a column left out as all-missing comes back as NaN). Reading one activity reads one
row group; :func:`scan_columns` reads whole part files for a column subset.

Before this layout a store held one file per activity (``records/<activity_id>.parquet``,
``laps/<activity_id>.parquet``); such a store is still read, and the next import moves
its files into parts (:func:`legacy_files`), deleting each old file only once the
index that points at its rows is written.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from kneedata.schema import LAPS, RECORDS
from kneedata.store.checkpoint import atomic_write

__all__ = [
    "INDEX_FILE",
    "KINDS",
    "PART_PREFIX",
    "Piece",
    "dataset_files",
    "empty_index",
    "frame_piece",
    "legacy_files",
    "part_file",
    "stored_ids",
    "read_frame",
    "read_index",
    "scan_columns",
    "write_index",
    "write_part",
]

#: The two datasets of a store (folder names).
KINDS = ("records", "laps")
#: Name of the activity -> part file and row group index (in the store folder).
INDEX_FILE = "record_index.parquet"
#: Part files start with this (old per-activity files are named by their id).
PART_PREFIX = "part-"
_KEYS = ("activity_id", "runner_id")
_SCHEMAS = {"records": RECORDS, "laps": LAPS}
_INDEX_COLUMNS = ("kind", "activity_id", "part", "row_group", "n_rows", "columns")


@dataclass
class Piece:
    """One activity's records or laps as an Arrow table, ready for a part file.

    ``columns`` are the columns of the frame it came from, in order (the
    ``timestamp`` index of records not counted); ``table`` holds ``activity_id``,
    ``runner_id`` (filled in when written), for records ``timestamp``, then the
    columns that have a value.
    """

    kind: str
    activity_id: str
    table: pa.Table
    columns: list[str]


def _array(values: Any) -> pa.Array:
    """An Arrow array of a pandas column or index, missing values as nulls."""
    if isinstance(values, pd.DatetimeIndex | pd.Series) and isinstance(values.dtype, pd.DatetimeTZDtype):
        return pa.array(values.tz_convert("UTC").as_unit("ns") if isinstance(values, pd.DatetimeIndex)
                        else values.dt.tz_convert("UTC").dt.as_unit("ns"))
    array = np.asarray(values)
    if array.dtype.kind == "f":
        return pa.array(array, mask=np.isnan(array))
    if array.dtype.kind in "biu":
        return pa.array(array)
    return pa.array(values, from_pandas=True)


def frame_piece(kind: str, activity_id: str, frame: pd.DataFrame) -> Piece:
    """The records (``timestamp`` index) or laps of one activity as a :class:`Piece`.

    Float columns without any value are left out of the table (they come back as
    NaN); columns are converted from their numpy arrays, with no pandas -> Arrow
    conversion of the frame.
    """
    if kind not in KINDS:
        raise ValueError(f"kind {kind!r}: one of {KINDS}")
    n = len(frame)
    arrays: dict[str, pa.Array] = {"activity_id": pa.array([activity_id] * n, pa.string())}
    if kind == "records":
        index = frame.index
        if not isinstance(index, pd.DatetimeIndex):
            raise ValueError(f"records of {activity_id}: need a DatetimeIndex 'timestamp', "
                             f"got {type(index).__name__}")
        stamps = index if index.tz is not None else index.tz_localize("UTC")
        arrays["timestamp"] = _array(stamps)
    columns = [str(c) for c in frame.columns]
    for name in columns:
        col = frame[name]
        if col.dtype.kind == "f" and n and not col.notna().any():
            continue  # all missing: not stored
        if col.dtype.kind == "f" and not n:
            arrays[name] = pa.array([], pa.float64())
            continue
        arrays[name] = _array(col)
    return Piece(kind, str(activity_id), pa.table(arrays), columns)


def _write_options(schema: pa.Schema) -> dict[str, Any]:
    floats = [f.name for f in schema if pa.types.is_floating(f.type)]
    encoding = {name: "BYTE_STREAM_SPLIT" for name in floats}
    if "timestamp" in schema.names:
        encoding["timestamp"] = "DELTA_BINARY_PACKED"
    return {
        "compression": "zstd",
        "use_dictionary": [f.name for f in schema if f.name not in encoding],
        "column_encoding": encoding,
        "write_statistics": [n for n in ("activity_id", "timestamp") if n in schema.names],
    }


def _unified(tables: Sequence[pa.Table]) -> tuple[pa.Schema, list[pa.Table]] | None:
    """Every table with the union of their columns (missing ones as nulls); None if types clash."""
    try:
        schema = pa.unify_schemas([t.schema for t in tables], promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    out = []
    for table in tables:
        cols = [table.column(f.name) if f.name in table.column_names
                else pa.nulls(len(table), f.type) for f in schema]
        try:
            out.append(pa.Table.from_arrays(cols, schema=schema))
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            out.append(pa.Table.from_arrays([c.cast(f.type) for c, f in zip(cols, schema, strict=True)],
                                            schema=schema))
    return schema, out


def write_part(root: Path, kind: str, pieces: Sequence[Piece], *, runner_id: str) -> list[dict[str, Any]]:
    """Write ``pieces`` (one kind) as part file(s) of ``root/kind`` atomically; their index rows.

    One row group per piece, in the order given; the file is written under a temporary
    name, synced and renamed, so a part file is whole or absent.
    """
    if not pieces:
        return []
    tables = []
    for piece in pieces:
        table = piece.table
        rid = pa.array([runner_id] * len(table), pa.string())
        table = table.add_column(1, "runner_id", rid) if "runner_id" not in table.column_names else table
        tables.append(table)
    unified = _unified(tables)
    if unified is None:  # columns of clashing types: one part per piece
        rows: list[dict[str, Any]] = []
        for piece in pieces:
            rows += write_part(root, kind, [piece], runner_id=runner_id)
        return rows
    schema, tables = unified
    folder = root / kind
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{PART_PREFIX}{uuid.uuid4().hex}.parquet"
    groups: list[int] = []

    def write(tmp: Path) -> None:
        written = 0
        with pq.ParquetWriter(tmp, schema, **_write_options(schema)) as writer:
            for table in tables:
                if len(table):  # an activity without rows gets no row group (-1 in the index)
                    writer.write_table(table, row_group_size=len(table))
                    groups.append(written)
                    written += 1
                else:
                    groups.append(-1)

    atomic_write(folder / name, write, fsync=True)
    return [{"kind": kind, "activity_id": p.activity_id, "part": name, "row_group": g,
             "n_rows": len(p.table), "columns": list(p.columns)}
            for g, p in zip(groups, pieces, strict=True)]


def empty_index() -> pd.DataFrame:
    return pd.DataFrame({"kind": pd.Series(dtype="str"), "activity_id": pd.Series(dtype="str"),
                         "part": pd.Series(dtype="str"), "row_group": pd.Series(dtype="int64"),
                         "n_rows": pd.Series(dtype="int64"), "columns": pd.Series(dtype=object)})


def read_index(root: Path) -> pd.DataFrame:
    """The index of the store at ``root`` (no rows when it has none)."""
    file = root / INDEX_FILE
    if not file.exists():
        return empty_index()
    frame = pq.read_table(file).to_pandas()
    frame["columns"] = [list(c) for c in frame["columns"]]
    return frame


def write_index(root: Path, index: pd.DataFrame) -> None:
    """Write the index atomically (synced), or remove it when it has no rows."""
    dest = root / INDEX_FILE
    if not len(index):
        with contextlib.suppress(FileNotFoundError):
            dest.unlink()
        return
    frame = index[list(_INDEX_COLUMNS)].reset_index(drop=True)
    table = pa.table({
        "kind": pa.array(frame["kind"].astype(str).tolist(), pa.string()),
        "activity_id": pa.array(frame["activity_id"].astype(str).tolist(), pa.string()),
        "part": pa.array(frame["part"].astype(str).tolist(), pa.string()),
        "row_group": pa.array(frame["row_group"].astype("int64").to_numpy()),
        "n_rows": pa.array(frame["n_rows"].astype("int64").to_numpy()),
        "columns": pa.array([list(c) for c in frame["columns"]], pa.list_(pa.string())),
    })
    atomic_write(dest, lambda tmp: pq.write_table(table, tmp, compression="zstd"), fsync=True)


def _dtype(kind: str, name: str) -> str:
    col = _SCHEMAS[kind].get(name)
    return col.dtype if col is not None else "float64"


def _column(kind: str, name: str, table: pa.Table | None, n: int) -> Any:
    """One column of the frame: stored values in the schema's dtype, or NaN when not stored."""
    dtype = _dtype(kind, name)
    if table is None or name not in table.column_names:
        if dtype == "float64" or n:
            return np.full(n, np.nan)
        empty = pd.Series([], dtype=dtype)
        return empty.to_numpy() if dtype in ("bool", "int64") else empty.array
    values = table.column(name).to_pandas()
    if name in _SCHEMAS[kind] and str(values.dtype) != dtype:
        with contextlib.suppress(TypeError, ValueError):
            values = values.astype(dtype)
    return values.to_numpy() if values.dtype.kind in "fbiu" else values.array


def _to_frame(kind: str, table: pa.Table | None, columns: Sequence[str]) -> pd.DataFrame:
    n = table.num_rows if table is not None else 0
    data = {name: _column(kind, name, table, n) for name in columns}
    index: pd.Index
    if kind == "records":
        stamps = (table.column("timestamp").to_pandas() if table is not None
                  else pd.Series([], dtype="datetime64[ns, UTC]"))
        index = pd.DatetimeIndex(stamps, name="timestamp")
    else:
        index = pd.RangeIndex(n)
    return pd.DataFrame(data, index=index, columns=list(columns))


def read_frame(root: Path, row: Any, *, files: dict[str, pq.ParquetFile] | None = None) -> pd.DataFrame:
    """The frame of one index row (records with a ``timestamp`` index, or laps).

    ``files`` caches open part files between calls (the footer is read once).
    """
    kind, part = str(row["kind"]), str(row["part"])
    columns = list(row["columns"])
    if int(row["row_group"]) < 0:  # an activity without rows: no row group
        return _to_frame(kind, None, columns)
    handle = files.get(part) if files is not None else None
    if handle is None:
        handle = pq.ParquetFile(root / kind / part)
        if files is not None:
            files[part] = handle
    stored = set(handle.schema_arrow.names)
    wanted = [c for c in columns if c in stored]
    if kind == "records":
        wanted = ["timestamp", *wanted]
    table = handle.read_row_group(int(row["row_group"]), columns=wanted)
    return _to_frame(kind, table, columns)


def scan_columns(root: Path, index: pd.DataFrame, ids: Iterable[str], columns: Sequence[str]
                 ) -> Iterator[tuple[str, dict[str, np.ndarray]]]:
    """``(activity_id, {column: float array, 'timestamp_ns': int64})`` of the records of ``ids``.

    Reads each part file that holds one of them once (only ``columns``), in storage
    order; a column an activity lacks is all NaN; booleans come as 0/1 floats.
    """
    wanted = set(map(str, ids))
    rows = index[(index["kind"] == "records") & index["activity_id"].isin(wanted)]
    for part, group in rows.groupby("part", sort=False):
        handle = pq.ParquetFile(root / "records" / str(part))
        names = set(handle.schema_arrow.names)
        present = [c for c in columns if c in names]
        groups = group[group["row_group"] >= 0].sort_values("row_group")
        for aid in group.loc[group["row_group"] < 0, "activity_id"]:
            yield str(aid), {"timestamp_ns": np.zeros(0, dtype=np.int64),
                             **{c: np.zeros(0) for c in columns}}
        table = handle.read_row_groups(groups["row_group"].astype(int).tolist(),
                                       columns=["timestamp", *present])
        stamps = table.column("timestamp").cast(pa.int64()).to_numpy()
        arrays = {}
        for name in present:
            col = table.column(name)
            if pa.types.is_boolean(col.type):
                col = col.cast(pa.float64())
            arrays[name] = col.to_numpy(zero_copy_only=False).astype(float, copy=False)
        start = 0
        n_all = len(stamps)
        for aid, n_rows, cols in zip(groups["activity_id"], groups["n_rows"], groups["columns"], strict=True):
            stop = start + int(n_rows)
            out: dict[str, np.ndarray] = {"timestamp_ns": stamps[start:stop]}
            own = set(cols)
            for name in columns:
                if name in arrays and name in own:
                    out[name] = arrays[name][start:stop]
                else:
                    out[name] = np.full(stop - start, np.nan)
            yield str(aid), out
            start = stop
        assert start == n_all


def legacy_files(root: Path, kind: str) -> dict[str, Path]:
    """Per-activity files of the layout before parts (``<kind>/<activity_id>.parquet``)."""
    folder = root / kind
    if not folder.is_dir():
        return {}
    return {p.name[: -len(".parquet")]: p for p in folder.glob("*.parquet")
            if not p.name.startswith(PART_PREFIX)}


def dataset_files(root: Path, kind: str = "records") -> list[Path]:
    """Part files of ``kind`` of every runner in the store at ``root`` (one table together).

    Each row carries ``activity_id`` and ``runner_id``; read them with
    ``pyarrow.dataset.dataset(files)``, DuckDB ``read_parquet(files, union_by_name=true)``
    or ``dask.dataframe.read_parquet(files)``.
    """
    from kneedata.runners import runner_folder, runner_ids

    files: list[Path] = []
    for rid in runner_ids(root):
        folder = runner_folder(root, rid)
        index = read_index(folder)
        parts = sorted(set(index.loc[index["kind"] == kind, "part"].astype(str)))
        files += [folder / kind / p for p in parts if (folder / kind / p).exists()]
    return files


class DatasetState:
    """The datasets of one import: the index, the pieces read since the last write, clean-up.

    Parts are written before the index that points at them and the index before the
    tables that list the activities; a file is deleted only once the written index no
    longer points at it (old per-activity files: once their rows are in a part).
    """

    def __init__(self, root: Path, runner_id: str) -> None:
        self.root, self.runner_id = root, runner_id
        index = read_index(root)
        # parts a killed import wrote after its last index: no row points at them
        for kind in KINDS:
            named = set(index.loc[index["kind"] == kind, "part"].astype(str))
            for file in (root / kind).glob(f"{PART_PREFIX}*.parquet") if (root / kind).is_dir() else ():
                if file.name not in named:
                    with contextlib.suppress(OSError):
                        file.unlink()
        exists = {(k, p): (root / k / p).exists() for k, p in zip(index["kind"], index["part"], strict=True)}
        present = np.array([exists[(k, p)] for k, p in zip(index["kind"], index["part"], strict=True)],
                           dtype=bool)
        self.index = index[present].reset_index(drop=True)
        self.pending: dict[str, list[Piece]] = {kind: [] for kind in KINDS}
        self.legacy = {kind: legacy_files(root, kind) for kind in KINDS}
        self.retired: set[Path] = set()  # files to delete once the index is written

    def ids(self, kind: str = "records") -> set[str]:
        """Ids whose ``kind`` the store holds (in parts, pending, or as old per-activity files)."""
        held = set(self.index.loc[self.index["kind"] == kind, "activity_id"].astype(str))
        return held | {p.activity_id for p in self.pending[kind]} | set(self.legacy[kind])

    def add(self, pieces: Iterable[Piece]) -> None:
        for piece in pieces:
            self.pending[piece.kind].append(piece)

    @property
    def dirty(self) -> bool:
        return any(self.pending.values()) or any(self.legacy.values())

    def _migrate(self, keep: set[str]) -> None:
        """Old per-activity files of kept activities become pending pieces."""
        for kind in KINDS:
            for aid, file in sorted(self.legacy[kind].items()):
                if aid in keep and not any(p.activity_id == aid for p in self.pending[kind]):
                    frame = pd.read_parquet(file)
                    if kind == "laps":
                        frame = frame.reset_index(drop=True)
                    self.pending[kind].append(frame_piece(kind, aid, frame))
                self.retired.add(file)
            self.legacy[kind] = {}

    def _compact(self, keep: set[str]) -> None:
        """Drop the rows of activities not in ``keep``; rewrite the parts that hold dead rows."""
        live = self.index["activity_id"].astype(str).isin(keep).to_numpy().copy()
        for (kind, part), group in self.index.groupby(["kind", "part"]):
            path = self.root / str(kind) / str(part)
            ok = live[group.index.to_numpy()]
            stored = pq.ParquetFile(path).metadata.num_row_groups
            if ok.all() and int((group["row_group"] >= 0).sum()) == stored:
                continue  # every row of the part is live
            handle = pq.ParquetFile(path)
            for row in group[ok].to_dict("records"):
                table = (handle.read_row_group(int(row["row_group"])) if row["row_group"] >= 0
                         else handle.schema_arrow.empty_table())
                self.pending[str(kind)].append(Piece(str(kind), str(row["activity_id"]), table,
                                                     list(row["columns"])))
            live[group.index.to_numpy()] = False
            self.retired.add(path)
        self.index = self.index[live].reset_index(drop=True)

    def _flush(self) -> bool:
        """Write the pending pieces as parts and point the index at them; whether any were."""
        rows: list[dict[str, Any]] = []
        for kind in KINDS:
            # the last piece of an activity wins (a file read again after a kill)
            latest = {p.activity_id: p for p in self.pending[kind]}
            rows += write_part(self.root, kind, list(latest.values()), runner_id=self.runner_id)
        self.pending = {kind: [] for kind in KINDS}
        if not rows:
            return False
        new = pd.DataFrame(rows)
        replaced = set(zip(new["kind"], new["activity_id"], strict=True))
        old = self.index[np.array([(k, a) not in replaced for k, a in
                                   zip(self.index["kind"], self.index["activity_id"], strict=True)],
                                  dtype=bool)]
        self.index = pd.concat([old, new], ignore_index=True) if len(old) else new
        return True

    def write(self, keep: set[str] | None) -> None:
        """Write the pending pieces as parts, then the index.

        ``keep`` (the final write of an import): the ids of every stored activity; old
        per-activity files move into parts, rows of other ids are dropped and parts with
        dead rows rewritten; the files no longer needed are deleted by
        :meth:`remove_retired` once the tables are written.
        """
        before = set(zip(self.index["kind"], self.index["part"], strict=True))
        if keep is not None:
            self._migrate(keep)
        changed = self._flush()
        if keep is not None:
            self._compact(keep)
            self._flush()
            changed = True
        after = set(zip(self.index["kind"], self.index["part"], strict=True))
        self.retired |= {self.root / str(k) / str(p) for k, p in before - after}
        if changed:
            write_index(self.root, self.index)

    def remove_retired(self) -> None:
        """Delete the files no written index points at any more (after the tables are written)."""
        named = set(zip(self.index["kind"], self.index["part"], strict=True))
        for file in self.retired:
            if (file.parent.name, file.name) not in named:
                with contextlib.suppress(OSError):
                    file.unlink()
        self.retired = set()


def stored_ids(root: Path, kind: str = "records") -> set[str]:
    """Ids whose ``kind`` the store at ``root`` holds in parts or old per-activity files."""
    index = read_index(root)
    return set(index.loc[index["kind"] == kind, "activity_id"].astype(str)) | set(legacy_files(root, kind))


def part_file(root: Path, activity_id: str, kind: str = "records") -> Path | None:
    """The part file holding ``kind`` of ``activity_id`` (None when the index has no row)."""
    index = read_index(root)
    rows = index[(index["kind"] == kind) & (index["activity_id"] == str(activity_id))]
    return root / kind / str(rows["part"].iloc[0]) if len(rows) else None
