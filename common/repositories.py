"""Git repositories as scan sources: URL rules, and a shallow clone that trusts nothing it fetches.

What is accepted (:func:`parse_repository_url`): ``https://`` and ``ssh://`` URLs and the scp form
``user@host:path``; ``http://`` only for a host on the outbound allowlist; never ``file://``,
``ext::``, another transport or a local path, and never credentials inside the URL (a repository
credential carries them).

How a clone runs (:func:`clone_repository`):

- the host is resolved once through :mod:`common.netguard` and git is pinned to that checked
  address (``http.curloptResolve`` for HTTP(S); for SSH the checked address is dialled while the
  host key is checked under the original name with ``HostKeyAlias``), with redirects off;
- git gets a clean environment and configuration: no system or global config, no templates, hooks
  pointed at ``/dev/null``, ``protocol.allow=never`` except the one transport in use, no submodule
  recursion, no credential helpers, no terminal prompts, symlinks checked out as plain files;
- the token travels in an ``Authorization`` header given through ``GIT_CONFIG_*`` environment
  variables, never in argv, the URL, or a message (git's output is redacted before it is reported);
- the fetch is shallow (depth 1) at the ref (branch, tag or commit id); its size on disk and its
  run time are watched while it runs, and the fetched tree's file count and total size are checked
  before anything is checked out; git runs under an address-space limit sized by those limits, since a
  server's delta declares the size git must expand it to before the tree can be checked.
"""

from __future__ import annotations

import base64
import contextlib
import os
import re
import resource
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from common import netguard
from common.child_env import child_environment

SCP_FORM = re.compile(
    r"^(?P<user>[A-Za-z0-9._-]+)@(?P<host>[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):(?P<path>[^/].*)$"
)
# A DNS name: labels of letters, digits, '-' and '_' (the host reaches ssh's command line through a shell)
HOST_NAME = re.compile(r"^[a-z0-9_]([a-z0-9_-]{0,62})(\.[a-z0-9_]([a-z0-9_-]{0,62}))*\.?$")
SAFE_PATH = re.compile(r"^[A-Za-z0-9._~/%+@:-]+$")
REF_FORM = re.compile(r"^[A-Za-z0-9._/+-]+$")
COMMIT_ID = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")
DEFAULT_PORTS = {"https": 443, "http": 80, "ssh": 22}
DEFAULT_HTTPS_USERNAME = "x-access-token"
WATCH_INTERVAL_SECONDS = 0.1
GIT_OUTPUT_LIMIT = 2000
# What git may write while it runs: a listing of the largest tree a clone allows fits in the first, and
# git's own messages in the second; a server can send "remote:" lines for ever, each kept on disk.
GIT_STDOUT_BYTES = 64 * 1024 * 1024
# What a connection test reads of ``ls-remote``: it only asks whether the ref is there, and it runs in the
# API process, where a listing of 64 MiB (a server advertising a million refs matching the name) held
# 120 MB per test, four tests at once per process.
PROBE_STDOUT_BYTES = 64 * 1024
GIT_STDERR_BYTES = 1024 * 1024
# The repository's own attributes rewrite blobs as they are checked out: `ident` expands every `$Id$`
# (4 bytes) to 47, `eol=crlf` doubles a file of newlines, `working-tree-encoding=UTF-32` quadruples it,
# so the tree written could be many times the size checked. The highest-precedence attributes file
# unsets them all: every file is written as stored, as the size check counted it.
CHECKOUT_AS_STORED = "* -text -ident -filter -working-tree-encoding\n"
# What git may map beside the objects it holds: the program, its libraries, index-pack's threads and
# their malloc arenas. A clone's git may hold a delta's base and its result, each at most the size a
# tree may take (:func:`git_address_space_bytes`).
GIT_BASE_ADDRESS_SPACE_BYTES = 1024 * 1024 * 1024
# A connection test's git, in the API's pod: it holds the refs the server advertises (five times their
# bytes), and needs under 32 MiB for an honest answer, TLS included.
PROBE_ADDRESS_SPACE_BYTES = 256 * 1024 * 1024


class RepositoryError(Exception):
    """The repository cannot be used or fetched; the message is safe to show and store."""


class RepositoryTooLarge(RepositoryError):
    """The repository exceeds a clone limit (size on disk or file count)."""


@dataclass(frozen=True)
class RepositoryUrl:
    scheme: str  # https, http or ssh
    host: str
    port: int | None
    user: str | None  # the SSH login; HTTPS URLs carry no user
    path: str

    @property
    def effective_port(self) -> int:
        return self.port or DEFAULT_PORTS[self.scheme]

    def __str__(self) -> str:
        """The stored and shown form: never carries a secret."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        netloc = f"{self.user}@{host}" if self.user else host
        if self.port:
            netloc += f":{self.port}"
        return f"{self.scheme}://{netloc}/{self.path.lstrip('/')}"

    def at_address(self, address: str) -> str:
        """The same URL with the host replaced by a checked address (for SSH, which dials that)."""
        host = f"[{address}]" if ":" in address else address
        netloc = f"{self.user}@{host}" if self.user else host
        return f"{self.scheme}://{netloc}:{self.effective_port}/{self.path.lstrip('/')}"


@dataclass(frozen=True)
class RepositoryAuth:
    """A decrypted repository credential, held only while git runs."""

    kind: str  # "https_token" or "ssh_key"
    secret: str
    username: str | None = None
    known_hosts: str | None = None


@dataclass(frozen=True)
class CloneLimits:
    max_bytes: int
    max_files: int
    timeout_seconds: float


@dataclass(frozen=True)
class Clone:
    path: Path
    commit_sha: str
    files: int
    bytes: int
    warnings: list[str]


def parse_repository_url(raw: str, allowlist: netguard.Allowlist | None = None) -> RepositoryUrl:
    """The URL, checked against the outbound rules; raises :class:`RepositoryError` saying why not."""
    allowlist = allowlist or netguard.current_allowlist()
    url = (raw or "").strip()
    if not url or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise RepositoryError("Give a repository URL without spaces or control characters.")
    if url.startswith("-"):
        raise RepositoryError("A repository URL cannot start with '-'.")
    scp = SCP_FORM.match(url)
    if scp and "://" not in url:
        parsed = RepositoryUrl("ssh", scp["host"].strip("[]").lower(), None, scp["user"], scp["path"])
    else:
        parsed = _parse_url_form(url, allowlist)
    _check_host_and_path(parsed, allowlist)
    return parsed


def _parse_url_form(url: str, allowlist: netguard.Allowlist) -> RepositoryUrl:
    if "::" in url.split("/", 1)[0]:
        raise RepositoryError("Only https:// and ssh:// repository URLs are allowed (no '<transport>::').")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise RepositoryError(f"Not a valid repository URL: {exc}.") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("https", "ssh", "http"):
        raise RepositoryError("Only https:// and ssh:// repository URLs (or git@host:path) are allowed.")
    host = (parts.hostname or "").lower()
    if not host:
        raise RepositoryError("The repository URL needs a host name.")
    if scheme == "http" and not _allowlisted(host, allowlist):
        raise RepositoryError(
            "Plain http:// is allowed only for a host on the outbound allowlist; use https://."
        )
    if parts.password is not None or (scheme != "ssh" and parts.username is not None):
        raise RepositoryError("Credentials in the URL are not allowed; save them as a repository credential.")
    if parts.query or parts.fragment:
        raise RepositoryError("A repository URL has no query or fragment.")
    if port == 0:
        raise RepositoryError("Port 0 is not a valid destination.")
    return RepositoryUrl(scheme, host, port, parts.username if scheme == "ssh" else None, parts.path)


def _allowlisted(host: str, allowlist: netguard.Allowlist) -> bool:
    address = netguard.literal_address(host)
    return allowlist.allows_host(host) or (address is not None and allowlist.allows_address(address))


def _check_host_and_path(url: RepositoryUrl, allowlist: netguard.Allowlist) -> None:
    literal = netguard.literal_address(url.host) is not None
    if literal and not _allowlisted(url.host, allowlist):
        raise RepositoryError("Use a host name, not an IP address.")
    if url.host.startswith("-") or (url.user or "").startswith("-"):
        raise RepositoryError("A host or user name cannot start with '-'.")
    if not literal and (len(url.host) > 253 or not HOST_NAME.match(url.host)):
        raise RepositoryError(
            "The repository host must be a DNS name (letters, digits, '-', '_'; an international name in "
            "its xn-- form)."
        )
    path = url.path.lstrip("/")
    if not path or not SAFE_PATH.match(path) or path.startswith("-") or ".." in path.split("/"):
        raise RepositoryError(
            "The repository path is missing or has characters a repository path cannot have."
        )


# The port a saved credential is sent to when its host names none: the one its kind of transport uses.
CREDENTIAL_DEFAULT_PORTS = {"https_token": DEFAULT_PORTS["https"], "ssh_key": DEFAULT_PORTS["ssh"]}


def credential_host(raw: str, allowlist: netguard.Allowlist | None = None) -> str:
    """The normal form (``name`` or ``name:port``) of the host a saved credential may be sent to.

    Checked by the rules of a repository URL's host (no literal internal address unless allowlisted), so
    a credential is never saved for a host no repository URL could name. Raises :class:`RepositoryError`.
    """
    raw = (raw or "").strip()
    if not raw or "/" in raw or "@" in raw:
        raise RepositoryError(
            "Give the git host's name, with ':port' for a port of its own (git.example.com)."
        )
    parsed = parse_repository_url(f"https://{raw}/repository", allowlist)
    host = f"[{parsed.host}]" if ":" in parsed.host else parsed.host
    return f"{host}:{parsed.port}" if parsed.port else host


def credential_host_problem(saved_host: str | None, kind: str, url: RepositoryUrl) -> str | None:
    """Why a credential saved for ``saved_host`` must not be sent to ``url``, or None.

    A credential goes to the host (and port) it was saved for and nowhere else, as git's own credential
    matching does: whoever may use a saved credential without reading it (an analyst scanning with it)
    must not be able to name a server of their own and read the token from the request.
    """
    if not saved_host:
        return (
            "This credential names no host (saved before hosts were recorded): save it again with its host."
        )
    saved = urlsplit(f"//{saved_host}")
    name, saved_port = saved.hostname, saved.port or CREDENTIAL_DEFAULT_PORTS.get(kind)
    if name != url.host or saved_port != url.effective_port:
        return (
            f"This credential is saved for {saved_host}; it is not sent to {url.host}:{url.effective_port}."
        )
    return None


def ref_problem(ref: str) -> str | None:
    """Why ``ref`` cannot name a branch, tag or commit to fetch, or None."""
    if not ref or len(ref) > 255 or not REF_FORM.match(ref):
        return "A ref is a branch, tag or commit id (letters, digits, '.', '_', '/', '+', '-')."
    if ref.startswith(("-", "/")) or ref.endswith(("/", ".", ".lock")) or ".." in ref or "//" in ref:
        return "Not a valid git ref name."
    return None


def clone_repository(
    url: RepositoryUrl,
    ref: str,
    auth: RepositoryAuth | None,
    destination: Path,
    limits: CloneLimits,
    *,
    allowlist: netguard.Allowlist | None = None,
) -> Clone:
    """Fetch ``ref`` of ``url`` (depth 1) into the empty directory ``destination`` and check it out.

    Raises :class:`RepositoryError` (or :class:`RepositoryTooLarge`) with a message safe to show.
    """
    problem = ref_problem(ref)
    if problem:
        raise RepositoryError(problem)
    deadline = time.monotonic() + limits.timeout_seconds
    with _GitSession(url, auth, allowlist) as git:
        git.run(["init", "--quiet", "--template=", str(destination)], destination.parent, deadline, limits)
        (destination / ".git" / "info").mkdir()
        (destination / ".git" / "info" / "attributes").write_text(CHECKOUT_AS_STORED)
        git.run(
            ["fetch", "--quiet", "--depth=1", "--no-tags", "--no-recurse-submodules", "--", git.remote, ref],
            destination,
            deadline,
            limits,
            watch=destination,
            action=f"fetching '{ref}'",
            ref=ref,
        )
        commit = git.run(
            ["rev-parse", "--verify", "FETCH_HEAD^{commit}"], destination, deadline, limits
        ).strip()
        files, total, warnings = _check_tree(git, destination, deadline, limits)
        # The tree's size was checked above; checkout writes exactly those blobs (symlinks as plain files,
        # the repository's attributes overridden: CHECKOUT_AS_STORED). Not watched: a walk of the tree
        # every tenth of a second would cost more than the checkout of a large one.
        git.run(
            ["checkout", "--quiet", "--detach", commit], destination, deadline, limits, action="checking out"
        )
    shutil.rmtree(destination / ".git", ignore_errors=True)
    if url.scheme == "ssh" and not (auth and auth.known_hosts):
        warnings.append(
            f"The SSH host key of {url.host} was not verified: save known_hosts with the credential."
        )
    return Clone(destination, commit, files, total, warnings)


def probe_repository(
    url: RepositoryUrl,
    ref: str | None,
    auth: RepositoryAuth | None,
    *,
    timeout_seconds: float,
    allowlist: netguard.Allowlist | None = None,
) -> dict:
    """``git ls-remote`` once and classify the answer: reachable, unauthorized, not_found, unreachable."""
    limits = CloneLimits(max_bytes=0, max_files=0, timeout_seconds=timeout_seconds)
    try:
        with _GitSession(url, auth, allowlist) as git, tempfile.TemporaryDirectory() as cwd:
            listing = git.run(
                ["ls-remote", "--", git.remote, ref if ref and not COMMIT_ID.match(ref) else "HEAD"],
                Path(cwd),
                time.monotonic() + timeout_seconds,
                limits,
                action="listing refs",
                max_output=PROBE_STDOUT_BYTES,
                address_space=PROBE_ADDRESS_SPACE_BYTES,
            )
    except _AuthenticationFailed as exc:
        return {"status": "unauthorized", "detail": str(exc)}
    except _NotFound as exc:
        return {"status": "not_found", "detail": str(exc)}
    except RepositoryError as exc:
        return {"status": "unreachable", "detail": str(exc)}
    if ref and not COMMIT_ID.match(ref) and not listing.strip():
        return {"status": "not_found", "detail": f"The repository has no ref '{ref}'."}
    return {"status": "reachable", "detail": "The repository answered with these credentials."}


class _AuthenticationFailed(RepositoryError):
    pass


class _NotFound(RepositoryError):
    pass


def _check_tree(
    git: _GitSession, repo: Path, deadline: float, limits: CloneLimits
) -> tuple[int, int, list[str]]:
    """Count and size the fetched tree before writing it out; submodules are noted, never fetched."""
    listing = git.run(["ls-tree", "-r", "-l", "-z", "--full-tree", "FETCH_HEAD"], repo, deadline, limits)
    files = total = submodules = 0
    for entry in filter(None, listing.split("\0")):
        meta, _path = entry.split("\t", 1)
        _mode, kind, _object, size = meta.split()
        if kind == "commit":
            submodules += 1
            continue
        files += 1
        total += int(size) if size.isdigit() else 0
    if files > limits.max_files:
        raise RepositoryTooLarge(f"The repository has {files} files; the limit is {limits.max_files}.")
    if total > limits.max_bytes:
        raise RepositoryTooLarge(
            f"The repository's files take {total} bytes; the limit is {limits.max_bytes}."
        )
    warnings = [f"{submodules} submodule(s) not fetched: submodules are not scanned."] if submodules else []
    return files, total, warnings


def git_address_space_bytes(limits: CloneLimits) -> int:
    """The address space git and what it starts may use. A server sends objects as deltas whose result
    size it declares: a 200-byte pack of copy instructions made index-pack allocate and fill gigabytes
    before the tree's size was ever checked, so git is held to what a clone within the limits needs."""
    return 2 * limits.max_bytes + GIT_BASE_ADDRESS_SPACE_BYTES


def _limit_address_space(limit: int):
    """Lower the child's address space to ``limit``; a lower limit the operator set stays.

    The limits are worked out here, in the parent (a child inherits them), so that the callback, which
    runs in the child between fork and exec while other threads of the API may hold locks, makes one
    system call and nothing else."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    lowest = min(value for value in (limit, soft, hard) if value != resource.RLIM_INFINITY)

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (lowest, hard))

    return apply


class _GitSession:
    """One git invocation context: a private HOME, the pinned address, the secret in the environment."""

    def __init__(self, url: RepositoryUrl, auth: RepositoryAuth | None, allowlist) -> None:
        self.url = url
        self.auth = auth
        self.allowlist = allowlist
        self.secrets = _secret_forms(auth)
        self.home = Path(tempfile.mkdtemp(prefix="trusera-git-home-"))

    def __enter__(self) -> _GitSession:
        try:
            address = str(self._checked_address())
            self.config = self._config(address)
            self.env = self._environment(address)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *_exc) -> None:
        shutil.rmtree(self.home, ignore_errors=True)

    def _checked_address(self):
        try:
            return netguard.checked_addresses(self.url.host, self.url.effective_port, self.allowlist)[0]
        except netguard.UnsafeDestination as exc:
            raise RepositoryError(f"Repository host refused: {exc}.") from exc
        except (socket.gaierror, OSError) as exc:
            raise RepositoryError(f"The repository host {self.url.host} does not resolve: {exc}.") from exc

    def _config(self, address: str) -> list[str]:
        scheme = self.url.scheme
        pairs = {
            "core.hooksPath": "/dev/null",
            "core.symlinks": "false",
            "core.fsmonitor": "false",
            "core.askPass": "",
            "credential.helper": "",
            "protocol.allow": "never",
            f"protocol.{scheme}.allow": "always",
            "submodule.recurse": "false",
            "fetch.recurseSubmodules": "false",
            "fetch.fsckObjects": "true",
            "http.followRedirects": "false",
            "http.proxy": "",
            "http.sslVerify": "true",
            "http.lowSpeedLimit": "1000",
            "http.lowSpeedTime": "60",
            "init.defaultBranch": "main",
            "advice.detachedHead": "false",
            "gc.auto": "0",
        }
        if scheme in ("http", "https"):
            pinned = f"[{address}]" if ":" in address else address
            pairs["http.curloptResolve"] = f"{self.url.host}:{self.url.effective_port}:{pinned}"
            self.remote = str(self.url)
        else:
            self.remote = self.url.at_address(address)
        args = []
        for key, value in pairs.items():
            args += ["-c", f"{key}={value}"]
        return args

    def _environment(self, address: str) -> dict[str, str]:
        env = child_environment(
            HOME=str(self.home),
            LC_ALL="C",
            GIT_CONFIG_NOSYSTEM="1",
            GIT_CONFIG_GLOBAL="/dev/null",
            GIT_TERMINAL_PROMPT="0",
            GIT_ASKPASS="",
            SSH_ASKPASS="",
            GIT_PROTOCOL_FROM_USER="0",
            GIT_ALLOW_PROTOCOL=self.url.scheme,
            GIT_LFS_SKIP_SMUDGE="1",
            GIT_CONFIG_COUNT="0",
        )
        if self.auth and self.auth.kind == "https_token" and self.url.scheme in ("http", "https"):
            user = self.auth.username or DEFAULT_HTTPS_USERNAME
            basic = base64.b64encode(f"{user}:{self.auth.secret}".encode()).decode()
            env.update(
                GIT_CONFIG_COUNT="1",
                GIT_CONFIG_KEY_0="http.extraHeader",
                GIT_CONFIG_VALUE_0=f"Authorization: Basic {basic}",
            )
        if self.url.scheme == "ssh":
            env["GIT_SSH_COMMAND"] = shlex.join(self._ssh_command())  # git runs it through sh -c
            env["GIT_SSH_VARIANT"] = "ssh"
        return env

    def _ssh_command(self) -> list[str]:
        known_hosts = self.home / "known_hosts"
        known_hosts.write_text(self.auth.known_hosts if self.auth and self.auth.known_hosts else "")
        options = [
            "ssh",
            "-F",
            "/dev/null",
            "-o",
            "BatchMode=yes",
            "-o",
            f"UserKnownHostsFile={known_hosts}",
            "-o",
            "GlobalKnownHostsFile=/dev/null",
            "-o",
            f"HostKeyAlias={self.url.host}",
            "-o",
            "StrictHostKeyChecking=" + ("yes" if self.auth and self.auth.known_hosts else "accept-new"),
            "-o",
            "ProxyCommand=none",
            "-o",
            "ProxyJump=none",
            "-o",
            "PermitLocalCommand=no",
            "-o",
            "ClearAllForwardings=yes",
            "-o",
            "ConnectTimeout=20",
            "-o",
            "IdentitiesOnly=yes",
        ]
        if self.auth and self.auth.kind == "ssh_key":
            key = self.home / "deploy_key"
            key.touch(mode=0o600)
            key.write_text(self.auth.secret.strip() + "\n")
            options += ["-i", str(key)]
        else:
            options += ["-o", "IdentityFile=none"]
        return options

    def run(
        self,
        args: list[str],
        cwd: Path,
        deadline: float,
        limits: CloneLimits,
        *,
        watch: Path | None = None,
        action: str = "running git",
        ref: str | None = None,
        max_output: int = GIT_STDOUT_BYTES,
        address_space: int | None = None,
    ) -> str:
        """Run git; kill its process group past the deadline, when ``watch`` outgrows the size limit or
        its output passes ``max_output`` bytes."""
        with tempfile.TemporaryFile() as out:
            try:
                process = subprocess.Popen(
                    ["git", *self.config, *args],
                    cwd=cwd,
                    env=self.env,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.PIPE,
                    start_new_session=True,
                    preexec_fn=_limit_address_space(address_space or git_address_space_bytes(limits)),
                )
            except FileNotFoundError as exc:
                raise RepositoryError("git is not installed on the scans worker.") from exc
            messages = _Messages(process.stderr)
            stop_reason = self._watch(process, deadline, limits, watch, out, messages, max_output)
            out.seek(0)
            listing = out.read(max_output + 1)
            if len(listing) > max_output:  # written between two looks of the watch
                stop_reason = "output"
            stdout = listing.decode(errors="replace")
            stderr = self.redact(messages.text())
        if stop_reason == "size":
            raise RepositoryTooLarge(f"The repository is larger than the limit of {limits.max_bytes} bytes.")
        if stop_reason == "time":
            raise RepositoryError(f"Git took longer than {limits.timeout_seconds:g} seconds ({action}).")
        if stop_reason == "output":
            raise RepositoryError(
                f"Git stopped while {action}: the server sent more output than a repository needs "
                f"(over {max_output} bytes of listing or {GIT_STDERR_BYTES} bytes of messages)."
            )
        if process.returncode != 0:
            raise self.failure(stderr, action, ref)
        return stdout

    @staticmethod
    def _watch(
        process: subprocess.Popen,
        deadline: float,
        limits: CloneLimits,
        watch: Path | None,
        stdout,
        messages: _Messages,
        max_output: int,
    ) -> str | None:
        while True:
            try:
                process.wait(timeout=WATCH_INTERVAL_SECONDS)
                return None
            except subprocess.TimeoutExpired:
                pass
            reason = None
            if time.monotonic() > deadline:
                reason = "time"
            elif watch is not None and limits.max_bytes and _disk_usage(watch) > limits.max_bytes:
                reason = "size"
            elif os.fstat(stdout.fileno()).st_size > max_output or messages.total > GIT_STDERR_BYTES:
                reason = "output"
            if reason:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                return reason

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text

    def failure(self, stderr: str, action: str, ref: str | None) -> RepositoryError:
        """A clear message for git's common failures; git's own words (redacted) otherwise."""
        lowered = stderr.lower()
        if any(
            marker in lowered
            for marker in (
                "authentication failed",
                "could not read username",
                "could not read password",
                "permission denied (publickey",
                "the requested url returned error: 401",
                "the requested url returned error: 403",
                "terminal prompts disabled",
            )
        ):
            kind = "were refused" if self.auth else "are needed"
            return _AuthenticationFailed(
                f"The repository {self.url} could not be read: credentials {kind} (authentication failed)."
            )
        if ref and ("couldn't find remote ref" in lowered or "not our ref" in lowered):
            return RepositoryError(f"The ref '{ref}' does not exist in {self.url}.")
        if (
            "returned error: 404" in lowered
            or "repository not found" in lowered
            or "does not appear to be a git" in lowered
        ):
            return _NotFound(f"No repository at {self.url}.")
        if "out of memory" in lowered or "cannot allocate memory" in lowered:
            return RepositoryTooLarge(
                f"Git ran out of the memory it may use while {action}: the server sent more than a "
                "repository within the limits needs."
            )
        if "host key verification failed" in lowered:
            return RepositoryError(
                f"The SSH host key of {self.url.host} does not match the known hosts given."
            )
        detail = " ".join(stderr.split())[:GIT_OUTPUT_LIMIT] or "no output"
        return RepositoryError(f"Git failed while {action}: {detail}")


class _Messages:
    """git's stderr, drained as it comes: the first bytes are kept for the error message, the rest only
    counted, so a server's endless "remote:" lines take neither disk nor memory."""

    KEEP_BYTES = 64 * 1024

    def __init__(self, pipe) -> None:
        self.total = 0
        self._kept = bytearray()
        self._thread = threading.Thread(target=self._drain, args=(pipe,), daemon=True)
        self._thread.start()

    def _drain(self, pipe) -> None:
        with pipe:
            while chunk := os.read(pipe.fileno(), 65536):
                self.total += len(chunk)
                if len(self._kept) < self.KEEP_BYTES:
                    self._kept += chunk[: self.KEEP_BYTES - len(self._kept)]

    def text(self) -> str:
        """Everything kept, once git and what it started have exited (their end closes the pipe)."""
        self._thread.join(timeout=5)
        return self._kept.decode(errors="replace")


def _secret_forms(auth: RepositoryAuth | None) -> list[str]:
    if auth is None or not auth.secret:
        return []
    forms = [auth.secret]
    if auth.kind == "https_token":
        user = auth.username or DEFAULT_HTTPS_USERNAME
        forms.append(base64.b64encode(f"{user}:{auth.secret}".encode()).decode())
    return forms


def _disk_usage(path: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(root, name)).st_size
    return total
