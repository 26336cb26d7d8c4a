"""A brand's regex rules: one search over all patterns first, then the rules in order where it hits."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from socialcare.classify.rules import RULED_TAGS, BrandRules, normalise
from socialcare.config import Rule, load_config
from socialcare.settings import Settings

from tests.unit.classify.conftest import GOLDEN_DIR, read_jsonl

ROUTING = GOLDEN_DIR.parent / "routing" / "mentions.jsonl"


def reference(rules: list[Rule], text: str) -> dict[str, str]:
    """What rules decide, the plain way: every pattern case-insensitively, in order, first one per tag."""
    out: dict[str, str] = {}
    for rule in rules:
        if re.search(rule.pattern, text, re.IGNORECASE):
            for name in RULED_TAGS:
                value = getattr(rule, name)
                if value and name not in out:
                    out[name] = value
    return out


def shipped_rules() -> list[Rule]:
    return load_config(Settings().config_path).rules


def test_shipped_rules_decide_as_the_plain_loop_on_every_hand_written_mention() -> None:
    # Given the sample airline's rules and every hand-written mention the project has
    rules = shipped_rules()
    matcher = BrandRules(rules)
    texts = [
        r["text"]
        for path in (GOLDEN_DIR / "golden.jsonl", GOLDEN_DIR / "intents_train.jsonl", ROUTING)
        for r in read_jsonl(path)
    ]
    texts += ["REFUND me NOW", "Lost BAG at the gate", "The App is DOWN again", "app won't load my boarding pass"]
    # When each is decided by the joined search and by the plain loop
    decided = [(matcher.decide(normalise(t)), reference(rules, normalise(t))) for t in texts]
    # Then they agree on every mention, and enough mentions hit a rule for that to mean something
    assert all(a == b for a, b in decided)
    assert sum(1 for a, _ in decided if a) >= 20


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(
                [
                    "refund",
                    "refunds",
                    "lost",
                    "bag",
                    "app",
                    "down",
                    "website",
                    "crashed",
                    "check-in",
                    "boarding",
                    "pass",
                    "damaged",
                    "luggage",
                    "REFUND",
                    "App",
                    " ",
                    ".",
                    "\n",
                ]
            ),
            st.text(alphabet=st.characters(codec="latin-1"), max_size=8),
            st.text(alphabet="مرحباनमस्ते😀éàüß", max_size=4),
        ),
        max_size=30,
    ).map(" ".join)
)
def test_joined_search_never_misses_a_rule(text: str) -> None:
    rules = shipped_rules()
    clean = normalise(text)
    assert BrandRules(rules).decide(clean) == reference(rules, clean)


def test_pattern_with_capitals_still_matches_lower_cased_text() -> None:
    rules = [Rule(pattern=r"\bRefund\b", department="billing")]
    assert BrandRules(rules).decide(normalise("I want my REFUND")) == {"department": "billing"}


def test_first_rule_that_sets_a_tag_wins_and_later_rules_fill_the_others() -> None:
    rules = [
        Rule(pattern="refund", department="billing"),
        Rule(pattern="refund", department="payments", intent="request"),
        Rule(pattern="fraud", urgency="money_lost"),
    ]
    assert BrandRules(rules).decide("refund after fraud") == {
        "department": "billing",
        "intent": "request",
        "urgency": "money_lost",
    }
    assert BrandRules(rules).decide("nothing here") == {}


@pytest.mark.parametrize(
    "patterns",
    [
        [r"(\w)\1{3}", "refund"],  # a numbered back-reference would point at another pattern's group
        [r"(?P<x>refund)", r"(?P<x>lost)"],  # the same group name twice cannot be joined
        [r"(?i)refund", "lost"],  # inline flags are only allowed at the start of a pattern
    ],
)
def test_patterns_that_cannot_be_joined_are_matched_one_by_one(patterns: list[str]) -> None:
    rules = [Rule(pattern=p, department=f"d{i}") for i, p in enumerate(patterns)]
    matcher = BrandRules(rules)
    for text in ("aaaa", "refund", "lost", "nothing"):
        assert matcher.decide(text) == reference(rules, text)


def test_no_rules_decide_nothing() -> None:
    matcher = BrandRules([])
    assert not matcher
    assert matcher.decide("refund") == {}
