"""``/connectors/n8n``: saved n8n instance credentials and a connectivity test.

The API key is write-only: encrypted at rest, listed masked. The test's outcome
(reachable, unauthorized, unreachable) is data about the remote instance, so it is
always a 200 of ours.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import marshmallow as ma
from flask_smorest import Blueprint
from sqlalchemy import select

from common import netguard
from common.models.base import isoformat
from common.models.connectors import N8nCredential
from common.models.schedules import Schedule
from common.scanner.n8n_client import check_n8n_connection
from common.security import decrypt_secret, encrypt_secret, mask_secret
from web.core.access import access, context, scoped_get_or_404
from web.core.audit_recorder import audit
from web.core.credentials import commit_named_credential, delete_unscheduled_credential
from web.core.database import db
from web.core.openapi import PageSchema, ProbeSchema, ResourceSchema
from web.core.outbound import outbound_request
from web.core.pagination import PageArgs, paginate
from web.core.visible_text import visible_text

blp = Blueprint(
    "connectors", __name__, url_prefix="/api/v1/connectors/n8n", description="n8n connector credentials"
)

PROBE_TIMEOUT_SECONDS = 10


def n8n_url_problem(url: str) -> str | None:
    """Why an n8n base URL is unusable, or None: the outbound-URL rules plus "a base URL, no query"."""
    errors = netguard.url_errors(url)
    if errors:
        return errors[0]
    parts = urlsplit(url)
    if parts.query or parts.fragment:
        return "Give the instance's base URL, without a query or fragment."
    return None


class N8nUrl(ma.fields.String):
    def _deserialize(self, value, attr, data, **kwargs):
        url = super()._deserialize(value, attr, data, **kwargs).strip().rstrip("/")
        problem = n8n_url_problem(url)
        if problem:
            raise ma.ValidationError(problem)
        return url


class CredentialCreateSchema(ma.Schema):
    name = ma.fields.String(required=True, validate=[ma.validate.Length(min=1, max=200), visible_text])
    url = N8nUrl(required=True, validate=ma.validate.Length(max=2048))
    api_key = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=4096))


class ConnectionTestSchema(ma.Schema):
    credential_id = ma.fields.String(load_default=None, validate=ma.validate.Length(max=64))
    url = N8nUrl(load_default=None, validate=ma.validate.Length(max=2048))
    api_key = ma.fields.String(load_default=None, validate=ma.validate.Length(min=1, max=4096))

    @ma.validates_schema
    def one_source(self, data, **_kwargs):
        given = data.get("url") is not None or data.get("api_key") is not None
        if data.get("credential_id") and given:
            raise ma.ValidationError(
                "Give 'credential_id' or 'url' with 'api_key', not both.", "credential_id"
            )
        if not data.get("credential_id") and not (data.get("url") and data.get("api_key")):
            raise ma.ValidationError("Give 'credential_id', or 'url' with 'api_key'.", "credential_id")


def credential_json(credential: N8nCredential) -> dict:
    return {
        "id": credential.id,
        "organization_id": credential.organization_id,
        "name": credential.name,
        "url": credential.url,
        "api_key_masked": credential.api_key_masked,
        "created_by": credential.created_by,
        "created_at": isoformat(credential.created_at),
    }


def credential_or_404(credential_id: str) -> N8nCredential:
    """A saved credential of the acting organization (another organization's is simply not found)."""
    return scoped_get_or_404(N8nCredential, credential_id, "n8n credential")


def probe_n8n(url: str, api_key: str) -> dict:
    """Call the instance's public API once and classify the answer.

    The host is resolved and checked against the outbound rules, and the call goes to that
    checked address, so a saved name that now points at an internal address is refused.
    """
    try:
        session = netguard.pinned_session(url)
    except netguard.UnsafeDestination as exc:
        return {"status": "unreachable", "detail": f"Refused: {exc}."}
    except OSError as exc:
        return {"status": "unreachable", "detail": f"The host does not resolve: {exc}."}
    with session:
        status, detail = check_n8n_connection(url, api_key, timeout=PROBE_TIMEOUT_SECONDS, session=session)
    return {"status": status, "detail": detail}


@blp.route("/credentials", methods=["POST"])
@blp.alt_response(201, schema=ResourceSchema, success=True)
@blp.alt_response(409, response="CONFLICT")
@access("editor")
@blp.arguments(CredentialCreateSchema)
def create_credential(body):
    ctx = context()
    credential = N8nCredential(
        organization_id=ctx.organization_id,
        created_by=ctx.user_id,
        name=body["name"],
        url=body["url"],
        api_key_encrypted=encrypt_secret(body["api_key"]),
        api_key_masked=mask_secret(body["api_key"]),
    )
    db().add(credential)
    commit_named_credential()
    audit("connector.n8n.create", "n8n_credential", credential.id, url=credential.url)
    return credential_json(credential), 201


@blp.route("/credentials", methods=["GET"])
@blp.alt_response(200, schema=PageSchema, success=True)
@access("analyst")
@blp.arguments(PageArgs, location="query")
def list_credentials(args):
    query = select(N8nCredential).where(N8nCredential.organization_id == context().organization_id)
    return paginate(
        query.order_by(N8nCredential.name, N8nCredential.id), args["page"], args["per_page"], credential_json
    )


@blp.route("/credentials/<credential_id>", methods=["DELETE"])
@blp.alt_response(204, description="No Content", success=True)
@blp.alt_response(409, response="CONFLICT")
@access("editor")
def delete_credential(credential_id):
    delete_unscheduled_credential(
        credential_or_404(credential_id), Schedule.n8n_credential_id, "connector.n8n.delete", "n8n_credential"
    )
    return "", 204


@blp.route("/test", methods=["POST"])
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(200, schema=ProbeSchema, success=True)
@access("analyst")
@blp.arguments(ConnectionTestSchema)
def test_connection(body):
    if body["credential_id"]:
        credential = credential_or_404(body["credential_id"])
        url, api_key = credential.url, decrypt_secret(credential.api_key_encrypted)
    else:
        url, api_key = body["url"], body["api_key"]
    with outbound_request(context().organization_id, user_id=context().user_id):
        return {**probe_n8n(url, api_key), "url": url}
