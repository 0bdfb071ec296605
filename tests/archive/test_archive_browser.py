"""The archivist files a record in a real browser and a staff member consults it."""

import pytest

from archive import services
from cms import roles
from tests.browser.fixtures import login

from .conftest import make_registration

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_archivist_files_and_staff_consults(page, make_user, tmp_path):
    services.ensure_default_rules()  # transactional tests start from empty tables
    archivist = make_user(roles.ARCHIVIST, username="dangan")
    make_registration(archivist, "浏览器归档测试导出")
    login(page, archivist.username, archivist.test_password)
    page.click("nav.site-nav >> text=立卷归档")
    page.click("nav.archive-nav >> text=可归档材料")
    row = page.locator("tr", has_text="浏览器归档测试导出")
    row.locator("select[name=retention]").select_option("D30")
    row.locator("button", has_text="归档").click()
    page.wait_for_load_state("networkidle")
    main = page.inner_text("main")
    assert "已登记归档" in main and "-D30-YSGW-0001" in main
    assert "已归档" in main  # eager task in the test settings: finished with the request
    stamp = page.inner_text("table.archive-stamp")
    assert "J001" in stamp and "0001" in stamp and "YSGW" in stamp
    page.screenshot(path=str(tmp_path / "item.png"), full_page=True)
    item_url = page.url

    page.click("button.link-button")  # 退出
    staff = make_user(roles.STAFF, username="gongzuo")
    login(page, staff.username, staff.test_password)
    page.goto(item_url)
    assert page.locator("a", has_text="rendition.pdf").count() == 0  # purpose first
    page.fill("input[name=purpose]", "编写年度工作总结")
    page.locator("form[action$='/purpose/'] button").click()
    page.wait_for_load_state("networkidle")
    with page.expect_download() as download:
        page.click("a:has-text('rendition.pdf')")
    # saved under 档号, 题名 and what the file is, not the package's own name
    assert download.value.suggested_filename.endswith(" 版式文件.pdf")
    assert download.value.suggested_filename.startswith("J001-")
    # staff may read but not file
    assert page.locator("nav.archive-nav >> text=可归档材料").count() == 0
