"""The drill database's raw tables, read and written through itsm_kpi.warehouse, and the
accepted rows copied into the reference database."""

from __future__ import annotations

import io
from collections.abc import Mapping

from itsm_kpi import warehouse
from itsm_kpi.warehouse import PRIMARY_KEYS, RAW_COLUMNS, RAW_TABLES, raw_ddl
from tools.fault_drill.results import Row

ACCEPTED_MODELS = {table: f"intermediate.int_{table}__accepted" for table in RAW_TABLES}


def query(database: str, sql: str, params: tuple = ()) -> list[Row]:
    """Rows of one query on PostgreSQL database `database`."""
    with warehouse.connect("postgres", database=database) as conn:
        return warehouse.query(conn, sql, params)


def read_raw(database: str) -> dict[str, list[Row]]:
    return {
        table: query(database, f"select {', '.join(columns)} from raw.{table} "
                               f"order by {PRIMARY_KEYS[table]}")
        for table, columns in RAW_COLUMNS.items()
    }


def write_raw(database: str, raw: Mapping[str, list[Row]]) -> None:
    """Replaces the rows of the raw tables (created with the contract's types if needed)."""
    with warehouse.connect("postgres", database=database) as conn:
        warehouse.load_raw_rows(conn, "postgres", raw)


def copy_accepted(source: str, target: str) -> dict[str, int]:
    """The accepted rows of `source` (its intermediate.int_*__accepted models) as the raw
    tables of `target`, with the raw contract's columns."""
    counts = {}
    with warehouse.connect("postgres", database=source) as src, \
            warehouse.connect("postgres", database=target) as dst:
        with dst.cursor() as cursor:
            cursor.execute(f"create schema if not exists {warehouse.RAW_SCHEMA}")
        for table, columns in RAW_COLUMNS.items():
            names = ", ".join(columns)
            buffer = io.StringIO()
            with src.cursor() as cursor:
                cursor.copy_expert(f"copy (select {names} from {ACCEPTED_MODELS[table]}) "
                                   "to stdout", buffer)
            buffer.seek(0)
            with dst.cursor() as cursor:
                cursor.execute(f"create table raw.{table} ({raw_ddl(table)})")
                cursor.copy_expert(f"copy raw.{table} ({names}) from stdin", buffer)
                cursor.execute(f"select count(*) from raw.{table}")
                counts[table] = cursor.fetchone()[0]
    return counts
