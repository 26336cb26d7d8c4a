"""Fixes to moto (pinned at 5.2.5) that the local stack needs under concurrent load.

0. DynamoDB requests are serialised: moto's backend is not thread-safe.
1. DynamoDB TransactWriteItems: moto snapshots the whole table with deepcopy before each
   transaction (O(table size) per call) and, on a failed condition, puts the snapshot back, which
   discards writes other threads made meanwhile. Here conditions are checked first under a lock and
   the writes applied only when all pass: no snapshot, nothing of anyone else's lost.
2. Step Functions: moto parses the whole ASL definition with ANTLR on every execution start. The
   parsed program is an immutable evaluator (each execution's state lives in its Environment), so
   one parse per definition serves every execution.
3. DynamoDB Query: moto sorts the whole table (Python-level key comparisons) before filtering by
   the partition key, on the table and on every index: O(n log n) per query, which made the router
   slow down as a run's table grew. Here a query only looks at its partition (table) or at the items
   whose index key attributes match (index), and moto sorts just those.
4. SQS ReceiveMessage: moto recomputes every queue attribute, counting all messages, for each
   message it returns (to read the retention period): O(n^2) per batch on a deep queue. Here the
   retention period is read from the queue directly.
5. Step Functions service tasks: moto builds a new boto3 client for every task state it runs, and
   parses every JSONPath with a fresh yacc parser. One client per (region, service) and one parse
   per path serve them all (clients are thread-safe; parsed paths are immutable).
"""

from __future__ import annotations

import threading
from typing import Any

_TX_LOCK = threading.RLock()
_PARSE_LOCK = threading.Lock()


def install() -> None:
    _serialise_dynamodb()
    _patch_transactions()
    _cache_asl_parser()
    _narrow_queries()
    _cheap_retention_check()
    _reuse_task_clients()


def _serialise_dynamodb() -> None:
    """moto's DynamoDB backend is not thread-safe (a query iterating an item while another thread
    updates it raises "dictionary changed size"). The local stack has many threads (each workflow
    execution, the agents, the pollers): one request at a time, as a real table would appear."""
    from moto.dynamodb.responses import DynamoHandler

    if getattr(DynamoHandler, "_socialcare_serial", False):
        return
    original = DynamoHandler.call_action

    def call_action(self: Any) -> Any:
        with _TX_LOCK:
            return original(self)

    DynamoHandler.call_action = call_action  # type: ignore[method-assign]
    DynamoHandler._socialcare_serial = True  # type: ignore[attr-defined]


def _patch_transactions() -> None:
    from moto.dynamodb.exceptions import (
        ConditionalCheckFailed,
        MultipleTransactionsException,
        TooManyTransactionsException,
        TransactionCanceledException,
        TransactWriteSingleOpException,
    )
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models import get_filter_expression as condition

    if getattr(DynamoDBBackend, "_socialcare_tx", False):
        return

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        if len(transact_items) > 100:
            raise TooManyTransactionsException()
        with _TX_LOCK:
            seen: set[tuple[str, str]] = set()
            errors: list[tuple[Any, Any, Any]] = []
            plan: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
            for item in transact_items:
                if len(item) > 1:
                    raise TransactWriteSingleOpException
                op_type, op = next(iter(item.items()))
                table = self.get_table(op["TableName"])
                if op_type == "Put":
                    key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
                    if table.range_key_attr is not None:
                        key[table.range_key_attr] = op["Item"][table.range_key_attr]
                else:
                    key = op["Key"]
                marker = (op["TableName"], str(dict(sorted(key.items()))))
                if marker in seen:
                    raise MultipleTransactionsException()
                seen.add(marker)
                expr = op.get("ConditionExpression")
                if expr is not None:
                    current = self.get_item(op["TableName"], key)
                    check = condition(expr, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues"))
                    if not check.expr(current):
                        old = current.to_json()["Attributes"] if current and op.get(
                            "ReturnValuesOnConditionCheckFailure") == "ALL_OLD" else None
                        errors.append(("ConditionalCheckFailed", "The conditional request failed", old))
                        continue
                errors.append((None, None, None))
                plan.append((op_type, op, key))
            if any(code is not None for code, _, _ in errors):
                raise TransactionCanceledException(errors)
            for op_type, op, key in plan:
                names, values = op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
                if op_type == "Put":
                    self.put_item(op["TableName"], op["Item"], expression_attribute_names=names,
                                  expression_attribute_values=values)
                elif op_type == "Delete":
                    self.delete_item(op["TableName"], key, expression_attribute_names=names,
                                     expression_attribute_values=values)
                elif op_type == "Update":
                    self.update_item(op["TableName"], key, update_expression=op["UpdateExpression"],
                                     expression_attribute_names=names, expression_attribute_values=values)

    _ = ConditionalCheckFailed
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    DynamoDBBackend._socialcare_tx = True  # type: ignore[attr-defined]


def _cache_asl_parser() -> None:
    from moto.stepfunctions.parser.asl.parse import asl_parser

    parser_cls = asl_parser.AmazonStateLanguageParser
    if getattr(parser_cls, "_socialcare_cached", False):
        return
    original = parser_cls.parse
    cache: dict[str, Any] = {}

    def parse(definition: str) -> Any:
        with _PARSE_LOCK:
            if definition not in cache:
                cache[definition] = original(definition)
            return cache[definition]

    parser_cls.parse = staticmethod(parse)  # type: ignore[method-assign]
    parser_cls._socialcare_cached = True  # type: ignore[attr-defined]


_QUERY = threading.local()


def _narrow_queries() -> None:
    from moto.dynamodb.models.table import Table

    if getattr(Table, "_socialcare_narrow", False):
        return
    original_query, original_all_items = Table.query, Table.all_items

    def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = kwargs.get("index_name", args[6] if len(args) > 6 else None)
        conditions = kwargs.get("hash_key_conditions") or []
        _QUERY.narrow = (index_name, hash_key, conditions)
        try:
            return original_query(self, hash_key, *args, **kwargs)
        finally:
            _QUERY.narrow = None

    def all_items(self: Any) -> Any:
        narrow = getattr(_QUERY, "narrow", None)
        if narrow is None:
            return original_all_items(self)
        index_name, hash_key, conditions = narrow
        if not index_name:
            found = self.items.get(hash_key)
            if found is None:
                return []
            return list(found.values()) if self.range_key_attr else [found]
        if not conditions:
            return original_all_items(self)
        rows = (r for part in self.items.values() for r in (part.values() if self.range_key_attr else [part]))
        def matches(row: Any) -> bool:
            for name, value in conditions:
                found = row.attrs.get(name)
                if found is None or found != value:
                    return False
            return True

        return [r for r in rows if matches(r)]

    Table.query = query  # type: ignore[method-assign]
    Table.all_items = all_items  # type: ignore[method-assign]
    Table._socialcare_narrow = True  # type: ignore[attr-defined]


def _cheap_retention_check() -> None:
    from moto.core.utils import unix_time
    from moto.sqs.models import SQSBackend

    if getattr(SQSBackend, "_socialcare_retention", False):
        return

    def is_message_valid_based_on_retention_period(self: Any, queue_name: str, message: Any) -> bool:
        retention = int(self.get_queue(queue_name).message_retention_period)
        return retention + message.sent_timestamp / 1000 > unix_time()

    SQSBackend.is_message_valid_based_on_retention_period = is_message_valid_based_on_retention_period  # type: ignore[method-assign]
    SQSBackend._socialcare_retention = True  # type: ignore[attr-defined]


_TASK_CLIENT_MODULES = (
    "moto.stepfunctions.parser.asl.utils.boto_client",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sqs",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sns",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_events",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_dynamodb",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sfn",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_aws_sdk",
)


def _reuse_task_clients() -> None:
    import importlib

    from moto.stepfunctions.parser.asl.utils import boto_client, json_path

    if getattr(boto_client, "_socialcare_cached", False):
        return
    original = boto_client.boto_client_for
    clients: dict[tuple[str, str], Any] = {}
    lock = threading.Lock()

    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        # moto's own function ignores the credentials (every local client uses the same fake keys).
        with lock:
            if (region, service) not in clients:
                clients[(region, service)] = original(region, service)
            return clients[(region, service)]

    for name in _TASK_CLIENT_MODULES:
        module = importlib.import_module(name)
        if hasattr(module, "boto_client_for"):
            module.boto_client_for = boto_client_for  # type: ignore[attr-defined]
    parse, parsed = json_path.parse, {}

    def cached_parse(path: str) -> Any:
        with lock:
            if path not in parsed:
                parsed[path] = parse(path)
            return parsed[path]

    json_path.parse = cached_parse  # type: ignore[assignment]
    boto_client._socialcare_cached = True  # type: ignore[attr-defined]
