"""Flask extensions, created unbound and initialised in ``create_app``."""

from __future__ import annotations

import json

from flask_jwt_extended import JWTManager
from flask_limiter.errors import RateLimitExceeded
from flask_smorest import Api as SmorestApi
from flask_smorest import Blueprint
from flask_sock import Sock
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import HTTPException

from web.core.openapi import ConventionsPlugin, ErrorSchema


def _flatten_errors(errors: dict) -> dict:
    """webargs nests messages by location (``{"json": {...}}``); clients want ``{field: [...]}``."""
    flat: dict = {}
    for location, messages in errors.items():
        if isinstance(messages, dict):
            flat.update(messages)
        else:
            flat[location if location != "json" else "_body"] = messages
    return flat


class BodyParser(FlaskParser):
    """webargs' parser, a body Python's JSON decoder refuses without a ``JSONDecodeError`` (an integer of
    more than 4300 digits: a ``ValueError``) answered as any invalid JSON body (400), not as a 500."""

    def _raw_load_json(self, req):
        try:
            return super()._raw_load_json(req)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise
        except ValueError as exc:
            raise json.JSONDecodeError(str(exc), "(the request body)", 0) from exc


Blueprint.ARGUMENTS_PARSER = BodyParser()  # every blueprint's ``arguments`` (flask-smorest's own hook)


class Api(SmorestApi):
    """flask-smorest with the conventions' error shape: always a message, flat field errors.

    The OpenAPI document has no catch-all ``default`` response: ``web.core.openapi`` documents every status.
    """

    ERROR_SCHEMA = ErrorSchema
    DEFAULT_ERROR_RESPONSE_NAME = None

    def init_app(self, app, *, spec_kwargs=None):
        conventions.app = app
        super().init_app(app, spec_kwargs=spec_kwargs)

    def handle_http_exception(self, error: HTTPException):
        payload, code, headers = super().handle_http_exception(error)
        payload.setdefault("message", error.description or error.name)
        if "errors" in payload and isinstance(payload["errors"], dict):
            payload["errors"] = _flatten_errors(payload["errors"])
            if code == 422 and payload["message"] == error.description:
                payload["message"] = "The request body or parameters are invalid."
        if code == 400 and payload.get("errors", {}).get("_body") == ["Invalid JSON body."]:
            payload["message"] = "The request body is not valid JSON."
        if isinstance(error, RateLimitExceeded):
            payload["message"] = f"Rate limit exceeded ({error.description}). Retry later."
        return payload, code, headers


conventions = ConventionsPlugin()
api = Api(spec_kwargs={"extra_plugins": [conventions]})
jwt = JWTManager()
sock = Sock()
