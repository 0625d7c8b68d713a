"""Every documented way to define an agent tool, one small project each, in the shape the framework's
own documentation shows: the engine reports the tool named as the model sees it, with its framework as
the provider, at the line that defines it (bench/README.md, "Agent tools, every documented form")."""

import pytest

from tests.unit.scanner_helpers import scan_tree


def package_json(*packages: str) -> str:
    return '{"name": "x", "dependencies": {' + ", ".join(f'"{p}": "1.0.0"' for p in packages) + "}}\n"


def pom(group: str, artifact: str) -> str:
    dependency = f"<groupId>{group}</groupId><artifactId>{artifact}</artifactId>"
    return f"<project><dependencies><dependency>{dependency}</dependency></dependencies></project>\n"


def go_mod(*modules: str) -> str:
    return (
        "module example.com/x\n\ngo 1.22\n\nrequire (\n" + "".join(f"\t{m} v1.0.0\n" for m in modules) + ")\n"
    )


def cargo(*crates: str) -> str:
    return '[package]\nname = "x"\nversion = "0.1.0"\n\n[dependencies]\n' + "".join(
        f'{c} = "1"\n' for c in crates
    )


def csproj(package: str) -> str:
    reference = f'<PackageReference Include="{package}" Version="1.0.0" />'
    return f'<Project Sdk="Microsoft.NET.Sdk"><ItemGroup>{reference}</ItemGroup></Project>\n'


FORMS = [
    pytest.param(
        {
            "requirements.txt": "langchain\n",
            "a.py": """\
from langchain_core.tools import tool

@tool
def get_weather(city: str) -> str:
    \"\"\"Return the weather.\"\"\"
    return "sunny"
""",
        },
        ("get_weather", "LangChain", "a.py", 3),
        id="py-langchain-@tool",
    ),
    pytest.param(
        {
            "requirements.txt": "langchain\n",
            "a.py": """\
from langchain.tools import tool

@tool("lookup_order", return_direct=True)
def lookup(order_id: str) -> str:
    \"\"\"Find an order.\"\"\"
    return order_id
""",
        },
        ("lookup_order", "LangChain", "a.py", 3),
        id="py-langchain-@tool(name)",
    ),
    pytest.param(
        {
            "requirements.txt": "langchain\n",
            "a.py": """\
from langchain_core.tools import StructuredTool

def search(query: str) -> str:
    return query

search_tool = StructuredTool.from_function(
    func=search,
    name="search_docs",
    description="Search the docs",
)
""",
        },
        ("search_docs", "LangChain", "a.py", 3),
        id="py-langchain-StructuredTool.from_function",
    ),
    pytest.param(
        {
            "requirements.txt": "langchain\n",
            "a.py": """\
from langchain_core.tools import BaseTool

class CalculatorTool(BaseTool):
    name: str = "calculator"
    description: str = "Do maths"

    def _run(self, expression: str) -> str:
        return expression
""",
        },
        ("calculator", "LangChain", "a.py", 3),
        id="py-langchain-BaseTool",
    ),
    pytest.param(
        {
            "requirements.txt": "langchain\n",
            "a.py": """\
from langchain.agents import Tool

def lookup(q):
    return q

tools = [
    Tool(
        name="wiki_lookup",
        func=lookup,
        description="Look things up",
    )
]
""",
        },
        ("wiki_lookup", "LangChain", "a.py", 3),
        id="py-langchain-Tool(...)",
    ),
    pytest.param(
        {
            "requirements.txt": "langchain\n",
            "a.py": """\
from langchain_core.tools import Tool

def run(code):
    return code

repl = Tool.from_function(func=run, name="python_repl", description="Run python")
""",
        },
        ("python_repl", "LangChain", "a.py", 3),
        id="py-langchain-Tool.from_function",
    ),
    pytest.param(
        {
            "requirements.txt": "langgraph\n",
            "a.py": """\
from langgraph.prebuilt import ToolNode

def check_stock(sku: str) -> int:
    \"\"\"How many items are left.\"\"\"
    return 3

tool_node = ToolNode([check_stock])
""",
        },
        ("check_stock", "LangChain", "a.py", 3),
        id="py-langgraph-ToolNode(plain)",
    ),
    pytest.param(
        {
            "requirements.txt": "langgraph\n",
            "a.py": """\
from langgraph.prebuilt import create_react_agent

def get_time(zone: str) -> str:
    \"\"\"The time in a zone.\"\"\"
    return "noon"

agent = create_react_agent("openai:gpt-4o", tools=[get_time])
""",
        },
        ("get_time", "LangChain", "a.py", 3),
        id="py-langgraph-create_react_agent(plain)",
    ),
    pytest.param(
        {
            "requirements.txt": "llama-index\n",
            "a.py": """\
from llama_index.core.tools import FunctionTool

def multiply(a: int, b: int) -> int:
    \"\"\"Multiply two integers.\"\"\"
    return a * b

multiply_tool = FunctionTool.from_defaults(fn=multiply)
""",
        },
        ("multiply", "LlamaIndex", "a.py", 3),
        id="py-llamaindex-FunctionTool.from_defaults",
    ),
    pytest.param(
        {
            "requirements.txt": "llama-index\n",
            "a.py": """\
from llama_index.core.tools import FunctionTool

def add(a: int, b: int) -> int:
    return a + b

add_tool = FunctionTool.from_defaults(fn=add, name="add_numbers", description="Add")
""",
        },
        ("add_numbers", "LlamaIndex", "a.py", 3),
        id="py-llamaindex-FunctionTool.from_defaults(name)",
    ),
    pytest.param(
        {
            "requirements.txt": "llama-index\n",
            "a.py": """\
from llama_index.core.tools import QueryEngineTool

uber_tool = QueryEngineTool.from_defaults(
    query_engine=engine,
    name="uber_10k",
    description="Uber 2021 filing",
)
""",
        },
        ("uber_10k", "LlamaIndex", "a.py", 3),
        id="py-llamaindex-QueryEngineTool.from_defaults",
    ),
    pytest.param(
        {
            "requirements.txt": "llama-index\n",
            "a.py": """\
from llama_index.core.tools import QueryEngineTool, ToolMetadata

lyft_tool = QueryEngineTool(
    query_engine=engine,
    metadata=ToolMetadata(
        name="lyft_10k",
        description="Lyft 2021 filing",
    ),
)
""",
        },
        ("lyft_10k", "LlamaIndex", "a.py", 3),
        id="py-llamaindex-QueryEngineTool(ToolMetadata)",
    ),
    pytest.param(
        {
            "requirements.txt": "llama-index\n",
            "a.py": """\
from llama_index.core.tools.tool_spec.base import BaseToolSpec

class WeatherToolSpec(BaseToolSpec):
    spec_functions = ["get_forecast"]

    def get_forecast(self, city: str) -> str:
        \"\"\"Forecast for a city.\"\"\"
        return "rain"
""",
        },
        ("get_forecast", "LlamaIndex", "a.py", 6),
        id="py-llamaindex-BaseToolSpec",
    ),
    pytest.param(
        {
            "requirements.txt": "crewai\n",
            "a.py": """\
from crewai.tools import tool

@tool("Search Database")
def search_database(query: str) -> str:
    \"\"\"Search the database.\"\"\"
    return query
""",
        },
        ("search database", "CrewAI", "a.py", 3),
        id="py-crewai-@tool",
    ),
    pytest.param(
        {
            "requirements.txt": "crewai\n",
            "a.py": """\
from crewai.tools import BaseTool

class StockLookupTool(BaseTool):
    name: str = "Stock Lookup"
    description: str = "Look up a stock price"

    def _run(self, ticker: str) -> str:
        return ticker
""",
        },
        ("stock lookup", "CrewAI", "a.py", 3),
        id="py-crewai-BaseTool",
    ),
    pytest.param(
        {
            "requirements.txt": "pyautogen\n",
            "a.py": """\
from autogen import register_function

def calc(a: int, b: int) -> int:
    return a + b

register_function(
    calc,
    caller=assistant,
    executor=user_proxy,
    name="calculator",
    description="A simple calculator",
)
""",
        },
        ("calculator", "Microsoft", "a.py", 3),
        id="py-autogen-register_function",
    ),
    pytest.param(
        {
            "requirements.txt": "pyautogen\n",
            "a.py": """\
import autogen

assistant = autogen.AssistantAgent(name="assistant", llm_config=llm_config)
user_proxy = autogen.UserProxyAgent(name="user_proxy")

@user_proxy.register_for_execution()
@assistant.register_for_llm(description="Currency exchange calculator.")
def currency_calculator(amount: float) -> str:
    return str(amount)
""",
        },
        ("currency_calculator", "Microsoft", "a.py", 7),
        id="py-autogen-register_for_llm",
    ),
    pytest.param(
        {
            "requirements.txt": """\
autogen-agentchat
autogen-core
""",
            "a.py": """\
from autogen_core.tools import FunctionTool

async def get_stock_price(ticker: str) -> float:
    return 1.0

stock_price_tool = FunctionTool(get_stock_price, description="Get the stock price.")
""",
        },
        ("get_stock_price", "Microsoft", "a.py", 3),
        id="py-autogen-FunctionTool",
    ),
    pytest.param(
        {
            "requirements.txt": "autogen-agentchat\n",
            "a.py": """\
from autogen_agentchat.agents import AssistantAgent

async def web_search(query: str) -> str:
    \"\"\"Find information on the web\"\"\"
    return "AutoGen is a framework"

agent = AssistantAgent(name="assistant", model_client=model_client, tools=[web_search])
""",
        },
        ("web_search", "Microsoft", "a.py", 3),
        id="py-autogen-AssistantAgent(tools=[plain])",
    ),
    pytest.param(
        {
            "requirements.txt": "semantic-kernel\n",
            "a.py": """\
from semantic_kernel.functions import kernel_function

class LightsPlugin:
    @kernel_function(
        name="get_lights",
        description="Gets a list of lights",
    )
    async def get_state(self) -> str:
        return "[]"
""",
        },
        ("get_lights", "Microsoft", "a.py", 4),
        id="py-semantic-kernel-@kernel_function(name)",
    ),
    pytest.param(
        {
            "requirements.txt": "semantic-kernel\n",
            "a.py": """\
from semantic_kernel.functions import kernel_function

class TimePlugin:
    @kernel_function
    def get_time(self) -> str:
        return "now"
""",
        },
        ("get_time", "Microsoft", "a.py", 4),
        id="py-semantic-kernel-@kernel_function",
    ),
    pytest.param(
        {
            "requirements.txt": "openai-agents\n",
            "a.py": """\
from agents import Agent, function_tool

@function_tool
async def fetch_weather(city: str) -> str:
    \"\"\"Fetch the weather.\"\"\"
    return "sunny"
""",
        },
        ("fetch_weather", "OpenAI", "a.py", 3),
        id="py-openai-agents-@function_tool",
    ),
    pytest.param(
        {
            "requirements.txt": "openai-agents\n",
            "a.py": """\
from agents import function_tool

@function_tool(name_override="fetch_data")
def read_file(path: str) -> str:
    \"\"\"Read a file.\"\"\"
    return path
""",
        },
        ("fetch_data", "OpenAI", "a.py", 3),
        id="py-openai-agents-@function_tool(name_override)",
    ),
    pytest.param(
        {
            "requirements.txt": "openai-agents\n",
            "a.py": """\
from agents import FunctionTool

tool = FunctionTool(
    name="process_user",
    description="Processes extracted user data",
    params_json_schema=schema,
    on_invoke_tool=run_function,
)
""",
        },
        ("process_user", "OpenAI", "a.py", 3),
        id="py-openai-agents-FunctionTool(...)",
    ),
    pytest.param(
        {
            "requirements.txt": "openai\n",
            "a.py": """\
from openai import OpenAI

client = OpenAI()
tools = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Get the weather",
            "parameters": {"type": "object", "properties": {}},
        },
    }
]
client.chat.completions.create(model="gpt-4o", messages=[], tools=tools)
""",
        },
        ("get_weather", "OpenAI", "a.py", 8),
        id="py-openai-chat-tools-schema",
    ),
    pytest.param(
        {
            "requirements.txt": "openai\n",
            "a.py": """\
from openai import OpenAI

client = OpenAI()
tools = [
    {
        "type": "function",
        "name": "get_horoscope",
        "description": "Get today's horoscope",
        "parameters": {"type": "object", "properties": {}},
    }
]
client.responses.create(model="gpt-4.1", input="hi", tools=tools)
""",
        },
        ("get_horoscope", "OpenAI", "a.py", 7),
        id="py-openai-responses-tools-schema",
    ),
    pytest.param(
        {
            "requirements.txt": "anthropic\n",
            "a.py": """\
import anthropic

client = anthropic.Anthropic()
response = client.messages.create(
    model="claude-3-5-sonnet-latest",
    max_tokens=1024,
    tools=[
        {
            "name": "get_stock_price",
            "description": "Get the price",
            "input_schema": {"type": "object", "properties": {}},
        }
    ],
    messages=[],
)
""",
        },
        ("get_stock_price", "Anthropic", "a.py", 9),
        id="py-anthropic-tools-schema",
    ),
    pytest.param(
        {
            "requirements.txt": "pydantic-ai\n",
            "a.py": """\
from pydantic_ai import Agent, RunContext

agent = Agent("openai:gpt-4o")

@agent.tool
async def roll_die(ctx: RunContext[None]) -> str:
    \"\"\"Roll a six-sided die.\"\"\"
    return "4"
""",
        },
        ("roll_die", "Pydantic", "a.py", 5),
        id="py-pydantic-ai-@agent.tool",
    ),
    pytest.param(
        {
            "requirements.txt": "pydantic-ai\n",
            "a.py": """\
from pydantic_ai import Agent

agent = Agent("openai:gpt-4o")

@agent.tool_plain
def get_player_name() -> str:
    \"\"\"The player name.\"\"\"
    return "Anne"
""",
        },
        ("get_player_name", "Pydantic", "a.py", 5),
        id="py-pydantic-ai-@agent.tool_plain",
    ),
    pytest.param(
        {
            "requirements.txt": "pydantic-ai\n",
            "a.py": """\
from pydantic_ai import Agent, Tool

def select_card(suit: str) -> str:
    return suit

agent = Agent("openai:gpt-4o", tools=[Tool(select_card, takes_ctx=False)])
""",
        },
        ("select_card", "Pydantic", "a.py", 3),
        id="py-pydantic-ai-Tool(...)",
    ),
    pytest.param(
        {
            "requirements.txt": "pydantic-ai\n",
            "a.py": """\
from pydantic_ai import Agent

def lookup_rate(currency: str) -> float:
    \"\"\"Exchange rate.\"\"\"
    return 1.1

agent = Agent("openai:gpt-4o", tools=[lookup_rate])
""",
        },
        ("lookup_rate", "Pydantic", "a.py", 3),
        id="py-pydantic-ai-Agent(tools=[plain])",
    ),
    pytest.param(
        {
            "requirements.txt": "smolagents\n",
            "a.py": """\
from smolagents import tool

@tool
def get_travel_duration(start: str, end: str) -> str:
    \"\"\"Travel time.

    Args:
        start: from
        end: to
    \"\"\"
    return "1h"
""",
        },
        ("get_travel_duration", "Hugging Face", "a.py", 3),
        id="py-smolagents-@tool",
    ),
    pytest.param(
        {
            "requirements.txt": "smolagents\n",
            "a.py": """\
from smolagents import Tool

class ModelDownloadTool(Tool):
    name = "model_download_counter"
    description = "Most downloaded model"
    inputs = {"task": {"type": "string", "description": "task"}}
    output_type = "string"

    def forward(self, task: str):
        return task
""",
        },
        ("model_download_counter", "Hugging Face", "a.py", 3),
        id="py-smolagents-Tool-subclass",
    ),
    pytest.param(
        {
            "requirements.txt": "haystack-ai\n",
            "a.py": """\
from haystack.tools import Tool

def weather(city: str):
    return city

tool = Tool(
    name="weather_tool",
    description="Weather by city",
    parameters={"type": "object"},
    function=weather,
)
""",
        },
        ("weather_tool", "deepset", "a.py", 3),
        id="py-haystack-Tool(...)",
    ),
    pytest.param(
        {
            "requirements.txt": "haystack-ai\n",
            "a.py": """\
from haystack.tools import ComponentTool
from haystack.components.websearch import SerperDevWebSearch

search_tool = ComponentTool(
    component=SerperDevWebSearch(top_k=3),
    name="web_search",
    description="Search the web",
)
""",
        },
        ("web_search", "deepset", "a.py", 4),
        id="py-haystack-ComponentTool",
    ),
    pytest.param(
        {
            "requirements.txt": "haystack-ai\n",
            "a.py": """\
from haystack.tools import tool

@tool
def get_weather(city: str) -> str:
    \"\"\"Weather for a city.\"\"\"
    return city
""",
        },
        ("get_weather", "deepset", "a.py", 3),
        id="py-haystack-@tool",
    ),
    pytest.param(
        {
            "requirements.txt": "google-adk\n",
            "a.py": """\
from google.adk.agents import Agent

def get_weather(city: str) -> dict:
    \"\"\"Weather report.\"\"\"
    return {}

root_agent = Agent(name="weather_agent", model="gemini-2.0-flash", tools=[get_weather])
""",
        },
        ("get_weather", "Google", "a.py", 3),
        id="py-google-adk-Agent(tools=[plain])",
    ),
    pytest.param(
        {
            "requirements.txt": "google-adk\n",
            "a.py": """\
from google.adk.tools import FunctionTool

def get_stock(symbol: str) -> dict:
    \"\"\"Stock price.\"\"\"
    return {}

stock_tool = FunctionTool(func=get_stock)
""",
        },
        ("get_stock", "Google", "a.py", 3),
        id="py-google-adk-FunctionTool",
    ),
    pytest.param(
        {
            "requirements.txt": "agno\n",
            "a.py": """\
from agno.tools import Toolkit

class ShellTools(Toolkit):
    def __init__(self, **kwargs):
        super().__init__(name="shell_tools", tools=[self.run_shell], **kwargs)

    def run_shell(self, args: list[str]) -> str:
        \"\"\"Run a shell command.\"\"\"
        return ""
""",
        },
        ("run_shell", "Agno", "a.py", 7),
        id="py-agno-Toolkit",
    ),
    pytest.param(
        {
            "requirements.txt": "agno\n",
            "a.py": """\
from agno.tools import tool

@tool(show_result=True)
def get_top_stories(num: int = 5) -> str:
    \"\"\"Top hacker news stories.\"\"\"
    return ""
""",
        },
        ("get_top_stories", "Agno", "a.py", 3),
        id="py-agno-@tool",
    ),
    pytest.param(
        {
            "requirements.txt": "agno\n",
            "a.py": """\
from agno.agent import Agent

def get_hn_stories(num: int = 10) -> str:
    \"\"\"Top stories.\"\"\"
    return ""

agent = Agent(tools=[get_hn_stories], markdown=True)
""",
        },
        ("get_hn_stories", "Agno", "a.py", 3),
        id="py-agno-Agent(tools=[plain])",
    ),
    pytest.param(
        {
            "requirements.txt": "phidata\n",
            "a.py": """\
from phi.tools import Toolkit

class PaperTools(Toolkit):
    def __init__(self):
        super().__init__(name="paper_tools")
        self.register(self.search_papers)

    def search_papers(self, query: str) -> str:
        return query
""",
        },
        ("search_papers", "Agno", "a.py", 8),
        id="py-phidata-Toolkit",
    ),
    pytest.param(
        {
            "requirements.txt": "dspy\n",
            "a.py": """\
import dspy

def search_wikipedia(query: str) -> list[str]:
    \"\"\"Search Wikipedia.\"\"\"
    return []

wiki = dspy.Tool(search_wikipedia)
""",
        },
        ("search_wikipedia", "Stanford NLP", "a.py", 3),
        id="py-dspy-Tool",
    ),
    pytest.param(
        {
            "requirements.txt": "dspy\n",
            "a.py": """\
import dspy

def evaluate_math(expression: str) -> float:
    return 1.0

react = dspy.ReAct("question -> answer: float", tools=[evaluate_math])
""",
        },
        ("evaluate_math", "Stanford NLP", "a.py", 3),
        id="py-dspy-ReAct(tools=[plain])",
    ),
    pytest.param(
        {
            "requirements.txt": "strands-agents\n",
            "a.py": """\
from strands import Agent, tool

@tool
def word_count(text: str) -> int:
    \"\"\"Count words.\"\"\"
    return len(text.split())

agent = Agent(tools=[word_count])
""",
        },
        ("word_count", "Amazon Web Services", "a.py", 3),
        id="py-strands-@tool",
    ),
    pytest.param(
        {
            "requirements.txt": "letta-client\n",
            "a.py": """\
from letta_client import Letta

client = Letta(base_url="http://localhost:8283")

def roll_dice() -> str:
    \"\"\"Roll a die.\"\"\"
    return "4"

tool = client.tools.upsert_from_function(func=roll_dice)
""",
        },
        ("roll_dice", "Letta", "a.py", 5),
        id="py-letta-upsert_from_function",
    ),
    pytest.param(
        {
            "package.json": package_json("ai", "zod"),
            "a.ts": """\
import { generateText, tool } from "ai";
import { z } from "zod";

const result = await generateText({
  model,
  tools: {
    weather: tool({
      description: "Get the weather",
      parameters: z.object({ location: z.string() }),
      execute: async ({ location }) => ({ location }),
    }),
  },
  prompt: "hi",
});
""",
        },
        ("weather", "Vercel", "a.ts", 7),
        id="ts-vercel-ai-tool(parameters)",
    ),
    pytest.param(
        {
            "package.json": package_json("ai", "zod"),
            "a.ts": """\
import { tool } from "ai";
import { z } from "zod";

export const getWeather = tool({
  description: "Get the weather",
  inputSchema: z.object({ city: z.string() }),
  execute: async ({ city }) => city,
});
""",
        },
        ("getweather", "Vercel", "a.ts", 4),
        id="ts-vercel-ai-v5-tool(inputSchema)",
    ),
    pytest.param(
        {
            "package.json": package_json("@langchain/core", "zod"),
            "a.ts": """\
import { tool } from "@langchain/core/tools";
import { z } from "zod";

const multiply = tool(
  async ({ a, b }) => a * b,
  {
    name: "multiply",
    description: "Multiply two numbers",
    schema: z.object({ a: z.number(), b: z.number() }),
  }
);
""",
        },
        ("multiply", "LangChain", "a.ts", 4),
        id="ts-langchainjs-tool()",
    ),
    pytest.param(
        {
            "package.json": package_json("@langchain/core", "zod"),
            "a.ts": """\
import { DynamicStructuredTool } from "@langchain/core/tools";
import { z } from "zod";

const randomTool = new DynamicStructuredTool({
  name: "random-number-generator",
  description: "generates a random number",
  schema: z.object({ low: z.number() }),
  func: async ({ low }) => String(low),
});
""",
        },
        ("random-number-generator", "LangChain", "a.ts", 4),
        id="ts-langchainjs-DynamicStructuredTool",
    ),
    pytest.param(
        {
            "package.json": package_json("langchain"),
            "a.ts": """\
import { DynamicTool } from "langchain/tools";

const foo = new DynamicTool({
  name: "FOO",
  description: "call this to get the value of foo",
  func: async () => "baz",
});
""",
        },
        ("foo", "LangChain", "a.ts", 3),
        id="ts-langchainjs-DynamicTool",
    ),
    pytest.param(
        {
            "package.json": package_json("@langchain/core", "zod"),
            "a.ts": """\
import { StructuredTool } from "@langchain/core/tools";
import { z } from "zod";

export class LookupUserTool extends StructuredTool {
  name = "lookup_user";
  description = "Find a user";
  schema = z.object({ id: z.string() });
  async _call({ id }: { id: string }) {
    return id;
  }
}
""",
        },
        ("lookup_user", "LangChain", "a.ts", 4),
        id="ts-langchainjs-StructuredTool-subclass",
    ),
    pytest.param(
        {
            "package.json": package_json("@mastra/core", "zod"),
            "a.ts": """\
import { createTool } from "@mastra/core/tools";
import { z } from "zod";

export const weatherTool = createTool({
  id: "get-weather",
  description: "Get current weather",
  inputSchema: z.object({ location: z.string() }),
  execute: async ({ context }) => context,
});
""",
        },
        ("get-weather", "Mastra", "a.ts", 4),
        id="ts-mastra-createTool",
    ),
    pytest.param(
        {
            "package.json": package_json("@openai/agents", "zod"),
            "a.ts": """\
import { Agent, tool } from "@openai/agents";
import { z } from "zod";

const getWeather = tool({
  name: "get_weather",
  description: "Get the weather",
  parameters: z.object({ city: z.string() }),
  async execute({ city }) {
    return city;
  },
});
""",
        },
        ("get_weather", "OpenAI", "a.ts", 4),
        id="ts-openai-agents-tool()",
    ),
    pytest.param(
        {
            "package.json": package_json("genkit", "@genkit-ai/googleai"),
            "a.ts": """\
import { genkit, z } from "genkit";

const ai = genkit({});

const getWeather = ai.defineTool(
  {
    name: "getWeather",
    description: "Gets the current weather",
    inputSchema: z.object({ location: z.string() }),
    outputSchema: z.string(),
  },
  async (input) => "sunny"
);
""",
        },
        ("getweather", "Google", "a.ts", 5),
        id="ts-genkit-defineTool",
    ),
    pytest.param(
        {
            "package.json": package_json("llamaindex"),
            "a.ts": """\
import { FunctionTool } from "llamaindex";

const sumTool = FunctionTool.from(
  ({ a, b }: { a: number; b: number }) => `${a + b}`,
  {
    name: "sumNumbers",
    description: "Add two numbers",
    parameters: { type: "object", properties: {} },
  }
);
""",
        },
        ("sumnumbers", "LlamaIndex", "a.ts", 3),
        id="ts-llamaindex-FunctionTool.from",
    ),
    pytest.param(
        {
            "package.json": package_json("llamaindex", "zod"),
            "a.ts": """\
import { tool } from "llamaindex";
import { z } from "zod";

const weatherTool = tool({
  name: "getWeather",
  description: "Get the weather",
  parameters: z.object({ city: z.string() }),
  execute: ({ city }) => city,
});
""",
        },
        ("getweather", "LlamaIndex", "a.ts", 4),
        id="ts-llamaindex-tool()",
    ),
    pytest.param(
        {
            "package.json": package_json("@anthropic-ai/sdk"),
            "a.ts": """\
import Anthropic from "@anthropic-ai/sdk";

const client = new Anthropic();
const msg = await client.messages.create({
  model: "claude-3-5-sonnet-latest",
  max_tokens: 1024,
  tools: [
    {
      name: "get_weather",
      description: "Get the weather",
      input_schema: { type: "object", properties: {} },
    },
  ],
  messages: [],
});
""",
        },
        ("get_weather", "Anthropic", "a.ts", 9),
        id="ts-anthropic-tools-schema",
    ),
    pytest.param(
        {
            "package.json": package_json("openai"),
            "a.ts": """\
import OpenAI from "openai";

const openai = new OpenAI();
const tools = [
  {
    type: "function",
    function: {
      name: "get_weather",
      description: "Get the weather",
      parameters: { type: "object", properties: {} },
    },
  },
];
await openai.chat.completions.create({ model: "gpt-4o", messages: [], tools });
""",
        },
        ("get_weather", "OpenAI", "a.ts", 8),
        id="ts-openai-tools-schema",
    ),
    pytest.param(
        {
            "pom.xml": pom("org.springframework.ai", "spring-ai-starter-model-openai"),
            "src/main/java/x/DateTimeTools.java": """\
package x;

import org.springframework.ai.tool.annotation.Tool;

class DateTimeTools {

    @Tool(description = "Get the current date and time")
    String getCurrentDateTime() {
        return "now";
    }
}
""",
        },
        ("getcurrentdatetime", "Spring", "src/main/java/x/DateTimeTools.java", 7),
        id="java-spring-ai-@Tool",
    ),
    pytest.param(
        {
            "pom.xml": pom("org.springframework.ai", "spring-ai-starter-model-openai"),
            "src/main/java/x/AlarmTools.java": """\
package x;

import org.springframework.ai.tool.annotation.Tool;

class AlarmTools {

    @Tool(name = "set_alarm", description = "Set an alarm")
    void setAlarm(String time) {
    }
}
""",
        },
        ("set_alarm", "Spring", "src/main/java/x/AlarmTools.java", 7),
        id="java-spring-ai-@Tool(name)",
    ),
    pytest.param(
        {
            "pom.xml": pom("org.springframework.ai", "spring-ai-starter-model-openai"),
            "src/main/java/x/Config.java": """\
package x;

import org.springframework.ai.tool.ToolCallback;
import org.springframework.ai.tool.function.FunctionToolCallback;

class Config {
    ToolCallback toolCallback = FunctionToolCallback
        .builder("currentWeather", new WeatherService())
        .description("Get the weather in location")
        .inputType(WeatherRequest.class)
        .build();
}
""",
        },
        ("currentweather", "Spring", "src/main/java/x/Config.java", 7),
        id="java-spring-ai-FunctionToolCallback",
    ),
    pytest.param(
        {
            "pom.xml": pom("org.springframework.ai", "spring-ai-starter-model-openai"),
            "src/main/java/x/Tools.java": """\
package x;

import java.util.function.Function;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Description;

@Configuration(proxyBeanMethods = false)
class WeatherTools {

    @Bean
    @Description("Get the weather in location")
    Function<WeatherRequest, WeatherResponse> currentWeather() {
        return request -> null;
    }
}
""",
        },
        ("currentweather", "Spring", "src/main/java/x/Tools.java", 10),
        id="java-spring-ai-@Bean-Function",
    ),
    pytest.param(
        {
            "pom.xml": pom("dev.langchain4j", "langchain4j"),
            "src/main/java/x/Calculator.java": """\
package x;

import dev.langchain4j.agent.tool.Tool;

class Calculator {

    @Tool("Sums 2 given numbers")
    double sum(double a, double b) {
        return a + b;
    }
}
""",
        },
        ("sum", "LangChain4j", "src/main/java/x/Calculator.java", 7),
        id="java-langchain4j-@Tool",
    ),
    pytest.param(
        {
            "pom.xml": pom("dev.langchain4j", "langchain4j"),
            "src/main/java/x/Specs.java": """\
package x;

import dev.langchain4j.agent.tool.ToolSpecification;

class Specs {
    ToolSpecification spec = ToolSpecification.builder()
        .name("get_booking_details")
        .description("Returns booking details")
        .build();
}
""",
        },
        ("get_booking_details", "LangChain4j", "src/main/java/x/Specs.java", 6),
        id="java-langchain4j-ToolSpecification",
    ),
    pytest.param(
        {
            "build.gradle.kts": """\
plugins { kotlin("jvm") }
dependencies { implementation("ai.koog:koog-agents:0.3.0") }
""",
            "src/main/kotlin/x/Calc.kt": """\
package x

import ai.koog.agents.core.tools.annotations.LLMDescription
import ai.koog.agents.core.tools.annotations.Tool
import ai.koog.agents.core.tools.reflect.ToolSet

@LLMDescription("Tools for maths")
class CalculatorTools : ToolSet {
    @Tool
    @LLMDescription("Adds two numbers")
    fun add(a: Int, b: Int): Int = a + b
}
""",
        },
        ("add", "JetBrains", "src/main/kotlin/x/Calc.kt", 9),
        id="kotlin-koog-@Tool-ToolSet",
    ),
    pytest.param(
        {
            "build.gradle.kts": """\
plugins { kotlin("jvm") }
dependencies { implementation("ai.koog:koog-agents:0.3.0") }
""",
            "src/main/kotlin/x/Cast.kt": """\
package x

import ai.koog.agents.core.tools.SimpleTool
import ai.koog.agents.core.tools.ToolDescriptor

object CastToDoubleTool : SimpleTool<CastToDoubleTool.Args>() {
    override val descriptor = ToolDescriptor(
        name = "cast_to_double",
        description = "casts the passed expression to double",
    )
}
""",
        },
        ("cast_to_double", "JetBrains", "src/main/kotlin/x/Cast.kt", 7),
        id="kotlin-koog-SimpleTool",
    ),
    pytest.param(
        {
            "pom.xml": pom("com.embabel.agent", "embabel-agent-starter"),
            "src/main/kotlin/x/Agent.kt": """\
package x

import com.embabel.agent.api.annotation.Agent
import org.springframework.ai.tool.annotation.Tool

@Agent(description = "Finds food")
class FoodAgent {
    @Tool(description = "Find restaurants near a place")
    fun findRestaurants(place: String): String = place
}
""",
        },
        ("findrestaurants", "Spring", "src/main/kotlin/x/Agent.kt", 8),
        id="kotlin-embabel-@Tool",
    ),
    pytest.param(
        {
            "App.csproj": csproj("Microsoft.SemanticKernel"),
            "LightsPlugin.cs": """\
using System.ComponentModel;
using Microsoft.SemanticKernel;

public class LightsPlugin
{
    [KernelFunction("get_lights")]
    [Description("Gets a list of lights and their current state")]
    public async Task<string> GetLightsAsync()
    {
        return "";
    }
}
""",
        },
        ("get_lights", "Microsoft", "LightsPlugin.cs", 6),
        id="cs-sk-[KernelFunction(name)]",
    ),
    pytest.param(
        {
            "App.csproj": csproj("Microsoft.SemanticKernel"),
            "TimePlugin.cs": """\
using System.ComponentModel;
using Microsoft.SemanticKernel;

public class TimePlugin
{
    [KernelFunction, Description("The current time")]
    public string GetTime() => DateTime.Now.ToString();
}
""",
        },
        ("gettime", "Microsoft", "TimePlugin.cs", 6),
        id="cs-sk-[KernelFunction]",
    ),
    pytest.param(
        {
            "App.csproj": csproj("Microsoft.SemanticKernel"),
            "MusicPlugin.cs": """\
using System.ComponentModel;
using Microsoft.SemanticKernel;

public class MusicPlugin
{
    [KernelFunction,
    Description("Songs the user played lately")]
    public static string GetRecentPlays() => "";
}
""",
        },
        ("getrecentplays", "Microsoft", "MusicPlugin.cs", 6),
        id="cs-sk-[KernelFunction]-list-over-lines",
    ),
    pytest.param(
        {
            "App.csproj": csproj("ModelContextProtocol"),
            "ClockTools.cs": """\
using System.ComponentModel;
using ModelContextProtocol.Server;

[McpServerToolType]
public static class ClockTools
{
    [McpServerTool,
     Description("The server's local time")]
    public static string LocalTime() => DateTime.Now.ToString();
}
""",
        },
        ("local_time", "Model Context Protocol", "ClockTools.cs", 7),
        id="cs-mcp-[McpServerTool]-list-over-lines",
    ),
    pytest.param(
        {
            "App.csproj": csproj("Microsoft.SemanticKernel"),
            "Program.cs": "using Microsoft.SemanticKernel;\n"
            'kernel.ImportPluginFromPromptDirectory("Prompts");\n',
            "Prompts/Summarize/skprompt.txt": "Summarize the text below in three bullets.\n{{$input}}\n",
            "Prompts/Summarize/config.json": '{"schema": 1, "description": "Summarize"}\n',
        },
        ("summarize", "Microsoft", "Prompts/Summarize/skprompt.txt", 1),
        id="cs-sk-prompt-directory-function",
    ),
    pytest.param(
        {
            "App.csproj": csproj("Microsoft.Extensions.AI"),
            "Program.cs": """\
using Microsoft.Extensions.AI;

var options = new ChatOptions
{
    Tools = [AIFunctionFactory.Create(GetWeather, "get_weather", "Gets the weather")]
};

static string GetWeather(string city) => "sunny";
""",
        },
        ("get_weather", "Microsoft", "Program.cs", 5),
        id="cs-meai-AIFunctionFactory.Create(name)",
    ),
    pytest.param(
        {
            "App.csproj": csproj("Microsoft.Extensions.AI"),
            "Program.cs": """\
using Microsoft.Extensions.AI;

var options = new ChatOptions
{
    Tools = [AIFunctionFactory.Create(GetWeather)]
};

[Description("Gets the weather")]
static string GetWeather(string city) => "sunny";
""",
        },
        ("getweather", "Microsoft", "Program.cs", 5),
        id="cs-meai-AIFunctionFactory.Create(method)",
    ),
    pytest.param(
        {
            "go.mod": go_mod("github.com/tmc/langchaingo"),
            "calc.go": """\
package main

import (
\t"context"

\t"github.com/tmc/langchaingo/tools"
)

var _ tools.Tool = Calculator{}

type Calculator struct{}

func (c Calculator) Name() string {
\treturn "calculator"
}

func (c Calculator) Description() string {
\treturn "Useful for maths"
}

func (c Calculator) Call(ctx context.Context, input string) (string, error) {
\treturn input, nil
}
""",
        },
        ("calculator", "LangChain", "calc.go", 13),
        id="go-langchaingo-tools.Tool",
    ),
    pytest.param(
        {
            "go.mod": go_mod("github.com/cloudwego/eino"),
            "todo.go": """\
package main

import (
\t"github.com/cloudwego/eino/components/tool/utils"
)

func build() {
\taddTool, err := utils.InferTool("add_todo", "Add a todo item", AddTodoFunc)
\t_ = addTool
\t_ = err
}
""",
        },
        ("add_todo", "ByteDance", "todo.go", 8),
        id="go-eino-InferTool",
    ),
    pytest.param(
        {
            "go.mod": go_mod("github.com/cloudwego/eino"),
            "todo.go": """\
package main

import (
\t"github.com/cloudwego/eino/components/tool/utils"
\t"github.com/cloudwego/eino/schema"
)

func build() {
\tinfo := &schema.ToolInfo{
\t\tName: "update_todo",
\t\tDesc: "Update a todo item",
\t}
\tupdateTool := utils.NewTool(info, UpdateTodoFunc)
\t_ = updateTool
}
""",
        },
        ("update_todo", "ByteDance", "todo.go", 9),
        id="go-eino-NewTool",
    ),
    pytest.param(
        {
            "go.mod": go_mod("github.com/firebase/genkit/go"),
            "main.go": """\
package main

import (
\t"github.com/firebase/genkit/go/ai"
\t"github.com/firebase/genkit/go/genkit"
)

func setup(g *genkit.Genkit) {
\tgetWeather := genkit.DefineTool(g, "getWeather", "Gets the weather",
\t\tfunc(ctx *ai.ToolContext, input WeatherInput) (string, error) {
\t\t\treturn "sunny", nil
\t\t})
\t_ = getWeather
}
""",
        },
        ("getweather", "Google", "main.go", 9),
        id="go-genkit-DefineTool",
    ),
    pytest.param(
        {
            "go.mod": go_mod("github.com/openai/openai-go"),
            "main.go": """\
package main

import (
\t"github.com/openai/openai-go"
)

var tools = []openai.ChatCompletionToolParam{
\t{
\t\tFunction: openai.FunctionDefinitionParam{
\t\t\tName:        "get_weather",
\t\t\tDescription: openai.String("Get weather at the given location"),
\t\t},
\t},
}
""",
        },
        ("get_weather", "OpenAI", "main.go", 9),
        id="go-openai-go-ChatCompletionToolParam",
    ),
    pytest.param(
        {
            "Cargo.toml": cargo("rig-core"),
            "src/main.rs": """\
use rig::completion::ToolDefinition;
use rig::tool::Tool;

struct Adder;

impl Tool for Adder {
    const NAME: &'static str = "add";
    type Error = MathError;
    type Args = OperationArgs;
    type Output = i32;

    async fn definition(&self, _prompt: String) -> ToolDefinition {
        todo!()
    }
}
""",
        },
        ("add", "Playgrounds", "src/main.rs", 6),
        id="rust-rig-Tool-impl",
    ),
    pytest.param(
        {
            "Cargo.toml": cargo("rig-core", "rig-derive"),
            "src/main.rs": """\
use rig_derive::rig_tool;

#[rig_tool(
    description = "Subtract y from x",
    params(x = "The number", y = "The other")
)]
fn subtract(x: i32, y: i32) -> Result<i32, rig::tool::ToolError> {
    Ok(x - y)
}
""",
        },
        ("subtract", "Playgrounds", "src/main.rs", 3),
        id="rust-rig-#[rig_tool]",
    ),
    pytest.param(
        {
            "Cargo.toml": cargo("async-openai"),
            "src/main.rs": """\
use async_openai::types::{ChatCompletionToolArgs, ChatCompletionToolType, FunctionObjectArgs};

fn tools() {
    let tool = ChatCompletionToolArgs::default()
        .r#type(ChatCompletionToolType::Function)
        .function(
            FunctionObjectArgs::default()
                .name("get_current_weather")
                .description("Get the current weather")
                .build()
                .unwrap(),
        )
        .build();
}
""",
        },
        ("get_current_weather", "OpenAI", "src/main.rs", 8),
        id="rust-async-openai-ChatCompletionToolArgs",
    ),
    pytest.param(
        {
            "Gemfile": """\
source "https://rubygems.org"
gem "ruby_llm"
""",
            "weather.rb": """\
require "ruby_llm"

class Weather < RubyLLM::Tool
  description "Gets current weather for a location"
  param :latitude, desc: "Latitude"

  def execute(latitude:)
    {}
  end
end
""",
        },
        ("weather", "RubyLLM", "weather.rb", 3),
        id="ruby-ruby_llm-Tool",
    ),
    pytest.param(
        {
            "Gemfile": """\
source "https://rubygems.org"
gem "langchainrb"
""",
            "movie_tool.rb": """\
require "langchain"

class MovieInfoTool
  extend Langchain::ToolDefinition

  define_function :search_movie, description: "Search for a movie by title" do
    property :query, type: "string", required: true
  end

  def search_movie(query:)
  end
end
""",
        },
        ("movie_info_tool__search_movie", "LangChain", "movie_tool.rb", 6),
        id="ruby-langchainrb-ToolDefinition",
    ),
    pytest.param(
        {
            "Gemfile": """\
source "https://rubygems.org"
gem "fast-mcp"
""",
            "summarize_tool.rb": """\
require "fast_mcp"

class SummarizeTool < FastMcp::Tool
  description "Summarize a text"

  tool_name "summarize"

  arguments do
    required(:text).filled(:string)
  end

  def call(text:)
    text[0, 100]
  end
end
""",
        },
        ("summarize", "Model Context Protocol", "summarize_tool.rb", 6),
        id="ruby-fast-mcp-tool_name-after-blank-line",
    ),
    pytest.param(
        {
            "requirements.txt": "langchain\n",
            "a.py": """\
from langchain_openai import ChatOpenAI
from pydantic import BaseModel, Field

class add(BaseModel):
    \"\"\"Add two integers.\"\"\"

    a: int = Field(..., description="First integer")
    b: int = Field(..., description="Second integer")

llm = ChatOpenAI(model="gpt-4o-mini")
llm_with_tools = llm.bind_tools([add])
""",
        },
        ("add", "LangChain", "a.py", 4),
        id="py-langchain-bind_tools(pydantic class)",
    ),
    pytest.param(
        {
            "requirements.txt": "langchain\n",
            "a.py": """\
from langchain_core.tools import StructuredTool

invoice_tool = StructuredTool(
    name="lookup_invoice",
    description="Look up an invoice",
    args_schema=InvoiceArgs,
    func=lookup,
)
""",
        },
        ("lookup_invoice", "LangChain", "a.py", 3),
        id="py-langchain-StructuredTool(...)",
    ),
    pytest.param(
        {
            "requirements.txt": "langchain\n",
            "a.py": """\
from langchain_anthropic import ChatAnthropic

def get_population(city: str) -> int:
    \"\"\"Population of a city.\"\"\"
    return 1

llm = ChatAnthropic(model="claude-3-5-sonnet-latest").bind_tools([get_population])
""",
        },
        ("get_population", "LangChain", "a.py", 3),
        id="py-langchain-bind_tools(plain)",
    ),
    pytest.param(
        {
            "requirements.txt": "llama-index\n",
            "a.py": """\
from llama_index.core.agent.workflow import FunctionAgent

def subtract(a: int, b: int) -> int:
    \"\"\"Subtract b from a.\"\"\"
    return a - b

agent = FunctionAgent(tools=[subtract], llm=llm, system_prompt="maths")
""",
        },
        ("subtract", "LlamaIndex", "a.py", 3),
        id="py-llamaindex-FunctionAgent(tools=[plain])",
    ),
    pytest.param(
        {
            "requirements.txt": "llama-index\n",
            "a.py": """\
from llama_index.core.agent import ReActAgent
from llama_index.core.tools import FunctionTool

def divide(a: float, b: float) -> float:
    \"\"\"Divide.\"\"\"
    return a / b

agent = ReActAgent.from_tools([FunctionTool.from_defaults(divide)], llm=llm)
""",
        },
        ("divide", "LlamaIndex", "a.py", 4),
        id="py-llamaindex-ReActAgent.from_tools(plain)",
    ),
    pytest.param(
        {
            "requirements.txt": "crewai\n",
            "a.py": """\
from crewai.tools import tool

@tool
def fetch_prices(ticker: str) -> str:
    \"\"\"Fetch prices for a ticker.\"\"\"
    return ticker
""",
        },
        ("fetch_prices", "CrewAI", "a.py", 3),
        id="py-crewai-@tool(no name)",
    ),
    pytest.param(
        {
            "requirements.txt": "pyautogen\n",
            "a.py": """\
import autogen

def run_sql(query):
    return query

user_proxy = autogen.UserProxyAgent(name="user")
user_proxy.register_function(function_map={"run_sql": run_sql})
""",
        },
        ("run_sql", "Microsoft", "a.py", 3),
        id="py-autogen-function_map",
    ),
    pytest.param(
        {
            "requirements.txt": "openai\n",
            "a.py": """\
import openai

functions = [
    {
        "name": "get_current_weather",
        "description": "Get the current weather",
        "parameters": {"type": "object", "properties": {}},
    }
]
openai.ChatCompletion.create(model="gpt-3.5-turbo-0613", messages=[], functions=functions)
""",
        },
        ("get_current_weather", "OpenAI", "a.py", 5),
        id="py-openai-legacy-functions",
    ),
    pytest.param(
        {
            "requirements.txt": "openai\n",
            "a.py": """\
import openai
from pydantic import BaseModel

class GetDeliveryDate(BaseModel):
    order_id: str

client = openai.OpenAI()
completion = client.chat.completions.parse(
    model="gpt-4o-2024-08-06",
    messages=[],
    tools=[openai.pydantic_function_tool(GetDeliveryDate)],
)
""",
        },
        ("getdeliverydate", "OpenAI", "a.py", 11),
        id="py-openai-pydantic_function_tool",
    ),
    pytest.param(
        {
            "requirements.txt": "openai-agents\n",
            "a.py": """\
from agents import Agent, Runner

spanish_agent = Agent(name="Spanish agent", instructions="Translate to Spanish")
orchestrator = Agent(
    name="orchestrator",
    tools=[
        spanish_agent.as_tool(
            tool_name="translate_to_spanish",
            tool_description="Translate the message to Spanish",
        ),
    ],
)
""",
        },
        ("translate_to_spanish", "OpenAI", "a.py", 7),
        id="py-openai-agents-as_tool",
    ),
    pytest.param(
        {
            "requirements.txt": "anthropic\n",
            "a.py": """\
import anthropic
from anthropic import beta_tool

client = anthropic.Anthropic()

@beta_tool
def get_weather(location: str) -> str:
    \"\"\"Get the weather.

    Args:
        location: city
    \"\"\"
    return "sunny"

runner = client.beta.messages.tool_runner(
    model="claude-sonnet-4-5", max_tokens=1024, tools=[get_weather], messages=[]
)
""",
        },
        ("get_weather", "Anthropic", "a.py", 7),
        id="py-anthropic-@beta_tool",
    ),
    pytest.param(
        {
            "requirements.txt": "pydantic-ai\n",
            "a.py": """\
from pydantic_ai.toolsets import FunctionToolset

def temperature_celsius(city: str) -> float:
    return 21.0

weather_toolset = FunctionToolset(tools=[temperature_celsius])
""",
        },
        ("temperature_celsius", "Pydantic", "a.py", 3),
        id="py-pydantic-ai-FunctionToolset",
    ),
    pytest.param(
        {
            "requirements.txt": "pydantic-ai\n",
            "a.py": """\
from pydantic_ai import RunContext
from pydantic_ai.toolsets import FunctionToolset

toolset = FunctionToolset()

@toolset.tool
def conditions(ctx: RunContext, city: str) -> str:
    return "sunny"
""",
        },
        ("conditions", "Pydantic", "a.py", 6),
        id="py-pydantic-ai-@toolset.tool",
    ),
    pytest.param(
        {
            "requirements.txt": "haystack-ai\n",
            "a.py": """\
from haystack.tools import create_tool_from_function

def get_stock(symbol: str) -> str:
    \"\"\"Stock price.\"\"\"
    return symbol

stock_tool = create_tool_from_function(get_stock)
""",
        },
        ("get_stock", "deepset", "a.py", 3),
        id="py-haystack-create_tool_from_function",
    ),
    pytest.param(
        {
            "requirements.txt": "google-adk\n",
            "a.py": """\
from google.adk.tools import LongRunningFunctionTool

def ask_for_approval(purpose: str, amount: float) -> dict:
    \"\"\"Ask for approval.\"\"\"
    return {}

approval_tool = LongRunningFunctionTool(func=ask_for_approval)
""",
        },
        ("ask_for_approval", "Google", "a.py", 3),
        id="py-google-adk-LongRunningFunctionTool",
    ),
    pytest.param(
        {
            "requirements.txt": "google-adk\n",
            "a.py": """\
from google.adk.agents import Agent
from google.adk.tools.agent_tool import AgentTool

summary_agent = Agent(model="gemini-2.0-flash", name="summarizer", instruction="Summarise")
root_agent = Agent(model="gemini-2.0-flash", name="root", tools=[AgentTool(agent=summary_agent)])
""",
        },
        ("summarizer", "Google", "a.py", 5),
        id="py-google-adk-AgentTool",
    ),
    pytest.param(
        {
            "requirements.txt": "google-genai\n",
            "a.py": """\
from google import genai
from google.genai import types

schedule = types.FunctionDeclaration(
    name="schedule_meeting",
    description="Schedules a meeting",
    parameters={"type": "object", "properties": {}},
)
client = genai.Client()
""",
        },
        ("schedule_meeting", "Google", "a.py", 5),
        id="py-google-genai-FunctionDeclaration",
    ),
    pytest.param(
        {
            "requirements.txt": "google-genai\n",
            "a.py": """\
from google import genai
from google.genai import types

def get_current_temperature(location: str) -> dict:
    \"\"\"Gets the current temperature.\"\"\"
    return {}

client = genai.Client()
config = types.GenerateContentConfig(tools=[get_current_temperature])
response = client.models.generate_content(model="gemini-2.5-flash", contents="hi", config=config)
""",
        },
        ("get_current_temperature", "Google", "a.py", 4),
        id="py-google-genai-tools=[plain]",
    ),
    pytest.param(
        {
            "requirements.txt": "google-cloud-aiplatform\n",
            "a.py": """\
from vertexai.generative_models import FunctionDeclaration, Tool

get_exchange_rate_func = FunctionDeclaration(
    name="get_exchange_rate",
    description="Get the exchange rate",
    parameters={"type": "object", "properties": {}},
)
exchange_tool = Tool(function_declarations=[get_exchange_rate_func])
""",
        },
        ("get_exchange_rate", "Google", "a.py", 4),
        id="py-vertexai-FunctionDeclaration",
    ),
    pytest.param(
        {
            "requirements.txt": "ollama\n",
            "a.py": """\
from ollama import chat

def add_two_numbers(a: int, b: int) -> int:
    \"\"\"Add two numbers.\"\"\"
    return a + b

response = chat(model="llama3.1", messages=[], tools=[add_two_numbers])
""",
        },
        ("add_two_numbers", "Ollama", "a.py", 3),
        id="py-ollama-tools=[plain]",
    ),
    pytest.param(
        {
            "requirements.txt": "boto3\n",
            "a.py": """\
import boto3

client = boto3.client("bedrock-runtime")
tool_config = {
    "tools": [
        {
            "toolSpec": {
                "name": "top_song",
                "description": "Get the most popular song",
                "inputSchema": {"json": {"type": "object", "properties": {}}},
            }
        }
    ]
}
client.converse(modelId="anthropic.claude-3-haiku-20240307-v1:0", messages=[], toolConfig=tool_config)
""",
        },
        ("top_song", "Amazon Web Services", "a.py", 8),
        id="py-bedrock-converse-toolSpec",
    ),
    pytest.param(
        {
            "requirements.txt": "strands-agents\n",
            "weather_forecast.py": """\
from typing import Any

from strands.types.tools import ToolResult, ToolUse

TOOL_SPEC = {
    "name": "weather_forecast",
    "description": "Get the forecast",
    "inputSchema": {"json": {"type": "object", "properties": {}}},
}

def weather_forecast(tool: ToolUse, **kwargs: Any) -> ToolResult:
    return {"toolUseId": tool["toolUseId"], "status": "success", "content": []}
""",
        },
        ("weather_forecast", "Amazon Web Services", "weather_forecast.py", 5),
        id="py-strands-TOOL_SPEC-module",
    ),
    pytest.param(
        {
            "requirements.txt": "strands-agents\n",
            "a.py": """\
from strands import tool

@tool(name="calc_tip", description="Compute a tip")
def tip(amount: float) -> float:
    return amount * 0.2
""",
        },
        ("calc_tip", "Amazon Web Services", "a.py", 3),
        id="py-strands-@tool(name)",
    ),
    pytest.param(
        {
            "requirements.txt": "agent-framework\n",
            "a.py": """\
from agent_framework import ai_function

@ai_function(name="weather_tool", description="Get the weather")
def get_weather(location: str) -> str:
    return "sunny"
""",
        },
        ("weather_tool", "Microsoft", "a.py", 3),
        id="py-ms-agent-framework-@ai_function",
    ),
    pytest.param(
        {
            "requirements.txt": "agent-framework\n",
            "a.py": """\
from agent_framework import ChatAgent
from agent_framework.openai import OpenAIChatClient

def get_menu() -> str:
    \"\"\"Get the menu.\"\"\"
    return ""

agent = ChatAgent(chat_client=OpenAIChatClient(), instructions="hi", tools=[get_menu])
""",
        },
        ("get_menu", "Microsoft", "a.py", 4),
        id="py-ms-agent-framework-ChatAgent(tools=[plain])",
    ),
    pytest.param(
        {
            "requirements.txt": "dspy\n",
            "a.py": """\
import dspy

def search(q: str) -> str:
    return q

tool = dspy.Tool(search, name="wiki", desc="Search wikipedia")
""",
        },
        ("wiki", "Stanford NLP", "a.py", 3),
        id="py-dspy-Tool(name)",
    ),
    pytest.param(
        {
            "requirements.txt": "camel-ai\n",
            "a.py": """\
from camel.toolkits import FunctionTool

def sub(a: int, b: int) -> int:
    \"\"\"Subtract.\"\"\"
    return a - b

sub_tool = FunctionTool(sub)
""",
        },
        ("sub", "CAMEL-AI", "a.py", 3),
        id="py-camel-FunctionTool",
    ),
    pytest.param(
        {
            "requirements.txt": "cohere\n",
            "a.py": """\
import cohere

co = cohere.Client()
tools = [
    {
        "name": "query_daily_sales_report",
        "description": "Sales report for a day",
        "parameter_definitions": {"day": {"type": "str", "required": True}},
    }
]
co.chat(message="hi", tools=tools, model="command-r")
""",
        },
        ("query_daily_sales_report", "Cohere", "a.py", 6),
        id="py-cohere-v1-parameter_definitions",
    ),
    pytest.param(
        {
            "requirements.txt": "letta-client\n",
            "a.py": """\
from letta_client import Letta

client = Letta(token="x")

def roll_d20() -> str:
    \"\"\"Roll a d20.\"\"\"
    return "20"

tool = client.tools.create_from_function(func=roll_d20)
""",
        },
        ("roll_d20", "Letta", "a.py", 5),
        id="py-letta-create_from_function",
    ),
    pytest.param(
        {
            "package.json": package_json("ai", "zod"),
            "a.ts": """\
import { dynamicTool, streamText } from "ai";
import { z } from "zod";

const result = streamText({
  model,
  tools: {
    lookup: dynamicTool({
      description: "Look up a record",
      inputSchema: z.object({}),
      execute: async (input) => input,
    }),
  },
  prompt: "hi",
});
""",
        },
        ("lookup", "Vercel", "a.ts", 7),
        id="ts-vercel-ai-dynamicTool",
    ),
    pytest.param(
        {
            "package.json": package_json("@langchain/core"),
            "a.ts": """\
import { Tool } from "@langchain/core/tools";

export class SearchTool extends Tool {
  name = "serpapi_search";
  description = "Search the web";
  async _call(input: string) {
    return input;
  }
}
""",
        },
        ("serpapi_search", "LangChain", "a.ts", 3),
        id="ts-langchainjs-Tool-subclass",
    ),
    pytest.param(
        {
            "package.json": package_json("@openai/agents"),
            "a.ts": """\
import { Agent } from "@openai/agents";

const frenchAgent = new Agent({ name: "French", instructions: "Translate" });
const orchestrator = new Agent({
  name: "orchestrator",
  tools: [
    frenchAgent.asTool({
      toolName: "translate_to_french",
      toolDescription: "Translate to French",
    }),
  ],
});
""",
        },
        ("translate_to_french", "OpenAI", "a.ts", 7),
        id="ts-openai-agents-asTool",
    ),
    pytest.param(
        {
            "package.json": package_json("@anthropic-ai/sdk", "zod"),
            "a.ts": """\
import Anthropic from "@anthropic-ai/sdk";
import { betaZodTool } from "@anthropic-ai/sdk/helpers/beta/zod";
import { z } from "zod";

const weatherTool = betaZodTool({
  name: "get_weather",
  inputSchema: z.object({ location: z.string() }),
  description: "Get the weather",
  run: (input) => "sunny",
});
""",
        },
        ("get_weather", "Anthropic", "a.ts", 6),
        id="ts-anthropic-betaZodTool",
    ),
    pytest.param(
        {
            "package.json": package_json("openai", "zod"),
            "a.ts": """\
import OpenAI from "openai";
import { zodFunction } from "openai/helpers/zod";
import { z } from "zod";

const Query = z.object({ table: z.string() });
const client = new OpenAI();
await client.chat.completions.parse({
  model: "gpt-4o-2024-08-06",
  messages: [],
  tools: [zodFunction({ name: "query", parameters: Query })],
});
""",
        },
        ("query", "OpenAI", "a.ts", 10),
        id="ts-openai-zodFunction",
    ),
    pytest.param(
        {
            "package.json": package_json("openai"),
            "a.ts": """\
import OpenAI from "openai";

const client = new OpenAI();
const tools = [
  {
    type: "function",
    name: "get_horoscope",
    description: "Horoscope for a sign",
    parameters: { type: "object", properties: {} },
  },
];
await client.responses.create({ model: "gpt-4.1", input: "hi", tools });
""",
        },
        ("get_horoscope", "OpenAI", "a.ts", 7),
        id="ts-openai-responses-flat",
    ),
    pytest.param(
        {
            "package.json": package_json("@google/genai"),
            "a.ts": """\
import { GoogleGenAI, Type } from "@google/genai";

const controlLightDeclaration = {
  name: "controlLight",
  description: "Set the light",
  parameters: { type: Type.OBJECT, properties: {} },
};
const ai = new GoogleGenAI({});
await ai.models.generateContent({
  model: "gemini-2.5-flash",
  contents: "dim the lights",
  config: { tools: [{ functionDeclarations: [controlLightDeclaration] }] },
});
""",
        },
        ("controllight", "Google", "a.ts", 4),
        id="ts-google-genai-functionDeclarations",
    ),
    pytest.param(
        {
            "package.json": package_json("@aws-sdk/client-bedrock-runtime"),
            "a.ts": """\
import { BedrockRuntimeClient, ConverseCommand } from "@aws-sdk/client-bedrock-runtime";

const toolConfig = {
  tools: [
    {
      toolSpec: {
        name: "top_song",
        description: "The most popular song",
        inputSchema: { json: { type: "object", properties: {} } },
      },
    },
  ],
};
const client = new BedrockRuntimeClient({});
await client.send(
  new ConverseCommand({ modelId: "anthropic.claude-3-haiku-20240307-v1:0", messages: [], toolConfig })
);
""",
        },
        ("top_song", "Amazon Web Services", "a.ts", 7),
        id="ts-bedrock-converse-toolSpec",
    ),
    pytest.param(
        {
            "package.json": package_json("@voltagent/core", "zod"),
            "a.ts": """\
import { createTool } from "@voltagent/core";
import { z } from "zod";

export const weatherTool = createTool({
  name: "get_weather",
  description: "Get the weather",
  parameters: z.object({ location: z.string() }),
  execute: async ({ location }) => location,
});
""",
        },
        ("get_weather", "VoltAgent", "a.ts", 4),
        id="ts-voltagent-createTool",
    ),
    pytest.param(
        {
            "pom.xml": pom("org.springframework.ai", "spring-ai-starter-model-openai"),
            "src/main/java/x/Cfg.java": """\
package x;

import org.springframework.ai.model.function.FunctionCallback;

class Cfg {
    FunctionCallback callback = FunctionCallback.builder()
        .function("getWeather", new WeatherService())
        .description("Get the weather")
        .inputType(Request.class)
        .build();
}
""",
        },
        ("getweather", "Spring", "src/main/java/x/Cfg.java", 6),
        id="java-spring-ai-FunctionCallback.builder",
    ),
    pytest.param(
        {
            "pom.xml": pom("org.springframework.ai", "spring-ai-starter-model-openai"),
            "src/main/java/x/Cfg.java": """\
package x;

import org.springframework.ai.model.function.FunctionCallbackWrapper;

class Cfg {
    Object callback = FunctionCallbackWrapper.builder(new MockWeatherService())
        .withName("CurrentWeather")
        .withDescription("Get the weather in location")
        .build();
}
""",
        },
        ("currentweather", "Spring", "src/main/java/x/Cfg.java", 6),
        id="java-spring-ai-FunctionCallbackWrapper",
    ),
    pytest.param(
        {
            "pom.xml": pom("dev.langchain4j", "langchain4j"),
            "src/main/java/x/Orders.java": """\
package x;

import dev.langchain4j.agent.tool.Tool;

class Orders {

    @Tool(name = "get_order", value = "Find an order")
    String find(String id) {
        return id;
    }
}
""",
        },
        ("get_order", "LangChain4j", "src/main/java/x/Orders.java", 7),
        id="java-langchain4j-@Tool(name)",
    ),
    pytest.param(
        {
            "pom.xml": pom("com.google.adk", "google-adk"),
            "src/main/java/x/CapitalAgent.java": """\
package x;

import com.google.adk.agents.LlmAgent;
import com.google.adk.tools.FunctionTool;

class CapitalAgent {
    public static java.util.Map<String, String> getCapitalCity(String country) {
        return null;
    }

    static LlmAgent agent = LlmAgent.builder()
        .name("capital")
        .tools(FunctionTool.create(CapitalAgent.class, "getCapitalCity"))
        .build();
}
""",
        },
        ("getcapitalcity", "Google", "src/main/java/x/CapitalAgent.java", 13),
        id="java-google-adk-FunctionTool.create",
    ),
    pytest.param(
        {
            "build.gradle.kts": 'dependencies { implementation("dev.langchain4j:langchain4j:1.0.0") }\n',
            "src/main/kotlin/x/Calc.kt": """\
package x

import dev.langchain4j.agent.tool.Tool

class Calc {
    @Tool("Multiplies two numbers")
    fun multiply(a: Double, b: Double): Double = a * b
}
""",
        },
        ("multiply", "LangChain4j", "src/main/kotlin/x/Calc.kt", 6),
        id="kotlin-langchain4j-@Tool",
    ),
    pytest.param(
        {
            "build.gradle.kts": """\
plugins { kotlin("jvm") }
dependencies { implementation("ai.koog:koog-agents:0.3.0") }
""",
            "src/main/kotlin/x/Book.kt": """\
package x

import ai.koog.agents.core.tools.Tool
import ai.koog.agents.core.tools.ToolDescriptor

object BookFlightTool : Tool<BookFlightTool.Args, BookFlightTool.Result>() {
    override val descriptor = ToolDescriptor(
        name = "book_flight",
        description = "Books a flight",
    )
}
""",
        },
        ("book_flight", "JetBrains", "src/main/kotlin/x/Book.kt", 7),
        id="kotlin-koog-Tool-subclass",
    ),
    pytest.param(
        {
            "build.gradle.kts": """\
plugins { kotlin("jvm") }
dependencies { implementation("ai.koog:koog-agents:0.3.0") }
""",
            "src/main/kotlin/x/Hello.kt": """\
package x

import ai.koog.agents.core.tools.SimpleTool

object SayHelloTool : SimpleTool<SayHelloTool.Args>(
    argsSerializer = Args.serializer(),
    name = "say_hello",
    description = "Greets someone",
) {
}
""",
        },
        ("say_hello", "JetBrains", "src/main/kotlin/x/Hello.kt", 5),
        id="kotlin-koog-SimpleTool(ctor name)",
    ),
    pytest.param(
        {
            "App.csproj": csproj("Microsoft.SemanticKernel"),
            "Program.cs": """\
using Microsoft.SemanticKernel;

var kernel = Kernel.CreateBuilder().Build();
kernel.Plugins.AddFromFunctions("time", [
    KernelFunctionFactory.CreateFromMethod(() => DateTime.Now, functionName: "get_time_now"),
]);
""",
        },
        ("get_time_now", "Microsoft", "Program.cs", 5),
        id="cs-sk-CreateFromMethod",
    ),
    pytest.param(
        {
            "App.csproj": csproj("Microsoft.Extensions.AI"),
            "Program.cs": """\
using Microsoft.Extensions.AI;

AIFunction forecast = AIFunctionFactory.Create(
    (string city) => "rain",
    name: "get_forecast",
    description: "Forecast for a city");
""",
        },
        ("get_forecast", "Microsoft", "Program.cs", 3),
        id="cs-meai-AIFunctionFactory.Create(name:)",
    ),
    pytest.param(
        {
            "App.csproj": csproj("OpenAI"),
            "Program.cs": """\
using OpenAI.Chat;

ChatTool getCurrentLocationTool = ChatTool.CreateFunctionTool(
    functionName: "GetCurrentLocation",
    functionDescription: "Get the user's current location"
);
""",
        },
        ("getcurrentlocation", "OpenAI", "Program.cs", 3),
        id="cs-openai-ChatTool.CreateFunctionTool",
    ),
    pytest.param(
        {
            "App.csproj": csproj("Azure.AI.Agents.Persistent"),
            "Program.cs": """\
using Azure.AI.Agents.Persistent;

FunctionToolDefinition getCityTool = new(
    name: "getUserFavoriteCity",
    description: "Gets the user's favorite city.");
""",
        },
        ("getuserfavoritecity", "Microsoft Azure", "Program.cs", 3),
        id="cs-azure-agents-FunctionToolDefinition",
    ),
    pytest.param(
        {
            "go.mod": go_mod("github.com/openai/openai-go/v2"),
            "main.go": """\
package main

import (
\t"github.com/openai/openai-go/v2"
)

var tools = []openai.ChatCompletionToolUnionParam{
\topenai.ChatCompletionFunctionTool(openai.FunctionDefinitionParam{
\t\tName:        "get_weather",
\t\tDescription: openai.String("Get weather"),
\t}),
}
""",
        },
        ("get_weather", "OpenAI", "main.go", 8),
        id="go-openai-go-v2-ChatCompletionFunctionTool",
    ),
    pytest.param(
        {
            "go.mod": go_mod("github.com/sashabaranov/go-openai"),
            "main.go": """\
package main

import (
\topenai "github.com/sashabaranov/go-openai"
)

var f = openai.FunctionDefinition{
\tName:        "get_current_weather",
\tDescription: "Get the current weather",
}
var t = openai.Tool{Type: openai.ToolTypeFunction, Function: &f}
""",
        },
        ("get_current_weather", "OpenAI", "main.go", 7),
        id="go-sashabaranov-openai.Tool",
    ),
    pytest.param(
        {
            "go.mod": go_mod("github.com/anthropics/anthropic-sdk-go"),
            "main.go": """\
package main

import (
\t"github.com/anthropics/anthropic-sdk-go"
)

var toolParams = []anthropic.ToolParam{
\t{
\t\tName:        "get_coordinates",
\t\tDescription: anthropic.String("Accepts a place and returns coordinates"),
\t},
}
""",
        },
        ("get_coordinates", "Anthropic", "main.go", 9),
        id="go-anthropic-ToolParam",
    ),
    pytest.param(
        {
            "go.mod": go_mod("google.golang.org/genai"),
            "main.go": """\
package main

import (
\t"google.golang.org/genai"
)

var weatherFn = &genai.FunctionDeclaration{
\tName:        "getWeather",
\tDescription: "Weather in a city",
}
""",
        },
        ("getweather", "Google", "main.go", 7),
        id="go-genai-FunctionDeclaration",
    ),
    pytest.param(
        {
            "go.mod": go_mod("github.com/openai/openai-go"),
            "main.go": """\
package main

import (
\t"github.com/openai/openai-go/responses"
)

var tool = responses.ToolParamOfFunction("lookup_order", map[string]any{"type": "object"}, false)
""",
        },
        ("lookup_order", "OpenAI", "main.go", 7),
        id="go-openai-go-responses-ToolParamOfFunction",
    ),
    pytest.param(
        {
            "Cargo.toml": cargo("ollama-rs"),
            "src/main.rs": """\
use ollama_rs::generation::tools::implementations::Calculator;

/// Get the weather for a city.
#[ollama_rs::function]
async fn get_weather(city: String) -> Result<String, Box<dyn std::error::Error + Sync + Send>> {
    Ok(city)
}
""",
        },
        ("get_weather", "Ollama", "src/main.rs", 4),
        id="rust-ollama-rs-#[function]",
    ),
    pytest.param(
        {
            "Gemfile": """\
source "https://rubygems.org"
gem "ruby-openai"
""",
            "chat.rb": """\
require "openai"

client = OpenAI::Client.new
response = client.chat(
  parameters: {
    model: "gpt-4o",
    messages: [],
    tools: [
      {
        type: "function",
        function: {
          name: "get_current_weather",
          description: "Get the current weather",
          parameters: { type: :object, properties: {} },
        },
      },
    ],
  }
)
""",
        },
        ("get_current_weather", "OpenAI", "chat.rb", 12),
        id="ruby-openai-tools-hash",
    ),
    pytest.param(
        {
            "Gemfile": """\
source "https://rubygems.org"
gem "anthropic"
""",
            "chat.rb": """\
require "anthropic"

client = Anthropic::Client.new
client.messages.create(
  model: "claude-3-5-sonnet-latest",
  max_tokens: 1024,
  tools: [
    {
      name: "get_stock",
      description: "Stock price",
      input_schema: { type: "object", properties: {} }
    }
  ],
  messages: []
)
""",
        },
        ("get_stock", "Anthropic", "chat.rb", 9),
        id="ruby-anthropic-tools-hash",
    ),
    pytest.param(
        {
            "requirements.txt": "google-genai\n",
            "a.py": """\
from google import genai
from google.genai import types

schedule_meeting_function = {
    "name": "schedule_meeting",
    "description": "Schedules a meeting",
    "parameters": {"type": "object", "properties": {}},
}

client = genai.Client()
tools = types.Tool(function_declarations=[schedule_meeting_function])
""",
        },
        ("schedule_meeting", "Google", "a.py", 5),
        id="py-google-genai-declaration-dict",
    ),
    pytest.param(
        {
            "go.mod": go_mod("github.com/mark3labs/mcp-go"),
            "tools.go": """\
package tools

import (
\tm "github.com/mark3labs/mcp-go/mcp"
)

var Search = m.NewTool("search_docs", m.WithDescription("Search the docs"))
""",
        },
        ("search_docs", "Model Context Protocol", "tools.go", 7),
        id="go-mcp-go-aliased-import-NewTool",
    ),
    pytest.param(
        {
            "go.mod": go_mod("github.com/modelcontextprotocol/go-sdk"),
            "tools.go": """\
package tools

import sdk "github.com/modelcontextprotocol/go-sdk/mcp"

func Register(s *sdk.Server) {
\tsdk.AddTool(s, &sdk.Tool{Name: "read_page", Description: "Read a page"}, readPage)
}
""",
        },
        ("read_page", "Model Context Protocol", "tools.go", 6),
        id="go-sdk-aliased-import-Tool-struct",
    ),
    pytest.param(
        {
            "requirements.txt": "azure-ai-agents\n",
            "a.py": """\
from azure.ai.agents.models import FunctionTool

def fetch_weather(location: str) -> str:
    \"\"\"Weather for a location.\"\"\"
    return "{}"

user_functions = {fetch_weather}
functions = FunctionTool(functions=user_functions)
""",
        },
        ("fetch_weather", "Microsoft Azure", "a.py", 3),
        id="py-azure-agents-FunctionTool(functions=set)",
    ),
]


@pytest.mark.parametrize(("files", "site"), FORMS)
def test_documented_tool_form_is_reported(tmp_path, files, site):
    result = scan_tree(tmp_path, files)
    sites = {
        (c.name, c.provider, loc.file, loc.line)
        for c in result.components
        if c.type == "tool"
        for loc in c.locations
    }
    assert site in sites, sorted(sites)


def test_only_semantic_kernels_own_prompt_file_name_makes_a_prompt_function(tmp_path):
    """``<plugin>/<function>/skprompt.txt`` is a function named by its folder; a prompt file named otherwise
    (``ReleaseNotes.skprompt.txt``, ``prompt.txt``) is not one Semantic Kernel loads."""
    result = scan_tree(
        tmp_path,
        {
            "Plugins/Writer/Haiku/skprompt.txt": "Write a haiku about {{$input}}.\n",
            "Plugins/PromptPlugin/ReleaseNotes.skprompt.txt": "You are ReleaseNotesBot.\n",
            "Plugins/Other/Draft/prompt.txt": "Draft a reply.\n",
        },
    )
    assert {c.name for c in result.components if c.type == "tool"} == {"haiku"}
