"""A tiny OpenID provider in Python that signs whatever ID token a test asks for.

The real provider (oidc-provider) only issues correct tokens; this one issues expired, tampered,
mis-addressed or foreign-signed ones so each refusal of the platform can be proven.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

from joserfc import jwt
from joserfc.jwk import RSAKey


class FakeIdentityProvider:
    def __init__(self):
        self.key = RSAKey.generate_key(2048, parameters={"kid": "fake-key-1", "alg": "RS256", "use": "sig"})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.issuer = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.advertised_issuer = self.issuer
        self.email = f"dana-{secrets.token_hex(4)}@fake.test"  # one person per provider: no account clash
        self.id_token: str | None = None
        self.userinfo: dict = {}
        self.token_requests: list[dict] = []
        self.token_redirect: str | None = None  # answer the token POST with a 307 to this URL
        self.token_gate: threading.Event | None = (
            None  # hold each token POST until it is set (a slow provider)
        )
        self.thread = threading.Thread(target=self.server.serve_forever, name="fake-idp", daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *_exc):
        self.stop()

    def stop(self) -> None:
        """Stop answering (idempotent), as an identity provider that went away."""
        if self.thread.is_alive():
            self.server.shutdown()
        self.server.server_close()

    def claims(self, nonce: str | None, client_id: str, **overrides) -> dict:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": "fake-subject-1",
            "aud": client_id,
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
            "email": self.email,
            "email_verified": True,
        }
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def sign(self, claims: dict, key: RSAKey | None = None) -> str:
        signing_key = key or self.key
        header = {"alg": "RS256", "kid": signing_key.kid}
        return jwt.encode(header, claims, signing_key)

    def metadata(self) -> dict:
        return {
            "issuer": self.advertised_issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic"],
        }

    def _handler(self):
        idp = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args):
                pass

            def _json(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                if self.path == "/.well-known/openid-configuration":
                    self._json(200, idp.metadata())
                elif self.path == "/jwks":
                    self._json(200, {"keys": [idp.key.as_dict(private=False)]})
                elif self.path == "/userinfo":
                    self._json(200, idp.userinfo)
                else:
                    self._json(404, {"error": "not_found"})

            def do_POST(self):
                if self.path != "/token":
                    self._json(404, {"error": "not_found"})
                    return
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(parse_qsl(self.rfile.read(length).decode()))
                idp.token_requests.append({"form": form, "authorization": self.headers.get("Authorization")})
                if idp.token_gate is not None:
                    idp.token_gate.wait(timeout=20)
                if idp.token_redirect:
                    self.send_response(307)
                    self.send_header("Location", idp.token_redirect)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if idp.id_token is None:
                    self._json(400, {"error": "invalid_grant"})
                    return
                self._json(
                    200,
                    {
                        "access_token": "fake-access",
                        "token_type": "Bearer",
                        "expires_in": 300,
                        "id_token": idp.id_token,
                    },
                )

        return Handler
