"""GitHub Actions workflows that run AI agents or models.

A step (or a job calling a reusable workflow) is an AI component when its action is a known AI action,
or when it hands the action an AI credential (``anthropic_api_key: ${{ secrets.… }}``): whatever the
action is, it then runs a model. A credential written into an input's text (``env_vars: |`` lines,
``KEY=${{ secrets.… }}``), or carried by a deploy action's step (a Vercel or serverless deploy given
``OPENAI_API_KEY`` in its ``env:``), is forwarded to what the step deploys, not used by the step. A ``run:``
script that starts an agent CLI in print mode (``claude -p``, ``codex exec``, ``gemini -p``) counts
too. The component is named after the action reference as written, without its version.

The models a workflow chooses are ``model`` components: an agent CLI's ``--model`` (in a script or an
action's ``claude_args``), ``llm -m``/``aider -m``, ``ollama run|pull``, ``gh models run``, and a
``model`` field a script sends to an API; and the AI APIs a script calls (``curl
https://api.anthropic.com/v1/messages``) are ``endpoint`` components. Only ids the catalog or a
provider's naming grammar knows count there, and only known AI hosts.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

from common.scanner.catalog import load_json
from common.scanner.detectors.base import Detector, FileReport, Finding, SourceFile
from common.scanner.lazy import lazy_re
from common.scanner.limits import linear
from common.scanner.textutil import endpoint_for_url, hf_url_models, model_finding

USES = lazy_re(r"""^(\s*)(?:-\s+)?uses:\s*["']?([^\s"'@#]+)""")
WORKFLOW_JOBS = lazy_re(r"^jobs:\s*$", re.MULTILINE)
KEY_INPUT = lazy_re(r"""^\s*([A-Za-z][\w-]{0,60})\s*:""")
RUN_KEY = lazy_re(r"""^(\s*)(?:-\s+)?run:\s*(.*)$""")
SHELL_MESSAGE = lazy_re(r"""^\s*(?:echo|printf)\b""")
BLOCK_SCALAR = lazy_re(r"""^(\s*)(?:-\s+)?[\w.-]+:\s*[|>][+-]?\d?\s*(?:#.*)?$""")
MODEL_ID = r"""["']?([A-Za-z0-9][\w.:/@-]{1,119})"""
# an agent CLI's ``--model`` anywhere in a step: its script or an input that passes CLI arguments
MODEL_OPTION = linear(r"""(?:^|[\s"'(])--model(?:=|\s+)""" + MODEL_ID)
# in a script: ``llm -m``/``aider -m``, ``ollama run|pull``, ``gh models run``, and the ``model`` field of
# a request body or a jq argument (``-d '{"model": "gpt-4o"}'``, ``--arg model "claude-…"``, ``MODEL=…``),
# also as a shell default (``MODEL="${MODEL:-gpt-4o}"``)
SCRIPT_MODEL = linear(
    r"""(?:\b(?:llm|aider)\s(?:[^\n]*\s)?-m\s+|\bollama\s+(?:run|pull)\s+|\bgh\s+models\s+run\s+|"""
    r"""--arg\s+model\s+|(?:^|[^A-Za-z0-9])(?i:model)(?:_?(?i:name|id))?["']?\s*[:=]\s*"""
    r"""(?:["']?\$\{[A-Za-z_]\w*:?-)?)""" + MODEL_ID
)
SCRIPT_URL = linear(r"""https?://[^\s'"`<>]+""")
# a file the script downloads (an installer, an archive) is no API it calls
DOWNLOADED_FILE = linear(r"""/[^/?#]+\.[A-Za-z0-9]{1,5}(?:[?#].*)?$""")


REFERENCE_WORDS = re.compile(r"[^a-z]+")


@dataclass(frozen=True)
class Rules:
    actions: dict[str, str]
    key_inputs: dict[str, str]
    commands: tuple[tuple[re.Pattern, str, str], ...]
    secret_vars: dict[str, str]
    deploy_words: frozenset[str]
    ai_words: frozenset[str]

    def deploys(self, reference: str) -> bool:
        """A deploy, hosting or remote-execution action (``serverless/github-action``,
        ``amondnet/vercel-action``, ``appleboy/ssh-action``): the credentials its step carries are the
        deployed application's. A reference that also names AI (``some/gpt-deploy-review``) is not one."""
        words = set(REFERENCE_WORDS.split(reference.lower()))
        return bool(words & self.deploy_words) and not words & self.ai_words

    def action_provider(self, reference: str) -> str | None:
        """A listed action, also through one of its sub-actions (``owner/repo/base-action``)."""
        lowered = reference.lower()
        if lowered in self.actions:
            return self.actions[lowered]
        parts = lowered.split("/")
        return (
            self.actions.get("/".join(parts[:2])) if len(parts) > 2 and not lowered.startswith(".") else None
        )


@cache
def rules() -> Rules:
    data = load_json("github_actions.json")
    return Rules(
        actions={k.lower(): v for k, v in data["actions"].items()},
        key_inputs={k.lower(): v for k, v in data["key_inputs"].items()},
        commands=tuple((re.compile(c["regex"]), c["provider"], c["name"]) for c in data["commands"]),
        secret_vars={k.upper(): v for k, v in data["secret_vars"].items()},
        deploy_words=frozenset(data["deploy_words"]),
        ai_words=frozenset(data["ai_words"]),
    )


SECRET_REFERENCE = re.compile(r"\bsecrets\.([A-Za-z_][A-Za-z0-9_]*)")
# ``NAME=${{ secrets.X }}`` inside an input's text (a deploy action's ``env_vars``, a build's
# ``build-args``): the credential is forwarded to what the step deploys or builds, which the step
# itself does not run
FORWARDED_SECRET = linear(r"[A-Za-z_][A-Za-z0-9_]*=\s*\$\{\{\s*$")
# ``envs: OPENAI_API_KEY,DB_URL``: the environment variables a remote-execution step (an SSH deploy)
# passes on to the host it deploys to; a credential bound to one of them is forwarded, not used
FORWARDED_ENV_NAMES = linear(r"^\s*envs:\s*[\"']?([A-Za-z_][\w, ]*)")
# a script line that a backslash continues onto the next (``copilot \`` / ``--prompt "…"``)
CONTINUED = linear(r"\\\s*$")
MAX_CONTINUATION = 20


def step_lines(lines: list[str], at: int, key_indent: int) -> list[str]:
    """The lines of the step whose key at column ``key_indent`` sits on line index ``at``: back to the
    step's ``- `` and on until a line is indented less than the step's keys."""
    first = at
    if not lines[at].lstrip().startswith("- "):
        for index in range(at - 1, -1, -1):
            stripped = lines[index].lstrip()
            if not stripped or stripped.startswith("#"):
                continue
            indent = len(lines[index]) - len(stripped)
            if stripped.startswith("- ") and indent == key_indent - 2:
                first = index
                break
            if indent < key_indent:
                break
    last = at + 1
    while last < len(lines):
        stripped = lines[last].lstrip()
        if stripped and not stripped.startswith("#") and len(lines[last]) - len(stripped) < key_indent:
            break
        last += 1
    return lines[first:last]


def block_text_lines(lines: list[str]) -> set[int]:
    """Indices of the lines inside YAML block scalars (``run: |``, ``prompt: |``, ``script: >``): text,
    where a ``uses:`` (a workflow shown in a prompt, written by a heredoc) is no step."""
    found: set[int] = set()
    index = 0
    while index < len(lines):
        match = BLOCK_SCALAR.match(lines[index])
        index += 1
        if not match:
            continue
        key_indent = len(lines[index - 1]) - len(lines[index - 1].lstrip())
        key_indent += len(lines[index - 1].lstrip()) - len(
            lines[index - 1].lstrip().removeprefix("- ").lstrip()
        )
        while index < len(lines):
            stripped = lines[index].lstrip()
            if stripped and len(lines[index]) - len(stripped) <= key_indent:
                break
            found.add(index)
            index += 1
    return found


def script_lines(lines: list[str]) -> set[int]:
    """Indices of the lines that a step's ``run:`` executes (the ``run:`` line itself, and the lines of
    a ``run: |`` block), less the ``echo``/``printf`` lines that only print. A step's name, a prompt
    or a condition that mentions an agent CLI runs nothing."""
    found: set[int] = set()
    index = 0
    while index < len(lines):
        match = RUN_KEY.match(lines[index])
        index += 1
        if not match:
            continue
        value = match.group(2).strip()
        if value and not value.startswith(("|", ">")):
            if not SHELL_MESSAGE.match(value):
                found.add(index - 1)
            continue
        run_indent = lines[index - 1].index("run:")
        while index < len(lines):
            stripped = lines[index].lstrip()
            if stripped and len(lines[index]) - len(stripped) <= run_indent:
                break
            if stripped and not stripped.startswith("#") and not SHELL_MESSAGE.match(stripped):
                found.add(index)
            index += 1
    return found


def is_workflow(relpath: str) -> bool:
    return relpath.startswith(".github/workflows/") or "/.github/workflows/" in relpath


class GitHubActionsDetector(Detector):
    name = "github_actions"

    def applies_to(self, file: SourceFile) -> bool:
        return file.suffix in (".yml", ".yaml")

    def detect(self, file: SourceFile, report: FileReport) -> Iterator[Finding]:
        """Workflows under .github/workflows, and workflow files kept elsewhere (templates, examples)."""
        if not is_workflow(file.relpath) and not (
            WORKFLOW_JOBS.search(file.text) and "runs-on:" in file.text
        ):
            return
        lines = file.lines
        known = rules()
        scripts = script_lines(lines)
        text_lines = block_text_lines(lines) if "|" in file.text or ">" in file.text else set()
        for number, raw in enumerate(lines, start=1):
            match = USES.match(raw) if number - 1 not in text_lines else None
            if match:
                reference = match.group(2)
                provider = known.action_provider(reference) or (
                    None if known.deploys(reference) else self.key_provider(lines, number, raw.index("uses"))
                )
                if provider:
                    yield self.finding(file, number, reference, provider)
                continue
            if raw.lstrip().startswith("#"):
                continue
            script = number - 1 in scripts
            yield from self.models(file, number, raw, script)
            if not script:
                continue
            command = self.logical_line(lines, number - 1, scripts) if raw.rstrip().endswith("\\") else raw
            for pattern, provider, cli in known.commands:
                if pattern.search(command):
                    yield self.finding(file, number, cli, provider, kind="command")
            if "http" in raw:
                for url in SCRIPT_URL.findall(raw):
                    endpoint = None if DOWNLOADED_FILE.search(url) else endpoint_for_url(url, any_host=False)
                    if endpoint:
                        yield self.endpoint_finding(file, number, endpoint)

    @staticmethod
    def logical_line(lines: list[str], index: int, scripts: set[int]) -> str:
        """The script line at ``index`` with the lines its trailing backslashes continue it onto."""
        parts = [lines[index]]
        while CONTINUED.search(parts[-1]) and len(parts) <= MAX_CONTINUATION:
            index += 1
            if index >= len(lines) or index not in scripts:
                break
            parts.append(lines[index])
        return " ".join(part.rstrip().removesuffix("\\") for part in parts)

    def models(self, file: SourceFile, number: int, raw: str, script: bool) -> Iterator[Finding]:
        """The catalog model ids line ``number`` chooses: ``--model`` on any line, the script forms on
        the lines a ``run:`` executes."""
        lowered = raw.lower()
        candidates = MODEL_OPTION.findall(raw) if "--model" in lowered else []
        if script and ("model" in lowered or "ollama" in lowered or " -m " in raw):
            candidates += SCRIPT_MODEL.findall(raw)
        seen = set()
        if script:  # ``curl -LO https://huggingface.co/<org>/<model>/resolve/main/x.gguf``
            for _, model in hf_url_models(raw):
                found = model_finding(model, number, strong=False, hf_context=True)
                if found and found[0] not in seen:
                    seen.add(found[0])
                    yield self.model_at(file, number, found, workflow_file=file.relpath)
        for value in candidates:
            found = model_finding(value, number, strong=False, hf_context=False)
            if found and found[0] not in seen:
                seen.add(found[0])
                yield self.model_at(file, number, found, workflow_file=file.relpath)

    @staticmethod
    def key_provider(lines: list[str], start: int, key_indent: int) -> str | None:
        """The provider of an AI credential handed to the step whose ``uses:`` key is on line
        ``start`` (1-based) at column ``key_indent``: an AI-named input (``anthropic_api_key:``) or a
        secret named after an AI credential (``api_key: ${{ secrets.OPENAI_API_KEY }}``, also in the
        step's ``env:``), before or after ``uses:`` within the step."""
        known = rules()
        step = step_lines(lines, start - 1, key_indent)
        forwarded = block_text_lines(step)
        passed_on = {
            name.strip().upper()
            for raw in step
            if (names := FORWARDED_ENV_NAMES.match(raw))
            for name in names.group(1).split(",")
        }
        for index, raw in enumerate(step):
            if raw.lstrip().startswith("#") or index in forwarded:
                continue
            match = KEY_INPUT.match(raw.replace("- ", "  ", 1))
            if match and match.group(1).upper() in passed_on:
                continue
            if match and match.group(1).lower() in known.key_inputs:
                return known.key_inputs[match.group(1).lower()]
            for secret in SECRET_REFERENCE.finditer(raw):
                if secret.group(1).upper() in known.secret_vars and not FORWARDED_SECRET.search(
                    raw[: secret.start()]
                ):
                    return known.secret_vars[secret.group(1).upper()]
        return None

    def finding(
        self, file: SourceFile, line: int, reference: str, provider: str, kind: str = "action"
    ) -> Finding:
        return self.located(
            file,
            line,
            "workflow",
            reference,
            provider,
            key_name=reference.lower(),
            metadata={"kind": f"github_{kind}", "workflow_file": file.relpath},
        )
