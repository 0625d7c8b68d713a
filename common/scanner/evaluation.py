"""Precision and recall against the labeled corpus (``tests/fixtures/corpus/<project>/expected.json``).

Shared by the corpus test and the benchmark so both tools are scored the same
way. Matching is by lower-case (type, name); flags are scored as
(type, name, flag) triples over the flags the corpus labels at all. An entry
marked ``"deep": true`` is only expected from deep mode (reporting it in normal
mode is still correct, not a false positive).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

Reported = Iterable[tuple[str, str, Iterable[str]]]


@dataclass
class Score:
    true_positives: int = 0
    reported: int = 0
    expected: int = 0
    found: int = 0
    flag_true_positives: int = 0
    flag_reported: int = 0
    flag_expected: int = 0
    flag_found: int = 0
    false_positives: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)

    @staticmethod
    def _ratio(numerator: int, denominator: int) -> float:
        return numerator / denominator if denominator else 1.0

    @property
    def precision(self) -> float:
        return self._ratio(self.true_positives, self.reported)

    @property
    def recall(self) -> float:
        return self._ratio(self.found, self.expected)

    @property
    def flag_precision(self) -> float:
        return self._ratio(self.flag_true_positives, self.flag_reported)

    @property
    def flag_recall(self) -> float:
        return self._ratio(self.flag_found, self.flag_expected)

    def add(self, other: Score) -> None:
        for name in (
            "true_positives",
            "reported",
            "expected",
            "found",
            "flag_true_positives",
            "flag_reported",
            "flag_expected",
            "flag_found",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.false_positives.extend(other.false_positives)
        self.missed.extend(other.missed)


def projects(corpus_dir: Path) -> list[Path]:
    return sorted(p for p in corpus_dir.iterdir() if (p / "expected.json").is_file())


def load_expected(project: Path) -> dict:
    return json.loads((project / "expected.json").read_text(encoding="utf-8"))


def labeled_flags(corpus_dir: Path) -> set[str]:
    flags: set[str] = set()
    for project in projects(corpus_dir):
        for entry in load_expected(project)["components"]:
            flags.update(entry.get("flags", []))
    return flags


def score_project(
    reported: Reported, expected: dict, *, deep: bool, scored_flags: set[str], label: str = ""
) -> Score:
    all_expected = {
        (e["type"].lower(), e["name"].lower()): set(e.get("flags", [])) for e in expected["components"]
    }
    required = {
        key
        for key, entry in zip(all_expected, expected["components"], strict=True)
        if deep or not entry.get("deep")
    }
    seen: dict[tuple[str, str], set[str]] = {}
    for component_type, name, flags in reported:
        seen.setdefault((component_type.lower(), name.lower()), set()).update(
            f for f in flags if f in scored_flags
        )
    score = Score(reported=len(seen), expected=len(required))
    for key in sorted(seen):
        if key in all_expected:
            score.true_positives += 1
        else:
            score.false_positives.append(f"{label}: {key[0]}:{key[1]}")
    for key in sorted(required):
        if key in seen:
            score.found += 1
        else:
            score.missed.append(f"{label}: {key[0]}:{key[1]}")
    expected_triples = {
        (*key, flag) for key, flags in all_expected.items() if key in required for flag in flags
    }
    optional_triples = {(*key, flag) for key, flags in all_expected.items() for flag in flags}
    reported_triples = {(*key, flag) for key, flags in seen.items() for flag in flags}
    score.flag_reported = len(reported_triples)
    score.flag_true_positives = len(reported_triples & optional_triples)
    score.flag_expected = len(expected_triples)
    score.flag_found = len(expected_triples & reported_triples)
    score.false_positives.extend(
        f"{label}: flag {':'.join(t)}" for t in sorted(reported_triples - optional_triples)
    )
    score.missed.extend(f"{label}: flag {':'.join(t)}" for t in sorted(expected_triples - reported_triples))
    return score
