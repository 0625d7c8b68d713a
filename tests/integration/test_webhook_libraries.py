"""Real deliveries checked with what receivers use: the official Standard Webhooks libraries (Python and
JavaScript, through the very snippets of docs/webhooks.md) and the chat vendors' own definitions of their
message formats (Slack's ``@slack/types`` compiled with TypeScript, Microsoft's ``adaptivecards`` parser).
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
import uuid
from pathlib import Path

import pytest
from standardwebhooks.webhooks import Webhook as OfficialWebhook
from standardwebhooks.webhooks import WebhookVerificationError

from common import events
from tests.helpers import npm_install, wait_for
from tests.webhook_receiver import Receiver

pytestmark = pytest.mark.usefixtures("live_server")

ROOT = Path(__file__).resolve().parents[2]
NODE_CHECKS = Path(__file__).resolve().parent / "node_checks"
DOCS = ROOT / "docs" / "webhooks.md"

CHOSEN_PLAIN = "a secret we chose ourselves, 42"
CHOSEN_STRICT = "whsec_" + base64.b64encode(b"k" * 32).decode()


def docs_snippet(language: str) -> str:
    """The first fenced block of ``language`` in docs/webhooks.md, exactly as readers copy it."""
    match = re.search(rf"```{language}\n(.*?)```", DOCS.read_text(), re.S)
    assert match, f"docs/webhooks.md has no {language} snippet"
    return match.group(1)


@pytest.fixture(scope="module")
def node_checks():
    npm_install(NODE_CHECKS, "standardwebhooks")
    return NODE_CHECKS


def deliver_test_event(client, user, secret: str | None) -> tuple[str, dict, bytes]:
    """Create a generic webhook with ``secret`` (None: generated) and capture one real signed delivery."""
    with Receiver([200]) as receiver:
        body = {"url": receiver.url, "events": ["scan.completed"]}
        if secret is not None:
            body["secret"] = secret
        created = client.post("/api/v1/webhooks", json=body, headers=user.headers())
        assert created.status_code == 201, created.json
        sent = client.post(f"/api/v1/webhooks/{created.json['id']}/test", headers=user.headers())
        assert sent.json["success"] is True, sent.json
    [request] = receiver.requests
    return secret or created.json["secret"], request.headers, request.body


@pytest.mark.parametrize("form", ["generated", "chosen_plain", "chosen_whsec"])
def test_every_secret_form_verifies_with_the_official_libraries_through_the_documented_snippets(
    client, make_user, node_checks, tmp_path, form
):
    chosen = {"generated": None, "chosen_plain": CHOSEN_PLAIN, "chosen_whsec": CHOSEN_STRICT}[form]
    secret, headers, body = deliver_test_event(client, make_user(), chosen)

    namespace: dict = {}
    exec(compile(docs_snippet("python"), str(DOCS), "exec"), namespace)
    event = namespace["verify_delivery"](secret, headers, body)
    assert event["type"] == "webhook.test"
    with pytest.raises(WebhookVerificationError):
        namespace["verify_delivery"](secret, headers, body + b" ")
    if form == "generated":  # a generated secret goes to the library unchanged
        assert OfficialWebhook(secret).verify(body, headers)["type"] == "webhook.test"

    harness = tmp_path / "verify.js"
    harness.write_text(
        docs_snippet("javascript")
        + "\nconst c = JSON.parse(require('fs').readFileSync(0, 'utf8'));\n"
        + "const body = Buffer.from(c.body, 'base64').toString('utf8');\n"
        + "const ok = verifyDelivery(c.secret, c.headers, body).type;\n"
        + "let tampered = 'accepted';\n"
        + "try { verifyDelivery(c.secret, c.headers, body + ' '); } catch (e) { tampered = e.name; }\n"
        + "console.log(JSON.stringify({ok, tampered}));\n"
    )
    case = {"secret": secret, "headers": headers, "body": base64.b64encode(body).decode()}
    result = subprocess.run(
        ["node", str(harness)],
        input=json.dumps(case),
        capture_output=True,
        text=True,
        timeout=60,
        env={"NODE_PATH": str(node_checks / "node_modules"), "PATH": "/usr/bin:/bin:/usr/local/bin"},
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"ok": "webhook.test", "tampered": "WebhookVerificationError"}


@pytest.mark.parametrize(
    "secret",
    [
        "whsec_not base64 at all!!!",  # the libraries would drop characters; we would sign raw bytes
        "whsec_" + base64.b64encode(b"k" * 32).decode().rstrip("="),  # unpadded: read differently
        "whsec_" + base64.b64encode(b"short").decode(),  # too few key bytes
    ],
)
def test_an_ambiguous_whsec_secret_is_refused(client, make_user, secret):
    user = make_user()
    response = client.post(
        "/api/v1/webhooks",
        json={"url": "https://hooks.example.com/x", "events": ["scan.completed"], "secret": secret},
        headers=user.headers(),
    )
    assert response.status_code == 422
    assert "secret" in response.json["errors"]
    assert secret not in json.dumps(response.json)  # a secret is never echoed, even a refused one


HOSTILE_NAME = "<https://evil.example|click> [x](javascript:alert(1)) *bold*"


def chat_delivery(client, user, kind: str) -> dict:
    """An alert.triggered event through the real worker to a ``kind`` webhook; the body it received."""
    with Receiver([200]) as receiver:
        created = client.post(
            "/api/v1/webhooks",
            json={"url": receiver.url, "events": ["alert.triggered"], "kind": kind},
            headers=user.headers(),
        )
        assert created.status_code == 201 and created.json["kind"] == kind
        events.publish(
            user.org_id,
            "alert.triggered",
            alert_id="a-1",
            rule_id="r-1",
            rule_name="Leaked keys",
            scan_id="s-1",
            target="/srv/repo",
            severity="critical",
            title="1 component at or above high in /srv/repo",
            components=[HOSTILE_NAME],
        )
        wait_for(lambda: receiver.requests, timeout=30)
    [request] = receiver.requests
    assert not any(h.lower().startswith("webhook-signature") for h in request.headers)
    return request.json


@pytest.mark.usefixtures("celery_worker")
def test_a_slack_destination_gets_a_block_kit_message_that_slacks_own_types_accept(
    client, make_user, node_checks
):
    message = chat_delivery(client, make_user(), "slack")
    # Inside node_checks, so TypeScript resolves "@slack/types" from its node_modules.
    check = node_checks / f".check-{uuid.uuid4().hex}.ts"
    check.write_text(
        'import type { KnownBlock } from "@slack/types";\n'
        "// The incoming-webhook body: notification text plus Block Kit blocks.\n"
        "interface IncomingWebhookMessage { text: string; blocks: KnownBlock[] }\n"
        f"export const message = {json.dumps(message)} satisfies IncomingWebhookMessage;\n"
    )
    try:
        compiled = subprocess.run(
            [
                str(node_checks / "node_modules" / ".bin" / "tsc"),
                "--noEmit",
                "--strict",
                "--skipLibCheck",
                "--moduleResolution",
                "node",
                str(check),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        check.unlink()
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    header, section, actions = message["blocks"]
    assert header["text"]["text"].startswith("Alert: 1 component") and len(header["text"]["text"]) <= 150
    fields = " ".join(f["text"] for f in section["fields"])
    assert "critical" in fields and "&lt;https://evil.example|click&gt;" in fields
    assert "<https://evil" not in json.dumps(message)  # the name never becomes a Slack link
    assert actions["elements"][0]["url"].endswith("/api/v1/alerts/a-1")


@pytest.mark.usefixtures("celery_worker")
def test_a_teams_destination_gets_an_adaptive_card_that_microsofts_parser_accepts(
    client, make_user, node_checks, tmp_path
):
    message = chat_delivery(client, make_user(), "teams")
    assert message["type"] == "message"
    [attachment] = message["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    harness = tmp_path / "card.js"
    harness.write_text(
        "const AC = require('adaptivecards');\n"
        "const payload = JSON.parse(require('fs').readFileSync(0, 'utf8'));\n"
        "const card = new AC.AdaptiveCard();\n"
        "const context = new AC.SerializationContext();\n"
        "card.parse(payload, context);\n"
        "const issues = [];\n"
        "for (let i = 0; i < context.eventCount; i++) issues.push(context.getEventAt(i).message);\n"
        "const validation = card.validateProperties();\n"
        "for (const e of validation.validationEvents || []) issues.push(e.message);\n"
        "const facts = card.getItemAt(1);\n"
        "console.log(JSON.stringify({issues, version: card.version.toString(), items: card.getItemCount(),\n"
        "  actions: card.getActionCount(), facts: facts.facts.map(f => [f.name, f.value])}));\n"
    )
    result = subprocess.run(
        ["node", str(harness)],
        input=json.dumps(attachment["content"]),
        capture_output=True,
        text=True,
        timeout=60,
        env={"NODE_PATH": str(node_checks / "node_modules"), "PATH": "/usr/bin:/bin:/usr/local/bin"},
    )
    assert result.returncode == 0, result.stderr
    parsed = json.loads(result.stdout)
    assert parsed["issues"] == [] and parsed["version"] == "1.4"
    assert parsed["items"] == 2 and parsed["actions"] == 1
    facts = dict(parsed["facts"])
    assert facts["Severity"] == "critical"
    assert "\\[x\\]\\(javascript:alert\\(1\\)\\)" in facts["Component"]  # Markdown stays text


def test_npm_packages_are_pinned_exactly():
    """The vendor checks run against fixed versions, recorded in the lock file."""
    declared = json.loads((NODE_CHECKS / "package.json").read_text())["dependencies"]
    locked = json.loads((NODE_CHECKS / "package-lock.json").read_text())["packages"]
    for name, version in declared.items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), name
        assert locked[f"node_modules/{name}"]["version"] == version
