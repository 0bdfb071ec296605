"""预算审议意见 pages: a list filtered by year, stage, unit, subject code or words, and a detail
page with the budget items each opinion concerns (links into /budget/)."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header

from budget.models import Department
from cms.uploads import checked_clean
from cms.usage.services import UsageAction, record_usage

from . import importing
from .budget_links import department_link, subject_links
from .choices import HandlingStatus, ReviewStage
from .services import can_manage, can_read, filter_opinions, in_stage_order, opinions_for

PER_PAGE = 30


class OpinionFilterForm(forms.Form):
    year = forms.IntegerField(label="预算年度", min_value=1990, max_value=2100, required=False)
    stage = forms.ChoiceField(
        label="审议阶段", choices=[("", "全部阶段"), *ReviewStage.choices], required=False
    )
    department = forms.ModelChoiceField(
        label="预算单位", queryset=Department.objects.all(), required=False, empty_label="全部单位"
    )
    code = forms.RegexField(
        label="科目编码",
        regex=r"^\d{3,9}$",
        required=False,
        error_messages={"invalid": "科目编码应为 3 至 9 位数字"},
    )
    q = forms.CharField(label="关键词", max_length=50, required=False)


def _require_reader(request):
    if not can_read(request.user):
        raise PermissionDenied("您的角色无权查看预算审议意见。")


def opinion_list(request):
    _require_reader(request)
    form = OpinionFilterForm(request.GET or None)
    queryset = opinions_for(request.user)
    status = 200
    if form.is_bound and not form.is_valid():
        queryset = queryset.none()
        status = 400
    elif form.is_bound:
        data = form.cleaned_data
        queryset = filter_opinions(
            queryset,
            year=data.get("year"),
            stage=data.get("stage"),
            department=data.get("department"),
            subject_code=data.get("code"),
            text=data.get("q", ""),
        )
    years = sorted(set(opinions_for(request.user).values_list("year", flat=True)), reverse=True)
    page = Paginator(in_stage_order(queryset), PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "suggestions/insights/opinions/list.html",
        {
            "form": form,
            "page": page,
            "years": years,
            "stages": ReviewStage.choices,
            "query": query.urlencode(),
            "can_manage": can_manage(request.user),
            "admin_url": _admin_url(),
            "import_url": reverse("review_opinions:import"),
            "section": "opinions",
            "nav": _nav(request.user),
        },
        status=status,
    )


def opinion_detail(request, pk):
    _require_reader(request)
    opinion = get_object_or_404(opinions_for(request.user), pk=pk)
    subjects = list(opinion.subjects.order_by("year", "kind", "code"))
    departments = list(opinion.departments.order_by("code"))
    budget_links = [link for subject in subjects for link in subject_links(subject)]
    budget_links += [department_link(d, opinion.year) for d in departments]
    return render(
        request,
        "suggestions/insights/opinions/detail.html",
        {
            "opinion": opinion,
            "subjects": subjects,
            "departments": departments,
            "budget_links": budget_links,
            "pending": opinion.handling_status == HandlingStatus.PENDING,
            "can_manage": can_manage(request.user),
            "edit_url": _admin_url(opinion),
            "section": "opinions",
            "nav": _nav(request.user),
        },
    )


def _nav(user) -> dict:
    from suggestions.insights_views import insights_nav

    return insights_nav(user)


def _admin_url(opinion=None) -> str:
    if opinion is None:
        return reverse("wagtailsnippets_review_opinions_reviewopinion:list")
    return reverse("wagtailsnippets_review_opinions_reviewopinion:edit", args=[opinion.pk])


class ImportForm(forms.Form):
    file = forms.FileField(label="审议意见表（XLSX）")
    clean_file = checked_clean("spreadsheet")  # type by content, size (cms.uploads)


def _require_manager(request):
    if not can_manage(request.user):
        raise PermissionDenied("只有工作人员可以导入预算审议意见。")


def opinion_import(request):
    _require_manager(request)
    form = ImportForm(request.POST or None, request.FILES or None)
    result = None
    status = 200
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        result = importing.import_opinions(upload.read(), request.user)
        if result.ok:
            record_usage(
                request,
                UsageAction.UPLOAD,
                detail=f"导入预算审议意见 {upload.name}：{len(result.created)} 条",
            )
            messages.success(request, f"已导入 {len(result.created)} 条预算审议意见")
            return redirect(reverse("review_opinions:list"))
        status = 400
    elif request.method == "POST":
        status = 400
    return render(
        request,
        "suggestions/insights/opinions/import.html",
        {
            "form": form,
            "result": result,
            "required": importing.REQUIRED,
            "optional": importing.OPTIONAL,
            "section": "opinions",
            "nav": _nav(request.user),
        },
        status=status,
    )


def import_template(request):
    _require_manager(request)
    response = HttpResponse(
        importing.template_workbook(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = content_disposition_header(True, "预算审议意见导入模板.xlsx")
    return response
