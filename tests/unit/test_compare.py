"""Scan comparison on two scans of one tree, before and after an edit, with exact output."""

from __future__ import annotations

from common.bom.compare import compare
from tests.factories import component


def before_scan() -> list[dict]:
    return [
        component(
            "llm_provider",
            "openai",
            provider="openai",
            version="1.40.0",
            risk=10,
            locations=[("requirements.txt", 3, ""), ("src/app.py", 5, "")],
        ),
        component(
            "model",
            "gpt-4o",
            provider="openai",
            model_name="gpt-4o",
            flags=["unpinned_model"],
            risk=10,
            locations=[("src/app.py", 20, "")],
        ),
        component(
            "vector_db",
            "chromadb",
            provider="chroma",
            version="0.5.0",
            risk=5,
            severity="info",
            locations=[("requirements.txt", 4, "")],
        ),
        component(
            "endpoint", "api.openai.com", provider="openai", risk=10, locations=[("src/app.py", 30, "")]
        ),
    ]


def after_scan() -> list[dict]:
    """The edit: gpt-4o swapped for a pinned claude model, a key pasted in, chromadb removed."""
    return [
        component(
            "llm_provider",
            "openai",
            provider="openai",
            version="1.40.0",
            risk=65,
            severity="high",
            flags=["hardcoded_api_key"],
            locations=[("src/app.py", 5, ""), ("requirements.txt", 3, ""), ("src/app.py", 6, "")],
        ),
        component(
            "model",
            "claude-3-5-sonnet-20241022",
            provider="anthropic",
            model_name="claude-3-5-sonnet-20241022",
            risk=5,
            severity="info",
            locations=[("src/app.py", 20, "")],
        ),
        component(
            "endpoint", "api.openai.com", provider="openai", risk=10, locations=[("src/app.py", 30, "")]
        ),
    ]


def test_model_swap_key_added_dependency_removed():
    before, after = before_scan(), after_scan()
    ids = {c["name"]: c["id"] for c in before + after}
    result = compare(before, after)
    assert result == {
        "added": [after[1]],
        "removed": [before[1], before[2]],
        "changed": [
            {
                "id": ids["openai"],
                "name": "openai",
                "type": "llm_provider",
                "changes": {
                    "flags": {"before": [], "after": ["hardcoded_api_key"]},
                    "risk_score": {"before": 10, "after": 65},
                    "severity": {"before": "low", "after": "high"},
                    "locations": {
                        "before": ["requirements.txt:3", "src/app.py:5"],
                        "after": ["requirements.txt:3", "src/app.py:5", "src/app.py:6"],
                    },
                },
            }
        ],
        "summary": {
            "added": 1,
            "removed": 2,
            "changed": 1,
            "unchanged": 1,
            "risk_before": 35,
            "risk_after": 80,
            "risk_delta": 45,
        },
    }


def test_identical_scans_have_no_differences_whatever_the_order():
    before = before_scan()
    shuffled = [*reversed(before)]
    shuffled[0] = {**shuffled[0], "locations": list(reversed(shuffled[0]["locations"]))}
    result = compare(before, shuffled)
    assert (result["added"], result["removed"], result["changed"]) == ([], [], [])
    assert result["summary"]["unchanged"] == 4 and result["summary"]["risk_delta"] == 0


def test_every_compared_field_is_reported():
    old = component(
        "model",
        "m",
        provider="a",
        version="1",
        model_name="m",
        flags=["b", "a"],
        risk=1,
        severity="info",
        scope="production",
        locations=[("x.py", 1, "")],
    )
    new = {
        **old,
        "name": "M",
        "type": "model_file",
        "provider": "b",
        "version": "2",
        "model_name": "n",
        "flags": ["a"],
        "risk_score": 2,
        "severity": "low",
        "scope": "test",
        "locations": [{"file": "x.py", "line": 2}],
        "detector": "other",
        "confidence": 0.1,
    }
    changes = compare([old], [new])["changed"][0]["changes"]
    assert list(changes) == [
        "name",
        "type",
        "provider",
        "version",
        "model_name",
        "flags",
        "risk_score",
        "severity",
        "scope",
        "locations",
    ]
    assert changes["flags"] == {"before": ["a", "b"], "after": ["a"]}
