"""Duplicate matching: the same run from several sources, folded into the richest one.

Pure functions of activity rows (dicts of the summary columns plus ``source_file``,
``n_records`` and ``n_record_columns``); nothing here reads or writes files.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from kneedata.io.activity import is_cycling_sport
from kneedata.runs import run_kind
from kneedata.store.tables import as_list

__all__ = [
    "DUPLICATE_DISTANCE_REL",
    "DUPLICATE_START_S",
    "FORMAT_RANK",
    "deduplicate",
    "file_status",
    "fold_duplicates",
    "is_close",
    "rel_gap",
    "richness",
    "same_run",
    "sports_compatible",
    "to_number",
]

#: Same run: starts at most this far apart [s] ...
DUPLICATE_START_S = 120.0
#: ... and distances at most this far apart, relative to the longer one [-].
DUPLICATE_DISTANCE_REL = 0.03
#: Preference among sources of the same run (higher wins).
FORMAT_RANK = {"fit": 3, "tcx": 2, "gpx": 1, "apple_health": 1}  # Apple: a GPX route and more

_GENERIC_SPORTS = {"", "generic", "other", "unknown", "all", "none", "nan"}

Row = Mapping[str, Any]


def to_number(value: Any) -> float:
    """``float(value)``, NaN where it is not a number."""
    try:
        out = float(value)
    except (TypeError, ValueError):
        return float("nan")
    return out


def rel_gap(a: Any, b: Any) -> float | None:
    """``|a - b| / max(a, b)`` [-], or None unless both are positive numbers."""
    da, db = to_number(a), to_number(b)
    if not (da > 0 and db > 0):
        return None
    return abs(da - db) / max(da, db)


def is_close(a: Any, b: Any) -> bool:
    """Both positive and at most :data:`DUPLICATE_DISTANCE_REL` apart."""
    rel = rel_gap(a, b)
    return rel is not None and rel <= DUPLICATE_DISTANCE_REL


def sports_compatible(a: Row, b: Row) -> bool:
    """Whether the sports of ``a`` and ``b`` allow them to be the same session."""
    sa = str(a.get("sport")).lower() if isinstance(a.get("sport"), str) else ""
    sb = str(b.get("sport")).lower() if isinstance(b.get("sport"), str) else ""
    ride_a = is_cycling_sport(sa, a.get("sub_sport"))
    ride_b = is_cycling_sport(sb, b.get("sub_sport"))
    # one definition of a run (kneedata.runs: a generic treadmill session is a run)
    ka, kb = run_kind(sa, a.get("sub_sport")), run_kind(sb, b.get("sub_sport"))
    vague_a = sa in _GENERIC_SPORTS and ka is None and not ride_a
    vague_b = sb in _GENERIC_SPORTS and kb is None and not ride_b
    if vague_a or vague_b:  # a sport that says nothing matches anything
        return True
    if ka is not None or kb is not None:
        return ka is not None and kb is not None
    return sa == sb or (ride_a and ride_b)


def same_run(a: Row, b: Row) -> str | None:
    """Why ``a`` and ``b`` are the same run, or ``None`` (see DUPLICATE_* constants)."""
    if a.get("source_file") == b.get("source_file"):
        return None  # sessions of one file (multisport legs) are never duplicates
    if not sports_compatible(a, b):
        return None
    dt_s = abs((a["start_time_utc"] - b["start_time_utc"]).total_seconds())
    if dt_s > DUPLICATE_START_S:
        return None
    rel = rel_gap(a.get("distance_m"), b.get("distance_m"))
    if rel is not None:
        if rel > DUPLICATE_DISTANCE_REL:
            return None
        return f"start {dt_s:.0f} s apart, distance {100 * rel:.1f} % apart"
    # no distance on one side (treadmill without pod, indoor): compare durations
    rel = rel_gap(a.get("elapsed_time_s"), b.get("elapsed_time_s"))
    if rel is not None and rel <= DUPLICATE_DISTANCE_REL:
        return f"start {dt_s:.0f} s apart, no distance on both, elapsed time {100 * rel:.1f} % apart"
    return None


def richness(a: Row) -> tuple[int, int, int, int]:
    """Rank of a source (higher is kept): format, complete, record columns, records."""
    return (
        FORMAT_RANK.get(str(a.get("source_format", "")).lower(), 0),
        int(bool(a.get("complete", True))),
        int(a.get("n_record_columns", 0) or 0),
        int(a.get("n_records", 0) or 0),
    )


def _linked_groups(acts: Mapping[str, Row]) -> tuple[list[list[str]], dict[tuple[str, str], str]]:
    """Groups of ids linked by :func:`same_run` (union-find), and the reason of each pair."""
    timed = []
    for aid, a in acts.items():
        start = a.get("start_time_utc")
        if isinstance(start, pd.Timestamp) and not pd.isna(start):
            timed.append((start, aid))
    timed.sort()
    parent = {aid: aid for _, aid in timed}
    why: dict[tuple[str, str], str] = {}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    limit = pd.Timedelta(seconds=DUPLICATE_START_S)
    for i, (start_i, id_i) in enumerate(timed):
        for start_j, id_j in timed[i + 1:]:
            if start_j - start_i > limit:
                break
            reason = same_run(acts[id_i], acts[id_j])
            if reason:
                why[(id_i, id_j)] = why[(id_j, id_i)] = reason
                ri, rj = find(id_i), find(id_j)
                if ri != rj:
                    parent[rj] = ri
    groups: dict[str, list[str]] = {}
    for _, aid in timed:
        groups.setdefault(find(aid), []).append(aid)
    return list(groups.values()), why


def deduplicate(acts: Mapping[str, Row]) -> dict[str, tuple[str, str]]:
    """Group activities of the same run; map each non-kept id to (kept id, reason).

    Parameters
    ----------
    acts
        Activity rows by id (``start_time_utc`` a ``pandas.Timestamp``; rows
        without a start are never duplicates).

    Returns
    -------
    dict
        ``{duplicate id: (kept id, reason)}``; the kept id of a group is its richest
        source (:func:`richness`, then the smallest id).
    """
    groups, why = _linked_groups(acts)
    dup_of: dict[str, tuple[str, str]] = {}
    for members in groups:
        if len(members) < 2:
            continue
        ranked = sorted(members, key=lambda m: (tuple(-v for v in richness(acts[m])), m))
        kept = ranked[0]
        kept_fmt = str(acts[kept].get("source_format", "?"))
        for other in ranked[1:]:
            detail = why.get((kept, other)) or "linked through another copy of the run"
            dup_of[other] = (
                kept,
                f"same run as {kept} from {acts[kept].get('source_file')} ({detail}); "
                f"kept the {kept_fmt} source (preference FIT > TCX > GPX, then complete "
                "files, then more record columns)",
            )
    return dup_of


def fold_duplicates(
    acts: Mapping[str, Row],
    dup_of: Mapping[str, tuple[str, str]],
    copies: Mapping[str, list[str]],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The kept rows (with ``source_files``, ``n_sources``) and the duplicate rows.

    Parameters
    ----------
    acts
        Every activity row by id.
    dup_of
        :func:`deduplicate` of ``acts``.
    copies
        Activity id -> other files holding identical content (same id).

    Returns
    -------
    tuple of list
        Kept rows, whose ``source_files`` list the kept file first, then its identical
        copies, then the duplicates' files, richest first; and the duplicate rows with
        ``duplicate_of`` and ``duplicate_reason``. Both in the order of ``acts``.
    """
    groups: dict[str, list[str]] = {}
    for aid, (kept_id, _) in dup_of.items():
        groups.setdefault(kept_id, []).append(aid)
    kept_rows: list[dict[str, Any]] = []
    dup_rows: list[dict[str, Any]] = []
    for aid, row in acts.items():
        if aid in dup_of:
            out = dict(row)
            out["duplicate_of"], out["duplicate_reason"] = dup_of[aid]
            dup_rows.append(out)
            continue
        members = [aid, *sorted(groups.get(aid, []),
                                key=lambda m: tuple(-v for v in richness(acts[m])))]
        sources: list[str] = []
        for m in members:
            for src in [str(acts[m].get("source_file")), *copies.get(m, [])]:
                if src not in sources:
                    sources.append(src)
        out = dict(row)
        out["source_files"] = sources
        out["n_sources"] = len(sources)
        kept_rows.append(out)
    return kept_rows, dup_rows


def file_status(key: str, ids: list[str], acts: Mapping[str, Row],
                dup_of: Mapping[str, tuple[str, str]]) -> tuple[str, str]:
    """Status and reason of an activity file ``key`` that provided the activities ``ids``.

    ``imported`` when it is the kept source of at least one of them (reason: the
    readers' notes and which sessions are duplicates), else ``duplicate`` saying of what.
    """
    own = [a for a in ids if a in acts and acts[a].get("source_file") == key]
    kept_here = [a for a in own if a not in dup_of]
    notes: list[str] = []
    for a in ids:
        row = acts.get(a)
        if row is None:
            continue
        if row.get("source_file") != key:
            notes.append(f"{a}: identical content to {row.get('source_file')}")
            if a in dup_of:
                notes.append(f"{a}: {dup_of[a][1]}")
        elif a in dup_of:
            notes.append(f"{a}: {dup_of[a][1]}")
    if not kept_here:
        return "duplicate", "; ".join(notes) if notes else "duplicate of an activity in the store"
    warn = [w for a in kept_here for w in as_list(acts[a].get("warnings"))]
    parts = []
    if warn:
        parts.append(f"{len(warn)} data-quality note(s): " + "; ".join(warn))
    if notes:
        parts.append("some sessions are duplicates: " + "; ".join(notes))
    return "imported", " | ".join(parts)
