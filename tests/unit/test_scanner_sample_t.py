"""Rules from engineer T's real-world sample (bench/realworld/README.md, "Queries, engineer T"): shapes the
holdout's own queries drew, each fixed as a general rule."""

from tests.unit.scanner_helpers import component, scan_tree

CLASSIFIER = (
    "from langchain_ollama import ChatOllama\n"
    "from openai import OpenAI\n\n\n"
    "def classifier():\n"
    '    return ChatOllama(model="llama3.1", temperature=0.1)\n\n\n'
    "def draft(ticket):\n"
    "    client = OpenAI()\n"
    '    return client.chat.completions.create(model="gpt-4o-mini", messages=[])\n'
)


def test_a_mocked_calls_expected_arguments_are_no_model_use(tmp_path):
    """The expected call spread over lines (walmaa/adc-security's shape): the model's own line holds no
    assertion, the call it sits in does."""
    result = scan_tree(
        tmp_path,
        {
            "requirements.txt": "langchain-ollama==0.2.3\nopenai==1.59.3\n",
            "triage/classify.py": CLASSIFIER,
            "tests/test_classify.py": "from triage import classify\n\n\n"
            "def test_settings(mocker):\n"
            '    chat = mocker.patch("triage.classify.ChatOllama")\n'
            "    classify.classifier()\n"
            "    chat.assert_called_once_with(\n"
            '        model="llama3.1",\n'
            "        temperature=0.1,\n"
            "    )\n",
        },
    )
    assert {loc.file for loc in component(result, "model:llama3.1").locations} == {"triage/classify.py"}
