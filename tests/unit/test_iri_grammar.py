"""jsonschema's RFC 3987 grammar is built when a check needs it, not when jsonschema is imported."""

from __future__ import annotations

import importlib
import subprocess
import sys
import textwrap

from common.bom import iri_grammar


def test_the_stand_in_loads_the_real_module_on_its_first_use(tmp_path, monkeypatch):
    """A tiny module in the real one's place: importing it writes a file, its check echoes its input."""
    (tmp_path / "grammar_under_test.py").write_text(
        "from pathlib import Path\n"
        f"Path({str(tmp_path / 'loaded')!r}).touch()\n"
        "def is_valid_syntax(term, value):\n"
        "    return (term, value)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(iri_grammar, "NAME", "grammar_under_test")
    monkeypatch.delitem(sys.modules, "jsonschema", raising=False)  # as in a process yet to import it
    monkeypatch.delitem(sys.modules, "grammar_under_test", raising=False)

    iri_grammar.defer()
    from grammar_under_test import is_valid_syntax  # as jsonschema._format takes it

    assert not (tmp_path / "loaded").exists()
    assert is_valid_syntax("iri_reference", "a b") == ("iri_reference", "a b")
    assert (tmp_path / "loaded").exists()
    assert sys.modules["grammar_under_test"] is importlib.import_module("grammar_under_test")
    assert not isinstance(sys.modules["grammar_under_test"], iri_grammar._Deferred)


def test_uploads_are_validated_without_the_grammar():
    """The importer checks ``iri-reference`` with its own pattern: a process validating a CycloneDX upload,
    a bad IRI reference in it, never builds the grammar (1-3 s of CPU)."""
    program = textwrap.dedent(
        """
        import sys
        from common.bom.importer import UploadInvalid, import_document
        from tests.unit.test_bom_import import _bom

        document = _bom(1)
        document["components"][0]["externalReferences"] = [{"type": "website", "url": "not an iri"}]
        try:
            import_document(document)
        except UploadInvalid as invalid:
            print(sorted(invalid.errors), "lark" in sys.modules)
        """
    )
    checked = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True)
    assert checked.stdout.split() == ["['components.0.externalReferences.0.url']", "False"], checked
