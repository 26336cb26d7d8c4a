"""The fast inference path against a plain reading of the artifact: the same tags, the same numbers.

Inference packs weight rows into integers, caches them per feature and per word, builds features in C
loops and skips distributions nobody reads. The reference below does none of that: it builds the
features with one loop, adds weight rows column by column and takes each head's softmax, in the float
operations the model's docstring describes. Both must agree exactly, on a fresh model (every feature
looked up) and on a warm one (every feature cached), for mentions in every language of the golden and
routing sets and for odd input.
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import pytest
from socialcare.classify import build_classifier
from socialcare.classify.features import _CLAUSE_END, _CUE_WORDS, _NEGATORS, char_words, tokens, word_grams
from socialcare.classify.model import Model, Prediction, featurise_text, load, loads
from socialcare.classify.routing import _IGNORED, KEYWORD_BONUS, ZeroShotRouter, text_words
from socialcare.classify.routing import _WORD_RE as _ROUTER_WORD_RE
from socialcare.classify.rules import normalise
from socialcare.classify.trained import ModelClassifier, data_dir
from socialcare.config import BrandConfig, load_config
from socialcare.settings import Settings

from tests.unit.classify.conftest import GOLDEN_DIR, read_jsonl

ROOT = Path(__file__).resolve().parents[3]
ARTIFACT = data_dir() / "model" / "airline.scm"
SAMPLE_BRANDS = sorted((ROOT / "examples" / "brands").glob("*.yaml"))
ODD = [
    "",
    " ",
    "\n\t  ",
    "😡😡😡",
    "🙏🏽✈️",
    "?",
    "!?",
    "¿",
    "what?! why??",
    "¿dónde está mi maleta?",
    "@united",
    "#fail #worst",
    "http://t.co/abc www.example.com",
    "a" * 100_000,
    "delayed again " * 8_000,
    "\x00\x01\x02 binary \ufffd\ufffe",
    "my bag lost 我的行李 حقيبتي ضاعت मेरा बैग",
    "Привет, рейс задержан",
    "フライトが遅れた",
    "mera flight cancel ho gaya yaar, koi help nahi",
    "<b>bold</b> &amp; co &lt;3",
    "Cancelled Flightled again, Late Flightr",
    "I can’t believe it’s not working, don't not never no",
    "no. but yes! not now? never",
    "ÇA NE MARCHE PAS",
    "e\u0301clair ﬁle ﬂight İstanbul ß",
    "refund refund refund",
    "word " * 400,
]


def _texts() -> list[str]:
    golden = [r["text"] for r in read_jsonl(GOLDEN_DIR / "golden.jsonl")]
    routing = [r["text"] for r in read_jsonl(ROOT / "tests" / "data" / "routing" / "mentions.jsonl")]
    texts = golden + routing + ODD
    return texts + [t.upper() for t in texts[::7]] + [t[: len(t) // 2] for t in texts[::5]]


def _reference_features(text: str) -> tuple[list[str], list[str]]:
    """Word features built token by token, cue lexicons word by word."""
    toks = tokens(text)
    feats: list[str] = []
    negated = False
    prev = "<s>"
    for tok in toks:
        feats.append(tok)
        feats.append(prev + " " + tok)
        if negated:
            feats.append("NOT_" + tok)
        if tok in _NEGATORS or tok.endswith("n't"):
            negated = True
        elif tok in _CLAUSE_END or tok[0] in "!?":
            negated = False
        prev = tok
    feats.append(prev + " </s>")
    found = {c for t in toks for c in _CUE_WORDS.get(t, ())}
    if "?" in toks or any(t[0] == "?" or t == "¿" for t in toks):
        found.add("CUE:qmark")
    if toks and not toks[0].startswith("@") and toks[0] in _CUE_WORDS:
        found.add("CUE:first:" + _CUE_WORDS[toks[0]][0][4:])
    feats.extend(sorted(found))
    if not toks:
        feats.append("<empty>")
    return feats, char_words(toks)


class Reference:
    """The artifact read plainly: dense rows, column sums, one softmax per head."""

    def __init__(self, model: Model) -> None:
        self.k = model.width
        self.heads = model.heads
        self.scales = model.scales
        self.word_index = dict(model._word_index)  # noqa: SLF001 - the reference reads the raw artifact
        self.char_index = dict(model._char_index)  # noqa: SLF001
        self.word_weights = model._word_weights.dense()  # type: ignore[union-attr]  # noqa: SLF001
        self.char_weights = model._char_weights.dense()  # type: ignore[union-attr]  # noqa: SLF001
        self.stack = dict(model.meta.get("stack") or {})

    def _row(self, weights: object, i: int) -> list[int]:
        return list(weights[i * self.k : (i + 1) * self.k])  # type: ignore[index]

    def predict(self, text: str) -> tuple[dict[str, Prediction], float, list[str]]:
        feats, words = _reference_features(text)
        word_sum, char_sum = [0] * self.k, [0] * self.k
        for f in feats:
            if (i := self.word_index.get(f)) is not None:
                word_sum = [a + b for a, b in zip(word_sum, self._row(self.word_weights, i), strict=True)]
        n_grams = known = 0
        for w in words:
            grams = word_grams(w)
            n_grams += len(grams)
            known += w in self.word_index
            for g in grams:
                if (i := self.char_index.get(g)) is not None:
                    char_sum = [a + b for a, b in zip(char_sum, self._row(self.char_weights, i), strict=True)]
        ws = 1.0 / math.sqrt(len(feats))
        cs = 1.0 / math.sqrt(n_grams) if words else 0.0
        logits_all = [
            (ws * a + cs * b) * s + bias
            for a, b, s, bias in zip(
                word_sum, char_sum, self.scales, [b for h in self.heads for b in h.bias], strict=True
            )
        ]
        out: dict[str, Prediction] = {}
        for h in self.heads:
            lo, hi = h.offset, h.offset + h.width
            logits = logits_all[lo:hi]
            src = self.stack.get(h.name)
            if src is not None:
                for c in next(x for x in self.heads if x.name == src).classes:
                    if (i := self.word_index.get(f"P:{src}={c}")) is not None:
                        row = [
                            v * sc
                            for v, sc in zip(self._row(self.word_weights, i)[lo:hi], self.scales[lo:hi], strict=True)
                        ]
                        p = out[src].probabilities[c]
                        logits = [v + p * r for v, r in zip(logits, row, strict=True)]
            top = max(logits)
            exps = [math.exp(v - top) for v in logits]
            inv = 1.0 / sum(exps)
            best = max(range(h.width), key=exps.__getitem__)
            probs = {c: e * inv for c, e in zip(h.classes, exps, strict=True)}
            out[h.name] = Prediction(h.classes[best], exps[best] * inv, probs)
        coverage = known / len(words) if words else 0.0
        return out, coverage, [w for w in words if w.isalpha() and w != "httpurl"]


@pytest.fixture(scope="module")
def reference() -> Reference:
    return Reference(load(ARTIFACT))


def test_the_model_scores_as_the_plain_reading_of_its_artifact_cold_and_warm(reference: Reference) -> None:
    # Given a freshly loaded model (nothing cached) and the reference reading of the same artifact
    model = loads(ARTIFACT.read_bytes())
    texts = _texts()
    assert len(texts) > 700
    for text in texts:
        expected = reference.predict(text)
        # When the model predicts a text the first time (features looked up) and again (cached)
        cold = model.predict_all(text)
        warm = model.predict_all(text, featurise_text(text))
        # Then every head's label, probability and distribution, the coverage and the words are equal
        assert cold == expected, text[:80]
        assert warm == expected, text[:80]
        assert featurise_text(text) == _reference_features(text), text[:80]


def test_heads_read_for_their_label_only_keep_their_label_and_probability(reference: Reference) -> None:
    # Given the model asked for every head, some of them for their label only
    model = load(ARTIFACT)
    only = frozenset({"urgency", "language", "sentiment"})
    for text in _texts()[::3]:
        full, coverage, words = reference.predict(text)
        got, got_coverage, got_words = model.predict_all(text, None, None, only)
        # Then those heads have the same label and probability and no distribution, except a head
        # another one stacks on (sentiment), which is computed in full; the rest is unchanged
        for name, p in full.items():
            if name in only and name != "sentiment":
                assert got[name] == Prediction(p.label, p.confidence, {}), text[:80]
            else:
                assert got[name] == p, text[:80]
        assert (got_coverage, got_words) == (coverage, words)


@pytest.mark.parametrize("path", [Settings().config_path, *map(str, SAMPLE_BRANDS)], ids=lambda p: Path(p).stem)
def test_classify_tags_do_not_depend_on_which_distributions_are_built(path: str) -> None:
    # Given a brand's classifier and the same classifier building every head's distribution
    config = load_config(path)
    clf = build_classifier(config)
    assert isinstance(clf, ModelClassifier)
    every = ModelClassifier(config, clf.model)
    every._heads, every._labels_only = None, frozenset()  # noqa: SLF001
    # When both classify every text, with and without a review rating, Then the tags are equal
    for i, text in enumerate(_texts()[::2]):
        rating = (None, 1, 3, 5)[i % 4]
        assert clf.classify(text, rating=rating) == every.classify(text, rating=rating), text[:80]


def _reference_route_scores(router: ZeroShotRouter, config: BrandConfig, text: str) -> list[float]:
    """The router read plainly: content words filtered first, keyword hits counted per department."""
    words = [w for w in text_words(text) if len(w) > 2 and w not in _IGNORED and w != "httpurl"]
    total = [0.0] * len(router.names)
    if words:
        vectors, counts = zip(*[router._word(w) for w in words], strict=True)  # noqa: SLF001
        total = list(map(sum, zip(*vectors, strict=True)))
        inv = 1.0 / math.sqrt(sum(counts))
        total = [t * inv for t in total]
    clean = normalise(text)
    word_set = set(_ROUTER_WORD_RE.findall(clean))
    for j, d in enumerate(config.departments):
        keys = [k.lower() for k in d.keywords if k.strip()]
        singles = Counter(k for k in keys if " " not in k and k.isalnum())
        hits = sum(singles[w] for w in word_set & singles.keys()) + sum(k in clean for k in keys if k not in singles)
        if hits:
            total[j] += KEYWORD_BONUS * hits
    return total


@pytest.mark.parametrize("path", SAMPLE_BRANDS, ids=lambda p: p.stem)
def test_routing_scores_as_the_plain_reading_of_the_configuration(path: Path) -> None:
    # Given a brand routed from its configuration
    config = load_config(str(path))
    router = ZeroShotRouter(config)
    # When it scores every text twice (words looked up, then cached), Then both equal the reference
    for text in _texts():
        expected = _reference_route_scores(ZeroShotRouter(config), config, text)
        assert router.scores(text) == expected, text[:80]
        assert router.scores(text, text_words(text), normalise(text)) == expected, text[:80]
