"""``/connectors/repositories``: saved repository credentials (HTTPS token or SSH deploy key) and a test.

Like the n8n connector: the secret is write-only (encrypted at rest, listed masked), editors save and
delete, analysts list and test; the test's outcome is data about the remote repository, so it is
always a 200 of ours.
"""

from __future__ import annotations

import hashlib

import marshmallow as ma
from flask_smorest import Blueprint, abort
from sqlalchemy import select

from common.models.base import isoformat
from common.models.connectors import REPOSITORY_CREDENTIAL_KINDS, RepositoryCredential
from common.models.schedules import Schedule
from common.repositories import (
    RepositoryAuth,
    RepositoryError,
    RepositoryUrl,
    credential_host,
    credential_host_problem,
    parse_repository_url,
    probe_repository,
    ref_problem,
)
from common.security import decrypt_secret, encrypt_secret, mask_secret
from web.core.access import access, context, scoped_get_or_404
from web.core.audit_recorder import audit
from web.core.credentials import commit_named_credential, delete_unscheduled_credential
from web.core.database import db
from web.core.openapi import PageSchema, ResourceSchema
from web.core.outbound import outbound_request
from web.core.pagination import PageArgs, paginate
from web.core.visible_text import visible_text

blp = Blueprint(
    "repositories",
    __name__,
    url_prefix="/api/v1/connectors/repositories",
    description="Repository credentials for repository scans",
)

PROBE_TIMEOUT_SECONDS = 20
MAX_URL_LENGTH = 2048


class RepositoryUrlField(ma.fields.String):
    """A repository URL the outbound rules accept, stored in its normal (secret-free) form."""

    def _deserialize(self, value, attr, data, **kwargs):
        raw = super()._deserialize(value, attr, data, **kwargs)
        if len(raw) > MAX_URL_LENGTH:
            raise ma.ValidationError(f"At most {MAX_URL_LENGTH} characters.")
        try:
            return str(parse_repository_url(raw))
        except RepositoryError as exc:
            raise ma.ValidationError(str(exc)) from exc


class RefField(ma.fields.String):
    def _deserialize(self, value, attr, data, **kwargs):
        ref = super()._deserialize(value, attr, data, **kwargs).strip()
        problem = ref_problem(ref)
        if problem:
            raise ma.ValidationError(problem)
        return ref


class CredentialHostField(ma.fields.String):
    """The host a credential is sent to (``git.example.com``, ``git.example.com:8443``), in normal form."""

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return credential_host(super()._deserialize(value, attr, data, **kwargs))
        except RepositoryError as exc:
            raise ma.ValidationError(str(exc)) from exc


class RepositoryCredentialUpdateSchema(ma.Schema):
    name = ma.fields.String(validate=[ma.validate.Length(min=1, max=200), visible_text])
    username = ma.fields.String(allow_none=True, validate=ma.validate.Length(min=1, max=200))
    secret = ma.fields.String(validate=ma.validate.Length(min=1, max=16384))
    known_hosts = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=65536))
    host = CredentialHostField(validate=ma.validate.Length(min=1, max=300))

    @ma.validates_schema
    def host_with_its_secret(self, data, **_kwargs):
        """Moving a saved secret to another host would send it there: a new host takes a new secret."""
        if "host" in data and "secret" not in data:
            raise ma.ValidationError("A credential's host changes only with its secret: give both.", "secret")


class RepositoryCredentialCreateSchema(RepositoryCredentialUpdateSchema):
    name = ma.fields.String(required=True, validate=[ma.validate.Length(min=1, max=200), visible_text])
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(REPOSITORY_CREDENTIAL_KINDS))
    secret = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=16384))
    host = CredentialHostField(required=True, validate=ma.validate.Length(min=1, max=300))

    @ma.validates_schema
    def fits_the_kind(self, data, **_kwargs):
        if data["kind"] == "ssh_key" and "PRIVATE KEY" not in data["secret"]:
            raise ma.ValidationError("An SSH deploy key is a private key in OpenSSH or PEM form.", "secret")
        if data["kind"] == "https_token" and data.get("known_hosts"):
            raise ma.ValidationError("'known_hosts' belongs to SSH deploy keys.", "known_hosts")


class RepositoryTestSchema(ma.Schema):
    repository_url = RepositoryUrlField(required=True)
    ref = RefField(load_default=None)
    credential_id = ma.fields.String(load_default=None, validate=ma.validate.Length(max=64))
    token = ma.fields.String(load_default=None, validate=ma.validate.Length(min=1, max=16384))
    username = ma.fields.String(load_default=None, validate=ma.validate.Length(min=1, max=200))

    @ma.validates_schema
    def one_source(self, data, **_kwargs):
        if data.get("credential_id") and data.get("token"):
            raise ma.ValidationError("Give 'credential_id' or 'token', not both.", "credential_id")


class RepositoryProbeSchema(ma.Schema):
    status = ma.fields.String(
        required=True, validate=ma.validate.OneOf(["reachable", "unauthorized", "not_found", "unreachable"])
    )
    detail = ma.fields.String(required=True, allow_none=True)
    url = ma.fields.String(required=True)


def masked(kind: str, secret: str) -> str:
    if kind == "ssh_key":
        return f"ssh key sha256:{hashlib.sha256(secret.strip().encode()).hexdigest()[:12]}"
    return mask_secret(secret)


def credential_json(credential: RepositoryCredential) -> dict:
    return {
        "id": credential.id,
        "organization_id": credential.organization_id,
        "name": credential.name,
        "kind": credential.kind,
        "username": credential.username,
        "host": credential.host,
        "secret_masked": credential.secret_masked,
        "has_known_hosts": bool(credential.known_hosts),
        "created_by": credential.created_by,
        "created_at": isoformat(credential.created_at),
        "updated_at": isoformat(credential.updated_at),
    }


def repository_credential_or_404(credential_id: str) -> RepositoryCredential:
    """A saved credential of the acting organization (another organization's is simply not found)."""
    return scoped_get_or_404(RepositoryCredential, credential_id, "Repository credential")


def credential_for(credential_id: str, url: str | RepositoryUrl, field: str) -> RepositoryCredential:
    """The acting organization's credential, when ``url`` is on the host it was saved for (else a 422
    on ``field``): a member who may use a credential must not send it to a server of their choosing."""
    credential = repository_credential_or_404(credential_id)
    parsed = url if isinstance(url, RepositoryUrl) else parse_repository_url(url)
    problem = credential_host_problem(credential.host, credential.kind, parsed)
    if problem:
        abort(422, message=problem, errors={field: [problem]})
    return credential


def auth_of(credential: RepositoryCredential) -> RepositoryAuth:
    return RepositoryAuth(
        kind=credential.kind,
        secret=decrypt_secret(credential.secret_encrypted),
        username=credential.username,
        known_hosts=credential.known_hosts,
    )


def _save(credential: RepositoryCredential, body: dict) -> None:
    for field in ("name", "username", "known_hosts", "host"):
        if field in body:
            setattr(credential, field, body[field] or None)
    if "secret" in body:
        credential.secret_encrypted = encrypt_secret(body["secret"])
        credential.secret_masked = masked(credential.kind, body["secret"])
    commit_named_credential()


@blp.route("/credentials", methods=["POST"])
@blp.alt_response(201, schema=ResourceSchema, success=True)
@blp.alt_response(409, response="CONFLICT")
@access("editor")
@blp.arguments(RepositoryCredentialCreateSchema)
def create_credential(body):
    ctx = context()
    credential = RepositoryCredential(
        organization_id=ctx.organization_id, created_by=ctx.user_id, kind=body["kind"]
    )
    db().add(credential)
    _save(credential, body)
    audit("connector.repository.create", "repository_credential", credential.id, kind=credential.kind)
    return credential_json(credential), 201


@blp.route("/credentials", methods=["GET"])
@blp.alt_response(200, schema=PageSchema, success=True)
@access("analyst")
@blp.arguments(PageArgs, location="query")
def list_credentials(args):
    query = select(RepositoryCredential).where(
        RepositoryCredential.organization_id == context().organization_id
    )
    return paginate(
        query.order_by(RepositoryCredential.name, RepositoryCredential.id),
        args["page"],
        args["per_page"],
        credential_json,
    )


@blp.route("/credentials/<credential_id>", methods=["GET"])
@blp.alt_response(200, schema=ResourceSchema, success=True)
@access("analyst")
def get_credential(credential_id):
    return credential_json(repository_credential_or_404(credential_id))


@blp.route("/credentials/<credential_id>", methods=["PUT"])
@blp.alt_response(200, schema=ResourceSchema, success=True)
@blp.alt_response(409, response="CONFLICT")
@access("editor")
@blp.arguments(RepositoryCredentialUpdateSchema)
def update_credential(body, credential_id):
    credential = repository_credential_or_404(credential_id)
    _save(credential, body)
    audit("connector.repository.update", "repository_credential", credential.id, fields=sorted(body))
    return credential_json(credential)


@blp.route("/credentials/<credential_id>", methods=["DELETE"])
@blp.alt_response(204, description="No Content", success=True)
@blp.alt_response(409, response="CONFLICT")
@access("editor")
def delete_credential(credential_id):
    delete_unscheduled_credential(
        repository_credential_or_404(credential_id),
        Schedule.repository_credential_id,
        "connector.repository.delete",
        "repository_credential",
    )
    return "", 204


@blp.route("/test", methods=["POST"])
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(200, schema=RepositoryProbeSchema, success=True)
@access("analyst")
@blp.arguments(RepositoryTestSchema)
def test_repository(body):
    """``git ls-remote`` through the outbound guard, with the saved or given credential (or none)."""
    url = parse_repository_url(body["repository_url"])
    auth = None
    if body["credential_id"]:
        auth = auth_of(credential_for(body["credential_id"], url, "credential_id"))
    elif body["token"]:
        auth = RepositoryAuth(kind="https_token", secret=body["token"], username=body["username"])
    with outbound_request(context().organization_id, user_id=context().user_id):
        outcome = probe_repository(url, body["ref"], auth, timeout_seconds=PROBE_TIMEOUT_SECONDS)
    return {**outcome, "url": str(url)}
