"""A policy's rules have a bounded number of condition parts in all, not only per rule.

Each rule may have 256 parts and a policy 100 rules: 25,600 substring tests, each over every distinct value
of its field. Over a scan of 50,000 components that was 73 s of CPU for one ``POST /policies/preview``,
which any member may ask for, and any registered user is a member of an organization of their own, with a
scan as large as they upload. Now a policy has at most ``MAX_POLICY_PARTS`` parts in all (422 past it).
"""

from __future__ import annotations

import random
import string
import time

from common.compliance.policies import MAX_POLICY_PARTS
from tests.factories import component, make_scan
from tests.helpers import add_member, register_user

API = "/api/v1"


def _wide_rules(rules: int, leaves: int) -> list[dict]:
    return [
        {
            "condition": {
                "any": [
                    {"field": "name", "operator": "contains", "value": f"q{rule}x{leaf}"}
                    for leaf in range(leaves)
                ]
            }
        }
        for rule in range(rules)
    ]


def test_a_viewers_preview_of_a_policy_too_large_to_evaluate_is_refused_at_once(client):
    admin = register_user(client)
    org_id = client.post(f"{API}/organizations", json={"name": "Wide"}, headers=admin.headers()).json["id"]
    names = random.Random(7)
    make_scan(
        org_id,
        components=[
            component("library", "".join(names.choices(string.ascii_lowercase, k=300))) for _ in range(3000)
        ],
    )
    viewer = register_user(client)
    add_member(client, admin, org_id, viewer, "viewer")
    started = time.process_time()
    preview = client.post(
        f"{API}/policies/preview",
        json={"action": "block", "rules": _wide_rules(100, 255)},
        headers=viewer.headers(org_id),
    )
    spent = time.process_time() - started
    assert preview.status_code == 422, preview.json
    assert f"at most {MAX_POLICY_PARTS} condition parts" in str(preview.json["errors"]["rules"])
    assert spent < 1.0, f"refusing the preview took {spent:.1f} s of CPU"
    saved = client.post(
        f"{API}/policies",
        json={"name": "wide", "action": "block", "rules": _wide_rules(100, 255)},
        headers=admin.headers(org_id),
    )
    assert saved.status_code == 422
    fits = _wide_rules(2, MAX_POLICY_PARTS // 2 - 1)
    allowed = client.post(
        f"{API}/policies/preview", json={"action": "block", "rules": fits}, headers=viewer.headers(org_id)
    )
    assert allowed.status_code == 200, allowed.json
