"""The tables the analytics export copies: one `ExportTable` entry per table, nothing else to edit.

A table is exported only when it exists in the database, and only the columns both the model
and the database have (the schema may run ahead of or behind the code during a deploy). Each
row lands in the file of the UTC day of its `day_column`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
from sqlalchemy import BigInteger, Boolean, Column, DateTime, Engine, Float, Integer, Table, inspect
from sqlalchemy.types import TypeDecorator, TypeEngine

from promostack.db import Base


@dataclass(frozen=True)
class ExportTable:
    """One source table: where its day comes from, its id, and whether old rows change.

    `mutable` tables (a user's `last_seen` moves) have every day re-exported by the nightly
    check; append-only ones only the days whose counts or max ids differ from the source.
    """

    name: str
    day_column: str
    id_column: str = "id"
    mutable: bool = False


TABLES: tuple[ExportTable, ...] = (
    ExportTable("generation_events", day_column="created_at"),
    ExportTable("bot_users", day_column="first_seen", mutable=True),
    # Deliveries by the day they were sent (a recipient not sent to yet is no delivery yet);
    # their state can still change (retracted), and so can a channel post's.
    ExportTable("broadcast_recipients", day_column="sent_at", mutable=True),
    ExportTable("channel_posts", day_column="created_at", mutable=True),
)


def table_by_name(name: str) -> ExportTable:
    """The entry for `name`; KeyError when no such table is exported."""
    for table in TABLES:
        if table.name == name:
            return table
    raise KeyError(name)


def arrow_type(sql_type: TypeEngine[object]) -> pa.DataType:
    """The Arrow type a column of `sql_type` is written as (JSON as text, times as UTC µs)."""
    if isinstance(sql_type, TypeDecorator):
        sql_type = sql_type.impl_instance
    if isinstance(sql_type, Boolean):
        return pa.bool_()
    if isinstance(sql_type, (Integer, BigInteger)):
        return pa.int64()
    if isinstance(sql_type, Float):
        return pa.float64()
    if isinstance(sql_type, DateTime):
        return pa.timestamp("us", tz="UTC")
    return pa.string()  # text, and JSON as its text


@dataclass(frozen=True)
class SourceTable:
    """An exported table as it is in this database: the model's columns the database also has."""

    spec: ExportTable
    table: Table
    columns: tuple[Column[object], ...]

    @property
    def schema(self) -> pa.Schema:
        """The Arrow schema every file of this table has, whichever database it came from."""
        return pa.schema([pa.field(c.name, arrow_type(c.type)) for c in self.columns])


def existing_tables(engine: Engine, tables: tuple[ExportTable, ...] = TABLES) -> list[SourceTable]:
    """The entries of `tables` whose table exists in `engine`'s database, with their columns."""
    inspector = inspect(engine)
    found = []
    for spec in tables:
        table = Base.metadata.tables.get(spec.name)
        if table is None or not inspector.has_table(spec.name):
            continue
        present = {c["name"] for c in inspector.get_columns(spec.name)}
        columns = tuple(c for c in table.columns if c.name in present)
        found.append(SourceTable(spec, table, columns))
    return found
