"""The glossary: every table documented, labels carry units, docs/GLOSSARY.md in step."""

from __future__ import annotations

from pathlib import Path

from kneedata import schema

REPO = Path(__file__).resolve().parents[1]


def test_every_column_has_a_description_and_a_dtype():
    for table_name, table in schema.TABLES.items():
        for name, col in table.items():
            assert col.description.strip(), f"{table_name}.{name} has no description"
            assert col.dtype, f"{table_name}.{name} has no dtype"
            if col.low is not None and col.high is not None:
                assert col.low <= col.high, f"{table_name}.{name} range is reversed"


def test_label_carries_the_unit_from_the_glossary():
    # cadence_spm is steps/min in the records table (docs/design.md section 2)
    assert schema.label("cadence_spm") == "cadence (steps/min)"
    assert schema.label("distance_m") == "distance (m)"
    assert schema.label("no_such_column") == "no such column"


def test_glossary_file_is_generated_from_schema():
    text = (REPO / "docs" / "GLOSSARY.md").read_text(encoding="utf-8")
    assert text == schema.glossary_markdown(), (
        "docs/GLOSSARY.md is out of date: run "
        "`.venv/bin/python -m kneedata.schema > docs/GLOSSARY.md`"
    )
