"""Benchmark of the budget module.

    DATA_DIR=$(mktemp -d) .venv/bin/python benchmarks/budget.py [--figures 1000000] [--rows 100000]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench DATA_DIR=$(mktemp -d) \
        .venv/bin/python benchmarks/budget.py

Measures (targets from the issue):
- import of N long-form rows from CSV (≤ 10 s) and from XLSX (≤ 30 s), and a re-import
  of the CSV that replaces its batch;
- the execution view (through the test client, logged in as a deputy) and budget_report
  over a database of M figures: p50 and p95 of --runs requests (p95 ≤ 300 ms).

It migrates the database it is pointed at, so point it at a throw-away DATA_DIR or
database. Figures for the big database are written with bulk_create, not the importer, so the
per-code monthly rollups the importer keeps are rebuilt once after the fill.
"""

import argparse
import csv
import io
import os
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms.settings.dev")


def setup():
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.conf import settings

    # measured as deployed: without DEBUG's per-query logging (dev settings turn it on)
    settings.DEBUG = False


def percentile(values, share):
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def leaf_codes(year):
    from budget.models import Subject

    codes = list(
        Subject.objects.filter(year=year, kind="function", level=2).values_list("code", flat=True)
    )
    return sorted(codes)


def long_rows(year, count, departments, codes):
    rows = []
    index = 0
    while len(rows) < count:
        unit = departments[index % len(departments)]
        code = codes[(index // len(departments)) % len(codes)]
        cycle = index // (len(departments) * len(codes))
        for month in range(1, 13):
            if len(rows) >= count:
                break
            rows.append(
                [
                    year - cycle,
                    month,
                    "一般公共预算",
                    code,
                    "",
                    unit,
                    "",
                    "执行",
                    f"{index % 997 + 1}.25",
                ]
            )
        index += 1
    return rows


def csv_content(rows):
    from budget.importing import TEMPLATE_HEADERS

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(TEMPLATE_HEADERS)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def xlsx_content(rows):
    from openpyxl import Workbook

    from budget.importing import TEMPLATE_HEADERS

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(TEMPLATE_HEADERS)
    for row in rows:
        sheet.append([*row[:8], float(row[8])])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def timed_import(label, content, filename):
    from budget.importing import import_file

    start, cpu = time.perf_counter(), time.process_time()
    result = import_file(content, filename, username="benchmark")
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    if not result.ok:
        raise SystemExit(f"{label} failed: {result.errors[:3]}")
    print(
        f"{label}: {result.rows} rows, {len(content) / 1e6:.1f} MB, {elapsed:.2f} s "
        f"({cpu:.2f} s CPU in this process)",
        flush=True,
    )
    return elapsed


def fill_figures(total, years, departments, codes):
    """Bulk-write *total* figures: per year, budget, department and code, the initial and
    adjusted budget, twelve monthly executions and the final account."""
    from budget.models import Department, Figure, ImportBatch, Subject

    batch = ImportBatch.objects.create(
        filename="benchmark-bulk", sha256="0" * 64, file_format="long", scope="benchmark-bulk"
    )
    dept_ids = list(Department.objects.filter(code__in=departments).values_list("pk", flat=True))
    budgets = ["general", "fund", "capital", "social"]
    written = 0
    pending = []
    start = time.perf_counter()
    for year in years:
        subjects = dict(
            Subject.objects.filter(year=year, kind="function", code__in=codes).values_list(
                "code", "pk"
            )
        )
        for budget in budgets:
            for dept in dept_ids:
                for code in codes:
                    base = Decimal(1_000_000 + (dept * 7919 + int(code)) % 900_000)
                    entries = [("initial", 0, base), ("adjusted", 12, base * Decimal("1.05"))]
                    entries += [
                        ("execution", m, (base / 13).quantize(Decimal("0.01")))
                        for m in range(1, 13)
                    ]
                    entries.append(("final", 0, base))
                    for phase, month, amount in entries:
                        pending.append(
                            Figure(
                                batch=batch,
                                year=year,
                                month=month,
                                budget=budget,
                                kind="function",
                                code=code,
                                subject_id=subjects[code],
                                department_id=dept,
                                phase=phase,
                                amount=amount,
                            )
                        )
                    written += len(entries)
                    if len(pending) >= 20000:
                        Figure.objects.bulk_create(pending, batch_size=5000)
                        pending = []
                    if written >= total:
                        Figure.objects.bulk_create(pending, batch_size=5000)
                        elapsed = time.perf_counter() - start
                        print(f"bulk fill: {written} figures in {elapsed:.1f} s")
                        return written
    Figure.objects.bulk_create(pending, batch_size=5000)
    print(f"bulk fill: {written} figures in {time.perf_counter() - start:.1f} s")
    return written


def time_runs(label, fn, runs):
    fn()  # warm up caches and connections
    samples, cpu_samples = [], []
    for _ in range(runs):
        start, cpu = time.perf_counter(), time.process_time()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
        cpu_samples.append((time.process_time() - cpu) * 1000)
    print(
        f"{label}: p50 {statistics.median(samples):.0f} ms, p95 {percentile(samples, 0.95):.0f} ms, "
        f"max {max(samples):.0f} ms ({runs} runs; CPU in this process p50 "
        f"{statistics.median(cpu_samples):.0f} ms, p95 {percentile(cpu_samples, 0.95):.0f} ms)",
        flush=True,
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--figures", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    setup()

    from django.conf import settings
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from budget.classification import load_subjects
    from budget.demo import DEPARTMENTS, ensure_departments
    from budget.measures import rebuild_rollups
    from budget.models import Figure
    from cms.roles import DEPUTY

    print(
        f"database: {connection.vendor} {settings.DATABASES['default'].get('NAME')}; "
        f"load average at start {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs",
        flush=True,
    )
    years = list(range(2015, 2027))
    for year in years:
        load_subjects(year)
    ensure_departments()
    departments = [row[0] for row in DEPARTMENTS]
    codes = leaf_codes(2026)

    rows = long_rows(2019, args.rows, departments, codes)
    timed_import("import CSV (long form)", csv_content(rows), "bench-2019.csv")
    xlsx_rows = [[row[0] - 2, *row[1:]] for row in rows]
    timed_import("import XLSX (long form)", xlsx_content(xlsx_rows), "bench-2017.xlsx")
    timed_import("re-import CSV (replaces its batch)", csv_content(rows), "bench-2019-again.csv")

    existing = Figure.objects.count()
    if args.figures > existing:
        fill_figures(
            args.figures - existing,
            [2026, 2025, 2024, 2023, 2022, 2021, 2020],
            departments,
            codes[:40],
        )
        # the bulk fill bypasses the importer, which would have built these
        start = time.perf_counter()
        rebuild_rollups()
        print(f"rollups rebuilt in {time.perf_counter() - start:.1f} s", flush=True)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE budget_figure")
    elif connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(
        f"figures in the database: {Figure.objects.count()}; load average {os.getloadavg()[0]:.1f}",
        flush=True,
    )

    # no setup_test_environment(): its instrumented template rendering is not what a
    # deployed server does; the test client only needs its host name allowed
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    from django.contrib.auth import get_user_model

    user, _ = get_user_model().objects.get_or_create(username="bench-deputy")
    user.groups.add(Group.objects.get(name=DEPUTY))
    client = Client()
    client.force_login(user)

    def view():
        response = client.get("/budget/execution/", {"year": 2026, "month": 9})
        assert response.status_code == 200, response.status_code

    def drill():
        response = client.get("/budget/execution/", {"year": 2026, "month": 9, "parent": "201"})
        assert response.status_code == 200, response.status_code

    def report():
        call_command("budget_report", "--year", "2026", "--month", "9", stdout=io.StringIO())

    from django.core.cache import cache

    def cold(fn):
        def run():
            cache.clear()
            fn()

        return run

    time_runs("execution view (类), cold cache", cold(view), args.runs)
    time_runs("execution view (款 of 201), cold cache", cold(drill), args.runs)
    time_runs("budget_report (all levels), cold cache", cold(report), args.runs)
    time_runs("execution view (类), warm cache", view, args.runs)
    time_runs("budget_report (all levels), warm cache", report, args.runs)


if __name__ == "__main__":
    main()
