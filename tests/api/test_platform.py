"""Rate limits, health, metrics, error shapes, audit trail, configuration and migrations."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from common.config import DEFAULT_SECRET_KEY, InsecureConfiguration, load_settings
from common.db import Base, get_engine
from tests.helpers import metrics_headers, sqlite_migrator


def test_auth_rate_limit_is_30_per_minute_with_retry_after(client):
    def body(n):  # a new address each time: the per-account lockout must not answer first
        return {"email": f"limit-{n}@example.com", "password": "wrong-password"}

    statuses = [client.post("/api/v1/auth/login", json=body(n)).status_code for n in range(30)]
    assert set(statuses) == {401}
    limited = client.post("/api/v1/auth/login", json=body(30))
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) > 0
    assert limited.headers["X-RateLimit-Limit"] == "30"
    assert limited.headers["X-RateLimit-Remaining"] == "0"
    assert limited.json["code"] == 429 and limited.json["message"]


def test_scan_creation_limit_is_10_per_minute_per_principal(client, make_user):
    alice, bob = make_user(), make_user()
    for _ in range(10):
        assert client.post("/api/v1/scans", json={}, headers=alice.headers()).status_code == 422
    assert client.post("/api/v1/scans", json={}, headers=alice.headers()).status_code == 429
    # another principal has its own window
    assert client.post("/api/v1/scans", json={}, headers=bob.headers()).status_code == 422
    # and other endpoints still answer for the limited principal
    assert client.get("/api/v1/scans", headers=alice.headers()).status_code == 200


def test_api_key_generation_limit_is_5_per_minute(client, make_user):
    user = make_user()
    codes = [
        client.post("/api/v1/auth/api-key", json={"name": f"k{i}"}, headers=user.headers()).status_code
        for i in range(6)
    ]
    assert codes == [201] * 5 + [429]


def test_health_reports_each_check(client):
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "checks": {"database": "ok", "redis": "ok", "broker": "ok"}}


def test_health_is_503_when_redis_is_down(client, monkeypatch):
    import redis

    import common.redis_client as redis_client

    broken = redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    monkeypatch.setattr(redis_client, "get_redis", lambda: broken)
    monkeypatch.setattr("web.api.health.get_redis", lambda: broken)
    response = client.get("/api/v1/health")
    assert response.status_code == 503
    assert (
        response.json["checks"]["redis"].startswith("error") and response.json["checks"]["database"] == "ok"
    )


def test_metrics_exposition(client):
    client.get("/api/v1/health")
    response = client.get("/api/v1/metrics", headers=metrics_headers())
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    text = response.get_data(as_text=True)
    assert 'trusera_http_requests_total{method="GET",route="/api/v1/health",status="200"}' in text
    assert "trusera_http_request_duration_seconds_bucket" in text
    for queue in ("scans", "ingest", "compliance", "exports", "webhooks", "alerts", "maintenance"):
        assert f'trusera_queue_depth{{queue="{queue}"}}' in text


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"data": "{not json", "content_type": "application/json"}, 400),
        ({"json": {"target": 42}}, 422),
        ({"json": {"target": "x", "surprise": True}}, 422),
        ({"json": {"target": "../../etc"}}, 400),
        ({"json": {"target": "/etc/passwd"}}, 400),
        ({"json": {"target": "does-not-exist"}}, 400),
        ({"json": {"n8n_url": "ftp://n8n.example.com", "n8n_api_key": "k"}}, 422),
        ({"json": {"n8n_url": "https://n8n.example.com"}}, 422),
        ({"data": "x" * (11 * 1024 * 1024), "content_type": "application/json"}, 413),
    ],
)
def test_bad_scan_input_gets_a_clear_4xx(client, make_user, kwargs, status):
    user = make_user()
    response = client.post("/api/v1/scans", headers=user.headers(), **kwargs)
    assert response.status_code == status, response.json
    assert response.json["code"] == status and response.json["status"] and response.json["message"]


def test_symlink_escape_is_refused(client, make_user, scan_root):
    user = make_user()
    (scan_root / "escape").symlink_to("/etc")
    response = client.post(
        "/api/v1/scans", json={"target": str(scan_root / "escape")}, headers=user.headers()
    )
    assert response.status_code == 400 and "outside" in response.json["message"]


def test_unknown_route_and_method_are_json(client):
    assert client.get("/api/v1/nowhere").json["code"] == 404
    response = client.put("/api/v1/health")
    assert response.status_code == 405 and response.json["code"] == 405


def test_state_changing_requests_are_audited(client, make_user):
    user = make_user()
    client.put("/api/v1/auth/profile", json={"name": "Audited"}, headers=user.headers())
    client.post("/api/v1/auth/api-key", json={"name": "audited-key"}, headers=user.headers())
    entries = client.get("/api/v1/audit-log", headers=user.headers()).json
    actions = [e["action"] for e in entries["items"]]
    assert "auth.api_key_create" in actions and "auth.register" in actions
    entry = next(e for e in entries["items"] if e["action"] == "auth.api_key_create")
    assert (
        entry["actor_user_id"] == user.id and entry["ip"] == "127.0.0.1" and entry["created_at"].endswith("Z")
    )
    filtered = client.get("/api/v1/audit-log?action=auth.register", headers=user.headers()).json
    assert [e["action"] for e in filtered["items"]] == ["auth.register"]


def test_production_refuses_default_secrets(monkeypatch):
    monkeypatch.setenv("ENV", "production")
    monkeypatch.setenv("SECRET_KEY", DEFAULT_SECRET_KEY)
    with pytest.raises(InsecureConfiguration):
        load_settings()
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("ENCRYPTION_KEY", "ZmFrZS1idXQtd2VsbC1mb3JtZWQta2V5LTMyYnl0ZXM=")
    monkeypatch.setenv("INTERNAL_API_KEY", "i" * 30)
    assert load_settings().is_production


def test_models_and_migrations_agree(database):
    with get_engine().connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def test_migrations_run_on_sqlite(tmp_path):
    import sqlite3

    sqlite_migrator(tmp_path / "fresh.db")("heads")

    tables = {r[0] for r in sqlite3.connect(tmp_path / "fresh.db").execute("select name from sqlite_master")}
    assert {"users", "organizations", "memberships", "api_keys", "scans", "components", "audit_log"} <= tables


def test_deeply_nested_json_is_a_400_not_a_500(client, make_user):
    user = make_user()
    body = "[" * 100_000 + "]" * 100_000
    response = client.post(
        "/api/v1/scans", data=body, content_type="application/json", headers=user.headers()
    )
    assert response.status_code == 400 and response.json["code"] == 400


def test_the_posted_results_of_ended_scans_are_deleted_by_migration_0017(tmp_path):
    """Results kept before scans deleted theirs when they ended hold unmasked snippets: the migration
    deletes those of completed and failed scans and keeps those still to be ingested."""
    import sqlite3

    path = tmp_path / "kept.db"
    upgrade = sqlite_migrator(path)
    upgrade("0016_perf_dash2")
    with sqlite3.connect(path) as db:
        for scan_id, status in (("s-done", "completed"), ("s-failed", "failed"), ("s-waiting", "running")):
            db.execute(
                "INSERT INTO scans (id, organization_id, status, files_scanned, deep, progress, attempts,"
                " created_at) VALUES (?, 'o', ?, 0, 0, 0, 0, '2026-12-06')",
                (scan_id, status),
            )
            db.execute(
                "INSERT INTO scan_results (scan_id, payload, components_checked, received_at)"
                " VALUES (?, ?, 1, '2026-12-06')",
                (scan_id, b'{"components": []}'),
            )
    upgrade("0017_sec_residue")
    with sqlite3.connect(path) as db:
        assert [row[0] for row in db.execute("SELECT scan_id FROM scan_results")] == ["s-waiting"]
