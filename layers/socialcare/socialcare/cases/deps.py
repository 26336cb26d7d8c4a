"""What case logic needs from the outside world, built once per process (or per test)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from socialcare import aws
from socialcare.classify import Classifier, OnFirstUse, build_classifier
from socialcare.config import BrandConfig, load_config
from socialcare.models import Case, Mention, Tags, utcnow
from socialcare.settings import Settings, get_settings
from socialcare.store import Store

# The flag a stored mention carries while its after-mention hook still owes it work (the table was too
# busy to record it); the redelivery, a duplicate for the router, runs the hook again with retry=True.
AFTER_MENTION_PENDING = "incident_pending"


class MentionHook(Protocol):
    def __call__(self, mention: Mention, tags: Tags, case: Case | None, deps: Deps, *, retry: bool = False) -> None: ...


class Sent(Protocol):
    """What became of one outgoing message (socialcare.outbound.Delivery)."""

    @property
    def mode(self) -> str: ...
    @property
    def reason(self) -> str: ...
    @property
    def channel(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def external_id(self) -> str | None: ...
    @property
    def at(self) -> datetime: ...


class Deliver(Protocol):
    """Sends one message to the case's customer, once per idempotency key (socialcare.outbound.deliver)."""

    def __call__(
        self, deps: Deps, case: Case, text: str, channel: str = ..., kind: str = ..., idempotency_key: str = ...
    ) -> Sent: ...


class Acknowledge(Protocol):
    """The case's automatic acknowledgement, if the brand configured one (socialcare.outbound.ack)."""

    def __call__(self, deps: Deps, case: Case) -> Sent | None: ...


class NotWiredError(RuntimeError):
    """Deps lacks a plug-in the work needs (they were not built by socialcare.assembly); nothing was
    done, so nothing meant for a customer is lost without a word."""


class Hold(Protocol):
    """A reason to keep an outgoing message back (socialcare.outbound asks every hold on Deps)."""

    def reason(self, deps: Deps, case: Case, kind: str) -> str | None: ...

    def record(self, deps: Deps, case: Case, delivery: Any) -> None:
        """Lists the held message for whoever releases or cancels it."""


@dataclass
class Deps:
    settings: Settings
    config: BrandConfig
    store: Store
    sfn: Any
    events: Any
    sqs: Any
    classifier: Classifier
    now: Callable[[], datetime] = field(default=utcnow)
    # Plug points for the layers above cases and outbound (wired by socialcare.assembly): incident linking
    # and the crisis watch see every stored mention; quiet periods may hold an outgoing message; the agent
    # actions and the workflow's first wait send through outbound. Without deliver or acknowledge an
    # action that sends fails with NotWiredError before it changes anything.
    after_mention: MentionHook | None = None
    holds: tuple[Hold, ...] = ()
    deliver: Deliver | None = None
    acknowledge: Acknowledge | None = None

    def sender(self) -> Deliver:
        if self.deliver is None:
            raise NotWiredError(
                "these Deps cannot send to customers: no outbound delivery plugged in "
                "(build them with socialcare.assembly)"
            )
        return self.deliver

    def acknowledger(self) -> Acknowledge:
        if self.acknowledge is None:
            raise NotWiredError(
                "these Deps cannot acknowledge a new case: no acknowledgement plugged in "
                "(build them with socialcare.assembly)"
            )
        return self.acknowledge


def build_deps(settings: Settings | None = None, config: BrandConfig | None = None) -> Deps:
    """The clients, configuration and classifier, without the plug-ins (socialcare.assembly adds them):
    enough to read and route, not to send."""
    settings = settings or get_settings()
    config = config or load_config(settings.config_path)
    # Cold start runs the same check as `socialcare config check`: a bad configuration stops here.
    config.check_deployed(settings.departments or None, settings.managed_classifier)
    store = Store(aws.LazyClient("dynamodb"), settings.table_name)
    return Deps(
        settings=settings,
        config=config,
        store=store,
        sfn=aws.LazyClient("stepfunctions"),
        events=aws.LazyClient("events"),
        sqs=aws.LazyClient("sqs"),
        # The routing the brand's agents taught it (`socialcare train --from-cases`), read on the
        # first mention classified after a cold start and re-checked every few minutes after.
        classifier=OnFirstUse(lambda: _classifier(config, store)),
    )


def _classifier(config: BrandConfig, store: Store) -> Classifier:
    from socialcare.cases.learning import LearnedRoutingSource

    return build_classifier(config, learned=LearnedRoutingSource(store, config))


_PROVIDER: list[Callable[[], Deps]] = []


def provide(factory: Callable[[], Deps]) -> None:
    """An entry point (a Lambda handler module) names how its Deps are built (socialcare.assembly);
    the HTTP APIs in the layers below ask through provided() and never import the layers above."""
    _PROVIDER[:] = [factory]


def provided() -> Deps:
    if not _PROVIDER:
        raise RuntimeError("no Deps provided: the entry point calls cases.deps.provide(assembly.default_deps)")
    return _PROVIDER[0]()
