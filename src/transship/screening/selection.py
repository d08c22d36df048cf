"""What a caller may choose: a policy by name, sanctions lists by name, never a path or nothing.

Trust boundary (issue 12): the server decides which policies and lists exist. An API or
dashboard caller names a policy among the packaged ones and those of the `policy_files`
setting (by policy id; a path, `../` or an unknown name is a SelectionError, 422, whose message
is the same whether or not a file of that name exists), and lists among the server's list set
(the `screening_lists` setting, default every loaded list). An empty list set or an unknown
list is refused, never skipped. With no list loaded at all, screening is refused (no party
would be screened) unless the caller of the library opts out explicitly (`allow_none`): the CLI
flag `--no-lists`, the server setting `screen_without_lists`.

The CLI's `--policy` may still name a YAML file: the operator at the console is trusted, and
the file's sha256 is recorded in the audit like any policy's.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from transship.errors import SelectionError, UsageError, WarehouseError
from transship.screening.policies import Policy, all_policies, load_policy

_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
NO_LISTS_HINT = (
    "load one with `transship lists load NAME FILE`, or opt out explicitly "
    "(CLI: screen --no-lists; server: TRANSSHIP_SCREEN_WITHOUT_LISTS=true)"
)


def configured_policies(policy_files: Sequence[Path] = ()) -> dict[str, Policy]:
    """Policy id -> policy: the packaged ones, then those of the `policy_files` setting."""
    out = {p.id: p for p in all_policies()}
    for f in policy_files:
        pol = load_policy(f)
        if pol.id in out and out[pol.id].path != pol.path:
            raise UsageError(
                f"policy file {f} has id {pol.id!r}, already the id of {out[pol.id].path}; "
                "give it another id (TRANSSHIP_POLICY_FILES)"
            )
        out[pol.id] = pol
    return out


def policy_by_name(name: str, policy_files: Sequence[Path] = ()) -> Policy:
    """A configured policy by its id; anything else (a path included) is a SelectionError."""
    return pick_policy(name, configured_policies(policy_files))


def pick_policy(name: str, known: dict[str, Policy]) -> Policy:
    """`policy_by_name` among `known` (configured_policies' answer, which a server keeps)."""
    if _NAME.match(name) and name in known:
        return known[name]
    # Never touch the file system with a caller's string, and answer alike for every
    # unknown name, so the message tells nothing about which files exist.
    raise SelectionError(f"unknown policy {name!r}; this server offers: {', '.join(sorted(known))}")


def resolve_lists(
    loaded: Sequence[str],
    requested: Sequence[str] | None,
    configured: Sequence[str] = (),
    *,
    allow_none: bool = False,
) -> list[str]:
    """The sanctions lists to screen against.

    `loaded`: lists in the warehouse; `requested`: what the caller named (None: the default);
    `configured`: the server's list set (empty: every loaded list). Raises SelectionError for
    an empty or unknown request, WarehouseError when nothing would be screened.
    """
    missing = [n for n in configured if n not in loaded]
    if missing:
        raise WarehouseError(
            f"configured sanctions lists {missing} are not loaded in the warehouse "
            f"(TRANSSHIP_SCREENING_LISTS; loaded: {', '.join(loaded) or 'none'})"
        )
    offered = list(configured) or list(loaded)
    if requested is not None:
        chosen = list(dict.fromkeys(n.strip() for n in requested if n.strip()))
        if not chosen:
            raise SelectionError(
                "'lists' is empty: an empty list set would screen no party; name lists "
                f"({', '.join(offered) or 'none loaded'}) or leave it out for the default"
            )
        unknown = [n for n in chosen if n not in offered]
        if unknown:
            raise SelectionError(
                f"unknown sanctions lists {unknown}; available: {', '.join(offered) or 'none'}"
            )
        return chosen
    if not offered and not allow_none:
        raise WarehouseError(
            "no sanctions lists are loaded, so no party would be screened; " + NO_LISTS_HINT
        )
    return offered
