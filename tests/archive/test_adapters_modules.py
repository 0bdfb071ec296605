"""Filing what the other modules produce: closed suggestions, published briefings, pushed
materials, alerts with their letters and answers. Records are made with each module's own
services; filing runs the real task (Celery eager) and LibreOffice."""

# The modules' fixtures are imported by name; pytest resolves them as arguments.
# ruff: noqa: F811

import datetime
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from pypdf import PdfReader

from archive import services
from archive.sources import unfiled_candidates
from briefings.models import MaterialType
from briefings.services import plan_year
from briefings.uploads import upload_material
from cms import roles
from suggestions import services as suggestion_services
from suggestions.choices import EvaluationResult, Status
from supervision import alerts
from supervision.choices import AlertGrade, AlertStatus
from supervision.letters import services as letter_services
from tests.briefings.conftest import approve, make_briefing, quarterly, workflow  # noqa: F401
from tests.letters.conftest import (  # noqa: F401
    departments,
    drafter,
    finance_liaison,
    head,
    make_alert,
)
from tests.suggestions.conftest import (  # noqa: F401
    TODAY,
    answer_a,
    answer_b,
    assigned,
    category,
    deputies,
    make_suggestion,
    session,
    staff,
    term,
    transport_liaison,
    units,
)

pytestmark = pytest.mark.django_db


def package(item):
    return services.archive_root() / item.item_number


def pdf_text(item) -> str:
    reader = PdfReader(package(item) / "rendition.pdf")
    return "".join("".join(page.extract_text().split()) for page in reader.pages)


def headings(item) -> list[str]:
    return [b["text"] for b in item.metadata["rendition"]["blocks"] if b["kind"] == "heading"]


# --- 代表建议 -------------------------------------------------------------------------------


@pytest.fixture
def unit_liaison(make_user, units):
    user = make_user(roles.LIAISON, username="unit_liaison")
    units["finance"].liaisons.add(user)
    return user


@pytest.fixture
def closed_suggestion(
    make_suggestion, staff, units, deputies, unit_liaison, transport_liaison, answer_b
):
    """Answered, found wanting, answered again, evaluated, closed and followed up."""
    s = make_suggestion(co_signers=[deputies["b"]])
    with suggestion_services.as_of(TODAY):
        suggestion_services.register(s, staff)
        suggestion_services.assign(
            s, staff, lead_unit=units["finance"], co_units=[units["transport"]]
        )
        suggestion_services.add_attachment(
            s, staff, SimpleUploadedFile("建议原文.txt", "供水管网老化情况".encode())
        )
    with suggestion_services.as_of(TODAY + datetime.timedelta(days=3)):
        suggestion_services.start_handling(s, unit_liaison)
        suggestion_services.add_co_unit_view(
            s, transport_liaison, unit=units["transport"], text="同意配合道路开挖审批"
        )
    with suggestion_services.as_of(TODAY + datetime.timedelta(days=20)):
        suggestion_services.post_message(s, deputies["user_a"], "请先到现场看看管网")
        suggestion_services.record_consultation(
            s,
            unit_liaison,
            held_on=TODAY + datetime.timedelta(days=20),
            form="visit",
            participants="王秀兰代表、财政局经办人",
            summary="现场走访，商定分年改造",
        )
    with suggestion_services.as_of(TODAY + datetime.timedelta(days=40)):
        suggestion_services.answer(
            s,
            unit_liaison,
            answer_class=answer_b,
            signed_by="张局长",
            document=SimpleUploadedFile("答复.txt", "拟于明年安排改造资金".encode()),
        )
    with suggestion_services.as_of(TODAY + datetime.timedelta(days=50)):
        suggestion_services.evaluate(
            s, deputies["user_a"], result=EvaluationResult.DISSATISFIED, comment="没有时间表"
        )
        suggestion_services.rehandle(s, staff)
    with suggestion_services.as_of(TODAY + datetime.timedelta(days=70)):
        suggestion_services.second_answer(
            s, unit_liaison, answer_class=answer_b, signed_by="张局长", summary="明年三月开工"
        )
        suggestion_services.evaluate(s, deputies["user_a"], result=EvaluationResult.BASICALLY)
        suggestion_services.cosigner_evaluate(
            s, deputies["user_b"], result=EvaluationResult.SATISFIED
        )
        suggestion_services.close(s, staff)
        suggestion_services.add_follow_up(s, staff, progress="已完成招标")
    s.refresh_from_db()
    assert s.status == Status.CLOSED
    return s


PERSONAL = ("phone", "id_number", "employer", "address")


def test_closed_suggestion_is_one_item_with_its_handling_and_no_personal_details(
    file_now, archivist_user, closed_suggestion, deputies
):
    s = closed_suggestion
    item = file_now("suggestions.suggestion", s.pk, archivist_user)
    assert item.is_filed, item.status_message
    assert item.record_type == "suggestion" and item.retention == "Y"
    assert item.doc_number == s.code == "18-5-001"
    assert item.responsible == "王秀兰"
    # dated by the answer in front of the item (the second answer), not by submission
    assert item.date == TODAY + datetime.timedelta(days=70) == s.replies.get(round=2).answered_on
    source = item.metadata["source"]
    assert [r["轮次"] for r in source["答复"]] == [2, 1]
    assert [(e["评价代表"], e["评价"]) for e in source["代表评价"]] == [
        ("王秀兰", "不满意"),
        ("王秀兰", "基本满意"),
        ("李文华", "满意"),
    ]
    assert source["面商记录"][0]["形式"] == "走访"
    assert source["沟通记录"][0]["内容"] == "请先到现场看看管网"
    assert source["协办意见"][0]["意见"] == "同意配合道路开挖审批"
    assert source["跟踪落实"][0]["落实情况"] == "已完成招标"
    assert [e["事项"] for e in source["办理过程"]][-2:] == ["办结", "跟踪落实"]
    assert source["附议代表"] == ["李文华"]
    # 复文在前，来文在后: both answers precede the suggestion in the rendition
    titles = headings(item)
    suggestion_at = titles.index(f"建议：{s.title}")
    assert titles[0].startswith("再次书面答复") and titles[1].startswith("书面答复")
    assert suggestion_at == 2
    originals = item.metadata["originals"]
    assert originals[0].startswith("答复-第1次") and "建议附件-建议原文.txt" in originals
    assert (
        package(item) / "originals" / originals[0]
    ).read_bytes() == "拟于明年安排改造资金".encode()
    # no deputy's contact details anywhere: the item row, metadata.json, the rendition
    on_disk = (package(item) / "metadata.json").read_text(encoding="utf-8")
    text = pdf_text(item)
    snapshot = json.dumps(item.metadata, ensure_ascii=False)
    assert "明年三月开工" in text and "没有时间表" in text and "王秀兰" in text
    for deputy in (deputies["a"], deputies["b"]):
        for field in PERSONAL:
            value = getattr(deputy, field)
            if value:
                assert value not in on_disk and value not in snapshot and value not in text
                assert value not in item.title + item.responsible + item.remarks


def test_only_closed_suggestions_are_candidates(closed_suggestion, make_suggestion, assigned):
    make_suggestion(title="关于增设公交站点的建议")
    labels = [c.label for c in unfiled_candidates(["suggestions.suggestion"])]
    assert labels == [str(closed_suggestion)]
    assert assigned.status == Status.ASSIGNED


# --- 工作资料 -------------------------------------------------------------------------------


@pytest.fixture
def published_briefing(workflow, quarterly, drafter, head, django_capture_on_commit_callbacks):
    page = make_briefing(quarterly, editor_note="本期关注支出进度。")
    page.body = [
        ("heading", "总体情况"),
        ("paragraph", "<p>前三季度支出进度总体平稳。</p>"),
        (
            "table",
            {"title": "执行情况表", "headers": "科目 | 执行率", "rows": "201 | 65.00%", "note": ""},
        ),
    ]
    page.save_revision()
    with django_capture_on_commit_callbacks(execute=True):  # renders the DOCX and PDF
        approve(page, drafter, head)
    page.refresh_from_db()
    return page


def test_published_briefing_is_filed_with_its_renditions(
    file_now,
    archivist_user,
    published_briefing,
    quarterly,
    head,
):
    page = published_briefing
    draft = make_briefing(quarterly, period=4, title="第四季度（草稿）")
    keys = ["briefings.briefingpage"]
    assert [c.obj.pk for c in unfiled_candidates(keys)] == [page.pk]  # no draft
    item = file_now("briefings.briefingpage", page.pk, archivist_user)
    assert item.is_filed, item.status_message
    year = timezone.localtime(page.first_published_at).year
    assert item.doc_number == f"{year}年第1期" == page.issue_label
    assert item.responsible == "县人大常委会预算工委"
    assert item.date == timezone.localtime(page.first_published_at).date()
    assert item.record_type == "briefing" and item.retention == "D30"
    originals = item.metadata["originals"]
    assert [name.rsplit(".", 1)[1] for name in originals] == ["pdf", "docx"]
    assert item.metadata["rendition"]["rendition_from"] == originals[0]
    rendition = page.renditions.get(kind="pdf")
    with rendition.file.open("rb") as handle:
        assert (package(item) / "originals" / originals[0]).read_bytes() == handle.read()
    text = pdf_text(item)  # the issue itself, stamped
    assert "前三季度支出进度总体平稳" in text and "第1期" in text
    assert unfiled_candidates(keys) == [] and not draft.live


def test_pushed_material_is_its_own_item(file_now, archivist_user, departments, finance_liaison):
    analysis = MaterialType.objects.get(code="finance-quarterly-analysis")
    analysis.responsible_department = departments["finance"]
    analysis.save()
    plan_year(2026, [analysis])
    item_q1 = analysis.items.get(year=2026, period=1)
    upload = upload_material(
        finance_liaison,
        item_q1,
        SimpleUploadedFile("一季度分析.txt", "一季度支出进度偏慢，土地出让收入下降。".encode()),
    )
    keys = ["briefings.departmentupload"]
    assert [c.obj for c in unfiled_candidates(keys)] == [upload]
    item = file_now("briefings.departmentupload", upload.pk, archivist_user)
    assert item.is_filed, item.status_message
    assert item.responsible == "县财政局" and item.record_type == "briefing"
    assert item.metadata["source"]["逾期报送"] is True
    assert item.metadata["rendition"]["rendition_from"] == "一季度分析.txt"
    assert "土地出让收入下降" in pdf_text(item)
    assert unfiled_candidates(keys) == []


# --- 监督预警 with its letters --------------------------------------------------------------


def test_alert_is_filed_with_its_letter_and_the_answer_before_it(
    file_now,
    archivist_user,
    make_alert,
    drafter,
    head,
    finance_liaison,
    django_capture_on_commit_callbacks,
):
    alert = make_alert(AlertGrade.GENERAL)
    letter = letter_services.create_from_alert(alert, drafter)
    letter_services.act(letter, "submit", drafter)
    with django_capture_on_commit_callbacks(execute=True):  # renders the letter's DOCX/PDF
        letter = letter_services.act(letter, "approve", head)
    letter = letter_services.send(letter, drafter, via="机要交换")
    letter_services.record_answer(
        letter,
        finance_liaison,
        data="关于支出进度的说明：项目招标延后。".encode(),
        filename="答复.txt",
        reference="财函〔2026〕3号",
        signed_by="王德明",
    )
    letter_services.act(letter, "close", drafter, note="说明充分，办结。")
    # a draft letter of the same alert is no document of the item
    letter_services.create_from_alert(alert, drafter)
    assert [c.obj for c in unfiled_candidates(["budget.alert"])] == []  # not closed yet
    alerts.transition(alert, AlertStatus.CLOSED, drafter, note="部门已书面说明")
    letter.refresh_from_db()
    assert letter.pdf_file and letter.doc_number

    item = file_now("budget.alert", alert.pk, archivist_user)
    assert item.is_filed, item.status_message
    assert item.doc_number == letter.doc_number
    source = item.metadata["source"]
    assert [m["发文字号"] for m in source["函件"]] == [letter.doc_number]
    assert source["函件"][0]["书面答复"][0]["答复文号"] == "财函〔2026〕3号"
    # 复文在前，来文在后: the answer first in the recorded order, the originals and the text
    assert source["排列顺序"][0].startswith("书面答复（财函〔2026〕3号）")
    assert source["排列顺序"][1].endswith(letter.doc_number)
    originals = item.metadata["originals"]
    assert originals[0].startswith("复文-") and originals[0].endswith("答复.txt")
    assert originals[1] == f"来文-{letter.doc_number}.pdf"
    assert (package(item) / "originals" / originals[0]).read_bytes().decode().startswith("关于")
    titles = headings(item)
    answer_at = next(i for i, t in enumerate(titles) if t.startswith("书面答复"))
    letter_at = next(i for i, t in enumerate(titles) if t.startswith("联网查询情况通报"))
    assert answer_at < letter_at
    text = pdf_text(item)
    assert 0 <= text.index("项目招标延后") < text.index("查询发现")
