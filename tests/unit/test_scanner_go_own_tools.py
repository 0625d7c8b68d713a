"""Go agents that write their own LLM client and their own tool types, with no LLM SDK in the module:
tool types (``Name``/``Description``/``Schema``/``Run`` methods) and tool catalogs written as literals of
the project's spec type are tools when the module calls an LLM API by hand; the same shapes in a module
that names no AI API (a CLI's commands, a plugin system) are not."""

from tests.unit.scanner_helpers import scan_tree, tools_of

GO_MOD = "module example.com/agent\n\ngo 1.22\n"

# the module's own client: a chat completions call by raw HTTP, no SDK
HAND_CLIENT = """\
package llm

import (
\t"bytes"
\t"net/http"
)

const baseURL = "https://api.openai.com/v1"

func Complete(body []byte) (*http.Response, error) {
\treturn http.Post(baseURL+"/chat/completions", "application/json", bytes.NewReader(body))
}
"""

GIT_TOOLS = """\
package git

import (
\t"context"
\t"encoding/json"
)

type StatusTool struct{}

func (StatusTool) Name() string        { return "git.status" }
func (StatusTool) Description() string { return "Show the working tree status." }
func (StatusTool) Schema() json.RawMessage {
\treturn json.RawMessage(`{"type":"object","properties":{"dir":{"type":"string"}}}`)
}
func (StatusTool) Run(ctx context.Context, input json.RawMessage) (json.RawMessage, error) {
\treturn nil, nil
}

type DiffTool struct{}

func (*DiffTool) Name() string        { return "git.diff" }
func (*DiffTool) Description() string { return "Show the diff." }
func (*DiffTool) Schema() json.RawMessage {
\treturn json.RawMessage(`{"type":"object"}`)
}
func (*DiffTool) Run(ctx context.Context, input json.RawMessage) (json.RawMessage, error) {
\treturn nil, nil
}
"""

CATALOG = """\
package agent

import "encoding/json"

type catalogTool struct {
\tName        string
\tDescription string
\tSchema      json.RawMessage
}

func catalog() []catalogTool {
\treturn []catalogTool{{
\t\tName:        "task.create",
\t\tDescription: "Create a task {with braces in prose}.",
\t\tSchema:      json.RawMessage(`{"type":"object","properties":{"goal":{"type":"string"}}}`),
\t}, {
\t\tName:        "task.list",
\t\tDescription: "List tasks.",
\t\tSchema:      json.RawMessage(`{"type":"object"}`),
\t}, {
\t\tName:   "no.description",
\t\tSchema: json.RawMessage(`{}`),
\t}}
}

func finalTool() ToolSpec {
\treturn ToolSpec{
\t\tName:        "final.submit",
\t\tDescription: "Submit the final answer.",
\t}
}
"""


def test_tool_types_of_a_module_with_its_own_llm_client(tmp_path):
    result = scan_tree(
        tmp_path,
        {"go.mod": GO_MOD, "llm/client.go": HAND_CLIENT, "tools/git/git.go": GIT_TOOLS},
    )
    tools = tools_of(result)
    # receivers written without a name (``(StatusTool)``, ``(*DiffTool)``) each name their own type
    assert tools == {"git.status": {("tools/git/git.go", 10)}, "git.diff": {("tools/git/git.go", 21)}}


def test_tool_types_need_the_module_to_call_an_llm(tmp_path):
    result = scan_tree(tmp_path, {"go.mod": GO_MOD, "tools/git/git.go": GIT_TOOLS})
    assert tools_of(result) == {}


def test_command_types_without_an_input_schema_are_not_tools(tmp_path):
    command = """\
package cli

import "context"

type BuildCommand struct{}

func (BuildCommand) Name() string        { return "build" }
func (BuildCommand) Description() string { return "Build the project." }
func (BuildCommand) Run(ctx context.Context, args []string) error { return nil }
"""
    result = scan_tree(tmp_path, {"go.mod": GO_MOD, "llm/client.go": HAND_CLIENT, "cli/build.go": command})
    assert tools_of(result) == {}


def test_fake_tool_of_a_go_test_is_not_a_tool_but_a_test_folder_package_is(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "go.mod": GO_MOD,
            "llm/client.go": HAND_CLIENT,
            "agent/agent_test.go": GIT_TOOLS.replace("package git", "package agent"),
            "tools/test/test.go": GIT_TOOLS.replace("package git", "package test").replace("git.", "go."),
        },
    )
    assert set(tools_of(result)) == {"go.status", "go.diff"}


def test_tool_types_of_an_sdk_module_without_receiver_names_are_each_reported(tmp_path):
    code = """\
package tools

import "context"

type Clock struct{}

func (Clock) Name() string        { return "clock" }
func (Clock) Description() string { return "Current time." }
func (Clock) Run(ctx context.Context, input string) (string, error) { return "", nil }

type Stock struct{}

func (Stock) Name() string        { return "stock_price" }
func (Stock) Description() string { return "Price of a stock." }
func (Stock) Run(ctx context.Context, input string) (string, error) { return "", nil }
"""
    go_mod = GO_MOD + "\nrequire github.com/sashabaranov/go-openai v1.20.0\n"
    result = scan_tree(tmp_path, {"go.mod": go_mod, "tools/tools.go": code})
    # both types end in "k": a receiver pattern that let the type lend its last letter merged them
    assert set(tools_of(result)) == {"clock", "stock_price"}


def test_tool_catalog_literals_of_the_projects_spec_type(tmp_path):
    result = scan_tree(
        tmp_path, {"go.mod": GO_MOD, "llm/client.go": HAND_CLIENT, "agent/catalog.go": CATALOG}
    )
    assert tools_of(result) == {
        "task.create": {("agent/catalog.go", 13)},
        "task.list": {("agent/catalog.go", 17)},
        "final.submit": {("agent/catalog.go", 28)},
    }


def test_tool_catalog_literals_need_the_module_to_call_an_llm(tmp_path):
    result = scan_tree(tmp_path, {"go.mod": GO_MOD, "agent/catalog.go": CATALOG})
    assert tools_of(result) == {}


def test_tool_type_whose_schema_carries_its_description(tmp_path):
    code = """\
package search

import (
\t"context"
\t"encoding/json"

\t"example.com/agent/tools"
)

type WikiTool struct{}

func (t *WikiTool) Name() string {
\treturn "wikipedia"
}

func (t *WikiTool) Schema() tools.Schema {
\treturn tools.Schema{Description: "Summary of a topic from Wikipedia."}
}

func (t *WikiTool) Execute(ctx context.Context, input json.RawMessage) (json.RawMessage, error) {
\treturn nil, nil
}
"""
    result = scan_tree(
        tmp_path, {"go.mod": GO_MOD, "llm/client.go": HAND_CLIENT, "tools/search/wiki.go": code}
    )
    assert tools_of(result) == {"wikipedia": {("tools/search/wiki.go", 13)}}


def test_a_client_the_scan_ignores_does_not_make_tools(tmp_path):
    """The module's files are the ones the scan walks: a hand-written client that ``.truseraignore`` or a
    ``.gitignore`` (of the module or a folder above it) leaves out is not read for it."""
    files = {"go.mod": GO_MOD, "llm/client.go": HAND_CLIENT, "tools/git/git.go": GIT_TOOLS}
    assert tools_of(scan_tree(tmp_path / "kept", files)) != {}
    assert tools_of(scan_tree(tmp_path / "user", {**files, ".truseraignore": "llm/\n"})) == {}
    nested = {f"svc/{path}": text for path, text in files.items()}
    assert tools_of(scan_tree(tmp_path / "above", {**nested, ".gitignore": "svc/llm/\n"})) == {}
    assert tools_of(scan_tree(tmp_path / "module", {**nested, "svc/.gitignore": "llm/\n"})) == {}
    # no go.mod: the scanned root is the module, walked by the same rules
    rootless = {"llm/client.go": HAND_CLIENT, "tools/git/git.go": GIT_TOOLS}
    assert tools_of(scan_tree(tmp_path / "bare", rootless)) != {}
    assert tools_of(scan_tree(tmp_path / "bare-ignored", {**rootless, ".truseraignore": "llm/\n"})) == {}
