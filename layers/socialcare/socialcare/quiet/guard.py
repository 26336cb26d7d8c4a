"""The quiet-period check socialcare.outbound calls for every message to a customer.

Automatic acknowledgements (and promotional messages) aimed at a region under an active quiet
period are held, and listed for an operator to release or cancel; service replies always go out."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from socialcare.store import to_item

if TYPE_CHECKING:
    from socialcare.cases.deps import Deps
    from socialcare.models import Case

HELD_KINDS = frozenset({"promotional", "auto_ack", "acknowledgement"})


class QuietHold:
    """The hold socialcare.assembly plugs into Deps: an active quiet period for the case's region."""

    def reason(self, deps: Deps, case: Case, kind: str) -> str | None:
        if kind not in HELD_KINDS or not case.region:
            return None
        from socialcare.quiet.service import Quiet

        period = Quiet(deps, delivery=_Never()).holding(kind, case.region)
        return f"quiet period {period.id} for {period.region}" if period else None

    def record(self, deps: Deps, case: Case, delivery: Any) -> None:
        record_held(deps, case, delivery)


def record_held(deps: Deps, case: Case, delivery: Any) -> None:
    """Lists a held case message next to held posts, so an operator can release or cancel it."""
    quiet_id = delivery.reason.split()[2] if delivery.reason.startswith("quiet period ") else None
    item = {
        "PK": "HELD",
        "SK": f"MSG#{case.id}#{delivery.idempotency_key}",
        "status": "held",
        "quiet_id": quiet_id,
        "case_id": case.id,
        "platform": case.platform,
        "channel": delivery.channel,
        "kind": delivery.kind,
        "text": delivery.text,
        "idempotency_key": delivery.idempotency_key,
        "region": case.region,
        "held_at": delivery.at.isoformat(),
    }
    deps.store.put_new(to_item(item))


class _Never:
    def send(self, message: Any) -> str:  # pragma: no cover - the guard only reads
        raise RuntimeError("the quiet guard never sends")
