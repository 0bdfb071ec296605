"""The smaller findings of issue 14 (found item 6), and the error pages of item 5."""

import importlib
import re
from pathlib import Path

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.urls import URLPattern, URLResolver, clear_url_caches, get_resolver, reverse
from wagtail.documents import get_document_model

from archive import services as archive_services
from archive.models import Classification
from archive.services import FilingError
from cms import roles
from cms.notifications.models import Message
from cms.notifications.tasks import email_text
from policies import ingest
from policies.models import PolicyPage
from tests.archive.conftest import make_registration
from tests.policies.files import SAMPLE_NOTICE

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def test_load_demo_refuses_where_demo_data_is_not_allowed(settings, django_user_model):
    settings.DEMO_DATA_ALLOWED = False
    with pytest.raises(CommandError, match="生产环境不载入演示数据"):
        call_command("load_demo")
    assert not django_user_model.objects.filter(username="admin").exists()


@pytest.fixture
def notice():
    (record,) = ingest.import_path_data("notice.txt", SAMPLE_NOTICE.encode(), publish=True)
    return PolicyPage.objects.get(pk=record.page_id)


@pytest.mark.parametrize(
    "next_url, same_site",
    [
        ("https://evil.example/phish", False),
        ("//evil.example/phish", False),
        ("/\\evil.example", False),
        ("javascript:alert(1)", False),
        ("/policies/", True),
    ],
)
def test_bookmark_next_goes_only_to_paths_on_this_site(
    client, deputy_user, notice, next_url, same_site
):
    client.force_login(deputy_user)
    response = client.post(reverse("policies:bookmark", args=[notice.pk]), {"next": next_url})
    assert response.status_code == 302
    assert response["Location"] == (next_url if same_site else notice.url)


def test_documents_are_not_served_to_every_role(client, make_user, staff_user):
    doc = get_document_model().objects.create(
        title="内部测算表", file=ContentFile(b"internal figures", name="figures.txt")
    )
    liaison = make_user(roles.LIAISON, username="liaison9")
    client.force_login(liaison)
    assert client.get(doc.url).status_code == 403
    client.force_login(make_user(roles.DEPUTY, username="deputy9"))
    response = client.get(doc.url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"internal figures"


def test_csp_allows_no_inline_script(client, deputy_user):
    client.force_login(deputy_user)
    response = client.get("/")
    policy = response.headers["Content-Security-Policy"]
    script_src = re.search(r"script-src ([^;]*)", policy).group(1)
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    inline = []
    for template in (ROOT / "templates").rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        if re.search(r"\son[a-z]+\s*=\s*[\"']", text):
            inline.append(f"{template}: inline event handler")
        for tag in re.findall(r"<script\b[^>]*>", text):
            if "src=" not in tag and "application/json" not in tag:
                inline.append(f"{template}: {tag}")
    assert inline == []


def test_only_wagtails_own_admin_keeps_inline_scripts(client, staff_user):
    client.force_login(staff_user)
    admin = client.get("/admin/").headers["Content-Security-Policy"]
    assert "'unsafe-inline'" in re.search(r"script-src ([^;]*)", admin).group(1)
    site = client.get("/search/").headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in re.search(r"script-src ([^;]*)", site).group(1)


@pytest.mark.parametrize(
    "weak", ["aaaaaaaaaaaa", "abababababab", "123123123123", "zzzzzzzzzzzzzzzzzzzz"]
)
def test_password_policy_refuses_repetitions(weak):
    with pytest.raises(ValidationError) as exc:
        validate_password(weak)
    assert any("密码过于简单" in m for m in exc.value.messages)


def test_password_policy_accepts_a_real_password():
    validate_password("Yuanjiang-预算-2026!")


def test_email_links_use_the_configured_base_url(settings, deputy_user):
    settings.SITE_BASE_URL = "https://rd.county.internal"
    message = Message.objects.create(recipient=deputy_user, subject="新消息", url="/inbox/1/")
    text = email_text(message)
    assert "https://rd.county.internal/inbox/1/" in text
    assert "127.0.0.1" not in text


def test_classified_level_is_gone_and_a_classified_filing_is_refused(archivist_user, deputy_user):
    assert "秘密" not in Classification.values
    registration = make_registration(deputy_user)
    with pytest.raises(FilingError) as exc:
        archive_services.register_item(
            "usage.exportregistration", str(registration.pk), archivist_user, classification="秘密"
        )
    assert "严禁使用系统存储、处理涉密信息" in str(exc.value)
    assert "元谋 办法 第十条" in str(exc.value)


def test_unknown_pages_get_the_chinese_404_in_the_site_frame(client, deputy_user):
    client.force_login(deputy_user)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "页面不存在" in html and "site.js" in html


@override_settings(ALLOWED_HOSTS=["rd.county.internal"])
def test_a_bad_host_gets_the_chinese_400(client):
    response = client.get("/accounts/login/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert "请求有误" in response.content.decode()


def test_server_errors_get_the_chinese_500(rf):
    from cms import urls, views

    assert urls.handler500 == "cms.views.server_error"
    request = rf.get("/")
    response = views.server_error(request)
    assert response.status_code == 500
    assert "服务器错误" in response.content.decode()


def _routes(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _routes(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern)


def test_media_is_never_served_as_plain_files_even_with_debug(settings):
    """Found item 5: with dev settings /media/ was served to any signed-in user."""
    import cms.urls

    settings.DEBUG = True
    try:
        importlib.reload(cms.urls)
        clear_url_caches()
        assert not [
            r for r in _routes(get_resolver(cms.urls).url_patterns) if r.startswith("media")
        ]
    finally:
        settings.DEBUG = False
        importlib.reload(cms.urls)
        clear_url_caches()
