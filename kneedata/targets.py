"""What an experiment changes and how its target is written (shared by the plan and the reader).

Kept apart from :mod:`kneedata.experiment` so that the schedule reader in
:mod:`kneedata.io.diary` can check a target without importing the analysis.
"""

from __future__ import annotations

import math
import re
from typing import Any

__all__ = ["CHANGES", "DEFAULT_TARGETS", "check_change", "parse_target"]

#: What B means for each kind of change, and the adherence measure of a block.
CHANGES: dict[str, tuple[str, str]] = {
    "cadence": ("cadence raised by the target % over your usual cadence at the same "
                "speed", "cadence_deviation_pct"),
    "strength": ("strength sessions per week at the target", "strength_sessions_per_week"),
    "shoes": ("running in the target shoe (a shoe_id from your shoes table)",
              "target_shoe_km_pct"),
    "other": ("a change you describe; log adherence by hand (adherence_pct)",
              "adherence_pct"),
}
#: Default targets when none is given (cadence: +5 %, strength: 2 sessions/week).
DEFAULT_TARGETS: dict[str, float] = {"cadence": 5.0, "strength": 2.0}


def parse_target(change: str, target: Any) -> tuple[float | str | None, str]:
    """Read a target as typed (``"+7%"``, ``"3/week"``, ``"S4"``) for a change.

    Parameters
    ----------
    change
        One of :data:`CHANGES`.
    target
        cadence: percent over the usual cadence (``7``, ``"+7%"``); strength:
        sessions per week (``3``, ``"3/week"``); shoes: a ``shoe_id``; other: free
        text. ``None``: the default (cadence +5 %, strength 2/week; shoes needs one).

    Returns
    -------
    (value, text)
        The number (or shoe id / text) and how the plan prints it.

    Examples
    --------
    >>> parse_target("cadence", "+7%")
    (7.0, '+7% cadence')
    >>> parse_target("strength", "3/week")
    (3.0, '3 strength sessions/week')
    """
    check_change(change)
    if change in DEFAULT_TARGETS:
        if target is None or (isinstance(target, float) and math.isnan(target)):
            target = DEFAULT_TARGETS[change]
        text = str(target).strip().lower().replace(" ", "")
        match = re.fullmatch(r"([+-]?\d+(?:\.\d+)?)(%|/w|/week|perweek|/wk)?", text)
        if match is None:
            example = "+7%" if change == "cadence" else "3/week"
            raise ValueError(f"target {target!r} cannot be read for a {change} experiment "
                             f"(write a number such as {example}).")
        value = float(match.group(1))
        if change == "cadence":
            if not 0 < abs(value) <= 20:
                raise ValueError(f"target {target!r}: a cadence change of {value:g} % is "
                                 "outside 0-20 %; runners are usually advised +5 to +10 %.")
            return value, f"{value:+g}% cadence"
        if not 0 < value <= 14:
            raise ValueError(f"target {target!r}: {value:g} strength sessions per week "
                             "is outside 1-14.")
        return value, f"{value:g} strength sessions/week"
    if target is None or not str(target).strip():
        if change == "shoes":
            raise ValueError("a shoes experiment needs target=<shoe_id> (the shoe worn in "
                             "the B blocks, as in your shoes table).")
        return None, "the change you describe"
    text = str(target).strip()
    return text, f"shoe {text}" if change == "shoes" else text


def check_change(change: str) -> None:
    if change not in CHANGES:
        raise ValueError(f"change={change!r} is not one of {', '.join(CHANGES)}.")
