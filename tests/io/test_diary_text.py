"""Diary text files: UTF-32, long notes (the smaller faults of the second fault campaign)."""

from __future__ import annotations

import warnings

import pytest

from kneedata.errors import DataQualityWarning, FileFormatError
from kneedata.io.diary import MAX_CELL_CHARS, read_pain_diary

DIARY = "date,side,pain_0_10,notes\n2024-03-05,left,3,douleur après les côtes\n2024-03-06,right,1,ok\n"


@pytest.mark.parametrize("encoding", ["utf-32", "utf-32-le", "utf-32-be"])
def test_utf32_diary_is_read(tmp_path, encoding):
    path = tmp_path / "diary.csv"
    path.write_bytes(DIARY.encode(encoding))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        frame = read_pain_diary(path)  # before: an error message full of NUL characters
    assert frame["pain_0_10"].tolist() == [3.0, 1.0]
    assert frame["notes"].iloc[0] == "douleur après les côtes"


def test_a_note_longer_than_the_csv_default_is_read(tmp_path):
    note = "x" * 200_000  # over the csv module's 131,072
    path = tmp_path / "diary.csv"
    path.write_text(f"date,side,pain_0_10,notes\n2024-03-05,left,3,{note}\n")
    frame = read_pain_diary(path)  # before: 'check for an unclosed double quote'
    assert frame["notes"].iloc[0] == note


def test_a_note_over_the_cell_limit_is_named_as_such(tmp_path):
    path = tmp_path / "diary.csv"
    path.write_text(f"date,side,pain_0_10,notes\n2024-03-05,left,3,{'x' * (MAX_CELL_CHARS + 10)}\n")
    with pytest.raises(FileFormatError, match=r"line 2: a cell holds more than 1,000,000 characters"):
        read_pain_diary(path)
    import csv

    assert csv.field_size_limit() == 131_072  # the process-wide limit is restored
