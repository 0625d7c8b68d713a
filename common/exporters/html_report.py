"""A single self-contained HTML report: opens offline, makes no request anywhere.

CSS and the small filter script are inlined from ``templates/``; the severity chart and the
graph drawing are inline SVG. A Content-Security-Policy forbids every external fetch, and
every value from the scan is HTML-escaped (names and snippets come from scanned code).
"""

from __future__ import annotations

from collections import defaultdict, deque
from functools import cache
from html import escape
from pathlib import Path

from common.bom.graph import build_graph
from common.compliance.framework import CONTROL_STATUSES
from common.exporters.bundle import (
    SEVERITY_ORDER,
    coverage_text,
    evidence_reference,
    location_text,
    score_text,
    severity_counts,
    summary,
)
from common.scanner.display import document_text

TEMPLATES = Path(__file__).parent / "templates"
CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"
GRAPH_NODE_LIMIT = 80
SEVERITY_COLOURS = {
    "critical": "#b3122e",
    "high": "#e3541c",
    "medium": "#d9a406",
    "low": "#2f7ed8",
    "info": "#7a8794",
}
FILE_COLOUR = "#5b6770"


@cache
def _template(name: str) -> str:
    return (TEMPLATES / name).read_text(encoding="utf-8")


def e(value: object) -> str:
    """Escaped for HTML, with controls shown (``document_text``): the report may be printed to a terminal,
    and a bidirectional override would reorder a name on the page."""
    return escape(document_text(value), quote=True)


def _severity_badge(severity: str | None) -> str:
    name = severity if severity in SEVERITY_COLOURS else "info"
    return f'<span class="sev sev-{name}">{e(name)}</span>'


def severity_chart(counts: list[tuple[str, int]]) -> str:
    """Horizontal bars, one per severity, scaled to the largest count."""
    width, bar_height, label_width = 520, 26, 80
    largest = max((n for _, n in counts), default=0) or 1
    bars = []
    for row, (name, number) in enumerate(counts):
        y = row * (bar_height + 8)
        length = round((width - label_width - 60) * number / largest)
        bars.append(
            f'<text x="0" y="{y + 18}" font-size="13">{e(name)}</text>'
            f'<rect x="{label_width}" y="{y}" width="{length}" height="{bar_height}" rx="3" '
            f'fill="{SEVERITY_COLOURS[name]}"><title>{e(name)}: {number}</title></rect>'
            f'<text x="{label_width + length + 6}" y="{y + 18}" font-size="13">{number}</text>'
        )
    height = len(counts) * (bar_height + 8)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="Components by severity" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">{"".join(bars)}</svg>'
    )


def _layers(node_ids: list[str], edges: list[dict]) -> dict[str, int]:
    """Longest-path layering from the sources; nodes on cycles keep the layer they reached."""
    successors: dict[str, list[str]] = defaultdict(list)
    indegree = dict.fromkeys(node_ids, 0)
    for edge in edges:
        successors[edge["source"]].append(edge["target"])
        indegree[edge["target"]] += 1
    layer = dict.fromkeys(node_ids, 0)
    queue = deque(n for n in node_ids if indegree[n] == 0)
    while queue:
        node = queue.popleft()
        for target in successors[node]:
            layer[target] = max(layer[target], layer[node] + 1)
            indegree[target] -= 1
            if indegree[target] == 0:
                queue.append(target)
    return layer


def graph_drawing(bundle: dict) -> str:
    """The dependency graph as a layered SVG: sources on the left, what they use to the right."""
    graph = build_graph(
        bundle.get("components") or [], bundle.get("relationships") or [], limit=GRAPH_NODE_LIMIT
    )
    nodes = graph["nodes"]
    if not nodes:
        return '<p class="muted">No relationships were recorded for this scan.</p>'
    layer = _layers([n["id"] for n in nodes], graph["edges"])
    column_width, row_height, margin = 240, 30, 20
    rows_used: dict[int, int] = defaultdict(int)
    position = {}
    for node in sorted(nodes, key=lambda n: (layer[n["id"]], n["type"], n["label"])):
        column = layer[node["id"]]
        position[node["id"]] = (margin + column * column_width, margin + rows_used[column] * row_height)
        rows_used[column] += 1
    width = margin * 2 + (max(layer.values()) + 1) * column_width
    height = margin * 2 + max(rows_used.values()) * row_height
    parts = []
    for edge in graph["edges"]:
        (x1, y1), (x2, y2) = position[edge["source"]], position[edge["target"]]
        parts.append(
            f'<line x1="{x1 + 8}" y1="{y1}" x2="{x2 - 8}" y2="{y2}" stroke="#9aa5b1" stroke-width="1">'
            f"<title>{e(edge['relation'])}</title></line>"
        )
    for node in nodes:
        x, y = position[node["id"]]
        label = node["label"] if len(node["label"]) <= 30 else node["label"][:29] + "…"
        if "severity" in node:
            colour = SEVERITY_COLOURS.get(node["severity"], FILE_COLOUR)
            shape = f'<circle cx="{x}" cy="{y}" r="7" fill="{colour}"/>'
        else:
            shape = f'<rect x="{x - 6}" y="{y - 6}" width="12" height="12" fill="{FILE_COLOUR}"/>'
        parts.append(
            f'<g>{shape}<text x="{x + 12}" y="{y + 4}" font-size="12">{e(label)}</text>'
            f"<title>{e(node['type'])}: {e(node['label'])}</title></g>"
        )
    note = ""
    if graph["truncated"]:
        note = (
            f'<p class="muted">Showing the {len(nodes)} highest-risk of {graph["total_nodes"]} nodes '
            f"({len(graph['edges'])} of {graph['total_edges']} edges).</p>"
        )
    return (
        f'{note}<div class="graph"><svg xmlns="http://www.w3.org/2000/svg" role="img" '
        f'aria-label="Dependency graph" width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
        f"{''.join(parts)}</svg></div>"
    )


def _component_rows(components: list[dict]) -> str:
    rows = []
    for c in components:
        flags = "".join(f'<span class="flag">{e(flag)}</span>' for flag in c.get("flags") or [])
        search = " ".join(str(c.get(k) or "") for k in ("name", "type", "provider", "version", "model_name"))
        search += " " + " ".join(c.get("flags") or []) + " " + location_text(c)
        rows.append(
            f'<tr data-severity="{e(c.get("severity") or "info")}" data-type="{e(c["type"])}" '
            f'data-search="{e(search.lower())}"><td>{e(c["name"])}</td><td>{e(c["type"])}</td>'
            f"<td>{e(c.get('provider'))}</td><td>{e(c.get('version'))}</td>"
            f"<td>{_severity_badge(c.get('severity'))}</td><td>{e(c.get('risk_score'))}</td>"
            f'<td>{flags}</td><td>{e(c.get("scope"))}</td><td class="loc">{e(location_text(c))}</td></tr>'
        )
    return "".join(rows)


def _components_section(components: list[dict]) -> str:
    types = sorted({c["type"] for c in components})
    severity_options = "".join(f'<option value="{s}">{s}</option>' for s in SEVERITY_ORDER)
    type_options = "".join(f'<option value="{e(t)}">{e(t)}</option>' for t in types)
    return (
        '<section><h2>Components</h2><div class="filters">'
        '<input id="filter-text" type="search" placeholder="Filter by name, flag, file…" aria-label="Filter">'
        f'<select id="filter-severity" aria-label="Severity"><option value="">All severities</option>'
        f"{severity_options}</select>"
        '<select id="filter-type" aria-label="Type"><option value="">All types</option>'
        f"{type_options}</select>"
        '<span id="filter-count" class="muted"></span></div>'
        '<table id="components"><thead><tr><th>Name</th><th>Type</th><th>Provider</th><th>Version</th>'
        "<th>Severity</th><th>Risk</th><th>Flags</th><th>Scope</th><th>Locations</th></tr></thead>"
        f"<tbody>{_component_rows(components)}</tbody></table></section>"
    )


def _status(status: str) -> str:
    return f'<span class="status-{e(status)}">{e(status)}</span>'


def _not_evaluated(title: str, verb: str) -> str:
    return (
        f'<section><h2>{title}</h2><p class="muted">{title} {verb} not evaluated for this scan.</p></section>'
    )


def _compliance_section(compliance: dict | None) -> str:
    if compliance is None:
        return _not_evaluated("Compliance", "was")
    parts = ["<section><h2>Compliance</h2>"]
    for framework in compliance.get("frameworks") or []:
        counts = framework.get("counts") or {}
        tally = " · ".join(
            f"{e(counts.get(status, 0))} {e(status.replace('_', ' '))}" for status in CONTROL_STATUSES
        )
        coverage = coverage_text(framework)
        parts.append(
            f"<h3>{e(framework['name'])} {e(framework.get('version'))} — "
            f"score {e(score_text(framework))}</h3>"
            f'<p class="muted">{tally}{f" · {e(coverage)} controls evaluated" if coverage else ""}</p>'
            "<table><thead><tr><th>Control</th><th>Title</th><th>Status</th><th>Message</th>"
            "<th>Evidence</th><th>Remediation</th></tr></thead><tbody>"
        )
        parts += [
            f"<tr><td>{e(c['id'])}</td><td>{e(c['title'])}</td><td>{_status(c['status'])}</td>"
            f"<td>{e(c.get('message'))}</td><td>{e(evidence_reference(c))}</td><td>{e(c.get('remediation'))}</td></tr>"
            for c in framework.get("controls") or []
        ]
        parts.append("</tbody></table>")
    rules = compliance.get("custom_rules") or []
    if rules:
        parts.append(
            "<h3>Custom rules</h3><table><thead><tr><th>Rule</th><th>Severity</th><th>Status</th>"
            "<th>Matched components</th></tr></thead><tbody>"
        )
        parts += [
            f"<tr><td>{e(r['name'])}</td><td>{_severity_badge(r['severity'])}</td><td>{_status(r['status'])}</td>"
            f"<td>{len(r.get('matched') or [])}</td></tr>"
            for r in rules
        ]
        parts.append("</tbody></table>")
    parts.append("</section>")
    return "".join(parts)


def _policy_section(policies: list[dict] | None) -> str:
    if policies is None:
        return _not_evaluated("Policies", "were")
    rows = []
    for policy in policies:
        violations = "".join(
            f"<li>{_severity_badge(v.get('severity'))} {e(v['message'])}</li>"
            for v in policy.get("violations") or []
        )
        result = "pass" if policy["passed"] else "fail"
        rows.append(
            f"<tr><td>{e(policy['name'])}</td><td>{e(policy['action'])}</td><td>{_status(result)}</td>"
            f"<td><ul>{violations}</ul></td></tr>"
        )
    return (
        "<section><h2>Policies</h2><table><thead><tr><th>Policy</th><th>Action</th><th>Result</th>"
        f"<th>Violations</th></tr></thead><tbody>{''.join(rows)}</tbody></table></section>"
    )


def _source_line(source: dict | None) -> str:
    """Repository, commit, branch and CI run of the scan, as text (links are not followed from a report)."""
    if not source:
        return ""
    labels = (
        ("repository_url", "Repository"),
        ("commit", "commit"),
        ("branch", "branch"),
        ("ref", "ref"),
        ("ci_run_url", "CI run"),
    )
    parts = [f"{label} {e(source[key])}" for key, label in labels if source.get(key)]
    return f"<p>{' · '.join(parts)}</p>"


def _suppression_section(suppressions: list[dict] | None, totals: dict) -> str:
    """Inline-suppressed findings (CLI reports), listed with their reasons; empty when not applied."""
    if suppressions is None:
        return ""
    rows = "".join(
        f"<tr><td>{e(s['name'])}</td><td>{e(s['type'])}</td><td>{e(', '.join(s['flags']))}</td>"
        f"<td>{e(s['file'])}:{e(s['line'])}</td><td>{e(s['reason'])}</td></tr>"
        for s in suppressions
    )
    return (
        f'<section><h2>Suppressed findings</h2><p class="suppressed">{e(totals.get("suppressed", 0))} '
        "findings silenced by <code>trusera:ignore</code> comments.</p><table><thead><tr><th>Name</th>"
        f"<th>Type</th><th>Flags</th><th>Where</th><th>Reason</th></tr></thead><tbody>{rows}</tbody>"
        "</table></section>"
    )


def render(bundle: dict) -> bytes:
    scan = bundle.get("scan") or {}
    tool = bundle.get("tool") or {}
    totals = summary(bundle)
    components = bundle.get("components") or []
    by_type = "".join(
        f"<tr><td>{e(kind)}</td><td>{e(n)}</td></tr>"
        for kind, n in sorted((totals.get("by_type") or {}).items())
    )
    page = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>AI-BOM report: {e(scan.get('target'))}</title>"
        f"<style>{_template('report.css')}</style></head><body>"
        f"<header><h1>AI-BOM report: {e(scan.get('target'))}</h1>"
        f"<p>Scan {e(scan.get('id'))} · {e(scan.get('status'))} · finished {e(scan.get('finished_at'))}"
        f"{' · deep' if scan.get('deep') else ''} · {e(tool.get('name'))} {e(tool.get('version'))}</p>"
        f"{_source_line(scan.get('source'))}"
        "</header><main>"
        '<section><h2>Summary</h2><div class="cards">'
        f'<div class="card"><b>{e(totals.get("total_components"))}</b>components</div>'
        f'<div class="card"><b>{e(totals.get("highest_risk_score"))}</b>highest risk score</div>'
        f'<div class="card"><b>{e(totals.get("files_scanned"))}</b>files scanned</div></div>'
        f"<h3>By severity</h3>{severity_chart(severity_counts(bundle))}"
        f"<h3>By type</h3><table><thead><tr><th>Type</th><th>Components</th></tr></thead><tbody>{by_type}"
        "</tbody></table></section>"
        f"{_components_section(components)}"
        f"{_suppression_section(bundle.get('suppressions'), totals)}"
        f"{_compliance_section(bundle.get('compliance'))}"
        f"{_policy_section(bundle.get('policies'))}"
        f"<section><h2>Dependency graph</h2>{graph_drawing(bundle)}</section>"
        f"</main><script>{_template('report.js')}</script></body></html>"
    )
    return page.encode("utf-8")
