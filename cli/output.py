"""What the CLI's list commands print: a table that keeps identifiers whole, or `--json`.

Rich fits a table to the console (80 columns when stdout is not a terminal, unless `COLUMNS`
says otherwise) by wrapping cells and, as a last resort, cutting them with "…". Here a column
is kept whole on one line — identifiers (slugs, codes, ids, URLs), numbers, dates — unless it
is marked `wrap` (free text: names, descriptions, details), and only those fold to make room;
when even that is not enough the table is printed wider than the console, so an identifier
can always be copied or grepped whole. `--json` prints the same records as a JSON
array of objects with stable keys, and nothing else on stdout.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import typer
from rich.console import Console, JustifyMethod
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

Record = Mapping[str, Any]

# Errors and notes go to stderr, so stdout holds only what a command produces (a `--json` list).
error_console = Console(stderr=True, highlight=False)

JSON_OPTION_HELP = "Print a JSON array of objects (stable keys) instead of the table."


def json_option() -> Any:
    """The `--json` flag every list command takes."""
    return typer.Option(False, "--json", help=JSON_OPTION_HELP)


def yes_no(value: Any) -> str:
    """A flag as yes/no."""
    return "yes" if value else "no"


def when(value: datetime | None) -> str:
    """A moment to the minute (UTC, as stored), or nothing."""
    return f"{value:%Y-%m-%d %H:%M}" if value else ""


@dataclass(frozen=True)
class Column:
    """One column of a list table: its header and how a record reads in it."""

    header: str
    # The cell of a record; default: the record's value under `header`. A str is shown as is
    # (never read as rich markup: a description may contain "[...]"); a Text keeps its styles.
    show: Callable[[Record], str | Text] | None = None
    wrap: bool = False  # free text that may fold; every other column stays whole on one line
    justify: JustifyMethod = "left"

    def cell(self, record: Record) -> Text:
        """The cell of `record` in this column."""
        value = self.show(record) if self.show else record.get(self.header)
        if isinstance(value, Text):
            return value
        return Text("" if value is None else str(value))


def print_json(records: Sequence[Record]) -> None:
    """`records` as one JSON array on stdout (datetimes as ISO 8601), no colour, no wrapping."""
    typer.echo(json.dumps(list(map(dict, records)), indent=2, ensure_ascii=False, default=_json_value))


def list_table(records: Sequence[Record], columns: Sequence[Column], *, title: str) -> Table:
    """The table of `records`: each column not marked `wrap` keeps its values whole on one line."""
    table = Table(title=title)
    rows = [[column.cell(record) for column in columns] for record in records]
    for index, column in enumerate(columns):
        header = column.header
        if column.wrap:
            table.add_column(header, overflow="fold", justify=column.justify)
        else:
            longest = max([len(header), *(row[index].cell_len for row in rows)])
            table.add_column(header, no_wrap=True, min_width=longest, justify=column.justify)
    for row in rows:
        table.add_row(*row)
    return table


def print_list(
    records: Sequence[Record], columns: Sequence[Column], *, title: str, as_json: bool = False
) -> None:
    """`records` as JSON (`as_json`) or as a table no narrower than its identifiers need."""
    if as_json:
        print_json(records)
        return
    table = list_table(records, columns, title=title)
    console = Console()  # made per call: it reads COLUMNS and whether stdout is a terminal now
    # The narrowest the table can be with every unwrapped column whole and no word of a wrapped
    # one split; rich would cut cells to squeeze into anything less.
    needed = Measurement.get(console, console.options.update_width(100_000), table).minimum
    if needed > console.width:
        console = Console(width=needed)
    console.print(table)


def _json_value(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
