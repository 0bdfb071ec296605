"""Every deputy at the table (issue 17): the 人大代表 role and its accounts, online drafts,
联名, submission and the office's review, conversations, 面商 and co-signers' evaluations."""

import datetime
import io
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from cms import roles
from suggestions import accounts, services, statistics
from suggestions.models import (
    CoSignInvitation,
    Deputy,
    Evaluation,
    Suggestion,
    TimelineEvent,
)

from .conftest import TODAY

TEXT = "城关镇部分片区供水管网老化，夏季经常停水，建议县水务部门列入年度改造计划并安排资金。"


@pytest.fixture
def members(make_user, term, deputies):
    """Three deputies of the term with 人大代表 accounts (no query seat)."""
    made = {}
    for key, name in (("lead", "张建国"), ("c1", "赵红梅"), ("c2", "孙立新")):
        user = make_user(roles.DEPUTY_MEMBER, username=f"member_{key}")
        deputy = Deputy.objects.create(
            name=name, delegation="羊街镇代表团", user=user, phone="13700000000"
        )
        deputy.terms.add(term)
        made[key] = deputy
        made[f"user_{key}"] = user
    return made


def _draft(members, session, category, title="关于改造城关镇老旧供水管网的建议"):
    with services.as_of(TODAY):
        return services.create_draft(
            members["user_lead"],
            session=session,
            title=title,
            content=TEXT,
            category=category,
        )


# --- the role -------------------------------------------------------------------------


def test_role_reads_library_but_never_queries_or_exports_budget_data(client, members):
    user = members["user_lead"]
    assert roles.DEPUTY_MEMBER in roles.ROLES
    assert user.has_perm("cms.read_library")
    assert not user.has_perm("cms.query_data")
    assert not user.has_perm("cms.export_data")
    assert roles.seat_limit(roles.DEPUTY_MEMBER) is None  # not one of the six query seats
    assert roles.seat_limit(roles.DEPUTY) == 6
    from policies.models import READ_PERMISSION

    assert user.has_perm(READ_PERMISSION)
    client.force_login(user)
    for name in ("budget:index", "budget:execution", "budget:export", "suggestions:export"):
        assert client.get(reverse(name)).status_code == 403, name
    assert client.get(reverse("suggestions:list")).status_code == 403


def test_second_factor_follows_the_configured_roles(settings, members):
    from cms.credentials.services import role_requires_second_factor

    settings.OTP_REQUIRED_ROLES = []
    assert not role_requires_second_factor(members["user_lead"])
    settings.OTP_REQUIRED_ROLES = [roles.DEPUTY_MEMBER]
    assert role_requires_second_factor(members["user_lead"])


def test_bulk_accounts_from_the_register_beyond_the_query_seats(admin_user_role, staff, term):
    for i in range(12):  # more than the six 代表/专家 seats
        Deputy.objects.create(name=f"代表甲{i}", delegation="城关镇代表团")
    Deputy.objects.create(name="离任代表", is_active=False)
    with pytest.raises(PermissionDenied):
        accounts.create_accounts(staff)
    made = accounts.create_accounts(admin_user_role)
    assert len(made) == 12
    group = Group.objects.get(name=roles.DEPUTY_MEMBER)
    for account in made:
        account.deputy.refresh_from_db()
        assert account.deputy.user.groups.filter(pk=group.pk).exists()
        assert account.deputy.must_change_password
        assert account.deputy.user.check_password(account.password)
    assert not Deputy.objects.get(name="离任代表").user_id
    assert accounts.create_accounts(admin_user_role) == []  # nobody twice
    sheet = load_workbook(io.BytesIO(accounts.accounts_sheet(made).content)).worksheets[0]
    values = [c.value for c in next(sheet.iter_rows(min_row=2, max_row=2))]
    assert values[0] == made[0].deputy.name and values[3] == made[0].password


def _xlsx(rows) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_bulk_accounts_from_an_xlsx_command_and_page(client, admin_user_role, staff, tmp_path):
    Deputy.objects.create(name="刘志强", delegation="城关镇代表团")
    Deputy.objects.create(name="刘志强", delegation="老城乡代表团")
    Deputy.objects.create(name="陈丽", delegation="老城乡代表团")
    listing = tmp_path / "名单.xlsx"
    listing.write_bytes(_xlsx([["姓名", "代表团"], ["刘志强", "城关镇代表团"], ["陈丽", ""]]))
    out = tmp_path / "初始密码.xlsx"
    call_command("deputy_accounts", xlsx=str(listing), out=str(out), stdout=io.StringIO())
    assert load_workbook(out).worksheets[0].max_row == 3
    assert Deputy.objects.filter(user__isnull=False).count() == 2
    # an ambiguous name without 代表团, and a name not in the register: nothing is created
    bad = _xlsx([["姓名"], ["刘志强"], ["无此人"]])
    client.force_login(staff)
    assert client.get(reverse("suggestions:open_accounts")).status_code == 403
    client.force_login(admin_user_role)
    page = client.post(
        reverse("suggestions:open_accounts"),
        {"file": SimpleUploadedFile("名单.xlsx", bad)},
    ).content.decode()
    assert "重名" in page and "名册中没有在任代表“无此人”" in page
    broken = SimpleUploadedFile("名单.xlsx", b"not a workbook")
    page = client.post(reverse("suggestions:open_accounts"), {"file": broken}).content.decode()
    # the one upload check refuses it by content, before anything is read or stored
    assert "内容不是Excel（XLSX）表格" in page and "已拒绝，未保存" in page
    assert Deputy.objects.filter(user__isnull=False).count() == 2
    response = client.post(reverse("suggestions:open_accounts"), {})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert Deputy.objects.filter(user__isnull=True).count() == 0


def test_first_login_requires_a_new_password(client, admin_user_role):
    deputy = Deputy.objects.create(name="周强", delegation="城关镇代表团")
    account = accounts.create_accounts(admin_user_role, [deputy])[0]
    # the one guarded login view (cms.credentials); the signal handler sets the flag
    signed_in = client.post(
        reverse("login"), {"username": account.username, "password": account.password}
    )
    assert signed_in.status_code == 302
    response = client.get(reverse("suggestions:mine"))
    assert response.status_code == 302
    assert response["Location"] == reverse("suggestions:password_change")
    page = client.post(
        reverse("suggestions:password_change"),
        {
            "old_password": account.password,
            "new_password1": account.password,
            "new_password2": account.password,
        },
    ).content.decode()
    assert "不能与初始密码相同" in page
    new = "Yuanmou-2026-xyz"
    client.post(
        reverse("suggestions:password_change"),
        {"old_password": account.password, "new_password1": new, "new_password2": new},
    )
    deputy.refresh_from_db()
    assert not deputy.must_change_password
    assert client.get(reverse("suggestions:mine")).status_code == 200


# --- drafts, 联名, submission ---------------------------------------------------------------


def test_draft_is_private_to_its_lead_and_the_invited(
    client, members, session, category, staff, deputies
):
    s = _draft(members, session, category)
    assert s.number is None and s.status == "draft"
    assert not services.visible_to(staff).filter(pk=s.pk).exists()
    assert not services.visible_to(members["user_c1"]).filter(pk=s.pk).exists()
    client.force_login(members["user_c2"])
    assert client.get(reverse("suggestions:mine_detail", args=[s.pk])).status_code == 404
    with services.as_of(TODAY):
        services.invite(s, members["user_lead"], [members["c1"]])
    assert services.visible_to(members["user_c1"]).filter(pk=s.pk).exists()
    assert not services.visible_to(members["user_c2"]).filter(pk=s.pk).exists()
    # public drafts stay private
    Suggestion.objects.filter(pk=s.pk).update(is_public=True)
    assert not services.visible_to(members["user_c2"]).filter(pk=s.pk).exists()
    assert not services.visible_to(deputies["user_b"]).filter(pk=s.pk).exists()


def test_co_signer_cannot_edit_and_nobody_submits_for_another(
    client, members, session, category, make_user
):
    s = _draft(members, session, category)
    with services.as_of(TODAY):
        services.invite(s, members["user_lead"], [members["c1"]])
        services.answer_invitation(s, members["user_c1"], sign=True)
    with pytest.raises(PermissionDenied):
        services.edit_draft(s, members["user_c1"], title="改过的标题", content=TEXT)
    with pytest.raises(PermissionDenied):
        services.deputy_submit(s, members["user_c1"])
    with pytest.raises(PermissionDenied):
        services.invite(s, members["user_c1"], [members["c2"]])
    client.force_login(members["user_c1"])
    url = reverse("suggestions:draft_edit", args=[s.pk])
    assert client.post(url, {"title": "改过的标题", "content": TEXT}).status_code == 403
    client.post(reverse("suggestions:step", args=[s.pk, "deputy_submit"]))
    s.refresh_from_db()
    assert s.status == "draft" and s.title.startswith("关于改造")
    # a deputy with no account of the register cannot write at all
    nobody = make_user(roles.DEPUTY_MEMBER, username="nobody")
    with pytest.raises(PermissionDenied):
        services.create_draft(nobody, session=session, title="x", content=TEXT)
    client.force_login(nobody)
    assert client.get(reverse("suggestions:draft_new")).status_code == 403


def test_cosigning_before_the_deadline_and_submission_goes_forward_with_signers(
    members, session, category, staff
):
    session.cosign_deadline = datetime.date(2026, 3, 5)
    session.save()
    s = _draft(members, session, category)
    with services.as_of(TODAY):
        services.invite(s, members["user_lead"], [members["c1"], members["c2"]])
        services.answer_invitation(s, members["user_c1"], sign=True)
    with services.as_of(datetime.date(2026, 3, 6)):
        with pytest.raises(services.TransitionError, match="联名截止日期"):
            services.answer_invitation(s, members["user_c2"], sign=True)
    with services.as_of(datetime.date(2026, 3, 5)):
        services.answer_invitation(s, members["user_c2"], sign=False)
        with pytest.raises(PermissionDenied):  # an answer is given once
            services.answer_invitation(s, members["user_c2"], sign=True)
        services.deputy_submit(s, members["user_lead"])
    s.refresh_from_db()
    assert s.status == "submitted" and s.number is None
    assert list(s.co_signers.all()) == [members["c1"]]
    statuses = dict(CoSignInvitation.objects.values_list("deputy__name", "status"))
    assert statuses == {"赵红梅": "signed", "孙立新": "declined"}
    assert services.visible_to(staff).filter(pk=s.pk).exists()


def test_register_takes_the_next_number_without_gaps(members, session, category, staff):
    first = _draft(members, session, category, "第一件")
    second = _draft(members, session, category, "第二件")
    with services.as_of(TODAY):
        for s in (first, second):
            services.deputy_submit(s, members["user_lead"])
        paper = services.submit(
            staff,
            term=session.term,
            session=session,
            title="纸质建议",
            lead_deputy=members["c1"],
            category=category,
        )
        services.register(second, staff)
        services.register(first, staff)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (paper.number, second.number, first.number) == (1, 2, 3)
    assert "编号 18-5-002" in second.events.get(action="register").note


def test_returned_suggestion_keeps_its_history_and_letters_leave_the_statistics(
    members, session, category, staff
):
    s = _draft(members, session, category)
    with services.as_of(TODAY):
        services.deputy_submit(s, members["user_lead"])
        with pytest.raises(services.TransitionError, match="理由"):
            services.return_for_revision(s, staff, "")
        with pytest.raises(PermissionDenied):
            services.return_for_revision(s, members["user_lead"], "自己退回")
        services.return_for_revision(s, staff, "请补充管网长度和投资估算")
        services.edit_draft(
            s, members["user_lead"], title=s.title, content=TEXT + "约12公里。", category=category
        )
        services.deputy_submit(s, members["user_lead"])
        services.turn_into_letter(s, staff, "属个人诉求，转来信办理")
    actions = list(s.events.order_by("at", "pk").values_list("action", flat=True))
    assert actions == [
        "draft",
        "deputy_submit",
        "return_for_revision",
        "edit_draft",
        "deputy_submit",
        "to_letter",
    ]
    assert TimelineEvent.objects.filter(suggestion=s, note="请补充管网长度和投资估算").exists()
    s.refresh_from_db()
    assert s.status == "letter" and s.number is None
    scope = statistics.in_scope(Suggestion.objects.all(), term=session.term)
    assert not scope.filter(pk=s.pk).exists()


def test_deputies_are_notified_at_every_step(
    members, session, category, staff, django_capture_on_commit_callbacks
):
    from cms.notifications.models import Message as Notification

    s = _draft(members, session, category)
    with (
        services.as_of(TODAY, quiet=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.invite(s, members["user_lead"], [members["c1"]])
        services.answer_invitation(s, members["user_c1"], sign=True)
        services.deputy_submit(s, members["user_lead"])
        services.return_for_revision(s, staff, "请补充")
        services.deputy_submit(s, members["user_lead"])
        services.register(s, staff)
    lead = Notification.objects.filter(recipient=members["user_lead"])
    subjects = " ".join(lead.values_list("subject", flat=True))
    for word in ("同意联名", "已提交", "退回修改", "已登记"):
        assert word in subjects, word
    assert Notification.objects.filter(
        recipient=members["user_c1"], subject__contains="邀请"
    ).exists()
    assert Notification.objects.filter(recipient=staff, subject__contains="待审查").exists()


def test_deputy_never_sees_another_deputys_personal_details(
    client, members, session, category, staff
):
    s = _draft(members, session, category)
    with services.as_of(TODAY):
        services.invite(s, members["user_lead"], [members["c1"]])
    client.force_login(members["user_c1"])
    page = client.get(reverse("suggestions:mine_detail", args=[s.pk])).content.decode()
    assert "张建国" in page and "13700000000" not in page


# --- conversations, 面商, evaluations ------------------------------------------------------


@pytest.fixture
def online_assigned(members, session, category, staff, units):
    s = _draft(members, session, category)
    with services.as_of(TODAY):
        services.invite(s, members["user_lead"], [members["c1"]])
        services.answer_invitation(s, members["user_c1"], sign=True)
        services.deputy_submit(s, members["user_lead"])
        services.register(s, staff)
        services.assign(s, staff, lead_unit=units["finance"], co_units=[units["transport"]])
    s.refresh_from_db()
    return s


def test_thread_between_deputy_liaison_and_staff(
    client, online_assigned, members, finance_liaison, make_user, units, staff
):
    s = online_assigned
    water_liaison = make_user(roles.LIAISON, username="water_liaison")
    units["water"].liaisons.add(water_liaison)
    with services.as_of(TODAY):
        services.post_message(s, members["user_lead"], "请问何时可以现场查看？")
        services.post_message(s, finance_liaison, "下周二上午到现场。")
        with pytest.raises(PermissionDenied):
            services.post_message(s, water_liaison, "不相干的单位")
        with pytest.raises(services.TransitionError):
            services.post_message(s, staff, "   ")
    assert list(s.messages.values_list("capacity", flat=True)) == ["领衔代表", "主办单位·县财政局"]
    client.force_login(water_liaison)
    assert client.get(reverse("suggestions:department_detail", args=[s.pk])).status_code == 404
    client.force_login(finance_liaison)
    page = client.get(reverse("suggestions:department_detail", args=[s.pk])).content.decode()
    assert "请问何时可以现场查看" in page
    assert s.events.filter(action="message").count() == 2


def test_consultation_before_answer_and_every_signer_evaluates(
    online_assigned, members, finance_liaison, transport_liaison, staff, answer_a
):
    s = online_assigned
    with services.as_of(datetime.date(2026, 3, 10)):
        with pytest.raises(PermissionDenied):
            services.record_consultation(
                s, transport_liaison, held_on=TODAY, form="phone", participants="x", summary="y"
            )
        with pytest.raises(services.TransitionError, match="参加人员"):
            services.record_consultation(
                s, finance_liaison, held_on=TODAY, form="meeting", participants="", summary="y"
            )
        services.record_consultation(
            s,
            finance_liaison,
            held_on=datetime.date(2026, 3, 9),
            form="meeting",
            participants="张建国代表、财政局李科长",
            summary="现场查看管网，说明改造计划。",
        )
        services.answer(
            s, finance_liaison, answer_class=answer_a, signed_by="李局长", summary="已列入"
        )
    assert services.consulted_before_answer(s)
    with services.as_of(datetime.date(2026, 3, 12)):
        with pytest.raises(PermissionDenied):  # a co-signer does not decide the step
            services.evaluate(s, members["user_c1"], result="satisfied")
        services.cosigner_evaluate(s, members["user_c1"], result="basically")
        with pytest.raises(services.TransitionError, match="已评价"):
            services.cosigner_evaluate(s, members["user_c1"], result="satisfied")
        with pytest.raises(PermissionDenied):
            services.cosigner_evaluate(s, members["user_lead"], result="satisfied")
        services.evaluate(s, members["user_lead"], result="satisfied")
    s.refresh_from_db()
    assert s.status == "evaluated"
    rows = Evaluation.objects.filter(suggestion=s).order_by("is_lead")
    assert [(e.deputy.name, e.result, e.is_lead) for e in rows] == [
        ("赵红梅", "basically", False),
        ("张建国", "satisfied", True),
    ]
    m = statistics.measures(Suggestion.objects.filter(pk=s.pk))
    assert (m.evaluated, m.satisfied) == (1, 1)
    assert (m.cosigner_evaluated, m.cosigner_satisfied) == (1, 1)


# --- 办理工作考评 ----------------------------------------------------------------------------


def _finance_score(term):
    scope = statistics.in_scope(Suggestion.objects.all(), term=term)
    scores = statistics.compute(scope, TODAY).scores
    return next(r for r in scores if r.unit.name == "县财政局"), scores


def test_unit_score_components_weights_and_ranking(
    settings,
    online_assigned,
    members,
    finance_liaison,
    staff,
    answer_a,
    term,
    units,
    make_suggestion,
):
    s = online_assigned
    other = make_suggestion(title="关于修缮县道的建议")
    with services.as_of(TODAY):
        services.register(other, staff)
        services.assign(other, staff, lead_unit=units["transport"])
    with services.as_of(datetime.date(2026, 3, 10)):
        services.answer(
            s, finance_liaison, answer_class=answer_a, signed_by="李局长", summary="已列入"
        )
        services.answer(other, staff, answer_class=answer_a, signed_by="王局长", summary="已修")
    before, _ = _finance_score(term)
    components = {label: value for label, value, _ in before.components}
    assert components["办复率"] == 100 and components["面商率"] == 0
    assert components["满意率"] is None and components["重点督办满意办结率"] is None
    # evaluated satisfied: the satisfaction component applies and the score rises
    with services.as_of(datetime.date(2026, 3, 12)):
        services.evaluate(s, members["user_lead"], result="satisfied")
        services.evaluate(other, staff, result="dissatisfied", comment="路面仍未修好")
    after, scores = _finance_score(term)
    assert after.score > before.score
    # answer 25 + on time 20 + satisfied 30 of 90 applicable (面商 0) → 83.3
    assert after.score == Decimal("83.3")
    assert [r.unit.name for r in scores] == ["县财政局", "县交通运输局"]
    assert [r.rank for r in scores] == [1, 2]
    settings.SUGGESTIONS_UNIT_SCORE_WEIGHTS = {"answer_rate": 1}
    assert _finance_score(term)[0].score == Decimal("100.0")
    settings.SUGGESTIONS_UNIT_SCORE_WEIGHTS = {"answer_rate": 1, "没有这项": 2}
    with pytest.raises(ValueError, match="未知指标"):
        statistics.score_weights()


def test_scores_on_the_statistics_page_and_xlsx_export(
    client, staff, members, online_assigned, term
):
    client.force_login(staff)
    page = client.get(reverse("suggestion_insights:stats"), {"term": term.pk}).content.decode()
    assert "承办单位办理工作考评" in page and "面商率" in page
    url = reverse("suggestion_insights:stats_export")
    response = client.get(url, {"term": term.pk, "table": "scores"})
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows[0][:5] == ("排名", "单位编码", "主办单位", "交办件数", "考评得分")
    assert rows[1][2] == "县财政局"
    # the deputies' own role has no statistics, no export
    client.force_login(members["user_lead"])
    assert client.get(url, {"term": term.pk, "table": "scores"}).status_code == 403


def test_first_password_form_counts_wrong_old_passwords_like_logins(client, admin_user_role):
    """The old password on the first-login form is a password check: guessing it is throttled."""
    deputy = Deputy.objects.create(name="钱敏", delegation="城关镇代表团")
    account = accounts.create_accounts(admin_user_role, [deputy])[0]
    deputy.refresh_from_db()
    client.force_login(deputy.user)
    new = "Yuanmou-2026-xyz"
    for guess in range(5):
        page = client.post(
            reverse("suggestions:password_change"),
            {"old_password": f"wrong-{guess}", "new_password1": new, "new_password2": new},
        ).content.decode()
        assert "登录失败次数过多" not in page
    page = client.post(
        reverse("suggestions:password_change"),
        {"old_password": account.password, "new_password1": new, "new_password2": new},
    ).content.decode()
    assert "登录失败次数过多" in page
    deputy.user.refresh_from_db()
    assert deputy.user.check_password(account.password)  # nothing changed while refused
