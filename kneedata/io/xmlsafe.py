"""Tolerant but safe XML parsing for GPX and TCX files.

Watch and app exports are often not quite well-formed XML: a UTF-8 byte-order mark,
blank lines or spaces before ``<?xml`` (Polar TCX), namespace prefixes that are used
but never declared (``gpxdata:`` in mapstogpx.com GPX files). :func:`parse_xml`
repairs exactly these, and salvages the part of a truncated file that was read
before the damage. What it never does is expand entities or load anything from
outside the file: parsing goes through defusedxml, a file that declares an entity
(in a ``<!DOCTYPE [...]>`` internal subset) is refused with
:class:`~kneedata.FileFormatError`, and an external DTD is never fetched, so
"billion laughs" and external-entity attacks cannot run. A plain ``<!DOCTYPE gpx>``
line is harmless and accepted.

Elements are matched by their *local* name (the part after the namespace), so the
readers work whatever prefix or namespace URI a writer picked (``gpxtpx:hr``,
``ns3:hr``, ``TPX`` in the default namespace ...).
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from kneedata.errors import FileFormatError

__all__ = ["LocalNameMap", "ParsedXML", "PointColumns", "PointSink", "child", "child_text", "children", "local_name", "number", "parse_xml",
           "root_local_name", "utf16_codec"]

#: expat error code for "unbound prefix" (xml.parsers.expat.errors.XML_ERROR_UNBOUND_PREFIX)
_UNBOUND_PREFIX = 27
_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_WHITESPACE = b" \t\r\n"
_PREFIX_USE_RE = re.compile(rb"</?([A-Za-z_][\w.\-]*):[A-Za-z_]")
_ATTR_PREFIX_RE = re.compile(rb"\s([A-Za-z_][\w.\-]*):[A-Za-z_][\w.\-]*\s*=")
_PREFIX_DECL_RE = re.compile(rb"xmlns:([A-Za-z_][\w.\-]*)\s*=")
_ROOT_TAG_RE = re.compile(rb"<([A-Za-z_][\w.\-]*(?::[A-Za-z_][\w.\-]*)?)")
_ENCODING_RE = re.compile(rb"""(<\?xml[^>]*?encoding\s*=\s*)(["'])[^"']*\2""")
#: Longest XML declaration looked at (a real one is under 100 bytes). Only the
#: declaration at the very start is ever searched: a search through the whole file
#: took quadratic time on a file of many ``<?xml`` without a ``>``.
_DECLARATION_MAX = 1024


@dataclass
class ParsedXML:
    """The result of :func:`parse_xml`.

    Attributes
    ----------
    root
        The document element (for a damaged file: everything parsed before the
        damage).
    complete
        False when the file was damaged (truncated, or not well-formed part-way
        through) and only its beginning was read.
    repairs
        What was fixed so that the file could be read at all (BOM, leading
        whitespace, undeclared prefixes), one message each. Nothing was lost.
    damage
        For an incomplete file: the parser's message and where it stopped.
    """

    root: ET.Element
    complete: bool = True
    repairs: list[str] = field(default_factory=list)
    damage: str | None = None

    def damage_notes(self, samples: str) -> list[str]:
        """The data-quality note for a damaged file (``[]`` when complete).

        ``samples`` names what was kept (``"points"``, ``"trackpoints"``).
        """
        if self.complete:
            return []
        return [f"file damaged: {self.damage}; the {samples} before the damage were kept (complete=False)"]


def local_name(tag: object) -> str:
    """The element name without its namespace: ``'{http://...}hr'`` -> ``'hr'``.

    Undeclared prefixes that :func:`parse_xml` bound to a placeholder namespace
    come out the same way; a tag that is not a string (comments, processing
    instructions) gives ``''``.
    """
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2]


class LocalNameMap(dict):
    """Full tag -> value of ``table[local name]`` (None when absent), memoised.

    Looking up ``mapping[el.tag]`` is one dictionary lookup once a tag has been seen,
    which keeps the per-trackpoint loops of the readers fast whatever namespace URI
    or prefix a writer used.

    Examples
    --------
    >>> m = LocalNameMap({"hr": "heart_rate_bpm"})
    >>> m["{http://www.garmin.com/xmlschemas/TrackPointExtension/v1}hr"]
    'heart_rate_bpm'
    >>> m["ele"] is None
    True
    """

    def __init__(self, table: dict[str, str], *, lower: bool = False) -> None:
        super().__init__()
        self._table = table
        self._lower = lower

    def __missing__(self, tag: object) -> str | None:
        name = local_name(tag)
        value = self._table.get(name.lower() if self._lower else name)
        self[tag] = value
        return value


def number(text: str | None) -> float:
    """``float(text)``; NaN when ``text`` is None, not a number or not finite.

    ``'inf'``, ``'-Infinity'`` and ``'1e309'`` (which overflows to infinity) are not
    measurements: they would turn every total they reach into infinity.
    """
    if text is None:
        return math.nan
    try:
        value = float(text)
    except ValueError:
        return math.nan
    return value if math.isfinite(value) else math.nan


def point_values(point: ET.Element, lookup: LocalNameMap) -> tuple[dict[str, float], str | None, int]:
    """The numbers one GPX/TCX track point holds, by column.

    Parameters
    ----------
    point
        A ``trkpt`` or ``Trackpoint`` element; all its descendants are read.
    lookup
        Tag -> column name (``"time"`` for the time element, None to ignore).

    Returns
    -------
    (values, time_text, n_bad)
        The first number found for each column, the first time text, and how many
        values were not numbers (e.g. ``'null'``).
    """
    values: dict[str, float] = {}
    time_text = None
    n_bad = 0
    for el in point.iter():
        column = lookup[el.tag]
        if column is None or el.text is None:
            continue
        if column == "time":
            if time_text is None:
                time_text = el.text.strip()
            continue
        if column in values:
            continue
        text = el.text.strip()
        if not text:
            continue
        value = number(text)
        if math.isnan(value):
            n_bad += 1
        else:
            values[column] = value
    return values, time_text, n_bad


def children(elem: ET.Element, name: str) -> list[ET.Element]:
    """Direct children of ``elem`` whose local name is ``name``."""
    return [c for c in elem if local_name(c.tag) == name]


def child(elem: ET.Element, name: str) -> ET.Element | None:
    """The first direct child of ``elem`` with local name ``name``, else None."""
    for c in elem:
        if local_name(c.tag) == name:
            return c
    return None


def child_text(elem: ET.Element, name: str) -> str | None:
    """Stripped text of the first direct child named ``name`` (None if absent/empty)."""
    c = child(elem, name)
    if c is None or c.text is None:
        return None
    text = c.text.strip()
    return text or None


def utf16_codec(data: bytes) -> str | None:
    """``"utf-16"`` (byte-order mark), ``"utf-16-le"``/``"utf-16-be"`` (none: the first
    characters are ASCII with a NUL byte after/before each), or None for other text."""
    if data[:2] in _UTF16_BOMS:
        return "utf-16"
    head = data[:8]
    if len(head) == 8 and not any(head[1::2]) and all(head[0::2]):
        return "utf-16-le"
    if len(head) == 8 and not any(head[0::2]) and all(head[1::2]):
        return "utf-16-be"
    return None


def _normalise_start(data: bytes, repairs: list[str]) -> bytes:
    """Strip a BOM and whitespace before the first ``<``; re-encode UTF-16 as UTF-8."""
    codec = utf16_codec(data)
    if codec is not None:
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            return data  # let the parser report it
        data = _declare_utf8(text.encode("utf-8"))
        repairs.append("UTF-16 text re-encoded as UTF-8" + ("" if codec == "utf-16" else " (no byte-order mark)"))
    if data.startswith(_UTF8_BOM):
        data = data[len(_UTF8_BOM):]
        repairs.append("UTF-8 byte-order mark removed")
    stripped = data.lstrip(_WHITESPACE)
    if len(stripped) != len(data):
        repairs.append(f"{len(data) - len(stripped)} whitespace characters before the XML declaration removed")
    return stripped


def _declaration(data: bytes) -> bytes:
    """The XML declaration that starts ``data`` (after whitespace), ``b''`` when there is none."""
    head = data[:_DECLARATION_MAX]
    start = len(head) - len(head.lstrip(_WHITESPACE))
    if not data.startswith(b"<?xml", start):
        return b""
    end = data.find(b"?>", start, start + _DECLARATION_MAX)
    return data[start:end + 2] if end >= 0 else b""


def _declare_utf8(data: bytes) -> bytes:
    """``data`` with the encoding named in its XML declaration (only there) set to UTF-8."""
    decl = _declaration(data)
    if not decl:
        return data
    fixed = _ENCODING_RE.sub(rb"\1\2UTF-8\2", decl, count=1)
    at = data.find(decl)
    return data[:at] + fixed + data[at + len(decl):]


def root_local_name(data: bytes) -> str | None:
    """Local name of the document element (``b'<ns:gpx ...'`` -> ``'gpx'``), prolog skipped.

    The XML declaration, comments and a DOCTYPE (with an internal subset) before
    the root are skipped; None when no element start is found in ``data``.
    """
    match = _root_tag(data)
    if match is None:
        return None
    return match.group(1).rpartition(b":")[2].decode("ascii", "replace")


def _root_tag_end(data: bytes) -> int | None:
    """Byte offset just after the root element's name, skipping the prolog."""
    match = _root_tag(data)
    return match.end() if match else None


def _root_tag(data: bytes) -> re.Match[bytes] | None:
    """The root element's ``<name`` (group 1: the qualified name), skipping the prolog."""
    pos = 0
    while True:
        start = data.find(b"<", pos)
        if start < 0:
            return None
        if data.startswith(b"<?", start):
            end = data.find(b"?>", start)
            if end < 0:
                return None
            pos = end + 2
        elif data.startswith(b"<!--", start):
            end = data.find(b"-->", start)
            if end < 0:
                return None
            pos = end + 3
        elif data.startswith(b"<!", start):
            # <!DOCTYPE name ... [internal subset]>
            close = data.find(b">", start)
            bracket = data.find(b"[", start, close) if close >= 0 else -1
            if bracket >= 0:
                end_subset = data.find(b"]", bracket)
                close = data.find(b">", end_subset) if end_subset >= 0 else -1
            if close < 0:
                return None
            pos = close + 1
        else:
            return _ROOT_TAG_RE.match(data, start)


def _bind_undeclared_prefixes(data: bytes, repairs: list[str]) -> bytes | None:
    """Declare every used-but-undeclared namespace prefix on the root element.

    Each prefix ``p`` is bound to the placeholder URI ``urn:kneedata:undeclared:p``;
    matching by local name then finds ``p:cadence`` like any other ``cadence``.
    Returns None when nothing could be bound.
    """
    used = {m.group(1) for m in _PREFIX_USE_RE.finditer(data)}
    used |= {m.group(1) for m in _ATTR_PREFIX_RE.finditer(data)}
    declared = {m.group(1) for m in _PREFIX_DECL_RE.finditer(data)}
    missing = sorted(used - declared - {b"xml", b"xmlns"})
    if not missing:
        return None
    at = _root_tag_end(data)
    if at is None:
        return None
    decl = b"".join(b' xmlns:%s="urn:kneedata:undeclared:%s"' % (p, p) for p in missing)
    names = ", ".join(p.decode("ascii", "replace") + ":" for p in missing)
    repairs.append(f"undeclared namespace prefix(es) {names} bound to placeholder namespaces")
    return data[:at] + decl + data[at:]


def _declared_encoding(data: bytes) -> str:
    """The ``encoding="..."`` of the XML declaration (``'?'`` when there is none), capped."""
    match = _ENCODING_RE.match(_declaration(data))
    if match is None:
        return "?"
    value = match.group(0)[len(match.group(1)) + 1:-1]
    return value[:60].decode("ascii", "replace")


#: What a reader takes from one point element: (values by column, time text, values not numbers).
PointReader = Callable[[ET.Element], tuple[dict[str, float], "str | None", int]]


@dataclass
class PointColumns:
    """The points of one parent element (a GPX ``trkseg``, a TCX ``Track``), by column.

    ``values[column]`` is an ``array('d')`` (NaN where a point has no value),
    ``times`` the time text of each point (None where absent) and ``n_bad`` how many
    values were not numbers.
    """

    values: dict[str, array]
    times: list[str | None] = field(default_factory=list)
    n_bad: int = 0

    def __len__(self) -> int:
        return len(self.times)


class PointSink:
    """Reads each point element as the parser closes it; the element then leaves the tree.

    A track point is a handful of elements (``trkpt``, ``ele``, ``time``,
    ``extensions`` ...) of about 1 kB in an element tree; its numbers are ~70 bytes.
    Given to :func:`parse_xml`, a sink keeps only the numbers, so the tree of a
    file of a million points holds its tracks and segments, not a million points
    (a 23 MB one-line GPX: peak memory 7.7x the file before, see docs/robustness.md).

    Parameters
    ----------
    name
        Local name of the point element (``"trkpt"``, ``"Trackpoint"``).
    read
        The reader's function from one point element to ``(values, time_text, n_bad)``
        (e.g. :func:`point_values` with the reader's lookup).
    columns
        The columns kept, in order; a column a point lacks is NaN.
    """

    def __init__(self, name: str, read: PointReader, columns: Sequence[str]) -> None:
        self.name = name
        self._read = read
        self._columns = tuple(columns)
        self._by_parent: dict[ET.Element, PointColumns] = {}

    def clear(self) -> None:
        """Forget every point read (the file is parsed again)."""
        self._by_parent = {}

    def take(self, point: ET.Element, parent: ET.Element) -> bool:
        """Read ``point`` if it is a point element (True: it may leave the tree)."""
        if local_name(point.tag) != self.name:
            return False
        got = self._by_parent.get(parent)
        if got is None:
            got = self._by_parent[parent] = PointColumns({c: array("d") for c in self._columns})
        values, time_text, n_bad = self._read(point)
        for column, out in got.values.items():
            out.append(values.get(column, math.nan))
        got.times.append(time_text)
        got.n_bad += n_bad
        return True

    def points(self, parent: ET.Element) -> PointColumns:
        """The points read inside ``parent``, in file order (none: empty columns)."""
        got = self._by_parent.get(parent)
        return got if got is not None else PointColumns({c: array("d") for c in self._columns})


class _PruningTarget:
    """An ElementTree builder that hands closed point elements to a :class:`PointSink`."""

    def __init__(self, sink: PointSink) -> None:
        self._builder = ET.TreeBuilder()
        self._sink = sink
        self._open: list[ET.Element] = []

    def start(self, tag: str, attrs: dict[str, str]) -> ET.Element:
        element = self._builder.start(tag, attrs)
        self._open.append(element)
        return element

    def end(self, tag: str) -> ET.Element:
        element = self._builder.end(tag)
        self._open.pop()
        if self._open and self._sink.take(element, self._open[-1]):
            self._open[-1].remove(element)
        return element

    def data(self, text: str) -> None:
        self._builder.data(text)

    def close(self) -> ET.Element | None:
        # a file that breaks off inside a point: what that point holds is kept, as
        # it is when the whole tree is built
        for depth in range(len(self._open) - 1, 0, -1):
            if self._sink.take(self._open[depth], self._open[depth - 1]):
                self._open[depth - 1].remove(self._open[depth])
        return self._builder.close()


def _parse(data: bytes, points: PointSink | None = None) -> tuple[ET.Element | None, ET.ParseError | None]:
    """Parse with defusedxml (entity declarations and external references forbidden).

    Returns the root (possibly partial) and the parse error, if any. With
    ``points``, point elements are read into it and left out of the tree.
    """
    builder: ET.TreeBuilder | _PruningTarget = ET.TreeBuilder()
    if points is not None:
        points.clear()
        builder = _PruningTarget(points)
    parser = DefusedXMLParser(target=builder, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    try:
        parser.feed(data)
        parser.close()
    except ET.ParseError as err:
        return builder.close(), err
    return builder.close(), None


def parse_xml(data: bytes, source_file: str, *, kind: str = "XML", points: PointSink | None = None) -> ParsedXML:
    """Parse a GPX/TCX document tolerantly, never expanding entities.

    Parameters
    ----------
    data
        The file's bytes (already decompressed).
    source_file
        Named in error messages.
    kind
        What the file should be (``"GPX"``, ``"TCX"``), for error messages.
    points
        Where point elements go (see :class:`PointSink`): read as the parser closes
        them and left out of the returned tree. None: the whole tree is built.

    Returns
    -------
    ParsedXML
        Root element, whether the whole file was read, and what was repaired.

    Raises
    ------
    FileFormatError
        Empty file; not XML; an entity declaration or external reference
        (refused, never expanded); or damage before the root element was reached.

    Notes
    -----
    Repairs, in order: a UTF-16 file is re-encoded as UTF-8; a UTF-8 byte-order
    mark and whitespace before the first ``<`` are removed (a strict parser rejects
    an XML declaration that is not at the very start); if the parser reports an
    unbound prefix, every prefix used but not declared is declared on the root
    element with a placeholder namespace and the file is parsed again. A file that
    breaks off part-way keeps everything parsed before the damage
    (``complete=False``).
    """
    if not data.strip(b" \t\r\n\x00" + _UTF8_BOM):
        what = "is empty (0 bytes)" if not data else f"holds only whitespace ({len(data)} bytes)"
        raise FileFormatError(
            f"{source_file}: the {kind} file {what}; the export or copy did not finish - "
            "export the activity again"
        )
    repairs: list[str] = []
    text = _normalise_start(data, repairs)
    try:
        root, err = _parse(text, points)
        if err is not None and err.code == _UNBOUND_PREFIX:
            fixed = _bind_undeclared_prefixes(text, repairs)
            if fixed is not None:
                root, err = _parse(fixed, points)
    except DefusedXmlException as refused:
        raise FileFormatError(
            f"{source_file}: the {kind} file declares XML entities or an "
            f"external reference ({type(refused).__name__}); kneedata never expands XML "
            "entities from files (they can exhaust memory or read local files). "
            "Export the activity again from the watch or app, or remove the <!DOCTYPE ...> block"
        ) from refused
    except (LookupError, ValueError) as bad_encoding:  # expat: unknown or non-text encoding name
        raise FileFormatError(
            f"{source_file}: the {kind} file declares the encoding {_declared_encoding(text)!r}, "
            "which is not a text encoding Python can read "
            f"({type(bad_encoding).__name__}: {bad_encoding}); re-export the file, or change the "
            "encoding in its first line to UTF-8 if the text is UTF-8"
        ) from bad_encoding
    if err is None and root is not None:
        return ParsedXML(root=root, complete=True, repairs=repairs)
    line, column = getattr(err, "position", (0, 0))
    if root is None or len(root) == 0:
        raise FileFormatError(
            f"{source_file}: not a readable {kind} file: the XML parser stopped at line "
            f"{line}, column {column} ({err}) before any content was read; check that the "
            f"file is a {kind} export and not damaged"
        ) from err
    return ParsedXML(
        root=root,
        complete=False,
        repairs=repairs,
        damage=f"the XML breaks off at line {line}, column {column} ({err})",
    )
