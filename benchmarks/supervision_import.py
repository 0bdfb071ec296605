"""Benchmark of supervision imports and views (政府债务).

    DATA_DIR=$(mktemp -d) .venv/bin/python benchmarks/supervision_import.py [--rows 100000]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench DATA_DIR=$(mktemp -d) \
        .venv/bin/python benchmarks/supervision_import.py

Measures (targets from issue 18):
- import of N bond rows (债券明细) into an empty register from CSV (≤ 10 s) and from XLSX
  (≤ 30 s), and a re-import of the same CSV (every row compared, none changed); median of --runs;
- the debt, maturity and bond-list pages over the N bonds (test client, logged in as a
  deputy): p50 and p95 of --requests requests each (p95 ≤ 300 ms).

It migrates the database it is pointed at, so point it at a throw-away DATA_DIR or database.
Only bonds are measured: state assets and audit findings are not built yet (issue 18 items 2, 4).
"""

import argparse
import csv
import datetime
import io
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms.settings.dev")


def setup():
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    settings.DEBUG = False


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))]


def bond_rows(count):
    from supervision.importing import COLUMNS

    header = [c.header for c in COLUMNS["bonds"]]
    types = ["新增债券", "再融资债券", "置换债券"]
    rows = [header]
    start = datetime.date(2015, 1, 1)
    for i in range(count):
        issue = start + datetime.timedelta(days=i % 4000)
        term = (3, 5, 7, 10, 15, 20, 30)[i % 7]
        rows.append(
            [
                f"B{i:08d}",
                f"{issue.year}年某省政府{'一般' if i % 2 else '专项'}债券（第{i % 97 + 1}期）",
                "一般债务" if i % 2 else "专项债务",
                types[i % 3],
                issue.isoformat(),
                f"{(i % 500 + 1) * 10}.00",
                f"{2 + (i % 200) / 100:.2f}",
                str(term),
                "",
                "农村公路建设" if i % 3 else "保障性安居工程",
                f"项目{i % 1000:04d}",
                "" if i % 11 == 0 else "一般公共预算收入",
            ]
        )
    return rows


def csv_content(rows):
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode("utf-8")


def xlsx_content(rows):
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def empty_register():
    from supervision.models import Bond, Repayment, SupervisionBatch

    Repayment.objects.all().delete()
    Bond.objects.all().delete()
    SupervisionBatch.objects.all().delete()


CPU = []  # process time of each import, beside its wall-clock time


def timed_import(content, name):
    from supervision.importing import import_file

    started, cpu = time.perf_counter(), time.process_time()
    result = import_file(content, name, "bonds", username="benchmark")
    seconds = time.perf_counter() - started
    CPU.append(time.process_time() - cpu)
    if not result.ok:
        sys.exit(f"import failed: {[e.message for e in result.errors[:5]]}")
    return seconds, result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--no-xlsx", action="store_true", help="skip the XLSX import")
    parser.add_argument(
        "--views-only", action="store_true", help="time the pages over the bonds already there"
    )
    args = parser.parse_args()
    setup()
    from django.db import connection

    rows = bond_rows(args.rows)
    csv_bytes, xlsx_bytes = csv_content(rows), xlsx_content(rows)
    from supervision.models import Bond

    print(f"database: {connection.vendor}; rows: {args.rows}; runs: {args.runs}")
    print(f"bonds in the register before: {Bond.objects.count()}")
    print(f"files: CSV {len(csv_bytes) / 1e6:.1f} MB, XLSX {len(xlsx_bytes) / 1e6:.1f} MB")
    times = {"csv": [], "xlsx": [], "csv re-import": []}
    cpu = {name: [] for name in times}
    for _run in range(0 if args.views_only else args.runs):
        empty_register()
        times["csv"].append(timed_import(csv_bytes, "bonds.csv")[0])
        cpu["csv"].append(CPU[-1])
        seconds, result = timed_import(csv_bytes, "bonds.csv")
        assert result.changes["unchanged"] == args.rows, result.changes
        times["csv re-import"].append(seconds)
        cpu["csv re-import"].append(CPU[-1])
        if not args.no_xlsx:
            empty_register()
            times["xlsx"].append(timed_import(xlsx_bytes, "bonds.xlsx")[0])
            cpu["xlsx"].append(CPU[-1])
    targets = {"csv": 10, "xlsx": 30, "csv re-import": 10}
    for name, values in times.items():
        if not values:
            continue
        median = statistics.median(values)
        runs = ", ".join(f"{v:.2f}" for v in values)
        print(
            f"import {name:14s} median {median:6.2f} s, CPU {statistics.median(cpu[name]):6.2f} s"
            f"  (runs {runs})  target ≤ {targets[name]} s  "
            f"{'OK' if median <= targets[name] else 'OVER'}"
        )

    from django.contrib.auth.models import Group
    from django.test import Client

    from cms import roles
    from cms.models import User

    user, _ = User.objects.get_or_create(username="bench-deputy")
    user.groups.add(Group.objects.get(name=roles.DEPUTY))
    client = Client()
    client.force_login(user)
    for label, url in (
        ("debt", "/supervision/debt/"),
        ("maturity", "/supervision/debt/maturity/"),
        ("bonds", "/supervision/debt/bonds/?category=special&page=20"),
    ):
        samples, cpu_ms = [], []
        client.get(url)  # warm the process (templates, first queries), not the data
        for _ in range(args.requests):
            started, cpu_started = time.perf_counter(), time.process_time()
            response = client.get(url)
            samples.append((time.perf_counter() - started) * 1000)
            cpu_ms.append((time.process_time() - cpu_started) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        p95 = percentile(samples, 0.95)
        print(
            f"view {label:9s} p50 {percentile(samples, 0.5):7.1f} ms  p95 {p95:7.1f} ms  "
            f"(CPU p50 {percentile(cpu_ms, 0.5):6.1f} ms)  "
            f"target p95 ≤ 300 ms  {'OK' if p95 <= 300 else 'OVER'}"
        )


if __name__ == "__main__":
    main()
