"""The n8n workflow detector: components, flags and edges of exported workflows, guarded and
multi-agent workflows, export lists and bad input."""

from __future__ import annotations

import json

from common.scanner.detectors.n8n import N8nWorkflowDetector
from tests.unit.detector_helpers import OPENAI_KEY, by_key, dump, run


def node(name, type_, parameters=None, **extra):
    return {
        "parameters": parameters or {},
        "id": name,
        "name": name,
        "type": type_,
        "typeVersion": 1,
        **extra,
    }


def link(target, kind="main"):
    return {kind: [[{"node": target, "type": kind, "index": 0}]]}


def support_workflow() -> dict:
    header_key = [{"name": "Authorization", "value": f"Bearer {OPENAI_KEY}"}]
    return {
        "name": "Support Agent",
        "nodes": [
            node("Webhook", "n8n-nodes-base.webhook", {"httpMethod": "POST", "path": "support"}),
            node("AI Agent", "@n8n/n8n-nodes-langchain.agent", {"text": "={{ $json.body.q }}"}),
            node(
                "OpenAI Chat Model",
                "@n8n/n8n-nodes-langchain.lmChatOpenAi",
                {"model": {"__rl": True, "value": "gpt-4o-mini", "mode": "list"}},
                credentials={"openAiApi": {"id": "1", "name": "OpenAi account"}},
            ),
            node(
                "Shell Tool",
                "@n8n/n8n-nodes-langchain.toolCode",
                {"jsCode": "const { execSync } = require('child_process');\nreturn execSync(q).toString();"},
            ),
            node(
                "Search API",
                "@n8n/n8n-nodes-langchain.toolHttpRequest",
                {"url": "https://api.example.com/search", "headerParameters": {"parameters": header_key}},
            ),
            node("Memory", "@n8n/n8n-nodes-langchain.memoryBufferWindow", {"sessionKey": "={{ $json.id }}"}),
            node("Set", "n8n-nodes-base.set"),
            node("Reviewer", "@n8n/n8n-nodes-langchain.agent"),
            node(
                "Claude", "@n8n/n8n-nodes-langchain.lmChatAnthropic", {"model": "claude-3-5-sonnet-20241022"}
            ),
            node("Store", "@n8n/n8n-nodes-langchain.vectorStorePinecone", {"mode": "retrieve-as-tool"}),
            node(
                "Embeddings", "@n8n/n8n-nodes-langchain.embeddingsOpenAi", {"model": "text-embedding-3-small"}
            ),
            node("Legacy", "n8n-nodes-base.openAi", {"modelId": {"__rl": True, "value": "gpt-4-turbo"}}),
            node("Dynamic", "@n8n/n8n-nodes-langchain.lmChatOpenAi", {"model": "={{ $json.model }}"}),
        ],
        "connections": {
            "Webhook": link("AI Agent"),
            "OpenAI Chat Model": link("AI Agent", "ai_languageModel"),
            "Shell Tool": link("AI Agent", "ai_tool"),
            # written from the agent to the tool: must still count as the agent's tool
            "AI Agent": {**link("Set"), **link("Search API", "ai_tool")},
            "Memory": link("AI Agent", "ai_memory"),
            "Set": link("Reviewer"),
            "Claude": link("Reviewer", "ai_languageModel"),
            "Store": link("Reviewer", "ai_tool"),
            "Embeddings": link("Store", "ai_embedding"),
        },
        "active": True,
        "id": "wf1",
    }


def test_n8n_workflow_components_flags_and_edges(tmp_path):
    text = json.dumps(support_workflow(), indent=2)
    findings, report = run(N8nWorkflowDetector(), tmp_path, "workflows/support.json", text)
    found = by_key(findings)
    assert set(found) == {
        "workflow:support agent",
        "agent_framework:support agent/ai agent",
        "agent_framework:support agent/reviewer",
        "llm_provider:openai",
        "llm_provider:anthropic",
        "model:gpt-4o-mini",
        "model:claude-3-5-sonnet-20241022",
        "model:text-embedding-3-small",
        "model:gpt-4-turbo",
        "tool:shell tool",
        "tool:search api",
        "tool:store",  # the vector store in retrieve-as-tool mode, named by its node
        "vector_db:pinecone",
    }
    flags = {key: entry["flags"] for key, entry in found.items()}
    assert flags["workflow:support agent"] == {"webhook_no_auth"}
    assert flags["agent_framework:support agent/ai agent"] == {"code_http_tools", "agent_chain_no_validation"}
    assert flags["agent_framework:support agent/reviewer"] == {"agent_chain_no_validation"}
    assert flags["tool:shell tool"] == {"dangerous_code"}
    assert flags["tool:search api"] == {"hardcoded_api_key"}
    assert OPENAI_KEY not in dump(findings)

    agent = found["agent_framework:support agent/ai agent"]["findings"][0]
    assert set(agent.relations) == {
        ("uses_model", "model:gpt-4o-mini"),
        ("uses_tool", "tool:shell tool"),
        ("uses_tool", "tool:search api"),
    }
    store = found["vector_db:pinecone"]["findings"][0]
    assert store.relations == [("uses_model", "model:text-embedding-3-small")]
    reviewer = found["agent_framework:support agent/reviewer"]["findings"][0]
    assert ("uses_tool", "vector_db:pinecone") in reviewer.relations
    workflow = found["workflow:support agent"]["findings"][0]
    assert ("has_node", "agent_framework:support agent/reviewer") in workflow.relations
    lines = text.splitlines()
    model_line = found["model:gpt-4o-mini"]["findings"][0].location.line
    assert '"gpt-4o-mini"' in lines[model_line - 1]
    assert '"name": "AI Agent"' in lines[agent.location.line - 1]
    assert report.warnings == []


def test_n8n_guarded_workflow_has_no_flags(tmp_path):
    workflow = {
        "name": "Guarded",
        "nodes": [
            node("Hook", "n8n-nodes-base.webhook", {"path": "x", "authentication": "headerAuth"}),
            node("Chat", "@n8n/n8n-nodes-langchain.chatTrigger", {"public": False}),
            node("Writer", "@n8n/n8n-nodes-langchain.agent", {"hasOutputParser": True}),
            node("Parser", "@n8n/n8n-nodes-langchain.outputParserStructured"),
            node("Check", "n8n-nodes-base.if"),
            node("Editor", "@n8n/n8n-nodes-langchain.agent"),
            node("Wiki", "@n8n/n8n-nodes-langchain.toolWikipedia"),
            node(
                "Transform",
                "n8n-nodes-base.code",
                {"jsCode": "return items.map(i => ({json: {n: i.json.n + 1}}));"},
            ),
            node("Old Shell", "n8n-nodes-base.executeCommand", {"command": "rm -rf /"}, disabled=True),
            node(
                "Key From Env",
                "n8n-nodes-base.httpRequest",
                {
                    "headerParameters": {
                        "parameters": [
                            {"name": "Authorization", "value": "={{ 'Bearer ' + $env.OPENAI_API_KEY }}"}
                        ]
                    }
                },
            ),
        ],
        "connections": {
            "Writer": link("Check"),
            "Check": link("Editor"),
            "Parser": link("Writer", "ai_outputParser"),
            "Wiki": link("Editor", "ai_tool"),
        },
    }
    findings, _ = run(N8nWorkflowDetector(), tmp_path, "guarded.json", json.dumps(workflow, indent=2))
    assert all(f.flags == set() for f in findings), [(f.key, f.flags) for f in findings]
    assert "tool:wiki" in {f.key for f in findings}


def test_n8n_multi_agent_and_public_chat(tmp_path):
    workflow = {
        "name": "Team",
        "nodes": [
            node("Chat", "@n8n/n8n-nodes-langchain.chatTrigger", {"public": True}),
            node("Boss", "@n8n/n8n-nodes-langchain.agent"),
            node("Researcher", "@n8n/n8n-nodes-langchain.agentTool"),
            node(
                "Py",
                "n8n-nodes-base.code",
                {"pythonCode": "import subprocess\nsubprocess.run(cmd, shell=True)"},
            ),
            node(
                "Docs",
                "@n8n/n8n-nodes-langchain.mcpClientTool",
                {"sseEndpoint": "https://mcp.example.com/sse"},
            ),
        ],
        "connections": {
            "Chat": link("Boss"),
            "Researcher": link("Boss", "ai_tool"),
            "Docs": link("Researcher", "ai_tool"),
        },
    }
    findings, _ = run(N8nWorkflowDetector(), tmp_path, "team.json", json.dumps(workflow, indent=2))
    found = by_key(findings)
    assert found["workflow:team"]["flags"] == {"webhook_no_auth", "dangerous_code"}
    assert found["agent_framework:team/boss"]["flags"] == {"multi_agent_no_trust"}
    assert found["agent_framework:team/researcher"]["flags"] == {"multi_agent_no_trust"}
    docs = found["mcp_client:team/docs"]["findings"][0]
    assert docs.metadata["endpoint"] == "https://mcp.example.com/sse"
    assert docs.relations == [("connects_to", "mcp_server:mcp.example.com")]
    # the MCP client tool has no authentication parameter: it reaches the server without credentials
    server_flags = found["mcp_server:mcp.example.com"]["flags"]
    assert server_flags == {"mcp_no_auth", "mcp_remote_server", "mcp_unknown_server"}
    researcher = found["agent_framework:team/researcher"]["findings"][0]
    assert ("uses_tool", "mcp_client:team/docs") in researcher.relations


def test_n8n_export_list_and_non_workflow_json(tmp_path):
    workflows = [support_workflow(), {**support_workflow(), "name": "Copy"}]
    findings, _ = run(N8nWorkflowDetector(), tmp_path, "export.json", json.dumps(workflows))
    assert {f.key for f in findings if f.type == "workflow"} == {"workflow:support agent", "workflow:copy"}
    community_node_package = {
        "name": "n8n-nodes-acme",
        "description": "Acme nodes: manages connections to the Acme API",
        "n8n": {"nodes": ["dist/nodes/Acme.node.js"], "credentials": []},
        "peerDependencies": {"n8n-nodes-base": "*"},
    }
    findings, report = run(
        N8nWorkflowDetector(), tmp_path, "package.json", json.dumps(community_node_package)
    )
    assert findings == [] and report.warnings == []
    findings, report = run(N8nWorkflowDetector(), tmp_path, "tsconfig.json", '{"compilerOptions": {}}')
    assert findings == [] and report.warnings == []


def test_n8n_bad_input(tmp_path):
    broken = '{"name": "x", "nodes": [{"type": "n8n-nodes-base.webhook"}], "connections": {'
    findings, report = run(N8nWorkflowDetector(), tmp_path, "broken.json", broken)
    assert findings == [] and "not valid JSON" in report.warnings[0]
    deep = (
        '{"nodes": [], "connections": {}, "x": "n8n-nodes-base", "y": ' + "[" * 100_000 + "]" * 100_000 + "}"
    )
    findings, report = run(N8nWorkflowDetector(), tmp_path, "deep.json", deep)
    assert findings == [] and report.warnings
    odd = {
        "name": "Odd",
        "nodes": [5, {"name": "no type"}, node("A", "@n8n/n8n-nodes-langchain.agent")],
        "connections": {"A": {"main": "not a list"}, "ghost": link("A")},
    }
    findings, report = run(N8nWorkflowDetector(), tmp_path, "odd.json", json.dumps(odd))
    assert {f.key for f in findings} == {"workflow:odd", "agent_framework:odd/a"}
