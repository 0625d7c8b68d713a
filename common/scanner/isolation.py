"""Detection in isolated worker processes under a watchdog.

Workers are forks of one zygote process per scan (``worker.serve``: a fresh interpreter, started with
``subprocess`` so daemonic Celery pool processes may start it too, that imports the detectors once);
each scans the chunks it is sent one file at a time and answers once per file. The parent waits on
all workers at once and knows which file each one is on: a worker that dies (a segfault in a C
parser, the OOM killer) or stays silent past the per-file wall-clock limit (something the CPU
budget's signal cannot interrupt, a read that blocks) is killed, the file becomes a scan warning,
and a new worker forked from the zygote takes the rest of that chunk.
"""

from __future__ import annotations

import contextlib
import math
import os
import pickle
import select
import signal
import socket
import struct
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path

from common.child_env import child_environment
from common.scanner.detectors.base import READ_HARD_LINKS, FileReport
from common.scanner.worker import READY, ZYGOTE_REQUEST, ZYGOTE_STATUS, ScanBudget, undumpable

Entry = tuple[str, int, str]  # (relpath, size, scope)
WORKER_COMMAND = "from common.scanner.worker import serve; serve()"
PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])
STOP_GRACE_SECONDS = 2.0
# a worker answers once per file, and waking the parent for each answer cost it more CPU than the answer
# (on the two cores the workers use): while no busy worker is near the end of its chunk, at its own pace so
# far, answers gather for GATHER_SECONDS and are read in one look
GATHER_SECONDS = 0.005
ZYGOTE_ANSWER_SECONDS = 60.0  # over a loaded machine's imports plus a reap's grace
# a pipe's default capacity: ``os.read`` allocates the size it is asked for (a 1 MiB buffer per look at a
# worker cost more than the look), and a read never returns more than the pipe holds
READ_BYTES = 1 << 16
_LENGTH, _LONG_LENGTH = struct.Struct("!i"), struct.Struct("!Q")  # ``Connection``'s message headers


def wall_limit_for(budget_seconds: float) -> float:
    """Wall-clock backstop per file: generous next to the CPU budget, since cores are shared."""
    return 5 * budget_seconds + 5


class _Zygote:
    """The process workers are forked from (``worker.serve``), spoken to over a ``SOCK_SEQPACKET``
    socket: fork (with the worker's ends of its two pipes), kill, reap. Requests are not answered
    except a reap, so forking a worker never waits for the zygote to finish its imports: the jobs
    sent meanwhile wait in the worker's pipe."""

    def __init__(self) -> None:
        # the interpreter's own settings (``PYTHON*``), whether hard links are read (the CLI's choice),
        # and no secret of the server: a worker parses a hostile repository
        env = child_environment(
            prefixes=("PYTHON", READ_HARD_LINKS),
            PYTHONPATH=os.pathsep.join(p for p in (PACKAGE_ROOT, os.environ.get("PYTHONPATH")) if p),
        )
        undumpable()  # nor the secrets in this process's own environment and memory, through /proc
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        with theirs:
            self.process = subprocess.Popen(
                [sys.executable, "-c", WORKER_COMMAND, str(os.getpid())],
                stdin=theirs,
                env=env,
                close_fds=True,
            )
        # a zygote that stopped answering (it scans nothing, but a host can stop a process) must not
        # hang the scan: its requests and answers time out, and its workers count as killed
        ours.settimeout(ZYGOTE_ANSWER_SECONDS)
        self.control = ours
        self.forked = 0

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def _request(self, op: bytes, serial: int, grace: float = 0.0, fds: list[int] | None = None) -> bool:
        try:
            socket.send_fds(self.control, [ZYGOTE_REQUEST.pack(op, serial, grace)], fds or [])
        except OSError:  # the zygote is gone, and its workers with it (they die with it)
            return False
        return True

    def fork(self) -> tuple[int, Connection, Connection]:
        """A new worker's serial number and the parent's ends of its jobs and results pipes."""
        jobs_read, jobs_write = os.pipe()
        results_read, results_write = os.pipe()
        self.forked += 1
        self._request(b"F", self.forked, fds=[jobs_read, results_write])
        os.close(jobs_read)  # the worker holds them now; a zygote that died first leaves EOF behind
        os.close(results_write)
        return self.forked, Connection(jobs_write, readable=False), Connection(results_read, writable=False)

    def kill(self, serial: int) -> None:
        self._request(b"K", serial)

    def reap(self, serial: int, grace: float) -> int:
        """Worker ``serial``'s exit status once it exits, killed after ``grace`` seconds
        (``subprocess``'s returncode; a worker that went with its zygote was killed)."""
        if self._request(b"R", serial, grace):
            with contextlib.suppress(OSError):
                answer = self.control.recv(ZYGOTE_STATUS.size)
                if len(answer) == ZYGOTE_STATUS.size:
                    return ZYGOTE_STATUS.unpack(answer)[0]
        return -signal.SIGKILL

    def close(self) -> None:
        """End the zygote: it kills whatever worker it still has, then exits."""
        self.control.close()
        try:
            self.process.wait(timeout=STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@dataclass
class _Worker:
    zygote: _Zygote
    serial: int
    jobs: Connection
    results: Connection
    chunk: list[Entry] = field(default_factory=list)
    done: int = 0
    since: float = 0.0
    assigned: float = 0.0
    started: bool = False  # its ``READY`` arrived
    unread: bytearray = field(default_factory=bytearray)

    @property
    def busy(self) -> bool:
        return self.done < len(self.chunk)

    def seconds_left(self, now: float) -> float:
        """How long the rest of the chunk should take at the pace of its files done (none done: 0)."""
        return (len(self.chunk) - self.done) * (now - self.assigned) / self.done if self.done else 0.0

    def silence_allowed(self, wall_limit: float) -> float:
        """Seconds the worker may stay silent: the per-file limit once it has started; before, the
        zygote's answer time, since its imports (the first worker of a scan waits for them) take a loaded
        machine longer than a file may, and are no file's time."""
        return wall_limit if self.started else ZYGOTE_ANSWER_SECONDS

    def received(self) -> list:
        """Every message the worker has sent whole since the last call, from one read of its pipe
        (``Connection``'s framing), so a look at the workers costs one system call however many files
        each finished meanwhile. Raises ``EOFError`` once the worker's end is closed."""
        data = os.read(self.results.fileno(), READ_BYTES)
        if not data:
            raise EOFError
        self.unread += data
        messages, start = [], 0
        while len(self.unread) - start >= _LENGTH.size:
            (size,), header = _LENGTH.unpack_from(self.unread, start), _LENGTH.size
            if size == -1:  # ``Connection``'s header of a message over 2 GiB
                if len(self.unread) - start < header + _LONG_LENGTH.size:
                    break
                (size,) = _LONG_LENGTH.unpack_from(self.unread, start + header)
                header += _LONG_LENGTH.size
            if len(self.unread) - start < header + size:
                break
            # the worker is this scan's own fork, as trusted as ``Connection.recv``'s peer
            messages.append(pickle.loads(self.unread[start + header : start + header + size]))  # noqa: S301
            start += header + size
        del self.unread[:start]
        return messages

    def assign(
        self, chunk: list[Entry], root: str, real_root: str, max_file_bytes: int, budget_seconds: float
    ) -> None:
        self.chunk, self.done, self.since = chunk, 0, time.monotonic()
        self.assigned = self.since
        self.jobs.send((root, real_root, chunk, max_file_bytes, budget_seconds))

    def stop(self, *, kill: bool) -> int:
        """Stop the worker (politely unless ``kill``) and return its exit status."""
        if kill:
            self.zygote.kill(self.serial)
        else:
            with contextlib.suppress(OSError):  # it may be gone already
                self.jobs.send(None)
        self.jobs.close()
        self.results.close()
        return self.zygote.reap(self.serial, STOP_GRACE_SECONDS)


def _start_worker(zygote: _Zygote) -> _Worker:
    return _Worker(zygote, *zygote.fork())


def _crash_message(returncode: int) -> str:
    if returncode < 0:
        try:
            cause = signal.Signals(-returncode).name
        except ValueError:
            cause = f"signal {-returncode}"
        return f"stopped: the worker crashed ({cause}) on this file and was replaced"
    return f"stopped: the worker exited ({returncode}) on this file and was replaced"


def _silence_message(worker: _Worker, wall_limit: float) -> str:
    if worker.started:
        return f"stopped: no result within the {wall_limit:g} s per-file limit; the worker was replaced"
    return f"stopped: the worker did not start within {ZYGOTE_ANSWER_SECONDS:g} s and was replaced"


def detect_isolated(
    root: str,
    chunks: Iterable[list[Entry]],
    workers: int,
    max_file_bytes: int,
    budget_seconds: float,
    on_progress: Callable[[int], None] | None = None,
    wall_limit: float | None = None,
    scan_budget: ScanBudget | None = None,
    real_root: str | None = None,
) -> tuple[list[tuple[str, FileReport]], int]:
    """Scan ``chunks`` in up to ``workers`` isolated processes; returns non-empty reports and
    bytes read. ``on_progress`` gets the number of files finished since its last call.

    Every read is confined to ``real_root`` (``root``'s real path, worked out once, here or by the
    caller): a worker resolving ``root`` when its chunk came would follow a folder replaced by a link
    since the walk, and read what the link leads to as if it were in the target.

    ``chunks`` may be produced while the workers run (the walk of the tree): one more is taken
    between looks at the workers, which do not block until every chunk has been taken. Once
    ``scan_budget`` is over, the workers are stopped and the files they had not finished, and those
    of the chunks not yet taken, are counted in it as not scanned."""
    wall_limit = wall_limit_for(budget_seconds) if wall_limit is None else wall_limit
    job = (root, real_root or os.path.realpath(root), max_file_bytes, budget_seconds)
    source = iter(chunks)
    producing = True
    pending: deque[list[Entry]] = deque()
    pool: list[_Worker] = []
    zygote: _Zygote | None = None
    reports: list[tuple[str, FileReport]] = []
    bytes_read = 0
    poller = select.poll()  # the busy workers' results pipes
    watched: dict[int, _Worker] = {}

    def replace(worker: _Worker, message: str) -> None:
        relpath = worker.chunk[worker.done][0]
        reports.append((relpath, FileReport(warnings=[message])))
        rest = worker.chunk[worker.done + 1 :]
        if rest:
            pending.appendleft(rest)
        pool.remove(worker)
        if on_progress:
            on_progress(worker.done + 1)

    try:
        while producing or pending or any(w.busy for w in pool):
            if scan_budget is not None and scan_budget.over():
                untaken = source if producing else ()
                unfinished = [len(chunk) for chunk in (*pending, *untaken)]
                scan_budget.not_scanned += sum(unfinished) + sum(
                    len(w.chunk) - w.done for w in pool if w.busy
                )
                break
            if producing:
                chunk = next(source, None)
                if chunk is None:
                    producing = False
                elif chunk:
                    pending.append(chunk)
            for worker in pool:
                if pending and not worker.busy:
                    worker.assign(pending.popleft(), *job)
            while pending and len(pool) < workers:
                if zygote is None or not zygote.alive:
                    if zygote is not None:
                        zygote.close()
                    zygote = _Zygote()
                worker = _start_worker(zygote)
                pool.append(worker)
                worker.assign(pending.popleft(), *job)
            busy = {w.results.fileno(): w for w in pool if w.busy}
            if not busy:
                continue
            for fd in watched.keys() - busy.keys():
                poller.unregister(fd)
            for fd in busy.keys() - watched.keys():
                poller.register(fd, select.POLLIN)
            watched = busy
            now = time.monotonic()
            if not producing and all(w.seconds_left(now) > 2 * GATHER_SECONDS for w in busy.values()):
                time.sleep(GATHER_SECONDS)  # no worker is near the end of its chunk: let answers gather
                now = time.monotonic()
            deadline = min(w.since + w.silence_allowed(wall_limit) for w in busy.values())
            timeout = 0.0 if producing else max(0.0, deadline - now)
            for fd, _ in poller.poll(math.ceil(min(timeout, 1.0) * 1000)):
                worker = busy[fd]
                try:
                    messages = worker.received()
                except (EOFError, OSError):
                    replace(worker, _crash_message(worker.stop(kill=False)))
                    continue
                for message in messages:
                    if message == READY:  # start-up is not the first file's time
                        worker.since, worker.started = time.monotonic(), True
                        continue
                    report, read = message
                    bytes_read += read
                    if report is not None:
                        admitted = report if scan_budget is None else scan_budget.admit(report)
                        reports.append((worker.chunk[worker.done][0], admitted))
                    worker.done += 1
                    worker.since = time.monotonic()
                    if on_progress and not worker.busy:
                        on_progress(len(worker.chunk))
            now = time.monotonic()
            for worker in [w for w in pool if w.busy and now - w.since > w.silence_allowed(wall_limit)]:
                worker.stop(kill=True)
                replace(worker, _silence_message(worker, wall_limit))
    finally:
        for worker in pool:
            worker.stop(kill=worker.busy)
        if zygote is not None:
            zygote.close()
    reports.sort(key=lambda item: item[0])
    return reports, bytes_read
