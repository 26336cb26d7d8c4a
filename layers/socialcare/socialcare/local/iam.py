"""AWS's permission rules, locally: each function's AWS calls are checked against its own role's
policies from the translated template, and an ungranted call fails as AccessDenied, as in AWS.

How: every botocore API call made while a function runs (lambda_adapter.current_function() names it)
passes through `check`, which maps the call to its IAM action and resource ARN(s) and evaluates the
role's statements (inline policies of the role and AWS::IAM::Policy resources attached to it, intrinsics
resolved to the deployed names): an explicit Deny wins, else an Allow whose Action and Resource patterns
match (and whose conditions hold) is needed.

What it does not cover (documented in docs/deploy.md):
- calls the services make on the role's behalf: KMS for SQS/SNS/DynamoDB encryption, X-Ray's daemon;
- the state machine's, API Gateway's and the scheduler's roles (their calls are made by moto or not at all);
- resource-based policies (key policies, queue and topic policies), permission boundaries, SCPs;
- condition keys other than the ones in _CONDITION_KEYS (an unknown key is treated as satisfied);
- which actions have resource types comes from this module's mapping, not from AWS's reference
  (task-token calls are evaluated against "*", as AWS does).
"""

from __future__ import annotations

import fnmatch
import logging
import re
import threading
from dataclasses import dataclass, field
from typing import Any

ACCOUNT = "123456789012"
_IAM_PREFIX = {"monitoring": "cloudwatch"}  # signing name -> IAM service prefix, where they differ
_QUERY_PROTOCOL = {"sqs", "sns", "cloudwatch", "monitoring"}


@dataclass
class Policies:
    """Resolved statements per function name, and the names needed to build ARNs."""

    region: str
    by_function: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    state_machines: list[str] = field(default_factory=list)
    secret_arns: dict[str, str] = field(default_factory=dict)  # secret name -> ARN (names carry no suffix)
    denied: list[tuple[str, str, str]] = field(default_factory=list)  # (function, action, resource)


_STATE: dict[str, Policies | None] = {"policies": None}
_LOCK = threading.Lock()


# ------------------------------------------------------------------ resolving the template
def _arn_of(res_type: str, physical: str, region: str) -> str:
    if res_type == "AWS::DynamoDB::Table":
        return f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/{physical}"
    if res_type == "AWS::SQS::Queue":
        return f"arn:aws:sqs:{region}:{ACCOUNT}:{physical.rsplit('/', 1)[-1]}"
    if res_type == "AWS::Events::EventBus":
        return f"arn:aws:events:{region}:{ACCOUNT}:event-bus/{physical.rsplit('/', 1)[-1]}"
    if res_type == "AWS::Lambda::Function":
        return f"arn:aws:lambda:{region}:{ACCOUNT}:function:{physical}"
    if res_type == "AWS::KMS::Key":
        return physical if physical.startswith("arn:") else f"arn:aws:kms:{region}:{ACCOUNT}:key/{physical}"
    return physical  # topics, state machines, secrets: their physical id is already the ARN


class Resolver:
    def __init__(
        self, cfn: dict[str, Any], physical: dict[str, str], params: dict[str, Any], region: str, stack: str
    ) -> None:
        self.cfn, self.physical, self.params, self.region, self.stack = cfn, physical, params, region, stack
        self.conditions = self._conditions()

    def _conditions(self) -> dict[str, bool]:
        out: dict[str, bool] = {}
        for name, expr in self.cfn.get("Conditions", {}).items():
            out[name] = bool(self._cond(expr, out))
        return out

    def _cond(self, expr: Any, known: dict[str, bool]) -> Any:
        if isinstance(expr, dict):
            ((fn, arg),) = expr.items()
            if fn == "Fn::Equals":
                return self.value(arg[0]) == self.value(arg[1])
            if fn == "Fn::Not":
                return not self._cond(arg[0], known)
            if fn == "Fn::And":
                return all(self._cond(a, known) for a in arg)
            if fn == "Fn::Or":
                return any(self._cond(a, known) for a in arg)
            if fn == "Condition":
                return known[arg]
        return expr

    def pseudo(self, name: str) -> str:
        return {
            "AWS::Region": self.region,
            "AWS::AccountId": ACCOUNT,
            "AWS::Partition": "aws",
            "AWS::StackName": self.stack,
            "AWS::URLSuffix": "amazonaws.com",
        }[name]

    def ref(self, name: str) -> Any:
        if name.startswith("AWS::"):
            return self.pseudo(name)
        if name in self.params:
            return self.params[name]
        res = self.cfn["Resources"].get(name, {})
        if name not in self.physical and res.get("Type") == "AWS::SecretsManager::Secret":
            # moto's CloudFormation creates no secrets: the ARN AWS would give (a 6-character suffix)
            secret = self.value(res["Properties"]["Name"])
            return f"arn:aws:secretsmanager:{self.region}:{ACCOUNT}:secret:{secret}-??????"
        return self.physical.get(name, name)

    def getatt(self, name: str, attr: str) -> str:
        res = self.cfn["Resources"][name]
        res_type = res["Type"]
        physical = self.physical.get(name, name)
        if res_type == "AWS::Events::EventBus":  # moto's physical id for a bus is not its name
            physical = str(self.value(res["Properties"]["Name"]))
        if attr == "Arn":
            return _arn_of(res_type, physical, self.region)
        if attr in {"QueueName", "TopicName", "Name"}:
            return physical.rsplit("/", 1)[-1].rsplit(":", 1)[-1]
        return physical

    def value(self, node: Any) -> Any:
        if isinstance(node, list):
            return [v for v in (self.value(x) for x in node) if v is not _NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) != 1:
            return {k: self.value(v) for k, v in node.items()}
        ((fn, arg),) = node.items()
        if fn == "Ref":
            return _NO_VALUE if arg == "AWS::NoValue" else self.ref(arg)
        if fn == "Fn::GetAtt":
            name, attr = arg if isinstance(arg, list) else arg.split(".", 1)
            return self.getatt(name, attr)
        if fn == "Fn::If":
            return self.value(arg[1] if self.conditions[arg[0]] else arg[2])
        if fn == "Fn::Sub":
            text, extra = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])

            def sub(m: re.Match[str]) -> str:
                key = m.group(1)
                if key in extra:
                    return str(self.value(extra[key]))
                if "." in key and not key.startswith("AWS::"):
                    return self.getatt(*key.split(".", 1))
                return str(self.ref(key))

            return re.sub(r"\$\{([^}!]+)\}", sub, text)
        if fn == "Fn::Join":
            return arg[0].join(str(v) for v in self.value(arg[1]))
        return {fn: self.value(arg)}


_NO_VALUE = object()


def statements_by_role(cfn: dict[str, Any], resolver: Resolver) -> dict[str, list[dict[str, Any]]]:
    """Role logical id -> resolved Allow/Deny statements (inline policies and attached AWS::IAM::Policy)."""
    out: dict[str, list[dict[str, Any]]] = {}
    resources = cfn["Resources"]
    for logical_id, res in resources.items():
        if res["Type"] == "AWS::IAM::Role":
            out.setdefault(logical_id, [])
            for policy in res["Properties"].get("Policies", []):
                out[logical_id] += policy["PolicyDocument"]["Statement"]
    for res in resources.values():
        if res["Type"] == "AWS::IAM::Policy" and resolver.conditions.get(res.get("Condition", ""), True):
            for role in res["Properties"]["Roles"]:
                if isinstance(role, dict) and "Ref" in role:
                    out.setdefault(role["Ref"], []).extend(res["Properties"]["PolicyDocument"]["Statement"])
    return {role: [resolver.value(st) for st in sts] for role, sts in out.items()}


def build(
    cfn: dict[str, Any],
    physical: dict[str, str],
    params: dict[str, Any],
    region: str,
    stack: str,
    functions: dict[str, str],
) -> Policies:
    """functions: logical id -> deployed function name."""
    resolver = Resolver(cfn, physical, params, region, stack)
    by_role = statements_by_role(cfn, resolver)
    policies = Policies(region=region)
    for logical_id, name in functions.items():
        role = cfn["Resources"][logical_id]["Properties"]["Role"]
        role_id = role["Fn::GetAtt"][0] if isinstance(role, dict) and "Fn::GetAtt" in role else str(role)
        policies.by_function[name] = by_role.get(role_id, [])
    policies.state_machines = [
        physical[k]
        for k, r in cfn["Resources"].items()
        if r["Type"] == "AWS::StepFunctions::StateMachine" and k in physical
    ]
    return policies


# ------------------------------------------------------------------ evaluating a call
def _as_list(x: Any) -> list[Any]:
    return x if isinstance(x, list) else [x]


def call_resources(service: str, operation: str, params: dict[str, Any], p: Policies) -> list[str]:
    """The resource ARN(s) IAM evaluates the call against ("*" for APIs without resource-level permissions)."""
    region = p.region
    if service == "dynamodb":
        tables = set()
        if "TableName" in params:
            suffix = f"/index/{params['IndexName']}" if params.get("IndexName") else ""
            tables.add(params["TableName"] + suffix)
        tables |= set(params.get("RequestItems", {}))
        for item in params.get("TransactItems", []):
            for op in item.values():
                tables.add(op.get("TableName", ""))
        return [f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/{t}" for t in sorted(tables) if t] or ["*"]
    if service == "sqs" and "QueueUrl" in params:
        return [f"arn:aws:sqs:{region}:{ACCOUNT}:{params['QueueUrl'].rstrip('/').rsplit('/', 1)[-1]}"]
    if service == "sns" and "TopicArn" in params:
        return [params["TopicArn"]]
    if service == "states":
        if "stateMachineArn" in params:
            return [params["stateMachineArn"]]
        if "executionArn" in params:
            base = params["executionArn"].replace(":execution:", ":stateMachine:").rsplit(":", 1)[0]
            return [base]
        return ["*"]  # task-token calls: IAM has no resource type for them, only "*" grants them
    if service == "events" and operation == "PutEvents":
        buses = {e.get("EventBusName", "default") for e in params.get("Entries", [])}
        return [b if b.startswith("arn:") else f"arn:aws:events:{region}:{ACCOUNT}:event-bus/{b}" for b in buses]
    if service == "secretsmanager" and "SecretId" in params:
        sid = params["SecretId"]
        return [
            sid
            if sid.startswith("arn:")
            else p.secret_arns.get(sid, f"arn:aws:secretsmanager:{region}:{ACCOUNT}:secret:{sid}-??????")
        ]
    if service == "ssm":
        names = [params["Name"]] if "Name" in params else params.get("Names", [])
        return [f"arn:aws:ssm:{region}:{ACCOUNT}:parameter/{n.lstrip('/')}" for n in names] or ["*"]
    if service == "lambda" and "FunctionName" in params:
        fn = params["FunctionName"]
        return [fn if fn.startswith("arn:") else f"arn:aws:lambda:{region}:{ACCOUNT}:function:{fn}"]
    return ["*"]


_CONDITION_KEYS = {"cloudwatch:namespace": lambda params: params.get("Namespace")}


def _conditions_hold(condition: dict[str, Any], params: dict[str, Any]) -> bool:
    for op, tests in condition.items():
        for key, expected in tests.items():
            getter = _CONDITION_KEYS.get(key)
            if getter is None:
                continue  # not modelled: treated as satisfied
            actual = getter(params)
            wanted = [str(e) for e in _as_list(expected)]
            if op == "StringEquals" and actual not in wanted:
                return False
            if op == "StringLike" and not any(fnmatch.fnmatchcase(str(actual), w) for w in wanted):
                return False
    return True


def _matches(st: dict[str, Any], action: str, resource: str, params: dict[str, Any]) -> bool:
    actions = [a.lower() for a in _as_list(st.get("Action", []))]
    if not any(fnmatch.fnmatchcase(action.lower(), a) for a in actions):
        return False
    if not any(r == "*" or fnmatch.fnmatchcase(resource, str(r)) for r in _as_list(st.get("Resource", []))):
        return False
    return _conditions_hold(st.get("Condition", {}), params)


def allowed(statements: list[dict[str, Any]], action: str, resource: str, params: dict[str, Any]) -> bool:
    if any(st.get("Effect") == "Deny" and _matches(st, action, resource, params) for st in statements):
        return False
    return any(st.get("Effect") == "Allow" and _matches(st, action, resource, params) for st in statements)


# ------------------------------------------------------------------ the hook
def _action(client: Any, operation: str) -> tuple[str, str]:
    model = client.meta.service_model
    signing = model.signing_name or model.endpoint_prefix
    return _IAM_PREFIX.get(signing, signing), f"{_IAM_PREFIX.get(signing, signing)}:{operation}"


# Batch and transaction APIs IAM authorises as the single-item action(s) they carry.
_SAME_AS = {
    "SendMessageBatch": "SendMessage",
    "DeleteMessageBatch": "DeleteMessage",
    "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
    "TransactGetItems": "GetItem",
}
_TRANSACT = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem"}


def checks(service: str, operation: str, params: dict[str, Any], p: Policies) -> list[tuple[str, str]]:
    """(IAM action, resource ARN) pairs the call needs."""
    if service == "dynamodb" and operation == "TransactWriteItems":
        out = []
        for item in params.get("TransactItems", []):
            for kind, op in item.items():
                table = f"arn:aws:dynamodb:{p.region}:{ACCOUNT}:table/{op.get('TableName', '')}"
                out.append((f"dynamodb:{_TRANSACT.get(kind, kind)}", table))
        return out
    if service == "dynamodb" and operation == "TransactGetItems":
        return [
            ("dynamodb:GetItem", f"arn:aws:dynamodb:{p.region}:{ACCOUNT}:table/{i['Get']['TableName']}")
            for i in params.get("TransactItems", [])
        ]
    action = f"{service}:{_SAME_AS.get(operation, operation)}"
    return [(action, r) for r in call_resources(service, operation, params, p)]


def check(client: Any, operation: str, params: dict[str, Any]) -> None:
    from socialcare.local.lambda_adapter import current_function

    policies = _STATE["policies"]
    function = current_function()
    if policies is None or function is None or function not in policies.by_function:
        return
    service, _ = _action(client, operation)
    if service in {"xray"}:
        return
    statements = policies.by_function[function]
    for action, resource in checks(service, operation, params, policies):
        if not allowed(statements, action, resource, params):
            from botocore.exceptions import ClientError

            policies.denied.append((function, action, resource))
            logging.getLogger(__name__).warning("AccessDenied: %s may not %s on %s", function, action, resource)
            code = "AccessDenied" if service in _QUERY_PROTOCOL else "AccessDeniedException"
            raise ClientError(
                {
                    "Error": {
                        "Code": code,
                        "Message": f"User: arn:aws:sts::{ACCOUNT}:assumed-role/{function}/local is"
                        f" not authorized to perform: {action} on resource: {resource} because no"
                        " identity-based policy allows the action",
                    },
                    "ResponseMetadata": {"HTTPStatusCode": 403},
                },
                operation,
            )


_PATCHED = {"done": False}


def install(policies: Policies) -> None:
    """Turns enforcement on for the functions of `policies` (once per process; later stacks replace it)."""
    with _LOCK:
        _STATE["policies"] = policies
        if _PATCHED["done"]:
            return
        from botocore.client import BaseClient

        original = BaseClient._make_api_call

        def _make_api_call(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
            check(self, operation_name, api_params)
            return original(self, operation_name, api_params)

        BaseClient._make_api_call = _make_api_call  # type: ignore[method-assign]
        _PATCHED["done"] = True


def uninstall() -> None:
    _STATE["policies"] = None


def current() -> Policies | None:
    return _STATE["policies"]
