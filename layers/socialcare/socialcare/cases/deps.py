"""What case logic needs from the outside world, built once per process (or per test)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from socialcare import aws
from socialcare.classify import Classifier, build_classifier
from socialcare.config import BrandConfig, load_config
from socialcare.models import utcnow
from socialcare.settings import Settings, get_settings, settings_from_env
from socialcare.store import Store


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


def build_deps(settings: Settings | None = None, config: BrandConfig | None = None) -> Deps:
    settings = settings or get_settings()
    config = config or load_config(settings.config_path)
    # Cold start runs the same check as `socialcare config check`: a bad configuration stops here.
    config.check_deployed(settings.departments or None)
    return Deps(
        settings=settings,
        config=config,
        store=Store(aws.client("dynamodb"), settings.table_name),
        sfn=aws.client("stepfunctions"),
        events=aws.client("events"),
        sqs=aws.client("sqs"),
        classifier=build_classifier(config),
    )


_CACHE: dict[str, Deps] = {}


def default_deps() -> Deps:
    """One Deps per configuration: a warm Lambda builds it once. Keyed by the settings so that
    in-process local mode, where several functions share a process, never mixes stacks."""
    settings = settings_from_env()
    key = settings.model_dump_json()
    if key not in _CACHE:
        _CACHE[key] = build_deps(settings)
    return _CACHE[key]


def reset_deps() -> None:
    _CACHE.clear()
