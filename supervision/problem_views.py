"""Pages of problems found by hand (人工发现问题). Rules live in supervision.problems; once
recorded, a problem is handled on the alert page like any alert."""

from functools import wraps

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse

from budget.choices import BudgetKind
from budget.models import Department

from . import problems
from .alerts import alert_handlers
from .choices import AlertGrade, AlertStatus


def recorder(view):
    """Only those who may handle alerts (cms.handle_alerts); everyone else gets 403."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not problems.can_record(request.user):
            raise PermissionDenied("您没有登记问题的权限（须有处理预警的权限）")
        return view(request, *args, **kwargs)

    return wrapped


class ProblemForm(forms.Form):
    title = forms.CharField(
        label="问题标题",
        max_length=problems.MAX_TITLE,
        error_messages={"required": "请填写问题标题", "max_length": "问题标题不能超过300个字"},
        help_text="一句话说明发现了什么，如“县交通运输局公路建设项目资金9月末执行率仅12%”。",
    )
    description = forms.CharField(
        label="问题描述",
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="查询分析的过程、依据和初步判断；将写入通报或函件。",
    )
    source_query = forms.ModelChoiceField(
        label="来源查询",
        queryset=None,
        required=False,
        empty_label="（不是在某件查询申请的查询分析中发现）",
        error_messages={"invalid_choice": "所选查询申请不存在或您无权查看，不能作为问题的来源"},
        help_text="在哪一件查询申请（查询申请登记）的查询分析中发现；登记后双方页面互相链接。",
    )
    source = forms.CharField(
        label="其他来源",
        required=False,
        max_length=200,
        help_text="如查询的报表或专项查询分析报告；写入问题描述。",
    )
    figures = forms.CharField(
        label="引用的数据",
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"required": "请列出所引用的数据，每行一项“项目：数值”"},
        help_text="每行一项“项目：数值”，单位写在项目名称里，如“调整预算数（万元）：1,234.56”、“执行率：12.5%”。",
    )
    grade = forms.ChoiceField(
        label="等级",
        choices=AlertGrade.choices,
        error_messages={
            "required": "请选择等级：一般、重要或重大",
            "invalid_choice": "请选择等级：一般、重要或重大",
        },
        help_text="一般：联网查询情况通报；重要：致部门的函；重大：经分管领导同意致县政府的函。",
    )
    year = forms.IntegerField(
        label="年度",
        min_value=2000,
        max_value=2100,
        error_messages={
            "required": "请填写年度",
            "invalid": "年度应为数字",
            "min_value": "年度应在 2000 至 2100 之间",
            "max_value": "年度应在 2000 至 2100 之间",
        },
    )
    month = forms.IntegerField(
        label="月份",
        min_value=0,
        max_value=12,
        initial=0,
        help_text="数据截至的月份；0 表示全年或不分月。",
        error_messages={
            "required": "请填写月份（0 表示全年）",
            "invalid": "月份应为数字",
            "min_value": "月份应在 0（全年）至 12 之间",
            "max_value": "月份应在 0（全年）至 12 之间",
        },
    )
    budget = forms.ChoiceField(label="预算类型", choices=BudgetKind.choices)
    department = forms.ModelChoiceField(
        label="涉及单位",
        queryset=Department.objects.filter(is_active=True).order_by("code"),
        required=False,
        empty_label="（不针对单个单位，函件主送县财政局）",
        error_messages={"invalid_choice": "所选单位不存在"},
    )
    code = forms.RegexField(
        label="科目编码",
        regex=r"^\d{3,12}$",
        required=False,
        error_messages={"invalid": "科目编码应为 3 至 12 位数字"},
    )
    owner = forms.ModelChoiceField(
        label="负责人",
        queryset=None,
        required=False,
        empty_label="（本人）",
        error_messages={"invalid_choice": "所选负责人不能处理预警"},
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = alert_handlers().order_by("username")
        self.fields["source_query"].queryset = problems.linkable_queries(user)
        self.fields["source_query"].label_from_instance = lambda q: (
            f"{q.pk}：{q.subject}（{q.requester_name}，{q.received_on:%Y-%m-%d}收到，"
            f"{q.get_status_display()}）"
        )

    def clean_figures(self):
        try:
            return problems.parse_figures(self.cleaned_data["figures"])
        except problems.ProblemError as error:
            raise forms.ValidationError(error.messages) from None


@recorder
def problem_list(request):
    qs = problems.manual_alerts().select_related("department", "owner")
    status = request.GET.get("status", "open")
    if status == "open":
        qs = qs.exclude(status=AlertStatus.CLOSED)
    elif status in AlertStatus.values:
        qs = qs.filter(status=status)
    page = Paginator(qs.order_by("-created_at", "-pk"), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "supervision/problems/list.html",
        {"section": "problems", "page": page, "status": status, "statuses": AlertStatus.choices},
    )


@recorder
def problem_new(request):
    year, month = problems.default_year_month()
    initial = {"year": year, "month": month, "budget": BudgetKind.GENERAL}
    query = request.GET.get("query", "")
    if query.isdigit():  # from a query request's page (登记发现的问题)
        initial["source_query"] = int(query)
    form = ProblemForm(request.POST or None, initial=initial, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            alert = problems.record_problem(
                request.user,
                title=data["title"],
                description=data["description"],
                source=data["source"],
                source_query=data["source_query"],
                figures=data["figures"],
                grade=data["grade"],
                year=data["year"],
                month=data["month"],
                budget=data["budget"],
                department=data["department"],
                code=data["code"],
                owner=data["owner"],
            )
        except problems.ProblemError as error:
            form.add_error(None, " ".join(error.messages))
        else:
            messages.success(
                request,
                f"问题已登记为{alert.get_grade_display()}预警，办理期限 {alert.due_date:%Y-%m-%d}；"
                "可在本页生成通报或函件。",
            )
            return redirect(reverse("supervision:alert", args=[alert.pk]))
    return render(
        request,
        "supervision/problems/form.html",
        {"section": "problems", "form": form},
        status=400 if form.errors else 200,
    )
