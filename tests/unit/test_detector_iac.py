"""The infrastructure-as-code detector: Terraform and CloudFormation AI resources, with hard negatives
next to the positives and bad input that must turn into warnings."""

from __future__ import annotations

import json

from common.scanner.detectors.iac import IacDetector
from tests.unit.detector_helpers import by_key, run

TERRAFORM = """\
variable "agent_model" {
  type    = string
  default = "anthropic.claude-3-5-sonnet-20240620-v1:0"
}

locals {
  prefix = "acme" # a comment with a { brace
}

/* a disabled resource
resource "aws_bedrockagent_agent" "commented" {}
*/

resource "aws_bedrockagent_agent" "support" {
  agent_name       = "${local.prefix}-support"
  foundation_model = var.agent_model
  instruction      = <<-EOT
    You are helpful { and this brace is text
  EOT
}

resource "aws_sagemaker_model" "llm" {
  name = "llm"
  primary_container {
    image = "763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-tgi-inference:2.1"
    environment = {
      HF_MODEL_ID = "meta-llama/Meta-Llama-3-8B-Instruct"
      SM_NUM_GPUS = "1"
    }
  }
}

resource "aws_sagemaker_endpoint_configuration" "llm" {
  production_variants {
    variant_name  = "main"
    model_name    = aws_sagemaker_model.llm.name
    instance_type = "ml.g5.2xlarge"
  }
}

resource "aws_sagemaker_endpoint" "llm" {
  endpoint_config_name = aws_sagemaker_endpoint_configuration.llm.name
}

resource "aws_sagemaker_notebook_instance" "lab" {
  instance_type          = "ml.t3.medium"
  direct_internet_access = "Disabled"
}

resource "azurerm_cognitive_account" "openai" {
  kind                          = "OpenAI"
  public_network_access_enabled = true
}

resource "azurerm_cognitive_deployment" "gpt4o" {
  cognitive_account_id = azurerm_cognitive_account.openai.id
  model {
    format  = "OpenAI"
    name    = "gpt-4o"
    version = "2024-08-06"
  }
  sku { name = "Standard" }
}

resource "google_vertex_ai_endpoint" "private" {
  name    = "private"
  network = "projects/1/global/networks/vpc"
}

resource "google_vertex_ai_endpoint" "public" {
  name = "public"
}

resource "aws_s3_bucket" "data" {
  bucket = "acme-openai-data"
}
"""


def test_terraform_ai_resources(tmp_path):
    findings, report = run(IacDetector(), tmp_path, "infra/main.tf", TERRAFORM)
    found = by_key(findings)
    assert set(found) == {
        "cloud_resource:aws_bedrockagent_agent.support",
        "model:anthropic.claude-3-5-sonnet-20240620-v1:0",
        "cloud_resource:aws_sagemaker_model.llm",
        "model:meta-llama/meta-llama-3-8b-instruct",
        "cloud_resource:aws_sagemaker_endpoint_configuration.llm",
        "cloud_resource:aws_sagemaker_endpoint.llm",
        "cloud_resource:aws_sagemaker_notebook_instance.lab",
        "cloud_resource:azurerm_cognitive_account.openai",
        "cloud_resource:azurerm_cognitive_deployment.gpt4o",
        "model:gpt-4o",
        "cloud_resource:google_vertex_ai_endpoint.private",
        "cloud_resource:google_vertex_ai_endpoint.public",
    }
    flags = {key: entry["flags"] for key, entry in found.items()}
    assert flags["cloud_resource:aws_sagemaker_endpoint_configuration.llm"] == {"gpu_instance"}
    assert flags["cloud_resource:aws_sagemaker_endpoint.llm"] == {"internet_facing"}
    assert flags["cloud_resource:aws_sagemaker_model.llm"] == set()
    assert flags["cloud_resource:aws_sagemaker_notebook_instance.lab"] == set()
    assert flags["cloud_resource:azurerm_cognitive_account.openai"] == {"internet_facing"}
    assert flags["cloud_resource:google_vertex_ai_endpoint.public"] == {"internet_facing"}
    assert flags["cloud_resource:google_vertex_ai_endpoint.private"] == set()
    agent = found["cloud_resource:aws_bedrockagent_agent.support"]["findings"][0]
    assert agent.location.line == 14 and agent.name == "aws_bedrockagent_agent.support"
    assert agent.relations == [("uses_model", "model:anthropic.claude-3-5-sonnet-20240620-v1:0")]
    gpt = found["model:gpt-4o"]["findings"][0]
    assert gpt.version == "2024-08-06" and gpt.location.line == 59
    assert (
        found["cloud_resource:azurerm_cognitive_account.openai"]["findings"][0].provider == "Microsoft Azure"
    )
    assert report.warnings == []


def test_terraform_private_azure_and_gpu_compute(tmp_path):
    content = """\
resource "azurerm_cognitive_account" "locked" {
  kind = "OpenAI"
  public_network_access_enabled = false
}
resource "azurerm_machine_learning_compute_cluster" "train" {
  vm_size = "Standard_NC24ads_A100_v4"
}
resource "azurerm_machine_learning_compute_cluster" "cpu" {
  vm_size = "Standard_D4s_v3"
}
"""
    findings, _ = run(IacDetector(), tmp_path, "azure.tf", content)
    flags = {f.name: f.flags for f in findings}
    assert flags == {
        "azurerm_cognitive_account.locked": set(),
        "azurerm_machine_learning_compute_cluster.train": {"gpu_instance"},
        "azurerm_machine_learning_compute_cluster.cpu": set(),
    }


def test_terraform_without_ai_resources_and_unbalanced_file(tmp_path):
    findings, report = run(
        IacDetector(), tmp_path, "s3.tf", 'resource "aws_s3_bucket" "b" {\n  bucket = "x"\n}\n'
    )
    assert findings == [] and report.warnings == []
    broken = 'resource "aws_bedrock_guardrail" "g" {\n  name = "g"\n  content_policy_config {\n'
    findings, _ = run(IacDetector(), tmp_path, "broken.tf", broken)
    assert [f.name for f in findings] == ["aws_bedrock_guardrail.g"]


CLOUDFORMATION = """\
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  ModelName: {Type: String}
Resources:
  Agent:
    Type: AWS::Bedrock::Agent
    Properties:
      AgentName: support
      FoundationModel: anthropic.claude-3-haiku-20240307-v1:0
      AgentResourceRoleArn: !GetAtt AgentRole.Arn
  KnowledgeBase:
    Type: AWS::Bedrock::KnowledgeBase
    Properties:
      KnowledgeBaseConfiguration:
        VectorKnowledgeBaseConfiguration:
          EmbeddingModelArn: !Sub arn:aws:bedrock:${AWS::Region}::foundation-model/cohere.embed-v3
  Model:
    Type: AWS::SageMaker::Model
    Properties:
      PrimaryContainer:
        Image: !Ref ImageUri
        Environment:
          HF_MODEL_ID: mistralai/Mistral-7B-Instruct-v0.3
  Config:
    Type: AWS::SageMaker::EndpointConfig
    Properties:
      ProductionVariants:
        - ModelName: !GetAtt Model.ModelName
          InstanceType: ml.p4d.24xlarge
          VariantName: main
  Endpoint:
    Type: AWS::SageMaker::Endpoint
    Properties:
      EndpointConfigName: !GetAtt Config.EndpointConfigName
  Bucket:
    Type: AWS::S3::Bucket
"""


def test_cloudformation_yaml_with_intrinsic_tags(tmp_path):
    findings, report = run(IacDetector(), tmp_path, "template.yaml", CLOUDFORMATION)
    found = by_key(findings)
    assert set(found) == {
        "cloud_resource:aws::bedrock::agent.agent",
        "model:anthropic.claude-3-haiku-20240307-v1:0",
        "cloud_resource:aws::bedrock::knowledgebase.knowledgebase",
        "model:cohere.embed-v3",  # the model at the end of the !Sub ARN
        "cloud_resource:aws::sagemaker::model.model",
        "model:mistralai/mistral-7b-instruct-v0.3",
        "cloud_resource:aws::sagemaker::endpointconfig.config",
        "cloud_resource:aws::sagemaker::endpoint.endpoint",
    }
    assert found["model:cohere.embed-v3"]["lines"] == {16}
    assert found["cloud_resource:aws::sagemaker::endpointconfig.config"]["flags"] == {"gpu_instance"}
    assert found["cloud_resource:aws::sagemaker::endpoint.endpoint"]["flags"] == {"internet_facing"}
    assert found["cloud_resource:aws::bedrock::agent.agent"]["lines"] == {5}
    assert found["model:anthropic.claude-3-haiku-20240307-v1:0"]["lines"] == {9}
    assert report.warnings == []


def test_cloudformation_json_and_broken_templates(tmp_path):
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {
            "Guard": {"Type": "AWS::Bedrock::Guardrail", "Properties": {"Name": "g"}},
            "Nb": {
                "Type": "AWS::SageMaker::NotebookInstance",
                "Properties": {"InstanceType": "ml.g4dn.xlarge", "RoleArn": {"Fn::GetAtt": ["Role", "Arn"]}},
            },
        },
    }
    findings, _ = run(IacDetector(), tmp_path, "stack.json", json.dumps(template, indent=2))
    assert {f.name: f.flags for f in findings} == {
        "AWS::Bedrock::Guardrail.Guard": set(),
        "AWS::SageMaker::NotebookInstance.Nb": {"gpu_instance", "internet_facing"},
    }
    findings, report = run(
        IacDetector(), tmp_path, "bad.json", '{"Resources": {"X": {"Type": "AWS::Bedrock::Agent"'
    )
    assert findings == [] and report.warnings


def test_cloudformation_yaml_followed_by_pasted_shell_lines(tmp_path):
    template = """\
AWSTemplateFormatVersion: '2010-09-09'
Resources:
  Notebook:
    Type: AWS::SageMaker::NotebookInstance
    Properties:
      InstanceType: ml.t3.medium
      RoleArn: !Sub 'arn:aws:iam::${AWS::AccountId}:role/LabRole'
Outputs:
  Name: {Value: !Ref Notebook}
aws cloudformation deploy \\
  --stack-name demo \\
  --template-file sagemaker.yaml
"""
    findings, _ = run(IacDetector(), tmp_path, "sagemaker.yaml", template)
    assert {(f.name, f.location.line) for f in findings} == {("AWS::SageMaker::NotebookInstance.Notebook", 3)}
    broken_first = "Resources: [\n  Notebook:\n    Type: AWS::SageMaker::NotebookInstance\n"
    findings, report = run(IacDetector(), tmp_path, "broken.yaml", broken_first)
    assert findings == [] and report.warnings


def test_json_without_cloudformation_markers_is_ignored(tmp_path):
    findings, report = run(IacDetector(), tmp_path, "package.json", '{"name": "sagemaker-docs"}')
    assert findings == [] and report.warnings == []


BICEP_LOOP = """@description('Model deployments')
param deployments array = [
  {
    name: 'chat'
    model: { format: 'OpenAI', name: 'gpt-4o', version: '2024-11-20' }
  }
]
param privateOnly bool = true

resource account 'Microsoft.CognitiveServices/accounts@2024-10-01' = if (privateOnly) {
  name: 'oai-${uniqueString(resourceGroup().id)}'
  kind: 'OpenAI'
  properties: {
    publicNetworkAccess: 'Disabled'
    networkAcls: { defaultAction: 'Deny' }
  }
}

@batchSize(1)
resource deployment 'Microsoft.CognitiveServices/accounts/deployments@2024-10-01' = [for d in deployments: {
  parent: account
  name: d.name
  properties: {
    model: d.model
  }
}]

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: 'kv-app'
  properties: { description: 'model: { format: \\'OpenAI\\', name: \\'gpt-4\\' }' }
}
"""


def test_bicep_loops_conditions_and_deployment_lists(tmp_path):
    findings, report = run(IacDetector(), tmp_path, "infra/openai.bicep", BICEP_LOOP)
    found = by_key(findings)
    assert set(found) == {
        "cloud_resource:microsoft.cognitiveservices/accounts.account",
        "cloud_resource:microsoft.cognitiveservices/accounts/deployments.deployment",
        "model:gpt-4o",
    }
    assert found["cloud_resource:microsoft.cognitiveservices/accounts.account"]["flags"] == set()
    assert found["cloud_resource:microsoft.cognitiveservices/accounts.account"]["lines"] == {10}
    assert found["model:gpt-4o"]["lines"] == {5}
    assert report.warnings == []


def test_bicep_without_ai_resources_and_broken_files(tmp_path):
    plain = "resource site 'Microsoft.Web/sites@2022-09-01' = {\n  name: 'web'\n  kind: 'app'\n}\n"
    assert run(IacDetector(), tmp_path, "web.bicep", plain)[0] == []
    for broken in (
        "resource a 'Microsoft.CognitiveServices/accounts@1' = {\n x: f(1))\n y: [ ) ]\n",
        "param p array = [\n ) }\nresource b 'Microsoft.CognitiveServices/accounts@1' = {\n",
    ):
        findings, _ = run(IacDetector(), tmp_path, "broken.bicep", broken)
        assert all(f.type == "cloud_resource" for f in findings)


ARM_SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"


def arm(resources: list | dict, parameters: dict | None = None, variables: dict | None = None) -> str:
    template = {"$schema": ARM_SCHEMA, "parameters": parameters or {}, "variables": variables or {}}
    return json.dumps({**template, "resources": resources}, indent=2)


def test_arm_expressions_resolve_to_literals_or_stay_unresolved(tmp_path):
    text = arm(
        [
            {
                "type": "Microsoft.CognitiveServices/accounts/deployments",
                "name": "[concat(parameters('account'), '/', toLower(variables('alias')))]",
                "properties": {
                    "model": {
                        "format": "OpenAI",
                        "name": "[parameters('model')]",
                        "version": "[parameters('v')]",
                    }
                },
            },
            {
                "type": "Microsoft.CognitiveServices/accounts/deployments",
                "name": "[format('{0}/{1}', parameters('account'), uniqueString(resourceGroup().id))]",
                "properties": {"model": {"format": "OpenAI", "name": "[reference('x').modelName]"}},
            },
            {
                "type": "Microsoft.CognitiveServices/accounts",
                "name": "[[literal-bracket]",
                "kind": "OpenAI",
                "properties": {"publicNetworkAccess": "Disabled"},
            },
        ],
        parameters={
            "account": {"type": "string"},
            "model": {"defaultValue": "gpt-4o"},
            "v": {"type": "string"},
        },
        variables={"alias": "Chat"},
    )
    findings, report = run(IacDetector(), tmp_path, "azuredeploy.json", text)
    found = by_key(findings)
    assert set(found) == {
        "cloud_resource:microsoft.cognitiveservices/accounts/deployments.chat",
        "cloud_resource:microsoft.cognitiveservices/accounts/deployments.deployments",  # by its type
        "cloud_resource:microsoft.cognitiveservices/accounts.[literal-bracket]",
        "model:gpt-4o",
    }
    written = next(n for n, line in enumerate(text.splitlines(), 1) if "[parameters('model')]" in line)
    assert found["model:gpt-4o"]["lines"] == {written}  # where the expression naming it is written
    assert report.warnings == []


def test_arm_copy_loops_fan_out_over_the_parameter_array(tmp_path):
    deployments = [
        {"name": f"d{i}", "model": {"name": model}} for i, model in enumerate(["gpt-4o", "o3-mini"])
    ]
    text = arm(
        {
            "loop": {
                "type": "Microsoft.CognitiveServices/accounts/deployments",
                "name": "[format('acct/{0}', parameters('items')[copyIndex()].name)]",
                "copy": {"name": "loop", "count": "[length(parameters('items'))]"},
                "properties": {"model": "[parameters('items')[copyIndex()].model]"},
            }
        },
        parameters={"items": {"type": "array", "defaultValue": deployments}},
    )
    found = by_key(run(IacDetector(), tmp_path, "main.json", text)[0])
    assert {"model:gpt-4o", "model:o3-mini"} <= set(found)
    assert "cloud_resource:microsoft.cognitiveservices/accounts/deployments.loop" in found


def test_json_that_is_not_an_arm_template_is_not_read_as_one(tmp_path):
    resource = {"type": "Microsoft.CognitiveServices/accounts", "name": "x", "kind": "OpenAI"}
    for text in (
        json.dumps({"resources": [resource]}),
        json.dumps({"$schema": ARM_SCHEMA.replace("Template", "Parameters"), "resources": [resource]}),
        json.dumps({"$schema": ARM_SCHEMA, "resources": "Microsoft.CognitiveServices/accounts"}),
        '{"$schema": "' + ARM_SCHEMA + '", "resources": [ Microsoft.CognitiveServices',
    ):
        assert run(IacDetector(), tmp_path, "template.json", text)[0] == []


def test_cloudformation_json_quoting_the_arm_schema_is_still_read_as_cloudformation(tmp_path):
    template = {
        "Description": f"Port of a Microsoft.CognitiveServices template ({ARM_SCHEMA})",
        "Resources": {"Agent": {"Type": "AWS::Bedrock::Agent", "Properties": {"AgentName": "helper"}}},
    }
    found = by_key(run(IacDetector(), tmp_path, "template.json", json.dumps(template))[0])
    assert set(found) == {"cloud_resource:aws::bedrock::agent.agent"}


def test_terraform_model_named_objects_hold_models_but_resource_and_deployment_names_do_not(tmp_path):
    content = """\
module "openai" {
  source = "./modules/openai"
  llm_model = [{
    name            = "gpt-4o"
    deployment_name = "chat"
  }]
  model_deployments = [{
    name = "gpt-4-turbo"
  }]
}
variable "chat_models" {
  default = [
    {
      name = "o3-mini"
    },
  ]
}
resource "azurerm_cognitive_deployment" "gpt" {
  name = "gpt-4.1"
  model {
    format = "OpenAI"
    name   = "gpt-4o-mini"
  }
}
"""
    findings, _ = run(IacDetector(), tmp_path, "main.tf", content)
    models = {(f.name, f.location.line) for f in findings if f.type == "model"}
    assert models == {("gpt-4o", 4), ("o3-mini", 14), ("gpt-4o-mini", 22)}


def test_bicep_verified_module_calls_deploy_the_resource_their_path_names(tmp_path):
    content = """\
module openai 'br/public:avm/res/cognitive-services/account:0.10.1' = {
  name: 'openai'
  params: {
    kind: 'OpenAI'
    publicNetworkAccess: 'Disabled'
  }
}
module vnet 'br/public:avm/res/network/virtual-network:0.5.0' = {
  name: 'vnet'
}
module local './modules/openai.bicep' = {
  name: 'local'
}
"""
    findings, _ = run(IacDetector(), tmp_path, "main.bicep", content)
    assert [(f.name, f.location.line, f.flags) for f in findings] == [
        ("Microsoft.CognitiveServices/accounts.openai", 1, set())
    ]


def test_tfvars_model_maps_hold_models_and_deployment_maps_hold_aliases(tmp_path):
    content = """\
models = {
  chat = {
    name = "gpt-4o"
  }
}
openai_deployments = {
  chat = {
    name = "gpt-4.1"
    model = {
      name = "gpt-4.1-mini"
    }
  }
}
"""
    findings, _ = run(IacDetector(), tmp_path, "prod.tfvars", content)
    assert sorted((f.name, f.location.line) for f in findings) == [("gpt-4.1-mini", 10), ("gpt-4o", 3)]


def test_terraform_literal_ai_addresses_are_endpoints_the_deployed_app_calls(tmp_path):
    terraform = (
        'resource "aws_lambda_function" "chat" {\n'
        "  environment {\n    variables = {\n"
        '      OPENAI_API_BASE = "https://api.openai.com/v1"\n'
        '      OLLAMA_HOST     = "http://10.0.0.5:11434"\n'
        '      DOCS_URL        = "https://docs.example.com/guide"\n'
        '      # LEGACY_BASE   = "https://api.mistral.ai/v1"\n'
        '      AZURE_BASE      = "https://${var.account}.openai.azure.com/"\n'
        "    }\n  }\n}\n"
        'module "net" {\n  source = "git::https://github.com/acme/net.git"\n}\n'
    )
    findings, _ = run(IacDetector(), tmp_path, "main.tf", terraform)
    endpoints = {f.name: f.location.line for f in findings if f.type == "endpoint"}
    assert endpoints == {"api.openai.com": 4, "10.0.0.5:11434": 5}
    tfvars, _ = run(IacDetector(), tmp_path, "prod.tfvars", 'llm_base_url = "https://api.anthropic.com"\n')
    assert [(f.type, f.name) for f in tfvars] == [("endpoint", "api.anthropic.com")]


def test_a_bicep_app_s_settings_choose_its_model_and_ai_address_without_an_ai_resource(tmp_path):
    bicep = (
        "resource app 'Microsoft.Web/sites@2022-09-01' = {\n"
        "  name: 'chat-app'\n"
        "  properties: {\n    siteConfig: {\n      appSettings: [\n"
        "        { name: 'OPENAI_API_BASE', value: 'https://api.openai.com/v1' }\n"
        "        { name: 'OPENAI_MODEL', value: 'gpt-4o' }\n"
        "        { name: 'OLLAMA_HOST', value: 'http://10.1.0.4:11434' }\n"
        "        { name: 'AZURE_BASE', value: 'https://${account.name}.openai.azure.com/' }\n"
        "        // { name: 'OLD_BASE', value: 'https://api.mistral.ai/v1' }\n"
        "        { name: 'DOCS', value: 'https://learn.microsoft.com/azure' }\n"
        "      ]\n    }\n  }\n}\n"
    )
    findings, _ = run(IacDetector(), tmp_path, "main.bicep", bicep)
    assert sorted((f.type, f.name, f.location.line) for f in findings) == [
        ("endpoint", "10.1.0.4:11434", 8),
        ("endpoint", "api.openai.com", 6),
        ("model", "gpt-4o", 7),
    ]
