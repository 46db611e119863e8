"""Readers for the tables a runner keeps by hand: pain diary, shoes, routines.

Each reader takes a ``.csv`` file (comma, semicolon or tab separated; UTF-8, with
or without the byte-order mark Excel writes, or Windows-1252) or an ``.xlsx``
workbook, and returns a validated :class:`pandas.DataFrame` with the columns of
:data:`kneedata.schema.DIARY`, :data:`~kneedata.schema.SHOES` or
:data:`~kneedata.schema.ROUTINES`, plus ``source_line``: the line (CSV) or row
(xlsx) of each entry as the user sees it in the file, the header being line 1.

They accept what people type: ISO dates (``2024-03-05``), ``05/03/2024`` when
``dayfirst=True``, month names (``5 Mar 2024``), sides ``L``/``R``/``both``, pain as
``3``, ``3/10`` or ``3.5``, several entries per day, blank optional cells, stray
spaces, header names in any case (``Pain 0-10`` is ``pain_0_10``). Every bad cell
of a file is reported at once in one :class:`~kneedata.errors.SchemaError`.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import difflib
import io
import math
import os
import re
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kneedata import schema
from kneedata.errors import DataQualityWarning, FileFormatError, SchemaError

__all__ = [
    "HEADERS",
    "RATINGS",
    "KINDS",
    "SIDES",
    "SITES",
    "LINKS",
    "RUN_TIMINGS",
    "TIMINGS",
    "clock_minutes",
    "link_entries",
    "local_start_minutes",
    "read_experiment",
    "read_pain_diary",
    "read_routines",
    "read_shoe_periods",
    "read_shoes",
    "templates_readme",
    "write_templates",
]

# --- vocabularies: canonical value -> (meaning, accepted spellings) ------------------
SIDES: dict[str, tuple[str, tuple[str, ...]]] = {
    "left": ("left knee", ("l", "left", "left_knee", "lt")),
    "right": ("right knee", ("r", "right", "right_knee", "rt")),
    "both": ("both knees", ("b", "both", "bilateral", "l_r", "lr", "left_right",
                            "left_and_right", "both_knees")),
}
SITES: dict[str, tuple[str, tuple[str, ...]]] = {
    "around_kneecap": ("front of the knee, around the kneecap (patellofemoral)",
                       ("around_kneecap", "kneecap", "front", "anterior", "patella",
                        "patellofemoral", "pfps", "around_the_kneecap")),
    "behind_kneecap": ("behind / under the kneecap",
                       ("behind_kneecap", "under_kneecap", "behind_the_kneecap",
                        "under_the_kneecap", "retropatellar")),
    "below_kneecap": ("just below the kneecap (patellar tendon)",
                      ("below_kneecap", "below_the_kneecap", "patellar_tendon",
                       "tendon", "jumpers_knee")),
    "above_kneecap": ("just above the kneecap (quadriceps tendon)",
                      ("above_kneecap", "above_the_kneecap", "quadriceps_tendon",
                       "quad_tendon")),
    "lateral": ("outside of the knee (e.g. iliotibial band)",
                ("lateral", "outside", "outer", "it_band", "itb", "itbs",
                 "iliotibial_band")),
    "medial": ("inside of the knee", ("medial", "inside", "inner", "pes_anserine")),
    "back": ("back of the knee", ("back", "posterior", "back_of_knee",
                                  "back_of_the_knee", "behind_knee", "popliteal")),
    "whole_knee": ("the whole knee, hard to pin down",
                   ("whole_knee", "whole", "all_over", "general", "diffuse")),
    "other": ("anywhere else: describe it in notes", ("other",)),
}
TIMINGS: dict[str, tuple[str, tuple[str, ...]]] = {
    "before": ("just before a run", ("before", "before_run", "pre", "pre_run",
                                     "warm_up", "warmup")),
    "during": ("while running", ("during", "during_run", "while_running", "in_run")),
    "after": ("in the hours after a run", ("after", "after_run", "post", "post_run")),
    "next_morning": ("on waking, any morning (the morning after a run, or any other)",
                     ("next_morning", "morning", "next_day", "am", "waking",
                      "on_waking", "wake_up")),
    "rest": ("at rest: sitting, lying, at night", ("rest", "at_rest", "resting",
                                                   "sitting", "night")),
    "stairs": ("on stairs or slopes", ("stairs", "on_stairs", "steps", "downstairs",
                                       "upstairs")),
    "other": ("any other time: describe it in notes", ("other",)),
}
KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "strength": ("strength training", ("strength", "gym", "weights", "strength_training",
                                       "resistance")),
    "foam_rolling": ("foam rolling / self massage", ("foam_rolling", "foam_roll",
                                                     "foam_roller", "rolling",
                                                     "self_massage")),
    "physio": ("a physiotherapy session", ("physio", "physiotherapy", "physical_therapy",
                                           "pt")),
    "mobility": ("stretching, mobility, yoga", ("mobility", "stretching", "stretch",
                                                "yoga")),
    "other": ("anything else: describe it in exercises", ("other",)),
}

#: Optional "how you felt" ratings of a diary line (column -> lowest, highest, what it means).
RATINGS: dict[str, tuple[float, float, str]] = {
    "sleep_quality_1_5": (1, 5, "last night's sleep, 1 = very poor to 5 = very good"),
    "fatigue_0_10": (0, 10, "how tired you feel, 0 = fresh to 10 = exhausted"),
    "soreness_0_10": (0, 10, "muscle soreness (legs, anywhere), 0 = none to 10 = worst"),
    "stress_0_10": (0, 10, "life stress (work, family ...), 0 = none to 10 = worst"),
}

#: The exact header of each template file (kneedata.init writes these).
HEADERS: dict[str, list[str]] = {
    "pain_diary": ["date", "time", "side", "site", "pain_0_10", "timing", "activity_id",
                   "notes", *RATINGS],
    "shoes": ["shoe_id", "name", "brand", "model", "drop_mm", "stack_mm", "first_used",
              "retired", "initial_km", "default_for"],
    "routines": ["date", "kind", "minutes", "exercises"],
    "shoe_periods": ["shoe_id", "start", "end"],
    "experiment": ["block", "start", "end", "condition", "change", "target",
                   "carryover_days", "adherence_pct", "notes"],
}
_REQUIRED: dict[str, list[str]] = {
    "pain_diary": ["date", "side", "pain_0_10"],
    "shoes": ["shoe_id"],
    "routines": ["date", "kind"],
    "shoe_periods": ["shoe_id", "start"],
    "experiment": ["start", "end", "condition"],
}
_HEADER_ALIASES: dict[str, dict[str, str]] = {
    "pain_diary": {"pain": "pain_0_10", "pain_score": "pain_0_10", "score": "pain_0_10",
                   "pain_10": "pain_0_10", "knee": "side", "location": "site",
                   "where": "site", "when": "timing", "note": "notes",
                   "comment": "notes", "comments": "notes", "day": "date",
                   "activity": "activity_id", "run_id": "activity_id"},
    "shoes": {"id": "shoe_id", "shoe": "shoe_id", "drop": "drop_mm",
              "stack": "stack_mm", "stack_height_mm": "stack_mm",
              "stack_height": "stack_mm", "first_use": "first_used",
              "start": "first_used", "retired_on": "retired",
              "initial_distance_km": "initial_km", "km_before": "initial_km",
              "rule": "default_for", "default": "default_for"},
    "routines": {"type": "kind", "duration": "minutes", "duration_min": "minutes",
                 "min": "minutes", "mins": "minutes", "exercise": "exercises",
                 "day": "date"},
    "shoe_periods": {"id": "shoe_id", "shoe": "shoe_id", "from": "start",
                     "to": "end", "until": "end", "start_date": "start",
                     "end_date": "end"},
    "experiment": {"from": "start", "to": "end", "until": "end", "first_day": "start",
                   "last_day": "end", "arm": "condition", "treatment": "condition",
                   "period": "block", "carryover": "carryover_days",
                   "adherence": "adherence_pct", "note": "notes"},
}
_TABLE_WORDS = {"pain_diary": "pain diary", "shoes": "shoes table",
                "routines": "routines table", "shoe_periods": "shoe periods table",
                "experiment": "experiment schedule"}
_MAX_LISTED = 40  # problems printed in the exception message (all are in .problems)
_SUMMARY_MIN = 3  # this many day-first dates are said in one line, not one line each


# --- raw reading ---------------------------------------------------------------------
@dataclass
class _Raw:
    """A file as rows of cells, before any interpretation."""

    name: str                      # file name shown in messages
    unit: str                      # "line" (CSV) or "row" (xlsx)
    header_line: int
    header: list[str]              # as typed
    rows: list[tuple[int, list[Any]]] = field(default_factory=list)


def _clean(value: Any) -> Any:
    """Strip strings; blank strings become None."""
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, float) and np.isnan(value):
        return None
    return value


def _utf16_variant(data: bytes) -> str | None:
    """``"utf-32"``/``"utf-16"`` (with a byte-order mark), ``"utf-16-le"``/``"-be"`` or None."""
    if data[:4] in (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff"):
        return "utf-32"  # before the UTF-16 test: its mark starts like UTF-16's
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "utf-16"
    head = data[:4096]
    if len(head) >= 8 and head.count(0) * 4 >= 3 * (len(head) - 3):  # ASCII as UTF-32: 3 NULs in 4
        if not any(head[0::4]) and not any(head[1::4]) and not any(head[2::4]):
            return "utf-32-be"
        if not any(head[1::4]) and not any(head[2::4]) and not any(head[3::4]):
            return "utf-32-le"
    if len(head) >= 4 and head.count(0) * 2 >= len(head) - 1:  # ASCII text, every other byte NUL
        if not any(head[0::2]):
            return "utf-16-be"
        if not any(head[1::2]):
            return "utf-16-le"
    return None


def _decode(data: bytes, name: str) -> str:
    utf16 = _utf16_variant(data)
    if utf16 is not None:
        try:
            return data.decode(utf16)
        except UnicodeDecodeError as err:
            raise FileFormatError(
                f"{name} looks like {utf16.upper()} text but cannot be decoded as such ({err}). "
                "Save the table as 'CSV UTF-8' or as an Excel .xlsx workbook."
            ) from err
    if b"\x00" in data[:4096]:
        raise FileFormatError(
            f"{name} is not a text file (it contains binary data). Save the table as "
            "CSV (comma-separated values) or as an Excel .xlsx workbook."
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        warnings.warn(
            f"{name} is not UTF-8; read it as Windows-1252 (Western European). If "
            "accented letters look wrong, save the file as 'CSV UTF-8'.",
            DataQualityWarning,
            stacklevel=5,
        )
        return data.decode("cp1252", errors="replace")


#: Longest cell of a CSV table read [characters] (the csv module's default, 131,072,
#: is less than a long pasted note).
MAX_CELL_CHARS = 1_000_000


@contextlib.contextmanager
def _cell_limit() -> Iterator[None]:
    """The csv module's field size limit raised to :data:`MAX_CELL_CHARS` (restored after)."""
    before = csv.field_size_limit(MAX_CELL_CHARS)
    try:
        yield
    finally:
        csv.field_size_limit(before)


def _read_csv_raw(text: str, name: str) -> _Raw:
    with _cell_limit():
        return _read_csv_cells(text, name)


def _read_csv_cells(text: str, name: str) -> _Raw:
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    delimiter = max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    raw: _Raw | None = None
    previous_end = 0
    try:
        for record in reader:
            start = previous_end + 1
            previous_end = reader.line_num
            cells = [_clean(c) for c in record]
            if not any(c is not None for c in cells):
                continue
            if raw is None:
                raw = _Raw(name, "line", start, [c or "" for c in cells])
            else:
                raw.rows.append((start, cells))
    except csv.Error as err:
        if "field larger than field limit" in str(err):
            raise FileFormatError(
                f"{name} line {reader.line_num}: a cell holds more than {MAX_CELL_CHARS:,} characters, "
                "more than kneedata reads in one cell. Shorten that note (keep the long text in a "
                "separate file), or, if the note is short, look for a double quote opened in or "
                "before that line and never closed, which runs the rest of the file into one cell."
            ) from err
        raise FileFormatError(
            f"{name} line {reader.line_num}: the CSV text cannot be split into cells "
            f"({err}). Check for an unclosed double quote in that line."
        ) from err
    if raw is None:
        raise SchemaError(_empty_message(name))
    _check_quotes(raw, text, delimiter)
    return raw


def _check_quotes(raw: _Raw, text: str, delimiter: str) -> None:
    """Refuse a double quote that swallowed the lines after it.

    A quoted cell may hold line breaks (a note over two lines), but one that runs to
    the end of the file never closed, and one whose continuation lines look like
    rows of the table (as many delimiters as the header) took whole entries in.
    """
    width = len(raw.header)
    rows = [(line, cells) for line, cells in raw.rows
            if any(isinstance(c, str) and "\n" in c for c in cells)]
    if not rows:
        return
    at_end = _runs_to_end(text, delimiter)
    for line, cells in rows:
        swallowed = [ln for c in cells if isinstance(c, str) and "\n" in c
                     for ln in c.split("\n")[1:] if ln.count(delimiter) >= width - 1 > 0]
        if swallowed or (at_end and line == raw.rows[-1][0]):
            n = len(swallowed) or sum(c.count("\n") for c in cells if isinstance(c, str))
            raise SchemaError(
                f"{raw.name} line {line}: a double quote opened on this line is never closed "
                f"where the cell ends, so the {n} line(s) after it were read as part of one "
                "cell. Remove the stray quote, or close it (\"like this\") where the note ends."
            )


def _runs_to_end(text: str, delimiter: str) -> bool:
    """Whether the CSV text ends inside a quoted cell (an unclosed quote)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        for _ in reader:
            pass
    except csv.Error as err:
        return "unexpected end of data" in str(err)
    return False


def _pick_sheet(book: Any, name: str, kind: str, sheet: str | None) -> Any:
    """The worksheet to read: ``sheet`` by name, else one named after the table, else the
    first *visible* one; a skipped hidden sheet or another visible one is said."""
    sheets = list(book.worksheets)
    titles = ", ".join(repr(ws.title) for ws in sheets)
    if sheet is not None:
        chosen = next((ws for ws in sheets if ws.title.strip().lower() == sheet.strip().lower()), None)
        if chosen is None:
            raise SchemaError(f"{name} has no sheet named {sheet!r}; its sheets are {titles}.")
        return chosen
    visible = [ws for ws in sheets if getattr(ws, "sheet_state", "visible") == "visible"] or sheets
    wanted = {kind, kind.replace("_", " "), kind.replace("_", "")}
    chosen = next((ws for ws in visible if ws.title.strip().lower() in wanted), visible[0])
    hidden = [ws.title for ws in sheets if ws not in visible]
    others = [ws.title for ws in visible if ws is not chosen]
    if hidden or (others and chosen.title.strip().lower() not in wanted):
        said = [f"read the sheet {chosen.title!r}"]
        if hidden:
            said.append(f"the hidden sheet(s) {', '.join(map(repr, hidden))} were not read")
        if others:
            said.append(f"the other sheet(s) {', '.join(map(repr, others))} were not read")
        warnings.warn(f"{name}: {'; '.join(said)}. To read another, name it (sheet='...') or put "
                      f"the {_TABLE_WORDS.get(kind, kind)} first.", DataQualityWarning, stacklevel=6)
    return chosen


def _uncomputed_formulas(data: bytes, title: str, values: dict[tuple[int, int], Any]) -> list[str]:
    """Cells of sheet ``title`` holding a formula with no value computed for it ('B5: =A5+1')."""
    import openpyxl
    from openpyxl.utils import get_column_letter

    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    try:
        found = []
        for r, row in enumerate(book[title].iter_rows(values_only=True), start=1):
            for c, formula in enumerate(row, start=1):
                is_formula = (isinstance(formula, str) and formula.startswith("=")) \
                    or type(formula).__name__.endswith("Formula")
                if is_formula and values.get((r, c)) is None:
                    text = formula if isinstance(formula, str) else getattr(formula, "text", "")
                    found.append(f"{get_column_letter(c)}{r}: {str(text)[:40]}")
        return found
    finally:
        book.close()


def _read_xlsx_raw(data: bytes, name: str, kind: str, sheet: str | None = None) -> _Raw:
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as err:  # openpyxl raises many types for damaged files
        raise FileFormatError(
            f"{name} cannot be opened as an Excel workbook ({type(err).__name__}: "
            f"{err}). Save it again from your spreadsheet as .xlsx or .csv."
        ) from err
    try:
        ws = _pick_sheet(book, name, kind, sheet)
        sheet_name = f"{name} (sheet {ws.title!r})" if len(book.worksheets) > 1 else name
        title = ws.title
        raw: _Raw | None = None
        values: dict[tuple[int, int], Any] = {}
        for number, row in enumerate(ws.iter_rows(values_only=True), start=1):
            for col, value in enumerate(row, start=1):
                if value is not None:
                    values[(number, col)] = value
            cells = [_clean(v) for v in row]
            if not any(c is not None for c in cells):
                continue
            if raw is None:
                raw = _Raw(sheet_name, "row", number, ["" if c is None else str(c)
                                                       for c in cells])
            else:
                raw.rows.append((number, cells))
    finally:
        book.close()
    formulas = _uncomputed_formulas(data, title, values)
    if formulas:
        listed = "; ".join(formulas[:10]) + (f"; and {len(formulas) - 10} more" if len(formulas) > 10 else "")
        raise SchemaError(
            f"{sheet_name}: {len(formulas)} cell(s) hold a formula with no value computed for it "
            f"({listed}). The file was saved by a program that does not calculate formulas; open "
            "it in Excel or LibreOffice and save it again, or type the values instead.")
    if raw is None:
        raise SchemaError(_empty_message(name))
    return raw


def _empty_message(name: str) -> str:
    return (f"{name} is empty. It needs a header line naming the columns, then one "
            "line per entry; `kneedata init FOLDER` writes ready-made templates.")


def _read_raw(path: str | os.PathLike[str], kind: str, sheet: str | None = None) -> _Raw:
    path = Path(path)
    name = path.name
    data = path.read_bytes()
    suffix = path.suffix.lower()
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" or suffix == ".xls":
        raise FileFormatError(
            f"{name} is an old Excel .xls workbook, which kneedata cannot read. In your "
            "spreadsheet use 'Save as' and choose .xlsx or CSV."
        )
    if suffix in (".ods", ".numbers"):
        raise FileFormatError(
            f"{name}: {suffix} files cannot be read. Export the table as .xlsx or CSV."
        )
    if data[:4] == b"PK\x03\x04":
        return _read_xlsx_raw(data, name, kind, sheet)
    if not data.strip():
        raise SchemaError(_empty_message(name))
    return _read_csv_raw(_decode(data, name), name)


def _norm_token(text: str) -> str:
    """Lower-case, every run of non-alphanumerics -> '_' ('Pain 0-10' -> 'pain_0_10')."""
    return re.sub(r"[^0-9a-z]+", "_", text.strip().lower()).strip("_")


# --- problem collection --------------------------------------------------------------
class _Bad(Exception):
    """One bad cell: the text after 'column X: '.

    ``kind`` names a problem that may repeat on many rows with one fix (a slashed
    date read the wrong way round): :meth:`_Problems.raise_if_any` says those in one
    line. ``value`` is the cell as typed.
    """

    def __init__(self, text: str, kind: str | None = None, value: str = "") -> None:
        super().__init__(text)
        self.kind = kind
        self.value = value


def _show(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class _Problems:
    def __init__(self, raw: _Raw, typed: dict[str, str]) -> None:
        self.raw = raw
        self.typed = typed          # canonical -> header as typed
        self.items: list[str] = []
        self._lines: list[int] = []
        self._kinds: list[tuple[str | None, str]] = []  # (kind, value) of each item
        self._texts: list[tuple[str | None, str]] = []  # (column, text) of each item
        self.bad_cells: set[tuple[int, str | None]] = set()

    def where(self, line: int, column: str | None = None) -> str:
        text = f"{self.raw.name} {self.raw.unit} {line}"
        if column is not None:
            typed = self.typed.get(column, column)
            shown = column if _norm_token(typed) == column else f"{typed} ({column})"
            text += f", column {shown}"
        return text

    def add(self, line: int, column: str | None, text: str, bad: _Bad | None = None) -> None:
        self.items.append(f"{self.where(line, column)}: {text}")
        self._lines.append(line)
        self._kinds.append((bad.kind, bad.value) if bad is not None else (None, ""))
        self._texts.append((column, text))
        self.bad_cells.add((line, column))

    def _repeated(self, order: list[int], done: set[int]) -> list[tuple[set[int], str]]:
        """Identical problems in one column on at least :data:`_SUMMARY_MIN` rows, one line each.

        ``the cell is empty (this column is required)`` on 30 rows is said once, with
        the rows it is on, instead of 30 times.
        """
        groups: dict[tuple[str | None, str], list[int]] = {}
        for i in order:
            if i not in done and self._texts[i][0] is not None:
                groups.setdefault(self._texts[i], []).append(i)
        out = []
        for (column, text), group in groups.items():
            if len(group) >= _SUMMARY_MIN:
                lines = [self._lines[i] for i in group]
                where = self.where(lines[0], column).replace(
                    f" {self.raw.unit} {lines[0]},", f" {len(lines)} {self.raw.unit}s "
                    f"({lines[0]} to {lines[-1]}),", 1)
                out.append((set(group), f"{where}: {text}"))
        return out

    def _date_order(self, order: list[int]) -> tuple[set[int], str] | None:
        """The slashed dates that all read as day/month/year, said in one line (or None).

        A day-first file without ``dayfirst`` gives a problem per row (issue 25:
        41 lines for a 41-entry diary); when at least :data:`_SUMMARY_MIN` dates
        cannot be month/day/year or are ambiguous, and none looks month-first,
        one line gives the count, an example and the fix.
        """
        kinds = [self._kinds[i][0] for i in order]
        if "dayfirst" not in kinds or "monthfirst" in kinds:
            return None
        group = [i for i in order if self._kinds[i][0] in ("dayfirst", "ambiguous")]
        if len(group) < _SUMMARY_MIN:
            return None
        example = next(i for i in group if self._kinds[i][0] == "dayfirst")
        first, last = self._lines[group[0]], self._lines[group[-1]]
        every = len(group) == len(order) and len(group) >= len(self.raw.rows)
        text = (f"{'all ' if every else ''}{len(group)} dates look day/month/year "
                f"({self.raw.unit}s {first} to {last}; e.g. {self._lines[example]}: "
                f"'{self._kinds[example][1]}'): pass dayfirst=True to read them as "
                "day/month/year, or write dates as year-month-day (2024-03-05)")
        return set(group), text

    def raise_if_any(self, what: str) -> None:
        if not self.items:
            return
        # in file order: by line, and within a line cell checks before table checks
        order = sorted(range(len(self.items)), key=lambda i: self._lines[i])
        summary = self._date_order(order)
        done = summary[0] if summary is not None else set()
        repeated = self._repeated(order, done)
        for group, _ in repeated:
            done = done | group
        first = {min(group, key=order.index): text for group, text in repeated}
        shown = [first.get(i, self.items[i]) for i in order if i not in done or i in first]
        self.items = [self.items[i] for i in order]
        if summary is not None and not shown:  # one kind, one fix: one line
            raise SchemaError(f"{self.raw.name}: {summary[1]}; nothing was read.", self.items)
        if summary is not None:
            shown.insert(0, f"{self.raw.name}: {summary[1]}")
        n = len(shown)
        listed = "\n".join(f"  - {p}" for p in shown[:_MAX_LISTED])
        more = f"\n  ... and {n - _MAX_LISTED} more" if n > _MAX_LISTED else ""
        head = (f"{self.raw.name}: {n} problem{'s' if n != 1 else ''} in the {what}; "
                "nothing was read. Fix "
                f"{'them' if n != 1 else 'it'} and read the file again:")
        raise SchemaError(f"{head}\n{listed}{more}", self.items)


# --- cell parsers (raise _Bad with the user-facing text) ----------------------------
_ISO = re.compile(
    r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
_SLASHED = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2,4})$")
_NAMED_FORMATS = ("%d %b %Y", "%d %B %Y", "%b %d %Y", "%B %d %Y", "%a %d %b %Y",
                  "%A %d %B %Y")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")
_EARLIEST = dt.date(1970, 1, 1)


def _date_or_bad(year: int, month: int, day: int, value: Any, how: str) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise _Bad(f"'{_show(value)}' is not a real {how} date (check the day and "
                   "month)") from None


def _parse_date(value: Any, dayfirst: bool) -> pd.Timestamp:
    if isinstance(value, dt.datetime):
        day = value.date()
    elif isinstance(value, dt.date):
        day = value
    elif isinstance(value, (int, float)):
        raise _Bad(f"'{_show(value)}' is a number, not a date (format the column as a "
                   "date in your spreadsheet, or type dates like 2024-03-05)")
    else:
        text = str(value).strip()
        day = _parse_date_text(text, dayfirst)
    if day < _EARLIEST:
        raise _Bad(f"'{_show(value)}' is before 1970 (check the year)")
    if day > dt.date.today() + dt.timedelta(days=1):
        raise _Bad(f"'{_show(value)}' is in the future (check the year and month)")
    return pd.Timestamp(day)


def _parse_date_text(text: str, dayfirst: bool) -> dt.date:
    if m := _ISO.match(text):
        return _date_or_bad(int(m[1]), int(m[2]), int(m[3]), text, "year-month-day")
    if m := _SLASHED.match(text):
        a, b, year_text = int(m[1]), int(m[2]), m[3]
        if len(year_text) != 4:
            raise _Bad(f"'{text}' has a {len(year_text)}-digit year (write the year with "
                       "four digits, e.g. 05/03/2024, or use 2024-03-05)")
        year = int(year_text)
        if dayfirst:
            return _date_or_bad(year, b, a, text, "day/month/year")
        if a > 12 and b <= 12:
            iso = f"{year:04d}-{b:02d}-{a:02d}"
            raise _Bad(f"'{text}' looks like day/month/year; dates with slashes are read "
                       f"only when you pass dayfirst=True (or write it as {iso}, "
                       "year-month-day)", "dayfirst", text)
        if b > 12 and a <= 12:
            iso = f"{year:04d}-{a:02d}-{b:02d}"
            raise _Bad(f"'{text}' looks like month/day/year, which kneedata does not "
                       f"read (it could be misread); write it as {iso} "
                       "(year-month-day)", "monthfirst", text)
        if a <= 12 and b <= 12:
            raise _Bad(f"'{text}' is ambiguous: it could be {a} {_MONTHS[b - 1]} or "
                       f"{b} {_MONTHS[a - 1]} {year}. Pass dayfirst=True if your dates "
                       "are day/month/year, or write dates as year-month-day "
                       "(2024-03-05)", "ambiguous", text)
        raise _Bad(f"'{text}' is not a date (write dates as 2024-03-05)")
    cleaned = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", text.replace(",", " "))
    cleaned = " ".join(cleaned.split())
    for fmt in _NAMED_FORMATS:
        try:
            return dt.datetime.strptime(cleaned, fmt).date()
        except ValueError:
            continue
    raise _Bad(f"'{text}' is not a date (write dates as 2024-03-05, year-month-day)")


_TIME = re.compile(r"^(\d{1,2})(?:[:.h](\d{2}))?(?::(\d{2}))?\s*([ap])?\.?\s*(?:m\.?)?$")


def _parse_time(value: Any) -> str:
    if isinstance(value, dt.datetime):
        value = value.time()
    if isinstance(value, dt.time):
        return f"{value.hour:02d}:{value.minute:02d}"
    if isinstance(value, float) and 0 <= value < 1:  # Excel fraction of a day
        minutes = round(value * 1440) % 1440
        return f"{minutes // 60:02d}:{minutes % 60:02d}"
    text = str(value).strip().lower()
    m = _TIME.match(text)
    if m and (m[2] is not None or m[4] is not None):
        hour, minute, ampm = int(m[1]), int(m[2] or 0), m[4]
        if ampm is not None:
            if not 1 <= hour <= 12:
                m = None
            else:
                hour = hour % 12 + (12 if ampm == "p" else 0)
        if m and hour < 24 and minute < 60:
            return f"{hour:02d}:{minute:02d}"
    raise _Bad(f"'{_show(value)}' is not a clock time (write it like 07:30 or 7:30pm, "
               "or leave it blank)")


def _vocab_lookup(vocab: dict[str, tuple[str, tuple[str, ...]]]) -> dict[str, str]:
    return {alias: canon for canon, (_, aliases) in vocab.items()
            for alias in (canon, *aliases)}


_SIDE_LOOKUP = _vocab_lookup(SIDES)
_SITE_LOOKUP = _vocab_lookup(SITES)
_TIMING_LOOKUP = _vocab_lookup(TIMINGS)
_KIND_LOOKUP = _vocab_lookup(KINDS)


def _vocab_parser(lookup: dict[str, str], allowed: Iterable[str], hint: str,
                  ) -> Callable[[Any], str]:
    allowed_text = ", ".join(allowed)

    def parse(value: Any) -> str:
        key = _norm_token(_show(value))
        if key in lookup:
            return lookup[key]
        raise _Bad(f"'{_show(value)}' is not one of {allowed_text}{hint}")

    return parse


_parse_side = _vocab_parser(_SIDE_LOOKUP, ["left", "right", "both (or L, R, B)"], "")
_parse_site = _vocab_parser(_SITE_LOOKUP, SITES, " (use 'other' and describe it in "
                            "notes if none fits; one site per entry: add a second "
                            "entry for a second site)")
_parse_timing = _vocab_parser(_TIMING_LOOKUP, TIMINGS, " (use 'other' and describe it "
                              "in notes if none fits)")
_parse_kind = _vocab_parser(_KIND_LOOKUP, KINDS, " (use 'other' and describe it in "
                            "exercises if none fits)")

_NUMBER = r"([+-]?\d+(?:[.,]\d+)?)"
_PAIN = re.compile(rf"^{_NUMBER}\s*(?:/\s*(\d+(?:[.,]\d+)?))?$")
_PAIN_FIX = "use a whole or decimal number from 0 to 10, e.g. 3 or 3/10"


def _to_float(text: str) -> float:
    return float(text.replace(",", "."))


def _parse_pain(value: Any) -> float:
    if isinstance(value, (dt.date, dt.time)):
        raise _Bad(f"'{_show(value)}' is a date or time, not a pain score: the "
                   "spreadsheet probably turned a score like 3/10 into a date (type "
                   "just the number, e.g. 3, or format the column as text)")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        score = float(value)
    else:
        m = _PAIN.match(str(value).strip())
        if not m:
            raise _Bad(f"'{_show(value)}' is not a pain score ({_PAIN_FIX})")
        if m[2] is not None and _to_float(m[2]) != 10:
            raise _Bad(f"'{_show(value)}' is not a score out of 10 ({_PAIN_FIX})")
        score = _to_float(m[1])
    if not 0 <= score <= 10:
        raise _Bad(f"'{_show(value)}' is outside 0–10 ({_PAIN_FIX})")
    return score


def _number_parser(units: tuple[str, ...], low: float, high: float, what: str,
                   example: str) -> Callable[[Any], float]:
    unit_re = "|".join(re.escape(u) for u in units)
    pattern = re.compile(rf"^{_NUMBER}\s*(?:{unit_re})?\.?$", re.IGNORECASE)

    def parse(value: Any) -> float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            number = float(value)
        else:
            m = pattern.match(str(value).strip())
            if not m:
                raise _Bad(f"'{_show(value)}' is not a number ({what}, e.g. {example})")
            number = _to_float(m[1])
        if not low <= number <= high:
            raise _Bad(f"'{_show(value)}' is outside {low:g}–{high:g} ({what}, e.g. "
                       f"{example})")
        return number

    return parse


_MINUTES = re.compile(
    r"^(?:(\d+(?:[.,]\d+)?)\s*h(?:ours?|rs?)?\s*)?(?:(\d+(?:[.,]\d+)?)\s*"
    r"(?:m|min|mins|minutes?)?\.?)?$", re.IGNORECASE)
_HMM = re.compile(r"^(\d{1,2}):(\d{2})$")


def _parse_minutes(value: Any) -> float:
    if isinstance(value, dt.time):
        minutes = value.hour * 60 + value.minute + value.second / 60
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        minutes = float(value)
    else:
        text = str(value).strip()
        if m := _HMM.match(text):
            minutes = int(m[1]) * 60 + int(m[2])
        elif (m := _MINUTES.match(text)) and (m[1] or m[2]):
            minutes = _to_float(m[1] or "0") * 60 + _to_float(m[2] or "0")
        else:
            raise _Bad(f"'{_show(value)}' is not a duration (write minutes, e.g. 30, "
                       "or 1h15, or leave it blank)")
    if not 0 < minutes <= 600:
        raise _Bad(f"'{_show(value)}' is outside 1–600 minutes (write the session "
                   "length in minutes, e.g. 30)")
    return minutes


def _text(value: Any) -> str:
    return _show(value)


# --- table assembly ------------------------------------------------------------------
def _map_header(raw: _Raw, kind: str) -> tuple[dict[str, int], dict[str, str],
                                               list[tuple[str, int]]]:
    """Canonical name -> cell index; canonical -> typed; unknown (typed, index)."""
    known = HEADERS[kind]
    aliases = _HEADER_ALIASES[kind]
    index: dict[str, int] = {}
    typed: dict[str, str] = {}
    unknown: list[tuple[str, int]] = []
    clashes: list[str] = []
    for i, cell in enumerate(raw.header):
        key = _norm_token(cell)
        if not key:
            if any(i < len(cells) and cells[i] is not None for _, cells in raw.rows):
                unknown.append((f"(unnamed column {i + 1})", i))
            continue
        canon = key if key in known else aliases.get(key)
        if canon is None:
            unknown.append((cell, i))
        elif canon in index:
            clashes.append(f"'{typed[canon]}' and '{cell}' both mean {canon}")
        else:
            index[canon] = i
            typed[canon] = cell
    found = ", ".join(c for c in raw.header if c) or "(none)"
    if clashes:
        raise SchemaError(
            f"{raw.name} {raw.unit} {raw.header_line} (the header): "
            f"{'; '.join(clashes)}. Keep one of each.")
    missing = [c for c in _REQUIRED[kind] if c not in index]
    if missing:
        unknown_names = [u for u, _ in unknown]
        hints = []
        for col in missing:
            close = difflib.get_close_matches(col, unknown_names, n=1, cutoff=0.5)
            if close:
                hints.append(f"rename '{close[0]}' to {col}?")
        hint = f" ({' '.join(hints)})" if hints else ""
        plural = "s" if len(missing) > 1 else ""
        raise SchemaError(
            f"{raw.name} is missing the required column{plural} "
            f"{', '.join(missing)}{hint}. Found columns: {found}. The first line must "
            f"be the header, e.g. {','.join(known)}")
    return index, typed, unknown


#: Most columns unknown to a table's format that are kept (as text); a file with more
#: (an export of another app) has them all left out with one note, since a DataFrame
#: of hundreds of thousands of text columns costs minutes for nothing a model can use.
MAX_UNKNOWN_COLUMNS = 2000


def _unique_names(names: list[str], *, taken: set[str]) -> list[str]:
    """Column names for the unknown columns: a known name gets ``(from file)``, repeats ``(2)``..."""
    out: list[str] = []
    used = set(taken)
    for name in names:
        key = name if name not in used else f"{name} (from file)"
        n = 2
        while key in used:
            key = f"{name} ({n})"
            n += 1
        used.add(key)
        out.append(key)
    return out


def _warn_repeated_rows(raw: _Raw) -> None:
    """One note for rows that repeat an earlier row cell for cell (entered twice?); they are kept."""
    first: dict[tuple[Any, ...], int] = {}
    repeats: list[tuple[int, int]] = []
    for line, cells in raw.rows:
        key = tuple(_show(c) if c is not None else None for c in cells)
        if key in first:
            repeats.append((line, first[key]))
        else:
            first[key] = line
    if not repeats:
        return
    shown = ", ".join(f"{raw.unit} {a} repeats {raw.unit} {b}" for a, b in repeats[:5])
    more = f" and {len(repeats) - 5} more" if len(repeats) > 5 else ""
    warnings.warn(
        f"{raw.name}: {len(repeats)} entr{'ies repeat' if len(repeats) != 1 else 'y repeats'} an "
        f"earlier one exactly ({shown}{more}); kept - delete the copy if it was entered twice",
        DataQualityWarning, stacklevel=4)


def _warn_unknown(raw: _Raw, kind: str, unknown: list[tuple[str, int]]) -> None:
    if not unknown:
        return
    n = len(unknown)
    names = ", ".join(f"'{u}'" for u, _ in unknown[:20])
    if n > 20:
        names += f" and {n - 20} more"
    warnings.warn(
        f"{raw.name}: {n} column{'s are' if n != 1 else ' is'} not part of the "
        f"{_TABLE_WORDS[kind]} format and {'were' if n != 1 else 'was'} kept as text "
        f"without checking: {names}. Known columns: {', '.join(HEADERS[kind])}.",
        DataQualityWarning, stacklevel=4)


Parser = Callable[[Any], Any]


def _read_table(path: str | os.PathLike[str], kind: str, parsers: dict[str, Parser],
                required_cells: Iterable[str], table: dict[str, schema.Column],
                checks: Callable[[pd.DataFrame, _Problems], None] | None = None,
                *, sheet: str | None = None) -> pd.DataFrame:
    raw = _read_raw(path, kind, sheet)
    index, typed, unknown = _map_header(raw, kind)
    if len(unknown) > MAX_UNKNOWN_COLUMNS:
        warnings.warn(
            f"{raw.name}: {len(unknown)} columns are not part of the {_TABLE_WORDS[kind]} format "
            f"(more than {MAX_UNKNOWN_COLUMNS}: probably not a diary table) and were left out; the "
            f"known columns were read. Known columns: {', '.join(HEADERS[kind])}.",
            DataQualityWarning, stacklevel=3)
        unknown = []
    problems = _Problems(raw, typed)
    required = set(required_cells)
    width = len(raw.header)
    columns: dict[str, list[Any]] = {c: [] for c in HEADERS[kind]}
    extra: list[list[str | None]] = []  # one row of unknown-column cells per entry
    lines: list[int] = []
    in_file_order = sorted(HEADERS[kind], key=lambda c: index.get(c, len(raw.header)))
    for line, cells in raw.rows:
        overflow = [c for c in cells[width:] if c is not None]
        if overflow:
            problems.add(line, None, f"has {width + len(overflow)} values but the header "
                         f"has {width} columns (if a note contains a comma or "
                         "semicolon, put the whole note in double quotes)")
            continue
        lines.append(line)
        for col in in_file_order:
            i = index.get(col)
            value = cells[i] if i is not None and i < len(cells) else None
            if value is None:
                if col in required:
                    problems.add(line, col, "the cell is empty (this column is required)")
                columns[col].append(None)
                continue
            try:
                columns[col].append(parsers.get(col, _text)(value))
            except _Bad as bad:
                problems.add(line, col, str(bad), bad)
                columns[col].append(None)
        if unknown:  # by position: names can repeat
            extra.append([None if i >= len(cells) or cells[i] is None else _show(cells[i])
                          for _, i in unknown])
    frame = _assemble(columns, lines, table)
    if checks is not None:   # table-level checks; they skip cells already reported
        checks(frame, problems)
    problems.raise_if_any(_TABLE_WORDS[kind])
    _warn_unknown(raw, kind, unknown)
    _warn_repeated_rows(raw)
    if unknown:  # all unknown columns in one step (one insert per column is quadratic)
        names = _unique_names([name for name, _ in unknown], taken=set(frame.columns))
        block = np.array(extra, dtype=object).reshape(len(extra), len(unknown))
        added = pd.DataFrame(block, columns=names, index=frame.index).astype("str")
        frame = pd.concat([frame, added], axis=1)
    if frame.empty:
        warnings.warn(f"{raw.name} has a header but no entries; returning an empty "
                      f"{_TABLE_WORDS[kind]}.", DataQualityWarning, stacklevel=3)
    return frame


def _assemble(columns: dict[str, list[Any]], lines: list[int],
              table: dict[str, schema.Column]) -> pd.DataFrame:
    data: dict[str, pd.Series] = {}
    for name, col in table.items():
        values = lines if name == "source_line" else columns[name]
        if col.dtype.startswith("datetime64"):
            data[name] = pd.Series(pd.to_datetime(pd.Series(values, dtype=object)),
                                   dtype="datetime64[ns]")
        elif col.dtype == "float64":
            data[name] = pd.Series([np.nan if v is None else v for v in values],
                                   dtype="float64")
        else:
            data[name] = pd.Series(values, dtype=col.dtype)
    return pd.DataFrame(data)


def _sorted(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return frame.sort_values(keys, kind="stable", na_position="last").reset_index(
        drop=True)


# --- public readers -----------------------------------------------------------------
def read_pain_diary(path: str | os.PathLike[str], *, dayfirst: bool = False,
                    sheet: str | None = None) -> pd.DataFrame:
    """Read a pain diary (``.csv`` or ``.xlsx``) into a validated table.

    Parameters
    ----------
    path
        The file. Header (any case; ``Pain 0-10`` and ``pain`` mean ``pain_0_10``):
        ``date,time,side,site,pain_0_10,timing,activity_id,notes``. Required columns:
        ``date``, ``side``, ``pain_0_10``; missing optional columns are added empty.
    dayfirst
        Read slashed dates such as ``05/03/2024`` as day/month/year. Without it,
        slashed dates are refused (never guessed); ISO ``2024-03-05`` always works.
    sheet
        ``.xlsx`` only: the sheet to read. Default: a sheet named ``pain_diary`` (or
        ``pain diary``), else the first *visible* sheet; a hidden sheet skipped is
        said in a :class:`~kneedata.errors.DataQualityWarning`. A formula cell with
        no computed value (a workbook written by a program that does not calculate)
        is an error naming the cell.

    Returns
    -------
    pandas.DataFrame
        One row per entry (several per day allowed), sorted by date, time, line:
        ``date`` (datetime64[ns], the local day), ``time`` ('HH:MM' or NaN),
        ``side`` (left|right|both; NaN only when pain is 0), ``site`` (see
        :data:`SITES`), ``pain_0_10`` [0-10 numeric rating scale], ``timing`` (see
        :data:`TIMINGS`), ``activity_id``, ``notes``, ``source_line`` (line as the
        user sees it in the file; the header is line 1). Extra columns are kept
        (as text, after these) with a :class:`~kneedata.errors.DataQualityWarning`.

    Raises
    ------
    SchemaError
        Empty file, missing required columns, or bad cells: all of them listed,
        each as ``"<file> line <n>, column <col>: '<value>' <what is wrong> (<fix>)"``.
    FileFormatError
        Not a text/CSV or .xlsx file (e.g. old .xls).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "pain_diary.csv").write_text(
    ...     "date,side,pain_0_10\\n2024-03-05,L,3/10\\n2024-03-05,right,2\\n")
    >>> read_pain_diary(folder / "pain_diary.csv")[["date", "side", "pain_0_10"]]
            date   side  pain_0_10
    0 2024-03-05   left        3.0
    1 2024-03-05  right        2.0
    """
    parsers: dict[str, Parser] = {
        "date": lambda v: _parse_date(v, dayfirst),
        "time": _parse_time,
        "side": _parse_side,
        "site": _parse_site,
        "pain_0_10": _parse_pain,
        "timing": _parse_timing,
        **{col: _number_parser(("/5",) if high == 5 else ("/10",), low, high, what,
                               "4" if high == 5 else "3")
           for col, (low, high, what) in RATINGS.items()},
    }

    def checks(frame: pd.DataFrame, problems: _Problems) -> None:
        blank_side = frame["side"].isna() & (frame["pain_0_10"] > 0)
        for line, pain in zip(frame.loc[blank_side, "source_line"],
                              frame.loc[blank_side, "pain_0_10"], strict=True):
            if (int(line), "side") in problems.bad_cells:
                continue
            problems.add(int(line), "side", f"the cell is empty but pain_0_10 is "
                         f"{pain:g} (write left, right or both; it may be blank only "
                         "when pain is 0)")

    frame = _read_table(path, "pain_diary", parsers, ["date", "pain_0_10"],
                        schema.DIARY, checks, sheet=sheet)
    return _sorted(frame, ["date", "time", "source_line"])


def read_shoes(path: str | os.PathLike[str], *, dayfirst: bool = False) -> pd.DataFrame:
    """Read the shoes table (``.csv`` or ``.xlsx``).

    Parameters
    ----------
    path
        Header: ``shoe_id,name,brand,model,drop_mm,stack_mm,first_used,retired,
        initial_km,default_for``; only ``shoe_id`` is required. ``name`` should be
        the name the watch or Strava export shows as the run's gear.
        ``default_for`` is an optional assignment rule (see
        :func:`kneedata.gear.parse_rule`), e.g. ``sub_sport=trail``.
    dayfirst
        Read slashed dates as day/month/year (see :func:`read_pain_diary`).

    Returns
    -------
    pandas.DataFrame
        Columns of :data:`kneedata.schema.SHOES` in file order: ``drop_mm`` [mm],
        ``stack_mm`` [mm], ``first_used``/``retired`` (datetime64[ns] local days,
        NaT when blank), ``initial_km`` [km] (blank means 0: a new shoe),
        ``source_line``.

    Raises
    ------
    SchemaError
        Duplicate ``shoe_id``, ``retired`` before ``first_used``, a rule that cannot
        be read, numbers out of range, ... all listed at once.
    """
    from kneedata.gear import parse_rule

    def parse_default(value: Any) -> str:
        text = _show(value)
        try:
            parse_rule(text)
        except ValueError as err:
            raise _Bad(str(err)) from None
        return text

    parsers: dict[str, Parser] = {
        "drop_mm": _number_parser(("mm",), -5, 20, "heel-to-toe drop in mm", "8"),
        "stack_mm": _number_parser(("mm",), 0, 80, "heel stack height in mm", "33"),
        "first_used": lambda v: _parse_date(v, dayfirst),
        "retired": lambda v: _parse_date(v, dayfirst),
        "initial_km": _number_parser(("km",), 0, 10000,
                                     "km already on the shoe, 0 if new", "120"),
        "default_for": parse_default,
    }

    def checks(frame: pd.DataFrame, problems: _Problems) -> None:
        first_line: dict[str, int] = {}
        for sid, line in zip(frame["shoe_id"], frame["source_line"], strict=True):
            if pd.isna(sid):
                continue
            key = str(sid).lower()
            if key in first_line:
                problems.add(int(line), "shoe_id", f"'{sid}' is already used on "
                             f"{problems.raw.unit} {first_line[key]} (each shoe needs "
                             "its own id; ids are compared ignoring case)")
            else:
                first_line[key] = int(line)
        backwards = frame["retired"] < frame["first_used"]
        for _, row in frame[backwards].iterrows():
            problems.add(int(row["source_line"]), "retired",
                         f"'{row['retired']:%Y-%m-%d}' is before first_used "
                         f"{row['first_used']:%Y-%m-%d} (swap them, or fix the year)")

    frame = _read_table(path, "shoes", parsers, ["shoe_id"], schema.SHOES, checks)
    frame["initial_km"] = frame["initial_km"].fillna(0.0)
    frame.attrs["source"] = Path(path).name  # assign_shoes names it with the line of a bad rule
    return frame


def read_routines(path: str | os.PathLike[str], *, dayfirst: bool = False) -> pd.DataFrame:
    """Read strength / foam-rolling / physio / mobility sessions (``.csv``/``.xlsx``).

    Parameters
    ----------
    path
        Header: ``date,kind,minutes,exercises``; ``date`` and ``kind`` are
        required. ``kind`` is one of :data:`KINDS` (``foam rolling``, ``gym``,
        ``yoga`` ... are understood). ``minutes`` may be ``30``, ``30 min``,
        ``1h15`` or ``1:15``, or blank.
    dayfirst
        Read slashed dates as day/month/year (see :func:`read_pain_diary`).

    Returns
    -------
    pandas.DataFrame
        ``date`` (datetime64[ns] local day), ``kind``, ``minutes`` [min] (NaN when
        blank), ``exercises``, ``source_line``; sorted by date then line.
    """
    parsers: dict[str, Parser] = {
        "date": lambda v: _parse_date(v, dayfirst),
        "kind": _parse_kind,
        "minutes": _parse_minutes,
    }
    frame = _read_table(path, "routines", parsers, ["date", "kind"], schema.ROUTINES)
    return _sorted(frame, ["date", "source_line"])


SHOE_PERIODS: dict[str, schema.Column] = {
    "shoe_id": schema.Column("", "str", "Shoe worn for every run in the period."),
    "start": schema.Column("", "datetime64[ns]", "First local day of the period."),
    "end": schema.Column("", "datetime64[ns]", "Last local day (inclusive); NaT = open."),
    "source_line": schema.Column("", "int64", "Line (CSV) or row (xlsx); header is 1."),
}


def read_shoe_periods(path: str | os.PathLike[str], *, dayfirst: bool = False) -> pd.DataFrame:
    """Read a date-range table saying which shoe was worn when (``.csv``/``.xlsx``).

    Parameters
    ----------
    path
        Header ``shoe_id,start,end``; ``end`` (inclusive) may be blank for "still
        wearing". Periods of different shoes may overlap (a rotation); the
        ``default_for`` rules then decide between them (see
        :func:`kneedata.gear.assign_shoes`).
    dayfirst
        Read slashed dates as day/month/year.

    Returns
    -------
    pandas.DataFrame
        ``shoe_id``, ``start``, ``end`` (datetime64[ns] local days), ``source_line``.
    """
    parsers: dict[str, Parser] = {
        "start": lambda v: _parse_date(v, dayfirst),
        "end": lambda v: _parse_date(v, dayfirst),
    }

    def checks(frame: pd.DataFrame, problems: _Problems) -> None:
        for _, row in frame[frame["end"] < frame["start"]].iterrows():
            problems.add(int(row["source_line"]), "end",
                         f"'{row['end']:%Y-%m-%d}' is before start "
                         f"{row['start']:%Y-%m-%d} (swap them, or fix the year)")

    frame = _read_table(path, "shoe_periods", parsers, ["shoe_id", "start"],
                        SHOE_PERIODS, checks)
    return _sorted(frame, ["start", "source_line"])


CONDITIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "A": ("the usual", ("a", "usual", "control", "baseline", "as_usual")),
    "B": ("the change being tried", ("b", "change", "new", "intervention", "treatment")),
}
_CONDITION_LOOKUP = _vocab_lookup(CONDITIONS)
_parse_condition = _vocab_parser(_CONDITION_LOOKUP, ["A (the usual)", "B (the change)"],
                                 "")
_CHANGE_WORDS = {"cadence": ("", ("cadence", "steps", "step_rate")),
                 "strength": ("", ("strength", "gym", "strength_training")),
                 "shoes": ("", ("shoes", "shoe", "footwear")),
                 "other": ("", ("other",))}
_parse_change = _vocab_parser(_vocab_lookup(_CHANGE_WORDS), _CHANGE_WORDS, "")

EXPERIMENT: dict[str, schema.Column] = {
    "block": schema.Column("", "Int64", "Block number, 1 = first."),
    "start": schema.Column("", "datetime64[ns]", "First local day of the block."),
    "end": schema.Column("", "datetime64[ns]", "Last local day of the block (inclusive)."),
    "condition": schema.Column("", "str", "A = the usual, B = the change."),
    "change": schema.Column("", "str", "cadence, strength, shoes or other."),
    "target": schema.Column("", "str", "Target as typed: +7%, 3/week, a shoe_id, text."),
    "carryover_days": schema.Column("d", "float64", "First days of a block left out."),
    "adherence_pct": schema.Column("%", "float64", "Adherence logged by hand."),
    "notes": schema.Column("", "str", "Anything else."),
    "source_line": schema.Column("", "int64", "Line (CSV) or row (xlsx); header is 1."),
}


def _check_schedule(frame: pd.DataFrame, problems: _Problems) -> None:
    """Dates in order, no overlaps, A and B present, one change/target, block numbers."""
    prev: dict[str, Any] | None = None
    for row in frame.to_dict("records"):
        line, start, end = int(row["source_line"]), row["start"], row["end"]
        if pd.notna(start) and pd.notna(end) and end < start:
            problems.add(line, "end", f"'{end:%Y-%m-%d}' is before start "
                         f"{start:%Y-%m-%d} (swap them, or fix the year)")
        if prev is not None and pd.notna(start) and pd.notna(prev["end"]):
            where = f"{problems.raw.unit} {prev['source_line']}"
            if pd.notna(prev["start"]) and start < prev["start"]:
                problems.add(line, "start", f"'{start:%Y-%m-%d}' comes before the "
                             f"block on {where} (list the blocks in date order)")
            elif start <= prev["end"]:
                problems.add(line, "start", f"'{start:%Y-%m-%d}' overlaps the block "
                             f"on {where}, which ends {prev['end']:%Y-%m-%d} (a day "
                             "belongs to one block only)")
        prev = {str(k): v for k, v in row.items()}
    header = problems.raw.header_line
    present = set(frame["condition"].dropna())
    for needed, meaning in (("A", "the usual"), ("B", "the change")):
        if len(frame) and needed not in present and not any(
                col == "condition" for _, col in problems.bad_cells):
            problems.add(header, "condition", f"no block is {needed} ({meaning}); an "
                         "experiment needs A and B blocks (plan one with kneedata "
                         "experiment plan)")
    _check_same(frame, problems, ["change", "target", "carryover_days"])
    numbered = frame["block"].notna()
    if numbered.any() and not numbered.all():
        line = int(frame.loc[~numbered, "source_line"].iloc[0])
        problems.add(line, "block", "the cell is empty but other blocks are numbered "
                     "(number every block, or leave the column empty)")
    for line in frame.loc[frame["block"].duplicated() & numbered, "source_line"]:
        problems.add(int(line), "block", "this block number is used twice (number the "
                     "blocks 1, 2, 3, ...)")
    _check_target(frame, problems)


def _check_same(frame: pd.DataFrame, problems: _Problems, columns: list[str]) -> None:
    for column in columns:
        given = frame[column].dropna()
        if given.nunique() > 1:
            first = given.iloc[0]
            for line in frame.loc[given.index[given != first], "source_line"]:
                problems.add(int(line), column, f"differs from the first block's "
                             f"'{_show(first)}' (one experiment tries one change; "
                             "write the same on every line or only on the first)")


def _check_target(frame: pd.DataFrame, problems: _Problems) -> None:
    from kneedata.targets import parse_target

    changes = frame["change"].dropna()
    if changes.empty:
        return
    target = frame["target"].dropna()
    try:
        parse_target(changes.iloc[0], target.iloc[0] if len(target) else None)
    except ValueError as err:
        line = int(frame.loc[target.index[0] if len(target) else changes.index[0],
                             "source_line"])
        problems.add(line, "target", str(err))


def read_experiment(path: str | os.PathLike[str], *, dayfirst: bool = False) -> pd.DataFrame:
    """Read and check an experiment schedule (``.csv``/``.xlsx``).

    Parameters
    ----------
    path
        Header ``block,start,end,condition`` (as :func:`kneedata.plan_experiment`
        writes), optionally ``change, target, carryover_days`` (same on every line,
        or only on the first), ``adherence_pct`` (by hand, for ``change=other``) and
        ``notes``. ``start``/``end`` are local days, ``end`` inclusive; ``condition``
        is ``A`` (the usual) or ``B`` (the change).
    dayfirst
        Read slashed dates as day/month/year.

    Returns
    -------
    pandas.DataFrame
        ``block`` (int64; numbered 1, 2, ... in file order when the column is
        empty), ``start``, ``end``, ``condition``, ``adherence_pct`` [%],
        ``notes``, ``source_line``. ``attrs``: ``change``, ``target`` (parsed),
        ``target_text``, ``carryover_days`` (default 3), ``block_days``.

    Raises
    ------
    SchemaError
        End before start, blocks out of date order or overlapping, no A or no B
        block, a condition other than A/B, block numbers used twice, different
        changes or targets on different lines, a target that cannot be read: all
        listed at once with file, line and column.
    """
    parsers: dict[str, Parser] = {
        "block": _number_parser((), 1, 999, "block number", "1"),
        "start": lambda v: _parse_date(v, dayfirst),
        "end": lambda v: _parse_date(v, dayfirst),
        "condition": _parse_condition,
        "change": _parse_change,
        "carryover_days": _number_parser(("d", "days"), 0, 30,
                                         "days left out at the start of a block", "3"),
        "adherence_pct": _number_parser(("%",), 0, 100, "share of the plan followed", "90"),
    }
    frame = _read_table(path, "experiment", parsers, ["start", "end", "condition"],
                        EXPERIMENT, _check_schedule)
    if frame["block"].isna().all():
        frame["block"] = np.arange(1, len(frame) + 1)
    frame["block"] = frame["block"].astype("int64")
    meta = {c: (frame[c].dropna().iloc[0] if frame[c].notna().any() else None)
            for c in ("change", "target", "carryover_days")}
    out = frame.drop(columns=["change", "target", "carryover_days"])
    if meta["change"] is not None:
        from kneedata.targets import parse_target

        value, text = parse_target(meta["change"], meta["target"])
        out.attrs.update(change=meta["change"], target=value, target_text=text)
    days = (out["end"] - out["start"]).dt.days + 1
    out.attrs.update(carryover_days=int(meta["carryover_days"] or 3),
                     block_days=int(days.max()) if len(days) else 0)
    return out.reset_index(drop=True)


# --- linking entries to runs -----------------------------------------------------------
#: Timings that are about one run (linked to it by activity_id, else by date and time).
RUN_TIMINGS = ("before", "during", "after")
#: How far a typed clock time may be off a run's start and still decide [min].
LINK_TOLERANCE_MIN = 30

#: ``link`` values of :func:`link_entries` (see its docstring).
LINKS = ("given", "only_run", "by_time", "ambiguous", "no_run", "time_mismatch",
         "unknown_id", "none")


def clock_minutes(value: Any) -> float:
    """'HH:MM' -> minutes after midnight; NaN when blank."""
    if not isinstance(value, str) or ":" not in value:
        return math.nan
    hours, minutes = value.split(":")[:2]
    return 60.0 * int(hours) + int(minutes)


@dataclass(frozen=True)
class _Run:
    activity_id: str
    start_min: float      # local clock minutes after midnight (NaN: unknown)

    def shown(self) -> str:
        if math.isnan(self.start_min):
            return self.activity_id
        return f"{self.activity_id} ({int(self.start_min) // 60:02d}:{int(self.start_min) % 60:02d})"


def local_start_minutes(runs: pd.DataFrame) -> pd.Series:
    """Each run's local start clock time in minutes after midnight (NaN: unknown).

    From ``start_time_utc`` plus ``utc_offset_min`` (0 when absent); indexed like
    ``runs``.
    """
    if "start_time_utc" not in runs.columns:
        return pd.Series(math.nan, index=runs.index, dtype="float64")
    utc = pd.to_datetime(runs["start_time_utc"], utc=True, errors="coerce")
    offset = (pd.to_numeric(runs["utc_offset_min"], errors="coerce").fillna(0)
              if "utc_offset_min" in runs.columns else 0)
    local = utc.dt.tz_localize(None) + pd.to_timedelta(offset, unit="min")
    return ((local - local.dt.normalize()) / pd.Timedelta(minutes=1)).astype("float64")


def _runs_by_day(runs: pd.DataFrame) -> dict[pd.Timestamp, list[_Run]]:
    """Local day -> that day's runs in order of start."""
    from kneedata._dates import local_days

    if "local_date" not in runs.columns or "activity_id" not in runs.columns:
        raise SchemaError("link_entries: the runs need activity_id and local_date columns "
                          f"(found {list(runs.columns)[:12]}); pass Store.activities() or "
                          "Derived.runs.")
    days = local_days(runs["local_date"], errors="coerce")
    start = local_start_minutes(runs)
    out: dict[pd.Timestamp, list[_Run]] = {}
    for day, aid, minute in zip(days, runs["activity_id"].astype(str), start, strict=True):
        if pd.isna(day):
            continue
        out.setdefault(day, []).append(_Run(aid, float(minute)))
    for day_runs in out.values():
        day_runs.sort(key=lambda r: (math.isnan(r.start_min), r.start_min))
    return out


def _link_by_time(timing: str, minute: float, day_runs: list[_Run]) -> tuple[_Run | None, str, str]:
    """Pick the run a timed ``before``/``during``/``after`` entry is about."""
    tol = LINK_TOLERANCE_MIN
    timed = [r for r in day_runs if not math.isnan(r.start_min)]
    if len(timed) < len(day_runs):
        return None, "ambiguous", ("several runs that day and not every one has a start "
                                   "time: " + ", ".join(r.shown() for r in day_runs))
    if timing == "before":  # the first run starting after the entry
        fits = [r for r in timed if r.start_min >= minute]
        near = [r for r in timed if r.start_min >= minute - tol]   # typed a little late
        pick = fits[0] if fits else (near[-1] if near else None)
        why = "no run that day starts after the entry's time"
    else:                   # during / after: the last run started before the entry
        fits = [r for r in timed if r.start_min <= minute]
        near = [r for r in timed if r.start_min <= minute + tol]   # typed a little early
        pick = fits[-1] if fits else (near[0] if near else None)
        why = "no run that day starts before the entry's time"
    if pick is None:
        return None, "time_mismatch", why + ": " + ", ".join(r.shown() for r in day_runs)
    return pick, ("only_run" if len(day_runs) == 1 else "by_time"), ""


def link_entries(diary: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
    """Say which run each diary entry is about.

    Parameters
    ----------
    diary
        As from :func:`read_pain_diary` (``date``, ``time``, ``timing``,
        ``activity_id``; ``time``/``timing``/``activity_id`` may be absent).
    runs
        The runs (``Derived.runs`` or :func:`kneedata.select_runs`):
        ``activity_id``, ``local_date``, optional ``start_time_utc`` and
        ``utc_offset_min`` (the local start time that orders runs within a day).

    Returns
    -------
    pandas.DataFrame
        The diary, every entry kept in its order, with ``linked_activity_id``
        (the run the entry is about; NaN when none), ``link`` (how, one of
        :data:`LINKS`) and ``link_note`` (why an entry about a run was not linked;
        NaN otherwise); columns of :data:`kneedata.schema.DIARY_LINKS`.

    Notes
    -----
    - An ``activity_id`` given in the entry wins (``given``; an id that is not
      among the runs is ``unknown_id`` and links nothing). An entry with an id
      and no timing is taken as ``after`` by :func:`kneedata.run_responses`
      (the diary template: "the run the pain followed").
    - Otherwise only ``before``, ``during`` and ``after`` entries are linked, to a
      run on the same local day: the only run that day (``only_run``), unless a
      typed time contradicts it (an ``after`` entry more than
      :data:`LINK_TOLERANCE_MIN` minutes before the run started, a ``before``
      entry that long after it: ``time_mismatch``). With several runs that day
      the time decides (``by_time``: ``before`` -> the first run starting after
      the entry, ``during``/``after`` -> the last run started before it; a time
      within :data:`LINK_TOLERANCE_MIN` minutes on the wrong side of every run
      counts as typed a little early or late); without
      a time, or without start times, the entry is ``ambiguous`` and linked to no
      run: it is never guessed. No run that day: ``no_run``.
    - ``next_morning`` (the score on waking, any day), ``rest``, ``stairs``,
      ``other`` and blank timings are about a day, not a run (``none``).
    """
    out = diary.copy()
    n = len(out)
    linked: list[Any] = [None] * n
    link: list[str] = ["none"] * n
    note: list[Any] = [None] * n
    by_day = _runs_by_day(runs)
    known = {r.activity_id for day_runs in by_day.values() for r in day_runs}
    empty = pd.Series([None] * n, index=out.index, dtype=object)
    timing = out["timing"] if "timing" in out.columns else empty
    given = out["activity_id"] if "activity_id" in out.columns else empty
    times = out["time"] if "time" in out.columns else empty
    from kneedata._dates import local_days

    days = local_days(out["date"], errors="coerce")
    for i, (when, aid, clock, day) in enumerate(zip(timing, given, times, days, strict=True)):
        if isinstance(aid, str) and aid.strip():
            if aid.strip() in known:
                linked[i], link[i] = aid.strip(), "given"
            else:
                link[i] = "unknown_id"
                note[i] = (f"activity_id '{aid}' is not one of the runs (check the id, "
                           "or that the run was imported)")
            continue
        if when not in RUN_TIMINGS:
            continue
        day_runs = by_day.get(day, []) if not pd.isna(day) else []
        minute = clock_minutes(clock)
        if not day_runs:
            link[i], note[i] = "no_run", (f"a '{when}' entry on a day without a run "
                                          "(write the run's activity_id, or check the date)")
            continue
        if math.isnan(minute):
            if len(day_runs) == 1:
                linked[i], link[i] = day_runs[0].activity_id, "only_run"
            else:
                link[i] = "ambiguous"
                note[i] = (f"{len(day_runs)} runs that day and no time in the entry: "
                           + ", ".join(r.shown() for r in day_runs)
                           + " (write the time or the run's activity_id)")
            continue
        if len(day_runs) == 1 and math.isnan(day_runs[0].start_min):
            linked[i], link[i] = day_runs[0].activity_id, "only_run"
            continue
        run, link[i], why = _link_by_time(str(when), minute, day_runs)
        if run is not None:
            linked[i] = run.activity_id
        else:
            note[i] = why + " (write the run's activity_id, or check the time)"
    out["linked_activity_id"] = pd.Series(linked, index=out.index, dtype="str")
    out["link"] = pd.Series(link, index=out.index, dtype="str")
    out["link_note"] = pd.Series(note, index=out.index, dtype="str")
    return out


# --- templates -------------------------------------------------------------------------
#: The pain diary template is one day around a run and the morning after (the scores
#: the run-response analysis compares: on waking, before, after, next morning).
_DIARY_EXAMPLE = [  # the ratings (sleep, fatigue, soreness, stress) on the morning lines
    ["2025-03-04", "07:10", "left", "around_kneecap", "2", "morning", "", "on waking",
     "4", "3", "2", "3"],
    ["2025-03-04", "17:50", "left", "around_kneecap", "2", "before", "", "", "", "", "", ""],
    ["2025-03-04", "19:45", "left", "around_kneecap", "4", "after", "",
     "14 km hilly run; sore on the last descent", "", "", "", ""],
    ["2025-03-05", "07:30", "left", "around_kneecap", "3", "morning", "",
     "stiff going downstairs after yesterday's run", "2", "5", "4", "3"],
]
_EXAMPLES: dict[str, list[str]] = {
    "shoes": ["peg40", "Pegasus 40 blue", "Nike", "Pegasus 40", "10", "33",
              "2024-09-01", "", "0", "sport=running"],
    "routines": ["2025-03-05", "strength", "25",
                 "3x12 step-downs; 3x10 single-leg squats; 3x30 s side plank"],
}
#: The experiment template is one AB pair (a schedule needs both conditions).
_EXPERIMENT_EXAMPLE = [
    ["1", "2025-03-10", "2025-03-23", "A", "cadence", "+7%", "3", "", ""],
    ["2", "2025-03-24", "2025-04-06", "B", "cadence", "+7%", "3", "",
     "replace these lines with kneedata experiment plan"],
]


def _vocab_lines(vocab: dict[str, tuple[str, tuple[str, ...]]]) -> str:
    return "\n".join(f"      {name:<15} {meaning}" for name, (meaning, _) in vocab.items())


def templates_readme() -> str:
    """The text of the README.txt written by :func:`write_templates`."""
    return f"""\
kneedata: your own tables
=========================

Keep these files in a spreadsheet (save as CSV or .xlsx) or a text editor.
The first line of each file is the header: keep it as it is. Each file has an
example (one line; the pain diary: one day around a run and the next morning):
replace it with your own entries. Blank optional cells are fine.

Dates: write 2025-03-04 (year-month-day). Day/month/year (04/03/2025) is read only
when you ask for it (dayfirst=True); kneedata never guesses a date. A date is
your local calendar day.

pain_diary.csv  - one line per pain report; several lines per day are fine
  date         required. The day it hurt.
  time         optional. Clock time, e.g. 07:30 or 7:30pm.
  side         required when pain is above 0: left, right or both (L, R, B).
  site         optional. Where it hurt, one of:
{_vocab_lines(SITES)}
  pain_0_10    required. 0 = no pain, 10 = worst imaginable. 3, 3.5 and 3/10 all
               work. Write 0 on days you checked and had no pain: without
               such lines kneedata cannot tell a pain-free day from a day you
               did not write anything.
  timing       optional. When it hurt, one of:
{_vocab_lines(TIMINGS)}
               The most useful habit: a morning line every day on waking, and
               a line before and after each run (the example shows one day).
               Which runs leave the knee worse the next morning is judged
               from these.
  activity_id  optional. The run the pain followed, if you know its id.
  notes        optional. Anything else (put text with commas in "double quotes").
  sleep_quality_1_5, fatigue_0_10, soreness_0_10, stress_0_10
               optional ratings of how you felt, best on the morning line:
               sleep quality 1 (very poor) to 5 (very good); fatigue, muscle
               soreness and life stress 0 (none) to 10 (worst). Leave them
               blank when you did not rate them (blank is never read as 0).

shoes.csv  - one line per pair of shoes
  shoe_id      required. A short unique name you choose, e.g. peg40.
  name         The name your watch / Strava shows as the run's gear; runs are
               matched to shoes by this name (or by shoe_id or model).
  brand        e.g. Nike.       model   e.g. Pegasus 40.
  drop_mm      Heel-to-toe drop in mm, e.g. 10.
  stack_mm     Heel stack height in mm, e.g. 33.
  first_used   First day you ran in them.   retired   Last day (blank: still in use).
  initial_km   km already on the shoes before your first imported run (blank = 0).
  default_for  Optional rule for runs without a gear name, e.g.
                 sport=running          every run (your everyday shoe)
                 sub_sport=trail        trail runs
                 sub_sport=treadmill    treadmill runs
                 sport=running & distance_km>=25   long runs
               The most specific matching rule wins; if two shoes in use that day
               are equally good matches the run is left unassigned, never guessed.

routines.csv  - one line per strength / rolling / physio / mobility session
  date         required.
  kind         required, one of:
{_vocab_lines(KINDS)}
  minutes      optional. 30, 30 min, 1h15 or 1:15.
  exercises    optional. What you did.

experiment.csv  - your own A/B experiment, one line per block
               (write a randomised plan with: kneedata experiment plan --change
               cadence --target +7% --start 2025-03-10 --out experiment.csv)
  block        1, 2, ... (optional).
  start, end   required. First and last day of the block (inclusive); blocks
               in date order, never overlapping.
  condition    required. A = your usual, B = the change you are trying.
  change       cadence, strength, shoes or other.
  target       cadence: +7% over your usual cadence at the same speed;
               strength: sessions per week, e.g. 3/week; shoes: a shoe_id.
  carryover_days  days at the start of each block the analysis leaves out (3).
  adherence_pct   optional, for change=other: how much of the plan you kept.

How pain episodes are counted (defaults): a pain day is a day with pain_0_10 of 3
or more. An episode starts on a pain day with no pain day in the previous 14 days,
and ends with its last pain day once 14 days have passed without pain. Days you
did not write down are unknown, not pain-free, unless you say the diary is
complete (every day without a line was pain-free).
"""


def write_templates(folder: str | os.PathLike[str], *, overwrite: bool = False) -> list[Path]:
    """Write empty, documented templates a new user can fill in.

    Parameters
    ----------
    folder
        Created if missing. Receives ``pain_diary.csv``, ``shoes.csv``,
        ``routines.csv`` (exact headers of the contract, one realistic example row
        each), ``experiment.csv`` (an A/B schedule: one example pair) and
        ``README.txt`` (every column and its allowed values).
    overwrite
        Replace files that already exist. Without it nothing is written when any
        of the four files exists.

    Returns
    -------
    list of pathlib.Path
        The files written, in the order above.

    Raises
    ------
    FileExistsError
        A file exists and ``overwrite`` is False (the message names it).
    """
    folder = Path(folder)
    names = ["pain_diary", "shoes", "routines", "experiment"]
    paths = [folder / f"{n}.csv" for n in names] + [folder / "README.txt"]
    existing = [p for p in paths if p.exists()]
    if existing and not overwrite:
        listed = ", ".join(str(p) for p in existing)
        one = len(existing) == 1
        raise FileExistsError(
            f"Not overwriting {listed}: {'it already exists' if one else 'they already exist'}"
            ". Nothing was written. Choose another folder, or pass overwrite=True "
            f"(kneedata init --force) to replace {'it' if one else 'them'}.")
    folder.mkdir(parents=True, exist_ok=True)
    for name, path in zip(names, paths, strict=False):
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(HEADERS[name])
        writer.writerows(_EXPERIMENT_EXAMPLE if name == "experiment" else
                         _DIARY_EXAMPLE if name == "pain_diary" else [_EXAMPLES[name]])
        path.write_text(buffer.getvalue(), encoding="utf-8")
    paths[-1].write_text(templates_readme(), encoding="utf-8")
    return paths
