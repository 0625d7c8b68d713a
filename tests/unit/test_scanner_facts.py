"""Deep mode over typed facts, and the component key every detector builds."""

from __future__ import annotations

import pickle

import pytest

from common.scanner.deep import resolve
from common.scanner.detectors.python_code import analyse_python
from common.scanner.facts import FileFacts, ModelReference, ToolReference
from common.scanner.keys import component_key, split_component_key


def test_a_reference_to_another_modules_constant_resolves_and_relates_the_sdk():
    facts = {
        "app/config.py": FileFacts(module="app.config", constants={"CHAT_MODEL": "gpt-4o"}),
        "app/main.py": FileFacts(
            module="app.main",
            unresolved_models=[
                ModelReference(
                    "name",
                    7,
                    strong=True,
                    module="config",
                    name="CHAT_MODEL",
                    relation_from=component_key("llm_provider", "openai"),
                    snippet="client.chat(model=CHAT_MODEL)",
                )
            ],
        ),
    }
    added = resolve(facts, [])
    model, sdk = added
    assert (model.key, model.location.file, model.location.line) == ("model:gpt-4o", "app/main.py", 7)
    assert model.metadata["resolved_from"] == "config.CHAT_MODEL"
    assert (sdk.key, sdk.type, sdk.name) == ("llm_provider:openai", "llm_provider", "openai")
    assert sdk.relations == [("uses_model", "model:gpt-4o")]


def test_env_and_config_references_take_values_only_the_project_holds_unambiguously():
    facts = {
        ".env": FileFacts(env={"LLM_MODEL": "claude-3-5-haiku-20241022"}),
        "a.yaml": FileFacts(config_values={"llm.model": "gpt-4o", "llm.backup": "gpt-4o-mini"}),
        "b.yaml": FileFacts(config_values={"llm.backup": "o3-mini"}),  # disagrees: left out
        "app.py": FileFacts(
            module="app",
            unresolved_models=[
                ModelReference("env", 3, var="LLM_MODEL"),
                ModelReference("config", 4, path="llm.model"),
                ModelReference("config", 5, path="llm.backup"),
            ],
        ),
    }
    found = {(f.key, f.location.line, f.metadata["resolved_from"]) for f in resolve(facts, [])}
    assert found == {
        ("model:claude-3-5-haiku-20241022", 3, "env LLM_MODEL"),
        ("model:gpt-4o", 4, "config a.yaml: llm.model"),
    }


def test_an_agent_handed_a_tool_from_another_module_uses_it():
    facts = {
        "tools/search.py": FileFacts(module="tools.search", tools={"web_search": "tool:web_search"}),
        "agent.py": FileFacts(
            module="agent",
            detector="notebook",
            agent_tool_refs=[ToolReference("agent_framework:langchain", "tools.search.web_search", 9)],
        ),
    }
    (agent,) = resolve(facts, [])
    assert (agent.key, agent.detector, agent.relations) == (
        "agent_framework:langchain",
        "notebook",
        [("uses_tool", "tool:web_search")],
    )


def test_facts_are_empty_without_anything_to_resolve_and_travel_between_processes():
    assert not FileFacts(module="app.main")
    merged = FileFacts(module="app.main")
    merged.update(FileFacts(env={"MODEL": "gpt-4o"}))
    merged.update(FileFacts(detector="notebook"))
    assert merged and (merged.module, merged.env, merged.detector) == (
        "app.main",
        {"MODEL": "gpt-4o"},
        "notebook",
    )
    assert pickle.loads(pickle.dumps(merged)) == merged


def test_the_python_detector_leaves_typed_references_with_the_line_and_snippet_of_use():
    source = (
        "import openai\nfrom settings import MODEL\n\nopenai.OpenAI().chat.completions.create(model=MODEL)\n"
    )
    facts = analyse_python(source, "app/main.py", "python").facts
    (ref,) = facts.unresolved_models
    assert (ref.kind, ref.module, ref.name, ref.line) == ("name", "settings", "MODEL", 4)
    assert ref.relation_from == "llm_provider:openai" and "model=MODEL" in ref.snippet


@pytest.mark.parametrize(
    ("component_type", "name"), [("model", "gpt-4o"), ("endpoint", "localhost:11434"), ("tool", "")]
)
def test_a_component_key_splits_back_into_its_type_and_name(component_type, name):
    assert split_component_key(component_key(component_type, name)) == (component_type, name)
