"""Which URLs name an AI endpoint and which imports an AI SDK, and the look-alikes that do not."""

import pytest

from common.scanner.textutil import endpoint_for_url
from tests.unit.scanner_helpers import component, keys, scan_tree


def name_of(url: str, **kwargs) -> str | None:
    found = endpoint_for_url(url, any_host=kwargs.pop("any_host", False), **kwargs)
    return found[0] if found else None


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost:3000/api/chat",
        "https://backend.internal/api/generate",
        "http://app:5000/api/embeddings",
    ],
)
def test_a_web_apps_own_api_route_is_no_ollama_server(url):
    assert name_of(url) is None


def test_ollama_paths_count_on_its_port_its_host_or_under_its_variable():
    assert name_of("http://localhost:11434/api/chat") == "localhost:11434"
    assert name_of("http://ollama/api/generate") == "ollama"
    assert name_of("http://gpu-box:8080/api/generate", hint="Ollama") == "gpu-box:8080"
    assert name_of("http://gpu-box:8000/v1/chat/completions") == "gpu-box:8000"


def test_openrouter_website_pages_are_not_its_api():
    assert name_of("https://openrouter.ai/api/v1") == "openrouter.ai"
    assert name_of("https://openrouter.ai/api") == "openrouter.ai"
    assert name_of("https://openrouter.ai/settings/keys") is None
    assert name_of("https://openrouter.ai/models") is None


@pytest.mark.parametrize(
    "url",
    [
        "https://%s.openai.azure.com/openai/deployments",
        "https://%(resource)s.openai.azure.com",
        "https://*.openai.azure.com",
        "https://.openai.azure.com",
        "https://RESOURCE.openai.azure.com/",
        "https://AZURE_OPENAI_RESOURCE.openai.azure.com/",
        "https://contoso.openai.azure.com/",
    ],
)
def test_templated_and_stand_in_hosts_name_no_server(url):
    assert name_of(url) is None
    assert name_of(url, any_host=True) is None


def test_real_resource_and_container_hosts_stay_endpoints():
    assert name_of("https://platops-bot-ptl.openai.azure.com/") == "platops-bot-ptl.openai.azure.com"
    assert name_of("http://ollama_server:11434") == "ollama_server:11434"
    assert name_of("http://[::1]:11434") == "::1:11434"


def test_an_ollama_variable_names_a_server_on_any_port(tmp_path):
    result = scan_tree(tmp_path, {".env": "OLLAMA_URL=http://gpu-box:8080/api/generate\n"})
    assert keys(result) == {"endpoint:gpu-box:8080"}
    assert component(result, "endpoint:gpu-box:8080").provider == "Ollama"


def test_an_apps_own_address_under_an_ai_named_service_is_no_endpoint(tmp_path):
    compose = (
        "services:\n"
        "  ollama-webui:\n"
        "    environment:\n"
        "      - OLLAMA_BASE_URL=http://ollama:11434\n"
        "      - WEBUI_URL=http://localhost:8080\n"
        "  llm-gateway:\n"
        "    environment:\n"
        "      INFERENCE_URL: http://gpu-box:9000\n"
        "      PUBLIC_URL: https://chat.acme.dev\n"
    )
    result = scan_tree(tmp_path, {"docker-compose.yml": compose})
    assert {k for k in keys(result) if k.startswith("endpoint:")} == {
        "endpoint:ollama:11434",
        "endpoint:gpu-box:9000",
    }


def test_csharp_usings_inside_the_files_own_namespace_are_no_sdk(tmp_path):
    service = (
        "using Anthropic.Tools.Models;\n"
        "using OpenAI.Chat;\n"
        "namespace Anthropic.Tools;\n"
        "public class Service { }\n"
    )
    result = scan_tree(tmp_path, {"Service.cs": service})
    assert "llm_provider:anthropic" not in keys(result)
    assert "llm_provider:openai" in keys(result)


@pytest.mark.parametrize(
    "url",
    ["https://api.githubcopilot.com/mcp/", "http://127.0.0.1:11434/mcp", "https://api.openai.com/v1/sse"],
)
def test_an_mcp_servers_address_is_no_model_api(url):
    assert name_of(url) is None
    assert name_of(url, any_host=True) is None


def test_the_copilot_model_api_stays_an_endpoint():
    assert name_of("https://api.githubcopilot.com/chat/completions") == "api.githubcopilot.com"
