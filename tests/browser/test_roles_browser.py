import pytest

from cms import roles

from .fixtures import login

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


@pytest.mark.parametrize(
    "role",
    [roles.ADMIN, roles.STAFF, roles.DEPUTY, roles.ARCHIVIST, roles.LIAISON],
)
def test_each_role_logs_in_and_sees_who_it_is(page, make_user, role):
    user = make_user(role, username="u" + str(roles.ROLES.index(role)), display_name="测试用户")
    login(page, user.username, user.test_password)
    assert page.url.endswith("/")
    header = page.inner_text("header")
    assert "测试用户" in header
    assert role in header
    assert f"当前角色：{role}" in page.inner_text("main")
    # the admin link is shown only to roles that may use the admin
    has_admin_link = page.locator("header a[href='/admin/']").count() == 1
    assert has_admin_link == (role in (roles.ADMIN, roles.STAFF, roles.ARCHIVIST))


def test_wrong_password_is_refused_in_chinese(page, make_user):
    user = make_user(roles.STAFF, username="wrongpw")
    login(page, user.username, "not-the-password")
    assert "/accounts/login/" in page.url
    assert "用户名或密码错误" in page.inner_text("main")


def test_administrator_opens_wagtail_admin_in_chinese(page, make_user, tmp_path):
    # with an e-mail address Wagtail would fetch an avatar from outside unless told not to
    admin = make_user(roles.ADMIN, username="boss", is_superuser=True, email="boss@rd.local")
    login(page, admin.username, admin.test_password)
    page.goto("/admin/")
    page.wait_for_load_state("networkidle")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    body = page.inner_text("body")
    assert "仪表盘" in body or "控制面板" in body or "页面" in body
    assert "Dashboard" not in body
    page.screenshot(path=str(tmp_path / "admin.png"))


def test_deputy_is_refused_the_admin(page, make_user):
    deputy = make_user(roles.DEPUTY, username="dep")
    login(page, deputy.username, deputy.test_password)
    page.goto("/admin/")
    page.wait_for_load_state("networkidle")
    assert "无权访问" in page.inner_text("main")
    assert "/admin/pages/" not in page.content()
