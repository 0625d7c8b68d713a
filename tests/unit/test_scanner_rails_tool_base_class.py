"""A Rails app's fast-mcp tools subclass the app's own base tool class, declared beside them on
``ActionTool::Base`` (engineer AE's sample, fast-mcp's install generator)."""

from tests.unit.scanner_helpers import scan_tree

BASE = "class ApplicationTool < ActionTool::Base\nend\n"
TOOL = """class ForecastTool < ApplicationTool
  description "Tomorrow's forecast"

  def call(city:)
    city
  end
end
"""


def _tools(result) -> set[str]:
    return {c.name for c in result.components if c.type == "tool"}


def test_a_subclass_of_the_apps_fast_mcp_base_class_is_a_tool(tmp_path):
    result = scan_tree(tmp_path, {"app/tools/application_tool.rb": BASE, "app/tools/forecast_tool.rb": TOOL})
    assert _tools(result) == {"forecasttool"}


def test_a_subclass_of_another_base_class_is_none(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "app/tools/application_tool.rb": "class ApplicationTool < ApplicationRecord\nend\n",
            "app/tools/forecast_tool.rb": TOOL,
        },
    )
    assert _tools(result) == set()
