"""Absolute URLs the platform hands to others (an identity provider's redirect_uri, a login link).

Built from PUBLIC_URL when it is configured, so a forged Host header cannot choose where the identity
provider sends an authorization code; from the request's host only when PUBLIC_URL is left at its default
(a development server reached under whatever name)."""

from __future__ import annotations

from flask import url_for

from common.config import get_settings


def external_url(endpoint: str, **values) -> str:
    settings = get_settings()
    if settings.public_url_configured:
        return settings.public_url.rstrip("/") + url_for(endpoint, **values)
    return url_for(endpoint, **values, _external=True)
