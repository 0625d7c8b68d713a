"""The component key: what findings merge by, and what a component's id is a fingerprint of.

``type:name`` (``llm_provider:openai``, ``model:gpt-4o``); the engine compares keys case-blind,
and a relation's target is a key too. A leaf module, so every detector and helper can build
keys without import cycles (``model`` itself imports the masking that imports ``textutil``).
"""

from __future__ import annotations


def component_key(component_type: str, name: str) -> str:
    return f"{component_type}:{name}"


def split_component_key(key: str) -> tuple[str, str]:
    """``(type, name)`` of a key; the name may hold colons of its own (``endpoint:host:8080``)."""
    component_type, _, name = key.partition(":")
    return component_type, name
