"""Evidence files: a bounded number of bytes per organization, in the database every organization shares.

Each file was bounded (``EVIDENCE_MAX_BYTES``, 5 MiB) but their number was not: an editor at the request
rate limit (200 a minute) stored 1 GB a minute, and every API key of theirs had its own rate window. Now
an organization keeps at most ``EVIDENCE_BYTES_PER_ORG`` of evidence files; past it, a 409.
"""

from __future__ import annotations

import dataclasses
import io
from datetime import UTC, datetime, timedelta

import pytest

from common import config
from common.config import get_settings
from tests.helpers import register_user

EVIDENCE = "/api/v1/compliance/evidence"
FILE_BYTES = 1000


@pytest.fixture
def small_limits(monkeypatch):
    limits = dataclasses.replace(get_settings(), evidence_max_bytes=FILE_BYTES)
    object.__setattr__(limits, "evidence_bytes_per_org", 2 * FILE_BYTES + FILE_BYTES // 2)
    monkeypatch.setattr(config, "_settings", limits)


def _attest(client, headers: dict):
    return client.post(
        EVIDENCE,
        data={
            "framework_id": "eu-ai-act",
            "control_id": "ART12",
            "note": "Logging design",
            "expires_at": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
            "file": (io.BytesIO(b"x" * FILE_BYTES), "logging.pdf", "application/pdf"),
        },
        content_type="multipart/form-data",
        headers=headers,
    )


@pytest.mark.usefixtures("small_limits")
def test_an_editor_cannot_store_evidence_files_past_the_organizations_limit(client):
    editor = register_user(client)
    key = client.post("/api/v1/auth/api-key", json={"name": "ci"}, headers=editor.headers()).json["key"]
    kept = [_attest(client, editor.headers()), _attest(client, {"Authorization": f"Bearer {key}"})]
    assert [response.status_code for response in kept] == [201, 201]
    refused = _attest(client, {"Authorization": f"Bearer {key}"})  # another rate window, same organization
    assert refused.status_code == 409, refused.json
    assert "EVIDENCE_BYTES_PER_ORG" in refused.json["message"]
    listed = client.get(EVIDENCE, headers=editor.headers()).json
    assert listed["total"] == 2  # the refused one left nothing behind
    other = register_user(client)  # another organization is not held up
    assert _attest(client, other.headers()).status_code == 201
    assert client.delete(f"{EVIDENCE}/{kept[0].json['id']}", headers=editor.headers()).status_code == 204
    assert _attest(client, editor.headers()).status_code == 201  # room again once one is deleted
