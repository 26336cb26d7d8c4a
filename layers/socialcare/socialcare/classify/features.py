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
# A word character: \w, plus the combining marks that \w leaves out but words are spelt with (Latin
# accents typed as separate marks, Arabic vowel marks, the vowel signs and viramas of Devanagari and the
# other Indic scripts, whose blocks are taken whole but for the danda), and the zero-width joiners.
# With \w alone "नहीं" split into "नह", "ी", "ं".
_WORD_CHAR = r"[\w\u0300-\u036f\u0610-\u061a\u064b-\u065f\u0670\u0900-\u0963\u0966-\u0dff\u200c\u200d]"
_TOKEN_RE = re.compile(
    rf"@{_WORD_CHAR}+|#{_WORD_CHAR}+|\w{_WORD_CHAR}*(?:['’]{_WORD_CHAR}+)*|[!?]+|[^\w\s]", re.UNICODE
)
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
    # The public airline data set had "cancel" and "late" replaced inside words ("Cancelled Flightled",
    # "Late Flightr"); undone, the model learns those words as real posts spell them.
    if "d Flight" in text or "e Flight" in text:
        text = text.replace("Cancelled Flight", "cancel").replace("Late Flight", "late")
    # Each pass runs only when its trigger character is there: most posts have no markup or entity.
    if "<" in text:
        text = _TAG_RE.sub(" ", text)
    if "&" in text:
        text = html.unescape(text)
    low = text.lower()
    if "http" in low or "www." in low:
        low = _URL_RE.sub(" httpurl ", text).lower()
    if "’" in low:
        low = low.replace("’", "'")
    return _REPEAT_RE.sub(r"\1\1", low)


def tokens(text: str) -> list[str]:
    return _TOKEN_RE.findall(clean(text))[:MAX_TOKENS]


def word_features(toks: list[str]) -> list[str]:
    """Unigrams, bigrams, negation-scoped unigrams and a couple of shape cues, as strings."""
    if not toks:
        return ["<s> </s>", *cue_features(toks), "<empty>"]
    joined = " ".join(toks)
    if _NEGATORS.isdisjoint(toks) and "n't" not in joined:
        # No negation to scope (two posts in three): each unigram, then its bigram, built in C loops.
        feats = [""] * (2 * len(toks))
        feats[::2] = toks
        feats[1::2] = [prev + " " + tok for prev, tok in zip(["<s>", *toks], toks, strict=False)]  # one longer
    else:
        feats = []
        append = feats.append
        negated = False
        prev = "<s>"
        for tok in toks:
            append(tok)
            append(prev + " " + tok)
            if negated:
                append("NOT_" + tok)
            if tok in _NEGATORS or tok.endswith("n't"):
                negated = True
            elif tok in _CLAUSE_END or tok[0] in "!?":
                negated = False
            prev = tok
    feats.append(toks[-1] + " </s>")
    feats += cue_features(toks, joined)
    return feats


# Hand-written cue lexicons in several languages. They only add a feature ("CUE:<name>"); the
# weight each cue gets is learned from labelled data like any other feature.
_CUES: dict[str, str] = {
    "question": "how what when where which why who does do is are can could will would anyone anybody "
    "cómo como qué cuándo cuando dónde donde cuánto cuánta cuántos puedo hay "
    "comment quand où combien pourquoi est-ce peut-on "
    "wie wann wo warum was welche gibt kann "
    "quando dove quanto perché posso "
    "qual quanto onde pode "
    "hoe wanneer waar waarom mag kan werkt",
    "request": "please pls plz dm help need needs want asap fix send cancel refund change add remove update "
    "rebook reset unlock "
    "favor necesito quiero ayuda envíenme cámbienme cancelen "
    "pouvez veuillez voudrais besoin svp aidez "
    "bitte brauche möchte helfen "
    "favore vorrei bisogno aiuto "
    "quero preciso cancelem ajuda",
    "negative": "never nobody nothing still again worst terrible awful horrible unacceptable ridiculous "
    "useless rude broken lost missing damaged cancelled canceled delayed late cold stuck hours "
    "nadie nunca otra vez peor roto perdido perdieron retraso frío "
    "personne jamais rien toujours pire inadmissible cassé retardé annulé froid "
    "niemand nie nichts immer schlimm kaputt verschwunden gestrichen kalt "
    "nessuno mai niente ancora peggio rotto ritardo cancellato freddo "
    "ninguém nunca nada pior quebrado atrasou rasgada "
    "niemand nooit kapot",
    "positive": "thanks thank thx great love loved awesome amazing excellent brilliant best perfect "
    "impressed "
    "wonderful fantastic legend kudos appreciate lovely smooth helpful friendly "
    "gracias excelente genial perfecto encanta amables "
    "merci parfait super adorable génial excellent "
    "danke toll super klasse freundlich "
    "grazie ottimo perfetto gentilissimo complimenti "
    "obrigado obrigada ótimo excelente adorei parabéns "
    "bedankt geweldig top",
    "press": "says said report reports reported according announces announced ceo chief executive shares "
    "investors profits profit results lawsuit sued sues fined fine fines regulator watchdog investigation "
    "strike strikes protest protests union boycott merger settlement editorial opinion journalist accused "
    "criticised criticized quarter board "
    "anuncia multa multada prensa huelga demanda "
    "annonce condamné grève amende presse "
    "streiken streik kritisieren verbraucherschützer "
    "sciopero multa annuncia",
    "spam": "giveaway follow followers retweet rt win free crypto airdrop bitcoin earn click link bio promo "
    "discount subscribe dm sorteo gana gratis concours gagnez gewinnspiel gewinnen",
    "safety": "smoke fire burning burned burn sparks sparked melted exploded injured injury hurt bleeding "
    "fainted seizure unconscious allergy allergic ambulance emergency medical dangerous unsafe danger "
    "hospital glass raw poisoning sick harassing harassed followed wiring overheating swelled "
    "humo fuego herido peligro peligroso alérgica alergia hospital "
    "fumée feu blessé danger dangereux gonflé brûlé "
    "rauch feuer verletzt gefährlich "
    "fumo fuoco ferito pericoloso "
    "fumaça fogo ferido perigoso",
    "outage": "down outage offline crash crashes crashing crashed error loading login log signal internet "
    "broadband wifi data unavailable maintenance timeout timing "
    "señal internet caído funciona carga "
    "réseau panne coupé marche fonctionne "
    "netz störung stürzt ausfall "
    "rete funziona "
    "sinal funciona abre",
    "money": "charged charge charges billed bill fee fees refund refunded money paid payment transaction "
    "transfer card overcharged double twice deposit voucher cash statement "
    "cobraron cobrando reembolso dinero cobro "
    "remboursement remboursé débité prélèvement argent frais "
    "geld zurück gebühr abgebucht "
    "addebitato soldi rimborso commissione "
    "cobrou reembolso dinheiro taxa",
    "today": "today tonight now gate boarding boards leaves minutes tarmac midnight asap urgent hurry "
    "hoy noche ahora embarque soir maintenant heute jetzt abend stasera oggi hoje agora",
}
_CUE_WORDS: dict[str, list[str]] = {}
for _name, _words in _CUES.items():
    for _w in _words.split():
        _CUE_WORDS.setdefault(_w, []).append("CUE:" + _name)


def cue_features(toks: list[str], joined: str | None = None) -> list[str]:
    """One "CUE:<name>" per lexicon that the post touches, plus shape cues (question mark, first word).
    ``joined``: the tokens joined by spaces, when the caller has it."""
    cues = _CUE_WORDS
    found = {c for t in cues.keys() & toks for c in cues[t]}
    if joined is None:
        joined = " ".join(toks)
    # A token opening with "?" is a run of "?" and "!" (the tokeniser's [!?]+), so it needs a "?".
    if "¿" in toks or ("?" in joined and any(t[0] == "?" for t in toks)):
        found.add("CUE:qmark")
    if toks and not toks[0].startswith("@") and toks[0] in cues:
        found.add("CUE:first:" + cues[toks[0]][0][4:])
    return sorted(found)


def word_grams(word: str) -> list[str]:
    """Character n-grams of one word, padded with spaces at both ends."""
    padded = " " + word[:MAX_WORD] + " "
    n_chars = len(padded)
    return [padded[i : i + n] for n in CHAR_NGRAMS for i in range(n_chars - n + 1)]


def char_words(toks: list[str]) -> list[str]:
    """The tokens whose character n-grams count: words and hashtags, not punctuation or handles."""
    return [t.lstrip("#") for t in toks if t[0].isalnum() or (t[0] == "#" and len(t) > 1) or ord(t[0]) > 0x2000]
