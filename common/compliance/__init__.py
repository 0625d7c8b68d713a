"""Compliance and policy engine: condition language, framework controls, custom rules and policies.

A plain library (no Flask, no Celery, no database): the API and the ``compliance``
worker pass it component dicts, the scan summary and relationships, and store
what it returns.
"""

from common.compliance.conditions import (
    ComponentTable,
    InvalidCondition,
    compile_condition,
    describe,
    evaluate,
    validate_condition,
)
from common.compliance.evaluator import evaluate_frameworks, framework_catalog, load_frameworks
from common.compliance.framework import Framework, FrameworkDataError
from common.compliance.metrics import summarize
from common.compliance.policies import (
    PolicyFileError,
    evaluate_policies,
    evaluate_policy,
    gate,
    load_policy_file,
    validate_policy,
    validate_policy_rules,
)

__all__ = [
    "ComponentTable",
    "Framework",
    "FrameworkDataError",
    "InvalidCondition",
    "PolicyFileError",
    "compile_condition",
    "describe",
    "evaluate",
    "evaluate_frameworks",
    "evaluate_policies",
    "evaluate_policy",
    "framework_catalog",
    "gate",
    "load_frameworks",
    "load_policy_file",
    "summarize",
    "validate_condition",
    "validate_policy",
    "validate_policy_rules",
]
