"""Which shoe each run was done in.

:func:`assign_shoes` gives every foot run a ``shoe_id`` from, in this order:

1. ``gear``: the activity's own gear name (Strava ``Activity Gear``; the store's
   ``gear`` column) matched, ignoring case and spacing, to a shoe's ``shoe_id``,
   then ``name``, then ``brand model``, then ``model``;
2. ``period``: a date-range table (``shoe_id, start, end``) covering the run's
   local day, when exactly one shoe in use that day has a period covering it;
3. ``rule``: assignment rules (``default_for`` in the shoes table, e.g.
   ``sub_sport=trail``), the most specific matching rule among the shoes in use
   that day (and, if several periods covered the day, among those shoes only);
4. ``only_shoe_in_use``: exactly one listed shoe is in use on the run's local day
   (from its ``first_used`` to its ``retired`` date): the way most runners keep a
   shoe list, one pair at a time;
5. otherwise ``unassigned``, counted in a :class:`~kneedata.errors.DataQualityWarning`.
   A run is never guessed: ties between shoes (several in use that day and nothing
   to decide between them) leave it unassigned and are reported.
"""

from __future__ import annotations

import difflib
import re
import warnings
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from kneedata._dates import local_days
from kneedata.errors import DataQualityWarning, SchemaError
from kneedata.runs import RUN_KINDS, run_mask

__all__ = ["Rule", "assign_shoes", "parse_rule"]

_FIELDS = {"sport": 1, "sub_sport": 2, "distance_km": 2}   # field -> specificity weight
_ANY = {"default", "all", "any", "*", "always"}
_RUN_WORDS = {"running", "run", "runs"}
_COND = re.compile(r"^\s*([a-z_]+)\s*(==|=|!=|<=|>=|<|>)\s*(.+?)\s*$")
_RULE_HELP = ("write conditions like sport=running, sub_sport=trail or "
              "distance_km>=25, joined by '&'")


@dataclass(frozen=True)
class Rule:
    """A parsed assignment rule: all conditions must hold.

    Attributes
    ----------
    text
        The rule as written.
    conditions
        ``(field, operator, value)``; field is ``sport``, ``sub_sport`` (compared
        as lower-case text with ``=`` / ``!=``) or ``distance_km`` (compared as a
        number with ``< <= = >= >``) [km].
    specificity
        Sum of weights (sport 1, sub_sport 2, distance_km 2); a catch-all rule is 0.
        Among matching rules the highest specificity wins.
    """

    text: str
    conditions: tuple[tuple[str, str, str | float], ...]
    specificity: int

    def matches(self, sport: str, sub_sport: str, distance_km: float) -> bool:
        """Whether a run with these properties satisfies every condition."""
        for name, op, value in self.conditions:
            if isinstance(value, float):
                if np.isnan(distance_km):
                    return False
                ok = {"<": distance_km < value, "<=": distance_km <= value,
                      ">": distance_km > value, ">=": distance_km >= value,
                      "=": distance_km == value}[op]
            else:
                actual = sport if name == "sport" else sub_sport
                ok = (actual == value) if op == "=" else (actual != value)
            if not ok:
                return False
        return True


def parse_rule(text: str) -> Rule:
    """Parse an assignment rule such as ``"sub_sport=trail"``.

    Parameters
    ----------
    text
        Conditions joined by ``&``, ``;`` or ``and``: ``field=value``,
        ``field!=value`` (``sport``, ``sub_sport``) or ``distance_km<op>number``
        (``<``, ``<=``, ``>``, ``>=``, ``=``) [km]. Shorthands: ``default``/``all``/
        ``*`` (every run), ``running`` (``sport=running``), any other single word
        ``w`` (``sub_sport=w``, e.g. ``trail``, ``treadmill``).

    Returns
    -------
    Rule

    Raises
    ------
    ValueError
        The message says which part could not be read and how to write it.

    Examples
    --------
    >>> parse_rule("sub_sport=trail").specificity
    2
    >>> parse_rule("running & distance_km >= 25").conditions
    (('sport', '=', 'running'), ('distance_km', '>=', 25.0))
    """
    source = str(text).strip()
    parts = [p.strip() for p in re.split(r"&|;|\band\b", source.lower()) if p.strip()]
    if not parts:
        raise ValueError(f"'{source}' is an empty rule ({_RULE_HELP})")
    conditions: list[tuple[str, str, str | float]] = []
    for part in parts:
        word = re.sub(r"[\s-]+", "_", part)
        if word in _ANY:
            continue
        if word in _RUN_WORDS:
            conditions.append(("sport", "=", "running"))
            continue
        m = _COND.match(part)
        if m is None:
            if re.fullmatch(r"[a-z_]+", word):
                conditions.append(("sub_sport", "=", word))
                continue
            raise ValueError(f"'{part}' in rule '{source}' cannot be read ({_RULE_HELP})")
        name, op, value = m[1], "=" if m[2] == "==" else m[2], m[3]
        if name not in _FIELDS:
            close = difflib.get_close_matches(name, list(_FIELDS), n=1, cutoff=0.6)
            hint = f"did you mean {close[0]}? " if close else ""
            raise ValueError(f"'{name}' in rule '{source}' is not a field a rule can "
                             f"use ({hint}use {', '.join(_FIELDS)})")
        if name == "distance_km":
            try:
                number = float(value.replace(",", "."))
            except ValueError:
                raise ValueError(f"'{value}' in rule '{source}' is not a number of "
                                 "km (e.g. distance_km>=25)") from None
            if op == "!=":
                raise ValueError(f"'{part}' in rule '{source}': distance_km takes "
                                 "<, <=, =, >= or >")
            conditions.append((name, op, number))
        else:
            if op not in ("=", "!="):
                raise ValueError(f"'{part}' in rule '{source}': {name} takes = or != "
                                 f"(e.g. {name}=trail)")
            conditions.append((name, op, re.sub(r"[\s-]+", "_", value.strip("'\""))))
    return Rule(source, tuple(conditions),
                sum(_FIELDS[name] for name, _, _ in conditions))


def _known_values(name: str, seen: pd.Series) -> set[str]:
    """Values a rule may compare ``name`` (sport, sub_sport) to: the FIT profile's
    names plus every value in the activities at hand."""
    from fitdecode.profile import FIELD_TYPES

    return set(FIELD_TYPES[name].enum.values()) | {v for v in seen.unique() if v}


def _check_rule_values(rule: Rule, known: Mapping[str, set[str]],
                       seen: Mapping[str, set[str]] | None = None) -> None:
    """Raise ``ValueError`` for a sport/sub_sport value no run can have (a typo).

    The message gives the closest known values, then the values of the runs at
    hand (``seen``), then every other known value (the FIT profile's names).
    """
    for name, _, value in rule.conditions:
        if isinstance(value, float) or value in known[name]:
            continue
        close = difflib.get_close_matches(value, sorted(known[name]), n=3, cutoff=0.6)
        hint = f"did you mean {' or '.join(close)}? " if close else ""
        yours = sorted((seen or {}).get(name, set()))
        others = sorted(known[name] - set(yours))
        listed = (f"your activities have {', '.join(yours)}; other known values: "
                  if yours else "known values: ")
        raise ValueError(f"'{value}' in rule '{rule.text}' is not a {name} value: {hint}"
                         f"{listed}{', '.join(others)}")


def _read_rules(shoes: pd.DataFrame, rules: Mapping[str, str] | None,
                runs: Mapping[str, pd.Series], problems: list[str]) -> list[tuple[Rule, str]]:
    """The rules (``rules`` or the shoes' ``default_for``) as ``(Rule, shoe_id)``.

    ``runs`` holds the activities' normalised ``sport`` and ``sub_sport``; a rule
    that cannot be read, names an unknown shoe or compares to a value no run can
    have is added to ``problems`` (with the file and line where it was written).
    """
    shoe_ids = [str(s) for s in shoes["shoe_id"]]
    if rules is not None:
        items = [(text, str(sid), "rules") for text, sid in rules.items()]
    else:
        items = [(text, sid, "default_for")
                 for text, sid in zip(_optional(shoes, "default_for"), shoe_ids,
                                      strict=True) if pd.notna(text)]
    vocabulary = {name: _known_values(name, values) for name, values in runs.items()}
    seen = {name: {v for v in values.unique() if v} for name, values in runs.items()}
    out: list[tuple[Rule, str]] = []
    for text, sid, origin in items:
        if sid not in shoe_ids:
            problems.append(f"{origin}: rule '{text}' names shoe_id '{sid}', which is "
                            f"not in the shoes table (known: {', '.join(shoe_ids)})")
            continue
        try:
            rule = parse_rule(str(text))
            _check_rule_values(rule, vocabulary, seen)
            out.append((rule, sid))
        except ValueError as err:
            problems.append(f"{_rule_origin(shoes, sid, origin)}: {err}")
    return out


def _rule_origin(shoes: pd.DataFrame, shoe_id: str, origin: str) -> str:
    """Where a rule was written: ``"shoes.csv line 4, default_for of shoe 'S3'"``.

    The file and line come from :func:`kneedata.read_shoes` (``attrs["source"]``,
    ``source_line``); a frame built in Python gives ``"default_for of shoe 'S3'"``.
    """
    where = f"{origin} of shoe '{shoe_id}'"
    if origin != "default_for" or "source_line" not in shoes:
        return where
    lines = shoes.loc[shoes["shoe_id"].astype(str) == shoe_id, "source_line"].dropna()
    if lines.empty:
        return where
    file = shoes.attrs.get("source", "the shoes table")
    return f"{file} line {int(lines.iloc[0])}, column {where}"


def _key(value: object) -> str:
    return " ".join(str(value).lower().split())


def _days(values: pd.Series) -> pd.Series:
    """Any date-like column -> local days (tz-naive midnight datetime64[ns]), same index."""
    return pd.Series(local_days(values), index=values.index)


def _optional(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        return frame[name]
    return pd.Series(np.nan, index=frame.index, dtype="float64")


def _gear_index(shoes: pd.DataFrame) -> list[dict[str, set[str]]]:
    """Match keys by priority: shoe_id, name, 'brand model', model."""
    levels: list[dict[str, set[str]]] = [{}, {}, {}, {}]
    brand, model, name = (_optional(shoes, c) for c in ("brand", "model", "name"))
    for i, sid in enumerate(shoes["shoe_id"]):
        keys = [sid, name.iloc[i],
                f"{brand.iloc[i]} {model.iloc[i]}"
                if pd.notna(brand.iloc[i]) and pd.notna(model.iloc[i]) else None,
                model.iloc[i]]
        for level, key in zip(levels, keys, strict=True):
            if key is not None and pd.notna(key) and _key(key):
                level.setdefault(_key(key), set()).add(str(sid))
    return levels


def assign_shoes(activities: pd.DataFrame, shoes: pd.DataFrame, *,
                 periods: pd.DataFrame | None = None,
                 rules: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Give each foot run a shoe, saying how it was decided.

    Parameters
    ----------
    activities
        One row per activity: ``sport``, ``local_date`` (datetime.date objects or
        datetime64, the local day) required; ``sub_sport``, ``distance_m`` [m] and
        ``gear`` (the export's gear name) optional (missing = NaN).
    shoes
        As from :func:`kneedata.io.diary.read_shoes`: ``shoe_id`` required;
        ``name``, ``brand``, ``model``, ``first_used``, ``retired``,
        ``default_for`` used when present.
    periods
        Optional date ranges ``shoe_id, start, end`` (end inclusive, NaT = open), as
        from :func:`kneedata.io.diary.read_shoe_periods`.
    rules
        Optional mapping ``rule text -> shoe_id`` used *instead of* the shoes'
        ``default_for`` column (see :func:`parse_rule` for the rule syntax).

    Returns
    -------
    pandas.DataFrame
        A copy of ``activities`` plus ``shoe_id`` and ``shoe_source``
        (``gear`` | ``period`` | ``rule`` | ``only_shoe_in_use`` | ``unassigned``); both NaN for
        activities that are not runs (:func:`kneedata.select_runs`).

    Notes
    -----
    Order: gear name, then period, then rule (see the module docstring). A shoe is
    a candidate for period and rule assignment only on days from ``first_used`` to
    ``retired`` (inclusive; NaT = open ended); the gear name, being a record of
    the run itself, is taken as given. When periods of several shoes cover a day,
    rules choose among those shoes only. A run that none of these decide gets the
    only shoe in use on its day, if exactly one is. A tie between shoes (equally
    specific matching rules, overlapping periods or lifetimes with no deciding rule)
    leaves the run ``unassigned``. Unassigned runs and gear names found in no shoe are reported in
    one :class:`~kneedata.errors.DataQualityWarning` each.

    Raises
    ------
    SchemaError
        Missing columns, or periods/rules naming a shoe_id not in ``shoes``, or a
        rule that cannot be read or compares a field to a value no run can have
        (``sport=runing``: the message lists the known values).
    """
    for frame, need, what in ((activities, ["sport", "local_date"], "activities"),
                              (shoes, ["shoe_id"], "shoes")):
        missing = [c for c in need if c not in frame.columns]
        if missing:
            raise SchemaError(f"The {what} table lacks the column(s) "
                              f"{', '.join(missing)} needed to assign shoes; found: "
                              f"{', '.join(map(str, frame.columns))}.")
    shoe_ids = [str(s) for s in shoes["shoe_id"]]
    problems: list[str] = []

    first_used = _days(_optional(shoes, "first_used"))
    retired = _days(_optional(shoes, "retired"))
    lifetime = {sid: (first_used.iloc[i], retired.iloc[i])
                for i, sid in enumerate(shoe_ids)}

    period_rows = _period_rows(periods, shoe_ids, problems)

    out = activities.copy()
    sport = out["sport"].astype(object).map(lambda s: _key(s) if pd.notna(s) else "")
    sub_sport = _optional(out, "sub_sport").astype(object).map(
        lambda s: re.sub(r"[\s-]+", "_", _key(s)) if pd.notna(s) else "")
    rule_list = _read_rules(shoes, rules, {"sport": sport, "sub_sport": sub_sport}, problems)
    if problems:
        raise SchemaError("Cannot assign shoes:\n" + "\n".join(f"  - {p}"
                                                               for p in problems),
                          problems)

    distance_km = pd.to_numeric(_optional(out, "distance_m"), errors="coerce") / 1000
    gear = _optional(out, "gear")
    dates = _days(out["local_date"])
    is_run = run_mask(out, RUN_KINDS)

    levels = _gear_index(shoes)
    shoe_col: list[object] = [np.nan] * len(out)
    source_col: list[object] = [np.nan] * len(out)
    unmatched_gear: Counter[str] = Counter()
    ties: list[str] = []
    for i in map(int, np.flatnonzero(is_run)):
        source_col[i] = "unassigned"
        g = gear.iloc[i]
        if pd.notna(g) and _key(g):
            hit = next((lv[_key(g)] for lv in levels if _key(g) in lv), None)
            if hit is not None and len(hit) == 1:
                shoe_col[i], source_col[i] = next(iter(hit)), "gear"
                continue
            unmatched_gear[str(g).strip()] += 1
        day = dates.iloc[i]
        if pd.isna(day):
            continue
        decided, tie = _decide(day, shoe_ids, lifetime, period_rows, rule_list,
                               (sport.iloc[i], sub_sport.iloc[i], float(distance_km.iloc[i])))
        if decided is not None:
            shoe_col[i], source_col[i] = decided
        if tie:
            ties.append(tie)

    out["shoe_id"] = pd.Series(shoe_col, index=out.index, dtype="str")
    out["shoe_source"] = pd.Series(source_col, index=out.index, dtype="str")
    _warn_unassigned(out, unmatched_gear, ties, n_runs=int(is_run.sum()))
    return out


def _period_rows(periods: pd.DataFrame | None, shoe_ids: list[str],
                 problems: list[str]) -> list[tuple[str, pd.Timestamp, pd.Timestamp]]:
    """``(shoe_id, start, end)`` of each shoe period; unknown shoes go to ``problems``."""
    rows: list[tuple[str, pd.Timestamp, pd.Timestamp]] = []
    if periods is None or not len(periods):
        return rows
    missing = [c for c in ("shoe_id", "start") if c not in periods.columns]
    if missing:
        raise SchemaError(f"The shoe periods table lacks the column(s) "
                          f"{', '.join(missing)}; expected shoe_id, start, end.")
    starts, ends = _days(periods["start"]), _days(_optional(periods, "end"))
    for i, sid in enumerate(periods["shoe_id"].astype(str)):
        if sid not in shoe_ids:
            problems.append(f"shoe periods: shoe_id '{sid}' (period starting "
                            f"{starts.iloc[i]:%Y-%m-%d}) is not in the shoes table "
                            f"(known: {', '.join(shoe_ids)})")
        rows.append((sid, starts.iloc[i], ends.iloc[i]))
    return rows


def _decide(
    day: pd.Timestamp,
    shoe_ids: list[str],
    lifetime: dict[str, tuple[pd.Timestamp, pd.Timestamp]],
    period_rows: list[tuple[str, pd.Timestamp, pd.Timestamp]],
    rule_list: list[tuple[Rule, str]],
    run: tuple[str, str, float],
) -> tuple[tuple[str, str] | None, str | None]:
    """The shoe of a run without a usable gear name: ``((shoe_id, source), tie text)``.

    Period first, then the most specific matching rule, then the only shoe in use.
    """
    active = [sid for sid in shoe_ids
              if (pd.isna(lifetime[sid][0]) or lifetime[sid][0] <= day)
              and (pd.isna(lifetime[sid][1]) or day <= lifetime[sid][1])]
    covering = sorted({sid for sid, start, end in period_rows
                       if sid in active and start <= day
                       and (pd.isna(end) or day <= end)})
    if len(covering) == 1:
        return (covering[0], "period"), None
    candidates = set(covering) if covering else set(active)
    matching = [(rule.specificity, sid) for rule, sid in rule_list
                if sid in candidates and rule.matches(*run)]
    if matching:
        best = max(spec for spec, _ in matching)
        winners = sorted({sid for spec, sid in matching if spec == best})
        if len(winners) == 1:
            return (winners[0], "rule"), None
        return None, f"{day:%Y-%m-%d} ({' / '.join(winners)})"
    if len(covering) > 1:
        return None, f"{day:%Y-%m-%d} ({' / '.join(covering)})"
    if len(active) == 1:
        return (active[0], "only_shoe_in_use"), None
    if len(active) > 1:
        return None, f"{day:%Y-%m-%d} ({' / '.join(active)} all in use)"
    return None, None


def _warn_unassigned(out: pd.DataFrame, unmatched_gear: Counter[str], ties: list[str],
                     *, n_runs: int) -> None:
    """One DataQualityWarning for gear names matching no shoe, one for unassigned runs."""
    if unmatched_gear:
        listed = ", ".join(f"'{g}' ({n} run{'s' if n > 1 else ''})"
                           for g, n in unmatched_gear.most_common(10))
        warnings.warn(
            f"{sum(unmatched_gear.values())} runs name gear that matches no single "
            f"shoe's shoe_id, name or model: {listed}. They were assigned by period "
            "or rule where possible; add these names to the shoes table's name "
            "column to use them.", DataQualityWarning, stacklevel=3)
    n_unassigned = int((out["shoe_source"] == "unassigned").sum())
    if n_unassigned:
        tie_text = (f" {len(ties)} of them had several equally good shoes, e.g. "
                    f"{', '.join(ties[:3])}." if ties else "")
        warnings.warn(
            f"{n_unassigned} of {n_runs} runs have no shoe (left unassigned, not "
            f"guessed): no gear name, shoe period, rule or only shoe in use applied."
            f"{tie_text} Add gear names, a shoe periods table or default_for rules to "
            "assign them.",
            DataQualityWarning, stacklevel=3)
