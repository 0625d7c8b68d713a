"""What detectors leave behind for deep mode (``common.scanner.deep``), one ``FileFacts`` per file.

A detector sees one file; a model argument naming a constant of another module, an environment
variable or a config key is recorded here instead of being guessed, and deep mode joins every
file's facts after the scan. The types travel from worker processes to the engine, so they are
plain dataclasses of strings, numbers and containers (they must pickle).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Literal

# where a model argument's value lives: an environment variable, a loaded config file's key
# path, or a constant (``name``) of another module
ReferenceKind = Literal["env", "config", "name"]


@dataclass(frozen=True)
class ModelReference:
    """A model argument whose value is elsewhere; ``line``/``snippet`` are where it is used."""

    kind: ReferenceKind
    line: int
    strong: bool = False  # a model parameter proper: any plausible id counts, not only catalog ones
    var: str = ""  # kind "env": the variable
    path: str = ""  # kind "config": the dotted key path, ``llm.model``
    module: str = ""  # kind "name": the module and constant, ``app.config`` / ``MODEL``
    name: str = ""
    hf: bool = False  # a Hugging Face loading call: ``org/name`` ids count
    relation_from: str | None = None  # component key of the SDK the call belongs to
    snippet: str = ""


@dataclass(frozen=True)
class ToolReference:
    """An agent handed a tool imported from another module: resolved against ``FileFacts.tools``."""

    agent_key: str  # component key of the agent framework
    target: str  # dotted path of the tool, ``app.tools.search``
    line: int
    snippet: str = ""


@dataclass
class FileFacts:
    """One file's facts; every field but ``module`` and ``detector`` is something to resolve."""

    module: str = ""  # dotted module name of a Python file (or notebook)
    detector: str = "python"  # the detector whose findings deep mode adds for this file
    constants: dict[str, str] = field(default_factory=dict)  # model-like module constants
    env_constants: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # name -> (var, default)
    unresolved_models: list[ModelReference] = field(default_factory=list)
    tools: dict[str, str] = field(default_factory=dict)  # local function/class name -> tool key
    agent_tool_refs: list[ToolReference] = field(default_factory=list)
    config_values: dict[str, str] = field(default_factory=dict)  # key path -> value, config files
    env: dict[str, str] = field(default_factory=dict)  # variable -> value, .env and shell files
    model_constants: dict[str, str] = field(
        default_factory=dict
    )  # constant -> catalog model id, any language

    def __bool__(self) -> bool:
        """Anything to resolve: a module name alone is not worth sending back from a worker."""
        return any(getattr(self, name) for name in _RESOLVABLE)

    def update(self, other: FileFacts) -> None:
        """Take ``other``'s non-empty fields (a second detector's facts for the same file)."""
        for item in fields(self):
            value = getattr(other, item.name)
            if value and value != item.default:
                setattr(self, item.name, value)


_RESOLVABLE = tuple(item.name for item in fields(FileFacts) if item.name not in ("module", "detector"))
