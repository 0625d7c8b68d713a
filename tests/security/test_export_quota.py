"""Exports: any viewer may ask for one, and each is a worker job and a file kept in the database.

Before, the only bound was the request rate limit (200 a minute per member): a viewer, or a handful of
API keys, queued exports faster than the ``exports`` workers could render them (every other member's
export waited behind them) and stored a rendered file per request for ``HISTORY_RETENTION_DAYS``.
Now an organization has at most ``EXPORTS_IN_FLIGHT_PER_ORG`` exports queued or running (429 with
``Retry-After`` past it) and keeps its newest ``EXPORTS_KEPT_PER_ORG`` finished ones.
"""

from __future__ import annotations

import dataclasses
import threading

import pytest
from flask.testing import FlaskClient

from common.config import get_settings
from common.db import session_scope
from common.models.base import utcnow
from common.models.exports import Export
from tests.factories import component, make_scan
from tests.helpers import add_member, register_user

API = "/api/v1"


@pytest.fixture
def limits(monkeypatch):
    def set_limits(in_flight: int, kept: int = 200) -> None:
        small = dataclasses.replace(
            get_settings(), exports_in_flight_per_org=in_flight, exports_kept_per_org=kept
        )
        monkeypatch.setattr("web.api.scan_exports.get_settings", lambda: small)

    monkeypatch.setattr(
        "web.core.enqueueing.enqueue", lambda *_args, **_kwargs: "task-id"
    )  # no worker drains
    return set_limits


def _export(client, user, scan_id: str, org_id: str | None = None):
    return client.post(f"{API}/scans/{scan_id}/export", json={"format": "html"}, headers=user.headers(org_id))


def _finish(export_id: str) -> None:
    with session_scope() as session:
        export = session.get(Export, export_id)
        export.status, export.content, export.finished_at = "completed", b"<html></html>", utcnow()


def test_viewers_cannot_queue_exports_past_the_organizations_limit(client, limits):
    limits(in_flight=3)
    admin = register_user(client)
    org_id = client.post(f"{API}/organizations", json={"name": "Quota"}, headers=admin.headers()).json["id"]
    scan_id = make_scan(org_id, components=[component("llm_provider", "openai")])
    viewers = [register_user(client) for _ in range(2)]
    for viewer in viewers:
        add_member(client, admin, org_id, viewer, "viewer")
    admitted = [_export(client, viewers[0], scan_id, org_id) for _ in range(3)]
    assert [r.status_code for r in admitted] == [202, 202, 202]
    for user in (viewers[0], viewers[1], admin):  # the limit is the organization's, not the member's
        refused = _export(client, user, scan_id, org_id)
        assert refused.status_code == 429, refused.json
        assert int(refused.headers["Retry-After"]) >= 9  # ours, or the rate window's end if later
        assert "EXPORTS_IN_FLIGHT_PER_ORG" in refused.json["message"]
    with session_scope() as session:
        assert session.query(Export).filter_by(organization_id=org_id).count() == 3
    other = register_user(client)  # another organization is not held up
    assert _export(client, other, make_scan(other.org_id)).status_code == 202
    _finish(admitted[0].json["id"])
    assert _export(client, viewers[1], scan_id, org_id).status_code == 202


def test_concurrent_requests_do_not_pass_the_limit_together(app, limits):
    limits(in_flight=2)
    user = register_user(app.test_client())
    scan_id = make_scan(user.org_id)
    start = threading.Barrier(8)
    codes: list[int] = []

    def ask() -> None:
        with FlaskClient(app) as own_client:
            start.wait()
            codes.append(_export(own_client, user, scan_id).status_code)

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(codes) == [202, 202] + [429] * 6


def test_only_the_newest_finished_exports_are_kept(client, limits):
    limits(in_flight=10, kept=2)
    user = register_user(client)
    scan_id = make_scan(user.org_id)
    finished = []
    for _ in range(3):
        created = _export(client, user, scan_id)
        assert created.status_code == 202
        _finish(created.json["id"])
        finished.append(created.json["id"])
    running = _export(client, user, scan_id).json["id"]
    found = {e: client.get(f"{API}/exports/{e}", headers=user.headers()).status_code for e in finished}
    assert found == {finished[0]: 404, finished[1]: 200, finished[2]: 200}
    assert client.get(f"{API}/exports/{running}", headers=user.headers()).json["status"] == "queued"


def test_an_export_deleted_while_its_download_is_read_is_not_found(client, limits, monkeypatch):
    """Another member's request deletes finished exports beyond the newest kept; a download reading one of
    them in the meantime found its row, then no file (a 500 from ``len(None)`` before)."""
    user = register_user(client)
    export_id = _export(client, user, make_scan(user.org_id)).json["id"]
    _finish(export_id)
    import web.api.exports as exports_api

    found = exports_api.scoped_get_or_404

    def found_then_deleted(model, resource_id, what):
        export = found(model, resource_id, what)
        with session_scope() as session:
            session.delete(session.get(Export, resource_id))
        return export

    monkeypatch.setattr(exports_api, "scoped_get_or_404", found_then_deleted)
    download = client.get(f"{API}/exports/{export_id}/download", headers=user.headers())
    assert download.status_code == 404, download.data[:200]
