"""The letter pages: who sees what, the steps through the forms, refusals."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from supervision.choices import AlertGrade
from supervision.letters import services
from supervision.letters.choices import LetterStatus
from supervision.letters.models import Letter, LetterAnswer

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_soffice(settings):
    settings.OFFICIALDOC_SOFFICE = "/nonexistent/soffice"


def sent_letter(make_alert, drafter, head, department="finance", days_ago=0):
    letter = services.create_from_alert(make_alert(department=department), drafter)
    letter = services.act(services.act(letter, "submit", drafter), "approve", head)
    sent_on = timezone.localdate() - datetime.timedelta(days=days_ago)
    Letter.objects.filter(pk=letter.pk).update(
        approved_at=timezone.make_aware(datetime.datetime.combine(sent_on, datetime.time(9)))
    )
    letter.refresh_from_db()
    return services.send(letter, drafter, sent_on=sent_on)


def test_alert_page_offers_generation_and_lists_letters(client, make_alert, drafter):
    alert = make_alert(AlertGrade.IMPORTANT)
    client.force_login(drafter)
    page = client.get(reverse("supervision:alert", args=[alert.pk])).content.decode()
    assert "生成通报/函件" in page and reverse("letters:generate", args=[alert.pk]) in page
    response = client.post(reverse("letters:generate", args=[alert.pk]))
    letter = Letter.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "letters:edit", args=[letter.pk]
    )
    page = client.get(reverse("supervision:alert", args=[alert.pk])).content.decode()
    assert letter.title in page and "草稿" in page


def test_generation_refused_without_workflow_rights(
    client, make_alert, deputy_user, finance_liaison
):
    alert = make_alert()
    for user in (deputy_user, finance_liaison):
        client.force_login(user)
        assert client.post(reverse("letters:generate", args=[alert.pk])).status_code == 403
    assert not Letter.objects.exists()


def test_full_flow_through_the_pages(client, make_alert, drafter, head, finance_liaison):
    alert = make_alert()
    client.force_login(drafter)
    client.post(reverse("letters:generate", args=[alert.pk]))
    letter = Letter.objects.get()
    response = client.post(
        reverse("letters:edit", args=[letter.pk]),
        {
            "title": "关于县财政局支出进度的联网查询情况通报",
            "recipients": "县财政局",
            "cc": "",
            "body": "正文一\n正文二",
        },
    )
    assert response.status_code == 302
    client.post(reverse("letters:act", args=[letter.pk]), {"move": "submit"})
    # the drafter is not a signer: the approve button is not offered and the step is refused
    page = client.get(reverse("letters:detail", args=[letter.pk])).content.decode()
    assert 'value="approve"' not in page
    assert (
        client.post(reverse("letters:act", args=[letter.pk]), {"move": "approve"}).status_code
        == 403
    )
    client.force_login(head)
    page = client.get(reverse("letters:detail", args=[letter.pk])).content.decode()
    assert 'value="approve"' in page and 'value="return"' in page
    client.post(reverse("letters:act", args=[letter.pk]), {"move": "approve", "confirm": "1"})
    letter.refresh_from_db()
    assert letter.status == LetterStatus.APPROVED and letter.doc_number
    client.force_login(drafter)
    # an illegal step: a message, no change
    response = client.post(
        reverse("letters:act", args=[letter.pk]), {"move": "submit"}, follow=True
    )
    assert "不能“送审”" in response.content.decode()
    response = client.post(
        reverse("letters:send", args=[letter.pk]),
        {"sent_on": "2026-02-30", "via": "机要"},
        follow=True,
    )
    assert "格式不正确" in response.content.decode()
    client.post(
        reverse("letters:send", args=[letter.pk]),
        {"sent_on": timezone.localdate().isoformat(), "via": "机要交换"},
    )
    letter.refresh_from_db()
    assert letter.status == LetterStatus.SENT and letter.answer_due
    page = client.get(reverse("letters:detail", args=[letter.pk])).content.decode()
    assert letter.doc_number in page and f"{letter.answer_due:%Y-%m-%d}" in page

    client.force_login(finance_liaison)
    page = client.get(reverse("letters:detail", args=[letter.pk])).content.decode()
    assert reverse("letters:answer", args=[letter.pk]) in page
    assert 'value="close"' not in page
    response = client.post(
        reverse("letters:answer", args=[letter.pk]),
        {
            "file": SimpleUploadedFile("答复.txt", "已按要求整改。".encode()),
            "reference": "财函〔2026〕9号",
            "signed_by": "王德明",
        },
    )
    assert response.status_code == 302
    answer = LetterAnswer.objects.get()
    assert answer.uploaded_by == finance_liaison and answer.text == "已按要求整改。"
    response = client.get(reverse("letters:answer_file", args=[answer.pk]))
    assert (
        response.status_code == 200
        and b"".join(response.streaming_content) == "已按要求整改。".encode()
    )


def test_liaison_list_and_detail_are_scoped(
    client, make_alert, drafter, head, finance_liaison, education_liaison
):
    own = sent_letter(make_alert, drafter, head, "finance")
    other = sent_letter(make_alert, drafter, head, "education")
    draft = services.create_from_alert(make_alert(), drafter)
    client.force_login(finance_liaison)
    page = client.get(reverse("letters:list")).content.decode()
    assert own.title in page and other.doc_number not in page and own.doc_number in page
    assert client.get(reverse("letters:detail", args=[other.pk])).status_code == 404
    assert client.get(reverse("letters:detail", args=[draft.pk])).status_code == 404
    # another department's letter cannot be answered through the page either
    response = client.post(
        reverse("letters:answer", args=[other.pk]), {"file": SimpleUploadedFile("a.txt", b"x")}
    )
    assert response.status_code == 404
    client.force_login(education_liaison)
    assert client.get(reverse("letters:answer", args=[own.pk])).status_code == 404
    assert not LetterAnswer.objects.exists()


def test_deputies_and_archivists_are_refused_the_list(client, deputy_user, archivist_user):
    for user in (deputy_user, archivist_user):
        client.force_login(user)
        assert client.get(reverse("letters:list")).status_code == 403


def test_overdue_letters_stand_out(client, make_alert, drafter, head):
    late = sent_letter(make_alert, drafter, head, days_ago=40)
    sent_letter(make_alert, drafter, head)
    client.force_login(drafter)
    page = client.get(reverse("letters:list")).content.decode()
    assert page.count("is-overdue-row") == 1 and "已逾期" in page
    page = client.get(reverse("letters:list"), {"status": "overdue"}).content.decode()
    assert late.title in page and page.count("<tr class") == 1
    assert (
        "已逾期，尚未答复" in client.get(reverse("letters:detail", args=[late.pk])).content.decode()
    )


def test_bad_upload_is_a_message_and_nothing_is_kept(client, make_alert, drafter, head):
    letter = sent_letter(make_alert, drafter, head)
    client.force_login(drafter)
    response = client.post(
        reverse("letters:answer", args=[letter.pk]),
        {"file": SimpleUploadedFile("a.pdf", b"%PDF-1.4 broken"), "signed_by": "王德明"},
    )
    assert response.status_code == 200 and "message--error" in response.content.decode()
    assert not LetterAnswer.objects.exists()
    letter.refresh_from_db()
    assert letter.status == LetterStatus.SENT


def test_docx_download_after_rendering(
    client, make_alert, drafter, head, finance_liaison, django_capture_on_commit_callbacks
):
    letter = sent_letter(make_alert, drafter, head)
    client.force_login(drafter)
    assert client.get(reverse("letters:download", args=[letter.pk, "pdf"])).status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("letters:render", args=[letter.pk]))
    letter.refresh_from_db()
    assert letter.docx_file
    response = client.get(reverse("letters:download", args=[letter.pk, "docx"]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content)[:2] == b"PK"
    assert "attachment" in response["Content-Disposition"]
    client.force_login(finance_liaison)
    # the liaison may read the letter sent to the unit, not ask for new renditions
    assert client.get(reverse("letters:download", args=[letter.pk, "docx"])).status_code == 200
    assert client.post(reverse("letters:render", args=[letter.pk])).status_code == 403


def test_home_panel_lists_letters_to_sign_and_overdue_answers(rf, make_alert, drafter, head):
    from supervision.letters.wagtail_hooks import letters_panel

    waiting = services.act(services.create_from_alert(make_alert(), drafter), "submit", drafter)
    late = sent_letter(make_alert, drafter, head, days_ago=40)
    request = rf.get("/")
    request.user = head
    titles = [item.title for item in letters_panel(request).items]
    assert f"待签发：{waiting.title}" in titles
    request.user = drafter
    items = letters_panel(request).items
    assert [(item.title, item.overdue) for item in items] == [(late.title, True)]


def test_overdue_reminder_is_scheduled_and_runs(make_alert, drafter, head):
    from cms.celery import app
    from supervision.letters import tasks

    entry = app.conf.beat_schedule["letters-overdue-answers"]
    assert entry["task"] == "supervision.letters.tasks.remind_overdue_answers"
    assert app.tasks[entry["task"]].name == tasks.remind_overdue_answers.name
    sent_letter(make_alert, drafter, head, days_ago=40)
    assert tasks.remind_overdue_answers.delay().get() == 1
    assert tasks.remind_overdue_answers.delay().get() == 0


def test_sign_and_cancel_need_the_tick_box(client, make_alert, drafter, head, finance_liaison):
    """签发 and 作废 cannot be undone: a plain POST without the tick is refused with a Chinese
    message and changes nothing; with it the step is taken; others are refused either way."""
    letter = services.act(services.create_from_alert(make_alert(), drafter), "submit", drafter)
    act_url = reverse("letters:act", args=[letter.pk])

    client.force_login(head)
    page = client.get(reverse("letters:detail", args=[letter.pk])).content.decode()
    # the tick box is checked on the server (no browser tooltip, which may be in English)
    assert 'name="confirm" value="1"' in page and "确认签发" in page
    response = client.post(act_url, {"move": "approve"}, follow=True)
    assert (
        "请先勾选" in response.content.decode() and "本次未作任何改动" in response.content.decode()
    )
    letter.refresh_from_db()
    assert letter.status == LetterStatus.SUBMITTED and not letter.doc_number
    assert not letter.events.filter(action="签发").exists()

    # the drafter (not a signer) and a liaison are refused even with the tick
    client.force_login(drafter)
    assert client.post(act_url, {"move": "approve", "confirm": "1"}).status_code == 403
    client.force_login(finance_liaison)
    assert client.post(
        act_url, {"move": "cancel", "note": "不发了", "confirm": "1"}
    ).status_code in (403, 404)
    letter.refresh_from_db()
    assert letter.status == LetterStatus.SUBMITTED

    client.force_login(head)
    response = client.post(act_url, {"move": "approve", "confirm": "1"}, follow=True)
    letter.refresh_from_db()
    assert letter.status == LetterStatus.APPROVED and letter.doc_number
    assert f"已签发，发文字号 {letter.doc_number}" in response.content.decode()

    other = services.create_from_alert(make_alert(), drafter)
    cancel_url = reverse("letters:act", args=[other.pk])
    client.force_login(drafter)
    response = client.post(cancel_url, {"move": "cancel", "note": "重复起草"}, follow=True)
    assert "请先勾选“确认作废本函件" in response.content.decode()
    other.refresh_from_db()
    assert other.status == LetterStatus.DRAFT
    client.post(cancel_url, {"move": "cancel", "note": "重复起草", "confirm": "1"})
    other.refresh_from_db()
    assert other.status == LetterStatus.CANCELLED
