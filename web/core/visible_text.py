"""One validator for every name the API stores and shows to other people."""

from __future__ import annotations

import marshmallow as ma

from common.scanner.display import hidden_character


def visible_text(value: str) -> None:
    """Refuse (422) a name holding a control, bidirectional-override or zero-width character: shown to
    other members, such a name reads as another or looks the same as a different one."""
    if "\x00" in value:  # a NUL anywhere in a request is a 400 of its own (docs/security.md, NUL text)
        return
    problem = hidden_character(value)
    if problem:
        raise ma.ValidationError(problem)
