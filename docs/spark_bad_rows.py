"""Demo raw rows plus the fault drill's bad rows, into a DuckDB file and the Spark raw tables.

    python docs/spark_bad_rows.py   # from the project folder, after the DuckDB demo data
                                    # in data/compare.duckdb (docs/spark-notes.md)

A working script for docs/spark-notes.md (the quarantine compared on both engines), not
part of the product. Writes data/compare_bad.duckdb and replaces raw.* in KPI_SPARK_DIR.
"""

import random
import tempfile
from datetime import datetime
from pathlib import Path

import duckdb

from itsm_kpi import warehouse
from itsm_kpi.warehouse import RAW_TABLES
from tools.fault_drill.inject import inject

SOURCE = "data/compare.duckdb"
TARGET = Path("data/compare_bad.duckdb")


def main() -> None:
    with duckdb.connect(SOURCE, read_only=True) as source:
        generated = {table: warehouse.query(source, f"select * from raw.{table}")
                     for table in RAW_TABLES}
    raw = inject(generated, datetime(2026, 12, 1), 1.0, random.Random(7)).raw
    print({table: len(rows) for table, rows in raw.items()})
    with warehouse.connect("duckdb", path=TARGET) as con:
        warehouse.load_raw_rows(con, "duckdb", raw)
    with tempfile.TemporaryDirectory() as tmp:
        files = {}
        with duckdb.connect(str(TARGET), read_only=True) as con:
            con.execute("set TimeZone = 'UTC'")
            for table, columns in RAW_TABLES.items():
                names = ", ".join(f"cast({name} as timestamptz) as {name}"
                                  if kind == "timestamp" else name for name, kind in columns)
                files[table] = Path(tmp) / f"{table}.parquet"
                con.execute(f"copy (select {names} from raw.{table}) "
                            f"to '{files[table]}' (format parquet)")
        with warehouse.spark_session() as session:
            warehouse.load_spark_raw_tables(session, files, warehouse.spark_dir())


if __name__ == "__main__":
    main()
