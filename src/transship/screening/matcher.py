"""Party matching: retrieval over each list's index, then declared features explain a score.

For a party name (and its ISO alpha-3 country) the matcher asks each list's index
(screening.index) for the `top_k` names sharing the most character trigrams and phonetic
keys, scores each with the features of screening.features (name-part alignment with
per-part edit distance and phonetic keys, rarity weights, legal forms, missing parts,
initials, joined parts, acronyms, equivalent words, patronymic order, numbers, generic-only
names, schema) plus the country qualifier, and keeps the best name per entity. Scores are
0-100: at or above `block_threshold` a hit BLOCKs, at or above `flag_threshold` it FLAGs
(settings.py documents the defaults and why); every Hit lists the features that contributed
and how much.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from rapidfuzz import fuzz, process

from transship.errors import UsageError
from transship.screening.features import CountryQualifier, Pair, Thresholds01
from transship.screening.hits import Hit, list_versions
from transship.screening.index import NameIndex, core_text, open_index, retrieval_keys
from transship.screening.normalize import JOINED, Cleaned, clean_name
from transship.screening.parsed import Parsed, parse, part_weights
from transship.screening.scoring import compare, final_score
from transship.screening.scripts import retrieval_alternates


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


def _note(cleaned: Cleaned, p: Pair) -> str | None:
    applied = list(cleaned.applied)
    if p.merged or any(n == "joined_parts" for n, _ in p.contributions):
        applied.append(JOINED)
    return "; ".join(applied) or None


def _is_person(schema: str | None, q: Parsed, c: Parsed) -> bool:
    """Whether two names compare as persons' names: by the schema when one is given, else
    by the names: two parts or more each, no legal form, generic word or number on either
    side (a pairs file without schemas had every person compared as a company: 0.99 -> 0.93
    recall at FLAG on the perturbed listed names; a one-part name, PLA, is no person's)."""
    if schema:
        return schema == "Person"
    return all(len(x.parts) >= 2 and not any(k in _ORG_KINDS for k in x.kinds) for x in (q, c))


_ORG_KINDS = frozenset({"legal", "generic", "number"})


class Matcher:
    """Indexes over list names; build with `from_warehouse`, `from_indexes` or `from_rows`."""

    def __init__(
        self,
        indexes: list[NameIndex],
        thresholds: Thresholds | None = None,
        *,
        top_k: int = 25,
        min_cosine: float = 0.05,
        keep: int = 1,
        prescore: float = 66.0,
    ) -> None:
        self.thresholds = thresholds or Thresholds()
        self.top_k = top_k
        self.min_cosine = min_cosine
        self.keep = keep
        self.prescore = prescore
        self.indexes = indexes
        self.lists = sorted({ix.list for ix in indexes})
        t = self.thresholds
        self._t01 = Thresholds01(t.flag / 100, t.block / 100)
        self._country = CountryQualifier(t.country_bonus, t.country_penalty)
        # Which version of each list this index holds (from_warehouse): audited per decision.
        self.versions: list[dict[str, Any]] = []

    def __len__(self) -> int:
        return sum(ix.n for ix in self.indexes)

    @classmethod
    def from_rows(
        cls, rows: list[tuple[Any, ...]], thresholds: Thresholds | None = None
    ) -> Matcher:
        """rows: (list, entity_id, caption, name, norm, countries, programs[, schema])."""
        by_list: dict[str, list[tuple[Any, ...]]] = {}
        for r in rows:
            by_list.setdefault(r[0], []).append(
                (r[1], r[2], r[3], r[5], r[6], r[7] if len(r) > 7 else None)
            )
        return cls([NameIndex.build(k, v) for k, v in sorted(by_list.items())], thresholds)

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
        m = cls([open_index(con, name) for name in sorted(set(lists))], thresholds)
        m.versions = list_versions(loaded, lists)
        return m

    # -- scoring -------------------------------------------------------------------------
    def _pair(
        self,
        q: Parsed,
        c: Parsed,
        person: bool,
        ix: NameIndex | None,
        country_match: bool | None,
        schema_mismatch: bool,
    ) -> Pair:
        rarity = ix.rarity if ix is not None else (lambda _t: 1.0)
        return compare(
            q, c, person=person, rarity=rarity, thresholds=self._t01, country=self._country,
            country_match=country_match, schema_mismatch=schema_mismatch,
            common=ix.common if ix is not None else None,
        )  # fmt: skip

    def compare(
        self,
        name1: str,
        name2: str,
        *,
        schema: str | None = None,
        country1: str | None = None,
        country2: str | None = None,
    ) -> tuple[float, tuple[tuple[str, float], ...]]:
        """Score two names 0-100 (name2 plays the list entry), with the contributing features.

        Part rarity comes from the loaded lists when there are any (the first list that
        knows a part), else every part weighs as a rare one.
        """
        q, c = parse(clean_name(name1 or "").text), parse(clean_name(name2 or "").text)
        if not q.parts or not c.parts:
            return 0.0, ()
        person = _is_person(schema, q, c)
        match = None
        if country1 and country2:
            match = country1.upper() == country2.upper()
        ix = self.indexes[0] if self.indexes else None
        mismatch = person and (q.has_legal or c.has_legal)
        p = self._pair(q, c, person, ix, match, mismatch)
        return round(100 * final_score(p), 1), tuple(
            (n, round(100 * v, 1)) for n, v in p.contributions
        )

    def screen(self, name: str, country: str | None = None, *, limit: int = 5) -> list[Hit]:
        """Hits for one party name (and ISO alpha-3 country), best first, one per entity.

        The name is cleaned first (screening.normalize: invisible characters, confusables);
        a hit says which normalisation it needed.
        """
        # min_score=flag: the same hits as filtering afterwards (best per entity, best first),
        # without building a Hit for every candidate that scores below the FLAG threshold.
        return self.search(name, country, limit=limit, min_score=self.thresholds.flag)

    def screen_many(
        self,
        parties: Sequence[tuple[str, str | None]],
        *,
        limit: int = 5,
        workers: int | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> list[list[Hit]]:
        """`screen` of each (name, country) in `parties`, in order.

        `workers` processes share the work (forked, so each has this index without reading
        it again; default: one per CPU this process may use, at most 8); below
        `PARALLEL_FROM` names, where fork is unavailable or off the main thread (a web
        server's request), one process does it all.
        `progress(done, total)` is called as names are done.
        """
        total = len(parties)
        n = _workers(workers, total)
        if n <= 1:
            out = []
            for k, (name, country) in enumerate(parties, 1):
                out.append(self.screen(name, country, limit=limit))
                if progress and (k % 500 == 0 or k == total):
                    progress(k, total)
            return out
        import multiprocessing

        global _FORKED
        # The first name here, before the fork: what matching imports on first use
        # (normality, ICU, rigour's names: ~0.15 s) is then imported once, not in each worker.
        done: list[list[Hit]] = [self.screen(*parties[0], limit=limit)]
        _FORKED = (self, limit)  # inherited by the forked workers, never pickled
        # chunks small enough that a slow one does not leave the other workers idle
        size = max(50, min(1000, total // (8 * n) or 1))
        chunks = [parties[i : i + size] for i in range(1, total, size)]
        try:
            ctx = multiprocessing.get_context("fork")
            with _frozen_fork(), ctx.Pool(n, initializer=gc.disable) as pool:
                for part in pool.imap(_screen_chunk, chunks):
                    done.extend(part)
                    if progress:
                        progress(len(done), total)
        finally:
            _FORKED = None
        return done

    def _prescreen(
        self, q: Parsed, qcore: str, qkeys: set[str], alt_cores: Sequence[str] = ()
    ) -> list[list[int]]:
        """Per index, the retrieved names worth the features: the `keep` best by key cosine,
        and those whose distinctive parts resemble the query's (rapidfuzz token_set_ratio or,
        written without spaces, ratio >= `prescore`; also as `alt_cores`, another spelling of
        the query), and acronyms of the query or its initials. One pre-score call over every
        list's candidates."""
        found = [ix.retrieve(q, self.top_k, min_cosine=self.min_cosine, qkeys=qkeys)
                 for ix in self.indexes]  # fmt: skip
        cores: list[str] = []
        joined: list[str] = []
        for ix, cands in zip(self.indexes, found, strict=True):
            if len(cands) > self.keep:
                cores.extend(_pick(ix.cols["core"], cands))
                joined.extend(_pick(ix.joined_core, cands))
        if not cores:
            return found
        quick = process.cdist([qcore], cores, scorer=fuzz.token_set_ratio, workers=1)[0]
        # joined and split names (RamiMakhlouf) score low as token sets
        whole = process.cdist([qcore.replace(" ", "")], joined, scorer=fuzz.ratio, workers=1)[0]
        for alt in alt_cores:
            other = process.cdist([alt], cores, scorer=fuzz.token_set_ratio, workers=1)[0]
            quick = quick.clip(min=other)
        # compared as arrays (float32, as the scalars would be), not one numpy scalar a time
        close = ((quick >= self.prescore) | (whole >= self.prescore)).tolist()
        # acronyms, PLA / People's Liberation Army either way round: a list name that is the
        # query's initials; for a one-word query also a list name of one-letter initials
        qacr = "".join(w[0] for w in qcore.split())
        one_word = " " not in qcore
        n = len(qcore)

        def acronym(c: str) -> bool:
            if c == qacr:
                return True
            if not one_word:
                return False
            words = c.split()  # one letter a word, as many words as the query has letters
            return len(words) == n and qcore == "".join(w[0] for w in words)

        out: list[list[int]] = []
        at = 0
        keep = self.keep
        for ix, cands in zip(self.indexes, found, strict=True):
            if len(cands) <= keep:
                out.append(cands)
                continue
            core = ix.cols["core"]
            ok = close[at : at + len(cands)]
            at += len(cands)
            if one_word:
                out.append([i for r, (i, o) in enumerate(zip(cands, ok, strict=True))
                            if o or r < keep or acronym(core[i])])  # fmt: skip
            else:  # acronym(c) is c == qacr: compared here, no call for each candidate
                out.append([i for r, (i, o) in enumerate(zip(cands, ok, strict=True))
                            if o or r < keep or core[i] == qacr])  # fmt: skip
        return out

    def search(
        self, name: str, country: str | None = None, *, limit: int = 5, min_score: float = 0.0
    ) -> list[Hit]:
        """The best-scoring list entries for a name, above `min_score` (0-100), one per entity."""
        cleaned = clean_name(name or "")
        q = parse(cleaned.text)
        if not q.parts:
            return []
        t = self.thresholds
        qcore = core_text(q)
        qkeys = retrieval_keys(q)  # the same for every list
        alts = retrieval_alternates(q)  # PAK Pong Ju for 박봉주 (bag bong ju)
        for alt in alts:
            qkeys = qkeys | retrieval_keys(alt)
        best: dict[tuple[str, str], Hit] = {}
        found = self._prescreen(q, qcore, qkeys, [core_text(a) for a in alts])
        if q.script:  # Hangul, Hebrew, kana: also the names their script's keys retrieve
            found = [c + [i for i in ix.script_retrieve(q) if i not in c]
                     for ix, c in zip(self.indexes, found, strict=True)]  # fmt: skip
        for ix, cands in zip(self.indexes, found, strict=True):
            # the query's part weights depend on the list (rarity) and on person or not only
            q_weights: dict[bool, tuple[list[float], bool]] = {}
            for i in cands:
                c, person, ents, c_weights = ix.entry(i)
                match = (country in ents) if country and ents else None
                qw = q_weights.get(person)
                if qw is None:
                    qw = q_weights[person] = part_weights(q, person, ix.rarity)
                p = compare(
                    q, c, person=person, rarity=ix.rarity, thresholds=self._t01,
                    country=self._country, country_match=match,
                    schema_mismatch=person and q.has_legal, c_weights=c_weights, q_weights=qw,
                    common=ix.common,
                )  # fmt: skip
                score = round(100 * final_score(p), 1)
                if score < min_score:
                    continue
                key = (ix.list, ix.cols["entity_id"][i])
                if key in best and best[key].score >= score:
                    continue
                best[key] = Hit(
                    list=ix.list,
                    entity_id=key[1],
                    caption=ix.cols["caption"][i],
                    alias=ix.cols["name"][i],
                    score=score,
                    name_score=round(100 * max(0.0, min(1.0, p.name_total, p.cap)), 1),
                    country_match=match,
                    level="BLOCK" if score >= t.block else ("FLAG" if score >= t.flag else "-"),
                    programs=ix.cols["programs"][i] or None,
                    normalised=_note(cleaned, p),
                    features=tuple((n, round(100 * v, 1)) for n, v in p.contributions),
                )
        hits = sorted(best.values(), key=lambda h: (-h.score, h.list, h.entity_id))
        return hits[:limit]


def _pick(values: Sequence[str], idx: list[int]) -> Sequence[str]:
    """values[i] for i in idx, by one C call (itemgetter of one index gives the value)."""
    got = itemgetter(*idx)(values)
    return got if len(idx) > 1 else (got,)


# `screen_many` in parallel: below this many names forking costs more than it saves.
PARALLEL_FROM = 2_000
_FORKED: tuple[Matcher, int] | None = None


def _workers(asked: int | None, names: int) -> int:
    import multiprocessing
    import threading

    if names < PARALLEL_FROM or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    if threading.current_thread() is not threading.main_thread():
        return 1  # a server's request thread: its other threads may hold locks a fork keeps
    if asked is not None:
        return max(1, asked)
    return min(8, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)


@contextmanager
def _frozen_fork() -> Iterator[None]:
    """The process's objects (the index, its caches, the libraries) frozen while the pool
    forks (gc.freeze): the workers' full collections then skip them and do not write to
    their pages (copy-on-write). Screening 19k names, full collections took 1.8 of 25 CPU s
    going over them again and again, 0.5 s frozen. A process that had frozen nothing
    unfreezes them when the pool is done (nothing frozen here stays uncollectable); one that
    had (a CLI process, cli/_lean.started) keeps them frozen with its own."""
    before = gc.get_freeze_count()
    gc.freeze()
    try:
        yield
    finally:
        if not before:
            gc.unfreeze()


# A worker runs without the cyclic collector (Pool's initializer: gc.disable): matching makes
# no reference cycles (tests/test_screening_matching: none left after screening), so
# reference counting frees all it drops, and the collector's passes over the caches the
# worker builds were pure cost (0.45 of ~9 CPU s for 10k names with the rest frozen). A worker
# lives as long as its pool: one screen_many.
def _screen_chunk(parties: Sequence[tuple[str, str | None]]) -> list[list[Hit]]:
    assert _FORKED is not None, "screen_many's workers are forked from the process that set it"
    m, limit = _FORKED
    return [m.screen(name, country, limit=limit) for name, country in parties]


__all__ = ["PARALLEL_FROM", "Hit", "Matcher", "Thresholds", "list_versions"]  # Hit: hits.py
