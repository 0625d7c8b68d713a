"""Worst per-file cost over issue 19's hostile repository, with and without the per-file budget.

Each file of ``tests/hostile_repo.py`` is scanned on its own by every detector that applies, in
this process: once with no budget (what the parsers, patterns and limits cost by themselves)
and once under the default CPU budget (what a scan pays). Then the whole repository goes
through ``trusera scan`` as a subprocess, whose wall time and peak RSS (with its workers) are
recorded. ``--amplification N`` measures instead what one hostile manifest costs the files below
it: a scan (in-process, CPU time) of ``tests/hostile_repo.py``'s amplifying manifests above one file
each, then above N files each. ``--residue N`` measures the shapes of ``RESIDUE_SHAPES`` (one file each,
no budget) at N and 2N repeats: CPU seconds, seconds per MB and the 2N/N ratio (2 is linear). ``--walk N``
measures ``WALK_SHAPES`` the same way: trees whose walk (in the scanning process, outside any file's budget)
must stay linear. Results go in bench/README.md.

    .venv/bin/python bench/bench_hostile.py            # --repeat R
    .venv/bin/python bench/bench_hostile.py --amplification 100
    .venv/bin/python bench/bench_hostile.py --residue 5000
    .venv/bin/python bench/bench_hostile.py --walk 1000
"""

from __future__ import annotations

import argparse
import json
import resource
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common.scanner import scan_path  # noqa: E402
from common.scanner.detectors.base import SourceFile  # noqa: E402
from common.scanner.registry import all_detectors  # noqa: E402
from common.scanner.textutil import one_scan  # noqa: E402
from common.scanner.walker import walk  # noqa: E402
from common.scanner.worker import DEFAULT_FILE_BUDGET_SECONDS, scan_file  # noqa: E402
from tests.hostile_repo import write_amplifying_manifests, write_hostile_repo  # noqa: E402

MAX_FILE_BYTES = 5 * 1024 * 1024


def per_file(root: Path, budget: float, repeat: int) -> list[tuple[float, str, str]]:
    detectors = all_detectors()
    rows = []
    for entry in walk(root, lambda *_: None):
        best = float("inf")
        for _ in range(repeat):
            source = SourceFile(path=root / entry.relpath, relpath=entry.relpath, size=entry.size)
            started = time.process_time()
            with one_scan():  # neighbour files answered once, as in a scan
                report, _ = scan_file(source, detectors, MAX_FILE_BYTES, budget)
            best = min(best, time.process_time() - started)
        rows.append((best, ascii(entry.relpath)[1:-1], report.warnings[0][:70] if report.warnings else ""))
    return sorted(rows, reverse=True)


def cli_run(root: Path) -> tuple[float, int]:
    started = time.monotonic()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "common.cli",
            "scan",
            str(root),
            "--format",
            "json",
            "-o",
            "/dev/null",
            "--quiet",
        ],
        cwd=ROOT,
        check=True,
    )
    return time.monotonic() - started, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024


def amplification(files: int, repeat: int) -> None:
    """CPU time of a scan of the amplifying manifests above one file each, then ``files`` each."""
    for count in (1, files):
        with tempfile.TemporaryDirectory() as scratch:
            write_amplifying_manifests(Path(scratch), count)
            best = float("inf")
            for _ in range(repeat):
                started = time.process_time()
                scan_path(scratch, jobs=1)
                best = min(best, time.process_time() - started)
        print(f"manifests above {count:>5} files each: {best:.2f} s CPU")


_HOSTS = ("api.openai.com", "api.anthropic.com", "api.mistral.ai", "api.groq.com", "api.deepseek.com")
_BEDROCK = "anthropic.claude-3-haiku-20240307-v1:0"
_KEY = "sk-proj-Q7fZ2kLm9XwR4tVb8NcJ1pHs6YdG3eAu5iKo"


def _mcp_servers(n: int) -> dict:
    return {
        f"s{i}": {
            "command": "npx",
            "args": ["-y", f"@modelcontextprotocol/server-{i}"],
            "env": {"OPENAI_API_KEY": "sk-x"},
        }
        for i in range(n)
    }


# one line of n model constants, per language: (relpath, the statement repeated with its index ``i``)
CONSTANT_LINES = {
    'Kotlin, one line of `val Mi = "gpt-4o";`': ("k/Models.kt", 'val M{i} = "gpt-4o";'),
    "Java, `static final String Mi`": ("j/Models.java", 'static final String M{i} = "gpt-4o";'),
    "C#, `const string Mi`": ("c/Models.cs", 'const string M{i} = "gpt-4o";'),
    "Go, `const Mi`": ("g/models.go", 'const M{i} = "gpt-4o";'),
    "Rust, `pub const Mi: &str`": ("r/models.rs", 'pub const M{i}: &str = "gpt-4o";'),
    "TypeScript, `export const Mi`": ("t/models.ts", 'export const M{i} = "gpt-4o";'),
    'Python, `Mi = "gpt-4o";`': ("p/models.py", 'M{i} = "gpt-4o"; '),
}


def _repeated(statement: str):
    return lambda n: "".join(statement.format(i=i) for i in range(n))


# (relpath, text of n repeats): sec-hostile23's shapes, each one line or one block repeated n times
RESIDUE_SHAPES = {
    **{label: (relpath, _repeated(statement)) for label, (relpath, statement) in CONSTANT_LINES.items()},
    "Dockerfile, one RUN of n `\\` lines": (
        "d1/Dockerfile",
        lambda n: (
            "FROM python:3.11\nRUN pip install openai \\\n" + "    && echo x \\\n" * n + "    && true\n"
        ),
    ),
    "Dockerfile, n RUNs": (
        "d2/Dockerfile",
        lambda n: (
            "FROM python:3.11\n" + "".join(f"RUN pip install openai{i} \\\n  && echo ok\n" for i in range(n))
        ),
    ),
    "Dockerfile, ENV block of n keys + n ARGs": (
        "d3/Dockerfile",
        lambda n: (
            "FROM python:3.11\nENV "
            + "".join(f"OPENAI_KEY{i}={_KEY}{i:05d} \\\n    " for i in range(n))
            + "X=1\n"
            + "".join(f"ARG MODEL{i}=gpt-4o\n" for i in range(n))
        ),
    ),
    "mcp.json, n servers on one line": ("m1/mcp.json", lambda n: json.dumps({"mcpServers": _mcp_servers(n)})),
    "claude_desktop_config.json, n servers": (
        "m2/claude_desktop_config.json",
        lambda n: json.dumps({"mcpServers": _mcp_servers(n)}),
    ),
    ".vscode/settings.json, n `mcp.servers`": (
        "m4/.vscode/settings.json",
        lambda n: json.dumps({"mcp": {"servers": _mcp_servers(n)}}),
    ),
    "mcp.json, one server of 10n args": (
        "m5/mcp.json",
        lambda n: json.dumps(
            {"mcpServers": {"a": {"command": "npx", "args": ["-y", "p", *(f"x{i}" for i in range(10 * n))]}}}
        ),
    ),
    "mcp.json, n levels of nesting": (
        "m6/mcp.json",
        lambda n: '{"mcpServers": {"a": ' * n + '{"command": "npx"}' + "}}" * n,
    ),
    "Python, n `requests.post(URL)` on one line": (
        "u1/app.py",
        lambda n: "import requests\n" + 'requests.post("https://api.openai.com/v1/chat/completions"); ' * n,
    ),
    "JavaScript, n `fetch(URL)` of 5 hosts": (
        "u2/app.js",
        lambda n: "".join(f'fetch("https://{_HOSTS[i % 5]}/v1/chat/completions"); ' for i in range(n)),
    ),
    ".env, n Azure OpenAI base URLs": (
        "u3/.env",
        lambda n: "".join(f"OPENAI_BASE_URL{i}=https://x{i}.openai.azure.com/\n" for i in range(n)),
    ),
    "Python, unparsable line of n `\\'` and an f-string": (
        "q/app.py",
        lambda n: 'import openai\ny = f"a{1}"\nx = \'' + "\\'" * n,
    ),
    "CDK, n `new bedrock.CfnAgent` on one line": (
        "h1/lib/stack.ts",
        lambda n: (
            "import * as bedrock from 'aws-cdk-lib/aws-bedrock';\n"
            + "".join(
                f'new bedrock.CfnAgent(this, "a{i}", {{ foundationModel: "{_BEDROCK}" }}); ' for i in range(n)
            )
        ),
    ),
    'CDK, n unclosed `new bedrock.CfnAgent(this, "a", {`': (
        "h2/lib/stack.ts",
        lambda n: (
            "import * as bedrock from 'aws-cdk-lib/aws-bedrock';\n" + 'new bedrock.CfnAgent(this, "a", { ' * n
        ),
    ),
    "Pulumi Python, n `aws.bedrock.AgentAgent`": (
        "h3/__main__.py",
        lambda n: (
            "import pulumi_aws as aws\n"
            + "".join(f'aws.bedrock.AgentAgent("x{i}", foundation_model="{_BEDROCK}"); ' for i in range(n))
        ),
    ),
    "Ruby, n unclosed `MCP::Server.new(tools: [`": (
        "h6/server.rb",
        lambda n: "require 'mcp'\n" + 'MCP::Server.new(name: "x", tools: [' * n,
    ),
    "Rust, n `#[strum(serialize)]` variants on one line": (
        "h7/models.rs",
        lambda n: "pub enum M {" + "".join(f'#[strum(serialize = "gpt-4o")] G{i}, ' for i in range(n)) + "}",
    ),
    "n8n workflow of n chat-model nodes": (
        "h10/workflow.json",
        lambda n: json.dumps(
            {
                "name": "w",
                "nodes": [
                    {
                        "id": str(i),
                        "name": f"n{i}",
                        "type": "@n8n/n8n-nodes-langchain.lmChatOpenAi",
                        "parameters": {"model": "gpt-4o"},
                    }
                    for i in range(n)
                ],
                "connections": {},
            }
        ),
    ),
    "Helm values, n images of vllm/vllm-openai": (
        "h11/values.yaml",
        lambda n: "".join(
            f"s{i}:\n  image:\n    repository: vllm/vllm-openai\n    tag: v0.{i}\n" for i in range(n)
        ),
    ),
}


def residue(n: int, repeat: int) -> None:
    """CPU time of each of ``RESIDUE_SHAPES`` at ``n`` and ``2n`` repeats, no budget, findings counted."""
    detectors = all_detectors()
    print(f"{'shape (at 2N)':<46} {'size':>8} {'CPU':>7} {'s/MB':>5} {'2n/n':>5} {'findings':>8}  warning")
    for label, (relpath, make) in RESIDUE_SHAPES.items():
        costs = []
        for count in (n, 2 * n):
            with tempfile.TemporaryDirectory() as scratch:
                path = Path(scratch) / relpath
                path.parent.mkdir(parents=True)
                path.write_text(make(count) + "\n")
                size = path.stat().st_size
                size = path.stat().st_size
                best = float("inf")
                for _ in range(repeat):
                    source = SourceFile(path=path, relpath=relpath, size=path.stat().st_size)
                    started = time.process_time()
                    with one_scan():
                        report, _ = scan_file(source, detectors, MAX_FILE_BYTES, 0)
                    best = min(best, time.process_time() - started)
                costs.append(best)
        warning = report.warnings[0][:40] if report.warnings else ""
        print(
            f"{label:<46} {size / 1e6:>6.2f}MB {best:>6.3f}s {best / (size / 1e6):>5.2f} "
            f"{costs[1] / max(costs[0], 1e-6):>5.2f} {len(report.findings):>8}  {warning}"
        )


def _git_index(root: Path, version: int, entries: list[bytes]) -> None:
    (root / ".git").mkdir()
    (root / ".git" / "index").write_bytes(
        b"DIRC" + struct.pack(">II", version, len(entries)) + b"".join(entries)
    )


def _v2_entry(name: bytes) -> bytes:
    fixed = b"\0" * 60 + min(len(name), 0x0FFF).to_bytes(2, "big")
    return (fixed + name).ljust((len(fixed) + len(name) + 8) & ~7, b"\0")


def _nested_ignore_files(root: Path, levels: int) -> None:
    folder = root
    for _ in range(levels):
        (folder / ".gitignore").write_text("*.log\n")
        for number in range(20):
            (folder / f"f{number}.txt").write_text("")
        folder = folder / "d"
        folder.mkdir()


def _wildcard_ignore_files(root: Path, folders: int) -> None:
    """Distinct ignore files of 2,900 short wildcards each: under the per-file cap, a set RE2 fails on."""
    for number in range(folders):
        (root / f"d{number}").mkdir()
        lines = "".join(f"**/*a*a*a*b{number}x{line}\n" for line in range(2_900))
        (root / f"d{number}" / ".gitignore").write_text(lines)


# (label, tree of size n): the shapes reviews sec33a (quadratic) and sec33c (unbounded) found in the walk
WALK_SHAPES = {
    "v4 index, each name the last plus a byte (n*10)": lambda root, n: _git_index(
        root, 4, [b"\0" * 62 + b"\x00a\0"] * (n * 10)
    ),
    "v4 index, one prefix of n*100 continuation bytes": lambda root, n: _git_index(
        root, 4, [b"\0" * 62 + b"\x80" * (n * 100) + b"\0a\0"]
    ),
    "index of n paths 1,000 folders deep": lambda root, n: _git_index(
        root, 2, [_v2_entry(f"x{i}/{'d/' * 1000}f".encode()) for i in range(n)]
    ),
    "a .gitignore and 20 files in n/2 nested folders": lambda root, n: _nested_ignore_files(root, n // 2),
    "n/10 ignore files of 2,900 distinct wildcards": lambda root, n: _wildcard_ignore_files(root, n // 10),
}


def walk_shapes(n: int) -> None:
    """CPU time of walking each of ``WALK_SHAPES`` at ``n`` and ``2n``, and the peak RSS so far."""
    print(f"{'shape (at 2N)':<50} {'CPU':>7} {'2n/n':>5} {'peak MiB':>8}  warning")
    for label, make in WALK_SHAPES.items():
        costs: list[float] = []
        for count in (n, 2 * n):
            root = Path(tempfile.mkdtemp())
            make(root, count)
            warnings = []
            started = time.process_time()
            walk(root, lambda *warning, into=warnings: into.append(warning))
            costs.append(time.process_time() - started)
            subprocess.run(["rm", "-rf", str(root)], check=True)  # shutil.rmtree recurses once per folder
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
        warning = warnings[0][1][:40] if warnings else ""
        print(f"{label:<50} {costs[1]:>6.2f}s {costs[1] / max(costs[0], 1e-6):>5.2f} {peak:>8}  {warning}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="best of R runs per file")
    parser.add_argument("--amplification", type=int, metavar="N", help="manifests above N files instead")
    parser.add_argument("--residue", type=int, metavar="N", help="sec-hostile23's shapes at N and 2N instead")
    parser.add_argument("--walk", type=int, metavar="N", help="the walk shapes at N and 2N instead")
    args = parser.parse_args()
    if args.walk:
        walk_shapes(args.walk)
        return
    if args.residue:
        residue(args.residue, args.repeat)
        return
    if args.amplification:
        amplification(args.amplification, args.repeat)
        return
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch) / "repo"
        write_hostile_repo(root)
        all_detectors()  # catalogs loaded outside the timings
        unbudgeted = per_file(root, 0, args.repeat)
        budgeted = dict(
            (name, seconds) for seconds, name, _ in per_file(root, DEFAULT_FILE_BUDGET_SECONDS, 1)
        )
        print(f"{'file':<28} {'no budget':>10} {'budget':>8}  warning")
        for seconds, name, warning in unbudgeted:
            print(f"{name:<28} {seconds:>9.3f}s {budgeted[name]:>7.3f}s  {warning}")
        worst = unbudgeted[0]
        print(f"\nworst file: {worst[1]} {worst[0]:.3f} s CPU (budget {DEFAULT_FILE_BUDGET_SECONDS:g} s)")
        wall, peak_mib = cli_run(root)
        print(f"trusera scan of the whole repository: {wall:.1f} s wall, peak RSS {peak_mib} MiB")


if __name__ == "__main__":
    main()
