"""The policy library end to end in the browser: a 工作人员 uploads a DOCX, reviews and
publishes it in the page editor, finds one article through the header search box, opens it
at its anchor and keeps an excerpt; a 代表/专家 is refused the upload page but reads and
bookmarks the document."""

import io
import re

import pytest
from playwright.sync_api import expect

from cms import roles
from cms.usage.models import UsageAction, UsageRecord
from policies import ingest
from policies.models import PolicyArticle, PolicyFile, PolicyPage

from .fixtures import login

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

TITLE = "元江县财政局关于印发《元江县县级预备费管理办法》的通知"
DOC_NUMBER = "元财预〔2026〕3号"
SEARCH_WORD = "防汛抢险"
TARGET = "第八条"  # the only article that speaks of 防汛抢险
TARGET_TEXT = (
    "用于防汛抢险的预备费，可以先行拨付，事后补办手续，并在十五个工作日内报县人民政府备案。"
)
ARTICLES = [
    "第一章 总则",
    "第一条 为了规范县级预备费的设置、动用和监督，根据《中华人民共和国预算法》及其实施条例，"
    "结合本县实际，制定本办法。",
    "第二条 本办法所称预备费，是指在县级一般公共预算中按照本级一般公共预算支出额的百分之一"
    "至百分之三设置、用于当年预算执行中难以预见开支的资金。",
    "第三条 县财政局负责预备费的预算编制、动用审核和日常管理；各预算单位对申请动用的事项和"
    "资金使用的真实性负责。",
    "第二章 设置与动用",
    "第四条 预备费在年初预算中单列，不得分解下达到部门和单位。",
    "第五条 预备费用于当年预算执行中自然灾害等突发事件处理增加的支出及其他难以预见的开支。",
    "第六条 预算单位申请动用预备费，应当向县财政局报送书面申请，说明事由、测算依据和资金需求。",
    "第七条 县财政局审核后提出动用方案，报县人民政府决定。",
    f"{TARGET} {TARGET_TEXT}",
    "第三章 监督与报告",
    "第九条 预备费的动用情况应当在县级决算中单独列示，并向县人民代表大会常务委员会报告。",
    "第十条 县人大常委会预算工作委员会通过预算联网监督系统对预备费的动用进行跟踪监督。",
    "第十一条 年度终了预备费未动用的部分，按规定补充预算稳定调节基金。",
    "第四章 附则",
    "第十二条 本办法由县财政局负责解释。",
    "第十三条 本办法自2026年4月1日起施行。",
]


def regulation_docx() -> bytes:
    """A short fictional county regulation as Word writes it: one paragraph a line."""
    import docx

    document = docx.Document()
    for line in [
        "元江县财政局文件",
        DOC_NUMBER,
        TITLE,
        "各乡（镇）人民政府，县直各部门：",
        "《元江县县级预备费管理办法》已经县人民政府同意，现印发给你们，请遵照执行。",
        *ARTICLES,
        "元江县财政局",
        "2026年3月10日",
    ]:
        document.add_paragraph(line)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_staff_uploads_publishes_finds_and_excerpts_an_article(page, make_user, tmp_path):
    staff = make_user(roles.STAFF, username="clerk", display_name="李文书")
    login(page, staff.username, staff.test_password)

    # the admin menu leads to the upload page
    page.goto("/admin/")
    page.get_by_role("link", name="上传政策法规").first.click()
    page.wait_for_url("**/admin/policies/upload/")
    expect(page.locator("h1")).to_contain_text("上传政策法规文件")
    page.set_input_files(
        "input[type=file][name=files]",
        {
            "name": "预备费管理办法.docx",
            "mimeType": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "buffer": regulation_docx(),
        },
    )
    assert not page.is_checked("input[name=publish]")  # reviewed before it is published
    page.get_by_role("button", name="上传").click()

    # the status list refreshes itself until the worker has finished
    page.wait_for_url(re.compile(r"/admin/policies/status/\?batch=\w+"))
    expect(page.get_by_text("全部处理完毕。")).to_be_visible(timeout=60_000)
    row = page.locator("table.upload-status tbody tr")
    expect(row).to_have_count(1)
    row_text = row.inner_text()
    assert "预备费管理办法.docx" in row_text
    assert f"《{TITLE}》" in row_text
    assert DOC_NUMBER in row_text and "元江县财政局" in row_text and "13 条" in row_text
    assert "草稿" in row_text
    record = PolicyFile.objects.get()
    draft = PolicyPage.objects.get(pk=record.page_id)
    assert not draft.live
    assert not PolicyArticle.objects.filter(page=draft).exists()  # nothing searchable yet

    # review in the page editor and publish with its 发布 action
    row.get_by_role("link", name="审核并发布").click()
    page.wait_for_url(f"**/admin/pages/{draft.pk}/edit/")
    expect(page.locator("input[name=doc_number]")).to_have_value(DOC_NUMBER)
    expect(page.locator("input[name=issuer]")).to_have_value("元江县财政局")
    assert TARGET_TEXT in page.locator("textarea[name=body_text]").input_value()
    page.locator("footer .w-dropdown-button .w-dropdown__toggle").click()
    publish = page.locator("button[name=action-publish]")
    expect(publish).to_be_visible()
    with page.expect_navigation():
        publish.click()
    expect(page.locator(".messages")).to_contain_text(f"页面 '{TITLE}' 已经发布")
    draft.refresh_from_db()
    assert draft.live
    assert PolicyArticle.objects.filter(page=draft).count() == 13

    # the header search box finds the article
    page.goto("/")
    box = page.locator("header form.site-search input[name=q]")
    box.fill(SEARCH_WORD)
    box.press("Enter")  # no suggestion chosen: Enter submits the search
    page.wait_for_url("**/search/?q=*")
    results = page.locator("ol.search-results li.search-result")
    expect(results.first).to_be_visible()
    article_link = page.locator(f"ol.search-results a[href$='#{TARGET}']")
    expect(article_link).to_have_count(1)
    expect(article_link).to_have_text(f"《{TITLE}》{TARGET}")
    # the article is listed beneath its document (grouped), not as a hit of its own
    document_hit = page.locator(
        "ol.search-results > li.search-result", has=page.locator(f"a[href$='#{TARGET}']")
    )
    expect(document_hit).to_have_count(1)
    expect(document_hit.locator("h2")).to_contain_text(TITLE)
    expect(
        document_hit.locator("ul.search-result__parts a[href$='#" + TARGET + "']")
    ).to_have_count(1)

    # the article opens at its anchor, scrolled into view and marked as the target
    article_link.click()
    page.wait_for_url(re.compile(r"#"))
    section = page.locator(f"section.policy-article[id='{TARGET}']")
    expect(section).to_be_visible()
    expect(section).to_contain_text(TARGET_TEXT)
    assert page.evaluate("decodeURIComponent(location.hash)") == f"#{TARGET}"
    assert page.evaluate("document.querySelector(':target').id") == TARGET
    box_top, viewport_height, scrolled = page.evaluate(
        f"""() => {{
          const r = document.getElementById('{TARGET}').getBoundingClientRect();
          return [r.top, window.innerHeight, window.scrollY];
        }}"""
    )
    assert scrolled > 0, "the reading page did not scroll to the article"
    assert 0 <= box_top < viewport_height / 2
    expect(page.locator("dl.policy-meta")).to_contain_text(DOC_NUMBER)
    page.screenshot(path=str(tmp_path / "reading.png"))
    page.screenshot(path=str(tmp_path / "reading-full.png"), full_page=True)

    # 摘录本条 with a note
    section.locator("summary", has_text="摘录本条").click()
    section.locator("textarea[name=note]").fill("防汛抢险资金可先拨付后补手续，初审时核对备案情况")
    section.locator("input[name=tags]").fill("预备费，初审")
    with page.expect_navigation():
        section.get_by_role("button", name="保存摘录").click()
    expect(page.locator(".messages")).to_contain_text(f"已摘录《{TITLE}》{TARGET}。")
    side = page.locator("aside.policy-side")
    expect(side).to_contain_text("我在本文件的摘录")
    side.get_by_role("link", name="我的摘录").click()

    page.wait_for_url("**/policies/excerpts/")
    excerpt = page.locator("article.excerpt")
    expect(excerpt).to_have_count(1)
    citation = excerpt.locator("h2 a")
    expect(citation).to_have_text(f"《{TITLE}》{TARGET}")
    assert citation.get_attribute("href").endswith(f"#{TARGET}")
    expect(excerpt.locator("blockquote")).to_have_text(TARGET_TEXT)
    expect(excerpt.locator(".excerpt-note")).to_have_text(
        "笔记：防汛抢险资金可先拨付后补手续，初审时核对备案情况"
    )
    expect(excerpt.locator(".meta")).to_contain_text("#预备费")
    page.screenshot(path=str(tmp_path / "excerpts.png"))


def test_deputy_is_refused_upload_but_reads_and_bookmarks(page, make_user):
    (record,) = ingest.import_path_data("预备费管理办法.docx", regulation_docx(), publish=True)
    assert record.page.live
    deputy = make_user(roles.DEPUTY, username="rep", display_name="王代表")
    login(page, deputy.username, deputy.test_password)

    for url in ("/admin/policies/upload/", "/admin/policies/status/"):
        response = page.goto(url)
        assert response.status == 403
        expect(page.locator("main h1")).to_have_text("无权访问")
        assert page.locator("input[type=file], table.upload-status").count() == 0
    refusals = UsageRecord.objects.filter(user=deputy, action=UsageAction.DENIED)
    assert {r.path for r in refusals} >= {"/admin/policies/upload/", "/admin/policies/status/"}
    assert PolicyFile.objects.count() == 1  # only the one imported above

    # the home page lists the new document; the reader opens it and bookmarks it
    page.goto("/")
    page.get_by_role("link", name=TITLE).first.click()
    expect(page.locator("article.policy-document h1")).to_have_text(TITLE)
    expect(page.locator(f"section.policy-article[id='{TARGET}']")).to_contain_text(TARGET_TEXT)
    with page.expect_navigation():
        page.get_by_role("button", name="☆ 收藏").click()
    expect(page.locator(".messages")).to_contain_text(f"已收藏《{TITLE}》。")
    expect(page.get_by_role("button", name="★ 取消收藏")).to_be_visible()

    page.locator("nav.policy-crumbs").get_by_role("link", name="政策法规库").click()
    page.locator(".policy-actions").get_by_role("link", name="我的收藏").click()
    page.wait_for_url("**/policies/bookmarks/")
    saved = page.locator("ul.policy-list li")
    expect(saved).to_have_count(1)
    expect(saved.get_by_role("link", name=TITLE)).to_be_visible()
