"""Read one UTC day of a table as Arrow record batches, in bounded memory, from either database.

Postgres streams through ADBC (binary COPY straight into Arrow, the fastest reader measured);
SQLite, the embedded default, goes through SQLAlchemy in `yield_per` chunks. Both hand back
batches of the table's one Arrow schema (`SourceTable.schema`), so the files are the same
whichever database they came from.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pyarrow as pa
from sqlalchemy import JSON, Engine, Text, select, type_coerce
from sqlalchemy.exc import SQLAlchemyError

from analytics.tables import SourceTable
from promostack.errors import DependencyError

BATCH_ROWS = 50_000


class SourceUnavailable(DependencyError):
    """The database could not be read; the export run fails and the next one tries again."""


class RowReader:
    """Reads days of tables from one database; on Postgres one ADBC connection per thread.

    Opening an ADBC connection loads Postgres' type catalogue (about 20-150 ms here), so a run
    keeps its connections for all its days; `close()` releases them.
    """

    def __init__(self, engine: Engine, batch_rows: int = BATCH_ROWS) -> None:
        self.engine = engine
        self.batch_rows = batch_rows
        self._local = threading.local()
        self._lock = threading.Lock()
        self._opened: list[Any] = []

    def read(self, source: SourceTable, start: datetime, end: datetime) -> Iterator[pa.RecordBatch]:
        """Batches of the rows whose day column is in [start, end), ordered by id."""
        if self.engine.dialect.name == "postgresql":
            return self._read_postgres(source, start, end)
        return _read_sqlalchemy(self.engine, source, start, end, self.batch_rows)

    def close(self) -> None:
        """Close every connection this reader opened."""
        with self._lock:
            opened, self._opened = self._opened, []
        for conn in opened:
            conn.close()

    def __enter__(self) -> RowReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _adbc(self) -> Any:
        import adbc_driver_postgresql.dbapi as adbc

        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = adbc.connect(postgres_uri(self.engine), autocommit=True)
            self._local.conn = conn
            with self._lock:
                self._opened.append(conn)
        return conn

    def _read_postgres(self, source: SourceTable, start: datetime, end: datetime) -> Iterator[pa.RecordBatch]:
        import adbc_driver_postgresql.dbapi as adbc

        columns = ", ".join(
            f'"{c.name}"::text AS "{c.name}"' if isinstance(c.type, JSON) else f'"{c.name}"' for c in source.columns
        )
        day, key = source.spec.day_column, source.spec.id_column
        query = (
            f'SELECT {columns} FROM "{source.spec.name}" '
            f'WHERE "{day}" >= $1 AND "{day}" < $2 ORDER BY "{key}"'
        )
        schema = source.schema
        try:
            with self._adbc().cursor() as cursor:
                cursor.execute(query, parameters=(start, end))
                for batch in cursor.fetch_record_batch():
                    yield _conform(batch, schema)
        except adbc.Error as exc:
            self._forget()
            raise SourceUnavailable(f"cannot read {source.spec.name} from Postgres: {exc}") from exc

    def _forget(self) -> None:
        # A broken connection is not reused: the retry opens a fresh one.
        import adbc_driver_postgresql.dbapi as adbc

        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            with self._lock:
                if conn in self._opened:
                    self._opened.remove(conn)
            with contextlib.suppress(adbc.Error):  # closing a broken connection may fail too
                conn.close()


def postgres_uri(engine: Engine) -> str:
    """A libpq URI for `engine`'s database (ADBC speaks libpq, not SQLAlchemy's driver names)."""
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def _conform(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """`batch` cast to `schema` (int4 widened to int64, the driver's field metadata dropped)."""
    arrays = [batch.column(i).cast(field.type) for i, field in enumerate(schema)]
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def _read_sqlalchemy(
    engine: Engine, source: SourceTable, start: datetime, end: datetime, batch_rows: int
) -> Iterator[pa.RecordBatch]:
    table = source.table
    # JSON is read as the stored text, as Postgres' `::text` gives it.
    columns = [type_coerce(c, Text).label(c.name) if isinstance(c.type, JSON) else c for c in source.columns]
    day = table.c[source.spec.day_column]
    query = select(*columns).where(day >= start, day < end).order_by(table.c[source.spec.id_column])
    schema = source.schema
    try:
        with engine.connect() as conn:
            result = conn.execution_options(yield_per=batch_rows).execute(query)
            for chunk in result.partitions():
                values = list(zip(*chunk))
                arrays = [pa.array(_plain(v, f.type), type=f.type) for v, f in zip(values, schema)]
                yield pa.RecordBatch.from_arrays(arrays, schema=schema)
    except SQLAlchemyError as exc:
        raise SourceUnavailable(f"cannot read {source.spec.name}: {exc.__class__.__name__}: {exc}") from exc


def _plain(values: tuple[object, ...], kind: pa.DataType) -> list[object]:
    if pa.types.is_string(kind):
        return [v if v is None or isinstance(v, str) else json.dumps(v) for v in values]
    return list(values)
