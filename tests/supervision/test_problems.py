"""Problems found by hand: recorded as alerts of the system rule 人工发现问题, then handled and
turned into letters like every alert."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from budget.models import Department
from cms.workdays import add_workdays
from supervision import alerts, problems
from supervision.choices import AlertGrade, AlertStatus, RuleKind
from supervision.letters.choices import LetterKind
from supervision.letters.services import create_from_alert
from supervision.models import Alert, AlertRule

pytestmark = pytest.mark.django_db

URL = "/supervision/problems/new/"


@pytest.fixture
def transport(db):
    return Department.objects.create(code="036", name="县交通运输局")


def form_data(**changes):
    data = {
        "title": "县交通运输局公路建设资金9月末执行率仅12%",
        "description": "联网查询发现公路建设项目资金支出缓慢。",
        "source": "查询申请第3号",
        "figures": "调整预算数（万元）：1,234.56\n累计执行数（万元）:148.15\n执行率\t12%",
        "grade": AlertGrade.IMPORTANT,
        "year": 2026,
        "month": 9,
        "budget": "general",
        "department": "",
        "code": "2140104",
        "owner": "",
    }
    data.update(changes)
    return data


def test_staff_record_a_problem_and_it_is_an_alert(client, staff_user, transport):
    client.force_login(staff_user)
    assert URL in client.get(reverse("supervision:alerts")).content.decode()
    assert client.get(URL).status_code == 200
    response = client.post(URL, form_data(department=transport.pk))
    alert = Alert.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("supervision:alert", args=[alert.pk])
    assert alert.rule.kind == RuleKind.MANUAL and not alert.rule.is_active
    assert alert.grade == AlertGrade.IMPORTANT and alert.status == AlertStatus.NEW
    assert alert.figures == {
        "调整预算数（万元）": "1,234.56",
        "累计执行数（万元）": "148.15",
        "执行率": "12%",
    }
    assert list(alert.figures) == ["调整预算数（万元）", "累计执行数（万元）", "执行率"]
    assert alert.description == "来源：查询申请第3号\n联网查询发现公路建设项目资金支出缓慢。"
    assert (alert.year, alert.month, alert.code, alert.department) == (
        2026,
        9,
        "2140104",
        transport,
    )
    assert alert.owner == staff_user
    assert alert.due_date == add_workdays(timezone.localdate(), 10)
    [event] = alert.events.all()
    assert event.action == "人工登记问题" and event.to_status == AlertStatus.NEW
    assert event.actor == staff_user and "公路建设" in event.note
    page = client.get(reverse("supervision:alert", args=[alert.pk])).content.decode()
    assert "问题描述" in page and "查询申请第3号" in page and "1,234.56" in page
    listing = client.get("/supervision/problems/").content.decode()
    assert alert.title in listing


def test_each_problem_is_its_own_alert_under_one_system_rule(staff_user):
    first = problems.record_problem(
        staff_user, title="甲", grade=AlertGrade.GENERAL, figures={"金额（万元）": "1"}
    )
    second = problems.record_problem(
        staff_user, title="乙", grade=AlertGrade.MAJOR, figures={"金额（万元）": "2"}
    )
    assert first.rule == second.rule and first.key != second.key
    assert AlertRule.objects.filter(kind=RuleKind.MANUAL).count() == 1
    assert alerts.evaluate_all() == []  # the system rule is never evaluated
    assert Alert.objects.count() == 2


@pytest.mark.parametrize("role_user", ["liaison_user", "deputy_user", "archivist_user"])
def test_only_alert_handlers_may_record(client, request, role_user):
    user = request.getfixturevalue(role_user)
    client.force_login(user)
    assert client.get(URL).status_code == 403
    if user.has_perm("cms.query_data"):
        assert URL not in client.get(reverse("supervision:alerts")).content.decode()
    assert client.post(URL, form_data()).status_code == 403
    assert client.get("/supervision/problems/").status_code == 403
    with pytest.raises(PermissionDenied):
        problems.record_problem(
            user, title="x", grade=AlertGrade.GENERAL, figures={"金额（万元）": "1"}
        )
    assert not Alert.objects.exists() and not AlertRule.objects.exists()


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"title": ""}, "请填写问题标题"),
        ({"figures": ""}, "请列出所引用的数据"),
        ({"figures": "执行率：很低"}, "第1行“执行率”的数值“很低”不是数字"),
        ({"figures": "金额：1\n没有冒号的一行"}, "第2行“没有冒号的一行”应写作“项目：数值”"),
        ({"figures": "金额：1\n金额：2"}, "第2行的项目“金额”与前面重复"),
        ({"figures": "金额：1.2.3"}, "不是数字"),
        ({"grade": "urgent"}, "请选择等级：一般、重要或重大"),
        ({"month": "13"}, "月份应在 0（全年）至 12 之间"),
        ({"code": "21A"}, "科目编码应为 3 至 12 位数字"),
    ],
)
def test_the_form_refuses_bad_input_in_chinese_and_keeps_it(client, staff_user, changes, message):
    client.force_login(staff_user)
    data = form_data(**changes)
    response = client.post(URL, data)
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    # what was typed is still there
    if data["description"]:
        assert data["description"] in page
    assert not Alert.objects.exists()


def test_parse_figures_accepts_the_usual_ways_of_writing_numbers():
    assert problems.parse_figures(
        "调整预算数（万元）：12,345.6\n\n进度差: -35.5%\n同比\t+3\n差额（万元）：−20"
    ) == {"调整预算数（万元）": "12,345.6", "进度差": "-35.5%", "同比": "+3", "差额（万元）": "-20"}
    with pytest.raises(problems.ProblemError) as error:
        problems.parse_figures("一：1万\n二：12,34")
    assert len(error.value.messages) == 2


def test_the_owner_must_be_able_to_handle_alerts(staff_user, deputy_user):
    with pytest.raises(problems.ProblemError, match="没有处理预警的权限"):
        problems.record_problem(
            staff_user,
            title="x",
            grade=AlertGrade.GENERAL,
            figures={"金额（万元）": "1"},
            owner=deputy_user,
        )
    assert not Alert.objects.exists()


def test_a_problem_follows_the_alert_flow_and_its_letter_says_what_was_found(staff_user, transport):
    alert = problems.record_problem(
        staff_user,
        title="县交通运输局公路建设资金执行率仅12%",
        description="部分项目尚未开工。",
        grade=AlertGrade.IMPORTANT,
        figures={"执行率": "12%"},
        year=2026,
        month=9,
        department=transport,
    )
    with pytest.raises(alerts.TransitionError, match="函询"):
        alerts.transition(alert, AlertStatus.BULLETIN, staff_user, "")
    letter = create_from_alert(alert, staff_user)
    assert letter.kind == LetterKind.DEPARTMENT and letter.recipients == "县交通运输局"
    assert letter.title == "关于县交通运输局2026年预算管理中有关问题的函"
    assert "查询分析中发现：县交通运输局公路建设资金执行率仅12%" in letter.body
    assert "部分项目尚未开工。" in letter.body and "预警规则" not in letter.body
    assert letter.figures == {"执行率": "12%"}
    alert = alerts.transition(alert, AlertStatus.LETTER, staff_user, "")
    assert alert.due_date == add_workdays(timezone.localdate(), 10)
    major = problems.record_problem(
        staff_user, title="转移支付资金滞留", grade=AlertGrade.MAJOR, figures={"金额": "500"}
    )
    assert create_from_alert(major, staff_user).kind == LetterKind.GOVERNMENT


def test_the_archived_record_of_a_problem_holds_its_description(staff_user):
    from archive.source_adapters.alerts import describe

    alert = problems.record_problem(
        staff_user,
        title="县交通运输局公路建设资金执行缓慢",
        grade=AlertGrade.GENERAL,
        figures={"执行率": "12%"},
        description="联网查询发现：项目资金\n9月末支出仅148.15万元。",
    )
    material = describe(alert)
    texts = [getattr(block, "text", "") for block in material.blocks]
    assert "问题描述" in texts
    assert "联网查询发现：项目资金" in texts and "9月末支出仅148.15万元。" in texts
    assert material.metadata["问题描述"] == alert.description


def test_figures_keep_their_order_and_rows_written_before_still_read(staff_user):
    """PostgreSQL's jsonb sorts an object's keys; figures are stored as pairs so the order the
    author gave survives on every database, and rows stored as plain objects still read."""
    import json

    from django.db import connection

    order = {"调整预算数（万元）": "1,234.56", "执行率": "12%", "累计执行数（万元）": "148.15"}
    alert = problems.record_problem(staff_user, title="甲", grade=AlertGrade.GENERAL, figures=order)
    assert list(Alert.objects.get(pk=alert.pk).figures) == list(order)
    with connection.cursor() as cursor:  # a row as the code before stored it
        cursor.execute(
            f"UPDATE {Alert._meta.db_table} SET figures = %s WHERE id = %s",
            [json.dumps({"金额（万元）": "1"}), alert.pk],
        )
    assert Alert.objects.get(pk=alert.pk).figures == {"金额（万元）": "1"}


# --- the query request a problem was found from (来源查询) -----------------------------------


def query_request(user, **extra):
    from supervision import queries

    fields = {
        "requester_kind": "committee",
        "requester_name": "财政经济委员会",
        "subject": "交通运输局项目资金执行情况",
        "question": "请查询县交通运输局公路建设项目资金的执行进度。",
        "received_on": timezone.localdate(),
        **extra,
    }
    return queries.register(user, **fields)


@pytest.fixture
def member_user(make_user):
    from cms import roles

    return make_user(roles.DEPUTY_MEMBER, username="member1", display_name="杨丽华")


@pytest.fixture
def handling_member(make_user):
    """A deputy who may handle alerts but sees only his own query requests."""
    from django.contrib.auth.models import Permission

    from cms import roles

    user = make_user(roles.DEPUTY_MEMBER, username="member2")
    user.user_permissions.add(
        Permission.objects.get(codename="handle_alerts", content_type__app_label="cms")
    )
    return user


def test_a_problem_names_the_query_request_it_was_found_from_both_ways(client, staff_user):
    item = query_request(staff_user)
    client.force_login(staff_user)
    query_page = client.get(reverse("supervision:query", args=[item.pk])).content.decode()
    assert "尚未登记从本查询申请发现的问题" in query_page
    assert f"{URL}?query={item.pk}" in query_page
    form_page = client.get(f"{URL}?query={item.pk}").content.decode()
    assert f'<option value="{item.pk}" selected>{item.pk}：{item.subject}' in form_page

    response = client.post(URL, form_data(source="", source_query=item.pk))
    assert response.status_code == 302
    alert = Alert.objects.get()
    assert alert.source_query == item
    assert alert.description == "联网查询发现公路建设项目资金支出缓慢。"
    [first] = alert.events.all()
    assert first.action == "人工登记问题" and first.note.endswith(f"来源查询：查询申请 {item.pk}")
    event = item.events.get(action="发现问题")
    assert event.actor == staff_user and (event.from_status, event.to_status) == ("", "")
    assert event.note == f"登记为重要预警 {alert.pk}"
    item.refresh_from_db()
    assert item.status == "registered"  # a problem found changes nothing else

    alert_page = client.get(reverse("supervision:alert", args=[alert.pk])).content.decode()
    assert "来源查询" in alert_page
    assert f'href="{reverse("supervision:query", args=[item.pk])}"' in alert_page
    assert item.subject in alert_page
    query_page = client.get(reverse("supervision:query", args=[item.pk])).content.decode()
    assert "查询分析中发现的问题" in query_page and alert.title in query_page
    assert f'href="{reverse("supervision:alert", args=[alert.pk])}"' in query_page
    assert "发现问题" in query_page  # the event in the request's timeline


def test_the_request_page_lists_its_problems_only_to_who_may_see_the_alerts(
    client, staff_user, member_user, deputy_user
):
    from supervision import queries

    own = queries.register(
        member_user,
        requester_kind="deputy",
        requester_name="",
        subject="教育支出",
        question="请查询教育支出执行进度。",
        received_on=timezone.localdate(),
    )
    alert = problems.record_problem(
        staff_user,
        title="教育专项资金滞留财政未下达",
        grade=AlertGrade.MAJOR,
        figures={"金额（万元）": "500"},
        source_query=own,
    )
    assert list(problems.problems_from(own, staff_user)) == [alert]
    # the member who asked may see the request but not alerts (no cms.query_data)
    assert not problems.problems_from(own, member_user).exists()
    client.force_login(member_user)
    page = client.get(reverse("supervision:query", args=[own.pk])).content.decode()
    assert own.subject in page
    assert alert.title not in page and "查询分析中发现的问题" not in page
    assert "登记发现的问题" not in page
    # a deputy with cms.query_data sees every alert, and so this list on his own request
    mine = queries.register(
        deputy_user,
        requester_kind="deputy",
        requester_name="",
        subject="交通支出",
        question="请查询交通支出。",
        received_on=timezone.localdate(),
    )
    second = problems.record_problem(
        staff_user,
        title="交通专项",
        grade=AlertGrade.GENERAL,
        figures={"金额": "1"},
        source_query=mine,
    )
    client.force_login(deputy_user)
    page = client.get(reverse("supervision:query", args=[mine.pk])).content.decode()
    assert second.title in page and "登记发现的问题" not in page


def test_a_request_the_recorder_may_not_see_is_refused(client, staff_user, handling_member):
    from supervision import queries
    from supervision.query_models import QueryRequestEvent

    others = query_request(staff_user)
    own = queries.register(
        handling_member,
        requester_kind="deputy",
        requester_name="",
        subject="本人的查询",
        question="请查询。",
        received_on=timezone.localdate(),
    )
    client.force_login(handling_member)
    form_page = client.get(URL).content.decode()
    assert f'<option value="{own.pk}">{own.pk}：{own.subject}' in form_page
    assert f"{others.pk}：{others.subject}" not in form_page and others.subject not in form_page
    response = client.post(URL, form_data(source_query=others.pk))
    assert response.status_code == 400
    assert "所选查询申请不存在或您无权查看，不能作为问题的来源" in response.content.decode()
    with pytest.raises(problems.ProblemError, match="您无权查看"):
        problems.record_problem(
            handling_member,
            title="x",
            grade=AlertGrade.GENERAL,
            figures={"金额（万元）": "1"},
            source_query=others,
        )
    assert not Alert.objects.exists()
    assert not QueryRequestEvent.objects.filter(action="发现问题").exists()
    # his own request he may name
    assert client.post(URL, form_data(source_query=own.pk)).status_code == 302
    assert Alert.objects.get().source_query == own


def test_the_alert_page_names_the_request_only_to_who_may_see_it(client, staff_user, deputy_user):
    item = query_request(staff_user, subject="某委员会的专项查询")
    alert = problems.record_problem(
        staff_user,
        title="发现的问题",
        grade=AlertGrade.GENERAL,
        figures={"金额": "1"},
        source_query=item,
    )
    client.force_login(deputy_user)  # sees every alert (cms.query_data), only his own requests
    page = client.get(reverse("supervision:alert", args=[alert.pk])).content.decode()
    assert alert.title in page
    assert "<dt>来源查询</dt>" not in page and item.subject not in page
    assert reverse("supervision:query", args=[item.pk]) not in page
    assert problems.source_query_for(alert, deputy_user) is None
    assert problems.source_query_for(alert, staff_user) == item


@pytest.mark.parametrize("role_user", ["deputy_user", "liaison_user"])
def test_low_roles_cannot_record_a_problem_from_a_request(client, request, staff_user, role_user):
    from supervision import queries
    from supervision.query_models import QueryRequestEvent

    user = request.getfixturevalue(role_user)
    item = query_request(staff_user)
    if role_user == "deputy_user":  # his own request, which he may see
        item = queries.register(
            user,
            requester_kind="deputy",
            requester_name="",
            subject="本人的查询",
            question="请查询。",
            received_on=timezone.localdate(),
        )
    client.force_login(user)
    assert client.get(f"{URL}?query={item.pk}").status_code == 403
    assert client.post(URL, form_data(source_query=item.pk)).status_code == 403
    with pytest.raises(PermissionDenied):
        problems.record_problem(
            user, title="x", grade=AlertGrade.GENERAL, figures={"金额": "1"}, source_query=item
        )
    assert not Alert.objects.exists()
    assert not QueryRequestEvent.objects.filter(action="发现问题").exists()
