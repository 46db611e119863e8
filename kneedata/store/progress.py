"""The import's progress bar (tqdm on stderr), shown where someone reads it."""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["Progress", "interactive"]


def interactive(stream: Any) -> bool:
    """A terminal or a Jupyter kernel: where a progress bar is read, not logged line by line."""
    try:
        if stream.isatty():
            return True
    except (AttributeError, ValueError):
        return False
    return type(stream).__module__.startswith("ipykernel")


class Progress:
    """Import progress in bytes of the inputs: the total is fixed before the first file.

    An archive hands its share on to its members in equal parts (a nested zip to its
    own members in turn), so the bar moves through one large export without its total
    ever changing.
    """

    def __init__(self, sizes: dict[str, int]) -> None:
        from tqdm import tqdm

        self.share = {key: float(max(size, 1)) for key, size in sizes.items()}
        self.bar = tqdm(total=sum(self.share.values()), unit="B", unit_scale=True, desc="import",
                        file=sys.stderr, dynamic_ncols=True, leave=True)

    def split(self, key: str, children: list[str]) -> None:
        """``key`` is an archive: its share goes to ``children``."""
        if not children:
            return
        part = self.share.pop(key, 0.0) / len(children)
        for child in children:
            self.share[child] = self.share.get(child, 0.0) + part

    def done(self, key: str) -> None:
        share = self.share.pop(key, 0.0)
        if share:
            self.bar.update(share)

    def close(self, *, finished: bool = True) -> None:
        """Close the bar; at 100 % only when the import ``finished`` (not when interrupted)."""
        if finished and self.bar.total is not None and self.bar.n < self.bar.total:
            self.bar.update(self.bar.total - self.bar.n)
        self.bar.close()
