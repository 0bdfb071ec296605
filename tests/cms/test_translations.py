"""Issue 16 part 6: admin strings Wagtail leaves in English come from the project's own
translations; the default workflow has a Chinese name."""

import pytest
from django.core.management import call_command
from django.utils import translation
from django.utils.translation import trans_real
from wagtail.models import Task, Workflow

pytestmark = pytest.mark.django_db

ENGLISH_SEEN = [
    "Search all pages",
    "Save your changes before leaving",
    "editor guide",
    "Moderators approval",
    "Required. Letters, digits",
]


@pytest.fixture
def compiled():
    call_command("compile_translations")
    trans_real._translations = {}
    trans_real._default = None
    translation.activate("zh-hans")
    yield
    trans_real._translations = {}
    trans_real._default = None


def test_project_catalogue_translates_what_wagtail_leaves_in_english(compiled):
    assert translation.gettext("Search all pages…") == "搜索全部页面…"
    assert translation.gettext("Save your changes before leaving") == "离开前请先保存修改"
    assert translation.gettext("%(label)s and Publish") % {"label": "批准"} == "批准并发布"


def test_default_workflow_and_task_have_chinese_names():
    names = set(Workflow.objects.values_list("name", flat=True))
    names |= set(Task.objects.values_list("name", flat=True))
    assert "Moderators approval" not in names


def test_admin_home_and_user_form_show_no_listed_english(compiled, client, admin_user_role):
    client.force_login(admin_user_role)
    for url in ("/admin/", f"/admin/users/edit/{admin_user_role.pk}/"):
        html = client.get(url).content.decode()
        found = [word for word in ENGLISH_SEEN if word in html]
        assert not found, (url, found)
