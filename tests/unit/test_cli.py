import json
import random
import string

import pytest

from common import cli
from tests.unit.scanner_helpers import write_tree

RNG = random.Random(3)
LIVE_KEY = "sk-proj-" + "".join(RNG.choice(string.ascii_letters + string.digits) for _ in range(60))


@pytest.fixture
def project(tmp_path):
    return write_tree(
        tmp_path / "proj",
        {
            "requirements.txt": "openai==1.51.0\n",
            "app.py": "import openai\nopenai.OpenAI().chat.completions.create(model='gpt-4o-mini')\n",
        },
    )


def test_table_output_and_clean_exit(project, capsys):
    assert cli.main(["scan", str(project), "--jobs", "1"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == [
        "SEVERITY",
        "SCORE",
        "TYPE",
        "NAME",
        "VERSION",
        "SCOPE",
        "FLAGS",
        "WHERE",
    ]
    assert "openai" in out and "gpt-4o-mini" in out and "2 components" in out


def test_json_to_file_matches_the_wire_form(project, tmp_path):
    target = tmp_path / "out.json"
    assert cli.main(["scan", str(project), "--format", "json", "-o", str(target), "--quiet"]) == 0
    data = json.loads(target.read_text())
    assert {
        "components",
        "relationships",
        "warnings",
        "files_scanned",
        "bytes_scanned",
        "duration_ms",
    } <= set(data)
    assert data["summary"]["total_components"] == 2
    assert {c["name"] for c in data["components"]} == {"openai", "gpt-4o-mini"}


def test_fail_on_threshold(project, capsys):
    assert cli.main(["scan", str(project), "--fail-on", "high"]) == 0
    write_tree(project, {".env": f"OPENAI_API_KEY={LIVE_KEY}\n"})
    assert cli.main(["scan", str(project), "--fail-on", "high"]) == 1
    assert LIVE_KEY not in capsys.readouterr().out


def test_deep_flag_is_accepted(project):
    assert cli.main(["scan", str(project), "--deep", "--format", "json", "--quiet"]) == 0


@pytest.mark.parametrize(
    "argv",
    [
        ["scan", "/definitely/not/here"],
        ["scan"],
        ["scan", ".", "--format", "yaml-nope"],
        ["scan", ".", "--jobs", "0"],
        ["scan", ".", "--n8n-url", "http://n8n.local"],
        ["scan", ".", "--fail-on", "extreme"],
        ["frobnicate"],
    ],
)
def test_errors_exit_2(argv, capsys):
    assert cli.main(argv) == 2


def test_unwritable_output_exits_2(project, tmp_path):
    assert cli.main(["scan", str(project), "-o", str(tmp_path / "missing-dir" / "x.json")]) == 2


def test_formats_always_include_table_and_json():
    assert cli.available_formats()[:2] == ["table", "json"]


@pytest.mark.parametrize("format_name", ["cyclonedx", "sarif", "spdx3", "html", "csv", "markdown", "junit"])
def test_every_export_format_is_written_and_passes_its_validator(project, tmp_path, format_name):
    from tests.export_validators import check_export

    assert format_name in cli.available_formats()
    target = tmp_path / f"report.{format_name}"
    argv = ["scan", str(project), "--format", format_name, "-o", str(target), "--quiet", "--jobs", "1"]
    assert cli.main(argv) == 0
    check_export(format_name, target.read_bytes(), components=2)


POLICIES = """
policies:
  - name: No unpinned models
    action: block
    rules:
      - condition: {field: flags, operator: contains, value: unpinned_model}
  - name: At most one provider
    action: warn
    rules:
      - metric: by_type.llm_provider
        operator: gt
        value: 0
"""


def test_policy_gate_blocks_on_a_failed_block_policy(project, tmp_path, capsys):
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text(POLICIES)
    report = tmp_path / "report.xml"
    argv = ["scan", str(project), "--policy", str(policy_file), "--format", "junit", "-o", str(report)]
    assert cli.main([*argv, "--quiet", "--jobs", "1"]) == 1
    err = capsys.readouterr().err
    assert "policy 'No unpinned models' [block]: FAILED (1 violations)" in err
    assert "policy 'At most one provider' [warn]: FAILED (1 violations)" in err
    assert "gpt-4o-mini" in err
    assert 'name="No unpinned models (block)"' in report.read_text()  # the JUnit report carries the gate


def test_a_failed_warn_policy_does_not_block(project, tmp_path, capsys):
    policy_file = tmp_path / "policy.json"
    policy_file.write_text(
        json.dumps(
            {
                "name": "Warn on models",
                "action": "warn",
                "rules": [{"condition": {"field": "type", "operator": "equals", "value": "model"}}],
            }
        )
    )
    assert cli.main(["scan", str(project), "--policy", str(policy_file), "--quiet", "--jobs", "1"]) == 0
    assert "policy 'Warn on models' [warn]: FAILED (1 violations)" in capsys.readouterr().err


def test_an_invalid_policy_file_exits_2_before_scanning(project, tmp_path, capsys):
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text(
        "name: typo\naction: block\nrules:\n  - condition: {field: nmae, operator: equals, value: x}\n"
    )
    assert cli.main(["scan", str(project), "--policy", str(policy_file), "--quiet", "--jobs", "1"]) == 2
    err = capsys.readouterr().err
    assert "policy.yaml: rules.0.condition.field: unknown field" in err
    assert capsys.readouterr().out == ""


def test_an_unreachable_n8n_instance_is_one_line_not_a_traceback(capsys):
    assert cli.main(["scan", "--n8n-url", "http://127.0.0.1:9", "--n8n-api-key", "k", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("trusera: error: n8n instance unreachable") and "Traceback" not in err
