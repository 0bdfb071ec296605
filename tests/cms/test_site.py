import pytest

pytestmark = pytest.mark.django_db


def test_front_end_requires_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_home_page_shows_user_and_role(client, staff_user):
    client.force_login(staff_user)
    response = client.get("/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "当前角色：工作人员" in body
    assert 'lang="zh-Hans"' in body


def test_pages_load_nothing_from_outside(client, staff_user):
    client.force_login(staff_user)
    body = client.get("/").content.decode()
    assert "http://" not in body.replace("http://testserver", "")
    assert "https://" not in body


def test_load_demo_is_idempotent(django_user_model):
    from django.core.management import call_command

    from cms.demo import DEMO_ACCOUNTS

    call_command("load_demo")
    count = django_user_model.objects.count()
    call_command("load_demo")
    assert django_user_model.objects.count() == count
    usernames = set(django_user_model.objects.values_list("username", flat=True))
    assert {account[0] for account in DEMO_ACCOUNTS} <= usernames
    # the demo archive holds a filed year with items from every module (LibreOffice is installed by CI)
    from archive.models import ArchiveItem

    kinds = set(ArchiveItem.objects.filed().values_list("source_key", flat=True))
    assert {
        "policies.policypage",
        "budget.alert",
        "suggestions.suggestion",
        "briefings.briefingpage",
        "briefings.departmentupload",
        "usage.exportregistration",
        "usage.month",
    } <= kinds
