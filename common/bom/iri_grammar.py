"""jsonschema's RFC 3987 format checks, with their grammar built on first use instead of at import.

``import jsonschema`` imports ``rfc3987_syntax`` (installed by cyclonedx-python-lib's validation extra)
for its ``iri`` and ``iri-reference`` checks, and that module builds an Earley parser of the whole
RFC 3987 grammar as it is imported: 1.1 s of CPU here, ~3 s on CI, in every process that imports
jsonschema, although the platform's own validators check neither format with it
(``importer._format_checker``). ``defer`` puts a stand-in in its place whose ``is_valid_syntax``
imports the real module on its first call, so a check that does use it validates exactly as before.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
import types

NAME = "rfc3987_syntax"
_loading = threading.Lock()


class _Deferred(types.ModuleType):
    """``rfc3987_syntax`` until something uses it: any other public attribute loads the real module too
    (a module's dunders do not: tools that look over every loaded module must not build the grammar)."""

    def __getattr__(self, attribute: str):
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        return getattr(_real(), attribute)


def _real() -> types.ModuleType:
    with _loading:
        module = sys.modules.get(NAME)
        if isinstance(module, _Deferred):
            del sys.modules[NAME]
            try:
                module = importlib.import_module(NAME)
            except BaseException:
                sys.modules[NAME] = module
                raise
        return module


def is_valid_syntax(term: str, value: str) -> bool:
    return _real().is_valid_syntax(term, value)


def defer() -> None:
    """Stand in for ``rfc3987_syntax`` until it is used. Nothing to do where it is not installed, or once
    it or jsonschema (which took its function at import) has been imported."""
    if NAME in sys.modules or "jsonschema" in sys.modules:
        return
    spec = importlib.util.find_spec(NAME)
    if spec is None:
        return
    stand_in = _Deferred(NAME, __doc__)
    stand_in.__file__, stand_in.__path__ = spec.origin, spec.submodule_search_locations
    stand_in.is_valid_syntax = is_valid_syntax
    sys.modules[NAME] = stand_in
