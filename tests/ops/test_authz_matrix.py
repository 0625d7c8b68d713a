"""The authorization matrix: every endpoint of the app, called as every kind of caller.

``ROUTES`` is the one table of minimum roles, written after ``api-reference.md`` (paths relative to
``/api/v1``, ``:name`` for path parameters; endpoints the reference does not list are marked as
extensions). The endpoint list itself comes from the app's ``url_map``: an endpoint the app serves
that the table does not list fails ``test_the_table_lists_every_endpoint_of_the_app``, so the table
stays complete; an endpoint of the table the app does not serve (yet) is only skipped.

Callers: anonymous; a revoked API key; a viewer, analyst, editor and admin of the organization O
(JWT, acting in O through ``X-Organization-Id``); the admin of another organization, acting in
their own organization or naming O in ``X-Organization-Id``. Expected answers:

- public endpoints: credentials change nothing (every caller gets the anonymous caller's answer);
- anonymous and revoked key: 401;
- a member below the endpoint's role: 403; at or above it: anything but 401, 403, 404 (and no 5xx);
- the other organization's admin: 404 for a resource of O (a path id, or O's id in the path),
  their own organization's collections otherwise; 403 when naming O in ``X-Organization-Id``
  (except where O's id is in the path: 404 again, the path names the organization).

Resources named in paths are real rows of O, picked by the path segment before the parameter
(``RESOURCE_BY_SEGMENT``); a DELETE gets a fresh one each call. A body that would otherwise fail
validation before the resource is looked up (and so hide a 404) comes from ``BODIES``.
"""

from __future__ import annotations

import io
import os
import re
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from common.db import session_scope
from common.models import ROLE_RANK, Membership, Organization
from common.models.alerts import Alert
from common.models.compliance import ComplianceResult
from common.models.identity import MemberInvitation
from common.security import hash_token
from tests.factories import make_scan
from tests.helpers import PASSWORD, TestUser, add_member, register_user
from tests.ops._abuse_fixtures import guarded  # noqa: F401  (fixture)
from web.core.access import AUTHENTICATED, PUBLIC

INTERNAL = "internal"  # the scanner service's key, never a user's credentials
WEBSOCKET = "websocket"  # authorized on connect: tests/ops/test_ws_limits.py
MEMBER_ROLES = ("viewer", "analyst", "editor", "admin")
INVITATION_CODE = "matrix-invitation-code"  # the code the matrix's invitations are accepted with

# fmt: off
ROUTES = {
    # Health
    "GET /health": PUBLIC,
    "GET /metrics": PUBLIC,
    "GET /openapi.json": PUBLIC,  # extension: the served OpenAPI document
    "GET /docs": PUBLIC,  # extension: the interactive reference (Swagger UI) and its assets
    "GET /docs/swagger-ui.css": PUBLIC,
    "GET /docs/swagger-ui-bundle.js": PUBLIC,
    "GET /docs/swagger-ui-standalone-preset.js": PUBLIC,
    # Auth
    "POST /auth/login": PUBLIC,
    "POST /auth/register": PUBLIC,
    "GET /auth/me": AUTHENTICATED,
    "PUT /auth/profile": AUTHENTICATED,
    "PUT /auth/password": AUTHENTICATED,
    "POST /auth/api-key": "viewer",  # any user, in the organization the key is bound to (conventions)
    "GET /auth/api-keys": AUTHENTICATED,
    "DELETE /auth/api-key/:keyId": AUTHENTICATED,
    "POST /auth/api-key/:keyId/revoke": AUTHENTICATED,
    "POST /auth/refresh": PUBLIC,  # authenticated by the refresh token it presents
    "POST /auth/logout": AUTHENTICATED,
    "POST /auth/onboarding-complete": AUTHENTICATED,
    "DELETE /auth/account": AUTHENTICATED,
    # Scans
    "POST /scans": "analyst",
    "POST /scans/import": "analyst",  # extension: CI uploads (the CLI's JSON or CycloneDX 1.6)
    "GET /scans": "viewer",
    "GET /scans/:id": "viewer",
    "GET /scans/:id/components": "viewer",
    "GET /scans/:id/graph": "viewer",
    "GET /scans/:id/compliance": "viewer",
    "GET /scans/:id/compare/:otherId": "viewer",
    "POST /scans/:id/export": "viewer",
    "GET /exports/:id": "viewer",  # conventions
    "GET /exports/:id/download": "viewer",  # conventions
    # Compliance
    "POST /compliance/rules": "editor",
    "GET /compliance/rules": "viewer",
    "GET /compliance/rules/:id": "viewer",  # extension
    "PUT /compliance/rules/:id": "editor",
    "DELETE /compliance/rules/:id": "editor",
    "GET /compliance/frameworks": "viewer",  # extension
    "GET /compliance/frameworks/:id": "viewer",  # extension
    "PUT /compliance/frameworks/:id": "editor",  # extension: like the custom rules
    "GET /compliance/evaluations": "viewer",  # extension
    "GET /compliance/evaluations/:id": "viewer",  # extension
    "POST /compliance/profiles": "editor",  # extension: the AI system profile
    "GET /compliance/profiles": "viewer",  # extension
    "GET /compliance/profiles/:id": "viewer",  # extension
    "PUT /compliance/profiles/:id": "editor",  # extension
    "DELETE /compliance/profiles/:id": "editor",  # extension
    "POST /compliance/evidence": "editor",  # extension: attestations for manual controls
    "GET /compliance/evidence": "viewer",  # extension
    "GET /compliance/evidence/:id": "viewer",  # extension
    "GET /compliance/evidence/:id/file": "viewer",  # extension
    "DELETE /compliance/evidence/:id": "editor",  # extension
    # Policies
    "POST /policies": "editor",
    "GET /policies": "viewer",
    "GET /policies/:id": "viewer",
    "PUT /policies/:id": "editor",
    "DELETE /policies/:id": "admin",
    "POST /policies/preview": "viewer",  # extension: a read-only dry run
    "POST /scans/:id/evaluate": "analyst",
    "GET /scans/:id/violations": "viewer",
    "GET /scans/:id/evaluations": "viewer",
    "GET /policies/:id/evaluations": "viewer",
    # Dashboard
    "GET /dashboard/overview": "viewer",  # "any authenticated user", in the acting organization
    # Schedules
    "POST /schedules": "editor",
    "GET /schedules": "viewer",
    "GET /schedules/:id": "viewer",  # extension
    "PUT /schedules/:id": "editor",
    "DELETE /schedules/:id": "admin",
    # Organizations
    "POST /organizations": AUTHENTICATED,
    "GET /organizations": AUTHENTICATED,
    "GET /organizations/:orgId": "viewer",
    "DELETE /organizations/:orgId": "admin",
    "POST /organizations/:orgId/members": "admin",
    "GET /organizations/:orgId/members": "viewer",
    "DELETE /organizations/:orgId/members/:userId": "admin",
    "DELETE /organizations/:orgId/membership": "viewer",  # extension: leave (docs/security.md)
    "GET /auth/invitations": AUTHENTICATED,  # extension: the caller's invitations to organizations
    "POST /auth/invitations/:id/accept": AUTHENTICATED,  # extension
    "DELETE /auth/invitations/:id": AUTHENTICATED,  # extension: decline
    "GET /organizations/:orgId/scan-roots": "admin",  # extension: per-organization scan roots
    "PUT /organizations/:orgId/scan-roots": "admin",  # extension
    # SSO / OIDC
    "PUT /organizations/:orgId/sso": "admin",
    "GET /organizations/:orgId/sso": "viewer",
    "POST /organizations/:orgId/sso/toggle": "admin",
    "DELETE /organizations/:orgId/sso": "admin",
    "GET /sso/:orgSlug/check": PUBLIC,
    "GET /sso/:orgSlug/login": PUBLIC,
    "GET /sso/:orgSlug/callback": PUBLIC,
    "POST /sso/:orgSlug/link": PUBLIC,  # extension: link an existing account to an SSO identity
    # Webhooks
    "POST /webhooks": "admin",
    "GET /webhooks": "viewer",
    "GET /webhooks/:id": "viewer",
    "PUT /webhooks/:id": "admin",
    "DELETE /webhooks/:id": "admin",
    "GET /webhooks/:id/deliveries": "viewer",
    "POST /webhooks/:id/test": "admin",
    "POST /webhooks/:id/deliveries/replay": "admin",
    # Alert rules and alerts
    "POST /alert-rules": "admin",
    "GET /alert-rules": "viewer",
    "GET /alert-rules/:id": "viewer",
    "PUT /alert-rules/:id": "admin",
    "DELETE /alert-rules/:id": "admin",
    "GET /alerts": "viewer",
    "GET /alerts/:id": "viewer",
    "POST /alerts/:id/acknowledge": "analyst",
    "POST /alerts/:id/resolve": "analyst",
    # Connectors
    "POST /connectors/n8n/credentials": "editor",
    "GET /connectors/n8n/credentials": "analyst",
    "DELETE /connectors/n8n/credentials/:id": "editor",
    "POST /connectors/n8n/test": "analyst",
    "POST /connectors/repositories/credentials": "editor",  # extension: repository credentials
    "GET /connectors/repositories/credentials": "analyst",  # extension
    "GET /connectors/repositories/credentials/:id": "analyst",  # extension
    "PUT /connectors/repositories/credentials/:id": "editor",  # extension
    "DELETE /connectors/repositories/credentials/:id": "editor",  # extension
    "POST /connectors/repositories/test": "analyst",  # extension
    # Audit log
    "GET /audit-log": "admin",
    "DELETE /audit-log/cleanup": "admin",
    "GET /audit-log/cleanup/:jobId": "admin",  # extension: the queued cleanup's status
    # WebSocket and internal
    "GET /ws": WEBSOCKET,
    "POST /internal/scans/:id/result": INTERNAL,
}
# fmt: on

API_PREFIX = "/api/v1"

# The path segment before a parameter names the resource it takes.
RESOURCE_BY_SEGMENT = {
    "scans": "scan",
    "compare": "other_scan",
    "exports": "export",
    "rules": "compliance_rule",
    "frameworks": "framework",
    "evaluations": "evaluation",
    "profiles": "ai_profile",
    "evidence": "evidence",
    "policies": "policy",
    "schedules": "schedule",
    "organizations": "organization",
    "members": "member",
    "sso": "slug",
    "webhooks": "webhook",
    "alert-rules": "alert_rule",
    "alerts": "alert",
    "credentials": "credential",
    "repositories/credentials": "repository_credential",  # two segments: more specific than one
    "cleanup": "cleanup_job",
    "api-key": "api_key",
    "invitations": "invitation",
}

# Not a resource of an organization: the built-in frameworks are the same for everyone.
SHARED_KINDS = {"framework"}

SSO_CONFIG = {
    "issuer": "https://idp.example.com",
    "client_id": "trusera-web",
    "client_secret": "matrix-client-secret-value",
    "allowed_domains": ["example.com"],
    "allow_password_login": True,
}

# Bodies that pass validation, so that the resource lookup (and its 404) is what answers.
BODIES: dict[str, Callable[[Matrix, Caller], dict]] = {
    "PUT /compliance/rules/*": lambda m, c: {"enabled": True},
    "PUT /compliance/frameworks/*": lambda m, c: {"active": True},
    "PUT /compliance/profiles/*": lambda m, c: {"name": "matrix"},
    "PUT /policies/*": lambda m, c: {"enabled": True},
    "PUT /schedules/*": lambda m, c: {"enabled": False},
    "PUT /webhooks/*": lambda m, c: {"enabled": True},
    "POST /webhooks/*/deliveries/replay": lambda m, c: {"since": "2026-01-01T00:00:00Z"},
    "PUT /alert-rules/*": lambda m, c: {"enabled": True},
    "POST /scans/*/export": lambda m, c: {"format": "csv"},
    "POST /organizations/*/members": lambda m, c: {"email": m.fresh_user().email, "role": "viewer"},
    "PUT /organizations/*/sso": lambda m, c: SSO_CONFIG,
    "PUT /organizations/*/scan-roots": lambda m, c: {"scan_roots": None},
    "POST /organizations/*/sso/toggle": lambda m, c: {"enabled": False},
    "DELETE /auth/account": lambda m, c: {"password": PASSWORD},
    "POST /auth/invitations/*/accept": lambda m, c: {"code": INVITATION_CODE},
}


def route_key(method: str, path: str) -> str:
    """``GET /scans/:id`` and the app's ``GET /api/v1/scans/<scan_id>`` both become ``GET /scans/*``."""
    path = path.removeprefix(API_PREFIX)
    return f"{method} " + re.sub(r":[A-Za-z_]+|<[^>]+>", "*", path)


TABLE = {route_key(*entry.split(" ", 1)): role for entry, role in ROUTES.items()}


def resource_kinds(rule) -> list[str | None]:
    segments = rule.rule.split("/")
    return [segment_kind(segments, i) for i, s in enumerate(segments) if s.startswith("<")]


def segment_kind(segments: list[str], index: int) -> str | None:
    """The resource a path parameter names, by the one or two segments before it."""
    two = "/".join(segments[max(0, index - 2) : index])
    return RESOURCE_BY_SEGMENT.get(two) or RESOURCE_BY_SEGMENT.get(segments[index - 1])


def app_routes(app) -> list[tuple[str, object]]:
    """(method, werkzeug rule) for every endpoint the app serves."""
    routes = []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append((method, rule))
    return routes


def declared_role(app, rule) -> str | None:
    if rule.endpoint == "api-docs.openapi_json":
        return PUBLIC
    if rule.rule == f"{API_PREFIX}/ws":
        return WEBSOCKET
    role = getattr(app.view_functions[rule.endpoint], "required_role", None)
    return INTERNAL if rule.rule.startswith(f"{API_PREFIX}/internal/") and role == PUBLIC else role


def test_the_table_lists_every_endpoint_of_the_app(app):
    served = {route_key(method, rule.rule): (method, rule) for method, rule in app_routes(app)}
    missing = sorted(set(served) - set(TABLE))
    assert not missing, f"endpoints the app serves that ROUTES does not list: {missing}"
    disagreeing = {
        key: (declared_role(app, rule), TABLE[key])
        for key, (_method, rule) in served.items()
        if declared_role(app, rule) != TABLE[key]
    }
    assert not disagreeing, f"declared role vs the reference's (view, table): {disagreeing}"
    assert len(served) >= 85


@dataclass
class Caller:
    name: str
    user: TestUser | None = None
    headers: dict = field(default_factory=dict)
    role: str | None = None  # role in O
    outsider: bool = False  # the other organization's admin
    names_org: bool = False  # sends X-Organization-Id: O


class Matrix:
    """Organization O with one member per role, its resources, and the callers."""

    def __init__(self, client, app) -> None:
        self.client = client
        self.app = app
        self.owner = register_user(client, name="Owner")
        org = client.post("/api/v1/organizations", json={"name": "Matrix Org"}, headers=self.owner.headers())
        assert org.status_code == 201, org.json
        self.org = org.json
        self.members = {}
        for role in MEMBER_ROLES:
            member = register_user(client, name=role.title())
            add_member(client, self.owner, self.org["id"], member, role)
            self.members[role] = member
        self.outsider = register_user(client, name="Outsider")
        self.revoked_key = self._revoked_key()
        sso = client.put(
            f"/api/v1/organizations/{self.org['id']}/sso", json=SSO_CONFIG, headers=self.owner.headers()
        )
        assert sso.status_code == 201, sso.json
        self.shared: dict[str, str] = {}
        self.api_keys: dict[str, str] = {}
        self.scan_root = None

    # --- callers -------------------------------------------------------------------------------------
    def callers(self) -> list[Caller]:
        org_id = self.org["id"]
        callers = [
            Caller("anonymous"),
            Caller("revoked API key", headers={"Authorization": f"Bearer {self.revoked_key}"}),
        ]
        for role in MEMBER_ROLES:
            user = self.members[role]
            callers.append(Caller(role, user, user.headers(org_id), role=role))
        callers.append(Caller("other org admin", self.outsider, self.outsider.headers(), outsider=True))
        callers.append(
            Caller(
                "other org admin naming O",
                self.outsider,
                self.outsider.headers(org_id),
                outsider=True,
                names_org=True,
            )
        )
        return callers

    def _revoked_key(self) -> str:
        key = self.post("/auth/api-key", {"name": "to-revoke"}).json
        revoked = self.client.post(f"/api/v1/auth/api-key/{key['id']}/revoke", headers=self.owner.headers())
        assert revoked.status_code == 200 and revoked.json["revoked_at"]
        return key["key"]

    def fresh_user(self) -> TestUser:
        return register_user(self.client, name="Fresh")

    def fresh_session(self, user: TestUser) -> str:
        response = self.client.post("/api/v1/auth/login", json={"email": user.email, "password": PASSWORD})
        assert response.status_code == 200, response.json
        return response.json["access_token"]

    def stand_in(self, caller: Caller) -> Caller:
        """A throwaway user in the same position as ``caller`` (for deleting an account)."""
        user = self.fresh_user()
        if caller.role:
            add_member(self.client, self.owner, self.org["id"], user, caller.role)
        org_id = self.org["id"] if (caller.role or caller.names_org) else None
        return Caller(caller.name, user, user.headers(org_id), caller.role, caller.outsider, caller.names_org)

    # --- resources of O ------------------------------------------------------------------------------
    def post(self, path: str, body: dict, expected: int = 201) -> object:
        response = self.client.post(f"/api/v1{path}", json=body, headers=self.owner.headers(self.org["id"]))
        assert response.status_code == expected, (path, response.json)
        return response

    def _scan(self) -> str:
        with session_scope() as session:
            scan_id = make_scan(
                self.org["id"],
                session=session,
                target=str(self.scan_root),
                stage="completed",
                summary={"total_components": 0},
            )
            session.add(
                ComplianceResult(scan_id=scan_id, organization_id=self.org["id"], result={"frameworks": []})
            )
            return scan_id

    def _organization(self) -> str:
        """A team organization with the same members in the same roles as O."""
        with session_scope() as session:
            org = Organization(name="Matrix Twin", slug=f"matrix-twin-{secrets.token_hex(4)}")
            session.add(org)
            session.flush()
            session.add(Membership(organization_id=org.id, user_id=self.owner.id, role="admin"))
            for role, member in self.members.items():
                session.add(Membership(organization_id=org.id, user_id=member.id, role=role))
            return org.id

    def _alert(self) -> str:
        with session_scope() as session:
            alert = Alert(
                organization_id=self.org["id"], severity="high", title="Matrix alert", target="/matrix"
            )
            session.add(alert)
            session.flush()
            return alert.id

    def _evidence(self) -> str:
        """An attestation with a file, so that its file endpoint has something to serve."""
        response = self.client.post(
            "/api/v1/compliance/evidence",
            data={
                "framework_id": "eu-ai-act",
                "control_id": "ART12",
                "note": "matrix attestation",
                "expires_at": "2999-01-01T00:00:00+00:00",
                "file": (io.BytesIO(b"retention: 6 months"), "logging.txt", "text/plain"),
            },
            content_type="multipart/form-data",
            headers=self.owner.headers(self.org["id"]),
        )
        assert response.status_code == 201, response.json
        return response.json["id"]

    def create(self, kind: str) -> str:
        makers = {
            "scan": self._scan,
            "other_scan": self._scan,
            "export": lambda: self.post(f"/scans/{self.resource('scan')}/export", {"format": "csv"}, 202),
            "compliance_rule": lambda: self.post(
                "/compliance/rules",
                {
                    "name": f"rule {secrets.token_hex(3)}",
                    "condition": {"field": "flags", "operator": "contains", "value": "hardcoded_api_key"},
                    "severity": "high",
                },
            ),
            "framework": lambda: self.client.get(
                "/api/v1/compliance/frameworks", headers=self.owner.headers(self.org["id"])
            ).json["items"][0]["id"],
            "evaluation": lambda: self.post(f"/scans/{self.resource('scan')}/evaluate", {}, 202),
            "ai_profile": lambda: self.post(
                "/compliance/profiles", {"target": f"/matrix/{secrets.token_hex(4)}", "role": "deployer"}
            ),
            "evidence": self._evidence,
            "policy": lambda: self.post(
                "/policies",
                {
                    "name": f"policy {secrets.token_hex(3)}",
                    "action": "warn",
                    "rules": [{"metric": "highest_risk_score", "operator": "gt", "value": 90}],
                },
            ),
            "schedule": lambda: self.post(
                "/schedules",
                {
                    "name": f"nightly {secrets.token_hex(3)}",
                    "target": str(self.scan_root),
                    "cron": "0 2 * * *",
                },
            ),
            "organization": self._organization,
            "member": lambda: self._member(),
            "slug": lambda: self.org["slug"],
            "webhook": lambda: self.post(
                "/webhooks", {"url": "http://127.0.0.1:9/matrix-hook", "events": ["scan.completed"]}
            ),
            "alert_rule": lambda: self.post(
                "/alert-rules", {"name": f"rule {secrets.token_hex(3)}", "trigger": "scan_failed"}
            ),
            "alert": self._alert,
            "credential": lambda: self.post(
                "/connectors/n8n/credentials",
                {
                    "name": f"n8n {secrets.token_hex(3)}",
                    "url": "https://n8n.example.com",
                    "api_key": "k" * 20,
                },
            ),
            "repository_credential": lambda: self.post(
                "/connectors/repositories/credentials",
                {
                    "name": f"repo {secrets.token_hex(3)}",
                    "kind": "https_token",
                    "secret": "t" * 20,
                    "host": "github.com",
                },
            ),
            "cleanup_job": lambda: self.client.delete(
                "/api/v1/audit-log/cleanup", headers=self.owner.headers(self.org["id"])
            ).json["id"],
        }
        made = makers[kind]()
        return made if isinstance(made, str) else made.json["id"]

    def _member(self) -> str:
        user = self.fresh_user()
        add_member(self.client, self.owner, self.org["id"], user, "viewer")
        return user.id

    def resource(self, kind: str) -> str:
        if kind == "organization":
            return self.org["id"]
        if kind not in self.shared:
            self.shared[kind] = self.create(kind)
        return self.shared[kind]

    def api_key_of(self, caller: Caller) -> str:
        """A key of the caller's own (a member's), or of O's owner (for the outsider: not theirs)."""
        user = caller.user if caller.role else self.owner
        if user.id not in self.api_keys:
            response = self.client.post(
                "/api/v1/auth/api-key", json={"name": "matrix"}, headers=user.headers(self.org["id"])
            )
            assert response.status_code == 201, response.json
            self.api_keys[user.id] = response.json["id"]
        return self.api_keys[user.id]

    def url(self, method: str, rule, caller: Caller) -> str:
        values = {}
        segments = rule.rule.split("/")
        for index, segment in enumerate(segments):
            if not segment.startswith("<"):
                continue
            name = segment[1:-1].split(":")[-1]
            kind = segment_kind(segments, index)
            assert kind, f"{rule.rule}: add the resource '{segments[index - 1]}/<{name}>' names to the matrix"
            fresh = method == "DELETE" and index == len(segments) - 1  # DELETE /things/<id> deletes it
            if kind == "api_key":
                values[name] = self.api_key_of(caller) if not fresh else self._fresh_key(caller)
            elif kind == "invitation":
                values[name] = self.invitation_of(caller)
            else:
                values[name] = self.create(kind) if fresh else self.resource(kind)
        return rule.build(values, append_unknown=False)[1]

    def invitation_of(self, caller: Caller) -> str:
        """A new invitation of the caller's own (a member's), or of a stranger's (for the outsider), made by
        an admin of the inviting organization (an invitation lapses with its inviter's admin role)."""
        invitee = caller.user if caller.role else self.fresh_user()
        with session_scope() as session:
            org = Organization(name="Matrix Invite", slug=f"matrix-invite-{secrets.token_hex(4)}")
            session.add(org)
            session.flush()
            session.add(Membership(organization_id=org.id, user_id=self.owner.id, role="admin"))
            invitation = MemberInvitation(
                organization_id=org.id,
                user_id=invitee.id,
                role="viewer",
                invited_by=self.owner.id,
                code_hash=hash_token(INVITATION_CODE),
            )
            session.add(invitation)
            session.flush()
            return invitation.id

    def _fresh_key(self, caller: Caller) -> str:
        self.api_keys.pop((caller.user if caller.role else self.owner).id, None)
        return self.api_key_of(caller)


def expected(role: str, caller: Caller, has_resource: bool, org_path: bool) -> str:
    """``401``, ``403``, ``404`` or ``allowed``."""
    if caller.name in ("anonymous", "revoked API key"):
        return "401"
    if role == AUTHENTICATED:  # no organization context: X-Organization-Id plays no part
        return "404" if (caller.outsider and has_resource) else "allowed"
    if caller.outsider:
        if org_path:  # the path's organization wins over the header, and it is not theirs
            return "404"
        if caller.names_org:
            return "403"
        return "404" if has_resource else "allowed"
    return "allowed" if ROLE_RANK[caller.role] >= ROLE_RANK[role] else "403"


def check(response, outcome: str, where: str) -> None:
    status = response.status_code
    assert status < 500, f"{where}: {status} {response.get_data(as_text=True)[:300]}"
    if outcome == "allowed":
        assert status not in (401, 403, 404), f"{where}: {status} {response.get_data(as_text=True)[:300]}"
    else:
        assert status == int(outcome), (
            f"{where}: expected {outcome}, got {status} {response.get_data()[:300]}"
        )
        body = response.json
        assert body["code"] == status and body["message"], f"{where}: error shape {body}"


@pytest.mark.usefixtures("guarded")
def test_every_endpoint_answers_every_caller_as_the_reference_says(app, scan_root):
    client = app.test_client()
    matrix = Matrix(client, app)
    matrix.scan_root = scan_root
    callers = matrix.callers()
    routes = [
        (method, rule)
        for method, rule in app_routes(app)
        if TABLE.get(route_key(method, rule.rule)) not in (None, WEBSOCKET)
    ]
    # Deletions last (a deleted SSO configuration must not hide the reads), and within a route the
    # allowed callers after the refused ones.
    routes.sort(key=lambda route: route[0] == "DELETE")
    checked = 0
    for method, rule in routes:
        key = route_key(method, rule.rule)
        role = TABLE[key]
        has_resource = any(kind not in SHARED_KINDS for kind in resource_kinds(rule))
        org_path = rule.rule.startswith(f"{API_PREFIX}/organizations/<")
        make_body = BODIES.get(key)
        public_answer = None
        for caller in sorted(callers, key=lambda c: c.name == "admin"):
            if key in ("DELETE /auth/account", "DELETE /organizations/*/membership") and caller.user:
                caller = matrix.stand_in(caller)
            headers = dict(caller.headers)
            if key == "POST /auth/logout" and caller.user is not None:
                headers["Authorization"] = f"Bearer {matrix.fresh_session(caller.user)}"
            url = matrix.url(method, rule, caller)
            body = make_body(matrix, caller) if make_body else ({} if method in ("POST", "PUT") else None)
            response = client.open(url, method=method, json=body, headers=headers)
            where = f"{key} as {caller.name}"
            if role == PUBLIC:
                assert response.status_code < 500, where
                public_answer = public_answer or response.status_code
                assert response.status_code == public_answer, f"{where}: credentials changed the answer"
            elif role == INTERNAL:
                check(response, "401", where)
            else:
                check(response, expected(role, caller, has_resource, org_path), where)
            checked += 1
        if role == INTERNAL:
            with_key = client.open(
                matrix.url(method, rule, callers[0]),
                method=method,
                json={},
                headers={"X-Internal-API-Key": os.environ["INTERNAL_API_KEY"]},
            )
            check(with_key, "allowed", f"{key} with the internal key")
    assert checked >= 80 * len(callers)


@pytest.mark.usefixtures("guarded")
def test_an_unknown_resource_is_404_for_its_own_organization_too(app, client):
    """The outsider's 404 is not a tell: a member asking for an id that does not exist gets the same."""
    owner = register_user(client)
    missing = str(uuid.uuid4())
    for path in (f"/api/v1/scans/{missing}", f"/api/v1/policies/{missing}", f"/api/v1/webhooks/{missing}"):
        response = client.get(path, headers=owner.headers())
        assert response.status_code == 404 and response.json["code"] == 404, path
