"""Incidents over the single table: link members, open, merge, split, spike, resolve with one update.

Keys (single table):
  INCIDENT#{id} / INCIDENT              the incident; GSI1 = INCIDENTS#{department}#OPEN while open
  INCIDENT#{id} / MEMBER#{member key}   a linked case or mention (who, which channel)
  INCIDENT#{id} / CUSTOMER#{customer}   one per affected customer (counts customers once)
  INCIDENT#{id} / UPDATE#{customer}     the update sent to that customer: claimed, then sent (idempotency)
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from socialcare.cases import actions, workflow
from socialcare.cases.deps import Deps
from socialcare.config import IncidentSettings
from socialcare.incidents.detector import Decision, Detector
from socialcare.incidents.index import DynamoIndex, Member
from socialcare.incidents.models import Incident, IncidentStatus, incident_id_for
from socialcare.incidents.text import words
from socialcare.models import Case, CaseEvent, Mention, Tags
from socialcare.observability import logger, metrics
from socialcare.outbound.port import Outgoing, RateLimiter, Sender, default_sender
from socialcare.store import ConflictError, NotFoundError, StoreBusyError, StoreError, from_item, iso, to_item

SOURCE = "socialcare.incidents"


class IncidentError(Exception):
    """An incident action that does not fit; nothing was changed."""


def _key(incident_id: str, sk: str = "INCIDENT") -> dict[str, Any]:
    return {"PK": {"S": f"INCIDENT#{incident_id}"}, "SK": {"S": sk}}


def member_for_case(case: Case, text: str, settings: IncidentSettings) -> Member:
    return Member(
        key=f"case#{case.id}",
        kind="case",
        department=case.department,
        words=words(text, settings.ignore_words, settings.synonyms),
        at=case.opened_at.timestamp(),
        customer_key=case.customer_key,
        platform=case.platform,
        case_id=case.id,
        mention_key=case.mention_key,
        region=case.region,
    )


def member_for_mention(mention: Mention, department: str, settings: IncidentSettings, at: datetime) -> Member:
    return Member(
        key=f"mention#{mention.key}",
        kind="mention",
        department=department,
        words=words(mention.text, settings.ignore_words, settings.synonyms),
        at=at.timestamp(),
        customer_key=mention.customer_key,
        platform=mention.platform,
        mention_key=mention.key,
        region=mention.region,
    )


@dataclass
class Incidents:
    deps: Deps
    delivery: Sender | None = None
    limiter: RateLimiter | None = None
    index: DynamoIndex = field(init=False)

    def __post_init__(self) -> None:
        s = self.settings
        self.index = DynamoIndex(self.deps.store, s.bucket_cap)
        self.delivery = self.delivery or default_sender(self.deps)
        self.limiter = self.limiter or RateLimiter(s.update_rate_per_s, s.default_update_rate_per_s)

    @property
    def settings(self) -> IncidentSettings:
        return self.deps.config.incidents

    # ------------------------------------------------------------------ reads
    def get(self, incident_id: str) -> Incident:
        data = self.deps.store.get(_key(incident_id))
        if data is None:
            raise NotFoundError(f"no incident {incident_id!r}")
        return Incident.model_validate(data)

    def _items(self, incident_id: str, prefix: str) -> list[dict[str, Any]]:
        store = self.deps.store
        kwargs: dict[str, Any] = {
            "TableName": store.table,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :p)",
            "ExpressionAttributeValues": {":pk": {"S": f"INCIDENT#{incident_id}"}, ":p": {"S": prefix}},
        }
        out: list[dict[str, Any]] = []
        while True:
            page = store.ddb.query(**kwargs)
            out += [from_item(i) for i in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                return out
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def members(self, incident_id: str) -> list[Member]:
        return [Member.from_data(i) for i in self._items(incident_id, "MEMBER#")]

    def updates(self, incident_id: str) -> list[dict[str, Any]]:
        return self._items(incident_id, "UPDATE#")

    def list(self, department: str | None = None, *, include_closed: bool = False) -> list[Incident]:
        store = self.deps.store
        if include_closed:
            found = [Incident.model_validate(i) for i in store.scan_prefix("INCIDENT#", "INCIDENT")]
        else:
            found = []
            for dept in [department] if department else self.deps.config.department_names:
                page = store.ddb.query(
                    TableName=store.table,
                    IndexName="OpenByDepartment",
                    KeyConditionExpression="GSI1PK = :pk",
                    ExpressionAttributeValues={":pk": {"S": f"INCIDENTS#{dept}#OPEN"}},
                )
                found += [Incident.model_validate(from_item(i)) for i in page.get("Items", [])]
        return sorted((i for i in found if not department or i.department == department), key=lambda i: i.opened_at)

    # ------------------------------------------------------------------ detection
    def observe(self, member: Member, *, index_self: bool = True) -> Decision:
        """Index a new member and apply what the detector decides. A fixed number of requests."""
        decision = Detector(self.index, self.settings).observe(member, index_self=index_self)
        if decision.link_to:
            target = self._follow(decision.link_to)
            self.link(target, [member, *decision.open_with])
        elif decision.open_with:
            self.open(decision.open_with)
        return decision

    def _follow(self, incident_id: str) -> str:
        """A merged incident forwards to the one it was merged into."""
        for _ in range(5):
            incident = self.get(incident_id)
            if incident.status != IncidentStatus.MERGED or not incident.merged_into:
                return incident_id
            incident_id = incident.merged_into
        return incident_id

    def open(
        self, members: list[Member], *, actor: str = "system", title: str | None = None, seed: str = ""
    ) -> Incident:
        first = min(members, key=lambda m: m.at)
        cases = [m for m in members if m.kind == "case"]
        department = (cases[0] if cases else first).department
        incident_id = incident_id_for(seed + first.key)
        now = self.deps.now()
        incident = Incident(
            id=incident_id,
            department=department,
            opened_at=now,
            title=title or self._title(first),
            window_start=now.timestamp(),
        )
        item = {
            **incident.model_dump(mode="json"),
            "PK": f"INCIDENT#{incident_id}",
            "SK": "INCIDENT",
            "GSI1PK": f"INCIDENTS#{department}#OPEN",
            "GSI1SK": iso(now),
        }
        if self.deps.store.put_new(to_item(item)):
            self._emit("incident.opened", incident_id, department, actor=actor, title=incident.title)
            metrics.add_metric(name="IncidentsOpened", unit="Count", value=1)
            logger.info("incident opened", incident_id=incident_id, department=department, members=len(members))
        self.link(incident_id, members, actor=actor, count_match=False)
        return self.get(incident_id)

    def _title(self, member: Member) -> str:
        if member.case_id:
            msgs = self.deps.store.messages(member.case_id)
            if msgs:
                return str(msgs[0].get("text", ""))[:140]
        return " ".join(sorted(member.words))[:140]

    def link(
        self, incident_id: str, members: Iterable[Member], *, actor: str = "system", count_match: bool = True
    ) -> int:
        """Idempotent per member: a member item written once carries the counters with it."""
        linked = 0
        store = self.deps.store
        for member in members:
            now = self.deps.now()
            new_customer = store.put_new(
                to_item(
                    {
                        "PK": f"INCIDENT#{incident_id}",
                        "SK": f"CUSTOMER#{member.customer_key}",
                        "platform": member.platform,
                        "at": iso(now),
                    }
                )
            )
            data = {
                **member.to_data(),
                "incident_id": incident_id,
                "linked_at": iso(now),
                "linked_by": actor,
                "PK": f"INCIDENT#{incident_id}",
                "SK": f"MEMBER#{member.key}",
            }
            adds = "members :one, cases :c, customers :cu" + (", window_count :one" if count_match else "")
            update = {
                "Key": _key(incident_id),
                "UpdateExpression": f"ADD {adds} SET channels.#p = if_not_exists(channels.#p, :zero) + :one",
                "ExpressionAttributeNames": {"#p": member.platform},
                "ExpressionAttributeValues": {
                    ":one": {"N": "1"},
                    ":zero": {"N": "0"},
                    ":c": {"N": "1" if member.kind == "case" else "0"},
                    ":cu": {"N": "1" if new_customer else "0"},
                },
            }
            try:
                store.transact(
                    [
                        {"Put": {"Item": to_item(data), "ConditionExpression": "attribute_not_exists(PK)"}},
                        {"Update": update},
                    ]
                )
            except ConflictError as exc:
                if 0 in exc.failed:
                    continue  # already linked
                raise
            linked += 1
            self.index.set_incident([member.key], incident_id)
            if member.case_id:
                self._set_case_incident(member.case_id, incident_id)
            self._emit(
                "incident.linked",
                incident_id,
                member.department,
                actor=actor,
                member=member.key,
                case_id=member.case_id,
                platform=member.platform,
            )
        if linked and count_match:
            metrics.add_metric(name="IncidentMatches", unit="Count", value=linked)
            self._check_spike(incident_id)
        return linked

    def link_cases(self, incident_id: str, case_ids: list[str], *, actor: str) -> int:
        """An agent links cases the detector missed (different words for the same problem)."""
        inc = self.get(self._follow(incident_id))
        if inc.status != IncidentStatus.OPEN:
            raise IncidentError(f"incident {inc.id} is {inc.status}")
        members = []
        for case_id in case_ids:
            case = self.deps.store.get_case(case_id)
            first = next((m for m in self.deps.store.messages(case_id) if m.get("direction") == "in"), {})
            member = member_for_case(case, str(first.get("text", "")), self.settings)
            self.index.set_incident([member.key], inc.id)
            members.append(member)
        return self.link(inc.id, members, actor=actor, count_match=False)

    def unlink_case(self, incident_id: str, case_id: str, *, actor: str) -> int:
        """An agent takes back a case linked by mistake: it will not get the incident's update."""
        inc = self.get(self._follow(incident_id))
        if inc.status != IncidentStatus.OPEN:
            raise IncidentError(f"incident {inc.id} is {inc.status}")
        members = [m for m in self.members(inc.id) if m.case_id == case_id]
        for member in members:
            self._unlink(inc, member)
            self._emit("incident.unlinked", inc.id, inc.department, actor=actor, member=member.key, case_id=case_id)
        return len(members)

    def _set_case_incident(self, case_id: str, incident_id: str | None) -> None:
        for _ in range(20):
            try:
                case = self.deps.store.get_case(case_id)
                self.deps.store.update_case(case_id, case.version, {"incident_id": incident_id})
                return
            except ConflictError:
                continue
            except NotFoundError:
                return
        logger.warning("case kept changing; incident link not stored on it", case_id=case_id)

    # ------------------------------------------------------------------ spike
    def _check_spike(self, incident_id: str) -> bool:
        """Matches in the current window against the incident's usual rate (an EWMA of past windows)."""
        s = self.settings
        inc = self.get(incident_id)
        now = self.deps.now().timestamp()
        if now - inc.window_start >= s.spike_window_s:
            elapsed = max(1.0, now - inc.window_start)
            baseline = (
                inc.window_count / elapsed
                if inc.baseline_per_s == 0
                else (0.7 * inc.baseline_per_s + 0.3 * inc.window_count / elapsed)
            )
            self._update(inc, {"window_start": now, "window_count": 0, "baseline_per_s": baseline})
            return False
        usual = inc.baseline_per_s * s.spike_window_s
        if (
            inc.window_count >= s.spike_min
            and inc.window_count >= s.spike_factor * usual
            and inc.spiked_window != inc.window_start
        ):
            try:
                self._update(inc, {"spiked_window": inc.window_start})
            except ConflictError:
                return False  # another invocation flagged it first
            metrics.add_metric(name="IncidentSpikes", unit="Count", value=1)
            self._emit(
                "incident.spike",
                incident_id,
                inc.department,
                matches=inc.window_count,
                window_s=s.spike_window_s,
                usual=round(usual, 2),
            )
            logger.warning("incident spike", incident_id=incident_id, matches=inc.window_count)
            return True
        return False

    def _update(self, inc: Incident, fields: dict[str, Any], extra: list | None = None) -> None:
        op = self.deps.store.case_update_op(inc.id, inc.version, fields)
        op["Update"]["Key"] = _key(inc.id)
        self.deps.store.transact([op, *(extra or [])])

    # ------------------------------------------------------------------ by hand
    def merge(self, source_id: str, target_id: str, *, actor: str) -> Incident:
        if source_id == target_id:
            raise IncidentError("cannot merge an incident into itself")
        source, target = self.get(source_id), self.get(target_id)
        for inc in (source, target):
            if inc.status != IncidentStatus.OPEN:
                raise IncidentError(f"incident {inc.id} is {inc.status}; only open incidents merge")
        moving = self.members(source_id)
        self.link(target_id, moving, actor=actor, count_match=False)
        self._update(
            source, {"status": IncidentStatus.MERGED.value, "merged_into": target_id, "GSI1PK": None, "GSI1SK": None}
        )
        self._emit("incident.merged", source_id, source.department, actor=actor, into=target_id, members=len(moving))
        return self.get(target_id)

    def split(self, incident_id: str, member_keys: list[str], *, actor: str) -> Incident:
        """Moves the named members (case ids or member keys) out into a new incident of their own."""
        inc = self.get(incident_id)
        if inc.status != IncidentStatus.OPEN:
            raise IncidentError(f"incident {incident_id} is {inc.status}")
        wanted = {k if "#" in k else f"case#{k}" for k in member_keys}
        members = [m for m in self.members(incident_id) if m.key in wanted]
        if not members or len(members) != len(wanted):
            raise IncidentError(f"not members of {incident_id}: {sorted(wanted - {m.key for m in members})}")
        for m in members:
            self._unlink(inc, m)
        new = self.open(members, actor=actor, title=f"split from {incident_id}", seed=f"split#{incident_id}#")
        self._emit("incident.split", incident_id, inc.department, actor=actor, into=new.id, members=len(members))
        return new

    def _unlink(self, inc: Incident, member: Member) -> None:
        store = self.deps.store
        update = {
            "Key": _key(inc.id),
            "UpdateExpression": "ADD members :m, cases :c SET channels.#p = channels.#p - :one",
            "ExpressionAttributeNames": {"#p": member.platform},
            "ExpressionAttributeValues": {
                ":m": {"N": "-1"},
                ":one": {"N": "1"},
                ":c": {"N": "-1" if member.kind == "case" else "0"},
            },
        }
        store.transact(
            [
                {
                    "Delete": {
                        "Key": _key(inc.id, f"MEMBER#{member.key}"),
                        "ConditionExpression": "attribute_exists(PK)",
                    }
                },
                {"Update": update},
            ]
        )
        others = [m for m in self.members(inc.id) if m.customer_key == member.customer_key]
        if not others:
            store.ddb.delete_item(TableName=store.table, Key=_key(inc.id, f"CUSTOMER#{member.customer_key}"))
            store.ddb.update_item(
                TableName=store.table,
                Key=_key(inc.id),
                UpdateExpression="ADD customers :m",
                ExpressionAttributeValues={":m": {"N": "-1"}},
            )
        member.incident_id = None
        self.index.set_incident([member.key], None)
        if member.case_id:
            self._set_case_incident(member.case_id, None)

    # ------------------------------------------------------------------ resolve
    def resolve(self, incident_id: str, text: str, *, actor: str, resolve_cases: bool = True) -> dict[str, Any]:
        """One update, written once, to every linked customer on their own channel; safe to retry."""
        inc = self.get(self._follow(incident_id))
        if not text.strip():
            raise IncidentError("the update needs text")
        if inc.update_text and inc.update_text != text:
            raise IncidentError(f"incident {inc.id} already has its update; a retry must send the same text")
        if inc.status == IncidentStatus.OPEN and not inc.update_text:
            self._update(inc, {"update_text": text, "resolved_by": actor})
        sent = skipped = closed = 0
        customers: dict[str, Member] = {}
        for m in sorted(self.members(inc.id), key=lambda m: (m.kind != "case", m.at)):
            customers.setdefault(m.customer_key, m)  # a customer's case wins over their loose mentions
        for member in customers.values():
            if self._send_update(inc, member, text, actor=actor):
                sent += 1
            else:
                skipped += 1
            if resolve_cases and member.case_id and self._resolve_case(inc, member.case_id, actor):
                closed += 1
        inc = self.get(inc.id)
        done = len(self.updates(inc.id))
        fields: dict[str, Any] = {"updates_sent": done}
        if inc.status == IncidentStatus.OPEN:
            fields.update(
                status=IncidentStatus.RESOLVED.value, resolved_at=self.deps.now().isoformat(), GSI1PK=None, GSI1SK=None
            )
        self._update(inc, fields)
        if inc.status == IncidentStatus.OPEN:
            self._emit(
                "incident.resolved",
                inc.id,
                inc.department,
                actor=actor,
                customers=len(customers),
                channels=inc.channels,
                updates_sent=done,
            )
        metrics.add_metric(name="IncidentUpdatesSent", unit="Count", value=sent)
        return {
            "incident_id": inc.id,
            "customers": len(customers),
            "sent": sent,
            "already_sent": skipped,
            "cases_resolved": closed,
            "channels": inc.channels,
        }

    def _send_update(self, inc: Incident, member: Member, text: str, *, actor: str) -> bool:
        store = self.deps.store
        key = _key(inc.id, f"UPDATE#{member.customer_key}")
        existing = store.get(key)
        if existing and existing.get("status") == "sent":
            return False
        channel = "public"
        if member.case_id:
            with contextlib.suppress(NotFoundError):
                channel = store.get_case(member.case_id).handoff_channel or "public"
        if existing is None:
            claim = {
                "PK": f"INCIDENT#{inc.id}",
                "SK": f"UPDATE#{member.customer_key}",
                "status": "sending",
                "platform": member.platform,
                "channel": channel,
                "case_id": member.case_id,
            }
            if not store.put_new(to_item(claim)):
                existing = store.get(key)
                if existing and existing.get("status") == "sent":
                    return False
        assert self.limiter is not None and self.delivery is not None
        self.limiter.acquire(member.platform)
        idem = f"incident-{inc.id}-{member.customer_key}"
        delivery_id = self.delivery.send(
            Outgoing(
                platform=member.platform,
                text=text,
                idempotency_key=idem,
                kind="incident_update",
                channel=channel,
                recipient=member.customer_key,
                in_reply_to=member.mention_key,
                case_id=member.case_id,
                region=member.region,
            )
        )
        now = self.deps.now()
        ops: list[dict[str, Any]] = [
            {
                "Update": {
                    "Key": key,
                    "UpdateExpression": "SET #s = :sent, delivery_id = :d, sent_at = :at",
                    "ExpressionAttributeNames": {"#s": "status"},
                    "ExpressionAttributeValues": {
                        ":sent": {"S": "sent"},
                        ":d": {"S": delivery_id},
                        ":at": {"S": iso(now)},
                    },
                }
            }
        ]
        if member.case_id:
            message = {
                "direction": "out",
                "channel": channel,
                "author": actor,
                "text": text,
                "incident_id": inc.id,
                "delivery_id": delivery_id,
            }
            event = CaseEvent(
                case_id=member.case_id,
                type="case.incident_update",
                at=now,
                actor=actor,
                detail={"incident_id": inc.id, "channel": channel},
            )
            ops.append({"Put": {"Item": store.message_item(member.case_id, message, now, idem)}})
            ops.append({"Put": {"Item": store.event_item(event)}})
        store.transact(ops)
        return True

    def _resolve_case(self, inc: Incident, case_id: str, actor: str) -> bool:
        """Closes a linked case with the resolve action an agent takes: applied at once whether or not
        its workflow is waiting (one that is not ends at its next wait). A case that keeps changing under
        it is left to its owner (the update is already on it); a retry of the incident tries again."""
        try:
            case = self.deps.store.get_case(case_id)
            if not case.is_open:
                return False
            done = actions.perform(
                case_id,
                "resolve",
                self.deps,
                actor=actor,
                request_id=f"incident-{inc.id}-resolve",
                note=f"resolved with incident {inc.id}",
            )
            return not done.replayed
        except (actions.ActionError, workflow.WorkflowError, StoreError) as exc:
            logger.warning("linked case not resolved", case_id=case_id, incident_id=inc.id, error=str(exc))
            return False

    # ------------------------------------------------------------------ events
    def _emit(
        self, detail_type: str, incident_id: str, department: str, *, actor: str = "system", **detail: Any
    ) -> None:
        entry = {
            "EventBusName": self.deps.settings.event_bus_name,
            "Source": SOURCE,
            "DetailType": detail_type,
            "Detail": json.dumps(
                {
                    "schema_version": "1",
                    "incident_id": incident_id,
                    "department": department,
                    "actor": actor,
                    "at": datetime.now(UTC).isoformat(),
                    **detail,
                },
                default=str,
            ),
        }
        try:
            self.deps.events.put_events(Entries=[entry])
        except ClientError as exc:
            logger.warning("incident event not published", incident_id=incident_id, error=str(exc))


def after_mention(mention: Mention, tags: Tags, case: Case | None, deps: Deps) -> None:
    """The router's hook, after a mention is stored: index it, link or open an incident.
    Never fails the routing (the case already exists); failures are logged and counted."""
    settings = deps.config.incidents
    if not settings.enabled:
        return
    try:
        service = Incidents(deps)
        if case is not None:
            service.observe(member_for_case(case, mention.text, settings))
        elif tags.intent.value not in {"noise", "reputation", "praise"}:
            # Someone affected who asked for nothing: they still hear when it is fixed. Praise, noise
            # and press report no fault and are skipped. A mention only looks (it joins an incident its
            # matches belong to, and incidents open from cases): indexing it would cost 17 write units.
            department = (
                tags.department.value
                if tags.department.value in deps.config.department_names
                else deps.config.default_department
            )
            service.observe(member_for_mention(mention, department, settings, deps.now()), index_self=False)
    except StoreBusyError:
        raise  # the table stayed busy: the record fails and the redelivery links the member
    except Exception as exc:  # noqa: BLE001 - routing must not fail on the incident side
        logger.exception("incident detection failed", mention_key=mention.key, error=str(exc))
        metrics.add_metric(name="IncidentDetectionErrors", unit="Count", value=1)
