"""The CI integrations, run the way CI runs them: the real ``pre-commit`` tool against a throwaway git
repository, the composite GitHub Action's shell steps, and the GitLab CI template's script, all
offline and against the ``trusera`` CLI of this checkout."""

from __future__ import annotations

import os
import random
import re
import shutil
import string
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.export_validators import check_export

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
RNG = random.Random(1616)
LIVE_KEY = "sk-proj-" + "".join(RNG.choice(string.ascii_letters + string.digits) for _ in range(60))
APP = "import openai\nclient = openai.OpenAI()\n"

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def tool_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """PATH finds this checkout's ``trusera`` first; git and pre-commit keep their state in tmp_path."""
    return {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(tmp_path / "home"),
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-cache"),
        "GIT_AUTHOR_NAME": "CI Test",
        "GIT_AUTHOR_EMAIL": "ci@example.test",
        "GIT_COMMITTER_NAME": "CI Test",
        "GIT_COMMITTER_EMAIL": "ci@example.test",
        "GIT_CONFIG_NOSYSTEM": "1",
        **extra,
    }


def run(argv, cwd: Path, env: dict, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, **kwargs)
    if check:
        assert done.returncode == 0, done.stdout + done.stderr
    return done


def git_repo(path: Path, files: dict[str, str], env: dict) -> str:
    """A new git repository holding ``files`` in one commit; returns the commit id."""
    path.mkdir(parents=True)
    run(["git", "init", "-q", "-b", "main"], path, env)
    for name, content in files.items():
        (path / name).write_text(content)
    run(["git", "add", "-A"], path, env)
    run(["git", "commit", "-q", "-m", "initial"], path, env)
    return run(["git", "rev-parse", "HEAD"], path, env).stdout.strip()


# ---------------------------------------------------------------- pre-commit


def test_the_hook_manifest_passes_pre_commits_own_schema():
    from pre_commit.clientlib import load_manifest

    [hook] = load_manifest(str(ROOT / ".pre-commit-hooks.yaml"))
    assert hook["id"] == "trusera" and hook["language"] == "python"
    assert hook["entry"].split()[:2] == ["trusera", "scan"]
    assert hook["pass_filenames"] is False  # the scan reads the whole tree, as staged


def test_a_project_adds_trusera_to_its_pre_commit_config_and_bad_commits_are_refused(tmp_path):
    """``repo:`` names a git repository holding this checkout's manifest at a commit, as a real
    project would name Trusera's; ``language: system`` runs the installed CLI instead of building a
    virtualenv from the network, which is the one thing a config may override for offline use."""
    env = tool_env(tmp_path)
    hooks_repo = tmp_path / "trusera-hooks"
    rev = git_repo(hooks_repo, {".pre-commit-hooks.yaml": (ROOT / ".pre-commit-hooks.yaml").read_text()}, env)
    config = {
        "repos": [{"repo": str(hooks_repo), "rev": rev, "hooks": [{"id": "trusera", "language": "system"}]}]
    }
    project = tmp_path / "project"
    git_repo(project, {"app.py": APP, ".pre-commit-config.yaml": yaml.safe_dump(config)}, env)
    pre_commit = [sys.executable, "-m", "pre_commit"]

    clean = run([*pre_commit, "run", "--all-files"], project, env)
    assert "trusera AI-BOM scan" in clean.stdout and "Passed" in clean.stdout

    run([*pre_commit, "install"], project, env)
    (project / ".env").write_text(f"OPENAI_API_KEY={LIVE_KEY}\n")
    run(["git", "add", ".env"], project, env)
    refused = run(["git", "commit", "-q", "-m", "add a key"], project, env, check=False)
    assert refused.returncode != 0
    output = refused.stdout + refused.stderr
    assert "Failed" in output and "hardcoded_api_key" in output
    assert LIVE_KEY not in output

    (project / ".env").write_text(f"OPENAI_API_KEY={LIVE_KEY}  # trusera:ignore revoked, kept as a fixture\n")
    run(["git", "add", ".env"], project, env)
    accepted = run(["git", "commit", "-q", "-m", "add a revoked key"], project, env)
    assert "Passed" in accepted.stdout + accepted.stderr


# ---------------------------------------------------------------- GitHub Action


def load_action() -> dict:
    return yaml.safe_load((ROOT / "action.yml").read_text())


EXPRESSION = re.compile(r"\$\{\{\s*([^}]+?)\s*\}\}")


def test_the_action_is_composite_and_uses_every_input():
    action = load_action()
    assert action["runs"]["using"] == "composite"
    steps = action["runs"]["steps"]
    text = yaml.safe_dump(steps)
    used = set(re.findall(r"inputs\.([a-z-]+)", text))
    assert used == set(action["inputs"]), "every input is used, and only declared inputs"
    assert {"path", "fail-on", "policy", "baseline", "sarif-file"} <= used
    for step in steps:
        if "run" in step:
            assert step["shell"] == "bash"
            assert "${{" not in step["run"], "inputs reach scripts through env, never pasted into code"
    install = next(step for step in steps if step.get("name") == "Install the Trusera CLI")
    assert install["env"]["TRUSERA_SOURCE"] == "${{ github.action_path }}"
    assert steps.index(install) < steps.index(next(s for s in steps if s.get("id") == "scan"))
    assert "upload-sarif" in action["description"]
    assert action["outputs"]["sarif-file"]["value"] == "${{ steps.scan.outputs.sarif-file }}"


def run_action_scan(
    tmp_path: Path, workspace: Path, **inputs: str
) -> tuple[subprocess.CompletedProcess, dict]:
    """Run the action's scan step as the runner would: inputs resolved into its env, bash, $GITHUB_OUTPUT."""
    action = load_action()
    values = {name: str(spec.get("default", "")) for name, spec in action["inputs"].items()}
    values.update({name.replace("_", "-"): value for name, value in inputs.items()})
    step = next(s for s in action["runs"]["steps"] if s.get("id") == "scan")

    def resolve(match: re.Match) -> str:
        context, _, name = match.group(1).partition(".")
        assert context == "inputs", match.group(0)
        return values[name]

    output_file = tmp_path / "github_output"
    output_file.write_text("")
    env = tool_env(
        tmp_path,
        GITHUB_OUTPUT=str(output_file),
        **{key: EXPRESSION.sub(resolve, str(value)) for key, value in step["env"].items()},
    )
    done = run(["bash", "-e", "-c", step["run"]], workspace, env, check=False)
    outputs = dict(line.split("=", 1) for line in output_file.read_text().splitlines() if "=" in line)
    return done, outputs


def test_the_actions_scan_step_writes_sarif_and_gates(tmp_path):
    workspace = tmp_path / "workspace"
    (workspace / "src").mkdir(parents=True)
    (workspace / "src" / "app.py").write_text(APP)

    done, outputs = run_action_scan(tmp_path, workspace, path="src")
    assert done.returncode == 0, done.stderr
    assert outputs == {"sarif-file": "trusera.sarif"}
    check_export("sarif", (workspace / "trusera.sarif").read_bytes(), components=2)

    (workspace / "src" / ".env").write_text(f"OPENAI_API_KEY={LIVE_KEY}\n")
    done, _ = run_action_scan(tmp_path, workspace, path="src", sarif_file="reports/gate.sarif")
    assert done.returncode == 1  # the job fails, and the SARIF for the upload step is still there
    sarif = check_export("sarif", (workspace / "reports" / "gate.sarif").read_bytes(), components=2)
    assert "hardcoded_api_key" in str(sarif) and LIVE_KEY not in str(sarif)

    done, _ = run_action_scan(tmp_path, workspace, path="src", fail_on="")
    assert done.returncode == 0


def test_the_actions_policy_and_baseline_inputs(tmp_path):
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    (workspace / "app.py").write_text(APP)
    (workspace / "warn.yaml").write_text(
        "name: Models noted\naction: warn\nrules:\n  - condition: {field: type, operator: exists}\n"
    )
    (workspace / "block.yaml").write_text(
        "name: No new providers\naction: block\nrules:\n"
        "  - condition: {field: type, operator: equals, value: llm_provider}\n"
    )
    policies = "warn.yaml\nblock.yaml\n"
    done, _ = run_action_scan(tmp_path, workspace, policy=policies)
    assert done.returncode == 1
    assert (
        "policy 'Models noted' [warn]" in done.stderr and "policy 'No new providers' [block]" in done.stderr
    )

    baseline = workspace / "baseline.json"
    run(["trusera", "scan", ".", "--quiet", "--write-baseline", str(baseline)], workspace, tool_env(tmp_path))
    done, _ = run_action_scan(tmp_path, workspace, policy=policies, baseline="baseline.json")
    assert done.returncode == 0, done.stderr  # nothing is new since the baseline
    sarif = check_export("sarif", (workspace / "trusera.sarif").read_bytes(), components=0)
    assert sarif["runs"][0]["results"] == []


# ---------------------------------------------------------------- GitLab CI


def load_gitlab_job() -> dict:
    return yaml.safe_load((ROOT / "ci" / "gitlab" / "trusera.gitlab-ci.yml").read_text())[".trusera-scan"]


def run_gitlab(tmp_path: Path, workspace: Path, commands: list[str], **variables: str):
    job = load_gitlab_job()
    env = tool_env(tmp_path, **{**job["variables"], **variables})
    return run(["sh", "-e", "-c", "\n".join(commands)], workspace, env, check=False)


def test_the_gitlab_template_keeps_its_junit_report_as_an_artifact_even_on_failure(tmp_path):
    job = load_gitlab_job()
    assert job["artifacts"]["when"] == "always"
    report = job["artifacts"]["reports"]["junit"]
    assert report in job["artifacts"]["paths"]

    workspace = tmp_path / "workspace"
    workspace.mkdir()
    (workspace / "app.py").write_text(APP)
    missing = run_gitlab(tmp_path, workspace, job["before_script"][:1])
    assert missing.returncode != 0 and "set TRUSERA_PACKAGE" in missing.stderr

    done = run_gitlab(tmp_path, workspace, job["script"])
    assert done.returncode == 0, done.stderr
    check_export("junit", (workspace / report).read_bytes(), components=2)

    (workspace / ".env").write_text(f"OPENAI_API_KEY={LIVE_KEY}\n")
    (workspace / "block.yaml").write_text(
        "name: No providers\naction: block\nrules:\n"
        "  - condition: {field: type, operator: equals, value: llm_provider}\n"
    )
    done = run_gitlab(tmp_path, workspace, job["script"], TRUSERA_FAIL_ON="", TRUSERA_POLICY="block.yaml")
    assert done.returncode == 1
    junit = (workspace / report).read_text()
    assert 'name="No providers (block)"' in junit
    check_export("junit", junit.encode(), components=2)
