"""Deferred imports and pattern compilations for the scanner's modules.

A CLI scan of a small tree is mostly start-up: a detector module that imports PyYAML or compiles
its patterns when it is imported makes every tree with one matching file pay for them, whether
or not a file ever reaches the code that uses them. ``lazy_module`` and ``lazy_re`` stand in for
``import x`` and ``re.compile(...)`` at module level and do the work on first use.
"""

from __future__ import annotations

import importlib
import re


class _LazyModule:
    """A module imported on first attribute access; each attribute is then kept on the stand-in."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str):
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        value = getattr(importlib.import_module(self._name), attribute)
        setattr(self, attribute, value)
        return value

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}>"


# the modules imported on first use (``lazy_module`` and the scanner's function-level imports of them)
DEFERRED_MODULES: set[str] = set()


def lazy_module(name: str):
    """``name`` as an object that imports the module when one of its attributes is first read."""
    DEFERRED_MODULES.add(name)
    return _LazyModule(name)


def import_deferred() -> None:
    """Import every deferred module now: the zygote of the isolated workers does, so that its forks
    (a large scan's, which nearly always need them) do not each import them on first use."""
    for name in sorted(DEFERRED_MODULES):
        importlib.import_module(name)


class _LazyPattern:
    """``re.compile(pattern, flags)`` done on first use; methods are then looked up once and kept."""

    def __init__(self, pattern: str, flags: int) -> None:
        self._pattern = pattern
        self._flags = flags

    def __getattr__(self, attribute: str):
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        value = getattr(re.compile(self._pattern, self._flags), attribute)
        setattr(self, attribute, value)
        return value

    def __repr__(self) -> str:
        return f"lazy_re({self._pattern!r})"


def lazy_re(pattern: str, flags: int = 0):
    """A stand-in for ``re.compile(pattern, flags)`` with the pattern's methods, compiled when first used."""
    return _LazyPattern(pattern, flags)
