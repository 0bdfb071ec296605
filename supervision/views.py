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
from cms.uploads import checked_clean
from cms.usage.decorators import records_restricted_view
from cms.usage.exports import TableExportView

from . import audit, charts, reports
from .choices import BondType, DebtCategory, ImportKind, RectificationStatus
from .debt import history, maturity_profile
from .importing import TEMPLATE_NAMES, template_csv, template_xlsx
from .models import AuditFinding, Bond, RectificationReport, SupervisionBatch
from .services import QUERY_PERMISSION, can_import, run_import


def query_required(view):
    """cms.query_data; every page opened is in the usage log (使用记录) with its address."""
    logged = records_restricted_view(view, detail="查询监督数据")
    return permission_required(QUERY_PERMISSION, raise_exception=True)(logged)


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
            cited=_cited(request, "debt"),
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


class DebtExportView(TableExportView):
    """The debt tables as XLSX, registered (备案登记) by the shared export view."""

    export_module = "政府债务"

    query_permission = QUERY_PERMISSION
    fallback_description = "政府债务报表"
    invalid_message = "报表参数无效。"

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


# --- imports ------------------------------------------------------------------------------------


class ImportForm(forms.Form):
    kind = forms.ChoiceField(label="数据类型", choices=ImportKind.choices)
    file = forms.FileField(label="数据文件（CSV 或 XLSX）")
    clean_file = checked_clean("spreadsheet")


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


# --- audit rectification ------------------------------------------------------------------------


def _audit_reader(view):
    """cms.query_data, staff who register, or a liaison (own units' findings only)."""
    from functools import wraps

    from django.contrib.auth.views import redirect_to_login

    from budget.departments import is_department_scoped

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if user.has_perm(QUERY_PERMISSION) or audit.can_register(user):
            return view(request, *args, **kwargs)
        if is_department_scoped(user):
            return view(request, *args, **kwargs)
        raise PermissionDenied("无权查看审计整改情况")

    return wrapped


class PlainSelect(forms.Select):
    """A select written in one pass: the template per option of Django's widget took half a
    second for a county's two hundred budget units on every opening of the register."""

    def render(self, name, value, attrs=None, renderer=None):
        from django.forms.utils import flatatt
        from django.utils.html import format_html, format_html_join

        chosen = "" if value is None else str(value)
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            ((str(v), " selected" if str(v) == chosen else "", label) for v, label in self.choices),
        )
        final = self.build_attrs(self.attrs, {**(attrs or {}), "name": name})
        return format_html("<select{}>{}</select>", flatatt(final), options)


class FindingForm(forms.ModelForm):
    amount_wan = forms.DecimalField(
        label="涉及金额（万元）", required=False, min_value=0, max_digits=16, decimal_places=6
    )

    class Meta:
        model = AuditFinding
        fields = [
            "year",
            "source_report",
            "number",
            "problem",
            "department",
            "requirement",
            "mode",
            "deadline",
        ]
        widgets = {"deadline": forms.DateInput(attrs={"type": "date"}), "department": PlainSelect}


class ProgressForm(forms.Form):
    status = forms.ChoiceField(label="整改状态", choices=RectificationStatus.choices)
    progress = forms.CharField(label="整改进展", widget=forms.Textarea(attrs={"rows": 4}))
    recovered_wan = forms.DecimalField(
        label="本次追回或上缴金额（万元）", required=False, min_value=0, decimal_places=6
    )
    corrected_wan = forms.DecimalField(
        label="本次调账或归还原资金渠道金额（万元）", required=False, min_value=0, decimal_places=6
    )
    evidence = forms.FileField(label="佐证材料（PDF、DOCX 等）", required=False)


def _yuan(wan):
    return (wan or 0) * 10000


@_audit_reader
@records_restricted_view(detail="查询审计查出问题")
def findings(request):
    qs = audit.findings_for(request.user).select_related("department")
    status = request.GET.get("status", "")
    if status in RectificationStatus.values:
        qs = qs.filter(status=status)
    year = request.GET.get("year", "")
    if year.isdigit():
        qs = qs.filter(year=int(year))
    form = None
    if audit.can_register(request.user):
        form = FindingForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            finding = audit.register(
                request.user,
                **{k: v for k, v in data.items() if k != "amount_wan"},
                amount=_yuan(data["amount_wan"]) if data["amount_wan"] is not None else None,
            )
            messages.success(request, "已登记审计查出问题")
            return redirect("supervision:finding", finding.pk)
    elif request.method == "POST":
        raise PermissionDenied("您没有登记审计查出问题的权限")
    page = Paginator(qs.order_by("deadline", "pk"), 50).get_page(request.GET.get("page"))
    # the distinct years from the year index, not a pass over every finding
    years = list(
        audit.findings_for(request.user).order_by("year").values_list("year", flat=True).distinct()
    )
    return render(
        request,
        "supervision/findings.html",
        _context(
            request,
            "findings",
            page=page,
            form=form,
            statuses=RectificationStatus.choices,
            status=status,
            year=year,
            years=years,
            today=timezone.localdate(),
            # county-wide audit figures: not for a liaison, who sees only own units' findings
            cited=_cited(request, "audit")
            if request.user.has_perm(QUERY_PERMISSION) or audit.can_register(request.user)
            else [],
        ),
        status=400 if form is not None and form.errors else 200,
    )


@_audit_reader
@records_restricted_view(detail="查看审计查出问题")
def finding(request, pk):
    item = get_object_or_404(audit.findings_for(request.user).select_related("department"), pk=pk)
    may_report = audit.can_report(request.user, item)
    moves = audit.allowed_statuses(item, request.user) if may_report else {}
    form = ProgressForm(initial={"status": item.status})
    form.fields["status"].choices = [(s, RectificationStatus(s).label) for s in moves]
    status = 200
    if request.method == "POST":
        if not may_report:
            raise PermissionDenied("您只能报告本单位审计查出问题的整改情况")
        form = ProgressForm(request.POST, request.FILES)
        form.fields["status"].choices = [(s, RectificationStatus(s).label) for s in moves]
        if form.is_valid():
            data = form.cleaned_data
            try:
                audit.report_progress(
                    item,
                    request.user,
                    status=data["status"],
                    progress=data["progress"],
                    recovered=_yuan(data["recovered_wan"]),
                    corrected=_yuan(data["corrected_wan"]),
                    evidence=data["evidence"],
                )
            except audit.RectificationError as error:
                form.add_error(None, " ".join(error.messages))
            else:
                messages.success(request, "整改情况已报告")
                return redirect("supervision:finding", pk)
        status = 400
    return render(
        request,
        "supervision/finding.html",
        _context(
            request,
            "findings",
            finding=item,
            reports=item.reports.select_related("reported_by"),
            events=item.events.select_related("actor"),
            form=form if moves else None,
            overdue=item.is_overdue(),
        ),
        status=status,
    )


@_audit_reader
def evidence(request, pk):
    report = get_object_or_404(RectificationReport, pk=pk)
    if not audit.findings_for(request.user).filter(pk=report.finding_id).exists():
        raise Http404("没有这份佐证材料")
    if not report.evidence:
        raise Http404("没有这份佐证材料")
    response = HttpResponse(report.evidence.read(), content_type="application/octet-stream")
    response["Content-Disposition"] = content_disposition_header(True, report.evidence_name)
    return response


@permission_required(audit.REGISTER_PERMISSION, raise_exception=True)
def audit_report(request, year):
    from .audit_report import render as render_docx
    from .audit_report import summary
    from .citations import record_audit_report_citations

    if not AuditFinding.objects.filter(year=year).exists():
        raise Http404("该年度没有登记审计查出问题")
    today = timezone.localdate()
    figures = summary(year, today)
    content = render_docx(year, today, figures)
    record_audit_report_citations(year, figures)  # 被引用, frozen as printed
    response = HttpResponse(
        content,
        content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    )
    response["Content-Disposition"] = content_disposition_header(
        True, f"关于{year}年度审计查出问题整改情况的报告（草稿）.docx"
    )
    return response


# --- 国有资产 ---------------------------------------------------------------------------------------


def _asset_year(request, available):
    text = request.GET.get("year", "")
    if text.isdigit() and int(text) in available:
        return int(text)
    return available[-1] if available else None


ASSET_ROWS_ON_PAGE = 50


@query_required
def assets(request):
    from .assets import enterprise_totals, rows_of, unit_totals, years
    from .models import EnterpriseAssets, UnitAssets

    available = years()
    year = _asset_year(request, available)
    q = request.GET.get("q", "").strip()[:100]
    context = _context(
        request, "assets", years=available, year=year, q=q, cited=_cited(request, "assets")
    )
    if year is not None:
        units, enterprises = unit_totals(), enterprise_totals()
        shown = [y for y in available if y <= year][-5:]
        context["chart"] = charts.bar_chart(
            [
                (
                    y,
                    [
                        units.get(y, {}).get("total_assets"),
                        units.get(y, {}).get("total_liabilities"),
                        enterprises.get(y, {}).get("total_assets"),
                        enterprises.get(y, {}).get("total_liabilities"),
                    ],
                )
                for y in shown
            ],
            ["行政事业性资产总额", "行政事业性负债总额", "企业资产总额", "企业负债总额"],
            "国有资产与负债",
        )
        context["totals"] = reports.asset_totals_report(year, units, enterprises)
        # the per-unit and per-enterprise tables a page at a time (the exports hold them all)
        unit_page = Paginator(rows_of(UnitAssets, year, q), ASSET_ROWS_ON_PAGE).get_page(
            request.GET.get("page")
        )
        enterprise_page = Paginator(
            rows_of(EnterpriseAssets, year, q), ASSET_ROWS_ON_PAGE
        ).get_page(request.GET.get("epage"))
        context["unit_page"], context["enterprise_page"] = unit_page, enterprise_page
        context["units"] = reports.unit_assets_report(year, unit_page.object_list)
        context["enterprises"] = reports.enterprise_assets_report(year, enterprise_page.object_list)
    return render(request, "supervision/assets.html", context)


class AssetExportView(TableExportView):
    """The state-asset tables as XLSX, registered (备案登记) by the shared export view."""

    export_module = "国有资产"

    query_permission = QUERY_PERMISSION
    fallback_description = "国有资产报表"
    invalid_message = "报表参数无效。"

    def table(self):
        if not hasattr(self, "_table"):
            from .assets import years

            text = self.request.GET.get("year", "")
            year = int(text) if text.isdigit() and int(text) in years() else None
            build = {
                "totals": reports.asset_totals_report,
                "units": reports.unit_assets_report,
                "enterprises": reports.enterprise_assets_report,
            }.get(self.request.GET.get("report", ""))
            self._table = build(year) if build and year else None
        return self._table


# --- cited figures (被引用) -----------------------------------------------------------------------


def may_read_figure(user, spec) -> bool:
    """Debt and asset figures: cms.query_data. Audit figures: whoever reads every finding, or
    a liaison for a figure of his or her own units only."""
    from budget.departments import department_ids_for, is_department_scoped

    if user.has_perm(QUERY_PERMISSION):
        return True
    if spec.source != "audit":
        return False
    if audit.can_register(user):
        return True
    if not spec.department or not is_department_scoped(user):
        return False
    ids = spec.department_ids()
    return bool(ids) and set(ids) <= set(department_ids_for(user))


def _cited(request, source):
    """The 被引用 panel of a debt, asset or audit page: documents citing its figures."""
    from budget.figures import source_citations

    return source_citations(source, request.user, limit=20)


@records_restricted_view(detail="查询监督数据")
def figure(request):
    from django.contrib.auth.views import redirect_to_login

    from budget.figures import FigureSpecError, citing_documents, spec_from_data

    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    try:
        spec = spec_from_data(request.GET)
        if not hasattr(spec, "page_url"):  # budget's own figures have their page
            raise FigureSpecError("数据来源无效")
        spec.validate()
    except FigureSpecError as error:
        if not (request.user.has_perm(QUERY_PERMISSION) or audit.can_register(request.user)):
            raise PermissionDenied("无权查询监督数据") from None
        return render(
            request, "cms/error.html", {"title": "数据不存在", "message": str(error)}, status=404
        )
    if not may_read_figure(request.user, spec):
        raise PermissionDenied("无权查看此数据")
    value = spec.compute()
    return render(
        request,
        "supervision/figure.html",
        _context(
            request,
            spec.section,
            spec=spec,
            value=spec.format(value),
            label=spec.default_label(),
            source_url=spec.page_url(),
            citations=[
                (c, spec.format(c.value) if c.frozen else "")
                for c in citing_documents(spec, request.user)
            ],
        ),
    )
