"""Schemathesis fuzzes the OpenAPI document the app serves (``/api/v1/openapi.json``), as an admin.

Every operation gets schema-valid and schema-invalid requests (Hypothesis, derandomized so a
failure reproduces), sent to the WSGI app in this process, and every answer is checked by
schemathesis: no 5xx, the status code is documented, the content type is the documented one,
the body matches the documented schema (errors: the conventions' error shape), documented
headers are present, invalid input is rejected, and authentication is not ignored.

Not checked: ``positive_data_acceptance`` (a schema-valid body may still be refused with a
documented 422 by rules a JSON schema cannot express: cron syntax, the condition language,
"a target or an n8n credential", outbound URL rules).

Excluded operations, whose side effect ends the fuzzing admin's session:
``POST /auth/logout`` (revokes the token) and ``DELETE /auth/account`` (deletes the admin).

Guard rails: rate limits are off while fuzzing (each limit has its own test), tasks are recorded
instead of sent to the broker, and name resolution is refused for anything but loopback, so a
generated URL (n8n probe, webhook test) never leaves the machine.
"""

from __future__ import annotations

import time

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.helpers import register_user
from tests.ops._abuse_fixtures import guarded  # noqa: F401  (fixture)

SPEC_PATH = "/api/v1/openapi.json"
EXCLUDED = {
    ("POST", "/api/v1/auth/logout"): "revokes the token the fuzzer uses",
    ("DELETE", "/api/v1/auth/account"): "deletes the fuzzing admin",
}
EXAMPLES = {GenerationMode.POSITIVE: 5, GenerationMode.NEGATIVE: 3}
# CPU seconds of this process (the app answers in it), not wall time: what the fuzzing costs, which a loaded
# machine's wait for a core does not change (120 s of wall time ran out after 103 of its 173 runs; they cost
# 14 s of CPU).
CPU_BUDGET_SECONDS = 120
HTTP_METHODS = ("get", "put", "post", "delete", "patch")


def _negatable(operation) -> bool:
    """Only bodies and query strings have invalid forms worth sending: any path segment is a valid id."""
    raw = operation.definition.raw
    return "requestBody" in raw or any(p.get("in") == "query" for p in raw.get("parameters", []))


def _operations(schema):
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) not in EXCLUDED:
            yield operation


def test_spec_documents_every_status_family(app, client):
    """No catch-all ``default``; each operation documents a success and its errors use one shape."""
    spec = client.get(SPEC_PATH).json
    assert spec["components"]["schemas"]["Error"]["required"] == ["code", "message", "status"]
    problems = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            codes = set(operation["responses"])
            if "default" in codes:
                problems.append(f"{method.upper()} {path}: a catch-all 'default' response")
            if not any(code.startswith(("2", "3")) for code in codes):
                problems.append(f"{method.upper()} {path}: no success response documented")
            if "503" not in codes:
                problems.append(f"{method.upper()} {path}: 503 not documented")
            if operation.get("security") and not {"401"} <= codes:
                problems.append(f"{method.upper()} {path}: authenticated but 401 not documented")
    assert not problems, "\n".join(problems)


@pytest.mark.usefixtures("guarded")
def test_fuzz_the_openapi_spec_as_admin(app):
    admin = register_user(app.test_client())
    schema = schemathesis.openapi.from_wsgi(SPEC_PATH, app)
    schema.config.update(headers=admin.headers())
    # Unknown query parameters are ignored by design (only unknown body fields are a 422).
    schema.config.generation.update(allow_extra_parameters=False)
    operations = list(_operations(schema))
    assert len(operations) >= 80, "the served spec lost operations"
    failures: dict[str, str] = {}
    cpu_limit = time.process_time() + CPU_BUDGET_SECONDS
    checked = 0
    for operation in operations:
        for mode, examples in EXAMPLES.items():
            if mode is GenerationMode.NEGATIVE and not _negatable(operation):
                continue
            if time.process_time() > cpu_limit:
                pytest.fail(f"the CPU budget ran out after {checked} runs; lower EXAMPLES")

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=examples,
                deadline=None,
                derandomize=True,
                database=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            def run(case):
                case.call_and_validate(excluded_checks=[positive_data_acceptance])

            try:
                run()
            except Unsatisfiable:
                pass  # nothing to make invalid (no parameters, no body): negative mode has no input
            except (
                Exception,
                BaseExceptionGroup,
            ) as exc:  # schemathesis: one group of every distinct failure
                failures[f"{operation.method.upper()} {operation.path} ({mode.value})"] = str(exc)[:3000]
            checked += 1
    assert not failures, "\n\n".join(f"== {name}\n{report}" for name, report in failures.items())
