"""The ninth pass's cheaper forms (a Python module's comment tables built on demand, the environment-default
gate, letter-only literals dropped before the tier pattern, YAML parents copied on demand) give the answers
of what they replace, and skip the work they were written to skip."""

from __future__ import annotations

import random

from common.scanner import textutil
from common.scanner.detectors import config_env, languages, python_code
from common.scanner.detectors.base import FileReport, SourceFile
from common.scanner.detectors.python_code import PythonDetector
from tests.unit.scanner_helpers import record_pattern_calls


def _python_file(tmp_path, text: str, name: str = "settings.py") -> SourceFile:
    path = tmp_path / name
    path.write_text(text)
    return SourceFile(path=path, relpath=name, size=len(text.encode()), root=str(tmp_path))


def _refuse(name: str):
    def refused(*args):
        raise AssertionError(f"{name} built for a module with no candidate literal")

    return refused


PLAIN_MODULE = (
    '"""Settings."""\n'
    "import os\n"
    "# a comment\n"
    'NAME = "service"  # trailing\n'
    'PATH = "/var/lib/x-1"\n'
    "def f():\n"
    '    """Doc."""\n'
    '    return {"key": "value", "n": "v2"}\n'
)


def test_comment_tables_are_not_built_for_a_module_without_a_candidate_literal(tmp_path, monkeypatch):
    for name in ("comment_lines", "hash_comment_offsets", "triple_quoted_lines", "mock_assertion_spans"):
        monkeypatch.setattr(python_code, name, _refuse(name))
    source = _python_file(tmp_path, PLAIN_MODULE)
    assert list(PythonDetector().detect(source, FileReport())) == []
    ai_module = "import openai\n" + PLAIN_MODULE + "client = openai.OpenAI()\n"
    found = PythonDetector().detect(_python_file(tmp_path, ai_module), FileReport())
    assert {f.type for f in found} == {"llm_provider"}


def test_catalog_literals_in_comments_and_docstrings_are_still_skipped(tmp_path):
    text = (
        "import openai\n"
        "client = openai.OpenAI()\n"
        '# "gpt-4o-mini" in a comment\n'
        '"""\nUsage: "o3-mini"\n"""\n'
        'CHOICES = ["gpt-4.1-nano"]  # "claude-3-5-haiku-20241022"\n'
        'ROUTES = {"fast": "gemini-2.0-flash"}\n'
    )
    found = {
        f.name
        for f in PythonDetector().detect(_python_file(tmp_path, text), FileReport())
        if f.type == "model"
    }
    assert found == {"gpt-4.1-nano", "gemini-2.0-flash"}


def test_environment_defaults_are_searched_only_where_an_environment_read_is_written(tmp_path, monkeypatch):
    searched = record_pattern_calls(monkeypatch, python_code, "ENV_DEFAULT", "finditer")
    detector = PythonDetector()
    list(detector.env_default_models(_python_file(tmp_path, PLAIN_MODULE), []))
    assert searched == []
    for read in ('os.getenv("LLM_MODEL", "gpt-4o-mini")', 'os.environ.get("LLM_MODEL", "gpt-4o-mini")'):
        text = f"import os\nMODEL = {read}\n"
        found = list(detector.env_default_models(_python_file(tmp_path, text), []))
        assert [f.name for f in found] == ["gpt-4o-mini"]
    assert len(searched) == 2


def test_a_word_of_letters_is_never_a_plausible_model_name():
    rnd = random.Random(41)
    letters = "abzAZproflashminiembedRr\u017f\u212a\u0130\u00df\u00e9\u03a3\u03bb\u0436\u3042\u6f22"
    words = ["pro", "R", "r", "embedding", "Base", "\u017fmall", "chat", "max"]
    words += ["".join(rnd.choice(letters) for _ in range(rnd.randint(1, 12))) for _ in range(3000)]
    for word in words:
        assert word.isalpha()
        assert not textutil.plausible_model_name(word), word


def test_letter_words_skip_the_tier_pattern(monkeypatch):
    seen = record_pattern_calls(monkeypatch, textutil, "_VERSIONED_OR_TIERED", "search")
    text = 'a = "pro"\nb = "chat"\nc = "gpt-4o"\nd = "Base"\n'
    assert list(textutil.code_model_literals(text, set())) == [(3, "gpt-4o")]
    assert seen == ["gpt-4o"]


def _parents_by_copy(lines: list[str]) -> list[tuple[list[str], str]]:
    """Each line's keys and path as ``YamlParents`` gave them when it copied the keys on every line."""
    stack: list[tuple[int, str]] = []
    found = []
    for line in lines:
        match = textutil.YamlParents.KEY.match(line)
        if not match or not line.strip() or line.lstrip().startswith("#"):
            current = [key for _, key in stack]
        else:
            indent = len(match.group(1))
            while stack and stack[-1][0] >= indent:
                stack.pop()
            current = [key for _, key in stack]
            stack.append((indent, match.group(2)))
        found.append((current, ".".join(current)))
    return found


def test_yaml_parents_answer_as_when_they_copied_every_line():
    rnd = random.Random(43)
    pieces = ["a:", "b: 1", "- c:", '"d":', "# e:", "", "x", "  ", "\t", "f.g-h:", "- ", "'i': 2"]
    for _ in range(2000):
        lines = [" " * rnd.randint(0, 6) + rnd.choice(pieces) for _ in range(rnd.randint(0, 12))]
        parents = textutil.YamlParents()
        answers = []
        for line in lines:
            parents.see(line)
            answers.append((parents.current, parents.path()))
        assert answers == _parents_by_copy(lines), lines


def _catalog_models_pushing_every_leaf(
    document: object, limit: int = config_env.MAX_CONFIG_FACTS
) -> list[str]:
    """``catalog_models_under_model_keys`` as it was when every leaf went on the stack."""
    found: list[str] = []
    stack: list[tuple[bool, object, int]] = [(False, document, 0)]
    while stack and len(found) < limit:
        under_model_key, node, depth = stack.pop()
        if depth > config_env.MAX_CONFIG_DEPTH:
            continue
        if isinstance(node, dict):
            if config_env._names_a_model_variable(node) and textutil.is_catalog_model(node["value"].strip()):
                found.append(node["value"].strip())
            labelled = "name" in node and config_env._says_its_model(node)
            for key, value in node.items():
                named = alias = False
                if isinstance(key, str):
                    names_models, served = config_env._key_names(key)
                    litellm_alias = key == "model_name" and "litellm_params" in node
                    named = names_models and not litellm_alias
                    alias = served or litellm_alias or (labelled and key == "name")
                    if under_model_key and textutil.is_catalog_model(key):
                        found.append(key)
                stack.append(((under_model_key or named) and not alias, value, depth + 1))
        elif isinstance(node, list):
            stack.extend(
                (under_model_key and not config_env._follows_served_alias(node, index), item, depth + 1)
                for index, item in enumerate(node)
            )
        elif isinstance(node, str) and under_model_key and textutil.is_catalog_model(node.strip()):
            found.append(node.strip())
    return found


def test_catalog_models_under_model_keys_answer_as_when_every_leaf_was_stacked():
    rnd = random.Random(47)
    keys = ["model", "models", "llm", "name", "value", "served_model_name", "model_name", "litellm_params"]
    keys += ["engine", "deployment", "image", "embed_model", "x", 3, None, "gpt-4o"]
    leaves = ["gpt-4o", "claude-3-5-sonnet-20241022", " gemini-1.5-pro ", "--served-model-name", "llama3"]
    leaves += [
        "meta-llama/Llama-3.1-8B-Instruct",
        "chat",
        7,
        2.5,
        True,
        None,
        "o3-mini",
        "text-embedding-3-small",
    ]

    def node(depth: int) -> object:
        roll = rnd.random()
        if depth > 4 or roll < 0.4:
            return rnd.choice(leaves)
        if roll < 0.7:
            return [node(depth + 1) for _ in range(rnd.randint(0, 4))]
        return {rnd.choice(keys): node(depth + 1) for _ in range(rnd.randint(0, 4))}

    for _ in range(3000):
        document = node(0)
        for limit in (1, 2, config_env.MAX_CONFIG_FACTS):
            expected = _catalog_models_pushing_every_leaf(document, limit)
            assert config_env.catalog_models_under_model_keys(document, limit) == expected, document
    deep = "gpt-4o"
    for _ in range(config_env.MAX_CONFIG_DEPTH + 3):
        deep = {"model": [deep]}
    assert config_env.catalog_models_under_model_keys(deep) == _catalog_models_pushing_every_leaf(deep)


def test_provider_kind_keys_answer_as_the_pattern():
    rnd = random.Random(53)
    pieces = [
        "api",
        "API",
        "Api",
        "_",
        ".",
        "-",
        " ",
        "type",
        "TYPE",
        "provider",
        "Backend",
        "kind",
        "\u212aind",
    ]
    pieces += ["\n", "x", "s", "\u017f", "\u0130", "\u0131", "é"]
    keys: list[object] = [3, None, True, "", "apitype", "api__type", "type\n", "\nkind", "kind "]
    keys += ["".join(rnd.choice(pieces) for _ in range(rnd.randint(1, 4))) for _ in range(5000)]
    for key in keys:
        expected = config_env.PROVIDER_KIND_KEY.match(str(key)) is not None
        assert config_env._names_provider_kind(key) == expected, key


def _model_like_values_spelling_every_path(
    document: object, limit: int = config_env.MAX_CONFIG_FACTS
) -> dict:
    found: dict[str, str] = {}
    stack: list[tuple[str, object]] = [("", document)]
    while stack and len(found) < limit:
        prefix, node = stack.pop()
        if not isinstance(node, dict):
            continue
        for key, value in node.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(value, str) and textutil.plausible_model_name(value.strip()):
                found[path] = value.strip()
            elif isinstance(value, dict) and path.count(".") < config_env.MAX_CONFIG_DEPTH:
                stack.append((path, value))
    return found


def test_model_like_values_answer_as_when_every_path_was_spelled():
    rnd = random.Random(59)
    keys: list[object] = ["llm", "model", "a.b", "", 3, None, "x"]
    leaves: list[object] = ["gpt-4o", " o3-mini ", "plain", 1, None, ["gpt-4o"], "a/b-1"]

    def node(depth: int) -> object:
        if depth > 12 or rnd.random() < 0.35:
            return rnd.choice(leaves)
        return {rnd.choice(keys): node(depth + 1) for _ in range(rnd.randint(0, 4))}

    for _ in range(3000):
        document = node(0)
        for limit in (1, 3, config_env.MAX_CONFIG_FACTS):
            expected = _model_like_values_spelling_every_path(document, limit)
            assert list(config_env.model_like_values(document, limit).items()) == list(expected.items())


def test_bare_hosts_read_no_literal_of_a_text_without_a_known_host(monkeypatch):
    read = []
    monkeypatch.setattr(languages, "string_literals", lambda text: read.append(text) or [])
    assert languages.GoDetector.bare_hosts('x := "example.com"\ny := "a.b"\n') == []
    assert read == []
    languages.GoDetector.bare_hosts('host := "API.OpenAI.com"\n')
    assert len(read) == 1


def test_every_known_host_in_any_case_opens_the_bare_host_gate():
    hosts = textutil._endpoint_tables()[0]["hosts"]
    for host in hosts:
        for written in (host, host.upper(), host.title()):
            text = f'cfg.Host = "{written}"\n'
            assert textutil.mentions_known_ai_host(text), written
            assert [value for _, value in languages.GoDetector.bare_hosts(text)] == [written]
