"""The brand configuration: departments, service levels, classifier rules. Data, not code.

Adding a department is an entry here plus `socialcare template sync` (which writes its queue into
template.yaml); a department named here but not deployed is a start-up error.
"""

from __future__ import annotations

import functools
import re
import typing
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from socialcare.errors import Exit, UserError
from socialcare.models import Department, SlaPolicy
from socialcare.sources import PUBLIC_PLATFORMS, SourceConfig


class ConfigError(UserError):
    """The brand configuration is missing, unreadable or inconsistent."""

    exit_code = Exit.INVALID_CONFIG


class UnknownDepartmentError(ConfigError):
    """A department named on the command line or in a request that the configuration does not have."""

    exit_code = Exit.NOT_FOUND


class _Strict(BaseModel):
    """Configuration sections: an unknown key is an error that names the nearest valid key."""

    model_config = ConfigDict(extra="forbid")


class Rule(_Strict):
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


# Languages Amazon Comprehend's DetectSentiment accepts (its documented list).
COMPREHEND_SENTIMENT_LANGUAGES = frozenset({"en", "es", "fr", "de", "it", "pt", "ar", "hi", "ja", "ko", "zh", "zh-TW"})


class CascadeSettings(_Strict):
    """The local classifier tags every mention; Amazon Comprehend is asked for the sentiment of the
    ones it reads worst: every mention in ``languages`` (by the local language tag), and any mention whose
    local sentiment confidence is below ``below``. One DetectSentiment call each, nothing else."""

    languages: list[str] = Field(default_factory=list, max_length=12)
    below: float = Field(default=0.0, ge=0.0, le=1.0)

    @field_validator("languages")
    @classmethod
    def _supported(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - COMPREHEND_SENTIMENT_LANGUAGES)
        if unknown:
            raise ValueError(
                f"Comprehend has no sentiment for {unknown}; supported: {sorted(COMPREHEND_SENTIMENT_LANGUAGES)}"
            )
        return value

    @model_validator(mode="after")
    def _sends_something(self) -> CascadeSettings:
        # An empty cascade would still need the Comprehend grant and change nothing: a mistake, said early.
        if not self.languages and self.below <= 0.0:
            raise ValueError("classifier.cascade sends nothing: name languages or set below above 0")
        return self


class ClassifierSettings(_Strict):
    backend: Literal["rules", "model", "comprehend", "bedrock"] = "rules"
    model_path: str | None = None
    bedrock_model_id: str | None = None
    cascade: CascadeSettings | None = None

    @model_validator(mode="after")
    def _cascade_is_local_first(self) -> ClassifierSettings:
        # The trained model tags language and a sentiment confidence; the keyword rules tag neither.
        if self.cascade is not None and self.backend != "model":
            raise ValueError(f"classifier.cascade needs backend model (its tags come first), not {self.backend!r}")
        return self

    @property
    def managed_service(self) -> str | None:
        """The AWS service the classifier calls ("comprehend", "bedrock"), None when it is all local."""
        if self.backend in ("comprehend", "bedrock"):
            return self.backend
        return "comprehend" if self.cascade is not None else None


class PriorityPolicy(_Strict):
    """Priority comes from what happened, never from who said it: urgency and intent scale the SLA."""

    urgency_factor: dict[str, float] = Field(
        default_factory=lambda: {"safety": 0.25, "outage": 0.5, "money_lost": 0.5, "travel_today": 0.5}
    )
    intent_factor: dict[str, float] = Field(default_factory=lambda: {"question": 1.5})


class WriteAccount(_Strict):
    """Write credentials for one platform. Present means replies are published; absent means they are
    recorded as drafts for a human to post. The secret is a reference, never a value."""

    secret: str = Field(pattern=r"^(secretsmanager|ssm):.+$")
    api_base: str | None = Field(default=None, max_length=512)
    # X only: who may reply to a post we publish ("everyone" leaves it open).
    reply_settings: Literal["everyone", "following", "mentionedUsers"] = "everyone"


class Acknowledgement(_Strict):
    """An automatic "we have your case" reply for one department and channel (platform or "*").
    {expect} becomes when to expect an answer, from the case's first-response SLA."""

    department: str = Field(min_length=1, max_length=40)
    channel: str = Field(default="*", min_length=1, max_length=32)
    text: str = Field(
        default="Thanks {author} - we have your case ({case_id}). Expect an answer {expect}.",
        min_length=1,
        max_length=280,
    )


class FaqEntry(_Strict):
    """A knowledge-base answer offered to agents when it matches a case; never sent automatically."""

    id: str = Field(min_length=1, max_length=64)
    question: str = Field(min_length=1, max_length=500)
    answer: str = Field(min_length=1, max_length=2000)
    departments: list[str] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list)


class IncidentSettings(_Strict):
    """Root-cause clustering: similar open cases of one department inside a time window form an incident.

    MinHash over normalised word sets, banded for LSH so a new case touches a fixed number of buckets;
    candidates are then verified with a cosine over the word sets. Precision matters more than recall:
    merging unrelated customers is worse than missing a link."""

    enabled: bool = True
    num_perm: int = Field(default=32, ge=8, le=256)
    band_rows: int = Field(default=2, ge=1, le=8)
    threshold: float = Field(default=0.35, gt=0.0, le=1.0)  # cosine over normalised word sets
    min_shared_words: int = Field(default=2, ge=1)
    window_s: int = Field(default=6 * 3600, ge=60)
    min_size: int = Field(default=3, ge=2)  # similar cases needed before an incident opens
    max_candidates: int = Field(default=30, ge=1, le=100)
    bucket_cap: int = Field(default=12, ge=4)  # newest entries per bucket: 12 keeps a bucket within 1 KB
    # Words that say nothing about the problem (brand names, courtesy) on top of the built-in stop words.
    ignore_words: list[str] = Field(default_factory=list)
    # Words that mean the same thing for clustering ("website" -> "app", "crash" -> "broken").
    synonyms: dict[str, str] = Field(default_factory=dict)
    # Spike: matches in the last spike_window_s at least spike_min and spike_factor x the usual rate.
    spike_window_s: int = Field(default=600, ge=60)
    spike_baseline_s: int = Field(default=6 * 3600, ge=600)
    spike_min: int = Field(default=8, ge=1)
    spike_factor: float = Field(default=4.0, ge=1.0)
    # Platform write limits for incident updates, messages per second per platform.
    update_rate_per_s: dict[str, float] = Field(default_factory=lambda: {"x": 5.0})
    default_update_rate_per_s: float = Field(default=2.0, gt=0)


class ParitySettings(_Strict):
    """The same service for everyone: a follower band whose SLA met % trails another by more than
    max_gap_pct raises an alarm."""

    bands: list[int] = Field(default_factory=lambda: [100, 10_000, 1_000_000])  # upper bounds, last band open
    max_gap_pct: float = Field(default=10.0, ge=0.0, le=100.0)
    min_cases_per_band: int = Field(default=5, ge=1)


class Region(_Strict):
    """A named area, country or state mentions and posts can be aimed at; includes nest other regions."""

    name: str = Field(min_length=1, max_length=64)
    kind: Literal["area", "country", "state"] = "area"
    includes: list[str] = Field(default_factory=list)


class QuietSettings(_Strict):
    """Quiet periods and the crisis suggestion that may propose one (never start one)."""

    crisis_lexicon: list[str] = Field(
        default_factory=lambda: [
            "hurricane",
            "earthquake",
            "flood",
            "wildfire",
            "disaster",
            "attack",
            "shooting",
            "explosion",
            "killed",
            "dead",
            "death",
            "died",
            "crash",
            "accident",
            "tragedy",
            "huracán",
            "huracan",
            "furacão",
            "terremoto",
        ]
    )
    crisis_window_s: int = Field(default=1800, ge=60)
    crisis_min_mentions: int = Field(default=3, ge=1)
    crisis_cooldown_s: int = Field(default=6 * 3600, ge=60)


class BrandConfig(_Strict):
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
    # case.sla_warning fires when this fraction of a first-response, next-update or resolution clock
    # has run without an answer; 0 switches warnings off.
    sla_warning_fraction: float = Field(default=0.8, ge=0.0, lt=1.0)
    # Where to listen: handles, queries, subreddits, feeds (see socialcare.sources).
    sources: list[SourceConfig] = Field(default_factory=list)
    incidents: IncidentSettings = Field(default_factory=IncidentSettings)
    parity: ParitySettings = Field(default_factory=ParitySettings)
    regions: list[Region] = Field(default_factory=list)
    quiet: QuietSettings = Field(default_factory=QuietSettings)
    # Write credentials per platform ("x", ...); a platform without one gets drafts (socialcare.outbound).
    outbound: dict[str, WriteAccount] = Field(default_factory=dict)
    # Optional automatic acknowledgements per department and channel (socialcare.outbound.ack).
    acknowledgements: list[Acknowledgement] = Field(default_factory=list)
    # Suggested replies offered to agents in `socialcare agent show` (socialcare.agents.suggest).
    faq: list[FaqEntry] = Field(default_factory=list)

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

    def region_covers(self, quiet_region: str, target: str | None) -> bool:
        """Whether a post or message aimed at `target` falls inside `quiet_region` (nested includes)."""
        if not target:
            return False
        by_name = {r.name: r for r in self.regions}
        seen: set[str] = set()
        todo = [quiet_region]
        while todo:
            name = todo.pop()
            if name == target:
                return True
            if name in seen:
                continue
            seen.add(name)
            todo.extend(by_name[name].includes if name in by_name else [])
        return False

    def department(self, name: str) -> Department:
        for dept in self.departments:
            if dept.name == name:
                return dept
        raise UnknownDepartmentError(f"unknown department {name!r}; known: {self.department_names}")

    @property
    def department_names(self) -> list[str]:
        return [d.name for d in self.departments]

    def sla_for(self, department: str) -> SlaPolicy:
        return self.department(department).sla or self.sla

    def problems(self, deployed: list[str] | None = None, managed: str | None = None) -> list[str]:
        """What a configuration that parses can still get wrong against its deployment: departments
        without a queue (when the deployed ones are known), a managed classifier the stack grants no
        call to (when ``managed``, its ManagedClassifier parameter, is known), sources that cannot
        authenticate, and regions, departments or FAQ links that name nothing configured."""
        out = []
        wanted = self.classifier.managed_service
        if managed is not None and wanted is not None and wanted != managed:
            out.append(
                f"the classifier calls Amazon {wanted.capitalize()} but the stack grants it no call "
                f"(ManagedClassifier={managed}); deploy with --parameter-overrides ManagedClassifier={wanted}"
            )
        if deployed is not None:
            missing = sorted(set(self.department_names) - set(deployed))
            if missing:
                out.append(
                    f"departments {missing} are configured but have no queue; run `socialcare template sync` "
                    f"and deploy (deployed: {sorted(deployed)})"
                )
        for source in self.sources:
            if source.enabled and not source.secret and source.platform not in PUBLIC_PLATFORMS:
                out.append(f"source {source.id}: {source.platform} needs `secret:` (secretsmanager:NAME or ssm:NAME)")
        regions = [r.name for r in self.regions]
        if len(set(regions)) != len(regions):
            out.append(f"duplicate region names: {sorted(regions)}")
        known_depts = set(self.department_names)
        # A target may be a configured region or a code one of them includes (a country, a state).
        reachable = set(regions).union(*(r.includes for r in self.regions))
        for source in self.sources:
            if source.region and source.region not in reachable:
                out.append(
                    f"source {source.id}: region {source.region!r} is in no configured region, so no quiet "
                    f"period can cover its messages; configured: {sorted(regions)}"
                )
        for ack in self.acknowledgements:
            if ack.department not in known_depts:
                out.append(f"acknowledgement for unknown department {ack.department!r}; known: {sorted(known_depts)}")
        for entry in self.faq:
            for name in sorted(set(entry.departments) - known_depts):
                out.append(f"faq {entry.id}: unknown department {name!r}; known: {sorted(known_depts)}")
        return out

    def check_deployed(self, deployed: list[str] | None, managed: str | None = None) -> None:
        """Fail at start-up, not at 3 a.m.: the same check as `socialcare config check`, against the
        departments the stack deployed and the managed classifier it grants (None when unknown)."""
        found = self.problems(deployed, managed)
        if found:
            raise ConfigError("; ".join(found))


def _merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for key, value in over.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


# libyaml reads a configuration about ten times faster than PyYAML's pure-Python loader (which takes
# ~40 ms for the shipped brand.yaml at every cold start), with the same safe constructor and resolver.
# But it composes nested collections by C recursion, below Python's recursion limit: a document nested
# tens of thousands deep crashes the process. A level opens only at a bracket, brace, "?", "-" or a new
# line, so a document with few of those cannot be deep and goes to libyaml; anything else, and anything
# libyaml refuses (for PyYAML's own verdict and message), is read by the pure-Python loader as before.
_FAST_LOADER = getattr(yaml, "CSafeLoader", None)
_FAST_MAX_DEPTH = 1000
_LINE_BREAKS = ("\n", "\r", "\x85", "\u2028", "\u2029")


def _possible_depth(text: str) -> int:
    flow = text.count("[") + text.count("{") + text.count("?")  # a flow pair adds a level inside its bracket
    return 2 * flow + text.count("-") + sum(text.count(b) for b in _LINE_BREAKS) + 1


def _safe_load(text: str) -> object:
    if _FAST_LOADER is not None and _possible_depth(text) <= _FAST_MAX_DEPTH:
        try:
            return yaml.load(text, Loader=_FAST_LOADER)  # noqa: S506 - the safe loader, in C
        except (yaml.YAMLError, ValueError):  # ValueError: e.g. a lone surrogate libyaml cannot encode
            pass
    return yaml.safe_load(text)


def _read_raw(text: str, source: str, depth: int = 0) -> dict:
    try:
        raw = _safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        at = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
        what = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        raise ConfigError(f"{source}{at}: not valid YAML: {what}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML: {' '.join(str(exc).split())}") from exc
    except RecursionError as exc:  # e.g. thousands of nested [ ... ]: PyYAML recurses per level
        raise ConfigError(f"{source}: nested too deeply") from exc
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


def _model_at(model: type[BaseModel], loc: tuple) -> type[BaseModel] | None:
    """The configuration model that owns the key at `loc` (its last element), for suggestions."""
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(str(part))
        if field is None:
            return None
        found = None
        todo = [field.annotation]
        while todo:
            kind = todo.pop()
            if isinstance(kind, type) and issubclass(kind, BaseModel):
                found = kind
                break
            todo.extend(typing.get_args(kind))
        if found is None:
            return None
        model = found
    return model


def _path(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def describe_errors(exc: ValidationError, model: type[BaseModel] = None) -> list[str]:  # type: ignore[assignment]
    """One short line per problem: the key path, what is wrong, and for a typo the nearest valid key."""
    model = model or BrandConfig
    lines = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        if error["type"] == "extra_forbidden":
            owner = _model_at(model, loc)
            known = list(owner.model_fields) if owner else []
            import difflib  # only a configuration with a typo needs it, never a cold start

            near = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6)
            hint = f"; did you mean {near[0]!r}?" if near else (f"; valid keys: {', '.join(known)}" if known else "")
            lines.append(f"{_path(loc)}: unknown key{hint}")
        elif error["type"] == "missing":
            lines.append(f"{_path(loc)}: required key missing")
        else:
            message = str(error["msg"]).removeprefix("Value error, ")
            lines.append(f"{_path(loc)}: {message}" if loc else message)
    return lines


def parse_config(text: str, *, source: str = "<string>") -> BrandConfig:
    raw = _read_raw(text, source)
    try:
        return BrandConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{source}: " + "; ".join(describe_errors(exc))) from exc


@functools.cache
def load_config(path: str) -> BrandConfig:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read brand configuration {path}: {exc}") from exc
    return parse_config(text, source=path)
