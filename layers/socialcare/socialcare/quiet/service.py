"""Quiet periods, scheduled brand posts and held messages over the single table.

Keys:
  QUIET / PERIOD#{id}      a quiet period for a region (active until `until` or ended by an operator)
  POSTS / POST#{id}        a scheduled brand post: time, region, kind (promotional | service), status
  HELD  / MSG#{key}        an automatic acknowledgement held by a quiet period, until released or cancelled
During a quiet period promotional posts and automatic acknowledgements aimed at its region are held,
never dropped; service replies to customers always go out.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from socialcare.cases.deps import Deps
from socialcare.observability import logger, metrics
from socialcare.outbound.delivery import OutboundError
from socialcare.outbound.port import Outgoing, Sender, default_sender
from socialcare.quiet.guard import HELD_KINDS
from socialcare.store import NotFoundError, from_item, to_item

SOURCE = "socialcare.quiet"


class QuietError(Exception):
    """A quiet-period request that does not fit (unknown region, already ended, ...)."""


class QuietPeriod(BaseModel):
    id: str
    region: str
    reason: str
    started_at: datetime
    until: datetime
    started_by: str
    ended_at: datetime | None = None
    ended_by: str | None = None

    def active(self, now: datetime) -> bool:
        return self.ended_at is None and self.started_at <= now < self.until


class ScheduledPost(BaseModel):
    id: str
    at: datetime
    region: str | None = None
    kind: Literal["promotional", "service"] = "promotional"
    platform: str = "x"
    text: str = Field(min_length=1, max_length=4000)
    status: Literal["scheduled", "published", "held", "released", "cancelled"] = "scheduled"
    quiet_id: str | None = None
    delivery_id: str | None = None


@dataclass
class Quiet:
    deps: Deps
    delivery: Sender | None = None

    def __post_init__(self) -> None:
        self.delivery = self.delivery or default_sender(self.deps)

    @property
    def store(self) -> Any:
        return self.deps.store

    def _query(self, pk: str, prefix: str) -> list[dict[str, Any]]:
        kwargs: dict[str, Any] = {
            "TableName": self.store.table,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :p)",
            "ExpressionAttributeValues": {":pk": {"S": pk}, ":p": {"S": prefix}},
        }
        out: list[dict[str, Any]] = []
        while True:
            page = self.store.ddb.query(**kwargs)
            out += [from_item(i) for i in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                return out
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _set(self, pk: str, sk: str, fields: dict[str, Any], *, expect_status: str | None = None) -> bool:
        names = {f"#f{i}": k for i, k in enumerate(fields)}
        values = {f":v{i}": to_item({"v": v})["v"] for i, v in enumerate(fields.values())}
        kwargs: dict[str, Any] = {
            "TableName": self.store.table,
            "Key": {"PK": {"S": pk}, "SK": {"S": sk}},
            "UpdateExpression": "SET " + ", ".join(f"#f{i} = :v{i}" for i in range(len(fields))),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
            "ConditionExpression": "attribute_exists(PK)",
        }
        if expect_status:
            names["#st"] = "status"
            values[":expect"] = {"S": expect_status}
            kwargs["ConditionExpression"] += " AND #st = :expect"
        try:
            self.store.ddb.update_item(**kwargs)
        except self.store.ddb.exceptions.ConditionalCheckFailedException:
            return False
        return True

    # ------------------------------------------------------------------ quiet periods
    def start(self, region: str, until: datetime, reason: str, *, actor: str) -> QuietPeriod:
        known = {r.name for r in self.deps.config.regions}
        if region not in known:
            raise QuietError(f"unknown region {region!r}; configured: {sorted(known)}")
        now = self.deps.now()
        if until <= now:
            raise QuietError("a quiet period must end in the future")
        period = QuietPeriod(
            id="Q-" + uuid.uuid4().hex[:8].upper(),
            region=region,
            reason=reason,
            started_at=now,
            until=until,
            started_by=actor,
        )
        self.store.put(to_item({"PK": "QUIET", "SK": f"PERIOD#{period.id}", **period.model_dump(mode="json")}))
        self._emit("quiet.started", period.model_dump(mode="json"))
        metrics.add_metric(name="QuietPeriodsStarted", unit="Count", value=1)
        logger.info("quiet period started", quiet_id=period.id, region=region)
        return period

    def end(self, quiet_id: str, *, actor: str) -> QuietPeriod:
        period = self.get(quiet_id)
        if period.ended_at:
            raise QuietError(f"quiet period {quiet_id} already ended")
        self._set("QUIET", f"PERIOD#{quiet_id}", {"ended_at": self.deps.now().isoformat(), "ended_by": actor})
        self._emit("quiet.ended", {"id": quiet_id, "region": period.region, "held": len(self.held(quiet_id))})
        return self.get(quiet_id)

    def get(self, quiet_id: str) -> QuietPeriod:
        data = self.store.get({"PK": {"S": "QUIET"}, "SK": {"S": f"PERIOD#{quiet_id}"}})
        if data is None:
            raise NotFoundError(f"no quiet period {quiet_id!r}")
        return QuietPeriod.model_validate(data)

    def list(self, *, active_only: bool = False) -> list[QuietPeriod]:
        now = self.deps.now()
        periods = [QuietPeriod.model_validate(i) for i in self._query("QUIET", "PERIOD#")]
        return [p for p in periods if p.active(now)] if active_only else sorted(periods, key=lambda p: p.started_at)

    def holding(self, kind: str, region: str | None) -> QuietPeriod | None:
        """The active quiet period that holds a message of this kind aimed at this region, if any."""
        if kind not in HELD_KINDS or not region:
            return None
        for period in self.list(active_only=True):
            if self.deps.config.region_covers(period.region, region):
                return period
        return None

    # ------------------------------------------------------------------ sending through the guard
    def send_or_hold(self, message: Outgoing) -> tuple[str, str]:
        """("sent", delivery id) or ("held", quiet period id). The check outbound delivery calls."""
        period = self.holding(message.kind, message.region)
        if period is not None:
            item = {
                "PK": "HELD",
                "SK": f"MSG#{message.idempotency_key}",
                "status": "held",
                "quiet_id": period.id,
                "held_at": self.deps.now().isoformat(),
                **{k: v for k, v in message.__dict__.items() if v is not None},
            }
            self.store.put_new(to_item(item))
            metrics.add_metric(name="QuietHeldMessages", unit="Count", value=1)
            return "held", period.id
        assert self.delivery is not None
        return "sent", self.delivery.send(message)

    # ------------------------------------------------------------------ scheduled posts
    def schedule(
        self,
        at: datetime,
        text: str,
        *,
        region: str | None,
        kind: str = "promotional",
        platform: str = "x",
        post_id: str | None = None,
    ) -> ScheduledPost:
        post = ScheduledPost(
            id=post_id or "P-" + uuid.uuid4().hex[:8].upper(),
            at=at,
            region=region,
            kind=kind,  # type: ignore[arg-type]
            platform=platform,
            text=text,
        )
        self.store.put_new(to_item({"PK": "POSTS", "SK": f"POST#{post.id}", **post.model_dump(mode="json")}))
        return post

    def posts(self, status: str | None = None) -> list[ScheduledPost]:
        found = [ScheduledPost.model_validate(i) for i in self._query("POSTS", "POST#")]
        return sorted((p for p in found if status is None or p.status == status), key=lambda p: p.at)

    def publish_due(self) -> dict[str, int]:
        """The scheduled function: due posts go out, or are held if a quiet period covers them."""
        now = self.deps.now()
        counts = {"published": 0, "held": 0}
        for post in self.posts("scheduled"):
            if post.at > now:
                continue
            message = Outgoing(
                platform=post.platform,
                text=post.text,
                idempotency_key=f"post-{post.id}",
                kind=post.kind,
                region=post.region,
            )
            period = self.holding(post.kind, post.region)
            if period is not None:
                if self._set(
                    "POSTS", f"POST#{post.id}", {"status": "held", "quiet_id": period.id}, expect_status="scheduled"
                ):
                    counts["held"] += 1
                    metrics.add_metric(name="QuietHeldPosts", unit="Count", value=1)
                continue
            assert self.delivery is not None
            try:
                delivery_id = self.delivery.send(message)
            except OutboundError as exc:  # an earlier attempt may be in flight: the next run settles it
                logger.warning("scheduled post left for the next run", post_id=post.id, error=str(exc))
                counts["retry_later"] = counts.get("retry_later", 0) + 1
                continue
            if self._set(
                "POSTS",
                f"POST#{post.id}",
                {"status": "published", "delivery_id": delivery_id},
                expect_status="scheduled",
            ):
                counts["published"] += 1
        return counts

    # ------------------------------------------------------------------ held: list, release, cancel
    def held(self, quiet_id: str | None = None) -> list[dict[str, Any]]:
        posts = [{"type": "post", **p.model_dump(mode="json")} for p in self.posts("held")]
        messages = [{"type": "message", **m} for m in self._query("HELD", "MSG#") if m.get("status") == "held"]
        out = posts + messages
        return [h for h in out if quiet_id is None or h.get("quiet_id") == quiet_id]

    def release(self, ids: list[str] | None = None, *, quiet_id: str | None = None, actor: str) -> int:
        """Sends held items now (the operator decided it is appropriate again)."""
        return self._settle(ids, quiet_id, release=True, actor=actor)

    def cancel(self, ids: list[str] | None = None, *, quiet_id: str | None = None, actor: str) -> int:
        return self._settle(ids, quiet_id, release=False, actor=actor)

    def _settle(self, ids: list[str] | None, quiet_id: str | None, *, release: bool, actor: str) -> int:
        assert self.delivery is not None
        done = 0
        for h in self.held(quiet_id):
            ident = h["id"] if h["type"] == "post" else h["idempotency_key"]
            if ids is not None and ident not in ids:
                continue
            pk, sk = ("POSTS", f"POST#{h['id']}") if h["type"] == "post" else ("HELD", h["SK"])
            status = "released" if release else "cancelled"
            if not self._set(pk, sk, {"status": status, "settled_by": actor}, expect_status="held"):
                continue
            if release:
                if h["type"] == "post":
                    message = Outgoing(
                        platform=h["platform"],
                        text=h["text"],
                        idempotency_key=f"post-{h['id']}",
                        kind=h["kind"],
                        region=h.get("region"),
                    )
                else:
                    # Released by a person: a new key and kind, so the hold does not apply again.
                    fields = {k: h[k] for k in Outgoing.__dataclass_fields__ if k in h}
                    fields.update(kind=f"{h['kind']}_released", idempotency_key=f"{h['idempotency_key']}-released")
                    message = Outgoing(**fields)
                self.delivery.send(message)
            done += 1
        return done

    def _emit(self, detail_type: str, detail: dict[str, Any]) -> None:
        self.deps.events.put_events(
            Entries=[
                {
                    "EventBusName": self.deps.settings.event_bus_name,
                    "Source": SOURCE,
                    "DetailType": detail_type,
                    "Detail": json.dumps(detail, default=str),
                }
            ]
        )
