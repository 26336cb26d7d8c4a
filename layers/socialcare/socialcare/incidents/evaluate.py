"""Clustering quality on a labelled set: replay the cases in time order through the real detector
(in-memory index) and score every pair of cases: same incident predicted vs same cluster labelled."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from itertools import combinations
from pathlib import Path

from socialcare.config import IncidentSettings
from socialcare.incidents.detector import Detector
from socialcare.incidents.index import Member, MemoryIndex
from socialcare.incidents.text import words


@dataclass
class Quality:
    cases: int
    clusters: int
    incidents: int
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int
    requests_per_case: float

    @property
    def precision(self) -> float:
        return self.correct_pairs / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.correct_pairs / self.true_pairs if self.true_pairs else 1.0


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def replay(rows: list[dict], settings: IncidentSettings) -> dict[str, str]:
    """Case id -> predicted incident id, applying each decision the way the service does."""
    index = MemoryIndex(settings.bucket_cap)
    detector = Detector(index, settings)
    assigned: dict[str, str] = {}
    for n, row in enumerate(sorted(rows, key=lambda r: r["at"])):
        member = Member(
            key=f"case#{row['id']}",
            kind="case",
            department=row["department"],
            words=words(row["text"], settings.ignore_words, settings.synonyms),
            at=datetime.fromisoformat(row["at"]).timestamp(),
            customer_key=f"x#{row['id']}",
            platform="x",
            case_id=row["id"],
        )
        decision = detector.observe(member)
        if decision.link_to:
            joining = [member, *decision.open_with]
            incident = decision.link_to
        elif decision.open_with:
            joining = decision.open_with
            incident = f"INC-{n}"
        else:
            continue
        for m in joining:
            assigned[m.case_id or m.key] = incident
        index.set_incident([m.key for m in joining], incident)
    replay.cost = index.cost  # type: ignore[attr-defined]
    return assigned


def score(rows: list[dict], settings: IncidentSettings) -> Quality:
    assigned = replay(rows, settings)
    cost = replay.cost  # type: ignore[attr-defined]
    truth = {r["id"]: r["cluster"] for r in rows}
    true_pairs = sum(1 for a, b in combinations(truth, 2) if truth[a] and truth[a] == truth[b])
    groups: dict[str, list[str]] = defaultdict(list)
    for case_id, incident in assigned.items():
        groups[incident].append(case_id)
    predicted = correct = 0
    for members in groups.values():
        for a, b in combinations(members, 2):
            predicted += 1
            correct += bool(truth[a]) and truth[a] == truth[b]
    return Quality(
        cases=len(rows),
        clusters=len({c for c in truth.values() if c}),
        incidents=len(groups),
        true_pairs=true_pairs,
        predicted_pairs=predicted,
        correct_pairs=correct,
        requests_per_case=round(cost.counts["requests"] / max(1, len(rows)), 2),
    )
