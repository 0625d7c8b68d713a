"""The MCP client-config detector: Cursor, VS Code and Claude Desktop configs, remote servers,
masked secrets, negatives and bad input."""

from __future__ import annotations

import json

from common.scanner.detectors.mcp_config import McpCliDetector, McpConfigDetector, McpYamlDetector
from tests.unit.detector_helpers import GITHUB_TOKEN, OPENAI_KEY, by_key, dump, run, write

CURSOR_MCP = {
    "mcpServers": {
        "github": {
            "command": "npx",
            "args": ["-y", "@modelcontextprotocol/server-github@2025.4.8"],
            "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": GITHUB_TOKEN},
        },
        "fetch": {"command": "uvx", "args": ["mcp-server-fetch"]},
        "weird": {"command": "npx", "args": ["-y", "totally-legit-mcp"], "env": {"API_KEY": "${API_KEY}"}},
        "db": {
            "command": "npx",
            "args": ["-y", "@modelcontextprotocol/server-postgres", "postgresql://admin:s3cretpass@db/app"],
        },
        "linear": {"url": "https://mcp.linear.app/sse"},
        "shady": {"command": "npx", "args": ["mcp-remote", "https://mcp.shady.example/mcp"]},
        "git-src": {"command": "uvx", "args": ["--from", "git+https://github.com/x/y", "y-mcp"]},
        "mine": {"command": "node", "args": ["./server/index.js"]},
        "local-http": {"url": "http://localhost:3001/mcp"},
        "placeholder": {"command": "npx", "args": ["@playwright/mcp"], "env": {"TOKEN": "your-token-here"}},
    }
}


def test_cursor_config_servers_flags_and_masked_secrets(tmp_path):
    text = json.dumps(CURSOR_MCP, indent=2)
    findings, report = run(McpConfigDetector(), tmp_path, ".cursor/mcp.json", text)
    found = by_key(findings)
    flags = {
        key.split(":", 1)[1]: entry["flags"] for key, entry in found.items() if key.startswith("mcp_server:")
    }
    assert flags == {
        "github": {"hardcoded_api_key"},
        "fetch": set(),
        "weird": {"mcp_unknown_server"},
        "db": {"hardcoded_api_key"},
        "linear": {"mcp_remote_server"},
        "shady": {"mcp_remote_server", "mcp_unknown_server"},
        "git-src": {"mcp_unknown_server"},
        "mine": set(),
        "local-http": set(),
        "placeholder": set(),
    }
    github = found["mcp_server:github"]
    assert github["lines"] == {3, 10}  # the server and the line holding its token
    assert github["findings"][0].version == "2025.4.8"
    assert github["findings"][0].metadata["package"] == "@modelcontextprotocol/server-github"
    client = found["mcp_client:cursor"]["findings"][0]
    assert ("connects_to", "mcp_server:github") in client.relations
    serialized = dump(findings)
    assert GITHUB_TOKEN not in serialized and "s3cretpass" not in serialized
    assert report.warnings == []


def test_vscode_settings_jsonc_and_claude_desktop(tmp_path):
    settings = """{
  // editor settings
  "editor.fontSize": 14,
  /* MCP */
  "mcp": {
    "servers": {
      "gh": {
        "command": "docker",
        "args": ["run", "-i", "--rm", "-e", "GITHUB_TOKEN", "ghcr.io/github/github-mcp-server"],
        "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": "${input:github_token}"},
      },
    },
  },
}"""
    findings, report = run(McpConfigDetector(), tmp_path, ".vscode/settings.json", settings)
    assert [(f.key, f.flags, f.location.line) for f in findings] == [
        ("mcp_server:gh", set(), 7),
        ("mcp_client:vscode", set(), 0),
    ]
    assert report.warnings == []
    desktop = {"mcpServers": {"notes": {"command": "/opt/bin/notes-mcp", "args": []}}}
    findings, _ = run(McpConfigDetector(), tmp_path, "claude_desktop_config.json", json.dumps(desktop))
    assert [(f.key, f.flags) for f in findings] == [
        ("mcp_server:notes", {"mcp_unknown_server"}),
        ("mcp_client:claude-desktop", set()),
    ]


def test_remote_server_headers_with_key(tmp_path):
    config = {
        "servers": {
            "search": {
                "type": "http",
                "url": "https://mcp.example.ai/mcp",
                "headers": {"Authorization": f"Bearer {OPENAI_KEY}"},
            }
        }
    }
    findings, _ = run(McpConfigDetector(), tmp_path, ".vscode/mcp.json", json.dumps(config, indent=1))
    server = by_key(findings)["mcp_server:search"]
    assert server["flags"] == {"mcp_remote_server", "mcp_unknown_server", "hardcoded_api_key"}
    assert OPENAI_KEY not in dump(findings)


def test_mcp_negatives_and_bad_input(tmp_path):
    detector = McpConfigDetector()
    assert not detector.applies_to(write(tmp_path, "package.json", "{}"))
    assert not detector.applies_to(write(tmp_path, "docs/mcp.md", "mcp.json"))
    findings, report = run(detector, tmp_path, "mcp.json", '{"mcpServers": {"a": ')
    assert findings == [] and "not valid JSON" in report.warnings[0]
    findings, report = run(detector, tmp_path, "deep/mcp.json", "[" * 100_000 + "]" * 100_000)
    assert findings == [] and report.warnings
    findings, _ = run(detector, tmp_path, "other/mcp.json", '{"mcpServers": {}, "servers": []}')
    assert findings == []


def test_claude_code_plugin_mcp_json_may_map_names_to_servers_unwrapped(tmp_path):
    """A plugin's ``.mcp.json`` maps server names straight to specs (no ``mcpServers`` wrapper); only the
    entries that start a command or reach a URL are servers, and the wrapped form still wins."""
    unwrapped = {
        "db": {"command": "${CLAUDE_PLUGIN_ROOT}/bin/db-server", "args": ["--port", "8080"]},
        "search": {"type": "http", "url": "https://search.example.com/mcp"},
        "notes": {"description": "no command, no URL"},
        "version": "1.0",
    }
    text = json.dumps(unwrapped, indent=2)
    findings, _ = run(McpConfigDetector(), tmp_path, "plugins/db/.mcp.json", text)
    found = by_key(findings)
    assert set(found) == {"mcp_server:db", "mcp_server:search", "mcp_client:claude-code"}
    assert found["mcp_server:db"]["lines"] == {2} and found["mcp_server:search"]["lines"] == {9}
    wrapped = {
        "mcpServers": {"fetch": {"command": "uvx", "args": ["mcp-server-fetch"]}},
        "db": unwrapped["db"],
    }
    findings, _ = run(McpConfigDetector(), tmp_path, "wrapped/.mcp.json", json.dumps(wrapped))
    assert {f.key for f in findings if f.type == "mcp_server"} == {"mcp_server:fetch"}
    # other client configs keep their one documented shape
    findings, _ = run(McpConfigDetector(), tmp_path, ".cursor/mcp.json", text)
    assert findings == []


AGENT_CONFIG = """execution_engine: asyncio
mcp:
  servers:
    fetch:
      command: "uvx"
      args: ["mcp-server-fetch"]
    docs:
      url: "https://docs.example.com/mcp"
    tuning:
      timeout: 30
"""


def test_mcp_agent_servers_section_names_its_servers_and_client(tmp_path):
    """mcp-agent's and fast-agent's ``mcp: servers:`` entries carry no transport: the section says they are
    servers, each one that starts a command or reaches a URL; the file name says which client reads them."""
    findings, _ = run(McpYamlDetector(), tmp_path, "app/mcp_agent.config.yaml", AGENT_CONFIG)
    found = by_key(findings)
    assert set(found) == {"mcp_server:fetch", "mcp_server:docs", "mcp_client:mcp-agent"}
    assert found["mcp_server:fetch"]["lines"] == {4} and found["mcp_server:docs"]["lines"] == {7}
    findings, _ = run(McpYamlDetector(), tmp_path, "fastagent.config.yaml", AGENT_CONFIG)
    assert "mcp_client:fast-agent" in by_key(findings)
    # a ``servers`` section under another key, or hosts under ``mcp: servers:``, names no MCP server
    other = AGENT_CONFIG.replace("mcp:", "cluster:")
    assert run(McpYamlDetector(), tmp_path, "deploy/values.yaml", other)[0] == []
    hosts = "mcp:\n  servers:\n    primary:\n      host: mcp01\n      port: 8443\n"
    assert run(McpYamlDetector(), tmp_path, "deploy/hosts.yaml", hosts)[0] == []


OPERATOR_RESOURCES = """apiVersion: toolhive.stacklok.dev/v1alpha1
kind: MCPServer
metadata:
  name: fetch
spec:
  image: ghcr.io/stackloklabs/gofetch/server
---
apiVersion: kagent.dev/v1alpha2
kind: RemoteMCPServer
metadata:
  name: docs
spec:
  url: https://docs.example.com/mcp
---
kind: MCPServer
metadata:
  name: no-api-version
"""


def test_kubernetes_mcp_operator_resources_are_servers_named_by_their_metadata(tmp_path):
    findings, _ = run(McpYamlDetector(), tmp_path, "k8s/servers.yaml", OPERATOR_RESOURCES)
    found = by_key(findings)
    assert set(found) == {"mcp_server:fetch", "mcp_server:docs"}
    assert found["mcp_server:fetch"]["lines"] == {4} and found["mcp_server:docs"]["lines"] == {11}
    assert (
        found["mcp_server:fetch"]["findings"][0].metadata["package"] == "ghcr.io/stackloklabs/gofetch/server"
    )
    assert found["mcp_server:docs"]["flags"] >= {"mcp_remote_server"}
    deployment = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: mcp-gateway\n"
    assert not McpYamlDetector().applies_to(write(tmp_path, "k8s/deploy.yaml", deployment))


def test_crush_settings_and_mcp_named_files_in_vs_code_shape(tmp_path):
    crush = {"mcp": {"fs": {"type": "stdio", "command": "node", "args": ["fs.js"]}}}
    findings, _ = run(McpConfigDetector(), tmp_path, ".crush.json", json.dumps(crush))
    assert set(by_key(findings)) == {"mcp_server:fs", "mcp_client:crush"}
    vscode_shape = {"servers": {"pg": {"command": "npx", "args": ["-y", "pg-mcp"]}, "prod": {"host": "db1"}}}
    findings, _ = run(McpConfigDetector(), tmp_path, "examples/vscode-mcp.json", json.dumps(vscode_shape))
    assert set(by_key(findings)) == {"mcp_server:pg", "mcp_client:vscode"}
    # ``servers`` in a file whose name does not say MCP is some other program's
    assert not McpConfigDetector().applies_to(write(tmp_path, "deploy/hosts.json", json.dumps(vscode_shape)))


def test_vs_code_mcp_section_outside_the_workspace_folder(tmp_path):
    """VS Code's user settings in a dotfiles repository (``Code/User/settings.json``) and any JSON file
    with an ``"mcp": {"servers": ...}`` section: its entries that start a command or reach a URL."""
    settings = {
        "editor.fontSize": 13,
        "mcp": {"servers": {"memory": {"command": "npx", "args": ["-y", "m"]}}},
    }
    findings, _ = run(McpConfigDetector(), tmp_path, ".config/Code/User/settings.json", json.dumps(settings))
    assert set(by_key(findings)) == {"mcp_server:memory", "mcp_client:vscode"}
    findings, _ = run(McpConfigDetector(), tmp_path, "tools/editor.json", json.dumps(settings))
    assert set(by_key(findings)) == {"mcp_server:memory"}
    other = {"mcp": {"enabled": True}, "servers": {"staging": {"host": "staging.internal"}}}
    assert run(McpConfigDetector(), tmp_path, "tools/prefs.json", json.dumps(other))[0] == []


def test_servers_an_agent_cli_adds_in_a_setup_script(tmp_path):
    """``claude mcp add`` / ``codex mcp add`` / ``gemini mcp add`` in a script configure a server under the
    name the command gives it, for the CLI's agent; printed, commented and help calls configure nothing."""
    script = (
        "#!/bin/sh\n"
        "# claude mcp add notes -- npx -y notes-mcp\n"
        'echo "run: claude mcp add docs -- npx -y docs-mcp"\n'
        "claude mcp add --help\n"
        "claude mcp add -s user --transport http \\\n"
        "  linear https://mcp.linear.app/mcp\n"
        "codex mcp add fetch --env LOG=1 -- uvx mcp-server-fetch\n"
        "gemini mcp add -e K=v pg npx -y pg-mcp\n"
    )
    findings, _ = run(McpCliDetector(), tmp_path, "setup.sh", script)
    found = by_key(findings)
    assert set(found) == {
        "mcp_server:linear",
        "mcp_server:fetch",
        "mcp_server:pg",
        "mcp_client:claude-code",
        "mcp_client:codex",
        "mcp_client:gemini-cli",
    }
    assert found["mcp_server:linear"]["lines"] == {5} and found["mcp_server:fetch"]["lines"] == {7}
    assert found["mcp_server:linear"]["flags"] >= {"mcp_remote_server"}
    assert not McpCliDetector().applies_to(write(tmp_path, "README.md", script))


def test_servers_an_agent_cli_adds_in_a_dockerfile_run_and_a_make_recipe(tmp_path):
    """An image's ``RUN`` and a Make recipe are shell lines: the same commands, also chained after
    ``&&`` / ``;``, configure the same servers; a chain inside a quoted or commented string does not."""
    dockerfile = (
        "FROM node:20\n"
        "RUN npm install -g @anthropic-ai/claude-code && \\\n"
        "    claude mcp add playwright -- npx @playwright/mcp@latest && npm cache clean --force\n"
        "RUN --mount=type=cache,target=/root/.npm claude mcp add --transport http linear https://mcp.linear.app/mcp\n"
        'RUN echo "ready && claude mcp add notes -- npx -y notes-mcp"\n'
        "# RUN true; claude mcp add docs -- npx docs-mcp\n"
    )
    findings, _ = run(McpCliDetector(), tmp_path, "Dockerfile", dockerfile)
    found = by_key(findings)
    assert set(found) == {"mcp_server:playwright", "mcp_server:linear", "mcp_client:claude-code"}
    assert found["mcp_server:playwright"]["lines"] == {3} and found["mcp_server:linear"]["lines"] == {4}
    makefile = (
        "setup:\n"
        "\t@claude mcp add github -- npx -y @modelcontextprotocol/server-github\n"
        "\tcd tools; codex mcp add context7 -- npx -y @upstash/context7-mcp\n"
        "help:\n"
        '\t@echo "make setup runs: claude mcp add github"\n'
    )
    findings, _ = run(McpCliDetector(), tmp_path, "Makefile", makefile)
    found = by_key(findings)
    assert set(found) == {
        "mcp_server:github",
        "mcp_server:context7",
        "mcp_client:claude-code",
        "mcp_client:codex",
    }
    assert found["mcp_server:github"]["lines"] == {2} and found["mcp_server:context7"]["lines"] == {3}


def test_servers_an_agent_cli_adds_in_a_workflow_step(tmp_path):
    workflow = (
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: |\n"
        '          echo "claude mcp add notes -- npx -y notes-mcp"\n'
        "          claude mcp add playwright -- npx @playwright/mcp@latest\n"
    )
    findings, _ = run(McpYamlDetector(), tmp_path, ".github/workflows/agent.yml", workflow)
    found = by_key(findings)
    assert set(found) == {"mcp_server:playwright", "mcp_client:claude-code"}
    assert found["mcp_server:playwright"]["lines"] == {8}
