"""The per-process half of a scan: run the detectors over a chunk of files.

Runs inside the isolated worker processes of ``common.scanner.isolation`` (``serve``) or
in-process for small scans, so everything it returns must pickle; it returns only files that
produced something, which keeps the traffic back to the parent small.

Every file runs under a CPU-time budget (``cpu_budget``): a detector still busy when the budget
runs out is interrupted, the file gets a warning and the scan moves on. The budget is a
``SIGPROF`` interval timer, so it holds only in a process's main thread; callers on other threads
scan through the isolated workers, whose watchdog also covers what a signal cannot interrupt.
Memory is bounded too: an isolated worker's address space for good (``serve``), an in-process
scan's growth for as long as it scans (``memory_cap``); a file that reaches the bound is a warning.
"""

from __future__ import annotations

import _signal
import contextlib
import os
import signal
import struct
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from common.scanner.detectors.base import Detector, FileReport, SourceFile
from common.scanner.lazy import import_deferred
from common.scanner.registry import all_detectors, detectors_for
from common.scanner.sfc import script_view
from common.scanner.test_data import (
    without_replayed_inputs,
    without_test_function_tools,
    without_unit_test_inputs,
)
from common.scanner.textutil import one_scan

BINARY_SNIFF_BYTES = 8192
PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
DEFAULT_FILE_BUDGET_SECONDS = 3.0
# a whole scan's wall-clock budget: far above any real tree, below the platform's task time limit
DEFAULT_SCAN_BUDGET_SECONDS = 30 * 60.0
BUDGET_REPEAT_SECONDS = 0.01
WORKER_MEMORY_BYTES = 2 * 1024**3
# what an in-process scan may add to its process's address space (``memory_cap``): two scans of a Celery
# prefork pool of two, each on top of its ~0.15 GB process, still fit a scans pod's 4 GiB
DEFAULT_SCAN_MEMORY_BYTES = 1024**3
MEMORY_WARNING = "stopped: over the scan's memory limit on this file; findings may be incomplete"
# a file's and a scan's findings: real files hold at most about a hundred, real trees a few thousand
MAX_FINDINGS_PER_FILE = 10_000
MAX_FINDINGS_PER_SCAN = 500_000
READY = "ready"
# a request to the zygote (``serve``): operation (F fork, K kill, R reap), worker serial, grace seconds
ZYGOTE_REQUEST = struct.Struct("<cqd")
ZYGOTE_STATUS = struct.Struct("<q")  # its answer to R: the exit status, as ``subprocess``' returncode
# libraries detectors call into; the budget may interrupt them (C code such as ``re`` matching
# reports its caller's frame)
INTERRUPTIBLE_LIBRARIES = frozenset(
    {
        "re",
        "re2",
        "ast",
        "json",
        "yaml",
        "tomllib",
        "pickletools",
        "zipfile",
        "io",
        "fnmatch",
        "urllib",
        "shlex",
    }
)


@dataclass
class ScanBudget:
    """What a whole scan may take. Time: files not started by ``deadline`` (wall clock; None: no limit)
    are not scanned, so a tree of thousands of files that each use most of their CPU budget cannot keep
    a worker busy for hours. Findings: past ``MAX_FINDINGS_PER_SCAN`` a file's findings are dropped, so
    a tree of files each holding thousands of sightings cannot fill the scanning process's memory
    (the reports of every file are held until they merge). Either way the scan ends with what it found
    and says how much it left out."""

    seconds: float | None
    deadline: float
    not_scanned: int = 0
    findings: int = 0
    dropped: int = 0

    @classmethod
    def starting_at(cls, started: float, seconds: float | None) -> ScanBudget:
        return cls(seconds, started + seconds if seconds else float("inf"))

    def over(self) -> bool:
        return time.monotonic() >= self.deadline

    def admit(self, report: FileReport) -> FileReport:
        """``report`` with no findings once the scan holds ``MAX_FINDINGS_PER_SCAN``."""
        if self.findings + len(report.findings) > MAX_FINDINGS_PER_SCAN:
            self.dropped += len(report.findings)
            report.findings = []
        self.findings += len(report.findings)
        return report

    def warnings(self, total: int) -> list[str]:
        found = []
        if self.not_scanned:
            found.append(
                f"stopped: over the {self.seconds:g} s time budget for the whole scan; "
                f"{self.not_scanned} of {total} files were not scanned"
            )
        if self.dropped:
            found.append(
                f"over {MAX_FINDINGS_PER_SCAN} findings in the scan: {self.dropped} more were not reported"
            )
        return found


class FileBudgetExceeded(BaseException):
    """A file used up its CPU budget. A ``BaseException`` so that no detector's
    ``except Exception`` can swallow it and keep going on borrowed time."""


def budget_enforceable() -> bool:
    """Interval-timer signals are delivered to the main thread only."""
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


class _Budget:
    armed = False
    expired = False  # the armed budget has run out (its exception may have been swallowed by C code)


def _interruptible(frame) -> bool:
    """Raise only where scanning code runs: never inside a finalizer, a weakref callback or a
    host's hook (a Celery or test runner callback) that the signal happened to land in, nor inside
    this handler itself (a repeat signal landing in a handler that a host's hook is running
    would otherwise raise from that hook, where the exception is lost)."""
    if frame is None or frame.f_code in _HANDLER_CODE:
        return False
    module = frame.f_globals.get("__name__") or ""
    return module.startswith("common.scanner") or module.split(".")[0] in INTERRUPTIBLE_LIBRARIES


def _expire(signum, frame) -> None:
    if _Budget.armed:
        _Budget.expired = True
        if _interruptible(frame):
            raise FileBudgetExceeded


_HANDLER_CODE = frozenset({_interruptible.__code__, _expire.__code__})


def _disarm() -> None:
    # the timer may fire once more on the way out; catch it here until the timer is off
    while True:
        try:
            _Budget.armed = False
            signal.setitimer(signal.ITIMER_PROF, 0)
            _Budget.expired = False
            return
        except FileBudgetExceeded:
            continue


@contextmanager
def cpu_budget(seconds: float) -> Iterator[None]:
    """Raise ``FileBudgetExceeded`` in the block once it has used ``seconds`` of CPU time.

    ``re`` matching, ``hashlib`` loops and every Python-level loop check for signals, so a
    backtracking pattern or a runaway parser is stopped. After expiry the timer keeps firing
    every ``BUDGET_REPEAT_SECONDS`` until it lands in scanning code (``_interruptible``) and
    after that, so an exception swallowed once is raised again. The handler stays installed and
    does nothing while no budget is armed. Callers catch the exception outside the block."""
    if seconds <= 0 or not budget_enforceable():
        yield
        return
    if _signal.getsignal(signal.SIGPROF) is not _expire:  # ``signal``'s wrapper tries an enum first
        signal.signal(signal.SIGPROF, _expire)
    _Budget.armed, _Budget.expired = True, False
    signal.setitimer(signal.ITIMER_PROF, seconds, BUDGET_REPEAT_SECONDS)
    try:
        yield
    finally:
        _disarm()


def _address_space_bytes() -> int:
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


@contextmanager
def memory_cap(extra_bytes: int | None) -> Iterator[None]:
    """Within the block, this process's address space may grow by at most ``extra_bytes`` (None or 0: no
    cap; Linux only): past it an allocation raises ``MemoryError``, which ``scan_file`` turns into the
    file's warning, where a parser ballooning on a hostile file grew the process until the host's OOM
    killer took it, the Celery pool process and whatever else it held.

    An in-process scan runs in the process that asked for it (a Celery prefork pool process, the CLI), so
    the cap is the soft ``RLIMIT_AS`` of that process, lowered for the scan only and put back after (an
    unprivileged process may raise its soft limit up to the hard one). Not a fixed limit on the whole
    Celery worker: its main process never scans, and a pool process's own size (its imports, the heartbeat
    thread's stack) varies, so the room is counted from what the process holds when the scan starts.
    Already under a tighter limit (an isolated worker, an operator's ``ulimit -v``), it stays as it is.
    Only on a main thread: the limit is the whole process's, and a process scanning on another thread (a
    Celery thread pool, a web server) runs other work beside it, which the scan's room would starve. The
    heartbeat thread of a prefork pool process shares the room: its allocation fails too while a scan is
    at the cap."""
    if not extra_bytes or not sys.platform.startswith("linux") or not budget_enforceable():
        yield
        return
    import resource  # not on Windows, where the CLI scans without the cap

    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = _address_space_bytes() + extra_bytes
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    if soft != resource.RLIM_INFINITY and soft <= cap:
        yield
        return
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def die_with_parent(parent_pid: int) -> None:
    """Pool initializer: a worker whose parent is killed (e.g. a SIGKILLed Celery pool process)
    is killed too, instead of lingering as an orphan (Linux only; elsewhere a no-op). A parent
    that died while this worker was still starting is caught by comparing the parent's pid."""
    if sys.platform.startswith("linux"):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent_pid:
            os._exit(1)


def undumpable() -> None:
    """Linux: other processes of the same uid may no longer read this process's ``/proc/<pid>/environ``,
    ``mem``, ``maps`` or ``fd``, nor ptrace it; it writes no core dump. Code a hostile file gets to run in
    a scanner worker runs as the server's uid: without this it could read the secrets in its parent's
    environment, or another scan's worker's memory. A fork keeps the flag, an exec resets it; elsewhere a
    no-op. py-spy or gdb then need root (CAP_SYS_PTRACE) to attach."""
    if sys.platform.startswith("linux"):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_DUMPABLE, 0) failed")


def _run(detector: Detector, source: SourceFile, report: FileReport) -> None:
    try:
        report.findings.extend(detector.detect(source, report))
    except MemoryError:  # the file's, not the detector's: ``scan_file`` stops the file with its warning
        raise
    except RecursionError:
        report.warnings.append(f"{detector.name}: nesting too deep to analyse")
    except Exception as exc:  # a broken file must never stop the scan
        if _Budget.expired:  # the budget ran out inside C code that turned its exception into another
            raise FileBudgetExceeded from exc  # (``ast.parse``: "AST constructor recursion depth mismatch")
        report.warnings.append(f"{detector.name}: {type(exc).__name__}: {exc}"[:300])


def scan_file(
    source: SourceFile,
    detectors: tuple[Detector, ...],
    max_file_bytes: int,
    budget_seconds: float = DEFAULT_FILE_BUDGET_SECONDS,
) -> tuple[FileReport, int]:
    """Findings for one file and the number of bytes read, within the file's CPU budget."""
    report = FileReport()
    try:
        with cpu_budget(budget_seconds):
            read = _detect_file(source, detectors, max_file_bytes, report)
    except FileBudgetExceeded:
        report.warnings.append(
            f"stopped: over the {budget_seconds:g} s CPU budget for one file; findings may be incomplete"
        )
        read = len(source.__dict__.get("data", b""))
    except MemoryError:
        report.warnings.append(MEMORY_WARNING)
        read = len(source.__dict__.get("data", b""))
    if len(report.findings) > MAX_FINDINGS_PER_FILE:
        report.warnings.append(
            f"{len(report.findings)} findings: only the first {MAX_FINDINGS_PER_FILE} are reported"
        )
        report.findings = report.findings[:MAX_FINDINGS_PER_FILE]
    return report, read


def _detect_file(
    source: SourceFile, detectors: tuple[Detector, ...], max_file_bytes: int, report: FileReport
) -> int:
    view = script_view(source)  # a single-file component's code, for the detectors of code
    readers: dict[Detector, SourceFile] = {}
    for detector in detectors:
        if detector.applies_to(source):
            readers[detector] = source
        elif view is not None and detector.applies_to(view):
            readers[detector] = view
    applicable = list(readers)
    if not applicable:
        return 0
    for detector in applicable:
        if not detector.text_only:
            _run(detector, readers[detector], report)
    text_detectors = [d for d in applicable if d.text_only]
    if not text_detectors:
        return 0
    if source.size > max_file_bytes:
        report.warnings.append(f"skipped: {source.size} bytes is over the {max_file_bytes} byte limit")
        return 0
    try:
        data = source.data
    except OSError as exc:
        report.warnings.append(f"unreadable: {exc.strerror or exc}")
        return 0
    utf16 = data[:2] in (b"\xff\xfe", b"\xfe\xff")  # a UTF-16 text file is full of NUL bytes
    if b"\0" in data[:BINARY_SNIFF_BYTES] and not utf16:
        if len(text_detectors) == len(applicable):  # a binary detector (model files) read it: no news
            report.warnings.append("binary content; text detectors skipped")
        return len(data)
    try:
        source.__dict__["text"] = data.decode("utf-16" if utf16 else "utf-8-sig")
    except UnicodeDecodeError as exc:
        report.warnings.append(f"invalid UTF-8 at byte {exc.start}; undecodable bytes replaced")
    for detector in text_detectors:
        _run(detector, readers[detector], report)
    report.findings = without_replayed_inputs(report.findings, source.scope, source.text)
    report.findings = without_unit_test_inputs(report.findings, source.relpath, source.text)
    report.findings = without_test_function_tools(report.findings, source.relpath, source.text)
    return len(data)


def scan_chunk(
    root: str,
    entries: list[tuple[str, int, str]],
    max_file_bytes: int,
    budget_seconds: float = DEFAULT_FILE_BUDGET_SECONDS,
    real_root: str | None = None,
) -> tuple[list[tuple[str, FileReport]], int]:
    """Scan a chunk of (relpath, size, scope); returns non-empty reports and bytes read.

    Only the detector modules a file may need are imported, before its CPU budget starts. ``real_root``
    is ``root``'s real path where the caller worked it out once (an in-process scan's chunks are one
    file each)."""
    base, real_root = Path(root), real_root or os.path.realpath(root)
    results: list[tuple[str, FileReport]] = []
    total_bytes = 0
    for relpath, size, scope in entries:
        source = SourceFile(path=base / relpath, relpath=relpath, size=size, scope=scope, root=real_root)
        report, read = scan_file(source, detectors_for(source), max_file_bytes, budget_seconds)
        total_bytes += read
        if report.findings or report.warnings or report.facts:
            results.append((relpath, report))
    return results, total_bytes


def serve() -> None:
    """Body of the isolated workers' zygote process (``python -c ... serve()  <parent pid>``).

    The interpreter start and the detectors' imports (and the libraries they import on first use) cost
    more than a thousand typical files take to scan, so they are paid once here and every worker is a
    fork of this process. Requests arrive on
    stdin, a ``SOCK_SEQPACKET`` socket (``ZYGOTE_REQUEST`` packets, ``isolation._Zygote``): fork a
    worker on the two pipe ends sent with the packet, kill one, or reap one and answer its exit status
    (``subprocess``'s ``returncode``). Its workers stay its unreaped children until the parent asks, so
    a worker's pid is never reused while the parent may still kill it. The address space is capped
    here for every worker, so a file that makes a parser balloon fails with ``MemoryError`` (a warning)
    in its worker instead of swapping the host."""
    import gc
    import resource  # the zygote's own imports; an in-process scan never needs them
    import socket
    import traceback

    parent_pid = int(sys.argv[1])
    die_with_parent(parent_pid)
    undumpable()  # the workers forked from here inherit it: no worker reads another's memory
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard == resource.RLIM_INFINITY or hard > WORKER_MEMORY_BYTES:
        resource.setrlimit(resource.RLIMIT_AS, (WORKER_MEMORY_BYTES, hard))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    control = socket.socket(fileno=os.dup(0))
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(2, 1)  # detectors' stray output goes to stderr
    detectors = all_detectors()
    import_deferred()
    gc.freeze()  # the warmed objects stay shared with the workers instead of being copied by the collector
    workers: dict[int, int] = {}  # serial → pid, until reaped
    zygote_pid = os.getpid()
    while True:
        try:
            packet, fds, _, _ = socket.recv_fds(control, ZYGOTE_REQUEST.size, 2)
        except OSError:
            packet, fds = b"", []
        if len(packet) != ZYGOTE_REQUEST.size:  # the parent closed the socket: the scan is over
            for pid in workers.values():
                _kill(pid)
            return
        op, serial, grace = ZYGOTE_REQUEST.unpack(packet)
        if op == b"F" and len(fds) == 2:
            pid = os.fork()
            if pid == 0:  # the worker: it never returns into this loop
                try:
                    control.close()
                    _serve_forked(fds[0], fds[1], detectors, zygote_pid)
                except BaseException:
                    traceback.print_exc()
                    os._exit(1)
                os._exit(0)
            workers[serial] = pid
        for fd in fds:
            os.close(fd)
        if op == b"K" and serial in workers:
            _kill(workers[serial])
        elif op == b"R":
            pid = workers.pop(serial, None)
            status = _reaped(pid, grace) if pid is not None else -signal.SIGKILL
            control.sendall(ZYGOTE_STATUS.pack(status))


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _reaped(pid: int, grace: float) -> int:
    """Exit status of worker ``pid`` once it exits, killed if it has not within ``grace`` seconds."""
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.005)
    _kill(pid)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


def _serve_forked(jobs_fd: int, results_fd: int, detectors: tuple[Detector, ...], parent_pid: int) -> None:
    """A worker: jobs ``(root, entries, max_file_bytes, budget_seconds)`` arrive pickled on ``jobs_fd``;
    one ``(report or None, bytes read)`` goes back on ``results_fd`` per file, in order (after one
    ``READY``, which starts the first file's clock), so the parent always knows which file a silent or
    dead worker was on."""
    from multiprocessing.connection import Connection

    die_with_parent(parent_pid)
    jobs = Connection(jobs_fd, writable=False)
    results = Connection(results_fd, readable=False)
    results.send(READY)
    with one_scan():  # a worker serves the chunks of one scan, then exits
        while True:
            try:
                job = jobs.recv()
            except EOFError:
                return
            if job is None:
                return
            root, real_root, entries, max_file_bytes, budget_seconds = job
            base = Path(root)
            for relpath, size, scope in entries:
                source = SourceFile(base / relpath, relpath, size, scope, root=real_root)
                report, read = scan_file(source, detectors, max_file_bytes, budget_seconds)
                results.send((report if report.findings or report.warnings or report.facts else None, read))
