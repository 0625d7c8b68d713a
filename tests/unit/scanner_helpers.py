"""Small builders shared by the scanner tests: write a tree, scan it, look components up."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from common.scanner import scan_path
from common.scanner.model import Component, ScanResult


def write_file(root: Path, relpath: str, content: str | bytes) -> Path:
    path = root / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def write_tree(root: Path, files: dict[str, str | bytes]) -> Path:
    for relpath, content in files.items():
        write_file(root, relpath, content)
    return root


def tools_of(result: ScanResult) -> dict[str, set[tuple[str, int]]]:
    """Each tool component's name and the (file, line) places it was found."""
    return {
        c.name: {(loc.file, loc.line) for loc in c.locations} for c in result.components if c.type == "tool"
    }


def scan_tree(root: Path, files: dict[str, str | bytes], **kwargs) -> ScanResult:
    write_tree(root, files)
    kwargs.setdefault("jobs", 1)
    return scan_path(root, **kwargs)


def record_pattern_calls(monkeypatch, owner, name: str, method: str) -> list:
    """Every first argument of ``owner.name.method`` from now on, in a list, the pattern answering as
    before: which texts a gated pattern is still run on."""
    pattern, calls = getattr(owner, name), []

    class Recording:
        pass

    def recorded(value, *args):
        calls.append(value)
        return getattr(pattern, method)(value, *args)

    recording = Recording()
    setattr(recording, method, recorded)
    monkeypatch.setattr(owner, name, recording)
    return calls


def count_opens(monkeypatch, path: Path) -> list:
    """Every ``os.open`` of ``path`` from now on, in a list: how often a scan reads one file."""
    target = os.path.realpath(path)
    opened: list = []
    real_open = os.open

    def counting_open(opened_path, *args, **kwargs):
        if os.fspath(opened_path) == target:
            opened.append(opened_path)
        return real_open(opened_path, *args, **kwargs)

    monkeypatch.setattr(os, "open", counting_open)
    return opened


def keys(result: ScanResult) -> set[str]:
    return {f"{c.type}:{c.name}" for c in result.components}


def tool_sites(result: ScanResult) -> set[tuple[str, str, str, int]]:
    """(name, provider, file, line) of every tool location."""
    return {
        (c.name, c.provider, loc.file, loc.line)
        for c in result.components
        if c.type == "tool"
        for loc in c.locations
    }


def component(result: ScanResult, key: str) -> Component:
    matches = [c for c in result.components if f"{c.type}:{c.name}" == key]
    assert matches, f"{key} not in {sorted(keys(result))}"
    return matches[0]


def stuck_worker_command(name: str, marker: Path) -> str:
    """An isolated worker's command (``isolation.WORKER_COMMAND``) for ``serve_stuck_on``."""
    return f"from tests.unit.scanner_helpers import serve_stuck_on; serve_stuck_on({name!r}, {str(marker)!r})"


def serve_stuck_on(name: str, marker: str) -> None:
    """An isolated worker that blocks without spending CPU inside the budget of the file called ``name``,
    as a read that never returns would: the CPU budget's signal never fires, only the parent's wall clock
    can stop it. Its pid is written to ``marker`` once it is stuck there."""
    from common.scanner import worker

    detect_file = worker._detect_file

    def stuck_on_name(source, *args):
        if source.name == name:
            Path(marker).write_text(str(os.getpid()))
            time.sleep(3600)
        return detect_file(source, *args)

    worker._detect_file = stuck_on_name
    worker.serve()


def environment_recording_worker_command(record: Path) -> str:
    """An isolated worker's command (``isolation.WORKER_COMMAND``) for ``serve_recording_environment``."""
    return (
        "from tests.unit.scanner_helpers import serve_recording_environment; "
        f"serve_recording_environment({str(record)!r})"
    )


def serve_recording_environment(record: str) -> None:
    """An isolated worker that writes the environment it runs with (``/proc/self/environ``, what code run
    by a parser would read) to ``record`` when it scans a file."""
    from common.scanner import worker

    detect_file = worker._detect_file

    def recording(source, *args):
        Path(record).write_bytes(Path("/proc/self/environ").read_bytes())
        return detect_file(source, *args)

    worker._detect_file = recording
    worker.serve()


def neighbour_probing_worker_command(record: Path) -> str:
    """An isolated worker's command (``isolation.WORKER_COMMAND``) for ``serve_probing_neighbours``."""
    return (
        "from tests.unit.scanner_helpers import serve_probing_neighbours; "
        f"serve_probing_neighbours({str(record)!r})"
    )


def serve_probing_neighbours(record: str) -> None:
    """An isolated worker that, when it scans a file, tries what code run by a parser could: read the
    environment of its zygote and of the scan's own process through ``/proc``. It writes down, per
    process, what it read or ``"denied"``."""
    import json

    from common.scanner import worker

    detect_file = worker._detect_file

    def probing(source, *args):
        zygote = os.getppid()
        status = Path(f"/proc/{zygote}/status").read_text()
        scan = int(next(line.split()[1] for line in status.splitlines() if line.startswith("PPid:")))
        seen = {}
        for name, pid in (("zygote", zygote), ("scan", scan)):
            try:
                seen[name] = Path(f"/proc/{pid}/environ").read_bytes().decode(errors="replace")
            except PermissionError:
                seen[name] = "denied"
        Path(record).write_text(json.dumps(seen))
        return detect_file(source, *args)

    worker._detect_file = probing
    worker.serve()


def git(root, *args):
    """Run git in ``root`` with a fixed author: the tests' fixture repositories."""
    subprocess.run(
        ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
        cwd=root,
        check=True,
        capture_output=True,
    )


def committed_then_ignored(root):
    """A repository whose AI client and its folder are committed and then listed in ``.gitignore``,
    beside an untracked file the ignore file hides as usual."""
    write_tree(
        root,
        {
            "app.py": "x = 1\n",
            "secret_ai/client.py": "import anthropic\n",
            "hidden.py": "import openai\n",
        },
    )
    git(root, "init", "-q")
    git(root, "add", "app.py", "secret_ai/client.py")
    git(root, "commit", "-qm", "init")
    write_tree(root, {".gitignore": "secret_ai/\nhidden.py\n", "secret_ai/scratch.py": "import cohere\n"})
