import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cms import roles
from cms.notifications.models import Message
from cms.usage.models import ExportRegistration, UsageAction, UsageRecord
from cms.workdays.services import add_workdays
from supervision import queries
from supervision.query_models import QueryRequest, QueryStatus

pytestmark = pytest.mark.django_db

RECEIVED = datetime.date(2026, 3, 2)  # a Monday with no holiday in the next two weeks


@pytest.fixture
def member_user(make_user):
    return make_user(roles.DEPUTY_MEMBER, username="member1", display_name="杨丽华")


def staff_request(staff_user, **extra):
    fields = {
        "requester_kind": "committee",
        "requester_name": "财政经济委员会",
        "subject": "2026年教育支出执行情况",
        "question": "请查询一季度教育支出执行进度。",
        "received_on": RECEIVED,
        **extra,
    }
    return queries.register(staff_user, **fields)


def test_due_date_counts_working_days(staff_user, settings):
    item = staff_request(staff_user)
    assert item.due_on == datetime.date(2026, 3, 16) == add_workdays(RECEIVED, 10).as_date()
    settings.QUERY_REQUEST_DUE_WORKDAYS = 5
    assert staff_request(staff_user).due_on == datetime.date(2026, 3, 9)
    # across the National Day holidays the calendar is consulted, not a plain count
    autumn = datetime.date(2026, 9, 30)
    assert queries.due_date(autumn) == add_workdays(autumn, 5).as_date()
    assert queries.due_date(autumn) > autumn + datetime.timedelta(days=7)


def test_transitions_leave_one_event_each(staff_user):
    item = staff_request(staff_user)
    item = queries.move(item, staff_user, QueryStatus.IN_PROGRESS)
    item = queries.answer(item, staff_user, "一季度教育支出执行进度为 23.5%。")
    item = queries.move(item, staff_user, QueryStatus.ARCHIVED)
    actions = list(item.events.values_list("action", "from_status", "to_status"))
    assert actions == [
        ("登记", "", "registered"),
        ("开始办理", "registered", "in_progress"),
        ("答复", "in_progress", "answered"),
        ("归档", "answered", "archived"),
    ]
    with pytest.raises(queries.QueryRequestError):
        queries.move(item, staff_user, QueryStatus.IN_PROGRESS)


def test_return_and_reject_need_a_reason_and_answer_needs_progress(staff_user):
    item = staff_request(staff_user)
    with pytest.raises(queries.QueryRequestError, match="理由"):
        queries.move(item, staff_user, QueryStatus.REJECTED)
    with pytest.raises(queries.QueryRequestError, match="开始办理"):
        queries.answer(item, staff_user, "答复")
    item = queries.move(item, staff_user, QueryStatus.RETURNED, "请说明查询的年度")
    assert item.reason == "请说明查询的年度"
    item = queries.move(item, staff_user, QueryStatus.REGISTERED)
    item = queries.move(item, staff_user, QueryStatus.REJECTED, "不属于预算联网监督范围")
    assert item.status == "rejected" and item.events.count() == 4
    with pytest.raises(queries.QueryRequestError):
        queries.move(item, staff_user, QueryStatus.IN_PROGRESS)


def test_answer_links_own_exports_and_checks_the_file(staff_user, deputy_user):
    item = queries.move(staff_request(staff_user), staff_user, QueryStatus.IN_PROGRESS)
    mine = ExportRegistration.objects.create(
        user=staff_user,
        username="staffer",
        description="预算执行表",
        filename="a.xlsx",
        sha256="0" * 64,
    )
    other = ExportRegistration.objects.create(
        user=deputy_user,
        username="deputy1",
        description="预算执行表",
        filename="b.xlsx",
        sha256="1" * 64,
    )
    with pytest.raises(queries.QueryRequestError):
        queries.answer(item, staff_user, "答复", exports=[other])
    fake = SimpleUploadedFile("答复.pdf", b"not a pdf at all")
    with pytest.raises(Exception, match="已拒绝"):
        queries.answer(item, staff_user, "答复", upload=fake)
    assert QueryRequest.objects.get(pk=item.pk).status == "in_progress"
    good = SimpleUploadedFile("答复.txt", "一季度教育支出执行进度为 23.5%。".encode())
    item = queries.answer(item, staff_user, "见附件。", upload=good, exports=[mine])
    assert list(item.exports.all()) == [mine]
    assert item.answer_file_name == "答复.txt" and len(item.answer_sha256) == 64


def test_deputies_file_their_own_and_see_only_those(client, staff_user, deputy_user, member_user):
    other = staff_request(staff_user)
    client.force_login(member_user)
    response = client.post(
        reverse("supervision:query_new"),
        {"subject": "城关镇道路项目资金", "question": "请查询项目资金拨付情况。"},
    )
    mine = QueryRequest.objects.get(requester=member_user)
    assert response.status_code == 302 and mine.requester_kind == "deputy"
    assert mine.requester_name == "杨丽华" and mine.received_on == datetime.date.today()
    page = client.get(reverse("supervision:queries"))
    assert "城关镇道路项目资金" in page.text and other.subject not in page.text
    assert client.get(reverse("supervision:query", args=[other.pk])).status_code == 404
    assert client.get(reverse("supervision:query", args=[mine.pk])).status_code == 200
    # deputies do not handle requests, not even their own
    assert client.get(reverse("supervision:query_answer", args=[mine.pk])).status_code == 403
    response = client.post(
        reverse("supervision:query_move", args=[mine.pk]), {"to_status": "in_progress"}
    )
    assert response.status_code == 403
    assert QueryRequest.objects.get(pk=mine.pk).status == "registered"
    client.force_login(deputy_user)
    assert "城关镇道路项目资金" not in client.get(reverse("supervision:queries")).text


@pytest.mark.parametrize("role", [roles.LIAISON, roles.ARCHIVIST])
def test_other_roles_are_refused(client, make_user, staff_user, role):
    item = staff_request(staff_user)
    client.force_login(make_user(role))
    for url in [
        reverse("supervision:queries"),
        reverse("supervision:query_new"),
        reverse("supervision:query", args=[item.pk]),
        reverse("supervision:query_answer", args=[item.pk]),
    ]:
        assert client.get(url).status_code == 403
    assert (
        client.post(reverse("supervision:query_new"), {"subject": "x", "question": "y"}).status_code
        == 403
    )
    with pytest.raises(PermissionDenied):
        queries.register(
            make_user(role),
            requester_kind="deputy",
            requester_name="x",
            subject="x",
            question="y",
            received_on=RECEIVED,
        )


def test_staff_register_handle_and_answer_through_the_pages(client, staff_user, member_user):
    client.force_login(staff_user)
    response = client.post(
        reverse("supervision:query_new"),
        {
            "requester_kind": "member",
            "requester_name": "李明",
            "subject": "政府债务还本付息",
            "question": "请查询2026年到期债券的偿还资金来源。",
            "received_on": "2026-03-02",
        },
    )
    item = QueryRequest.objects.get(subject="政府债务还本付息")
    assert response.status_code == 302 and item.due_on == datetime.date(2026, 3, 16)
    url = reverse("supervision:query_move", args=[item.pk])
    client.post(url, {"to_status": "rejected"})  # no reason: refused, nothing changes
    assert QueryRequest.objects.get(pk=item.pk).status == "registered"
    client.post(url, {"to_status": "in_progress"})
    upload = SimpleUploadedFile("答复.txt", "到期债券由再融资债券偿还。".encode())
    response = client.post(
        reverse("supervision:query_answer", args=[item.pk]),
        {"answer": "见附件。", "file": upload},
    )
    assert response.status_code == 302
    detail = client.get(reverse("supervision:query", args=[item.pk])).text
    assert "已答复" in detail and "答复.txt" in detail and "开始办理" in detail
    download = client.get(reverse("supervision:query_file", args=[item.pk]))
    assert b"".join(download.streaming_content).decode() == "到期债券由再融资债券偿还。"
    # a fake PDF is refused with the upload check's message
    item2 = queries.move(staff_request(staff_user), staff_user, QueryStatus.IN_PROGRESS)
    response = client.post(
        reverse("supervision:query_answer", args=[item2.pk]),
        {"answer": "x", "file": SimpleUploadedFile("a.pdf", b"plain text")},
    )
    assert response.status_code == 400 and "已拒绝" in response.text


def test_csrf_is_enforced(staff_user):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_user)
    response = client.post(reverse("supervision:query_new"), {"subject": "x"})
    assert response.status_code == 403


def test_deputy_is_told_when_answered(staff_user, member_user):
    item = queries.register(
        member_user,
        requester_kind="committee",
        requester_name="",
        subject="项目资金",
        question="请查询。",
        received_on=RECEIVED,
    )
    assert item.requester == member_user and item.requester_kind == "deputy"
    item = queries.move(item, staff_user, QueryStatus.IN_PROGRESS)
    queries.answer(item, staff_user, "已查询。")
    assert Message.objects.filter(recipient=member_user, subject__contains="已答复").exists()


def test_overdue_first_and_reminded_once_a_day(client, staff_user, admin_user_role):
    late = staff_request(staff_user, subject="逾期的申请")
    fresh = staff_request(staff_user, subject="新的申请", received_on=datetime.date.today())
    answered = queries.answer(
        queries.move(staff_request(staff_user, subject="已答复的申请"), staff_user, "in_progress"),
        staff_user,
        "已答复。",
    )
    assert [q.pk for q in queries.requests_for(staff_user)][0] == late.pk
    today = datetime.date(2026, 4, 1)
    assert queries.remind_overdue(today) == [late]
    assert answered.pk not in {q.pk for q in QueryRequest.objects.filter(overdue_notified_on=today)}
    assert fresh.pk not in {q.pk for q in QueryRequest.objects.filter(overdue_notified_on=today)}
    assert Message.objects.filter(recipient=staff_user, subject__contains="逾期的申请").count() == 1
    assert Message.objects.filter(
        recipient=admin_user_role, subject__contains="逾期的申请"
    ).exists()
    assert queries.remind_overdue(today) == []
    assert late.events.filter(action="逾期提醒").count() == 1


def test_opening_the_register_is_in_the_usage_log(client, staff_user):
    client.force_login(staff_user)
    assert client.get(reverse("supervision:queries") + "?status=registered").status_code == 200
    record = UsageRecord.objects.get(action=UsageAction.VIEW_RESTRICTED)
    assert record.username == "staffer" and record.path.endswith("?status=registered")


def test_an_answered_request_can_be_filed(staff_user, archivist_user):
    from archive import services as archive_services
    from archive.sources import get_source, unfiled_candidates

    item = queries.move(staff_request(staff_user), staff_user, QueryStatus.IN_PROGRESS)
    open_one = staff_request(staff_user, subject="尚未答复")
    keys = ["supervision.queryrequest"]
    assert unfiled_candidates(keys) == []
    upload = SimpleUploadedFile("答复.txt", "教育支出执行进度 23.5%。".encode())
    item = queries.answer(item, staff_user, "一季度教育支出执行进度为 23.5%。", upload=upload)
    [candidate] = unfiled_candidates(keys)
    assert candidate.obj.pk == item.pk and open_one.pk != item.pk
    material = get_source(keys[0]).describe(item)
    assert material.record_type == "query_request" and material.title.endswith(item.subject)
    assert material.files == [("答复.txt", "教育支出执行进度 23.5%。".encode())]
    filed = archive_services.register_item(keys[0], str(item.pk), archivist_user, enqueue=False)
    assert filed.retention == "D30" and filed.title == material.title
    assert unfiled_candidates(keys) == []


def test_forms_render_with_the_exports_on_offer(client, staff_user, member_user):
    item = queries.move(staff_request(staff_user), staff_user, QueryStatus.IN_PROGRESS)
    ExportRegistration.objects.create(
        user=staff_user,
        username="staffer",
        description="教育支出执行表",
        filename="edu.xlsx",
        sha256="0" * 64,
    )
    client.force_login(staff_user)
    page = client.get(reverse("supervision:query_answer", args=[item.pk])).text
    assert "教育支出执行表（edu.xlsx）" in page and "csrfmiddlewaretoken" in page
    assert "提出方" in client.get(reverse("supervision:query_new")).text
    client.force_login(member_user)
    page = client.get(reverse("supervision:query_new")).text
    assert "提出方" not in page and "10 个工作日" in page
