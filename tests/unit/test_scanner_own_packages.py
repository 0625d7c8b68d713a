"""The repository's own package, imported by its examples and tests, is no dependency of it."""

from tests.unit.scanner_helpers import keys, scan_tree


def test_a_crate_s_examples_importing_the_crate_list_no_provider_but_their_models(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "Cargo.toml": '[package]\nname = "ollama-rs"\nrepository = "https://github.com/x/ollama-rs"\n',
            "examples/chat.rs": (
                'use ollama_rs::Ollama;\nfn main() { Ollama::default().generate("llama3.1:8b"); }\n'
            ),
        },
    )
    assert "llm_provider:ollama" not in keys(result)
    assert "model:llama3.1:8b" in keys(result)


def test_a_project_named_like_a_package_it_depends_on_still_depends_on_it(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "package.json": '{\n  "name": "fastmcp",\n  "dependencies": {\n    "fastmcp": "^3.0.0"\n  }\n}\n',
            "src/server.ts": (
                'import { FastMCP } from "fastmcp";\nconst server = new FastMCP({ name: "files" });\n'
            ),
        },
    )
    assert "agent_framework:fastmcp" in keys(result)


def test_a_python_package_s_own_tests_and_a_gem_s_examples(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "pyproject.toml": '[project]\nname = "anthropic"\nversion = "0.40.0"\n',
            "tests/test_client.py": "import anthropic\n\nclient = anthropic.Anthropic()\n",
            "gem/ruby-openai.gemspec": 'Gem::Specification.new do |spec|\n  spec.name = "ruby-openai"\nend\n',
            "gem/examples/chat.rb": 'require "openai"\nOpenAI::Client.new\n',
        },
    )
    assert "llm_provider:anthropic" not in keys(result)
    assert "llm_provider:openai" not in keys(result)


def test_a_second_scan_of_the_same_folder_reads_its_manifest_again(tmp_path):
    """What a manifest named is known for one scan only: renamed since, the project depends on the package."""
    files = {
        "pyproject.toml": '[project]\nname = "anthropic"\n',
        "tests/test_client.py": "import anthropic\n\nclient = anthropic.Anthropic()\n",
    }
    assert "llm_provider:anthropic" not in keys(scan_tree(tmp_path, files))
    renamed = {"pyproject.toml": '[project]\nname = "support-desk"\n'}
    assert "llm_provider:anthropic" in keys(scan_tree(tmp_path, renamed))


def test_a_composer_package_s_examples_import_no_dependency_but_build_their_servers(tmp_path):
    """php-mcp/server's own samples use its namespace: the SDK is the repository, the servers are theirs."""
    result = scan_tree(
        tmp_path,
        {
            "composer.json": '{\n    "name": "php-mcp/server",\n    "require": {"php": ">=8.1"}\n}\n',
            "samples/server.php": (
                "<?php\nuse PhpMcp\\Server\\Server;\n\n"
                "$server = Server::make()->withServerInfo('Sample Server', '1.0.0')->build();\n"
            ),
        },
    )
    assert "agent_framework:mcp" not in keys(result)
    assert "mcp_server:sample server" in keys(result)
