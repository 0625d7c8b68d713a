"""Languages with no SDK in the catalog, read for what a file configures: Dart/Flutter apps, Elixir and R
and Julia projects, Groovy (Jenkins, Gradle plugins), Clojure and Emacs Lisp (editor AI packages such as
gptel and ellama). Their settings modules, model pickers and request bodies name models as any
language's do (``const defaultModel = 'gemini-1.5-flash';``, ``@model "gpt-4o-mini"``, ``chat_openai(model =
"gpt-4o")``): as in a file of a catalog language that imports no SDK, the catalog model ids its strings hold
and the AI endpoints it calls are read, and comments and docstrings are prose."""

from __future__ import annotations

from collections.abc import Iterator

from common.scanner.detectors.base import SourceFile
from common.scanner.detectors.languages import Import, _LanguageDetector, _line_at
from common.scanner.limits import linear

# a triple-quoted string: an Elixir ``@doc """`` / ``@moduledoc``, a Julia docstring, a Groovy/Dart
# multi-line string (usage text, a prompt)
TRIPLE_QUOTED = linear(r'"""(?s:.*?)"""|' + r"'''(?s:.*?)'''")


class _CatalogOnlyLanguage(_LanguageDetector):
    """A language whose imports name no catalog SDK: every file is read as one that imports none."""

    def imports(self, text: str) -> Iterator[Import]:
        return iter(())

    def prose_lines(self, file: SourceFile) -> set[int]:
        """Also the lines of a triple-quoted string, which documents or prompts rather than configures."""
        lines = super().prose_lines(file)
        text = file.text
        if '"""' in text or "'''" in text:
            for match in TRIPLE_QUOTED.finditer(text):
                lines.update(range(_line_at(text, match.start()), _line_at(text, match.end()) + 1))
        return lines


class DartDetector(_CatalogOnlyLanguage):
    name = "dart"
    extensions = (".dart",)


class ElixirDetector(_CatalogOnlyLanguage):
    name = "elixir"
    extensions = (".ex", ".exs")
    comment_prefixes = ("#",)


class RDetector(_CatalogOnlyLanguage):
    name = "r"
    extensions = (".r",)
    comment_prefixes = ("#",)


class JuliaDetector(_CatalogOnlyLanguage):
    name = "julia"
    extensions = (".jl",)
    comment_prefixes = ("#",)


class GroovyDetector(_CatalogOnlyLanguage):
    name = "groovy"
    extensions = (".groovy",)


class LispDetector(_CatalogOnlyLanguage):
    """Clojure and Emacs Lisp: ``;`` opens a comment, ``;;;`` a section heading."""

    name = "lisp"
    extensions = (".clj", ".cljs", ".cljc", ".el")
    comment_prefixes = (";",)
