"""Shapes engineer AC's sample showed: C# global usings, the C# MCP SDK's first previews and mcpdotnet,
Semantic Kernel functions built from a method group, code commented out by a block opened after code, Rust
server builders (pmcp, prism-mcp-rs) and model-context-protocol-rb's tool classes and server blocks."""

from common.scanner.textutil import comment_line_numbers
from tests.unit.scanner_helpers import component, keys, scan_tree, tool_sites

CSPROJ = '<Project><ItemGroup><PackageReference Include="{}" Version="1.0.0" /></ItemGroup></Project>\n'


def test_a_block_opened_after_code_comments_out_the_lines_below_it():
    lines = [
        "class Archive {/*",
        "    [KernelFunction] public void Purge() {}",
        "*/}",
        'var glob = "src/**/*.cs";',
        "Run(); // see /* the note",
        "Call();",
    ]
    assert comment_line_numbers(lines, ("//", "/*", "*")) == {2, 3}


def test_kernel_function_in_a_block_opened_after_a_brace_is_no_tool(tmp_path):
    plugin = (
        "using Microsoft.SemanticKernel;\n"
        "public class Live { [KernelFunction] public int Count() => 1; }\n"
        "public class Parked\n{/*\n    [KernelFunction] public void Purge() { }\n*/}\n"
    )
    result = scan_tree(
        tmp_path, {"App/App.csproj": CSPROJ.format("Microsoft.SemanticKernel"), "App/P.cs": plugin}
    )
    assert {name for name, *_ in tool_sites(result)} == {"count"}


def test_global_usings_leave_client_and_function_idioms_in_files_without_usings(tmp_path):
    program = (
        'McpClientOptions options = new() { ClientInfo = new() { Name = "desk-client", Version = "1" } };\n'
        'var config = new McpServerConfig { Id = "desk", Name = "Desk Server", TransportType = "stdio" };\n'
        "await using var client = await McpClientFactory.CreateAsync(config, options);\n"
        "var chat = new ChatOptions { Tools = [AIFunctionFactory.Create(ReadClock)] };\n"
        'static string ReadClock() => "noon";\n'
    )
    result = scan_tree(
        tmp_path,
        {
            "Desk/Desk.csproj": CSPROJ.format("ModelContextProtocol"),
            "Desk/Usings.cs": (
                "global using ModelContextProtocol.Client;\nglobal using Microsoft.Extensions.AI;\n"
            ),
            "Desk/Program.cs": program,
        },
    )
    assert {"mcp_client:desk-client", "mcp_server:desk", "tool:readclock"} <= keys(result)
    assert "mcp_server:desk server" not in keys(result)
    framework = component(result, "agent_framework:mcp")
    assert "Desk/Program.cs" not in {loc.file for loc in framework.locations}


def test_first_preview_tool_attribute_and_mcpdotnet_package(tmp_path):
    server = (
        "builder.Services.AddMcpServer().WithStdioServerTransport().WithTools();\n"
        "[McpToolType]\npublic static class Clock\n{\n"
        '    [McpTool, Description("now")]\n    public static string CurrentHour() => "12";\n}\n'
    )
    result = scan_tree(
        tmp_path,
        {
            "Srv/Srv.csproj": CSPROJ.format("ModelContextProtocol"),
            "Srv/Program.cs": server,
            "Cli/Cli.csproj": CSPROJ.format("McpDotNet.Extensions.AI"),
            "Cli/Usings.cs": "global using McpDotNet.Extensions.AI;\n",
        },
    )
    assert ("current_hour", "Model Context Protocol", "Srv/Program.cs", 5) in tool_sites(result)
    assert {"Cli/Cli.csproj", "Cli/Usings.cs"} <= {
        loc.file for loc in component(result, "agent_framework:mcp").locations
    }


def test_kernel_function_from_a_method_group_is_named_after_the_method(tmp_path):
    code = (
        "using Microsoft.SemanticKernel;\n"
        'var plugin = KernelPluginFactory.CreateFromFunctions("t",\n'
        "    [KernelFunctionFactory.CreateFromMethod(ReadClock)]);\n"
        'static string ReadClock() => "noon";\n'
    )
    result = scan_tree(
        tmp_path, {"A/A.csproj": CSPROJ.format("Microsoft.SemanticKernel"), "A/Program.cs": code}
    )
    assert ("readclock", "Microsoft", "A/Program.cs", 3) in tool_sites(result)


def test_kernel_function_wrapping_a_delegate_property_is_no_tool(tmp_path):
    code = (
        "using Microsoft.SemanticKernel;\n"
        "public class Entry {\n"
        "    public required Delegate Callback { get; init; }\n"
        "    private KernelFunction? _fn;\n"
        "    public void Run(Kernel k) {\n"
        "        _fn ??= KernelFunctionFactory.CreateFromMethod(this.Callback);\n"
        "        var clock = KernelFunctionFactory.CreateFromMethod(this.ReadClock);\n"
        "    }\n"
        '    private string ReadClock() => "noon";\n'
        "}\n"
    )
    result = scan_tree(
        tmp_path, {"A/A.csproj": CSPROJ.format("Microsoft.SemanticKernel"), "A/Entry.cs": code}
    )
    names = {site[0] for site in tool_sites(result)}
    assert "callback" not in names
    assert "readclock" in names


def test_rust_server_builders_name_their_server_and_tools_only_under_an_mcp_sdk(tmp_path):
    server = (
        "use pmcp::{Server, ToolHandler};\n"
        "fn main() { let s = Server::builder()\n"
        '    .name("vault")\n    .tool("seal_box", SealBox)\n    .build(); }\n'
    )
    plain = 'struct R; fn main() { let _ = R.tool("wipe_all", Wipe); }\n'
    result = scan_tree(
        tmp_path,
        {
            "a/Cargo.toml": '[package]\nname = "a"\n\n[dependencies]\npmcp = "1.9"\n',
            "a/src/main.rs": server,
            "b/Cargo.toml": '[package]\nname = "b"\n\n[dependencies]\nclap = "4"\n',
            "b/src/main.rs": plain,
        },
    )
    assert {"mcp_server:vault", "tool:seal_box"} <= keys(result)
    assert "tool:wipe_all" not in keys(result)


def test_model_context_protocol_rb_tools_and_the_server_its_config_block_names(tmp_path):
    tool = (
        "class Lookup < ModelContextProtocol::Server::Tool\n  define do\n"
        '    name "lookup_word"\n    description "Dictionary lookup"\n  end\nend\n'
    )
    inline = (
        'Class.new(ModelContextProtocol::Server::Tool) do\n  define do\n    name "spell_check"\n  end\nend\n'
    )
    server = (
        'require "model_context_protocol"\n'
        "server = ModelContextProtocol::Server.with_streamable_http_transport do |config|\n"
        '  config.name = "lexicon"\nend\n'
    )
    other = (
        'require "sinatra/base"\nclass App < Sinatra::Base\n'
        '  configure do |config|\n    config.name = "site"\n  end\nend\n'
    )
    result = scan_tree(
        tmp_path,
        {
            "Gemfile": 'gem "model-context-protocol-rb"\n',
            "lib/lookup.rb": tool,
            "spec/inline_spec.rb": inline,
            "bin/server.rb": server,
            "app.rb": other,
        },
    )
    assert {"mcp_server:lexicon", "tool:lookup_word", "tool:spell_check"} <= keys(result)
    assert "mcp_server:site" not in keys(result)
