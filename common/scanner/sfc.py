"""The script parts of single-file components (Vue, Svelte, Astro) as a TypeScript file.

A ``.vue``/``.svelte``/``.astro`` file keeps its code in ``<script>`` blocks (and Astro's ``---``
frontmatter): TypeScript or JavaScript that imports SDKs, calls models and holds keys like any ``.ts``
file. The rest is markup the page shows, which the code detectors must not read as code. ``script_view``
hands the code detectors the file with everything outside those parts blanked, line breaks kept, so every
finding keeps the component's own path and line numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

from common.scanner.detectors.base import SourceFile
from common.scanner.limits import linear
from common.scanner.textutil import calls_llm_api_route, mentions_ai_endpoint

SFC_SUFFIXES = (".vue", ".svelte", ".astro")
# a plain page's inline scripts are read as code only when they call an AI API (a chat page calling
# ``https://api.openai.com/v1/chat/completions`` from the browser): most pages' scripts are UI code, and
# generated pages (API docs, coverage reports) carry large inline data that is no program's configuration
PAGE_SUFFIXES = (".html", ".htm")
MAX_PAGE_BYTES = 2 * 1024 * 1024
# ``type`` values of a ``<script>`` whose body is code; others hold data or templates
# (``application/ld+json``, ``importmap``, ``text/x-template``)
CODE_SCRIPT_TYPES = frozenset(
    {"", "module", "text/javascript", "application/javascript", "text/typescript", "application/typescript"}
)
SCRIPT_TYPE = linear(r"""\btype\s*=\s*["']?([^"'\s>]*)""")
SCRIPT_OPEN = linear(r"<script(?:\s[^>]*)?>", re.IGNORECASE)
SCRIPT_CLOSE = linear(r"</script", re.IGNORECASE)
NOT_LINE_BREAK = linear(r"[^\r\n]+")


def script_parts(text: str, suffix: str) -> list[tuple[int, int]]:
    """(start, end) offsets of the code in a component: its ``<script>`` bodies and, in Astro, the
    frontmatter between the ``---`` fences that open the file."""
    parts: list[tuple[int, int]] = []
    position = 0
    if suffix == ".astro" and text.lstrip().startswith("---"):
        body = text.find("\n", text.index("---")) + 1
        closing = text.find("\n---", body - 1) if body else -1
        if closing >= 0:
            parts.append((body, closing + 1))
            position = closing + 4
    while opening := SCRIPT_OPEN.search(text, position):
        closing = SCRIPT_CLOSE.search(text, opening.end())
        end = closing.start() if closing else len(text)
        kind = SCRIPT_TYPE.search(opening.group(0))
        if (kind.group(1).lower() if kind else "") in CODE_SCRIPT_TYPES:
            parts.append((opening.end(), end))
        position = end
    return parts


def script_text(text: str, suffix: str) -> str:
    """``text`` with everything outside its script parts emptied, line breaks kept."""
    pieces: list[str] = []
    position = 0
    for start, end in script_parts(text, suffix):
        pieces.append(_line_breaks(text[position:start]))
        pieces.append(text[start:end])
        position = end
    pieces.append(_line_breaks(text[position:]))
    return "".join(pieces)


def _line_breaks(markup: str) -> str:
    """Only the line breaks of ``markup``; with ``\r`` ones (which ``splitlines`` counts) each run of
    text becomes a space, so a lone ``\r`` never joins the next ``\n`` into one break."""
    return NOT_LINE_BREAK.sub(" ", markup) if "\r" in markup else "\n" * markup.count("\n")


@dataclass
class ScriptView(SourceFile):
    """A component's script parts, read by the detectors of ``.ts`` files under the component's path."""

    component: SourceFile | None = field(default=None, repr=False)

    suffix = ".ts"

    @cached_property
    def data(self) -> bytes:
        return self.text.encode()

    @cached_property
    def text(self) -> str:
        return script_text(self.component.text, self.component.suffix)


def script_view(source: SourceFile) -> ScriptView | None:
    """The code detectors' view of a single-file component, or of a page whose inline scripts call an AI
    API (``PAGE_SUFFIXES``); ``None`` for any other file."""
    if source.suffix in PAGE_SUFFIXES:
        if not (source.size <= MAX_PAGE_BYTES and page_scripts_call_ai(source)):
            return None
    elif source.suffix not in SFC_SUFFIXES:
        return None
    return ScriptView(
        source.path, source.relpath, source.size, source.scope, root=source.root, component=source
    )


def page_scripts_call_ai(source: SourceFile) -> bool:
    """Whether the code of a page's inline ``<script>`` blocks names an AI host or an LLM inference route."""
    try:
        text = source.text
    except OSError:
        return False
    if "<script" not in text.lower() or ("http" not in text and "/v1" not in text):
        return False
    code = "\n".join(text[start:end] for start, end in script_parts(text, source.suffix))
    return mentions_ai_endpoint(code) or calls_llm_api_route(code)
