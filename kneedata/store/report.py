"""The report of an import: one row per file seen, with its status and reason."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from kneedata.text import terminal_safe

__all__ = ["STATUSES", "ImportReport"]

#: Status of a file in an :class:`ImportReport`.
STATUSES = ("imported", "duplicate", "unchanged", "failed", "not_an_activity")


@dataclass
class ImportReport:
    """What happened to every file seen by :meth:`Store.import_paths`.

    Attributes
    ----------
    rows
        One dict per file seen (``path``, ``status``, ``activity_ids``, ``reason``),
        in the order seen. Zip members are named ``<zip>::<member>``.
    store_path
        The store imported into.
    elapsed_s
        Wall-clock time of the import [s].
    n_records
        Samples read from files that were read in this import.
    n_files_read
        Files (and members) actually parsed in this import.
    """

    rows: list[dict[str, Any]]
    store_path: Path
    elapsed_s: float = 0.0
    n_records: int = 0
    n_files_read: int = 0
    notes: list[str] = field(default_factory=list)

    def to_frame(self) -> pd.DataFrame:
        """One row per file seen: ``path``, ``status``, ``activity_ids`` (list), ``reason``."""
        frame = pd.DataFrame(
            {
                "path": pd.Series([r["path"] for r in self.rows], dtype="str"),
                "status": pd.Series([r["status"] for r in self.rows], dtype="str"),
                "activity_ids": pd.Series([list(r["activity_ids"]) for r in self.rows], dtype=object),
                "reason": pd.Series([r["reason"] for r in self.rows], dtype="str"),
            }
        )
        return frame

    def counts(self) -> dict[str, int]:
        """Number of files per status (every status present, zeros included)."""
        out = dict.fromkeys(STATUSES, 0)
        for row in self.rows:
            out[row["status"]] += 1
        return out

    def failures(self) -> pd.DataFrame:
        """The rows with status ``failed``."""
        frame = self.to_frame()
        return frame[frame["status"] == "failed"].reset_index(drop=True)

    @property
    def records_per_s(self) -> float:
        """Samples read per second of import wall-clock time [1/s]."""
        return self.n_records / self.elapsed_s if self.elapsed_s > 0 else float("nan")

    def summary(self) -> str:
        """Counts per status, then each failure with its reason (plain text)."""
        counts = self.counts()
        lines = [
            f"{len(self.rows)} files seen in {self.elapsed_s:.2f} s "
            f"({self.n_files_read} read, {self.n_records} samples) into {self.store_path}",
        ]
        lines += [f"  {status:<16}{counts[status]:>7}" for status in STATUSES]
        failed = [r for r in self.rows if r["status"] == "failed"]
        if failed:
            lines.append("failed:")
            lines += [f"  {r['path']}: {r['reason']}" for r in failed]
        lines += self.notes
        return terminal_safe("\n".join(lines))  # names from files: shown, never run by a terminal

    def __str__(self) -> str:
        return self.summary()
