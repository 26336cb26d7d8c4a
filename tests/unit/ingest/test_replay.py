from __future__ import annotations

import json

from socialcare.ingest.replay import replay
from socialcare.ingest.sinks import MemoryMentionSink

from tests.builders import mention


def test_replay_queues_valid_lines_and_reports_bad_ones_by_line_number():
    # Given a file with two mentions, a broken line, a blank line and a mention missing its author
    good = [mention("my bag is lost"), mention("flight cancelled, please rebook")]
    lines = [good[0].model_dump_json(), "{not json", "", good[1].model_dump_json(),
             json.dumps({"platform": "x", "id": "9", "text": "hi", "created_at": "2026-11-22T09:00:00Z"})]
    sink = MemoryMentionSink()
    # When it is replayed
    result = replay(lines, sink)
    # Then the two mentions are queued in order and the two bad lines are named, nothing else lost
    assert result.queued == 2
    assert [m.key for m in sink.mentions] == [g.key for g in good]
    assert [n for n, _ in result.rejected] == [2, 5]
