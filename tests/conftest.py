"""Settings every test process shares, none of them a service: unit tests (``tests/unit``) need
neither Redis nor PostgreSQL. The suites that do (api, pipeline, ops, security, integration) load
``tests.services`` from their own ``conftest.py``.

The environment is set before any application module is imported, because
settings are read once per process.
"""

from __future__ import annotations

import base64
import os
import secrets

import pytest

from common.bom import iri_grammar

iri_grammar.defer()  # before the test modules import jsonschema

os.environ.update(
    {
        "ENV": "test",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "INTERNAL_API_KEY": secrets.token_urlsafe(32),
        "ENCRYPTION_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "OUTBOUND_ALLOWLIST": "127.0.0.1,localhost",  # the tests' loopback receivers and identity providers
        "METRICS_TOKEN": secrets.token_urlsafe(32),
        "METRICS_CACHE_SECONDS": "0",  # every scrape reads afresh; tests/security/test_public_endpoints.py
        "HEALTH_CACHE_SECONDS": "0",  # sets them to prove the caching
        # as many as the session's worker has threads, so one organization's scans run as they did;
        # tests/security/test_scan_fairness.py sets 1 to prove the cap
        "SCANS_RUNNING_PER_ORG": "4",
    }
)


@pytest.fixture(scope="session", autouse=True)
def _cheap_password_hashing():
    """argon2id at its cheapest parameters: the production cost (64 MiB, 3 passes, 4 lanes) is ≈ 0.35 s of
    CPU per registration and per login, paid hundreds of times by tests that are not about hashing.
    ``production_password_hashing`` restores it where hashing is the point."""
    import argon2

    from common import security

    production = security._password_hasher
    cheap = argon2.PasswordHasher.from_parameters(argon2.profiles.CHEAPEST)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(security, "_password_hasher", cheap)
        yield production


@pytest.fixture
def production_password_hashing(_cheap_password_hashing, monkeypatch):
    """The hasher ``common.security`` built for production, for this test."""
    from common import security

    monkeypatch.setattr(security, "_password_hasher", _cheap_password_hashing)
