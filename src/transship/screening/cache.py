"""Bounded caches of the screening service.

`LRUCache` keeps a few list indexes (matcher.Matcher), one per list set and list versions: a
reloaded list gets a new key, so it is picked up and the old index dropped once unused. Each
index of the OFAC SDN list holds ~20 MB; the unbounded dict keyed by every `lists` value a
client sent grew without end. `CachedMatcher` keeps party results per index, and the
candidates retrieved per name core (at most PRESCREEN_CACHE, ~10 MB)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from typing import Generic, TypeVar

from transship.screening.matcher import Hit, Matcher
from transship.screening.parsed import Parsed

T = TypeVar("T")


class LRUCache(Generic[T]):
    """Values built on demand, at most `size` kept; one build per key at a time (concurrent
    requests for a key being built wait for it instead of building it again)."""

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"size must be at least 1, not {size}")
        self.size = size
        self._items: OrderedDict[Hashable, T] = OrderedDict()
        self._lock = threading.Lock()
        self._building: dict[Hashable, threading.Lock] = {}
        self.builds = 0

    def __len__(self) -> int:
        return len(self._items)

    def keys(self) -> list[Hashable]:
        with self._lock:
            return list(self._items)

    def get(self, key: Hashable, build: Callable[[], T]) -> T:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
            gate = self._building.setdefault(key, threading.Lock())
        with gate:
            with self._lock:
                if key in self._items:
                    self._items.move_to_end(key)
                    return self._items[key]
            value = build()
            with self._lock:
                self._items[key] = value
                self.builds += 1
                while len(self._items) > self.size:
                    self._items.popitem(last=False)
                self._building.pop(key, None)
        return value


class CachedMatcher(Matcher):
    """A matcher whose party results are kept per (name, country) in a bounded LRU.

    Customs traffic names the same exporters and consignees again and again, and a party's
    hits depend only on its name, its country and the index (this object is built per list
    version, so a reloaded list starts empty). Exact: a cached answer is the answer.
    """

    def __init__(self, inner: Matcher, size: int) -> None:
        # The same indexes, thresholds and versions, shared read-only with `inner`.
        self.__dict__.update(inner.__dict__)
        self._size = size
        self._hits: OrderedDict[tuple[str, str | None, int], list[Hit]] = OrderedDict()
        self._hits_lock = threading.Lock()
        self.hits_served = 0
        self.misses = 0
        # Candidates worth scoring per (core, retrieval keys): a name's legal-form and
        # country variants (ANKA ATLAS LLC / GmbH / OOO, in RU or KZ) retrieve the same.
        self._found: OrderedDict[tuple[str, ...], list[list[int]]] = OrderedDict()
        self._found_size = min(size, PRESCREEN_CACHE)
        self.found_served = 0

    def screen(self, name: str, country: str | None = None, *, limit: int = 5) -> list[Hit]:
        key = (name, country, limit)
        with self._hits_lock:
            got = self._hits.get(key)
            if got is not None:
                self._hits.move_to_end(key)
                self.hits_served += 1
                return list(got)
        hits = super().screen(name, country, limit=limit)
        with self._hits_lock:
            self.misses += 1
            self._hits[key] = list(hits)
            while len(self._hits) > self._size:
                self._hits.popitem(last=False)
        return hits

    def _prescreen(
        self, q: Parsed, qcore: str, qkeys: set[str], alt_cores: Sequence[str] = ()
    ) -> list[list[int]]:
        """Matcher._prescreen, kept per (qcore, alt_cores, qkeys): its answer depends on
        nothing else (retrieval reads the keys only; the pre-score and acronyms the cores),
        and it is about a third of a party's matching. Callers only read the lists."""
        key = (qcore, *alt_cores, "", *sorted(qkeys))
        with self._hits_lock:
            got = self._found.get(key)
            if got is not None:
                self._found.move_to_end(key)
                self.found_served += 1
                return got
        got = super()._prescreen(q, qcore, qkeys, alt_cores)
        with self._hits_lock:
            self._found[key] = got
            while len(self._found) > self._found_size:
                self._found.popitem(last=False)
        return got


# Most (core, keys) entries kept per index: ~1 KB each (the core and its ~15 keys, a few
# candidate numbers).
PRESCREEN_CACHE = 10_000
