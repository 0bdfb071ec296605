"""Letters as the 办法 counts them: the answer clock starts at the department's receipt (签收),
15 working days for 重大 is an extension granted with a reason, and an answer names the head
who signed it."""

import datetime
import os

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from cms.workdays import add_workdays
from supervision.choices import AlertGrade
from supervision.letters import services
from supervision.letters.choices import LetterStatus
from supervision.letters.models import Letter, LetterAnswer

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def ago(days):
    return TODAY - datetime.timedelta(days=days)


def sent(make_alert, drafter, signer, grade=AlertGrade.GENERAL, sent_on=None):
    letter = services.create_from_alert(make_alert(grade), drafter)
    letter = services.act(services.act(letter, "submit", drafter), "approve", signer)
    if sent_on is not None:
        signed_at = timezone.make_aware(datetime.datetime.combine(sent_on, datetime.time(9)))
        Letter.objects.filter(pk=letter.pk).update(approved_at=signed_at)
        letter.refresh_from_db()
    return services.send(letter, drafter, sent_on=sent_on, via="机要交换")


def media_files():
    root = django_settings.MEDIA_ROOT
    return sorted(
        os.path.join(folder, name) for folder, _dirs, names in os.walk(root) for name in names
    )


def test_receipt_starts_the_answer_clock(make_alert, drafter, head, finance_liaison):
    letter = sent(make_alert, drafter, head, sent_on=ago(20))
    # until the department signs for it, the deadline is an estimate from sending
    estimate = add_workdays(ago(20), 10)
    assert letter.received_on is None and letter.answer_due == estimate
    assert "待签收" in services.due_text(letter)

    letter = services.record_receipt(letter, finance_liaison, ago(6))
    due = add_workdays(ago(6), 10)
    assert letter.received_on == ago(6) and letter.received_recorded_by == finance_liaison
    assert letter.received_recorded_at is not None
    assert letter.answer_due == due and letter.answer_due_provisional == due.provisional
    assert letter.status == LetterStatus.SENT and letter.answer_workdays == 10
    event = letter.events.last()
    assert event.action == "登记签收" and event.actor == finance_liaison
    assert f"{ago(6):%Y-%m-%d} 签收" in event.note and f"{due:%Y-%m-%d}" in event.note
    assert "自签收日起10个工作日" in event.note
    letter.refresh_from_db()
    assert letter.answer_due == due


def test_every_grade_has_ten_working_days(make_alert, drafter, head, leader):
    major = sent(make_alert, drafter, leader, AlertGrade.MAJOR, sent_on=ago(3))
    important = sent(make_alert, drafter, head, AlertGrade.IMPORTANT, sent_on=ago(3))
    assert major.answer_workdays == important.answer_workdays == 10
    assert major.answer_due == important.answer_due == add_workdays(ago(3), 10)


def test_receipt_date_is_checked_and_refusals_change_nothing(
    make_alert, drafter, head, education_liaison, deputy_user
):
    letter = sent(make_alert, drafter, head, sent_on=ago(5))
    before = (letter.answer_due, letter.events.count())
    with pytest.raises(services.LetterError, match="签收日期不能晚于今天"):
        services.record_receipt(letter, drafter, TODAY + datetime.timedelta(days=1))
    with pytest.raises(services.LetterError, match="签收日期不能早于函件发出日期"):
        services.record_receipt(letter, drafter, ago(6))
    with pytest.raises(services.LetterError, match="请填写签收日期"):
        services.record_receipt(letter, drafter, None)
    # another department's liaison and a deputy may not record it
    with pytest.raises(PermissionDenied):
        services.record_receipt(letter, education_liaison, ago(4))
    with pytest.raises(PermissionDenied):
        services.record_receipt(letter, deputy_user, ago(4))
    letter.refresh_from_db()
    assert letter.received_on is None and (letter.answer_due, letter.events.count()) == before

    # staff may record it; once only
    letter = services.record_receipt(letter, drafter, ago(5))
    with pytest.raises(services.LetterError, match="不能重复登记"):
        services.record_receipt(letter, drafter, ago(4))
    assert "receive" not in services.allowed_moves(letter, drafter)
    letter.refresh_from_db()
    assert letter.received_on == ago(5)


def test_receipt_only_for_a_sent_letter(make_alert, drafter, head):
    letter = services.create_from_alert(make_alert(), drafter)
    with pytest.raises(services.LetterError, match="不能“登记签收”"):
        services.record_receipt(letter, drafter, TODAY)


def test_extension_to_15_days_needs_a_reason_and_the_leader_once(
    make_alert, drafter, head, leader, finance_liaison
):
    letter = sent(make_alert, drafter, leader, AlertGrade.MAJOR, sent_on=ago(10))
    letter = services.record_receipt(letter, drafter, ago(9))
    events = letter.events.count()
    # the liaison, plain staff and the office head (not the approver of a 县政府 letter) may not
    for user in (finance_liaison, drafter, head):
        with pytest.raises(PermissionDenied):
            services.act(letter, "extend", user, note="情况复杂")
        assert "extend" not in services.allowed_moves(letter, user)
    with pytest.raises(services.LetterError, match="延期须填写理由"):
        services.act(letter, "extend", leader, note="  ")
    letter.refresh_from_db()
    assert letter.answer_workdays == 10 and letter.events.count() == events
    assert "extend" in services.allowed_moves(letter, leader)

    letter = services.act(letter, "extend", leader, note="涉及多个部门，需县政府统筹核实")
    due = add_workdays(ago(9), 15)
    assert letter.answer_workdays == 15 and letter.answer_due == due
    assert letter.extension_reason == "涉及多个部门，需县政府统筹核实"
    assert letter.extended_by == leader and letter.extended_at is not None
    assert letter.status == LetterStatus.SENT
    event = letter.events.last()
    assert event.action == "延期至15个工作日" and event.actor == leader
    assert "涉及多个部门" in event.note and f"{due:%Y-%m-%d}" in event.note

    with pytest.raises(services.LetterError, match="已延期过一次"):
        services.act(letter, "extend", leader, note="再延一次")
    assert "extend" not in services.allowed_moves(letter, leader)


def test_extension_before_receipt_counts_from_receipt_later(make_alert, drafter, leader):
    letter = sent(make_alert, drafter, leader, AlertGrade.MAJOR, sent_on=ago(10))
    letter = services.act(letter, "extend", leader, note="需县政府统筹")
    assert letter.answer_due == add_workdays(ago(10), 15)  # still the estimate
    letter = services.record_receipt(letter, drafter, ago(8))
    assert letter.answer_due == add_workdays(ago(8), 15)


def test_only_major_letters_may_be_extended(make_alert, drafter, head):
    letter = sent(make_alert, drafter, head, AlertGrade.IMPORTANT)
    with pytest.raises(services.LetterError, match="只有重大问题的函件"):
        services.act(letter, "extend", head, note="情况复杂")
    letter.refresh_from_db()
    assert letter.answer_workdays == 10 and not letter.extension_reason


def test_answer_without_signer_is_refused_and_nothing_stored(
    make_alert, drafter, head, finance_liaison
):
    letter = sent(make_alert, drafter, head)
    events = letter.events.count()
    files = media_files()
    for signer in ("", "   "):
        with pytest.raises(services.LetterError, match="请填写签字负责人"):
            services.record_answer(
                letter,
                finance_liaison,
                data="已按要求整改。".encode(),
                filename="答复.txt",
                signed_by=signer,
            )
    letter.refresh_from_db()
    assert letter.status == LetterStatus.SENT and letter.answered_on is None
    assert not LetterAnswer.objects.exists() and letter.events.count() == events
    assert media_files() == files

    answer = services.record_answer(
        letter,
        finance_liaison,
        data="已按要求整改。".encode(),
        filename="答复.txt",
        signed_by="王德明",
    )
    assert answer.signed_by == "王德明"
    assert "签字负责人 王德明" in letter.events.last().note


def test_answer_page_refuses_an_answer_without_signer(
    client, make_alert, drafter, head, finance_liaison
):
    letter = sent(make_alert, drafter, head)
    client.force_login(finance_liaison)
    page = client.get(reverse("letters:answer", args=[letter.pk])).content.decode()
    assert 'name="signed_by"' in page and "必填" in page
    response = client.post(
        reverse("letters:answer", args=[letter.pk]),
        {"file": SimpleUploadedFile("答复.txt", "已按要求整改。".encode()), "signed_by": ""},
    )
    assert response.status_code == 200
    assert "请填写签字负责人" in response.content.decode()
    assert not LetterAnswer.objects.exists()
    letter.refresh_from_db()
    assert letter.status == LetterStatus.SENT


def test_answer_date_not_before_receipt(make_alert, drafter, head):
    letter = sent(make_alert, drafter, head, sent_on=ago(10))
    letter = services.record_receipt(letter, drafter, ago(5))
    with pytest.raises(services.LetterError, match="答复日期不能早于签收日期"):
        services.record_answer(
            letter, drafter, data=b"x", filename="a.txt", answered_on=ago(7), signed_by="王德明"
        )
    assert not LetterAnswer.objects.exists()


def test_overdue_is_counted_from_receipt(make_alert, drafter, head):
    # sent long ago but received only two days ago: not overdue, no reminder
    late_receipt = sent(make_alert, drafter, head, sent_on=ago(40))
    assert late_receipt.is_overdue()  # the estimate from sending has passed
    late_receipt = services.record_receipt(late_receipt, drafter, ago(2))
    assert late_receipt.answer_due == add_workdays(ago(2), 10)
    assert not late_receipt.is_overdue()
    # received long ago: overdue from its receipt date
    long_received = sent(make_alert, drafter, head, sent_on=ago(40))
    long_received = services.record_receipt(long_received, drafter, ago(39))
    assert long_received.is_overdue()

    reminded = services.remind_overdue_answers()
    assert reminded == [long_received]
    event = long_received.events.last()
    assert event.action == "逾期提醒" and "自签收日起10个工作日" in event.note
    assert services.remind_overdue_answers() == []
    # an answer after the receipt-based deadline is late; the other one within it is not
    late_answer = services.record_answer(
        long_received, drafter, data=b"x", filename="a.txt", signed_by="王德明"
    )
    on_time = services.record_answer(
        late_receipt, drafter, data=b"x", filename="b.txt", signed_by="王德明"
    )
    assert late_answer.is_late and not on_time.is_late


def test_unreceived_letter_overdue_on_the_estimate_reminds_once_then_receipt_resets(
    make_alert, drafter, head
):
    letter = sent(make_alert, drafter, head, sent_on=ago(40))
    assert services.remind_overdue_answers() == [letter]
    assert "待签收" in letter.events.last().note
    letter = services.record_receipt(letter, drafter, ago(30))
    assert letter.overdue_notified_on is None
    # the new deadline has passed too: the owner hears once more, about the new date
    assert services.remind_overdue_answers(today=TODAY) == [letter]


def test_detail_page_shows_pending_receipt_and_the_liaison_records_it(
    client, make_alert, drafter, head, finance_liaison
):
    letter = sent(make_alert, drafter, head, sent_on=ago(3))
    client.force_login(finance_liaison)
    url = reverse("letters:detail", args=[letter.pk])
    page = client.get(url).content.decode()
    assert "待签收" in page and "按发出日期估算" in page
    assert reverse("letters:receive", args=[letter.pk]) in page
    response = client.post(
        reverse("letters:receive", args=[letter.pk]), {"received_on": "2001-01-01"}
    )
    assert response.status_code == 302
    letter.refresh_from_db()
    assert letter.received_on is None
    client.post(reverse("letters:receive", args=[letter.pk]), {"received_on": f"{ago(2):%Y-%m-%d}"})
    letter.refresh_from_db()
    assert letter.received_on == ago(2)
    page = client.get(url).content.decode()
    assert (
        "自签收日起10个工作日" in page and reverse("letters:receive", args=[letter.pk]) not in page
    )
