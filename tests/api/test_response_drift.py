"""The OpenAPI document and the wire cannot drift: real requests, their keys against the documented schema.

Every JSON answer of the walk below is checked against the success schema its operation documents,
nested schemas (a list's items, a dashboard's scans) included: a required field missing from the
answer is drift, so is a field the answer has but a closed schema (``additionalProperties: false``)
does not document, and so is a value of another type than documented. Whatever builds a response
(a marshmallow dump or a plain dict on a hot path), only what goes over the wire is compared. Every
operation documenting a closed schema must be walked, so a new one cannot go unchecked.
"""

from __future__ import annotations

import re
import secrets
import socket
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest

from common import cli
from common.db import session_scope
from common.models import Component, Scan
from tests.api.test_openapi_examples import _validator
from tests.helpers import PASSWORD, register_user
from web.core.openapi import operation_examples

API = "/api/v1"
FLASK_PARAMETER = re.compile(r"<(?:[^:>]+:)?(?P<name>[^>]+)>")
HTTP_METHODS = ("get", "put", "post", "delete", "patch")
# Closed schemas this walk does not reach, and where their answers are checked instead.
NOT_WALKED = {
    "GET /api/v1/sso/{org_slug}/callback": "needs an identity provider's redirect (tests/security SSO tests)",
    "POST /api/v1/sso/{org_slug}/link": "needs an identity provider's login (tests/security SSO tests)",
}


def _resolve(spec: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def drift(spec: dict, schema: dict, value, where: str) -> list[str]:
    """How ``value`` departs from ``schema``: missing required fields, undocumented ones, at any depth."""
    schema = _resolve(spec, schema)
    if isinstance(value, list) and "items" in schema:
        return [
            problem
            for index, item in enumerate(value)
            for problem in drift(spec, schema["items"], item, f"{where}[{index}]")
        ]
    properties = schema.get("properties")
    if not properties or not isinstance(value, dict):
        return []
    problems = [
        f"{where}: '{name}' is required but not returned"
        for name in schema.get("required", [])
        if name not in value
    ]
    if schema.get("additionalProperties") is False:
        problems += [
            f"{where}: '{name}' is returned but not documented"
            for name in sorted(set(value) - set(properties))
        ]
    for name in sorted(set(value) & set(properties)):
        problems += drift(spec, properties[name], value[name], f"{where}.{name}")
    return problems


def success_schema(operation: dict, status: int) -> dict | None:
    response = operation["responses"].get(str(status)) or {}
    return response.get("content", {}).get("application/json", {}).get("schema")


def closed_operations(spec: dict) -> set[str]:
    """Operations whose success answer is documented field by field (a closed schema)."""
    closed = set()
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            for status, response in operation["responses"].items():
                schema = response.get("content", {}).get("application/json", {}).get("schema")
                if (
                    status.startswith("2")
                    and schema
                    and _resolve(spec, schema).get("additionalProperties") is False
                ):
                    closed.add(f"{method.upper()} {path}")
    return closed


class Walk:
    """Sends requests, and checks each JSON answer against its operation's documented schema."""

    def __init__(self, app, client, spec, user):
        self.adapter = app.url_map.bind("localhost")
        self.client, self.spec, self.user = client, spec, user
        self.walked: set[str] = set()
        self.problems: list[str] = []

    def operation(self, method: str, url: str) -> str:
        rule, _ = self.adapter.match(urlsplit(url).path, method=method, return_rule=True)
        return method + " " + FLASK_PARAMETER.sub(r"{\g<name>}", rule.rule)

    def call(self, method: str, url: str, headers: dict | None = None, **kwargs):
        response = self.client.open(
            API + url, method=method, headers=self.user.headers() if headers is None else headers, **kwargs
        )
        assert 200 <= response.status_code < 300, (
            method,
            url,
            response.status_code,
            response.get_data(as_text=True),
        )
        name = self.operation(method, API + url)
        operation = self.spec["paths"][name.split(" ", 1)[1]][method.lower()]
        schema = success_schema(operation, response.status_code)
        assert schema is not None or not response.is_json, f"{name}: answers JSON with no documented schema"
        if schema is not None:
            self.walked.add(name)
            self.problems += drift(self.spec, schema, response.json, name)
            invalid = _validator(self.spec, schema).iter_errors(response.json)
            self.problems += [f"{name}: {error.json_path}: {error.message}" for error in invalid]
        return response.json if response.is_json else None

    def get(self, url: str, **kwargs):
        return self.call("GET", url, **kwargs)

    def post(self, url: str, body=None, **kwargs):
        return self.call("POST", url, json=body if body is not None else {}, **kwargs)


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def _completed_scan(org_id: str, target: str) -> str:
    now = datetime.now(UTC)
    with session_scope() as session:
        scan = Scan(
            organization_id=org_id,
            target=target,
            status="completed",
            stage="completed",
            progress=100,
            started_at=now,
            finished_at=now,
            summary={"total_components": 1, "by_type": {"model": 1}, "by_severity": {"high": 1}},
            warnings=[{"file": "weights.bin", "message": "Skipped: larger than the file size limit."}],
            files_scanned=3,
        )
        session.add(scan)
        session.flush()
        session.add(
            Component(
                scan_id=scan.id,
                organization_id=org_id,
                fingerprint=f"model:gpt-4o:{target}",
                name="gpt-4o",
                type="model",
                provider="openai",
                severity="high",
                risk_score=70,
                flags=["hardcoded_api_key"],
                locations=[{"file": "app.py", "line": 3}],
            )
        )
        return scan.id


def _example(key: str) -> dict:
    return operation_examples()[key]["request"]


@pytest.fixture
def walk(app, client):
    spec = client.get(f"{API}/openapi.json").json
    return Walk(app, client, spec, register_user(client))


def test_the_drift_check_sees_missing_and_undocumented_fields(walk):
    scan = {"$ref": "#/components/schemas/Scan"}
    page = {"$ref": "#/components/schemas/ScanPage"}
    assert drift(walk.spec, scan, {"id": "x"}, "scan")  # required fields missing
    complete = {name: None for name in walk.spec["components"]["schemas"]["Scan"]["properties"]}
    assert drift(walk.spec, scan, complete, "scan") == []
    assert drift(
        walk.spec, page, {"items": [{**complete, "extra": 1}], "page": 1, "per_page": 1, "total": 1}, "p"
    ) == ["p.items[0]: 'extra' is returned but not documented"]


def test_every_documented_response_matches_what_the_endpoint_returns(walk, client, scan_root, tmp_path):
    user = walk.user
    org = user.org_id
    first, second = _completed_scan(org, "/srv/a"), _completed_scan(org, "/srv/b")

    newcomer = {"email": f"drift-{secrets.token_hex(4)}@example.com", "password": PASSWORD, "name": "New"}
    walk.post("/auth/register", newcomer, headers={})
    walk.post("/auth/login", {"email": user.email, "password": PASSWORD}, headers={})
    walk.post("/auth/refresh", headers={"Authorization": f"Bearer {user.refresh_token}"})
    walk.get("/auth/me")
    key = walk.post("/auth/api-key", {"name": "CI"})
    walk.get("/auth/api-keys")
    walk.post(f"/auth/api-key/{key['id']}/revoke")
    walk.get("/auth/invitations")
    walk.get("/health", headers={})

    (scan_root / "app.py").write_text("import openai\n\nclient = openai.OpenAI()\n")
    walk.post("/scans", {"target": str(scan_root)})
    report = tmp_path / "result.json"
    assert (
        cli.main(["scan", str(scan_root), "--format", "json", "-o", str(report), "--quiet", "--jobs", "1"])
        == 0
    )
    walk.call("POST", "/scans/import?branch=main", data=report.read_bytes(), content_type="application/json")
    walk.get("/scans")
    walk.get(f"/scans/{first}")
    walk.get(f"/scans/{first}/components")
    walk.get(f"/scans/{first}/graph")
    walk.get(f"/scans/{first}/compare/{second}")
    walk.get(f"/scans/{first}/violations")
    walk.get(f"/scans/{first}/evaluations")
    export = walk.post(f"/scans/{first}/export", {"format": "cyclonedx"})
    walk.get(f"/exports/{export['id']}")
    walk.get("/dashboard/overview")

    policy = walk.post("/policies", _example("POST /api/v1/policies"))
    walk.get("/policies")
    walk.get(f"/policies/{policy['id']}/evaluations")
    webhook = walk.post("/webhooks", _example("POST /api/v1/webhooks"))
    walk.get("/webhooks")
    walk.get(f"/webhooks/{webhook['id']}/deliveries")
    walk.get("/alert-rules")
    walk.get("/alerts")
    walk.get("/schedules")
    walk.get("/audit-log")
    walk.get("/organizations")
    walk.get(f"/organizations/{org}/members")
    walk.get("/compliance/frameworks")
    walk.get("/compliance/rules")
    walk.get("/compliance/evaluations")
    walk.get("/compliance/evidence")
    walk.get("/compliance/profiles")
    walk.get("/connectors/n8n/credentials")
    walk.post("/connectors/n8n/test", {"url": _closed_port_url(), "api_key": "n8n-key"})
    walk.get("/connectors/repositories/credentials")
    walk.post("/connectors/repositories/test", {"repository_url": "https://git.example.invalid/org/repo.git"})
    walk.call("PUT", "/auth/password", json={"current_password": PASSWORD, "new_password": PASSWORD + "-new"})

    assert not walk.problems, "\n".join(walk.problems)
    unwalked = closed_operations(walk.spec) - walk.walked - set(NOT_WALKED)
    assert not unwalked, (
        f"operations documenting a closed schema that this walk does not check: {sorted(unwalked)}"
    )
    assert not set(NOT_WALKED) - closed_operations(walk.spec), "NOT_WALKED names an operation that is gone"
