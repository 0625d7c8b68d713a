"""Detector discovery: every concrete ``Detector`` subclass in ``common.scanner.detectors``.

Discovery walks the package with ``pkgutil`` so a new detector module is picked
up without editing a shared list.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from functools import cache

from common.scanner import detectors as detectors_package
from common.scanner.detectors.base import Detector


@cache
def all_detectors() -> tuple[Detector, ...]:
    found: list[Detector] = []
    for module_info in sorted(pkgutil.iter_modules(detectors_package.__path__), key=lambda m: m.name):
        if module_info.name == "base":
            continue
        module = importlib.import_module(f"{detectors_package.__name__}.{module_info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(cls, Detector)
                and cls.__module__ == module.__name__
                and cls.name
                and not inspect.isabstract(cls)
            ):
                found.append(cls())
    return tuple(found)
