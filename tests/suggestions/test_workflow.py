"""The one table of steps: every legal step writes a timeline event, illegal ones change nothing."""

import datetime
import hashlib

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile

from cms.notifications.models import Message
from cms.usage.models import AppendOnlyError
from cms.workdays import add_months
from suggestions import services
from suggestions.choices import EvaluationResult, Status, SuggestionKind
from suggestions.models import Suggestion, TimelineEvent

from .conftest import TODAY

pytestmark = pytest.mark.django_db


def snapshot(s):
    s = Suggestion.objects.get(pk=s.pk)
    fields = {f.attname: getattr(s, f.attname) for f in Suggestion._meta.concrete_fields}
    fields.pop("updated_at")
    return fields, s.events.count(), s.replies.count(), s.evaluations.count()


def reply_file(name="答复.pdf"):
    return SimpleUploadedFile(name, b"%PDF-1.4 reply text", content_type="application/pdf")


def test_table_sources_and_targets_are_statuses():
    for name, step in services.STEPS.items():
        assert step.actors, name
        for status in (*step.sources, *step.targets):
            assert status in Status.values, (name, status)
    # every status except the terminal ones has a way out
    leaving = {src for step in services.STEPS.values() if step.targets for src in step.sources}
    assert set(Status.values) - leaving == {Status.CLOSED, Status.CONVERTED, Status.LETTER}


def test_whole_path_writes_one_event_per_step(
    assigned, staff, finance_liaison, transport_liaison, deputies, answer_a, answer_b, units
):
    s = assigned
    assert s.status == Status.ASSIGNED
    with services.as_of(TODAY + datetime.timedelta(days=3)):
        services.start_handling(s, finance_liaison)
        services.add_co_unit_view(
            s, transport_liaison, unit=units["transport"], text="同意列入明年道路维修计划"
        )
    with services.as_of(TODAY + datetime.timedelta(days=40)):
        reply = services.answer(
            s, finance_liaison, answer_class=answer_b, signed_by="张局长", document=reply_file()
        )
    with services.as_of(TODAY + datetime.timedelta(days=50)):
        services.evaluate(
            s, deputies["user_a"], result=EvaluationResult.DISSATISFIED, comment="没有时间表"
        )
        services.rehandle(s, staff)
    s.refresh_from_db()
    assert s.second_due_on == add_months(TODAY + datetime.timedelta(days=50), 2)
    with services.as_of(TODAY + datetime.timedelta(days=70)):
        services.second_answer(
            s, finance_liaison, answer_class=answer_b, signed_by="张局长", summary="明年三月开工"
        )
        services.evaluate(s, deputies["user_a"], result=EvaluationResult.BASICALLY)
        services.close(s, staff)
        services.add_follow_up(s, staff, progress="已完成招标")
    s.refresh_from_db()
    assert s.status == Status.CLOSED
    assert s.first_answered_on == TODAY + datetime.timedelta(days=40)
    assert reply.document_sha256 and reply.document_name == "答复.pdf"
    actions = list(s.events.values_list("action", flat=True))
    assert actions == [
        "submit", "register", "assign", "start_handling", "co_unit_view", "answer",
        "evaluate", "rehandle", "second_answer", "evaluate", "close", "follow_up",
    ]  # fmt: skip
    first_answer = s.events.get(action="answer")
    assert first_answer.documents == [{"kind": "reply", "id": reply.pk, "name": "答复.pdf"}]
    assert first_answer.at.date() == TODAY + datetime.timedelta(days=40)
    assert first_answer.actor == finance_liaison
    # 再次答复 only once
    with pytest.raises(services.TransitionError):
        services.rehandle(s, staff)


def test_timeline_is_append_only(assigned):
    event = assigned.events.first()
    event.note = "改写"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        TimelineEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(AppendOnlyError):
        event.delete()


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda s, u, x: services.register(s, u), "不能“登记/审查”"),
        (lambda s, u, x: services.close(s, u, "理由"), "不能“办结”"),
        (lambda s, u, x: services.rehandle(s, u), "不能“重新办理”"),
        (
            lambda s, u, x: services.answer(s, u, answer_class=x, signed_by="甲", summary="要点"),
            None,
        ),
    ],
)
def test_illegal_steps_refused_and_change_nothing(assigned, staff, answer_a, call, message):
    s = assigned
    if message is None:  # answering is legal here: check the opposite direction afterwards
        call(s, staff, answer_a)
        before = snapshot(s)
        with pytest.raises(services.TransitionError, match="当前为“已答复”"):
            services.assign(s, staff, lead_unit=s.lead_unit)
        assert snapshot(s) == before
        return
    before = snapshot(s)
    with pytest.raises(services.TransitionError, match=message):
        call(s, staff, answer_a)
    assert snapshot(s) == before


def test_illegal_step_message_is_chinese_and_names_the_state(make_suggestion, staff):
    s = make_suggestion()
    with pytest.raises(services.TransitionError) as caught:
        services.evaluate(s, staff, result="satisfied")
    assert caught.value.messages == [f"建议 {s.code} 当前为“已提出”，不能“代表评价”"]


def test_wrong_actor_refused(assigned, transport_liaison, deputies, answer_a):
    before = snapshot(assigned)
    # a co-unit's liaison cannot answer for the lead unit
    with pytest.raises(PermissionDenied, match="书面答复"):
        services.answer(
            assigned, transport_liaison, answer_class=answer_a, signed_by="甲", summary="x"
        )
    # a deputy cannot assign or close
    with pytest.raises(PermissionDenied):
        services.start_handling(assigned, deputies["user_a"])
    assert snapshot(assigned) == before


def test_only_lead_deputy_or_staff_evaluates(assigned, staff, deputies, answer_a):
    services.answer(assigned, staff, answer_class=answer_a, signed_by="甲", summary="已修复")
    assigned.co_signers.add(deputies["b"])
    with pytest.raises(PermissionDenied):
        services.evaluate(assigned, deputies["user_b"], result="satisfied")
    evaluation = services.evaluate(assigned, staff, result="satisfied")
    assert evaluation.deputy == deputies["a"]
    assert "工作人员代为登记" in assigned.events.last().note


def test_dissatisfied_needs_a_comment(assigned, staff, deputies, answer_a):
    services.answer(assigned, staff, answer_class=answer_a, signed_by="甲", summary="已修复")
    before = snapshot(assigned)
    with pytest.raises(services.TransitionError, match="写明意见"):
        services.evaluate(assigned, deputies["user_a"], result="dissatisfied")
    assert snapshot(assigned) == before


def test_close_without_evaluation_needs_reason(assigned, staff, answer_a):
    services.answer(assigned, staff, answer_class=answer_a, signed_by="甲", summary="已修复")
    with pytest.raises(services.TransitionError, match="须说明理由"):
        services.close(assigned, staff)
    services.close(assigned, staff, "代表逾期未评价")
    assert Suggestion.objects.get(pk=assigned.pk).status == Status.CLOSED


def test_follow_up_only_for_classes_that_need_it(assigned, staff, deputies, answer_a):
    services.answer(assigned, staff, answer_class=answer_a, signed_by="甲", summary="已修复")
    services.evaluate(assigned, deputies["user_a"], result="satisfied")
    with pytest.raises(services.TransitionError, match="跟踪落实"):
        services.add_follow_up(assigned, staff, progress="x")


def test_motion_needs_ten_deputies_and_converts(make_suggestion, staff, deputies):
    motion = make_suggestion(kind=SuggestionKind.MOTION, co_signers=deputies["others"][:5])
    with pytest.raises(services.TransitionError, match="10 名以上代表联名"):
        services.register(motion, staff)
    new = services.convert_to_suggestion(motion, staff)
    motion.refresh_from_db()
    assert motion.status == Status.CONVERTED
    assert new.converted_from == motion and new.kind == SuggestionKind.SUGGESTION
    assert set(new.co_signers.all()) == set(deputies["others"][:5])
    assert new.number == motion.number + 1
    big = make_suggestion(
        kind=SuggestionKind.MOTION,
        co_signers=deputies["others"][:9],
        title="关于制定乡村道路养护办法的议案",
    )
    services.register(big, staff)
    assert Suggestion.objects.get(pk=big.pk).status == Status.REGISTERED


def test_motion_threshold_is_a_setting(make_suggestion, staff, deputies, settings):
    settings.SUGGESTIONS_MOTION_MIN_DEPUTIES = 3
    motion = make_suggestion(kind=SuggestionKind.MOTION, co_signers=deputies["others"][:2])
    services.register(motion, staff)


def test_key_supervision_needs_leader(assigned, staff):
    with pytest.raises(services.TransitionError, match="督办领导"):
        services.set_key_supervision(assigned, staff, on=True)
    services.set_key_supervision(assigned, staff, on=True, leader="县人大常委会副主任 李明")
    assigned.refresh_from_db()
    assert assigned.key_supervision and assigned.supervising_leader.endswith("李明")


def test_attachment_stored_with_digest(assigned, staff):
    photo = b"\xff\xd8\xff\xe0jpegdata"  # a JPEG's signature: the upload check reads content
    att = services.add_attachment(assigned, staff, SimpleUploadedFile("现场照片.jpg", photo))
    assert att.sha256 == hashlib.sha256(photo).hexdigest() and att.size == 12
    assert att.file.read() == photo
    with pytest.raises(Exception, match="不支持的文件类型"):
        services.add_attachment(assigned, staff, SimpleUploadedFile("x.exe", b"MZ"))


def test_deputies_notified_when_assigned_answered_closed(
    make_suggestion, staff, units, deputies, answer_a, django_capture_on_commit_callbacks
):
    s = make_suggestion()
    services.register(s, staff)
    with django_capture_on_commit_callbacks(execute=True):
        services.assign(s, staff, lead_unit=units["finance"])
        services.answer(s, staff, answer_class=answer_a, signed_by="甲", summary="已完成")
        services.evaluate(s, deputies["user_a"], result="satisfied")
        services.close(s, staff)
    subjects = list(
        Message.objects.filter(recipient=deputies["user_a"]).values_list("subject", flat=True)
    )
    assert any("已交办县财政局" in x for x in subjects)
    assert any("已答复" in x for x in subjects)
    assert any("已办结" in x for x in subjects)
    assert all(
        m.url.startswith("/suggestions/mine/")
        for m in Message.objects.filter(recipient=deputies["user_a"])
    )
