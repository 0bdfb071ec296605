"""Pages of 预警函件: list, detail, draft from an alert, edit, approve, send, answer, files.

Views check who may see a letter through ``services.letters_for`` (a letter outside it is a
404) and leave every rule to ``services``; a refused step is a message, not a change.
"""

import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from budget.models import Department
from cms.usage.models import UsageAction
from cms.usage.services import record_usage
from supervision.alerts import open_alerts_for

from . import services
from .choices import LetterKind, LetterStatus

LIST_STATUSES = [("overdue", "答复逾期"), *LetterStatus.choices]


def _may_use(user) -> bool:
    from budget.departments import is_department_scoped

    return services.can_draft(user) or bool(services.capacities(user)) or is_department_scoped(user)


def _letter(request, pk):
    if not _may_use(request.user):
        raise PermissionDenied("您没有查看预警函件的权限。")
    queryset = services.letters_for(request.user).select_related(
        "alert", "alert__rule", "department", "owner", "approved_by"
    )
    return get_object_or_404(queryset, pk=pk)


def _parse_date(value, label):
    value = (value or "").strip()
    if not value:
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise services.LetterError(
            f"{label}格式不正确，应为“年-月-日”，例如 2026-03-08。"
        ) from None


def letter_list(request):
    if not _may_use(request.user):
        raise PermissionDenied("您没有查看预警函件的权限。")
    letters = services.letters_for(request.user).select_related("department", "owner", "alert")
    status = request.GET.get("status", "")
    kind = request.GET.get("kind", "")
    today = timezone.localdate()
    if status == "overdue":
        letters = letters.filter(status=LetterStatus.SENT, answer_due__lt=today)
    elif status in LetterStatus.values:
        letters = letters.filter(status=status)
    if kind in LetterKind.values:
        letters = letters.filter(kind=kind)
    q = (request.GET.get("q") or "").strip()
    if q:
        letters = letters.filter(
            Q(title__icontains=q) | Q(doc_number__icontains=q) | Q(recipients__icontains=q)
        )
    letters = list(letters[:500])
    return render(
        request,
        "letters/list.html",
        {
            "letters": letters,
            "today": today,
            "status": status,
            "kind": kind,
            "q": q,
            "statuses": LIST_STATUSES,
            "kinds": LetterKind.choices,
            "can_draft": services.can_draft(request.user),
        },
    )


def letter_detail(request, pk):
    letter = _letter(request, pk)
    moves = services.allowed_moves(letter, request.user)
    return render(
        request,
        "letters/detail.html",
        {
            "letter": letter,
            "moves": {k: m for k, m in moves.items() if k in services.SIMPLE_MOVES},
            "can_send": "send" in moves,
            "can_answer": "answer" in moves,
            "can_receive": "receive" in moves,
            "can_draft": services.can_draft(request.user),
            "can_edit": letter.status == LetterStatus.DRAFT and services.can_draft(request.user),
            "approver_label": services.APPROVER_FOR_KIND[LetterKind(letter.kind)].label,
            "answers": letter.answers.select_related("uploaded_by"),
            "events": letter.events.select_related("actor"),
            "overdue": letter.is_overdue(),
            "today": timezone.localdate(),
        },
    )


@require_POST
def generate(request, alert_pk):
    if not services.can_draft(request.user):
        raise PermissionDenied("您没有起草预警函件的权限。")
    alert = get_object_or_404(open_alerts_for(request.user), pk=alert_pk)
    department = None
    if request.POST.get("department"):
        department = Department.objects.filter(
            pk=request.POST["department"], is_active=True
        ).first()
    try:
        letter = services.create_from_alert(alert, request.user, department=department)
    except services.LetterError as exc:
        messages.error(request, exc.messages[0])
        return redirect("supervision:alert", alert.pk)
    messages.success(request, f"已生成{letter.get_kind_display()}草稿，请核改后送审。")
    return redirect("letters:edit", letter.pk)


def edit(request, pk):
    letter = _letter(request, pk)
    if not services.can_draft(request.user):
        raise PermissionDenied("您没有修改函件的权限。")
    if request.method == "POST":
        try:
            services.update_draft(
                letter,
                request.user,
                title=request.POST.get("title", ""),
                recipients=request.POST.get("recipients", ""),
                cc=request.POST.get("cc", ""),
                body=request.POST.get("body", ""),
            )
        except services.LetterError as exc:
            messages.error(request, exc.messages[0])
            letter.title = request.POST.get("title", "")
            letter.recipients = request.POST.get("recipients", "")
            letter.cc = request.POST.get("cc", "")
            letter.body = request.POST.get("body", "")
        else:
            messages.success(request, "草稿已保存。")
            return redirect("letters:detail", letter.pk)
    elif letter.status != LetterStatus.DRAFT:
        messages.error(request, "只有草稿可以修改。")
        return redirect("letters:detail", letter.pk)
    return render(request, "letters/edit.html", {"letter": letter})


@require_POST
def act(request, pk):
    letter = _letter(request, pk)
    name = request.POST.get("move", "")
    try:
        letter = services.act(
            letter,
            name,
            request.user,
            note=request.POST.get("note", ""),
            confirmed=request.POST.get("confirm") == "1",
        )
    except services.LetterError as exc:
        messages.error(request, exc.messages[0])
    else:
        move = services.MOVES[name]
        extra = f"，发文字号 {letter.doc_number}" if name == "approve" else ""
        if name == "extend":
            extra = f"，{services.due_text(letter)}"
        messages.success(request, f"已{move.label}{extra}。")
    return redirect("letters:detail", letter.pk)


@require_POST
def send(request, pk):
    letter = _letter(request, pk)
    try:
        sent_on = _parse_date(request.POST.get("sent_on"), "发出日期")
        letter = services.send(
            letter, request.user, sent_on=sent_on, via=request.POST.get("via", "")
        )
    except services.LetterError as exc:
        messages.error(request, exc.messages[0])
    else:
        messages.success(request, f"已登记发出，{services.due_text(letter)}。")
    return redirect("letters:detail", letter.pk)


@require_POST
def receive(request, pk):
    letter = _letter(request, pk)
    try:
        received_on = _parse_date(request.POST.get("received_on"), "签收日期")
        letter = services.record_receipt(letter, request.user, received_on)
    except services.LetterError as exc:
        messages.error(request, exc.messages[0])
    else:
        messages.success(request, f"已登记签收，{services.due_text(letter)}。")
    return redirect("letters:detail", letter.pk)


def answer(request, pk):
    letter = _letter(request, pk)
    if not services.can_answer(request.user, letter):
        raise PermissionDenied("只有本单位联络员或工作人员可以上传书面答复。")
    form = {"answered_on": "", "reference": "", "signed_by": ""}
    if request.method == "POST":
        form = {k: request.POST.get(k, "") for k in form}
        upload = request.FILES.get("file")
        try:
            if upload is None:
                raise services.LetterError("请选择答复文件（PDF、DOCX、TXT）。")
            answered_on = _parse_date(form["answered_on"], "答复日期")
            data = upload.read()
            services.record_answer(
                letter,
                request.user,
                data=data,
                filename=upload.name,
                answered_on=answered_on,
                reference=form["reference"],
                signed_by=form["signed_by"],
            )
        except services.LetterError as exc:
            messages.error(request, exc.messages[0])
        else:
            record_usage(request, UsageAction.UPLOAD, letter, detail=f"书面答复 {upload.name}")
            messages.success(request, "书面答复已登记。")
            return redirect("letters:detail", letter.pk)
    return render(
        request,
        "letters/answer.html",
        {
            "letter": letter,
            "form": form,
            "today": timezone.localdate(),
            "due_text": services.due_text(letter),
        },
    )


@require_POST
def render_request(request, pk):
    letter = _letter(request, pk)
    try:
        services.request_rendition(letter, request.user)
    except services.LetterError as exc:
        messages.error(request, exc.messages[0])
    else:
        messages.success(request, "已提交生成 DOCX / PDF，完成后刷新本页即可下载。")
    return redirect("letters:detail", letter.pk)


def download(request, pk, fmt):
    letter = _letter(request, pk)
    field = {"docx": letter.docx_file, "pdf": letter.pdf_file}.get(fmt)
    if not field:
        raise Http404("文档尚未生成")
    name = f"{letter.doc_number or '草稿'}{letter.title}"[:80].replace("/", "_")
    return FileResponse(field.open("rb"), as_attachment=True, filename=f"{name}.{fmt}")


def answer_file(request, pk):
    answer_row = get_object_or_404(
        services.answers_for(request.user).select_related("letter"), pk=pk
    )
    _letter(request, answer_row.letter_id)
    return FileResponse(
        answer_row.file.open("rb"), as_attachment=True, filename=answer_row.filename
    )
