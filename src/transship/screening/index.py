"""The matcher's index over one list: parsed names, part rarity and retrieval keys.

Retrieval keys of a name: character trigrams of its distinctive parts written together
(so joined, split and misspelt names share most of them: gazprom/gasprom 4 of 7,
RamiMakhlouf / Rami Makhlouf all), and per part its consonant skeleton (tekhno/techno) and
metaphone key (shell/schell). A query ranks names by the idf-weighted keys they share,
normalised by both names' key weight (a cosine), reading the rarest keys first and stopping
at `posting_budget` postings so a query made of common keys stays fast; the best `top_k`
names are scored by the features (screening.features).

Built by `lists load` and stored in the warehouse table `screening_index` (one row per list:
the list's input sha256, the index format version and the arrays as one .npz blob, read
without pickle), so screening opens it instead of re-parsing every list name.
"""

from __future__ import annotations

import io
import math
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from transship.screening.parsed import Parsed, metaphone_key, parse, rarity_weight
from transship.screening.scriptkeys import list_script_keys, query_script_keys

FORMAT_VERSION = 25  # 6: Arabic ain no longer splits a part; 7: ط+ه is not th; 8: bn/wld
# connectors; 9: legal forms ou, doo, spol, zrt, pte, sdn; 10: Urdu letters, ul/ur/ud articles;
# 11: the inherent vowel at the end of Indic-script words; 12: jr/sr/ii/iii titles, ordinals;
# 13: legal forms llp, prjsc, nao, ak, fsue, fgup, gup, private, non; 14: number markers;
# 15: junior / senior titles; 16: the ezafe (-e, -ye) no part, wa / wal stop words;
# 17: complex / kompleks generic words; 18: gnts / ssc / src generic words; 19: wa / wal stop
# words only beside an Arabic article; 20: junior / senior names beside a legal form or a
# generic word; 21: Greek in modern Greek romanization, Hangul runs of 5+ syllables whole;
# 22: responsibility a legal word; mulla, maulvi, seyyed, sayyid ... titles; 23: farm,
# outpost, network(s) generic words; 24: the legal phrase state corporation, goskorporatsiya;
# 25: Hangul / Hebrew / kana retrieval keys (scriptkeys.py)
_SEP = "\x1f"
_FIELDS = ("entity_id", "caption", "name", "countries", "programs", "schema", "parts", "kinds",
           "core")  # fmt: skip
_KIND_CODE = {"name": "n", "generic": "g", "legal": "l", "stop": "s", "connector": "c",
              "number": "d"}  # fmt: skip
_CODE_KIND = {v: k for k, v in _KIND_CODE.items()}
# Lists up to this many names sum retrieval scores over an array of all names (one pass, no
# sort); larger ones sort the postings found (np.unique), cheaper than a pass over millions.
_DENSE_UP_TO = 300_000
_UNSEEN = (-1, -1, -1.0)  # a retrieval key not looked up yet (None: looked up, no name has it)

DDL = """CREATE TABLE IF NOT EXISTS screening_index (
    list VARCHAR PRIMARY KEY,
    input_sha256 VARCHAR NOT NULL,
    format_version INTEGER NOT NULL,
    names BIGINT NOT NULL,
    data BLOB NOT NULL
)"""


def core_text(p: Parsed) -> str:
    """The distinctive parts of a name, for the quick pre-score (all parts if none are)."""
    toks = [t for t, k in zip(p.parts, p.kinds, strict=True) if k in ("name", "number")]
    return " ".join(toks or p.parts)


def retrieval_keys(p: Parsed) -> set[str]:
    toks = [t for t, k in zip(p.parts, p.kinds, strict=True) if k in ("name", "number")]
    if not toks:
        toks = [t for t, k in zip(p.parts, p.kinds, strict=True) if k != "stop"] or list(p.parts)
    keys: set[str] = set()
    joined = "^" + "".join(toks) + "$"
    for i in range(len(joined) - 2):
        keys.add(joined[i : i + 3])
    # acronyms: PLA finds PEOPLE'S LIBERATION ARMY and the other way round
    words = [t for t, k in zip(p.parts, p.kinds, strict=True) if k not in ("legal", "stop")]
    if 2 <= len(words) <= 6:
        keys.add("@" + "".join(t[0] for t in words))
    elif len(words) == 1 and 2 <= len(words[0]) <= 6:
        keys.add("@" + words[0])
    toks_set = set(toks)
    for t, ph, sk in zip(p.parts, p.phon, p.skel, strict=True):
        if t in toks_set:
            if len(sk) >= 2:
                keys.add("~" + sk)
            if ph:
                keys.add("#" + ph)
    return keys


def _pack(values: Sequence[str]) -> np.ndarray:
    return np.frombuffer(_SEP.join(values).encode("utf-8"), dtype=np.uint8)


def _unpack(arr: np.ndarray) -> list[str]:
    return bytes(arr).decode("utf-8").split(_SEP)


def _postings(
    key_rows: dict[str, list[int]], n: int
) -> tuple[dict[str, int], np.ndarray, np.ndarray, np.ndarray]:
    """Keys (their order), posting offsets, postings and each name's key norm (idf)."""
    key_list = sorted(key_rows)
    ptr = np.zeros(len(key_list) + 1, dtype=np.int64)
    ptr[1:] = np.cumsum([len(key_rows[k]) for k in key_list])
    post = np.empty(int(ptr[-1]), dtype=np.int32)
    norms = np.zeros(n, dtype=np.float64)
    for ki, k in enumerate(key_list):
        ids = key_rows[k]
        post[ptr[ki] : ptr[ki + 1]] = ids
        idf = math.log(1 + n / len(ids))
        norms[ids] += idf * idf
    return {k: i for i, k in enumerate(key_list)}, ptr, post, np.sqrt(norms)


class NameIndex:
    """Parsed names of one list with retrieval postings; `build` or `from_bytes`."""

    def __init__(self, list_name: str, cols: dict[str, list[str]], vocab: dict[str, int],
                 keys: dict[str, int], ptr: np.ndarray, post: np.ndarray,
                 norms: np.ndarray) -> None:  # fmt: skip
        self.list = list_name
        self.cols = cols
        self.n = len(cols["name"])
        self.vocab_df = vocab
        self.keys = keys
        self.ptr = ptr
        self.post = post
        self.norms = norms
        self._parsed: dict[int, Parsed] = {}
        self._countries: dict[int, frozenset[str]] = {}
        self._rarity: dict[str, float] = {}
        self._weights: dict[int, tuple[list[float], bool]] = {}
        self._entries: dict[int, tuple[Parsed, bool, frozenset[str], tuple[list[float], bool]]] = {}
        # retrieval key -> (postings, their offset, idf squared), or None when no name has
        # it: kept as queries meet them (Python numbers, no numpy scalar per key)
        self._key_info: dict[str, tuple[int, int, float] | None] = {}
        self._ptr_list: list[int] | None = None
        self._joined: list[str] | None = None
        # The same names by the keys a Hangul, Hebrew or kana query meets (scriptkeys.py)
        self.script: NameIndex | None = None

    @property
    def joined_core(self) -> list[str]:
        """Each name's core with its spaces removed (the pre-score of joined names), kept."""
        if self._joined is None:
            self._joined = [c.replace(" ", "") for c in self.cols["core"]]
        return self._joined

    # -- build ---------------------------------------------------------------------------
    @classmethod
    def build(cls, list_name: str, rows: Sequence[Sequence[Any]]) -> NameIndex:
        """rows: (entity_id, caption, name, countries (list), programs, schema)."""
        cols: dict[str, list[str]] = {f: [] for f in _FIELDS}
        df: Counter[str] = Counter()
        key_rows: dict[str, list[int]] = {}
        script_rows: dict[str, list[int]] = {}  # scriptkeys.py: postings of their own
        for i, (eid, caption, name, countries, programs, schema) in enumerate(rows):
            p = parse(name)
            cols["entity_id"].append(str(eid))
            cols["caption"].append(str(caption))
            cols["name"].append(str(name))
            cols["countries"].append(";".join(countries or ()))
            cols["programs"].append(programs or "")
            cols["schema"].append(schema or "")
            cols["parts"].append(" ".join(p.parts))
            cols["kinds"].append("".join(_KIND_CODE[k] for k in p.kinds))
            cols["core"].append(core_text(p))
            df.update(set(p.parts))
            for k in retrieval_keys(p):
                key_rows.setdefault(k, []).append(i)
            for k in list_script_keys(p):
                script_rows.setdefault(k, []).append(i)
        n = len(cols["name"])
        ix = cls(list_name, cols, dict(df), *_postings(key_rows, n))
        ix.script = cls(list_name, {"name": cols["name"]}, {}, *_postings(script_rows, n))
        return ix

    # -- persistence ---------------------------------------------------------------------
    def to_bytes(self) -> bytes:
        arrays: dict[str, np.ndarray] = {f"col_{f}": _pack(v) for f, v in self.cols.items()}
        vocab = sorted(self.vocab_df)
        arrays["vocab"] = _pack(vocab)
        arrays["vocab_df"] = np.array([self.vocab_df[v] for v in vocab], dtype=np.int32)
        arrays["keys"] = _pack(sorted(self.keys, key=self.keys.__getitem__))
        arrays["ptr"], arrays["post"], arrays["norms"] = self.ptr, self.post, self.norms
        if self.script is not None:
            sk = self.script
            arrays["sk_keys"] = _pack(sorted(sk.keys, key=sk.keys.__getitem__))
            arrays["sk_ptr"], arrays["sk_post"], arrays["sk_norms"] = sk.ptr, sk.post, sk.norms
        arrays["meta"] = np.array([FORMAT_VERSION, self.n], dtype=np.int64)
        buf = io.BytesIO()
        np.savez(buf, **arrays)  # type: ignore[arg-type]
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, list_name: str, data: bytes) -> NameIndex:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            version, n = (int(v) for v in z["meta"])
            if version != FORMAT_VERSION:
                raise ValueError(f"index format {version}, expected {FORMAT_VERSION}")
            cols = {f: _unpack(z[f"col_{f}"]) if n else [] for f in _FIELDS}
            vocab = _unpack(z["vocab"]) if n else []
            keys = _unpack(z["keys"]) if n else []
            ix = cls(
                list_name,
                cols,
                dict(zip(vocab, z["vocab_df"].tolist(), strict=True)),
                {k: i for i, k in enumerate(keys)},
                z["ptr"],
                z["post"],
                z["norms"],
            )
            if "sk_keys" in z.files:
                sk = _unpack(z["sk_keys"]) if n and len(z["sk_keys"]) else []
                ix.script = cls(list_name, {"name": cols["name"]}, {},
                                {k: i for i, k in enumerate(sk)}, z["sk_ptr"], z["sk_post"],
                                z["sk_norms"])  # fmt: skip
            return ix

    # -- access --------------------------------------------------------------------------
    def parsed(self, i: int) -> Parsed:
        p = self._parsed.get(i)
        if p is None:
            from transship.screening.names import bracketed_parts, is_abjad, quoted_parts
            from transship.screening.scripts import name_script
            from transship.screening.spellings import skeleton

            parts = tuple(self.cols["parts"][i].split(" "))
            kinds = tuple(_CODE_KIND[c] for c in self.cols["kinds"][i])
            phon = tuple(_metaphone(t) for t in parts)
            skel = tuple(skeleton(t) for t in parts)
            name = self.cols["name"][i]
            p = Parsed(
                parts, kinds, phon, skel, is_abjad(name), quoted_parts(name),
                bracketed_parts(name), name_script(name),
            )  # fmt: skip
            if len(self._parsed) > 200_000:
                self._parsed.clear()
            self._parsed[i] = p
        return p

    def entry(self, i: int) -> tuple[Parsed, bool, frozenset[str], tuple[list[float], bool]]:
        """Name `i` as the matcher compares it: parsed, whether a person's, its entity's
        countries and its part weights (as a person's name or not, by its schema); kept."""
        e = self._entries.get(i)
        if e is None:
            person = self.cols["schema"][i] == "Person"
            e = (self.parsed(i), person, self.countries(i), self.weights(i, person))
            if len(self._entries) > 200_000:
                self._entries.clear()
            self._entries[i] = e
        return e

    def weights(self, i: int, person: bool) -> tuple[list[float], bool]:
        """Name `i`'s part weights (parsed.part_weights), kept once computed."""
        w = self._weights.get(i)
        if w is None:
            from transship.screening.parsed import part_weights

            if len(self._weights) > 200_000:
                self._weights.clear()
            w = self._weights[i] = part_weights(self.parsed(i), person, self.rarity)
        return w

    def countries(self, i: int) -> frozenset[str]:
        c = self._countries.get(i)
        if c is None:
            raw = self.cols["countries"][i]
            c = frozenset(raw.split(";")) if raw else frozenset()
            self._countries[i] = c
        return c

    def common(self, part: str) -> bool:
        """Whether `part` is a common word of this list's names (in one name in 3,000 or
        more, at least 5): MINING, INSURANCE, MOSCOW, not ZULIANA or ESPARTA. A list of
        fewer than 1,000 names knows no common words."""
        return self.n >= 1000 and self.vocab_df.get(part, 0) >= max(5, self.n // 3000)

    def rarity(self, part: str) -> float:
        w = self._rarity.get(part)
        if w is None:
            w = self._rarity[part] = rarity_weight(self.vocab_df.get(part, 0), self.n)
        return w

    def _info(self, key: str) -> tuple[int, int, float] | None:
        ptr = self._ptr_list
        if ptr is None:
            ptr = self._ptr_list = self.ptr.tolist()
        k = self.keys.get(key)
        e = None
        if k is not None:
            df = ptr[k + 1] - ptr[k]
            idf = math.log(1 + self.n / df)
            e = (df, ptr[k], idf * idf)
        if len(self._key_info) > 1_000_000:
            self._key_info.clear()  # unseen query keys are kept too: bounded
        self._key_info[key] = e
        return e

    def retrieve(
        self,
        q: Parsed,
        top_k: int = 40,
        posting_budget: int = 5_000,
        min_cosine: float = 0.05,
        *,
        qkeys: set[str] | None = None,
    ) -> list[int]:
        """Indices of the names sharing the most (idf-weighted) retrieval keys with `q`,
        best first, at most `top_k`, with a key cosine of at least `min_cosine`.

        `qkeys`: `retrieval_keys(q)` when the caller has them (one query, several lists)."""
        info = self._key_info
        get = info.get
        found = []
        for key in retrieval_keys(q) if qkeys is None else qkeys:
            e = get(key, _UNSEEN)
            if e is _UNSEEN:
                e = self._info(key)
            if e is not None:
                found.append(e)
        if not found or self.n == 0:
            return []
        found.sort()  # rarest first (by df, then posting offset: the key order)
        q_norm = 0.0
        slices: list[np.ndarray] = []
        weights: list[float] = []
        lengths: list[int] = []
        used = 0
        post = self.post
        for df, start, sq in found:
            q_norm += sq
            if used + df > posting_budget and len(slices) >= 3:
                continue  # a common key: the rarer ones already rank the names
            used += df
            slices.append(post[start : start + df])
            weights.append(sq)
            lengths.append(df)
        ids = np.concatenate(slices) if len(slices) > 1 else slices[0]
        w = np.repeat(np.array(weights), lengths)
        if self.n <= _DENSE_UP_TO:
            # Summed per name over an array of all names (bincount adds in input order, as
            # over np.unique's inverse: the same floats). The names found are the distinct
            # ids, ascending as np.unique gives them: sorting the few thousand postings is
            # cheaper than a pass over every name's sum.
            acc = np.bincount(ids, weights=w)
            srt = np.sort(ids)
            first = np.empty(len(srt), dtype=bool)
            first[0] = True
            np.not_equal(srt[1:], srt[:-1], out=first[1:])
            uniq = srt[first]
            summed = acc[uniq]
        else:
            # np.unique(ids, return_inverse=True) by a stable sort: the postings are sorted
            # runs, which it merges in about half the time of np.unique's quicksort (the
            # same names and inverse, so the same sums)
            perm = ids.argsort(kind="stable")
            srt = ids[perm]
            first = np.empty(len(srt), dtype=bool)
            first[0] = True
            np.not_equal(srt[1:], srt[:-1], out=first[1:])
            uniq = srt[first]
            inv = np.empty(len(ids), dtype=np.intp)
            inv[perm] = np.cumsum(first) - 1
            summed = np.bincount(inv, weights=w)
        scores = summed / (self.norms[uniq] * math.sqrt(q_norm))
        if len(uniq) > top_k:
            best = np.argpartition(-scores, top_k)[:top_k]
        else:
            best = np.arange(len(uniq))
        best = best[np.argsort(-scores[best], kind="stable")]
        return uniq[best[scores[best] >= min_cosine]].tolist()  # type: ignore[no-any-return]

    def script_retrieve(self, q: Parsed, top_k: int = 10) -> list[int]:
        """For a query in Hangul, Hebrew or kana, the names sharing the most of its script's
        keys (scriptkeys.py), best first; [] for any other query."""
        keys = query_script_keys(q)
        if not keys or self.script is None:
            return []
        return self.script.retrieve(q, top_k, qkeys=keys)


_metaphone = metaphone_key  # one cache for list and query parts


# The warehouse side (screening_index rows) is indexstore.py's; imported here after NameIndex is
# defined, so either module may be imported first.
from transship.screening.indexstore import open_index, store_index  # noqa: E402

__all__ = ["DDL", "FORMAT_VERSION", "NameIndex", "open_index", "retrieval_keys", "store_index"]
