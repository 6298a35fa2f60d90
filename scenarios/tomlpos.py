"""Where each key of a TOML document stands: line numbers that :mod:`tomllib` does not give.

:func:`key_lines` scans the source of a document that ``tomllib`` has already accepted
and maps every key path to the 1-based line where it is written::

    >>> lines = key_lines('name = "x"\\n[forcing]\\nrain = "60 mm/h"\\n[[interventions]]\\ntype = "dike"\\n')
    >>> lines[("forcing", "rain")], lines[("interventions", 0, "type")]
    (3, 5)

Paths follow the structure ``tomllib`` returns: table keys are strings, elements of
arrays (of tables, or inline arrays) are integers. Tables and arrays of tables also map
to the line of their header (``("forcing",) -> 2``, ``("interventions", 0) -> 4``).
Dotted keys (``forcing.rain = ...``), inline tables (``{rain = "60 mm/h"}``), arrays
spanning lines, every string form and comments are handled.

The scanner assumes valid TOML (parse with ``tomllib`` first): on invalid input it
returns what it found so far rather than raising.
"""

from __future__ import annotations

__all__ = ["key_lines", "line_of"]

_BARE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
_ESCAPES = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", '"': '"', "\\": "\\", "e": "\x1b"}

Path = tuple


class _Scanner:
    def __init__(self, text: str):
        self.s = text
        self.i = 0
        self.n = len(text)
        self.line = 1
        self.out: dict[Path, int] = {}
        # arrays of tables seen, path -> index of their last element
        self.aot: dict[Path, int] = {}

    # -- low level ----------------------------------------------------------------
    def peek(self, k: int = 0) -> str:
        j = self.i + k
        return self.s[j] if j < self.n else ""

    def advance(self, k: int = 1) -> None:
        chunk = self.s[self.i : self.i + k]
        self.line += chunk.count("\n")
        self.i += k

    def skip_ws(self) -> None:
        while self.i < self.n and self.s[self.i] in " \t":
            self.i += 1

    def skip_comment(self) -> None:
        if self.peek() == "#":
            while self.i < self.n and self.s[self.i] != "\n":
                self.i += 1

    def skip_ws_nl_comments(self) -> None:
        while self.i < self.n:
            c = self.s[self.i]
            if c in " \t\r":
                self.i += 1
            elif c == "\n":
                self.advance()
            elif c == "#":
                self.skip_comment()
            else:
                return

    # -- strings and keys ------------------------------------------------------------
    def read_string(self) -> str:
        """Read a string of any of the four TOML forms at the cursor; return its value."""
        if self.s.startswith('"""', self.i):
            return self._read_delimited('"""', escapes=True, multiline=True)
        if self.s.startswith("'''", self.i):
            return self._read_delimited("'''", escapes=False, multiline=True)
        if self.peek() == '"':
            return self._read_delimited('"', escapes=True, multiline=False)
        return self._read_delimited("'", escapes=False, multiline=False)

    def _read_delimited(self, delim: str, *, escapes: bool, multiline: bool) -> str:
        self.advance(len(delim))
        buf: list[str] = []
        while self.i < self.n:
            if self.s.startswith(delim, self.i):
                if multiline:
                    # up to two quotes may end a multi-line string: """a""""" is 'a""'
                    extra = 0
                    while extra < 2 and self.s.startswith(delim[0], self.i + len(delim) + extra):
                        extra += 1
                    buf.append(delim[0] * extra)
                    self.advance(len(delim) + extra)
                else:
                    self.advance(len(delim))
                return "".join(buf)
            c = self.s[self.i]
            if escapes and c == "\\":
                nxt = self.peek(1)
                if nxt in _ESCAPES:
                    buf.append(_ESCAPES[nxt])
                    self.advance(2)
                elif nxt in ("u", "U"):
                    width = 4 if nxt == "u" else 8
                    try:
                        buf.append(chr(int(self.s[self.i + 2 : self.i + 2 + width], 16)))
                    except ValueError:
                        pass
                    self.advance(2 + width)
                elif multiline:  # line-ending backslash: skip the newline and following whitespace
                    self.advance(1)
                    while self.i < self.n and self.s[self.i] in " \t\r\n":
                        self.advance()
                else:
                    self.advance(2)
                continue
            buf.append(c)
            self.advance()
        return "".join(buf)

    def read_key(self) -> tuple[list[str], int]:
        """Read a (possibly dotted) key; return its parts and the line it starts on."""
        line = self.line
        parts: list[str] = []
        while True:
            self.skip_ws()
            c = self.peek()
            if c in ('"', "'"):
                parts.append(self.read_string())
            else:
                j = self.i
                while j < self.n and self.s[j] in _BARE:
                    j += 1
                if j == self.i:  # invalid input: stop
                    return parts, line
                parts.append(self.s[self.i : j])
                self.i = j
            self.skip_ws()
            if self.peek() == ".":
                self.advance()
                continue
            return parts, line

    # -- values ------------------------------------------------------------------------
    def read_value(self, path: Path) -> None:
        """Skip a value, recording the keys of inline tables and elements of arrays under ``path``."""
        c = self.peek()
        if c in ('"', "'"):
            self.read_string()
        elif c == "[":
            self.advance()
            index = 0
            while self.i < self.n:
                self.skip_ws_nl_comments()
                if self.peek() == "]":
                    self.advance()
                    return
                self.out.setdefault(path + (index,), self.line)
                self.read_value(path + (index,))
                index += 1
                self.skip_ws_nl_comments()
                if self.peek() == ",":
                    self.advance()
                elif self.peek() == "]":
                    self.advance()
                    return
                else:  # invalid input
                    return
        elif c == "{":
            self.advance()
            while self.i < self.n:
                self.skip_ws()
                if self.peek() == "}":
                    self.advance()
                    return
                parts, line = self.read_key()
                if not parts:
                    return
                self._record(path, parts, line)
                self.skip_ws()
                if self.peek() != "=":
                    return
                self.advance()
                self.skip_ws()
                self.read_value(path + tuple(parts))
                self.skip_ws()
                if self.peek() == ",":
                    self.advance()
        else:  # number, boolean, date or time: up to a delimiter
            while self.i < self.n and self.s[self.i] not in ",]}#\n":
                self.i += 1

    def _record(self, base: Path, parts: list[str], line: int) -> None:
        for k in range(1, len(parts) + 1):
            self.out.setdefault(base + tuple(parts[:k]), line)

    # -- headers -----------------------------------------------------------------------------
    def resolve(self, parts: list[str]) -> Path:
        """The path of a header's key, with the current index of every array of tables it crosses."""
        path: Path = ()
        for p in parts:
            path = path + (p,)
            if path in self.aot:
                path = path + (self.aot[path],)
        return path

    def scan(self) -> dict[Path, int]:
        table: Path = ()
        while self.i < self.n:
            self.skip_ws_nl_comments()
            if self.i >= self.n:
                break
            if self.s.startswith("[[", self.i):
                line = self.line
                self.advance(2)
                parts, _ = self.read_key()
                self.skip_ws()
                self.advance(2)  # ]]
                parent = self.resolve(parts[:-1])
                key = parent + (parts[-1],)
                self.aot[key] = self.aot.get(key, -1) + 1
                self.out.setdefault(key, line)
                table = key + (self.aot[key],)
                self.out[table] = line
                # a new element of an array of tables forgets the arrays nested in the previous one
                for other in [p for p in self.aot if len(p) > len(key) and p[: len(key)] == key]:
                    del self.aot[other]
            elif self.peek() == "[":
                line = self.line
                self.advance()
                parts, _ = self.read_key()
                self.skip_ws()
                self.advance()  # ]
                table = self.resolve(parts)
                for k in range(1, len(table) + 1):
                    self.out.setdefault(table[:k], line)
            else:
                parts, line = self.read_key()
                if not parts:
                    break
                self._record(table, parts, line)
                self.skip_ws()
                if self.peek() != "=":
                    break
                self.advance()
                self.skip_ws()
                self.read_value(table + tuple(parts))
            self.skip_ws()
            self.skip_comment()
        return self.out


def key_lines(text: str) -> dict[tuple, int]:
    """Map every key path of a (valid) TOML document to the 1-based line where it is written.

    Parameters
    ----------
    text : str
        The TOML source, already accepted by :func:`tomllib.loads`.

    Returns
    -------
    dict
        ``{path: line}``; a path is a tuple of table keys (str) and array indices (int).
    """
    return _Scanner(text).scan()


def line_of(lines: dict[tuple, int], path: tuple) -> int | None:
    """The line of ``path``, or of its nearest ancestor that has one (None if none has)."""
    path = tuple(path)
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return None
