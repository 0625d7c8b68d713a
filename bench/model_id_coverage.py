"""Recall of the engine on every provider's published model ids (bench/model_ids.json).

    .venv/bin/python bench/model_id_coverage.py [--missed] [--context NAME ...]

Each id is written into neutral AI-context snippets, one file per id and context (a LiteLLM call's
``model=`` argument in Python, an ``LLM_MODEL=`` line of a ``.env`` file, a ``model:`` key of an
LLM YAML config), the whole set is scanned once, and an id counts as found when a ``model`` component
of its file names it (compared through the catalog's route forms, as the real-world scorer does).
Recall is printed per provider and context; ``--missed`` lists the ids not found. Neutral on purpose:
the corpus measures the contexts real code uses, this measures the grammar of the ids themselves.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from common.scanner import scan_path  # noqa: E402
from common.scanner.catalog import route_forms  # noqa: E402

IDS_FILE = Path(__file__).resolve().parent / "model_ids.json"

CONTEXTS = {
    "python": (
        "app.py",
        (
            "import litellm\n\n"
            'response = litellm.completion(model="{id}", messages=[{{"role": "user", "content": "hi"}}])\n'
        ),
    ),
    "env": (".env", "LLM_API_KEY=\nLLM_MODEL={id}\n"),
    "yaml": ("llm.yaml", "llm:\n  provider: litellm\n  model: {id}\n  temperature: 0.2\n"),
}


# The places code keeps a model id, per language, in each SDK's documented idiom: (file, snippet). Scored
# with ``--forms`` on a sample of ids (FORM_SAMPLE), one tree per form and id.
FORMS = {
    "py call kwarg": (
        "app.py",
        'from openai import OpenAI\n\nOpenAI().chat.completions.create(model="{id}", messages=[])\n',
    ),
    "py dict catalog": ("models.py", 'import openai\n\nMODELS = {{"fast": "{id}", "default": "{id}"}}\n'),
    "py list catalog": ("models.py", 'import openai\n\nSUPPORTED_MODELS = ["{id}"]\n'),
    "py Enum": (
        "models.py",
        'from enum import Enum\n\nimport openai\n\n\nclass ChatModel(str, Enum):\n    FAST = "{id}"\n',
    ),
    "py dataclass default": (
        "config.py",
        (
            "from dataclasses import dataclass\n\nimport openai\n\n\n@dataclass\nclass LLMConfig:\n"
            '    model: str = "{id}"\n'
        ),
    ),
    "py pydantic Field": (
        "settings.py",
        (
            "import openai\nfrom pydantic import BaseModel, Field\n\n\nclass Settings(BaseModel):\n"
            '    model: str = Field(default="{id}")\n'
        ),
    ),
    "py argparse default": (
        "cli.py",
        (
            "import argparse\n\nimport openai\n\nparser = argparse.ArgumentParser()\n"
            'parser.add_argument("--model", default="{id}")\n'
        ),
    ),
    "py getenv default": (
        "config.py",
        'import os\n\nimport openai\n\nMODEL = os.getenv("LLM_MODEL", "{id}")\n',
    ),
    "ts object": (
        "src/llm.ts",
        'import OpenAI from "openai";\n\nconst options = {{ model: "{id}", temperature: 0 }};\n',
    ),
    "ts union type": (
        "src/models.ts",
        'import OpenAI from "openai";\n\nexport type ChatModel = "{id}" | "custom";\n',
    ),
    "ts const array": (
        "src/models.ts",
        'import OpenAI from "openai";\n\nexport const CHAT_MODELS = ["{id}"] as const;\n',
    ),
    "ts zod enum": (
        "src/schema.ts",
        (
            'import OpenAI from "openai";\nimport {{ z }} from "zod";\n\n'
            'export const Model = z.enum(["{id}"]);\n'
        ),
    ),
    "go const": (
        "models.go",
        'package llm\n\nimport "github.com/sashabaranov/go-openai"\n\nconst DefaultModel = "{id}"\n',
    ),
    "go map": (
        "models.go",
        (
            'package llm\n\nimport "github.com/sashabaranov/go-openai"\n\n'
            'var models = map[string]string{{"fast": "{id}"}}\n'
        ),
    ),
    "go struct literal": (
        "chat.go",
        (
            'package llm\n\nimport openai "github.com/sashabaranov/go-openai"\n\n'
            'var req = openai.ChatCompletionRequest{{Model: "{id}"}}\n'
        ),
    ),
    "go switch case": (
        "models.go",
        (
            'package llm\n\nimport "github.com/sashabaranov/go-openai"\n\nfunc window(m string) int {{\n'
            '\tswitch m {{\n\tcase "{id}":\n\t\treturn 128000\n\t}}\n\treturn 0\n}}\n'
        ),
    ),
    "rust const": ("src/models.rs", 'use async_openai::Client;\n\npub const DEFAULT_MODEL: &str = "{id}";\n'),
    "rust serde rename": (
        "src/models.rs",
        (
            "use async_openai::Client;\nuse serde::Serialize;\n\n#[derive(Serialize)]\npub enum Model {{\n"
            '    #[serde(rename = "{id}")]\n    Fast,\n}}\n'
        ),
    ),
    "rust match arm": (
        "src/models.rs",
        (
            "use async_openai::Client;\n\nimpl Model {{\n    pub fn as_str(&self) -> &str {{\n"
            '        match self {{\n            Model::Fast => "{id}",\n        }}\n    }}\n}}\n'
        ),
    ),
    "rust builder": (
        "src/main.rs",
        (
            "use async_openai::types::CreateChatCompletionRequestArgs;\n\nfn main() {{\n"
            '    let request = CreateChatCompletionRequestArgs::default().model("{id}").build();\n}}\n'
        ),
    ),
    "java enum": (
        "src/main/java/app/Model.java",
        (
            "package app;\n\nimport com.openai.client.OpenAIClient;\n\npublic enum Model {{\n"
            '    FAST("{id}");\n    final String id;\n    Model(String id) {{ this.id = id; }}\n}}\n'
        ),
    ),
    "java constant": (
        "src/main/java/app/Config.java",
        (
            "package app;\n\nimport com.openai.client.OpenAIClient;\n\npublic class Config {{\n"
            '    public static final String MODEL = "{id}";\n}}\n'
        ),
    ),
    "java properties": (
        "src/main/resources/application.properties",
        "spring.ai.openai.chat.options.model={id}\n",
    ),
    "kotlin const": (
        "src/main/kotlin/Config.kt",
        'import com.openai.client.OpenAIClient\n\nconst val MODEL = "{id}"\n',
    ),
    "c# const": (
        "Config.cs",
        'using OpenAI.Chat;\n\npublic static class Config\n{{\n    public const string Model = "{id}";\n}}\n',
    ),
    "c# appsettings.json": ("appsettings.json", '{{"OpenAI": {{"Model": "{id}"}}}}\n'),
    "ruby constant": ("lib/llm.rb", 'require "openai"\n\nMODEL = "{id}"\n'),
    "ruby hash": (
        "lib/llm.rb",
        'require "openai"\n\nclient.chat(parameters: {{ model: "{id}", messages: [] }})\n',
    ),
    "yaml config": ("config.yaml", "llm:\n  model: {id}\n"),
    "toml config": ("config.toml", '[llm]\nmodel = "{id}"\n'),
    "json config": ("config.json", '{{"llm": {{"model": "{id}"}}}}\n'),
    ".env": (".env", "LLM_MODEL={id}\n"),
    "terraform variable": ("variables.tf", 'variable "model_id" {{\n  default = "{id}"\n}}\n'),
}
FORM_SAMPLE = (
    "gpt-4o-mini",
    "claude-sonnet-4-5-20250929",
    "gemini-2.5-flash",
    "mistral-large-latest",
    "llama3.1:8b",
    "MiniMax-M2.5",
    "accounts/fireworks/models/yi-large",
    "meta-llama/Llama-3.1-8B-Instruct",
)


def form_recall() -> None:
    """One tree per form and sampled id, so that one form's finding never stands for another's."""
    with tempfile.TemporaryDirectory(prefix="model-forms-") as scratch:
        root = Path(scratch)
        cases = {}
        for f_index, (form, (name, template)) in enumerate(FORMS.items()):
            for i_index, identifier in enumerate(FORM_SAMPLE):
                path = root / f"f{f_index}" / f"m{i_index}" / name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(template.format(id=identifier), encoding="utf-8")
                cases[f"f{f_index}/m{i_index}/{name}"] = (form, identifier, "form")
        found = found_cases(scan_path(scratch, jobs=1), cases)
    for form in FORMS:
        hits = [case[1] for file, case in cases.items() if case[0] == form and file in found]
        misses = [i for i in FORM_SAMPLE if i not in hits]
        print(
            f"{form:<22} {len(hits)}/{len(FORM_SAMPLE)}" + (f"  missed: {' '.join(misses)}" if misses else "")
        )


def forms(identifier: str) -> set[str]:
    return {form.lower() for form in route_forms(identifier)}


def write_cases(root: Path, providers: dict[str, list[str]], contexts: list[str]) -> dict[str, tuple]:
    """{relative file: (provider, id, context)} of the snippets written under ``root``."""
    cases = {}
    for context in contexts:
        name, template = CONTEXTS[context]
        for p_index, (provider, ids) in enumerate(providers.items()):
            for i_index, identifier in enumerate(ids):
                folder = root / context / f"p{p_index}" / f"m{i_index}"
                folder.mkdir(parents=True)
                (folder / name).write_text(template.format(id=identifier), encoding="utf-8")
                cases[f"{context}/p{p_index}/m{i_index}/{name}"] = (provider, identifier, context)
    return cases


def found_cases(result, cases: dict[str, tuple]) -> set[str]:
    found = set()
    for component in result.components:
        if component.type != "model":
            continue
        names = forms(component.name)
        for location in component.locations:
            case = cases.get(location.file)
            if case and forms(case[1]) & names:
                found.add(location.file)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--missed", action="store_true", help="list the ids not found")
    parser.add_argument("--context", action="append", choices=sorted(CONTEXTS), help="default: all")
    parser.add_argument(
        "--forms", action="store_true", help="recall per code form on a sample of ids instead"
    )
    args = parser.parse_args()
    if args.forms:
        form_recall()
        return
    contexts = args.context or list(CONTEXTS)
    providers = json.loads(IDS_FILE.read_text(encoding="utf-8"))["providers"]
    with tempfile.TemporaryDirectory(prefix="model-ids-") as scratch:
        cases = write_cases(Path(scratch), providers, contexts)
        found = found_cases(scan_path(scratch, jobs=1), cases)
    totals: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    missed = defaultdict(list)
    for file, (provider, identifier, context) in cases.items():
        tally = totals[(provider, context)]
        tally[1] += 1
        if file in found:
            tally[0] += 1
        else:
            missed[(provider, context)].append(identifier)
    header = f"{'provider':<22}" + "".join(f"{context:>16}" for context in contexts)
    print(header)
    for provider in providers:
        cells = "".join(
            f"{hit:>6}/{total:<4} {hit / max(1, total):.2f}"
            for hit, total in (totals[(provider, c)] for c in contexts)
        )
        print(f"{provider:<22}{cells}")
    for context in contexts:
        hit = sum(totals[(p, context)][0] for p in providers)
        total = sum(totals[(p, context)][1] for p in providers)
        print(f"total {context}: {hit}/{total} = {hit / max(1, total):.3f}")
    if args.missed:
        for (provider, context), ids in sorted(missed.items()):
            print(f"missed {context} {provider}: {' '.join(ids)}")


if __name__ == "__main__":
    main()
