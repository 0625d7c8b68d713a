"""A factory that defines a function in its body and wraps it as a LlamaIndex tool hands that function
to the framework (engineer AF's sample)."""

from tests.unit.scanner_helpers import scan_tree

FACTORY = """from llama_index.core.tools import FunctionTool


def make_tool(store):
    def lookup(key: str) -> str:
        return store[key]

    return FunctionTool.from_defaults(fn=lookup)
"""

TWO_FACTORIES = """from llama_index.core.tools import FunctionTool


def first(store):
    def lookup(key: str) -> str:
        return store[key]

    return FunctionTool.from_defaults(fn=lookup)


def second(store):
    def lookup(key: str) -> str:
        return store.get(key)

    return lookup
"""


def _tools(result) -> set[str]:
    return {c.name for c in result.components if c.type == "tool"}


def test_a_function_nested_in_a_factory_is_the_tool_it_wraps(tmp_path):
    assert _tools(scan_tree(tmp_path, {"app/tools.py": FACTORY})) == {"lookup"}


def test_a_nested_name_two_factories_share_is_left_unresolved(tmp_path):
    assert _tools(scan_tree(tmp_path, {"app/tools.py": TWO_FACTORIES})) == set()


COMPUTED_NAME = """from pydantic_ai import Tool


def wrap(agent):
    def run(prompt: str) -> str:
        return agent.run_sync(prompt).output

    return Tool(function=run, name=agent.name)
"""


def test_a_nested_function_wrapped_under_a_computed_name_is_left_unnamed(tmp_path):
    assert "run" not in _tools(scan_tree(tmp_path, {"app/wrap.py": COMPUTED_NAME}))
