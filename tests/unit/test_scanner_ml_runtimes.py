"""Local ML runtimes where manifests, install lines and pages declare them, and the labelling policy's
limits: scikit-learn only where a model is trained or loaded, no set-up script as a manifest."""

import os

from common.scanner.catalog import lookup_package
from common.scanner.detectors.manifests import is_conda_environment_name
from tests.unit.scanner_helpers import component, keys, scan_tree


def files_of(result, key: str) -> set[str]:
    return {location.file for location in component(result, key).locations}


def test_sklearn_utilities_alone_are_no_component_and_leave_the_manifest_unused(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "requirements.txt": "pandas==2.2.2\nscikit-learn==1.5.1\n",
            "split.py": "from sklearn.model_selection import train_test_split\n"
            "from sklearn import metrics\n"
            "parts = train_test_split([1, 2, 3])\nprint(metrics.accuracy_score([1], [1]))\n",
        },
    )
    assert "ml_framework:scikit-learn" not in keys(result)


def test_sklearn_estimator_counts_in_code_and_in_the_manifest(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "requirements.txt": "scikit-learn==1.5.1\n",
            "train.py": "from sklearn.metrics import f1_score\nfrom sklearn.cluster import KMeans\n"
            "model = KMeans(n_clusters=3)\n",
            "report.py": "from sklearn.metrics import classification_report\n",
            "fit.py": "import sklearn.linear_model as lm\nmodel = lm.LogisticRegression()\n",
        },
    )
    assert files_of(result, "ml_framework:scikit-learn") == {"requirements.txt", "train.py", "fit.py"}


def test_a_setup_script_installing_a_runtime_declares_nothing_but_an_image_does(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "install.sh": "pip install fastapi huggingface_hub --quiet\n"
            "CMAKE_ARGS=-DLLAMA_CUBLAS=on pip install llama-cpp-python\nollama pull llama3.1:8b\n",
            "Dockerfile": "FROM python:3.11-slim\nRUN pip install --no-cache-dir vllm==0.6.3\n",
        },
    )
    assert "ml_framework:llama-cpp-python" not in keys(result)
    assert "llm_provider:huggingface-hub" not in keys(result)
    assert files_of(result, "model:llama3.1:8b") == {"install.sh"}
    assert files_of(result, "ml_framework:vllm") == {"Dockerfile"}


def test_conda_install_in_an_image_and_conda_environments_by_other_names(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "Dockerfile": "FROM continuumio/miniconda3\n"
            "RUN conda install -y -c pytorch -c conda-forge pytorch::pytorch=2.3 onnx\n",
            "envs/environment-cpu.yaml": "name: cpu\ndependencies:\n  - python=3.11\n  - pip:\n"
            "      - transformers>=4.44\n",
            "env.yml": "services:\n  web:\n    image: nginx\n    environment:\n      - transformers=1\n",
        },
    )
    assert files_of(result, "ml_framework:torch") == {"Dockerfile"}
    assert files_of(result, "ml_framework:onnx") == {"Dockerfile"}
    assert files_of(result, "ml_framework:transformers") == {"envs/environment-cpu.yaml"}


def test_cdn_urls_name_the_npm_package_they_serve(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "index.html": "<html><head>\n"
            '<script src="https://unpkg.com/@tensorflow-models/mobilenet@2.1.1"></script>\n'
            '<script src="https://cdn.jsdelivr.net/npm/chart.js"></script>\n'
            "</head><body>Runs onnxruntime-web models in your browser.</body></html>\n",
            "page.htm": '<script type="module">\nimport * as ort from '
            '"https://cdn.jsdelivr.net/npm/onnxruntime-web@1.19.0/dist/ort.min.mjs";\n</script>\n',
            "worker.js": 'import { pipeline } from "https://esm.sh/@xenova/transformers@2.17.2";\n'
            'import x from "https://example.com/npm/openai.js";\n',
        },
    )
    assert files_of(result, "ml_framework:tensorflow") == {"index.html"}
    assert files_of(result, "ml_framework:onnxruntime") == {"page.htm"}
    assert files_of(result, "ml_framework:transformers") == {"worker.js"}
    assert "llm_provider:openai" not in keys(result)


def test_registry_wildcards_cover_a_publishers_packages_only():
    assert lookup_package("npm", "@tensorflow-models/coco-ssd").id == "tensorflow"
    assert lookup_package("npm", "@mediapipe/tasks-vision").id == "mediapipe"
    assert lookup_package("npm", "@tensorflow/something-new") is None
    assert lookup_package("maven", "org.deeplearning4j:deeplearning4j-core").id == "deeplearning4j"
    assert lookup_package("pypi", "ray") is None


def test_source_installs_name_the_project_by_their_repository(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "requirements.txt": "git+https://github.com/huggingface/diffusers.git@main\n"
            "git+https://github.com/psf/requests\n",
            "Dockerfile": "FROM python:3.11\n"
            'RUN pip install "git+https://github.com/huggingface/transformers@v4.46.0"\n',
        },
    )
    assert files_of(result, "ml_framework:diffusers") == {"requirements.txt"}
    assert files_of(result, "ml_framework:transformers") == {"Dockerfile"}
    assert not any(c.name == "requests" for c in result.components)


def test_an_extra_of_a_general_package_can_be_the_component(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "requirements.txt": "ray[tune,rllib]==2.9.0\n",
            "requirements-tune.txt": "ray[tune]==2.9.0\n",
            "policy.py": "import ray\nfrom ray.rllib.algorithms.ppo import PPOConfig\n",
            "sweep.py": "import ray\nfrom ray import tune\n",
        },
    )
    assert files_of(result, "ml_framework:ray") == {"requirements.txt", "policy.py"}


def test_a_dependency_is_placed_at_its_own_key_not_at_a_feature_naming_it(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "Cargo.toml": '[package]\nname = "agent"\n\n[dependencies]\n'
            'rig-core = { version = "0.18", features = ["rmcp"] }\n'
            'tokio = "1"\nrmcp = { version = "0.5", features = ["client"] }\n',
        },
    )
    assert [location.line for location in component(result, "agent_framework:mcp").locations] == [7]


def test_native_sources_include_the_runtime_they_link(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "src/infer.cpp": "#include <vector>\n#include <onnxruntime_cxx_api.h>\n"
            '#include "tensorflow/lite/interpreter.h"\n// #include <torch/script.h>\n'
            'const char *kHelp = "#include <torch/torch.h> is not needed";\n',
            "src/chat.cc": '#include "common/llama.h"\n#include "net.h"\n',
            "ios/Classifier.mm": "#import <CoreML/CoreML.h>\n",
        },
    )
    assert files_of(result, "ml_framework:onnxruntime") == {"src/infer.cpp"}
    assert files_of(result, "ml_framework:tensorflow") == {"src/infer.cpp"}
    assert files_of(result, "ml_framework:coreml") == {"ios/Classifier.mm"}
    assert "ml_framework:torch" not in keys(result)
    assert "ml_framework:llama.cpp" not in keys(result)


def test_conda_environment_names_are_told_without_decoding_the_name():
    assert is_conda_environment_name("Environment-GPU.yaml")
    assert is_conda_environment_name("conda_env.yml")
    assert not is_conda_environment_name("envoy.yaml")
    assert not is_conda_environment_name(os.fsdecode(b"caf\xe9_\xff.yml"))  # surrogate escapes, no error


def test_runtimes_that_load_pretrained_models_by_name_are_ml_frameworks(tmp_path):
    """spaCy pipelines, Unsloth, BGE's FlagEmbedding, Instructor and SetFit each load a named pretrained
    model locally, as sentence-transformers does. timm is PyTorch's image-model zoo, a helper next to torch
    as torchvision is (the policy's helper rule), so no component of its own."""
    result = scan_tree(
        tmp_path,
        {
            "requirements.txt": (
                "spacy==3.7.4\ntimm\nunsloth\nFlagEmbedding>=1.2\nInstructorEmbedding\nsetfit\n"
            ),
            "nlp.py": "import spacy\nnlp = spacy.load('en_core_web_sm')\n",
            "vision.py": "import timm\nmodel = timm.create_model('resnet50', pretrained=True)\n",
            "tune.py": "from unsloth import FastLanguageModel\n",
            "embed.py": (
                "from FlagEmbedding import BGEM3FlagModel\nfrom InstructorEmbedding import INSTRUCTOR\n"
            ),
            "classify.py": "from setfit import SetFitModel\n",
            "check.py": "import openAI\n",  # Python's imports are case-sensitive: no such package
        },
    )
    assert "llm_provider:openai" not in keys(result)
    assert files_of(result, "ml_framework:spacy") == {"requirements.txt", "nlp.py"}
    assert "ml_framework:timm" not in keys(result)
    assert files_of(result, "ml_framework:unsloth") == {"requirements.txt", "tune.py"}
    assert files_of(result, "ml_framework:flagembedding") == {"requirements.txt", "embed.py"}
    assert files_of(result, "ml_framework:instructor-embedding") == {"requirements.txt", "embed.py"}
    assert files_of(result, "ml_framework:setfit") == {"requirements.txt", "classify.py"}
