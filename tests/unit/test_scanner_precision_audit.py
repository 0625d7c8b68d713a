"""Rules from the third precision audit (bench/realworld/precision-audit.md, round 3): false positives
found on public repositories outside the AI niche, each fixed as a general rule."""

from tests.unit.scanner_helpers import component, keys, scan_tree


def test_rust_use_of_a_module_the_file_declares_is_not_the_crate(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "Cargo.toml": '[package]\nname = "x"\n\n[dependencies]\nasync-openai = "0.24"\n',
            "src/vendors/mod.rs": "pub mod openai;\npub mod anthropic;\npub use openai::Gpt;\n"
            "pub use anthropic::Claude;\n",
            "src/vendors/openai.rs": "use async_openai::Client;\npub struct Gpt(Client);\n",
            "src/vendors/anthropic.rs": "pub struct Claude;\n",
            "src/other.rs": "use anthropic::Client;\n",
        },
    )
    files = {loc.file for loc in component(result, "llm_provider:openai").locations}
    assert files == {"Cargo.toml", "src/vendors/openai.rs"}
    # a file that declares no such module still imports the crate
    assert {loc.file for loc in component(result, "llm_provider:anthropic").locations} == {"src/other.rs"}
    assert "llm_provider:anthropic" in keys(result)


def test_a_manifest_dependency_is_located_at_its_declaration_not_a_description(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "py/pyproject.toml": '[project]\nname = "kit"\ndescription = "Tools for OpenAI and MCP"\n'
            'keywords = ["openai", "mcp"]\ndependencies = ["pydantic"]\n\n'
            '[project.optional-dependencies]\nmcp = ["mcp>=1.2"]\ndev = ["openai>=1.40"]\n',
            "cfg/setup.cfg": "[metadata]\nname = dj\ndescription = Use OpenAI on your database\n\n"
            "[options]\ninstall_requires =\n    Django>=4.2\n    openai>=1.0\n",
            "js/package.json": '{\n  "name": "adapter",\n  "description": "Adapters for OpenAI",\n'
            '  "keywords": [\n    "openai"\n  ],\n  "dependencies": {\n    "openai": "^4.0.0"\n  }\n}\n',
            "rs/Cargo.toml": '[package]\nname = "c"\nkeywords = ["ollama-rs"]\n\n[dependencies]\n'
            'ollama-rs = "0.2"\n',
        },
    )
    lines = {
        (loc.file, loc.line)
        for component_ in result.components
        if component_.type in ("llm_provider", "agent_framework")
        for loc in component_.locations
    }
    assert lines == {
        ("py/pyproject.toml", 8),
        ("py/pyproject.toml", 9),
        ("cfg/setup.cfg", 8),
        ("js/package.json", 8),
        ("rs/Cargo.toml", 6),
    }


def test_a_config_model_is_located_at_its_value_not_at_a_sentence_naming_it(tmp_path):
    result = scan_tree(
        tmp_path,
        {"settings.yaml": 'help: "pick a model, e.g. gpt-4o-mini or o3"\nllm:\n  fast: gpt-4o-mini\n'},
    )
    assert [loc.line for loc in component(result, "model:gpt-4o-mini").locations] == [3]


def test_translation_catalogs_are_ui_copy(tmp_path):
    from common.scanner.detectors.config_env import is_translation_catalog

    assert is_translation_catalog("web/locales/en/settings.json")
    assert is_translation_catalog("config/locales/pt-BR.yml")
    assert is_translation_catalog("src/i18n/zh_CN.json")
    assert not is_translation_catalog("config/settings.json")
    assert not is_translation_catalog("messages/queue_schema.json")


def test_go_mod_indirect_marks_count_only_in_a_tidied_module(tmp_path):
    openai = "\tgithub.com/sashabaranov/go-openai v1.28.0 // indirect\n"
    tidy = f"module a\n\nrequire (\n\tgithub.com/go-chi/chi/v5 v5.1.0\n{openai})\n"
    untidy = f"module b\n\nrequire (\n{openai})\n"
    result = scan_tree(tmp_path, {"tidy/go.mod": tidy, "untidy/go.mod": untidy})
    files = {loc.file for loc in component(result, "llm_provider:openai").locations}
    assert files == {"untidy/go.mod"}
