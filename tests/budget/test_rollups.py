"""Per-code monthly rollups written at import: the same numbers as the figures give,
kept current when a batch is replaced, refused or deleted."""

from decimal import Decimal

import pytest
from django.core.cache import cache

from budget.importing import import_file
from budget.measures import AMOUNT_FIELDS, _compute_tree, rebuild_rollups
from budget.models import FigureRollup, ImportBatch, RollupScope

from .conftest import LONG_HEADER, csv_bytes

pytestmark = pytest.mark.django_db

MIXED = [
    LONG_HEADER,
    # 2026: department rows in 执行 and 累计执行, a county total that wins, a 款 given itself
    [2026, 0, "一般公共预算", "2010101", "", "101", "", "年初预算", "100"],
    [2026, 5, "一般公共预算", "2010101", "", "101", "", "调整预算", "120"],
    [2026, 3, "一般公共预算", "2010101", "", "101", "", "执行", "10"],
    [2026, 8, "一般公共预算", "2010101", "", "101", "", "执行", "40"],
    [2026, 9, "一般公共预算", "2010101", "", "101", "", "执行", "20"],
    [2026, 0, "一般公共预算", "2010101", "", "201", "", "年初预算", "50"],
    [2026, 7, "一般公共预算", "2010101", "", "201", "", "累计执行", "30"],
    [2026, 9, "一般公共预算", "2010101", "", "201", "", "累计执行", "45"],
    [2026, 0, "一般公共预算", "2050202", "", "", "", "年初预算", "200"],
    [2026, 9, "一般公共预算", "2050202", "", "", "", "累计执行", "150"],
    [2026, 9, "一般公共预算", "2050202", "", "201001", "", "累计执行", "90"],
    [2026, 0, "一般公共预算", "20502", "", "", "", "年初预算", "260"],
    [2026, 11, "一般公共预算", "2050203", "", "201", "", "执行", "7"],
    # 2025: last year's execution, for 上年同期
    [2025, 6, "一般公共预算", "2010101", "", "101", "", "累计执行", "33"],
    [2025, 9, "一般公共预算", "2010101", "", "101", "", "累计执行", "50"],
    [2025, 9, "一般公共预算", "2050202", "", "", "", "执行", "12"],
]


def _import(rows, name="data.csv"):
    result = import_file(csv_bytes(rows), name)
    assert result.ok, result.errors
    cache.clear()
    return result


def _as_dict(tree):
    return {
        code: tuple(getattr(m, name) for name in AMOUNT_FIELDS)
        for code, m in tree.get(None, {}).items()
    }


def _from_figures(year, month):
    """The same tree computed from the figures, with the rollups out of the way."""
    scopes = list(RollupScope.objects.values_list("year", "budget", "kind", "last_month"))
    RollupScope.objects.all().delete()
    try:
        return _as_dict(_compute_tree(year, month, "general", "function", None, False))
    finally:
        for year_, budget, kind, last in scopes:
            RollupScope.objects.create(year=year_, budget=budget, kind=kind, last_month=last)


def test_rollups_equal_the_figures_for_every_month(classification, departments):
    _import(MIXED)
    assert RollupScope.objects.filter(year=2026, budget="general", kind="function").exists()
    assert RollupScope.objects.get(year=2026).last_month == 11
    for month in range(1, 13):
        from_rollups = _as_dict(_compute_tree(2026, month, "general", "function", None, False))
        assert from_rollups == _from_figures(2026, month), month
    september = _as_dict(_compute_tree(2026, 9, "general", "function", None, False))
    # 累计 70 (dept 101: 10 + 40 + 20) + 45 (dept 201) 万元; last year 50
    assert september["2010101"][3] == Decimal("1150000")
    assert september["2010101"][5] == Decimal("500000")
    # the county total wins over the department row; the 款 keeps its own 年初预算数
    assert september["2050202"][3] == Decimal("1500000")
    assert september["20502"][0] == Decimal("2600000")
    assert "2050203" not in september  # first reported in November


def test_reimport_replaces_the_rollups(classification, departments, client, deputy_user):
    _import(MIXED)
    client.force_login(deputy_user)
    changed = [list(r) for r in MIXED]
    changed[10][8] = "175"  # 2050202 county 累计执行 150 → 175 万元
    _import(changed, "again.csv")
    row = FigureRollup.objects.get(year=2026, month=9, budget="general", code="2050202")
    assert row.cumulative == Decimal("1750000")
    assert FigureRollup.objects.get(year=2026, month=9, code="205").cumulative == Decimal("1750000")
    assert _as_dict(_compute_tree(2026, 9, "general", "function", None, False)) == (
        _from_figures(2026, 9)
    )
    html = client.get("/budget/execution/", {"year": 2026, "month": 9}).content.decode()
    assert "175.00" in html
    # one copy of each row: nothing left over from the replaced batch
    assert FigureRollup.objects.filter(year=2026, month=9, code="2050202").count() == 1


def test_refused_import_leaves_the_rollups_alone(classification, departments):
    _import(MIXED)
    before = list(FigureRollup.objects.order_by("pk").values_list("code", "month", "cumulative"))
    bad = [list(r) for r in MIXED]
    bad[10][8] = "一百五十"
    result = import_file(csv_bytes(bad), "bad.csv")
    assert not result.ok
    after = list(FigureRollup.objects.order_by("pk").values_list("code", "month", "cumulative"))
    assert after == before


def test_deleting_a_batch_rebuilds_its_rollups(classification, departments):
    _import(MIXED)
    extra = [LONG_HEADER, [2026, 9, "一般公共预算", "2060101", "", "", "", "累计执行", "8"]]
    batch = _import(extra, "science.csv").batch
    assert FigureRollup.objects.filter(year=2026, month=9, code="206").exists()
    ImportBatch.objects.get(pk=batch).delete()
    assert not FigureRollup.objects.filter(year=2026, month=9, code="206").exists()
    assert _as_dict(_compute_tree(2026, 9, "general", "function", None, False)) == (
        _from_figures(2026, 9)
    )


def test_rebuild_all_restores_missing_rollups(classification, departments):
    _import(MIXED)
    FigureRollup.objects.all().delete()
    RollupScope.objects.all().delete()
    written = rebuild_rollups()
    assert written == FigureRollup.objects.count() > 0
    assert set(RollupScope.objects.values_list("year", flat=True)) == {2025, 2026}


def test_rebuild_command_and_latest_period(classification, departments):
    from django.core.management import call_command

    from budget.reports import latest_period

    _import(MIXED)
    assert latest_period("general") == (2026, 11)
    FigureRollup.objects.all().delete()
    RollupScope.objects.all().delete()
    assert latest_period("general") == (2026, 11)  # from the figures while none are built
    call_command("rebuild_budget_rollups")
    assert RollupScope.objects.count() == 2
    assert _as_dict(_compute_tree(2026, 9, "general", "function", None, False)) == (
        _from_figures(2026, 9)
    )
