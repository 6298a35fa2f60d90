"""Resolving the luminaires table's ``photometry`` references to :class:`Photometry` values.

A reference is either a built-in optic (``"builtin:road-led"``, see
:mod:`simulation.lighting.builtin`) or a file path (``.ldt`` / ``.ies``): absolute, or
relative to one of the registry's search folders (the twin's folder, a photometry
folder given by the user). Files are read once and cached by path, size and
modification time.
"""

from __future__ import annotations

from pathlib import Path

from simulation.lighting.builtin import PREFIX, builtin, builtin_names
from simulation.lighting.photometry import Photometry, read_photometry
from twin.errors import TwinFileNotFoundError, TwinValueError

__all__ = ["PhotometryRegistry"]


class PhotometryRegistry:
    """Resolve photometry references; cache what was read.

    Parameters
    ----------
    search_dirs : sequence of path-like
        Folders where relative file references are looked up, in order.

    Examples
    --------
    >>> reg = PhotometryRegistry()
    >>> reg.resolve("builtin:road-led").name
    'road-led'
    """

    def __init__(self, search_dirs=()):
        self.search_dirs = tuple(Path(d) for d in search_dirs)
        self._cache: dict[tuple, Photometry] = {}

    def with_dirs(self, *dirs) -> PhotometryRegistry:
        """A registry that also searches ``dirs`` (after this one's folders), sharing the cache."""
        other = PhotometryRegistry(self.search_dirs + tuple(Path(d) for d in dirs if d is not None))
        other._cache = self._cache
        return other

    def locate(self, ref: str) -> Path:
        """The file a non-built-in reference names.

        Raises
        ------
        TwinFileNotFoundError
            If no such file exists (directly or in a search folder).
        """
        p = Path(ref).expanduser()
        candidates = [p] if p.is_absolute() else [d / p for d in self.search_dirs] + [p]
        for c in candidates:
            if c.is_file():
                return c
        where = ", ".join(str(d) for d in self.search_dirs) or "the current folder"
        raise TwinFileNotFoundError(
            f"photometry {ref!r}: not a built-in optic ({', '.join(builtin_names())}) and no such file in {where}")

    def resolve(self, ref) -> Photometry:
        """The :class:`Photometry` a reference names.

        Raises
        ------
        TwinValueError
            If the reference is empty or names an unknown built-in optic.
        TwinFileNotFoundError, TwinFormatError
            If the file is missing or damaged.
        """
        if not isinstance(ref, str) or not ref.strip():
            raise TwinValueError(f"empty photometry reference {ref!r}: give a file (.ldt/.ies) or one of {', '.join(builtin_names())}")
        ref = ref.strip()
        if ref.startswith(PREFIX):
            return builtin(ref)
        path = self.locate(ref)
        st = path.stat()
        key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
        if key not in self._cache:
            self._cache[key] = read_photometry(path)
        return self._cache[key]

    __call__ = resolve
