"""JUnit XML: policies and compliance controls as test cases, so CI dashboards show them.

One suite for policies, one per compliance framework and one for custom rules; a failed
policy or control is a ``<failure>``, a not-applicable control is ``<skipped>``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

# Characters XML 1.0 cannot carry at all; scanned text may contain them.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(value: object) -> str:
    return _XML_INVALID.sub("\ufffd", "" if value is None else str(value))


def _case(suite: ET.Element, classname: str, name: str) -> ET.Element:
    return ET.SubElement(suite, "testcase", {"classname": _text(classname), "name": _text(name), "time": "0"})


def _fail(case: ET.Element, message: str, kind: str, details: str) -> None:
    failure = ET.SubElement(case, "failure", {"message": _text(message), "type": _text(kind)})
    failure.text = _text(details)


def _finish(suite: ET.Element) -> ET.Element:
    cases = suite.findall("testcase")
    suite.set("tests", str(len(cases)))
    suite.set("failures", str(sum(1 for c in cases if c.find("failure") is not None)))
    suite.set("errors", "0")
    suite.set("skipped", str(sum(1 for c in cases if c.find("skipped") is not None)))
    suite.set("time", "0")
    return suite


def _policy_suite(policies: list[dict], timestamp: str) -> ET.Element:
    suite = ET.Element("testsuite", {"name": "trusera.policies", "timestamp": timestamp})
    for policy in policies:
        case = _case(suite, "trusera.policies", f"{policy['name']} ({policy['action']})")
        if not policy["passed"]:
            violations = policy.get("violations") or []
            details = "\n".join(
                f"[{v.get('severity') or '-'}] {v.get('component_id') or '(scan)'}: {v['message']}"
                for v in violations
            )
            _fail(
                case,
                f"{len(violations)} violation(s) of policy '{policy['name']}'",
                policy["action"],
                details,
            )
    return _finish(suite)


def _framework_suite(framework: dict, timestamp: str) -> ET.Element:
    classname = f"trusera.compliance.{framework['id']}"
    suite = ET.Element("testsuite", {"name": classname, "timestamp": timestamp})
    for control in framework.get("controls") or []:
        case = _case(suite, classname, f"{control['id']} {control['title']}")
        status = control["status"]
        if status == "fail":
            evidence = ", ".join(control.get("evidence") or []) or "(scan)"
            details = "\n".join(
                (
                    control.get("message") or "",
                    f"Evidence: {evidence}",
                    f"Remediation: {control.get('remediation') or ''}",
                )
            )
            _fail(case, control.get("message") or control["title"], "compliance", details)
        elif status in ("not_applicable", "no_indicator", "manual"):  # not evaluated: never a passing case
            message = _text(f"{status}: {control.get('message') or ''}")
            ET.SubElement(case, "skipped", {"message": message})
        elif status == "warning":
            ET.SubElement(case, "system-out").text = _text(f"warning: {control.get('message') or ''}")
    return _finish(suite)


def _custom_rule_suite(rules: list[dict], timestamp: str) -> ET.Element:
    suite = ET.Element("testsuite", {"name": "trusera.custom_rules", "timestamp": timestamp})
    for rule in rules:
        case = _case(suite, "trusera.custom_rules", rule["name"])
        if rule["status"] == "fail":
            matched = rule.get("matched") or []
            _fail(
                case,
                f"{len(matched)} component(s) match rule '{rule['name']}'",
                rule["severity"],
                "\n".join(matched),
            )
    return _finish(suite)


def render(bundle: dict) -> bytes:
    scan = bundle.get("scan") or {}
    timestamp = _text(scan.get("finished_at") or scan.get("created_at") or "")
    suites = []
    if bundle.get("policies") is not None:
        suites.append(_policy_suite(bundle["policies"], timestamp))
    compliance = bundle.get("compliance") or {}
    suites += [_framework_suite(f, timestamp) for f in compliance.get("frameworks") or []]
    if compliance.get("custom_rules"):
        suites.append(_custom_rule_suite(compliance["custom_rules"], timestamp))
    root = ET.Element(
        "testsuites", {"name": _text(f"trusera scan {scan.get('id') or ''} of {scan.get('target') or ''}")}
    )
    root.extend(suites)
    for key in ("tests", "failures", "errors"):
        root.set(key, str(sum(int(s.get(key)) for s in suites)))
    root.set("time", "0")
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
