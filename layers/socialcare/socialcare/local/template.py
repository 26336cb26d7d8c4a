"""template.yaml, made deployable into moto: the same file AWS deploys, through the same SAM
transform (samtranslator). No second description of the resources."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class FunctionSpec:
    logical_id: str
    code_dir: Path
    handler: str
    schedules: list[dict[str, Any]] = field(default_factory=list)
    sqs_sources: list[str] = field(default_factory=list)  # logical ids of the queues that feed it
    env_keys: dict[str, str] = field(default_factory=dict)  # output-safe name -> variable name
    timeout_s: float = 3.0  # Lambda's default when neither the function nor Globals set Timeout


@dataclass
class LocalTemplate:
    cfn: dict[str, Any]
    functions: dict[str, FunctionSpec]
    state_machines: dict[str, dict[str, Any]]  # logical id -> {"definition": path, "substitutions": {...}}
    alarms: dict[str, dict[str, Any]] = field(default_factory=dict)


def load_sam(path: Path) -> dict[str, Any]:
    from samtranslator.yaml_helper import yaml_parse

    return yaml_parse(path.read_text(encoding="utf-8"))


def parameter_values(sam: dict[str, Any], overrides: dict[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, spec in sam.get("Parameters", {}).items():
        raw = overrides.get(name, spec.get("Default"))
        if spec.get("Type") == "CommaDelimitedList" and isinstance(raw, str):
            raw = [v.strip() for v in raw.split(",") if v.strip()]
        values[name] = raw
    return values


def prepare(root: Path, overrides: dict[str, str], bucket: str) -> LocalTemplate:
    sam = load_sam(root / "template.yaml")
    params = parameter_values(sam, overrides)
    sam = copy.deepcopy(sam)
    _without_console_edge(sam)

    functions: dict[str, FunctionSpec] = {}
    machines: dict[str, dict[str, Any]] = {}
    for logical_id, res in sam["Resources"].items():
        props = res.get("Properties", {})
        if res["Type"] == "AWS::Serverless::Function":
            spec = FunctionSpec(logical_id, root / props["CodeUri"], props["Handler"])
            spec.timeout_s = float(props.get("Timeout") or sam.get("Globals", {}).get("Function", {}).get("Timeout", 3))
            kept = {}
            for name, event in (props.get("Events") or {}).items():
                # Local stand-ins drive these: moto never fires schedules, and its SQS trigger needs Docker.
                if event["Type"] in {"Schedule", "ScheduleV2"}:
                    spec.schedules.append(event["Properties"])
                elif event["Type"] == "SQS":
                    spec.sqs_sources.append(event["Properties"]["Queue"]["Fn::GetAtt"][0])
                else:
                    kept[name] = event
            props["Events"] = kept
            props["CodeUri"] = f"s3://{bucket}/{logical_id}.zip"
            functions[logical_id] = spec
        elif res["Type"] == "AWS::Serverless::LayerVersion":
            props["ContentUri"] = f"s3://{bucket}/{logical_id}.zip"
        elif res["Type"] == "AWS::Serverless::StateMachine":
            machines[logical_id] = {
                "definition": root / props["DefinitionUri"],
                "substitutions": props.get("DefinitionSubstitutions", {}),
                "name": props.get("Name"),
            }
            props["DefinitionUri"] = f"s3://{bucket}/{logical_id}.json"
            props.pop("Logging", None)
            props.pop("DefinitionSubstitutions", None)

    # Substitution values and function environments resolved by moto itself, through outputs.
    outputs = sam.setdefault("Outputs", {})
    for logical_id, machine in machines.items():
        for key, expr in machine["substitutions"].items():
            outputs[f"LocalSub{logical_id}{key}"] = {"Value": expr}
    global_env = sam.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    for logical_id in functions:
        props = sam["Resources"][logical_id]["Properties"]
        env = {**global_env, **props.get("Environment", {}).get("Variables", {})}
        for var, expr in env.items():
            outputs[f"LocalEnv{logical_id}0{var.replace('_', '')}"] = {"Value": expr}
        functions[logical_id].env_keys = {var.replace("_", ""): var for var in env}

    # moto's CloudFormation lacks alarms: they are created through the API after the stack.
    alarms: dict[str, dict[str, Any]] = {}
    for logical_id, res in list(sam["Resources"].items()):
        if res["Type"] == "AWS::CloudWatch::Alarm":
            props = res["Properties"]
            alarms[logical_id] = props
            outputs[f"LocalAlarm{logical_id}0Name"] = {"Value": props["AlarmName"]}
            for i, dim in enumerate(props.get("Dimensions", [])):
                outputs[f"LocalAlarm{logical_id}0Dim{i}"] = {"Value": dim["Value"]}
            for j, metric in enumerate(props.get("Metrics", [])):
                for i, dim in enumerate(metric.get("MetricStat", {}).get("Metric", {}).get("Dimensions", [])):
                    outputs[f"LocalAlarm{logical_id}0M{j}Dim{i}"] = {"Value": dim["Value"]}
            for k, action in enumerate(props.get("AlarmActions", [])):
                outputs[f"LocalAlarm{logical_id}0Action{k}"] = {"Value": action}
            del sam["Resources"][logical_id]

    sam = _moto_compatible(sam, params)

    from samtranslator.translator.transform import transform

    class _NoManagedPolicies:
        def load(self) -> dict[str, str]:
            return {}

    cfn = _conditional_grants_chosen(transform(sam, params, _NoManagedPolicies()), params)
    return LocalTemplate(cfn=cfn, functions=functions, state_machines=machines, alarms=alarms)


# The console's sign-in and delivery edge in AWS (Cognito, CloudFront, the bucket, the JWT-authorised
# API): locally `socialcare local up` serves the files, signs people in and calls ConsoleApiFunction.
CONSOLE_EDGE_TYPES = {
    "AWS::Cognito::UserPool",
    "AWS::Cognito::UserPoolDomain",
    "AWS::Cognito::UserPoolClient",
    "AWS::Cognito::UserPoolGroup",
    "AWS::CloudFront::Distribution",
    "AWS::CloudFront::OriginAccessControl",
    "AWS::CloudFront::ResponseHeadersPolicy",
}
CONSOLE_EDGE_IDS = {"ConsoleBucket", "ConsoleBucketPolicy", "ConsoleHttpApi", "ConsoleApiAccessLogs"}


def _without_console_edge(sam: dict[str, Any]) -> None:
    resources = sam["Resources"]
    gone = {k for k, r in resources.items() if r["Type"] in CONSOLE_EDGE_TYPES or k in CONSOLE_EDGE_IDS}
    for logical_id in gone:
        del resources[logical_id]
    for res in resources.values():
        events = res.get("Properties", {}).get("Events") or {}
        for name, event in list(events.items()):
            if (event.get("Properties") or {}).get("ApiId") == {"Ref": "ConsoleHttpApi"}:
                del events[name]

    def names(node: Any) -> set[str]:
        if isinstance(node, dict):
            found = {node["Ref"]} if "Ref" in node else set()
            if "Fn::GetAtt" in node:
                att = node["Fn::GetAtt"]
                found.add(att[0] if isinstance(att, list) else str(att).split(".")[0])
            if "Fn::Sub" in node:
                sub = node["Fn::Sub"]
                text = sub if isinstance(sub, str) else sub[0]
                found |= {m.split(".")[0] for m in re.findall(r"\$\{([^}!]+)\}", text)}
            return found.union(*(names(v) for v in node.values()))
        if isinstance(node, list):
            return set().union(*(names(v) for v in node)) if node else set()
        return set()

    sam["Outputs"] = {k: v for k, v in sam.get("Outputs", {}).items() if not names(v) & gone}


def _moto_compatible(sam: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """Works around a moto CloudFormation gap without changing meaning: Ref to an event bus
    returns moto's object instead of the bus name."""
    bus_names = {
        logical_id: res["Properties"]["Name"]
        for logical_id, res in sam["Resources"].items()
        if res["Type"] == "AWS::Events::EventBus"
    }

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            if set(node) == {"Ref"} and node["Ref"] in bus_names:
                return walk(bus_names[node["Ref"]])
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(x) for x in node]
        return node

    return {k: (walk(v) if k in {"Resources", "Outputs", "Globals"} else v) for k, v in sam.items()}


def _conditional_grants_chosen(cfn: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """Works around a moto CloudFormation gap without changing meaning: it reads a role's Policies
    without resolving Fn::If (an AWS::NoValue branch crashes it), so each conditional grant is chosen
    here by the template's own conditions, as CloudFormation would."""
    from socialcare.local.iam import _NO_VALUE, Resolver

    resolver = Resolver(cfn, {}, params, "", "")
    for res in cfn["Resources"].values():
        if res["Type"] == "AWS::IAM::Role" and "Policies" in res["Properties"]:
            chosen = [resolver.value(p) if "Fn::If" in p else p for p in res["Properties"]["Policies"]]
            res["Properties"]["Policies"] = [p for p in chosen if p is not _NO_VALUE]
    return cfn
