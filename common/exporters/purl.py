"""Package URLs for components, following the purl spec's per-type rules.

A purl is only emitted when it can be right: a package declared in a manifest (its ecosystem
from the manifest file name or the detector's metadata, its name as declared), a container
image, or a Hugging Face model id. An SDK seen only in code gets none: its catalog id is not
necessarily the registry name, and a wrong purl is worse than none because SBOM consumers
match vulnerabilities on it.
"""

from __future__ import annotations

import re
from fnmatch import fnmatchcase
from pathlib import PurePosixPath

from packageurl import PackageURL

from common.exporters.bundle import load_data

_EXACT_VERSION = re.compile(r"v?\d[\w.+!-]*")
_DECLARED_NAME = re.compile(r"[@\w.\-/:]+")
_HUGGING_FACE = {"huggingface", "hugging face", "hugging_face"}


def ecosystem_of(component: dict) -> str | None:
    """purl type of a package component, or None when the evidence does not tell."""
    data = load_data("ecosystems.json")
    if component.get("type") not in data["package_types"]:
        return None
    metadata = component.get("metadata") or {}
    declared = str(metadata.get("ecosystem") or "").lower()
    if declared in data["aliases"]:
        return data["aliases"][declared]
    files = list(metadata.get("manifests") or []) + [loc["file"] for loc in component.get("locations") or []]
    for path in files:
        name = PurePosixPath(path).name
        for pattern, purl_type in data["manifests"]:
            if fnmatchcase(name, pattern):
                return purl_type
    return None


def _exact_version(version: str | None) -> str | None:
    """Only a pinned version belongs in a purl; ranges like '>=1.2' identify no single package."""
    if version and _EXACT_VERSION.fullmatch(version):
        return version
    return None


def _declared_name(component: dict) -> str | None:
    """The name as the manifest wrote it; the component name only when a detector set the ecosystem."""
    metadata = component.get("metadata") or {}
    for value in metadata.get("declared_as") or []:
        match = _DECLARED_NAME.match(str(value).strip())
        if match:
            return match.group(0)
    return component["name"] if metadata.get("ecosystem") else None


def _split_last(path: str) -> tuple[str | None, str]:
    namespace, _, name = path.rpartition("/")
    return namespace or None, name


def package_purl(component: dict) -> PackageURL | None:
    purl_type = ecosystem_of(component)
    name = _declared_name(component)
    if purl_type is None or name is None:
        return None
    version = _exact_version(component.get("version"))
    namespace: str | None = None
    if purl_type == "pypi":
        name = re.sub(r"[-_.]+", "-", name).lower()
    elif purl_type == "npm":
        namespace, name = _split_last(name.lower()) if name.startswith("@") else (None, name.lower())
    elif purl_type == "golang":
        namespace, name = _split_last(name.lower())
    elif purl_type == "maven":
        group = (component.get("metadata") or {}).get("group")
        if ":" in name:
            group, _, name = name.partition(":")
        if not group:
            return None
        namespace = group
    return PackageURL(type=purl_type, namespace=namespace, name=name, version=version)


def container_purl(component: dict) -> PackageURL:
    namespace, name = _split_last(component["name"].lower())
    return PackageURL(type="docker", namespace=namespace, name=name, version=component.get("version") or None)


def model_purl(component: dict) -> PackageURL | None:
    provider = str(component.get("provider") or "").lower()
    if provider not in _HUGGING_FACE or "/" not in component["name"]:
        return None
    namespace, name = _split_last(component["name"])
    return PackageURL(
        type="huggingface", namespace=namespace, name=name, version=component.get("version") or None
    )


def purl_for(component: dict) -> PackageURL | None:
    kind = component.get("type")
    if kind == "container":
        return container_purl(component)
    if kind == "model":
        return model_purl(component)
    return package_purl(component)
