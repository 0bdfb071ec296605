"""Benchmark of supervision imports and pages at 100,000 rows: state assets (行政事业性国有资产)
and audit findings (审计查出问题).

    DATA_DIR=$(mktemp -d) .venv/bin/python benchmarks/supervision.py [--rows 100000]
    DATA_DIR=$(mktemp -d) .venv/bin/python benchmarks/supervision.py --profile findings.csv

Measures (targets from issue 18):
- import of N unit-asset rows (two years of N/2 units) and of N audit-finding rows into an
  empty register, from CSV (≤ 10 s) and from XLSX (≤ 30 s), through the real import path
  (supervision.importing.import_file: read, check every row, store all or nothing); median
  of --runs wall times, CPU time beside it;
- the supervision pages over that data (test client, logged in as a deputy for the asset
  page, as staff for the audit register): p50 and p95 of --requests requests (p95 ≤ 300 ms).

Bonds are measured by benchmarks/supervision_import.py. It migrates the database it is pointed
at, so point it at a throw-away DATA_DIR or database. --profile KIND.FMT runs one import under
cProfile and prints the top functions instead of the timings.
"""

import argparse
import cProfile
import csv
import datetime
import io
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms.settings.dev")

DEPARTMENTS = 200
ENTERPRISES_PER_YEAR = 2000
UNIT_YEARS = (2025, 2026)
CSV_TARGET, XLSX_TARGET, VIEW_TARGET = 10, 30, 300


def setup():
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    settings.DEBUG = False  # measured as deployed, without DEBUG's query log


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))]


# --- the files -----------------------------------------------------------------------------------


def unit_rows(count):
    from supervision.choices import ImportKind
    from supervision.importing import COLUMNS

    rows = [[c.header for c in COLUMNS[ImportKind.UNIT_ASSETS]]]
    per_year = count // len(UNIT_YEARS)
    for y, year in enumerate(UNIT_YEARS):
        for i in range(per_year):
            assets = 1000 + (i * 37) % 90000 + y * (i % 13) * 10
            liabilities = assets * ((i % 40) + 5) // 100
            fixed = assets * 7 // 10
            rows.append(
                [
                    year,
                    f"{100000 + i}",
                    f"县第{i:05d}号行政事业单位",
                    f"{assets}.25",
                    f"{liabilities}.10",
                    "",
                    f"{fixed}.00",
                    f"{assets // 10}.00" if i % 3 else "",
                    str(i % 9),
                    f"{(i % 9) * 12}.50",
                ]
            )
    return rows


def enterprise_rows(count):
    from supervision.choices import ImportKind
    from supervision.importing import COLUMNS

    rows = [[c.header for c in COLUMNS[ImportKind.ENTERPRISE_ASSETS]]]
    for y, year in enumerate(UNIT_YEARS):
        for i in range(count):
            assets = 5000 + (i * 131) % 400000 + y * 300
            liabilities = assets * ((i % 60) + 20) // 100
            rows.append(
                [
                    year,
                    f"91530428MA{i:08d}",
                    f"县第{i:05d}号国有企业有限公司",
                    f"{assets}.00",
                    f"{liabilities}.00",
                    "",
                    f"{assets // 8}.00",
                    f"{(i % 21) * 37 - 200}.50",
                ]
            )
    return rows


def finding_rows(count):
    from supervision.choices import ImportKind
    from supervision.importing import COLUMNS

    rows = [[c.header for c in COLUMNS[ImportKind.FINDINGS]]]
    modes = ["立行立改", "分阶段整改", "持续整改", ""]
    start = datetime.date(2026, 1, 31)
    for i in range(count):
        year = 2021 + i % 5
        d = i % DEPARTMENTS
        rows.append(
            [
                year,
                f"{year}年度预算执行审计报告",
                f"{year}-{i:06d}",
                f"挤占专项资金{i % 97 + 1}万元用于公用经费（{i}）",
                f"{(i % 500) + 1}.50" if i % 4 else "",
                f"D{d:04d}" if i % 2 else "",
                f"预算单位{d:04d}",
                "归还原资金渠道，建立台账逐项销号",
                modes[i % 4],
                (start + datetime.timedelta(days=i % 700)).isoformat(),
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


# --- the database ---------------------------------------------------------------------------------


def departments():
    from budget.models import Department

    Department.objects.bulk_create(
        [Department(code=f"D{d:04d}", name=f"预算单位{d:04d}") for d in range(DEPARTMENTS)],
        ignore_conflicts=True,
    )


def empty(kind):
    """Remove what an import of *kind* stored (events are append-only: raw SQL here)."""
    from django.db import connection

    from supervision.models import (
        AuditFinding,
        FindingEvent,
        RectificationReport,
        SupervisionBatch,
        UnitAssets,
    )

    if kind == "unit_assets":
        UnitAssets.objects.all().delete()
    else:
        with connection.cursor() as cursor:
            for model in (FindingEvent, RectificationReport, AuditFinding):
                cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")
    SupervisionBatch.objects.filter(kind=kind).delete()


def timed_import(content, name, kind):
    from supervision.importing import import_file

    started, cpu = time.perf_counter(), time.process_time()
    result = import_file(content, name, kind, username="benchmark")
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    if not result.ok:
        sys.exit(f"import failed: {[e.message for e in result.errors[:5]]}")
    return wall, cpu, result


def profile(files, which):
    from supervision.importing import import_file

    kind, fmt = which.rsplit(".", 1)
    content = files[kind][fmt]
    empty(kind)
    profiler = cProfile.Profile()
    profiler.enable()
    result = import_file(content, f"{kind}.{fmt}", kind, username="benchmark")
    profiler.disable()
    print(f"profile of {which}: ok={result.ok} rows={result.rows}")
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)


def time_pages(requests):
    from django.contrib.auth.models import Group
    from django.test import Client

    from cms import roles
    from cms.models import User
    from supervision.models import AuditFinding

    deputy, _ = User.objects.get_or_create(username="bench-deputy")
    deputy.groups.add(Group.objects.get(name=roles.DEPUTY))
    staff, _ = User.objects.get_or_create(username="bench-staff")
    staff.groups.add(Group.objects.get(name=roles.STAFF))
    as_deputy, as_staff = Client(), Client()
    as_deputy.force_login(deputy)
    as_staff.force_login(staff)
    findings = AuditFinding.objects.count()
    last_page = max(1, (findings // 3 // 50) // 2)
    pages = (
        ("assets year", as_deputy, f"/supervision/assets/?year={UNIT_YEARS[-1]}"),
        ("assets page 300", as_deputy, f"/supervision/assets/?year={UNIT_YEARS[-1]}&page=300"),
        ("assets search", as_deputy, f"/supervision/assets/?year={UNIT_YEARS[-1]}&q=01234"),
        ("audit list", as_staff, "/supervision/audit/"),
        ("audit status", as_staff, "/supervision/audit/?status=none"),
        ("audit year+page", as_staff, f"/supervision/audit/?year=2023&page={last_page}"),
        ("audit (deputy)", as_deputy, "/supervision/audit/?status=none&year=2025"),
    )
    results = []
    for label, client, url in pages:
        response = client.get(url)  # warm templates and the first queries, not the data
        assert response.status_code == 200, (url, response.status_code)
        samples, cpu_ms = [], []
        for _ in range(requests):
            started, cpu_started = time.perf_counter(), time.process_time()
            response = client.get(url)
            samples.append((time.perf_counter() - started) * 1000)
            cpu_ms.append((time.process_time() - cpu_started) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        p50, p95 = percentile(samples, 0.5), percentile(samples, 0.95)
        results.append((label, url, p50, p95, percentile(cpu_ms, 0.5), len(response.content)))
    return results


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--no-xlsx", action="store_true", help="skip the XLSX imports")
    parser.add_argument("--profile", metavar="KIND.FMT", help="e.g. findings.csv, unit_assets.xlsx")
    parser.add_argument(
        "--only", metavar="KIND.FMT", help="time this import alone (no re-import, no pages)"
    )
    args = parser.parse_args()
    setup()
    from django.db import connection

    from supervision.importing import import_file

    departments()
    made = time.perf_counter()
    tables = {"unit_assets": unit_rows, "findings": finding_rows}
    single = args.profile or args.only
    if single:
        tables = {single.split(".")[0]: tables[single.split(".")[0]]}
    files = {}
    for kind, make in tables.items():
        rows = make(args.rows)
        files[kind] = {"csv": csv_content(rows)}
        if not args.no_xlsx or (single or "").endswith("xlsx"):
            files[kind]["xlsx"] = xlsx_content(rows)
    print(f"database: {connection.vendor}; rows per file: {args.rows}; runs: {args.runs}")
    print(f"files written in {time.perf_counter() - made:.1f} s:")
    for kind, contents in files.items():
        print(
            f"  {kind}: "
            + ", ".join(f"{fmt.upper()} {len(c) / 1e6:.1f} MB" for fmt, c in contents.items())
        )
    if args.profile:
        profile(files, args.profile)
        return

    formats = ("csv",) if args.no_xlsx else ("csv", "xlsx")
    if args.only:
        formats = (args.only.rsplit(".", 1)[1],)
    for kind in files:
        for fmt in formats:
            walls, cpus = [], []
            for _run in range(args.runs):
                empty(kind)
                wall, cpu, result = timed_import(files[kind][fmt], f"{kind}.{fmt}", kind)
                assert result.changes["added"] == args.rows, result.changes
                walls.append(wall)
                cpus.append(cpu)
            target = CSV_TARGET if fmt == "csv" else XLSX_TARGET
            median = statistics.median(walls)
            print(
                f"import {kind:12s} {fmt:4s} median {median:6.2f} s, CPU "
                f"{statistics.median(cpus):6.2f} s  (runs {', '.join(f'{w:.2f}' for w in walls)})"
                f"  target ≤ {target} s  {'OK' if median <= target else 'OVER'}"
            )
        if args.only:
            return
        # a re-import of the same file: every row compared, nothing stored twice
        wall, cpu, result = timed_import(files[kind]["csv"], f"{kind}.csv", kind)
        print(
            f"import {kind:12s} csv re-import {wall:6.2f} s, CPU {cpu:6.2f} s  "
            f"(unchanged {result.changes.get('unchanged')})"
        )

    result = import_file(
        csv_content(enterprise_rows(ENTERPRISES_PER_YEAR)), "soe.csv", "soe_assets", username="b"
    )
    assert result.ok, result.errors[:3]
    print(
        f"pages over {args.rows} unit-asset rows, {2 * ENTERPRISES_PER_YEAR} enterprise rows, "
        f"{args.rows} findings; {args.requests} requests each:"
    )
    for label, url, p50, p95, cpu, size in time_pages(args.requests):
        print(
            f"view {label:16s} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  (CPU p50 {cpu:6.1f} ms, "
            f"{size / 1024:.0f} KB)  target p95 ≤ {VIEW_TARGET} ms  "
            f"{'OK' if p95 <= VIEW_TARGET else 'OVER'}  {url}"
        )


if __name__ == "__main__":
    main()
