"""The letter workflow: kinds per grade, approvals, 发文字号, sending, answers, reminders."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from cms.notifications.models import Message
from cms.workdays import add_workdays
from supervision.choices import AlertGrade, AlertStatus
from supervision.letters import services
from supervision.letters.choices import LetterKind, LetterStatus
from supervision.letters.models import Letter, LetterAnswer, LetterEvent

pytestmark = pytest.mark.django_db

YEAR = timezone.localdate().year


def signed(letter, drafter, signer):
    letter = services.act(letter, "submit", drafter)
    return services.act(letter, "approve", signer)


def backdate(letter, sent_on):
    """Letters sent in the past were signed no later than that day."""
    if sent_on is not None:
        signed_at = timezone.make_aware(datetime.datetime.combine(sent_on, datetime.time(9)))
        Letter.objects.filter(pk=letter.pk).update(approved_at=signed_at)
        letter.refresh_from_db()
    return letter


def sent(letter, drafter, signer, sent_on=None):
    letter = backdate(signed(letter, drafter, signer), sent_on)
    return services.send(letter, drafter, sent_on=sent_on, via="机要交换")


def test_kind_recipients_and_text_follow_the_grade(make_alert, drafter, settings):
    settings.LETTERS_GOVERNMENT = "元江县人民政府"
    general = services.create_from_alert(make_alert(AlertGrade.GENERAL), drafter)
    important = services.create_from_alert(make_alert(AlertGrade.IMPORTANT), drafter)
    major = services.create_from_alert(
        make_alert(AlertGrade.MAJOR, department="education"), drafter
    )
    assert general.kind == LetterKind.BULLETIN and general.series == "bulletin"
    assert general.title == "关于县财政局2026年支出进度落后的联网查询情况通报"
    assert general.recipients == "县财政局"
    assert "查询发现：县财政局一般公共预算支出进度低于序时进度12.5个百分点" in general.body
    assert "10个工作日" in general.body
    assert important.kind == LetterKind.DEPARTMENT and important.series == "letter"
    assert important.title == "关于县财政局2026年支出进度落后有关问题的函"
    assert important.recipients == "县财政局"
    assert major.kind == LetterKind.GOVERNMENT and major.series == "letter"
    assert major.recipients == "元江县人民政府" and major.cc == "县教育局"
    # every grade has 10 working days from receipt; 15 for 重大 is an extension granted later
    assert "收到本函之日起10个工作日" in major.body and "15个工作日" not in major.body
    assert major.figures == {"调整预算（万元）": "1,200.00", "累计执行（万元）": "780.00"}
    assert general.status == LetterStatus.DRAFT and general.doc_number == ""
    assert [e.action for e in general.events.all()] == ["起草"]


def test_alert_without_department_goes_to_the_finance_bureau(make_alert, drafter):
    letter = services.create_from_alert(
        make_alert(department=None, title="全县支出进度落后"), drafter
    )
    assert letter.department.name == "县财政局"


def test_general_letter_full_flow(make_alert, drafter, head, finance_liaison, settings):
    settings.LETTERS_DOC_NUMBER_PREFIXES = {"bulletin": "元人预通", "letter": "元人预函"}
    alert = make_alert(AlertGrade.GENERAL)
    letter = services.create_from_alert(alert, drafter)
    letter = services.act(letter, "submit", drafter)
    assert letter.status == LetterStatus.SUBMITTED
    assert Message.objects.filter(recipient=head, subject__startswith="待签发").exists()
    letter = services.act(letter, "approve", head)
    assert letter.status == LetterStatus.APPROVED
    assert letter.doc_number == f"元人预通〔{YEAR}〕1号" and letter.approved_by == head
    sent_on = timezone.localdate() - datetime.timedelta(days=2)
    with pytest.raises(services.LetterError, match="发出日期不能早于签发日期"):
        services.send(letter, drafter, sent_on=sent_on)
    letter = services.send(backdate(letter, sent_on), drafter, sent_on=sent_on, via="机要交换")
    assert letter.status == LetterStatus.SENT
    due = add_workdays(sent_on, 10)
    assert letter.answer_due == due and letter.answer_due_provisional == due.provisional
    alert.refresh_from_db()
    assert alert.status == AlertStatus.BULLETIN  # the alert follows its letter

    answer = services.record_answer(
        letter,
        finance_liaison,
        data="关于支出进度的说明：项目招标延后。".encode(),
        filename="答复.txt",
        reference="财函〔2026〕3号",
        signed_by="王德明",
    )
    letter.refresh_from_db()
    assert letter.status == LetterStatus.ANSWERED and letter.answered_on == timezone.localdate()
    assert "项目招标延后" in answer.text and not answer.is_late
    assert answer.file.read().decode() == "关于支出进度的说明：项目招标延后。"
    # a liaison may not handle alerts: the alert waits for staff
    alert.refresh_from_db()
    assert alert.status == AlertStatus.BULLETIN
    assert Message.objects.filter(recipient=drafter, subject__startswith="收到书面答复").exists()

    letter = services.act(letter, "close", drafter, note="说明充分，办结。")
    assert letter.status == LetterStatus.CLOSED
    assert [e.action for e in letter.events.all()] == [
        "起草", "送审", "签发", "发出", "登记书面答复", "办结",
    ]  # fmt: skip


def test_staff_answer_moves_the_alert_and_late_answers_are_marked(make_alert, drafter, head):
    alert = make_alert(AlertGrade.IMPORTANT)
    letter = services.create_from_alert(alert, drafter)
    letter = sent(letter, drafter, head, sent_on=timezone.localdate() - datetime.timedelta(days=40))
    alert.refresh_from_db()
    assert alert.status == AlertStatus.LETTER
    answer = services.record_answer(
        letter, drafter, data=b"late answer", filename="a.txt", signed_by="王德明"
    )
    assert answer.is_late
    alert.refresh_from_db()
    assert alert.status == AlertStatus.ANSWERED


def test_major_letters_are_signed_by_the_leader_only(make_alert, drafter, head, leader):
    letter = services.create_from_alert(make_alert(AlertGrade.MAJOR), drafter)
    letter = services.act(letter, "submit", drafter)
    events = letter.events.count()
    with pytest.raises(PermissionDenied, match="分管常委会领导"):
        services.act(letter, "approve", head)
    with pytest.raises(PermissionDenied):
        services.act(letter, "approve", drafter)
    letter.refresh_from_db()
    assert letter.status == LetterStatus.SUBMITTED and letter.doc_number == ""
    assert letter.events.count() == events
    letter = services.act(letter, "approve", leader)
    assert letter.doc_number.endswith(f"〔{YEAR}〕1号")


def test_office_head_signs_bulletins_and_department_letters_not_the_leader(
    make_alert, drafter, leader, head
):
    for grade in (AlertGrade.GENERAL, AlertGrade.IMPORTANT):
        letter = services.act(
            services.create_from_alert(make_alert(grade), drafter), "submit", drafter
        )
        with pytest.raises(PermissionDenied, match="预算工委负责同志"):
            services.act(letter, "approve", leader)
        assert services.act(letter, "approve", head).status == LetterStatus.APPROVED


def test_illegal_moves_are_refused_in_chinese_and_change_nothing(make_alert, drafter, head):
    letter = services.create_from_alert(make_alert(), drafter)
    before = (letter.status, letter.events.count())
    with pytest.raises(services.LetterError, match="函件当前为“草稿”，不能“发出”"):
        services.send(letter, drafter)
    with pytest.raises(services.LetterError, match="不能“签发”"):
        services.act(letter, "approve", head)
    with pytest.raises(services.LetterError, match="须填写说明"):
        services.act(letter, "cancel", drafter, note=" ")
    with pytest.raises(services.LetterError, match="未知的操作"):
        services.act(letter, "send", drafter)
    with pytest.raises(services.LetterError, match="不能“登记书面答复”"):
        services.record_answer(letter, drafter, data=b"x", filename="a.txt", signed_by="王德明")
    letter.refresh_from_db()
    assert (letter.status, letter.events.count()) == before
    assert not LetterAnswer.objects.exists()

    letter = signed(letter, drafter, head)
    with pytest.raises(services.LetterError, match="不能“作废”"):
        services.act(letter, "cancel", drafter, note="不发了")
    with pytest.raises(services.LetterError, match="只有草稿可以修改"):
        services.update_draft(letter, drafter, title="新", recipients="县财政局", body="正文")
    with pytest.raises(services.LetterError, match="发出日期不能晚于今天"):
        services.send(letter, drafter, sent_on=timezone.localdate() + datetime.timedelta(days=1))
    letter.refresh_from_db()
    assert letter.status == LetterStatus.APPROVED


def test_return_sends_the_draft_back_without_taking_a_number(make_alert, drafter, head):
    letter = services.act(services.create_from_alert(make_alert(), drafter), "submit", drafter)
    with pytest.raises(services.LetterError, match="须填写说明"):
        services.act(letter, "return", head)
    letter = services.act(letter, "return", head, note="请补充整改要求")
    assert letter.status == LetterStatus.DRAFT and letter.number is None
    assert Message.objects.filter(recipient=drafter, body="请补充整改要求").exists()
    letter = services.update_draft(
        letter, drafter, title="修改后的标题", recipients="县财政局", body="新正文\n第二段"
    )
    assert letter.title == "修改后的标题"
    with pytest.raises(services.LetterError, match="不能为空"):
        services.update_draft(letter, drafter, title="", recipients="县财政局", body="x")
    letter = signed(letter, drafter, head)
    assert letter.number == 1


def test_numbers_per_series_and_year_without_gaps(make_alert, drafter, head, settings):
    settings.LETTERS_DOC_NUMBER_PREFIXES = {"bulletin": "元人预通", "letter": "元人预函"}
    numbers = []
    for grade in (
        AlertGrade.GENERAL,
        AlertGrade.IMPORTANT,
        AlertGrade.GENERAL,
        AlertGrade.IMPORTANT,
    ):
        letter = services.create_from_alert(make_alert(grade), drafter)
        numbers.append(signed(letter, drafter, head).doc_number)
    # a cancelled draft takes no number
    cancelled = services.create_from_alert(make_alert(), drafter)
    services.act(cancelled, "cancel", drafter, note="重复起草")
    numbers.append(
        signed(services.create_from_alert(make_alert(), drafter), drafter, head).doc_number
    )
    assert numbers == [
        f"元人预通〔{YEAR}〕1号",
        f"元人预函〔{YEAR}〕1号",
        f"元人预通〔{YEAR}〕2号",
        f"元人预函〔{YEAR}〕2号",
        f"元人预通〔{YEAR}〕3号",
    ]
    # a new year starts again at 1
    assert services.next_number("bulletin", YEAR + 1) == 1
    assert services.next_number("bulletin", YEAR) == 4


def test_only_workflow_staff_draft(make_alert, deputy_user, finance_liaison, archivist_user):
    alert = make_alert()
    for user in (deputy_user, finance_liaison, archivist_user):
        with pytest.raises(PermissionDenied):
            services.create_from_alert(alert, user)
    assert not Letter.objects.exists()


def test_closed_alert_takes_no_new_letter(make_alert, drafter):
    alert = make_alert()
    alert.status = AlertStatus.CLOSED
    alert.save()
    with pytest.raises(services.LetterError, match="预警已关闭"):
        services.create_from_alert(alert, drafter)


def test_liaison_answers_only_for_own_department(
    make_alert, drafter, head, finance_liaison, education_liaison
):
    letter = sent(services.create_from_alert(make_alert(), drafter), drafter, head)
    with pytest.raises(PermissionDenied):
        services.record_answer(
            letter, education_liaison, data=b"x", filename="a.txt", signed_by="王德明"
        )
    assert not LetterAnswer.objects.exists()
    assert services.can_answer(finance_liaison, letter)
    assert not services.can_answer(education_liaison, letter)


def test_liaison_sees_own_department_letters_once_sent(
    make_alert, drafter, head, finance_liaison, education_liaison, deputy_user
):
    draft = services.create_from_alert(make_alert(), drafter)
    out = sent(services.create_from_alert(make_alert(), drafter), drafter, head)
    school = sent(
        services.create_from_alert(make_alert(department="school"), drafter), drafter, head
    )
    assert set(services.letters_for(drafter)) == {draft, out, school}
    assert set(services.letters_for(head)) == {draft, out, school}
    assert set(services.letters_for(finance_liaison)) == {out}
    # the education bureau's liaison covers its 二级单位
    assert set(services.letters_for(education_liaison)) == {school}
    assert not services.letters_for(deputy_user).exists()


def test_bad_answer_files_are_refused_and_nothing_is_kept(make_alert, drafter, head, settings):
    letter = sent(services.create_from_alert(make_alert(), drafter), drafter, head)
    with pytest.raises(services.LetterError, match="文件为空"):
        services.record_answer(letter, drafter, data=b"", filename="a.txt", signed_by="王德明")
    with pytest.raises(services.LetterError):
        services.record_answer(
            letter, drafter, data=b"%PDF-1.4 broken", filename="a.pdf", signed_by="王德明"
        )
    with pytest.raises(services.LetterError, match="Windows 可执行程序"):  # a renamed .exe
        services.record_answer(
            letter, drafter, data=b"MZ\x90\x00" + b"\0" * 60, filename="a.pdf", signed_by="王德明"
        )
    settings.LETTERS_ANSWER_MAX_BYTES = 10
    with pytest.raises(services.LetterError, match="不能超过"):
        services.record_answer(
            letter, drafter, data=b"x" * 11, filename="a.txt", signed_by="王德明"
        )
    with pytest.raises(services.LetterError, match="答复日期不能晚于今天"):
        services.record_answer(
            letter,
            drafter,
            data=b"x",
            filename="a.txt",
            answered_on=timezone.localdate() + datetime.timedelta(days=1),
            signed_by="王德明",
        )
    letter.refresh_from_db()
    assert letter.status == LetterStatus.SENT and not LetterAnswer.objects.exists()


def test_overdue_answers_remind_the_owner_once(make_alert, drafter, head):
    late = sent(
        services.create_from_alert(make_alert(), drafter),
        drafter,
        head,
        sent_on=timezone.localdate() - datetime.timedelta(days=40),
    )
    on_time = sent(services.create_from_alert(make_alert(), drafter), drafter, head)
    assert late.is_overdue() and not on_time.is_overdue()
    reminded = services.remind_overdue_answers()
    assert [letter.pk for letter in reminded] == [late.pk]
    assert (
        Message.objects.filter(recipient=drafter, subject__startswith="书面答复已逾期").count() == 1
    )
    assert services.remind_overdue_answers() == []
    assert LetterEvent.objects.filter(letter=late, action="逾期提醒").count() == 1


def test_events_are_append_only(make_alert, drafter):
    from cms.usage.models import AppendOnlyError

    letter = services.create_from_alert(make_alert(), drafter)
    event = letter.events.get()
    event.note = "改"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        LetterEvent.objects.all().delete()
