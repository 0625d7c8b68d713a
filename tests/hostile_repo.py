"""A hostile repository, generated on demand: every file of issue 19's table, as an attacker
would write it (no binaries in git: sparse files, generated pickles and zips).

``write_hostile_repo(root)`` returns {relpath: what the scan must report for it}: "warning"
when the file must be skipped or stopped with a scan warning, "finding" when it must still be
analysed (quickly), and the name of a flag the finding must carry where that is the point.
"""

from __future__ import annotations

import json
import os
import struct
import zipfile
from pathlib import Path

LAUGHS = 9

# the two-level shapes each detector family's patterns repeat, made 200 KB-1 MB long
CRAFTED_LINES = {
    "app.js": "import " + "a," * 150_000 + "\n" + "import(" * 60_000 + "\n",
    "app.rb": "require " + "'a" * 150_000 + "\n",
    "main.tf": 'resource "a" ' + '"b" ' * 100_000 + "\n" + "x = " + '"\\' * 100_000 + "\n",
    "Program.cs": "using " + "a." * 150_000 + "\n" + "new " + "Client" * 50_000 + "\n",
    "app.csproj": "<PackageReference " * 30_000 + "\n",
    "tsconfig.json": '{"compilerOptions": {"paths": "' + "\\u0035" * 60_000 + "\n",
    "main.go": "import (" * 40_000 + "\n" + 'import "' * 40_000 + "\n",
    "lib.rs": "use a" + "::a" * 100_000 + "\n",
    "pom.xml": "<dependency>" * 40_000 + "\n",
    "config/.env": "OPENAI_MODEL=" + " " * 200_000 + "x\n" + '"model": "' + "\t" * 100_000 + "!\n",
    # round 21: the rules added since round 19
    "rust/src/servers.rs": "fn main() {" + 'mcp_servers.insert("a",' * 20_000 + "\n",
    "rust/src/clients.rs": "use async_openai::Client;\n" + '.with_api_base("http://a");' * 15_000 + "\n",
    "dotnet/Transports.cs": "using ModelContextProtocol.Client;\n"
    + "new SseClientTransport(new() { " * 15_000,
    "vscode/package.json": json.dumps(
        {
            "contributes": {
                "configuration": {
                    "properties": {f"x.s{i}.model": {"default": "gpt-4o"} for i in range(10_000)}
                }
            }
        },
        indent=1,
    ),
    "compose/docker-compose.yml": "services:\n"
    + "".join(f"  s{i}:\n    image: nginx\n    env_file: [big.env, x/../big.env]\n" for i in range(2_000)),
    "compose/big.env": "X=1\n" * 60_000,
    "compose/x/.keep": "",
}


def billion_laughs(head: str) -> str:
    lines = [head, 'l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, LAUGHS):
        lines.append(f"l{level}: &l{level} [{', '.join([f'*l{level - 1}'] * 9)}]")
    return "\n".join(lines) + "\n"


def _package_json() -> str:
    return '{"name": "x", "dependencies": {"openai": "' + "^" * 300_000 + '"}}\n'


def _safetensors(path: Path) -> None:
    """A header that claims a 15 MB JSON section: one tensor whose shape lists 700,000 huge
    dimensions (multiplying them out is a multi-million-digit product)."""
    tensors = {"t": {"dtype": "F32", "shape": [2**62] * 700_000, "data_offsets": [0, 2**60]}}
    header = json.dumps(tensors).encode()
    header += b" " * (15 * 1024 * 1024 - len(header))
    path.write_bytes(struct.pack("<Q", len(header)) + header + b"\0" * 64)


def _slow_pickle_pt(path: Path) -> None:
    """33 KB on disk: a PyTorch zip whose data.pkl is 32 MiB of one opcode."""
    body = b"\x80\x02" + b"N" * (32 * 1024 * 1024 - 3) + b"."
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("archive/data.pkl", body)
        archive.writestr("archive/version", "3\n")


def _crowded_agent_zip(path: Path) -> None:
    """A Stable-Baselines3 layout among 20,000 empty entries: over the central-directory entry cap,
    so it is not classified (the directory is never parsed past the end record)."""
    with zipfile.ZipFile(path, "w") as archive:
        for name in ("data", "policy.pth", "_stable_baselines3_version"):
            archive.writestr(name, "")
        for index in range(20_000):
            archive.writestr(f"f{index}", "")


def _forged_zip_end() -> bytes:
    """A zip64 end record located at 2**62 and an end record claiming every maximum."""
    locator = struct.pack("<4sIQI", b"PK\x06\x07", 0, 2**62, 1)
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    return b"PK\x03\x04" + b"\0" * 4096 + locator + end


def _evasive_pickle(path: Path) -> None:
    """os.system from a STACK_GLOBAL that follows a POP of junk (seen as ``system.junk`` before)."""
    path.write_bytes(b"\x80\x04\x8c\x02os\x8c\x06system\x8c\x04junk0\x93\x8c\x02id\x85R.")


def _sparse_gguf(path: Path) -> None:
    """A GGUF header on a sparse 50 GB file: 8 KB on disk."""
    with open(path, "wb") as handle:
        handle.write(b"GGUF" + struct.pack("<IQQ", 3, 0, 0))
        handle.truncate(50 * 1024**3)


def write_hostile_repo(root: Path) -> dict[str, str]:
    root.mkdir(parents=True, exist_ok=True)
    expected: dict[str, str] = {}

    def put(relpath: str, content: str | bytes, expect: str) -> None:
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        expected[relpath] = expect

    put("docker-compose.yml", billion_laughs("services:\n  app:\n    image: ollama/ollama"), "warning")
    put("k8s/deployment.yaml", billion_laughs("apiVersion: apps/v1\nkind: Deployment"), "warning")
    put(
        "cfn/template.yaml",
        billion_laughs('AWSTemplateFormatVersion: "2010-09-09"\nResources: {}'),
        "warning",
    )
    put("mcp/mcp.yaml", billion_laughs("mcpServers: {}"), "warning")
    put("deep/config.yml", "model: " + "[" * 30_000 + "]" * 30_000 + "\n", "warning")
    put("deep/notebook.ipynb", '{"cells": ' + "[" * 50_000 + "]" * 50_000 + "}", "warning")
    servers = {
        f"s{i}": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-memory"]} for i in range(200)
    }
    heredoc = ["cat > .mcp.json <<'EOF'", json.dumps({"mcpServers": servers}), "EOF"]
    put(  # one script's text read by each of 300 steps (each alias is one node)
        ".github/workflows/aliased.yml",
        "on: push\njobs:\n  a:\n    steps:\n      - run: &s |\n"
        + "".join(f"          {line}\n" for line in heredoc)
        + "      - run: *s\n" * 300,
        "warning",
    )
    put("deep/expr.py", "import openai\nx = " + "(" * 150 + "-" * 100_000 + "1" + ")" * 150 + "\n", "warning")
    for relpath, content in CRAFTED_LINES.items():
        put(relpath, content, "completes")
    put("package.json", _package_json(), "finding")
    _safetensors(root / "weights.safetensors")
    expected["weights.safetensors"] = "finding"
    _slow_pickle_pt(root / "slow.pt")
    expected["slow.pt"] = "dangerous_code"
    _evasive_pickle(root / "evasive.pkl")
    expected["evasive.pkl"] = "dangerous_code"
    put("archives/forged_end.mar", _forged_zip_end(), "absent")
    _crowded_agent_zip(root / "archives/crowded_agent.zip")
    expected["archives/crowded_agent.zip"] = "absent"
    _sparse_gguf(root / "model.gguf")
    expected["model.gguf"] = "finding"
    name = os.fsdecode(b"caf\xe9_\xff.py")  # not UTF-8: carried as surrogate escapes
    put(name, "import anthropic\n", "finding")
    return expected


# A manifest every file below it consults (the nearest Cargo.toml, go.mod or Gradle version catalog), as
# costly to read as the neighbour-file cap allows, above ``files`` source files in as many folders.
AMPLIFYING_MANIFESTS = {
    "rust/Cargo.toml": '[package]\nname = "agent"\n[dependencies]\n'
    + "".join(f"dep-{i} = 1\n" for i in range(18_000)),
    "go/go.mod": "module example.com/agent\n" + "github.com/a/b v1.0.0\n" * 11_000,
    "jvm/gradle/libs.versions.toml": "[libraries]\n" + "".join(f'a{i} = "g:a{i}:1"\n' for i in range(90_000)),
}
AMPLIFIED_FILES = {
    "rust": (
        "lib.rs",
        'impl Tool for Search {\n    fn name(&self) -> &str { "search" }\n'
        "    fn description(&self) -> String { String::new() }\n}\n",
    ),
    "go": (
        "tool.go",
        'package tools\n\nfunc (t *Search) Name() string { return "search" }\n'
        'func (t *Search) Description() string { return "" }\n'
        "func (t *Search) Call(input string) (string, error) { return input, nil }\n",
    ),
    "jvm": ("build.gradle", "dependencies {\n    implementation libs.a1\n}\n"),
}


def write_amplifying_manifests(root: Path, files: int) -> None:
    """Each manifest of ``AMPLIFYING_MANIFESTS`` above ``files`` files that read it, one per folder: a
    scan must read and search each manifest once, not once per file (or folder) below it."""
    for relpath, text in AMPLIFYING_MANIFESTS.items():
        (root / relpath).parent.mkdir(parents=True, exist_ok=True)
        (root / relpath).write_text(text)
    for project, (name, text) in AMPLIFIED_FILES.items():
        for index in range(files):
            folder = root / project / f"module{index}"
            folder.mkdir(parents=True)
            (folder / name).write_text(text)
