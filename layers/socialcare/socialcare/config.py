"""The brand configuration: departments, service levels, classifier rules. Data, not code.

Adding a department is an entry here plus its name in the stack's Departments parameter (which
creates its queue); a department named here but not deployed is a start-up error.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from socialcare.ingest.sources import SourceConfig
from socialcare.models import Department, SlaPolicy


class ConfigError(Exception):
    """The brand configuration is missing, unreadable or inconsistent."""


class Rule(BaseModel):
    """Where a brand needs certainty, a phrase overrides the model (e.g. "refund" always goes to billing)."""

    pattern: str = Field(min_length=1, max_length=200)
    department: str | None = None
    intent: str | None = None
    urgency: str | None = None

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"bad rule pattern {value!r}: {exc}") from exc
        return value


class ClassifierSettings(BaseModel):
    backend: Literal["rules", "model", "comprehend", "bedrock"] = "rules"
    model_path: str | None = None
    bedrock_model_id: str | None = None


class PriorityPolicy(BaseModel):
    """Priority comes from what happened, never from who said it: urgency and intent scale the SLA."""

    urgency_factor: dict[str, float] = Field(
        default_factory=lambda: {"safety": 0.25, "outage": 0.5, "money_lost": 0.5, "travel_today": 0.5}
    )
    intent_factor: dict[str, float] = Field(default_factory=lambda: {"question": 1.5})


class BrandConfig(BaseModel):
    brand: str = Field(min_length=1, max_length=120)
    handles: dict[str, list[str]] = Field(default_factory=dict)
    default_department: str
    departments: list[Department] = Field(min_length=1)
    sla: SlaPolicy
    intents: dict[str, list[str]] = Field(default_factory=dict)
    urgency: dict[str, list[str]] = Field(default_factory=dict)
    rules: list[Rule] = Field(default_factory=list)
    classifier: ClassifierSettings = Field(default_factory=ClassifierSettings)
    priority: PriorityPolicy = Field(default_factory=PriorityPolicy)
    # A mention from an author with an open case within this window attaches to it.
    thread_window_s: int = Field(default=3 * 24 * 3600, ge=0)
    # A new mention on a case resolved within this window reopens it instead of opening another.
    reopen_window_s: int = Field(default=7 * 24 * 3600, ge=0)
    retention_days: int = Field(default=90, ge=1)
    # Where to listen: handles, queries, subreddits, feeds (see socialcare.ingest.sources).
    sources: list[SourceConfig] = Field(default_factory=list)

    @model_validator(mode="after")
    def _known_departments(self) -> BrandConfig:
        names = [d.name for d in self.departments]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate department names: {sorted(names)}")
        known = set(names)
        for where, name in [("default_department", self.default_department)] + [
            (f"rules[{r.pattern!r}]", r.department) for r in self.rules if r.department
        ]:
            if name not in known:
                raise ValueError(f"{where} names unknown department {name!r}; known: {sorted(known)}")
        return self

    def department(self, name: str) -> Department:
        for dept in self.departments:
            if dept.name == name:
                return dept
        raise ConfigError(f"unknown department {name!r}; known: {self.department_names}")

    @property
    def department_names(self) -> list[str]:
        return [d.name for d in self.departments]

    def sla_for(self, department: str) -> SlaPolicy:
        return self.department(department).sla or self.sla

    def check_deployed(self, deployed: list[str]) -> None:
        """Fail at start-up, not at 3 a.m., when configuration names a department with no queue."""
        missing = sorted(set(self.department_names) - set(deployed))
        if missing:
            raise ConfigError(
                f"departments {missing} are configured but have no queue; add them to the stack's "
                f"Departments parameter (deployed: {sorted(deployed)})"
            )


def _merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for key, value in over.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def _read_raw(text: str, source: str, depth: int = 0) -> dict:
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: expected a mapping at the top level")
    parent = raw.pop("extends", None)
    if parent is not None:
        # An overlay (e.g. the demo's seconds-scale SLAs) names its base relative to itself.
        if depth > 3 or not isinstance(parent, str):
            raise ConfigError(f"{source}: 'extends' must name one base file, at most 3 levels deep")
        base_path = (Path(source).parent / parent).resolve()
        try:
            base_text = base_path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"{source}: cannot read base configuration {base_path}: {exc}") from exc
        raw = _merge(_read_raw(base_text, str(base_path), depth + 1), raw)
    return raw


def parse_config(text: str, *, source: str = "<string>") -> BrandConfig:
    raw = _read_raw(text, source)
    try:
        return BrandConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{source}: {exc}") from exc


@functools.cache
def load_config(path: str) -> BrandConfig:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read brand configuration {path}: {exc}") from exc
    return parse_config(text, source=path)
