"""Importing 预算审议意见 from XLSX: row-level Chinese errors, all or nothing, staff only."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from budget.models import Department
from cms.usage.models import UsageAction, UsageRecord
from suggestions.opinions.importing import REQUIRED, import_opinions, template_workbook
from suggestions.opinions.models import ReviewOpinion
from tests.budget.subjects import store_subjects

pytestmark = pytest.mark.django_db

HEADER = [
    *REQUIRED,
    "提出方",
    "出处",
    "期号",
    "提出日期",
    "科目编码",
    "单位编码",
    "处理情况",
    "反馈说明",
]


def xlsx(rows, header=HEADER) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.fixture
def reference(db):
    # the subjects as stored by load_subjects, without Wagtail's reference index entries for
    # their parent links, which no test here looks at (tests/budget/subjects.py)
    store_subjects(2026)
    Department.objects.create(code="035", name="县水利局")
    Department.objects.create(code="006", name="县财政局")


GOOD = [
    [2026, "大会审议", "加大农村饮水投入", "山区缺水。", "羊街乡代表团", "代表团", "大会简报", 3,
     "2026-01-12", "213、21303", "035", "待反馈", ""],
    [2026, "初审", "债务还本付息足额安排", "高峰临近。", "县人大财经委", "委员会 / 工作机构",
     "初审意见", None, "2026-01-05", "", "006", "已采纳", "已足额列入。"],
]  # fmt: skip


def test_good_file_imports_every_row_with_links(reference, staff_user):
    result = import_opinions(xlsx(GOOD), staff_user)
    assert result.ok and result.rows == 2
    water = ReviewOpinion.objects.get(title="加大农村饮水投入")
    assert water.source_label == "大会简报第3期"
    assert sorted(water.subjects.values_list("code", flat=True)) == ["213", "21303"]
    assert list(water.departments.values_list("code", flat=True)) == ["035"]
    assert water.created_by == staff_user
    debt = ReviewOpinion.objects.get(title="债务还本付息足额安排")
    assert debt.handling_status == "adopted" and debt.raised_by_kind == "committee"
    # the same file again adds nothing and says why
    again = import_opinions(xlsx(GOOD), staff_user)
    assert not again.ok and ReviewOpinion.objects.count() == 2
    assert "系统中已有" in str(again.errors[0])


def test_one_bad_row_imports_nothing_and_each_error_names_its_row(reference):
    rows = [
        GOOD[0],
        [2026, "二审", "x", "y", "某代表", "", "", None, "", "", "", "", ""],
        [2026, "预审", "z", "w", "某代表", "", "", None, "2026-13-01", "999", "", "", ""],
        [2026, "预审", "v", "", "某代表", "", "", None, "", "", "", "已采纳", ""],
        [2026, "预审", "u", "t", "某代表", "", "", None, "", "", "777", "", ""],
    ]
    result = import_opinions(xlsx(rows))
    messages = [str(e) for e in result.errors]
    assert ReviewOpinion.objects.count() == 0
    assert messages[0].startswith("第 3 行：审议阶段“二审”无效")
    assert messages[1].startswith("第 4 行：") and "2026年科目表中没有编码 999" in messages[1]
    assert messages[2] == "第 5 行：缺少意见内容"
    assert messages[3] == "第 6 行：没有单位编码 777"


def test_missing_columns_and_broken_files(reference):
    result = import_opinions(xlsx([], header=["预算年度", "意见要点"]))
    assert "表头缺少列：审议阶段、意见内容、提出者" in str(result.errors[0])
    result = import_opinions(b"not a workbook")
    assert "无法读取文件" in str(result.errors[0])


def test_template_has_the_columns(reference):
    sheet = load_workbook(io.BytesIO(template_workbook())).active
    header = [c.value for c in sheet[1]]
    assert header[: len(REQUIRED)] == REQUIRED
    # and its example row imports
    assert import_opinions(template_workbook()).ok


def test_import_page_for_staff_only(client, reference, staff_user, deputy_user):
    url = reverse("review_opinions:import")
    client.force_login(deputy_user)
    assert client.get(url).status_code == 403
    assert client.get(reverse("review_opinions:import_template")).status_code == 403
    client.force_login(staff_user)
    assert client.get(url).status_code == 200
    bad = SimpleUploadedFile("opinions.xlsx", xlsx([[2026, "二审", "x", "y", "z"]]))
    response = client.post(url, {"file": bad})
    assert response.status_code == 400
    assert "第 2 行：审议阶段“二审”无效" in response.content.decode()
    good = SimpleUploadedFile("opinions.xlsx", xlsx(GOOD))
    response = client.post(url, {"file": good})
    assert response.status_code == 302
    assert ReviewOpinion.objects.count() == 2
    assert UsageRecord.objects.filter(user=staff_user, action=UsageAction.UPLOAD).exists()
