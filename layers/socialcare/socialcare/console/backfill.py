"""`socialcare console backfill`: completes the inbox rows of cases opened before the inbox index.

InboxByDepartment answers an inbox page from three copies written on a case when it opens: the first
characters of the opening message (`summary`), its `language` and the author's `followers`. Cases
opened by an earlier version lack them, so on a stack upgraded in place their rows show no language
or follower count (and read the opening message with an extra request) until they close. This pages
through each department's open cases on OpenByDepartment (a query per department, no table scan) and
writes only the copies a case lacks, each with a conditional UpdateItem: the write never creates a
case, never touches an erased one, and never replaces a value someone else wrote first, so running it
twice, or beside live traffic, is safe. Throttled requests are retried by botocore (standard mode, as
every client of the product has); what still fails is reported with the case id and the reason.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from botocore.exceptions import ClientError
from pydantic import ValidationError

from socialcare.errors import Exit
from socialcare.models import Case
from socialcare.store import Store, StoreError, case_key, from_item, mention_key, to_item

PAGE = 100  # cases per query page: one BatchGetItem (its limit: 100 keys) of their opening mentions
CONFLICT_ROUNDS = 3  # a case that keeps changing under the write is reported, not chased forever
LOST = "its opening mention is no longer stored (past its retention): its row keeps an empty summary"


@dataclass
class Failure:
    department: str
    case_id: str | None  # None: the department's listing itself stopped
    reason: str


@dataclass
class BackfillReport:
    departments: list[str]
    dry_run: bool = False
    scanned: int = 0  # open cases read from the index
    filled: int = 0  # cases this run completed (or would complete, with --dry-run)
    complete: int = 0  # cases that already had every copy they can have
    erased: int = 0  # erased people's cases: left as the erasure left them
    failed: list[Failure] = field(default_factory=list)

    def lines(self) -> list[str]:
        verb = "would fill" if self.dry_run else "filled"
        out = [f"failed {f.case_id or '(listing)'} ({f.department}): {f.reason}" for f in self.failed]
        out.append(
            f"{len(self.departments)} departments, {self.scanned:,} open cases: {verb} {self.filled:,}, "
            f"already complete {self.complete:,}, erased {self.erased:,}, failed {len(self.failed):,}"
        )
        return out


def _wanted(item: dict[str, Any], text: str | None) -> dict[str, Any]:
    """The copies the case lacks, as its opening writes them (Store.row_copies), the summary from the
    opening mention's `text` when there still is one. An author without a follower count has none to
    copy: such a case is complete without `followers`."""
    copies = Store.row_copies(Case.model_validate(item), text)
    return {k: v for k, v in copies.items() if k not in item}


class Backfill:
    def __init__(self, store: Store, *, dry_run: bool = False) -> None:
        self.store = store
        self.dry_run = dry_run

    def run(self, departments: list[str]) -> BackfillReport:
        report = BackfillReport(departments=list(departments), dry_run=self.dry_run)
        for department in departments:
            self._department(department, report)
        return report

    def _department(self, department: str, report: BackfillReport) -> None:
        kwargs: dict[str, Any] = {
            "TableName": self.store.table,
            "IndexName": "OpenByDepartment",
            "KeyConditionExpression": "GSI1PK = :pk",
            "ExpressionAttributeValues": {":pk": {"S": f"DEPT#{department}#OPEN"}},
            "Limit": PAGE,
        }
        read = 0
        while True:
            try:
                page = self.store.ddb.query(**kwargs)
            except ClientError as exc:
                report.failed.append(
                    Failure(department, None, f"listing stopped after {read} cases: {_reason(exc)}; run again")
                )
                return
            items = [from_item(i) for i in page.get("Items", [])]
            read += len(items)
            self._page(items, department, report)
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _page(self, items: list[dict[str, Any]], department: str, report: BackfillReport) -> None:
        report.scanned += len(items)
        live = [i for i in items if not i.get("erased_at")]
        report.erased += len(items) - len(live)
        texts, unread = self._texts([i["mention_key"] for i in live if "summary" not in i and i.get("mention_key")])
        for item in live:
            self._fill(item, texts, unread, department, report)

    def _texts(self, mention_keys: list[str]) -> tuple[dict[str, str], dict[str, str]]:
        """The opening mentions' text (one past its retention has none), and why any could not be read."""
        if not mention_keys:
            return {}, {}
        keys = list(dict.fromkeys(mention_keys))
        try:
            found, left = self.store.batch_get([mention_key(k) for k in keys], "PK, mention.#t", {"#t": "text"})
        except StoreError as exc:
            return {}, dict.fromkeys(keys, f"its opening mention could not be read ({exc}); run again")
        texts = {}
        for raw in found:
            data = from_item(raw)
            text = (data.get("mention") or {}).get("text")
            if text is not None:
                texts[data["PK"].removeprefix("MENTION#")] = str(text)
        unread = {
            from_item(k)["PK"].removeprefix("MENTION#"): "its opening mention stayed unprocessed "
            "(BatchGetItem throttled); run again"
            for k in left
        }
        return texts, unread

    def _fill(
        self,
        item: dict[str, Any],
        texts: dict[str, str],
        unread: dict[str, str],
        department: str,
        report: BackfillReport,
    ) -> None:
        case_id = str(item.get("id") or item.get("PK", "").removeprefix("CASE#"))
        mention = item.get("mention_key") or ""
        for _ in range(CONFLICT_ROUNDS):
            try:
                values = _wanted(item, texts.get(mention))
            except ValidationError as exc:
                report.failed.append(
                    Failure(department, case_id, f"the case item does not read as a case: {exc.errors()[0]['msg']}")
                )
                return
            lost = "summary" not in item and mention not in texts
            if not values and not lost:
                report.complete += 1
                return
            if values and not self.dry_run:
                try:
                    self._write(case_id, values)
                except ClientError as exc:
                    if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                        report.failed.append(Failure(department, case_id, _reason(exc)))
                        return
                    # Someone wrote the case first (a concurrent run, an erasure): decide again on what it holds.
                    try:
                        now = self._read(case_id)
                    except ClientError as again:
                        report.failed.append(Failure(department, case_id, _reason(again)))
                        return
                    if now is None:
                        report.failed.append(Failure(department, case_id, "the case no longer exists"))
                        return
                    if now.get("erased_at"):
                        report.erased += 1
                        return
                    item = now
                    continue
            if lost:
                done = f"; {' and '.join(values)} filled" if values and not self.dry_run else ""
                report.failed.append(Failure(department, case_id, unread.get(mention, LOST) + done))
            else:
                report.filled += 1
            return
        report.failed.append(
            Failure(department, case_id, f"the case kept changing ({CONFLICT_ROUNDS} tries); run again")
        )

    def _write(self, case_id: str, values: dict[str, Any]) -> None:
        """SET only the copies given, each only where it is still absent, on an existing case that
        was not erased. A failed condition raises ConditionalCheckFailedException; nothing is written."""
        names = {f"#c{i}": name for i, name in enumerate(values)}
        self.store.ddb.update_item(
            TableName=self.store.table,
            Key=case_key(case_id),
            UpdateExpression="SET " + ", ".join(f"#c{i} = :c{i}" for i in range(len(values))),
            ConditionExpression=" AND ".join(
                [
                    "attribute_exists(PK)",
                    "attribute_not_exists(#erased)",
                    *(f"attribute_not_exists(#c{i})" for i in range(len(values))),
                ]
            ),
            ExpressionAttributeNames={**names, "#erased": "erased_at"},
            ExpressionAttributeValues=to_item({f":c{i}": v for i, v in enumerate(values.values())}),
        )

    def _read(self, case_id: str) -> dict[str, Any] | None:
        got = self.store.ddb.get_item(TableName=self.store.table, Key=case_key(case_id), ConsistentRead=True)
        return from_item(got["Item"]) if got.get("Item") else None


def _reason(exc: ClientError) -> str:
    error = exc.response.get("Error", {})
    attempts = exc.response.get("ResponseMetadata", {}).get("RetryAttempts")
    tried = f" (after {attempts + 1} attempts)" if attempts else ""
    return f"{error.get('Code', '?')}: {error.get('Message', '')}{tried}".strip()


def _backfill(args: argparse.Namespace) -> int:
    from socialcare.agents.connect import describe, settings_from_outputs, target_from_args
    from socialcare.aws import CLIENT_CONFIG
    from socialcare.config import UnknownDepartmentError, load_config

    target = target_from_args(args)
    session = target.session()
    outputs, parameters = describe(target.client(session, "cloudformation"), target.stack_name, target.where)
    settings = settings_from_outputs(target.stack_name, outputs, parameters)
    deployed = settings.departments or load_config(settings.config_path).department_names
    unknown = [d for d in args.department or [] if d not in deployed]
    if unknown:
        raise UnknownDepartmentError(f"unknown department {unknown[0]!r}; the stack has: {', '.join(deployed)}")
    # The product's retry settings (botocore standard mode): throttled requests are retried with backoff.
    client = session.client("dynamodb", endpoint_url=target.endpoint_url, config=CLIENT_CONFIG)
    report = Backfill(Store(client, settings.table_name), dry_run=args.dry_run).run(args.department or deployed)
    if args.json:
        print(json.dumps(asdict(report), indent=2))
    else:
        print("\n".join(report.lines()))
    return Exit.FAILED if report.failed else Exit.OK


def register(commands: Any) -> None:
    from socialcare.agents.connect import add_target_arguments

    p = commands.add_parser(
        "backfill",
        help="once after upgrading: give open cases opened before the inbox index their inbox row's "
        "summary, language and followers",
        description=__doc__.splitlines()[0] if __doc__ else None,
    )
    add_target_arguments(p)
    p.add_argument(
        "--department",
        action="append",
        metavar="NAME",
        help="only this department (repeatable; default: every department the stack deployed)",
    )
    p.add_argument("--dry-run", action="store_true", help="count what would be filled; write nothing")
    p.add_argument("--json", action="store_true", help="print the counts and failures as one JSON document")
    p.set_defaults(func=_backfill)
