"""No secret ships in the source (issue 12, item 5).

The attack: read ``DEFAULT_SECRET_KEY`` in the repository, sign a JWT for a user id, and call the API
as that user on a server started without secrets. The server must have generated its own secrets,
persisted with mode 0600 and shared by every process that starts at the same time.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest
import requests

from common.config import (
    DEFAULT_ENCRYPTION_KEY,
    DEFAULT_INTERNAL_API_KEY,
    DEFAULT_SECRET_KEY,
    SECRET_NAMES,
    InsecureConfiguration,
    load_settings,
)
from tests.ops.conftest import ApiUser, Stack, free_port

ROOT = Path(__file__).resolve().parents[2]


def _without_secrets(env: dict, data_dir: Path) -> dict:
    return {**{k: v for k, v in env.items() if k not in SECRET_NAMES}, "DATA_DIR": str(data_dir)}


def _forged_token(user_id: str, key: str) -> str:
    now = datetime.now(UTC)
    claims = {
        "sub": user_id,
        "type": "access",
        "jti": "forged",
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(minutes=5),
    }
    return jwt.encode(claims, key, algorithm="HS256")


def test_a_token_signed_with_the_published_key_is_refused_by_a_server_started_without_secrets(tmp_path):
    stack = Stack(tmp_path)
    stack.env = _without_secrets(stack.env, tmp_path / "data")
    log_file = tmp_path / "access.log"
    port = free_port()
    stack.spawn(
        "api",
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "2",
         "--access-logfile", str(log_file), "web.wsgi:app"],
    )  # fmt: skip
    api = f"http://127.0.0.1:{port}/api/v1"
    try:
        stack.wait_http(f"{api}/health")
        victim = ApiUser(api)
        me = victim.get("/auth/me").json()
        forged = _forged_token(me["id"], DEFAULT_SECRET_KEY)
        answer = requests.get(f"{api}/auth/me", headers={"Authorization": f"Bearer {forged}"}, timeout=10)
        assert answer.status_code == 401, answer.text
        # Both gunicorn workers (and the master) started together and agree on one generated key:
        # every request verifies the user's real token, whichever worker answers it.
        assert all(victim.get("/auth/me").status_code == 200 for _ in range(10))
        # The query string (where a WebSocket client may still put ?token=) stays out of the access log.
        requests.get(f"{api}/health?token=do-not-log-me", timeout=10)
        time.sleep(0.5)
        logged = log_file.read_text()
        assert "/api/v1/health" in logged and "do-not-log-me" not in logged
    finally:
        stack.stop()
    secrets_file = tmp_path / "data" / "secrets.json"
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
    stored = json.loads(secrets_file.read_text())
    assert set(stored) == set(SECRET_NAMES)
    assert DEFAULT_SECRET_KEY not in stored.values()


def test_processes_starting_at_once_share_one_generated_set(tmp_path):
    env = _without_secrets(os.environ, tmp_path / "data")
    code = (
        "from common.config import load_settings; s = load_settings(); "
        "print(s.secret_key, s.internal_api_key, s.encryption_key)"
    )
    children = [
        subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(8)
    ]
    outputs = {child.communicate(timeout=60)[0].strip() for child in children}
    assert all(child.returncode == 0 for child in children)
    assert len(outputs) == 1, outputs
    # A later start reuses them.
    again = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert again.stdout.strip() == outputs.pop()
    assert [p.name for p in (tmp_path / "data").iterdir()] == ["secrets.json"]  # no drafts left behind


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SECRET_KEY", DEFAULT_SECRET_KEY),
        ("INTERNAL_API_KEY", DEFAULT_INTERNAL_API_KEY),
        ("ENCRYPTION_KEY", DEFAULT_ENCRYPTION_KEY),
    ],
)
@pytest.mark.parametrize("mode", ["development", "test", "production"])
def test_a_published_default_is_refused_in_every_mode(monkeypatch, name, value, mode):
    monkeypatch.setenv("ENV", mode)
    monkeypatch.setenv(name, value)
    with pytest.raises(InsecureConfiguration, match=name):
        load_settings()


def test_a_secrets_file_others_can_read_is_refused(monkeypatch, tmp_path):
    for name in SECRET_NAMES:
        monkeypatch.delenv(name)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    first = load_settings()
    assert load_settings().secret_key == first.secret_key
    (tmp_path / "secrets.json").chmod(0o644)
    with pytest.raises(InsecureConfiguration, match="chmod 600"):
        load_settings()
    (tmp_path / "secrets.json").chmod(0o600)
    (tmp_path / "secrets.json").write_text("{not json")
    with pytest.raises(InsecureConfiguration, match="remove it to regenerate"):
        load_settings()


def test_the_image_refuses_to_start_without_secrets_from_the_environment(tmp_path):
    """The Dockerfile sets GENERATE_SECRETS=false: a container fails fast instead of generating its own."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "ENV GENERATE_SECRETS=false" in dockerfile and "gunicorn.conf.py" in dockerfile
    env = {**_without_secrets(os.environ, tmp_path / "data"), "GENERATE_SECRETS": "false"}
    result = subprocess.run(
        [sys.executable, "-c", "from common.config import load_settings; load_settings()"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert (
        result.returncode != 0 and "SECRET_KEY, INTERNAL_API_KEY, ENCRYPTION_KEY must be set" in result.stderr
    )
    assert not (tmp_path / "data").exists()


def test_gunicorn_refuses_to_bind_beyond_loopback_without_secrets_from_the_environment(tmp_path):
    """Checked before any socket is bound, so nothing ever listens on 0.0.0.0 here."""
    env = _without_secrets(os.environ, tmp_path / "data")
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--bind", f"0.0.0.0:{free_port()}", "web.wsgi:app"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode != 0
    assert "Refusing to serve on 0.0.0.0" in result.stderr and "SECRET_KEY" in result.stderr
