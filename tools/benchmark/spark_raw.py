"""Declares the benchmark's raw tables in a local Spark session, in a process of its own.

The embedded Derby metastore of the local session admits one JVM at a time, and the jobs
the benchmark measures run dbt (so a JVM) in subprocesses: the benchmark process must not
hold a Spark session while a job runs, and stopping a session in process does not reliably
release Derby. So each declaration runs here, in a short `python -m` process that exits
(its JVM with it) before the next job starts:

    python -m tools.benchmark.spark_raw SPARK_DIR PARQUET_FOLDER

makes each ``PARQUET_FOLDER/<table>.parquet`` (the contract's columns) the external
Parquet table ``raw.<table>`` of the session on ``SPARK_DIR``
(``warehouse.load_spark_raw_tables``: copied under SPARK_DIR/raw/<table>/, declared
again; dbt's staging views on it stay).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from itsm_kpi.paths import PROJECT_DIR
from itsm_kpi.warehouse import RAW_TABLES
from tools.benchmark.config import BenchmarkError


def parquet_files(folder: Path) -> dict[str, Path]:
    """The raw tables' Parquet files in `folder` (table -> file); BenchmarkError when one
    is missing."""
    files = {table: folder / f"{table}.parquet" for table in RAW_TABLES}
    missing = [str(path) for path in files.values() if not path.is_file()]
    if missing:
        raise BenchmarkError(f"Spark raw tables: missing Parquet files {', '.join(missing)}")
    return files


def declare_in_subprocess(directory: Path, folder: Path, log: Path) -> None:
    """Runs this module in a child process (output in `log`); BenchmarkError with the
    log's tail when it fails."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as handle:
        done = subprocess.run([sys.executable, "-m", "tools.benchmark.spark_raw",
                               str(directory), str(folder)], cwd=PROJECT_DIR,
                              stdout=handle, stderr=subprocess.STDOUT, check=False)
    if done.returncode != 0:
        raise BenchmarkError(f"declaring the Spark raw tables failed (exit "
                             f"{done.returncode}); log {log}:\n{log.read_text()[-3000:]}")


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m tools.benchmark.spark_raw SPARK_DIR PARQUET_FOLDER",
              file=sys.stderr)
        return 2
    from itsm_kpi import warehouse  # pyspark is imported inside spark_session()

    directory, folder = (Path(arg).resolve() for arg in argv)
    files = parquet_files(folder)
    with warehouse.spark_session(directory) as session:
        warehouse.load_spark_raw_tables(session, files, directory)
    print(f"declared {', '.join(f'raw.{table}' for table in files)} in {directory}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
