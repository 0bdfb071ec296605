import json

import pytest
from django.urls import reverse
from wagtail.blocks import StructBlockValidationError
from wagtail.models import Site

from budget.blocks import FigureBlock
from budget.figures import FigureSpec
from budget.importing import import_file
from budget.models import BudgetAnalysisPage, FigureCitation

from .conftest import LONG_HEADER, csv_bytes

pytestmark = pytest.mark.django_db


def data(cumulative="60"):
    return csv_bytes(
        [
            LONG_HEADER,
            [2026, 0, "一般公共预算", "2010101", "", "", "", "年初预算", "100"],
            [2026, 9, "一般公共预算", "2010101", "", "", "", "累计执行", cumulative],
        ]
    )


def figure_value(mode, measure="execution_rate"):
    return {
        "year": 2026,
        "month": 9,
        "budget": "general",
        "kind": "function",
        "code": "2010101",
        "department": "",
        "measure": measure,
        "mode": mode,
        "label": "",
    }


@pytest.fixture
def page(classification):
    assert import_file(data(), "a.csv").ok
    root = Site.objects.get(is_default_site=True).root_page
    page = BudgetAnalysisPage(
        title="前三季度预算执行分析",
        slug="q3-analysis",
        body=json.dumps(
            [
                {"type": "paragraph", "value": "<p>执行总体平稳。</p>"},
                {"type": "figure", "value": figure_value("frozen")},
                {"type": "figure", "value": figure_value("live", "cumulative")},
            ]
        ),
    )
    root.add_child(instance=page)
    page.save_revision().publish()
    page.refresh_from_db()
    return page


def test_publication_records_citations_and_freezes(page):
    citations = {c.spec["measure"]: c for c in FigureCitation.objects.filter(page=page)}
    assert set(citations) == {"execution_rate", "cumulative"}
    assert (
        citations["execution_rate"].frozen and str(citations["execution_rate"].value) == "60.0000"
    )
    assert not citations["cumulative"].frozen and citations["cumulative"].value is None


def test_frozen_figure_says_when_data_changed(page, client, staff_user):
    client.force_login(staff_user)
    html = client.get(page.url).content.decode()
    assert "60.00%" in html and "数据已更新" not in html and "60.00万元" in html
    assert import_file(data("75"), "b.csv").ok
    html = client.get(page.url).content.decode()
    assert "60.00%" in html and "数据已更新，现为 75.00%" in html
    assert "75.00万元" in html  # the live figure follows the data


def test_figure_view_lists_citing_pages_until_unpublished(page, client, deputy_user):
    client.force_login(deputy_user)
    spec = FigureSpec.from_data(figure_value("frozen"))
    html = client.get(spec.url()).content.decode()
    assert "60.00%" in html and "前三季度预算执行分析" in html
    page.unpublish()
    assert not FigureCitation.objects.filter(page=page).exists()
    html = client.get(spec.url()).content.decode()
    assert "前三季度预算执行分析" not in html


def test_block_refuses_unknown_code(classification):
    value = FigureBlock().to_python(figure_value("live") | {"code": "2019999"})
    with pytest.raises(StructBlockValidationError):
        FigureBlock().clean(value)


def test_figure_view_for_unknown_code_is_not_found(client, staff_user, classification):
    client.force_login(staff_user)
    response = client.get(reverse("budget:figure"), figure_value("live") | {"code": "2019999"})
    assert response.status_code == 404
