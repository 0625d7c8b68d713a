"""Azure Resource Manager (ARM) JSON templates: the compiled form of Bicep (``azuredeploy.json``,
``main.json``, ``mainTemplate.json``).

A template is a JSON object whose ``$schema`` ends in ``deploymentTemplate.json#`` with a ``resources``
array (or, from languageVersion 2.0, an object keyed by symbolic name). Its resources become the same
``Resource`` values the Bicep reader produces, so the ``data/iac.yaml`` rules for
``Microsoft.CognitiveServices/...`` and ``Microsoft.MachineLearningServices/...`` apply unchanged.
Template expressions (``[parameters('modelName')]``, ``[variables('x')]``, ``concat``, ``format``,
``copyIndex()``) are evaluated where their inputs are literal; anything else stays
unresolved and is never reported as a name or a model. Child resources (nested ``resources``), ``copy``
loops and inline nested deployments (``Microsoft.Resources/deployments`` with a ``template``) are read.
Every evaluation draws on one budget, strings and copies are capped, so a hostile template stays linear.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from common.scanner.detectors.iac import MAX_DEPTH, Resource, Value
from common.scanner.limits import line_at

ARM_SCHEMA_SUFFIX = "deploymenttemplate.json#"
ARM_MARKERS = ("Microsoft.CognitiveServices", "Microsoft.MachineLearningServices")
HOLE = "\x00"  # marks the unresolved part of a partly evaluated string: never reported
MAX_STEPS = 200_000  # evaluation steps for one file
MAX_STRING = 4096
MAX_LIST = 1000
MAX_COPIES = 64
MAX_RESOURCES = 5000
MAX_TEMPLATE_NESTING = 8
MAX_EXPRESSION = 4096
MAX_PARSED = 4096  # expression trees kept per file
LINE_WINDOW = 20_000  # how far after a resource its literal strings are looked for (their line)


class Unresolved:
    """A value the template computes at deployment time; ``hint`` names the parameter or variable it came
    from (``[parameters('accountName')]`` -> ``accountName``) when there is one."""

    __slots__ = ("hint",)

    def __init__(self, hint: str = ""):
        self.hint = hint


def is_arm_template(data: object) -> bool:
    if not isinstance(data, dict):
        return False
    schema = data.get("$schema")
    return (
        isinstance(schema, str)
        and schema.strip().lower().endswith(ARM_SCHEMA_SUFFIX)
        and isinstance(data.get("resources"), list | dict)
    )


def resolved_text(value: object) -> str | None:
    """A fully evaluated string, or None for anything computed at deployment time."""
    return value if isinstance(value, str) and HOLE not in value else None


def as_text(value: object) -> str | None:
    """A value as it is spliced into a string; holes carry the hint of what they stand for."""
    if isinstance(value, Unresolved):
        return f"{HOLE}{value.hint}{HOLE}"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str | int):
        return str(value)
    return None


def lookup_key(mapping: dict, key: str) -> object:
    """ARM property names are case-insensitive."""
    if key in mapping:
        return mapping[key]
    lowered = key.lower()
    return next((v for k, v in mapping.items() if isinstance(k, str) and k.lower() == lowered), None)


class Budget:
    def __init__(self) -> None:
        self.steps = MAX_STEPS
        self.exhausted = False

    def spend(self) -> bool:
        self.steps -= 1
        if self.steps < 0:
            self.exhausted = True
        return not self.exhausted


@dataclass
class Scope:
    """The parameters and variables one template's expressions see."""

    parameters: dict
    variables: dict
    arguments: dict = field(default_factory=dict)  # values handed in by an enclosing deployment
    cache: dict = field(default_factory=dict)
    copy_index: int | None = None


class Expressions:
    """A small reader and evaluator of ARM template expressions (``[func(args).prop[index]]``)."""

    def __init__(self, budget: Budget):
        self.budget = budget
        self.trees: dict[str, tuple | None] = {}  # parsed once: copy loops evaluate the same text again

    # --- values: walks JSON, evaluating every expression string ---

    def value(self, data: object, scope: Scope, depth: int = 0) -> object:
        if depth > MAX_DEPTH or not self.budget.spend():
            return Unresolved()
        if isinstance(data, str):
            if data.startswith("[[") or not (data.startswith("[") and data.endswith("]")):
                return data[1:] if data.startswith("[[") else data  # "[[" escapes a literal bracket
            return self.expression(data[1:-1], scope, depth + 1)
        if isinstance(data, dict):
            return {key: self.value(child, scope, depth + 1) for key, child in data.items()}
        if isinstance(data, list):
            return [self.value(child, scope, depth + 1) for child in data[:MAX_LIST]]
        return data

    def expression(self, text: str, scope: Scope, depth: int) -> object:
        if len(text) > MAX_EXPRESSION:
            return Unresolved()
        if text not in self.trees:
            if len(self.trees) >= MAX_PARSED:
                self.trees.clear()
            self.trees[text] = ExpressionParser(text).parse()
        tree = self.trees[text]
        if tree is None:
            return Unresolved()
        return self.evaluate(tree, scope, depth)

    # --- expression trees ---

    def evaluate(self, node: tuple, scope: Scope, depth: int) -> object:
        if depth > MAX_DEPTH or not self.budget.spend():
            return Unresolved()
        kind = node[0]
        if kind == "literal":
            return node[1]
        if kind == "member":
            target = self.evaluate(node[1], scope, depth + 1)
            return lookup_key(target, node[2]) if isinstance(target, dict) else Unresolved(hint_of(target))
        if kind == "index":
            target = self.evaluate(node[1], scope, depth + 1)
            index = self.evaluate(node[2], scope, depth + 1)
            if isinstance(target, list) and isinstance(index, int) and 0 <= index < len(target):
                return target[index]
            if isinstance(target, dict) and isinstance(index, str):
                return lookup_key(target, index)
            return Unresolved(hint_of(target))
        return self.call(
            node[1].lower(), [self.evaluate(arg, scope, depth + 1) for arg in node[2]], scope, depth
        )

    def call(self, name: str, args: list, scope: Scope, depth: int) -> object:
        first = args[0] if args else None
        if name == "parameters" and isinstance(first, str):
            return self.named(scope, "parameters", first, depth)
        if name == "variables" and isinstance(first, str):
            return self.named(scope, "variables", first, depth)
        if name == "copyindex":
            offset = next((a for a in args if isinstance(a, int) and not isinstance(a, bool)), 0)
            return scope.copy_index + offset if scope.copy_index is not None else Unresolved()
        if name == "concat":
            if args and all(isinstance(a, list) for a in args):
                return [item for a in args for item in a][:MAX_LIST]
            return bounded("".join(t for t in map(as_text, args) if t is not None))
        if name == "format" and isinstance(first, str):
            return bounded(format_arm(first, [as_text(a) for a in args[1:]]))
        if name in ("tolower", "toupper", "string", "trim") and args:
            text = as_text(first)
            if text is None or HOLE in text:
                return first if isinstance(first, Unresolved) else Unresolved()
            return {"tolower": text.lower(), "toupper": text.upper(), "trim": text.strip()}.get(name, text)
        if name == "length" and isinstance(first, list | dict | str):
            return len(first)
        if name in ("add", "sub") and len(args) == 2 and all(type(a) is int for a in args):
            return args[0] + args[1] if name == "add" else args[0] - args[1]
        if name in ("last", "first") and isinstance(first, list) and first:
            return first[-1] if name == "last" else first[0]
        if name == "split" and len(args) == 2 and (text := resolved_text(first)) is not None:
            separator = resolved_text(args[1])
            return text.split(separator)[:MAX_LIST] if separator else Unresolved()
        return Unresolved(next((hint_of(a) for a in args if hint_of(a)), ""))

    def named(self, scope: Scope, kind: str, name: str, depth: int) -> object:
        """A parameter (the value handed in, else its ``defaultValue``) or a variable, evaluated once."""
        key = (kind, name.lower(), scope.copy_index)
        cached = scope.cache.get(key)
        if cached is not None:
            return cached
        scope.cache[key] = Unresolved(name)  # a reference cycle resolves to nothing
        if kind == "parameters":
            handed = lookup_key(scope.arguments, name)
            declaration = lookup_key(scope.parameters, name)
            if handed is not None:
                result = handed
            elif isinstance(declaration, dict) and "defaultValue" in declaration:
                result = self.value(declaration["defaultValue"], scope, depth + 1)
            else:
                result = None
        else:
            raw = lookup_key(scope.variables, name)
            result = self.value(raw, scope, depth + 1) if raw is not None else None
        if result is None or isinstance(result, Unresolved) or (isinstance(result, str) and HOLE in result):
            result = Unresolved(name)  # partly computed at deployment time: named by what it is
        scope.cache[key] = result
        return result


def without_template(properties: object) -> object:
    """A nested deployment's properties without its inline template, which is read in its own scope."""
    if isinstance(properties, dict) and "template" in properties:
        return {key: value for key, value in properties.items() if key != "template"}
    return properties


def hint_of(value: object) -> str:
    return value.hint if isinstance(value, Unresolved) else ""


def bounded(text: str | None) -> object:
    return text if text is not None and len(text) <= MAX_STRING else Unresolved()


def format_arm(template: str, args: list[str | None]) -> str | None:
    """``format('{0}/{1}', a, b)``: .NET composite formatting without format specifiers."""
    out, index, length = [], 0, len(template)
    while index < length:
        char = template[index]
        if char == "{" and template.startswith("{{", index):
            out.append("{")
            index += 2
            continue
        if char == "}" and template.startswith("}}", index):
            out.append("}")
            index += 2
            continue
        if char == "{":
            end = template.find("}", index)
            if end < 0:
                return None
            position = template[index + 1 : end].split(":", 1)[0].split(",", 1)[0].strip()
            if not position.isdigit() or int(position) >= len(args) or args[int(position)] is None:
                return None
            out.append(args[int(position)])
            index = end + 1
            continue
        out.append(char)
        index += 1
    return "".join(out)


class ExpressionParser:
    """Recursive descent over ``name(args)``, ``'strings'``, integers, ``.member`` and ``[index]``."""

    def __init__(self, text: str):
        self.text = text
        self.pos = 0

    def parse(self) -> tuple | None:
        try:
            tree = self.expression(0)
        except ValueError:
            return None
        self.skip_space()
        return tree if self.pos == len(self.text) else None

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t\r\n":
            self.pos += 1

    def expression(self, depth: int) -> tuple:
        if depth > MAX_DEPTH:
            raise ValueError("expression nested too deeply")
        node = self.primary(depth)
        while True:
            self.skip_space()
            if self.text.startswith(".", self.pos):
                self.pos += 1
                node = ("member", node, self.identifier())
            elif self.text.startswith("[", self.pos):
                self.pos += 1
                index = self.expression(depth + 1)
                self.expect("]")
                node = ("index", node, index)
            else:
                return node

    def primary(self, depth: int) -> tuple:
        self.skip_space()
        if self.pos >= len(self.text):
            raise ValueError("unexpected end")
        char = self.text[self.pos]
        if char == "'":
            return ("literal", self.string())
        if char.isdigit() or char == "-":
            start = self.pos
            self.pos += 1
            while self.pos < len(self.text) and self.text[self.pos].isdigit():
                self.pos += 1
            number = self.text[start : self.pos]
            if not number.lstrip("-"):
                raise ValueError("not a number")
            return ("literal", int(number))
        name = self.identifier()
        if name.lower() in ("true", "false", "null"):
            return ("literal", {"true": True, "false": False, "null": None}[name.lower()])
        self.expect("(")
        args: list[tuple] = []
        self.skip_space()
        if self.text.startswith(")", self.pos):
            self.pos += 1
            return ("call", name, args)
        while True:
            args.append(self.expression(depth + 1))
            self.skip_space()
            if self.text.startswith(",", self.pos):
                self.pos += 1
                continue
            self.expect(")")
            return ("call", name, args)

    def identifier(self) -> str:
        self.skip_space()
        start = self.pos
        while self.pos < len(self.text) and (self.text[self.pos].isalnum() or self.text[self.pos] in "_$"):
            self.pos += 1
        if self.pos == start:
            raise ValueError("identifier expected")
        return self.text[start : self.pos]

    def string(self) -> str:
        self.pos += 1
        parts = []
        while self.pos < len(self.text):
            end = self.text.find("'", self.pos)
            if end < 0:
                break
            parts.append(self.text[self.pos : end])
            if self.text.startswith("''", end):  # '' is an escaped quote
                parts.append("'")
                self.pos = end + 2
                continue
            self.pos = end + 1
            return "".join(parts)
        raise ValueError("unterminated string")

    def expect(self, char: str) -> None:
        self.skip_space()
        if not self.text.startswith(char, self.pos):
            raise ValueError(f"{char} expected")
        self.pos += 1


class ArmTemplate:
    """The resources of one ARM template as ``Resource`` values named like the Bicep reader's:
    ``<type without API version>.<name>``, the name being the symbolic name (languageVersion 2.0), else
    the last segment of the evaluated ``name``, else the parameter or variable it is computed from."""

    def __init__(self, text: str, data: dict):
        self.text = text
        self.budget = Budget()
        self.expressions = Expressions(self.budget)
        self.resources: list[Resource] = []
        self.cursor = 0
        self.offsets: dict[int, int] = {}  # resource line -> offset of its type in the text
        self.template(data, None, None, 0)

    @property
    def exhausted(self) -> bool:
        return self.budget.exhausted or len(self.resources) >= MAX_RESOURCES

    def template(self, data: dict, scope: Scope | None, arguments: dict | None, nesting: int) -> None:
        if scope is None:
            parameters = data.get("parameters")
            variables = data.get("variables")
            scope = Scope(
                parameters if isinstance(parameters, dict) else {},
                variables if isinstance(variables, dict) else {},
                arguments or {},
            )
        self.declarations(data.get("resources"), scope, None, nesting)

    def declarations(self, resources: object, scope: Scope, parent_type: str | None, nesting: int) -> None:
        if isinstance(resources, dict):  # languageVersion 2.0: keyed by symbolic name
            entries = [(str(key), body) for key, body in resources.items()]
        elif isinstance(resources, list):
            entries = [(None, body) for body in resources]
        else:
            return
        for symbolic, body in entries:
            if self.exhausted:
                return
            if isinstance(body, dict):
                self.declaration(symbolic, body, scope, parent_type, nesting)

    def declaration(
        self, symbolic: str | None, body: dict, scope: Scope, parent_type: str | None, nesting: int
    ) -> None:
        raw_type = body.get("type")
        if not isinstance(raw_type, str) or raw_type.startswith("["):
            return
        resource_type = raw_type.split("@", 1)[0]
        if parent_type and not resource_type.lower().startswith(parent_type.lower() + "/"):
            resource_type = f"{parent_type}/{resource_type}"  # a child names only its own segment
        line = self.line_of(symbolic or raw_type)
        if body.get("existing") is True:
            return  # an ``existing`` resource is deployed elsewhere
        for copy_index in self.copies(body.get("copy"), scope):
            if self.exhausted:
                return
            instance = Scope(scope.parameters, scope.variables, scope.arguments, scope.cache, copy_index)
            evaluated = {
                key: self.expressions.value(
                    without_template(child) if key == "properties" else child, instance
                )
                for key, child in body.items()
                if key not in ("resources", "copy")
            }
            name = symbolic or self.resource_name(evaluated.get("name"), body.get("copy"), resource_type)
            value = self.to_value(evaluated, line)
            self.place_model_names(body, value, line)
            self.resources.append(Resource(resource_type, name, line, value, "arm"))
            self.nested_template(resource_type, body, evaluated, instance, nesting)
            self.declarations(body.get("resources"), instance, resource_type, nesting)

    def copies(self, copy: object, scope: Scope) -> list[int | None]:
        """The copy indexes of a resource loop: one pass per index when the count evaluates."""
        if not isinstance(copy, dict):
            return [None]
        count = self.expressions.value(copy.get("count"), scope)
        if type(count) is int and count > 0:
            return list(range(min(count, MAX_COPIES)))
        return [None]

    def nested_template(
        self, resource_type: str, body: dict, evaluated: dict, scope: Scope, nesting: int
    ) -> None:
        """An inline nested deployment (a compiled Bicep module): its resources are this file's too."""
        if resource_type.lower() != "microsoft.resources/deployments" or nesting >= MAX_TEMPLATE_NESTING:
            return
        properties = body.get("properties")
        template = properties.get("template") if isinstance(properties, dict) else None
        if not isinstance(template, dict):
            return
        options = lookup_key(properties, "expressionEvaluationOptions")
        inner = isinstance(options, dict) and str(options.get("scope", "")).lower() == "inner"
        if not inner:
            self.declarations(template.get("resources"), scope, None, nesting + 1)
            return
        handed = evaluated.get("properties", {})
        handed = handed.get("parameters") if isinstance(handed, dict) else None
        arguments = {
            name: entry["value"]
            for name, entry in (handed.items() if isinstance(handed, dict) else [])
            if isinstance(entry, dict) and "value" in entry and not isinstance(entry["value"], Unresolved)
        }
        self.template(template, None, arguments, nesting + 1)

    def resource_name(self, name: object, copy: object, resource_type: str) -> str:
        """Never an expression: the last segment of the evaluated name (``account/chat`` -> ``chat``);
        a segment computed at deployment time is named by its parameter or variable instead."""
        text = as_text(name) if not isinstance(name, dict | list) else None
        segment = text.rsplit("/", 1)[-1] if text else ""
        if segment and HOLE not in segment:
            return segment
        hints = [part for index, part in enumerate(segment.split(HOLE)) if index % 2 and part]
        if hints:
            return hints[-1]
        if isinstance(copy, dict) and isinstance(copy.get("name"), str) and not copy["name"].startswith("["):
            return copy["name"]
        return resource_type.rsplit("/", 1)[-1]

    def line_of(self, needle: str) -> int:
        """The line of a resource: the next occurrence of its type (or symbolic name) in document order."""
        index = self.text.find(f'"{needle}"', self.cursor)
        if index < 0:
            return line_at(self.text, self.cursor)
        self.cursor = index + len(needle)
        line = line_at(self.text, index)
        self.offsets.setdefault(line, index)
        return line

    def to_value(self, data: object, line: int, depth: int = 0) -> Value:
        """Evaluated JSON as a ``Value`` tree; a literal string gets the line it is written on, near the
        resource; anything computed at deployment time is neither a literal nor a reference."""
        if depth > MAX_DEPTH:
            return Value(line)
        if isinstance(data, dict):
            return Value(line, {str(k): self.to_value(v, line, depth + 1) for k, v in data.items()})
        if isinstance(data, list):
            return Value(line, [self.to_value(v, line, depth + 1) for v in data])
        if isinstance(data, bool):
            return Value(line, str(data).lower())
        if isinstance(data, str):
            return Value(line, data) if HOLE not in data else Value(line)
        if isinstance(data, int | float):
            return Value(line, str(data))
        return Value(line)

    def place_model_names(self, body: dict, value: Value, line: int) -> None:
        """A deployment's model name is located where it is written (the literal or the expression)."""
        properties = lookup_key(body, "properties")
        model = lookup_key(properties, "model") if isinstance(properties, dict) else None
        raw = lookup_key(model, "name") if isinstance(model, dict) else None
        fields = value.literal if isinstance(value.literal, dict) else {}
        properties_value = fields.get("properties")
        model_value = (
            properties_value.literal.get("model")
            if properties_value and isinstance(properties_value.literal, dict)
            else None
        )
        name_value = (
            model_value.literal.get("name") if model_value and isinstance(model_value.literal, dict) else None
        )
        if isinstance(raw, str) and name_value is not None:
            start = self.offsets.get(line, 0)
            index = self.text.find(f'"{raw}"', start, start + LINE_WINDOW)
            if index >= 0:
                name_value.line = line_at(self.text, index)
