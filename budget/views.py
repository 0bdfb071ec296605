"""Pages of the budget module: execution, departments, final accounts, 三公经费, year-over-year,
monthly trend, cited figures and imports (alerts: supervision/alert_views.py). Business rules
live in measures, reports and importing; views only read parameters and render."""

from functools import wraps

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import content_disposition_header

from cms.uploads import checked_clean
from cms.usage.decorators import records_restricted_view
from cms.usage.exports import TableExportView

from . import charts, reports
from .choices import BudgetKind
from .departments import department_ids_for, departments_for, is_department_scoped
from .figures import FigureSpec, FigureSpecError, citing_pages
from .importing import ImportOptions, max_bytes, template_csv, template_xlsx
from .measures import time_progress
from .models import Department, ImportBatch
from .services import can_import, run_import

QUERY = "cms.query_data"


def query_required(view):
    # every budget page a user opens is in the usage log (使用记录), with its address
    logged = records_restricted_view(view, detail="查询预算数据")
    return permission_required(QUERY, raise_exception=True)(logged)


def is_scoped(user) -> bool:
    """A 部门联络员 without cms.query_data: sees only the units he or she acts for."""
    return not user.has_perm(QUERY) and is_department_scoped(user)


def query_or_unit_required(view):
    """cms.query_data, or a liaison linked to at least one unit (read-only, own units)."""

    view = records_restricted_view(view, detail="查询预算数据")

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if user.has_perm(QUERY):
            return view(request, *args, **kwargs)
        if is_department_scoped(user):
            if not department_ids_for(user):
                raise PermissionDenied("您的账号尚未关联预算单位，请联系系统管理员")
            return view(request, *args, **kwargs)
        raise PermissionDenied("无权查询预算数据")

    return wrapped


def _params(request, section=""):
    scoped = is_scoped(request.user)
    units = departments_for(request.user) if scoped else None
    data = request.GET.copy()
    if scoped:
        wanted = data.get("department", "")
        if wanted and not (wanted.isdigit() and units.filter(pk=int(wanted)).exists()):
            raise PermissionDenied("只能查看本单位及所属二级单位的预算数据")
        if not wanted:
            own = Department.objects.filter(liaisons=request.user, is_active=True)
            data["department"] = str(own.order_by("code").values_list("pk", flat=True).first())
    if section == "final" and not data.get("year"):
        # 决算对比 opens on the latest year that has 决算, not on this year's execution
        year = reports.latest_final_year(data.get("budget") or BudgetKind.GENERAL)
        if year:
            data["year"], data["month"] = str(year), "12"
    form = reports.ReportForm(data, departments=units)
    if request.GET and not form.is_valid():
        return form, None
    if not request.GET:
        form = reports.ReportForm(data, departments=units)
        form.is_valid()
    params = reports.Params.from_form(form.cleaned_data)
    if params.year and (not data.get("year") or not data.get("month")):
        # show the period the page shows in the 年度 / 截至月份 inputs
        data["year"], data["month"] = str(params.year), str(params.month)
        form = reports.ReportForm(data, departments=units)
        form.is_valid()
    if scoped:
        params.unit_ids = [u.pk for u in units]
    return form, params


def _render_report(request, template, context, form, params):
    context.update(
        {
            "form": form,
            "params": params,
            "can_export": request.user.has_perm("cms.export_data") and request.user.has_perm(QUERY),
            "budget_scoped": is_scoped(request.user),
        }
    )
    if params is None:
        return render(request, template, context, status=400)
    if params.year is None:
        context["no_data"] = True
    return render(request, template, context)


@query_or_unit_required
def execution(request):
    form, params = _params(request)
    context = {"section": "execution"}
    if params and params.year:
        rows = reports.execution_rows(params)
        context["table"] = reports.execution_report(params, rows)
        context["crumbs"] = reports.breadcrumbs(params)
        context["export_url"] = params.url("export", report="execution")
        context["department_url"] = params.url("departments", code=params.parent)
        title = context["table"].title
        drill = lambda row: params.url("execution", parent=row.code)  # noqa: E731
        context["rate_chart"] = charts.rate_chart(
            rows, time_progress(params.month), f"{title}：执行率与序时进度", drill
        )
        context["treemap"] = charts.treemap(rows, f"{title}：预算规模与执行进度", drill)
    return _render_report(request, "budget/execution.html", context, form, params)


def _table_view(section, build, with_crumbs=False, scoped=False):
    """A report page that is one table of the chosen period, with its XLSX export.
    With *scoped*, liaisons may open it too (limited to their units by the builder)."""

    @(query_or_unit_required if scoped else query_required)
    def view(request):
        form, params = _params(request, section)
        context = {"section": section}
        if params and params.year:
            context["table"] = build(params)
            if with_crumbs:
                context["crumbs"] = reports.breadcrumbs(params, section)
            context["export_url"] = params.url("export", report=section)
        return _render_report(request, "budget/report.html", context, form, params)

    view.__name__ = section
    return view


departments = _table_view("departments", reports.department_report, scoped=True)
final_accounts = _table_view("final", reports.final_report, with_crumbs=True)
three_public = _table_view("three_public", reports.three_public_report)
compare = _table_view("compare", reports.compare_report, with_crumbs=True)


@query_required
def trend(request):
    form, params = _params(request)
    context = {"section": "trend"}
    if params and params.year:
        series = reports.trend_series(params)
        table = reports.trend_report(params, series)
        context["table"] = table
        context["chart"] = charts.line_chart(series, table.title)
        context["export_url"] = params.url("export", report="trend")
    return _render_report(request, "budget/report.html", context, form, params)


REPORT_BUILDERS = {
    "execution": reports.execution_report,
    "departments": reports.department_report,
    "final": reports.final_report,
    "three_public": reports.three_public_report,
    "compare": reports.compare_report,
    "trend": reports.trend_report,
}


class ReportExportView(TableExportView):
    """Every budget table as XLSX, registered (备案登记) by the shared export view."""

    export_module = "预算数据"

    query_permission = QUERY
    fallback_description = "预算数据报表"
    invalid_message = "报表参数无效或没有数据。"

    def table(self):
        if not hasattr(self, "_table"):
            builder = REPORT_BUILDERS.get(self.request.GET.get("report", ""))
            form = reports.ReportForm(self.request.GET)
            if builder is None or not form.is_valid():
                self._table = None
            else:
                params = reports.Params.from_form(form.cleaned_data)
                self._table = builder(params) if params.year else None
        return self._table


# --- cited figures -------------------------------------------------------------------------------


@query_required
def figure(request):
    try:
        spec = FigureSpec.from_data(request.GET)
        spec.validate()
    except FigureSpecError as error:
        return render(
            request, "cms/error.html", {"title": "数据不存在", "message": str(error)}, status=404
        )
    value = spec.compute()
    month = spec.month or 12
    view_url = reports.Params(
        year=spec.year,
        month=month,
        budget=spec.budget,
        kind=spec.kind,
        parent=reports.parent_code(spec.kind, spec.code),
    ).url("final" if spec.measure in ("final",) else "execution")
    return render(
        request,
        "budget/figure.html",
        {
            "spec": spec,
            "value": spec.format(value),
            "subject_name": spec.subject_name(),
            "department_name": spec.department_name(),
            "view_url": view_url,
            "citations": [
                (c, spec.format(c.value) if c.frozen else "") for c in citing_pages(spec)
            ],
            "section": "",
        },
    )


# --- imports ---------------------------------------------------------------------------------------


class ImportForm(forms.Form):
    file = forms.FileField(label="数据文件（CSV 或 XLSX）")
    clean_file = checked_clean("spreadsheet")  # type by content, size (cms.uploads)
    year = forms.IntegerField(label="年度", required=False, min_value=1990, max_value=2100)
    month = forms.IntegerField(label="截至月份", required=False, min_value=1, max_value=12)
    budget = forms.ChoiceField(
        label="预算", required=False, choices=[("", "（从标题识别）"), *reports.BudgetKind.choices]
    )


@query_required
def imports(request):
    allowed = can_import(request.user)
    result = None
    form = ImportForm()
    if request.method == "POST":
        if not allowed:
            raise PermissionDenied("无权导入预算数据")
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            if upload.size > max_bytes():
                form.add_error(
                    "file",
                    f"文件大小 {upload.size / 1024 / 1024:.1f} MB，超过上限 "
                    f"{max_bytes() / 1024 / 1024:.0f} MB",
                )
            else:
                result = run_import(
                    upload.read(),
                    upload.name,
                    ImportOptions(
                        year=form.cleaned_data.get("year"),
                        month=form.cleaned_data.get("month"),
                        budget=form.cleaned_data.get("budget") or None,
                    ),
                    request=request,
                )
                if result.ok:
                    messages.success(request, f"导入成功：{result.rows} 行，{result.scope_label}")
                    return redirect("budget:batch", result.batch)
    batches = Paginator(ImportBatch.objects.select_related("imported_by"), 30).get_page(
        request.GET.get("page")
    )
    status = 400 if result is not None and not result.ok else 200
    return render(
        request,
        "budget/imports.html",
        {
            "form": form,
            "can_import": allowed,
            "result": result,
            "batches": batches,
            "section": "imports",
            "max_mb": max_bytes() // (1024 * 1024),
        },
        status=status,
    )


@query_required
def batch_detail(request, pk):
    batch = get_object_or_404(ImportBatch.objects.select_related("replaces"), pk=pk)
    return render(
        request,
        "budget/batch.html",
        {"batch": batch, "section": "imports", "replaced_by": batch.replaced_by.all()},
    )


def _download(content, filename, content_type):
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


@query_required
def template_download(request, fmt):
    if fmt not in ("csv", "xlsx"):
        raise Http404("没有这种格式的模板")
    if fmt == "csv":
        return _download(template_csv(), "预算数据导入模板.csv", "text/csv; charset=utf-8")
    return _download(
        template_xlsx(),
        "预算数据导入模板.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


@query_or_unit_required
def index(request):
    return redirect("budget:execution")
