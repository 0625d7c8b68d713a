"""What changed between two scans of the same target, matched by the stable component id."""

from __future__ import annotations

COMPARED_FIELDS = (
    "name",
    "type",
    "provider",
    "version",
    "model_name",
    "flags",
    "risk_score",
    "severity",
    "scope",
    "locations",
)


def _comparable(component: dict, field: str):
    """Order-insensitive values for the list fields, so a re-ordered list is not a change."""
    value = component.get(field)
    if field == "flags":
        return sorted(value or [])
    if field == "locations":
        return sorted({f"{loc['file']}:{loc.get('line') or 0}" for loc in value or []})
    return value


def _order(component: dict) -> tuple:
    return (component["type"], component["name"], component["id"])


def _risk(components: list[dict]) -> int:
    return sum(int(c.get("risk_score") or 0) for c in components)


def compare(before: list[dict], after: list[dict], fields: tuple[str, ...] = COMPARED_FIELDS) -> dict:
    """added / removed (whole components), changed (per-field before/after) and a summary.

    Risk is the sum of component risk scores, so a new flag on any component moves the
    delta even when the scan's highest score stays the same. ``fields`` narrows what counts
    as a change (a baseline ignores ``locations``, so moved code is not new code).
    """
    old = {c["id"]: c for c in before}
    new = {c["id"]: c for c in after}
    changed = []
    unchanged = 0
    for component_id in sorted(old.keys() & new.keys(), key=lambda i: _order(new[i])):
        changes = {}
        for field in fields:
            was, now = _comparable(old[component_id], field), _comparable(new[component_id], field)
            if was != now:
                changes[field] = {"before": was, "after": now}
        if changes:
            current = new[component_id]
            changed.append(
                {"id": component_id, "name": current["name"], "type": current["type"], "changes": changes}
            )
        else:
            unchanged += 1
    added = sorted((new[i] for i in new.keys() - old.keys()), key=_order)
    removed = sorted((old[i] for i in old.keys() - new.keys()), key=_order)
    risk_before, risk_after = _risk(list(old.values())), _risk(list(new.values()))
    return {
        "added": added,
        "removed": removed,
        "changed": changed,
        "summary": {
            "added": len(added),
            "removed": len(removed),
            "changed": len(changed),
            "unchanged": unchanged,
            "risk_before": risk_before,
            "risk_after": risk_after,
            "risk_delta": risk_after - risk_before,
        },
    }
