"""Pages of 代表建议: the office's list and detail, the deputy's 我的建议, the liaison's
department list, the steps (all through services), downloads, import and export."""

import datetime
import html
import os

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from budget.departments import department_ids_for, is_department_scoped
from budget.models import Department
from cms.personal import can_see_personal_details
from cms.usage.exports import RegisteredExportView, can_export, xlsx_export
from cms.usage.models import UsageAction
from cms.usage.services import record_restricted_view, record_usage

from . import filters, importer, portal_views, services
from .choices import ConsultationForm, EvaluationResult
from .forms import ImportForm, SubmitForm
from .models import (
    AnswerClass,
    Attachment,
    CoUnitView,
    Deputy,
    Reply,
    Suggestion,
)

PAGE_SIZE = 30
RELATED = ("term", "session", "category", "lead_deputy", "lead_unit")


def _require_staff(request):
    if not services.is_staff(request.user):
        raise PermissionDenied("只有工作人员可以办理代表建议")


def _page(request, qs):
    return Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))


def _query_without_page(request) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def portal_url(user, s: Suggestion) -> str:
    """Where *user* reads *s*: the office detail, 我的建议 or the department page."""
    if services.is_staff(user):
        return s.get_absolute_url()
    if is_department_scoped(user):
        ids = set(department_ids_for(user))
        if s.lead_unit_id in ids or ids & set(s.co_units.values_list("pk", flat=True)):
            return services.department_url(s)
    return services.deputy_url(s)


# --- lists ---------------------------------------------------------------------------------


@login_required
def suggestion_list(request):
    _require_staff(request)
    params = filters.clean_params(request.GET)
    qs = filters.apply(services.visible_to(request.user), params).select_related(*RELATED)
    return render(
        request,
        "suggestions/list.html",
        {
            "page": _page(request, qs.order_by("-term__number", "-session__number", "-number")),
            "params": params,
            "query": _query_without_page(request),
            "export_query": request.GET.urlencode(),
            "choices": filters.choices(),
            "today": timezone.localdate(),
            "overdue_count": services.overdue().count(),
            "section": "list",
            "can_export": can_export(request.user),
        },
    )


@login_required
def mine(request):
    """我的建议: what I led or co-signed, then the public ones."""
    deputy = services.deputy_of(request.user)
    if not services.is_deputy_account(request.user):
        raise PermissionDenied("“我的建议”只对代表账号开放")
    own = Suggestion.objects.none()
    if deputy is not None:
        own = (
            (
                Suggestion.objects.filter(pk__in=deputy.led_suggestions.values("pk"))
                | Suggestion.objects.filter(pk__in=deputy.cosigned_suggestions.values("pk"))
            )
            .exclude(status__in=services.WRITING)
            .select_related(*RELATED)
        )
    writing, invited = portal_views.drafts_waiting(request.user)
    public = (
        services.visible_to(request.user)
        .filter(is_public=True)
        .exclude(pk__in=own.values("pk"))
        .select_related(*RELATED)
    )
    return render(
        request,
        "suggestions/mine.html",
        {
            "deputy": deputy,
            "own": own.order_by("-term__number", "-session__number", "-number"),
            "public": public.order_by("-term__number", "-session__number", "-number")[:50],
            "writing": writing.select_related(*RELATED).order_by("-updated_at"),
            "invited": invited.select_related(*RELATED).order_by("-updated_at"),
            "today": timezone.localdate(),
            "section": "mine",
        },
    )


@login_required
def department(request):
    """The liaison's list: items whose lead unit or a co-unit is one of my units."""
    if not is_department_scoped(request.user):
        raise PermissionDenied("本页只对部门联络员开放")
    ids = department_ids_for(request.user)
    params = filters.clean_params(request.GET)
    qs = filters.apply(services.visible_to(request.user), params).select_related(*RELATED)
    return render(
        request,
        "suggestions/department.html",
        {
            "units": Department.objects.filter(pk__in=ids, liaisons=request.user),
            "page": _page(request, services.liaison_order(qs, request.user)),
            "params": params,
            "query": _query_without_page(request),
            "unit_ids": ids,
            "today": timezone.localdate(),
            "section": "department",
        },
    )


# --- detail and steps ----------------------------------------------------------------------


def _visible_or_404(request, pk) -> Suggestion:
    qs = services.visible_to(request.user).select_related(*RELATED, "converted_from")
    try:
        return qs.get(pk=pk)
    except Suggestion.DoesNotExist:
        record_usage(request, UsageAction.DENIED, detail=f"代表建议 {pk} 不可见")
        raise Http404("没有这件建议，或您无权查看") from None


def _detail(request, pk, mode):
    s = _visible_or_404(request, pk)
    user = request.user
    if mode == "staff" and not services.is_staff(user):
        return redirect(portal_url(user, s))
    if not s.is_public:  # a suggestion not made public is restricted material
        record_restricted_view(request, s)
    steps = services.allowed_steps(user, s)
    replies = list(s.replies.select_related("answer_class", "unit"))
    evaluations = list(s.evaluations.select_related("deputy"))
    for reply in replies:
        rows = [e for e in evaluations if e.reply_id == reply.pk]
        reply.evaluation_row = next((e for e in rows if e.is_lead), None)
        reply.cosigner_evaluations = [e for e in rows if not e.is_lead]
    my_units = set(department_ids_for(user)) if is_department_scoped(user) else set()
    co_units = list(s.co_units.all())
    context = {
        "s": s,
        "mode": mode,
        "steps": steps,
        "events": s.events.select_related("actor"),
        "attachments": s.attachments.all(),
        "replies": replies,
        "co_unit_views": s.co_unit_views.select_related("unit"),
        "co_units": co_units,
        "my_co_units": [d for d in co_units if services.is_staff(user) or d.pk in my_units],
        "co_signers": s.co_signers.all(),
        "follow_ups": s.follow_ups.all(),
        "missing_views": services.co_unit_views_missing(s),
        "overdue": services.is_overdue(s),
        "today": timezone.localdate(),
        "answer_classes": AnswerClass.objects.filter(term=s.term),
        "evaluation_results": EvaluationResult.choices,
        "show_personal": can_see_personal_details(user),
        "section": {"staff": "list", "mine": "mine", "department": "department"}[mode],
    }
    from .related import related_material  # the insights helper's panel (policies, budget lines)

    context["related"] = related_material(user, s)
    context["invitations"] = s.invitations.select_related("deputy")
    context["thread"] = s.messages.all()
    context["consultations"] = s.consultations.select_related("unit")
    context["consultation_forms"] = ConsultationForm.choices
    context["is_lead_deputy"] = "deputy" in services.actor_roles(user, s)
    if s.status in services.WRITING and context["is_lead_deputy"]:
        from .similar import similar_cases

        context["similar_terms"], context["similar"] = similar_cases(
            user, s.title, s.content, exclude_pk=s.pk
        )
    if mode == "staff" and s.status == "submitted":
        from .similar import likely_duplicates

        context["duplicates"] = likely_duplicates(user, s)
    if "invite" in steps:
        invited = s.invitations.values("deputy_id")
        context["invitable"] = (
            Deputy.objects.filter(is_active=True, terms=s.term)
            .exclude(pk=s.lead_deputy_id)
            .exclude(pk__in=invited)
            .order_by("delegation", "name")
        )
    if "assign" in steps:
        from .assignment import suggest_for

        context["unit_suggestions"] = suggest_for(user, s)
        context["departments"] = Department.objects.filter(is_active=True).order_by("code")
    if "link" in steps:
        from wagtail.models import Page

        # the choice list written once here: 300-odd options through the template language
        # (a lookup, localisation and escaping per value) were a fifth of the page's time, and
        # format_html per option still a tenth; the titles are escaped, the keys are integers
        pages = Page.objects.live().filter(depth__gt=2).order_by("title")
        context["link_page_options"] = mark_safe(  # noqa: S308
            "".join(
                f'<option value="{int(pk)}">{html.escape(title)}</option>'
                for pk, title in pages.values_list("pk", "title")[:500]
            )
        )
    return render(request, "suggestions/detail.html", context)


@login_required
def detail(request, pk):
    return _detail(request, pk, "staff")


@login_required
def mine_detail(request, pk):
    return _detail(request, pk, "mine")


@login_required
def department_detail(request, pk):
    if not is_department_scoped(request.user):
        raise PermissionDenied("本页只对部门联络员开放")
    return _detail(request, pk, "department")


def _date(value, label):
    value = (value or "").strip()
    if not value:
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise ValidationError(f"{label}格式应为 年-月-日，例如 2026-03-15") from None


def _pick(model, value, label, **scope):
    if not value:
        return None
    try:
        return model.objects.get(pk=int(value), **scope)
    except (ValueError, model.DoesNotExist):
        raise ValidationError(f"请选择有效的{label}") from None


def _run_step(name, s, request):
    """Turn the posted form of one step into the service call."""
    P, F, user = request.POST, request.FILES, request.user  # noqa: N806
    note = P.get("note", "")
    if name == "register":
        return services.register(s, user, note)
    if name == "convert":
        return services.convert_to_suggestion(s, user, note)
    if name == "assign":
        lead = _pick(Department, P.get("lead_unit"), "主办单位", is_active=True)
        ids = [int(x) for x in P.getlist("co_units") if x.isdigit()]
        co = list(Department.objects.filter(pk__in=ids))
        return services.assign(
            s,
            user,
            lead_unit=lead,
            co_units=co,
            assigned_on=_date(P.get("assigned_on"), "交办日期"),
            note=note,
        )
    if name == "request_return":
        return services.request_return(s, user, P.get("reason", ""))
    if name in ("approve_return", "reject_return"):
        return services.decide_return(s, user, name == "approve_return", note)
    if name == "start_handling":
        return services.start_handling(s, user, note)
    if name == "co_unit_view":
        unit = _pick(Department, P.get("unit"), "协办单位")
        if unit is None:
            raise ValidationError("请选择协办单位")
        return services.add_co_unit_view(
            s, user, unit=unit, text=P.get("text", ""), document=F.get("document")
        )
    if name == "extend":
        return services.extend(
            s, user, reason=P.get("reason", ""), new_due_on=_date(P.get("new_due_on"), "延期后日期")
        )
    if name in ("answer", "second_answer"):
        fn = services.answer if name == "answer" else services.second_answer
        return fn(
            s,
            user,
            answer_class=_pick(AnswerClass, P.get("answer_class"), "答复类别", term=s.term),
            signed_by=P.get("signed_by", ""),
            answered_on=_date(P.get("answered_on"), "答复日期"),
            summary=P.get("summary", ""),
            document=F.get("document"),
        )
    if name == "evaluate":
        return services.evaluate(s, user, result=P.get("result", ""), comment=P.get("comment", ""))
    if name == "rehandle":
        return services.rehandle(s, user, note)
    if name == "close":
        return services.close(s, user, note)
    if name == "follow_up":
        return services.add_follow_up(
            s, user, progress=P.get("progress", ""), completed=bool(P.get("completed"))
        )
    if name == "key_supervision":
        return services.set_key_supervision(
            s, user, on=P.get("on") == "1", leader=P.get("leader", "")
        )
    if name == "attach":
        upload = F.get("file")
        if upload is None:
            raise ValidationError("请选择要上传的文件")
        return services.add_attachment(s, user, upload)
    if name == "link":
        from wagtail.models import Page

        page = _pick(Page, P.get("page"), "页面")
        year = P.get("subject_year", "").strip()
        if year and not year.isdigit():
            raise ValidationError("科目年度应为四位数字")
        return services.add_link(
            s,
            user,
            page=page,
            subject_year=int(year) if year else None,
            subject_code=P.get("subject_code", ""),
            note=note,
        )
    if name in ("invite", "sign", "decline", "deputy_submit", "return_for_revision"):
        return _run_writing_step(name, s, request)
    if name == "to_letter":
        return services.turn_into_letter(s, user, P.get("reason", ""))
    if name == "message":
        return services.post_message(s, user, P.get("text", ""))
    if name == "consult":
        return services.record_consultation(
            s,
            user,
            held_on=_date(P.get("held_on"), "面商日期"),
            form=P.get("form", ""),
            participants=P.get("participants", ""),
            summary=P.get("summary", ""),
        )
    if name == "cosigner_evaluate":
        return services.cosigner_evaluate(
            s, user, result=P.get("result", ""), comment=P.get("comment", "")
        )
    if name == "deputy_attach":
        upload = F.get("file")
        if upload is None:
            raise ValidationError("请选择要上传的文件")
        return services.add_attachment(s, user, upload)
    raise Http404("没有这个办理步骤")


def _run_writing_step(name, s, request):
    P, user = request.POST, request.user  # noqa: N806
    if name == "invite":
        ids = [int(x) for x in P.getlist("deputies") if x.isdigit()]
        if not ids:
            raise ValidationError("请选择要邀请的代表")
        return services.invite(s, user, list(Deputy.objects.filter(pk__in=ids)))
    if name in ("sign", "decline"):
        return services.answer_invitation(s, user, sign=name == "sign")
    if name == "deputy_submit":
        return services.deputy_submit(s, user, P.get("note", ""))
    return services.return_for_revision(s, user, P.get("reason", ""))


@login_required
@require_POST
def step(request, pk, name):
    s = _visible_or_404(request, pk)
    if name not in services.STEPS or name in ("submit", "draft", "edit_draft"):
        raise Http404("没有这个办理步骤")
    try:
        _run_step(name, s, request)
    except ValidationError as error:
        messages.error(request, "；".join(error.messages))
    else:
        messages.success(request, f"已{services.STEPS[name].label}")
    s.refresh_from_db()
    return redirect(portal_url(request.user, s))


@login_required
def download(request, pk, kind, doc_id):
    """A document of a suggestion, for whoever may see the suggestion."""
    s = _visible_or_404(request, pk)
    if kind == "attachment":
        obj = get_object_or_404(Attachment, pk=doc_id, suggestion=s)
        field, name = obj.file, obj.name
    elif kind == "reply":
        obj = get_object_or_404(Reply, pk=doc_id, suggestion=s)
        field, name = obj.document, obj.document_name
    elif kind == "view":
        obj = get_object_or_404(CoUnitView, pk=doc_id, suggestion=s)
        field, name = obj.document, obj.document_name
    else:
        raise Http404("没有这类文件")
    if not field:
        raise Http404("该记录没有文件")
    try:
        handle = field.open("rb")
    except FileNotFoundError:
        raise Http404("文件已不在存储中，请联系系统管理员") from None
    record_usage(request, UsageAction.VIEW_RESTRICTED, obj=s, detail=f"下载 {name}")
    return FileResponse(handle, as_attachment=True, filename=name or os.path.basename(field.name))


# --- entry, import, export -------------------------------------------------------------------


@login_required
def submit(request):
    _require_staff(request)
    form = SubmitForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            s = services.submit(
                request.user,
                term=data["session"].term,
                session=data["session"],
                title=data["title"],
                content=data["content"],
                category=data["category"],
                kind=data["kind"],
                period=data["period"],
                lead_deputy=data["lead_deputy"],
                co_signers=data["co_signers"],
                is_public=data["is_public"],
                submitted_on=data["submitted_on"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"已登记提出，编号 {s.code}")
            return redirect(s.get_absolute_url())
    return render(request, "suggestions/submit.html", {"form": form, "section": "submit"})


@login_required
def import_list(request):
    _require_staff(request)
    form = ImportForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        result = importer.import_workbook(
            upload.read(), user=request.user, session=form.cleaned_data["session"]
        )
        if result.ok:
            record_usage(
                request,
                UsageAction.UPLOAD,
                detail=f"导入交办清单 {upload.name}：{len(result.created)} 件",
            )
            messages.success(request, f"已导入 {len(result.created)} 件建议")
            return redirect(reverse("suggestions:list"))
    return render(
        request, "suggestions/import.html", {"form": form, "result": result, "section": "import"}
    )


EXPORT_HEADERS = [
    "编号", "届次", "会次", "类型", "提出时间", "标题（案由）", "分类", "领衔代表", "代表团",
    "附议代表人数", "主办单位", "协办单位", "交办日期", "要求办结日期", "状态", "答复类别",
    "首次答复日期", "代表评价", "重点督办", "督办领导", "公开",
]  # fmt: skip


def export_rows(qs):
    qs = qs.select_related(*RELATED).prefetch_related(
        "co_units",
        "co_signers",
        Prefetch(
            "replies", queryset=Reply.objects.select_related("answer_class").order_by("round")
        ),
        "evaluations",
    )
    for s in qs:
        replies = list(s.replies.all())
        evaluations = sorted(s.evaluations.all(), key=lambda e: (e.evaluated_on, e.pk))
        yield [
            s.code,
            str(s.term),
            str(s.session.number),
            s.get_kind_display(),
            s.get_period_display(),
            s.title,
            s.category.name if s.category_id else "",
            s.lead_deputy.name,
            s.lead_deputy.delegation,
            len(s.co_signers.all()),
            s.lead_unit.name if s.lead_unit_id else "",
            "、".join(d.name for d in s.co_units.all()),
            s.assigned_on,
            s.due_on,
            s.get_status_display(),
            f"{replies[-1].answer_class.code}类" if replies else "",
            s.first_answered_on,
            evaluations[-1].get_result_display() if evaluations else "",
            "是" if s.key_supervision else "",
            s.supervising_leader,
            "是" if s.is_public else "",
        ]


class SuggestionExportView(RegisteredExportView):
    """Any filtered list the user may see, as XLSX; never a deputy's contact details."""

    export_module = "代表建议"

    def params(self):
        return filters.clean_params(self.request.GET)

    def get_export_description(self) -> str:
        return f"代表建议清单（{filters.describe(self.params())}）"

    def build_export(self):
        qs = filters.apply(services.visible_to(self.request.user), self.params())
        rows = list(export_rows(qs.order_by("term__number", "session__number", "number")))
        return xlsx_export("代表建议清单", EXPORT_HEADERS, rows)
