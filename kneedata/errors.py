"""Exceptions and warnings shared by every part of kneedata.

Every error message says *what* was wrong, *where* (file, line or row, column or
field), *what was found*, and *how to fix it*.
"""

from __future__ import annotations


class KneedataError(Exception):
    """Base class of kneedata's own errors."""


class FileFormatError(KneedataError, ValueError):
    """A file holds no readable activity (0 bytes, not FIT/GPX/TCX, header only)."""


class SchemaError(KneedataError, ValueError):
    """A table (diary, shoes, routines, ...) holds values outside its schema.

    ``problems`` lists every bad cell found, one message each, so a user can fix
    them all at once.
    """

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems: list[str] = list(problems or [message])


class DataQualityWarning(UserWarning):
    """A recoverable problem: data were salvaged, assumed or left out, and counted."""


class ModelWarning(UserWarning):
    """A model caveat: a term dropped, separated, or a fit that did not converge.

    The same facts are typed flags on :class:`kneedata.ModelResult` (``separated``,
    ``dropped``, ``converged``) and the table's ``status`` column; never parse the
    message.
    """
