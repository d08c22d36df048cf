"""Party matching: token blocking over normalised list names, rapidfuzz scoring, country qualifier.

Scoring (0-100): rapidfuzz `token_sort_ratio` of the two normalised names (screening.names:
Latin script, no legal forms, so word order, script and legal form do not count) without
their generic words (ticaret, trading: name_forms.yaml), then the
country qualifier: +`country_bonus` when the party's country is one of the entity's
countries, -`country_penalty` when both are known and differ, capped to 0-100. A hit at or
above `block_threshold` BLOCKs; at or above `flag_threshold` FLAGs (settings.py documents
the defaults and why).

A person listed with more name parts than the query gives (no patronymic) is compared part by
part (`_partial_name_score`) and can FLAG but never BLOCK.

Blocking: each list name is indexed under its tokens and, for tokens of 5+ letters, their
4-letter prefix (a typo late in a word still finds it) and consonant skeleton (tekhnosfera
and technosfera share `tknsfr`). A query looks up its keys, skips
keys so common they say nothing (more than `max(200, 1%)` of names) unless it has no
others, and scores at most `max_candidates` names sharing the most keys with it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

from transship.errors import UsageError
from transship.screening.names import core_name, skeleton
from transship.screening.normalize import prepare_query


@dataclass(frozen=True)
class Thresholds:
    block: float = 92.0
    flag: float = 80.0
    country_bonus: float = 4.0
    country_penalty: float = 10.0

    def __post_init__(self) -> None:
        if not 0 < self.flag <= self.block <= 100:
            raise UsageError(
                f"thresholds must satisfy 0 < flag ({self.flag}) <= block ({self.block}) <= 100"
            )


@dataclass(frozen=True)
class Hit:
    list: str
    entity_id: str
    caption: str
    alias: str  # the list name that matched (primary name or alias), as listed
    score: float
    name_score: float
    country_match: bool | None
    level: str  # BLOCK | FLAG
    programs: str | None
    # What the party name was cleaned of before it matched (screening.normalize), e.g.
    # "format characters removed; confusables folded"; None when it matched as given.
    normalised: str | None = None

    def describe(self) -> str:
        alias = "" if self.alias == self.caption else f" as {self.alias!r}"
        note = f" (normalised: {self.normalised})" if self.normalised else ""
        return (
            f"{self.level} {self.list}:{self.entity_id} {self.caption!r}{alias} "
            f"score {self.score:.1f}{note}"
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def list_versions(loaded: list[dict[str, Any]], lists: list[str]) -> list[dict[str, Any]]:
    """The version of each of `lists` (screening.lists.loaded_lists rows): when it was loaded
    and the sha256 of its input files, as the audit records it."""
    return [
        {
            "list": r["list"],
            "loaded_at": r["loaded_at"].isoformat(timespec="seconds"),
            "sha256": r["input_sha256"],
            "entities": r["entities"],
        }
        for r in sorted(loaded, key=lambda r: r["list"])
        if r["list"] in lists
    ]


def _keys(norm: str) -> set[str]:
    keys: set[str] = set()
    for t in norm.split():
        if len(t) >= 2:
            keys.add(t)
        if len(t) >= 5:
            keys.add("^" + t[:4])
            keys.add("~" + skeleton(t))
    return keys


def _partial_name_score(query: list[str], entity: list[str]) -> float:
    """Mean best-token similarity when every query token matches a distinct entity token.

    Only for persons listed with more name parts than given (Ivan Sokolov vs SOKOLOV, Ivan
    Petrovich); 0 if any query token has no entity token at least 80 % similar.
    """
    from rapidfuzz import fuzz

    if len(query) >= len(entity):
        return 0.0
    left = list(entity)
    total = 0.0
    for q in query:
        scores = [fuzz.ratio(q, e) for e in left]
        k = max(range(len(scores)), key=scores.__getitem__)
        if scores[k] < 80:
            return 0.0
        total += scores[k]
        left.pop(k)
    return total / len(query)


class Matcher:
    """An in-memory index over list names; build with `from_warehouse` or `from_rows`."""

    def __init__(
        self,
        rows: list[tuple[Any, ...]],
        thresholds: Thresholds | None = None,
        *,
        max_candidates: int = 300,
    ) -> None:
        # rows: (list, entity_id, caption, name, norm, countries, programs[, schema])
        self.thresholds = thresholds or Thresholds()
        self.max_candidates = max_candidates
        self.lists = sorted({r[0] for r in rows})
        self._list = [r[0] for r in rows]
        self._entity = [r[1] for r in rows]
        self._caption = [r[2] for r in rows]
        self._name = [r[3] for r in rows]
        self._norm = [r[4] for r in rows]
        self._core = [core_name(n) for n in self._norm]
        self._countries = [frozenset(r[5] or ()) for r in rows]
        self._programs = [r[6] for r in rows]
        self._person = [len(r) > 7 and r[7] == "Person" for r in rows]
        self._any_person = any(self._person)
        postings: dict[str, list[int]] = {}
        for i, norm in enumerate(self._norm):
            for k in _keys(norm):
                postings.setdefault(k, []).append(i)
        self._postings = postings
        self._common = max(200, len(rows) // 100)
        # Which version of each list this index holds (from_warehouse): audited per decision.
        self.versions: list[dict[str, Any]] = []

    def __len__(self) -> int:
        return len(self._norm)

    @classmethod
    def from_warehouse(
        cls, con: Any, lists: list[str], thresholds: Thresholds | None = None
    ) -> Matcher:
        from transship.screening.lists import loaded_lists

        loaded = loaded_lists(con)
        known = {r["list"] for r in loaded}
        missing = [n for n in lists if n not in known]
        if missing:
            from transship.reference._load import unknown

            raise UsageError(
                "; ".join(unknown("sanctions list", m, known) for m in missing)
                + " (load it with `transship lists load NAME FILE`)"
            )
        if not lists:
            return cls([], thresholds)
        rows = con.execute(
            "SELECT list, entity_id, caption, name, norm, countries, programs, schema "
            "FROM screening_names WHERE list IN (SELECT unnest(?)) ORDER BY list, entity_id",
            [lists],
        ).fetchall()
        m = cls([tuple(r) for r in rows], thresholds)
        m.versions = list_versions(loaded, lists)
        return m

    def _candidates(self, norm: str) -> list[int]:
        keys = [k for k in _keys(norm) if k in self._postings]
        if not keys:
            return []
        keys.sort(key=lambda k: len(self._postings[k]))
        useful = [k for k in keys if len(self._postings[k]) <= self._common] or keys[:1]
        counts: Counter[int] = Counter()
        for k in useful:
            counts.update(self._postings[k])
        if len(counts) <= self.max_candidates:
            return list(counts)
        return [i for i, _ in counts.most_common(self.max_candidates)]

    def screen(self, name: str, country: str | None = None, *, limit: int = 5) -> list[Hit]:
        """Hits for one party name (and ISO alpha-3 country), best first, one per entity.

        The name is cleaned first (screening.normalize: invisible characters, confusables)
        and its joined forms are scored too; a hit says which normalisation it needed.
        """
        query = prepare_query(name or "")
        best: dict[tuple[str, str], Hit] = {}
        for i, norm in enumerate(query.forms):
            for key, hit in self._screen_form(norm, country, query.note(i)).items():
                if key not in best or hit.score > best[key].score:
                    best[key] = hit
        hits = sorted(best.values(), key=lambda h: (-h.score, h.list, h.entity_id))
        return hits[:limit]

    def _screen_form(
        self, norm: str, country: str | None, note: str | None
    ) -> dict[tuple[str, str], Hit]:
        from rapidfuzz import fuzz, process

        cands = self._candidates(norm)
        if not cands:
            return {}
        t = self.thresholds
        cutoff = max(0.0, t.flag - t.country_bonus)
        scored = process.extract(
            core_name(norm),
            [self._core[i] for i in cands],
            scorer=fuzz.token_sort_ratio,
            score_cutoff=cutoff,
            limit=None,
        )
        found = {pos: float(sc) for _, sc, pos in scored}
        partial_hits: set[int] = set()
        q_tokens = core_name(norm).split()
        if self._any_person and len(q_tokens) >= 2:
            # A person named by fewer parts (no patronymic, no middle name): FLAG at most.
            for pos, i in enumerate(cands):
                if self._person[i] and pos not in found:
                    partial = _partial_name_score(q_tokens, self._core[i].split())
                    if partial >= cutoff:
                        found[pos] = partial
                        partial_hits.add(pos)
        best: dict[tuple[str, str], Hit] = {}
        for pos, name_score in found.items():
            i = cands[pos]
            ents = self._countries[i]
            match: bool | None = None
            score = float(name_score)
            if country and ents:
                match = country in ents
                score += t.country_bonus if match else -t.country_penalty
            score = round(min(100.0, max(0.0, score)), 1)
            if pos in partial_hits:
                score = min(score, round(t.block - 0.1, 1))  # partial names only FLAG
            if score < t.flag:
                continue
            key = (self._list[i], self._entity[i])
            if key in best and best[key].score >= score:
                continue
            best[key] = Hit(
                list=self._list[i],
                entity_id=self._entity[i],
                caption=self._caption[i],
                alias=self._name[i],
                score=score,
                name_score=round(float(name_score), 1),
                country_match=match,
                level="BLOCK" if score >= t.block else "FLAG",
                programs=self._programs[i],
                normalised=note,
            )
        return best
