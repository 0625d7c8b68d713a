"""Hostile repository content for the output tests, written by the tests themselves.

``plant_secrets`` writes a tree with credentials in every position a scan has leaked them from: a key
crossing the 200-character snippet cut, keys of providers with no known format under credential-like
names, a Bearer token in a minified n8n workflow, JSON-escaped tokens in a minified MCP config.
``leaked`` says whether an output shows more of a key than its documented masked form (the first 8
and last 4 characters). ``plant_hostile_names`` writes files and MCP servers named to attack each
output format.
"""

from __future__ import annotations

import html
import json
import os
import random
import re
import string
from pathlib import Path

RNG = random.Random(19)
ALPHANUMERIC = string.ascii_letters + string.digits
# A masked value shows at most its first 8 and last 4 characters: 9 in a row is a leak.
LEAK_RUN = 9
SNIPPET_COLUMNS = (190, 199, 200, 230, 260)


def random_text(length: int, alphabet: str = ALPHANUMERIC) -> str:
    while True:
        text = "".join(RNG.choice(alphabet) for _ in range(length))
        if any(ch.isdigit() for ch in text) and not re.search("(?i)fake|test|your|xxx|sample|dummy", text):
            return text


def _escape_every_other(value: str) -> str:
    """``value`` as a JSON string body with every other letter or digit written as ``\\u00NN``."""
    return "".join(f"\\u{ord(ch):04x}" if i % 2 and ch.isalnum() else ch for i, ch in enumerate(value))


def plant_secrets(root: Path) -> dict[str, str]:
    """Write the tree; returns {where it was planted: the key}."""
    root.mkdir(parents=True, exist_ok=True)
    keys: dict[str, str] = {}
    lines = ["import openai", ""]
    for column in SNIPPET_COLUMNS:
        key = "sk-proj-" + random_text(60)
        keys[f"app.py column {column}"] = key
        head = 'client = openai.OpenAI(organization="'
        padding = "o" * (column - len(head) - len('", api_key="'))
        line = f'{head}{padding}", api_key="{key}")'
        assert line.index(key) == column
        lines.append(line)
    (root / "app.py").write_text("\n".join(lines) + "\n")

    unknown = {
        "PINECONE_API_KEY": "pcsk_" + random_text(70, ALPHANUMERIC + "_"),
        "QDRANT_API_KEY": random_text(40),
        "DASHSCOPE_API_KEY": "sk-" + random_text(32, "0123456789abcdef"),
        "MY_SERVICE_TOKEN": random_text(48),
        "ACME_SECRET": random_text(24) + "-" + random_text(12),
    }
    env = [f"{name}={value}" for name, value in unknown.items()]
    far = random_text(44)
    padding = "p" * 150
    env.append(f"OPENAI_BASE_URL=https://api.openai.com/v1?pad={padding}&access_token={far}")
    (root / ".env").write_text("\n".join(env) + "\n")
    keys.update({f".env {name}": value for name, value in unknown.items()})
    keys[".env access_token crossing column 200"] = far

    bearer, header_key, model_key = random_text(56), random_text(36), "sk-proj-" + random_text(64)
    # Parameters first: the token sits within the first 200 characters of the one-line file.
    workflow = {
        "nodes": [
            {
                "parameters": {
                    "headerParameters": {
                        "parameters": [
                            {"name": "Authorization", "value": f"Bearer {bearer}"},
                            {"name": "x-api-key", "value": header_key},
                        ]
                    },
                    "url": "https://crm.example.com/api",
                    "sendHeaders": True,
                },
                "name": "Call CRM",
                "type": "n8n-nodes-base.httpRequest",
            },
            {
                "name": "OpenAI Chat Model",
                "type": "@n8n/n8n-nodes-langchain.lmChatOpenAi",
                "parameters": {"model": "gpt-4o-mini", "options": {"apiKey": model_key}},
            },
        ],
        "connections": {},
        "name": "Minified support bot",
    }
    (root / "workflows").mkdir()
    (root / "workflows" / "support.json").write_text(json.dumps(workflow, separators=(",", ":")))
    keys.update({"n8n Bearer": bearer, "n8n x-api-key": header_key, "n8n apiKey": model_key})

    github = "ghp_" + random_text(36)
    qdrant_header = random_text(40)
    escaped_config = (
        '{"mcpServers":{"github":{"command":"npx","args":["-y","@modelcontextprotocol/server-github"],'
        f'"env":{{"GITHUB_PERSONAL_ACCESS_TOKEN":"{_escape_every_other(github)}"}}}},'
        '"vectors":{"url":"https://mcp.qdrant.example.com/sse",'
        f'"headers":{{"Authorization":"Bearer {_escape_every_other(qdrant_header)}"}}}}}}}}'
    )
    json.loads(escaped_config)
    (root / ".cursor").mkdir()
    (root / ".cursor" / "mcp.json").write_text(escaped_config)
    keys.update({"MCP escaped GitHub token": github, "MCP escaped Bearer": qdrant_header})
    return keys


def readable(output: str) -> str:
    """What a reader of ``output`` sees: HTML entities, JSON ``\\uXXXX`` escapes (however often the
    backslash itself was escaped) and Markdown backslash escapes undone."""
    text = re.sub(r"\\+u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), html.unescape(output))
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", text)


def leaked(output: str, key: str) -> bool:
    text = readable(output)
    return any(key[i : i + LEAK_RUN] in text for i in range(len(key) - LEAK_RUN + 1))


# Names that attack each format: terminal escapes (colour, window title, bell), a carriage return that
# overprints "OK", line breaks, Markdown links/images/HTML/tables, encoded traversal, a script URL, a
# bidirectional override, and zero-width characters that make one name look like another.
HOSTILE_NAMES = [
    "\x1b[31mred\x1b[0m",
    "\x1b]0;owned\x07title",
    "bell\x07\x07",
    "scan failed\rOK      ",
    "two\nlines",
    "[click](javascript:alert(1))",
    "![](https://attacker.example/pixel.png)",
    "<img src=x onerror=alert(1)>",
    "| fake | row |",
    "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "javascript:alert(document.domain)",
    "\u202eevil\u202c",
    "open\u200bai\ufeff",
]
# Not valid UTF-8: 0xff and 0xfe never occur in UTF-8 text.
NON_UTF8_FILE = b"model-\xff\xfe.env"


def plant_hostile_names(root: Path) -> None:
    """MCP servers named by every hostile name (one of them not valid Unicode), and a ``.env`` file with
    a hard-coded key (a flagged finding, so a SARIF result) under each hostile name that a file name can
    carry, plus one whose name is not valid UTF-8."""
    root.mkdir(parents=True, exist_ok=True)
    servers = {name: {"command": "npx", "args": ["-y", "@acme/unknown-mcp"]} for name in HOSTILE_NAMES}
    lone_surrogate = '"lone-\\udcff-surrogate": {"command": "npx", "args": ["x-mcp"]}'
    text = json.dumps({"mcpServers": servers})[:-2] + ", " + lone_surrogate + "}}"
    (root / ".cursor").mkdir()
    (root / ".cursor" / "mcp.json").write_text(text)
    content = f"OPENAI_API_KEY=sk-proj-{random_text(60)}\n"
    for index, name in enumerate(HOSTILE_NAMES):
        if "/" not in name:
            (root / f"{index}-{name}.env").write_text(content)
    with open(os.path.join(os.fsencode(root), NON_UTF8_FILE), "wb") as handle:
        handle.write(content.encode())
