"""``trusera scan --upload``: argument checks and the source metadata read from CI environments."""

from __future__ import annotations

from types import SimpleNamespace

from common import cli
from common.cli_upload import ci_metadata, source_metadata


def test_gitlab_and_github_variables_become_source_metadata():
    gitlab = {
        "GITLAB_CI": "true",
        "CI_PROJECT_URL": "https://gitlab.example.com/acme/agents",
        "CI_COMMIT_SHA": "f" * 40,
        "CI_COMMIT_REF_NAME": "main",
        "CI_JOB_URL": "https://gitlab.example.com/acme/agents/-/jobs/7",
    }
    assert ci_metadata(gitlab) == {
        "repository_url": "https://gitlab.example.com/acme/agents",
        "commit": "f" * 40,
        "branch": "main",
        "ci_run_url": "https://gitlab.example.com/acme/agents/-/jobs/7",
    }
    github = {"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "acme/agents", "GITHUB_HEAD_REF": "feature/x"}
    assert ci_metadata(github) == {"repository_url": "https://github.com/acme/agents", "branch": "feature/x"}
    assert ci_metadata({}) == {}


def test_flags_win_over_the_environment():
    args = SimpleNamespace(repository_url=None, commit="abc1234", branch=None, ci_run_url=None)
    environ = {"GITLAB_CI": "true", "CI_COMMIT_SHA": "f" * 40, "CI_COMMIT_REF_NAME": "main"}
    assert source_metadata(args, environ) == {"commit": "abc1234", "branch": "main"}


def test_upload_needs_a_key_and_an_http_url(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("TRUSERA_API_KEY", raising=False)
    (tmp_path / "app.py").write_text("import openai\n")
    assert cli.main(["scan", str(tmp_path), "--quiet", "--upload", "https://trusera.example.com"]) == 2
    assert "--upload needs --api-key or TRUSERA_API_KEY" in capsys.readouterr().err
    argv = ["scan", str(tmp_path), "--quiet", "--upload", "file:///tmp/x", "--api-key", "tsk_x"]
    assert cli.main(argv) == 2
    assert "http(s) base URL" in capsys.readouterr().err
