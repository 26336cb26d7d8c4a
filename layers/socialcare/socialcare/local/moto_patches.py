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
   whose index key attributes match (index), and moto sorts just those. An index that projects some
   attributes (INCLUDE, KEYS_ONLY) hands moto its projected copies, kept until the item is written
   (as DynamoDB keeps an index): moto otherwise copies and sizes whole items, then projects them.
4. SQS ReceiveMessage and SendMessage: moto recomputes every queue attribute, counting all
   messages, for each message it returns or takes (to read one setting): O(n^2) on a deep queue.
   Here the retention period and content-based deduplication are read from the queue directly.
5. Step Functions service tasks: moto builds a new boto3 client for every task state it runs, and
   parses every JSONPath with a fresh yacc parser. One client per (region, service) and one parse
   per path serve them all (clients are thread-safe; parsed paths are immutable).
6. Step Functions task tokens: AWS refuses SendTaskSuccess for a task that has ended (TaskTimedOut
   after its timeout, TaskDoesNotExist once answered); moto keeps accepting the token and drops the
   outcome, which would hide an agent action sent to a wait that had just timed out. moto's own
   TaskTimedOut / TaskDoesNotExist / InvalidToken cannot even be raised (no message, no error type):
   they get both, so the caller sees an error code AWS sends (moto still answers TaskDoesNotExist
   where AWS would say TaskTimedOut; callers treat the two alike).
7. SQS queues under concurrent consumers: moto's delete rebuilds a queue's message list from the
   list as it was when the delete began, so two deletes at once (the SQS trigger's pollers settling
   their batches) put back messages the other had just deleted, to sit in flight and then be
   delivered again; and two receives at once can both take the same message. Each queue's messages
   are now taken, deleted and made visible again under the queue's own lock (the one moto's send
   already takes); a long poll waits outside it.
"""

from __future__ import annotations

import threading
from typing import Any

_TX_LOCK = threading.RLock()
# moto's own methods that a speed-only patch replaced: tests compare the two answers.
ORIGINALS: dict[str, Any] = {}
_PARSE_LOCK = threading.Lock()


def install() -> None:
    _serialise_dynamodb()
    _patch_transactions()
    _cache_asl_parser()
    _narrow_queries()
    _project_once()
    _plain_json_reads()
    _cheap_retention_check()
    _reuse_task_clients()
    _refuse_spent_tokens()
    _atomic_queues()


def _serialise_dynamodb() -> None:
    """moto's DynamoDB backend is not thread-safe (a query iterating an item while another thread
    updates it raises "dictionary changed size"). The local stack has many threads (each workflow
    execution, the agents, the pollers): one request at a time, as a real table would appear.
    The lock spans one request, never a sequence of the product's requests: a read and the
    conditional write after it still interleave with other writers as on DynamoDB. It cannot be
    narrower: moto's handler turns the backend's live Item objects into the response after the
    backend call returns, so the response building needs it too; and in one process under the GIL a
    request is pure CPU, so holding it for the whole request costs no parallelism."""
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
                        old = (
                            current.to_json()["Attributes"]
                            if current and op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD"
                            else None
                        )
                        errors.append(("ConditionalCheckFailed", "The conditional request failed", old))
                        continue
                errors.append((None, None, None))
                plan.append((op_type, op, key))
            if any(code is not None for code, _, _ in errors):
                raise TransactionCanceledException(errors)
            for op_type, op, key in plan:
                names, values = op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
                if op_type == "Put":
                    self.put_item(
                        op["TableName"],
                        op["Item"],
                        expression_attribute_names=names,
                        expression_attribute_values=values,
                    )
                elif op_type == "Delete":
                    self.delete_item(
                        op["TableName"], key, expression_attribute_names=names, expression_attribute_values=values
                    )
                elif op_type == "Update":
                    self.update_item(
                        op["TableName"],
                        key,
                        update_expression=op["UpdateExpression"],
                        expression_attribute_names=names,
                        expression_attribute_values=values,
                    )

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


def _project_once() -> None:
    """moto turns the whole item into JSON once per projected path (a 13-attribute projection of 1,000
    items: 13,000 conversions); the same projection from one conversion per item, or none when every
    path is a top-level name."""
    import copy

    from moto.dynamodb.models import dynamo_type

    if getattr(dynamo_type.Item, "_socialcare_project", False):
        return
    ORIGINALS["Item.project"] = dynamo_type.Item.project

    def project(self: Any, projection_expressions: list[list[str]]) -> Any:
        if all(len(path) == 1 for path in projection_expressions):
            # Top-level names only (an index's projection, most ProjectionExpressions): copy those values.
            projected = dynamo_type.Item(hash_key=self.hash_key, range_key=self.range_key, attrs={})
            dict.update(
                projected.attrs,
                {
                    path[0]: copy.deepcopy(self.attrs[path[0]])
                    for path in projection_expressions
                    if path[0] in self.attrs
                },
            )
            return projected
        whole = self.to_regular_json()
        result: dict[str, Any] = {}
        for expr in projection_expressions:
            dynamo_type.merge_dicts(result, copy.deepcopy(dynamo_type.find_nested_key(expr, whole)))
        projected = dynamo_type.Item(hash_key=self.hash_key, range_key=self.range_key, attrs={})
        # No larger than the item it comes from, which passed moto's 400 KB check when written: filled
        # without re-running that check per attribute (O(attributes) each), the same item.
        dict.update(
            projected.attrs,
            {k: dynamo_type.DynamoType(v) for k, v in dynamo_type.serializer.serialize(result)["M"].items()},
        )
        return projected

    dynamo_type.Item.project = project  # type: ignore[method-assign]
    dynamo_type.Item._socialcare_project = True  # type: ignore[attr-defined]


# Reads whose answer is already DynamoDB JSON: moto's generic, shape-walking serializer spends about
# 10 ms per item on them (a 1,000-case inbox: seconds; the chaos run's final table scans: minutes);
# json.dumps gives the same document.
_PLAIN_READS = frozenset({"Query", "GetItem", "BatchGetItem", "Scan"})


def _plain_json_reads() -> None:
    import json

    from moto.dynamodb.responses import DynamoHandler

    if getattr(DynamoHandler, "_socialcare_plain", False):
        return
    original = ORIGINALS["DynamoHandler.serialized"] = DynamoHandler.serialized

    def serialized(self: Any, action_result: Any) -> Any:
        result = action_result.result
        if self._get_action() in _PLAIN_READS and isinstance(result, dict):
            try:
                body = json.dumps(result, separators=(",", ":"))
            except TypeError:  # bytes or another non-JSON value: the generic serializer knows its shape
                return original(self, action_result)
            headers = {**self.response_headers, "Content-Type": "application/x-amz-json-1.0"}
            return 200, headers, body
        return original(self, action_result)

    DynamoHandler.serialized = serialized  # type: ignore[method-assign]
    DynamoHandler._socialcare_plain = True  # type: ignore[attr-defined]


_QUERY = threading.local()


def _narrow_queries() -> None:
    from moto.dynamodb.models.table import Table

    if getattr(Table, "_socialcare_narrow", False):
        return
    original_query, original_all_items, original_sorted = Table.query, Table.all_items, Table.sorted_items
    ORIGINALS["Table.all_items"], ORIGINALS["Table.sorted_items"] = original_all_items, original_sorted

    def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = kwargs.get("index_name", args[6] if len(args) > 6 else None)
        conditions = kwargs.get("hash_key_conditions") or []
        _QUERY.narrow = (index_name, hash_key, conditions)
        _QUERY.presorted = False
        try:
            return original_query(self, hash_key, *args, **kwargs)
        finally:
            _QUERY.narrow = None
            _QUERY.presorted = False

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
        attribute_index = _AttributeIndex.of(self)
        index = next((i for i in self.global_indexes if i.name == index_name), None)
        projecting = index is not None and (index.projection or {}).get("ProjectionType") in ("INCLUDE", "KEYS_ONLY")
        if projecting:
            cached = attribute_index.partitions.get((index_name, tuple(conditions)))
            if cached is not None:
                _QUERY.presorted = True
                return list(cached)
        keys: set[Any] | None = None
        for name, value in conditions:
            found = attribute_index.keys(name, value)
            keys = found if keys is None else keys & found
        items = [(key, r) for key, r in ((key, _lookup(self, key)) for key in keys or ()) if r is not None]
        if not projecting:
            return [item for _, item in items]
        # The partition as a projecting index holds it: projected copies in key order, kept until an
        # item of the index is written (as DynamoDB maintains an index). moto would otherwise copy and
        # size whole items, project them, and sort the partition comparing wrapped values in Python.
        order = [k["AttributeName"] for k in index.schema] + [self.hash_key_attr, self.range_key_attr]
        rows = [attribute_index.projected(index, key, item) for key, item in items]
        try:
            rows.sort(key=lambda i: tuple(i.attrs[k].cast_value for k in order if k))
        except (KeyError, TypeError):  # a key missing or of mixed types: moto's own sort decides
            return rows
        attribute_index.partitions[(index_name, tuple(conditions))] = rows
        _QUERY.presorted = True
        return list(rows)

    def sorted_items(self: Any, hash_attrs: Any, range_attrs: Any, items: list[Any]) -> list[Any]:
        if getattr(_QUERY, "presorted", False):  # all_items handed over a partition already in this order
            return items
        return original_sorted(self, hash_attrs, range_attrs, items)

    Table.query = query  # type: ignore[method-assign]
    Table.all_items = all_items  # type: ignore[method-assign]
    Table.sorted_items = sorted_items  # type: ignore[method-assign]
    Table._socialcare_narrow = True  # type: ignore[attr-defined]
    _track_writes()


def _lookup(table: Any, key: tuple[Any, Any]) -> Any:
    part = table.items.get(key[0])
    if part is None:
        return None
    return part.get(key[1]) if table.range_key_attr else part


class _AttributeIndex:
    """value -> item keys for the attributes that index queries name, kept per moto Table. Writes
    only mark their key dirty (see _track_writes); a query re-reads the dirty items first."""

    def __init__(self, table: Any) -> None:
        self.table = table
        self.by_attr: dict[str, dict[Any, set[tuple[Any, Any]]]] = {}
        self.values: dict[tuple[Any, Any], dict[str, Any]] = {}  # key -> its indexed attribute values
        self.dirty: set[tuple[Any, Any]] = set()
        # index name -> key -> the item as that index holds it (its projection), dropped when the item is written
        self.copies: dict[str, dict[tuple[Any, Any], Any]] = {}
        # (index name, key conditions) -> that partition's projected items in key order
        self.partitions: dict[tuple[Any, ...], list[Any]] = {}

    @classmethod
    def of(cls, table: Any) -> _AttributeIndex:
        index = table.__dict__.get("_socialcare_index")
        if index is None:
            index = table.__dict__["_socialcare_index"] = cls(table)
        return index

    def keys(self, name: str, value: Any) -> set[tuple[Any, Any]]:
        if name not in self.by_attr:
            self.by_attr[name] = {}
            for part in self.table.items.values():
                for item in part.values() if self.table.range_key_attr else [part]:
                    self._add(self._key(item), name, item.attrs.get(name))
        self._refresh()
        return set(self.by_attr[name].get(value, ()))

    def touch(self, key: tuple[Any, Any]) -> None:
        self.dirty.add(key)
        item = _lookup(self.table, key)
        for index in self.table.global_indexes:
            was = self.copies.get(index.name, {}).pop(key, None)
            parts = [p for p in self.partitions if p[0] == index.name]
            if not parts:
                continue
            is_in = item is not None and all(item.attrs.get(k["AttributeName"]) for k in index.schema)
            if was is not None or is_in:  # the item left, changed in or joined the index: its partitions go
                for part in parts:
                    del self.partitions[part]

    def projected(self, index: Any, key: tuple[Any, Any], item: Any) -> Any:
        """The item as a projecting index stores it: made once per write, as DynamoDB maintains an index."""
        copies = self.copies.setdefault(index.name, {})
        found = copies.get(key)
        if found is None:
            found = copies[key] = index.project(item)
        return found

    def _key(self, item: Any) -> tuple[Any, Any]:
        return (item.hash_key, item.range_key if self.table.range_key_attr else None)

    def _add(self, key: tuple[Any, Any], name: str, value: Any) -> None:
        if value is None:
            return
        self.by_attr[name].setdefault(value, set()).add(key)
        self.values.setdefault(key, {})[name] = value

    def _refresh(self) -> None:
        while self.dirty:
            key = self.dirty.pop()
            for name, old in self.values.pop(key, {}).items():
                self.by_attr[name].get(old, set()).discard(key)
            item = _lookup(self.table, key)
            if item is not None:
                for name in self.by_attr:
                    self._add(key, name, item.attrs.get(name))


def _track_writes() -> None:
    """Every item write of the backend (put, update, delete; batch and transaction writes go through
    them) marks its key for the attribute index of its table, if one exists yet."""
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.dynamo_type import DynamoType

    def tracking(method: Any, arg_name: str) -> Any:
        def wrapper(self: Any, table_name: str, *args: Any, **kwargs: Any) -> Any:
            try:
                return method(self, table_name, *args, **kwargs)
            finally:
                try:
                    table = self.get_table(table_name)  # a name or an ARN
                except Exception:  # noqa: BLE001 - no such table: the write itself has raised already
                    table = None
                index = table.__dict__.get("_socialcare_index") if table is not None else None
                attrs = args[0] if args else kwargs.get(arg_name)
                if index is not None and attrs:
                    hash_key = DynamoType(attrs[table.hash_key_attr])
                    range_key = DynamoType(attrs[table.range_key_attr]) if table.range_key_attr else None
                    index.touch((hash_key, range_key))

        return wrapper

    DynamoDBBackend.put_item = tracking(DynamoDBBackend.put_item, "item_attrs")  # type: ignore[method-assign]
    DynamoDBBackend.update_item = tracking(DynamoDBBackend.update_item, "key")  # type: ignore[method-assign]
    DynamoDBBackend.delete_item = tracking(DynamoDBBackend.delete_item, "key")  # type: ignore[method-assign]


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
    _cheap_send()


_SENDING = threading.local()


def _cheap_send() -> None:
    """While a message is sent, Queue.attributes (read for one flag) returns just that flag."""
    from moto.sqs.models import Queue, SQSBackend

    full = Queue.attributes

    def attributes(self: Any) -> dict[str, Any]:
        if getattr(_SENDING, "depth", 0):
            return {"ContentBasedDeduplication": str(bool(self.content_based_deduplication)).lower()}
        return full.fget(self)  # type: ignore[attr-defined]

    def sending(method: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            _SENDING.depth = getattr(_SENDING, "depth", 0) + 1
            try:
                return method(*args, **kwargs)
            finally:
                _SENDING.depth -= 1

        return wrapper

    Queue.attributes = property(attributes)  # type: ignore[method-assign,assignment]
    SQSBackend.send_message = sending(SQSBackend.send_message)  # type: ignore[method-assign]
    Queue.add_message = sending(Queue.add_message)  # type: ignore[method-assign]


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


def _refuse_spent_tokens() -> None:
    """When a task state ends, moto interrupts its callback endpoint; from then on the token is
    reported spent, as Step Functions answers: timed out if nothing answered it, gone otherwise."""
    from moto.stepfunctions.parser.asl.eval.callback import callback

    endpoint = callback.CallbackEndpoint
    if getattr(endpoint, "_socialcare_spent", False):
        return
    original = endpoint.interrupt_all

    def interrupt_all(self: Any) -> None:
        original(self)
        if self.consumer_error is None:
            answered = self.get_outcome() is not None
            self.report(callback.CallbackConsumerLeft() if answered else callback.CallbackConsumerTimeout())

    endpoint.interrupt_all = interrupt_all  # type: ignore[method-assign]
    endpoint._socialcare_spent = True  # type: ignore[attr-defined]
    _expire_on_state_timeout()
    _token_errors()


def _expire_on_state_timeout() -> None:
    """moto times a task state out in the state's own thread and leaves the task's callback wait to
    time out on its own clock, which starts later (after the Lambda invocation returned): in between
    moto would accept the spent token. At the state's timeout, the tokens its task created expire.
    (The case workflow has no Parallel or Map state, whose branches would share the pool.)"""
    from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import EvalTimeoutError
    from moto.stepfunctions.parser.asl.component.state.exec.execute_state import ExecutionState
    from moto.stepfunctions.parser.asl.eval.callback import callback

    original = ExecutionState._evaluate_with_timeout

    def _evaluate_with_timeout(self: Any, env: Any) -> None:
        pool = env.callback_pool_manager._pool
        before = set(pool)
        try:
            original(self, env)
        except EvalTimeoutError:
            for token in [t for t in list(pool) if t not in before]:
                spent = pool[token]
                if spent.consumer_error is None and spent.get_outcome() is None:
                    spent.report(callback.CallbackConsumerTimeout())
            raise

    ExecutionState._evaluate_with_timeout = _evaluate_with_timeout  # type: ignore[method-assign]


def _token_errors() -> None:
    from moto.core.exceptions import AWSError
    from moto.stepfunctions.parser import api

    messages = {
        "TaskTimedOut": "Task Timed Out",
        "TaskDoesNotExist": "Task Does Not Exist",
        "InvalidToken": "Invalid Token: 'Invalid token'",
    }
    for name, text in messages.items():

        def __init__(self: Any, message: str = text, *, _type: str = name) -> None:
            AWSError.__init__(self, message, exception_type=_type)

        getattr(api, name).__init__ = __init__


def _atomic_queues() -> None:
    """Receive, delete and visibility changes hold the queue's lock (see 7 above)."""
    from moto.core.utils import unix_time
    from moto.sqs.models import Queue, SQSBackend

    if getattr(SQSBackend, "_socialcare_atomic", False):
        return
    receive, delete, visibility = SQSBackend.receive_message, Queue.delete_message, SQSBackend.change_message_visibility

    def delete_message(self: Any, receipt_handle: str) -> None:
        with self._messages_lock:
            delete(self, receipt_handle)

    def change_message_visibility(self: Any, queue_name: str, receipt_handle: str, visibility_timeout: int) -> None:
        with self.get_queue(queue_name)._messages_lock:
            visibility(self, queue_name, receipt_handle, visibility_timeout)

    def receive_message(
        self: Any,
        queue_name: str,
        count: int,
        wait_seconds_timeout: int,
        visibility_timeout: int,
        message_attribute_names: list[str] | None = None,
    ) -> list[Any]:
        queue = self.get_queue(queue_name)
        end = unix_time() + wait_seconds_timeout
        while True:
            with queue._messages_lock:
                got = receive(self, queue_name, count, 0, visibility_timeout, message_attribute_names)
            left = end - unix_time()
            if got or left <= 0:
                return got
            queue.wait_for_messages(min(1.0, left))  # as moto's long poll waits, without the lock held

    Queue.delete_message = delete_message  # type: ignore[method-assign]
    SQSBackend.change_message_visibility = change_message_visibility  # type: ignore[method-assign]
    SQSBackend.receive_message = receive_message  # type: ignore[method-assign]
    SQSBackend._socialcare_atomic = True  # type: ignore[attr-defined]
