"""One ML framework or LLM SDK (or an integration module of one), one catalog id, in every
ecosystem: the id the engine reports from an import or a manifest line is the id the real-world scorer
gives a label spelt as the policy says (package as written), so a file using two frameworks reports
both and none under another name."""

import importlib.util
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from common.scanner.catalog import load_json, lookup_package, lookup_prefixed
from tests.unit.scanner_helpers import keys, scan_tree

BENCH = Path(__file__).resolve().parents[2] / "bench"

# (ecosystem, name as written there, catalog id); import namespaces are looked up by longest prefix
REGISTRY_NAMES = [
    ("pypi", "torchvision", "torch"),
    ("pypi", "torchaudio", "torch"),
    ("pypi", "flax", "flax"),
    ("pypi", "jax", "jax"),
    ("pypi", "imitation", "imitation"),
    ("pypi", "fastai", "fastai"),
    ("pypi", "tensorflow-hub", "tensorflow"),
    ("maven", "org.tribuo:tribuo-all", "tribuo"),
    ("maven", "com.github.haifengl:smile-core", "smile"),
    ("maven", "org.jetbrains.kotlinx:kotlin-deeplearning-onnx", "kotlindl"),
    ("nuget", "Microsoft.ML.FastTree", "ml-net"),
    ("nuget", "Microsoft.ML.OnnxRuntime.Managed", "onnxruntime"),
    ("nuget", "LLamaSharp.Backend.Cpu", "llamasharp"),
    ("nuget", "TorchVision", "torch"),
    ("gem", "torchvision", "torch"),
    ("npm", "brain.js", "brain.js"),
    ("cargo", "dfdx", "dfdx"),
    ("cargo", "wonnx", "wonnx"),
]
IMPORTS = [
    ("python", ".", "torchvision.models", "torch"),
    ("python", ".", "flax.linen", "flax"),
    ("python", ".", "imitation.algorithms.bc", "imitation"),
    ("java", ".", "org.tribuo.classification.Label", "tribuo"),
    ("java", ".", "smile.classification.RandomForest", "smile"),
    ("java", ".", "org.jetbrains.kotlinx.dl.api.core.Sequential", "kotlindl"),
    ("csharp", ".", "OpenAI_API.Chat", "openai"),
    ("csharp", ".", "Microsoft.ML.Trainers", "ml-net"),
    ("go", "/", "github.com/mattn/go-tflite", "tensorflow"),
    ("go", "/", "github.com/owulveryck/onnx-go/backend", "onnx-go"),
    ("rust", "::", "dfdx::prelude", "dfdx"),
    ("java", ".", "org.springframework.ai.moonshot.MoonshotChatModel", "spring-ai-moonshot"),
    ("java", ".", "org.springframework.ai.watsonx.WatsonxAiChatModel", "spring-ai-watsonx-ai"),
    ("java", ".", "org.springframework.ai.stabilityai.StabilityAiImageModel", "spring-ai-stability-ai"),
]


def test_no_name_stands_for_two_packages_in_one_ecosystem():
    owners = defaultdict(set)
    for entry in load_json("packages.json")["packages"]:
        for ecosystem, names in entry.items():
            if isinstance(names, list):
                for name in names:
                    owners[(ecosystem, name.lower())].add(entry["id"])
    assert {key: ids for key, ids in owners.items() if len(ids) > 1} == {}


@pytest.mark.parametrize(("ecosystem", "name", "package_id"), REGISTRY_NAMES)
def test_registry_names_of_ml_frameworks(ecosystem, name, package_id):
    assert lookup_package(ecosystem, name).id == package_id


@pytest.mark.parametrize(("ecosystem", "separator", "path", "package_id"), IMPORTS)
def test_import_namespaces_of_ml_frameworks(ecosystem, separator, path, package_id):
    assert lookup_prefixed(ecosystem, path, separator).id == package_id


def test_the_scorer_names_a_label_as_the_engine_does():
    sys.path.insert(0, str(BENCH))
    spec = importlib.util.spec_from_file_location("realworld_score_naming", BENCH / "realworld" / "score.py")
    score = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = score
    spec.loader.exec_module(score)
    assert score.norm_package("torchvision", "train.py") == "torch"
    assert score.norm_package("flax", "model.py") == "flax"
    assert score.norm_package("imitation", "sb3_bc.py") == "imitation"
    assert score.norm_package("OpenAI_API", "console_app/ChatGPT.cs") == "openai"
    assert score.norm_package("Microsoft.ML.LightGbm", "App.csproj") == "ml-net"
    assert score.norm_package("spring-ai-moonshot", "ChatClientConfig.java") == "spring-ai-moonshot"


def test_a_file_using_two_frameworks_reports_both(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "train_bc.py": "from stable_baselines3 import PPO\nfrom imitation.algorithms import bc\n",
            "vision.py": "import torchvision\nfrom torchvision import transforms\n",
            "model.py": "import jax\nimport flax.linen as nn\n",
            "App.java": "import smile.classification.RandomForest;\nimport ai.djl.Model;\n",
        },
    )
    assert {"ml_framework:stable-baselines3", "ml_framework:imitation", "ml_framework:torch"} <= keys(result)
    assert {"ml_framework:jax", "ml_framework:flax", "ml_framework:smile", "ml_framework:djl"} <= keys(result)
