"""Progress bars for long work (rich), silenced by ``--quiet`` or when not on a terminal.

Library code calls :func:`progress` around loops that may take more than a second;
the command line decides whether bars are shown with :func:`set_quiet`.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

__all__ = ["progress", "set_quiet", "is_quiet", "status"]

T = TypeVar("T")
_QUIET = False


def set_quiet(quiet: bool) -> None:
    """Silence (or re-enable) every progress bar and status line."""
    global _QUIET
    _QUIET = bool(quiet)


def is_quiet() -> bool:
    return _QUIET


def _enabled() -> bool:
    return not _QUIET and sys.stderr.isatty()


def progress(iterable: Iterable[T], description: str, *, total: int | None = None) -> Iterator[T]:
    """Iterate with a progress bar on stderr (when enabled)."""
    if not _enabled():
        yield from iterable
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    if total is None and hasattr(iterable, "__len__"):
        total = len(iterable)  # type: ignore[arg-type]
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn()]
    with Progress(*columns, transient=True) as bar:
        task = bar.add_task(description, total=total)
        for item in iterable:
            yield item
            bar.advance(task)


def status(message: str) -> None:
    """Print a one-line status message on stderr unless quiet."""
    if not _QUIET:
        print(message, file=sys.stderr, flush=True)
