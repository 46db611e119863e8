"""Numbers written for a person: 2-3 significant figures, never 1e+42.

Used by the report, :meth:`kneedata.ModelResult.summary_text` and the notebooks.

>>> format_ratio(26185.3), format_ratio(0.00001), format_ratio(2.345), format_ratio(13.6)
('> 1000', '< 0.001', '2.3', '14')
>>> format_p(6.4e-239), format_p(0.0312), format_p(0.5)
('< 0.001', '0.031', '0.50')
>>> format_number(1234.5), format_number(1234567.0), format_number(0.01234)
('1,230', '1.23 million', '0.0123')
"""

from __future__ import annotations

import math

__all__ = ["format_number", "format_p", "format_ratio"]

#: Ratios beyond these are written as "> 1000" / "< 0.001".
RATIO_CEILING = 1000.0
RATIO_FLOOR = 0.001


def _as_float(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan


def format_number(value: object, digits: int = 3) -> str:
    """``value`` to ``digits`` significant figures, thousands separated, no exponent."""
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


def format_ratio(value: object) -> str:
    """A ratio (odds, hazard, rate) as a runner reads it: 2 significant figures.

    Beyond 1000 or below 0.001: "> 1000", "< 0.001" (infinity and 0 included);
    NaN: "n/a".
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
    """A p-value to 2 significant figures; "< 0.001" below 0.001; NaN: "n/a"."""
    x = _as_float(value)
    if math.isnan(x):
        return "n/a"
    if x < 0.001:
        return "< 0.001"
    return format_number(min(x, 1.0), 2)
