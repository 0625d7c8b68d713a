"""Languages with no SDK in the catalog (Dart, Elixir, R, Julia, Groovy, Clojure, Emacs Lisp): their
settings and model pickers name models as any language's do; comments and docstrings are prose."""

from tests.unit.scanner_helpers import component, keys, scan_tree

AI_PROJECT = {".env.example": "OPENAI_MODEL=gpt-4o\n"}


def model_files(result, model: str) -> set[str]:
    return {loc.file for loc in component(result, f"model:{model}").locations}


def test_catalog_model_ids_in_languages_without_a_catalog_sdk(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            **AI_PROJECT,
            "app/lib/config.dart": "const defaultModel = 'gemini-1.5-flash';\n",
            "lib/my_app/llm.ex": '@model "gpt-4o-mini"\ndef chat(m), do: OpenAI.chat(model: @model)\n',
            "config/runtime.exs": 'config :my_app, MyApp.LLM, model: "claude-3-5-sonnet-20241022"\n',
            "R/chat.R": 'chat <- ellmer::chat_openai(model = "o3-mini")\n',
            "src/ask.jl": 'aigenerate("hi"; model = "gpt-4.1")\n',
            "vars/review.groovy": 'def model = "claude-3-5-haiku-20241022"\n',
            "init.el": '(setq gptel-model "gemini-2.0-flash")\n',
        },
    )
    assert model_files(result, "gemini-1.5-flash") == {"app/lib/config.dart"}
    assert model_files(result, "gpt-4o-mini") == {"lib/my_app/llm.ex"}
    assert model_files(result, "claude-3-5-sonnet-20241022") == {"config/runtime.exs"}
    assert model_files(result, "o3-mini") == {"R/chat.R"}
    assert model_files(result, "gpt-4.1") == {"src/ask.jl"}
    assert model_files(result, "claude-3-5-haiku-20241022") == {"vars/review.groovy"}
    assert model_files(result, "gemini-2.0-flash") == {"init.el"}


def test_comments_and_docstrings_of_those_languages_are_prose(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            **AI_PROJECT,
            "lib/docs.ex": '@moduledoc """\nDefaults to "gpt-4o-mini".\n"""\n# "o3-mini" was tried\n',
            "src/ask.jl": '"""\n    ask(q; model = "gpt-4.1")\n"""\nask(q) = q\n',
            "R/chat.R": '# chat_openai(model = "o3-mini")\nx <- 1\n',
            "init.el": ';; (setq gptel-model "gemini-2.0-flash")\n',
        },
    )
    assert (
        keys(result) & {"model:gpt-4o-mini", "model:o3-mini", "model:gpt-4.1", "model:gemini-2.0-flash"}
        == set()
    )
