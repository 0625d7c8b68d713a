"""Engineer AE's sample: a config file named for models holds model ids as values; a catalog entry's
display ``name`` is no model beside its ``id``; fast-mcp's namespace needs no require (Rails, specs),
and an anonymous fast-mcp tool names itself through ``def self.name``."""

from common.scanner.detectors.config_env import catalog_models_under_model_keys
from tests.unit.scanner_helpers import scan_tree

LLM_MODELS_JSON = """{
    "openai": {"GPT-4.1": "gpt-4.1", "o4-mini": "o4-mini"},
    "anthropic": {"Claude Sonnet 4": "claude-sonnet-4-20250514"}
}
"""

AGENT = """from langchain_openai import ChatOpenAI

llm = ChatOpenAI()
"""

FAST_MCP_SPEC = """require 'spec_helper'

RSpec.describe 'Notes server' do
  let(:server) { FastMcp::Server.new(name: 'notes-test-server', version: '1.0.0') }

  let(:echo_tool) do
    Class.new(FastMcp::Tool) do
      def self.name
        'echo'
      end

      def call(text:)
        text
      end
    end
  end

  it 'lists the tool' do
    server.register_tool(echo_tool)
    expect(server.tools.keys).to include('echo')
  end
end
"""


def model_locations(result):
    return {(c.name, loc.file) for c in result.components if c.type == "model" for loc in c.locations}


def test_a_file_named_for_models_holds_its_ids_as_values(tmp_path):
    result = scan_tree(tmp_path, {"src/models/llm_models.json": LLM_MODELS_JSON, "src/agent.py": AGENT})
    models = model_locations(result)
    for model in ("gpt-4.1", "o4-mini", "claude-sonnet-4-20250514"):
        assert (model, "src/models/llm_models.json") in models


def test_values_of_other_files_need_a_model_key():
    document = {"openai": {"GPT-4.1": "gpt-4.1"}}
    assert catalog_models_under_model_keys(document) == []
    assert "gpt-4.1" in catalog_models_under_model_keys(document, named_for_models=True)


def test_a_catalog_entry_is_called_by_its_id_not_its_display_name():
    document = {"models": [{"id": "phi4", "name": "Phi-4"}, {"id": 7, "name": "gpt-4o-mini"}]}
    found = catalog_models_under_model_keys(document)
    assert "Phi-4" not in found
    assert "phi4" in found
    assert "gpt-4o-mini" in found  # an id that is no model id leaves the name the model


def test_a_fast_mcp_spec_builds_a_server_and_an_anonymous_tool_without_a_require(tmp_path):
    result = scan_tree(tmp_path, {"spec/notes_server_spec.rb": FAST_MCP_SPEC})
    found = {(c.type, c.name) for c in result.components}
    assert ("mcp_server", "notes-test-server") in found
    assert ("tool", "echo") in found


def test_a_ruby_file_without_fast_mcp_constants_stays_silent(tmp_path):
    plain = "class FastMcpSettings\n  def self.name\n    'echo'\n  end\nend\n"
    result = scan_tree(tmp_path, {"lib/settings.rb": plain})
    assert not result.components


MODEL_LIST_RESPONSE = """{
  "object": "list",
  "data": [
    {"id": "gpt-4o-mini", "object": "model", "created": 1721172741, "owned_by": "system"},
    {"id": "text-embedding-3-small", "object": "model", "created": 1705948997, "owned_by": "system"}
  ]
}
"""


def test_a_saved_model_list_response_named_for_models_is_data(tmp_path):
    result = scan_tree(tmp_path, {"scripts/list_models.json": MODEL_LIST_RESPONSE, "src/agent.py": AGENT})
    assert not [
        loc for c in result.components for loc in c.locations if loc.file == "scripts/list_models.json"
    ]
