"""Letters and answers in the site-wide search (permission-aware), and the demo loader."""

import datetime

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from modelsearch.backends import get_search_backend

from cms import roles
from search.registry import run_search
from supervision.choices import AlertGrade
from supervision.letters import services
from supervision.letters.choices import LetterStatus
from supervision.letters.demo import load_demo
from supervision.letters.models import Letter, LetterAnswer, LetterEvent, LetterSigner

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_soffice(settings):
    settings.OFFICIALDOC_SOFFICE = "/nonexistent/soffice"


def test_site_search_finds_letters_and_answers_per_user(
    make_alert, drafter, head, finance_liaison, education_liaison, deputy_user,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    backend = get_search_backend()
    backend.reset_indexes()
    with django_capture_on_commit_callbacks(execute=True):
        letter = services.create_from_alert(make_alert(title="县财政局暂付款余额过大"), drafter)
        letter = services.act(services.act(letter, "submit", drafter), "approve", head)
        letter = services.send(letter, drafter)
        services.record_answer(
            letter,
            finance_liaison,
            data="暂付款已清理收回三百万元，余款年内清理完毕。".encode(),
            filename="答复.txt",
            signed_by="王德明",
        )
        draft = services.create_from_alert(make_alert(title="县财政局暂付款新增过快"), drafter)
    backend.refresh_indexes()

    def found(user, query):
        return {type(hit.obj).__name__ + str(hit.obj.pk) for hit in run_search(user, query).hits}

    assert f"Letter{letter.pk}" in found(drafter, "暂付款")
    assert f"Letter{draft.pk}" in found(drafter, "暂付款")
    answer = LetterAnswer.objects.get()
    assert f"LetterAnswer{answer.pk}" in found(drafter, "清理收回")
    # the finance bureau's liaison: its sent letter and the answer, not the internal draft
    liaison_hits = found(finance_liaison, "暂付款")
    assert f"Letter{letter.pk}" in liaison_hits and f"Letter{draft.pk}" not in liaison_hits
    assert f"LetterAnswer{answer.pk}" in found(finance_liaison, "清理收回")
    for outsider in (education_liaison, deputy_user):
        hits = found(outsider, "暂付款") | found(outsider, "清理收回")
        assert not {h for h in hits if h.startswith("Letter")}


def test_demo_letters_in_several_states_and_idempotent(make_user, make_alert, finance_liaison):
    staff = make_user(roles.STAFF, username="staff")
    liaison = make_user(roles.LIAISON, username="liaison")
    finance_liaison.liaison_departments.first().liaisons.add(liaison)
    make_user(roles.ADMIN, username="admin", is_superuser=True)
    for grade, count in ((AlertGrade.GENERAL, 3), (AlertGrade.IMPORTANT, 3), (AlertGrade.MAJOR, 2)):
        for _ in range(count):
            make_alert(grade)
    load_demo()
    states = sorted(Letter.objects.values_list("status", flat=True))
    assert len(states) == 8
    assert {LetterStatus.DRAFT, LetterStatus.SUBMITTED, LetterStatus.APPROVED, LetterStatus.SENT,
            LetterStatus.ANSWERED, LetterStatus.CLOSED} <= set(states)  # fmt: skip
    today = timezone.localdate()
    overdue = [letter for letter in Letter.objects.all() if letter.is_overdue(today)]
    assert len(overdue) == 2
    assert LetterAnswer.objects.filter(uploaded_by=liaison).exists()
    assert LetterSigner.objects.count() == 2
    assert (
        Group.objects.get(name=roles.STAFF).user_set.filter(username__in=["head", "leader"]).count()
        == 2
    )
    assert all(letter.owner == staff for letter in Letter.objects.all())
    counts = (Letter.objects.count(), LetterEvent.objects.count(), LetterAnswer.objects.count())
    load_demo()
    assert (
        Letter.objects.count(),
        LetterEvent.objects.count(),
        LetterAnswer.objects.count(),
    ) == counts
    # the overdue letters were sent well before their due date
    for letter in overdue:
        assert letter.sent_on <= today - datetime.timedelta(days=30)
