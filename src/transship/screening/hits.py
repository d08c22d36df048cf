"""What a screening found: one Hit per list entity, with the features that explain its
score, and the list versions the audit records beside it (screening.matcher makes both)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Hit:
    list: str
    entity_id: str
    caption: str
    alias: str  # the list name that matched (primary name or alias), as listed
    score: float
    name_score: float  # the score before the country qualifier
    country_match: bool | None
    level: str  # BLOCK | FLAG
    programs: str | None
    # What the party name was cleaned of before it matched (screening.normalize), e.g.
    # "format characters removed; confusables folded"; None when it matched as given.
    normalised: str | None = None
    features: tuple[tuple[str, float], ...] = field(default=())  # (feature, points) that fired

    def describe(self) -> str:
        alias = "" if self.alias == self.caption else f" as {self.alias!r}"
        note = f" (normalised: {self.normalised})" if self.normalised else ""
        why = f" [{self.explain()}]" if self.features else ""
        return f"{self.level} {self.list}:{self.entity_id} {self.caption!r}{alias} " + (
            f"score {self.score:.1f}{note}{why}"
        )

    def explain(self) -> str:
        """The features that fired and their points (one that only caps: FLAG at most)."""
        return ", ".join(f"{n} {v:+.1f}" if v else f"{n}: FLAG at most" for n, v in self.features)

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["features"] = {n: v for n, v in self.features}
        return d


def list_versions(loaded: list[dict[str, Any]], lists: list[str]) -> list[dict[str, Any]]:
    """The version of each of `lists` (screening.lists.loaded_lists rows): when it was loaded
    and the sha256 of its input files, as the audit records it."""
    return [
        {
            "list": r["list"],
            "loaded_at": r["loaded_at"].isoformat(timespec="seconds"),
            "sha256": r["input_sha256"],
            "entities": r["entities"],
            "version": r.get("version"),  # screening/versions.py: `list@version`
        }
        for r in sorted(loaded, key=lambda r: r["list"])
        if r["list"] in lists
    ]
