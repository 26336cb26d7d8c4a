"""A small language guess: writing system first, then common function words for Latin-script text.

Good enough to route a mention to an agent who reads it and to lower confidence on languages the
model never saw; "und" (undetermined) with low confidence when there is too little to go on.
"""

from __future__ import annotations

import re
from typing import Any

# The language head's probability above which it is taken over the stop-word count.
_TRUST_MODEL = 0.5
_WORD_RE = re.compile(r"[^\W\d_]+", re.UNICODE)
# Links, handles, hashtags and markup say nothing about the language a person writes in.
_SKIP_RE = re.compile(r"(?:https?://|www\.)\S+|[@#]\w+|<[^>]{0,500}>|&\w+;", re.IGNORECASE)

_SCRIPTS: tuple[tuple[int, int, str], ...] = (
    (0x0370, 0x03FF, "el"),
    (0x0400, 0x04FF, "ru"),
    (0x0590, 0x05FF, "he"),
    (0x0600, 0x06FF, "ar"),
    (0x0900, 0x097F, "hi"),
    (0x0E00, 0x0E7F, "th"),
    (0x3040, 0x30FF, "ja"),
    (0xAC00, 0xD7AF, "ko"),
    (0x4E00, 0x9FFF, "zh"),
)

STOPWORDS: dict[str, frozenset[str]] = {
    "en": frozenset(
        [
            "the",
            "and",
            "is",
            "are",
            "was",
            "were",
            "to",
            "of",
            "in",
            "on",
            "for",
            "my",
            "me",
            "you",
            "your",
            "it",
            "this",
            "that",
            "with",
            "have",
            "has",
            "not",
            "no",
            "why",
            "what",
            "when",
            "where",
            "how",
            "can",
            "could",
            "would",
            "please",
            "thanks",
            "just",
            "i",
            "we",
            "they",
            "be",
            "been",
            "at",
            "from",
            "our",
            "an",
        ]
    ),
    "es": frozenset(
        [
            "el",
            "la",
            "los",
            "las",
            "de",
            "del",
            "que",
            "y",
            "en",
            "un",
            "una",
            "por",
            "para",
            "con",
            "no",
            "es",
            "mi",
            "me",
            "su",
            "se",
            "lo",
            "al",
            "pero",
            "muy",
            "cuando",
            "donde",
            "como",
            "qué",
            "gracias",
            "hola",
            "porque",
            "ya",
            "está",
            "están",
            "tengo",
            "hace",
            "nada",
        ]
    ),
    "fr": frozenset(
        [
            "le",
            "la",
            "les",
            "de",
            "des",
            "du",
            "et",
            "est",
            "un",
            "une",
            "pour",
            "avec",
            "pas",
            "je",
            "j",
            "vous",
            "mon",
            "ma",
            "mes",
            "ne",
            "qui",
            "que",
            "dans",
            "sur",
            "au",
            "aux",
            "ce",
            "cette",
            "merci",
            "bonjour",
            "mais",
            "très",
            "depuis",
            "toujours",
            "rien",
        ]
    ),
    "de": frozenset(
        [
            "der",
            "die",
            "das",
            "und",
            "ist",
            "nicht",
            "ein",
            "eine",
            "mit",
            "für",
            "ich",
            "mein",
            "meine",
            "sie",
            "es",
            "zu",
            "auf",
            "den",
            "dem",
            "des",
            "im",
            "von",
            "bitte",
            "danke",
            "aber",
            "noch",
            "schon",
            "seit",
            "wie",
            "warum",
            "wird",
            "kein",
            "keine",
        ]
    ),
    "pt": frozenset(
        [
            "o",
            "a",
            "os",
            "as",
            "de",
            "do",
            "da",
            "dos",
            "das",
            "e",
            "em",
            "um",
            "uma",
            "para",
            "com",
            "não",
            "é",
            "meu",
            "minha",
            "que",
            "por",
            "no",
            "na",
            "mas",
            "muito",
            "obrigado",
            "obrigada",
            "você",
            "já",
            "está",
            "estou",
            "até",
            "sem",
        ]
    ),
    "it": frozenset(
        [
            "il",
            "lo",
            "la",
            "gli",
            "le",
            "di",
            "del",
            "della",
            "e",
            "è",
            "un",
            "una",
            "per",
            "con",
            "non",
            "mio",
            "mia",
            "che",
            "in",
            "sono",
            "ho",
            "ma",
            "molto",
            "grazie",
            "ancora",
            "perché",
            "come",
            "dove",
            "sempre",
            "nessuno",
        ]
    ),
    # Hindi as it is mostly typed on social media: romanised. Words that English, Spanish or
    # Italian also use ("to", "me", "se", "hai") are left out.
    "hi": frozenset(
        [
            "nahi",
            "nahin",
            "kya",
            "hai",
            "hain",
            "tha",
            "thi",
            "ho",
            "raha",
            "rahi",
            "kar",
            "karo",
            "karna",
            "mera",
            "meri",
            "mere",
            "tum",
            "aap",
            "apna",
            "bahut",
            "bhi",
            "aur",
            "kyun",
            "kyu",
            "kaise",
            "kab",
            "yaar",
            "accha",
            "acha",
            "sab",
            "kuch",
            "koi",
            "abhi",
            "bhai",
            "ji",
            "hoga",
            "gaya",
            "gayi",
            "diya",
            "wala",
            "wali",
            "mujhe",
            "humko",
            "hum",
            "toh",
            "ki",
            "ke",
            "ka",
            "ko",
            "mein",
            "ye",
            "yeh",
            "woh",
            "wo",
        ]
    ),
    "nl": frozenset(
        [
            "de",
            "het",
            "een",
            "en",
            "is",
            "niet",
            "van",
            "ik",
            "mijn",
            "je",
            "jullie",
            "met",
            "voor",
            "op",
            "dat",
            "die",
            "te",
            "zijn",
            "maar",
            "nog",
            "al",
            "geen",
            "bedankt",
            "waarom",
            "wanneer",
        ]
    ),
}


_STOP_INDEX: dict[str, tuple[str, ...]] = {}
for _lang, _words in STOPWORDS.items():
    for _w in _words:
        _STOP_INDEX[_w] = (*_STOP_INDEX.get(_w, ()), _lang)


def detect(
    text: str, words: list[str] | None = None, predicted: Any = None, coverage: float = 1.0
) -> tuple[str, float]:
    """An ISO 639-1 code (or "und") and a confidence in [0, 1].

    ``words`` may pass the lower-cased words already split from the text (the model's tokens), which
    saves splitting it twice on the hot path. ``predicted`` is the model's language head for the
    text (a label and a confidence), used for Latin-script text when it is sure enough: it reads
    character n-grams, so it knows short posts, misspellings and romanised Hindi that carry no stop word.
    ``coverage`` is the share of the text's words the model knows: below half, it is a language the
    head never saw (Finnish, Dutch, ...) and its guess is not used.
    """
    raw = (text or "")[:1000]
    counts: dict[str, int] = {}
    letters = 0
    # Latin-script text (nearly every mention) skips the per-character script count.
    if raw and max(raw) >= "\u0370":
        for ch in _SKIP_RE.sub(" ", raw):
            o = ord(ch)
            if o < 0x0370:
                letters += ch.isalpha()
                continue
            for lo, hi, lang in _SCRIPTS:
                if lo <= o <= hi:
                    counts[lang] = counts.get(lang, 0) + 1
                    break
    if counts:
        lang, n = max(counts.items(), key=lambda kv: kv[1])
        if lang == "zh" and counts.get("ja"):  # kanji with kana is Japanese
            lang, n = "ja", n + counts["ja"]
        if n >= letters:
            return lang, min(0.95, 0.5 + 0.05 * n)
    if words is None:
        words = _WORD_RE.findall(_SKIP_RE.sub(" ", raw).lower())
    if not words:
        return "und", 0.0
    use_model = predicted is not None and coverage >= 0.5
    if use_model and predicted[1] >= 0.9:  # sure enough whatever the stop words say (below)
        return predicted[0], round(min(0.95, predicted[1] * min(1.0, 0.55 + 0.15 * len(words))), 3)
    scores = dict.fromkeys(STOPWORDS, 0)
    index = _STOP_INDEX
    for w in words:
        for lang in index.get(w, ()):
            scores[lang] += 1
    best = max(scores, key=scores.__getitem__)
    hits = scores[best]
    if use_model:
        # The head reads character n-grams (short posts, romanised Hindi, no stop word at all), but
        # one or two words are thin evidence, and stop words it disagrees with outweigh a weak guess.
        label, p = predicted[0], predicted[1]
        sure = _TRUST_MODEL if len(words) >= 3 else 0.9
        if p >= sure and (hits == 0 or label == best or p >= 0.9):
            return label, round(min(0.95, p * min(1.0, 0.55 + 0.15 * len(words))), 3)
    if hits == 0:
        return "und", 0.1
    runner_up = max(v for k, v in scores.items() if k != best)
    margin = (hits - runner_up) / hits
    share = hits / len(words)
    return best, round(min(0.95, 0.3 + 0.4 * margin + share), 3)
