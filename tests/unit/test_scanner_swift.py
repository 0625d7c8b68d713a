"""Swift: one case per documented form of the Swift AI SDKs (their READMEs' shapes, our own code), the
manifests that declare them, and the test-data and shadow-AI rules as the other languages have them."""

import pytest

from tests.unit.scanner_helpers import component, keys, scan_tree

FORMS = {
    "macpaw_openai_enum_model": (
        {
            "Chat.swift": (
                "import OpenAI\n"
                "\n"
                'let openAI = OpenAI(apiToken: "")\n'
                'let query = ChatQuery(messages: [.user(.init(content: .string("hi")))], model: .gpt4_o)\n'
            )
        },
        {"llm_provider:openai", "model:gpt-4o"},
    ),
    "macpaw_openai_configured_host": (
        {
            "Client.swift": (
                "import OpenAI\n"
                'let configuration = OpenAI.Configuration(token: token, host: "api.openai.com")\n'
                "let client = OpenAI(configuration: configuration)\n"
                'let query = ChatQuery(messages: [], model: "gpt-4.1-mini")\n'
            )
        },
        {"llm_provider:openai", "model:gpt-4.1-mini", "endpoint:api.openai.com"},
    ),
    "swiftopenai_service_factory": (
        {
            "Service.swift": (
                "import SwiftOpenAI\n"
                "let service = OpenAIServiceFactory.service(apiKey: key)\n"
                "let parameters = ChatCompletionParameters(messages: messages, model: .gpt4omini)\n"
            )
        },
        {"llm_provider:openai", "model:gpt-4o-mini"},
    ),
    "swiftanthropic_message_parameter": (
        {
            "Claude.swift": (
                "import SwiftAnthropic\n"
                "let service = AnthropicServiceFactory.service(apiKey: key, betaHeaders: nil)\n"
                "let parameters = MessageParameter(\n"
                "    model: .claude35Haiku, messages: messages, maxTokens: 1024)\n"
            )
        },
        {"llm_provider:anthropic", "model:claude-3-5-haiku-latest"},
    ),
    "google_generative_model": (
        {
            "Gemini.swift": (
                "import GoogleGenerativeAI\n"
                'let model = GenerativeModel(name: "gemini-1.5-flash", apiKey: APIKey.default)\n'
            )
        },
        {"llm_provider:google-generativeai", "model:gemini-1.5-flash"},
    ),
    "firebase_ai_generative_model": (
        {
            "Assistant.swift": (
                "import FirebaseAI\n"
                "let ai = FirebaseAI.firebaseAI(backend: .googleAI())\n"
                'let model = ai.generativeModel(modelName: "gemini-2.5-flash")\n'
            )
        },
        {"llm_provider:firebase-ai", "model:gemini-2.5-flash"},
    ),
    "foundation_models_session_and_tool": (
        {
            "Suggest.swift": (
                "import FoundationModels\n"
                "\n"
                "struct LookUpPantry: Tool {\n"
                '    let name = "lookUpPantry"\n'
                '    let description = "Lists what is in the pantry"\n'
                "    func call(arguments: Arguments) async throws -> String { pantry.joined() }\n"
                "}\n"
                "\n"
                "let session = LanguageModelSession(tools: [LookUpPantry()])\n"
            )
        },
        {"llm_provider:apple-foundation-models", "tool:lookuppantry"},
    ),
    "mlx_model_configuration": (
        {
            "Loader.swift": (
                "import MLXLLM\n"
                "import MLXLMCommon\n"
                "let container = try await LLMModelFactory.shared.loadContainer(\n"
                '    configuration: ModelConfiguration(id: "mlx-community/Qwen3-4B-4bit"))\n'
            )
        },
        {"ml_framework:mlx", "model:mlx-community/qwen3-4b-4bit"},
    ),
    "mlx_registry_member": (
        {"Chat.swift": "import MLXLLM\nlet configuration = LLMRegistry.llama3_2_1B_4bit\n"},
        {"ml_framework:mlx", "model:mlx-community/llama-3.2-1b-instruct-4bit"},
    ),
    "macpaw_function_tool": (
        {
            "Weather.swift": (
                "import OpenAI\n"
                "let functions = [\n"
                "    ChatQuery.ChatCompletionToolParam.FunctionDefinition(\n"
                '        name: "current_temperature",\n'
                '        description: "Temperature at a place",\n'
                "        parameters: schema)\n"
                "]\n"
                "let query = ChatQuery(\n"
                "    messages: messages, model: .gpt4_1, tools: functions.map { .init(function: $0) })\n"
            )
        },
        {"llm_provider:openai", "model:gpt-4.1", "tool:current_temperature"},
    ),
    "swiftanthropic_function_tool": (
        {
            "Tools.swift": (
                "import SwiftAnthropic\n"
                "let lookup = MessageParameter.Tool.function(\n"
                '    name: "lookup_order", description: "Finds an order",\n'
                "    inputSchema: schema, cacheControl: nil)\n"
            )
        },
        {"llm_provider:anthropic", "tool:lookup_order"},
    ),
    "llm_swift_hugging_face_model": (
        {
            "Bot.swift": (
                "import LLM\n"
                "let model = HuggingFaceModel(\n"
                '    "TheBloke/TinyLlama-1.1B-Chat-v1.0-GGUF", .Q2_K, template: .chatML())\n'
                "let bot = try await LLM(from: model)\n"
            )
        },
        {"ml_framework:llama.cpp", "model:thebloke/tinyllama-1.1b-chat-v1.0-gguf"},
    ),
    "swift_transformers_tokenizer": (
        {
            "Tokens.swift": (
                "import Tokenizers\n"
                'let tokenizer = try await AutoTokenizer.from(pretrained: "google-bert/bert-base-uncased")\n'
            )
        },
        {"ml_framework:transformers", "model:google-bert/bert-base-uncased"},
    ),
    "ollama_swift_chat": (
        {
            "Local.swift": (
                "import Ollama\n"
                "let client = Client.default\n"
                'let response = try await client.chat(model: "llama3.2", messages: [.user("hi")])\n'
            )
        },
        {"llm_provider:ollama", "model:llama3.2"},
    ),
    "mcp_server_with_tools": (
        {
            "Sources/NotesServer/main.swift": (
                "import MCP\n"
                "\n"
                "let server = Server(\n"
                '    name: "NotesServer",\n'
                '    version: "1.0.0",\n'
                "    capabilities: .init(tools: .init(listChanged: false))\n"
                ")\n"
                "await server.withMethodHandler(ListTools.self) { _ in\n"
                '    .init(tools: [Tool(name: "search_notes", description: "Search",\n'
                "        inputSchema: .object([:]))])\n"
                "}\n"
                "try await server.start(transport: StdioTransport())\n"
            )
        },
        {"agent_framework:mcp", "mcp_server:notesserver", "tool:search_notes"},
    ),
    "import_attributes_and_kinds": (
        {
            "Kinds.swift": (
                "@preconcurrency import FoundationModels\n"
                "import struct MCP.Tool\n"
                "@testable import SwiftAnthropic\n"
            )
        },
        {"llm_provider:apple-foundation-models", "agent_framework:mcp", "llm_provider:anthropic"},
    ),
    "mcp_client_over_http": (
        {
            "Connect.swift": (
                "import MCP\n"
                'let client = Client(name: "NotesApp", version: "1.0.0")\n'
                "let transport = HTTPClientTransport(\n"
                '    endpoint: URL(string: "https://notes.example.com/mcp")!, streaming: true)\n'
                "try await client.connect(transport: transport)\n"
            )
        },
        {"agent_framework:mcp", "mcp_client:notesapp", "mcp_server:notes.example.com"},
    ),
    "raw_request_without_sdk": (
        {
            "CloudConfiguration.swift": (
                "import Foundation\n"
                "enum CloudConfiguration {\n"
                '    static let endpoint = "https://openrouter.ai/api/v1/chat/completions"\n'
                '    static let model = "mistralai/mistral-small-3.2-24b-instruct"\n'
                "}\n"
            )
        },
        {"endpoint:openrouter.ai", "model:mistralai/mistral-small-3.2-24b-instruct"},
    ),
    "core_ml_through_vision": (
        {
            "Classifier.swift": (
                "import Vision\n"
                "let request = VNCoreMLRequest(model: try VNCoreMLModel(for: FlowerClassifier().model))\n"
            )
        },
        {"ml_framework:coreml"},
    ),
    "core_ml_model_spec": (
        {
            "Models/FlowerClassifier.mlmodel": b"\x08\x05\x12\x2a\x0a\x05image" + bytes(40),
            "Models/Notes.mlmodel": "not a model\n",
        },
        {"model_file:Models/FlowerClassifier.mlmodel"},
    ),
    "core_ml_compiled_model": (
        {
            "App/Resources/FlowerClassifier.mlmodelc/coremldata.bin": bytes(range(64)),
            "App/Resources/FlowerClassifier.mlmodelc/model/coremldata.bin": bytes(range(64)),
            "App/Resources/cache/coremldata.bin": bytes(range(64)),
        },
        {"model_file:App/Resources/FlowerClassifier.mlmodelc/coremldata.bin"},
    ),
    "package_swift": (
        {
            "Package.swift": (
                "// swift-tools-version:5.9\n"
                "import PackageDescription\n"
                'let package = Package(name: "Notes", dependencies: [\n'
                '    .package(url: "https://github.com/MacPaw/OpenAI.git", from: "0.4.0"),\n'
                '    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.3.0"),\n'
                '    .package(url: "https://github.com/firebase/firebase-ios-sdk", from: "12.0.0"),\n'
                '], targets: [.target(name: "Notes", dependencies: [\n'
                '    .product(name: "OpenAI", package: "OpenAI"),\n'
                '    .product(name: "FirebaseAI", package: "firebase-ios-sdk"),\n'
                "])])\n"
            )
        },
        {"llm_provider:openai", "llm_provider:firebase-ai"},
    ),
    "package_resolved_v1": (
        {
            "Package.resolved": (
                '{"object": {"pins": [{"package": "SwiftAnthropic", "repositoryURL":'
                ' "https://github.com/jamesrochabrun/SwiftAnthropic", "state": {"version": "2.1.0"}}]},'
                ' "version": 1}\n'
            )
        },
        {"llm_provider:anthropic"},
    ),
    "xcode_project_package": (
        {
            "Notes.xcodeproj/project.pbxproj": (
                "/* Begin XCRemoteSwiftPackageReference section */\n"
                '\t\tA1 /* XCRemoteSwiftPackageReference "mlx-swift-examples" */ = {\n'
                "\t\t\tisa = XCRemoteSwiftPackageReference;\n"
                '\t\t\trepositoryURL = "https://github.com/ml-explore/mlx-swift-examples";\n'
                "\t\t\trequirement = {kind = upToNextMajorVersion; minimumVersion = 2.21.2;};\n"
                "\t\t};\n"
                '\t\tB2 /* XCRemoteSwiftPackageReference "firebase-ios-sdk" */ = {\n'
                '\t\t\trepositoryURL = "https://github.com/firebase/firebase-ios-sdk";\n'
                "\t\t};\n"
                "\t\tC3 /* FirebaseAI */ = {\n"
                "\t\t\tisa = XCSwiftPackageProductDependency;\n"
                "\t\t\tproductName = FirebaseAI;\n"
                "\t\t};\n"
            )
        },
        {"ml_framework:mlx", "llm_provider:firebase-ai"},
    ),
    "podfile_and_lock": (
        {
            "Podfile": (
                "platform :ios, '15.0'\ntarget 'Notes' do\n  pod 'ChatGPTSwift', '~> 2.5.0'\n"
                "  pod 'Alamofire'\nend\n"
            ),
            "Podfile.lock": "PODS:\n  - Alamofire (5.9.0)\n  - ChatGPTSwift (2.5.1)\n\nCOCOAPODS: 1.15.2\n",
        },
        {"llm_provider:openai"},
    ),
}


@pytest.mark.parametrize("form", sorted(FORMS))
def test_documented_swift_forms(tmp_path, form):
    files, expected = FORMS[form]
    assert keys(scan_tree(tmp_path, files)) == expected


def test_manifest_versions_and_lock_beside_its_manifest(tmp_path):
    result = scan_tree(tmp_path, FORMS["podfile_and_lock"][0] | FORMS["package_swift"][0])
    openai = component(result, "llm_provider:openai")
    assert openai.version == "2.5.1"  # the lock's resolved version
    assert {loc.file for loc in openai.locations} == {"Podfile", "Package.swift"}


def test_swift_import_without_a_declaring_manifest_is_shadow_ai_unless_the_os_ships_it(tmp_path):
    code = {
        "App/Chat.swift": 'import OpenAI\nlet client = OpenAI(apiToken: "")\n',
        "App/Local.swift": "import FoundationModels\nlet session = LanguageModelSession()\n",
    }
    result = scan_tree(tmp_path / "undeclared", code)
    assert component(result, "llm_provider:openai").flags == ["shadow_ai"]
    assert component(result, "llm_provider:apple-foundation-models").flags == []
    declared = scan_tree(tmp_path / "declared", code | FORMS["package_swift"][0])
    assert "shadow_ai" not in component(declared, "llm_provider:openai").flags


def test_comments_declarations_and_files_without_an_sdk_import(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "Commented.swift": "// import OpenAI\n// let client = OpenAI(apiToken: key)\n",
            "Extension.swift": "import MCP\nextension Server {\n    func describe() {}\n}\n",
            "Plain.swift": (
                'import Foundation\nstruct Server { let name = "x" }\nlet s = Server(name: "local")\n'
            ),
            "Words.swift": (
                'import SwiftUI\nlet model = "Notes"\nstruct Search: Tool { let name = "search" }\n'
            ),
        },
    )
    assert keys(result) == {"agent_framework:mcp"}


def test_model_a_test_asserts_against_is_test_data(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "Tests/NotesTests/QueryTests.swift": (
                "import XCTest\n"
                "import OpenAI\n"
                "final class QueryTests: XCTestCase {\n"
                "    func testModel() {\n"
                "        let query = makeQuery()\n"
                '        XCTAssertEqual(query.model, "gpt-4o-mini")\n'
                "    }\n"
                "}\n"
            ),
            "NotesTests.swift": 'import OpenAI\nfunc check() { XCTAssertEqual(pick(), "o3-mini") }\n',
        },
    )
    assert "model:gpt-4o-mini" not in keys(result)
    assert "model:o3-mini" not in keys(result)


def test_a_swift_package_importing_its_own_module_does_not_depend_on_it(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "Package.swift": (
                'import PackageDescription\nlet package = Package(name: "mcp-swift-sdk", products: [\n'
                '    .library(name: "MCP", targets: ["MCP"])], targets: [.target(name: "MCP")])\n'
            ),
            "Sources/Example/main.swift": 'import MCP\nlet server = Server(name: "example", version: "1")\n',
        },
    )
    assert keys(result) == {"mcp_server:example"}
