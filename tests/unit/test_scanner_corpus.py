"""Precision and recall of the engine on the labeled corpus (tests/fixtures/corpus).

Each project is scanned in normal and deep mode; both must score precision and recall
1.0 for components and for flags (every case is written to be found exactly, so a miss
or an extra is a regression or an out-of-date expectation), never report a labeled hard
negative, and deep mode must find everything normal mode finds.
"""

from functools import cache
from pathlib import Path

import pytest

from common.scanner import scan_path
from common.scanner.evaluation import Score, labeled_flags, load_expected, projects, score_project

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "corpus"
PROJECTS = projects(CORPUS)
THRESHOLD = 1.0


@cache
def scanned(project: Path, deep: bool):
    return scan_path(project, deep=deep, jobs=1)


def reported(project: Path, deep: bool):
    return [(c.type, c.name, c.flags) for c in scanned(project, deep).components]


def test_corpus_covers_every_language_and_format():
    assert len(PROJECTS) >= 15
    suffixes = {p.suffix for project in PROJECTS for p in project.rglob("*")} | {
        p.name for project in PROJECTS for p in project.rglob("*")
    }
    for needed in (
        ".py",
        ".ipynb",
        ".ts",
        ".go",
        ".java",
        ".rb",
        ".cs",
        ".rs",
        ".php",
        ".swift",
        "requirements.txt",
        "pyproject.toml",
        "package.json",
        "package-lock.json",
        "go.mod",
        "Cargo.toml",
        "pom.xml",
        "Gemfile",
        "composer.json",
        "Package.swift",
        ".csproj",
        "build.gradle.kts",
        "setup.py",
    ):
        assert needed in suffixes, needed


@pytest.mark.parametrize("deep", [False, True], ids=["normal", "deep"])
def test_precision_and_recall_reach_the_threshold(deep):
    flags = labeled_flags(CORPUS)
    total = Score()
    for project in PROJECTS:
        total.add(
            score_project(
                reported(project, deep),
                load_expected(project),
                deep=deep,
                scored_flags=flags,
                label=project.name,
            )
        )
    detail = f"false positives: {total.false_positives}; missed: {total.missed}"
    assert total.precision >= THRESHOLD, detail
    assert total.recall >= THRESHOLD, detail
    assert total.flag_precision >= THRESHOLD, detail
    assert total.flag_recall >= THRESHOLD, detail


@pytest.mark.parametrize("project", PROJECTS, ids=[p.name for p in PROJECTS])
def test_hard_negatives_are_never_reported_and_deep_is_a_superset(project):
    absent = {(a["type"].lower(), a["name"].lower()) for a in load_expected(project).get("absent", [])}
    normal = {(t, n) for t, n, _ in reported(project, False)}
    deep = {(t, n) for t, n, _ in reported(project, True)}
    assert not (normal | deep) & absent
    assert normal <= deep


@pytest.mark.parametrize("project", PROJECTS, ids=[p.name for p in PROJECTS])
def test_labeled_scopes(project):
    scopes = {(c.type, c.name): c.scope for c in scanned(project, False).components}
    for entry in load_expected(project)["components"]:
        if "scope" in entry:
            assert scopes[(entry["type"], entry["name"])] == entry["scope"], entry
