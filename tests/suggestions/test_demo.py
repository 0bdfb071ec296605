"""The demo loader: about 150 suggestions in every state, idempotent, the demo accounts linked."""

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
    # the states of the deputies' online writing (issue 17) are not in the demo yet
    online_only = {Status.DRAFT, Status.RETURNED, Status.LETTER}
    assert present == set(Status.values) - online_only
    # replies and evaluations exist, and overdue items for the office to see
    assert Suggestion.objects.filter(replies__round=2).exists()
    assert Suggestion.objects.filter(evaluations__result="dissatisfied").exists()
    assert services.overdue().exists()
    assert Suggestion.objects.filter(extended=True).exists()
    # every item's timeline starts with 提出 and is in date order
    for s in Suggestion.objects.all()[:60]:
        events = list(s.events.all())
        assert events[0].action == "submit"
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
