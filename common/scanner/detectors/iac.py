"""AI cloud resources in infrastructure as code: Terraform and OpenTofu (``.tf``/``.tofu``, their JSON
syntax ``.tf.json`` as CDK for Terraform writes it, ``.tfvars``), CloudFormation (YAML/JSON, SAM, CDK's
synthesized templates), Bicep, ARM JSON templates (``iac_arm``) and parameters files, and Pulumi YAML.

Each resource of a type listed in ``data/iac.yaml`` (Bedrock, SageMaker, Vertex AI, Azure OpenAI /
AI Services / ML, Kendra, Lex, Comprehend, Rekognition, Q Business, Agent Builder, Document AI,
Dialogflow) becomes a ``cloud_resource`` named ``<resource type>.<logical name>``; a model id
written in the resource (Bedrock ``foundation_model``, Azure deployment ``model { name }``, SageMaker
``HF_MODEL_ID``, Vertex Model Garden ids) is also a ``model`` component linked by ``uses_model``.
Flags: ``gpu_instance`` (instance/machine/accelerator types matching ``gpu_instance_patterns``) and
``internet_facing`` (per-type rules: public network access left on, notebooks with direct internet
access, Vertex endpoints outside a VPC, SageMaker endpoints whose model is not attached to a VPC).

Terraform is read by a tolerant line-based block parser (strings, comments and heredocs aware, no
network, no provider schemas): ``var.x`` and ``local.x`` resolve to literal defaults in the same file,
anything else is a reference. CloudFormation YAML keeps ``!Ref``/``!GetAtt`` as references; a Bedrock
ARN built with interpolations (``${var.region}``, ``!Sub``, ``Fn::Join``) still names its model, wherever
the ARN is written (an IAM policy, a local, a function's environment). Bicep
resources are named like CloudFormation's, by their ARM type without the API version
(``Microsoft.CognitiveServices/accounts.openAi``); model deployments written as data in params, vars
and module calls are models too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from common.scanner.catalog import load_yaml, match_model
from common.scanner.detectors.base import Detector, FileReport, Finding, SourceFile
from common.scanner.detectors.containers import YamlNode, compose_yaml_documents
from common.scanner.keys import component_key
from common.scanner.lazy import lazy_module, lazy_re
from common.scanner.limits import line_at, linear, parse_json
from common.scanner.model_constants import CATALOG_LITERAL
from common.scanner.textutil import code_model_literals, comment_line_numbers, endpoint_for_url, model_finding

yaml = lazy_module("yaml")
DATA_FILE = Path(__file__).resolve().parent.parent / "data" / "iac.yaml"
MAX_BYTES = 10 * 1024 * 1024
MAX_DEPTH = 64
CFN_SUFFIXES = (".yaml", ".yml", ".json", ".template")
TERRAFORM_SUFFIXES = (".tf", ".tofu")  # OpenTofu reads ``.tofu`` files (and ``.tofu.json``) like Terraform's
PULUMI_PROGRAMS = ("pulumi.yaml", "pulumi.yml", "main.yaml", "main.yml")  # a Pulumi YAML program
ARM_SCHEMA = linear(r"deploymentTemplate\.json#", re.IGNORECASE)  # the $schema of an ARM template
ARM_PARAMETERS_SCHEMA = linear(r"deploymentParameters\.json#", re.IGNORECASE)  # an ARM parameters file
# azd substitutes ``${NAME=default}`` in main.parameters.json from the environment, else the default
AZD_SUBSTITUTION = linear(r"^\$\{[A-Za-z_]\w{0,80}=([^{}$]{1,200})\}$")


@cache
def load_rules() -> dict:
    data = load_yaml(DATA_FILE)
    data["gpu_regexes"] = [linear(p, re.IGNORECASE) for p in data["gpu_instance_patterns"]]
    return data


def rule_for(resource_type: str) -> dict | None:
    """The rule of a resource type: its own entry, else the family its prefix names
    (``aws_sagemaker_pipeline``, ``AWS::SageMaker::FeatureGroup``, ``google_vertex_ai_*``)."""
    rules = load_rules()
    exact = rules["resources"].get(resource_type)
    if exact is not None:
        return exact
    return next(
        (entry for entry in rules["resource_prefixes"] if resource_type.startswith(entry["prefix"])), None
    )


@dataclass
class Value:
    """An attribute value with its line: a literal (str), a map/block (dict), a list, or a reference."""

    line: int
    literal: str | dict | list | None = None
    ref: str | None = None  # the referenced resource: Terraform "type.name" or a CloudFormation logical id
    # a string whose interpolations stay unresolved ("arn:aws:bedrock:${var.region}::foundation-model/..."):
    # never a name, but the model id at the end of an ARN is literal
    template: str | None = None


@dataclass
class Resource:
    type: str
    name: str
    line: int
    body: Value
    iac: str


def lookup(value: Value | None, path: str) -> list[Value]:
    """Every value at a dotted path; lists (repeated blocks, sequences) fan out."""
    current = [value] if value is not None else []
    for segment in path.split("."):
        found = []
        for item in current:
            for element in item.literal if isinstance(item.literal, list) else [item]:
                if isinstance(element.literal, dict) and segment in element.literal:
                    found.append(element.literal[segment])
        current = found
    expanded = []
    for item in current:
        expanded.extend(item.literal if isinstance(item.literal, list) else [item])
    return expanded


def texts(value: Value | None, path: str) -> list[tuple[str, int]]:
    return [(v.literal, v.line) for v in lookup(value, path) if isinstance(v.literal, str)]


def model_texts(value: Value | None, path: str) -> list[tuple[str, int]]:
    """Literal strings at a path, and the ARNs whose region or account is interpolated
    (``arn:aws:bedrock:${AWS::Region}::foundation-model/amazon.titan-embed-text-v2:0``)."""
    return [
        (v.literal if isinstance(v.literal, str) else v.template, v.line)
        for v in lookup(value, path)
        if isinstance(v.literal, str) or (v.template or "").startswith("arn:")
    ]


# ---------------------------------------------------------------------------------------------------
# Terraform
# ---------------------------------------------------------------------------------------------------

BLOCK_RE = linear(r'^([A-Za-z_][\w-]*)((?:\s+(?:"[^"]*"|[A-Za-z_][\w-]*))*)\s*\{(.*)$')
ATTR_RE = linear(r"^([A-Za-z_][\w-]*)\s*=\s*(.*)$")
LABEL_RE = linear(r'"([^"]*)"|([A-Za-z_][\w-]*)')
HEREDOC_RE = linear(r"<<-?\s*([A-Za-z_]\w*)\s*$")
TRAVERSAL_RE = linear(r"^([A-Za-z_][\w-]*)\.([A-Za-z_][\w-]*)(?:\[[^\]]*\])?(?:\.[\w.\[\]\"*]+)?$")
INTERP_RE = linear(r"\$\{\s*(var|local)\.([A-Za-z_][\w-]*)\s*\}")
MAP_PAIR_RE = linear(r'("(?:[^"\\]|\\.)*"|[\w.-]+)\s*[=:]\s*("(?:[^"\\]|\\.)*"|[^\s,}]+)')
STRING_RE = linear(r'"((?:[^"\\]|\\.)*)"')
COLLECTION_CALL_RE = linear(r"^(?:toset|tolist|distinct|flatten|sort)\(\s*(.*?)\s*\)$")
EACH_RE = linear(r"^\s*each\.(?:value|key)\s*$")


class HclLines:
    """Lines of HCL with comments and heredoc bodies removed and the bracket balance of each line.

    Brackets inside strings (and inside ``${...}`` interpolations within strings) do not count.
    """

    def __init__(self, lines: list[str]):
        self.lines = lines

    def __iter__(self) -> Iterator[tuple[int, str, int]]:
        in_comment = False
        heredoc: str | None = None
        for number, raw in enumerate(self.lines, 1):
            if heredoc is not None:
                if raw.strip() == heredoc:
                    heredoc = None
                continue
            code, balance, in_comment = self.strip_line(raw, in_comment)
            if match := HEREDOC_RE.search(code):
                heredoc = match.group(1)
                code = code[: match.start()] + '""'
            yield number, code, balance

    @staticmethod
    def strip_line(raw: str, in_comment: bool) -> tuple[str, int, bool]:
        out: list[str] = []
        balance = 0
        stack: list[str] = []  # '"' inside a string, '$' inside an interpolation within a string
        i, n = 0, len(raw)
        while i < n:
            ch = raw[i]
            if in_comment:
                if raw.startswith("*/", i):
                    in_comment = False
                    i += 2
                else:
                    i += 1
                continue
            in_string = bool(stack) and stack[-1] == '"'
            if in_string:
                out.append(ch)
                if ch == "\\" and i + 1 < n:
                    out.append(raw[i + 1])
                    i += 2
                    continue
                if ch == '"':
                    stack.pop()
                elif raw.startswith(("${", "%{"), i):
                    out.append("{")
                    stack.append("$")
                    i += 2
                    continue
                i += 1
                continue
            if ch == "#" or raw.startswith("//", i):
                break
            if raw.startswith("/*", i):
                in_comment = True
                i += 2
                continue
            out.append(ch)
            if ch == '"':
                stack.append('"')
            elif ch in "{[(":
                if not stack:
                    balance += 1
            elif ch in "}])":
                if stack and stack[-1] == "$" and ch == "}":
                    stack.pop()
                elif not stack:
                    balance -= 1
            i += 1
        return "".join(out), balance, in_comment


def unquote(text: str) -> str:
    return text[1:-1].replace('\\"', '"').replace("\\\\", "\\").replace("\\n", "\n")


class TerraformFile:
    """Top-level blocks of one .tf file as nested ``Value`` trees, plus variable and local literals."""

    def __init__(self, lines: list[str]):
        self.blocks: list[tuple[list[str], int, dict]] = []  # (labels, line, raw body)
        self.variables: dict[str, str] = {}
        self.locals: dict[str, tuple] = {}
        self.parse(lines)
        self.locals = {
            name: raw
            for labels, _, body in self.blocks
            if labels == ["locals"]
            for name, raw in body.items()
            if raw[0] == "raw"
        }
        self.variables = self.literal_defaults("variable", "default")

    def parse(self, lines: list[str]) -> None:
        stack: list[dict] = []
        pending: tuple[dict, str, int, list[str], int] | None = None  # target, name, line, parts, depth
        for number, code, balance in HclLines(lines):
            if pending is not None:
                target, name, line, parts, depth = pending
                parts.append(code)
                depth += balance
                if depth > 0:
                    pending = (target, name, line, parts, depth)
                    continue
                target[name] = ("raw", " ".join(parts), line)
                pending = None
                continue
            text = code.strip()
            if not text:
                continue
            if text.startswith("}"):
                if stack:
                    stack.pop()
                continue
            if block := BLOCK_RE.match(text):
                labels = [block.group(1)] + [a or b for a, b in LABEL_RE.findall(block.group(2))]
                body: dict = {}
                if not stack:
                    self.blocks.append((labels, number, body))
                else:
                    stack[-1].setdefault(labels[0], ("blocks", [], number))[1].append((number, body))
                inline = block.group(3).strip()
                if balance <= 0:  # one-line block: name { a = 1 }
                    for key, raw in MAP_PAIR_RE.findall(inline.rstrip("}")):
                        body[key.strip('"')] = ("raw", raw, number)
                else:
                    stack.append(body)
                continue
            if stack and (attr := ATTR_RE.match(text)):
                if balance > 0:
                    pending = (stack[-1], attr.group(1), number, [attr.group(2)], balance)
                else:
                    stack[-1][attr.group(1)] = ("raw", attr.group(2), number)

    def literal_defaults(self, kind: str, attribute: str) -> dict[str, str]:
        found = {}
        for labels, _, body in self.blocks:
            if len(labels) == 2 and labels[0] == kind and attribute in body:
                value = self.evaluate(body[attribute][1], body[attribute][2])
                if isinstance(value.literal, str):
                    found[labels[1]] = value.literal
        return found

    def evaluate(self, raw: str, line: int, depth: int = 0) -> Value:
        raw = raw.strip().rstrip(",")
        if raw.startswith('"') and raw.endswith('"') and len(raw) >= 2:
            text = unquote(raw)
            text = INTERP_RE.sub(lambda m: self.interpolate(m, depth), text)
            return Value(line, None, template=text) if "${" in text else Value(line, text)
        if raw in ("true", "false") or re.fullmatch(r"-?\d+(\.\d+)?", raw):
            return Value(line, raw)
        if raw.startswith("{"):
            return Value(
                line,
                {k.strip('"'): self.evaluate(v, line, depth) for k, v in MAP_PAIR_RE.findall(raw[1:])},
            )
        if raw.startswith("["):
            return Value(line, [Value(line, unquote(f'"{s}"')) for s in STRING_RE.findall(raw)])
        if (wrapped := COLLECTION_CALL_RE.match(raw)) and depth <= 8:
            return self.evaluate(wrapped.group(1), line, depth + 1)  # toset([...]), tolist(local.apis)
        if match := TRAVERSAL_RE.match(raw):
            head, name = match.groups()
            if head == "local" and name in self.locals and depth <= 8:
                listed = self.evaluate(self.locals[name][1], self.locals[name][2], depth + 1)
                if isinstance(listed.literal, list):
                    return Value(line, listed.literal)
            if head in ("var", "local"):
                resolved = self.resolve(head, name, depth)
                return Value(line, resolved)
            if head not in ("data", "module", "each", "count", "path", "terraform"):
                return Value(line, None, ref=f"{head}.{name}")
        return Value(line)

    def interpolate(self, match: re.Match, depth: int) -> str:
        resolved = self.resolve(match.group(1), match.group(2), depth)
        return resolved if resolved is not None else match.group(0)

    def resolve(self, head: str, name: str, depth: int) -> str | None:
        if head == "var":
            return self.variables.get(name)
        raw = self.locals.get(name)
        if raw is None or depth > 8:
            return None
        value = self.evaluate(raw[1], raw[2], depth + 1)
        return value.literal if isinstance(value.literal, str) else None

    def to_value(self, body: dict, line: int) -> Value:
        """A block's attributes; ``each.value``/``each.key`` stand for every element of a literal
        ``for_each`` collection (``for_each = toset(["aiplatform.googleapis.com", ...])``)."""
        fields: dict[str, Value] = {}
        each = self.evaluate(body["for_each"][1], body["for_each"][2]) if "for_each" in body else None
        for name, (kind, payload, at) in body.items():
            if (
                kind == "raw"
                and each is not None
                and isinstance(each.literal, list)
                and EACH_RE.match(payload)
            ):
                fields[name] = Value(at, [Value(at, element.literal) for element in each.literal])
            elif kind == "raw":
                fields[name] = self.evaluate(payload, at)
            else:
                fields[name] = Value(at, [self.to_value(child, child_line) for child_line, child in payload])
        return Value(line, fields)

    def resources(self) -> Iterator[Resource]:
        for labels, line, body in self.blocks:
            if len(labels) == 3 and labels[0] == "resource":
                yield Resource(labels[1], labels[2], line, self.to_value(body, line), "terraform")

    def modules(self) -> Iterator[tuple[str, int, str]]:
        for labels, line, body in self.blocks:
            if len(labels) == 2 and labels[0] == "module" and "source" in body:
                source = self.evaluate(body["source"][1], body["source"][2])
                if isinstance(source.literal, str):
                    yield labels[1], line, source.literal


# a module fetched from its GitHub repository rather than the registry: the registry publishes
# ``<namespace>/<name>/<provider>`` from the repository ``<namespace>/terraform-<provider>-<name>``
# (``git::https://github.com/aws-ia/terraform-aws-bedrock.git//examples/x?ref=v0.0.29``, ``github.com/...``)
GITHUB_MODULE_SOURCE = linear(
    r"^(?:git::)?(?:https://|ssh://git@|git@)?github\.com[/:]([\w.-]+)/terraform-([a-z0-9]+)-([\w-]+?)(?:\.git)?(?:/|\?|$)"
)


def module_registry_address(source: str) -> str:
    """The registry address a module source names: the source itself, or the address the registry
    gives the GitHub repository it is fetched from."""
    repository = GITHUB_MODULE_SOURCE.match(source)
    if repository is None:
        return source
    namespace, provider, name = repository.groups()
    return f"{namespace}/{name}/{provider}"


# ---------------------------------------------------------------------------------------------------
# CloudFormation
# ---------------------------------------------------------------------------------------------------

CFN_MARKERS = (  # AWS::Bedrock::, AWS::BedrockAgentCore::, and the prefixes data/iac.yaml lists
    "AWS::Bedrock",
    "AWS::SageMaker::",
    "AWS::Kendra::",
    "AWS::Lex::",
    "AWS::Comprehend::",
    "AWS::Rekognition::",
    "AWS::QBusiness::",
)
BICEP_MARKERS = (
    "Microsoft.CognitiveServices",
    "Microsoft.MachineLearningServices",
    "avm/res/",
    "model",
)


def intrinsic_template(function: str, argument: Value) -> str | None:
    """The text a ``Fn::Sub`` or ``Fn::Join`` builds, its references left as ``${…}``:
    ``!Sub arn:aws:bedrock:${AWS::Region}::foundation-model/…``, ``{"Fn::Sub": [text, {…}]}``,
    ``!Join ["", ["arn:aws:bedrock:", !Ref AWS::Region, "::foundation-model/…"]]``."""
    parts = argument.literal
    if function in ("Fn::Sub", "!Sub"):
        if isinstance(parts, list):
            parts = parts[0].literal if parts else None
        return parts if isinstance(parts, str) else None
    if not (isinstance(parts, list) and len(parts) == 2 and isinstance(parts[1].literal, list)):
        return None
    separator = parts[0].literal if isinstance(parts[0].literal, str) else ""
    return separator.join(
        piece.literal if isinstance(piece.literal, str) else piece.template or "${}"
        for piece in parts[1].literal
    )


def intrinsic_value(line: int, function: str, argument: Value) -> Value:
    template = intrinsic_template(function, argument)
    if template is None:
        return Value(line)
    return Value(line, None, template=template) if "${" in template else Value(line, template)


def yaml_to_value(node: YamlNode, depth: int = 0) -> Value:
    if depth > MAX_DEPTH:
        return Value(node.line)
    if node.tag in ("!Ref", "!GetAtt") and node.node.value:
        target = node.node.value if isinstance(node.node.value, str) else ""
        if node.is_sequence:
            target = node.elements()[0].text or ""
        return Value(node.line, None, ref=target.split(".")[0])
    if node.tag in ("!Sub", "!Join"):
        if isinstance(node.node.value, str):
            argument = Value(node.line, node.node.value)
        else:
            argument = Value(node.line, [yaml_to_value(child, depth + 1) for child in node.elements()])
        return intrinsic_value(node.line, "!Sub" if node.tag == "!Sub" else "Fn::Join", argument)
    if node.is_mapping:
        fields = {key: yaml_to_value(child, depth + 1) for key, child in node.items()}
        if len(fields) == 1 and ("Ref" in fields or "Fn::GetAtt" in fields):
            intrinsic = next(iter(fields.values()))
            target = intrinsic.literal
            if isinstance(target, list):
                target = target[0].literal if target else None
            return Value(node.line, None, ref=target.split(".")[0] if isinstance(target, str) else None)
        if len(fields) == 1 and ("Fn::Sub" in fields or "Fn::Join" in fields):
            function, argument = next(iter(fields.items()))
            return intrinsic_value(node.line, function, argument)
        return Value(node.line, fields)
    if node.is_sequence:
        return Value(node.line, [yaml_to_value(child, depth + 1) for child in node.elements()])
    return Value(node.line, node.text)


def json_to_value(data: object, line: int, depth: int = 0) -> Value:
    """Fallback for JSON templates YAML cannot read: every value carries the resource's line."""
    if depth > MAX_DEPTH:
        return Value(line)
    if isinstance(data, dict):
        if len(data) == 1 and ("Ref" in data or "Fn::GetAtt" in data):
            target = next(iter(data.values()))
            target = target[0] if isinstance(target, list) and target else target
            return Value(line, None, ref=target.split(".")[0] if isinstance(target, str) else None)
        if len(data) == 1 and ("Fn::Sub" in data or "Fn::Join" in data):
            function, argument = next(iter(data.items()))
            return intrinsic_value(line, function, json_to_value(argument, line, depth + 1))
        return Value(line, {str(k): json_to_value(v, line, depth + 1) for k, v in data.items()})
    if isinstance(data, list):
        return Value(line, [json_to_value(v, line, depth + 1) for v in data])
    if isinstance(data, bool):
        return Value(line, str(data).lower())
    return Value(line, None if data is None else str(data))


def yaml_head_before_error(text: str, error: yaml.YAMLError) -> str | None:
    """The text before the top-level entry an error sits in: a template followed by lines pasted after
    it (the ``aws cloudformation deploy \\`` command that deploys it) is still a template up to there.
    None when the error carries no position or sits in the first entry."""
    marks = [
        mark.line
        for mark in (getattr(error, "context_mark", None), getattr(error, "problem_mark", None))
        if mark is not None
    ]
    if not marks:
        return None
    lines = text.splitlines(keepends=True)
    index = min(min(marks), len(lines) - 1)
    while index > 0 and not (lines[index][:1].strip() and not lines[index].startswith("#")):
        index -= 1  # back to the line the top-level entry holding the error starts on
    return "".join(lines[:index]) if index > 0 else None


def cfn_yaml_resources(text: str) -> list[Resource]:
    documents = compose_yaml_documents(text)
    template = documents[0] if documents and documents[0].is_mapping else None
    resources = template.get("Resources") if template else None
    return [
        Resource(body.text_at("Type") or "", logical, line, yaml_to_value(body), "cloudformation")
        for logical, line, body in (resources.entries() if resources is not None else [])
        if body.is_mapping
    ]


def cfn_resources(file: SourceFile, report: FileReport) -> list[Resource]:
    try:
        return cfn_yaml_resources(file.text)
    except RecursionError:
        pass
    except yaml.YAMLError as error:
        head = yaml_head_before_error(file.text, error) if not file.text.lstrip().startswith("{") else None
        try:
            if head and "Resources" in head:
                return cfn_yaml_resources(head)
        except (yaml.YAMLError, RecursionError):
            pass
    try:
        data = parse_json(file.text)
    except (ValueError, RecursionError) as exc:
        report.warnings.append(f"iac: {file.relpath} is not a readable template ({type(exc).__name__})")
        return []
    found = []
    resources = data.get("Resources") if isinstance(data, dict) else None
    for logical, body in resources.items() if isinstance(resources, dict) else []:
        if isinstance(body, dict) and isinstance(body.get("Type"), str):
            line = line_of(file.text, f'"{logical}"')
            found.append(Resource(body["Type"], logical, line, json_to_value(body, line), "cloudformation"))
    return found


TERRAFORM_JSON_REFERENCE = linear(r"^\$\{([A-Za-z_][\w-]*)\.([A-Za-z_][\w-]*)[^{}]*\}$")


def terraform_json_value(node: YamlNode, depth: int = 0) -> Value:
    """A Terraform JSON body (read as YAML, for the lines) as a ``Value``:
    ``"${aws_sagemaker_model.m.name}"`` references a resource, other strings with ``${…}`` are templates."""
    line = node.line
    if depth > MAX_DEPTH:
        return Value(line)
    if node.is_mapping:
        return Value(line, {key: terraform_json_value(child, depth + 1) for key, child in node.items()})
    if node.is_sequence:
        return Value(line, [terraform_json_value(child, depth + 1) for child in node.elements()])
    text = node.text
    if text is None:
        return Value(line)
    if reference := TERRAFORM_JSON_REFERENCE.match(text):
        head, name = reference.groups()
        if head in ("var", "local", "data", "module", "each", "count", "path", "terraform"):
            return Value(line, None, template=text)
        return Value(line, None, ref=f"{head}.{name}")
    return Value(line, None, template=text) if "${" in text else Value(line, text)


def pulumi_resources(file: SourceFile, report: FileReport) -> list[Resource]:
    """The ``resources`` of a Pulumi YAML program: ``<name>: {type: aws:bedrock:AgentAgent, properties:
    {...}}``, named ``<type token>.<name>`` like the other flavours."""
    try:
        documents = compose_yaml_documents(file.text)
    except (yaml.YAMLError, RecursionError) as exc:
        report.warnings.append(f"iac: {file.relpath} is not a readable Pulumi program ({type(exc).__name__})")
        return []
    program = documents[0] if documents and documents[0].is_mapping else None
    resources = program.get("resources") if program is not None else None
    found = []
    for name, line, body in resources.entries() if resources is not None else []:
        resource_type = body.text_at("type") if body.is_mapping else None
        if resource_type:
            properties = body.get("properties")
            value = yaml_to_value(properties) if properties is not None else Value(line, {})
            found.append(Resource(resource_type, name, line, value, "pulumi"))
    return found


def line_of(text: str, needle: str) -> int:
    index = text.find(needle)
    return line_at(text, index) if index >= 0 else 0


# ---------------------------------------------------------------------------------------------------
# Bicep
# ---------------------------------------------------------------------------------------------------

BICEP_IDENTIFIER = linear(r"[A-Za-z_][\w]*")
BICEP_RESOURCE = linear(r"resource\s+([A-Za-z_]\w*)\s+'([^'\n]+)'\s*(existing\s*)?=")
BICEP_BINDING = linear(r"(param|var)\s+([A-Za-z_]\w*)(?:\s+[A-Za-z_][\w.]*(?:\[\])?)?\s*=")
BICEP_MODULE = linear(r"module\s+([A-Za-z_]\w*)\s+'([^'\n]*)'\s*=")
# an Azure Verified Module from the public registry deploys one resource type its path names:
# ``br/public:avm/res/cognitive-services/account:0.10.1`` is a ``Microsoft.CognitiveServices/accounts``
AVM_RESOURCE_MODULE = linear(
    r"^br(?:/public:|:mcr\.microsoft\.com/bicep/)avm/res/([a-z0-9-]{1,80})/([a-z0-9-]{1,80}):"
)
MAX_BICEP_VALUES = 50_000


class BicepFile:
    """A tolerant reader of Bicep declarations: ``resource`` bodies (nested child resources, loops and
    conditions included) as ``Value`` trees, and ``param``/``var``/``module`` values. A bare identifier
    naming a ``param``/``var`` with a literal string resolves to it; anything else is a reference."""

    def __init__(self, text: str):
        self.text = text
        self.pos = 0
        self.budget = MAX_BICEP_VALUES
        self.literals: dict[str, str] = {}
        self.resources: list[Resource] = []
        self.other_values: list[Value] = []  # params, vars and module bodies
        self.parent_types: list[str] = []  # the types of the resources being read, outermost first
        self.parse()

    # --- lexical helpers ---

    def skip_space(self, newlines: bool = True) -> None:
        text, length = self.text, len(self.text)
        while self.pos < length:
            char = text[self.pos]
            if char in " \t\r," or (newlines and char == "\n"):
                self.pos += 1
            elif text.startswith("//", self.pos):
                end = text.find("\n", self.pos)
                self.pos = length if end < 0 else end
            elif text.startswith("/*", self.pos):
                end = text.find("*/", self.pos + 2)
                self.pos = length if end < 0 else end + 2
            else:
                return

    def read_string(self) -> str:
        """The string at ``pos`` (quoted with backslash escapes, or triple-quoted); ``pos`` moves past it."""
        text = self.text
        if text.startswith("'''", self.pos):
            end = text.find("'''", self.pos + 3)
            end = len(text) if end < 0 else end
            value, self.pos = text[self.pos + 3 : end], end + 3
            return value
        index, parts = self.pos + 1, []
        while index < len(text) and text[index] not in "'\n":
            if text[index] == "\\" and index + 1 < len(text):
                parts.append(text[index + 1])
                index += 2
                continue
            parts.append(text[index])
            index += 1
        self.pos = index + 1
        return "".join(parts)

    def skip_expression(self) -> str:
        """Everything up to the end of the line, or the comma that ends an item of a one-line object or
        array (``{ name: chatModelName, version: '1' }``), outside brackets and strings (an expression)."""
        text, start, depth = self.text, self.pos, 0
        while self.pos < len(text):
            char = text[self.pos]
            if char == "'":
                self.read_string()
                continue
            if char in "([{":
                depth += 1
            elif char in ")]}":
                if depth == 0:
                    break
                depth -= 1
            elif char in "\n," and depth == 0:
                break
            self.pos += 1
        return text[start : self.pos].strip()

    # --- values ---

    def value(self, depth: int = 0) -> Value:
        self.skip_space(newlines=False)
        line = line_at(self.text, self.pos)
        self.budget -= 1
        if depth > MAX_DEPTH or self.budget < 0 or self.pos >= len(self.text):
            self.skip_expression()
            return Value(line)
        char = self.text[self.pos]
        if char == "{":
            return self.object(depth)
        if char == "[":
            return self.array(depth)
        if char == "'":
            return Value(line, self.read_string())
        if self.text.startswith("if", self.pos) and re.match(r"if\s*\(", self.text[self.pos : self.pos + 8]):
            self.skip_condition()
            return self.value(depth + 1)
        expression = self.skip_expression()
        if expression in self.literals:
            return Value(line, self.literals[expression])
        head = BICEP_IDENTIFIER.match(expression)
        return Value(line, None, ref=head.group(0) if head else None)

    def skip_condition(self) -> None:
        """Past ``if (…)``, to the value it guards."""
        self.pos = self.text.index("(", self.pos)
        depth = 0
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == "'":
                self.read_string()
                continue
            depth += char == "("
            depth -= char == ")"
            self.pos += 1
            if depth == 0:
                return

    def object(self, depth: int) -> Value:
        line = line_at(self.text, self.pos)
        self.pos += 1
        fields: dict[str, Value] = {}
        while True:
            self.skip_space()
            if self.pos >= len(self.text) or self.text[self.pos] == "}":
                self.pos += 1
                return Value(line, fields)
            if self.text[self.pos] == "@":  # a decorator on a nested resource
                self.skip_expression()
                continue
            nested = BICEP_RESOURCE.match(self.text, self.pos)
            if nested:
                self.resource(nested, self.parent_types[-1] if self.parent_types else None, depth + 1)
                continue
            if self.text[self.pos] == "'":
                key = self.read_string()
            else:
                match = BICEP_IDENTIFIER.match(self.text, self.pos)
                if not match:
                    before = self.pos
                    self.skip_expression()
                    self.pos += self.pos == before  # always make progress over stray text
                    continue
                key, self.pos = match.group(0), match.end()
            self.skip_space(newlines=False)
            if self.pos < len(self.text) and self.text[self.pos] == ":":
                self.pos += 1
                fields[key] = self.value(depth + 1)
            else:
                self.skip_expression()

    def array(self, depth: int) -> Value:
        line = line_at(self.text, self.pos)
        self.pos += 1
        self.skip_space()
        if re.match(r"for\s", self.text[self.pos : self.pos + 4]):
            # [for item in items: <body>]: the body stands for every element
            while self.pos < len(self.text) and self.text[self.pos] not in ":\n]":
                self.pos += 1
            self.pos += 1
            body = self.value(depth + 1)
            self.skip_space()
            self.pos += 1  # the closing bracket
            return Value(line, [body])
        items = []
        while self.pos < len(self.text) and self.text[self.pos] != "]":
            before = self.pos
            items.append(self.value(depth + 1))
            self.pos += self.pos == before  # a stray closing bracket or brace
            self.skip_space()
        self.pos += 1
        return Value(line, items)

    # --- declarations ---

    def resource(self, match: re.Match, parent_type: str | None, depth: int) -> None:
        line = line_at(self.text, match.start())
        resource_type = match.group(2).split("@", 1)[0]
        if parent_type and "/" not in resource_type:
            resource_type = f"{parent_type}/{resource_type}"  # a nested child names only its own segment
        self.pos = match.end()
        self.parent_types.append(resource_type)
        try:
            body = self.value(depth)
        finally:
            self.parent_types.pop()
        if not match.group(3):  # an ``existing`` resource is deployed elsewhere
            self.resources.append(Resource(resource_type, match.group(1), line, body, "bicep"))

    def verified_module(self, module: re.Match, value: Value) -> None:
        """A registry module call deploying an AI resource is that resource, named by the module's
        symbolic name; its ``params`` are the resource's ``properties`` (``publicNetworkAccess``)."""
        resource_type = avm_resource_type(module.group(2))
        if resource_type is None or rule_for(resource_type) is None:
            return
        params = value.literal.get("params") if isinstance(value.literal, dict) else None
        body = Value(value.line, {"properties": params} if params is not None else {})
        self.resources.append(Resource(resource_type, module.group(1), value.line, body, "bicep"))

    def parse(self) -> None:
        for binding in re.finditer(
            r"^[ \t]*(?:param|var)\s+([A-Za-z_]\w*)(?:\s+[A-Za-z_]\w*)?\s*=\s*'([^'\n$]*)'\s*$",
            self.text,
            re.MULTILINE,
        ):
            self.literals[binding.group(1)] = binding.group(2)
        text = self.text
        self.pos = 0
        while True:
            self.skip_space()
            if self.pos >= len(text):
                return
            if text[self.pos] == "@":  # a decorator: @description('…'), @batchSize(1)
                self.pos += 1
                self.skip_expression()
                continue
            resource = BICEP_RESOURCE.match(text, self.pos)
            module = BICEP_MODULE.match(text, self.pos)
            binding = BICEP_BINDING.match(text, self.pos) or module
            if resource:
                self.resource(resource, None, 0)
            elif binding:
                self.pos = binding.end()
                value = self.value()
                self.other_values.append(value)
                if module:
                    self.verified_module(module, value)
            else:
                self.skip_expression()
                if self.pos < len(text) and text[self.pos] in ")]}":
                    self.pos += 1  # a stray closing bracket


def avm_resource_type(path: str) -> str | None:
    """The ARM type an Azure Verified Module deploys: ``avm/res/<provider>/<type>`` in kebab case
    (``machine-learning-services/workspace``) is ``Microsoft.<Provider>/<types>``."""
    match = AVM_RESOURCE_MODULE.match(path)
    if not match:
        return None
    provider = "".join(word.capitalize() for word in match.group(1).split("-"))
    first, *rest = match.group(2).split("-")
    return f"Microsoft.{provider}/{first}{''.join(word.capitalize() for word in rest)}s"


def bicep_models(value: Value, depth: int = 0) -> Iterator[tuple[str, str | None, int]]:
    """Model deployments written as data (``model: {format: 'OpenAI', name: 'gpt-4o', version: …}``)
    anywhere in a value: the deployment lists that params, vars and module calls hand around."""
    if depth > MAX_DEPTH:
        return
    if isinstance(value.literal, dict):
        model = value.literal.get("model")
        if model is not None and isinstance(model.literal, dict):
            name, version = model.literal.get("name"), model.literal.get("version")
            if name is not None and isinstance(name.literal, str) and "format" in model.literal:
                yield (
                    name.literal,
                    version.literal if version and isinstance(version.literal, str) else None,
                    name.line,
                )
        for child in value.literal.values():
            yield from bicep_models(child, depth + 1)
    elif isinstance(value.literal, list):
        for child in value.literal:
            yield from bicep_models(child, depth + 1)


# ---------------------------------------------------------------------------------------------------
# Infrastructure written as code: AWS CDK and Pulumi programs (TypeScript/JavaScript, Python, Go)
# ---------------------------------------------------------------------------------------------------

# a CDK service module bound to a name: ``import * as bedrock from 'aws-cdk-lib/aws-bedrock'``,
# ``import { aws_bedrock as bedrock } from 'aws-cdk-lib'``, ``from aws_cdk import aws_bedrock as bedrock``;
# the experimental L2 modules too (``@aws-cdk/aws-bedrock-alpha``, ``aws_cdk.aws_bedrock_alpha``)
CDK_MODULE = linear(
    r"""import\s+\*\s+as\s+(\w+)\s+from\s+["'](?:aws-cdk-lib/|@aws-cdk/)aws-([a-z0-9]+(?:-alpha)?)["']"""
    r"""|\baws_(\w+)\s+as\s+(\w+)"""
)
# the service modules of AWS's generative AI constructs library (L2 constructs):
# ``import { bedrock } from '@cdklabs/generative-ai-cdk-constructs'``,
# ``from cdklabs.generative_ai_cdk_constructs import bedrock``
GENAI_CONSTRUCTS = linear(
    r"""\{([\w\s,]{1,300})\}\s*from\s+["']@cdklabs/generative-ai-cdk-constructs["']"""
    r"""|from\s+cdklabs\.generative_ai_cdk_constructs\s+import\s+\(?([\w\s,]{1,300})"""
)
# the library bound whole: ``import * as genai from '@cdklabs/generative-ai-cdk-constructs'``,
# ``import cdklabs.generative_ai_cdk_constructs as genai``; its constructs are then
# ``genai.bedrock.Agent(this, ...)``
GENAI_LIBRARY = linear(
    r"""import\s+\*\s+as\s+(\w+)\s+from\s+["']@cdklabs/generative-ai-cdk-constructs["']"""
    r"""|\bimport\s+cdklabs\.generative_ai_cdk_constructs\s+as\s+(\w+)"""
    r"""|from\s+cdklabs\s+import\s+generative_ai_cdk_constructs\s+as\s+(\w+)"""
)
GENAI_QUALIFIED_CONSTRUCT = linear(
    r"""\b(\w+)\.(\w+)\.([A-Z]\w*)\s*\(\s*(?:this|self|scope)\s*,\s*["'`]([^"'`\n]{1,100})["'`]"""
)
# a construct, its id the logical name: an L1 (one CloudFormation resource: ``new bedrock.CfnAgent(this,
# 'Agent', {...})``, ``sagemaker.CfnEndpoint(self, "Endpoint", ...)``) or an L2 (``new bedrock.Agent(this,
# 'Agent', {...})``)
CDK_CONSTRUCT = linear(
    r"""\b(\w+)\.(Cfn)?([A-Z]\w*)\s*\(\s*(?:this|self|scope)\s*,\s*["'`]([^"'`\n]{1,100})["'`]"""
)
# a CDK module's classes imported by name: ``import { CfnEndpoint } from 'aws-cdk-lib/aws-sagemaker'``,
# ``from aws_cdk.aws_bedrock import CfnAgent``
CDK_NAMED_IMPORT = linear(
    r"""import\s*\{([\w\s,]{1,500})\}\s*from\s*["'](?:aws-cdk-lib/|@aws-cdk/)aws-([a-z0-9]+(?:-alpha)?)["']"""
    r"""|from\s+aws_cdk\.aws_(\w+)\s+import\s+\(?([\w\s,]{1,500})"""
)
# a construct of a class imported by name: ``new CfnEndpoint(this, 'Endpoint', {...})``
CDK_BARE_CONSTRUCT = linear(
    r"""(?:^|[^\w.])([A-Z]\w*)\s*\(\s*(?:this|self|scope)\s*,\s*["'`]([^"'`\n]{1,100})["'`]""", re.MULTILINE
)
# a Pulumi provider package bound to a name: ``import * as aws from "@pulumi/aws"``,
# ``import pulumi_azure_native as azure_native``; Go imports the module itself
# (``.../pulumi-gcp/sdk/v8/go/gcp/vertex``)
PULUMI_PACKAGE = linear(
    r"""import\s+\*\s+as\s+(\w+)\s+from\s+["']@pulumi/([\w-]+)["']|\bimport\s+pulumi_(\w+)\s+as\s+(\w+)"""
)
PULUMI_GO_MODULE = linear(r"""["']github\.com/pulumi/pulumi-(\w+)/sdk/v\d+/go/\w+/(\w+)["']""")
# a Pulumi resource, named by its first argument: ``new aws.bedrock.AgentAgent("example", {...})``,
# ``azure_native.cognitiveservices.Account("account", ...)``, Go's
# ``vertex.NewAiEndpoint(ctx, "endpoint", ...)``
PULUMI_RESOURCE = linear(r"""\b(\w+)\.(\w+)\.([A-Z]\w*)\s*\(\s*["'`]([^"'`\n]{1,100})["'`]""")
PULUMI_GO_RESOURCE = linear(r"""\b(\w+)\.New([A-Z]\w*)\s*\(\s*ctx\s*,\s*"([^"\n]{1,100})\"""")


@cache
def cloudformation_namespaces() -> dict[str, str]:
    """The AI services' CloudFormation namespaces by lower-case name (``sagemaker`` -> ``SageMaker``), as
    a CDK module spells the service (``aws-sagemaker``, ``aws_sagemaker``)."""
    prefixes = [entry["prefix"] for entry in load_rules()["resource_prefixes"]]
    prefixes += [t for t in load_rules()["resources"] if t.startswith("AWS::")]
    return {
        p.split("::")[1].lower(): p.split("::")[1]
        for p in prefixes
        if p.startswith("AWS::") and "::" in p[5:]
    }


def cdk_resources(text: str) -> list[Resource]:
    """The resources a CDK program's constructs declare, typed by the CloudFormation namespace of their
    service (``bedrock.CfnAgent`` -> ``AWS::Bedrock::Agent``) and named by the construct id. Only an L2
    module's classes are L2 constructs (aws-cdk-lib's ``bedrock.FoundationModel`` is no resource)."""
    modules: dict[str, tuple[str, bool]] = {}  # alias -> (service, whether its classes are L2 constructs)
    for match in CDK_MODULE.finditer(text):
        alias, module = (
            (match.group(1), match.group(2)) if match.group(1) else (match.group(4), match.group(3))
        )
        service = module.lower().replace("_", "-")
        modules[alias] = (service.removesuffix("-alpha").replace("-", ""), service.endswith("-alpha"))
    for match in GENAI_CONSTRUCTS.finditer(text):
        for imported in (match.group(1) or match.group(2)).split(","):
            written = imported.split()  # ``bedrock`` or ``bedrock as genai``
            if written:
                modules[written[-1]] = (written[0].lower(), True)
    classes: dict[str, tuple[str, str, bool]] = {}  # bound name -> (class, service, whether L2)
    for match in CDK_NAMED_IMPORT.finditer(text):
        names, module = (
            (match.group(1), match.group(2)) if match.group(1) else (match.group(4), match.group(3))
        )
        service = module.lower().replace("_", "-")
        for imported in re.split(r"\s*,\s*", names.strip()):
            written = imported.split()
            if written:
                cls = written[0]
                classes[written[-1]] = (
                    cls,
                    service.removesuffix("-alpha").replace("-", ""),
                    service.endswith("-alpha"),
                )
    namespaces = cloudformation_namespaces()
    found = []
    for match in CDK_BARE_CONSTRUCT.finditer(text) if classes else ():
        cls, service, level_two = classes.get(match.group(1), ("", "", False))
        namespace = namespaces.get(service)
        if namespace and (cls.startswith("Cfn") or level_two):
            line = line_at(text, match.start(1))
            resource_type = f"AWS::{namespace}::{cls.removeprefix('Cfn')}"
            found.append(Resource(resource_type, match.group(2), line, Value(line, {}), "cdk"))
    for match in CDK_CONSTRUCT.finditer(text):
        qualifier, level_one = match.group(1), bool(match.group(2))
        service, level_two = modules.get(qualifier) or (
            (qualifier[4:].lower(), False) if qualifier.startswith("aws_") else ("", False)
        )
        namespace = namespaces.get(service)
        if namespace and (level_one or level_two):
            line = line_at(text, match.start())
            resource_type = f"AWS::{namespace}::{match.group(3)}"
            found.append(Resource(resource_type, match.group(4), line, Value(line, {}), "cdk"))
    libraries = {next(filter(None, m.groups())) for m in GENAI_LIBRARY.finditer(text)}
    for match in GENAI_QUALIFIED_CONSTRUCT.finditer(text) if libraries else ():
        namespace = namespaces.get(match.group(2).lower())
        if match.group(1) in libraries and namespace:
            line = line_at(text, match.start())
            resource_type = f"AWS::{namespace}::{match.group(3)}"
            found.append(Resource(resource_type, match.group(4), line, Value(line, {}), "cdk"))
    return found


def pulumi_program_resources(text: str) -> list[Resource]:
    """The resources a Pulumi program in a general-purpose language declares, typed by their token
    (``aws.bedrock.AgentAgent`` -> ``aws:bedrock:AgentAgent``) and named by the resource name, as a
    Pulumi YAML program's are."""
    packages = {}
    for match in PULUMI_PACKAGE.finditer(text):
        alias, package = (
            (match.group(1), match.group(2)) if match.group(1) else (match.group(4), match.group(3))
        )
        packages[alias] = package.replace("_", "-")
    found = []
    for match in PULUMI_RESOURCE.finditer(text):
        package = packages.get(match.group(1))
        if package:
            line = line_at(text, match.start())
            token = f"{package}:{match.group(2)}:{match.group(3)}"
            found.append(Resource(token, match.group(4), line, Value(line, {}), "pulumi"))
    go_modules = {module: package for package, module in PULUMI_GO_MODULE.findall(text)}
    for match in PULUMI_GO_RESOURCE.finditer(text) if go_modules else ():
        package = go_modules.get(match.group(1))
        if package:
            line = line_at(text, match.start())
            token = f"{package}:{match.group(1)}:{match.group(2)}"
            found.append(Resource(token, match.group(3), line, Value(line, {}), "pulumi"))
    return found


# ---------------------------------------------------------------------------------------------------
# Rules
# ---------------------------------------------------------------------------------------------------


@dataclass
class Evaluation:
    """Applies the data-file rules to the resources of one file (references resolve within the file)."""

    resources: list[Resource]
    by_address: dict[str, Resource] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for resource in self.resources:
            address = (
                resource.name if resource.iac == "cloudformation" else f"{resource.type}.{resource.name}"
            )
            self.by_address[address] = resource

    @staticmethod
    def body(resource: Resource) -> Value:
        properties = lookup(resource.body, "Properties") if resource.iac == "cloudformation" else []
        return properties[0] if properties else resource.body

    def holds(self, resource: Resource, condition: dict) -> bool:
        body = self.body(resource)
        if "present" in condition:
            return bool(lookup(body, condition["present"]))
        if "starts_with" in condition:
            prefix = str(condition["starts_with"]).lower()
            return any(text.lower().startswith(prefix) for text, _ in texts(body, condition["attr"]))
        expected = str(condition["equals"]).lower()
        return any(text.lower() == expected for text, _ in texts(body, condition["attr"]))

    def internet_facing(self, resource: Resource, depth: int = 0) -> bool:
        rule = rule_for(resource.type) or {}
        if depth > 0 and "serves_public_unless" in rule:
            return not any(self.holds(resource, c) for c in rule["serves_public_unless"])
        if "public_when" in rule:
            return any(self.holds(resource, c) for c in rule["public_when"])
        if "private_when" in rule:
            return not any(self.holds(resource, c) for c in rule["private_when"])
        if "public_via" in rule and depth < 4:
            targets = [resource]
            for path in rule["public_via"]:
                targets = [
                    self.by_address[v.ref]
                    for t in targets
                    for v in lookup(self.body(t), path)
                    if v.ref in self.by_address
                ]
            return bool(targets) and all(self.internet_facing(t, depth + 1) for t in targets)
        return False

    def gpu(self, resource: Resource) -> list[str]:
        rule = rule_for(resource.type) or {}
        regexes = load_rules()["gpu_regexes"]
        body = self.body(resource)
        return [
            text
            for path in rule.get("gpu", [])
            for text, _ in texts(body, path)
            if any(r.search(text) for r in regexes)
        ]

    def models(self, resource: Resource) -> list[tuple[str, str | None, int]]:
        rule = rule_for(resource.type) or {}
        body = self.body(resource)
        found = []
        for spec in rule.get("models", []):
            if isinstance(spec, dict):
                versions = texts(body, spec["version"])
                for name, line in texts(body, spec["name"]):
                    found.append((name, versions[0][0] if versions else None, line))
            else:
                found.extend((name, None, line) for name, line in model_texts(body, spec))
        return [(model_id(name), version, line) for name, version, line in found if model_id(name)]

    def tools(self, resource: Resource) -> list[tuple[str, int]]:
        """Functions the resource offers an agent by name (a Bedrock action group's function schema)."""
        body = self.body(resource)
        return [
            (name.strip(), line)
            for path in (rule_for(resource.type) or {}).get("tools", [])
            for name, line in texts(body, path)
            if TOOL_NAME.fullmatch(name.strip())
        ]


def model_id(value: str) -> str:
    """The model id inside an ARN or a Vertex publisher path.

    ``arn:aws:bedrock:…:foundation-model/amazon.titan-embed-text-v2:0`` -> ``amazon.titan-embed-text-v2:0``;
    ``publishers/google/models/gemma3@gemma-3-1b-it`` -> ``gemma-3-1b-it``.
    """
    value = value.strip()
    if value.startswith("arn:"):
        value = value.rsplit("/", 1)[-1] if "/" in value else ""
    elif value.startswith("publishers/"):
        value = value.rsplit("/", 1)[-1]
        value = value.split("@", 1)[1] if "@" in value else value
    return value.lower() if re.fullmatch(r"[\w.:/@-]+", value) else ""


RESOURCE_NAME = lazy_re(r"""^\s*["']?name["']?\s*[=:]\s*["']""")
# what opens a bracket on an HCL line: an attribute (``llm_model = [``) or a block (``model {``,
# ``variable "chat_models" {``, ``resource "azurerm_cognitive_deployment" "gpt" {``)
HCL_ATTRIBUTE_OPENER = linear(r"""^\s*"?([A-Za-z_][\w-]{0,80})"?\s*[=:]\s*[\[{(]""")
HCL_BLOCK_OPENER = linear(r"""^\s*([A-Za-z_][\w-]{0,80})((?:\s+"[^"\n]{0,200}")*)\s*\{""")
# brackets that only hold a value for the thing around them: ``default = [...]`` of a variable
TRANSPARENT_KEYS = frozenset({"default", "value", "values", "for_each"})
# the model at the end of a Bedrock ARN wherever it is written (a local, an IAM policy's resource, a
# Lambda's environment): arn:aws:bedrock:<region>::foundation-model/<id>, ...:inference-profile/<id>
BEDROCK_ARN_MODEL = linear(r"(?:foundation-model|inference-profile)/([A-Za-z0-9][\w.:-]{2,119})")
# a Bicep ``param``/``var`` holding one literal string: a model id there is the deployment's choice
BICEP_STRING = lazy_re(r"'((?:[^'\\\n]|\\.)*)'")
TERRAFORM_URL = lazy_re(r"https?://[^\s'\"<>,}$]+")  # up to an interpolation: ``${var.host}`` is no host
BICEP_LITERAL = lazy_re(r"""^\s*(?:param|var)\s+(\w{1,80})(?:\s+\w+)?\s*=\s*'([^'\n$]{2,200})'\s*$""")
TOOL_NAME = lazy_re(r"[A-Za-z_][\w.-]{0,99}")  # a literal function name, not an interpolation
TFVARS_ASSIGNMENT = lazy_re(r"""^\s*[A-Za-z_][\w-]{0,80}\s*=\s*"([^"\n$]{2,200})"\s*$""")
VARIABLE_DEFAULT = lazy_re(r"""^\s*default\s*=\s*"([^"\n$]{2,200})"\s*$""")


def model_object_lines(lines: list[str]) -> set[int]:
    """Lines inside an object or list an attribute or block names as models (``llm_model = [{ name =
    "gpt-4o", ... }]``, ``models = { chat = { name = ... } }``, ``variable "chat_models" { default = [...]
    }``, ``model { name = ... }``): there a ``name`` is the model's. A resource's own ``name`` (an Azure
    deployment's alias) is not, nor is one in a list of deployments (``model_deployments = [{ name =
    "chat", ... }]``). An entry key that names neither (``chat = {``) keeps what its parent is."""
    inside: set[int] = set()
    stack: list[str] = []  # per open bracket: the nearest enclosing name that says model or deployment
    for number, code, balance in HclLines(lines):
        if stack and "model" in stack[-1] and "deployment" not in stack[-1]:
            inside.add(number)
        if balance > 0:
            name = stack[-1] if stack else ""
            if block := HCL_BLOCK_OPENER.match(code):
                keyword = block.group(1)
                own = "" if keyword in ("resource", "data") else f"{keyword}{block.group(2)}".lower()
                name = (
                    own if keyword in ("resource", "data") or "model" in own or "deployment" in own else name
                )
            elif (attribute := HCL_ATTRIBUTE_OPENER.match(code)) and attribute.group(
                1
            ) not in TRANSPARENT_KEYS:
                own = attribute.group(1).lower()
                name = own if "model" in own or "deployment" in own else name
            stack.extend([name] * balance)
        elif balance < 0:
            del stack[balance:]
    return inside


def is_deployment_alias(name: str) -> bool:
    """``chatDeploymentName``: the name an operator gave an Azure OpenAI deployment, which often spells
    the model it serves but is not its model (``chatModelName``, ``deploymentModel`` are)."""
    lowered = name.lower()
    return "deployment" in lowered and "model" not in lowered


class IacDetector(Detector):
    name = "iac"

    def applies_to(self, file: SourceFile) -> bool:
        return file.suffix in (*TERRAFORM_SUFFIXES, ".tfvars", ".bicep") or file.suffix in CFN_SUFFIXES

    def detect(self, file: SourceFile, report: FileReport) -> Iterable[Finding]:
        if file.size > MAX_BYTES:
            report.warnings.append(f"iac: {file.relpath} is larger than {MAX_BYTES} bytes")
            return []
        if file.suffix == ".bicep":
            return self.detect_bicep(file, report)
        if file.suffix == ".tfvars":
            found = list(self.literal_models(file, TFVARS_ASSIGNMENT)) + list(self.terraform_endpoints(file))
            return self.with_catalog_literals(file, found)
        if file.suffix in TERRAFORM_SUFFIXES:
            found = self.detect_terraform(file, report) + list(self.literal_models(file, VARIABLE_DEFAULT))
            return self.with_catalog_literals(file, found + list(self.terraform_endpoints(file)))
        if file.name.endswith((".tf.json", ".tofu.json")):
            return self.with_catalog_literals(file, self.detect_terraform_json(file, report))
        if file.suffix == ".json" and ARM_SCHEMA.search(file.text):
            arm = self.detect_arm(file, report)
            if arm is not None:
                return arm
        if file.suffix == ".json" and ARM_PARAMETERS_SCHEMA.search(file.text):
            return list(self.parameter_file_models(file))
        if file.name.lower() in PULUMI_PROGRAMS and "resources:" in file.text:
            return self.findings(file, pulumi_resources(file, report))
        if not any(marker in file.text for marker in CFN_MARKERS):
            # a template with no AI resource may still grant a function a model (an IAM policy's ARN)
            is_template = "AWS::" in file.text and "Resources" in file.text
            return self.with_arn_models(file, [], set(), "cloudformation") if is_template else []
        found = self.findings(file, cfn_resources(file, report))
        return self.with_arn_models(file, found, set(), "cloudformation")

    def detect_program(self, file: SourceFile) -> list[Finding]:
        """A CDK or Pulumi program's AI resources (``iac_programs`` hands over the programs), and the
        models it configures them with (catalog ids and Bedrock ARNs in the program): only in a program
        that declares one."""
        found = self.findings(file, cdk_resources(file.text) + pulumi_program_resources(file.text))
        if not found:
            return []
        comments = comment_line_numbers(file.lines, ("#", "//", "/*"))
        reported = {(f.location.line, f.key) for f in found if f.type == "model"}
        iac = found[0].metadata.get("iac", "cdk")
        for line, value in code_model_literals(file.text, comments):
            model = model_finding(value, line, strong=False, hf_context=False)
            if model and (line, model[0]) not in reported:
                reported.add((line, model[0]))
                found.append(self.model_at(file, line, model, evidence=CATALOG_LITERAL, iac=iac))
        return self.with_arn_models(file, found, comments, iac)

    def detect_arm(self, file: SourceFile, report: FileReport) -> list[Finding] | None:
        """ARM JSON templates (compiled Bicep), read by ``iac_arm`` into resources the Bicep rules judge;
        None when the file is no ARM template (a CloudFormation template may quote the schema)."""
        from common.scanner.detectors.iac_arm import ARM_MARKERS, ArmTemplate, is_arm_template

        if not any(marker in file.text for marker in ARM_MARKERS):
            return None
        try:
            data = parse_json(file.text)
        except (ValueError, RecursionError):
            return None
        if not is_arm_template(data):
            return None
        template = ArmTemplate(file.text, data)
        if template.exhausted:
            report.warnings.append(f"iac: {file.relpath} is too large to evaluate completely")
        return self.findings(file, template.resources)

    def parameter_file_models(self, file: SourceFile) -> Iterator[Finding]:
        """Model ids an ARM/Bicep parameters file chooses (``"chatModelName": {"value": "gpt-4o"}``), also
        as the default of an azd substitution (``"${AZURE_OPENAI_CHAT_MODEL=gpt-4o-mini}"``)."""
        try:
            data = parse_json(file.text)
        except (ValueError, RecursionError):
            return
        parameters = data.get("parameters") if isinstance(data, dict) else None
        for name, parameter in parameters.items() if isinstance(parameters, dict) else []:
            value = parameter.get("value") if isinstance(parameter, dict) else None
            if not isinstance(value, str) or is_deployment_alias(name):
                continue
            substituted = AZD_SUBSTITUTION.match(value.strip())
            line = line_of(file.text, f'"{name}"')
            found = model_finding(
                substituted.group(1) if substituted else value, line, strong=False, hf_context=False
            )
            if found:
                yield self.model_at(file, line, found, evidence="parameter value", iac="bicep")

    def with_catalog_literals(self, file: SourceFile, findings: list[Finding]) -> list[Finding]:
        """Catalog model ids in list and map values (``models = ["gpt-4o", ...]``, a ``default = {...}``
        of a model-routing variable, a ``locals`` table) that no resource or assignment rule reported."""
        comments = comment_line_numbers(file.lines, ("#", "//", "/*"))
        reported = {(f.location.line, f.key) for f in findings if f.type == "model"}
        model_objects: set[int] | None = None
        for line, value in code_model_literals(file.text, comments):
            if RESOURCE_NAME.match(file.lines[line - 1]):
                if model_objects is None:
                    model_objects = model_object_lines(file.lines)
                if line not in model_objects:
                    continue  # ``name = "gpt-4"`` names a resource (a deployment's alias), not its model
            found = model_finding(model_id(value) or value, line, strong=False, hf_context=False)
            if found and (line, found[0]) not in reported:
                reported.add((line, found[0]))
                findings.append(self.model_at(file, line, found, evidence=CATALOG_LITERAL, iac="terraform"))
        return self.with_arn_models(file, findings, comments, "terraform")

    def with_arn_models(self, file: SourceFile, findings: list[Finding], comments: set[int], iac: str):
        """Models named by the Bedrock ARNs in the file that no rule reported: the ARN's region or
        account is often interpolated (``${data.aws_region.current.name}``, ``${AWS::Region}``), and the
        ARN may sit in a local, an IAM policy or an environment map rather than a model attribute."""
        if "-model/" not in file.text and "inference-profile/" not in file.text:
            return findings
        reported = {(f.location.line, f.key) for f in findings if f.type == "model"}
        for match in BEDROCK_ARN_MODEL.finditer(file.text):
            line = line_at(file.text, match.start())
            found = (
                None
                if line in comments
                else model_finding(match.group(1), line, strong=False, hf_context=False)
            )
            if found and (line, found[0]) not in reported:
                reported.add((line, found[0]))
                findings.append(self.model_at(file, line, found, evidence="bedrock ARN", iac=iac))
        return findings

    def bicep_catalog_models(self, file: SourceFile) -> Iterator[Finding]:
        """Catalog model ids a Bicep file holds outside a deployment's ``model`` object: a ``param``/``var``
        default (``param chatModelName string = 'gpt-4o'``), used or not, and the entries of a deployment
        list (``{ name: 'chat', model: 'gpt-4o' }``). A deployment's name is an alias, not its model."""
        comments = comment_line_numbers(file.lines, ("//", "/*"))
        reported = set()
        for line, value in code_model_literals(file.text, comments):
            raw = file.lines[line - 1]
            binding = BICEP_LITERAL.match(raw)
            if RESOURCE_NAME.match(raw) or (binding and is_deployment_alias(binding.group(1))):
                continue
            found = model_finding(value, line, strong=False, hf_context=False)
            if found and (line, found[0]) not in reported:
                reported.add((line, found[0]))
                yield self.model_at(file, line, found, evidence=CATALOG_LITERAL, iac="bicep")

    def literal_models(self, file: SourceFile, assignment: re.Pattern) -> Iterator[Finding]:
        """Model ids chosen in ``.tfvars`` or as a ``variable`` default, wherever they are used: only
        catalog ids and provider naming grammars (Bedrock ids, ``gpt-4o``...) count there; a ``name``
        counts only inside a model object (elsewhere it names a deployment or a resource)."""
        model_objects: set[int] | None = None
        for number, raw in enumerate(file.lines, start=1):
            match = assignment.match(raw)
            info = match_model(match.group(1)) if match else None
            if info is None:
                continue
            if RESOURCE_NAME.match(raw):
                if model_objects is None:
                    model_objects = model_object_lines(file.lines)
                if number not in model_objects:
                    continue
            value = model_id(match.group(1))
            if not value:
                continue
            name = value.lower()
            metadata = {"iac": "terraform", "declared_as": "variable"}
            yield self.located(file, number, "model", name, info.provider, model_name=name, metadata=metadata)

    def detect_terraform(self, file: SourceFile, report: FileReport) -> list[Finding]:
        rules = load_rules()
        known = (*rules["resources"], *(entry["prefix"] for entry in rules["resource_prefixes"]))
        if not any(t in file.text for t in known) and "module" not in file.text:
            return []
        try:
            terraform = TerraformFile(file.lines)
            resources = list(terraform.resources())
        except RecursionError:
            report.warnings.append(f"iac: {file.relpath} nests too deeply to read")
            return []
        findings = self.findings(file, resources)
        for name, line, source in terraform.modules():
            address = module_registry_address(source).lower()
            module = next((m for m in rules["modules"] if address.startswith(m["source"].lower())), None)
            if module:
                findings.append(
                    self.resource_finding(
                        file, f"module.{name}", line, module["provider"], {"service": module["service"]}
                    )
                )
        return findings

    def detect_terraform_json(self, file: SourceFile, report: FileReport) -> list[Finding]:
        """Terraform's JSON syntax (``main.tf.json``, CDK for Terraform's ``cdk.tf.json``):
        ``{"resource": {"<type>": {"<name>": {...}}}}`` with ``${…}`` expressions in strings."""
        rules = load_rules()
        known = (*rules["resources"], *(entry["prefix"] for entry in rules["resource_prefixes"]))
        if not any(t in file.text for t in known):
            return []
        try:
            documents = compose_yaml_documents(file.text)
            blocks = documents[0].get("resource") if documents and documents[0].is_mapping else None
            resources = [
                Resource(resource_type, name, line, terraform_json_value(body), "terraform")
                for resource_type, named in (blocks.items() if blocks is not None else [])
                for name, line, body in named.entries()
                if body.is_mapping
            ]
        except (yaml.YAMLError, RecursionError) as exc:
            report.warnings.append(
                f"iac: {file.relpath} is not readable Terraform JSON ({type(exc).__name__})"
            )
            return []
        return self.findings(file, resources)

    def detect_bicep(self, file: SourceFile, report: FileReport) -> list[Finding]:
        if not any(marker in file.text for marker in BICEP_MARKERS):
            # no AI resource, but an app's settings may still choose its model and AI address
            return list(self.bicep_catalog_models(file)) + list(self.bicep_endpoints(file))
        try:
            bicep = BicepFile(file.text)
        except RecursionError:
            report.warnings.append(f"iac: {file.relpath} nests too deeply to read")
            return []
        findings = self.findings(file, bicep.resources)
        for value in bicep.other_values:
            for model, version, line in bicep_models(value):
                model = model_id(model)
                known = match_model(model) if model else None
                if model:
                    findings.append(
                        self.located(
                            file,
                            line,
                            "model",
                            model,
                            known.provider if known else "Microsoft Azure",
                            version=version,
                            model_name=model,
                            metadata={"iac": "bicep", "declared_as": "deployment list"},
                        )
                    )
        deployed = {f.key for f in findings if f.type == "model"}  # with the version a deployment pins
        findings += [f for f in self.bicep_catalog_models(file) if f.key not in deployed]
        return findings + list(self.bicep_endpoints(file))

    def bicep_endpoints(self, file: SourceFile) -> Iterator[Finding]:
        """AI endpoints a Bicep literal holds: a ``param``/``var`` default (``param ollamaEndpoint string =
        'http://localhost:11434/v1'``) or an app setting (``{ name: 'OPENAI_API_BASE', value:
        'https://api.openai.com/v1' }``): the address the deployed app calls. Known AI hosts and servers
        only; an interpolated host (``'https://${account.name}.openai.azure.com'``) is none."""
        return self.literal_endpoints(file, ("//", "/*"), BICEP_STRING)

    def terraform_endpoints(self, file: SourceFile) -> Iterator[Finding]:
        """AI endpoints written as string literals in Terraform (a function's or web app's environment
        ``OPENAI_API_BASE = "https://api.openai.com/v1"``, a variable default, a ``.tfvars`` value): the
        address the deployed app calls. Known AI hosts and servers only, as for Bicep."""
        return self.literal_endpoints(file, ("#", "//", "/*"), STRING_RE)

    def literal_endpoints(
        self, file: SourceFile, comment_markers: tuple[str, ...], strings
    ) -> Iterator[Finding]:
        """Known AI addresses in the string literals (``strings``) of the lines that are not comments."""
        if "://" not in file.text:
            return
        comments = comment_line_numbers(file.lines, comment_markers)
        for number, raw in enumerate(file.lines, start=1):
            if "://" not in raw or number in comments:
                continue
            for literal in strings.findall(raw):
                for url in TERRAFORM_URL.findall(literal):
                    endpoint = endpoint_for_url(url, any_host=False)
                    if endpoint:
                        yield self.endpoint_finding(file, number, endpoint)

    def findings(self, file: SourceFile, resources: list[Resource]) -> list[Finding]:
        evaluation = Evaluation(resources)
        findings: list[Finding] = []
        for resource in resources:
            rule = rule_for(resource.type)
            if rule is None:
                continue
            if "only_when" in rule and not any(evaluation.holds(resource, c) for c in rule["only_when"]):
                continue  # a generic resource (an enabled API, a collection) that is AI only with this value
            name = f"{resource.type}.{resource.name}"
            metadata = {"service": rule["service"], "kind": rule["kind"], "iac": resource.iac}
            provider = rule["provider"]
            account_kind = texts(evaluation.body(resource), "kind")
            if account_kind:
                metadata["account_kind"] = account_kind[0][0]
            finding = self.resource_finding(file, name, resource.line, provider, metadata)
            if gpu_types := evaluation.gpu(resource):
                finding.flags.add("gpu_instance")
                finding.metadata["gpu_types"] = sorted(set(gpu_types))
            if evaluation.internet_facing(resource):
                finding.flags.add("internet_facing")
            for model, version, line in evaluation.models(resource):
                known = match_model(model)
                finding.relations.append(("uses_model", component_key("model", model)))
                findings.append(
                    self.located(
                        file,
                        line,
                        "model",
                        model,
                        known.provider if known else provider,
                        version=version,
                        model_name=model,
                        metadata={"source": name, **({"revision": version} if version else {})},
                    )
                )
            for tool, line in evaluation.tools(resource):
                findings.append(
                    self.located(
                        file,
                        line,
                        "tool",
                        tool,
                        provider,
                        metadata={"source": name, "framework": rule["service"]},
                    )
                )
            findings.append(finding)
        return findings

    def resource_finding(
        self, file: SourceFile, name: str, line: int, provider: str, metadata: dict
    ) -> Finding:
        return self.located(
            file, line, "cloud_resource", name, provider, key_name=name.lower(), metadata=metadata
        )
