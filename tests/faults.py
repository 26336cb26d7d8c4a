"""Faults DynamoDB makes and moto does not, answered on a client before the request reaches moto
(a botocore `before-send` hook registered first). Shared by the integration tests and the chaos run."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

from botocore.awsrequest import AWSResponse

# The reasons DynamoDB puts on a cancelled TransactWriteItems item (API reference:
# TransactionCanceledException, CancellationReason), other than "None" (the item was fine) and
# "ConditionalCheckFailed" (which moto produces itself from the real data).
CANCELLATION_CODES = (
    "TransactionConflict",
    "ProvisionedThroughputExceeded",
    "ThrottlingError",
    "RequestLimitExceeded",
    "ValidationError",
    "ItemCollectionSizeLimitExceeded",
)


# Where a refused request is pointed. botocore hands a request to every `before-send` hook, moto's
# included, and keeps the first answer: a request moto can still serve is carried out by moto although
# the caller sees the injected error. DynamoDB applies nothing of a refused request, so neither may moto.
REFUSED_URL = "https://fault-injected.invalid/"


def refuse(request: Any, error_type: str, body: dict[str, Any], status: int = 400) -> AWSResponse:
    """The answer to a request refused with ``error_type``; the request itself never reaches moto."""
    from moto.core.botocore_stubber import MockRawResponse

    request.url = REFUSED_URL
    headers = {"x-amzn-ErrorType": error_type, "Content-Type": "application/x-amz-json-1.0"}
    return AWSResponse(REFUSED_URL, status, headers, MockRawResponse(json.dumps(body)))


def throughput_exceeded(
    request: Any, message: str = "The level of configured provisioned throughput for the table was exceeded."
) -> AWSResponse:
    """A DynamoDB request refused as over the table's throughput, as DynamoDB answers it."""
    return refuse(
        request,
        "ProvisionedThroughputExceededException",
        {"__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException", "message": message},
    )


class TransactionCanceller:
    """Cancels TransactWriteItems calls the way DynamoDB does: one item carries `code`, the others
    "None". `pick(call_number, items)` says which code to use for a call (None: let it through)."""

    def __init__(self, pick: Callable[[int, list[dict[str, Any]]], str | None], counter: Counter | None = None) -> None:
        self.pick = pick
        self.calls = 0
        self.counter = counter if counter is not None else Counter()
        self._lock = threading.Lock()

    def install(self, client: Any) -> TransactionCanceller:
        client.meta.events.register_first("before-send.dynamodb", self)
        return self

    def __call__(self, request: Any, **kwargs: Any) -> AWSResponse | None:
        target = request.headers.get("X-Amz-Target", b"")
        if isinstance(target, bytes):
            target = target.decode()
        if not target.endswith(".TransactWriteItems"):
            return None
        items = json.loads(request.body)["TransactItems"]
        with self._lock:
            self.calls += 1
            code = self.pick(self.calls, items)
            if code is None:
                return None
            self.counter[f"transaction_cancelled_{code}"] += 1
        hit = self.calls % len(items)
        reasons = [{"Code": code, "Message": "injected"} if i == hit else {"Code": "None"} for i in range(len(items))]
        return refuse(
            request,
            "TransactionCanceledException",
            {
                "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
                "message": f"Transaction cancelled, please refer cancellation reasons for specific reasons [{code}]",
                "CancellationReasons": reasons,
            },
        )


def first_calls(n: int, code: str) -> Callable[[int, list[dict[str, Any]]], str | None]:
    """The first n transactions are cancelled with `code`; the rest go through."""
    return lambda call, items: code if call <= n else None


class PostCrash(Exception):  # noqa: N818 - a process dying, not an error the product raises
    """The sender died around a platform write: nothing after this point ran."""


class CrashingSession:
    """An HTTP session for the outbound writers that dies around POSTs: `after` lets the platform
    accept the post and dies before the answer is used (the post exists, nothing records it);
    `before` dies before the request leaves. `crash_on(n)` picks which POSTs die, n counted from 1
    per label (`label(url)` names the fault class, e.g. per platform); default the first."""

    def __init__(
        self,
        inner: Any = None,
        *,
        after: bool = True,
        crash_on: Callable[[int], bool] | None = None,
        counter: Counter | None = None,
        label: Callable[[str], str] = lambda url: "crash_between_post_and_record",
    ) -> None:
        import requests

        self.inner = inner or requests.Session()
        self.after = after
        self.crash_on = crash_on or (lambda n: n == 1)
        self.counter = counter if counter is not None else Counter()
        self.label = label
        self.posts: Counter = Counter()
        self._lock = threading.Lock()

    def post(self, url: str, *args: Any, **kwargs: Any) -> Any:
        label = self.label(url)
        with self._lock:
            self.posts[label] += 1
            crash = self.crash_on(self.posts[label])
        if crash and not self.after:
            raise PostCrash("the sender died before the request left")
        response = self.inner.post(url, *args, **kwargs)
        if crash and response.status_code < 300:
            self.counter[label] += 1
            raise PostCrash("the sender died after the platform accepted the post, before recording it")
        return response

    def get(self, *args: Any, **kwargs: Any) -> Any:
        return self.inner.get(*args, **kwargs)


class _HeldBack:
    """A batch call answered as DynamoDB answers it when throttled, which moto never does: the entries
    `leave(call_number, entries)` picks (per table, call numbers from 1) come back unprocessed and moto
    serves the others. `requests` keeps what each call asked for. A caller that keeps asking past
    `give_up_after` calls fails the test instead of spinning forever."""

    operation = ""
    unprocessed = ""  # the response field

    def __init__(self, leave: Callable[[int, list[Any]], list[Any]], give_up_after: int = 100) -> None:
        self.leave = leave
        self.give_up_after = give_up_after
        self.calls = 0
        self.left = 0
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def install(self, client: Any) -> Any:
        events = client.meta.events
        events.register_first(f"before-parameter-build.dynamodb.{self.operation}", self._hold)
        events.register_first(f"before-call.dynamodb.{self.operation}", self._nothing_left)
        events.register_first(f"after-call.dynamodb.{self.operation}", self._report)
        return self

    @staticmethod
    def _entries(spec: Any) -> list[Any]:
        return spec

    @staticmethod
    def _with(spec: Any, entries: list[Any]) -> Any:
        return entries

    def _hold(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        with self._lock:
            self.calls += 1
            call = self.calls
            self.requests.append(json.loads(json.dumps(params["RequestItems"])))
        if call > self.give_up_after:
            raise AssertionError(f"{self.operation} asked {call} times: the caller never stops on {self.unprocessed}")
        sent, held = {}, {}
        for table, spec in params["RequestItems"].items():
            entries = self._entries(spec)
            leave = self.leave(call, entries)
            kept = [e for e in entries if e not in leave]
            if kept:
                sent[table] = self._with(spec, kept)
            if leave:
                held[table] = self._with(spec, leave)
        with self._lock:
            self.left += sum(len(self._entries(v)) for v in held.values())
        context["held_back"] = held
        if sent:
            params["RequestItems"] = sent  # a new mapping: the caller's request is left as it was
        else:
            context["nothing_left"] = True

    def _nothing_left(self, context: dict[str, Any], **_: Any) -> tuple[Any, dict[str, Any]] | None:
        """Every entry held back: DynamoDB answers with nothing done (moto would refuse an empty request)."""
        if not context.get("nothing_left"):
            return None
        from moto.core.botocore_stubber import MockRawResponse

        http = AWSResponse(REFUSED_URL, 200, {}, MockRawResponse(b"{}"))
        return http, {self.unprocessed: {}, "ResponseMetadata": {"HTTPStatusCode": 200}}

    def _report(self, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        held = context.get("held_back")
        if held:
            parsed[self.unprocessed] = {**(parsed.get(self.unprocessed) or {}), **held}


class UnprocessedKeys(_HeldBack):
    """BatchGetItem's UnprocessedKeys (throttled, or past 16 MB of response): held-back keys come back
    with the request's projection and consistency."""

    operation = "BatchGetItem"
    unprocessed = "UnprocessedKeys"

    @staticmethod
    def _entries(spec: Any) -> list[Any]:
        return spec["Keys"]

    @staticmethod
    def _with(spec: Any, entries: list[Any]) -> Any:
        return {**spec, "Keys": entries}


class UnprocessedItems(_HeldBack):
    """BatchWriteItem's UnprocessedItems (throttled): held-back write requests are not written."""

    operation = "BatchWriteItem"
    unprocessed = "UnprocessedItems"


def leave_half_first(calls: int) -> Callable[[int, list[dict[str, Any]]], list[dict[str, Any]]]:
    """The first `calls` requests leave their second half of keys (at least one) unprocessed."""
    return lambda call, keys: keys[len(keys) // 2 :] if call <= calls else []


def leave_all(call: int, keys: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every key stays unprocessed: a table that stays throttled."""
    return list(keys)
