"""Figures cited from any document (issue 18 item 7): debt, asset and audit figures beside
budget's, cited from policy pages, signed letters and the generated audit report, and listed
under 被引用 only to those who may open the citing document."""

import datetime
import json
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from wagtail.blocks import StructBlockValidationError

from budget.models import CitingDocument, Department, FigureCitation
from cms import roles
from policies import ingest
from policies.models import PolicyPage
from supervision import alerts, audit
from supervision.blocks import AuditFigureBlock, DebtFigureBlock
from supervision.choices import AlertGrade, ImportKind, RuleKind
from supervision.figures import AssetSpec, AuditSpec, DebtSpec
from supervision.importing import import_file
from supervision.letters import services as letters
from supervision.letters.choices import SignerCapacity
from supervision.letters.models import LetterSigner
from supervision.models import AlertRule
from tests.supervision.conftest import county_positions, csv_bytes

pytestmark = pytest.mark.django_db

NOTICE = "# 关于加强政府债务管理的通知\n\n第一条 各地要严格控制债务规模。\n第二条 本通知自发布之日起施行。"


@pytest.fixture
def positions():
    assert import_file(csv_bytes(county_positions()), "p.csv", ImportKind.POSITIONS).ok


@pytest.fixture
def units(liaison_user):
    education = Department.objects.create(code="201", name="县教育局")
    health = Department.objects.create(code="301", name="县卫生健康局")
    Department.objects.create(code="101", name="县财政局")
    education.liaisons.add(liaison_user)
    return {"education": education, "health": health}


def register(staff_user, department, **changes):
    fields = {
        "year": 2025,
        "source_report": "关于2025年度县级预算执行和其他财政收支的审计工作报告",
        "number": "2025-01",
        "problem": "学生资助资金滞留未拨付",
        "amount": Decimal("1200000.00"),
        "department": department,
        "requirement": "立即拨付滞留资金",
        "deadline": timezone.localdate() + datetime.timedelta(days=30),
    }
    fields.update(changes)
    return audit.register(staff_user, **fields)


def debt_value(mode, category="", measure="balance", year=2026):
    return {
        "year": year,
        "category": category,
        "measure": measure,
        "mode": mode,
        "label": "",
    }


def policy_with(figures):
    (record,) = ingest.import_path_data("debt-notice.md", NOTICE.encode(), publish=True)
    page = PolicyPage.objects.get(pk=record.page_id)
    page.cited_figures = json.dumps(figures)
    page.save_revision().publish()
    page.refresh_from_db()
    return page


@pytest.fixture
def policy(positions):
    return policy_with(
        [
            {"type": "note", "value": "本通知所涉全县债务情况："},
            {"type": "debt_figure", "value": debt_value("live")},
            {"type": "debt_figure", "value": debt_value("frozen", "general", "limit_usage")},
        ]
    )


# --- citing debt figures from a policy page -------------------------------------------------


def test_policy_page_shows_debt_figures_and_publishing_records_them(policy, client, staff_user):
    citations = {c.spec["measure"]: c for c in FigureCitation.objects.filter(page=policy)}
    assert set(citations) == {"balance", "limit_usage"}
    assert all(c.source == "debt" and c.document == CitingDocument.PAGE for c in citations.values())
    assert not citations["balance"].frozen and citations["balance"].value is None
    # 2026: 一般债务 176,520.35 / 185,000 万元
    assert citations["limit_usage"].frozen and citations["limit_usage"].value == Decimal("95.42")
    client.force_login(staff_user)
    html = client.get(policy.url).content.decode()
    assert "引用数据" in html and "本通知所涉全县债务情况" in html
    assert "397,520.35万元" in html  # live: 176,520.35 + 221,000
    assert "95.42%" in html and "发布时数据" in html


def test_debt_pages_list_the_policy_under_cited_by(policy, client, deputy_user):
    client.force_login(deputy_user)
    html = client.get(reverse("supervision:debt")).content.decode()
    assert "被引用" in html and policy.title in html
    spec = DebtSpec(year=2026, category="general", measure="limit_usage")
    html = client.get(spec.url()).content.decode()
    assert "95.42%" in html and policy.title in html and "发布时冻结" in html
    policy.unpublish()
    assert not FigureCitation.objects.filter(source="debt").exists()
    assert policy.title not in client.get(spec.url()).content.decode()


def test_frozen_value_is_kept_after_the_figure_changes(policy, client, staff_user):
    changed = county_positions()
    changed[3][3] = "180000"  # 2026 一般债务余额 reaches its limit… and beyond
    assert import_file(csv_bytes(changed), "p2.csv", ImportKind.POSITIONS).ok
    citation = FigureCitation.objects.get(page=policy, spec__measure="limit_usage")
    assert citation.value == Decimal("95.42")
    client.force_login(staff_user)
    html = client.get(policy.url).content.decode()
    assert "95.42%" in html and "数据已更新，现为 97.30%" in html
    assert "401,000.00万元" in html  # the live figure follows the data
    spec = DebtSpec(year=2026, category="general", measure="limit_usage")
    html = client.get(spec.url()).content.decode()
    assert "97.30%" in html and "95.42%" in html  # now, and as the policy froze it


def test_debt_block_refuses_bad_specs_in_chinese(positions):
    block = DebtFigureBlock()
    with pytest.raises(StructBlockValidationError) as error:
        block.clean(block.to_python(debt_value("live", year=2019)))
    assert "2019 年没有政府债务数据" in str(error.value.block_errors)
    with pytest.raises(StructBlockValidationError) as error:
        block.clean(block.to_python(debt_value("live", "general", "debt_ratio")))
    assert "只按全县合计计算" in str(error.value.block_errors)
    assert block.clean(block.to_python(debt_value("live")))["measure"] == "balance"


def test_asset_and_audit_specs_compute_from_the_registers(staff_user, units):
    from supervision.assets_models import UnitAssets
    from supervision.models import SupervisionBatch

    batch = SupervisionBatch.objects.create(kind=ImportKind.UNIT_ASSETS, filename="a.csv")
    for name, assets, liabilities in (
        ("县教育局", 5_000_000, 1_000_000),
        ("县卫健局", 3_000_000, 2_000_000),
    ):
        UnitAssets.objects.create(
            year=2025,
            name=name,
            total_assets=assets,
            total_liabilities=liabilities,
            net_assets=assets - liabilities,
            batch=batch,
        )
    assert AssetSpec(2025, "unit", "", "total_assets").compute() == Decimal("8000000")
    assert AssetSpec(2025, "unit", "", "debt_ratio").compute() == Decimal("37.50")
    assert AssetSpec(2025, "unit", "县教育局", "net_assets").compute() == Decimal("4000000")
    assert AssetSpec(2025, "unit", "", "count").format(Decimal(2)) == "2个"
    assert AssetSpec(2024, "unit", "", "total_assets").compute() is None
    register(staff_user, units["education"])
    register(staff_user, units["health"], number="2", amount=Decimal("800000"))
    assert AuditSpec(2025, "", "count").compute() == 2
    assert AuditSpec(2025, "201", "amount").compute() == Decimal("1200000")
    assert AuditSpec(2025, "", "none").compute() == 2
    assert AuditSpec(2025, "", "done_share").compute() == Decimal("0.00")
    block = AuditFigureBlock()
    with pytest.raises(StructBlockValidationError) as error:
        block.clean(block.to_python({"year": 2025, "department": "999", "measure": "count"}))
    assert "单位编码 999 不存在" in str(error.value.block_errors)


# --- letters ----------------------------------------------------------------------------------


@pytest.fixture
def signed_letter(positions, units, staff_user, make_user):
    head = make_user(roles.STAFF, username="head")
    LetterSigner.objects.create(user=head, capacity=SignerCapacity.OFFICE_HEAD)
    rule = AlertRule.objects.create(
        name=RuleKind.DEBT_NEAR_LIMIT.label,
        kind=RuleKind.DEBT_NEAR_LIMIT,
        threshold=Decimal("96"),
        grade=AlertGrade.GENERAL,
    )
    [alert] = alerts.evaluate_rule(rule)  # 专项债务 96.09% of its limit
    letter = letters.create_from_alert(alert, staff_user)
    letter = letters.act(letter, "submit", staff_user)
    assert not FigureCitation.objects.filter(document=CitingDocument.LETTER).exists()
    return letters.act(letter, "approve", head)


def test_signed_letter_cites_its_alert_figures_frozen(signed_letter, client, staff_user):
    cited = FigureCitation.objects.filter(
        document=CitingDocument.LETTER, document_key=str(signed_letter.pk)
    )
    assert {c.spec["measure"] for c in cited} == {"limit", "balance", "limit_usage", "headroom"}
    assert all(c.frozen and c.page_id is None and c.spec["category"] == "special" for c in cited)
    assert cited.get(spec__measure="limit_usage").value == Decimal("96.09")
    assert signed_letter.doc_number in cited.first().document_title
    client.force_login(staff_user)
    spec = DebtSpec(year=2026, category="special", measure="balance")
    html = client.get(spec.url()).content.decode()
    assert signed_letter.title in html and signed_letter.get_absolute_url() in html
    assert "函件" in html and "221,000.00万元" in html
    assert signed_letter.title in client.get(reverse("supervision:debt")).content.decode()
    html = client.get(signed_letter.get_absolute_url()).content.decode()
    assert "签发时引用的数据" in html and "2026年末专项债务余额占限额</a>：96.09%" in html


def test_letter_is_not_listed_to_who_may_not_see_it(signed_letter, client, deputy_user):
    client.force_login(deputy_user)  # reads debt data, but letters are internal to staff
    spec = DebtSpec(year=2026, category="special", measure="balance")
    response = client.get(spec.url())
    assert response.status_code == 200
    assert signed_letter.title not in response.content.decode()
    assert signed_letter.title not in client.get(reverse("supervision:debt")).content.decode()


# --- the audit report -------------------------------------------------------------------------


def test_generated_audit_report_cites_its_figures(units, staff_user, liaison_user, client):
    register(staff_user, units["education"])
    register(staff_user, units["health"], number="2", amount=Decimal("800000"))
    client.force_login(staff_user)
    assert client.get(reverse("supervision:audit_report", args=[2025])).status_code == 200
    cited = {c.spec["measure"]: c for c in FigureCitation.objects.filter(document="audit_report")}
    assert cited["count"].value == 2 and cited["amount"].value == Decimal("2000000")
    assert cited["done"].value == 0 and all(c.frozen for c in cited.values())
    spec = AuditSpec(2025, "", "count")
    html = client.get(spec.url()).content.decode()
    assert "关于2025年度审计查出问题整改情况的报告" in html and "2个" in html
    assert "审计整改情况报告" in client.get(reverse("supervision:findings")).content.decode()
    # after a report of progress the next draft supersedes the citations; the first kept 0
    audit.report_progress(
        audit.AuditFinding.objects.get(number="2"), staff_user, status="partial", progress="部分"
    )
    assert FigureCitation.objects.get(document="audit_report", spec__measure="partial").value == 0
    client.get(reverse("supervision:audit_report", args=[2025]))
    assert FigureCitation.objects.get(document="audit_report", spec__measure="partial").value == 1
    assert FigureCitation.objects.filter(document="audit_report").count() == len(cited)


# --- who may see what -------------------------------------------------------------------------


def test_liaison_sees_own_units_audit_figures_only_and_no_documents_beyond_reach(
    units, staff_user, liaison_user, client
):
    register(staff_user, units["education"])
    register(staff_user, units["health"], number="2")
    page = policy_with(
        [
            {
                "type": "audit_figure",
                "value": {
                    "year": 2025,
                    "department": "201",
                    "measure": "amount",
                    "mode": "frozen",
                    "label": "",
                },
            }
        ]
    )
    client.force_login(staff_user)
    client.get(reverse("supervision:audit_report", args=[2025]))
    own = AuditSpec(2025, "201", "amount")
    assert page.title in client.get(own.url()).content.decode()

    client.force_login(liaison_user)
    response = client.get(own.url())
    assert response.status_code == 200 and "120.00万元" in response.content.decode()
    html = response.content.decode()
    assert page.title not in html  # the policy library is not the liaison's to read
    assert client.get(AuditSpec(2025, "301", "amount").url()).status_code == 403
    assert client.get(AuditSpec(2025, "", "count").url()).status_code == 403
    assert client.get(DebtSpec(2026, "", "balance").url()).status_code == 403
    findings = client.get(reverse("supervision:findings")).content.decode()
    assert "被引用" not in findings and "审计整改情况报告" not in findings


def test_readers_without_query_rights_are_refused(positions, client, make_user):
    member = make_user(roles.DEPUTY_MEMBER)  # reads the policy library only
    client.force_login(member)
    assert client.get(DebtSpec(2026, "", "balance").url()).status_code == 403
    client.logout()
    response = client.get(DebtSpec(2026, "", "balance").url())
    assert response.status_code == 302


def test_unknown_figure_is_not_found(positions, client, deputy_user):
    client.force_login(deputy_user)
    response = client.get(reverse("supervision:figure"), {"source": "debt", "year": 2019})
    assert response.status_code == 404 and "2019 年没有政府债务数据" in response.content.decode()
    response = client.get(reverse("supervision:figure"), {"source": "budget", "year": 2026})
    assert response.status_code == 404


def test_policy_editor_offers_every_figure_block(policy, client, admin_user_role):
    client.force_login(admin_user_role)
    response = client.get(reverse("wagtailadmin_pages:edit", args=[policy.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "引用数据" in html  # the field; its blocks are in the editor's script data
    for name in ("figure", "debt_figure", "asset_figure", "audit_figure"):
        assert f"&quot;{name}&quot;" in html or f'"{name}"' in html


def test_cited_by_panel_reads_a_fixed_number_of_queries(positions, client, deputy_user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from wagtail.models import Site

    from budget.models import BudgetAnalysisPage

    root = Site.objects.get(is_default_site=True).root_page
    spec = DebtSpec(year=2026, category="", measure="balance")

    def cite(start, n):
        for i in range(start, start + n):
            page = root.add_child(instance=BudgetAnalysisPage(title=f"债务分析{i}", slug=f"d-{i}"))
            FigureCitation.objects.create(
                page=page,
                document_key=str(page.pk),
                source="debt",
                figure_key=f"{spec.key}-{i}" if i else spec.key,
                spec=spec.as_dict(),
                published_at=timezone.now(),
            )

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("supervision:debt")).status_code == 200
        return len(captured)

    client.force_login(deputy_user)
    cite(0, 2)
    queries()  # caches (content types, permissions) warm
    few = queries()
    cite(2, 10)
    html = client.get(reverse("supervision:debt")).content.decode()
    assert "债务分析11" in html and "债务分析0" in html
    assert queries() == few


def test_briefing_bodies_cite_debt_figures_in_their_documents_too(positions):
    from briefings.models import BriefingPage
    from briefings.renditions import document_blocks

    page = BriefingPage(
        title="债务情况简报",
        body=json.dumps(
            [
                {"type": "debt_figure", "value": debt_value("live")},
                {"type": "debt_figure", "value": debt_value("live", "general", "debt_ratio")},
            ]
        ),
    )
    texts = [block.text for block in document_blocks(page)]
    assert texts[0] == "政府债务余额（2026年末）：397,520.35万元"
    assert texts[1].startswith("（数据引用有误：债务率只按全县合计计算")


# --- 预算分析 pages cite every source -----------------------------------------------------------


def test_analysis_page_cites_a_debt_figure(positions, client, deputy_user, make_user):
    from wagtail.models import Site

    from budget.models import BudgetAnalysisPage

    body = BudgetAnalysisPage._meta.get_field("body").stream_block
    assert {"figure", "debt_figure", "asset_figure", "audit_figure"} <= set(body.child_blocks)
    root = Site.objects.get(is_default_site=True).root_page
    page = BudgetAnalysisPage(
        title="政府债务风险分析",
        slug="debt-analysis",
        body=json.dumps(
            [
                {"type": "paragraph", "value": "<p>专项债务接近限额。</p>"},
                {"type": "debt_figure", "value": debt_value("frozen", "special", "limit_usage")},
            ]
        ),
    )
    root.add_child(instance=page)
    spec = DebtSpec(year=2026, category="special", measure="limit_usage")
    client.force_login(deputy_user)
    assert page.title not in client.get(spec.url()).content.decode()  # a draft cites nothing
    page.save_revision().publish()

    [citation] = FigureCitation.objects.filter(page=page)
    assert citation.source == "debt" and citation.frozen and citation.value == Decimal("96.09")
    html = client.get(page.url).content.decode()
    assert "2026年末专项债务余额占限额" in html and "96.09%" in html and "发布时数据" in html
    html = client.get(spec.url()).content.decode()
    assert page.title in html and page.url in html  # 被引用, for who queries budget data
    assert page.title in client.get(reverse("supervision:debt")).content.decode()

    client.force_login(make_user(roles.DEPUTY_MEMBER))  # reads the library, not budget data
    response = client.get(spec.url())
    assert response.status_code == 403 and page.title not in response.content.decode()


def test_analysis_body_refuses_a_bad_debt_figure(positions):
    from budget.models import BudgetAnalysisPage

    body = BudgetAnalysisPage._meta.get_field("body").stream_block
    block = body.child_blocks["debt_figure"]
    with pytest.raises(StructBlockValidationError) as error:
        block.clean(block.to_python(debt_value("live", year=2019)))
    assert "2019 年没有政府债务数据" in str(error.value.block_errors)


def test_analysis_editor_offers_every_figure_block(client, admin_user_role):
    from wagtail.models import Site

    from budget.models import BudgetAnalysisPage

    root = Site.objects.get(is_default_site=True).root_page
    client.force_login(admin_user_role)
    url = reverse("wagtailadmin_pages:add", args=["budget", "budgetanalysispage", root.pk])
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    for name in ("figure", "debt_figure", "asset_figure", "audit_figure"):
        assert f"&quot;{name}&quot;" in html or f'"{name}"' in html
    assert BudgetAnalysisPage.objects.count() == 0
