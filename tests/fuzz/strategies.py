"""Hostile inputs: random JSON, valid platform items with fields replaced or removed, markup and
script injection, path-like ids, oversized and deeply nested payloads, invalid UTF-8."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

HOSTILE_TEXT = st.sampled_from(
    [
        "<script>alert(document.cookie)</script>",
        "<img src=x onerror=alert(1)>",
        "javascript:alert(1)",
        "../../../../etc/passwd",
        "..\\..\\windows\\system32",
        "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "@evil.example/x",
        "//evil.example",
        "\u202egnp.exe",
        "\x00\x01\x02",
        "\ufffe\uffff",
        "{{7*7}}${7*7}",
        "' OR 1=1 --",
        "A" * 70_000,
        "😀" * 20_000,
    ]
)
TEXT = st.one_of(
    st.text(max_size=200),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=50),
    st.text(alphabet=st.characters(categories=["Cs", "Cc", "Cf", "Zs"]), max_size=20),
    HOSTILE_TEXT,
)
SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    TEXT,
)
JSON = st.recursive(
    SCALAR,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)),
    max_leaves=12,
)


def deeply_nested(depth: int) -> str:
    """A JSON document nested `depth` levels deep (built as text: json.dumps itself would recurse)."""
    return '{"a":[' * depth + '"x"' + "]}" * depth


def mutated(base: dict[str, Any], paths: list[tuple[str, ...]]) -> st.SearchStrategy[dict[str, Any]]:
    """The valid `base` with some fields (at `paths`) replaced by hostile values or removed."""

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        item = json.loads(json.dumps(base))
        for path in draw(st.lists(st.sampled_from(paths), max_size=4, unique=True)):
            parent = item
            for key in path[:-1]:
                if not isinstance(parent.get(key), dict):
                    parent[key] = {}
                parent = parent[key]
            if draw(st.booleans()) and draw(st.booleans()):
                parent.pop(path[-1], None)
            else:
                parent[path[-1]] = draw(st.one_of(TEXT, JSON))
        return item

    return build()


X_POST = {
    "id": "1900000000000000001",
    "author_id": "42",
    "text": "@SkylarkAir bag lost",
    "created_at": "2026-11-20T10:00:00.000Z",
    "conversation_id": "1900000000000000001",
    "lang": "en",
    "referenced_tweets": [{"type": "replied_to", "id": "1899"}],
    "note_tweet": {"text": "long form"},
}
X_PATHS = [
    ("id",),
    ("author_id",),
    ("text",),
    ("created_at",),
    ("conversation_id",),
    ("lang",),
    ("referenced_tweets",),
    ("note_tweet",),
    ("note_tweet", "text"),
]
X_USERS = {"42": {"username": "traveller", "name": "T", "public_metrics": {"followers_count": 3}, "verified": False}}

MASTODON_STATUS = {
    "id": "111",
    "uri": "https://mastodon.example/users/a/statuses/111",
    "url": "https://mastodon.example/@a/111",
    "created_at": "2026-11-20T10:00:00.000Z",
    "content": "<p>@skylark my <b>bag</b> is lost</p>",
    "spoiler_text": "",
    "language": "en",
    "in_reply_to_id": None,
    "account": {
        "id": "7",
        "acct": "a@mastodon.example",
        "url": "https://mastodon.example/@a",
        "display_name": "A",
        "followers_count": 10,
    },
}
MASTODON_PATHS = [
    ("id",),
    ("uri",),
    ("url",),
    ("created_at",),
    ("content",),
    ("spoiler_text",),
    ("language",),
    ("in_reply_to_id",),
    ("account",),
    ("account", "id"),
    ("account", "acct"),
    ("account", "url"),
    ("account", "display_name"),
    ("account", "followers_count"),
]

BLUESKY_POST = {
    "uri": "at://did:plc:abc/app.bsky.feed.post/3k",
    "cid": "bafy",
    "author": {"did": "did:plc:abc", "handle": "a.bsky.social", "displayName": "A"},
    "record": {
        "text": "@skylark.air help",
        "createdAt": "2026-11-20T10:00:00.000Z",
        "langs": ["en"],
        "reply": {"root": {"uri": "at://did:plc:abc/app.bsky.feed.post/1"}, "parent": {"uri": "at://x/2"}},
    },
}
BLUESKY_PATHS = [
    ("uri",),
    ("author",),
    ("author", "did"),
    ("author", "handle"),
    ("author", "displayName"),
    ("record",),
    ("record", "text"),
    ("record", "createdAt"),
    ("record", "langs"),
    ("record", "reply"),
    ("record", "reply", "root"),
]

REDDIT_THING = {
    "kind": "t3",
    "data": {
        "name": "t3_abc",
        "title": "Skylark lost my bag",
        "selftext": "help",
        "author": "u1",
        "author_fullname": "t2_u1",
        "created_utc": 1763632800.0,
        "permalink": "/r/travel/comments/abc/x/",
        "body": "comment",
        "link_id": "t3_abc",
        "parent_id": "t3_abc",
    },
}
REDDIT_PATHS = [
    ("kind",),
    ("data",),
    ("data", "name"),
    ("data", "title"),
    ("data", "selftext"),
    ("data", "author"),
    ("data", "author_fullname"),
    ("data", "created_utc"),
    ("data", "permalink"),
    ("data", "body"),
    ("data", "link_id"),
    ("data", "parent_id"),
]

MENTION = {
    "platform": "x",
    "id": "1900000000000000001",
    "author": {"id": "42", "handle": "traveller", "followers": 3},
    "text": "@SkylarkAir bag lost",
    "created_at": "2026-11-20T10:00:00Z",
    "lang": "en",
    "permalink": "https://x.com/traveller/status/1900000000000000001",
    "conversation_id": "1",
}
MENTION_PATHS = [
    ("platform",),
    ("id",),
    ("author",),
    ("author", "id"),
    ("author", "handle"),
    ("author", "followers"),
    ("text",),
    ("created_at",),
    ("lang",),
    ("permalink",),
    ("conversation_id",),
    ("in_reply_to_id",),
    ("rating",),
    ("region",),
]


def queue_bodies() -> st.SearchStrategy[str]:
    """What can sit in the mentions queue: JSON of mutated mentions, random JSON, random text,
    invalid UTF-8 decoded the way a lenient producer would, oversized and deeply nested documents."""
    return st.one_of(
        mutated(MENTION, MENTION_PATHS).map(lambda d: json.dumps(d, ensure_ascii=False)),
        JSON.map(lambda d: json.dumps(d)),
        TEXT,
        st.binary(max_size=200).map(lambda b: b.decode("utf-8", errors="surrogateescape")),
        st.integers(min_value=50, max_value=50_000).map(deeply_nested),
        st.integers(min_value=1, max_value=4).map(lambda n: json.dumps({**MENTION, "text": "x" * (n * 100_000)})),
    )


def feed_documents() -> st.SearchStrategy[bytes]:
    item = st.builds(
        lambda title, link, guid, date, body: (
            f"<item><title>{title}</title><link>{link}</link><guid>{guid}</guid>"
            f"<pubDate>{date}</pubDate><description>{body}</description></item>"
        ),
        TEXT,
        st.one_of(TEXT, st.just("javascript:alert(1)"), st.just("https://blog.example/p")),
        TEXT,
        st.one_of(TEXT, st.just("Thu, 20 Nov 2026 10:00:00 GMT")),
        st.one_of(TEXT, st.just("&lt;script&gt;alert(1)&lt;/script&gt;"), st.just("<![CDATA[<script>x</script>]]>")),
    )
    rss = st.lists(item, max_size=3).map(
        lambda items: (
            '<?xml version="1.0"?><rss version="2.0"><channel><title>Blog</title><link>https://blog.example</link>'
            + "".join(items)
            + "</channel></rss>"
        ).encode("utf-8", errors="surrogatepass")
    )
    return st.one_of(rss, st.binary(max_size=300), TEXT.map(lambda t: t.encode("utf-8", errors="surrogatepass")))


def config_documents() -> st.SearchStrategy[str]:
    from pathlib import Path

    import yaml

    here = Path(__file__).resolve().parents[2] / "layers" / "socialcare" / "socialcare" / "data" / "brand.yaml"
    base = yaml.safe_load(here.read_text(encoding="utf-8"))
    top = sorted(base)

    @st.composite
    def mutated_config(draw: st.DrawFn) -> str:
        doc = json.loads(json.dumps(base, default=str))
        for key in draw(st.lists(st.sampled_from(top), max_size=3, unique=True)):
            if draw(st.booleans()):
                doc.pop(key, None)
            else:
                doc[key] = draw(JSON)
        return yaml.safe_dump(doc, allow_unicode=True)

    return st.one_of(
        mutated_config(),
        TEXT,
        JSON.map(lambda d: yaml.safe_dump(d)),
        st.sampled_from(
            [
                "a: &a [*a]",
                "extends: ../../../../etc/passwd",
                "extends: [1]",
                "!!python/object/apply:os.system ['id']",
                "a: " + "[" * 2000 + "]" * 2000,
                "\ufeffname: x",
                "{",
                "- - -",
                "extends: /dev/null",
            ]
        ),
    )
