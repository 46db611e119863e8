"""The store's errors: an unknown or ambiguous activity id, a busy or missing store."""

from __future__ import annotations

from kneedata.errors import KneedataError

__all__ = ["AmbiguousActivityError", "StoreBusyError", "StoreNotFoundError", "UnknownActivityError"]


class UnknownActivityError(KneedataError, ValueError):
    """An activity id that the store does not hold."""


class AmbiguousActivityError(KneedataError, ValueError):
    """An activity id held by more than one runner of a cohort store."""


class StoreBusyError(KneedataError, RuntimeError):
    """Another import into the same store is running."""


class StoreNotFoundError(KneedataError, FileNotFoundError):
    """A read from a store folder that does not exist (nothing was imported there)."""
