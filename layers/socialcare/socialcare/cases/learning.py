"""Learning routing from the people who work the cases, and promoting what was learned.

Labels come from the case history in the table:
  - a case transferred to another department belongs where it ended up (the agents moved it there);
  - a case resolved in a department belonged to that department, unless an agent marked it not
    actionable (closing noise says nothing about where it belonged);
  - an agent's "label" action (actionable or not) is an actionable label, counted and kept with the
    retrain record (routing learns from departments only).
Cases whose person was erased (``erased_at``) are left out, and so are cases whose opening mention
has expired or lost its text.

A stable slice of the cases (by a hash of the case id, so every retrain holds out the same ones and
no model was trained on them) is held out. The candidate is promoted only when it routes the held-out
cases better than the model in use; both figures are kept on a retrain record either way.

Where the promoted model lives (single table, store.py):
  MODEL#routing / CURRENT                 which version is in use, its figures and checksum
  MODEL#routing / BLOB#{version}#{n}      the artifact in chunks (an item holds at most 400 KB)
  MODEL#routing / RUN#{at}#{id}           one retrain: both figures, counts, promoted or not
The function that routes mentions reads CURRENT and the chunks on its first mention after a cold start.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from socialcare.errors import Exit, UserError
from socialcare.store import StoreError, from_item, mention_key, to_item

if TYPE_CHECKING:
    from collections.abc import Callable

    from socialcare.classify.learned import LearnedRouting
    from socialcare.config import BrandConfig
    from socialcare.store import Store

MODEL_PK = "MODEL#routing"
CURRENT_SK = "CURRENT"
# Binary bytes per chunk item: under DynamoDB's 400 KB item limit with room for the keys.
CHUNK_BYTES = 350_000
# How long a warm function routes with the learned model it holds before it reads the pointer again
# (LearnedRoutingSource): a promotion reaches it within this time, for one read per period.
REFRESH_S = 300.0
# One case in HOLDOUT_EVERY is held out of training (by a hash of its id).
HOLDOUT_EVERY = 5
# Fewer labels than this and a learned head is noise; the held-out slice needs enough to compare.
MIN_TRAIN = 40
MIN_HELD_OUT = 10


class NotEnoughLabelsError(UserError):
    """The case history has too few labelled cases to train or to judge a retrain."""

    exit_code = Exit.REFUSED


class LearnedModelError(Exception):
    """The promoted model in the table cannot be read back (missing chunk, checksum mismatch)."""


@dataclass
class CaseLabel:
    case_id: str
    text: str
    department: str | None
    actionable: bool | None
    held_out: bool
    source: str  # transfer | resolve | label


@dataclass
class TrainingSet:
    rows: list[CaseLabel] = field(default_factory=list)
    cases: int = 0
    erased: int = 0
    no_text: int = 0
    unlabelled: int = 0
    unknown_department: int = 0

    @property
    def department_rows(self) -> list[CaseLabel]:
        return [r for r in self.rows if r.department]

    def counts(self) -> dict[str, Any]:
        dept = self.department_rows
        return {
            "cases": self.cases,
            "department_labels": len(dept),
            "from_transfers": sum(r.source == "transfer" for r in dept),
            "from_resolutions": sum(r.source == "resolve" for r in dept),
            "actionable_labels": sum(r.actionable is not None for r in self.rows),
            "held_out": sum(r.held_out for r in dept),
            "erased_excluded": self.erased,
            "without_text": self.no_text,
            "unlabelled": self.unlabelled,
            "unknown_department": self.unknown_department,
        }


def held_out(case_id: str) -> bool:
    return int(hashlib.sha256(case_id.encode()).hexdigest()[:8], 16) % HOLDOUT_EVERY == 0


# ------------------------------------------------------------------------------------------ reading
def _scan_cases(store: Store) -> tuple[dict[str, dict], dict[str, list[dict]]]:
    """Every case item and its labelling events (transfers, resolutions, labels), one paged scan."""
    cases: dict[str, dict] = {}
    events: dict[str, list[dict]] = {}
    kwargs: dict[str, Any] = {
        "TableName": store.table,
        "FilterExpression": "begins_with(PK, :p) AND (SK = :case OR begins_with(SK, :ev))",
        "ExpressionAttributeValues": {":p": {"S": "CASE#"}, ":case": {"S": "CASE"}, ":ev": {"S": "EVENT#"}},
    }
    wanted = {"case.transferred", "case.resolved", "case.labelled"}
    while True:
        try:
            page = store.ddb.scan(**kwargs)
        except ClientError as exc:
            raise StoreError(str(exc)) from exc
        for raw in page.get("Items", []):
            item = from_item(raw)
            case_id = item["PK"].removeprefix("CASE#")
            if item["SK"] == "CASE":
                cases[case_id] = item
            elif item.get("type") in wanted:
                events.setdefault(case_id, []).append(item)
        if "LastEvaluatedKey" not in page:
            return cases, events
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _mentions(store: Store, keys: list[str]) -> dict[str, dict]:
    """The opening mentions by key. One still unread after the retries fails the retrain (busy):
    taken for a missing one, its case would be counted as without text and left out of training."""
    found = store.batch_get_all([mention_key(k) for k in keys], "PK, mention, erased_at")
    return {item["PK"].removeprefix("MENTION#"): item for item in map(from_item, found)}


def training_set(store: Store, config: BrandConfig) -> TrainingSet:
    """The labels the case history holds, erased people left out."""
    cases, events = _scan_cases(store)
    ts = TrainingSet(cases=len(cases))
    departments = set(config.department_names)
    live = {cid: c for cid, c in cases.items() if not c.get("erased_at")}
    ts.erased = len(cases) - len(live)
    mentions = _mentions(store, sorted({c["mention_key"] for c in live.values() if c.get("mention_key")}))
    for case_id in sorted(live):
        case = live[case_id]
        evs = sorted(events.get(case_id, []), key=lambda e: str(e.get("at", "")))
        transferred = any(e["type"] == "case.transferred" for e in evs)
        resolved = case.get("status") == "resolved" or any(e["type"] == "case.resolved" for e in evs)
        verdicts = [e for e in evs if e["type"] == "case.labelled" and "actionable" in (e.get("detail") or {})]
        actionable = bool(verdicts[-1]["detail"]["actionable"]) if verdicts else None
        # Closing a post an agent marked "not actionable" says nothing about where it belonged; a
        # transfer still does.
        routed = transferred or (resolved and actionable is not False)
        department = case.get("department") if routed else None
        if department is None and actionable is None:
            ts.unlabelled += 1
            continue
        if department is not None and department not in departments:
            ts.unknown_department += 1  # a department the configuration has since dropped
            department = None
            if actionable is None:
                continue
        mention = mentions.get(case.get("mention_key", ""))
        text = ((mention or {}).get("mention") or {}).get("text")
        if mention is not None and mention.get("erased_at"):
            ts.erased += 1
            continue
        if not isinstance(text, str) or not text.strip():
            ts.no_text += 1
            continue
        source = "transfer" if transferred else "resolve" if department else "label"
        ts.rows.append(CaseLabel(case_id, text, department, actionable, held_out(case_id), source))
    return ts


# ------------------------------------------------------------------------------------------ storage
def current_record(store: Store) -> dict[str, Any] | None:
    try:
        page = store.ddb.get_item(
            TableName=store.table, Key={"PK": {"S": MODEL_PK}, "SK": {"S": CURRENT_SK}}, ConsistentRead=True
        )
    except ClientError as exc:
        raise StoreError(str(exc)) from exc
    return from_item(page["Item"]) if "Item" in page else None


def read_model(store: Store, record: dict[str, Any]) -> bytes:
    version = record["version"]
    chunks: list[bytes] = []
    kwargs: dict[str, Any] = {
        "TableName": store.table,
        "KeyConditionExpression": "PK = :pk AND begins_with(SK, :sk)",
        "ExpressionAttributeValues": {":pk": {"S": MODEL_PK}, ":sk": {"S": f"BLOB#{version}#"}},
        "ConsistentRead": True,
    }
    while True:
        try:
            page = store.ddb.query(**kwargs)
        except ClientError as exc:
            raise StoreError(str(exc)) from exc
        chunks.extend(bytes(i["data"]["B"]) for i in page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    data = b"".join(chunks)
    if len(chunks) != int(record["chunks"]) or hashlib.sha256(data).hexdigest() != record["sha256"]:
        raise LearnedModelError(
            f"learned routing model {version}: {len(chunks)} of {record['chunks']} chunks, checksum does not match"
        )
    return data


def learned_routing(store: Store, config: BrandConfig) -> LearnedRouting | None:
    """The promoted learned head for this brand, or None when none was promoted (or it was trained
    for another set of departments: the configuration changed since, so routing stays on it)."""
    return _learned_from(store, config, current_record(store))


def _learned_from(store: Store, config: BrandConfig, record: dict[str, Any] | None) -> LearnedRouting | None:
    from socialcare.classify import ClassifierError
    from socialcare.classify.learned import load_learned

    if record is None:
        return None
    if sorted(record.get("departments") or []) != sorted(config.department_names):
        from socialcare.observability import logger

        logger.warning("learned routing model ignored: trained for other departments", version=record.get("version"))
        return None
    try:
        source = f"{MODEL_PK}/{record['version']}"
        return load_learned(read_model(store, record), config.department_names, source=source)
    except ClassifierError as exc:
        raise LearnedModelError(str(exc)) from exc


class LearnedRoutingSource:
    """The learned head a running function routes with, kept current after a promotion.

    The function reads the pointer on its first mention, then again at most every ``refresh_s``
    (one strongly consistent GetItem); the chunks are read only when the promoted version changed.
    A promotion (or a roll-back) therefore reaches every warm function within ``refresh_s``. A
    failure on the first read is raised (the mention is retried); a failure on a later refresh keeps
    the model already loaded and is retried after the next period: a damaged promotion never leaves a
    warm function without routing.
    """

    def __init__(
        self,
        store: Store,
        config: BrandConfig,
        refresh_s: float = REFRESH_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store, self._config = store, config
        self._refresh_s, self._clock = refresh_s, clock
        self._checked: float | None = None
        self._version: str | None = None
        self._learned: LearnedRouting | None = None

    def __call__(self) -> LearnedRouting | None:
        now = self._clock()
        if self._checked is not None and now - self._checked < self._refresh_s:
            return self._learned
        first = self._checked is None
        try:
            record = current_record(self._store)
            version = str(record["version"]) if record else None
            if first or version != self._version:
                self._learned = _learned_from(self._store, self._config, record)
                self._version = version
        except (StoreError, LearnedModelError) as exc:
            if first:
                raise
            from socialcare.observability import logger

            logger.error(
                "learned routing model not refreshed; the loaded one stays", version=self._version, error=str(exc)
            )
        self._checked = now
        return self._learned


def _promote(store: Store, blob: bytes, record: dict[str, Any], previous: dict[str, Any] | None) -> None:
    """Chunks first, then the CURRENT pointer, conditioned on nobody having promoted meanwhile."""
    version = record["version"]
    parts = [blob[i : i + CHUNK_BYTES] for i in range(0, len(blob), CHUNK_BYTES)] or [b""]
    for n, part in enumerate(parts):
        # Written as DynamoDB binary directly: to_item's JSON round trip is for JSON-shaped data.
        store.put({"PK": {"S": MODEL_PK}, "SK": {"S": f"BLOB#{version}#{n:04d}"}, "data": {"B": part}})
    item = to_item(
        {
            "PK": MODEL_PK,
            "SK": CURRENT_SK,
            **record,
            "chunks": len(parts),
            "sha256": hashlib.sha256(blob).hexdigest(),
            "size": len(blob),
            "previous": previous["version"] if previous else None,
        }
    )
    condition = "attribute_not_exists(PK)" if previous is None else "version = :v"
    kwargs: dict[str, Any] = {"TableName": store.table, "Item": item, "ConditionExpression": condition}
    if previous is not None:
        kwargs["ExpressionAttributeValues"] = {":v": {"S": previous["version"]}}
    try:
        store.ddb.put_item(**kwargs)
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
            raise RetrainRaceError("another retrain promoted a model meanwhile; run train --from-cases again") from exc
        raise StoreError(str(exc)) from exc
    # The model before the previous one goes; the previous one stays for a roll-back (and for
    # functions that read the old pointer a moment ago).
    if previous and previous.get("previous"):
        _delete_version(store, previous["previous"])


def _delete_version(store: Store, version: str) -> None:
    page = store.ddb.query(
        TableName=store.table,
        KeyConditionExpression="PK = :pk AND begins_with(SK, :sk)",
        ExpressionAttributeValues={":pk": {"S": MODEL_PK}, ":sk": {"S": f"BLOB#{version}#"}},
        ProjectionExpression="PK, SK",
    )
    for key in page.get("Items", []):
        store.ddb.delete_item(TableName=store.table, Key=key)


class RetrainRaceError(UserError):
    exit_code = Exit.BUSY


def retrain_runs(store: Store) -> list[dict[str, Any]]:
    page = store.ddb.query(
        TableName=store.table,
        KeyConditionExpression="PK = :pk AND begins_with(SK, :sk)",
        ExpressionAttributeValues={":pk": {"S": MODEL_PK}, ":sk": {"S": "RUN#"}},
    )
    return [from_item(i) for i in page.get("Items", [])]


# ------------------------------------------------------------------------------------------ retrain
@dataclass
class Figures:
    n: int
    accuracy: float
    macro_f1: float


@dataclass
class RetrainResult:
    promoted: bool
    reason: str
    current: Figures
    candidate: Figures
    current_version: str | None
    version: str
    counts: dict[str, Any]
    blend_weight: float
    model_bytes: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _figures(classifier: Any, rows: list[CaseLabel]) -> Figures:
    from socialcare.classify.metrics import report

    truth = [r.department or "" for r in rows]
    predicted = [classifier.classify(r.text).department.value for r in rows]
    rep = report("department", truth, predicted)
    return Figures(len(rows), round(rep.accuracy, 4), round(rep.macro_f1, 4))


def better(candidate: Figures, current: Figures) -> tuple[bool, str]:
    """Promotion rule: held-out accuracy rises and macro-F1 does not fall."""
    if candidate.accuracy > current.accuracy and candidate.macro_f1 >= current.macro_f1:
        return True, "held-out accuracy rose and macro-F1 did not fall"
    if candidate.accuracy <= current.accuracy:
        return False, "held-out accuracy did not rise"
    return False, "held-out macro-F1 fell"


def retrain(
    store: Store,
    config: BrandConfig,
    *,
    actor: str,
    dry_run: bool = False,
    now: datetime | None = None,
    training: TrainingSet | None = None,
) -> RetrainResult:
    """Train a learned department head from the case history, compare it with the routing in use on
    the held-out cases, promote it if it is better; the retrain record keeps both figures."""
    from socialcare.classify import ClassifierError
    from socialcare.classify.learned import fit_learned
    from socialcare.classify.trained import ModelClassifier

    if not config.classifier.model_path:
        raise UserError(
            f"brand {config.brand!r} has no classifier.model_path: learned routing needs the model back end"
        )
    ts = training if training is not None else training_set(store, config)
    counts = ts.counts()
    rows = ts.department_rows
    train_rows = [r for r in rows if not r.held_out]
    test_rows = [r for r in rows if r.held_out]
    if len(train_rows) < MIN_TRAIN or len(test_rows) < MIN_HELD_OUT:
        raise NotEnoughLabelsError(
            f"{len(rows)} cases carry a department label ({len(train_rows)} to train on, {len(test_rows)} held out); "
            f"a retrain needs at least {MIN_TRAIN} to train on and {MIN_HELD_OUT} held out "
            f"(about {(MIN_TRAIN + MIN_HELD_OUT) * HOLDOUT_EVERY // (HOLDOUT_EVERY - 1)} transferred or resolved cases)"
        )
    previous = current_record(store)
    current_learned = learned_routing(store, config) if previous else None
    current = ModelClassifier.from_path(config, config.classifier.model_path, lambda: current_learned)
    base = ModelClassifier.from_path(config, config.classifier.model_path)
    at = (now or datetime.now(UTC)).astimezone(UTC)
    version = f"{at.strftime('%Y%m%dT%H%M%SZ')}-{uuid.uuid4().hex[:6]}"
    meta = {
        "brand": config.brand,
        "version": version,
        "trained_on": "cases",
        "departments": sorted(config.department_names),
    }
    try:
        blob, chosen = fit_learned(
            [r.text for r in train_rows],
            [r.department or "" for r in train_rows],
            base.department_probabilities,
            meta=meta,
        )
    except ClassifierError as exc:
        raise NotEnoughLabelsError(str(exc)) from exc
    from socialcare.classify.learned import load_learned

    learned = load_learned(blob, config.department_names, source=version)
    candidate = ModelClassifier.from_path(config, config.classifier.model_path, lambda: learned)
    cur, cand = _figures(current, test_rows), _figures(candidate, test_rows)
    promote, reason = better(cand, cur)
    if dry_run:
        promote, reason = False, f"dry run ({reason})"
    record = {
        "version": version,
        "at": at.isoformat(),
        "by": actor,
        "brand": config.brand,
        "departments": sorted(config.department_names),
        "current": asdict(cur),
        "candidate": asdict(cand),
        "counts": counts,
        "blend_weight": chosen["weight"],
        "per_department_labels": dict(Counter(r.department for r in train_rows)),
    }
    if promote:
        _promote(store, blob, record, previous)
    store.put(
        to_item(
            {
                "PK": MODEL_PK,
                "SK": f"RUN#{at.isoformat()}#{version}",
                **record,
                "promoted": promote,
                "reason": reason,
                "current_version": previous["version"] if previous else None,
            }
        )
    )
    return RetrainResult(
        promote,
        reason,
        cur,
        cand,
        previous["version"] if previous else None,
        version,
        counts,
        chosen["weight"],
        len(blob),
    )
