"""Hard-coded AI provider credentials in any text file.

The key itself never leaves this module: a finding carries the masked value and
a sha256 (so the same key in two files is one credential). Placeholders
(``sk-...``, ``your-key-here``, ``xxx``, ``${ENV}``) and low-entropy strings are
not findings. The credential is attached to its provider component
(``llm_provider:openai``) with the ``hardcoded_api_key`` flag.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterator
from functools import cache
from itertools import accumulate

from common.scanner.catalog import load_json, lookup_package, patterns
from common.scanner.detectors.base import Detector, FileReport, Finding, SourceFile
from common.scanner.keys import component_key
from common.scanner.limits import BoundedPattern, linear
from common.scanner.model import Location
from common.scanner.textutil import YamlParents, mask_secret, secret_hash

SKIPPED_SUFFIXES = (".lock", ".min.js", ".pem", ".crt")
SKIPPED_NAMES = {"package-lock.json", "yarn.lock", "pnpm-lock.yaml", "poetry.lock", "go.sum", "Cargo.lock"}


@cache
def _binary_suffixes() -> frozenset[str]:
    return frozenset(patterns()["binary_suffixes"])


def entropy(value: str) -> float:
    counts = Counter(value)
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())


@cache
def _rules():
    data = load_json("secrets.json")
    prefixed = [(BoundedPattern(rule["pattern"], "A-Za-z0-9_-"), rule) for rule in data["prefixed"]]
    contextual = [
        (
            linear(
                r"(?:"
                + rule["name"]
                + r")[\"']?\s*(?:=|:|=>)\s*[\"']?("
                + rule["value"]
                + r")(?:[^A-Za-z0-9]|$)"
            ),
            rule,
        )
        for rule in data["contextual"]
    ]
    return (
        prefixed,
        contextual,
        tuple(data["quick_markers"]),
        data["placeholder_markers"],
        data["min_entropy"],
    )


def _any_marker():
    """The quick markers as one RE2 alternation: a text without any is then read once, not once per
    marker (a literal alternation matches exactly where one of the markers is a substring)."""
    return marker_alternation(_rules()[2])


@cache
def marker_alternation(markers: tuple[str, ...]):
    """``markers`` as one RE2 alternation of literals."""
    return linear("|".join(map(re.escape, markers)))


def _occurrences(text: str, marker: str) -> Iterator[int]:
    at = text.find(marker)
    while at >= 0:
        yield at
        at = text.find(marker, at + 1)


def marked_lines(text: str, markers: tuple[str, ...]) -> list[int]:
    """The numbers of the lines (as ``str.splitlines`` cuts them) that hold a quick marker, found by one
    pass of the markers' alternation over the whole text instead of a search per line, or a ``str.find``
    pass per marker (a marker is a literal without a line break, so it sits inside one line, and one that
    a match passes over without starting there overlaps that match, in the same line). One marker alone is
    looked for by ``str.find``, which needs no encoding of the text. Lines are cut only up to the last
    marker: the text to there ends inside a marker, not in a line break, so its lines are the whole
    text's."""
    if len(markers) == 1:
        offsets = list(_occurrences(text, markers[0]))
    else:
        offsets = [match.start() for match in marker_alternation(markers).finditer(text)] if markers else []
    if not offsets:
        return []
    ends = list(accumulate(map(len, text[: max(offsets) + 1].splitlines(keepends=True))))
    return sorted({bisect_right(ends, at) + 1 for at in offsets})


# the variable a key is assigned to: ``GEMINI_API_KEY=``, ``"apiKey": "``, ``api_key => '``
ASSIGNED_NAME = linear(r"""["']?([A-Za-z_][\w.-]*)["']?\s*(?:=|:|=>)\s*["']?$""")
# Google API keys (AIza…) serve every Google API; the variable name tells an AI key from a Maps one
SHARED_KEY_PREFIX = linear(r"AIza")
NOT_AI_SERVICE = linear(
    r"MAPS|FIREBASE|YOUTUBE|PLACES|GEOCOD|RECAPTCHA|ANALYTICS|CALENDAR|DRIVE|SHEETS|TRANSLATE"
)
# what only a Firebase web config (``firebaseConfig = { apiKey, authDomain, ... }``), an Android
# ``google-services.json`` (``"current_key"``) or an iOS ``GoogleService-Info.plist`` (``GCM_SENDER_ID``,
# ``GOOGLE_APP_ID``) holds beside its ``AIza`` key: that key is the app's
# Firebase key, however generically it is named (``apiKey``)
FIREBASE_CONFIG = linear(
    r"authDomain|auth_domain|messagingSenderId|messaging_sender_id|firebaseapp\.com|current_key"
    r"|GCM_SENDER_ID|GOOGLE_APP_ID"
)
FIREBASE_CONFIG_LINES = 8  # a config object's fields sit within a few lines of its key
YAML_SUFFIXES = (".yml", ".yaml")


def in_firebase_config(lines: list[str], number: int) -> bool:
    """Whether line ``number`` (1-based) sits among a Firebase config's fields."""
    window = lines[max(0, number - 1 - FIREBASE_CONFIG_LINES) : number + FIREBASE_CONFIG_LINES]
    return any(FIREBASE_CONFIG.search(line) for line in window if len(line) <= 5000)


@cache
def section_vendors() -> dict[str, tuple[str, str]]:
    """Configuration key or section name -> (provider id, provider) for the vendors whose keys share
    the legacy OpenAI shape."""
    return {name: (pair[0], pair[1]) for name, pair in load_json("secrets.json")["sections"].items()}


def yaml_parent_keys(lines: list[str]) -> list[list[str]]:
    """For each line of a YAML file, the keys it sits under (one pass over the file)."""
    parents = YamlParents()
    found = []
    for line in lines:
        parents.see(line)
        found.append(parents.current)
    return found


VARIABLE_WORDS = re.compile(r"[._-]")


def section_vendor(variable: str, parent_keys: list[str]) -> tuple[str, str] | None:
    """The vendor the nearest word of a credential's configuration path names: the words of its own
    key (``MOONSHOT_API_KEY``, ``spring.ai.moonshot.api-key``), then the YAML keys it sits under."""
    vendors = section_vendors()
    path = [*parent_keys, *VARIABLE_WORDS.split(variable)]
    for part in reversed(path):
        vendor = vendors.get(part.lower())
        if vendor:
            return vendor
    return None


@cache
def provider_variables() -> dict[str, str]:
    """Variable names that name a package (``OPENAI_API_KEY`` -> openai), as config_env reads them."""
    return {name.upper(): package for name, package in load_json("config_keys.json")["provider_vars"].items()}


def _placeholder_word(value: str, marker: str) -> bool:
    """Whether a placeholder word stands in ``value`` as someone would type it: ``your``/``YOUR``/``Your``
    and, for one repeated letter, ``xxx``/``XXX`` at the edge of a word or in a longer run (``sk-xxxx``).
    Any-case substrings flagged real keys: one random 48-character key in 650 holds ``xXx`` somewhere,
    and the key was silently left out of the inventory."""
    if len(set(marker)) == 1:
        runs = (marker, marker.upper())
        return any(
            run + run[0] in value or value.startswith(run) or value.endswith(run) or _edge_run(value, run)
            for run in runs
        )
    return any(form in value for form in (marker, marker.upper(), marker.capitalize()))


def _edge_run(value: str, run: str) -> bool:
    start = value.find(run)
    while start != -1:
        before = value[start - 1] if start else ""
        after = value[start + len(run) : start + len(run) + 1]
        if not before.isalnum() or not after.isalnum():
            return True
        start = value.find(run, start + 1)
    return False


def is_placeholder(value: str, line: str) -> bool:
    _, _, _, markers, min_entropy = _rules()
    lowered = value.lower()
    if any(_placeholder_word(value, marker) if marker.isalpha() else marker in lowered for marker in markers):
        return True
    body = (
        re.sub(r"^[a-z]+[-_](?:[a-z0-9]+[-_])?", "", value, count=1)
        if "-" in value or "_" in value
        else value
    )
    if len(set(body)) < 6 or entropy(body) < min_entropy:
        return True
    return bool(re.search(r"(.)\1{7,}", value)) or "0123456789" in value or "abcdef" in lowered[-12:]


class SecretsDetector(Detector):
    name = "secrets"

    def applies_to(self, file: SourceFile) -> bool:
        name = file.name
        return (
            name not in SKIPPED_NAMES
            and not name.endswith(SKIPPED_SUFFIXES)
            and file.suffix not in _binary_suffixes()
        )

    def detect(self, file: SourceFile, report: FileReport) -> Iterator[Finding]:
        prefixed, contextual, markers, _, _ = _rules()
        text = file.text
        if not _any_marker().search(text):
            return
        lowered = text.lower()
        # which rules the text allows, asked once: per marked line, a missing ``requires`` read the whole
        # text again (5,000 ``KEY=`` lines of a 250 KB Dockerfile: 2.7 s)
        contextual = [(pattern, rule) for pattern, rule in contextual if rule.get("requires", "") in lowered]
        lines = file.lines
        parents: dict[str, list[list[str]]] = {}  # the YAML keys above each line, read once if needed
        for number in marked_lines(text, markers):
            line = lines[number - 1]
            if len(line) > 5000:
                continue
            taken: list[tuple[int, int]] = []
            for pattern, rule in prefixed:
                for match in pattern.finditer(line):
                    if not any(s <= match.start() < e for s, e in taken):
                        taken.append(match.span())
                        yield from self.credential(
                            file, number, line, match.group(0), match.span(), rule, parents
                        )
            for pattern, rule in contextual:
                for match in pattern.finditer(line):
                    if not any(s <= match.start(1) < e for s, e in taken):
                        taken.append(match.span(1))
                        yield from self.credential(
                            file, number, line, match.group(1), match.span(1), rule, parents
                        )

    def credential(
        self,
        file: SourceFile,
        number: int,
        line: str,
        value: str,
        span: tuple[int, int],
        rule: dict,
        parents: dict[str, list[list[str]]],
    ):
        if is_placeholder(value, line):
            return
        provider_id = rule["provider_id"]
        assigned = ASSIGNED_NAME.search(line[: span[0]])
        variable = assigned.group(1).upper() if assigned else ""
        if SHARED_KEY_PREFIX.match(value) and NOT_AI_SERVICE.search(variable):
            return  # a Google API key for Maps or Firebase is no AI credential
        named = lookup_package("id", provider_variables().get(variable, ""))
        if SHARED_KEY_PREFIX.match(value) and not named and in_firebase_config(file.lines, number):
            return  # a Google API key in a Firebase config is the app's Firebase key, no AI credential
        if named and named.provider == rule["provider"]:
            provider_id = named.id  # GEMINI_API_KEY=AIza…: the package its variable names, as config_env does
        provider = rule["provider"]
        if rule.get("shared"):
            if "lines" not in parents:
                parents["lines"] = yaml_parent_keys(file.lines) if file.suffix in YAML_SUFFIXES else []
            above = parents["lines"][number - 1] if parents["lines"] else []
            vendor = section_vendor(assigned.group(1) if assigned else "", above)
            if vendor:
                provider_id, provider = vendor  # an ``sk-`` key under ``moonshot:`` is Moonshot's
            elif rule.get("section_only"):
                return  # a shape several vendors share, with nothing naming one
        masked = mask_secret(value)
        digest = secret_hash(value)
        record = {"masked": masked, **({"sha256": digest} if digest else {}), "provider": provider}
        snippet = (line[: span[0]] + masked + line[span[1] :]).strip()
        package = lookup_package("id", provider_id)
        component_type = package.type if package else "llm_provider"
        yield Finding(
            key=component_key(component_type, provider_id),
            name=provider_id,
            type=component_type,
            provider=provider,
            location=Location(file=file.relpath, line=number, snippet=snippet),
            detector=self.name,
            flags={"hardcoded_api_key"},
            metadata={"secrets": [record]},
        )
