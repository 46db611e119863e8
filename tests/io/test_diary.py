"""Readers of the hand-kept tables: pain diary, shoes, routines, shoe periods, templates.

Every expected value comes from the hand-written file in the same test.
"""

from __future__ import annotations

import datetime as dt
import warnings
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from kneedata import schema
from kneedata.errors import DataQualityWarning, FileFormatError, SchemaError
from kneedata.io.diary import (
    HEADERS,
    KINDS,
    SITES,
    TIMINGS,
    read_pain_diary,
    read_routines,
    read_shoe_periods,
    read_shoes,
    write_templates,
)

DIARY_HEADER = ("date,time,side,site,pain_0_10,timing,activity_id,notes,sleep_quality_1_5,fatigue_0_10,"
                "soreness_0_10,stress_0_10")


def write(folder: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = folder / name
    path.write_bytes(text.encode(encoding))
    return path


def diary_frame(rows: list[dict]) -> pd.DataFrame:
    """Expected diary with the schema dtypes (missing keys -> NaN)."""
    data = {}
    for name, col in schema.DIARY.items():
        values = [r.get(name) for r in rows]
        if col.dtype.startswith("datetime"):
            data[name] = pd.Series(pd.to_datetime(values), dtype="datetime64[ns]")
        elif col.dtype == "float64":
            data[name] = pd.Series([np.nan if v is None else v for v in values],
                                   dtype="float64")
        else:
            data[name] = pd.Series(values, dtype=col.dtype)
    return pd.DataFrame(data)


def problems_of(excinfo: pytest.ExceptionInfo) -> list[str]:
    return excinfo.value.problems


# --- what people type ------------------------------------------------------------------
def test_diary_accepts_what_people_type(tmp_path):
    # header in mixed case with spaces, 'Pain (0-10)' for pain_0_10; a blank line;
    # a note with a comma in quotes; L / right / B / bilateral; 3/10, 2, 3.5, '4 / 10'
    path = write(tmp_path, "pain_diary.csv", (
        " Date , Time ,SIDE,Site,Pain (0-10),Timing,Activity ID,Notes\n"
        "2024-03-05 , 07:30 , L ,Kneecap, 3/10 ,Next morning,,\"stiff, on stairs\"\n"
        "2024-03-05,,right,,2,,,\n"
        "\n"
        "2024-03-06,7pm,B,IT band,3.5,during,abc123-0,\n"
        "2024-03-06,7.45,bilateral,below kneecap,4 / 10,After run,,\n"
        "2024-03-04,,,,0,,,checked: no pain\n"
    ))
    got = read_pain_diary(path)
    expected = diary_frame([
        # sorted by date, then time (NaN last), then line
        dict(date="2024-03-04", pain_0_10=0.0, notes="checked: no pain", source_line=7),
        dict(date="2024-03-05", time="07:30", side="left", site="around_kneecap",
             pain_0_10=3.0, timing="next_morning", notes="stiff, on stairs",
             source_line=2),
        dict(date="2024-03-05", side="right", pain_0_10=2.0, source_line=3),
        dict(date="2024-03-06", time="07:45", side="both", site="below_kneecap",
             pain_0_10=4.0, timing="after", source_line=6),
        dict(date="2024-03-06", time="19:00", side="both", site="lateral",
             pain_0_10=3.5, timing="during", activity_id="abc123-0", source_line=5),
    ])
    pd.testing.assert_frame_equal(got, expected)


def test_diary_optional_columns_may_be_absent_and_lines_count_multiline_cells(tmp_path):
    # line 2 holds a note spanning lines 2-3, so the next entry is on line 4
    path = write(tmp_path, "d.csv", 'date,side,pain_0_10,notes\n'
                 '2024-01-02,left,5,"first line\nsecond line"\n'
                 '2024-01-03,left,6,\n')
    got = read_pain_diary(path)
    assert list(got.columns) == list(schema.DIARY)
    assert got["source_line"].tolist() == [2, 4]
    assert got["notes"].iloc[0] == "first line\nsecond line"
    assert got["site"].isna().all() and got["time"].isna().all()


def test_diary_semicolon_bom_windows_1252(tmp_path):
    # what European Excel writes: BOM-less cp1252, semicolons, decimal comma
    text = "date;side;pain_0_10;notes\n2024-01-02;left;3,5;genou gêné\n"
    path = write(tmp_path, "d.csv", text, encoding="cp1252")
    with pytest.warns(DataQualityWarning, match="Windows-1252"):
        got = read_pain_diary(path)
    assert got["pain_0_10"].tolist() == [3.5]
    assert got["notes"].tolist() == ["genou gêné"]
    bom = write(tmp_path, "bom.csv", "\ufeff" + text, encoding="utf-8")
    assert read_pain_diary(bom)["notes"].tolist() == ["genou gêné"]


@pytest.mark.parametrize(("typed", "expected"), [
    ("2024-03-05", "2024-03-05"),
    ("2024/3/5", "2024-03-05"),
    ("2024-03-05 00:00:00", "2024-03-05"),   # what spreadsheets export
    ("5 Mar 2024", "2024-03-05"),
    ("March 5, 2024", "2024-03-05"),
    ("5th March 2024", "2024-03-05"),
])
def test_unambiguous_dates_without_dayfirst(tmp_path, typed, expected):
    path = write(tmp_path, "d.csv", f'date,side,pain_0_10\n"{typed}",left,1\n')
    assert read_pain_diary(path)["date"].iloc[0] == pd.Timestamp(expected)


def test_dayfirst_reads_day_month_year(tmp_path):
    path = write(tmp_path, "d.csv", "date,side,pain_0_10\n05/03/2024,left,1\n"
                 "25.12.2023,left,1\n2024-03-01,left,1\n")
    got = read_pain_diary(path, dayfirst=True)
    assert got["date"].tolist() == [pd.Timestamp("2023-12-25"),
                                     pd.Timestamp("2024-03-01"),
                                     pd.Timestamp("2024-03-05")]


def test_slashed_dates_without_dayfirst_are_refused_with_advice(tmp_path):
    path = write(tmp_path, "pain_diary.csv", "date,side,pain_0_10\n05/03/2024,left,1\n"
                 "25/03/2024,left,1\n03/25/2024,left,1\n")
    with pytest.raises(SchemaError) as err:
        read_pain_diary(path)
    assert problems_of(err) == [
        "pain_diary.csv line 2, column date: '05/03/2024' is ambiguous: it could be "
        "5 March or 3 May 2024. Pass dayfirst=True if your dates are day/month/year, "
        "or write dates as year-month-day (2024-03-05)",
        "pain_diary.csv line 3, column date: '25/03/2024' looks like day/month/year; "
        "dates with slashes are read only when you pass dayfirst=True (or write it as "
        "2024-03-25, year-month-day)",
        "pain_diary.csv line 4, column date: '03/25/2024' looks like month/day/year, "
        "which kneedata does not read (it could be misread); write it as 2024-03-25 "
        "(year-month-day)",
    ]


def test_a_day_first_diary_without_dayfirst_is_one_line_with_the_fix(tmp_path):
    # issue 25: a 41-entry day-first diary gave 41 lines, one per row
    days = pd.date_range("2024-03-01", periods=41, freq="D")
    rows = "".join(f"{d:%d/%m/%Y},left,{i % 4}\n" for i, d in enumerate(days))
    path = write(tmp_path, "pain_diary.csv", "date,side,pain_0_10\n" + rows)
    with pytest.raises(SchemaError) as err:
        read_pain_diary(path)
    message = str(err.value)
    assert message == (
        "pain_diary.csv: all 41 dates look day/month/year (lines 2 to 42; e.g. 14: "
        "'13/03/2024'): pass dayfirst=True to read them as day/month/year, or write dates "
        "as year-month-day (2024-03-05); nothing was read.")
    assert len(problems_of(err)) == 41  # every row is still in .problems
    assert read_pain_diary(path, dayfirst=True)["date"].nunique() == 41


def test_day_first_summary_keeps_the_other_problems_and_month_first_is_not_summarised(tmp_path):
    rows = "13/03/2024,left,1\n14/03/2024,left,1\n01/03/2024,left,1\n2024-03-20,up,1\n"
    path = write(tmp_path, "pain_diary.csv", "date,side,pain_0_10\n" + rows)
    with pytest.raises(SchemaError) as err:
        read_pain_diary(path)
    lines = str(err.value).splitlines()
    assert lines[0].startswith("pain_diary.csv: 2 problems in the pain diary")
    assert lines[1].startswith("  - pain_diary.csv: 3 dates look day/month/year (lines 2 to 4")
    assert "column side: 'up'" in lines[2] and len(lines) == 3
    mixed = write(tmp_path, "mixed.csv", "date,side,pain_0_10\n" + rows.replace(
        "2024-03-20,up", "03/25/2024,left"))
    with pytest.raises(SchemaError) as err:  # a month-first date: the order is not clear
        read_pain_diary(mixed)
    assert "dates look day/month/year" not in str(err.value)
    assert len(str(err.value).splitlines()) == 5


def test_the_same_problem_on_many_rows_is_one_line_with_its_rows(tmp_path):
    rows = "".join(f"2024-03-{d:02d},left,\n" for d in range(1, 31)) + "2024-04-01,up,2\n"
    path = write(tmp_path, "pain_diary.csv", "date,side,pain_0_10\n" + rows)
    with pytest.raises(SchemaError) as err:
        read_pain_diary(path)
    assert str(err.value).splitlines() == [
        "pain_diary.csv: 2 problems in the pain diary; nothing was read. Fix them and read the "
        "file again:",
        "  - pain_diary.csv 30 lines (2 to 31), column pain_0_10: the cell is empty (this "
        "column is required)",
        "  - pain_diary.csv line 32, column side: 'up' is not one of left, right, both (or L, "
        "R, B)"]
    assert len(problems_of(err)) == 31  # every row is still in .problems


def test_side_blank_only_when_pain_free(tmp_path):
    path = write(tmp_path, "pain_diary.csv", "date,side,pain_0_10\n2024-01-01,,0\n"
                 "2024-01-02,,4\n2024-01-03,up,5\n")
    with pytest.raises(SchemaError) as err:
        read_pain_diary(path)
    assert problems_of(err) == [   # a bad side is reported once, not also as blank
        "pain_diary.csv line 3, column side: the cell is empty but pain_0_10 is 4 "
        "(write left, right or both; it may be blank only when pain is 0)",
        "pain_diary.csv line 4, column side: 'up' is not one of left, right, both (or "
        "L, R, B)"]


# --- errors ---------------------------------------------------------------------------
def test_every_bad_cell_is_reported_at_once(tmp_path):
    good = "".join(f"2024-01-{d:02d},left,2,,\n" for d in range(1, 13))  # lines 2-13
    path = write(tmp_path, "pain_diary.csv", (
        "date,side,pain_0_10,site,timing\n" + good +
        "2024-01-13,left,12,,\n"                       # line 14
        "2024-02-30,middle,mild,shin,lunch\n"          # line 15
        "2024-01-15,left,3/5,,\n"                      # line 16
        "1960-01-15,right,,,\n"                        # line 17
        "2024-01-16,left,-1,,\n"                       # line 18
        "15/1/24,left,1,,\n"                           # line 19
    ))
    with pytest.raises(SchemaError) as err:
        read_pain_diary(path, dayfirst=True)
    problems = problems_of(err)
    assert problems == [
        "pain_diary.csv line 14, column pain_0_10: '12' is outside 0–10 (use a whole "
        "or decimal number from 0 to 10, e.g. 3 or 3/10)",
        "pain_diary.csv line 15, column date: '2024-02-30' is not a real "
        "year-month-day date (check the day and month)",
        "pain_diary.csv line 15, column side: 'middle' is not one of left, right, "
        "both (or L, R, B)",
        "pain_diary.csv line 15, column pain_0_10: 'mild' is not a pain score (use a "
        "whole or decimal number from 0 to 10, e.g. 3 or 3/10)",
        "pain_diary.csv line 15, column site: 'shin' is not one of around_kneecap, "
        "behind_kneecap, below_kneecap, above_kneecap, lateral, medial, back, "
        "whole_knee, other (use 'other' and describe it in notes if none fits; one "
        "site per entry: add a second entry for a second site)",
        "pain_diary.csv line 15, column timing: 'lunch' is not one of before, during, "
        "after, next_morning, rest, stairs, other (use 'other' and describe it in notes "
        "if none fits)",
        "pain_diary.csv line 16, column pain_0_10: '3/5' is not a score out of 10 (use "
        "a whole or decimal number from 0 to 10, e.g. 3 or 3/10)",
        "pain_diary.csv line 17, column date: '1960-01-15' is before 1970 (check the "
        "year)",
        "pain_diary.csv line 17, column pain_0_10: the cell is empty (this column is "
        "required)",
        "pain_diary.csv line 18, column pain_0_10: '-1' is outside 0–10 (use a whole "
        "or decimal number from 0 to 10, e.g. 3 or 3/10)",
        "pain_diary.csv line 19, column date: '15/1/24' has a 2-digit year (write the "
        "year with four digits, e.g. 05/03/2024, or use 2024-03-05)",
    ]
    message = str(err.value)
    assert message.startswith("pain_diary.csv: 11 problems in the pain diary; nothing "
                              "was read.")
    assert all(p in message for p in problems)
    assert isinstance(err.value, ValueError)


def test_future_date_and_bad_time(tmp_path):
    future = dt.date.today() + dt.timedelta(days=40)
    path = write(tmp_path, "pain_diary.csv", "date,time,side,pain_0_10\n"
                 f"{future:%Y-%m-%d},07:30,left,1\n2024-01-01,25:00,left,1\n")
    with pytest.raises(SchemaError) as err:
        read_pain_diary(path)
    assert problems_of(err) == [
        f"pain_diary.csv line 2, column date: '{future:%Y-%m-%d}' is in the future "
        "(check the year and month)",
        "pain_diary.csv line 3, column time: '25:00' is not a clock time (write it "
        "like 07:30 or 7:30pm, or leave it blank)"]


def test_alias_header_is_named_as_typed_in_messages(tmp_path):
    path = write(tmp_path, "pain_diary.csv", "date,side,Score\n2024-01-01,left,11\n")
    with pytest.raises(SchemaError) as err:
        read_pain_diary(path)
    assert problems_of(err)[0].startswith(
        "pain_diary.csv line 2, column Score (pain_0_10): '11' is outside 0–10")


def test_row_with_too_many_values(tmp_path):
    path = write(tmp_path, "pain_diary.csv", "date,side,pain_0_10,notes\n"
                 "2024-01-01,left,2,sore, then fine\n")
    with pytest.raises(SchemaError) as err:
        read_pain_diary(path)
    assert problems_of(err) == [
        "pain_diary.csv line 2: has 5 values but the header has 4 columns (if a note "
        "contains a comma or semicolon, put the whole note in double quotes)"]


def test_missing_required_columns_names_missing_and_found(tmp_path):
    path = write(tmp_path, "pain_diary.csv", "date,knee side,pain_level\n"
                 "2024-01-01,left,3\n")
    with pytest.raises(SchemaError) as err:
        read_pain_diary(path)
    assert str(err.value) == (
        "pain_diary.csv is missing the required columns side, pain_0_10 (rename "
        "'knee side' to side? rename 'pain_level' to pain_0_10?). Found columns: "
        "date, knee side, pain_level. The first line must be the header, e.g. "
        "date,time,side,site,pain_0_10,timing,activity_id,notes,sleep_quality_1_5,fatigue_0_10,"
            "soreness_0_10,stress_0_10")


def test_two_columns_meaning_the_same(tmp_path):
    path = write(tmp_path, "pain_diary.csv", "date,side,pain,Pain 0-10\n"
                 "2024-01-01,left,3,3\n")
    with pytest.raises(SchemaError, match="'pain' and 'Pain 0-10' both mean pain_0_10"):
        read_pain_diary(path)


@pytest.mark.parametrize("content", [b"", b"\n\n  \n", b",,,\n"])
def test_empty_file(tmp_path, content):
    path = tmp_path / "pain_diary.csv"
    path.write_bytes(content)
    with pytest.raises(SchemaError, match=r"^pain_diary.csv is empty\. It needs a header"):
        read_pain_diary(path)


def test_header_only_gives_empty_table_and_warns(tmp_path):
    path = write(tmp_path, "pain_diary.csv", DIARY_HEADER + "\n")
    with pytest.warns(DataQualityWarning, match="has a header but no entries"):
        got = read_pain_diary(path)
    pd.testing.assert_frame_equal(got, schema.empty_frame(schema.DIARY))


def test_unknown_columns_are_kept_and_named_in_a_warning(tmp_path):
    path = write(tmp_path, "pain_diary.csv", "date,side,pain_0_10,weather,Shoe\n"
                 "2024-01-01,left,3,rain,peg40\n2024-01-02,left,1,,\n")
    with pytest.warns(DataQualityWarning) as record:
        got = read_pain_diary(path)
    assert str(record[0].message) == (
        "pain_diary.csv: 2 columns are not part of the pain diary format and were kept "
        "as text without checking: 'weather', 'Shoe'. Known columns: date, time, side, "
        "site, pain_0_10, timing, activity_id, notes, sleep_quality_1_5, fatigue_0_10, soreness_0_10, stress_0_10.")
    assert list(got.columns) == [*schema.DIARY, "weather", "Shoe"]
    assert got["weather"].tolist()[0] == "rain" and pd.isna(got["weather"].iloc[1])


def test_not_a_table(tmp_path):
    xls = tmp_path / "pain_diary.xls"
    xls.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100)
    with pytest.raises(FileFormatError, match="old Excel .xls workbook"):
        read_pain_diary(xls)
    binary = tmp_path / "pain_diary.csv"
    binary.write_bytes(b"\x00\x01\x02garbage")
    with pytest.raises(FileFormatError, match="is not a text file"):
        read_pain_diary(binary)
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(FileFormatError, match="cannot be opened as an Excel workbook"):
        read_pain_diary(broken)


# --- xlsx -----------------------------------------------------------------------------
def test_xlsx_round_trip_equals_csv(tmp_path):
    csv_path = write(tmp_path, "pain_diary.csv", DIARY_HEADER + "\n"
                     "2024-03-05,07:30,left,around_kneecap,3,next_morning,,stiff\n"
                     "2024-03-06,,both,,4.5,during,abc-0,\n")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "pain_diary"
    sheet.append(HEADERS["pain_diary"])
    # native cell types as Excel stores them: datetime, time, int, float
    sheet.append([dt.datetime(2024, 3, 5), dt.time(7, 30), "L", "kneecap", 3,
                  "next morning", None, "stiff"])
    sheet.append([dt.datetime(2024, 3, 6), None, "both", None, 4.5, "during", "abc-0",
                  None])
    xlsx_path = tmp_path / "pain_diary.xlsx"
    book.save(xlsx_path)
    from_csv = read_pain_diary(csv_path)
    from_xlsx = read_pain_diary(xlsx_path)
    pd.testing.assert_frame_equal(from_xlsx, from_csv)  # rows 2, 3 = lines 2, 3


def test_xlsx_errors_name_the_row_and_pick_the_named_sheet(tmp_path):
    book = openpyxl.Workbook()
    book.active.title = "pain_diary"
    book.active.append(["date", "side", "pain_0_10"])
    shoes = book.create_sheet("Shoes")
    shoes.append(["shoe_id", "drop_mm"])
    shoes.append(["peg40", 10])
    shoes.append(["speed", "40"])   # row 3
    path = tmp_path / "kneedata.xlsx"
    book.save(path)
    with pytest.raises(SchemaError) as err:
        read_shoes(path)
    assert problems_of(err) == [
        "kneedata.xlsx (sheet 'Shoes') row 3, column drop_mm: '40' is outside -5–20 "
        "(heel-to-toe drop in mm, e.g. 8)"]


def test_xlsx_number_in_date_column_and_date_in_pain_column(tmp_path):
    book = openpyxl.Workbook()
    book.active.append(["date", "side", "pain_0_10"])
    book.active.append([45357, "left", 2])
    # Excel turns a typed '3/10' into 10 March of the current year
    book.active.append([dt.datetime(2024, 3, 5), "left", dt.datetime(2024, 3, 10)])
    path = tmp_path / "pain_diary.xlsx"
    book.save(path)
    with pytest.raises(SchemaError) as err:
        read_pain_diary(path)
    assert problems_of(err) == [
        "pain_diary.xlsx row 2, column date: '45357' is a number, not a date (format "
        "the column as a date in your spreadsheet, or type dates like 2024-03-05)",
        "pain_diary.xlsx row 3, column pain_0_10: '2024-03-10 00:00:00' is a date or "
        "time, not a pain score: the spreadsheet probably turned a score like 3/10 "
        "into a date (type just the number, e.g. 3, or format the column as text)"]


# --- shoes, routines, periods ---------------------------------------------------------
def test_read_shoes(tmp_path):
    path = write(tmp_path, "shoes.csv", (
        "Shoe ID,Name,Brand,Model,Drop (mm),Stack mm,First used,Retired,Initial km,"
        "Default for\n"
        "peg40,Pegasus 40 blue,Nike,Pegasus 40,10 mm,33,2024-09-01,,,sport=running\n"
        "sg6,,Hoka,Speedgoat 6,4,\"33,5\",2024-05-01,2025-02-01,120 km,sub_sport=trail\n"
    ))
    got = read_shoes(path)
    expected = pd.DataFrame({
        "shoe_id": pd.Series(["peg40", "sg6"], dtype="str"),
        "name": pd.Series(["Pegasus 40 blue", None], dtype="str"),
        "brand": pd.Series(["Nike", "Hoka"], dtype="str"),
        "model": pd.Series(["Pegasus 40", "Speedgoat 6"], dtype="str"),
        "drop_mm": [10.0, 4.0],
        "stack_mm": [33.0, 33.5],
        "first_used": pd.to_datetime(["2024-09-01", "2024-05-01"]).astype("datetime64[ns]"),
        "retired": pd.to_datetime([None, "2025-02-01"]).astype("datetime64[ns]"),
        "initial_km": [0.0, 120.0],   # blank means a new shoe
        "default_for": pd.Series(["sport=running", "sub_sport=trail"], dtype="str"),
        "source_line": np.array([2, 3], dtype="int64"),
    })
    pd.testing.assert_frame_equal(got, expected)


def test_shoes_errors(tmp_path):
    path = write(tmp_path, "shoes.csv", (
        "shoe_id,first_used,retired,default_for,stack_mm\n"
        "peg40,2024-09-01,2024-01-01,,\n"
        "PEG40,,,trail shoes!,\n"
        ",,,,\n"          # blank line: skipped
        ",,,,30\n"        # line 5: no shoe_id
        "sg6,,,surface=trail,ninety\n"
    ))
    with pytest.raises(SchemaError) as err:
        read_shoes(path)
    assert problems_of(err) == [   # cell and table checks together, in file order
        "shoes.csv line 2, column retired: '2024-01-01' is before first_used "
        "2024-09-01 (swap them, or fix the year)",
        "shoes.csv line 3, column default_for: 'trail shoes!' in rule 'trail shoes!' "
        "cannot be read (write conditions like sport=running, sub_sport=trail or "
        "distance_km>=25, joined by '&')",
        "shoes.csv line 3, column shoe_id: 'PEG40' is already used on line 2 (each "
        "shoe needs its own id; ids are compared ignoring case)",
        "shoes.csv line 5, column shoe_id: the cell is empty (this column is required)",
        "shoes.csv line 6, column default_for: 'surface' in rule 'surface=trail' is "
        "not a field a rule can use (use sport, sub_sport, distance_km)",
        "shoes.csv line 6, column stack_mm: 'ninety' is not a number (heel stack "
        "height in mm, e.g. 33)",
    ]
    fixed = write(tmp_path, "shoes2.csv", "shoe_id,first_used,retired\n"
                  "peg40,2024-09-01,2024-01-01\nPEG40,,\n")
    with pytest.raises(SchemaError) as err:
        read_shoes(fixed)
    assert problems_of(err) == [
        "shoes2.csv line 2, column retired: '2024-01-01' is before first_used "
        "2024-09-01 (swap them, or fix the year)",
        "shoes2.csv line 3, column shoe_id: 'PEG40' is already used on line 2 (each "
        "shoe needs its own id; ids are compared ignoring case)"]


def test_read_routines(tmp_path):
    path = write(tmp_path, "routines.csv", (
        "Date,Type,Duration,Exercises\n"
        "2024-03-05,Foam rolling,15 min,quads and calves\n"
        "2024-03-04,gym,1h15,\"step-downs, squats\"\n"
        "2024-03-04,physio,0:45,\n"
        "2024-03-06,yoga,,\n"
    ))
    got = read_routines(path)
    expected = pd.DataFrame({
        "date": pd.to_datetime(["2024-03-04", "2024-03-04", "2024-03-05",
                                "2024-03-06"]).astype("datetime64[ns]"),
        "kind": pd.Series(["strength", "physio", "foam_rolling", "mobility"], dtype="str"),
        "minutes": [75.0, 45.0, 15.0, np.nan],
        "exercises": pd.Series(["step-downs, squats", None, "quads and calves", None],
                               dtype="str"),
        "source_line": np.array([3, 4, 2, 5], dtype="int64"),
    })
    pd.testing.assert_frame_equal(got, expected)


def test_routines_errors(tmp_path):
    path = write(tmp_path, "routines.csv", "date,kind,minutes\n2024-03-05,swim,30\n"
                 "2024-03-05,strength,a while\n2024-03-05,strength,0\n,strength,10\n")
    with pytest.raises(SchemaError) as err:
        read_routines(path)
    assert problems_of(err) == [
        "routines.csv line 2, column kind: 'swim' is not one of strength, foam_rolling, "
        "physio, mobility, other (use 'other' and describe it in exercises if none "
        "fits)",
        "routines.csv line 3, column minutes: 'a while' is not a duration (write "
        "minutes, e.g. 30, or 1h15, or leave it blank)",
        "routines.csv line 4, column minutes: '0' is outside 1–600 minutes (write the "
        "session length in minutes, e.g. 30)",
        "routines.csv line 5, column date: the cell is empty (this column is required)",
    ]


def test_read_shoe_periods(tmp_path):
    path = write(tmp_path, "periods.csv", "shoe_id,start,end\npeg40,2024-09-01,\n"
                 "sg6,2024-05-01,2024-08-31\n")
    got = read_shoe_periods(path)
    assert got["shoe_id"].tolist() == ["sg6", "peg40"]
    assert got["end"].isna().tolist() == [False, True]
    bad = write(tmp_path, "periods.csv", "shoe_id,start,end\npeg40,2024-09-01,2024-08-01\n")
    with pytest.raises(SchemaError) as err:
        read_shoe_periods(bad)
    assert problems_of(err) == [
        "periods.csv line 2, column end: '2024-08-01' is before start 2024-09-01 (swap "
        "them, or fix the year)"]


# --- templates ------------------------------------------------------------------------
def test_templates_are_readable_and_documented(tmp_path):
    folder = tmp_path / "new" / "diary"
    paths = write_templates(folder)
    assert [p.name for p in paths] == ["pain_diary.csv", "shoes.csv", "routines.csv",
                                       "experiment.csv", "README.txt"]
    for name in ("pain_diary", "shoes", "routines"):
        lines = (folder / f"{name}.csv").read_text().splitlines()
        assert lines[0] == ",".join(HEADERS[name])    # exact contract header
        # one example row; the diary: one day around a run and the next morning
        assert len(lines) == (5 if name == "pain_diary" else 2)
    assert HEADERS["pain_diary"] == DIARY_HEADER.split(",")
    with warnings.catch_warnings():
        warnings.simplefilter("error")                 # no warning on our own templates
        diary = read_pain_diary(folder / "pain_diary.csv")
        shoes = read_shoes(folder / "shoes.csv")
        routines = read_routines(folder / "routines.csv")
    assert len(shoes) == len(routines) == 1
    assert diary["timing"].tolist() == ["next_morning", "before", "after", "next_morning"]
    assert diary["pain_0_10"].tolist() == [2.0, 2.0, 4.0, 3.0]
    assert shoes["shoe_id"].iloc[0] == "peg40"
    readme = (folder / "README.txt").read_text()
    for word in [*HEADERS["pain_diary"], *HEADERS["shoes"], *HEADERS["routines"],
                 *SITES, *TIMINGS, *KINDS, "dayfirst"]:
        assert word in readme, word


def test_templates_refuse_to_overwrite(tmp_path):
    write(tmp_path, "shoes.csv", "shoe_id\nmine\n")
    with pytest.raises(FileExistsError) as err:
        write_templates(tmp_path)
    assert str(tmp_path / "shoes.csv") in str(err.value)
    assert "overwrite=True (kneedata init --force)" in str(err.value)
    assert not (tmp_path / "pain_diary.csv").exists()   # nothing half-written
    assert (tmp_path / "shoes.csv").read_text() == "shoe_id\nmine\n"
    write_templates(tmp_path, overwrite=True)
    assert (tmp_path / "shoes.csv").read_text().startswith(",".join(HEADERS["shoes"]))


def test_how_you_felt_ratings_are_read_and_checked(tmp_path):
    path = write(tmp_path, "pain_diary.csv",
                 "date,side,pain_0_10,Sleep quality 1-5,fatigue_0_10,soreness_0_10,stress_0_10\n"
                 "2024-03-05,left,2,4,3/10,2,\n"
                 "2024-03-06,left,1,2/5,7,0,5\n")
    diary = read_pain_diary(path)
    assert diary["sleep_quality_1_5"].tolist() == [4.0, 2.0]
    assert diary["fatigue_0_10"].tolist() == [3.0, 7.0]
    assert np.isnan(diary["stress_0_10"].iloc[0])  # blank is not rated, never 0
    bad = write(tmp_path, "bad.csv", "date,side,pain_0_10,sleep_quality_1_5,soreness_0_10\n"
                "2024-03-05,left,2,0,11\n")
    with pytest.raises(SchemaError) as err:
        read_pain_diary(bad)
    text = str(err.value)
    assert "line 2, column sleep_quality_1_5: '0' is outside 1–5" in text
    assert "column soreness_0_10: '11' is outside 0–10" in text
