"""Issue 19, output side: what a hostile repository puts into a scan never leaks a secret into an
export and never acts on whoever reads the output (terminal, Markdown PR comment, SARIF dashboard).

Every test runs the real CLI (``trusera scan … --format F -o file``) on a tree the test writes, in all
nine formats, and checks each format's own escaping with the validators in tests/export_validators.py.
"""

from __future__ import annotations

import json
import re
from urllib.parse import unquote

import pytest

from common import cli
from common.scanner.display import terminal_text, uri_path
from common.scanner.redaction import MASK_WINDOW, SNIPPET_CHARS, clip, mask_text
from tests.export_validators import check_export
from tests.hostile_content import HOSTILE_NAMES, leaked, plant_hostile_names, plant_secrets, random_text

FORMATS = ("table", "json", "cyclonedx", "sarif", "spdx3", "html", "csv", "markdown", "junit")

HOSTILE_POLICY = """
policies:
  - name: Unknown MCP servers
    action: warn
    rules:
      - condition: {field: flags, operator: contains, value: mcp_unknown_server}
"""


def run_cli(root, tmp_path, format_name: str, *extra: str) -> bytes:
    target = tmp_path / f"report-{format_name}"
    argv = ["scan", str(root), "--format", format_name, "-o", str(target), "--quiet", "--jobs", "1", *extra]
    assert cli.main(argv) == 0
    return target.read_bytes()


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    root = tmp_path_factory.mktemp("secrets") / "repo"
    return root, plant_secrets(root)


@pytest.mark.parametrize("format_name", FORMATS)
def test_no_format_shows_more_of_a_planted_key_than_its_masked_form(planted, tmp_path, format_name):
    root, keys = planted
    output = run_cli(root, tmp_path, format_name).decode("utf-8")
    shown = [where for where, key in keys.items() if leaked(output, key)]
    assert shown == [], f"{format_name} shows more than 8 leading and 4 trailing characters of {shown}"


def test_every_planted_key_was_found_and_kept_in_its_documented_masked_form(planted, tmp_path):
    root, keys = planted
    output = json.loads(run_cli(root, tmp_path, "json"))
    by_name = {c["name"]: c for c in output["components"]}
    for name in ("openai", "gpt-4o-mini", "github", "vectors", "Minified support bot"):
        assert "hardcoded_api_key" in by_name[name]["flags"], name
    text = json.dumps(output)
    for where in ("app.py column 199", "app.py column 230", ".env PINECONE_API_KEY", ".env QDRANT_API_KEY"):
        key = keys[where]
        assert f"{key[:8]}******{key[-4:]}" in text, where
    snippets = [loc["snippet"] for c in output["components"] for loc in c["locations"]]
    assert max(len(s) for s in snippets) <= SNIPPET_CHARS


def test_a_key_crossing_the_cut_is_masked_before_it_is_cut():
    key = "sk-proj-" + random_text(60)
    for column in range(SNIPPET_CHARS - 12, SNIPPET_CHARS + 60, 7):
        snippet = clip("x = 1; " + "o" * (column - 9) + ' "' + key + '" # end')
        assert not leaked(snippet, key), column
        assert len(snippet) <= SNIPPET_CHARS
    # Ten long keys: nine masked ones shrink to 171 characters, and the tenth straddles the masking
    # window's edge, so its cut-off head would land inside the snippet if it were kept.
    long_keys = ["sk-proj-" + random_text(412) for _ in range(10)]
    line = " ".join(long_keys)
    assert line.index(long_keys[-1]) < MASK_WINDOW < line.index(long_keys[-1]) + len(long_keys[-1])
    snippet = clip(line)
    assert not any(leaked(snippet, key) for key in long_keys)
    assert snippet.count("******") == 9


def test_masking_covers_names_schemes_urls_and_escapes_and_leaves_code_alone():
    token = random_text(40)
    cases = {
        f"QDRANT_API_KEY={token}": token,
        f'"Authorization": "Bearer {token}"': token,
        f"export ACME_SECRET='{token}'": token,
        f"db: postgres://app:{token}@db.internal/app": token,
        '"GITHUB_TOKEN": "' + "".join(f"\\u{ord(c):04x}" for c in token) + '"': token,
    }
    for text, secret in cases.items():
        masked = mask_text(text)
        assert not leaked(masked, secret), text
        assert mask_text(masked) == masked  # masking twice changes nothing
    for code in (
        "max_tokens: 4096",
        'api_key = os.environ["OPENAI_API_KEY"]',
        "OPENAI_API_KEY=${OPENAI_API_KEY}",
        "token = get_token(user_id)",
        'tokenizer = AutoTokenizer.from_pretrained("bert-base-uncased")',
    ):
        assert mask_text(code) == code


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    root = tmp_path_factory.mktemp("names") / "repo"
    plant_hostile_names(root)
    policy = root.parent / "policy.yaml"
    policy.write_text(HOSTILE_POLICY)
    return root, ["--policy", str(policy)]


def _component_count(hostile, tmp_path) -> int:
    root, extra = hostile
    return len(json.loads(run_cli(root, tmp_path, "json", *extra))["components"])


def test_the_terminal_table_and_messages_carry_no_control_characters(hostile, tmp_path, capsys):
    root, extra = hostile
    table = run_cli(root, tmp_path, "table", *extra).decode("utf-8")
    assert not re.search("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", table)
    lines = table.splitlines()
    components = _component_count(hostile, tmp_path)
    assert len(lines) == components + 3  # header, one line per component, blank, summary
    for name in HOSTILE_NAMES:
        assert terminal_text(name)[:48] in table
    assert "\\x1b]0;owned\\x07title" in table and "scan failed\\x0dOK" in table
    components = json.loads(run_cli(root, tmp_path, "json", *extra))["components"]
    assert "model-\\xff\\xfe.env" in {loc["file"] for c in components for loc in c["locations"]}
    err = capsys.readouterr().err
    assert "FAILED" in err and "\\x1b[31mred" in err
    assert not re.search("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e]", err)


def test_markdown_keeps_no_live_link_image_html_or_extra_cell(hostile, tmp_path):
    root, extra = hostile
    text = run_cli(root, tmp_path, "markdown", *extra).decode("utf-8")
    check_export("markdown", text.encode(), components=_component_count(hostile, tmp_path))
    unescaped = re.sub(r"\\.", "", text)
    assert not re.search(r"[\[\]<>]", unescaped), "link, image or HTML syntax survived"
    assert "javascript:alert" in text and "attacker.example/pixel.png" in text  # shown, inert
    for block in text.split("\n\n"):
        rows = [re.split(r"(?<!\\)\|", line) for line in block.splitlines() if line.startswith("|")]
        assert len({len(row) for row in rows}) <= 1, block
    assert not re.search("[\x00-\x09\x0b-\x1f\x7f]", text)


def test_sarif_uris_are_percent_encoded_per_rfc_3986(hostile, tmp_path):
    root, extra = hostile
    data = run_cli(root, tmp_path, "sarif", *extra)
    document = check_export("sarif", data, components=_component_count(hostile, tmp_path))
    uris = [
        location["physicalLocation"]["artifactLocation"]["uri"]
        for run in document["runs"]
        for result in run["results"]
        for location in result.get("locations", [])
    ]
    assert uris
    for uri in uris:
        assert re.fullmatch(r"(?:[A-Za-z0-9\-._~/]|%[0-9A-F]{2})+", uri), uri
    decoded = {unquote(uri) for uri in uris}
    assert "9-%2e%2e%2f%2e%2e%2fetc%2fpasswd.env" in decoded  # encoded names stay literal names
    assert "10-javascript:alert(document.domain).env" in decoded
    assert "4-two\nlines.env" in decoded
    assert uri_path("model-\udcff\udcfe.env") == "model-%FF%FE.env"


@pytest.mark.parametrize("format_name", ["cyclonedx", "spdx3", "html", "csv", "junit", "json"])
def test_structured_formats_stay_valid_and_escaped(hostile, tmp_path, format_name):
    root, extra = hostile
    data = run_cli(root, tmp_path, format_name, *extra)
    text = data.decode("utf-8")  # strict: a name that is not UTF-8 arrives as \xNN
    components = _component_count(hostile, tmp_path)
    if format_name == "json":
        names = {c["name"] for c in json.loads(text)["components"]}
        assert set(HOSTILE_NAMES) <= names and "lone-\\xff-surrogate" in names
        return
    parsed = check_export(format_name, data, components=components)
    if format_name in ("html", "csv"):  # also read with cat or in a CI log: no control may act there
        assert not re.search(
            "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]", text
        )
        assert "\r" not in text.replace("\r\n", "\n")
        assert "\\x1b]0;owned\\x07title" in text and "\\u202eevil\\u202c" in text
        assert "open\\u200bai\\ufeff" in text
    if format_name == "html":
        assert "Content-Security-Policy" in text
        assert "<img src=x" not in text and "&lt;img src=x onerror=alert(1)&gt;" in text
    if format_name == "csv":
        assert all(not cell.startswith(("=", "+", "-", "@")) for row in parsed[1:] for cell in row)
    if format_name == "junit":
        assert "Unknown MCP servers" in text and "\x1b" not in text
