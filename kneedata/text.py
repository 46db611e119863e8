"""Text written for a person: numbers to 2-3 significant figures, never 1e+42; names safe to print.

Used by the report, :meth:`kneedata.ModelResult.summary_text` and the notebooks;
:func:`terminal_safe` and :class:`TerminalSafeStream` by the command line.

>>> format_ratio(26185.3), format_ratio(0.00001), format_ratio(2.345), format_ratio(13.6)
('> 1000', '< 0.001', '2.3', '14')
>>> format_p(6.4e-239), format_p(0.0312), format_p(0.5)
('< 0.001', '0.031', '0.50')
>>> format_number(1234.5), format_number(1234567.0), format_number(0.01234)
('1,230', '1.23 million', '0.0123')
"""

from __future__ import annotations

import io
import math
import re
from typing import Any

__all__ = ["TerminalSafeStream", "count", "format_number", "format_p", "format_ratio",
           "terminal_safe"]

#: Characters a terminal acts on: C0 controls but tab and newline, DEL, C1 controls
#: (0x9b is a one-byte CSI, 0x9d OSC), and the Unicode bidirectional overrides and
#: isolates that reorder what is shown ("Trojan source").
_UNSAFE_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal_safe(text: object, *, keep: str = "") -> str:
    r"""``text`` with every character a terminal would act on shown as an escape.

    A Strava activity name, a gear name, a zip member name or a path can hold an
    ANSI/OSC escape sequence (``ESC ] 0 ; title BEL`` sets the window title,
    ``ESC [ 31 m`` recolours the terminal) or a carriage return that overwrites
    the line shown. Control characters other than tab and newline (and those in
    ``keep``), DEL, the C1 controls and Unicode bidirectional overrides are
    written as ``\x1b``-style escapes, so the text is shown, not obeyed, and
    nothing the user gave is silently lost. Idempotent.

    Examples
    --------
    >>> terminal_safe("Morning run\x1b]0;pwned\x07\x1b[31m")
    'Morning run\\x1b]0;pwned\\x07\\x1b[31m'
    >>> terminal_safe("a\tb\nc") == "a\tb\nc"
    True
    """
    value = str(text)
    if not _UNSAFE_RE.search(value):
        return value
    if keep:
        return "".join(ch if ch in keep else _UNSAFE_RE.sub(_escape, ch) for ch in value)
    return _UNSAFE_RE.sub(_escape, value)


class TerminalSafeStream(io.TextIOBase):
    r"""A text stream that writes :func:`terminal_safe` text to ``stream``.

    The command line puts its stdout and stderr behind one while it runs, so that
    every name it prints (tables, reports, error messages, warnings) is safe.
    ``keep``: control characters let through (``"\r"`` for the progress bar on
    stderr). Everything else (``isatty``, ``fileno``, ``encoding``) is the
    wrapped stream's.
    """

    def __init__(self, stream: Any, *, keep: str = "") -> None:
        super().__init__()
        self._stream = stream
        self._keep = keep

    def write(self, text: str) -> int:
        self._stream.write(terminal_safe(text, keep=self._keep))
        return len(text)

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return bool(self._stream.isatty())

    def fileno(self) -> int:
        return int(self._stream.fileno())

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return str(getattr(self._stream, "encoding", "utf-8"))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)

#: Ratios beyond these are written as "> 1000" / "< 0.001".
RATIO_CEILING = 1000.0
RATIO_FLOOR = 0.001


def _as_float(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan


def format_number(value: object, digits: int = 3) -> str:
    """``value`` to ``digits`` significant figures, thousands separated, no exponent.

    Parameters
    ----------
    value
        A number (anything ``float()`` reads); NaN and None give "n/a".
    digits
        Significant figures (the house writes 2-3 for a person).

    Returns
    -------
    str
        The number in words a person reads: "1,230", "25.0 million", "infinity".

    Examples
    --------
    >>> format_number(1234.5678), format_number(0.012345), format_number(2.5e7)
    ('1,230', '0.0123', '25.0 million')
    """
    x = _as_float(value)
    if math.isnan(x):
        return "n/a"
    if math.isinf(x):
        return "infinity" if x > 0 else "minus infinity"
    if x == 0:
        return "0"
    for size, word in ((1e12, None), (1e9, "billion"), (1e6, "million")):
        if abs(x) >= size:
            if word is None:
                return "> 1000 billion" if x > 0 else "< -1000 billion"
            return f"{format_number(x / size, digits)} {word}"
    exponent = math.floor(math.log10(abs(x)))
    decimals = max(0, digits - 1 - exponent)
    return f"{round(x, digits - 1 - exponent):,.{decimals}f}"


#: Plurals that are not the noun with an s.
_PLURALS = {"entry": "entries", "day analysed": "days analysed", "day at risk": "days at risk",
            "day of diary": "days of diary"}


def count(n: object, noun: str) -> str:
    """A count as every section of the report words it: "1 episode", "1,204 days analysed".

    ``noun`` is singular ("episode", "pain episode", "run", "scored run", "day analysed",
    "entry"); the number is whole and thousands-separated. Unknown (NaN, None): "an
    unknown number of" episodes.

    >>> count(1, "episode"), count(12, "pain episode"), count(1204, "day analysed")
    ('1 episode', '12 pain episodes', '1,204 days analysed')
    >>> count(0, "scored run"), count(float("nan"), "run")
    ('0 scored runs', 'an unknown number of runs')
    """
    x = _as_float(n)
    words = noun.split(" ")
    plural = _PLURALS.get(noun) or " ".join([*words[:-1], _PLURALS.get(words[-1], words[-1] + "s")])
    if math.isnan(x):
        return f"an unknown number of {plural}"
    k = int(round(x))
    return f"{k:,} {noun if k == 1 else plural}"


def format_ratio(value: object) -> str:
    """A ratio (odds, hazard, rate) as a runner reads it: 2 significant figures.

    Parameters
    ----------
    value
        The ratio (dimensionless).

    Returns
    -------
    str
        Beyond 1000 or below 0.001: "> 1000", "< 0.001" (infinity and 0 included);
        NaN: "n/a".

    Examples
    --------
    >>> format_ratio(110.4), format_ratio(0.8), format_ratio(float("inf"))
    ('110', '0.80', '> 1000')
    """
    x = _as_float(value)
    if math.isnan(x):
        return "n/a"
    if x > RATIO_CEILING:
        return f"> {RATIO_CEILING:.0f}"
    if x < RATIO_FLOOR:
        return f"< {RATIO_FLOOR:g}"
    return format_number(x, 2)


def format_p(value: object) -> str:
    """A p-value to 2 significant figures; "< 0.001" below 0.001; NaN: "n/a".

    Parameters
    ----------
    value
        The p-value (0-1; above 1 is shown as 1).

    Returns
    -------
    str

    Examples
    --------
    >>> format_p(0.0312), format_p(0.0004)
    ('0.031', '< 0.001')
    """
    x = _as_float(value)
    if math.isnan(x):
        return "n/a"
    if x < 0.001:
        return "< 0.001"
    return format_number(min(x, 1.0), 2)
