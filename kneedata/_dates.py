"""Local calendar days: the one date normalisation the package uses.

A run's day, a diary day, a shoe's first day of use: every date that names a day
in the runner's life is a *local* calendar day, held as tz-naive ``datetime64[ns]``
at midnight. :func:`local_days` turns what users and files give (``datetime.date``
objects, strings, Timestamps, datetime64, tz-aware stamps) into that form.
"""

from __future__ import annotations

from typing import Any, Literal

import pandas as pd


def local_days(values: Any, *, errors: Literal["raise", "coerce"] = "raise") -> pd.DatetimeIndex:
    """Local calendar days as a tz-naive ``datetime64[ns]`` index at midnight.

    Parameters
    ----------
    values
        A list, array, Series or Index of anything :func:`pandas.to_datetime`
        reads. Missing values (None, NaN, ``pd.NA``, NaT) become NaT.
    errors
        ``"raise"``: a value that is not a date raises (``ValueError`` or
        ``TypeError`` from pandas; callers turn it into a message naming their
        column). ``"coerce"``: it becomes NaT.

    Returns
    -------
    pandas.DatetimeIndex
        One day per value, in order (the input's index is not kept).

    Notes
    -----
    A tz-aware stamp keeps its wall-clock day in its own zone (the local day
    where it happened), not its UTC day.
    """
    if not pd.api.types.is_datetime64_any_dtype(getattr(values, "dtype", object)):
        obj = pd.Series(values, dtype=object)
        values = obj.where(obj.notna(), None)
    idx = pd.DatetimeIndex(pd.to_datetime(values, errors=errors))
    if idx.tz is not None:
        idx = idx.tz_localize(None)
    return idx.normalize().as_unit("ns")


def as_utc(value: Any) -> Any:
    """A Timestamp or DatetimeIndex in UTC: naive values are read as UTC, aware ones converted.

    Examples
    --------
    >>> as_utc(pd.Timestamp("2024-06-01 07:00"))
    Timestamp('2024-06-01 07:00:00+0000', tz='UTC')
    >>> as_utc(pd.Timestamp("2024-06-01 09:00", tz="Europe/Berlin"))
    Timestamp('2024-06-01 07:00:00+0000', tz='UTC')
    """
    return value.tz_localize("UTC") if value.tzinfo is None else value.tz_convert("UTC")
