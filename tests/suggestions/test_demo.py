"""The demo loader: about 150 suggestions in every state, idempotent, the demo accounts linked."""

import datetime

import pytest
from django.urls import reverse

from budget.demo import DEMO_LIAISON, ensure_departments
from cms import roles
from suggestions import demo, services
from suggestions.choices import Status
from suggestions.models import Deputy, Suggestion, TimelineEvent

pytestmark = pytest.mark.django_db


def test_demo_covers_every_state_and_is_idempotent(make_user, client):
    make_user(roles.STAFF, username="staff")
    deputy_user = make_user(roles.DEPUTY, username="deputy")
    liaison = make_user(roles.LIAISON, username=DEMO_LIAISON[0])
    ensure_departments()
    demo.load_demo()
    total = Suggestion.objects.count()
    assert 140 <= total <= 170
    present = set(Suggestion.objects.values_list("status", flat=True))
    # the online-writing states come from the two demo deputies (member1, member2)
    assert present == set(Status.values)
    online_only = {Status.DRAFT}  # a draft is the deputy's own: staff do not see it
    # replies and evaluations exist, and overdue items for the office to see
    assert Suggestion.objects.filter(replies__round=2).exists()
    assert Suggestion.objects.filter(evaluations__result="dissatisfied").exists()
    assert services.overdue().exists()
    assert Suggestion.objects.filter(extended=True).exists()
    # every item's timeline starts with 提出 (or, written online, with the deputy's 草稿) and
    # is in date order; the online ones are among those checked whatever the database's order
    checked = [
        *Suggestion.objects.order_by("pk")[:60],
        *Suggestion.objects.filter(events__action="draft"),
    ]
    for s in checked:
        events = list(s.events.all())
        assert events[0].action == (
            "draft" if s.events.filter(action="draft").exists() else "submit"
        )
        assert [e.at for e in events] == sorted(e.at for e in events), s.code
    # the demo deputy and liaison have material
    own = Deputy.objects.get(user=deputy_user)
    assert Suggestion.objects.filter(lead_deputy=own).count() >= 5
    assert Suggestion.objects.filter(co_signers=own).exists()
    assert services.visible_to(liaison).filter(lead_unit__code="006").count() >= 8
    # titles are varied
    assert Suggestion.objects.values("title").distinct().count() >= total * 0.9
    # every state's page renders for the office, and the portal and department pages too
    staff = services.staff_users()[0]
    client.force_login(staff)
    for status in set(Status.values) - online_only:
        s = Suggestion.objects.filter(status=status).first()
        response = client.get(reverse("suggestions:detail", args=[s.pk]))
        assert response.status_code == 200, status
        assert s.title in response.content.decode()
    assert client.get(reverse("suggestions:list") + "?status=open&overdue=1").status_code == 200
    client.force_login(deputy_user)
    page = client.get(reverse("suggestions:mine")).content.decode()
    assert "请评价答复" in page or "已答复" in page or "我的建议" in page
    client.force_login(liaison)
    assert client.get(reverse("suggestions:department")).status_code == 200
    events = TimelineEvent.objects.count()
    demo.load_demo()
    assert Suggestion.objects.count() == total and TimelineEvent.objects.count() == events
    assert Deputy.objects.filter(user__username__in=["member1", "member2"]).count() == 2


def test_demo_deputies_write_online_and_see_their_own(client):
    """member1 and member2 (人大代表) have a draft, a 联名 invitation from one to the other,
    a returned suggestion and one turned into a letter; created once, however often run."""
    from cms.demo import create_demo_accounts

    create_demo_accounts()
    ensure_departments()
    term = services.setup_term(demo.TERM_NUMBER, start_date=datetime.date(2022, 1, 10))
    demo._sessions(term, datetime.date.today())
    demo.load_member_demo(term)
    demo.load_member_demo(term)
    member1 = Deputy.objects.get(user__username="member1")
    member2 = Deputy.objects.get(user__username="member2")
    assert (member1.name, member2.name) == ("杨丽华", "普文忠")
    assert member1.user.groups.filter(name=roles.DEPUTY_MEMBER).exists()
    assert Deputy.objects.filter(name__in=["杨丽华", "普文忠"]).count() == 2
    mine = Suggestion.objects.filter(lead_deputy=member1)
    assert sorted(mine.values_list("status", flat=True)) == [Status.DRAFT, Status.DRAFT]
    invited = mine.get(invitations__deputy=member2)
    assert invited.invitations.get().status == "invited"
    theirs = Suggestion.objects.filter(lead_deputy=member2)
    assert sorted(theirs.values_list("status", flat=True)) == sorted(
        [Status.RETURNED, Status.LETTER]
    )
    returned = theirs.get(status=Status.RETURNED)
    assert returned.events.filter(action="return_for_revision").exists()
    # each sees his or her own (and the invitation), never the other's draft
    assert set(services.visible_to(member2.user)) >= set(theirs) | {invited}
    plain_draft = mine.exclude(pk=invited.pk).get()
    assert not services.visible_to(member2.user).filter(pk=plain_draft.pk).exists()
    assert Suggestion.objects.count() == 4
    assert member1.user.check_password("Member1-2026!")
    assert member2.user.check_password("Member2-2026!")
    client.force_login(member1.user)
    assert (
        "关于提高农村学校营养餐补助标准的建议"
        in client.get(reverse("suggestions:mine")).content.decode()
    )


def test_demo_logins_list_the_two_deputies():
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("demo_logins", stdout=out)
    text = out.getvalue()
    for username, password in (("member1", "Member1-2026!"), ("member2", "Member2-2026!")):
        line = next(line for line in text.splitlines() if username in line)
        assert password in line and roles.DEPUTY_MEMBER in line
