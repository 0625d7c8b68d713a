"""Repository URL rules and the guarded git invocation, against a real git server on loopback."""

from __future__ import annotations

import ipaddress
import tempfile
from pathlib import Path

import pytest

from common import netguard
from common.repositories import (
    CloneLimits,
    RepositoryAuth,
    RepositoryError,
    RepositoryTooLarge,
    _GitSession,
    clone_repository,
    credential_host,
    credential_host_problem,
    parse_repository_url,
    probe_repository,
    ref_problem,
)
from tests.git_server import GitServer, make_repository

TOKEN = "glpat-unitTestToken0123456789"
LIMITS = CloneLimits(max_bytes=10_000_000, max_files=1000, timeout_seconds=60)
NO_ALLOWLIST = netguard.Allowlist.from_entries([])
LOOPBACK_ALLOWED = netguard.Allowlist.from_entries(["127.0.0.0/8"])


@pytest.fixture(scope="module")
def server():
    root = Path(tempfile.mkdtemp(prefix="trusera-git-unit-"))
    make_repository(
        root, "private.git", [{"app.py": "import openai\n"}, {f"m{i}.py": "x = 1\n" for i in range(30)}]
    )
    git_server = GitServer(root, tokens={"private.git": TOKEN}).start()
    yield git_server
    git_server.stop()


@pytest.mark.parametrize(
    "url",
    [
        "file:///srv/git/repo.git",
        "/srv/git/repo.git",
        "./repo",
        "repo.git",
        "ext::sh -c touch% /tmp/pwned",
        "fd::17",
        "git://github.com/org/repo.git",
        "http://github.com/org/repo.git",
        "https://user:secret@github.com/org/repo.git",
        "https://ghp_token@github.com/org/repo.git",
        "https://10.0.0.7/org/repo.git",
        "https://2130706433/org/repo.git",
        "https://github.com/org/repo.git?x=1",
        "https://github.com/org/re\npo.git",
        "https://github.com/org/../../etc",
        "--upload-pack=touch /tmp/pwned",
        "git@github.com:-oProxyCommand=touch%20x",
        "ssh://-oProxyCommand=touch/repo.git",
        "ssh://git@-oProxyCommand=x/repo.git",
        "https://github.com",
    ],
)
def test_urls_outside_the_rules_are_refused(url):
    with pytest.raises(RepositoryError):
        parse_repository_url(url, NO_ALLOWLIST)


@pytest.mark.parametrize(
    ("url", "stored"),
    [
        ("https://github.com/org/repo.git", "https://github.com/org/repo.git"),
        ("HTTPS://GitHub.com/org/repo", "https://github.com/org/repo"),
        ("git@github.com:org/repo.git", "ssh://git@github.com/org/repo.git"),
        ("ssh://git@git.example.com:2222/team/repo.git", "ssh://git@git.example.com:2222/team/repo.git"),
    ],
)
def test_accepted_urls_are_stored_in_their_normal_form(url, stored):
    assert str(parse_repository_url(url, NO_ALLOWLIST)) == stored


def test_plain_http_only_for_an_allowlisted_host():
    allowlist = netguard.Allowlist.from_entries(["git.internal"])
    assert str(parse_repository_url("http://git.internal/r.git", allowlist)) == "http://git.internal/r.git"
    with pytest.raises(RepositoryError, match="outbound allowlist"):
        parse_repository_url("http://git.other/r.git", allowlist)


@pytest.mark.parametrize("ref", ["--upload-pack=x", "a..b", "main.lock", "x y", "/main", "a@{1}", ""])
def test_bad_refs_are_refused(ref):
    assert ref_problem(ref)


@pytest.mark.parametrize("ref", ["main", "release/1.2", "v1.0.0", "HEAD", "a" * 40])
def test_good_refs_pass(ref):
    assert ref_problem(ref) is None


def test_a_name_that_resolves_to_an_internal_address_is_refused_before_git_runs(server, tmp_path):
    url = parse_repository_url(
        f"https://localhost:{server.server.server_address[1]}/private.git", NO_ALLOWLIST
    )
    server.requests.clear()
    with pytest.raises(RepositoryError, match=r"refused.*non-public address"):
        clone_repository(url, "main", None, tmp_path, LIMITS, allowlist=NO_ALLOWLIST)
    assert server.requests == []


def test_git_connects_to_the_checked_address_not_to_a_second_lookup(server, tmp_path, monkeypatch):
    """The name does not resolve for git itself: only the pinned address can have been used."""
    host = "git.example.invalid"
    monkeypatch.setattr(netguard, "resolve", lambda name, port: [ipaddress.ip_address("127.0.0.1")])
    port = server.server.server_address[1]
    url = parse_repository_url(f"http://{host}:{port}/private.git", netguard.Allowlist.from_entries([host]))
    clone = clone_repository(
        url, "main", RepositoryAuth("https_token", TOKEN), tmp_path, LIMITS, allowlist=LOOPBACK_ALLOWED
    )
    assert (tmp_path / "app.py").exists() and not (tmp_path / ".git").exists()
    assert len(clone.commit_sha) == 40


def test_the_token_is_sent_as_a_header_and_never_in_argv_or_errors(server, tmp_path):
    url = parse_repository_url(server.url("private.git"), LOOPBACK_ALLOWED)
    auth = RepositoryAuth("https_token", TOKEN)
    with _GitSession(url, auth, LOOPBACK_ALLOWED) as git:
        assert TOKEN not in " ".join(git.config) and TOKEN not in git.remote
        assert git.env["GIT_CONFIG_KEY_0"] == "http.extraHeader"
        assert (
            git.redact(f"fatal: {git.env['GIT_CONFIG_VALUE_0']} {TOKEN}")
            == "fatal: Authorization: Basic *** ***"
        )
    wrong = RepositoryAuth("https_token", "wrong-" + TOKEN)
    with pytest.raises(RepositoryError) as failure:
        clone_repository(url, "main", wrong, tmp_path, LIMITS, allowlist=LOOPBACK_ALLOWED)
    assert "wrong-" not in str(failure.value) and TOKEN not in str(failure.value)


def test_the_file_count_limit_is_checked_before_checkout(server, tmp_path):
    url = parse_repository_url(server.url("private.git"), LOOPBACK_ALLOWED)
    limits = CloneLimits(max_bytes=10_000_000, max_files=10, timeout_seconds=60)
    with pytest.raises(RepositoryTooLarge, match="31 files; the limit is 10"):
        clone_repository(
            url, "main", RepositoryAuth("https_token", TOKEN), tmp_path, limits, allowlist=LOOPBACK_ALLOWED
        )
    assert not (tmp_path / "app.py").exists()


def test_probe_classifies_the_answer(server):
    url = parse_repository_url(server.url("private.git"), LOOPBACK_ALLOWED)
    good = RepositoryAuth("https_token", TOKEN)
    assert (
        probe_repository(url, "main", good, timeout_seconds=20, allowlist=LOOPBACK_ALLOWED)["status"]
        == "reachable"
    )
    assert (
        probe_repository(url, "nope", good, timeout_seconds=20, allowlist=LOOPBACK_ALLOWED)["status"]
        == "not_found"
    )
    commit = "a" * 40  # a commit id cannot be listed: the repository answering is what counts
    assert (
        probe_repository(url, commit, good, timeout_seconds=20, allowlist=LOOPBACK_ALLOWED)["status"]
        == "reachable"
    )
    wrong = RepositoryAuth("https_token", "nope")
    assert (
        probe_repository(url, None, wrong, timeout_seconds=20, allowlist=LOOPBACK_ALLOWED)["status"]
        == "unauthorized"
    )


def test_ssh_dials_the_checked_address_and_checks_the_host_key_under_its_name():
    key = "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----"
    known = "localhost ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
    allowlist = netguard.Allowlist.from_entries(["localhost"])
    url = parse_repository_url("git@localhost:team/repo.git", allowlist)
    with _GitSession(url, RepositoryAuth("ssh_key", key, known_hosts=known), allowlist) as git:
        command = git.env["GIT_SSH_COMMAND"]
        assert git.remote == "ssh://git@127.0.0.1:22/team/repo.git"
        assert "HostKeyAlias=localhost" in command and "StrictHostKeyChecking=yes" in command
        assert "ProxyCommand=none" in command and "-F /dev/null" in command
        assert key not in command and key not in " ".join(git.config)
        assert (git.home / "deploy_key").stat().st_mode & 0o077 == 0
        assert (git.home / "known_hosts").read_text() == known


def test_a_symlink_in_the_repository_is_checked_out_as_a_plain_file(tmp_path):
    """A link to a file of the worker's host must not let the scan read that file."""
    import os

    from tests.git_server import git

    root = tmp_path / "server"
    make_repository(root, "links.git", [{"app.py": "import openai\n"}])
    work = root / ".work-links.git"
    os.symlink("/etc/hostname", work / "leak.py")
    git("add", "leak.py", cwd=work)
    git("commit", "--quiet", "-m", "link", cwd=work)
    git("push", "--quiet", str(root / "links.git"), "main", cwd=work)
    server = GitServer(root).start()
    try:
        checkout = tmp_path / "checkout"
        checkout.mkdir()
        url = parse_repository_url(server.url("links.git"), LOOPBACK_ALLOWED)
        clone_repository(url, "main", None, checkout, LIMITS, allowlist=LOOPBACK_ALLOWED)
    finally:
        server.stop()
    leak = checkout / "leak.py"
    assert not leak.is_symlink() and leak.read_text() == "/etc/hostname"


@pytest.mark.parametrize(
    ("raw", "saved"),
    [
        ("GitHub.com", "github.com"),
        (" git.corp.example:8443 ", "git.corp.example:8443"),
        ("gitlab.com.", "gitlab.com."),
    ],
)
def test_a_credential_host_is_kept_in_normal_form(raw, saved):
    assert credential_host(raw, NO_ALLOWLIST) == saved


@pytest.mark.parametrize(
    "raw", ["", "github.com/acme", "x@github.com", "github.com?x", "127.0.0.1", "169.254.169.254", "-oProxy"]
)
def test_a_credential_host_is_a_host_a_repository_url_could_name(raw):
    with pytest.raises(RepositoryError):
        credential_host(raw, NO_ALLOWLIST)


@pytest.mark.parametrize(
    ("saved", "kind", "url", "sent"),
    [
        ("github.com", "https_token", "https://github.com/acme/a.git", True),
        ("github.com", "https_token", "https://github.com:443/acme/a.git", True),
        ("github.com", "ssh_key", "git@github.com:acme/a.git", True),
        ("git.corp.example:8443", "https_token", "https://git.corp.example:8443/a.git", True),
        ("github.com", "https_token", "https://github.com.attacker.example/a.git", False),
        ("github.com", "https_token", "https://attacker.example/github.com/a.git", False),
        ("github.com", "https_token", "https://github.com:8443/a.git", False),
        ("github.com", "ssh_key", "ssh://git@github.com:2222/a.git", False),
        ("git.corp.example:8443", "https_token", "https://git.corp.example/a.git", False),
        (None, "https_token", "https://github.com/acme/a.git", False),
    ],
)
def test_a_credential_is_sent_to_its_own_host_only(saved, kind, url, sent):
    problem = credential_host_problem(saved, kind, parse_repository_url(url, NO_ALLOWLIST))
    assert (problem is None) == sent, problem
