"""Listings on the terminal, as JSON or as CSV: one way for every command that prints a table.

On the terminal, columns are chosen by its width: identifiers and times are never cut or wrapped
(``keep``), free text wraps at words, nothing is ever shortened with an ellipsis; when the kept
columns do not fit, the columns with the highest ``drop`` rank are left out one by one and the
table's caption says which (``--json`` and ``--csv`` always carry every field). When even the
kept columns do not fit, each row is printed as a record, one ``header: value`` line per field.
"""

from __future__ import annotations

import csv
import json
import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import typer

JsonOption = typer.Option(False, "--json", help="print the listing as JSON on standard output")
CsvOption = typer.Option(False, "--csv", help="print the listing as CSV on standard output")


@dataclass(frozen=True)
class Column:
    """One column of a listing: ``key`` of the row, its ``header``; ``keep`` for identifiers and
    times (never wrapped); ``drop`` > 0 lets the column go on a narrow terminal (highest first);
    ``show`` formats the cell (default: ``str``, empty for ``None``)."""

    key: str
    header: str
    keep: bool = False
    drop: int = 0
    show: Callable[[Any], str] | None = None

    def cell(self, row: dict) -> str:
        value = row.get(self.key)
        if self.show is not None:
            return self.show(value)
        return "" if value is None else str(value)


def plain(value: Any) -> Any:
    """A value as JSON/CSV carry it: instants as ISO-8601 UTC with ``Z``, non-finite floats as ``None``."""
    from ..timescales import format_utc

    if isinstance(value, datetime):
        return format_utc(value, 3)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def check_formats(as_json: bool, as_csv: bool) -> None:
    if as_json and as_csv:
        raise typer.BadParameter("give --json or --csv, not both", param_hint="--json")


def emit(
    rows: Sequence[dict],
    columns: Sequence[Column],
    *,
    title: str | None = None,
    as_json: bool = False,
    as_csv: bool = False,
    document: dict | None = None,
) -> None:
    """``rows`` as a table on the terminal, or every field of every row as JSON (a list, or
    ``document`` with the rows under ``"rows"`` when given) or CSV on standard output. Keys
    that start with ``_`` are display-only (terminal)."""
    check_formats(as_json, as_csv)
    if as_json or as_csv:  # display-only fields (``_`` first) stay on the terminal
        rows = [{k: v for k, v in r.items() if not k.startswith("_")} for r in rows]
    if as_json:
        body = plain(list(rows)) if document is None else plain({**document, "rows": list(rows)})
        sys.stdout.write(json.dumps(body, indent=1, allow_nan=False) + "\n")
    elif as_csv:
        write_csv(rows, sys.stdout, [c.key for c in columns if not c.key.startswith("_")])
    else:
        from .common import console

        console.print(render(rows, columns, console.width, title=title))


def write_csv(rows: Sequence[dict], stream, first: Sequence[str] = ()) -> None:
    """Every field of ``rows`` (``first`` in front, then the rest in order of appearance), text
    neutralised for spreadsheets, ``None`` as empty."""
    from ..textguard import csv_safe

    fields = list(dict.fromkeys([*first, *(k for r in rows for k in r)]))
    w = csv.DictWriter(stream, fieldnames=fields, lineterminator="\n")
    w.writeheader()
    for r in rows:
        out = {}
        for k in fields:
            v = plain(r.get(k))
            if isinstance(v, dict | list):
                v = json.dumps(v)
            out[k] = csv_safe(v) if isinstance(v, str) else v
        w.writerow(out)


def table(rows: Sequence[dict], columns: Sequence[Column], width: int, *, title: str | None = None):
    """A rich table of ``rows`` that fits ``width`` without cutting any cell: each column gets a
    fixed width, at least its widest cell for ``keep`` columns (its longest word, up to
    ``WRAP_MIN``, for text); columns are left out by their ``drop`` rank until the minima fit, and
    the caption names them. When even the kept columns do not fit, the table is wider than
    ``width`` (the terminal wraps it) rather than cut."""
    cells = [[c.cell(r) for r in rows] for c in columns]
    lo = [_min_width(c, cs) for c, cs in zip(columns, cells, strict=True)]
    hi = [max([lo[i], _cells(columns[i].header), *(_cells(x) for x in cells[i])]) for i in range(len(columns))]
    shown = list(range(len(columns)))
    dropped: list[int] = []
    while _frame(len(shown)) + sum(lo[i] for i in shown) > width:
        candidates = [i for i in shown if columns[i].drop > 0]
        if not candidates:
            break
        worst = max(candidates, key=lambda i: (columns[i].drop, i))
        shown.remove(worst)
        dropped.append(worst)
    widths = {i: lo[i] for i in shown}
    spare = width - _frame(len(shown)) - sum(widths.values())
    for i in sorted(shown, key=lambda i: columns[i].keep):  # text first, then the headers of kept columns
        extra = max(0, min(spare, hi[i] - widths[i]))
        widths[i] += extra
        spare -= extra
    return _build(
        [columns[i] for i in shown],
        [cells[i] for i in shown],
        [widths[i] for i in shown],
        title,
        [columns[i] for i in dropped],
    )


WRAP_MIN = 16  # text columns wrap at words, and fold a word longer than this


def _cells(text: str) -> int:
    from rich.cells import cell_len

    return max((cell_len(line) for line in text.splitlines()), default=0)


def _min_width(column: Column, cells: list[str]) -> int:
    header_word = max((_cells(w) for w in column.header.split()), default=1)
    if column.keep:
        return max([header_word, *(_cells(x) for x in cells)])
    longest_word = max((_cells(w) for x in cells for w in x.split()), default=1)
    return max(header_word, min(longest_word, WRAP_MIN))


def _frame(n: int) -> int:
    """Characters a rich table with the default box adds to n columns: one space of padding each
    side of every cell and n + 1 rules."""
    return 3 * n + 1


def _build(columns, cells, widths, title, dropped):
    from rich.table import Table
    from rich.text import Text

    caption = None
    if dropped:
        names = ", ".join(c.header for c in dropped)
        caption = f"left out at this width: {names} (see --json or --csv, or widen the terminal)"
    t = Table(title=title, caption=caption)
    for c, w in zip(columns, widths, strict=True):
        t.add_column(c.header, width=w, overflow="fold")
    for row in zip(*cells, strict=True):
        t.add_row(*(Text(x) for x in row))  # data shown literally, never read as markup
    return t


def render(rows: Sequence[dict], columns: Sequence[Column], width: int, *, title: str | None = None):
    """The :func:`table` of ``rows`` when its kept columns fit ``width``; otherwise one record per
    row, a ``header: value`` line per field (a value wider than the terminal is wrapped by it,
    never cut)."""
    t = table(rows, columns, width, title=title)
    if _frame(len(t.columns)) + sum(c.width or 0 for c in t.columns) <= width:
        return t
    from rich.console import Group
    from rich.text import Text

    lines = [Text(title, style="bold")] if title else []
    for n, r in enumerate(rows):
        lines.append(Text(f"-- {n + 1} --", style="dim"))
        lines.extend(Text(f"{c.header}: {c.cell(r)}") for c in columns)
    return Group(*lines)
