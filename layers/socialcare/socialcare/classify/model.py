"""The trained model artifact: linear heads over shared text features, scored in pure Python.

File layout (one file, a few MB at most)::

    b"SOCIALCARE-MODEL\\n"  magic
    4 bytes big-endian     length of the JSON header
    JSON header            format, heads (name, classes, biases, column offset, scales), sizes, crc32
    payload                one zlib stream of the word vocabulary and char n-gram vocabulary
                           ("\\n"-joined UTF-8), then the two int16 weight matrices (features x all
                           classes of all heads, row-major), each cut into blocks of ``block_rows``
                           rows, one zlib stream per block

Weights are quantised per class column (int16 with a float scale), with idf folded in, so inference is
dictionary look-ups, C-level sums over ``zip`` and one multiply per class: no numpy needed. A block of
weights is decompressed the first time a feature in it is scored, so loading reads only the
vocabularies (format 1 files, one stream for everything, are still read).

The payload's checksum is CRC-32 (format 3): it only has to catch a damaged or truncated file at load,
not a forged one, and it costs 2 ms on 8 MB where SHA-256 (formats 1 and 2, still read) costs 5 ms of
every cold start.
"""

from __future__ import annotations

import hashlib
import json
import math
import struct
import sys
import zlib
from array import array
from itertools import compress
from pathlib import Path
from typing import NamedTuple

from socialcare.classify.base import ClassifierError
from socialcare.classify.features import char_words, tokens, word_features, word_grams

MAGIC = b"SOCIALCARE-MODEL\n"
FORMAT = 3
_READS = (1, 2, 3)
# Rows per compressed block: small enough that a block decodes in tens of µs, big enough that
# zlib still finds the repeats (the artifact grows by a few percent over one stream).
BLOCK_ROWS = 256
_CACHE_LIMIT = 50_000
# Packed rows: 64 bits per class column hold any sum of int16 weights a post can have, so columns
# never carry into each other, and a packed sum reads back as an int64 array in one C call.
_FIELD = 64
_HALF = 1 << (_FIELD - 1)


class BlockRows:
    """A row-major int16 matrix kept as zlib blocks of ``block_rows`` rows, decoded on first use.

    Reads like the ``array`` it stands for (``len`` and slices), so the model and training code do
    not care which one they hold.
    """

    def __init__(self, blocks: list[bytes], width: int, rows: int, block_rows: int, source: str) -> None:
        self._blocks = blocks
        self._decoded: list[array | None] = [None] * len(blocks)
        self._stride = width * block_rows
        self._len = width * rows
        self._source = source
        if len(blocks) != -(-rows // block_rows):
            raise ClassifierError(f"model {source}: {len(blocks)} weight blocks for {rows} rows")

    def __len__(self) -> int:
        return self._len

    def _block(self, b: int) -> array:
        a = self._decoded[b]
        if a is None:
            a = array("h")
            try:
                a.frombytes(zlib.decompress(self._blocks[b]))
            except zlib.error as exc:
                raise ClassifierError(f"model {self._source}: unreadable weight block ({exc})") from exc
            if sys.byteorder != "little":
                a.byteswap()
            expected = min(self._stride, self._len - b * self._stride)
            if len(a) != expected:
                raise ClassifierError(f"model {self._source}: weight block {b} has the wrong size")
            self._decoded[b] = a
        return a

    def __getitem__(self, key: slice) -> array:
        start, stop, step = key.indices(self._len)
        if step != 1:
            raise TypeError("BlockRows supports contiguous slices only")
        stride = self._stride
        b = start // stride
        if stop <= (b + 1) * stride:  # the usual case: one row, inside one block
            return self._block(b)[start - b * stride : stop - b * stride]
        out = array("h")
        while start < stop:
            b = start // stride
            end = min(stop, (b + 1) * stride)
            out.extend(self._block(b)[start - b * stride : end - b * stride])
            start = end
        return out

    def dense(self) -> array:
        """The whole matrix as one array (decodes every block)."""
        return self[0 : self._len]


class Head(NamedTuple):
    """One label (sentiment, department, ...): its classes and where its columns sit. (A named tuple,
    not a dataclass: importing dataclasses pulls in inspect, a few ms of every cold start.)"""

    name: str
    classes: tuple[str, ...]
    bias: tuple[float, ...]
    offset: int

    @property
    def width(self) -> int:
        return len(self.classes)


# What every model reads from a text: its word features and its words (for character n-grams).
Features = tuple[list[str], list[str]]


def featurise_text(text: str) -> Features:
    """The features every artifact is trained on, built once per text (``Model.scores``)."""
    toks = tokens(text)
    return word_features(toks), char_words(toks)


class Prediction(NamedTuple):
    label: str
    confidence: float
    probabilities: dict[str, float]


class Model:
    """A loaded artifact. ``predict`` returns, per head, the best class and its probability."""

    def __init__(
        self,
        heads: list[Head],
        word_vocab: list[str],
        char_vocab: list[str],
        word_weights: array | BlockRows,
        char_weights: array | BlockRows,
        scales: list[float],
        meta: dict | None = None,
        source: str = "<memory>",
    ) -> None:
        source_name = source
        self.heads = heads
        self.width = sum(h.width for h in heads)
        self.scales = scales
        self.meta = meta or {}
        self.source = source
        if len(word_weights) != len(word_vocab) * self.width or len(char_weights) != len(char_vocab) * self.width:
            raise ClassifierError(f"model {source}: weight matrix does not match its vocabulary")
        if len(scales) != self.width:
            raise ClassifierError(f"model {source}: {len(scales)} scales for {self.width} classes")
        self._word_index = dict(zip(word_vocab, range(len(word_vocab)), strict=True))
        self._word_weights = word_weights
        self._char_index = dict(zip(char_vocab, range(len(char_vocab)), strict=True))
        self._char_weights = char_weights
        self._word_cache: dict[str, tuple[int, int, bool, bool]] = {}
        self._row_cache: dict[str, int] = {}
        # Packed sums: the word block's columns in the low fields, the char block's above them.
        self._block_bits = self.width * _FIELD
        self._lows = sum(1 << (j * _FIELD) for j in range(self.width))
        self._half = sum(_HALF << (j * _FIELD) for j in range(2 * self.width))
        self._bytes = 2 * self._block_bits // 8
        # Stacked heads: a head may also read another head's probabilities, as features named
        # "P:<source>=<class>" (e.g. intent reads sentiment: praise is rarely negative).
        self._stack: dict[str, list[tuple[str, list[float]]]] = {}
        for dep, src in (self.meta.get("stack") or {}).items():
            source = self.head(src)
            if source is None or self.head(dep) is None:
                raise ClassifierError(f"model {source_name}: stacked head {dep!r} reads unknown head {src!r}")
            dep_head = self.head(dep)
            lo, hi = dep_head.offset, dep_head.offset + dep_head.width  # type: ignore[union-attr]
            terms: list[tuple[str, list[float]]] = []
            for c in source.classes:
                i = self._word_index.get(f"P:{src}={c}")
                if i is not None:
                    row = word_weights[i * self.width : (i + 1) * self.width]
                    terms.append((c, [v * sc for v, sc in zip(row[lo:hi], scales[lo:hi], strict=True)]))
            self._stack[dep] = [(src, [])] + terms
        self._bias = [b for h in heads for b in h.bias]
        self._plan = [(h.name, h.offset, h.offset + h.width, h.classes, self._stack.get(h.name), True) for h in heads]
        self._plans: dict[tuple[frozenset[str] | None, frozenset[str]], list] = {}

    def plan_for(self, names: frozenset[str] | None, labels_only: frozenset[str] = frozenset()) -> list:
        """The heads to turn into probabilities: ``names`` and the heads they stack on (None: all).
        A brand routed from its configuration never reads the department head, for instance. Each
        step says whether the head's whole distribution is built: not for ``labels_only`` heads,
        unless another head stacks on them."""
        if names is None and not labels_only:
            return self._plan
        key = (names, labels_only)
        plan = self._plans.get(key)
        if plan is None:
            wanted = {step[0] for step in self._plan} if names is None else set(names)
            sources = {src for dep in wanted for src, _ in (self._stack.get(dep) or [])[:1]}
            wanted |= sources
            plan = self._plans[key] = [
                (*step[:5], step[0] not in labels_only or step[0] in sources)
                for step in self._plan
                if step[0] in wanted
            ]
        return plan

    # ---- inference -------------------------------------------------------------------------

    def head(self, name: str) -> Head | None:
        for h in self.heads:
            if h.name == name:
                return h
        return None

    def _pack(self, rows: list) -> int:
        """Weight rows (one value per class column) summed and packed into one integer, a field of
        ``_FIELD`` bits per column: summing rows is then one C-level ``sum`` of integers."""
        total = 0
        lows = self._lows
        for row in rows:
            # The row's values as int64 fields read as one unsigned integer; a negative field reads as
            # 2**64 more than it is, so its sign bit, moved one field up, is taken back off.
            fields = array("q", row.tolist())
            if sys.byteorder != "little":
                fields.byteswap()
            u = int.from_bytes(fields, "little")
            total += u - (((u >> (_FIELD - 1)) & lows) << _FIELD)
        return total

    def _word_row(self, feature: str) -> int:
        """One word feature's packed weights (0 for a feature the model does not know), cached."""
        i = self._word_index.get(feature)
        k = self.width
        row = 0 if i is None else self._pack([self._word_weights[i * k : (i + 1) * k]])
        if len(self._row_cache) >= _CACHE_LIMIT:
            self._row_cache.clear()
        self._row_cache[feature] = row
        return row

    def _word_chars(self, word: str) -> tuple[int, int, bool, bool]:
        """One word's summed, packed char n-gram weights, its number of n-grams, whether the model
        knows the word itself and whether it is a word of letters only; cached."""
        grams = word_grams(word)
        idx, w, k = self._char_index, self._char_weights, self.width
        packed = self._pack([w[i * k : (i + 1) * k] for i in map(idx.get, grams) if i is not None])
        if len(self._word_cache) >= _CACHE_LIMIT:
            self._word_cache.clear()
        result = (packed, len(grams), word in self._word_index, word.isalpha() and word != "httpurl")
        self._word_cache[word] = result
        return result

    def _sums(self, features: Features) -> tuple[array, float, float, float, list[str]]:
        """The integer weight sums of both blocks (word block's columns, then char block's), each
        block's ``1 / sqrt(number of its features)``, the share of known words and the letter words."""
        feats, words = features
        cache = self._row_cache
        rows = list(map(cache.get, feats))
        # Nearly every feature of a running function is cached: the sums are tried first, and a
        # missing feature (None) makes them fail, which is cheaper than looking for None every time.
        try:
            total = sum(rows)
        except TypeError:
            lookup = self._word_row
            total = sum([lookup(f) if r is None else r for f, r in zip(feats, rows, strict=True)])
        char_scale = 0.0
        coverage = 0.0
        letters: list[str] = []
        if words:
            word_cache = self._word_cache
            hits = list(map(word_cache.get, words))
            try:
                packed, n_grams, known, letter = zip(*hits, strict=True)
            except TypeError:
                chars = self._word_chars
                hits = [chars(wd) if h is None else h for wd, h in zip(words, hits, strict=True)]
                packed, n_grams, known, letter = zip(*hits, strict=True)
            # Both blocks' sums in one integer (the char block in the upper fields): one unpack.
            total += sum(packed) << self._block_bits
            char_scale = 1.0 / math.sqrt(sum(n_grams))
            coverage = sum(known) / len(words)
            letters = list(compress(words, letter))
        # Adding half a field to every column makes each field non-negative (no borrows between
        # columns); flipping each field's top bit back turns it into that column's signed sum in
        # two's complement, which ``array("q")`` reads.
        half = self._half
        sums = array("q")
        sums.frombytes(((total + half) ^ half).to_bytes(self._bytes, "little"))
        if sys.byteorder != "little":
            sums.byteswap()
        return sums, 1.0 / math.sqrt(len(feats)), char_scale, coverage, letters

    def scores(self, text: str, features: Features | None = None) -> tuple[list[float], float, list[str]]:
        """Raw class scores for every head, the share of words the model knows (0..1), and the
        text's words (lower-cased tokens of letters only). ``features`` may pass ``featurise_text(text)``
        already built for another model (a brand's learned head reads the same features)."""
        sums, ws, cs, coverage, letters = self._sums(features if features is not None else featurise_text(text))
        k = self.width
        raw = [(ws * w + cs * c) * s for w, c, s in zip(sums[:k], sums[k:], self.scales, strict=True)]
        return raw, coverage, letters

    def predict(self, text: str, features: Features | None = None) -> tuple[dict[str, Prediction], float]:
        out, coverage, _ = self.predict_all(text, features)
        return out, coverage

    def predict_all(
        self,
        text: str,
        features: Features | None = None,
        heads: frozenset[str] | None = None,
        labels_only: frozenset[str] = frozenset(),
    ) -> tuple[dict[str, Prediction], float, list[str]]:
        """Per head the best class, its probability and all probabilities; the share of known words;
        and the text's words. ``features``: as for ``scores``; ``heads``: only these heads (and the
        heads they stack on), None for all; ``labels_only``: heads of which the caller reads only the
        best class and its probability, whose ``probabilities`` is then left empty."""
        sums, ws, cs, coverage, words = self._sums(features if features is not None else featurise_text(text))
        k = self.width
        # The same operations, in the same order, as ``scores`` followed by adding the biases.
        logits_all = [
            (ws * w + cs * c) * s + b for w, c, s, b in zip(sums[:k], sums[k:], self.scales, self._bias, strict=True)
        ]
        out: dict[str, Prediction] = {}
        exp = math.exp
        for name, lo, hi, classes, stack, full in self.plan_for(heads, labels_only):
            logits = logits_all[lo:hi]
            if stack:
                probs_in = out[stack[0][0]].probabilities
                if len(stack) == 4:  # a three-class source (sentiment): one pass, the same additions in order
                    (c1, r1), (c2, r2), (c3, r3) = stack[1:]
                    p1, p2, p3 = probs_in[c1], probs_in[c2], probs_in[c3]
                    logits = [v + p1 * a + p2 * b + p3 * c for v, a, b, c in zip(logits, r1, r2, r3, strict=True)]
                else:
                    for c, row in stack[1:]:
                        p = probs_in[c]
                        logits = [v + p * r for v, r in zip(logits, row, strict=True)]
            top = max(logits)
            exps = [exp(v - top) for v in logits]
            inv = 1.0 / sum(exps)
            best = exps.index(1.0)  # the largest: exp(top - top) is exactly 1.0, and exp(x <= 0) <= 1.0
            probs = dict(zip(classes, [e * inv for e in exps], strict=True)) if full else {}
            out[name] = Prediction(classes[best], inv, probs)
        return out, coverage, words


def _le(a: array) -> bytes:
    b = array("h", a)
    if sys.byteorder != "little":
        b.byteswap()
    return b.tobytes()


def dump(
    heads: list[Head],
    word_vocab: list[str],
    char_vocab: list[str],
    word_weights: array,
    char_weights: array,
    scales: list[float],
    meta: dict,
) -> bytes:
    width = sum(h.width for h in heads)
    vocab = ["\n".join(word_vocab).encode("utf-8"), "\n".join(char_vocab).encode("utf-8")]
    stride = width * BLOCK_ROWS
    blocks = [
        [zlib.compress(_le(w[i : i + stride]), 9) for i in range(0, len(w), stride)]
        for w in (word_weights, char_weights)
    ]
    payload = b"".join([zlib.compress(b"".join(vocab), 9), *blocks[0], *blocks[1]])
    header = {
        "format": FORMAT,
        "heads": [
            {"name": h.name, "classes": list(h.classes), "bias": list(h.bias), "offset": h.offset} for h in heads
        ],
        "scales": scales,
        "sizes": [len(b) for b in vocab],
        "block_rows": BLOCK_ROWS,
        "blocks": [[len(b) for b in bs] for bs in blocks],
        "counts": [len(word_vocab), len(char_vocab)],
        "crc32": zlib.crc32(payload),
        "meta": meta,
    }
    head_bytes = json.dumps(header, ensure_ascii=False, sort_keys=True).encode("utf-8")
    return MAGIC + struct.pack(">I", len(head_bytes)) + head_bytes + payload


def _split(raw: bytes, sizes: list[int], source: str) -> list[bytes]:
    if sum(sizes) != len(raw):
        raise ClassifierError(f"model {source}: payload size does not match its header")
    parts, pos = [], 0
    for size in sizes:
        parts.append(raw[pos : pos + size])
        pos += size
    return parts


def _dense(blob: bytes) -> array:
    a = array("h")
    a.frombytes(blob)
    if sys.byteorder != "little":
        a.byteswap()
    return a


def loads(data: bytes, source: str = "<bytes>") -> Model:
    """Parse an artifact; anything wrong with it is a ClassifierError that names the file."""
    if not data.startswith(MAGIC):
        raise ClassifierError(f"model {source}: not a socialcare model file (bad magic)")
    try:
        (n,) = struct.unpack(">I", data[len(MAGIC) : len(MAGIC) + 4])
        start = len(MAGIC) + 4
        header = json.loads(data[start : start + n].decode("utf-8"))
        payload = data[start + n :]
        if header.get("format") not in _READS:
            raise ClassifierError(f"model {source}: format {header.get('format')!r}, this code reads {_READS}")
        intact = (
            zlib.crc32(payload) == header["crc32"]
            if header["format"] >= 3
            else hashlib.sha256(payload).hexdigest() == header["sha256"]
        )
        if not intact:
            raise ClassifierError(f"model {source}: checksum mismatch, the file is corrupt or truncated")
        heads = [Head(h["name"], tuple(h["classes"]), tuple(h["bias"]), h["offset"]) for h in header["heads"]]
        offset = 0
        for h in heads:
            if h.offset != offset or len(h.bias) != h.width or h.width < 2:
                raise ClassifierError(f"model {source}: head {h.name!r} is malformed")
            offset += h.width
        counts = header["counts"]
        weights: list[array | BlockRows]
        if header["format"] == 1:
            parts = _split(zlib.decompress(payload), header["sizes"], source)
            weights = [_dense(parts[2]), _dense(parts[3])]
        else:
            block_sizes = header["blocks"]
            z = zlib.decompressobj()
            parts = _split(z.decompress(payload), header["sizes"], source)
            rest, pos = z.unused_data, 0
            if not z.eof or sum(map(sum, block_sizes)) != len(rest):
                raise ClassifierError(f"model {source}: payload size does not match its header")
            weights = []
            for sizes, rows in zip(block_sizes, counts, strict=True):
                blocks = []
                for size in sizes:
                    blocks.append(rest[pos : pos + size])
                    pos += size
                weights.append(BlockRows(blocks, offset, rows, int(header["block_rows"]), source))
        word_vocab = parts[0].decode("utf-8").split("\n") if parts[0] else []
        char_vocab = parts[1].decode("utf-8").split("\n") if parts[1] else []
        if [len(word_vocab), len(char_vocab)] != counts:
            raise ClassifierError(f"model {source}: vocabulary size does not match its header")
        return Model(
            heads,
            word_vocab,
            char_vocab,
            weights[0],
            weights[1],
            header["scales"],
            header.get("meta"),
            source,
        )
    except ClassifierError:
        raise
    except (ValueError, KeyError, TypeError, struct.error, zlib.error, UnicodeDecodeError) as exc:
        raise ClassifierError(f"model {source}: unreadable model file ({exc})") from exc


def load(path: str | Path) -> Model:
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise ClassifierError(f"model {p}: cannot read ({exc.strerror or exc})") from exc
    return loads(data, source=str(p))
