import pytest

from tests.unit.scanner_helpers import component, keys, scan_tree

MANIFESTS = {
    "requirements.txt": (
        "flask==3.0\nopenai==1.51.0  # llm\nopenapi-spec-validator==0.7\n",
        "llm_provider:openai",
        "1.51.0",
        2,
    ),
    "requirements/prod.txt": ("anthropic>=0.39\n", "llm_provider:anthropic", ">=0.39", 1),
    "pyproject.toml": (
        '[project]\nname = "x"\ndependencies = [\n  "langchain>=0.3",\n]\n',
        "agent_framework:langchain",
        ">=0.3",
        4,
    ),
    "Pipfile": '[packages]\nrequests = "*"\ncohere = "==5.11.0"\n',
    "setup.cfg": "[options]\ninstall_requires =\n    chromadb>=0.5\n",
    "setup.py": "from setuptools import setup\nsetup(name='x', install_requires=['transformers==4.46.2'])\n",
    "package.json": '{\n  "dependencies": {\n    "openai": "^4.70.0",\n    "openapi-types": "^12"\n  }\n}\n',
    "go.mod": "module x\n\ngo 1.22\n\nrequire (\n\tgithub.com/sashabaranov/go-openai v1.32.5\n)\n",
    "Cargo.toml": '[package]\nname = "x"\n\n[dependencies]\nasync-openai = "0.26.0"\n',
    "pom.xml": "<project><dependencies>\n<dependency>\n<groupId>dev.langchain4j</groupId>\n"
    "<artifactId>langchain4j</artifactId>\n<version>0.36.2</version>\n</dependency>\n"
    "</dependencies></project>\n",
    "build.gradle": "dependencies {\n    implementation 'org.springframework.ai:spring-ai-core:1.0.0'\n}\n",
    "Gemfile": 'source "https://rubygems.org"\ngem "ruby-openai", "~> 7.3"\n',
    "App.csproj": "<Project>\n  <ItemGroup>\n"
    '    <PackageReference Include="Azure.AI.OpenAI" Version="2.1.0" />\n'
    "  </ItemGroup>\n</Project>\n",
}
EXPECTED = {
    "Pipfile": ("llm_provider:cohere", "5.11.0", 3),
    "setup.cfg": ("vector_db:chromadb", ">=0.5", 3),
    "setup.py": ("ml_framework:transformers", "4.46.2", 2),
    "package.json": ("llm_provider:openai", "^4.70.0", 3),
    "go.mod": ("llm_provider:openai", "v1.32.5", 6),
    "Cargo.toml": ("llm_provider:openai", "0.26.0", 5),
    "pom.xml": ("agent_framework:langchain4j", "0.36.2", 4),
    "build.gradle": ("agent_framework:spring-ai", "1.0.0", 2),
    "Gemfile": ("llm_provider:openai", "~> 7.3", 2),
    "App.csproj": ("llm_provider:azure-openai", "2.1.0", 3),
}


@pytest.mark.parametrize("manifest", sorted(MANIFESTS))
def test_manifest_declares_package_with_version_and_line(tmp_path, manifest):
    spec = MANIFESTS[manifest]
    content = spec if isinstance(spec, str) else spec[0]
    key, version, line = EXPECTED[manifest] if isinstance(spec, str) else spec[1:]
    result = scan_tree(tmp_path, {manifest: content})
    assert keys(result) == {key}
    found = component(result, key)
    assert found.version == version
    assert [(loc.file, loc.line) for loc in found.locations] == [(manifest, line)]
    assert "shadow_ai" not in found.flags
    assert [(r.source, r.relation) for r in result.relationships] == [(f"file:{manifest}", "declares")]


def test_lock_file_version_wins_and_code_merges_into_one_component(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "pyproject.toml": '[tool.poetry.dependencies]\npython = "^3.11"\nopenai = "^1.40"\n',
            "poetry.lock": '[[package]]\nname = "openai"\nversion = "1.51.2"\n\n[[package]]\nname = "httpx"\n'
            'version = "0.27.0"\n',
            "app.py": "import openai\n",
        },
    )
    openai = component(result, "llm_provider:openai")
    assert openai.version == "1.51.2"
    # the lock adds the resolved version; the place is the manifest line that declares the package
    assert {loc.file for loc in openai.locations} == {"pyproject.toml", "app.py"}
    assert "manifest" in openai.detector and "python" in openai.detector and "lockfile" in openai.detector
    assert len(result.components) == 1


def test_a_package_only_the_lock_file_names_is_pulled_in_not_a_dependency(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "package.json": '{"dependencies": {"langchain": "^0.3.0"}}\n',
            "package-lock.json": '{"packages": {"node_modules/langchain": {"version": "0.3.5"},\n'
            '"node_modules/openai": {"version": "4.77.0"}}}\n',
        },
    )
    langchain = component(result, "agent_framework:langchain")
    assert langchain.version == "0.3.5"
    assert {loc.file for loc in langchain.locations} == {"package.json"}
    # openai comes in through langchain: the project does not declare it
    assert [c.name for c in result.components] == ["langchain"]


def test_an_exported_environment_beside_requirements_adds_only_what_they_do_not_declare(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "app/requirements.txt": "langchain_openai\nchromadb\n",
            # ``conda list --export`` beside it: what requirements.txt declares is declared there
            "app/requirements-lock.txt": "chromadb=0.5.23=pypi_0\nlangchain-openai=0.2.14=pypi_0\n"
            "torch=2.5.1=pypi_0\n",
            # a record with no manifest beside it is all the project has
            "batch/requirements-frozen.txt": "openai==1.58.1\n",
            # a pip-tools / uv / rye lock in requirements format beside its pyproject.toml
            "svc/pyproject.toml": '[project]\nname = "svc"\ndependencies = ["anthropic>=0.40"]\n',
            "svc/requirements.lock": "anthropic==0.49.0\ngroq==0.18.0\n",
        },
    )
    files = {c.name: sorted(loc.file for loc in c.locations) for c in result.components}
    assert files == {
        "langchain-openai": ["app/requirements.txt"],
        "chromadb": ["app/requirements.txt"],
        "torch": ["app/requirements-lock.txt"],
        "openai": ["batch/requirements-frozen.txt"],
        "anthropic": ["svc/pyproject.toml"],
        "groq": ["svc/requirements.lock"],
    }


def test_a_requirement_list_named_otherwise_is_a_manifest_when_every_line_reads_as_one(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "libs.txt": "transformers==4.46.1\ntorch==2.5.1\n",
            "pipeline/deps.txt": "# pinned\nopenai>=1.0,<2 ; python_version >= '3.9'\n"
            "-r ../libs.txt\nlangchain[all]\n",
            "tools/pip-requirement.txt": "anthropic\n",
            # notes that name packages in prose are no manifest, nor is a list of apt packages
            "docs/dependencies.txt": "We use openai for chat and chromadb for storage.\nchromadb\n",
            "packages.txt": "ffmpeg\nollama\n",
            "notes.txt": "groq==0.18.0\n",
        },
    )
    files = {c.name: sorted(loc.file for loc in c.locations) for c in result.components}
    assert files == {
        "transformers": ["libs.txt"],
        "torch": ["libs.txt"],
        "openai": ["pipeline/deps.txt"],
        "langchain": ["pipeline/deps.txt"],
        "anthropic": ["tools/pip-requirement.txt"],
    }


def test_js_lock_files(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "a/yarn.lock": '"@anthropic-ai/sdk@^0.32.0":\n  version "0.32.1"\n  resolved "x"\n\n'
            'left-pad@^1:\n  version "1.3.0"\n',
            "b/pnpm-lock.yaml": "packages:\n\n  /openai@4.70.2:\n    resolution: {integrity: x}\n",
            "c/package-lock.json": '{"lockfileVersion": 3, '
            '"packages": {"node_modules/groq-sdk": {"version": "0.8.0"}}}',
        },
    )
    assert component(result, "llm_provider:anthropic").version == "0.32.1"
    assert component(result, "llm_provider:openai").version == "4.70.2"
    assert component(result, "llm_provider:groq").version == "0.8.0"


def test_broken_manifests_are_warnings(tmp_path):
    result = scan_tree(
        tmp_path, {"package.json": '{"dependencies": {"openai": ', "pyproject.toml": "[project\n"}
    )
    assert result.components == []
    assert {w.file for w in result.warnings} == {"package.json", "pyproject.toml"}


def test_pnpm_lock_reports_the_project_dependencies_not_what_they_pull_in(tmp_path):
    lock_v9 = (
        "lockfileVersion: '9.0'\n\nimporters:\n\n  .:\n    dependencies:\n"
        "      '@anthropic-ai/sdk':\n        specifier: ^0.56.0\n        version: 0.56.0\n"
        "      '@langchain/core':\n        specifier: ^0.3.66\n        version: 0.3.66(openai@5.10.2)\n\n"
        "packages:\n\n  '@anthropic-ai/sdk@0.56.0':\n    resolution: {integrity: x}\n\n"
        "  openai@5.10.2:\n    resolution: {integrity: x}\n"
    )
    lock_v5 = (
        "lockfileVersion: 5.4\n\nspecifiers:\n  cohere-ai: ^7.0.0\n\ndependencies:\n  cohere-ai: 7.0.0\n\n"
        "packages:\n\n  /cohere-ai/7.0.0:\n    resolution: {integrity: x}\n\n"
        "  /@pinecone-database/pinecone/1.0.0:\n    resolution: {integrity: x}\n"
    )
    result = scan_tree(tmp_path, {"a/pnpm-lock.yaml": lock_v9, "b/pnpm-lock.yaml": lock_v5})
    assert component(result, "llm_provider:anthropic").version == "0.56.0"
    assert component(result, "agent_framework:langchain").version == "0.3.66"
    assert component(result, "llm_provider:cohere").version == "7.0.0"
    names = {c.name for c in result.components}
    assert "openai" not in names and "pinecone" not in names


def test_commented_out_package_references_are_not_declared(tmp_path):
    csproj = (
        '<Project Sdk="Microsoft.NET.Sdk">\n  <ItemGroup>\n'
        '<!--    <PackageReference Include="OpenAI" Version="2.1.0" />-->\n'
        '    <PackageReference Include="Azure.AI.OpenAI" Version="2.1.0" />\n'
        '    <!--\n    <PackageReference Include="Microsoft.SemanticKernel" Version="1.30.0" />\n    -->\n'
        "  </ItemGroup>\n</Project>\n"
    )
    pom = (
        "<project><dependencies>\n<!-- <dependency><groupId>dev.langchain4j</groupId>"
        "<artifactId>langchain4j-open-ai</artifactId></dependency> -->\n</dependencies></project>\n"
    )
    result = scan_tree(tmp_path, {"app/App.csproj": csproj, "jvm/pom.xml": pom})
    assert [(c.name, c.locations[0].line) for c in result.components] == [("azure-openai", 4)]


CARGO_LOCK = """# This file is automatically @generated by Cargo.
version = 4

[[package]]
name = "agent"
version = "0.1.0"
dependencies = [
 "async-openai",
 "rmcp",
]

[[package]]
name = "async-openai"
version = "0.28.3"
source = "registry+https://github.com/rust-lang/crates.io-index"

[[package]]
name = "candle-core"
version = "0.8.4"
source = "registry+https://github.com/rust-lang/crates.io-index"

[[package]]
name = "rmcp"
version = "0.3.1"

[[package]]
name = "rmcp"
version = "0.3.2"
"""


def test_cargo_lock_gives_the_workspace_crates_their_resolved_version(tmp_path):
    """A workspace root declares its crates in ``[workspace.dependencies]``; Cargo.lock beside it adds the
    version each resolved to (a crate locked twice has none), and what only the lock names (candle-core,
    pulled in by another crate) is no dependency of the project, as with the other lock files."""
    result = scan_tree(
        tmp_path,
        {
            "Cargo.toml": (
                '[workspace]\nmembers = ["agent"]\n\n[workspace.dependencies]\n'
                'async-openai = "0.28"\nrmcp = "0.3"\n'
            ),
            "Cargo.lock": CARGO_LOCK,
        },
    )
    assert {(c.name, c.version) for c in result.components} == {("openai", "0.28.3"), ("mcp", "0.3")}
    assert {loc.file for c in result.components for loc in c.locations} == {"Cargo.toml"}
