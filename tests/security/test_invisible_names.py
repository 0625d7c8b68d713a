"""Names shown to other people hold no control, bidirectional-override or zero-width character.

Before, an organization, a user, a schedule, a policy or an alert rule could be named
``\\u202eexe.txt`` (shown as ``txt.exe``), ``admin\\u200b`` (shown as ``admin``) or with a terminal
escape, and every member saw it that way in the dashboard, chat messages and reports. Now every such
name field shares one validator (``web.core.visible_text``): a 422 naming the field and the character.
"""

from __future__ import annotations

import secrets

import pytest

from tests.helpers import PASSWORD, register_user

API = "/api/v1"
HIDDEN = [
    ("\u202e", "U+202E"),  # right-to-left override
    ("\u2067", "U+2067"),  # right-to-left isolate
    ("\u200b", "U+200B"),  # zero-width space
    ("\u200f", "U+200F"),  # right-to-left mark
    ("\ufeff", "U+FEFF"),  # byte order mark
    ("\x1b", "U+001B"),  # C0: ESC
    ("\x85", "U+0085"),  # C1: next line
]


def _requests(target: str):
    """(method, path, body) of every endpoint naming something other members see, with ``{name}``."""
    return [
        ("post", "/organizations", {"name": "{name}"}),
        ("put", "/auth/profile", {"name": "{name}"}),
        ("post", "/auth/api-key", {"name": "{name}"}),
        ("post", "/schedules", {"name": "{name}", "target": target, "cron": "0 3 * * *"}),
        (
            "post",
            "/policies",
            {
                "name": "{name}",
                "action": "block",
                "rules": [{"metric": "count(type=model)", "operator": "gt", "value": 0}],
            },
        ),
        ("post", "/alert-rules", {"name": "{name}", "trigger": "scan_failed", "params": {}}),
    ]


def _send(client, user, method: str, path: str, body: dict, name: str):
    filled = {key: (name if value == "{name}" else value) for key, value in body.items()}
    return getattr(client, method)(f"{API}{path}", json=filled, headers=user.headers())


@pytest.mark.parametrize(("char", "code"), HIDDEN, ids=[code for _, code in HIDDEN])
def test_every_shown_name_refuses_hidden_characters_with_a_422(client, scan_root, char, code):
    user = register_user(client)
    for method, path, body in _requests(str(scan_root)):
        response = _send(client, user, method, path, body, f"Pay{char}roll")
        assert response.status_code == 422, (path, response.json)
        messages = " ".join(response.json["errors"]["name"])
        assert code in messages and "position 3" in messages, (path, messages)


def test_registration_refuses_a_hidden_character_in_the_display_name(client):
    email = f"user-{secrets.token_hex(6)}@example.com"
    response = client.post(
        f"{API}/auth/register", json={"email": email, "password": PASSWORD, "name": "admin\u200b"}
    )
    assert response.status_code == 422
    assert "U+200B" in " ".join(response.json["errors"]["name"])


def test_visible_unicode_names_are_accepted(client, scan_root):
    user = register_user(client)
    for method, path, body in _requests(str(scan_root)):
        response = _send(client, user, method, path, body, "Zürich · 東京 Ω déploiement 🚀")
        assert response.status_code in (200, 201), (path, response.json)
