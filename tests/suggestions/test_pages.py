"""The office's pages, the home panels and the navigation entry."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from cms.home import panels_for
from cms.nav import nav_for
from cms.workdays import add_months
from suggestions import services
from suggestions.choices import Status
from suggestions.models import Suggestion

pytestmark = pytest.mark.django_db


class Req:
    def __init__(self, user):
        self.user = user


def test_staff_registers_and_assigns_through_the_pages(
    client, staff, session, category, deputies, units
):
    client.force_login(staff)
    response = client.post(
        reverse("suggestions:submit"),
        {
            "session": session.pk,
            "kind": "suggestion",
            "period": "during",
            "title": "关于因远镇集贸市场改造的建议",
            "content": "市场棚顶破损。",
            "category": category.pk,
            "lead_deputy": deputies["a"].pk,
            "co_signers": [deputies["b"].pk],
            "submitted_on": "2026-01-12",
        },
    )
    s = Suggestion.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "suggestions:detail", args=[s.pk]
    )
    client.post(reverse("suggestions:step", args=[s.pk, "register"]), {"note": "予以登记"})
    response = client.post(
        reverse("suggestions:step", args=[s.pk, "assign"]),
        {
            "lead_unit": units["finance"].pk,
            "co_units": [units["water"].pk],
        },
    )
    s.refresh_from_db()
    due = add_months(timezone.localdate(), 3)
    assert s.status == Status.ASSIGNED and s.due_on == due
    page = client.get(reverse("suggestions:detail", args=[s.pk])).content.decode()
    assert "主办：县财政局；协办：县水利局" in page and f"{due:%Y-%m-%d}" in page
    # bad date in a form: a Chinese message, nothing changed
    response = client.post(
        reverse("suggestions:step", args=[s.pk, "extend"]),
        {"reason": "x", "new_due_on": "明年"},
        follow=True,
    )
    assert "格式应为" in response.content.decode()
    assert not Suggestion.objects.get(pk=s.pk).extended


def test_list_filters(client, staff, assigned, make_suggestion):
    other = make_suggestion(title="关于羊街乡敬老院供暖的建议")
    client.force_login(staff)
    page = client.get(reverse("suggestions:list") + "?status=assigned").content.decode()
    assert assigned.title in page and other.title not in page
    page = client.get(reverse("suggestions:list") + "?q=敬老院").content.decode()
    assert other.title in page and assigned.title not in page


def test_home_panels_and_nav(assigned, staff, deputies, finance_liaison, make_user):
    from cms import roles

    deputy_panels = {p.title: p for p in panels_for(Req(deputies["user_a"]))}
    assert assigned.title in deputy_panels["我的建议"].items[0].title
    # assigned on 2026-03-02, due 2026-06-02: late today for the office and the unit
    staff_panel = next(p for p in panels_for(Req(staff)) if p.title.startswith("代表建议逾期"))
    assert staff_panel.items[0].overdue and assigned.code in staff_panel.items[0].title
    liaison_panel = next(
        p for p in panels_for(Req(finance_liaison)) if p.title == "本单位待答复的代表建议"
    )
    assert [i.url for i in liaison_panel.items] == [
        reverse("suggestions:department_detail", args=[assigned.pk])
    ]
    answer_a = assigned.term.answer_classes.get(code="A")
    services.answer(assigned, staff, answer_class=answer_a, signed_by="甲", summary="已办")
    assert not [p for p in panels_for(Req(staff)) if p.title.startswith("代表建议逾期")]
    deputy_panel = next(p for p in panels_for(Req(deputies["user_a"])) if p.title == "我的建议")
    assert deputy_panel.items[0].meta == "已答复 · 请评价"
    labels = {
        u: [i.url for i in nav_for(Req(u)) if i.label == "代表建议"]
        for u in (staff, deputies["user_a"], finance_liaison)
    }
    assert labels == {
        staff: [reverse("suggestions:list")],
        deputies["user_a"]: [reverse("suggestions:mine")],
        finance_liaison: [reverse("suggestions:department")],
    }
    assert not [
        i for i in nav_for(Req(make_user(roles.ARCHIVIST, username="a9"))) if i.label == "代表建议"
    ]


@pytest.mark.parametrize("model", ["term", "session", "category", "answerclass", "deputy"])
def test_admin_screens_for_staff_only(client, staff, deputies, finance_liaison, model):
    url = reverse(f"wagtailsnippets_suggestions_{model}:list")
    client.force_login(staff)
    response = client.get(url)
    assert response.status_code == 200
    for value in ("13912345678", "530000197001011234"):
        assert value not in response.content.decode()
    for user in (deputies["user_a"], finance_liaison):
        client.force_login(user)
        assert client.get(url).status_code in (302, 403)


def test_liaison_list_puts_own_work_first_then_newest(
    client, make_suggestion, staff, units, finance_liaison, answer_a
):
    """The liaison's list opens on what waits for the unit (unanswered as lead unit, no 协办意见
    yet as co-unit), soonest due first; everything else follows, most recently assigned first."""
    from suggestions.models import Suggestion

    def assigned(title, on, lead, co=()):
        s = make_suggestion(title=title, on=on)
        with services.as_of(on):
            services.register(s, staff)
            services.assign(s, staff, lead_unit=units[lead], co_units=[units[c] for c in co])
        return Suggestion.objects.get(pk=s.pk)

    old_answered = assigned("关于早已答复的建议", datetime.date(2026, 1, 5), "finance")
    new_answered = assigned("关于最近答复的建议", datetime.date(2026, 2, 20), "finance")
    view_given = assigned(
        "关于已提协办意见的建议", datetime.date(2026, 2, 10), "water", ["finance"]
    )
    waiting_late = assigned("关于待答复较晚的建议", datetime.date(2026, 2, 1), "finance")
    waiting_early = assigned("关于待答复较早的建议", datetime.date(2026, 1, 10), "finance")
    co_waiting = assigned(
        "关于待提协办意见的建议", datetime.date(2026, 2, 15), "water", ["finance"]
    )
    with services.as_of(datetime.date(2026, 3, 1)):
        for s in (old_answered, new_answered):
            services.answer(s, staff, answer_class=answer_a, signed_by="张局长", summary="已答复")
        services.add_co_unit_view(view_given, staff, unit=units["finance"], text="同意主办意见")

    client.force_login(finance_liaison)
    html = client.get(reverse("suggestions:department")).content.decode()
    titles = [
        s.title
        for s in (
            old_answered, new_answered, view_given, waiting_late, waiting_early, co_waiting
        )
    ]  # fmt: skip
    shown = sorted(titles, key=html.index)
    # waiting: by due date (a co-unit's view is due one month after assignment, before the
    # three-month answers); then the rest by 交办日期, newest first
    assert shown == [
        "关于待提协办意见的建议",
        "关于待答复较早的建议",
        "关于待答复较晚的建议",
        "关于最近答复的建议",
        "关于已提协办意见的建议",
        "关于早已答复的建议",
    ]
    assert html.count('class="sugg-todo"') == 3


def test_link_form_lists_live_pages_escaped(client, staff, assigned):
    """The 添加相关链接 form's choice list holds the live pages, their titles escaped."""
    from wagtail.models import Page

    root = Page.objects.get(depth=2)
    hostile = root.add_child(instance=Page(title='<script>alert("x")</script>', slug="hostile"))
    draft = root.add_child(instance=Page(title="未发布的页面", slug="draft", live=False))
    client.force_login(staff)
    html = client.get(reverse("suggestions:detail", args=[assigned.pk])).content.decode()
    assert (
        f'<option value="{hostile.pk}">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</option>'
        in html
    )
    assert '<script>alert("x")</script>' not in html
    # by its title: its primary key may equal the value of another list's option on the same
    # page (PostgreSQL does not reset sequences between tests; CI once met "105" twice)
    assert draft.title not in html
