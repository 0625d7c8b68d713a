"""Every documented way to declare an AI cloud resource, an AI container or an AI workflow step, one
small project each, in the shape the provider's own documentation shows (Terraform registry, the
CloudFormation and Bicep/ARM references, CDK and Pulumi API docs, KServe/Ray/vLLM/NIM docs, compose
files, the vendors' GitHub Actions): the engine reports the component as the labelling policy names it
(bench/realworld/README.md; bench/realworld/precision-audit.md, "IaC, Kubernetes and CI: every
documented form")."""

import pytest

from tests.unit.scanner_helpers import scan_tree

FORMS = [
    pytest.param(
        {
            "main.tf": """\
resource "aws_bedrockagent_agent" "example" {
  agent_name              = "my-agent-name"
  agent_resource_role_arn = aws_iam_role.example.arn
  idle_session_ttl_in_seconds = 500
  foundation_model        = "anthropic.claude-v2"
}
""",
        },
        {("cloud_resource", "aws_bedrockagent_agent.example"), ("model", "anthropic.claude-v2")},
        id="tf-bedrockagent-agent",
    ),
    pytest.param(
        {
            "main.tf": """\
resource "aws_bedrockagent_knowledge_base" "example" {
  name     = "example"
  role_arn = aws_iam_role.example.arn
  knowledge_base_configuration {
    vector_knowledge_base_configuration {
      embedding_model_arn = "arn:aws:bedrock:us-west-2::foundation-model/amazon.titan-embed-text-v2:0"
    }
    type = "VECTOR"
  }
  storage_configuration {
    type = "OPENSEARCH_SERVERLESS"
    opensearch_serverless_configuration {
      collection_arn    = "arn:aws:aoss:us-west-2:123456789012:collection/142bezjddq707i5stcrf"
      vector_index_name = "bedrock-knowledge-base-default-index"
      field_mapping {
        vector_field   = "bedrock-knowledge-base-default-vector"
        text_field     = "AMAZON_BEDROCK_TEXT_CHUNK"
        metadata_field = "AMAZON_BEDROCK_METADATA"
      }
    }
  }
}
""",
        },
        {
            ("cloud_resource", "aws_bedrockagent_knowledge_base.example"),
            ("model", "amazon.titan-embed-text-v2:0"),
        },
        id="tf-bedrock-kb",
    ),
    pytest.param(
        {
            "main.tf": """\
resource "aws_bedrock_guardrail" "example" {
  name                      = "example"
  blocked_input_messaging   = "example"
  blocked_outputs_messaging = "example"
}
""",
        },
        {("cloud_resource", "aws_bedrock_guardrail.example")},
        id="tf-bedrock-guardrail",
    ),
    pytest.param(
        {
            "main.tf": """\
resource "aws_bedrock_provisioned_model_throughput" "example" {
  provisioned_model_name = "example-model"
  model_arn              = "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-v2:100k"
  commitment_duration    = "SixMonths"
  model_units            = 1
}
""",
        },
        {
            ("cloud_resource", "aws_bedrock_provisioned_model_throughput.example"),
            ("model", "anthropic.claude-v2:100k"),
        },
        id="tf-bedrock-provisioned",
    ),
    pytest.param(
        {
            "main.tf": """\
data "aws_caller_identity" "current" {}

resource "aws_bedrock_inference_profile" "example" {
  name        = "Claude Sonnet for Project 123"
  description = "Profile with tag for cost allocation tracking"
  model_source {
    copy_from = "arn:aws:bedrock:us-west-2::foundation-model/anthropic.claude-3-5-sonnet-20241022-v2:0"
  }
}
""",
        },
        {
            ("cloud_resource", "aws_bedrock_inference_profile.example"),
            ("model", "anthropic.claude-3-5-sonnet-20241022-v2:0"),
        },
        id="tf-bedrock-inference-profile",
    ),
    pytest.param(
        {
            "main.tf": """\
resource "aws_bedrockagent_data_source" "example" {
  knowledge_base_id = "EMDPPAYPZI"
  name              = "example"
  data_source_configuration {
    type = "S3"
    s3_configuration {
      bucket_arn = "arn:aws:s3:::example-bucket"
    }
  }
}
""",
        },
        {("cloud_resource", "aws_bedrockagent_data_source.example")},
        id="tf-bedrock-data-source",
    ),
    pytest.param(
        {
            "main.tf": """\
data "aws_bedrock_foundation_model" "example" {
  model_id = "amazon.titan-text-express-v1"
}

resource "aws_bedrock_custom_model" "example" {
  custom_model_name     = "example-model"
  job_name              = "example-job-1"
  base_model_identifier = data.aws_bedrock_foundation_model.example.model_arn
  role_arn              = aws_iam_role.example.arn
  customization_type = "FINE_TUNING"
}
""",
        },
        {("cloud_resource", "aws_bedrock_custom_model.example"), ("model", "amazon.titan-text-express-v1")},
        id="tf-bedrock-custom-model",
    ),
    pytest.param(
        {
            "main.tf": """\
resource "aws_sagemaker_model" "m" {
  name               = "my-model"
  execution_role_arn = aws_iam_role.example.arn
  primary_container {
    image = data.aws_sagemaker_prebuilt_ecr_image.test.registry_path
  }
}

resource "aws_sagemaker_endpoint_configuration" "ec" {
  name = "my-endpoint-config"
  production_variants {
    variant_name           = "variant-1"
    model_name             = aws_sagemaker_model.m.name
    initial_instance_count = 1
    instance_type          = "ml.t2.medium"
  }
}

resource "aws_sagemaker_endpoint" "e" {
  name                 = "my-endpoint"
  endpoint_config_name = aws_sagemaker_endpoint_configuration.ec.name
}
""",
        },
        {
            ("cloud_resource", "aws_sagemaker_endpoint.e"),
            ("cloud_resource", "aws_sagemaker_model.m"),
            ("cloud_resource", "aws_sagemaker_endpoint_configuration.ec"),
        },
        id="tf-sagemaker-endpoint",
    ),
    pytest.param(
        {
            "main.tf": """\
resource "aws_sagemaker_notebook_instance" "ni" {
  name          = "my-notebook-instance"
  role_arn      = aws_iam_role.role.arn
  instance_type = "ml.t2.medium"
}
""",
        },
        {("cloud_resource", "aws_sagemaker_notebook_instance.ni")},
        id="tf-sagemaker-notebook",
    ),
    pytest.param(
        {
            "main.tf": """\
resource "aws_sagemaker_domain" "example" {
  domain_name = "example"
  auth_mode   = "IAM"
  vpc_id      = aws_vpc.example.id
  subnet_ids  = [aws_subnet.example.id]
  default_user_settings {
    execution_role = aws_iam_role.example.arn
  }
}
""",
        },
        {("cloud_resource", "aws_sagemaker_domain.example")},
        id="tf-sagemaker-domain",
    ),
    pytest.param(
        {
            "main.tf": """\
resource "aws_opensearchserverless_collection" "example" {
  name = "example"
  type = "VECTORSEARCH"
}
""",
        },
        {("vector_db", "opensearch")},
        id="tf-aoss-vectorsearch",
    ),
    pytest.param(
        {
            "main.tf": """\
resource "aws_kendra_index" "example" {
  name        = "example"
  description = "example"
  edition     = "DEVELOPER_EDITION"
  role_arn    = aws_iam_role.this.arn
}
""",
        },
        {("cloud_resource", "aws_kendra_index.example")},
        id="tf-kendra",
    ),
    pytest.param(
        {
            "main.tf": """\
resource "aws_lexv2models_bot" "example" {
  name                        = "example"
  idle_session_ttl_in_seconds = 60
  role_arn                    = aws_iam_role.example.arn
  data_privacy {
    child_directed = false
  }
}
""",
        },
        {("cloud_resource", "aws_lexv2models_bot.example")},
        id="tf-lexv2",
    ),
    pytest.param(
        {
            "main.tf": """\
resource "aws_lex_bot" "order_flowers_bot" {
  abort_statement {
    message {
      content      = "Sorry, I am not able to assist at this time"
      content_type = "PlainText"
    }
  }
  child_directed = false
  name           = "OrderFlowers"
}
""",
        },
        {("cloud_resource", "aws_lex_bot.order_flowers_bot")},
        id="tf-lex-v1",
    ),
    pytest.param(
        {
            "main.tf": """\
resource "azurerm_cognitive_account" "example" {
  name                = "example-ca"
  location            = azurerm_resource_group.example.location
  resource_group_name = azurerm_resource_group.example.name
  kind                = "OpenAI"
  sku_name            = "S0"
}

resource "azurerm_cognitive_deployment" "example" {
  name                 = "example-cd"
  cognitive_account_id = azurerm_cognitive_account.example.id
  model {
    format  = "OpenAI"
    name    = "gpt-4o"
    version = "2024-08-06"
  }
  sku {
    name = "Standard"
  }
}
""",
        },
        {
            ("cloud_resource", "azurerm_cognitive_account.example"),
            ("cloud_resource", "azurerm_cognitive_deployment.example"),
            ("model", "gpt-4o"),
        },
        id="tf-azure-openai-account",
    ),
    pytest.param(
        {
            "main.tf": """\
resource "azurerm_cognitive_account" "docs" {
  name                = "example-fr"
  location            = "westeurope"
  resource_group_name = "rg"
  kind                = "FormRecognizer"
  sku_name            = "S0"
}
""",
        },
        {("cloud_resource", "azurerm_cognitive_account.docs")},
        id="tf-azure-formrecognizer",
    ),
    pytest.param(
        {
            "main.tf": """\
resource "azurerm_ai_foundry" "example" {
  name                = "exampleaihub"
  location            = azurerm_ai_services.example.location
  resource_group_name = azurerm_resource_group.example.name
  storage_account_id  = azurerm_storage_account.example.id
  key_vault_id        = azurerm_key_vault.example.id
  identity {
    type = "SystemAssigned"
  }
}

resource "azurerm_ai_services" "example" {
  name                = "exampleaiservices"
  location            = azurerm_resource_group.example.location
  resource_group_name = azurerm_resource_group.example.name
  sku_name            = "S0"
}
""",
        },
        {("cloud_resource", "azurerm_ai_foundry.example"), ("cloud_resource", "azurerm_ai_services.example")},
        id="tf-azure-ai-foundry",
    ),
    pytest.param(
        {
            "main.tf": """\
resource "azurerm_machine_learning_workspace" "example" {
  name                    = "example-workspace"
  location                = azurerm_resource_group.example.location
  resource_group_name     = azurerm_resource_group.example.name
  application_insights_id = azurerm_application_insights.example.id
  key_vault_id            = azurerm_key_vault.example.id
  storage_account_id      = azurerm_storage_account.example.id
  identity {
    type = "SystemAssigned"
  }
}
""",
        },
        {("cloud_resource", "azurerm_machine_learning_workspace.example")},
        id="tf-azure-ml-workspace",
    ),
    pytest.param(
        {
            "main.tf": """\
resource "azapi_resource" "ai_project" {
  type      = "Microsoft.CognitiveServices/accounts/projects@2025-04-01-preview"
  name      = "project1"
  parent_id = azapi_resource.ai_foundry.id
  location  = "eastus"
  body = {
    properties = {}
  }
}
""",
        },
        {("cloud_resource", "azapi_resource.ai_project")},
        id="tf-azapi-cognitive",
    ),
    pytest.param(
        {
            "main.tf": """\
resource "azapi_resource" "gpt" {
  type      = "Microsoft.CognitiveServices/accounts/deployments@2023-05-01"
  name      = "gpt-4o-mini"
  parent_id = azurerm_cognitive_account.this.id
  body = {
    sku = {
      name     = "GlobalStandard"
      capacity = 10
    }
    properties = {
      model = {
        format  = "OpenAI"
        name    = "gpt-4o-mini"
        version = "2024-07-18"
      }
    }
  }
}
""",
        },
        {("cloud_resource", "azapi_resource.gpt"), ("model", "gpt-4o-mini")},
        id="tf-azapi-deployment-model",
    ),
    pytest.param(
        {
            "main.tf": """\
resource "google_vertex_ai_endpoint" "endpoint" {
  name         = "endpoint-name"
  display_name = "sample-endpoint"
  description  = "A sample vertex endpoint"
  location     = "us-central1"
  region       = "us-central1"
}
""",
        },
        {("cloud_resource", "google_vertex_ai_endpoint.endpoint")},
        id="tf-vertex-endpoint",
    ),
    pytest.param(
        {
            "main.tf": """\
resource "google_vertex_ai_index" "index" {
  region       = "us-central1"
  display_name = "test-index"
  metadata {
    contents_delta_uri = "gs://bucket/contents"
    config {
      dimensions = 2
      approximate_neighbors_count = 150
    }
  }
  index_update_method = "BATCH_UPDATE"
}

resource "google_vertex_ai_index_endpoint" "index_endpoint" {
  display_name = "sample-endpoint"
  region       = "us-central1"
  public_endpoint_enabled = true
}
""",
        },
        {
            ("cloud_resource", "google_vertex_ai_index.index"),
            ("cloud_resource", "google_vertex_ai_index_endpoint.index_endpoint"),
        },
        id="tf-vertex-index",
    ),
    pytest.param(
        {
            "main.tf": """\
resource "google_project_service" "vertex" {
  project = var.project_id
  service = "aiplatform.googleapis.com"
}
""",
        },
        {("cloud_resource", "google_project_service.vertex")},
        id="tf-gcp-services",
    ),
    pytest.param(
        {
            "main.tf": """\
resource "google_project_service" "apis" {
  for_each = toset([
    "aiplatform.googleapis.com",
    "run.googleapis.com",
  ])
  project = var.project_id
  service = each.value
}
""",
        },
        {("cloud_resource", "google_project_service.apis")},
        id="tf-gcp-services-foreach",
    ),
    pytest.param(
        {
            "main.tf": """\
resource "google_discovery_engine_search_engine" "basic" {
  engine_id      = "example-engine-id"
  collection_id  = "default_collection"
  location       = google_discovery_engine_data_store.basic.location
  display_name   = "Example Display Name"
  data_store_ids = [google_discovery_engine_data_store.basic.data_store_id]
  search_engine_config {
  }
}
""",
        },
        {("cloud_resource", "google_discovery_engine_search_engine.basic")},
        id="tf-discovery-engine",
    ),
    pytest.param(
        {
            "main.tf": """\
resource "google_dialogflow_cx_agent" "full_agent" {
  display_name          = "dialogflowcx-agent"
  location              = "global"
  default_language_code = "en"
  time_zone             = "America/New_York"
}
""",
        },
        {("cloud_resource", "google_dialogflow_cx_agent.full_agent")},
        id="tf-dialogflow-cx",
    ),
    pytest.param(
        {
            "main.tf": """\
module "openai" {
  source              = "Azure/openai/azurerm"
  version             = "0.1.5"
  resource_group_name = azurerm_resource_group.this.name
  location            = azurerm_resource_group.this.location
  deployment = {
    "gpt-4o" = {
      name          = "gpt-4o"
      model_format  = "OpenAI"
      model_name    = "gpt-4o"
      model_version = "2024-05-13"
      scale_type    = "Standard"
    }
  }
}
""",
        },
        {("cloud_resource", "module.openai"), ("model", "gpt-4o")},
        id="tf-module-azure-openai",
    ),
    pytest.param(
        {
            "main.tf": """\
module "bedrock" {
  source  = "aws-ia/bedrock/aws"
  version = "0.0.20"
  create_agent = true
  foundation_model = "anthropic.claude-3-5-sonnet-20241022-v2:0"
  instruction = "You are an automotive assistant who answers questions about cars."
}
""",
        },
        {("cloud_resource", "module.bedrock"), ("model", "anthropic.claude-3-5-sonnet-20241022-v2:0")},
        id="tf-module-aws-bedrock",
    ),
    pytest.param(
        {
            "main.tf": """\
module "vertex_ai_workbench" {
  source  = "GoogleCloudPlatform/vertex-ai/google//modules/workbench"
  version = "~> 0.1"
  name       = "test-vertex-ai-instance"
  location   = "us-central1-a"
  project_id = var.project_id
}
""",
        },
        {("cloud_resource", "module.vertex_ai_workbench")},
        id="tf-module-vertex",
    ),
    pytest.param(
        {
            "variables.tf": """\
variable "bedrock_model_id" {
  type    = string
  default = "anthropic.claude-3-haiku-20240307-v1:0"
}
""",
        },
        {("model", "anthropic.claude-3-haiku-20240307-v1:0")},
        id="tf-var-model",
    ),
    pytest.param(
        {
            "terraform.tfvars": """\
openai_model_name = "gpt-4o-mini"
region = "eastus"
""",
            "main.tf": """\
variable "openai_model_name" {}
""",
        },
        {("model", "gpt-4o-mini")},
        id="tfvars-model",
    ),
    pytest.param(
        {
            "template.yaml": """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  SupportAgent:
    Type: AWS::Bedrock::Agent
    Properties:
      AgentName: support-agent
      AgentResourceRoleArn: !GetAtt AgentRole.Arn
      FoundationModel: anthropic.claude-3-haiku-20240307-v1:0
      Instruction: !Sub "You help ${AWS::StackName} users"
""",
        },
        {
            ("cloud_resource", "AWS::Bedrock::Agent.SupportAgent"),
            ("model", "anthropic.claude-3-haiku-20240307-v1:0"),
        },
        id="cfn-bedrock-agent",
    ),
    pytest.param(
        {
            "template.json": """\
{
  "AWSTemplateFormatVersion": "2010-09-09",
  "Resources": {
    "KB": {
      "Type": "AWS::Bedrock::KnowledgeBase",
      "Properties": {
        "Name": "kb",
        "RoleArn": {"Fn::GetAtt": ["Role", "Arn"]},
        "KnowledgeBaseConfiguration": {
          "Type": "VECTOR",
          "VectorKnowledgeBaseConfiguration": {
            "EmbeddingModelArn": {
              "Fn::Sub": "arn:aws:bedrock:${AWS::Region}::foundation-model/cohere.embed-english-v3"
            }
          }
        }
      }
    }
  }
}
""",
        },
        {("cloud_resource", "AWS::Bedrock::KnowledgeBase.KB"), ("model", "cohere.embed-english-v3")},
        id="cfn-bedrock-kb-json",
    ),
    pytest.param(
        {
            "template.yaml": """\
Resources:
  Collection:
    Type: AWS::OpenSearchServerless::Collection
    Properties:
      Name: kb-collection
      Type: VECTORSEARCH
""",
        },
        {("vector_db", "opensearch")},
        id="cfn-aoss",
    ),
    pytest.param(
        {
            "template.yaml": """\
Resources:
  DocsIndex:
    Type: AWS::Kendra::Index
    Properties:
      Edition: DEVELOPER_EDITION
      Name: docs
      RoleArn: !GetAtt KendraRole.Arn
""",
        },
        {("cloud_resource", "AWS::Kendra::Index.DocsIndex")},
        id="cfn-kendra",
    ),
    pytest.param(
        {
            "template.yaml": """\
Resources:
  Model:
    Type: AWS::SageMaker::Model
    Properties:
      ExecutionRoleArn: !GetAtt Role.Arn
      PrimaryContainer:
        Image: 763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-tgi-inference:2.1-tgi1.4
        Environment:
          HF_MODEL_ID: mistralai/Mistral-7B-Instruct-v0.2
  EndpointConfig:
    Type: AWS::SageMaker::EndpointConfig
    Properties:
      ProductionVariants:
        - ModelName: !GetAtt Model.ModelName
          VariantName: AllTraffic
          InitialInstanceCount: 1
          InstanceType: ml.g5.2xlarge
  Endpoint:
    Type: AWS::SageMaker::Endpoint
    Properties:
      EndpointConfigName: !GetAtt EndpointConfig.EndpointConfigName
""",
        },
        {
            ("cloud_resource", "AWS::SageMaker::Endpoint.Endpoint"),
            ("model", "mistralai/mistral-7b-instruct-v0.2"),
        },
        id="cfn-sagemaker-endpoint",
    ),
    pytest.param(
        {
            "template.yaml": """\
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Resources:
  ChatFunction:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handler
      Runtime: python3.12
      Policies:
        - Statement:
            - Effect: Allow
              Action: bedrock:InvokeModel
              Resource: !Sub arn:aws:bedrock:${AWS::Region}::foundation-model/anthropic.claude-v2:1
""",
        },
        {("model", "anthropic.claude-v2:1")},
        id="sam-iam-invoke",
    ),
    pytest.param(
        {
            "main.bicep": """\
param location string = resourceGroup().location

resource openAi 'Microsoft.CognitiveServices/accounts@2023-05-01' = {
  name: 'oai-${uniqueString(resourceGroup().id)}'
  location: location
  kind: 'OpenAI'
  sku: {
    name: 'S0'
  }
  properties: {
    publicNetworkAccess: 'Enabled'
  }
}

resource gpt 'Microsoft.CognitiveServices/accounts/deployments@2023-05-01' = {
  parent: openAi
  name: 'chat'
  sku: {
    name: 'Standard'
    capacity: 10
  }
  properties: {
    model: {
      format: 'OpenAI'
      name: 'gpt-4o'
      version: '2024-05-13'
    }
  }
}
""",
        },
        {("cloud_resource", "Microsoft.CognitiveServices/accounts.openAi"), ("model", "gpt-4o")},
        id="bicep-openai",
    ),
    pytest.param(
        {
            "main.bicep": """\
resource ws 'Microsoft.MachineLearningServices/workspaces@2024-04-01' existing = {
  name: 'ws'
}

resource endpoint 'Microsoft.MachineLearningServices/workspaces/onlineEndpoints@2024-04-01' = {
  parent: ws
  name: 'score'
  location: resourceGroup().location
  properties: {
    authMode: 'Key'
  }
}
""",
        },
        {("cloud_resource", "Microsoft.MachineLearningServices/workspaces/onlineEndpoints.endpoint")},
        id="bicep-ml-endpoint",
    ),
    pytest.param(
        {
            "main.bicep": """\
module account 'br/public:avm/res/cognitive-services/account:0.7.0' = {
  name: 'accountDeployment'
  params: {
    name: 'csaoai001'
    kind: 'OpenAI'
    deployments: [
      {
        name: 'gpt-35-turbo'
        model: {
          format: 'OpenAI'
          name: 'gpt-35-turbo'
          version: '0613'
        }
        sku: {
          name: 'Standard'
          capacity: 10
        }
      }
    ]
  }
}
""",
        },
        {("cloud_resource", "Microsoft.CognitiveServices/accounts.account"), ("model", "gpt-35-turbo")},
        id="bicep-avm",
    ),
    pytest.param(
        {
            "azuredeploy.json": """\
{
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "contentVersion": "1.0.0.0",
  "resources": [
    {
      "type": "Microsoft.CognitiveServices/accounts",
      "apiVersion": "2023-05-01",
      "name": "myopenai",
      "location": "eastus",
      "kind": "OpenAI",
      "sku": {"name": "S0"},
      "properties": {}
    },
    {
      "type": "Microsoft.CognitiveServices/accounts/deployments",
      "apiVersion": "2023-05-01",
      "name": "myopenai/gpt4o",
      "dependsOn": ["[resourceId('Microsoft.CognitiveServices/accounts', 'myopenai')]"],
      "sku": {"name": "Standard", "capacity": 10},
      "properties": {"model": {"format": "OpenAI", "name": "gpt-4o", "version": "2024-05-13"}}
    }
  ]
}
""",
        },
        {("cloud_resource", "Microsoft.CognitiveServices/accounts.myopenai"), ("model", "gpt-4o")},
        id="arm-openai",
    ),
    pytest.param(
        {
            "Pulumi.yaml": """\
name: agent
runtime: yaml
resources:
  agent:
    type: aws:bedrock:AgentAgent
    properties:
      agentName: my-agent
      agentResourceRoleArn: ${role.arn}
      foundationModel: anthropic.claude-v2
""",
        },
        {("cloud_resource", "aws:bedrock:AgentAgent.agent"), ("model", "anthropic.claude-v2")},
        id="pulumi-yaml-bedrock",
    ),
    pytest.param(
        {
            "package.json": """\
{"name":"x","dependencies":{"@pulumi/aws":"6.0.0"}}""",
            "index.ts": """\
import * as aws from "@pulumi/aws";

const agent = new aws.bedrock.AgentAgent("example", {
    agentName: "my-agent-name",
    agentResourceRoleArn: role.arn,
    foundationModel: "anthropic.claude-v2",
});
""",
        },
        {("cloud_resource", "aws:bedrock:AgentAgent.example"), ("model", "anthropic.claude-v2")},
        id="pulumi-ts-bedrock",
    ),
    pytest.param(
        {
            "requirements.txt": """\
pulumi
pulumi-azure-native
""",
            "__main__.py": """\
import pulumi_azure_native as azure_native

account = azure_native.cognitiveservices.Account("account",
    account_name="openai-acct",
    kind="OpenAI",
    resource_group_name=rg.name,
    sku={"name": "S0"})

deployment = azure_native.cognitiveservices.Deployment("deployment",
    account_name=account.name,
    deployment_name="gpt4o",
    properties={"model": {"format": "OpenAI", "name": "gpt-4o", "version": "2024-05-13"}},
    resource_group_name=rg.name)
""",
        },
        {("cloud_resource", "azure-native:cognitiveservices:Account.account"), ("model", "gpt-4o")},
        id="pulumi-py-azure-native",
    ),
    pytest.param(
        {
            "go.mod": """\
module x

go 1.22

require github.com/pulumi/pulumi-gcp/sdk/v8 v8.0.0
""",
            "main.go": """\
package main

import (
	"github.com/pulumi/pulumi-gcp/sdk/v8/go/gcp/vertex"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

func main() {
	pulumi.Run(func(ctx *pulumi.Context) error {
		_, err := vertex.NewAiEndpoint(ctx, "endpoint", &vertex.AiEndpointArgs{
			Name:        pulumi.String("endpoint-name"),
			DisplayName: pulumi.String("sample-endpoint"),
			Location:    pulumi.String("us-central1"),
		})
		return err
	})
}
""",
        },
        {("cloud_resource", "gcp:vertex:AiEndpoint.endpoint")},
        id="pulumi-go-gcp-vertex",
    ),
    pytest.param(
        {
            "package.json": """\
{"name":"x","dependencies":{"aws-cdk-lib":"2.150.0"}}""",
            "lib/stack.ts": """\
import * as bedrock from 'aws-cdk-lib/aws-bedrock';
import { Stack } from 'aws-cdk-lib';

export class AgentStack extends Stack {
  constructor(scope, id) {
    super(scope, id);
    new bedrock.CfnAgent(this, 'Agent', {
      agentName: 'support',
      foundationModel: 'anthropic.claude-3-haiku-20240307-v1:0',
      instruction: 'You are a helpful support agent for our store.',
    });
  }
}
""",
        },
        {
            ("cloud_resource", "AWS::Bedrock::Agent.Agent"),
            ("model", "anthropic.claude-3-haiku-20240307-v1:0"),
        },
        id="cdk-ts-bedrock",
    ),
    pytest.param(
        {
            "requirements.txt": """\
aws-cdk-lib
""",
            "stack.py": """\
from aws_cdk import Stack, aws_sagemaker as sagemaker


class InferenceStack(Stack):
    def __init__(self, scope, construct_id, **kwargs):
        super().__init__(scope, construct_id, **kwargs)
        sagemaker.CfnEndpoint(self, "Endpoint", endpoint_config_name="cfg")
""",
        },
        {("cloud_resource", "AWS::SageMaker::Endpoint.Endpoint")},
        id="cdk-py-sagemaker",
    ),
    pytest.param(
        {
            "package.json": """\
{"name":"x","dependencies":{"@cdklabs/generative-ai-cdk-constructs":"0.1.290"}}""",
            "lib/stack.ts": """\
import { bedrock } from '@cdklabs/generative-ai-cdk-constructs';

const agent = new bedrock.Agent(this, 'Agent', {
  foundationModel: bedrock.BedrockFoundationModel.ANTHROPIC_CLAUDE_HAIKU_V1_0,
  instruction: 'You are a helpful and friendly agent that answers questions about literature.',
});
""",
        },
        {("cloud_resource", "AWS::Bedrock::Agent.Agent")},
        id="cdk-genai-constructs",
    ),
    pytest.param(
        {
            "package.json": """\
{"name":"x","dependencies":{"@cdklabs/generative-ai-cdk-constructs":"0.1.290"}}""",
            "lib/stack.ts": """\
import * as genai from '@cdklabs/generative-ai-cdk-constructs';
import { bedrock as gen } from '@cdklabs/generative-ai-cdk-constructs';

const kb = new genai.bedrock.VectorKnowledgeBase(this, 'Docs', {
  embeddingsModel: genai.bedrock.BedrockFoundationModel.TITAN_EMBED_TEXT_V1,
});
const agent = new gen.Agent(this, 'Support', { instruction: 'Answer questions about orders.' });
const cache = new genai.helpers.Cache(this, 'Cache', {});
""",
        },
        {
            ("cloud_resource", "AWS::Bedrock::VectorKnowledgeBase.Docs"),
            ("cloud_resource", "AWS::Bedrock::Agent.Support"),
        },
        id="cdk-genai-constructs-library-and-renamed-module",
    ),
    pytest.param(
        {
            "requirements.txt": "aws-cdk-lib==2.150.0\ncdklabs.generative-ai-cdk-constructs==0.1.290\n",
            "stack.py": """\
from aws_cdk import Stack
from cdklabs import generative_ai_cdk_constructs as genai


class GuardStack(Stack):
    def __init__(self, scope, construct_id, **kwargs):
        super().__init__(scope, construct_id, **kwargs)
        genai.bedrock.Guardrail(self, "Guard", name="guard")
""",
        },
        {("cloud_resource", "AWS::Bedrock::Guardrail.Guard")},
        id="cdk-py-genai-constructs-library",
    ),
    pytest.param(
        {
            "isvc.yaml": """\
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: huggingface-llama3
spec:
  predictor:
    model:
      modelFormat:
        name: huggingface
      args:
        - --model_name=llama3
        - --model_id=meta-llama/meta-llama-3-8b-instruct
      resources:
        limits:
          nvidia.com/gpu: "1"
""",
        },
        {("model", "meta-llama/meta-llama-3-8b-instruct")},
        id="k8s-kserve",
    ),
    pytest.param(
        {
            "deploy.yaml": """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: vllm-server
spec:
  replicas: 1
  selector:
    matchLabels:
      app: vllm
  template:
    metadata:
      labels:
        app: vllm
    spec:
      containers:
        - name: vllm
          image: vllm/vllm-openai:latest
          command: ["/bin/sh", "-c"]
          args:
            - vllm serve mistralai/Mistral-7B-Instruct-v0.3 --trust-remote-code
          ports:
            - containerPort: 8000
""",
        },
        {("container", "vllm/vllm-openai"), ("model", "mistralai/mistral-7b-instruct-v0.3")},
        id="k8s-vllm-deploy",
    ),
    pytest.param(
        {
            "ollama.yaml": """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ollama
spec:
  template:
    spec:
      containers:
        - name: ollama
          image: ollama/ollama:0.3.12
          ports:
            - containerPort: 11434
""",
        },
        {("container", "ollama/ollama")},
        id="k8s-ollama",
    ),
    pytest.param(
        {
            "nim.yaml": """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: llama3-nim
spec:
  template:
    spec:
      containers:
        - name: nim
          image: nvcr.io/nim/meta/llama3-8b-instruct:1.0.0
""",
        },
        {("container", "nvcr.io/nim/meta/llama3-8b-instruct")},
        id="k8s-nim",
    ),
    pytest.param(
        {
            "tgi.yaml": """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: tgi
spec:
  template:
    spec:
      containers:
        - name: tgi
          image: ghcr.io/huggingface/text-generation-inference:2.2.0
          args: ["--model-id", "HuggingFaceH4/zephyr-7b-beta"]
""",
        },
        {
            ("container", "ghcr.io/huggingface/text-generation-inference"),
            ("model", "huggingfaceh4/zephyr-7b-beta"),
        },
        id="k8s-tgi",
    ),
    pytest.param(
        {
            "ray-service.yaml": """\
apiVersion: ray.io/v1
kind: RayService
metadata:
  name: llm-serve
spec:
  serveConfigV2: |
    applications:
      - name: llms
        import_path: ray.serve.llm:build_openai_app
        args:
          llm_configs:
            - model_loading_config:
                model_id: qwen-0.5b
                model_source: Qwen/Qwen2.5-0.5B-Instruct
  rayClusterConfig:
    headGroupSpec:
      rayStartParams: {}
      template:
        spec:
          containers:
            - name: ray-head
              image: rayproject/ray-llm:2.44.0-py311-cu124
""",
        },
        {("container", "rayproject/ray-llm"), ("model", "qwen/qwen2.5-0.5b-instruct")},
        id="k8s-rayservice",
    ),
    pytest.param(
        {
            "values.yaml": """\
ollama:
  gpu:
    enabled: true
    type: nvidia
  models:
    pull:
      - llama3.1
      - mistral
image:
  repository: ollama/ollama
  tag: 0.3.14
""",
        },
        {("container", "ollama/ollama"), ("model", "llama3.1")},
        id="helm-values-ollama",
    ),
    pytest.param(
        {
            "docker-compose.yml": """\
services:
  ollama:
    image: ollama/ollama:latest
    volumes:
      - ollama:/root/.ollama
  open-webui:
    image: ghcr.io/open-webui/open-webui:main
    ports:
      - "3000:8080"
volumes:
  ollama: {}
""",
        },
        {("container", "ollama/ollama"), ("container", "ghcr.io/open-webui/open-webui")},
        id="compose-ollama-webui",
    ),
    pytest.param(
        {
            "compose.yaml": """\
services:
  vllm:
    image: vllm/vllm-openai:v0.6.3
    command: --model Qwen/Qwen2.5-7B-Instruct --max-model-len 8192
    ports:
      - "8000:8000"
""",
        },
        {("container", "vllm/vllm-openai"), ("model", "qwen/qwen2.5-7b-instruct")},
        id="compose-vllm-cmd",
    ),
    pytest.param(
        {
            "docker-compose.yaml": """\
services:
  qdrant:
    image: qdrant/qdrant:v1.12.0
  weaviate:
    image: cr.weaviate.io/semitechnologies/weaviate:1.26.1
  milvus:
    image: milvusdb/milvus:v2.4.0
  chroma:
    image: chromadb/chroma:0.5.5
  pg:
    image: pgvector/pgvector:pg16
  litellm:
    image: ghcr.io/berriai/litellm:main-latest
  triton:
    image: nvcr.io/nvidia/tritonserver:24.08-py3
  localai:
    image: localai/localai:latest-aio-cpu
""",
        },
        {
            ("container", "qdrant/qdrant"),
            ("container", "cr.weaviate.io/semitechnologies/weaviate"),
            ("container", "milvusdb/milvus"),
            ("container", "chromadb/chroma"),
            ("container", "pgvector/pgvector"),
            ("container", "ghcr.io/berriai/litellm"),
            ("container", "nvcr.io/nvidia/tritonserver"),
            ("container", "localai/localai"),
        },
        id="compose-vectordbs",
    ),
    pytest.param(
        {
            "Dockerfile": """\
FROM ollama/ollama:0.3.0
RUN ollama serve & sleep 5 && ollama pull llama3.2
""",
        },
        {("container", "ollama/ollama"), ("model", "llama3.2")},
        id="dockerfile-ollama",
    ),
    pytest.param(
        {
            ".github/workflows/claude.yml": """\
name: Claude
on: [issue_comment]
jobs:
  claude:
    runs-on: ubuntu-latest
    steps:
      - uses: anthropics/claude-code-action@v1
        with:
          anthropic_api_key: ${{ secrets.ANTHROPIC_API_KEY }}
          claude_args: "--model claude-sonnet-4-20250514"
""",
        },
        {("workflow", "anthropics/claude-code-action"), ("model", "claude-sonnet-4-20250514")},
        id="gha-claude",
    ),
    pytest.param(
        {
            ".github/workflows/gemini.yml": """\
name: Gemini
on: [pull_request]
jobs:
  review:
    runs-on: ubuntu-latest
    steps:
      - uses: google-github-actions/run-gemini-cli@v0
        with:
          gemini_api_key: ${{ secrets.GEMINI_API_KEY }}
          gemini_model: gemini-2.5-pro
          prompt: Review this PR
""",
        },
        {("workflow", "google-github-actions/run-gemini-cli"), ("model", "gemini-2.5-pro")},
        id="gha-gemini",
    ),
    pytest.param(
        {
            ".github/workflows/codex.yml": """\
name: Codex
on: [pull_request]
jobs:
  codex:
    runs-on: ubuntu-latest
    steps:
      - uses: openai/codex-action@v1
        with:
          openai-api-key: ${{ secrets.OPENAI_API_KEY }}
          prompt: Review the change
          model: gpt-5-codex
""",
        },
        {("workflow", "openai/codex-action"), ("model", "gpt-5-codex")},
        id="gha-codex",
    ),
    pytest.param(
        {
            ".github/workflows/ai.yml": """\
name: AI
on: [issues]
permissions:
  models: read
jobs:
  summarize:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/ai-inference@v1
        with:
          model: openai/gpt-4o
          prompt: Summarize the issue
""",
        },
        {("workflow", "actions/ai-inference"), ("model", "gpt-4o")},
        id="gha-ai-inference",
    ),
    pytest.param(
        {
            "values.yaml": """\
servingEngineSpec:
  modelSpec:
  - name: "llama3"
    repository: "vllm/vllm-openai"
    tag: "latest"
    modelURL: "meta-llama/Llama-3.1-8B-Instruct"
    replicaCount: 1
    requestCPU: 6
    requestMemory: "16Gi"
    requestGPU: 1
""",
        },
        {("container", "vllm/vllm-openai"), ("model", "meta-llama/llama-3.1-8b-instruct")},
        id="helm-vllm-production-stack",
    ),
    pytest.param(
        {
            "model.yaml": """\
apiVersion: kubeai.org/v1
kind: Model
metadata:
  name: llama-3.1-8b-instruct-fp8-l4
spec:
  features: [TextGeneration]
  url: hf://neuralmagic/Meta-Llama-3.1-8B-Instruct-FP8
  engine: VLLM
  resourceProfile: nvidia-gpu-l4:1
""",
        },
        {("model", "neuralmagic/meta-llama-3.1-8b-instruct-fp8")},
        id="kubeai-model",
    ),
    pytest.param(
        {
            "nimservice.yaml": """\
apiVersion: apps.nvidia.com/v1alpha1
kind: NIMService
metadata:
  name: meta-llama3-8b-instruct
spec:
  image:
    repository: nvcr.io/nim/meta/llama3-8b-instruct
    tag: 1.0.3
    pullPolicy: IfNotPresent
  authSecret: ngc-api-secret
""",
        },
        {("container", "nvcr.io/nim/meta/llama3-8b-instruct")},
        id="nim-operator",
    ),
    pytest.param(
        {
            "isvc.yaml": """\
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: qwen-llm
spec:
  predictor:
    model:
      modelFormat:
        name: huggingface
      storageUri: hf://Qwen/Qwen2.5-7B-Instruct
""",
        },
        {("model", "qwen/qwen2.5-7b-instruct")},
        id="kserve-storageuri-hf",
    ),
    pytest.param(
        {
            "Dockerfile": """\
FROM vllm/vllm-openai:v0.6.4
ENV HF_HOME=/models
CMD ["--model", "microsoft/Phi-3-mini-4k-instruct", "--port", "8000"]
""",
        },
        {("container", "vllm/vllm-openai"), ("model", "microsoft/phi-3-mini-4k-instruct")},
        id="dockerfile-vllm-cmd",
    ),
    pytest.param(
        {
            "docker-compose.yml": """\
services:
  tgi:
    image: ghcr.io/huggingface/text-generation-inference:2.4.0
    command: --model-id google/gemma-2-2b-it
    shm_size: 1g
""",
        },
        {("container", "ghcr.io/huggingface/text-generation-inference"), ("model", "google/gemma-2-2b-it")},
        id="compose-tgi",
    ),
    pytest.param(
        {
            "docker-compose.yml": """\
services:
  ollama:
    image: ollama/ollama
    entrypoint: ["/bin/sh", "-c", "ollama serve & sleep 3 && ollama pull qwen2.5:7b && wait"]
""",
        },
        {("container", "ollama/ollama"), ("model", "qwen2.5:7b")},
        id="compose-ollama-entrypoint",
    ),
    pytest.param(
        {
            ".github/workflows/c.yml": """\
on: [push]
jobs:
  run:
    runs-on: ubuntu-latest
    steps:
      - uses: anthropics/claude-code-base-action@beta
        with:
          prompt: "Update the docs"
          anthropic_api_key: ${{ secrets.ANTHROPIC_API_KEY }}
          model: claude-opus-4-20250514
""",
        },
        {("workflow", "anthropics/claude-code-base-action"), ("model", "claude-opus-4-20250514")},
        id="gha-claude-base",
    ),
    pytest.param(
        {
            ".github/workflows/c.yml": """\
on: [push]
jobs:
  run:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/ai-inference@v2
        id: inference
        with:
          prompt-file: ./.github/prompts/summary.prompt.yml
          model: openai/gpt-4.1
""",
        },
        {("workflow", "actions/ai-inference"), ("model", "gpt-4.1")},
        id="gha-ai-inference-prompt-file",
    ),
    pytest.param(
        {
            ".github/workflows/c.yml": """\
on: [pull_request]
jobs:
  pr_agent_job:
    runs-on: ubuntu-latest
    steps:
      - name: PR Agent action step
        uses: qodo-ai/pr-agent@main
        env:
          OPENAI_KEY: ${{ secrets.OPENAI_KEY }}
          GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}
""",
        },
        {("workflow", "qodo-ai/pr-agent")},
        id="gha-pr-agent",
    ),
    pytest.param(
        {
            "requirements.txt": """\
aws-cdk-lib
""",
            "app_stack.py": """\
from aws_cdk import Stack
from aws_cdk import aws_bedrock as bedrock


class KbStack(Stack):
    def __init__(self, scope, construct_id, **kwargs):
        super().__init__(scope, construct_id, **kwargs)
        bedrock.CfnKnowledgeBase(
            self,
            "DocsKb",
            name="docs",
            role_arn="arn:aws:iam::123456789012:role/kb",
            knowledge_base_configuration=bedrock.CfnKnowledgeBase.KnowledgeBaseConfigurationProperty(
                type="VECTOR",
                vector_knowledge_base_configuration=bedrock.CfnKnowledgeBase.VectorKnowledgeBaseConfigurationProperty(
                    embedding_model_arn="arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-embed-text-v2:0"
                ),
            ),
        )
""",
        },
        {("cloud_resource", "AWS::Bedrock::KnowledgeBase.DocsKb"), ("model", "amazon.titan-embed-text-v2:0")},
        id="cdk-py-bedrock-kb",
    ),
    pytest.param(
        {
            "package.json": """\
{"name":"x","dependencies":{"aws-cdk-lib":"2.150.0"}}""",
            "lib/s.ts": """\
import { Stack } from 'aws-cdk-lib';
import { CfnEndpoint } from 'aws-cdk-lib/aws-sagemaker';

export class S extends Stack {
  constructor(scope: any, id: string) {
    super(scope, id);
    new CfnEndpoint(this, 'Endpoint', { endpointConfigName: 'cfg' });
  }
}
""",
        },
        {("cloud_resource", "AWS::SageMaker::Endpoint.Endpoint")},
        id="cdk-ts-named-import",
    ),
    pytest.param(
        {
            "Pulumi.yaml": """\
name: oai
runtime: yaml
resources:
  account:
    type: azure-native:cognitiveservices:Account
    properties:
      kind: OpenAI
      resourceGroupName: ${rg.name}
      sku:
        name: S0
""",
        },
        {("cloud_resource", "azure-native:cognitiveservices:Account.account")},
        id="pulumi-yaml-azure-native",
    ),
    pytest.param(
        {
            "main.tf": """\
resource "aws_sagemaker_model" "llm" {
  name               = "llm"
  execution_role_arn = aws_iam_role.sm.arn
  primary_container {
    image = "763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-tgi-inference:2.1-tgi1.4"
    environment = {
      HF_MODEL_ID = "meta-llama/Llama-2-7b-chat-hf"
      SM_NUM_GPUS = "1"
    }
  }
}
""",
        },
        {("cloud_resource", "aws_sagemaker_model.llm"), ("model", "meta-llama/llama-2-7b-chat-hf")},
        id="tf-sagemaker-hf-model",
    ),
    pytest.param(
        {
            "main.tf": """\
resource "google_vertex_ai_endpoint_with_model_garden_deployment" "deploy" {
  publisher_model_name = "publishers/google/models/paligemma@paligemma-224-float32"
  location             = "us-central1"
  model_config {
    accept_eula = true
  }
}
""",
        },
        {("cloud_resource", "google_vertex_ai_endpoint_with_model_garden_deployment.deploy")},
        id="tf-vertex-model-garden",
    ),
    pytest.param(
        {
            "main.tf": """\
resource "aws_bedrockagentcore_agent_runtime" "example" {
  agent_runtime_name = "example"
  role_arn           = aws_iam_role.example.arn
  agent_runtime_artifact {
    container_configuration {
      container_uri = "${aws_ecr_repository.example.repository_url}:latest"
    }
  }
  network_configuration {
    network_mode = "PUBLIC"
  }
}
""",
        },
        {("cloud_resource", "aws_bedrockagentcore_agent_runtime.example")},
        id="tf-aws-bedrock-agentcore",
    ),
    pytest.param(
        {
            "requirements.txt": """\
aws-cdk-lib
""",
            "stack.py": """\
from aws_cdk import Stack
from aws_cdk.aws_bedrock import (
    CfnGuardrail,
)


class GuardStack(Stack):
    def __init__(self, scope, construct_id, **kwargs):
        super().__init__(scope, construct_id, **kwargs)
        CfnGuardrail(self, "Guard", name="g", blocked_input_messaging="no", blocked_outputs_messaging="no")
""",
        },
        {("cloud_resource", "AWS::Bedrock::Guardrail.Guard")},
        id="cdk-py-named-import",
    ),
]


@pytest.mark.parametrize(("files", "expected"), FORMS)
def test_documented_iac_form_is_reported(tmp_path, files, expected):
    result = scan_tree(tmp_path, files)
    reported = {(c.type, c.name) for c in result.components}
    assert expected <= reported, sorted(reported)


def test_a_cdk_program_s_other_constructs_are_no_ai_resource(tmp_path):
    """Only the AI services' constructs are resources: an S3 bucket (L2 or L1) is not, nor aws-cdk-lib's
    ``bedrock.FoundationModel`` (a reference to a model, no construct of a resource)."""
    files = {
        "package.json": '{"name": "x", "dependencies": {"aws-cdk-lib": "2.150.0"}}',
        "lib/stack.ts": """\
import * as s3 from 'aws-cdk-lib/aws-s3';
import { CfnBucket } from 'aws-cdk-lib/aws-s3';
import * as bedrock from 'aws-cdk-lib/aws-bedrock';

new s3.Bucket(this, 'Data');
new CfnBucket(this, 'Raw');
const id = bedrock.FoundationModelIdentifier.ANTHROPIC_CLAUDE_V2;
const model = bedrock.FoundationModel.fromFoundationModelId(this, 'Model', id);
""",
    }
    result = scan_tree(tmp_path, files)
    assert not [c.name for c in result.components if c.type == "cloud_resource"]
