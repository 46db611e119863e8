"""Tolerant, entity-free XML parsing (kneedata.io.xmlsafe) on hand-built documents."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import pytest

from kneedata.errors import FileFormatError
from kneedata.io.xmlsafe import (
    LocalNameMap,
    PointSink,
    child,
    child_text,
    children,
    local_name,
    parse_xml,
    point_values,
)

DOC = b'<?xml version="1.0" encoding="UTF-8"?><gpx xmlns="http://www.topografix.com/GPX/1/1"><trk><name> A </name></trk></gpx>'


def test_plain_document_parses_without_repairs():
    parsed = parse_xml(DOC, "plain.gpx")
    assert local_name(parsed.root.tag) == "gpx"
    assert parsed.complete and parsed.repairs == [] and parsed.damage is None


def test_utf8_bom_is_removed():
    parsed = parse_xml(b"\xef\xbb\xbf" + DOC, "bom.gpx")
    assert local_name(parsed.root.tag) == "gpx"
    assert any("byte-order mark" in r for r in parsed.repairs)


def test_whitespace_before_xml_declaration_is_removed():
    data = b"          \r\n" + DOC  # Polar TCX: 10 spaces before <?xml
    with pytest.raises(ET.ParseError):
        ET.fromstring(data)  # a strict parser rejects it ...
    parsed = parse_xml(data, "polar.tcx")  # ... kneedata does not
    assert local_name(parsed.root.tag) == "gpx"
    assert any("12 whitespace" in r for r in parsed.repairs)


def test_bom_and_whitespace_together():
    parsed = parse_xml(b"\xef\xbb\xbf \n" + DOC, "both.gpx")
    assert local_name(parsed.root.tag) == "gpx" and len(parsed.repairs) == 2


def test_utf16_with_bom_is_read():
    text = DOC.decode().replace("UTF-8", "UTF-16")
    parsed = parse_xml(text.encode("utf-16"), "utf16.gpx")
    trk = child(parsed.root, "trk")
    assert trk is not None and child_text(trk, "name") == "A"


def test_undeclared_prefixes_are_bound_and_matched_by_local_name():
    # as in 6037744996.gpx: gpxdata: is used but never declared
    data = (b'<?xml version="1.0"?><gpx xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>'
            b'<trkpt lat="1" lon="2"><extensions><gpxdata:cadence>43</gpxdata:cadence>'
            b'<cadence>43</cadence><x:y x:attr="1"/></extensions></trkpt></trkseg></trk></gpx>')
    with pytest.raises(ET.ParseError, match="unbound prefix"):
        ET.fromstring(data)
    parsed = parse_xml(data, "mapstogpx.gpx")
    ext = next(e for e in parsed.root.iter() if local_name(e.tag) == "extensions")
    assert [local_name(c.tag) for c in ext] == ["cadence", "cadence", "y"]
    assert parsed.complete
    assert any("gpxdata:" in r and "x:" in r for r in parsed.repairs)


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<gpx><trk><name>&lol9;</name></trk></gpx>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE gpx [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<gpx><trk><name>&xxe;</name></trk></gpx>"""

PARAMETER_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE gpx [<!ENTITY % ext SYSTEM "file:///etc/passwd"> %ext;]>
<gpx><trk/></gpx>"""


@pytest.mark.parametrize("data", [BILLION_LAUGHS, EXTERNAL_ENTITY, PARAMETER_ENTITY,
                                  b"\xef\xbb\xbf  " + BILLION_LAUGHS],
                         ids=["billion_laughs", "external_entity", "parameter_entity", "bom_then_attack"])
def test_dtds_and_entities_are_refused_not_expanded(data):
    with pytest.raises(FileFormatError, match="attack.gpx.*never expands XML entities") as info:
        parse_xml(data, "attack.gpx", kind="GPX")
    assert "root:" not in str(info.value)  # nothing from /etc/passwd


def test_plain_doctype_is_accepted_and_its_dtd_never_fetched():
    # an external DTD that does not exist: fetching it would fail
    data = (b'<?xml version="1.0"?>\n<!DOCTYPE gpx SYSTEM "file:///nonexistent/gpx.dtd">\n'
            b"<gpx><trk><p:name>x</p:name></trk></gpx>")
    parsed = parse_xml(data, "doctype.gpx")
    trk = child(parsed.root, "trk")
    assert parsed.complete and trk is not None and child_text(trk, "name") == "x"  # prefix bound too


@pytest.mark.parametrize(
    ("data", "expected"),
    [(b"", "is empty \\(0 bytes\\)"), (b" \r\n\t", "only whitespace \\(4 bytes\\)"),
     (b"\xef\xbb\xbf", "only whitespace"), (b"\x0e\x10\xd9\x07.FIT\x00\x00", "not a readable GPX"),
     (b"<gpx><trk", "not a readable GPX")],
    ids=["empty", "whitespace", "bom_only", "binary", "cut_in_root"],
)
def test_unreadable_input_names_the_file(data, expected):
    with pytest.raises(FileFormatError, match=f"my_run.gpx: .*{expected}"):
        parse_xml(data, "my_run.gpx", kind="GPX")


def test_truncated_document_keeps_what_came_before():
    data = DOC.replace(b"</trk></gpx>", b"</trk><trk><name>B</name></trk><trk><na")
    parsed = parse_xml(data, "cut.gpx")
    assert not parsed.complete
    assert parsed.damage is not None and "breaks off at line 1" in parsed.damage
    names = [child_text(t, "name") for t in children(parsed.root, "trk")]
    assert names[:2] == ["A", "B"]  # both complete tracks survive


def test_local_name_and_child_helpers():
    root = ET.fromstring('<a xmlns="urn:x" xmlns:p="urn:p"><p:b>1</p:b><b> </b><!--c--><c>2</c></a>')
    assert local_name(root.tag) == "a"
    assert local_name("plain") == "plain"
    assert local_name(ET.Comment) == ""
    assert len(children(root, "b")) == 2
    assert child_text(root, "b") == "1"
    assert child_text(root, "missing") is None
    assert child(root, "c") is not None and child_text(root, "c") == "2"


def test_utf16_only_the_xml_declaration_is_rewritten():
    # the encoding is set to UTF-8 in the declaration; text in the document that looks
    # like a declaration is not touched (the old search through the whole file
    # rewrote it, and took quadratic time on many '<?xml' without a '>')
    body = '<desc><![CDATA[<?xml version="1.0" encoding="UTF-16"?> and <?xml <?xml]]></desc>'
    for decl in ('<?xml version="1.0" encoding="UTF-16"?>', '<?xml version="1.0"?>', ""):
        text = f'{decl}<gpx xmlns="http://www.topografix.com/GPX/1/1"><trk>{body}<name>A</name></trk></gpx>'
        for data in (text.encode("utf-16"), b"\xfe\xff" + text.encode("utf-16-be")):
            parsed = parse_xml(data, "utf16.gpx")
            trk = child(parsed.root, "trk")
            assert trk is not None and child_text(trk, "name") == "A"
            assert child_text(trk, "desc") == '<?xml version="1.0" encoding="UTF-16"?> and <?xml <?xml'
            assert parsed.complete and "UTF-16 text re-encoded as UTF-8" in parsed.repairs


def test_utf16_file_of_many_declarations_is_refused_not_searched():
    # 20,000 '<?xml ' and no '>': the old whole-file regex search took minutes here
    data = ("<?xml " * 20_000).encode("utf-16")
    with pytest.raises(FileFormatError, match="not a readable XML file"):
        parse_xml(data, "many.gpx")


def test_bogus_encoding_is_named_from_the_declaration_only():
    data = b'<?xml version="1.0" encoding="x-no-such"?><gpx/>'
    with pytest.raises(FileFormatError, match="x-no-such"):
        parse_xml(data, "bogus.gpx")


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_byte_order_mark_is_read(encoding):
    # found by the second fuzz campaign: refused as 'not a FIT, GPX or TCX file'
    from kneedata.io.read import sniff_format

    text = DOC.decode().replace("UTF-8", "UTF-16")
    data = text.encode(encoding)
    assert sniff_format(data) == "gpx"
    parsed = parse_xml(data, "nobom.gpx")
    trk = child(parsed.root, "trk")
    assert trk is not None and child_text(trk, "name") == "A"
    assert any("no byte-order mark" in r for r in parsed.repairs)


def _points_doc(n: int) -> str:
    pts = "".join(f'<trkpt lat="51.{i:04d}" lon="-0.1"><ele>{i}</ele><time>2024-05-01T06:{i // 60:02d}:'
                  f'{i % 60:02d}Z</time><extensions><hr>{100 + i}</hr></extensions></trkpt>'
                  for i in range(n))
    return (f'<?xml version="1.0"?><gpx version="1.1" creator="t"><trk><type>running</type>'
            f"<trkseg>{pts}</trkseg><trkseg>{pts}</trkseg></trk></gpx>")


def _sink() -> PointSink:
    lookup = LocalNameMap({"ele": "altitude_m", "hr": "heart_rate_bpm", "time": "time"})
    return PointSink("trkpt", lambda pt: point_values(pt, lookup), ("altitude_m", "heart_rate_bpm"))


def test_a_point_sink_keeps_the_numbers_and_drops_the_point_elements():
    sink = _sink()
    parsed = parse_xml(_points_doc(5).encode(), "p.gpx", points=sink)
    segments = children(child(parsed.root, "trk"), "trkseg")
    assert [len(list(seg)) for seg in segments] == [0, 0]  # no point element left in the tree
    for seg in segments:
        got = sink.points(seg)
        assert list(got.values["altitude_m"]) == [0, 1, 2, 3, 4]
        assert list(got.values["heart_rate_bpm"]) == [100, 101, 102, 103, 104]
        assert got.times[-1] == "2024-05-01T06:00:04Z"


def test_a_point_sink_keeps_the_point_a_damaged_file_breaks_off_in():
    doc = _points_doc(4)
    cut = doc[: doc.index("<extensions>", doc.index("06:00:03Z"))]  # inside the 4th point, after its time
    whole_tree = parse_xml(cut.encode(), "cut.gpx")
    sink = _sink()
    parsed = parse_xml(cut.encode(), "cut.gpx", points=sink)
    assert not parsed.complete and not whole_tree.complete
    seg = child(child(parsed.root, "trk"), "trkseg")
    got = sink.points(seg)
    # the same points as the whole tree holds, the broken-off one (time, no heart rate) included
    assert len(got) == len(children(child(child(whole_tree.root, "trk"), "trkseg"), "trkpt")) == 4
    assert got.times[-1] == "2024-05-01T06:00:03Z" and math.isnan(got.values["heart_rate_bpm"][-1])
