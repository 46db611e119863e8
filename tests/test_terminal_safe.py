"""Names from files are shown, never obeyed, by a terminal (kneedata.text.terminal_safe)."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pandas as pd
import pytest

from kneedata.cli import main, spreadsheet_safe
from kneedata.testing.fitwrite import write_activity_fit
from kneedata.text import TerminalSafeStream, terminal_safe

PAYLOADS = {
    "osc title": "\x1b]0;pwned\x07",
    "csi colour": "\x1b[31;1m",
    "c1 csi": "\x9b2J",
    "carriage return": "hidden\rshown",
    "backspace": "abc\x08\x08",
    "bidi override": "run\u202egpj.exe",
    "nul": "a\x00b",
    "del": "a\x7fb",
}
UNSAFE = set(map(chr, [*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0),
                       0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069]))


@pytest.mark.parametrize("payload", list(PAYLOADS.values()), ids=list(PAYLOADS))
def test_payloads_are_escaped_visibly_and_idempotently(payload):
    safe = terminal_safe(f"Morning {payload} run")
    assert not set(safe) & UNSAFE
    assert safe.startswith("Morning ") and safe.endswith(" run")
    assert "\\x" in safe or "\\u" in safe  # shown, not dropped
    assert terminal_safe(safe) == safe


def test_plain_text_tabs_and_newlines_are_untouched():
    text = "Lauf am Morgen\tÄ ü ß 東京 🏃\nzweite Zeile"
    assert terminal_safe(text) == text


def test_stream_keeps_only_what_it_is_told():
    buf = io.StringIO()
    stream = TerminalSafeStream(buf, keep="\r")
    stream.write("bar 50%\r\x1b[2Kbar 100%\n")
    assert buf.getvalue() == "bar 50%\r\\x1b[2Kbar 100%\n"


def _fit(start: pd.Timestamp) -> bytes:
    index = pd.date_range(start, periods=121, freq="1s", name="timestamp")
    dist = np.arange(121) * 3.0
    records = pd.DataFrame({"distance_m": dist, "speed_m_s": np.full(121, 3.0),
                            "latitude_deg": 52.0 + dist / 111_195.0, "longitude_deg": np.full(121, 4.0)},
                           index=index)
    return write_activity_fit(None, records, sport="running")


def test_cli_prints_hostile_strava_gear_and_member_names_escaped(tmp_path, capsys):
    osc, csi = PAYLOADS["osc title"], PAYLOADS["csi colour"]
    t0 = pd.Timestamp("2024-05-01 06:00", tz="UTC")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("activities/1.fit", _fit(t0))
        zf.writestr(f"activities/{osc}broken{csi}.fit", b"not a fit file at all")
        zf.writestr("activities.csv",
                    "Activity ID,Activity Date,Activity Name,Activity Type,Filename,Activity Gear\n"
                    f'1,"May 1, 2024, 6:00:00 AM","Run {osc}{csi}red",Run,activities/1.fit,"Shoe {csi}x"\n')
    export = tmp_path / f"export{osc}.zip"
    export.write_bytes(buffer.getvalue())
    store = tmp_path / "s"
    assert main(["import", str(export), "--store", str(store), "--workers", "1", "--no-progress"]) == 0
    assert main(["activities", "--store", str(store)]) == 0
    captured = capsys.readouterr()
    shown = captured.out + captured.err
    assert not set(shown) & UNSAFE - {"\r"}
    assert "\x1b" not in shown and "\x07" not in shown
    assert "\\x1b]0;pwned\\x07broken\\x1b[31;1m.fit" in shown  # the failed member, named
    assert "Run \\x1b]0;pwned" in shown and "Shoe \\x1b[31;1m" in shown  # name and gear


def test_full_width_formula_start_is_defused():
    frame = pd.DataFrame({"name": ["＝cmd|' /C calc'!A0", "＋1", "－1", "＠SUM(A1)", "run"]})
    assert spreadsheet_safe(frame)["name"].tolist() == [
        "'＝cmd|' /C calc'!A0", "'＋1", "'－1", "'＠SUM(A1)", "run"]
