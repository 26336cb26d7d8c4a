"""The whole product's Deps: the layers below (cases, outbound) with incidents and quiet periods plugged in.

Lower layers never import the upper ones; they call the hooks this module puts on Deps. Every entry
point that runs the product (the Lambda handlers, the local stack, the demo, the tests) builds its
Deps here."""

from __future__ import annotations

from dataclasses import replace

from socialcare.cases.deps import Deps
from socialcare.cases.deps import build_deps as build_base_deps
from socialcare.config import BrandConfig
from socialcare.incidents.hooks import after_mention
from socialcare.quiet.guard import QuietHold
from socialcare.settings import Settings, settings_from_env


def plug_in(deps: Deps) -> Deps:
    return replace(deps, after_mention=after_mention, holds=(QuietHold(),))


def build_deps(settings: Settings | None = None, config: BrandConfig | None = None) -> Deps:
    return plug_in(build_base_deps(settings, config))


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
