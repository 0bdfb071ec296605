"""In a real browser, the issue-17 flow: a deputy drafts and sees a similar earlier case,
invites two co-signers (one signs, one declines) and submits; staff review, see the suggested
units and assign; the unit's liaison talks with the deputy, records a 面商 and answers; both
signers evaluate; the unit's yearly score changes accordingly."""

import datetime

import pytest
from django.utils import timezone
from modelsearch.backends import get_search_backend

from cms import roles
from suggestions import services, statistics
from suggestions.models import Deputy, Suggestion
from tests.browser.fixtures import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WATER = "城关镇老旧供水管网漏损严重，夏季经常停水，建议水务部门分年实施供水管网改造。"


def _score(term, unit_name):
    scope = statistics.in_scope(Suggestion.objects.all(), term=term)
    for row in statistics.compute(scope).scores:
        if row.unit.name == unit_name:
            return row.score
    return None


def _as(page, user):
    page.context.clear_cookies()
    login(page, user.username, user.test_password)


def _click(page, selector):
    page.click(selector)
    page.wait_for_load_state("networkidle")


def test_deputy_writes_cosigns_office_reviews_unit_answers_both_evaluate(
    page, make_user, staff, term, session, category, units, answer_a, deputies
):
    get_search_backend().reset_indexes()
    today = timezone.localdate()
    session.cosign_deadline = today + datetime.timedelta(days=5)
    session.save()
    members = {}
    for key, name in (("lead", "张建国"), ("c1", "赵红梅"), ("c2", "孙立新")):
        user = make_user(roles.DEPUTY_MEMBER, username=f"member_{key}")
        deputy = Deputy.objects.create(name=name, delegation="羊街镇代表团", user=user)
        deputy.terms.add(term)
        members[key], members[f"user_{key}"] = deputy, user
    water_liaison = make_user(roles.LIAISON, username="water_liaison")
    units["water"].liaisons.add(water_liaison)
    # an earlier public suggestion, answered by the water bureau
    earlier = services.submit(
        staff, term=term, session=session, title="关于改造城关镇供水管网的建议",
        content=WATER, category=category, lead_deputy=deputies["b"], is_public=True,
        submitted_on=today,
    )  # fmt: skip
    services.register(earlier, staff)
    services.assign(earlier, staff, lead_unit=units["water"])
    services.answer(earlier, staff, answer_class=answer_a, signed_by="局长", summary="分年改造")
    get_search_backend().refresh_indexes()

    # the lead deputy drafts and sees the earlier case while writing
    _as(page, members["user_lead"])
    page.goto("/suggestions/mine/")
    _click(page, "text=起草新建议")
    page.select_option("select[name=session]", str(session.pk))
    page.select_option("select[name=category]", str(category.pk))
    page.fill("input[name=title]", "关于城关镇供水管网漏损改造的建议")
    page.fill("textarea[name=content]", WATER + "请列入今年计划。")
    page.wait_for_selector("#similar-cases .sugg-similar__case", timeout=15000)
    similar = page.inner_text("#similar-cases")
    assert "关于改造城关镇供水管网的建议" in similar and "县水利局" in similar
    _click(page, "#draft-form button[type=submit]")
    assert "草稿已保存" in page.inner_text("main")
    draft = Suggestion.objects.get(status="draft")
    form = "form[action$='/step/invite/']"
    page.select_option(
        f"{form} select[name=deputies]", [str(members["c1"].pk), str(members["c2"].pk)]
    )
    _click(page, f"{form} button")
    assert "已邀请联名" in page.inner_text("main")

    # one co-signer signs, the other declines
    _as(page, members["user_c1"])
    page.goto("/suggestions/mine/")
    _click(page, "text=关于城关镇供水管网漏损改造的建议")
    _click(page, "form.sugg-sign button")
    assert "已联名" in page.inner_text("main")
    assert page.locator("a:has-text('修改内容')").count() == 0  # a co-signer cannot edit
    _as(page, members["user_c2"])
    page.goto(f"/suggestions/mine/{draft.pk}/")
    _click(page, "form.sugg-decline button")
    assert "已谢绝" in page.inner_text("main")

    # the lead submits; it goes forward with the one who signed
    _as(page, members["user_lead"])
    page.goto(f"/suggestions/mine/{draft.pk}/")
    _click(page, "form.sugg-deputy-submit button")
    draft.refresh_from_db()
    assert draft.status == "submitted" and list(draft.co_signers.all()) == [members["c1"]]

    # staff review: the queue, registration (number taken now), suggested units, 交办
    _as(page, staff)
    page.goto("/suggestions/review/")
    queue = page.inner_text("#review-queue")
    assert "关于城关镇供水管网漏损改造的建议" in queue and "关于改造城关镇供水管网的建议" in queue
    _click(page, "#review-queue >> text=关于城关镇供水管网漏损改造的建议")
    _click(page, "form[action$='/step/register/'] button")
    assert "18-5-002" in page.inner_text("main")
    suggested = page.inner_text("#unit-suggestions")
    assert "县水利局" in suggested and earlier.code in suggested
    page.select_option(
        "form[action$='/step/assign/'] select[name=lead_unit]", str(units["water"].pk)
    )
    _click(page, "form[action$='/step/assign/'] button")
    assert "已交办" in page.inner_text("main")

    # the liaison talks with the deputy, records the 面商 and answers
    _as(page, water_liaison)
    page.goto(f"/suggestions/department/{draft.pk}/")
    page.fill("#thread textarea[name=text]", "张代表您好，我们下周到现场查看。")
    _click(page, "#thread button")
    form = "form.sugg-consult"
    page.select_option(f"{form} select[name=form]", "visit")
    page.fill(f"{form} input[name=participants]", "张建国代表、水利局工程股")
    page.fill(f"{form} textarea[name=summary]", "现场查看漏损管段，商定分两年改造。")
    _click(page, f"{form} button")
    form = "form[action$='/step/answer/']"
    page.select_option(f"{form} select[name=answer_class]", str(answer_a.pk))
    page.fill(f"{form} input[name=signed_by]", "李局长")
    page.fill(f"{form} textarea[name=summary]", "已列入今年供水管网改造计划。")
    _click(page, f"{form} button")
    assert "已书面答复" in page.inner_text("main")
    before = _score(term, "县水利局")

    # the deputy answers in the thread and evaluates; the co-signer adds an evaluation
    _as(page, members["user_lead"])
    page.goto(f"/suggestions/mine/{draft.pk}/")
    main = page.inner_text("main")
    assert "我们下周到现场查看" in main and "面商记录" in main
    page.fill("#thread textarea[name=text]", "谢谢，已收到答复。")
    _click(page, "#thread button")
    page.check("form#evaluate input[value=satisfied]")
    _click(page, "form#evaluate button")
    _as(page, members["user_c1"])
    page.goto(f"/suggestions/mine/{draft.pk}/")
    page.check("form#cosigner-evaluate input[value=basically]")
    _click(page, "form#cosigner-evaluate button")
    main = page.inner_text("main")
    assert "附议代表评价" in main and "赵红梅" in main

    # the water bureau's yearly score changed, and the statistics page shows it
    after = _score(term, "县水利局")
    assert after is not None and before is not None and after > before
    _as(page, staff)
    page.goto(f"/suggestions/insights/stats/?term={term.pk}")
    scores = page.inner_text("#table-scores")
    assert "县水利局" in scores and str(after) in scores
    draft.refresh_from_db()
    assert draft.status == "evaluated"
    actions = list(draft.events.values_list("action", flat=True))
    for action in ("draft", "invite", "sign", "decline", "deputy_submit", "register", "assign",
                   "message", "consult", "answer", "evaluate", "cosigner_evaluate"):  # fmt: skip
        assert action in actions, action
