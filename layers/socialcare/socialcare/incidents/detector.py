"""Which open cases belong together: LSH candidates, verified by similarity, decided per new member.

Pure logic over the Index port; the caller applies the decision (socialcare.incidents.service)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from socialcare.config import IncidentSettings
from socialcare.incidents.index import Index, Member
from socialcare.incidents.text import band_keys, cosine, minhash


@dataclass
class Match:
    member: Member
    similarity: float


@dataclass
class Decision:
    member: Member
    matches: list[Match] = field(default_factory=list)
    link_to: str | None = None  # an existing incident the member joins
    # With link_to: loose similar members that join it too. Without: the members of a new incident.
    open_with: list[Member] = field(default_factory=list)
    indexed: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.link_to or self.open_with)


class Detector:
    def __init__(self, index: Index, settings: IncidentSettings) -> None:
        self.index = index
        self.s = settings

    def similar(self, a: Member, b: Member) -> float:
        shared = len(a.words & b.words)
        if shared < self.s.min_shared_words:
            return 0.0
        return cosine(a.words, b.words)

    def observe(self, member: Member, *, index_self: bool = True) -> Decision:
        """Find the member's matches and decide. index_self=False only looks: the member joins an
        incident its matches already belong to, but is not written into the buckets (17 write units)."""
        decision = Decision(member)
        if len(member.words) < self.s.min_shared_words:
            return decision  # too little said to compare ("help!!"): never clustered
        bands = band_keys(minhash(member.words, self.s.num_perm), self.s.band_rows)
        horizon = member.at - self.s.window_s
        hits: Counter[str] = Counter()
        trim: dict[str, list[tuple[str, float]]] = {}
        for band, entries in self.index.buckets(member.department, bands).items():
            # What each bucket keeps when written back: in-window entries, newest last, capped.
            fresh = [(k, t) for k, t in entries if t >= horizon and k != member.key]
            trim[band] = fresh[-(self.s.bucket_cap - 1) :]
            hits.update(k for k, _ in fresh)
        top = [k for k, _ in hits.most_common(self.s.max_candidates)]
        for other in self.index.signatures(top).values():
            sim = self.similar(member, other)
            if sim >= self.s.threshold and other.department == member.department:
                decision.matches.append(Match(other, sim))
        if index_self:
            self.index.add(member, bands, trim, ttl_s=self.s.window_s + 86400)
            decision.indexed = True
        return self._decide(decision)

    def _decide(self, decision: Decision) -> Decision:
        member = decision.member
        if member.incident_id:
            return decision  # already linked (a redelivery): nothing to do
        votes: Counter[str] = Counter()
        best: dict[str, float] = {}
        for m in decision.matches:
            if m.member.incident_id:
                votes[m.member.incident_id] += 1
                best[m.member.incident_id] = max(best.get(m.member.incident_id, 0.0), m.similarity)
        loose = [m.member for m in decision.matches if not m.member.incident_id]
        if votes:
            # The member joins the incident most of its matches belong to; similar members not yet
            # linked to any incident come along (they matched this member, which matches the incident).
            decision.link_to = max(votes, key=lambda i: (votes[i], best[i]))
            decision.open_with = loose
            return decision
        group = [member, *loose]
        if len(group) >= self.s.min_size and any(g.kind == "case" for g in group):
            decision.open_with = group
        return decision
