from __future__ import annotations

import json

from socialcare.ingest.replay import replay
from socialcare.ingest.sinks import MemoryMentionSink

from tests.builders import mention


def test_replay_queues_valid_lines_and_reports_bad_ones_by_line_number():
    # Given a file with two mentions, a broken line, a blank line and a mention missing its author
    good = [mention("my bag is lost"), mention("flight cancelled, please rebook")]
    lines = [
        good[0].model_dump_json(),
        "{not json",
        "",
        good[1].model_dump_json(),
        json.dumps({"platform": "x", "id": "9", "text": "hi", "created_at": "2026-11-22T09:00:00Z"}),
    ]
    sink = MemoryMentionSink()
    # When it is replayed
    result = replay(lines, sink)
    # Then the two mentions are queued in order and the two bad lines are named, nothing else lost
    assert result.queued == 2
    assert [m.key for m in sink.mentions] == [g.key for g in good]
    assert [n for n, _ in result.rejected] == [2, 5]


def test_a_rejected_line_names_its_field_and_repeats_count_as_duplicates():
    from socialcare.ingest.sinks import MemorySeenIndex

    # Given a file whose third line lacks the author, and whose second line repeats the first
    one = mention("my bag is lost")
    broken = json.loads(mention("where is my bag").model_dump_json())
    del broken["author"]
    lines = [one.model_dump_json(), one.model_dump_json(), json.dumps(broken)]
    seen, sink = MemorySeenIndex(), MemoryMentionSink()
    # When it is replayed twice against the same seen-index
    first = replay(lines, sink, seen=seen)
    second = replay(lines, sink, seen=seen)
    # Then the bad line is named with its field, and every repeat is a duplicate, queued once
    assert first.rejected == [(3, "author: Field required")]
    assert (first.queued, first.duplicates) == (1, 1)
    assert (second.queued, second.duplicates) == (0, 2)
    assert len(sink.mentions) == 1


def test_the_demo_sample_posts_replay_through_the_x_connector_mapping():
    from importlib import resources

    from socialcare.ingest.commands import sample_post_mention

    # Given the demo's own sample file
    path = resources.files("socialcare") / "data" / "demo" / "mentions.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines()
    # When it is read with the sample-post converter
    sink = MemoryMentionSink()
    result = replay(lines, sink, convert=sample_post_mention)
    # Then every line becomes an X mention, none rejected
    assert result.rejected == [] and result.queued == len([line for line in lines if line.strip()]) > 200
    assert {m.platform for m in sink.mentions} == {"x"} and all(m.author.handle for m in sink.mentions)
