"""One composition of a YAML text serves every reader: the container, IaC and MCP detectors' node trees
and the configuration detector's values come from it, with the values, errors and trees a fresh parse
gives (a construction that rewrites the trees, merge keys, drops them for the next reader)."""

from __future__ import annotations

import random

import pytest
import yaml

from common.scanner import limits
from common.scanner.detectors.base import FileReport, SourceFile
from common.scanner.detectors.config_env import _tolerant_yaml_loader
from common.scanner.registry import all_detectors

SAFE = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

TEXTS = [
    "a: 1\n",
    "",
    "---\n",
    "---\n---\n",
    "base: &b {x: 1, y: 2}\nuse:\n  <<: *b\n  y: 3\n",
    "=: 1\nk: v\n",
    "? =\n: v\n",
    "- !!merge x\n",
    "a: !Ref Thing\nb: !GetAtt [x, y]\nc: !Sub {k: v}\n",
    "a: 1\n---\nb: [1, 2\n",  # a syntax error in the second document
    "a: !!python/object:os.system x\n---\nb: [1, 2\n",  # a construction error before it
    "a: !!python/object:os.system x\n---\nb: *missing\n",  # one before a composition error
    "a: 1\n---\nb: *missing\n",
    "a: !!timestamp nope\n",
    "first: 1\nfirst: 2\n",
    "list:\n  - &x [1, 2]\n  - *x\n  - <<: {a: 1}\n",
    "{a: b, c: [d, e]}\n",
    "k: 'unterminated\n",
    "a: *missing\n",
]


def _fresh_load(text: str, loader) -> tuple[str, object]:
    """What ``load_yaml_all`` did before: the limits' walk, then PyYAML's own load; a constructor's
    slip on a malformed explicit tag (AttributeError for ``!!timestamp nope``) is a ConstructorError."""
    try:
        limits._check_yaml_events(text)
        return "ok", list(yaml.load_all(text, Loader=loader))
    except limits._CONSTRUCTOR_SLIPS as exc:
        return "ConstructorError", f"{type(exc).__name__}: {exc}"
    except Exception as exc:
        return type(exc).__name__, str(exc)


def _shared_load(text: str, loader) -> tuple[str, object]:
    try:
        return "ok", limits.load_yaml_all(text, loader)
    except Exception as exc:
        return type(exc).__name__, str(exc)


def _shape(node) -> object:
    if node is None:
        return None
    if isinstance(node, yaml.ScalarNode):
        return (node.tag, node.value, node.start_mark.line)
    if isinstance(node, yaml.SequenceNode):
        return (node.tag, [_shape(item) for item in node.value])
    return (node.tag, [(_shape(key), _shape(value)) for key, value in node.value])


def _fresh_trees(text: str) -> object:
    try:
        limits._check_yaml_events(text)
        return [_shape(doc) for doc in yaml.compose_all(text, Loader=SAFE) if doc is not None]
    except Exception as exc:  # PyYAML raises AttributeError for some bad timestamps
        return type(exc).__name__, str(exc)


def _shared_trees(text: str) -> object:
    try:
        return [_shape(doc) for doc in limits.compose_yaml_all(text)]
    except Exception as exc:  # PyYAML raises AttributeError for some bad timestamps
        return type(exc).__name__, str(exc)


def _soups(count: int) -> list[str]:
    rnd = random.Random(33)
    pieces = [
        "a",
        "b",
        ":",
        " ",
        "\n",
        "  ",
        "- ",
        "<<",
        "=",
        "&x ",
        "*x",
        "{",
        "}",
        "[",
        "]",
        ",",
        "!t ",
        "---\n",
        "'",
        "1",
    ]
    return ["".join(rnd.choice(pieces) for _ in range(rnd.randint(1, 30))) for _ in range(count)]


@pytest.mark.parametrize("loader", [SAFE, _tolerant_yaml_loader()])
def test_values_from_the_shared_trees_equal_a_fresh_load(loader):
    for text in [*TEXTS, *_soups(1500)]:
        limits._forget_composed()
        limits._LAST_CHECKED_YAML.clear()
        composed_first = _shared_trees(text)  # another reader composed the text already
        assert composed_first == _fresh_trees(text), text
        assert _shared_load(text, loader) == _fresh_load(text, loader), text
        assert _shared_trees(text) == _fresh_trees(text), text  # and the next reader's trees are intact
        assert _shared_load(text, loader) == _fresh_load(text, loader), text


def test_merge_keys_leave_the_next_readers_trees_as_written():
    text = "base: &b {x: 1}\nuse:\n  <<: *b\n  y: 2\n"
    limits._forget_composed()
    assert limits.load_yaml_all(text, _tolerant_yaml_loader()) == [
        {"base": {"x": 1}, "use": {"x": 1, "y": 2}}
    ]
    use = limits.compose_yaml_all(text)[0].value[1][1]
    assert [key.value for key, _ in use.value] == ["<<", "y"]


def test_a_text_is_composed_once_for_all_its_readers(tmp_path, monkeypatch):
    text = (
        "services:\n  llm:\n    image: ollama/ollama:latest\n    environment:\n"
        "      OPENAI_MODEL: gpt-4o\n      MCP_SERVER: mcp\n"
    )
    path = tmp_path / "docker-compose.yml"
    path.write_text(text)
    source = SourceFile(path=path, relpath=path.name, size=len(text), root=str(tmp_path))
    composed = []
    real_compose_all = yaml.compose_all
    monkeypatch.setattr(
        yaml, "compose_all", lambda *a, **k: composed.append(a[0]) or real_compose_all(*a, **k)
    )
    monkeypatch.setattr(
        yaml, "load_all", lambda *a, **k: pytest.fail("the configuration detector parsed again")
    )
    limits._forget_composed()
    readers = [d for d in all_detectors() if d.applies_to(source)]
    assert {"config", "containers"} <= {d.name for d in readers}
    found = [f for detector in readers for f in detector.detect(source, FileReport())]
    assert any(f.type == "container" for f in found)
    assert composed == [text]


def test_an_error_the_budget_raises_keeps_nothing(monkeypatch):
    text = "a: 1\n"
    limits._forget_composed()

    def stopped(*args, **kwargs):
        raise TimeoutError("budget")

    monkeypatch.setattr(yaml, "compose_all", stopped)
    with pytest.raises(TimeoutError):
        limits.compose_yaml_all(text)
    monkeypatch.undo()
    assert limits.load_yaml_all(text) == [{"a": 1}]


def test_a_mapping_lookup_answers_as_the_first_entry_of_its_items():
    from common.scanner.detectors.containers import YamlNode

    texts = [*TEXTS, "a: 1\na: 2\n? [k]\n: v\n1: x\n'1': y\n", "- a\n- b\n", "plain\n"]
    for text in [*texts, *_soups(800)]:
        try:
            documents = [YamlNode(doc) for doc in limits.compose_yaml_all(text)]
        except Exception:
            continue
        for document in documents:
            keys = [name for name, _ in document.items()] + ["absent", "1", ""]
            for key in keys:
                first = next((value for name, value in document.items() if name == key), None)
                assert document.get(key) == first, (text, key)


@pytest.mark.parametrize("bad_tag", ["!!timestamp nope", "!!timestamp 2020-13-45", "!!int 0x", "!!float abc"])
def test_a_malformed_explicit_tag_is_invalid_yaml_not_a_lost_file(bad_tag, tmp_path):
    """PyYAML's constructors raise AttributeError/ValueError on these, which no reader caught: the file's
    configuration findings were lost behind a detector crash. Now the file is invalid YAML, read as such."""
    from common.scanner import scan_path

    (tmp_path / "app.py").write_text("from openai import OpenAI\n")
    (tmp_path / "config.yaml").write_text(f"when: {bad_tag}\nllm:\n  model: gpt-4o\n")
    result = scan_path(tmp_path, jobs=1)
    assert ("model", "gpt-4o") in {(c.type, c.name) for c in result.components}
    assert [w.message.startswith("invalid YAML") for w in result.warnings] == [True]
