import re

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


def test_load_demo_is_idempotent(django_user_model, client):
    """`make run`'s `load_demo --background` leaves the index and the archive to the worker
    and the home page says so; once the worker's steps ran, a second (plain) load_demo
    changes nothing."""
    from io import StringIO

    from django.core.management import call_command
    from modelsearch.backends import get_search_backend

    from archive.models import ArchiveItem
    from cms import tasks
    from cms.demo import BACKGROUND_STEPS, DEMO_ACCOUNTS, pending_steps
    from policies.models import PolicyPage

    queued = []  # what would go to the worker's queue (tasks run eagerly in tests)
    original_delay = tasks.finish_demo.delay
    tasks.finish_demo.delay = queued.append
    try:
        out = StringIO()
        call_command("load_demo", "--background", stdout=out)
    finally:
        tasks.finish_demo.delay = original_delay
    assert "后台任务进程" in out.getvalue()
    assert queued == [list(BACKGROUND_STEPS)]  # suggestions, the index, then the archive
    from policies.models import PolicyFile

    # the policy pages show their source file's name: a Chinese one, as an office's would be
    names = list(PolicyFile.objects.values_list("original_name", flat=True))
    assert names and all(re.fullmatch(r"[^A-Za-z]+\.txt", name) for name in names), names
    assert pending_steps() == list(BACKGROUND_STEPS.values())
    assert not ArchiveItem.objects.filed().exists()
    policy = PolicyPage.objects.live().first()
    assert policy is not None
    assert not list(get_search_backend().search(policy.title, PolicyPage))  # not indexed yet
    client.force_login(django_user_model.objects.get(username="staff"))
    home = client.get("/").content.decode()
    assert "演示数据仍在后台准备中" in home
    assert "检索索引" in home and "演示归档文件" in home and "代表建议演示数据" in home
    from suggestions.models import Suggestion

    assert not Suggestion.objects.exists()  # the worker plays the demo suggestions

    tasks.finish_demo(queued[0])  # what the worker does once the site is up
    assert pending_steps() == []
    assert Suggestion.objects.count() >= 100
    assert "演示数据仍在后台准备中" not in client.get("/").content.decode()
    found = get_search_backend().search(policy.title, PolicyPage)
    assert policy.pk in [hit.pk for hit in found]

    count = django_user_model.objects.count()
    call_command("load_demo")
    assert django_user_model.objects.count() == count
    usernames = set(django_user_model.objects.values_list("username", flat=True))
    assert {account[0] for account in DEMO_ACCOUNTS} <= usernames
    from cms.notifications.models import Message

    # loaded twice (background, then plain): each demo account welcomed once
    assert Message.objects.filter(category="welcome").count() == len(DEMO_ACCOUNTS)
    # the demo archive holds a filed year with items from every module (LibreOffice is installed by CI)
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
