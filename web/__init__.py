"""The API application: a thin layer that validates, authorizes, writes, enqueues and answers."""

from __future__ import annotations

import importlib
import logging
import pkgutil
from datetime import timedelta

from flask import Flask, Request
from flask.sessions import SessionInterface
from psycopg.errors import UntranslatableCharacter
from sqlalchemy.exc import DataError, OperationalError
from werkzeug.exceptions import (
    BadRequest,
    HTTPException,
    InternalServerError,
    RequestEntityTooLarge,
    ServiceUnavailable,
)
from werkzeug.middleware.proxy_fix import ProxyFix

from common import principal_versions, revocation
from common.config import get_settings
from web.core import api_docs, audit_recorder, database, metrics
from web.core.extensions import api as rest_api
from web.core.extensions import jwt, sock
from web.core.ratelimits import limiter, note_api_key_outcome

log = logging.getLogger(__name__)


class LimitedRequest(Request):
    """A streamed (chunked) body past ``MAX_CONTENT_LENGTH`` is a 413, as an announced one is.

    Without ``Content-Length`` werkzeug stops reading at the limit and returns the prefix, so an
    oversized JSON body became a 400 "not valid JSON". The limit is read when the body is, so a
    blueprint that raises it for its own requests (``/internal``) still can.
    """

    def get_data(self, cache: bool = True, as_text: bool = False, parse_form_data: bool = False):
        data = super().get_data(cache=cache, as_text=False, parse_form_data=parse_form_data)
        limit = self.max_content_length
        streamed = limit is not None and self.content_length is None and len(data) >= limit
        if streamed and self.environ["wsgi.input"].read(1):  # more than the limit was sent
            raise RequestEntityTooLarge()
        return data.decode(errors="replace") if as_text else data


class NoCookieSession(SessionInterface):
    """The API keeps no cookie session: every request carries its bearer token or API key. Flask's default
    opened a signed-cookie session on every request (an itsdangerous signer built each time) that nothing
    reads; Flask's null session stands in, and refuses writes."""

    def open_session(self, app, request):
        return None

    def save_session(self, app, session, response) -> None:
        return None


class App(Flask):
    """Flask, asking once per function whether it is a coroutine: ``ensure_sync`` runs for every hook and
    the view of every request (``inspect.iscoroutinefunction`` each time), and its answer never changes.
    Bounded, as a per-request ``after_this_request`` closure would otherwise be kept forever."""

    SYNC_FUNCTIONS_REMEMBERED = 1024

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._sync_functions: dict = {}

    def ensure_sync(self, func):
        try:
            return self._sync_functions[func]
        except KeyError:
            sync = super().ensure_sync(func)
            if len(self._sync_functions) < self.SYNC_FUNCTIONS_REMEMBERED:
                self._sync_functions[func] = sync
            return sync
        except TypeError:  # an unhashable callable
            return super().ensure_sync(func)


def _register_blueprints() -> None:
    """Every module of ``web/api/`` that defines a ``blp`` is one resource's blueprint."""
    resources = importlib.import_module("web.api")
    for module in sorted(pkgutil.iter_modules(resources.__path__), key=lambda m: m.name):
        blueprint = getattr(importlib.import_module(f"web.api.{module.name}"), "blp", None)
        if blueprint is not None:
            rest_api.register_blueprint(blueprint)


def create_app() -> Flask:
    settings = get_settings()
    app = App(__name__, static_folder=None)  # an API: no /static route to serve files from
    app.request_class = LimitedRequest
    app.session_interface = NoCookieSession()
    if settings.trusted_proxies:
        # X-Forwarded-For/-Proto set by that many proxies in front: the client address (rate limits,
        # login lockout, audit) is the real client's. With 0 the headers are ignored: anyone can send them.
        hops = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        JWT_SECRET_KEY=settings.secret_key,
        JWT_ACCESS_TOKEN_EXPIRES=timedelta(minutes=settings.access_token_minutes),
        JWT_REFRESH_TOKEN_EXPIRES=timedelta(days=settings.refresh_token_days),
        MAX_CONTENT_LENGTH=settings.max_content_length,
        API_TITLE="Trusera AI-BOM API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
        RATELIMIT_STORAGE_URI=settings.redis_url,
        RATELIMIT_ENABLED=settings.ratelimit_enabled,
        SOCK_SERVER_OPTIONS={"ping_interval": 25, "max_message_size": 64 * 1024},
    )
    database.init_app(app)
    revocation.install()
    principal_versions.install()
    metrics.init_app(app)
    rest_api.init_app(app)
    jwt.init_app(app)
    limiter.init_app(app)
    app.after_request(note_api_key_outcome)
    import web.api.ws  # noqa: F401  (adds the WebSocket route to ``sock`` before it is registered)

    sock.init_app(app)
    audit_recorder.init_app(app)
    _register_blueprints()
    api_docs.init_app(app)

    @app.errorhandler(OperationalError)
    def database_unavailable(exc):
        log.error("database unavailable: %s", exc)
        return rest_api.handle_http_exception(
            ServiceUnavailable("The database is unavailable; retry shortly.")
        )

    @app.errorhandler(DataError)
    def text_the_database_refuses(exc):
        """A NUL character that reached a query (an id in the path or a header, a text field of a body, which
        the driver refuses before anything runs; ``\u0000`` in a JSON value, which PostgreSQL refuses as
        untranslatable). The request's error, a 400, not a 500 with a logged traceback for every such
        request anyone sends (signed in or not)."""
        if "NUL" not in str(exc.orig) and not isinstance(exc.orig, UntranslatableCharacter):
            return unexpected(exc)
        return rest_api.handle_http_exception(
            BadRequest("The request holds a NUL character, which no value accepts.")
        )

    @app.errorhandler(Exception)
    def unexpected(exc):
        if isinstance(exc, HTTPException):
            return rest_api.handle_http_exception(exc)
        if isinstance(exc, RecursionError):
            return rest_api.handle_http_exception(BadRequest("The request body is nested too deeply."))
        log.exception("unhandled error")
        return rest_api.handle_http_exception(InternalServerError("An unexpected error occurred."))

    return app
