"""Crisis watch: tragedy words (a configurable lexicon) in mentions the classifier does not call noise,
counted per region in tumbling windows. A burst proposes a quiet period to ops (event + metric);
a human decides. The system never starts one by itself."""

from __future__ import annotations

import json
import re
import unicodedata
from typing import TYPE_CHECKING, Any

from socialcare.observability import logger, metrics
from socialcare.store import to_item

if TYPE_CHECKING:
    from socialcare.cases.deps import Deps
    from socialcare.models import Mention, Tags

_WORD = re.compile(r"[a-z]+")


def _plain(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in text if not unicodedata.combining(c))


def tragedy_words(text: str, lexicon: list[str]) -> set[str]:
    words = set(_WORD.findall(_plain(text)))
    plain = _plain(text)
    return {w for w in lexicon if (_plain(w) in words if " " not in w else _plain(w) in plain)}


def is_crisis_mention(mention: Mention, tags: Tags, lexicon: list[str]) -> bool:
    """The lexicon finds the words; the classifier rules out spam and cheer ("killed it!" praise)."""
    if tags.intent.value in {"noise", "praise"} or tags.sentiment.value == "positive":
        return False
    return bool(tragedy_words(mention.text, lexicon))


def place_in_text(text: str, region_names: list[str]) -> str | None:
    """A configured place named in the text ("Puerto Alba" for region puerto-alba), for mentions whose
    platform gives no region. Short codes (us, uk, MX) are too ambiguous to read from free text."""
    plain = " " + " ".join(_WORD.findall(_plain(text))) + " "
    for name in region_names:
        phrase = " ".join(_WORD.findall(_plain(name)))
        if len(phrase) >= 5 and f" {phrase} " in plain:
            return name
    return None


def after_mention(mention: Mention, tags: Tags, deps: Deps) -> dict[str, Any] | None:
    settings = deps.config.quiet
    if not is_crisis_mention(mention, tags, settings.crisis_lexicon):
        return None
    region = mention.region or place_in_text(mention.text, [r.name for r in deps.config.regions])
    if not region:
        return None
    try:
        return _count(region, deps)
    except Exception as exc:  # noqa: BLE001 - routing must not fail on the crisis watch
        logger.exception("crisis watch failed", mention_key=mention.key, error=str(exc))
        return None


def _count(region: str, deps: Deps) -> dict[str, Any] | None:
    settings = deps.config.quiet
    store = deps.store
    now = deps.now().timestamp()
    window = int(now // settings.crisis_window_s)
    got = store.ddb.update_item(
        TableName=store.table,
        Key={"PK": {"S": f"CRISIS#{region}"}, "SK": {"S": f"W#{window}"}},
        UpdateExpression="ADD mentions :one SET expires_at = :x",
        ExpressionAttributeValues={":one": {"N": "1"}, ":x": {"N": str(int(now) + 2 * settings.crisis_window_s)}},
        ReturnValues="UPDATED_NEW",
    )
    count = int(got["Attributes"]["mentions"]["N"])
    metrics.add_metric(name="CrisisMentions", unit="Count", value=1)
    if count < settings.crisis_min_mentions:
        return None
    from socialcare.quiet.service import Quiet

    if any(deps.config.region_covers(p.region, region) for p in Quiet(deps).list(active_only=True)):
        return None  # already quiet there
    suggestion = {
        "region": region,
        "mentions": count,
        "window_s": settings.crisis_window_s,
        "suggested_at": deps.now().isoformat(),
        "command": f"socialcare quiet start --region {region} --until <time> --reason <text>",
    }
    # One proposal per region per cool-down: a conditional write, so concurrent routers agree.
    item = to_item(
        {"PK": f"CRISIS#{region}", "SK": "SUGGESTED", **suggestion, "expires_at": int(now) + settings.crisis_cooldown_s}
    )
    try:
        store.ddb.put_item(
            TableName=store.table,
            Item=item,
            ConditionExpression="attribute_not_exists(PK) OR expires_at < :now",
            ExpressionAttributeValues={":now": {"N": str(int(now))}},
        )
    except store.ddb.exceptions.ConditionalCheckFailedException:
        return None
    deps.events.put_events(
        Entries=[
            {
                "EventBusName": deps.settings.event_bus_name,
                "Source": "socialcare.quiet",
                "DetailType": "quiet.suggested",
                "Detail": json.dumps(suggestion),
            }
        ]
    )
    metrics.add_metric(name="QuietPeriodSuggested", unit="Count", value=1)
    logger.warning("quiet period suggested", region=region, mentions=count)
    return suggestion
