"""The stack's health read through AWS APIs only, as an operator's credentials see it: functions'
recent errors, sources and their secrets, queue and dead-letter depths, alarms wired to a topic that
can deliver, failed case workflows, and open cases whose inbox rows an upgrade left incomplete. Works
the same against `socialcare local up` and AWS."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

OK, WARN, FAIL = "OK", "WARN", "FAIL"
DAY = timedelta(days=1)


@dataclass(frozen=True)
class Check:
    verdict: str
    name: str
    detail: str

    def line(self) -> str:
        return f"{self.verdict:<4}  {self.name:<34}  {self.detail}"


class Doctor:
    def __init__(self, stack_name: str, client: Any, now: datetime | None = None) -> None:
        self.stack_name, self.client = stack_name, client  # client(service) -> a boto3 client
        self.now = now or datetime.now(UTC)
        self.resources: dict[str, list[dict[str, Any]]] = {}
        self.outputs: dict[str, str] = {}

    # -------------------------------------------------------------- the stack itself
    def stack(self) -> Check:
        cfn = self.client("cloudformation")
        stack = cfn.describe_stacks(StackName=self.stack_name)["Stacks"][0]
        paginator = cfn.get_paginator("list_stack_resources")
        for page in paginator.paginate(StackName=self.stack_name):
            for r in page["StackResourceSummaries"]:
                self.resources.setdefault(r["ResourceType"], []).append(r)
        self.outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        status = stack["StackStatus"]
        verdict = OK if status.endswith("_COMPLETE") and "ROLLBACK" not in status else FAIL
        count = sum(map(len, self.resources.values()))
        return Check(verdict, "stack", f"{self.stack_name}: {status}, {count} resources")

    def _physical(self, kind: str) -> list[str]:
        return [r["PhysicalResourceId"] for r in self.resources.get(kind, [])]

    # -------------------------------------------------------------- functions
    def functions(self) -> list[Check]:
        cw = self.client("cloudwatch")
        out = []
        for name in sorted(self._physical("AWS::Lambda::Function")):
            stats = cw.get_metric_statistics(
                Namespace="AWS/Lambda",
                MetricName="Errors",
                Dimensions=[{"Name": "FunctionName", "Value": name}],
                StartTime=self.now - DAY,
                EndTime=self.now + timedelta(minutes=1),
                Period=3600,
                Statistics=["Sum"],
            )["Datapoints"]
            errors = int(sum(p["Sum"] for p in stats))
            if errors:
                last = max(p["Timestamp"] for p in stats if p["Sum"])
                out.append(
                    Check(
                        FAIL,
                        f"function {_short(name, self.stack_name)}",
                        f"{errors} errors in the last 24 h, the latest in the hour from {last:%H:%M}",
                    )
                )
            else:
                out.append(Check(OK, f"function {_short(name, self.stack_name)}", "no errors in the last 24 h"))
        return out

    # -------------------------------------------------------------- sources
    def sources(self, sources: list[Any], cursor_state: Any) -> list[Check]:
        out = []
        for source in sources:
            label = f"source {source.id}"
            if not source.enabled:
                out.append(Check(OK, label, "disabled in the configuration"))
                continue
            if source.secret:
                missing = self._secret_missing(source.secret)
                if missing:
                    out.append(Check(FAIL, label, missing))
                    continue
            state = cursor_state(source.id)
            if state is not None and (state.disabled or not state.healthy):
                out.append(Check(FAIL, label, f"unhealthy: {state.unhealthy_reason or 'disabled'}"))
            else:
                out.append(Check(OK, label, "secret present" if source.secret else "public feed, no secret"))
        return out

    def _secret_missing(self, reference: str) -> str | None:
        store, _, name = reference.replace("{stack}", self.stack_name).partition(":")
        try:
            if store == "secretsmanager":
                self.client("secretsmanager").describe_secret(SecretId=name)
            else:
                self.client("ssm").describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [name]}])[
                    "Parameters"
                ][0]
        except (ClientError, IndexError) as exc:
            code = exc.response["Error"]["Code"] if isinstance(exc, ClientError) else "not found"
            return f"secret {store}:{name} is missing ({code})"
        return None

    # -------------------------------------------------------------- queues
    def queues(self) -> list[Check]:
        sqs = self.client("sqs")
        out = []
        for url in sorted(self._physical("AWS::SQS::Queue")):
            name = url.rstrip("/").rsplit("/", 1)[-1]
            attrs = sqs.get_queue_attributes(
                QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
            )["Attributes"]
            waiting = int(attrs.get("ApproximateNumberOfMessages", 0))
            in_flight = int(attrs.get("ApproximateNumberOfMessagesNotVisible", 0))
            if name.endswith("-dlq"):
                verdict = WARN if waiting else OK
                detail = f"{waiting} dead letters (socialcare dlq show)" if waiting else "empty"
            else:
                verdict, detail = OK, f"{waiting} waiting, {in_flight} in flight"
            out.append(Check(verdict, f"queue {_short(name, self.stack_name)}", detail))
        return out

    # -------------------------------------------------------------- alarms
    def alarms(self) -> list[Check]:
        cw, sns = self.client("cloudwatch"), self.client("sns")
        alarms = []
        for page in cw.get_paginator("describe_alarms").paginate(AlarmNamePrefix=f"{self.stack_name}-"):
            alarms += page["MetricAlarms"] + page.get("CompositeAlarms", [])
        out = []
        unwired = [a["AlarmName"] for a in alarms if not a.get("AlarmActions")]
        firing = [a["AlarmName"] for a in alarms if a.get("StateValue") == "ALARM"]
        out.append(
            Check(
                FAIL if unwired else OK,
                "alarms wired",
                f"{len(alarms)} alarms"
                + (f"; without an action: {', '.join(unwired)}" if unwired else ", every one notifies a topic"),
            )
        )
        out.append(Check(WARN if firing else OK, "alarms firing", ", ".join(firing) if firing else "none in ALARM"))
        for topic in sorted({t for a in alarms for t in a.get("AlarmActions", []) if ":sns:" in t}):
            out.append(self._topic(sns, topic))
        return out

    def _topic(self, sns: Any, arn: str) -> Check:
        label = f"topic {_short(arn.rsplit(':', 1)[-1], self.stack_name)}"
        try:
            attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
        except ClientError as exc:
            return Check(FAIL, label, f"cannot be read: {exc.response['Error']['Code']}")
        key = attrs.get("KmsMasterKeyId", "")
        if key.endswith("alias/aws/sns"):
            return Check(FAIL, label, "encrypted with alias/aws/sns: CloudWatch alarms cannot publish to it")
        subs = sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
        confirmed = [s for s in subs if s["SubscriptionArn"].startswith("arn:")]
        if not confirmed:
            pending = len(subs) - len(confirmed)
            return Check(
                WARN,
                label,
                "no confirmed subscription" + (f" ({pending} pending)" if pending else ": nobody is told (AlarmEmail)"),
            )
        return Check(OK, label, f"{len(confirmed)} confirmed subscription(s)")

    # -------------------------------------------------------------- the case workflow
    def workflows(self) -> list[Check]:
        sfn = self.client("stepfunctions")
        out = []
        for arn in self._physical("AWS::StepFunctions::StateMachine"):
            bad = 0
            for status in ("FAILED", "TIMED_OUT", "ABORTED"):
                for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=arn, statusFilter=status):
                    bad += sum(
                        1
                        for e in page["executions"]
                        if e["startDate"] >= self.now - DAY or (e.get("stopDate") and e["stopDate"] >= self.now - DAY)
                    )
            label = f"workflow {_short(arn.rsplit(':', 1)[-1], self.stack_name)}"
            out.append(
                Check(
                    FAIL if bad else OK,
                    label,
                    f"{bad} failed, timed out or aborted in the last 24 h"
                    if bad
                    else "no failed executions in the last 24 h",
                )
            )
        return out

    # -------------------------------------------------------------- the inbox index
    def inbox_rows(self) -> list[Check]:
        """Open cases opened before the inbox index carried their row's copies (a stack upgraded in
        place): `socialcare console backfill` gives them their summary, language and followers."""
        table = self.outputs.get("TableName")
        departments = [d.strip() for d in self.outputs.get("Departments", "").split(",") if d.strip()]
        if not table or not departments:
            return []
        ddb, lacking = self.client("dynamodb"), 0
        for department in departments:
            kwargs: dict[str, Any] = {
                "TableName": table,
                "IndexName": "OpenByDepartment",
                "KeyConditionExpression": "GSI1PK = :pk",
                "FilterExpression": "attribute_not_exists(erased_at) AND "
                "(attribute_not_exists(summary) OR attribute_not_exists(#lang))",
                "ExpressionAttributeNames": {"#lang": "language"},
                "ExpressionAttributeValues": {":pk": {"S": f"DEPT#{department}#OPEN"}},
                "Select": "COUNT",
            }
            while True:
                page = ddb.query(**kwargs)
                lacking += int(page.get("Count", 0))
                if "LastEvaluatedKey" not in page:
                    break
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        if lacking:
            return [
                Check(
                    WARN,
                    "inbox rows",
                    f"{lacking} open cases lack their inbox row's summary or language "
                    f"(opened before the inbox index): run `socialcare console backfill "
                    f"--stack {self.stack_name}`",
                )
            ]
        return [Check(OK, "inbox rows", "every open case carries its inbox row")]


def _short(name: str, stack: str) -> str:
    return name[len(stack) + 1 :] if name.startswith(stack + "-") else name


def run(
    stack_name: str,
    client: Any,
    sources: list[Any] | None = None,
    cursor_state: Any = None,
    now: datetime | None = None,
) -> list[Check]:
    """Every check in order; a check that cannot run says why instead of stopping the others."""
    doctor = Doctor(stack_name, client, now)
    try:
        checks = [doctor.stack()]
    except (ClientError, BotoCoreError) as exc:
        return [Check(FAIL, "stack", f"cannot read stack {stack_name!r}: {exc}")]
    steps = [
        doctor.functions,
        lambda: doctor.sources(sources or [], cursor_state or (lambda _id: None)),
        doctor.queues,
        doctor.alarms,
        doctor.workflows,
        doctor.inbox_rows,
    ]
    for step in steps:
        try:
            checks += step()
        except (ClientError, BotoCoreError) as exc:
            checks.append(Check(FAIL, getattr(step, "__name__", "check"), f"could not run: {exc}"))
    return checks
