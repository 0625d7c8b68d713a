"""A JavaScript/TypeScript test that waits for nothing sends no request: the endpoints and model ids it
hands the project's pure functions are input data (engineer AE's sample)."""

from common.scanner.test_data import synchronous_js_test
from tests.unit.scanner_helpers import scan_tree

TRANSFORM_TEST = """import { it, expect } from "vitest";
import { toBody } from "../src/body";

const entry = { baseURL: "https://api.anthropic.com/v1" };

it("routes the model", () => {
  expect(toBody({ text: "hi" }, "claude-3-7-sonnet-20250219", entry).model).toBeDefined();
});
"""

LIVE_TEST = """import { it, expect } from "vitest";

it("answers", async () => {
  const r = await fetch("https://api.anthropic.com/v1/messages", {
    body: JSON.stringify({ model: "claude-3-7-sonnet-20250219" }),
  });
  expect(r.ok).toBe(true);
});
"""


def _names(result) -> set[tuple[str, str]]:
    return {(c.type, c.name) for c in result.components}


def test_a_synchronous_test_hands_its_models_and_endpoints_to_pure_functions(tmp_path):
    result = scan_tree(tmp_path, {"tests/body.test.ts": TRANSFORM_TEST})
    assert ("model", "claude-3-7-sonnet-20250219") not in _names(result)
    assert ("endpoint", "api.anthropic.com") not in _names(result)


def test_a_test_that_awaits_a_request_keeps_its_model(tmp_path):
    result = scan_tree(tmp_path, {"tests/live.test.ts": LIVE_TEST})
    assert ("model", "claude-3-7-sonnet-20250219") in _names(result)


def test_waiting_is_await_then_async_or_a_request():
    assert synchronous_js_test(TRANSFORM_TEST)
    assert not synchronous_js_test(LIVE_TEST)
    assert not synchronous_js_test("it('x', () => client.send(req).then(check));")
    assert not synchronous_js_test("it('x', () => { fetch(url); });")
