import pytest
from django.urls import reverse

from cms.usage.models import UsageAction, UsageRecord

pytestmark = pytest.mark.django_db


def viewed():
    return list(
        UsageRecord.objects.filter(action=UsageAction.VIEW_RESTRICTED).values_list(
            "username", "path", "detail"
        )
    )


@pytest.mark.parametrize(
    "name", ["budget:execution", "budget:trend", "supervision:alerts", "supervision:debt"]
)
def test_every_budget_and_debt_page_opened_is_logged(client, deputy_user, name):
    client.force_login(deputy_user)
    url = reverse(name) + "?year=2026"
    response = client.get(url)
    assert response.status_code in (200, 400)
    if response.status_code == 200:
        [(username, path, detail)] = viewed()
        assert username == "deputy1" and path == url and detail.startswith("查询")
    else:  # a refused parameter set is not a view
        assert viewed() == []


def test_refused_pages_are_not_logged_as_views(client, liaison_user):
    client.force_login(liaison_user)
    assert client.get(reverse("budget:trend")).status_code == 403
    assert client.get(reverse("supervision:debt")).status_code == 403
    assert viewed() == []
