"""The reference's rate-limit table. Grouped limits are shared by every endpoint of the group.

Endpoints of a group are exempt from the general 200/minute application limit,
so each request counts against exactly one row of the table.
"""

from __future__ import annotations

from flask import current_app, request
from flask_limiter import Limiter

from web.core.principal import rate_limit_key

GROUP_LIMITS = {
    "auth": "30 per minute",
    "scan-create": "10 per minute",
    "webhook-test": "5 per minute",
    "api-key-create": "5 per minute",
}
GENERAL_LIMIT = "200 per minute"
UNLIMITED_ENDPOINTS = {"health.health", "health.metrics_endpoint", "ws", "internal.submit_result", "static"}


def limit_group(group: str):
    def decorator(view):
        limited = limiter.shared_limit(GROUP_LIMITS[group], scope=group)(view)
        limited.rate_group = group
        return limited

    return decorator


def exempt_from_general_limit() -> bool:
    endpoint = request.endpoint
    if endpoint is None or endpoint in UNLIMITED_ENDPOINTS or endpoint.startswith(("api-docs.", "internal.")):
        return True
    view = current_app.view_functions.get(endpoint)
    return getattr(view, "rate_group", None) is not None


limiter = Limiter(
    key_func=rate_limit_key,
    headers_enabled=True,
    strategy="moving-window",
    application_limits=[GENERAL_LIMIT],
    application_limits_exempt_when=exempt_from_general_limit,
    swallow_errors=True,
)
