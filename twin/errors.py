"""The exceptions of jumeau.

Every error the engine raises on purpose derives from :class:`TwinError`. The
concrete classes also derive from the matching builtin (``OSError``,
``ValueError``...) so that callers who catch the builtin still catch them.

Errors caused by the user's input (a bad file, an impossible value) are the
subclasses of :class:`TwinInputError`; the command line turns them into one
line and exit status 2. Anything else is a runtime failure (exit status 1).
This module knows nothing of the command line.
"""

from __future__ import annotations

__all__ = [
    "TwinError",
    "TwinInputError",
    "TwinValueError",
    "TwinIOError",
    "TwinFormatError",
    "TwinCRSError",
    "TwinFileNotFoundError",
    "TwinExistsError",
    "TwinRuntimeError",
]


class TwinError(Exception):
    """Root of every error raised by jumeau."""


class TwinInputError(TwinError):
    """The user's input is wrong: a file, a parameter, a value."""


class TwinValueError(TwinInputError, ValueError):
    """A value is impossible or out of its valid range."""


class TwinIOError(TwinInputError, OSError):
    """A file cannot be read or written as asked."""


class TwinFileNotFoundError(TwinIOError, FileNotFoundError):
    """A file or directory that the input names does not exist."""


class TwinExistsError(TwinIOError, FileExistsError):
    """An output exists and replacing it was not asked for."""


class TwinFormatError(TwinIOError):
    """A file exists but its content is damaged, truncated or not the expected format."""


class TwinCRSError(TwinValueError):
    """A coordinate reference system is missing, unknown or inconsistent."""


class TwinRuntimeError(TwinError, RuntimeError):
    """A computation failed for a reason that is not the user's input."""
