"""Pages of supervision: the debt position and indicators, the maturity profile, bonds,
imports. Rules live in debt, importing and debt_rules; views read parameters and render.

Everyone with cms.query_data (staff, deputies and experts, the archivist) reads; exports go
through the registered export view (备案登记); imports need cms.upload_material as well.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header

from budget.importing import max_bytes
from cms.usage.exports import RegisteredExportView, xlsx_export

from . import charts, reports
from .choices import BondType, DebtCategory, ImportKind
from .debt import history, maturity_profile
from .importing import TEMPLATE_NAMES, template_csv, template_xlsx
from .models import Bond, SupervisionBatch
from .services import QUERY_PERMISSION, can_import, run_import

query_required = permission_required(QUERY_PERMISSION, raise_exception=True)

DEFAULT_MONTHS = 24
MATURING_ON_PAGE = 200


def _months(request) -> int:
    text = request.GET.get("months", "")
    if text.isdigit() and 1 <= int(text) <= 360:
        return int(text)
    return DEFAULT_MONTHS


def _context(request, section, **extra):
    return {
        "section": section,
        "can_export": request.user.has_perm("cms.export_data"),
        "can_import": can_import(request.user),
        **extra,
    }


@query_required
def index(request):
    return redirect("supervision:debt")


@query_required
def debt(request):
    rows = history()
    chart = charts.bar_chart(
        [(r.year, [r.limit, r.balance]) for r in rows],
        ["债务限额", "债务余额"],
        "政府债务限额与余额",
    )
    return render(
        request,
        "supervision/debt.html",
        _context(
            request,
            "debt",
            table=reports.history_report(rows),
            indicators=reports.indicator_report(rows),
            chart=chart,
        ),
    )


@query_required
def maturity(request):
    months = _months(request)
    today = timezone.localdate()
    rows = maturity_profile(today.year)
    chart = charts.bar_chart(
        [(r.year, [r.general, r.special]) for r in rows],
        ["一般债务待偿本金", "专项债务待偿本金"],
        "政府债券到期分布",
    )
    return render(
        request,
        "supervision/maturity.html",
        _context(
            request,
            "maturity",
            table=reports.maturity_report(rows=rows),
            maturing=reports.maturing_report(months, today, limit=MATURING_ON_PAGE),
            months=months,
            chart=chart,
        ),
    )


@query_required
def bonds(request):
    qs = Bond.objects.all()
    category = request.GET.get("category", "")
    if category in DebtCategory.values:
        qs = qs.filter(category=category)
    bond_type = request.GET.get("type", "")
    if bond_type in BondType.values:
        qs = qs.filter(bond_type=bond_type)
    year = request.GET.get("year", "")
    if year.isdigit():
        qs = qs.filter(maturity_date__year=int(year))
    q = request.GET.get("q", "").strip()[:100]
    if q:
        qs = qs.filter(name__icontains=q) | qs.filter(code=q) | qs.filter(project__icontains=q)
    page = Paginator(qs.order_by("maturity_date", "code"), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "supervision/bonds.html",
        _context(
            request,
            "bonds",
            page=page,
            categories=DebtCategory.choices,
            types=BondType.choices,
            category=category,
            bond_type=bond_type,
            year=year,
            q=q,
        ),
    )


class DebtExportView(RegisteredExportView):
    """The debt tables as XLSX, registered (备案登记) by the shared export view."""

    export_module = "政府债务"

    def has_export_permission(self, request):
        return super().has_export_permission(request) and request.user.has_perm(QUERY_PERMISSION)

    def table(self):
        if not hasattr(self, "_table"):
            report = self.request.GET.get("report", "")
            if report == "history":
                self._table = reports.history_report()
            elif report == "indicators":
                self._table = reports.indicator_report()
            elif report == "maturity":
                self._table = reports.maturity_report(timezone.localdate().year)
            elif report == "maturing":
                self._table = reports.maturing_report(_months(self.request), timezone.localdate())
            else:
                self._table = None
        return self._table

    def get_export_description(self):
        table = self.table() if self.request.user.has_perm(QUERY_PERMISSION) else None
        return table.title if table else "政府债务报表"

    def produce(self, purpose):
        if self.table() is None:
            return render(
                self.request,
                "cms/error.html",
                {"title": "无法导出", "message": "报表参数无效。"},
                status=400,
            )
        return super().produce(purpose)

    def build_export(self):
        table = self.table()
        return xlsx_export(table.title, table.headers, table.export_rows())


# --- imports ------------------------------------------------------------------------------------


class ImportForm(forms.Form):
    kind = forms.ChoiceField(label="数据类型", choices=ImportKind.choices)
    file = forms.FileField(label="数据文件（CSV 或 XLSX）")


@query_required
def imports(request):
    allowed = can_import(request.user)
    result = None
    form = ImportForm()
    if request.method == "POST":
        if not allowed:
            raise PermissionDenied("无权导入监督数据")
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
                    upload.read(), upload.name, form.cleaned_data["kind"], request=request
                )
                if result.ok:
                    messages.success(
                        request,
                        f"导入成功：{ImportKind(result.kind).label} {result.rows} 行",
                    )
                    return redirect("supervision:batch", result.batch)
    batches = Paginator(SupervisionBatch.objects.select_related("imported_by"), 30).get_page(
        request.GET.get("page")
    )
    status = 400 if (result is not None and not result.ok) or form.errors else 200
    return render(
        request,
        "supervision/imports.html",
        _context(
            request,
            "imports",
            form=form,
            result=result,
            batches=batches,
            kinds=[(k, TEMPLATE_NAMES[k]) for k in ImportKind],
            max_mb=max_bytes() // (1024 * 1024),
        ),
        status=status,
    )


@query_required
def batch_detail(request, pk):
    batch = get_object_or_404(SupervisionBatch, pk=pk)
    return render(request, "supervision/batch.html", _context(request, "imports", batch=batch))


@query_required
def template_download(request, kind, fmt):
    if kind not in ImportKind.values or fmt not in ("csv", "xlsx"):
        raise Http404("没有这种模板")
    name = TEMPLATE_NAMES[ImportKind(kind)]
    if fmt == "csv":
        content, content_type = template_csv(kind), "text/csv; charset=utf-8"
    else:
        content = template_xlsx(kind)
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, f"{name}.{fmt}")
    return response
