from tests.unit.scanner_helpers import component, keys, scan_tree


def test_env_file_providers_endpoints_and_models(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            ".env": (
                "OPENAI_API_KEY=\n"
                "OLLAMA_HOST=0.0.0.0:11434\n"
                "VLLM_URL=http://gpu-box:8000/v1\n"
                "TGI_ENDPOINT=http://tgi:80\n"
                "LOCALAI_BASE_URL=http://localai:8080/v1\n"
                "DATABASE_URL=postgres://db:5432/app\n"
                "CHAT_MODEL=gpt-4o-mini\n"
                "ANSWER_STYLE=concise\n"
            )
        },
    )
    # a provider variable is no SDK in use (OPENAI_API_KEY= sets nothing; OLLAMA_HOST is an endpoint)
    assert keys(result) == {
        "endpoint:0.0.0.0:11434",
        "endpoint:gpu-box:8000",
        "endpoint:tgi:80",
        "endpoint:localai:8080",
        "model:gpt-4o-mini",
    }
    assert component(result, "endpoint:gpu-box:8000").provider == "vLLM"
    assert component(result, "endpoint:tgi:80").provider == "TGI"


def test_yaml_and_properties_models_need_a_model_key_and_a_catalog_id(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "config.yaml": "llm:\n  model: gemini-2.5-pro\nstorage:\n  model: standard\nname: gpt-4o\n",
            "application.properties": "spring.ai.anthropic.chat.options.model=claude-opus-4-20250514\n",
        },
    )
    assert keys(result) == {"model:gemini-2.5-pro", "model:claude-opus-4-20250514"}


def test_ollama_pull_in_scripts_and_ci(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "scripts/setup.sh": "#!/bin/sh\nollama pull llama3.1:8b\n# ollama pull mistral\n",
            ".github/workflows/ci.yml": "jobs:\n  t:\n    steps:\n      - run: ollama run phi3:mini 'hi'\n",
        },
    )
    # the workflow step that runs the model is itself a component (the github_actions detector)
    assert {"model:llama3.1:8b", "model:phi3:mini", "workflow:ollama"} == keys(result)


def test_broken_structured_configs_are_warnings(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "a.json": '{"model": ',
            "b.yaml": "key: [unclosed\n",
            "c.toml": "x = \n",
            "d.json": "[" * 100_000 + "]" * 100_000,
        },
    )
    messages = {w.file: w.message for w in result.warnings}
    assert set(messages) == {"a.json", "b.yaml", "c.toml", "d.json"}
    assert "JSON" in messages["a.json"] and "YAML" in messages["b.yaml"] and "TOML" in messages["c.toml"]


def test_jsonc_and_tagged_yaml_are_valid_not_warnings(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            ".vscode/settings.json": '{\n  // editor\n  "url": "http://a//b",\n  "x": [1, 2,],\n}\n',
            "template.yaml": "Resources:\n  Fn:\n    Properties:\n      Role: !GetAtt Role.Arn\n"
            "      Name: !Sub '${AWS::StackName}-fn'\n",
        },
    )
    assert result.warnings == []


def test_a_provider_variable_holding_a_real_looking_key_is_a_hardcoded_credential(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            ".env": (
                "PINECONE_API_KEY=pcsk_4Hq9Lm2Vn7Rt5Wy1Bc8Df3Gh6Jk0Lp4Qs9Tu2Vx7Yz5Ab\n"
                "COHERE_API_KEY=changeme\n"
            ),
            "job.yaml": "script: |\n  hf_token = os.environ.get('HF_TOKEN_SECRET_VALUE_FROM_ENV')\n",
        },
    )
    assert keys(result) == {"vector_db:pinecone"}
    assert "hardcoded_api_key" in component(result, "vector_db:pinecone").flags


def test_ollama_tagged_ids_under_model_keys_and_vector_store_addresses(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "deploy/anything.env": (
                "LLM_PROVIDER=ollama\n"
                "OLLAMA_BASE_PATH=http://ollama:11434\n"
                "OLLAMA_MODEL_PREF=granite4:3b\n"
                "EMBEDDING_MODEL_PREF=embeddinggemma:latest\n"
                "OLLAMA_MODEL_HOST=ollama:11434\n"
                "OLLAMA_MODEL_DIR=models:cache\n"
                "QDRANT_URL=http://qdrant:6333\n"
            ),
            # the same tag shape in a file that is not about Ollama is no model
            "other/app.env": "CACHE_MODEL=redis:alpine\n",
        },
    )
    assert keys(result) == {"endpoint:ollama:11434", "model:granite4:3b", "model:embeddinggemma:latest"}


def test_dockerfile_build_arguments_and_environment_choose_models(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "Dockerfile": (
                "FROM python:3.12-slim\n"
                "# ARG MODEL_ID=meta-llama/Llama-2-7b-hf\n"
                "ARG MODEL_ID=HuggingFaceH4/zephyr-7b-beta\n"
                "ENV CHAT_MODEL gpt-4o-mini\n"
                "ENV MODEL_DIR=/models\n"
                'RUN echo "MODEL=gpt-4o"\n'
            )
        },
    )
    assert keys(result) == {"model:huggingfaceh4/zephyr-7b-beta", "model:gpt-4o-mini"}


def test_hugging_face_uris_in_serving_configs_name_models_but_not_datasets(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "k8s/isvc.yaml": "spec:\n  predictor:\n    model:\n      storageUri: hf://Qwen/Qwen2.5-1.5B-Instruct\n",
            "jobs/eval.yaml": "source: hf://datasets/openai/gsm8k\n",
        },
    )
    assert keys(result) == {"model:qwen/qwen2.5-1.5b-instruct"}


def test_a_substitution_default_is_the_value_of_an_unset_variable(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "docker-compose.yml": (
                "services:\n  api:\n    image: acme/api:1.0\n    environment:\n"
                "      EMBEDDING_MODEL: ${EMBEDDING_MODEL:-text-embedding-3-small}\n"
                "      CHAT_MODEL: ${CHAT_MODEL}\n"
            )
        },
    )
    assert keys(result) == {"model:text-embedding-3-small"}


def test_ollama_and_hugging_face_uris_name_the_model_a_server_pulls(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "manifests/model.yaml": (
                "apiVersion: kubeai.org/v1\nkind: Model\nmetadata:\n  name: small-cpu\n"
                "spec:\n  url: ollama://gemma2:2b\n  engine: OLlama\n"
            ),
            "run.sh": (
                "#!/bin/sh\nramalama serve huggingface://ibm-granite/granite-3.1-2b-instruct-GGUF\n"
                "export OLLAMA_ADDRESS=ollama://localhost:11434\n"
            ),
        },
    )
    assert keys(result) == {"model:gemma2:2b", "model:ibm-granite/granite-3.1-2b-instruct-gguf"}


def test_an_eval_configs_provider_ids_name_the_models_it_calls(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "promptfooconfig.yaml": (
                "prompts: [prompts/answer.txt]\nproviders:\n  - openai:gpt-4o-mini\n"
                "  - id: anthropic:messages:claude-3-5-sonnet-20241022\n    config: {temperature: 0}\n"
                "  - file://providers/custom.py\n  - exec:python rag.py\ntests: []\n"
            ),
            "deploy.yaml": "providers:\n  - aws:us-east-1\n  - openai:gpt-4o\nregions: [eu]\n",
        },
    )
    assert keys(result) == {"model:gpt-4o-mini", "model:claude-3-5-sonnet-20241022"}


def test_jsonc_configs_and_direnv_files_are_configuration(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "opencode.jsonc": '{\n  // the assistant this repository uses\n  "model": "deepseek-chat",\n}\n',
            ".envrc": "export ANTHROPIC_MODEL=claude-3-5-haiku-latest\nexport PATH=$PWD/bin:$PATH\n",
        },
    )
    assert keys(result) == {"model:deepseek-chat", "model:claude-3-5-haiku-latest"}


def test_a_model_key_in_an_ai_frameworks_settings_names_a_model_the_catalog_does_not_know(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "src/main/resources/application.yaml": (
                "langchain4j:\n  community:\n    dashscope:\n      embedding-model:\n"
                "        model-name: multimodal-embedding-v1\n"
                "app:\n  model-name: invoice-classifier\n"
                "spring:\n  ai:\n    openai:\n      chat:\n        options:\n          model: ${CHAT_MODEL}\n"
            ),
            "src/main/resources/application.properties": (
                "quarkus.langchain4j.openai.chat-model.model-name=acme-tuned-7b\nspring.jpa.model=none\n"
            ),
        },
    )
    assert keys(result) == {"model:multimodal-embedding-v1", "model:acme-tuned-7b"}


def test_a_script_argument_default_is_the_model_it_serves_without_one(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "serve.sh": (
                "#!/bin/sh\nMODEL=${1:-Qwen/Qwen2.5-7B-Instruct}\nEMBED_MODEL=${2}\n"
                'python -m vllm.entrypoints.openai.api_server --model "$MODEL"\n'
            )
        },
    )
    assert keys(result) == {"model:qwen/qwen2.5-7b-instruct"}


def test_makes_conditional_and_immediate_assignments_choose_the_models_a_makefile_pulls(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "Makefile": (
                "MODEL ?= mistral:7b\nEMBED_MODEL := nomic-embed-text\nCHAT_MODEL ::= qwen2.5:7b\n"
                "PORT ?= 8080\n\npull:\n\tollama pull $(MODEL)\n\tollama pull $(EMBED_MODEL)\n"
            )
        },
    )
    assert keys(result) == {"model:mistral:7b", "model:nomic-embed-text", "model:qwen2.5:7b"}


def test_a_quoted_substitution_default_is_the_value_without_its_quotes(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "serve.sh": (
                '#!/bin/sh\nMODEL_NAME=${MODEL_NAME:-"meta-llama/Llama-3.2-3B-Instruct"}\n'
                "EMBED_MODEL=${EMBED_MODEL:-'BAAI/bge-base-en-v1.5'}\n"
                'python -m vllm.entrypoints.openai.api_server --model "$MODEL_NAME"\n'
            )
        },
    )
    assert keys(result) == {"model:meta-llama/llama-3.2-3b-instruct", "model:baai/bge-base-en-v1.5"}


def test_every_pair_of_a_dockerfile_env_and_its_continued_lines_is_an_assignment(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "Dockerfile": (
                "FROM python:3.12-slim\n"
                "ENV CHAT_MODEL=gpt-4o-mini \\\n"
                "    # the embedding model\n"
                '    EMBED_MODEL="text-embedding-3-small" \\\n'
                "    OLLAMA_HOST=http://ollama:11434\n"
                "ENV PORT=8080 SUMMARY_MODEL=claude-3-5-haiku-20241022\n"
                "RUN pip install -r requirements.txt \\\n"
                "    && echo MODEL=gpt-3.5-turbo\n"
            )
        },
    )
    assert keys(result) == {
        "model:gpt-4o-mini",
        "model:text-embedding-3-small",
        "endpoint:ollama:11434",
        "model:claude-3-5-haiku-20241022",
    }


def test_a_helm_templates_env_and_args_are_read_as_rendered_with_the_values_defaults(tmp_path):
    template = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n"
        '  name: {{ include "chat.fullname" . }}\n'
        "spec:\n  template:\n    spec:\n      containers:\n"
        "        - name: {{ .Chart.Name }}\n"
        '          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"\n'
        "          {{- if .Values.llm.enabled }}\n"
        "          env:\n"
        "            - name: CHAT_MODEL\n"
        '              value: {{ .Values.llm.model | default "gpt-4o-mini" | quote }}\n'
        "            - name: EMBEDDING_MODEL\n"
        '              value: "nomic-embed-text"\n'
        "            - name: SUMMARY_MODEL\n"
        "              value: {{ .Values.llm.summary | quote }}\n"
        "          {{- end }}\n"
        "          args:\n            - --model\n"
        '            - {{ .Values.model | default "Qwen/Qwen2.5-7B-Instruct" }}\n'
    )
    result = scan_tree(tmp_path, {"chart/templates/deployment.yaml": template})
    assert keys(result) == {"model:gpt-4o-mini", "model:nomic-embed-text", "model:qwen/qwen2.5-7b-instruct"}
    assert not [w for w in result.warnings if "deployment.yaml" in w]


def test_a_model_pickers_options_name_the_models_a_user_picks(tmp_path):
    """A select list's ``{label, value}`` options whose value is a catalog id are models, with no model
    word in the file; options of another list (sizes, themes), an unknown value and one object outside a
    list (a page's metadata) are not."""
    result = scan_tree(
        tmp_path,
        {
            "web/src/options.json": (
                '[\n  {"label": "GPT-4o mini", "value": "gpt-4o-mini"},\n'
                '  {"label": "Claude Sonnet", "value": "claude-3-5-sonnet-20241022"},\n'
                '  {"label": "House blend", "value": "house-blend"}\n]\n'
            ),
            "web/src/choices.yaml": "- title: Gemini\n  value: gemini-1.5-pro\n",
            "web/src/sizes.json": '[{"label": "Small", "value": "sm"}, {"label": "Large", "value": "lg"}]\n',
            "web/src/meta.json": '{"title": "About", "value": "gpt-4o-mini", "id": 3}\n',
        },
    )
    assert {c.name: {(loc.file, loc.line) for loc in c.locations} for c in result.components} == {
        "gpt-4o-mini": {("web/src/options.json", 2)},
        "claude-3-5-sonnet-20241022": {("web/src/options.json", 3)},
        "gemini-1.5-pro": {("web/src/choices.yaml", 2)},
    }
