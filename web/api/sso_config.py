"""``/organizations/:orgId/sso``: an organization's admins configure their own OpenID Connect provider.

The client secret is write-only and encrypted at rest. Every change bumps the configuration's version,
so sign-ins already under way with the previous settings are refused rather than finished with them.
"""

from __future__ import annotations

import re

import marshmallow as ma
from flask_smorest import Blueprint, abort
from sqlalchemy import select

from common.models import ROLES
from common.models.base import isoformat
from common.models.sso import SsoConfig
from common.security import decrypt_secret, encrypt_secret
from common.sso import members_requiring_sso, outbound_url_problem
from web.api.auth import user_session_principal
from web.core.access import access, context
from web.core.audit_recorder import audit
from web.core.database import db
from web.core.openapi import ObjectSchema
from web.core.public_urls import external_url
from web.core.tokens import end_password_sessions, end_sso_sessions

blp = Blueprint(
    "sso", __name__, url_prefix="/api/v1/organizations", description="Single sign-on configuration"
)

DEFAULT_SCOPES = ("openid", "email", "profile")
DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
SCOPE_TOKEN = r"^[\x21\x23-\x5b\x5d-\x7e]{1,100}$"  # RFC 6749 §3.3 scope-token


class RoleMappingSchema(ma.Schema):
    claim = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=100))
    values = ma.fields.Dict(
        keys=ma.fields.String(validate=ma.validate.Length(min=1, max=200)),
        values=ma.fields.String(validate=ma.validate.OneOf(ROLES)),
        required=True,
    )


class SsoConfigSchema(ma.Schema):
    issuer = ma.fields.Url(
        required=True, schemes={"http", "https"}, require_tld=False, validate=ma.validate.Length(max=500)
    )
    client_id = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=255))
    client_secret = ma.fields.String(load_default=None, validate=ma.validate.Length(min=1, max=2000))
    scopes = ma.fields.List(
        ma.fields.String(validate=ma.validate.Regexp(SCOPE_TOKEN)),
        load_default=lambda: list(DEFAULT_SCOPES),
        validate=ma.validate.Length(min=1, max=20),
    )
    allowed_domains = ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(min=1, max=253)),
        required=True,
        validate=ma.validate.Length(min=1, max=100),
    )
    default_role = ma.fields.String(load_default="viewer", validate=ma.validate.OneOf(ROLES))
    role_mapping = ma.fields.Nested(RoleMappingSchema, load_default=None, allow_none=True)
    allow_password_login = ma.fields.Boolean(load_default=True)
    trust_email_without_verified_claim = ma.fields.Boolean(load_default=False)

    @ma.validates_schema
    def check(self, data, **_kwargs):
        errors = {}
        issuer = data.get("issuer") or ""
        problem = outbound_url_problem(issuer)
        if problem:
            errors["issuer"] = [f"The issuer URL {problem}."]
        elif "?" in issuer or "#" in issuer:
            errors["issuer"] = ["An issuer has no query or fragment."]
        if "openid" not in data.get("scopes", DEFAULT_SCOPES):
            errors["scopes"] = ["The scopes must include 'openid'."]
        domains = [d.strip().lower() for d in data.get("allowed_domains", [])]
        bad = [d for d in domains if not DOMAIN.match(d)]
        if bad:
            errors["allowed_domains"] = [f"Not a domain name: {', '.join(bad)}."]
        if errors:
            raise ma.ValidationError(errors)

    @ma.post_load
    def normalize(self, data, **_kwargs):
        data["allowed_domains"] = sorted({d.strip().lower() for d in data["allowed_domains"]})
        data["scopes"] = list(dict.fromkeys(data["scopes"]))
        return data


class ToggleSchema(ma.Schema):
    enabled = ma.fields.Boolean(required=True)


def sso_config_json(config: SsoConfig, slug: str) -> dict:
    """Everything an admin needs to see and register at the provider; never the client secret."""
    return {
        "organization_id": config.organization_id,
        "enabled": config.enabled,
        "issuer": config.issuer,
        "client_id": config.client_id,
        "client_secret_set": bool(config.client_secret_encrypted),
        "scopes": list(config.scopes),
        "allowed_domains": list(config.allowed_domains),
        "default_role": config.default_role,
        "role_mapping": (
            {"claim": config.role_claim, "values": dict(config.role_values)} if config.role_claim else None
        ),
        "allow_password_login": config.allow_password_login,
        "trust_email_without_verified_claim": config.trust_email_without_verified_claim,
        "redirect_uri": external_url("sso_public.callback", org_slug=slug),
        "login_url": external_url("sso_public.login", org_slug=slug),
        "version": config.version,
        "created_at": isoformat(config.created_at),
        "updated_at": isoformat(config.updated_at),
    }


def _authority(config: SsoConfig) -> tuple:
    """What an SSO session stands on: the provider and client that vouched for it and the rules that
    admitted it and gave it its role. Scopes and the password-login policy are not part of it."""
    return (
        config.issuer,
        config.client_id,
        _secret_of(config),
        sorted(config.allowed_domains or []),
        config.default_role,
        config.role_claim,
        dict(config.role_values or {}),
        config.trust_email_without_verified_claim,
    )


def _requires_sso(config: SsoConfig) -> bool:
    return config.enabled and not config.allow_password_login


def _end_sessions_policy_forbids(config: SsoConfig, required_before: bool) -> int:
    """When ``allow_password_login: false`` comes into force, the password sessions of the members it
    governs end too, with the organization's API keys minted in them: it refuses their password sign-ins,
    and one made just before must not outlive it."""
    if required_before or not _requires_sso(config):
        return 0
    return end_password_sessions(config.organization_id, members_requiring_sso(db(), config.organization_id))


def _secret_of(config: SsoConfig) -> str | None:
    try:
        return decrypt_secret(config.client_secret_encrypted) if config.client_secret_encrypted else None
    except ValueError:
        return None  # unreadable: any secret given now is a change


def _config_of(org_id: str) -> SsoConfig | None:
    return db().scalar(select(SsoConfig).where(SsoConfig.organization_id == org_id))


def _config_or_404(org_id: str) -> SsoConfig:
    config = _config_of(org_id)
    if config is None:
        abort(404, message="SSO is not configured for this organization.")
    return config


@blp.route("/<org_id>/sso", methods=["PUT"])
@blp.alt_response(200, schema=ObjectSchema, success=True)
@blp.alt_response(201, schema=ObjectSchema, description="SSO configured for the first time", success=True)
@blp.alt_response(409, response="CONFLICT")
@access("admin", org_arg="org_id")
@blp.arguments(SsoConfigSchema)
def put_config(body, org_id):
    user_session_principal("configure SSO")
    organization = context().organization
    if organization.personal:
        abort(409, message="SSO is configured for a team organization, not a personal workspace.")
    config = _config_of(org_id)
    created = config is None
    if created:
        if not body["client_secret"]:
            abort(
                422,
                message="The client secret is required when SSO is first configured.",
                errors={"json": {"client_secret": ["Missing data for required field."]}},
            )
        config = SsoConfig(organization_id=org_id, enabled=False, version=0)
        db().add(config)
    elif body["issuer"] != config.issuer and not body["client_secret"]:
        # The stored secret would go to the new provider's token endpoint, which its admin may run.
        abort(
            422,
            message="A new issuer takes its own client secret: give 'client_secret' with it.",
            errors={"json": {"client_secret": ["Required when the issuer changes."]}},
        )
    before = None if created else _authority(config)
    required_before = not created and _requires_sso(config)
    if body["client_secret"]:
        config.client_secret_encrypted = encrypt_secret(body["client_secret"])
    mapping = body["role_mapping"]
    config.issuer = body["issuer"]
    config.client_id = body["client_id"]
    config.scopes = body["scopes"]
    config.allowed_domains = body["allowed_domains"]
    config.default_role = body["default_role"]
    config.role_claim = mapping["claim"] if mapping else None
    config.role_values = dict(mapping["values"]) if mapping else {}
    config.allow_password_login = body["allow_password_login"]
    config.trust_email_without_verified_claim = body["trust_email_without_verified_claim"]
    config.version += 1
    ended = end_sso_sessions(org_id) if before is not None and before != _authority(config) else 0
    password_ended = _end_sessions_policy_forbids(config, required_before)
    db().commit()
    audit(
        "sso.configure",
        "organization",
        org_id,
        issuer=config.issuer,
        client_id=config.client_id,
        secret_changed=bool(body["client_secret"]),
        sessions_ended=ended,
        password_sessions_ended=password_ended,
    )
    return sso_config_json(config, organization.slug), 201 if created else 200


@blp.route("/<org_id>/sso", methods=["GET"])
@blp.alt_response(200, schema=ObjectSchema, success=True)
@access("viewer", org_arg="org_id")
def get_config(org_id):
    return sso_config_json(_config_or_404(org_id), context().organization.slug)


@blp.route("/<org_id>/sso/toggle", methods=["POST"])
@blp.alt_response(200, schema=ObjectSchema, success=True)
@access("admin", org_arg="org_id")
@blp.arguments(ToggleSchema)
def toggle(body, org_id):
    user_session_principal("enable or disable SSO")
    config = _config_or_404(org_id)
    required_before = _requires_sso(config)
    config.enabled = body["enabled"]
    config.version += 1
    ended = 0 if config.enabled else end_sso_sessions(org_id)
    password_ended = _end_sessions_policy_forbids(config, required_before)
    db().commit()
    if config.enabled:
        audit("sso.enable", "organization", org_id, password_sessions_ended=password_ended)
    else:
        audit("sso.disable", "organization", org_id, sessions_ended=ended)
    return sso_config_json(config, context().organization.slug)


@blp.route("/<org_id>/sso", methods=["DELETE"])
@blp.alt_response(204, description="No Content", success=True)
@access("admin", org_arg="org_id")
def delete_config(org_id):
    user_session_principal("remove SSO")
    config = _config_or_404(org_id)
    db().delete(config)
    ended = end_sso_sessions(org_id)
    db().commit()
    audit("sso.delete", "organization", org_id, issuer=config.issuer, sessions_ended=ended)
    return "", 204
