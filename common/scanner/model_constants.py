"""Model catalogs in code, across files: constants referenced from elsewhere, and the project gate.

A model catalog in code (``pub const GPT_4O: &str = "gpt-4o";``, a Java enum ``GPT_4O("gpt-4o")``) is
found by the detector of the file that defines it; the files that use it only name the constant
(``openai::GPT_4O``, ``Models.GPT_4O``). Detectors see one file at a time, so they leave the definitions
in ``FileFacts.model_constants`` and this module, run by every scan (not only deep mode), finds the first
line of each file of the same language that names such a constant, and reports the id it stands for there.

Catalog literals seen without any SDK in the file (``evidence: catalog literal``) count only in a project
that uses AI somewhere else: a string that happens to spell a model id in a project with no AI SDK,
endpoint, MCP server, AI cloud resource or configured model (a classic ML library is not enough) is not
an inventory item.
"""

from __future__ import annotations

import io
import os
import re
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable
from itertools import accumulate
from pathlib import Path

from common.scanner.detectors.base import Finding, model_sighting, open_regular_file
from common.scanner.facts import FileFacts
from common.scanner.lazy import lazy_re
from common.scanner.limits import linear
from common.scanner.model import Location
from common.scanner.textutil import model_finding

CATALOG_LITERAL = "catalog literal"
# a tool found only as a key of the project's own name-to-function registry: it says the project runs tools
# for a model, not that the project reaches one, so it lends no support to catalog literals elsewhere
TOOL_REGISTRY_ENTRY = "tool registry entry"
# a tool found only in a request body a file posts to an LLM API's route by raw HTTP (no SDK, no known
# endpoint): it shows that file's AI use, as the model ids of the same file count there, not the project's
RAW_LLM_REQUEST = "raw llm request"
# files whose code can name a constant defined in another file of the same language family
LANGUAGE_FAMILIES = (
    (".rs",),
    (".go",),
    (".java", ".kt", ".kts", ".scala"),
    (".js", ".mjs", ".cjs", ".jsx", ".ts", ".mts", ".cts", ".tsx"),
    (".py",),
    (".rb",),
    (".cs",),
)
COMMENT_PREFIXES = ("//", "#", "/*", "*", "--")
MAX_REFERENCE_BYTES = 64 * 1024 * 1024  # what one scan may re-read to resolve references


FAMILY_OF_SUFFIX = {suffix: family for family in LANGUAGE_FAMILIES for suffix in family}
QUALIFIER = re.compile(r"(\w+)(?:\.|::)$")
# how far before a reference its qualifier is looked for: ``QUALIFIER`` tries every start in a word that
# is not followed by ``.``, so a long word before the reference made the search quadratic in the line, and
# this pass runs after the files' own, outside the per-file CPU budget
MAX_QUALIFIER_CHARS = 200


def _family(relpath: str) -> tuple[str, ...] | None:
    """The family of ``os.path.splitext(relpath)[1].lower()``, worked out on the file name without
    ``splitext``'s generic layers (every walked path is asked): its leading dots are part of the name,
    so ``.py`` or ``..py`` has no suffix."""
    name = relpath[relpath.rfind("/") + 1 :]
    dot = name.rfind(".")
    if dot <= 0 or not name[:dot].strip("."):
        return None
    return FAMILY_OF_SUFFIX.get(name[dot:].lower())


def _definitions(facts: dict[str, FileFacts]) -> dict[tuple[str, ...], dict[str, dict[str, str]]]:
    """Language family -> constant name -> {defining file: value}."""
    found: dict[tuple[str, ...], dict[str, dict[str, str]]] = defaultdict(lambda: defaultdict(dict))
    for relpath, file_facts in facts.items():
        family = _family(relpath)
        if family:
            for name, value in file_facts.model_constants.items():
                found[family][name][relpath] = value
    return found


def _value_for(name: str, owners: dict[str, str], qualifier: str) -> str | None:
    """The constant's value; where files define it differently, the one whose path holds the
    qualifier the reference names it through (``openai::GPT_4O`` -> ``providers/openai.rs``)."""
    values = set(owners.values())
    if len(values) == 1:
        return next(iter(values))
    if qualifier:
        matching = {value for path, value in owners.items() if qualifier.lower() in path.lower()}
        if len(matching) == 1:
            return next(iter(matching))
    return None


def referenced_constants(
    base: Path,
    relpaths: list[str],
    facts: dict[str, FileFacts],
    skip: Callable[[Path, str, str], bool] | None = None,
    real_base: str | None = None,
) -> list[Finding]:
    """One model sighting per (file, constant) at the first non-comment line naming a constant that
    another file of the same language defines as a catalog model id; none in a file ``skip`` (given
    the file's path, relpath and text) rules out (a test whose requests reach a stub). Reads stay in
    ``real_base``, ``base``'s real path as the scan resolved it (resolved again here, a folder replaced
    by a link since would lead the reads out of the target)."""
    definitions = _definitions(facts)
    if not definitions:
        return []
    added: list[Finding] = []
    budget = MAX_REFERENCE_BYTES
    of_family: dict[tuple[str, ...] | None, list[str]] = defaultdict(list)
    for relpath in relpaths:
        of_family[_family(relpath)].append(relpath)
    real_base = real_base or os.path.realpath(base)
    for family, constants in definitions.items():
        names = "|".join(sorted(map(re.escape, constants), key=len, reverse=True))
        pattern = re.compile(rf"\b({names})\b")
        gate = _ascii_gate(constants, names)
        for relpath in of_family[family]:
            if budget <= 0:
                break
            try:  # a string path: most files are read once by the gate and never need a ``Path``
                text, length = _gated_text(os.path.join(base, relpath), real_base, budget, gate)
            except OSError:
                continue
            budget -= length
            if text is None or (skip is not None and skip(base / relpath, relpath, text)):
                continue
            if gate is None:
                added.extend(_references_in(relpath, text, pattern, constants))
                continue
            lines = _lines_with_hits(text, gate)
            if lines:
                added.extend(_references_in(relpath, text, pattern, constants, lines))
    return added


def _gated_text(path: str | Path, real_base: str, budget: int, gate) -> tuple[str | None, int]:
    """The file's text as ``open(..., "r", encoding="utf-8", errors="replace").read(budget)`` reads it
    and its length, or None and that length when ``gate`` finds nothing in its bytes: most files name no
    constant, and they are then neither decoded nor encoded again for RE2. The gate's names are ASCII
    identifiers, and decoding keeps every ASCII byte as its character (an invalid sequence never takes
    one in), turns no ASCII byte into another and ends lines with ``\n`` instead of ``\r\n`` or ``\r``,
    none of them a word character: the gate matches the bytes exactly where it matches the text. A
    file that holds more than ``budget`` bytes is read as text from the start, as before."""
    with open_regular_file(path, "rb", root=real_base) as file:
        expected = min(os.fstat(file.fileno()).st_size, budget)  # a read's buffer is its size, allocated
        data = file.read(expected + 1)
        if gate is None or len(data) > expected:  # characters never outnumber bytes: a text of ``budget``
            file.seek(0)  # characters may be cut short only past ``budget`` bytes (or the file grew)
            text = _decoded(file, budget)
            return text, len(text)
    if gate.search(data) is not None:
        text = _decoded(io.BytesIO(data), budget)
        return text, len(text)
    if data.isascii():  # each ``\r\n`` becomes one ``\n``
        return None, len(data) - data.count(b"\r\n")
    return None, len(_decoded(io.BytesIO(data), budget))


def _decoded(raw, budget: int) -> str:
    return io.TextIOWrapper(raw, encoding="utf-8", errors="replace").read(budget)


def _lines_with_hits(text: str, gate) -> dict[int, str]:
    """Line number -> line (``str.splitlines``' lines and numbering) of the lines holding a match of
    ``gate``, in order: every line where the ``re`` pattern matches is among them, since the gate finds
    a superset of its matches and no name spans lines. Python walks only these lines, not every line."""
    starts = [match.start() for match in gate.finditer(text)]
    if not starts:
        return {}
    lines = text.splitlines()
    ends = list(accumulate(map(len, text.splitlines(keepends=True))))
    found: dict[int, str] = {}
    for start in starts:
        index = bisect_right(ends, start)
        found[index + 1] = lines[index]
    return found


ASCII_IDENTIFIER = re.compile(r"[A-Za-z0-9_]+")


def _ascii_gate(constants, names: str):
    """An RE2 pre-check that finds every text the ``re`` pattern would (Python's alternation of many
    names backtracks through each of them at every position; RE2 does not). RE2's word boundary is
    ASCII, so it is a superset only when every name is an ASCII identifier; otherwise ``None``."""
    if not all(ASCII_IDENTIFIER.fullmatch(name) for name in constants):
        return None
    return linear(rf"\b(?:{names})\b")


BRACE = lazy_re(r"[{}]")
# ``#[cfg(test)]``, other attributes, then ``mod tests {``
RUST_TEST_MODULE = lazy_re(
    r"#\[cfg\(test\)\]\s*(?:#\[[^\]\n]{0,200}\]\s*){0,5}(?:pub(?:\([^)]*\))?\s+)?mod\s+\w+\s*\{"
)


def rust_test_module_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of a Rust file's ``#[cfg(test)] mod tests { ... }`` blocks. Each brace is read
    once: a module inside one already measured is not measured again."""
    return _braced_spans(RUST_TEST_MODULE, text)


def _braced_spans(opening, text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of each match of ``opening`` (ending at its ``{``) to its closing brace; a match
    inside a block already measured (or after an unclosed one) is not measured again."""
    spans: list[tuple[int, int]] = []
    end = 0
    for match in opening.finditer(text):
        if match.start() < end:
            continue
        depth, end = 0, len(text)
        for brace in BRACE.finditer(text, match.end() - 1):
            depth += 1 if brace.group() == "{" else -1
            if depth == 0:
                end = brace.start()
                break
        spans.append((match.start(), end))
    return spans


# ``#[test]``/``#[tokio::test]``/``#[async_std::test(...)]``, other attributes, then the function it marks
RUST_TEST_FUNCTION = lazy_re(
    r"#\[(?:\w+::)?test\b[^\]\n]{0,200}\]\s*(?:#\[[^\]\n]{0,200}\]\s*){0,5}"
    r"(?:pub(?:\([^)]*\))?\s+)?(?:async\s+)?fn\s+\w+[^{;]{0,400}\{"
)


def rust_test_function_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of a Rust file's test functions (``#[test] fn x() { ... }``), each brace read
    once (test functions do not nest)."""
    return _braced_spans(RUST_TEST_FUNCTION, text)


def span_lines(text: str, start: int, end: int) -> range:
    """The 1-based lines from offset ``start`` to ``end``."""
    first = text.count("\n", 0, start) + 1
    return range(first, first + text.count("\n", start, end) + 1)


def rust_test_module_lines(text: str) -> set[int]:
    """1-based lines of a Rust file's ``#[cfg(test)]`` modules: unit tests, whose arguments are test
    input, not the model the program uses (integration tests under ``tests/`` are programs of their own
    and still count)."""
    lines: set[int] = set()
    for start, end in rust_test_module_spans(text):
        lines.update(span_lines(text, start, end))
    return lines


def _quoted_text(line: str, start: int) -> bool:
    """Whether the name at ``start`` is words inside a double-quoted string (``.description("Ada,
    Davinci1")``), not a reference: an odd number of unescaped quotes before it, and no interpolation
    (``{``, ``$``) opened in the string before it (``f"{config.MODEL}"`` is one)."""
    before = line[:start]
    quotes = before.count('"') - before.count('\\"')
    text = before[before.rfind('"') + 1 :]
    return quotes % 2 == 1 and "{" not in text and "$" not in text


# a Rust ``use`` declaration, one or many lines (``pub use config::{\n    DEFAULT_MODEL,\n};``)
RUST_USE = linear(r"^[ \t]*(?:pub(?:\([^)\n]{0,40}\))?[ \t]+)?use\b[^;]*;", re.MULTILINE)


def rust_use_lines(text: str) -> set[int]:
    """Lines of a Rust file's ``use`` declarations."""
    return {n for m in RUST_USE.finditer(text) for n in span_lines(text, m.start(), m.end())}


def _references_in(
    relpath: str, text: str, pattern: re.Pattern, constants, lines: dict[int, str] | None = None
) -> list[Finding]:
    """The sightings in ``text``; ``lines`` (from ``_lines_with_hits``), when given, are the only lines
    that can hold one. A Rust constant named only by ``use`` declarations (a module re-exporting it)
    is not used there."""
    found: list[Finding] = []
    if not (pattern.search(text) if lines is None else any(map(pattern.search, lines.values()))):
        return found
    seen: set[str] = set()
    rust = relpath.endswith(".rs")
    skipped = rust_test_module_lines(text) if rust and "#[cfg(test)]" in text else set()
    imports = rust_use_lines(text) if rust and "use " in text else set()
    numbered = list(lines.items() if lines is not None else enumerate(text.splitlines(), start=1))
    used = {
        match.group(1)
        for number, line in numbered
        if number not in imports and number not in skipped and not line.lstrip().startswith(COMMENT_PREFIXES)
        for match in pattern.finditer(line)
    }
    for number, line in numbered:
        if number in skipped or line.lstrip().startswith(COMMENT_PREFIXES):
            continue
        for match in pattern.finditer(line):
            name = match.group(1)
            owners = constants[name]
            if name in seen or name not in used or relpath in owners or _quoted_text(line, match.start(1)):
                continue
            seen.add(name)
            qualifier = QUALIFIER.search(line, max(0, match.start() - MAX_QUALIFIER_CHARS), match.start())
            value = _value_for(name, owners, qualifier.group(1) if qualifier else "")
            model = model_finding(value, number, strong=False, hf_context=False) if value else None
            if model:
                location = Location(file=relpath, line=number, snippet=line.strip()[:200])
                found.append(
                    model_sighting(model, location, "constants", resolved_from=name, evidence=CATALOG_LITERAL)
                )
    return found


# what shows that a project uses AI models: not a classic ML library, a model file, or a model id that
# only a code constant or literal names
NOT_EVIDENCE_OF_AI_USE = frozenset({"ml_framework", "model_file"})
CONFIGURED_MODEL_DETECTORS = frozenset({"config", "iac", "containers", "n8n", "github_actions"})
# runtimes whose job is to load a named pretrained model (from a hub or a local file): a project that
# imports one uses models, unlike one that trains its own with torch or scikit-learn
MODEL_RUNTIMES = frozenset(
    {
        "transformers",
        "sentence-transformers",
        "diffusers",
        "vllm",
        "llama-cpp-python",
        "gpt4all",
        "mlx",
        "ctransformers",
        "optimum",
        "sglang",
        "tensorrt-llm",
        "exllamav2",
        "faster-whisper",
        "openai-whisper",
        "open-clip",
        "unsloth",
        "flagembedding",
        "instructor-embedding",
        "setfit",
    }
)


def _shows_ai_use(finding: Finding) -> bool:
    if finding.metadata.get("evidence") in (TOOL_REGISTRY_ENTRY, RAW_LLM_REQUEST):
        return False
    if finding.type == "model":
        return finding.detector in CONFIGURED_MODEL_DETECTORS and finding.metadata.get("evidence") is None
    if finding.type == "ml_framework":
        return finding.name in MODEL_RUNTIMES
    return finding.type not in NOT_EVIDENCE_OF_AI_USE


def without_unsupported_catalog_literals(findings: list[Finding]) -> list[Finding]:
    """Drop catalog literals found without an SDK when nothing else in the project shows AI use."""
    literals = [f for f in findings if f.metadata.get("evidence") == CATALOG_LITERAL]
    if not literals or any(_shows_ai_use(f) for f in findings):
        return findings
    return [f for f in findings if f.metadata.get("evidence") != CATALOG_LITERAL]
