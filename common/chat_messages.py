"""Webhook events as chat messages: Slack incoming webhooks (Block Kit) and Microsoft Teams (Adaptive Card).

A chat destination is read by people, so each message says what happened in a short title, its
severity, the component concerned and a link back to the platform. Names in events come from scanned
repositories, so every such string is escaped for the product's own markup: a component called
``<https://evil|click here>`` must reach Slack as text, not as a link.
"""

from __future__ import annotations

import json
import re

from common.config import get_settings

SLACK_HEADER_LIMIT = 150  # Block Kit: plain_text in a header block
SLACK_TEXT_LIMIT = 3000  # Block Kit: text of a section block or field
TEAMS_CARD_VERSION = "1.4"  # the newest Adaptive Card version Teams renders everywhere

SEVERITY_ORDER = ("critical", "high", "medium", "low", "info")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


_AT_NAME = re.compile(r"@(?=\w)")


def slack_escape(text: str) -> str:
    """Slack's mrkdwn control characters (the only three it documents) as entities, and a word joiner
    after every ``@`` that starts a name: the Slack-compatible receivers a "slack" destination may
    really be (Mattermost, Rocket.Chat) notify for a plain ``@channel``/``@here``/``@all``."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _AT_NAME.sub("@\u2060", escaped)


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]()#+\-.!|>~<])")


def teams_escape(text: str) -> str:
    """Backslash-escape the Markdown subset Adaptive Card text blocks render."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def _link(path: str) -> str:
    return get_settings().public_url.rstrip("/") + path


def summarize(event: dict) -> dict:
    """Title, severity, component, target and link of one event body (``{"type", "data", ...}``)."""
    kind, data = event.get("type", ""), event.get("data") or {}
    scan_id = data.get("scan_id")
    scan_link = _link(f"/api/v1/scans/{scan_id}") if scan_id else _link("/api/v1/scans")
    components = data.get("components") or []
    summary = {
        "title": f"Trusera: {kind}",
        "severity": "info",
        "component": ", ".join(str(c) for c in components[:3]) or None,
        "target": data.get("target"),
        "link": scan_link,
    }
    if kind == "alert.triggered":
        summary.update(
            title=f"Alert: {data.get('title') or data.get('rule_name') or 'rule matched'}",
            severity=data.get("severity") or "info",
            link=_link(f"/api/v1/alerts/{data['alert_id']}") if data.get("alert_id") else scan_link,
        )
    elif kind == "scan.completed":
        by_severity = (data.get("summary") or {}).get("by_severity") or {}
        worst = next((s for s in SEVERITY_ORDER if by_severity.get(s)), "info")
        total = (data.get("summary") or {}).get("total_components", 0)
        summary.update(title=f"Scan completed: {total} AI components", severity=worst)
    elif kind == "scan.failed":
        summary.update(title="Scan failed", severity="high", component=data.get("error"))
    elif kind == "scan.started":
        summary.update(title="Scan started")
    elif kind == "policy.violated":
        summary.update(
            title=f"Policy violated: {data.get('name') or data.get('policy_id')}",
            severity="high" if data.get("action") == "block" else "medium",
            component=f"{data.get('violations', 0)} violations",
        )
    elif kind == "export.completed":
        summary.update(
            title=f"Export ready ({data.get('format', 'file')})",
            link=_link(data["download_url"]) if data.get("download_url") else scan_link,
        )
    elif kind == "webhook.test":
        summary.update(title="Test delivery from Trusera", component=None)
    return summary


def slack_message(event: dict) -> dict:
    """An incoming-webhook payload: ``text`` for notifications, Block Kit ``blocks`` for the message."""
    info = summarize(event)
    title = _clip(info["title"], SLACK_HEADER_LIMIT)
    fields = [{"type": "mrkdwn", "text": f"*Severity*\n{slack_escape(info['severity'])}"}]
    if info["component"]:
        fields.append(
            {"type": "mrkdwn", "text": _clip(f"*Component*\n{slack_escape(info['component'])}", 2000)}
        )
    if info["target"]:
        fields.append({"type": "mrkdwn", "text": _clip(f"*Target*\n{slack_escape(info['target'])}", 2000)})
    return {
        "text": _clip(slack_escape(f"{info['title']} ({info['severity']})"), SLACK_TEXT_LIMIT),
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": title}},
            {"type": "section", "fields": fields},
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Open in Trusera"},
                        "url": info["link"],
                    }
                ],
            },
        ],
    }


def teams_message(event: dict) -> dict:
    """A Teams incoming-webhook (Workflows) message carrying one Adaptive Card."""
    info = summarize(event)
    facts = [{"title": "Severity", "value": teams_escape(info["severity"])}]
    if info["component"]:
        facts.append({"title": "Component", "value": teams_escape(info["component"])})
    if info["target"]:
        facts.append({"title": "Target", "value": teams_escape(info["target"])})
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": TEAMS_CARD_VERSION,
        "body": [
            {
                "type": "TextBlock",
                "text": teams_escape(info["title"]),
                "weight": "Bolder",
                "size": "Medium",
                "wrap": True,
            },
            {"type": "FactSet", "facts": facts},
        ],
        "actions": [{"type": "Action.OpenUrl", "title": "Open in Trusera", "url": info["link"]}],
    }
    return {
        "type": "message",
        "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "content": card}],
    }


RENDERERS = {"slack": slack_message, "teams": teams_message}


def render(kind: str, body: str) -> str:
    """The request body a ``kind`` destination receives for the stored event ``body``."""
    return json.dumps(RENDERERS[kind](json.loads(body)), separators=(",", ":"))
