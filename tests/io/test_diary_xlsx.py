"""XLSX diaries: which sheet is read (hidden ones are not, silently), and formulas without values."""

from __future__ import annotations

import io
import re
import warnings
import zipfile

import openpyxl
import pytest

from kneedata.errors import DataQualityWarning, SchemaError
from kneedata.io.diary import read_pain_diary

HEADER = ["date", "side", "pain_0_10", "notes"]
ROWS = [["2024-03-05", "left", 3, "after the long run"], ["2024-03-06", "right", 1, "easy"]]


def _book(path, sheets: list[tuple[str, list[list[object]], str]]):
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows, state in sheets:
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
        ws.sheet_state = state
    wb.save(path)
    return path


def test_hidden_first_sheet_is_not_read_and_the_choice_is_said(tmp_path):
    path = _book(tmp_path / "diary.xlsx", [
        ("old", [HEADER, ["2023-01-01", "left", 9, "an old diary, hidden"]], "hidden"),
        ("Sheet2", [HEADER, *ROWS], "visible"),
    ])
    with pytest.warns(DataQualityWarning, match=r"'Sheet2'.*hidden sheet\(s\) 'old' were not read"):
        diary = read_pain_diary(path)
    assert diary["pain_0_10"].tolist() == [3.0, 1.0]  # before: the hidden sheet's 9
    hidden = read_pain_diary(path, sheet="old")  # asked for by name: read
    assert hidden["pain_0_10"].tolist() == [9.0]
    with pytest.raises(SchemaError, match="no sheet named 'nope'.*'old', 'Sheet2'"):
        read_pain_diary(path, sheet="nope")


def test_a_sheet_named_after_the_table_is_read_quietly(tmp_path):
    path = _book(tmp_path / "diary.xlsx", [("notes", [["free text"]], "visible"),
                                           ("Pain diary", [HEADER, *ROWS], "visible")])
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        assert len(read_pain_diary(path)) == 2


@pytest.mark.parametrize(("column", "cell"), [("pain_0_10", "C3"), ("notes", "D2")])
def test_formula_without_a_computed_value_is_an_error_naming_the_cell(tmp_path, column, cell):
    rows = [list(r) for r in ROWS]
    if column == "pain_0_10":
        rows[1][2] = "=1+0"
    else:
        rows[0][3] = '=CONCAT("after ","run")'
    path = _book(tmp_path / "diary.xlsx", [("diary", [HEADER, *rows], "visible")])  # openpyxl computes nothing
    with pytest.raises(SchemaError) as err:
        read_pain_diary(path)
    text = str(err.value)
    assert f"{cell}: =" in text and "no value computed" in text and "save it again" in text


def test_formula_with_a_computed_value_is_read(tmp_path):
    rows = [list(r) for r in ROWS]
    rows[1][2] = "=1+0"
    path = _book(tmp_path / "diary.xlsx", [("diary", [HEADER, *rows], "visible")])
    # what Excel writes: the formula and its cached value
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    sheet = next(n for n in members if n.startswith("xl/worksheets/sheet"))
    xml = members[sheet].decode()
    xml, n = re.subn(r'<c r="C3"([^>]*)><f>1\+0</f><v\s*/?>(</v>)?</c>', r'<c r="C3"\1><f>1+0</f><v>1</v></c>', xml)
    assert n == 1, xml[:2000]
    members[sheet] = xml.encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    path.write_bytes(buffer.getvalue())
    assert read_pain_diary(path)["pain_0_10"].tolist() == [3.0, 1.0]
