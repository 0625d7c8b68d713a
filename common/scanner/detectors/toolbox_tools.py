"""MCP Toolbox for Databases: the tools a ``tools.yaml`` declares for the toolbox server to serve.

The toolbox server (``toolbox --tools-file tools.yaml``, ``toolbox-server --config tools.yaml``) hands every
tool of its config to the agents that connect to it over MCP or its SDKs, so each declared tool is an agent
tool named as the config names it. Two layouts are written: documents of their own (``kind: tool`` with
``name``, beside ``kind: source`` documents) and the older ``tools:`` mapping keyed by name beside a
``sources:`` mapping. A tool entry must point at a source or say its tool type (``source``/``type``/``kind``)
and describe itself, so a ``tools:`` list of another program's config is not read as one.
"""

from __future__ import annotations

from collections.abc import Iterator

import yaml

from common.scanner.detectors.base import Detector, FileReport, Finding, SourceFile
from common.scanner.detectors.containers import YamlNode, compose_yaml_documents

CONFIG_NAMES = ("tools.yaml", "tools.yml")
PROVIDER = "Model Context Protocol"
FRAMEWORK = "mcp-toolbox"


def _is_tool_entry(entry: YamlNode) -> bool:
    """A toolbox tool: it reaches a source or names its tool type, and has a description for the model."""
    if not entry.is_mapping:
        return False
    return bool(entry.text_at("description")) and any(
        entry.text_at(key) for key in ("source", "type", "kind")
    )


def toolbox_tools(documents: list[YamlNode]) -> Iterator[tuple[str, int]]:
    """(name, line) of every tool the toolbox config declares."""
    for document in documents:
        if not document.is_mapping:
            continue
        if document.text_at("kind") == "tool":
            name = document.get("name")
            if name is not None and name.text and _is_tool_entry(document):
                yield name.text, name.line
            continue
        tools, sources = document.get("tools"), document.get("sources")
        if tools is None or sources is None or not tools.is_mapping or not sources.is_mapping:
            continue
        for key, line, entry in tools.entries():
            if _is_tool_entry(entry):
                yield key, line


class ToolboxToolDetector(Detector):
    name = "toolbox_tool"

    def applies_to(self, file: SourceFile) -> bool:
        return file.name.lower() in CONFIG_NAMES

    def detect(self, file: SourceFile, report: FileReport) -> Iterator[Finding]:
        text = file.text
        if "tool" not in text or "source" not in text:
            return
        try:
            documents = compose_yaml_documents(text)
        except (yaml.YAMLError, RecursionError):
            return
        for name, line in toolbox_tools(documents):
            yield self.located(file, line, "tool", name, PROVIDER, metadata={"framework": FRAMEWORK})
