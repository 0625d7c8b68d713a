"""Single-file components (Vue, Svelte, Astro): their script parts are read as TypeScript at the
component's own lines; their markup is not code."""

from __future__ import annotations

import random
import string
import time
from pathlib import Path

from common.scanner.detectors.base import FileReport, SourceFile
from common.scanner.registry import all_detectors, detectors_for
from common.scanner.sfc import script_parts, script_text
from common.scanner.worker import scan_file
from tests.unit.detector_helpers import by_key, write

LIVE_KEY = "sk-proj-" + "".join(random.Random(13).choices(string.ascii_letters + string.digits, k=60))
VUE = """\
<template>
  <p>Try gpt-4-turbo: import Anthropic from "@anthropic-ai/sdk"</p>
</template>
<script setup lang="ts">
import OpenAI from "openai";
const client = new OpenAI();
await client.chat.completions.create({ model: "gpt-4o-mini", messages: [] });
</script>
<script type="application/ld+json">{"model": "claude-3-haiku-20240307"}</script>
"""


def scan(tmp_path, relpath: str, content: str) -> FileReport:
    source = write(tmp_path, relpath, content)
    report, _ = scan_file(source, detectors_for(source), max_file_bytes=1 << 20)
    return report


def test_script_text_empties_the_markup_and_keeps_every_line_break():
    text = script_text(VUE, ".vue")
    assert len(text.splitlines()) == len(VUE.splitlines())
    lines = text.splitlines()
    assert lines[4] == 'import OpenAI from "openai";'
    assert lines[1] == "" and lines[8] == ""  # template prose and a JSON-LD data block


def test_astro_frontmatter_and_client_scripts_are_code_and_the_page_is_not():
    page = (
        '---\nimport { Pinecone } from "@pinecone-database/pinecone";\n---\n'
        "<h1>Hi</h1>\n<SCRIPT>track()</SCRIPT>\n"
    )
    parts = [page[start:end] for start, end in script_parts(page, ".astro")]
    assert parts == ['import { Pinecone } from "@pinecone-database/pinecone";\n', "track()"]
    assert script_parts("---\nnot frontmatter in a Vue file\n---\n", ".vue") == []


def test_an_unclosed_or_unnamed_tag_is_no_script():
    assert script_parts("<scripts>x</scripts><script", ".svelte") == []
    assert script_parts("<script>const a = 1;", ".svelte") == [(8, 20)]


def test_a_component_reports_its_sdk_and_model_at_its_own_lines(tmp_path):
    found = by_key(scan(tmp_path, "src/Chat.vue", VUE).findings)
    assert found["llm_provider:openai"]["lines"] == {5, 6}
    assert found["model:gpt-4o-mini"]["lines"] == {7}
    assert {"llm_provider:anthropic", "model:gpt-4-turbo", "model:claude-3-haiku-20240307"}.isdisjoint(found)


def test_a_component_without_ai_reports_nothing(tmp_path):
    markup = (
        '<script lang="ts">\nimport { onMount } from "svelte";\n</script>\n'
        "<p>Compare gpt-4o and claude-3-opus</p>\n"
    )
    assert scan(tmp_path, "src/Pricing.svelte", markup).findings == []


def test_a_key_in_a_component_is_found_once_on_its_line(tmp_path):
    content = f'<script>\nconst openai = new OpenAI({{ apiKey: "{LIVE_KEY}" }});\n</script>\n'
    keys = [f for f in scan(tmp_path, "src/Key.svelte", content).findings if "hardcoded_api_key" in f.flags]
    assert [(k.location.file, k.location.line) for k in keys] == [("src/Key.svelte", 2)]


def test_components_select_the_code_detectors():
    component = SourceFile(path=Path("/nonexistent/src/App.astro"), relpath="src/App.astro", size=0)
    names = {d.name for d in detectors_for(component)}
    assert {"javascript", "secrets"} <= names
    assert names <= {d.name for d in all_detectors()}


def test_a_script_tag_built_or_written_by_code_loads_its_cdn_package(tmp_path):
    code = (
        '// was <script src="https://cdn.jsdelivr.net/npm/@xenova/transformers"></script>\n'
        'const page = `<script src="https://cdn.jsdelivr.net/npm/@tensorflow/tfjs@4.20.0"></script>`;\n'
        'const script = document.createElement("script");\n'
        'script.src = "https://unpkg.com/@mlc-ai/web-llm";\n'
        'const chart = "https://cdn.jsdelivr.net/npm/chart.js";\n'
    )
    found = by_key(scan(tmp_path, "src/embed.js", code).findings)
    assert {key: entry["lines"] for key, entry in found.items()} == {
        "ml_framework:tensorflow": {2},
        "ml_framework:web-llm": {4},
    }


def test_a_components_markup_is_read_as_a_page(tmp_path):
    markup = (
        '<template>\n  <script src="https://cdn.jsdelivr.net/npm/@tensorflow/tfjs"></script>\n</template>\n'
    )
    found = by_key(scan(tmp_path, "src/Widget.vue", markup).findings)
    assert found["ml_framework:tensorflow"]["lines"] == {2}


def test_every_line_ending_keeps_the_components_line_count():
    for text in ("a\r\nb<script>x</script>\rc\n", "a\rb\r<script>\rx\r</script>\rc\r", "<p>\r\n</p>\r\n"):
        assert len(script_text(text, ".vue").splitlines()) == len(text.splitlines())


def test_a_hostile_component_is_read_in_linear_time():
    unclosed, pairs = "<script " * 200_000, "<script></script>x" * 50_000
    started = time.process_time()
    assert script_parts(unclosed, ".svelte") == []
    once = time.process_time() - started
    started = time.process_time()
    script_text(pairs + pairs, ".vue")
    twice = time.process_time() - started
    started = time.process_time()
    script_text(pairs, ".vue")
    assert once < 1 and twice < 4 * (time.process_time() - started) + 0.2


CHAT_PAGE = """\
<!doctype html>
<html>
<body>
  <p>Chat with GPT-4o: see https://platform.openai.com/docs</p>
  <input id="key" placeholder="sk-..." />
  <script>
    async function ask(key, text) {
      const model = document.getElementById('model').value || 'gpt-4o-mini';
      return fetch('https://api.openai.com/v1/chat/completions', {
        method: 'POST',
        headers: { Authorization: `Bearer ${key}` },
        body: JSON.stringify({ model, messages: [{ role: 'user', content: text }] }),
      });
    }
  </script>
</body>
</html>
"""


def test_a_pages_inline_script_calling_an_ai_api_is_read_as_code(tmp_path):
    found = by_key(scan(tmp_path, "public/index.html", CHAT_PAGE).findings)
    assert found["endpoint:api.openai.com"]["lines"] == {9}
    assert found["model:gpt-4o-mini"]["lines"] == {8}
    assert "model:gpt-4o" not in found  # the page's prose


def test_a_pages_inline_script_without_an_ai_api_is_not_read(tmp_path):
    page = CHAT_PAGE.replace("https://api.openai.com/v1/chat/completions", "/api/ask")
    assert scan(tmp_path, "public/index.html", page).findings == []
