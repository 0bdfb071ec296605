import datetime

import pytest

from briefings.models import BriefingPage, MaterialType
from briefings.services import ensure_index_page, ensure_workflow
from budget.importing import import_file
from cms import roles
from tests.budget.conftest import LONG_HEADER, classification, csv_bytes, departments  # noqa: F401

__all__ = ["classification", "departments"]


@pytest.fixture
def head(make_user):
    """The budget office head (负责同志), a 工作人员 named in the approval task."""
    return make_user(roles.STAFF, username="head", email="head@rd.local")


@pytest.fixture
def drafter(make_user):
    return make_user(roles.STAFF, username="drafter", email="drafter@rd.local")


@pytest.fixture
def workflow(db, head):
    return ensure_workflow(head)


@pytest.fixture
def quarterly(db):
    return MaterialType.objects.get(code="quarterly-briefing")


def make_briefing(material_type, year=2026, period=3, title="2026年第三季度预算执行情况", **extra):
    index = ensure_index_page()
    page = BriefingPage(
        title=title,
        slug=f"b-{material_type.code}-{year}-{period}-{BriefingPage.objects.count()}",
        material_type=material_type,
        year=year,
        period=period,
        body=[("heading", "总体情况"), ("paragraph", "<p>支出进度总体平稳。</p>")],
        live=False,
        **extra,
    )
    index.add_child(instance=page)
    page.save_revision()
    return page


def approve(page, drafter, head, comment=""):
    """Submit as the drafter and approve as the head: publishes through the workflow."""
    page.get_workflow().start(page, drafter)
    page.refresh_from_db()
    state = page.current_workflow_task_state
    state.task.specific.on_action(state, head, "approve", comment=comment)
    page.refresh_from_db()
    return page


# Budget figures of 2026 (万元): general budget 201 and 205, fund 212; 2025 prior year.
FIGURE_ROWS = [
    [2026, 0, "一般公共预算", "2010101", "", "", "", "年初预算", "1000"],
    [2026, 6, "一般公共预算", "2010101", "", "", "", "调整预算", "1200"],
    [2026, 9, "一般公共预算", "2010101", "", "", "", "累计执行", "780"],
    [2026, 0, "一般公共预算", "2050101", "", "", "", "年初预算", "3000"],
    [2026, 9, "一般公共预算", "2050101", "", "", "", "累计执行", "2100"],
    [2025, 9, "一般公共预算", "2010101", "", "", "", "累计执行", "700"],
    [2025, 9, "一般公共预算", "2050101", "", "", "", "累计执行", "2100"],
    [2026, 0, "政府性基金预算", "2120801", "", "", "", "年初预算", "500"],
    [2026, 9, "政府性基金预算", "2120801", "", "", "", "累计执行", "300"],
]


@pytest.fixture
def figures(classification):
    result = import_file(csv_bytes([LONG_HEADER, *FIGURE_ROWS]), "2026年1-9月.csv")
    assert result.ok, result
    return 2026


def day(text):
    return datetime.date.fromisoformat(text)
