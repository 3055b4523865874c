#!/usr/bin/env python3
"""The CUR query library on DataFusion (costradar's embedded engine) and on DuckDB, on the same
generated CUR 2.0 export (10M rows by default), in the same run: median time per query, the
ratio, rows scanned per second, and the bytes each query would scan on Athena (partition pruning
and column projection, from the optimized plan and the Parquet footers).

    tools/bench_cur.py [--rows 10000000] [--runs 3] [--costradar target/release/costradar]

`make bench` runs it with the bench venv (.venv/bench: DuckDB, pinned in
tests/requirements-bench.txt) and the CLI built with the `bench` profile (opt-level 3, no LTO). Both engines get
the same threads (the machine's cores) and the same SQL text; DuckDB gets one macro,
`array_join` (Trino's and DataFusion's name for its `array_to_string`).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(cmd: list[str]) -> str:
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"bench_cur: {' '.join(cmd)} failed:\n{out.stderr}")
    return out.stdout


def ensure_data(costradar: str, data: Path, rows: int, months: int) -> dict:
    gt = data / "ground_truth.json"
    if gt.exists():
        truth = json.loads(gt.read_text())
        if truth.get("rows") == rows and len(truth.get("periods", [])) == months:
            return truth
    shutil.rmtree(data, ignore_errors=True)
    t = time.time()
    print(f"generating {rows:,} rows of CUR 2.0 into {data.relative_to(ROOT) if data.is_relative_to(ROOT) else data} ...", flush=True)
    run([costradar, "cur", "generate", "--rows", str(rows), "--months", str(months), "--out", str(data)])
    print(f"  generated in {time.time() - t:.1f} s", flush=True)
    return json.loads(gt.read_text())


def duckdb_times(data: Path, queries: list[dict], runs: int, threads: int) -> dict[str, dict]:
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET threads = {threads}")
    con.execute("CREATE MACRO array_join(a, s) AS array_to_string(a, s)")
    files = (data / "data").as_posix() + "/*/*.parquet"
    con.execute(f"CREATE VIEW cur AS SELECT * FROM read_parquet('{files}', hive_partitioning = true)")
    out = {}
    for q in queries:
        times = []
        rows = 0
        for i in range(runs + 1):
            t = time.perf_counter()
            rows = len(con.execute(q["sql"], q["params"]).fetchall())
            if i > 0:
                times.append((time.perf_counter() - t) * 1000)
        times.sort()
        out[q["name"]] = {"median_ms": times[len(times) // 2], "ms": times, "result_rows": rows}
    return out, duckdb.__version__


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--months", type=int, default=3)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--costradar", default=str(ROOT / "target" / "release" / "costradar"))
    ap.add_argument("--data", default=None)
    args = ap.parse_args()
    data = Path(args.data) if args.data else ROOT / "target" / "bench-data" / f"cur-{args.rows}"
    threads = os.cpu_count() or 2

    truth = ensure_data(args.costradar, data, args.rows, args.months)
    df = json.loads(run([args.costradar, "cur", "bench", "--data", str(data), "--runs", str(args.runs)]))
    duck, duck_version = duckdb_times(data, df["queries"], args.runs, threads)

    print()
    print(f"CUR library on {truth['rows']:,} rows ({len(truth['periods'])} billing periods), {threads} threads, "
          f"median of {args.runs} runs after a warm-up; DuckDB {duck_version}")
    head = f"{'query':<22}{'DataFusion':>12}{'DuckDB':>10}{'ratio':>8}{'DF Mrows/s':>12}{'Duck Mrows/s':>13}" \
           f"{'Athena MB':>11}{'of all':>8}{'cols':>6}  partitions"
    print(head)
    print("-" * len(head))
    ratios = []
    mismatched = []
    for q in df["queries"]:
        name = q["name"]
        d, k = q["median_ms"], duck[name]["median_ms"]
        a = q["athena"]
        ratio = d / k if k > 0 else float("inf")
        ratios.append(ratio)
        rows = a["rows"]
        if q["result_rows"] != duck[name]["result_rows"]:
            mismatched.append(f"{name}: DataFusion {q['result_rows']} rows, DuckDB {duck[name]['result_rows']}")
        print(f"{name:<22}{d:>10.0f}ms{k:>8.0f}ms{ratio:>7.2f}x{rows / d / 1000:>12.1f}{rows / k / 1000:>13.1f}"
              f"{a['bytes'] / 2**20:>11.1f}{100 * a['bytes'] / max(a['total_bytes'], 1):>7.0f}%{len(a['columns']):>6}  "
              f"{len(a['partitions'])}/{len(truth['periods'])}")
    geo = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
    total_mb = df["queries"][0]["athena"]["total_bytes"] / 2**20
    print("-" * len(head))
    print(f"geometric mean ratio DataFusion/DuckDB: {geo:.2f}x (target <= 1.5x: {'met' if geo <= 1.5 else 'NOT met'}); "
          f"worst {max(ratios):.2f}x; export size {total_mb:.0f} MB")
    scanned = sum(q["athena"]["bytes"] for q in df["queries"])
    from decimal import Decimal, ROUND_CEILING
    cost = sum(max(Decimal(q["athena"]["bytes"]) / 2**20, Decimal(10)).to_integral_value(ROUND_CEILING) * 5 / 2**20
               for q in df["queries"])
    print(f"Athena: the library would scan {scanned / 2**20:.0f} MB in all (${cost:.4f} at $5/TB, 10 MB minimum per query)")
    if mismatched:
        print("result row counts differ: " + "; ".join(mismatched))
        sys.exit(1)
    print("result row counts agree on every query")


if __name__ == "__main__":
    main()
