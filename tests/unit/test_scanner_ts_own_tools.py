"""TypeScript agents with their own tool type: objects typed as it (a factory's returned object, a typed
constant) are tools in a project depending on an LLM SDK; a test's expected value of the same shape is
not a definition."""

from tests.unit.scanner_helpers import scan_tree, tools_of

PACKAGE_JSON = '{"name": "agent", "dependencies": {"openai": "4.0.0"}}\n'

GREP_TOOL = """\
import type { ToolDefinition } from './types.js'

/** builds the grep tool */
export function createGrepTool(): ToolDefinition {
  return {
    name: 'grep',
    description: 'Search files for a pattern {regex}.',
    parameters: {
      type: 'object',
      properties: { pattern: { type: 'string' } },
    },
    async execute(args) {
      return { ok: true }
    },
  }
}
"""

TYPED_CONSTANT = """\
import type { ToolSpec } from '../agent/types'

export const readTool: ToolSpec = {
  name: 'read_file',
  description: 'Read a file.',
  inputSchema: { type: 'object', properties: { path: { type: 'string' } } },
}

export const banner: ToolSpec = {
  name: 'banner',
  description: 'Not a tool without an input schema.',
}
"""


def test_objects_typed_as_the_projects_tool_type(tmp_path):
    result = scan_tree(
        tmp_path,
        {"package.json": PACKAGE_JSON, "src/tools/grep.ts": GREP_TOOL, "src/tools/read.ts": TYPED_CONSTANT},
    )
    assert tools_of(result) == {"grep": {("src/tools/grep.ts", 6)}, "read_file": {("src/tools/read.ts", 4)}}


def test_typed_tool_objects_need_an_llm_sdk_in_the_manifest(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "package.json": '{"name": "cli", "dependencies": {"commander": "12.0.0"}}\n',
            "src/grep.ts": GREP_TOOL,
        },
    )
    assert tools_of(result) == {}


def test_expected_value_of_a_test_is_not_a_tool_definition(tmp_path):
    test = """\
import { describe, it, expect, vi } from 'vitest'

vi.mock('@anthropic-ai/sdk', () => ({ default: class {} }))

const tools = [{ name: 'lookup', description: 'Look up', input_schema: { type: 'object' } }]

describe('claude provider', () => {
  it('converts tools', async () => {
    expect(callArgs['tools']).toStrictEqual([
      {
        name: 'search',
        description: 'Search the web (fast)',
        input_schema: { type: 'object' },
      },
    ])
  })
})
"""
    result = scan_tree(tmp_path, {"package.json": PACKAGE_JSON, "tests/claude.test.ts": test})
    assert set(tools_of(result)) == {"lookup"}
