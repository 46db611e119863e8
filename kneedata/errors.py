"""Exceptions and warnings shared by every part of kneedata.

Every error message says *what* was wrong, *where* (file, line or row, column or
field), *what was found*, and *how to fix it*. Every error kneedata raises on
purpose is a :class:`KneedataError` (catch that one to catch them all); each is
importable from ``kneedata`` itself.

Examples
--------
>>> import kneedata as kd
>>> issubclass(kd.ModelFitError, kd.KneedataError) and issubclass(kd.ReportError, ValueError)
True
"""

from __future__ import annotations

import os
import sys
import types
import warnings

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


class KneedataError(Exception):
    """Base class of kneedata's own errors."""


class FileFormatError(KneedataError, ValueError):
    """A file holds no readable activity (0 bytes, not FIT/GPX/TCX, header only)."""


class NotAnActivityError(FileFormatError):
    """A readable file that is not an activity (a FIT monitoring, settings or course file)."""


class SchemaError(KneedataError, ValueError):
    """A table (diary, shoes, routines, ...) holds values outside its schema.

    ``problems`` lists every bad cell found, one message each, so a user can fix
    them all at once.
    """

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems: list[str] = list(problems or [message])


class ModelFitError(KneedataError, RuntimeError):
    """A model could not be fitted at all (after dropping what could be dropped).

    ``status`` says why, in the words of :data:`kneedata.models.STATUSES`:
    ``"too_few_episodes"`` (no episode to model) or ``"no_variation"`` (episodes,
    but no exposure ever differed on the days compared).
    """

    def __init__(self, message: str, *, status: str = "too_few_episodes") -> None:
        super().__init__(message)
        self.status = status


class ReportError(KneedataError, ValueError):
    """The report cannot be written from what was given (e.g. an empty store)."""


class DataQualityWarning(UserWarning):
    """A recoverable problem: data were salvaged, assumed or left out, and counted."""


class ModelWarning(UserWarning):
    """A model caveat: a term dropped, separated, or a fit that did not converge.

    The same facts are typed flags on :class:`kneedata.ModelResult` (``separated``,
    ``dropped``, ``converged``) and the table's ``status`` column; never parse the
    message.
    """


def caller_stacklevel() -> int:
    """``stacklevel`` that attributes a warning to the first caller outside kneedata.

    Call it as the ``stacklevel`` argument of :func:`warnings.warn` from inside the
    package: the warning then points at the user's line (a notebook cell, a
    script), never at a library line, however deep the call that warns.
    """
    frame: types.FrameType | None = sys._getframe(1)  # the function calling warnings.warn
    level = 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE_DIR):
        frame = frame.f_back
        level += 1
    return level


_SHOWN: set[str] = set()


def _always_shown(category: type[Warning]) -> bool:
    """Whether the filter that applies to ``category`` says ``"always"``."""
    for action, message, cls, module, lineno in warnings.filters:
        if message is None and module is None and not lineno and issubclass(category, cls):
            return action == "always"
    return False


def warn_once(message: str, category: type[Warning] = DataQualityWarning) -> None:
    """Warn once per session per message, at the caller's line outside kneedata.

    A notebook that fits several models on the same frame sees each note once, not
    on every call, pointing at its own cell; the notes stay in the results
    (``ModelResult.warnings``). Under an ``"always"`` filter
    (``warnings.simplefilter("always")``, ``pytest.warns``) every call warns.
    """
    if message in _SHOWN and not _always_shown(category):
        return
    _SHOWN.add(message)
    warnings.warn(message, category, stacklevel=caller_stacklevel())
