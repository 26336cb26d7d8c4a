"""Text to features, shared by training and inference so both see exactly the same thing.

Two blocks: word features (unigrams, bigrams, negation-marked words, a few shape cues) and
character n-grams inside each word (2 to 5 characters, padded with spaces, like scikit-learn's
``char_wb``). Character n-grams depend only on the word, so inference can cache a word's summed
n-gram weights; each block is scaled by ``1 / sqrt(number of its features)`` so those cached sums
add up exactly.
"""

from __future__ import annotations

import html
import re

# Long posts are tagged on their opening: the tags of a 10,000-character rant do not change after
# its first few hundred words, and the cost stays bounded.
MAX_CHARS = 2_000
MAX_TOKENS = 160
MAX_WORD = 24
CHAR_NGRAMS = (2, 3, 4, 5)

_TAG_RE = re.compile(r"<[^>]{0,500}>")
_URL_RE = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_REPEAT_RE = re.compile(r"(.)\1{2,}")
_TOKEN_RE = re.compile(r"@\w+|#\w+|\w+(?:['’]\w+)*|[!?]+|[^\w\s]", re.UNICODE)
_NEGATORS = frozenset(
    {
        "not",
        "no",
        "never",
        "nobody",
        "nothing",
        "nowhere",
        "neither",
        "nor",
        "cannot",
        "without",
        "can't",
        "won't",
        "don't",
        "didn't",
        "doesn't",
        "isn't",
        "wasn't",
        "aren't",
        "haven't",
        "hasn't",
        "couldn't",
        "wouldn't",
        "shouldn't",
        "cant",
        "wont",
        "dont",
        "didnt",
        "doesnt",
        "isnt",
        "wasnt",
    }
)
_CLAUSE_END = frozenset({".", ",", "!", "?", ";", ":", "!!", "??", "?!", "!?"})


def clean(text: str) -> str:
    """Lower-cased text without markup, with links as one token and long letter runs shortened."""
    text = (text or "")[:MAX_CHARS]
    text = html.unescape(_TAG_RE.sub(" ", text))
    text = _URL_RE.sub(" httpurl ", text)
    return _REPEAT_RE.sub(r"\1\1", text.lower().replace("’", "'"))


def tokens(text: str) -> list[str]:
    return _TOKEN_RE.findall(clean(text))[:MAX_TOKENS]


def word_features(toks: list[str]) -> list[str]:
    """Unigrams, bigrams, negation-scoped unigrams and a couple of shape cues, as strings."""
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
    if not toks:
        feats.append("<empty>")
    return feats


def word_grams(word: str) -> list[str]:
    """Character n-grams of one word, padded with spaces at both ends."""
    padded = " " + word[:MAX_WORD] + " "
    n_chars = len(padded)
    return [padded[i : i + n] for n in CHAR_NGRAMS for i in range(n_chars - n + 1)]


def char_words(toks: list[str]) -> list[str]:
    """The tokens whose character n-grams count: words and hashtags, not punctuation or handles."""
    return [
        t.lstrip("#") for t in toks if t[0].isalnum() or (t[0] == "#" and len(t) > 1) or ord(t[0]) > 0x2000
    ]
