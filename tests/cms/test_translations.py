"""Issue 16 part 6: admin strings Wagtail leaves in English come from the project's own
translations; the default workflow has a Chinese name."""

import json
import re

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


def test_admin_sidebar_names_the_person_and_leads_back_to_the_site(client, make_user):
    staff = make_user("工作人员", username="staffer2", display_name="王芳")
    client.force_login(staff)
    html = client.get("/admin/").content.decode()
    props = json.loads(re.search(r'id="wagtail-sidebar-props"[^>]*>(.*?)</script>', html, re.S)[1])
    packed = json.dumps(props, ensure_ascii=False)
    assert '"name": "王芳"' in packed
    assert '"name": "staffer2"' not in packed
    assert "返回网站" in packed and '"url": "/"' in packed
    # no link out of the closed network: neither the help menu nor the dashboard's guide
    assert "guide.wagtail.org" not in html


def test_admin_javascript_catalogue_is_chinese(compiled, client, staff_user):
    client.force_login(staff_user)
    js = client.get("/admin/jsi18n/").content.decode("utf-8")
    assert json.dumps("正在自动保存")[1:-1] in js  # the catalogue escapes non-ASCII


def test_user_list_titles_yes_no_icons_in_chinese(compiled, client, admin_user_role):
    client.force_login(admin_user_role)
    html = client.get("/admin/users/").content.decode()
    flags = re.findall(r'<span class="w-sr-only">\s*(\S+)\s*</span>', html)
    assert "是" in flags and "True" not in flags


def test_site_list_columns_are_named_in_chinese(compiled, admin_client):
    html = admin_client.get("/admin/sites/").content.decode()
    assert "端口号" in html and "站点名称" in html
    assert not re.search(r">\s*(Port|Site name|Root page)\s*<", html)


def test_snippet_lists_say_yes_no_in_chinese(compiled, client, staff_user):
    from briefings.defaults import ensure_defaults

    ensure_defaults()
    client.force_login(staff_user)
    html = client.get("/admin/snippets/briefings/materialtype/").content.decode()
    cells = [c.strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", html, re.S)]
    assert "是" in cells
    assert "True" not in cells and "False" not in cells


def test_review_opinion_list_names_its_source_column(client, staff_user):
    client.force_login(staff_user)
    html = client.get("/admin/snippets/review_opinions/reviewopinion/").content.decode()
    assert "Source label" not in html


def test_reports_menu_leaves_out_the_model_identifier_report(client, staff_user):
    client.force_login(staff_user)
    html = client.get("/admin/").content.decode()
    assert "/admin/reports/workflow/" in html
    assert "/admin/reports/page-types-usage/" not in html


def test_listing_count_reads_without_model_name(compiled):
    # the admin's page search gives no model_name: the English said “1-11 of 11 None”
    text = translation.gettext("%(start_index)s-%(end_index)s of %(items_count)s %(model_name)s")
    shown = text % {"start_index": 1, "end_index": 11, "items_count": 11, "model_name": None}
    assert shown == "共 11 项，当前第 1—11 项"
