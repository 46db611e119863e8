"""The one entry point for watch files: sniff, decompress and hash once, then dispatch.

:func:`read_activities` reads ``.fit``, ``.gpx`` and ``.tcx`` files (each optionally
gzip-compressed), sniffing the content rather than trusting the extension, and returns
one :class:`~kneedata.io.activity.Activity` per session. The content is decompressed
once (:func:`gunzip_file`, also used by the store's import), sniffed once and hashed
once here; the format readers below (:mod:`kneedata.io.fit`, :mod:`kneedata.io.gpx`,
:mod:`kneedata.io.tcx`) get the plain bytes and the hash. Imports run one way:
``read -> fit/gpx/tcx -> activity``.
"""

from __future__ import annotations

import hashlib
import zlib
from pathlib import Path

from kneedata.errors import FileFormatError
from kneedata.io.activity import Activity
from kneedata.io.exports import LimitExceeded, ZipLimits, gunzip_limited
from kneedata.io.fit import read_fit
from kneedata.io.gpx import read_gpx
from kneedata.io.tcx import read_tcx
from kneedata.io.xmlsafe import root_local_name, utf16_codec

__all__ = ["READER_VERSION", "file_hash", "gunzip_file", "read_activities", "read_activities_bytes",
           "sniff_format"]

#: Version of what the readers make of a file's bytes. The store's files index records
#: it per file, and an import reads a file again (though unchanged) when it was read by
#: another version, so a store never keeps rows an older reader made. Raise it with
#: every change that alters the activities, records or notes read from the same bytes
#: (a release date and a letter).
READER_VERSION = "2026-12-07a"


def file_hash(data: bytes) -> str:
    """First 16 hex digits of the SHA-256 of the (decompressed) file bytes."""
    return hashlib.sha256(data).hexdigest()[:16]


#: Bytes of a UTF-16 file decoded to find its root element (the prolog of any real
#: file is far shorter).
_SNIFF_UTF16_BYTES = 2**20


def sniff_format(data: bytes) -> str | None:
    """``"fit"``, ``"gpx"``, ``"tcx"`` or ``None`` from the content (not the name).

    FIT: header size 12 or 14 and ``.FIT`` at byte 8. XML: the first element's
    local name is ``gpx`` or ``TrainingCenterDatabase`` (a BOM, leading whitespace,
    the XML declaration, comments and a DOCTYPE are skipped).
    """
    if len(data) >= 12 and data[8:12] == b".FIT":
        return "fit"
    # the whole prolog is scanned: a comment before the root can be long
    head = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    codec = utf16_codec(head)
    if codec is not None:  # with or without a byte-order mark
        head = head[:_SNIFF_UTF16_BYTES].decode(codec, "ignore").encode("utf-8")
    name = (root_local_name(head) or "").lower()
    return {"gpx": "gpx", "trainingcenterdatabase": "tcx"}.get(name)


def gunzip_file(data: bytes, source_file: str, *, limits: ZipLimits | None = None) -> bytes:
    """Decompress a gzip-compressed watch file, streaming, capped at ``limits.max_member_bytes``.

    The one decompression of ``.gz`` files, used by :func:`read_activities` and by
    the store's import. A truncated stream yields what it held before the damage
    (the reader then marks the activity incomplete).

    Raises
    ------
    FileFormatError
        When the output would exceed the limit (a gzip bomb: refused after reading
        at most the limit, never the whole stream) or nothing can be decompressed.
    """
    limit = (limits or ZipLimits()).max_member_bytes
    try:
        return gunzip_limited(data, limit=limit, what="the gzip stream")
    except LimitExceeded as err:
        raise FileFormatError(f"{source_file}: {err}") from err
    except (OSError, EOFError, ValueError, zlib.error) as err:
        raise FileFormatError(
            f"{source_file}: gzip-compressed but cannot be decompressed ({err}); "
            "re-download or re-export the file"
        ) from err


def read_activities(path: str | Path, *, engine: str | None = None,
                    limits: ZipLimits | None = None) -> list[Activity]:
    """Read a watch file (``.fit``, ``.gpx``, ``.tcx``, each optionally ``.gz``).

    Parameters
    ----------
    path
        The file. Its content decides the format, not its name.
    engine
        FIT decoder: ``None`` or ``"fitdecode"`` (default), ``"fitparse"``, or
        ``"garmin_fit_sdk"`` when that package is installed; or the GPX engine
        ``"gpxpy"`` (:func:`kneedata.io.gpx.read_gpx`; FIT files then use the
        default decoder). A FIT engine is ignored for GPX/TCX.
    limits
        Safety limits; a ``.gz`` file may decompress to at most
        ``limits.max_member_bytes`` (default :class:`kneedata.io.exports.ZipLimits`:
        512 MiB).

    Returns
    -------
    list of Activity
        One per session; a multisport file gives one per leg.

    Raises
    ------
    FileFormatError
        For a file with no readable activity: 0 bytes, not FIT/GPX/TCX, a header
        with no data, a ``.gz`` over the limit.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except IsADirectoryError as err:
        raise FileFormatError(f"{path}: is a folder, not an activity file; pass the files inside it") from err
    return read_activities_bytes(data, str(path), engine=engine, limits=limits)


def read_activities_bytes(data: bytes, source_file: str, *, engine: str | None = None,
                          limits: ZipLimits | None = None, sha256: str | None = None) -> list[Activity]:
    """Read a watch file held in memory (e.g. a zip member); see :func:`read_activities`.

    ``source_file`` names the file in messages and in ``summary['source_file']``.
    ``sha256``: the hex SHA-256 of ``data`` when the caller already has it (the
    store's files index), so that plain bytes are hashed once; ignored for gzip data,
    whose id is the hash of the decompressed bytes.
    """
    if len(data) == 0:
        raise FileFormatError(
            f"{source_file}: the file is empty (0 bytes); the export or copy did not "
            "finish - export the activity again"
        )
    if data[:2] == b"\x1f\x8b":
        sha256 = None  # the id hashes the decompressed bytes
        data = gunzip_file(data, source_file, limits=limits)
        if len(data) == 0:
            raise FileFormatError(
                f"{source_file}: the gzip archive holds an empty file (0 bytes); export the activity again"
            )
    kind = sniff_format(data)
    digest = sha256[:16] if sha256 else file_hash(data)
    if kind == "fit":
        return read_fit(data, source_file, digest, engine=None if engine == "gpxpy" else engine)
    if kind == "gpx":
        return read_gpx(data, source_file, digest, engine="gpxpy" if engine == "gpxpy" else None)
    if kind == "tcx":
        return read_tcx(data, source_file, digest)
    start = data[:16]
    raise FileFormatError(
        f"{source_file}: not a FIT, GPX or TCX file (content starts with {start!r}); "
        "pass a .fit, .gpx or .tcx file (optionally .gz) as exported by the watch or app"
    )

