"""Terminal tables that fit the width without cutting a number: text columns wrap (down to
`_TEXT_MIN` characters, single tokens up to `_TOKEN_MAX` never); when the numbers alone do
not fit, one block per row. Cells are formatted as everywhere else (`output._cell`); the
entry point is `output.emit`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from transship.output import _cell, _console, _numeric

_TEXT_MIN = 8  # a text column is wrapped down to this many characters before going vertical
_TOKEN_MAX = 24  # a text column of single tokens up to this long (codes, dates) is not wrapped
_PER_COLUMN = 3  # a column separator and one space of padding each side


def print_table(
    records: list[dict[str, Any]],
    title: str | None,
    caption: str | None,
    totals: Sequence[str],
    empty: str | None,
    *,
    shown_of: int,
) -> None:
    console = _console()
    if not records:
        head = f"{title}: " if title else ""
        why = f": {empty}" if empty else ""
        console.print(f"{head}no matching rows{why}", highlight=False, soft_wrap=True)
        if caption and "SYNTHETIC" in caption:
            console.print(caption, highlight=False, soft_wrap=True)
        return
    columns = list(records[0])
    numeric = {c: any(_numeric(r.get(c)) for r in records[:200]) for c in columns}
    cells = [[_cell(r.get(c), c) for c in columns] for r in records]
    footer: list[str] | None = None
    if totals:
        footer = [""] * len(columns)
        for i, c in enumerate(columns):
            if c in totals:
                footer[i] = _cell(sum(r.get(c) or 0 for r in records if _numeric(r.get(c))), c)
        label = "total" if shown_of == len(records) else f"total of {len(records)} shown"
        first_text = next((i for i, c in enumerate(columns) if not numeric[c]), None)
        if first_text is not None:
            footer[first_text] = label
    if len(records) < shown_of:
        note = f"{len(records)} of {shown_of} rows (--limit)"
        caption = f"{caption}; {note}" if caption else note
    layout = _layout(columns, cells, numeric, footer)
    if _need(layout[2]) - 2 > console.width and len(cells) > 1:
        # Too wide: columns with one value in every row move to the caption, if then it fits.
        same = [
            i
            for i, c in enumerate(columns)
            if len({row[i] for row in cells}) == 1 and not (footer and footer[i])
        ]
        keep = [i for i in range(len(columns)) if i not in same]
        if same and keep:
            k_columns = [columns[i] for i in keep]
            k_cells = [[row[i] for i in keep] for row in cells]
            k_footer = [footer[i] for i in keep] if footer else None
            k_layout = _layout(k_columns, k_cells, numeric, k_footer)
            if _need(k_layout[2]) - 2 <= console.width:
                said = ", ".join(f"{columns[i]} {cells[0][i] or '(empty)'}" for i in same)
                caption = f"{caption}; every row: {said}" if caption else f"every row: {said}"
                columns, cells, footer, layout = k_columns, k_cells, k_footer, k_layout
    headers, whole, widths = layout
    need = _need(widths)
    if need - 2 <= console.width:  # without its outer border if that is what it takes
        _horizontal(console, headers, cells, numeric, whole, widths, footer, title, caption,
                    columns, edge=need <= console.width)  # fmt: skip
    else:
        _vertical(console, columns, cells, footer, title, caption)


def _need(widths: list[int]) -> int:
    """Columns of a bordered table with these least column widths."""
    return sum(widths) + _PER_COLUMN * len(widths) + 1


def _layout(
    columns: list[str],
    cells: list[list[str]],
    numeric: dict[str, bool],
    footer: list[str] | None,
) -> tuple[list[str], dict[str, bool], list[int]]:
    """Headers (wrapped), which columns are never wrapped, and each column's least width."""
    widths = []
    headers = []
    whole: dict[str, bool] = {}  # columns never wrapped: numbers, and short codes/dates/ids
    for i, c in enumerate(columns):
        longest = max([len(row[i]) for row in cells] + [len(footer[i]) if footer else 0])
        whole[c] = numeric[c] or (longest <= _TOKEN_MAX and not any(" " in row[i] for row in cells))
        if whole[c]:  # a number is never wrapped or cut: its column is as wide as it
            w = max([longest] + [len(word) for word in _header_words(c)])
            headers.append(_wrap_header(c, w))
        else:
            w = min(max(longest, len(c)), _TEXT_MIN)
            headers.append(c)
        widths.append(w)
    return headers, whole, widths


def _header_words(name: str) -> list[str]:
    """A header's break points: after spaces and underscores (rows_read -> rows_ read)."""
    words: list[str] = []
    for part in name.split(" "):
        pieces = part.split("_")
        words += [p + "_" for p in pieces[:-1]] + [pieces[-1]]
    return [w for w in words if w]


def _wrap_header(name: str, width: int) -> str:
    lines: list[str] = []
    for word in _header_words(name):
        sep = "" if not lines or lines[-1].endswith("_") else " "
        if lines and len(lines[-1]) + len(sep) + len(word) <= width:
            lines[-1] += sep + word
        else:
            lines.append(word)
    return "\n".join(lines)


def _horizontal(
    console: Any,
    headers: list[str],
    cells: list[list[str]],
    numeric: dict[str, bool],
    whole: dict[str, bool],
    widths: list[int],
    footer: list[str] | None,
    title: str | None,
    caption: str | None,
    columns: list[str],
    *,
    edge: bool = True,
) -> None:
    from rich.table import Table

    t = Table(title=title, caption=caption, show_footer=footer is not None, show_edge=edge)
    for i, c in enumerate(columns):
        if whole[c]:
            t.add_column(
                headers[i],
                justify="right" if numeric[c] else "left",
                no_wrap=True,
                min_width=widths[i],
                footer=footer[i] if footer else "",
            )
        else:  # text wraps (folding long codes) rather than being cut with "…"
            t.add_column(c, overflow="fold", footer=footer[i] if footer else "")
    for row in cells:
        t.add_row(*row)
    console.print(t)


def _vertical(
    console: Any,
    columns: list[str],
    cells: list[list[str]],
    footer: list[str] | None,
    title: str | None,
    caption: str | None,
) -> None:
    """One block per row (`column  value`), for tables whose numbers do not fit across."""
    from rich.table import Table

    if title:
        console.print(f"[bold]{title}[/]", highlight=False)
    key_width = max(len(c) for c in columns)
    blocks = [(f"row {n} of {len(cells)}", row) for n, row in enumerate(cells, 1)]
    if footer:
        blocks.append(("total", footer))
    for label, row in blocks:
        console.rule(label, align="left", style="dim")
        grid = Table.grid(padding=(0, 2))
        grid.add_column(no_wrap=True, min_width=key_width, style="dim")
        grid.add_column(overflow="fold")
        for c, v in zip(columns, row, strict=True):
            if label == "total" and not v:
                continue
            grid.add_row(c, v)
        console.print(grid)
    if caption:  # wrapped at spaces: a number is one word, never split
        console.print(caption, highlight=False, style="dim")
