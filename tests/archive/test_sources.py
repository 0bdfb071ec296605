"""Adapters of the modules that exist now: alerts with their events; the archive in search."""

from decimal import Decimal

import pytest

from archive import services
from archive.sources import FilingMaterial, Paragraph, register_source, unregister_source
from budget.choices import BudgetKind
from search.registry import run_search
from supervision import alerts
from supervision.choices import AlertGrade, AlertStatus, RuleKind, RuleScope
from supervision.models import Alert, AlertRule

pytestmark = pytest.mark.django_db


@pytest.fixture
def closed_alert(staff_user):
    rule = AlertRule.objects.create(
        name="进度落后",
        kind=RuleKind.EXECUTION_LAG,
        scope=RuleScope.CATEGORY,
        threshold=Decimal(10),
        grade=AlertGrade.GENERAL,
        owner=staff_user,
    )
    alert = Alert.objects.create(
        rule=rule,
        key="201",
        year=2026,
        month=9,
        budget=BudgetKind.GENERAL,
        code="201",
        title="2026年1-9月 201 一般公共服务支出 执行率偏低",
        figures={"执行率": "40.00%", "进度差": "-35.00%"},
        grade=AlertGrade.GENERAL,
    )
    alerts.transition(alert, AlertStatus.BULLETIN, staff_user, note="已通报财政局")
    alerts.transition(alert, AlertStatus.CLOSED, staff_user, note="财政局已说明原因")
    return alert


def test_closed_alert_is_filed_with_its_events(file_now, archivist_user, closed_alert):
    from pypdf import PdfReader

    item = file_now("budget.alert", closed_alert.pk, archivist_user)
    assert item.is_filed and item.record_type == "alert" and item.retention == "D30"
    assert item.title.startswith("监督预警：") and item.year == 2026
    steps = [step["事项"] for step in item.metadata["source"]["处理经过"]]
    assert steps[-2:] == ["发出联网查询情况通报", "关闭"]
    reader = PdfReader(services.archive_root() / item.item_number / "rendition.pdf")
    text = "".join("".join(page.extract_text().split()) for page in reader.pages)
    assert "财政局已说明原因" in text and "执行率" in text and "已关闭" in text


def test_open_alerts_are_not_candidates(closed_alert, staff_user):
    from archive.sources import unfiled_candidates

    Alert.objects.create(
        rule=closed_alert.rule,
        key="205",
        year=2026,
        month=9,
        budget=BudgetKind.GENERAL,
        title="仍在办理",
        grade=AlertGrade.GENERAL,
    )
    labels = [c.label for c in unfiled_candidates(["budget.alert"])]
    assert labels == [closed_alert.title]


def test_a_new_module_is_one_register_source_call(file_now, archivist_user, staff_user):
    """What docs/archive.md tells the next module to do."""
    from cms.models import User

    def describe(user):
        return FilingMaterial(
            title=f"账户档案：{user.username}",
            date=user.date_joined.date(),
            record_type="briefing",
            responsible="办公室",
            blocks=[Paragraph("测试内容")],
        )

    register_source(
        "tests.user",
        model=User,
        label="测试来源",
        record_type="briefing",
        describe=describe,
        candidates=lambda: User.objects.filter(pk=staff_user.pk),
    )
    try:
        item = file_now("tests.user", staff_user.pk, archivist_user)
        assert item.is_filed and item.source_type.model == "user"
    finally:
        unregister_source("tests.user")


def test_filed_items_are_found_by_archive_readers_only(
    file_now, archivist_user, staff_user, deputy_user, closed_alert
):
    item = file_now("budget.alert", closed_alert.pk, archivist_user)
    for user, expected in ((archivist_user, True), (staff_user, True), (deputy_user, False)):
        hits = run_search(user, "一般公共服务支出").hits
        assert (item in [hit.obj for hit in hits]) is expected


def test_archive_page_search(client, fresh_index, file_now, archivist_user, closed_alert):
    from django.urls import reverse

    from search.indexing import pending_files

    item = file_now("budget.alert", closed_alert.pk, archivist_user)
    client.force_login(archivist_user)
    body = client.get(reverse("archive:index"), {"q": "一般公共服务支出"}).content.decode()
    store = fresh_index.store
    state = (store.rebuilding, store.rebuild_in_progress(), pending_files(store), item.status)
    assert item.item_number in body and "检索结果（1）" in body, state
    body = client.get(reverse("archive:index"), {"q": "不存在的词语"}).content.decode()
    assert "没有找到符合条件的归档文件" in body


def test_policy_page_editor_offers_filing(client, admin_user_role):
    from django.urls import reverse

    from policies import ingest
    from tests.policies.files import SAMPLE_NOTICE

    (record,) = ingest.import_path_data("notice.txt", SAMPLE_NOTICE.encode(), publish=True)
    client.force_login(admin_user_role)
    body = client.get(f"/admin/pages/{record.page_id}/edit/").content.decode()
    assert (
        f"{reverse('archive:file')}?source=policies.policypage&amp;source_id={record.page_id}"
        in body
    )
