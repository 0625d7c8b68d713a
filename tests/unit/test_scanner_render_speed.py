"""The shortcuts taken for scan speed give the answers of the generic paths they replace."""

from dataclasses import asdict, fields

import pytest

from common.scanner import display, limits
from common.scanner.detectors.containers import compose_yaml_documents
from common.scanner.detectors.mcp_config import McpYamlDetector
from common.scanner.display import display_text, utf8_clean
from common.scanner.model import Component, Location, Relationship, RiskFactor
from common.scanner.walker import _ignore_pattern


@pytest.mark.parametrize(
    "value",
    [
        Location(file="src/caf\udce9.py", line=3, snippet="model = 'gpt-4o'"),
        Relationship(source="file:a\udcff", target="c1", relation="uses_model"),
        RiskFactor(factor="hardcoded_key", points=30, reason="key in source"),
    ],
)
def test_hand_written_to_dict_matches_asdict(value):
    """Every field, in declaration order, cleaned as ``utf8_clean(asdict(...))`` would clean it."""
    expected = asdict(value) if isinstance(value, RiskFactor) else utf8_clean(asdict(value))
    rendered = value.to_dict()
    assert rendered == expected
    assert list(rendered) == [f.name for f in fields(value)]


def _component() -> Component:
    return Component(
        id="c1",
        name="caf\u00e9-\udcff",
        type="model",
        provider="p\u00e9",
        locations=[Location(file="src/caf\udce9.py", line=3, snippet="m = 'caf\u00e9'")],
        flags=("unpinned_model", "f\udcff"),
        risk_factors=[RiskFactor(factor="k\u00e9y", points=30, reason="r\udcff")],
        metadata={"k\udcff": [("a", 1), {"n": "caf\u00e9", 2: None}], "t": ("x",)},
    )


def test_component_to_dict_matches_the_generic_clean():
    component = _component()
    generic = utf8_clean(
        {
            **asdict(component),
            "locations": [asdict(loc) for loc in component.locations],
            "flags": list(component.flags),
        }
    )
    rendered = component.to_dict()
    assert rendered == generic
    assert list(rendered) == [f.name for f in fields(Component)]
    assert rendered["metadata"] is not component.metadata  # a copy, as ``asdict`` gives
    assert rendered["metadata"]["k\\xff"][0] == ["a", 1]


def test_component_to_dict_cleans_each_string_once(monkeypatch):
    """A location's strings are cleaned by the location, not walked again with the component."""
    seen: list[str] = []

    def counting(value: str) -> str:
        seen.append(value)
        return display_text(value)

    monkeypatch.setattr(display, "display_text", counting)
    _component().to_dict()
    assert seen.count("m = 'caf\u00e9'") == 1


def test_utf8_clean_exact_types_and_subclasses():
    class Name(str):
        pass

    data = {"k\udcff": [("a", 1, 2.5, None, True), Name("b\udce9")], "n": {"x": "caf\u00e9"}}
    assert utf8_clean(data) == {
        display_text("k\udcff"): [["a", 1, 2.5, None, True], display_text("b\udce9")],
        "n": {"x": "caf\u00e9"},
    }


def test_yaml_check_remembers_only_passing_text():
    deep = "a: " + "[" * (limits.MAX_NESTING + 2) + "]" * (limits.MAX_NESTING + 2)
    for _ in range(2):  # a failing text raises every time, not only the first
        with pytest.raises(limits.NestingTooDeep):
            limits.check_yaml(deep)
    limits.check_yaml("a: 1\n")
    limits.check_yaml("a: 1\n")
    with pytest.raises(limits.NestingTooDeep):
        limits.check_yaml(deep)


def test_ignore_lines_are_shared_between_ignore_files():
    assert _ignore_pattern("*.pyc") is _ignore_pattern("*.pyc")
    assert _ignore_pattern("*.pyc").match_file("a/b.pyc")


def test_mcp_yaml_servers_found_at_any_depth_with_whole_spec():
    text = (
        "agents:\n"
        "  - tools:\n"
        "      docs:\n"
        "        transport: stdio\n"
        "        command: npx\n"
        "        args: [-y, '@acme/docs-mcp']\n"
        "        env: {A: b}\n"
        "      other:\n"
        "        type: plain\n"
        "        command: ls\n"
    )
    detector = McpYamlDetector()
    [document] = compose_yaml_documents(text)
    servers = list(detector.servers(document, None, 0))
    assert [(name, line) for name, line, _ in servers] == [("docs", 4)]
    assert servers[0][2] == {
        "transport": "stdio",
        "command": "npx",
        "args": ["-y", "@acme/docs-mcp"],
        "env": {"A": "b"},
    }
