"""The API documents itself: every operation of the served OpenAPI document has a summary, a request
example and a response example, and each example is valid against the schema it illustrates."""

from __future__ import annotations

import copy

import jsonschema

HTTP_METHODS = ("get", "put", "post", "delete", "patch")


def _operations(spec):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield f"{method.upper()} {path}", operation


def _json_schema(node):
    """OpenAPI 3.0 schema -> JSON Schema: ``nullable`` becomes a null type, refs point into the document."""
    if isinstance(node, list):
        return [_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _json_schema(value) for key, value in node.items() if key != "nullable"}
    if node.get("nullable"):
        if "type" in converted:
            converted["type"] = [converted["type"], "null"]
        if "enum" in converted:
            converted["enum"] = [*converted["enum"], None]
    if "$ref" in converted:
        converted["$ref"] = converted["$ref"].replace("#/components/schemas/", "#/$defs/")
    return converted


def _validator(spec, schema):
    document = {**_json_schema(copy.deepcopy(schema)), "$defs": _json_schema(spec["components"]["schemas"])}
    return jsonschema.Draft202012Validator(document)


def _success(operation):
    for code in sorted(operation["responses"]):
        if code.startswith("2"):
            return code, operation["responses"][code]
    return None, None


def test_every_operation_has_a_summary_a_request_example_and_a_response_example(client):
    spec = client.get("/api/v1/openapi.json").json
    problems = []
    operations = list(_operations(spec))
    assert len(operations) >= 80
    for name, operation in operations:
        if not (operation.get("summary") or "").strip():
            problems.append(f"{name}: no summary")
        samples = operation.get("x-codeSamples") or []
        method = name.split()[0]
        if not any(sample["source"].startswith(f"curl -X {method} ") for sample in samples):
            problems.append(f"{name}: no request example (curl in x-codeSamples)")
        for media_type, media in (operation.get("requestBody") or {}).get("content", {}).items():
            if "example" not in media:
                problems.append(f"{name}: no request body example ({media_type})")
        code, response = _success(operation)
        for media_type, media in (response or {}).get("content", {}).items():
            if "example" not in media:
                problems.append(f"{name}: no {code} response example ({media_type})")
    assert not problems, "\n".join(problems)


def test_every_json_example_is_valid_against_its_schema(client):
    spec = client.get("/api/v1/openapi.json").json
    problems = []
    for name, operation in _operations(spec):
        pairs = []
        body = (operation.get("requestBody") or {}).get("content", {}).get("application/json")
        if body and "example" in body:
            pairs.append(("request", body))
        code, response = _success(operation)
        media = (response or {}).get("content", {}).get("application/json")
        if media and "example" in media:
            pairs.append((f"{code} response", media))
        for what, media in pairs:
            for error in _validator(spec, media["schema"]).iter_errors(media["example"]):
                problems.append(f"{name} {what} example: {error.json_path}: {error.message}")
    assert not problems, "\n".join(problems[:40])


def test_the_curl_examples_name_the_documented_authentication(client):
    spec = client.get("/api/v1/openapi.json").json
    for name, operation in _operations(spec):
        source = operation["x-codeSamples"][0]["source"]
        bearer = any("bearerAuth" in requirement for requirement in operation.get("security") or [])
        assert ("Authorization: Bearer" in source) == bearer, name
        if "requestBody" in operation:
            assert "-d '" in source and "Content-Type: application/json" in source, name


def test_an_upload_read_from_the_raw_body_shows_its_document_in_curl(client):
    """``POST /scans/import`` reads its body itself (no declared requestBody): the curl still sends one."""
    spec = client.get("/api/v1/openapi.json").json
    operation = spec["paths"]["/api/v1/scans/import"]["post"]
    assert "requestBody" not in operation
    source = operation["x-codeSamples"][0]["source"]
    assert "Content-Type: application/json" in source and '-d \'{"components": [' in source
