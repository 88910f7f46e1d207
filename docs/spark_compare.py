"""Compares every marts table of a DuckDB build with the Spark build's Parquet files.

    python docs/spark_compare.py data/compare.duckdb data/spark

For each table: the rows only in one side (`except all`), exactly and with doubles rounded
to 9 decimals as tests/harness.py compares engines; calculated_at (the build's clock) is
left out. A working tool for docs/spark-notes.md, not part of the product.
"""

import sys

import duckdb

IGNORED = {"calculated_at"}


def main(duck: str, spark_dir: str) -> None:
    con = duckdb.connect(duck, read_only=True)
    tables = [row[0] for row in con.execute(
        "select table_name from information_schema.tables where table_schema = 'marts' "
        "and table_type = 'BASE TABLE' order by 1").fetchall()]
    for table in tables:
        path = f"{spark_dir}/warehouse/marts.db/{table}/*.parquet"
        con.execute("create or replace temp view spark_rows as "
                    f"select * from read_parquet('{path}')")
        duck_types = dict(con.execute(
            "select column_name, data_type from information_schema.columns "
            f"where table_schema = 'marts' and table_name = '{table}'").fetchall())
        spark_types = {row[0]: row[1] for row in con.execute("describe spark_rows").fetchall()}
        columns = [c for c in duck_types if c in spark_types and c not in IGNORED]
        exact = ", ".join(f'"{c}"' for c in columns)
        rounded = ", ".join(
            f'round("{c}", 9) as "{c}"' if duck_types[c] == "DOUBLE" else f'"{c}"' for c in columns)
        counts = []
        for select in (exact, rounded):
            only_duck = con.execute(f"select count(*) from (select {select} from marts.{table} "
                                    f"except all select {select} from spark_rows)").fetchone()[0]
            only_spark = con.execute(
                f"select count(*) from (select {select} from spark_rows "
                f"except all select {select} from marts.{table})").fetchone()[0]
            counts.append(f"{only_duck}/{only_spark}")
        total = con.execute(f"select count(*) from marts.{table}").fetchone()[0]
        spark_total = con.execute("select count(*) from spark_rows").fetchone()[0]
        other = set(duck_types) ^ set(spark_types)
        print(f"{table}: rows duckdb {total}, spark {spark_total}; only in duckdb/spark: "
              f"exact {counts[0]}, doubles to 9 decimals {counts[1]}"
              + (f"; columns on one side only: {sorted(other)}" if other else ""))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
