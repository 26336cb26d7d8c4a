"""The embedded local mode: template.yaml deployed into moto, handlers run in-process.

One process, no AWS account, no Docker. moto executes the real state machine; a small scheduler
stands in for EventBridge schedules and a pump for Lambda's SQS event source mappings.
"""

from __future__ import annotations

import io
import json
import os
import threading
import time
import uuid
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from socialcare.aws import settle_batch
from socialcare.local import lambda_adapter
from socialcare.local.template import LocalTemplate, prepare
from socialcare.settings import project_root

REGION = "us-east-1"
MOTO_CONFIG = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}


def _zip_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("placeholder.txt", "code runs in-process in the local mode")
    return buf.getvalue()


@dataclass
class PumpStats:
    received: int = 0
    failed: int = 0
    errors: int = 0  # invocations that failed as a whole (an unhandled error or a timeout)
    timeouts: int = 0  # of those, the ones stopped at the function's Timeout (Sandbox.Timedout)


@dataclass
class LocalStack:
    stack_name: str = "socialcare-local"
    parameters: dict[str, str] = field(default_factory=dict)
    root: Path = field(default_factory=project_root)
    outputs: dict[str, str] = field(default_factory=dict)
    functions: dict[str, lambda_adapter.LocalFunction] = field(default_factory=dict)
    template: LocalTemplate | None = None
    queue_urls: dict[str, str] = field(default_factory=dict)
    artifacts: Any = None  # socialcare.local.artifact.Artifacts: run what `sam build` produced instead
    enforce_iam: bool = True  # each function's AWS calls checked against its own role (socialcare.local.iam)

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=REGION)

    # -------------------------------------------------------------- deploy
    def deploy(self) -> dict[str, str]:
        lambda_adapter.install()
        bucket = f"{self.stack_name}-artifacts"
        tpl = prepare(self.root, self.parameters, bucket)
        self.template = tpl
        s3 = self.client("s3")
        s3.create_bucket(Bucket=bucket)
        code = _zip_bytes()
        for logical_id, res in tpl.cfn["Resources"].items():
            if res["Type"] in {"AWS::Lambda::Function", "AWS::Lambda::LayerVersion"}:
                s3.put_object(Bucket=bucket, Key=f"{logical_id}.zip", Body=code)
        for logical_id in tpl.state_machines:
            s3.put_object(
                Bucket=bucket,
                Key=f"{logical_id}.json",
                Body=b'{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}',
            )

        cfn = self.client("cloudformation")
        cfn.create_stack(
            StackName=self.stack_name,
            TemplateBody=json.dumps(tpl.cfn),
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in self.parameters.items()],
            Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
        )
        stack = cfn.describe_stacks(StackName=self.stack_name)["Stacks"][0]
        if stack["StackStatus"] != "CREATE_COMPLETE":
            raise RuntimeError(f"local stack failed: {stack['StackStatus']} {stack.get('StackStatusReason')}")
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        physical = {
            r["LogicalResourceId"]: r["PhysicalResourceId"]
            for r in cfn.list_stack_resources(StackName=self.stack_name)["StackResourceSummaries"]
        }
        self._recreate_state_machines(tpl, outputs, physical)
        self.outputs = {k: v for k, v in outputs.items() if not k.startswith("Local")}
        self._register_functions(tpl, physical, outputs)
        if self.enforce_iam:
            self._enforce_iam(tpl, physical)
        self._create_alarms(tpl, outputs)
        self.queue_urls = {
            logical_id: physical[logical_id]
            for logical_id, res in tpl.cfn["Resources"].items()
            if res["Type"] == "AWS::SQS::Queue"
        }
        return self.outputs

    def _recreate_state_machines(self, tpl: LocalTemplate, outputs: dict[str, str], physical: dict[str, str]) -> None:
        """moto's CloudFormation registers state machines where its executor cannot see them, and
        ignores DefinitionSubstitutions: create them again from the ASL file, substituted."""
        sfn = self.client("stepfunctions")
        for logical_id, machine in tpl.state_machines.items():
            definition = machine["definition"].read_text(encoding="utf-8")
            for key in machine["substitutions"]:
                definition = definition.replace("${" + key + "}", outputs[f"LocalSub{logical_id}{key}"])
            arn = physical[logical_id]
            name = arn.split(":")[-1]
            sfn.delete_state_machine(stateMachineArn=arn)
            created = sfn.create_state_machine(
                name=name, definition=definition, roleArn=f"arn:aws:iam::123456789012:role/{name}", type="STANDARD"
            )
            assert created["stateMachineArn"] == arn

    def _register_functions(self, tpl: LocalTemplate, physical: dict[str, str], outputs: dict[str, str]) -> None:
        for logical_id, spec in tpl.functions.items():
            name = physical[logical_id]
            env = {var: outputs[f"LocalEnv{logical_id}0{key}"] for key, var in spec.env_keys.items()}
            env.update(AWS_LAMBDA_FUNCTION_NAME=name, POWERTOOLS_TRACE_DISABLED="true", AWS_REGION=REGION)
            if self.artifacts is not None:
                fn = self.artifacts.function(logical_id, name, spec.handler, env, spec.timeout_s)
            else:
                fn = lambda_adapter.LocalFunction(
                    name=name,
                    code_dir=spec.code_dir,
                    handler=spec.handler,
                    environment=env,
                    timeout_s=spec.timeout_s,
                )
            lambda_adapter.register(fn)
            self.functions[logical_id] = fn

    def _enforce_iam(self, tpl: LocalTemplate, physical: dict[str, str]) -> None:
        from socialcare.local import iam
        from socialcare.local.template import load_sam, parameter_values

        params = parameter_values(load_sam(self.root / "template.yaml"), self.parameters)
        functions = {logical_id: fn.name for logical_id, fn in self.functions.items()}
        iam.install(iam.build(tpl.cfn, physical, params, REGION, self.stack_name, functions))

    def _create_alarms(self, tpl: LocalTemplate, outputs: dict[str, str]) -> None:
        cw = self.client("cloudwatch")
        for logical_id, props in tpl.alarms.items():
            prefix = f"LocalAlarm{logical_id}0"
            shape: dict[str, Any] = {}
            if "Metrics" in props:  # metric math: every MetricStat's dimensions resolved through outputs
                metrics = []
                for j, m in enumerate(props["Metrics"]):
                    entry = {k: v for k, v in m.items() if k != "MetricStat"}
                    if "MetricStat" in m:
                        stat = m["MetricStat"]
                        dims = [
                            {"Name": d["Name"], "Value": outputs[f"{prefix}M{j}Dim{i}"]}
                            for i, d in enumerate(stat["Metric"].get("Dimensions", []))
                        ]
                        entry["MetricStat"] = {
                            **stat,
                            "Period": int(stat["Period"]),
                            "Metric": {**stat["Metric"], "Dimensions": dims},
                        }
                    metrics.append(entry)
                shape["Metrics"] = metrics
            else:
                shape.update(
                    Namespace=props["Namespace"],
                    MetricName=props["MetricName"],
                    Statistic=props["Statistic"],
                    Period=int(props["Period"]),
                    Dimensions=[
                        {"Name": d["Name"], "Value": outputs[f"{prefix}Dim{i}"]}
                        for i, d in enumerate(props.get("Dimensions", []))
                    ],
                )
            cw.put_metric_alarm(
                AlarmName=outputs[f"{prefix}Name"],
                EvaluationPeriods=int(props["EvaluationPeriods"]),
                Threshold=float(props["Threshold"]),
                ComparisonOperator=props["ComparisonOperator"],
                TreatMissingData=props.get("TreatMissingData", "missing"),
                AlarmActions=[outputs[f"{prefix}Action{k}"] for k in range(len(props.get("AlarmActions", [])))],
                **shape,
            )

    def environment(self) -> dict[str, str]:
        """What a handler sees, for code (CLI, demo agents) acting on the stack from outside a Lambda."""
        fn = self.functions.get("RouteMentionFunction") or next(iter(self.functions.values()))
        return {k: v for k, v in fn.environment.items() if not k.startswith("AWS_LAMBDA")}

    # -------------------------------------------------------------- event sources
    def pump(self, function_id: str, *, max_batches: int = 1000, batch_size: int = 10) -> PumpStats:
        """Lambda's SQS event source, in-process: receive, invoke, delete what succeeded, with as many
        pollers as the function may run at once. Failed records (and whole batches of a failed or
        timed-out invocation) stay and come back; after maxReceiveCount SQS moves them to the DLQ."""
        spec = self.template.functions[function_id] if self.template else None
        if spec is None:
            raise KeyError(function_id)
        sqs = self.client("sqs")
        stats = PumpStats()
        fn = self.functions[function_id]
        lock = threading.Lock()
        for queue_id in spec.sqs_sources:
            url = self.queue_urls[queue_id]
            arns = self.__dict__.setdefault("_queue_arns", {})  # an ARN never changes: ask once
            if url not in arns:
                arns[url] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
                    "QueueArn"
                ]
            arn = arns[url]
            batches = iter(range(max_batches))

            def poller(url: str = url, arn: str = arn, batches: Any = batches) -> None:
                while True:
                    with lock:
                        if next(batches, None) is None:
                            return
                    got = sqs.receive_message(
                        QueueUrl=url,
                        MaxNumberOfMessages=batch_size,
                        AttributeNames=["All"],
                        MessageAttributeNames=["All"],
                        # No override: Lambda's SQS trigger keeps the queue's own visibility timeout
                        # (template: above the function's Timeout), so a slow batch is never handed
                        # to a second poller while the first still runs it.
                    ).get("Messages", [])
                    if not got:
                        return
                    event = {"Records": [_sqs_record(m, arn) for m in got]}
                    errors = timeouts = 0
                    try:
                        result = fn.invoke(event) or {}
                        failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
                    except Exception as exc:  # noqa: BLE001 - a failed invocation (or timeout): the whole batch returns
                        errors = 1
                        timeouts = int(isinstance(exc, lambda_adapter.FunctionTimeoutError))
                        failed = {m["MessageId"] for m in got}
                    with lock:
                        stats.received += len(got)
                        stats.failed += len(failed)
                        stats.errors += errors
                        stats.timeouts += timeouts
                    settle_batch(sqs, url, got, failed)

            workers = [
                threading.Thread(target=poller, name=f"pump-{function_id}-{i}", daemon=True)
                for i in range(max(1, fn.concurrency))
            ]
            for w in workers:
                w.start()
            for w in workers:
                w.join()
        return stats

    def invoke(self, function_id: str, event: dict) -> Any:
        return self.functions[function_id].invoke(event)

    def scheduled_event(self, function_id: str, index: int = 0) -> dict[str, Any]:
        """The EventBridge Scheduler event the function's schedule would deliver (its Input)."""
        spec = self.template.functions[function_id] if self.template else None
        schedule = spec.schedules[index] if spec and spec.schedules else {}
        return json.loads(schedule.get("Input", "{}"))


def _sqs_record(message: dict[str, Any], arn: str) -> dict[str, Any]:
    attrs = message.get("Attributes", {})
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {
            "ApproximateReceiveCount": attrs.get("ApproximateReceiveCount", "1"),
            "SentTimestamp": attrs.get("SentTimestamp", str(int(time.time() * 1000))),
            "SenderId": attrs.get("SenderId", "local"),
            "ApproximateFirstReceiveTimestamp": attrs.get("ApproximateFirstReceiveTimestamp", "0"),
        },
        "messageAttributes": {
            k: {"stringValue": v.get("StringValue"), "dataType": v.get("DataType", "String")}
            for k, v in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": arn,
        "awsRegion": REGION,
    }


_FAKE_CREDS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}


@contextmanager
def local_stack(parameters: dict[str, str] | None = None, *, stack_name: str | None = None) -> Iterator[LocalStack]:
    """Deploys template.yaml into an in-process moto and points this process's clients at it."""
    from moto import mock_aws

    from socialcare import aws
    from socialcare.settings import get_settings

    saved = {k: os.environ.get(k) for k in [*_FAKE_CREDS, "AWS_ENDPOINT_URL"]}
    os.environ.update(_FAKE_CREDS)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    with mock_aws(config=MOTO_CONFIG):
        aws.reset_clients()
        stack = LocalStack(stack_name=stack_name or f"sc{uuid.uuid4().hex[:6]}", parameters=dict(parameters or {}))
        stack.deploy()
        env_saved = {k: os.environ.get(k) for k in stack.environment()}
        os.environ.update(stack.environment())
        get_settings.cache_clear()
        _reset_caches()
        try:
            yield stack
        finally:
            # Executions still waiting on timers outlive the stack: their late calls find no function
            # and no table, and moto would log each such failure at length.
            for fn in stack.functions.values():
                lambda_adapter.REGISTRY.pop(fn.name, None)
            import logging

            logging.getLogger("moto.stepfunctions").setLevel(logging.CRITICAL)
            for k, v in env_saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
            get_settings.cache_clear()
            _reset_caches()
            aws.reset_clients()
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def _reset_caches() -> None:
    from socialcare.assembly import reset_deps

    reset_deps()
