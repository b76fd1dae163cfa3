"""Parquet export of the Postgres tables and the DuckDB queries the dashboard shows."""
