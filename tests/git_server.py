"""A real git smart-HTTP server on loopback for tests: ``git http-backend`` run as CGI per request.

Repositories live under one root; a private one needs HTTP basic authentication whose password is
its token (any user name, as with GitHub's ``x-access-token``). Every request is recorded with
whether it carried the right token, so tests can show what a client did and did not send.
"""

from __future__ import annotations

import base64
import getpass
import hashlib
import os
import socket
import struct
import subprocess
import threading
import time
import zlib
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

COMMIT_ENV = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": "/dev/null",
}


def git(*args: str, cwd: Path) -> str:
    env = {"PATH": os.environ["PATH"], "HOME": str(cwd), **COMMIT_ENV}
    return subprocess.run(
        ["git", "-c", "protocol.file.allow=always", *args],
        cwd=cwd,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def make_repository(
    root: Path, name: str, revisions: list[dict[str, str | bytes]], *, tag: str | None = None
) -> list[str]:
    """A bare repository ``name`` under ``root`` with one commit per revision on ``main``; the commit ids.

    Each revision maps paths to contents (files of the previous revision are kept unless replaced);
    ``tag`` names the first commit.
    """
    work = root / f".work-{name}"
    work.mkdir(parents=True)
    git("init", "--quiet", "--initial-branch=main", cwd=work)
    shas = []
    for revision in revisions:
        for path, content in revision.items():
            target = work / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content if isinstance(content, bytes) else content.encode())
        git("add", "--all", cwd=work)
        git("commit", "--quiet", "-m", f"revision {len(shas) + 1}", cwd=work)
        shas.append(git("rev-parse", "HEAD", cwd=work))
    if tag:
        git("tag", tag, shas[0], cwd=work)
    bare = root / name
    git("clone", "--quiet", "--bare", str(work), str(bare), cwd=root)
    git("config", "uploadpack.allowReachableSHA1InWant", "true", cwd=bare)
    return shas


def add_gitlink(root: Path, name: str, path: str, url: str) -> str:
    """Commit a submodule (a gitlink plus its ``.gitmodules`` entry) pointing at ``url`` to ``name``."""
    work = root / f".work-{name}"
    (work / ".gitmodules").write_text(f'[submodule "{path}"]\n\tpath = {path}\n\turl = {url}\n')
    git("update-index", "--add", "--cacheinfo", f"160000,{'1' * 40},{path}", cwd=work)
    git("add", ".gitmodules", cwd=work)
    git("commit", "--quiet", "-m", "submodule", cwd=work)
    git("push", "--quiet", str(root / name), "main", cwd=work)
    return git("rev-parse", "HEAD", cwd=work)


def _pack_varint(number: int) -> bytes:
    out = bytearray()
    while True:
        low, number = number & 0x7F, number >> 7
        if not number:
            out.append(low)
            return bytes(out)
        out.append(low | 0x80)


def _pack_object_header(kind: int, size: int) -> bytes:
    out, first, size = bytearray(), (kind << 4) | (size & 0x0F), size >> 4
    while size:
        out.append(first | 0x80)
        first, size = size & 0x7F, size >> 7
    out.append(first)
    return bytes(out)


def make_delta_bomb_repository(root: Path, name: str, expanded_bytes: int) -> str:
    """A bare repository ``name`` whose one commit holds a blob of ``expanded_bytes`` stored as a delta of
    copy instructions against a 64 KiB base: a pack of a few hundred bytes that whoever indexes it must
    expand whole. The pack and its index are written here, so building it allocates nothing that size."""
    unit = 0x10000
    base = b"A" * unit
    copies = expanded_bytes // unit
    base_oid = hashlib.sha1(b"blob %d\0" % unit + base).digest()
    digest = hashlib.sha1(b"blob %d\0" % (copies * unit))
    for _ in range(copies):
        digest.update(base)
    bomb_oid = digest.digest()
    delta = _pack_varint(unit) + _pack_varint(copies * unit) + b"\x80" * copies  # copy 64 KiB from 0
    objects = [
        (base_oid, _pack_object_header(3, unit) + zlib.compress(base)),
        (bomb_oid, _pack_object_header(7, len(delta)) + base_oid + zlib.compress(delta)),
    ]
    body, entries = b"PACK" + struct.pack(">II", 2, len(objects)), {}
    for oid, raw in objects:
        entries[oid] = (len(body), zlib.crc32(raw))
        body += raw
    pack = body + hashlib.sha1(body).digest()
    oids = sorted(entries)
    index = b"\377tOc" + struct.pack(">I", 2)
    index += struct.pack(">256I", *(sum(1 for oid in oids if oid[0] <= byte) for byte in range(256)))
    index += b"".join(oids) + b"".join(struct.pack(">I", entries[oid][1]) for oid in oids)
    index += b"".join(struct.pack(">I", entries[oid][0]) for oid in oids) + pack[-20:]
    index += hashlib.sha1(index).digest()
    bare = root / name
    git("init", "--quiet", "--bare", "--initial-branch=main", str(bare), cwd=root)
    packs = bare / "objects" / "pack"
    (packs / f"pack-{pack[-20:].hex()}.pack").write_bytes(pack)
    (packs / f"pack-{pack[-20:].hex()}.idx").write_bytes(index)
    tree = subprocess.run(
        ["git", "mktree"],
        cwd=bare,
        input=f"100644 blob {bomb_oid.hex()}\tbomb.bin\n",
        env={"PATH": os.environ["PATH"], **COMMIT_ENV},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    commit = git("commit-tree", tree, "-m", "bomb", cwd=bare)
    git("update-ref", "refs/heads/main", commit, cwd=bare)
    return commit


@dataclass
class GitServer:
    root: Path
    tokens: dict[str, str] = field(default_factory=dict)  # private repository name -> its token
    requests: list[dict] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, name: str) -> str:
        return f"{self.base_url}/{name}"

    def start(self) -> GitServer:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        threading.Thread(target=self.server.serve_forever, name="git-server", daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def authorized(self, name: str, header: str | None) -> bool:
        token = self.tokens.get(name)
        if token is None:
            return True
        if not header or not header.startswith("Basic "):
            return False
        try:
            _user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        return password == token


def _handler_for(server: GitServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self._serve()

        def do_POST(self):
            self._serve()

        def log_message(self, *_args):
            pass

        def _body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                chunks = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                    if size == 0:
                        self.rfile.readline()
                        return b"".join(chunks)
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _serve(self):
            parts = urlsplit(self.path)
            name = parts.path.lstrip("/").split("/", 1)[0]
            authorization = self.headers.get("Authorization")
            authorized = server.authorized(name, authorization)
            server.requests.append(
                {"path": parts.path, "authorized": authorized, "authorization": authorization}
            )
            body = self._body() if self.command == "POST" else b""
            if not authorized:
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="git"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            env = {
                "PATH": os.environ["PATH"],
                "GIT_PROJECT_ROOT": str(server.root),
                "GIT_HTTP_EXPORT_ALL": "1",
                "GIT_CONFIG_NOSYSTEM": "1",
                "GIT_CONFIG_GLOBAL": "/dev/null",
                "PATH_INFO": parts.path,
                "QUERY_STRING": parts.query,
                "REQUEST_METHOD": self.command,
                "CONTENT_TYPE": self.headers.get("Content-Type", ""),
                "CONTENT_LENGTH": str(len(body)),
                "GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
                "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", ""),
                "REMOTE_ADDR": self.client_address[0],
            }
            output = subprocess.run(
                ["git", "http-backend"], input=body, env=env, capture_output=True, check=False
            ).stdout
            head, _, payload = output.partition(b"\r\n\r\n")
            if not _:
                head, _, payload = output.partition(b"\n\n")
            status, headers = 200, []
            for line in head.decode(errors="replace").splitlines():
                key, _, value = line.partition(":")
                if key.lower() == "status":
                    status = int(value.split()[0])
                elif key:
                    headers.append((key, value.strip()))
            self.send_response(status)
            for key, value in headers:
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    return Handler


SSHD = "/usr/sbin/sshd"


@dataclass
class SshGitServer:
    """``sshd`` on loopback serving the repositories under ``root`` to one deploy key (the current user).

    Its host key and the client's deploy key are generated per instance; ``known_hosts`` is the line a
    credential needs to verify the server under the name ``localhost``.
    """

    root: Path
    port: int = 0
    process: subprocess.Popen | None = None

    def start(self) -> SshGitServer:
        self.home = Path(self.root) / ".ssh-server"
        self.home.mkdir()
        for name in ("host_key", "deploy_key"):
            subprocess.run(
                ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(self.home / name)], check=True
            )
        (self.home / "authorized_keys").write_text((self.home / "deploy_key.pub").read_text())
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        config = self.home / "sshd_config"
        config.write_text(
            f"Port {self.port}\nListenAddress 127.0.0.1\nHostKey {self.home / 'host_key'}\n"
            f"AuthorizedKeysFile {self.home / 'authorized_keys'}\nPidFile {self.home / 'sshd.pid'}\n"
            "PasswordAuthentication no\nKbdInteractiveAuthentication no\nPubkeyAuthentication yes\n"
            "PermitRootLogin prohibit-password\nStrictModes no\nUsePAM no\n"
            f"SetEnv PATH={os.environ['PATH']}\n"
        )
        Path("/run/sshd").mkdir(exist_ok=True)  # sshd's privilege-separation directory
        self.user = getpass.getuser()
        self.process = subprocess.Popen(
            [SSHD, "-D", "-e", "-f", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        for _ in range(100):
            with socket.socket() as client:
                if client.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            time.sleep(0.05)
        raise RuntimeError("sshd did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)

    @property
    def deploy_key(self) -> str:
        return (self.home / "deploy_key").read_text()

    @property
    def known_hosts(self) -> str:
        key_type, key = (self.home / "host_key.pub").read_text().split()[:2]
        return f"localhost {key_type} {key}"

    def url(self, name: str) -> str:
        return f"ssh://{self.user}@localhost:{self.port}{self.root / name}"
