"""The Comprehend cascade: which mentions it would send, what it costs, and what the local model reads
on them. Measured on the golden set (hand-written, never trained on), with the shipped model.

A cascade (`classifier.cascade` in the brand configuration) asks Amazon Comprehend's DetectSentiment,
once, for the mentions whose local language tag is listed or whose local sentiment confidence is below
a floor. Comprehend meters 100-character units with a 3-unit minimum per request; the price is its
public on-demand one (us-east-1, first 10 million units a month). Comprehend's own accuracy on these
mentions is not measured here: it needs an AWS account.
"""

from __future__ import annotations

import math
from typing import Any

from bench.classifier import GOLDEN, _rows

USD_PER_UNIT = 0.0001  # DetectSentiment / DetectDominantLanguage, per 100 characters
MIN_UNITS = 3

SETTINGS: list[tuple[str, dict[str, Any]]] = [
    ("hi only", {"languages": ["hi"]}),
    ("below 0.5", {"below": 0.5}),
    ("below 0.6", {"below": 0.6}),
    ("hi + below 0.5", {"languages": ["hi"], "below": 0.5}),
]


def units(text: str) -> int:
    """Comprehend's metered units for one request carrying ``text`` (as the classifier truncates it)."""
    from socialcare.classify.comprehend import _truncate

    return max(MIN_UNITS, math.ceil(len(_truncate(text.strip())) / 100))


def run() -> None:
    from socialcare.classify import build_classifier
    from socialcare.classify.comprehend import ComprehendClassifier
    from socialcare.config import load_config
    from socialcare.settings import Settings

    config = load_config(Settings().config_path)
    local = build_classifier(config)
    golden = _rows(GOLDEN)
    tags = [local.classify(r["text"], rating=r.get("rating")) for r in golden]
    n = len(golden)
    every = sum(units(r["text"]) for r in golden)
    print(
        f"Comprehend cascade on the golden set ({n} mentions, 9 languages), shipped model; USD per million "
        f"mentions at {USD_PER_UNIT} per 100-character unit, {MIN_UNITS}-unit minimum"
    )
    print("  local sentiment accuracy on the mentions sent and on those kept local:")
    print(f"  {'setting':16}{'sent':>7}{'hi sent':>9}{'USD / M':>9}{'acc sent':>10}{'acc kept':>10}")
    for label, cascade in SETTINGS:
        settings = config.classifier.model_dump() | {"cascade": cascade}
        cfg = config.model_copy(update={"classifier": type(config.classifier).model_validate(settings)})
        gate = ComprehendClassifier(cfg, local, client=object())  # decides only; never calls the client
        sent = [i for i, t in enumerate(tags) if gate.escalates(t, golden[i].get("rating"))]
        chosen = set(sent)
        kept = [i for i in range(n) if i not in chosen]
        hindi = [i for i in range(n) if golden[i]["lang"] == "hi"]
        usd = sum(units(golden[i]["text"]) for i in sent) / n * 1e6 * USD_PER_UNIT

        def acc(idx: list[int]) -> str:
            right = sum(tags[i].sentiment.value == golden[i]["sentiment"] for i in idx)
            return f"{right / len(idx):.3f}" if idx else "-"

        hi_sent = sum(1 for i in sent if golden[i]["lang"] == "hi") / len(hindi)
        print(f"  {label:16}{len(sent) / n:>7.1%}{hi_sent:>9.1%}{usd:>9.0f}{acc(sent):>10}{acc(kept):>10}")
    print(
        f"  backend comprehend (two calls for every mention: language, then sentiment): "
        f"USD {2 * every / n * 1e6 * USD_PER_UNIT:.0f} per million"
    )


if __name__ == "__main__":
    run()
