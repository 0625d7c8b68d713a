"""CI adoption in the CLI: inline ``trusera:ignore`` suppressions and ``--baseline``/``--write-baseline``."""

import json
import random
import string

import pytest

from common import cli
from common.compliance import evaluate
from common.compliance.conditions import validate_condition
from tests.unit.scanner_helpers import write_tree

RNG = random.Random(16)
LIVE_KEY = "sk-proj-" + "".join(RNG.choice(string.ascii_letters + string.digits) for _ in range(60))
ANTHROPIC_KEY = (
    "sk-ant-api03-" + "".join(RNG.choice(string.ascii_letters + string.digits) for _ in range(93)) + "AA"
)
ARGS = ["--quiet", "--jobs", "1"]


@pytest.fixture
def project(tmp_path):
    return write_tree(
        tmp_path / "proj",
        {
            "requirements.txt": "openai==1.51.0\n",
            "app.py": "import openai\nclient = openai.OpenAI()\n",
        },
    )


def scan_json(project, *extra: str) -> tuple[int, dict]:
    target = project.parent / "report.json"
    code = cli.main(["scan", str(project), "--format", "json", "-o", str(target), *ARGS, *extra])
    return code, json.loads(target.read_text())


def names(report: dict) -> set[str]:
    return {c["name"] for c in report["components"]}


# ---------------------------------------------------------------- inline suppressions


def test_a_reasoned_marker_on_the_line_silences_the_finding_and_is_counted(project):
    write_tree(
        project, {".env": f"OPENAI_API_KEY={LIVE_KEY}  # trusera:ignore revoked key kept as a fixture\n"}
    )
    code, report = scan_json(project, "--fail-on", "high")
    assert code == 0
    assert all(c["severity"] != "high" for c in report["components"])
    assert report["summary"]["suppressed"] == len(report["suppressions"]) >= 1
    assert {(s["file"], s["line"], s["reason"]) for s in report["suppressions"]} == {
        (".env", 1, "revoked key kept as a fixture")
    }
    assert any("hardcoded_api_key" in s["flags"] for s in report["suppressions"])
    openai = next(c for c in report["components"] if c["name"] == "openai")
    assert "hardcoded_api_key" not in openai["flags"]  # the silenced secret leaves no flag behind
    assert LIVE_KEY not in json.dumps(report)


def test_without_the_marker_the_same_secret_fails_the_gate(project):
    write_tree(project, {".env": f"OPENAI_API_KEY={LIVE_KEY}\n"})
    code, report = scan_json(project, "--fail-on", "high")
    assert code == 1 and report["summary"]["suppressed"] == 0 and "suppressions" not in report


def test_a_marker_alone_on_the_line_above_covers_the_next_line_only(project):
    write_tree(
        project,
        {
            "agent.py": (
                "import anthropic\n"
                "# trusera:ignore evaluated in ticket SEC-12\n"
                "anthropic.Anthropic().messages.create(model='claude-3-opus')\n"
                "x = 1  # trusera:ignore unrelated note on a code line\n"
                "anthropic.Anthropic().messages.create(model='claude-3-haiku')\n"
            )
        },
    )
    _, report = scan_json(project)
    silenced = {(s["name"], s["line"]) for s in report["suppressions"]}
    assert ("claude-3-opus", 3) in silenced
    assert "claude-3-opus" not in names(report)
    assert "claude-3-haiku" in names(report)  # a marker after code covers its own line, not the next
    assert report["summary"]["suppressed"] == len(report["suppressions"])


def test_a_marker_without_a_reason_is_not_honoured_and_says_so(project, capsys):
    write_tree(project, {".env": f"# trusera:ignore\nOPENAI_API_KEY={LIVE_KEY}\n"})
    code, report = scan_json(project, "--fail-on", "high")
    assert code == 1
    assert report["summary"]["suppressed"] == 0
    assert any("without a reason is not honoured" in w["message"] for w in report["warnings"])
    assert ".env: line 1: trusera:ignore without a reason is not honoured" in capsys.readouterr().err


def test_a_component_found_in_several_places_stays_while_one_place_is_unsilenced(project):
    write_tree(
        project, {"app.py": "import openai  # trusera:ignore vendored example\nclient = openai.OpenAI()\n"}
    )
    _, report = scan_json(project)
    openai = next(c for c in report["components"] if c["name"] == "openai")
    assert ("app.py", 1) not in {(loc["file"], loc["line"]) for loc in openai["locations"]}
    assert report["summary"]["suppressed"] == 1


@pytest.mark.parametrize("format_name", ["table", "html", "markdown"])
def test_every_format_with_a_summary_counts_the_suppressed_findings(project, tmp_path, format_name):
    write_tree(project, {".env": f"OPENAI_API_KEY={LIVE_KEY}  # trusera:ignore rotated, fixture only\n"})
    target = tmp_path / f"report.{format_name}"
    assert cli.main(["scan", str(project), "--format", format_name, "-o", str(target), *ARGS]) == 0
    text = target.read_text()
    json_target = tmp_path / "report.json"
    assert cli.main(["scan", str(project), "--format", "json", "-o", str(json_target), *ARGS]) == 0
    count = json.loads(json_target.read_text())["summary"]["suppressed"]
    assert count >= 1
    expected = {
        "table": f"{count} findings suppressed inline (trusera:ignore)",
        "html": f'<p class="suppressed">{count} findings silenced',
        "markdown": f"{count} findings silenced by `trusera:ignore` comments.",
    }[format_name]
    assert expected in text
    if format_name != "table":
        assert "rotated, fixture only" in text and LIVE_KEY not in text


def test_sarif_keeps_a_silenced_finding_as_an_in_source_suppression(project, tmp_path):
    from tests.export_validators import check_export

    write_tree(project, {".env": f"OPENAI_API_KEY={LIVE_KEY}  # trusera:ignore rotated, fixture only\n"})
    target = tmp_path / "report.sarif"
    assert cli.main(["scan", str(project), "--format", "sarif", "-o", str(target), *ARGS]) == 0
    sarif = check_export("sarif", target.read_bytes(), components=2)
    suppressed = [r for r in sarif["runs"][0]["results"] if r.get("suppressions")]
    assert [r["ruleId"] for r in suppressed] == ["hardcoded_api_key"]
    assert suppressed[0]["suppressions"] == [{"kind": "inSource", "justification": "rotated, fixture only"}]
    location = suppressed[0]["locations"][0]["physicalLocation"]
    assert (location["artifactLocation"]["uri"], location["region"]["startLine"]) == (".env", 1)
    assert LIVE_KEY not in target.read_text()


# ---------------------------------------------------------------- baseline


def test_baseline_reports_and_gates_only_on_new_or_changed_components(project, tmp_path, capsys):
    write_tree(project, {".env": f"OPENAI_API_KEY={LIVE_KEY}\n"})
    baseline = tmp_path / "baseline.json"
    assert (
        cli.main(["scan", str(project), "--write-baseline", str(baseline), "--fail-on", "high", *ARGS]) == 1
    )
    accepted = json.loads(baseline.read_text())
    assert any("hardcoded_api_key" in c["flags"] for c in accepted["components"])

    # Nothing changed: the accepted high finding no longer fails the build, and the report is empty.
    code, report = scan_json(project, "--baseline", str(baseline), "--fail-on", "high")
    assert code == 0 and report["components"] == []
    assert report["summary"]["baseline"]["unchanged"] == len(accepted["components"])

    # Moving code (new lines above) is not a change.
    write_tree(project, {"app.py": "\n\n# moved\nimport openai\nclient = openai.OpenAI()\n"})
    code, report = scan_json(project, "--baseline", str(baseline), "--fail-on", "high")
    assert code == 0 and report["components"] == []

    # A new component is reported, and only it.
    write_tree(project, {"agent.py": "import anthropic\nanthropic.Anthropic()\n"})
    code, report = scan_json(project, "--baseline", str(baseline), "--fail-on", "high")
    assert code == 0 and names(report) == {"anthropic"}
    assert report["summary"]["baseline"]["added"] == 1

    # A changed component (a new version) is reported, still under the gate.
    write_tree(project, {"requirements.txt": "openai==1.60.0\n"})
    code, report = scan_json(project, "--baseline", str(baseline), "--fail-on", "high")
    assert names(report) == {"openai", "anthropic"} and code == 1
    assert report["summary"]["baseline"]["changed"] == 1

    # A new secret of a new provider gates on its own.
    write_tree(project, {"requirements.txt": "openai==1.51.0\n", "agent.py": ""})
    write_tree(project, {"deploy.env": f"ANTHROPIC_API_KEY={ANTHROPIC_KEY}\n"})
    code, report = scan_json(project, "--baseline", str(baseline), "--fail-on", "high")
    assert names(report) == {"anthropic"} and code == 1
    capsys.readouterr()
    cli.main(["scan", str(project), "--baseline", str(baseline), *ARGS])
    assert f"baseline {baseline}:" in capsys.readouterr().out


def test_any_json_report_is_a_baseline(project, tmp_path):
    first = tmp_path / "first.json"
    assert cli.main(["scan", str(project), "--format", "json", "-o", str(first), *ARGS]) == 0
    code, report = scan_json(project, "--baseline", str(first))
    assert code == 0 and report["components"] == []


def test_policies_see_only_new_components_and_can_name_the_field(project, tmp_path, capsys):
    baseline = tmp_path / "baseline.json"
    assert cli.main(["scan", str(project), "--write-baseline", str(baseline), *ARGS]) == 0
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "name: No new providers\naction: block\nrules:\n"
        "  - condition:\n      all:\n"
        "        - {field: new_since_baseline, operator: equals, value: true}\n"
        "        - {field: type, operator: equals, value: llm_provider}\n"
    )
    assert cli.main(["scan", str(project), "--baseline", str(baseline), "--policy", str(policy), *ARGS]) == 0
    write_tree(project, {"agent.py": "import anthropic\nanthropic.Anthropic()\n"})
    assert cli.main(["scan", str(project), "--baseline", str(baseline), "--policy", str(policy), *ARGS]) == 1
    assert "policy 'No new providers' [block]: FAILED (1 violations)" in capsys.readouterr().err


@pytest.mark.parametrize(
    "content", ["not json", '{"components": "nope"}', "[1, 2]", '{"components": [{"name": "x"}]}']
)
def test_an_unreadable_baseline_exits_2(project, tmp_path, content, capsys):
    baseline = tmp_path / "baseline.json"
    baseline.write_text(content)
    assert cli.main(["scan", str(project), "--baseline", str(baseline), *ARGS]) == 2
    assert "baseline" in capsys.readouterr().err


def test_a_missing_baseline_and_an_unwritable_one_exit_2(project, tmp_path):
    assert cli.main(["scan", str(project), "--baseline", str(tmp_path / "absent.json"), *ARGS]) == 2
    assert cli.main(["scan", str(project), "--write-baseline", str(tmp_path / "no" / "b.json"), *ARGS]) == 2


# ---------------------------------------------------------------- the condition field


def test_new_since_baseline_is_a_boolean_field_of_the_condition_language():
    condition = {"field": "new_since_baseline", "operator": "equals", "value": True}
    assert validate_condition(condition) == {}
    assert validate_condition({**condition, "value": "yes"}) == {"condition.value": ["must be true or false"]}
    assert "condition.operator" in validate_condition({**condition, "operator": "contains"})
    assert evaluate(condition, {"id": "a", "new_since_baseline": True})
    assert not evaluate(condition, {"id": "a", "new_since_baseline": False})
    assert not evaluate(condition, {"id": "a"})  # unknown (no baseline) is not new
    assert evaluate({**condition, "operator": "not_equals"}, {"id": "a", "new_since_baseline": False})


def test_a_suppression_warning_names_a_hostile_file_without_escapes(tmp_path, capsys):
    """A marker without a reason is reported with its file's name, which the repository chose."""
    (tmp_path / "\x1b]0;owned\x07\x1b[2Japp.py").write_text("import openai  # trusera:ignore\n")
    argv = ["scan", str(tmp_path), "--quiet", "--jobs", "1", "-o", str(tmp_path.parent / "out.txt")]
    assert cli.main(argv) == 0
    err = capsys.readouterr().err
    assert "trusera: warning: \\x1b]0;owned\\x07\\x1b[2Japp.py: line 1" in err
    assert "\x1b" not in err and "\x07" not in err
