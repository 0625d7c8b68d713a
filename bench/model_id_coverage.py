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
        'import litellm\n\nresponse = litellm.completion(model="{id}", messages=[{{"role": "user", "content": "hi"}}])\n',
    ),
    "env": (".env", "LLM_API_KEY=\nLLM_MODEL={id}\n"),
    "yaml": ("llm.yaml", "llm:\n  provider: litellm\n  model: {id}\n  temperature: 0.2\n"),
}


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
    args = parser.parse_args()
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
            f"{totals[(provider, c)][0]:>6}/{totals[(provider, c)][1]:<4} {totals[(provider, c)][0] / max(1, totals[(provider, c)][1]):.2f}"
            for c in contexts
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
