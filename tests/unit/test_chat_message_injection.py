"""Slack and Teams alerts carry names a hostile repository chose: component names, the scan target,
a scan's error (git's stderr from the attacker's server). None may become a mention, a link or an image
in the channel the alert is posted to."""

from __future__ import annotations

import json
import re

import pytest

from common import chat_messages
from common.config import get_settings


def _public_url() -> str:
    """The links point at the platform's public address, whatever this test session configured."""
    return get_settings().public_url.rstrip("/")


HOSTILE = [
    "<!channel>",
    "<!here|here>",
    "<!everyone>",
    "<@U024BE7LH>",
    "<#C024BE7LR>",
    "<!subteam^SAZ94GDB8>",
    "<https://evil.example/login|Open in Trusera>",
    "@here please rotate keys at https://evil.example",
    "@channel",
    "@all",
    "[Open in Trusera](https://evil.example/login)",
    "![pixel](https://evil.example/p.png)",
    "<at>Admin</at>",
    "&lt;!channel&gt;",
]


def _events() -> list[dict]:
    names = HOSTILE[:3]
    return [
        {
            "type": "alert.triggered",
            "data": {
                "alert_id": "a1",
                "scan_id": "s1",
                "severity": "high",
                "title": f"3 components at or above high in {HOSTILE[6]}",
                "target": " ".join(HOSTILE),
                "components": names,
            },
        },
        {"type": "scan.failed", "data": {"scan_id": "s1", "target": HOSTILE[7], "error": " ".join(HOSTILE)}},
        *(
            {"type": "scan.completed", "data": {"scan_id": "s1", "target": name, "components": [name] * 3}}
            for name in HOSTILE
        ),
    ]


def _slack_markup(message: dict) -> list[str]:
    """Every text Slack parses for markup: the notification text and the mrkdwn fields."""
    texts = [message["text"]]
    for block in message["blocks"]:
        texts += [f["text"] for f in block.get("fields", []) if f["type"] == "mrkdwn"]
        if block.get("text", {}).get("type") == "mrkdwn":
            texts.append(block["text"]["text"])
    return texts


@pytest.mark.parametrize("event", _events())
def test_slack_gets_no_mention_link_or_image(event):
    message = json.loads(chat_messages.render("slack", json.dumps(event)))
    assert "link_names" not in message and message.get("parse") != "full"
    for text in _slack_markup(message):
        assert "<" not in text and ">" not in text  # every Slack control sequence starts with '<'
        assert not re.search(r"@(here|channel|everyone|all)\b", text)  # Slack-compatible receivers
    [button] = message["blocks"][-1]["elements"]
    assert button["url"] == f"{_public_url()}/api/v1/alerts/a1" or "/api/v1/scans/s1" in button["url"]


@pytest.mark.parametrize("event", _events())
def test_teams_gets_no_link_image_or_mention(event):
    card = json.loads(chat_messages.render("teams", json.dumps(event)))["attachments"][0]["content"]
    texts = [card["body"][0]["text"]] + [fact["value"] for fact in card["body"][1]["facts"]]
    for text in texts:
        assert not re.search(r"(?<!\\)[\[\]()<>!]", text), text
    assert "msteams" not in card  # a Teams mention needs an entity, which only the platform could add
    assert card["actions"][0]["url"].startswith(f"{_public_url()}/api/v1/")
