"""导出备案登记: the one way any module hands data out of the system.

Every export goes through a subclass of ``RegisteredExportView``. The view refuses users
without ``cms.export_data`` (403 and a ``denied`` usage record); asks users whose role is in
``settings.EXPORT_PURPOSE_ROLES`` (default 代表/专家) for the purpose (用途) before it builds
the file; and for everyone writes an ``ExportRegistration`` (who, role, what, why, file name,
format, rows, SHA-256, address) plus an ``export`` usage record in the same transaction.

Usage in a module::

    from cms.usage.exports import RegisteredExportView, xlsx_export

    class FigureExportView(RegisteredExportView):
        export_module = "预算数据"

        def get_export_description(self):
            return f"{self.kwargs['year']}年预算执行数"

        def build_export(self):
            figures = Figure.objects.filter(year=self.kwargs["year"])
            rows = [(f.code, f.name, f.amount) for f in figures]
            return xlsx_export("预算执行数", ["科目编码", "科目名称", "金额（万元）"], rows)

The writers ``xlsx_export`` and ``csv_export`` neutralise spreadsheet formula injection: a text
cell that begins with = + - @, a tab or a carriage return gets a leading apostrophe.
"""

import csv
import datetime
import hashlib
import io
import re
import secrets
from dataclasses import dataclass
from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme
from django.views import View

from cms.roles import DEPUTY, has_role, primary_role

from .models import ExportRegistration, UsageAction
from .services import client_address, record_usage

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
EXPORT_PERMISSION = "cms.export_data"

DEFAULT_PURPOSE_ROLES = [DEPUTY]
DEFAULT_PURPOSE_MIN_LENGTH = 4

# Characters a spreadsheet program may read as the start of a formula or a DDE call.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Control characters that the XLSX format cannot hold.
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_UNSAFE_FILENAME = re.compile(r'[\x00-\x1f\\/:*?"<>|]+')


@dataclass(frozen=True)
class ExportFile:
    """A produced export: what the user downloads."""

    filename: str
    content: bytes
    content_type: str
    rows: int

    @property
    def file_format(self) -> str:
        return self.filename.rsplit(".", 1)[-1].lower() if "." in self.filename else ""

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


# --- writers ---------------------------------------------------------------------------


def neutralise(value):
    """Make a text cell inert: prefix an apostrophe to anything that could start a formula."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def export_filename(title: str, extension: str) -> str:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    base = _UNSAFE_FILENAME.sub("_", title).strip(" ._") or "导出"
    return f"{base[:80]}_{stamp}.{extension}"


def _xlsx_value(value):
    if value is None or isinstance(value, bool | int | float | Decimal):
        return value
    if isinstance(value, datetime.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.replace(tzinfo=None)
    if isinstance(value, datetime.date | datetime.time):
        return value
    return neutralise(_ILLEGAL_XML.sub("", str(value)))


def _text_value(value):
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, bool | int | float | Decimal | datetime.date | datetime.time):
        return str(value)
    return neutralise(str(value))


def _display_width(text) -> int:
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in str(text))


def _sheet_title(title: str) -> str:
    cleaned = re.sub(r"[\[\]\*\?/\\:]", " ", title).strip("' ") or "导出"
    return cleaned[:31]


def xlsx_export(title: str, headers, rows, filename: str | None = None) -> ExportFile:
    """An XLSX workbook with one sheet: a bold header row, then *rows* (iterables of values)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _sheet_title(title)
    workbook.properties.title = title
    workbook.properties.creator = getattr(settings, "SITE_NAME", "")
    headers = [str(h) for h in headers]
    sheet.append([neutralise(h) for h in headers])
    bold = Font(bold=True)
    for cell in sheet[1]:
        cell.font = bold
    sheet.freeze_panes = "A2"
    widths = [_display_width(h) for h in headers]
    count = 0
    for row in rows:
        values = [_xlsx_value(v) for v in row]
        sheet.append(values)
        for index, value in enumerate(values[: len(widths)]):
            if value is not None:
                widths[index] = max(widths[index], min(_display_width(value), 60))
        count += 1
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width + 2
    for row_cells in sheet.iter_rows(min_row=2):
        for cell in row_cells:
            if isinstance(cell.value, datetime.datetime):
                cell.number_format = "yyyy-mm-dd hh:mm:ss"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return ExportFile(
        filename=filename or export_filename(title, "xlsx"),
        content=buffer.getvalue(),
        content_type=XLSX_CONTENT_TYPE,
        rows=count,
    )


def csv_export(title: str, headers, rows, filename: str | None = None) -> ExportFile:
    """A UTF-8 CSV with a byte-order mark, so that spreadsheet programs read Chinese right."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([_text_value(str(h)) for h in headers])
    count = 0
    for row in rows:
        writer.writerow([_text_value(v) for v in row])
        count += 1
    return ExportFile(
        filename=filename or export_filename(title, "csv"),
        content=buffer.getvalue().encode("utf-8-sig"),
        content_type=CSV_CONTENT_TYPE,
        rows=count,
    )


# --- rules -------------------------------------------------------------------------------


def purpose_roles() -> list[str]:
    return list(getattr(settings, "EXPORT_PURPOSE_ROLES", DEFAULT_PURPOSE_ROLES))


def purpose_min_length() -> int:
    return int(getattr(settings, "EXPORT_PURPOSE_MIN_LENGTH", DEFAULT_PURPOSE_MIN_LENGTH))


def can_export(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.has_perm(EXPORT_PERMISSION))


def purpose_required(user) -> bool:
    """Must this user state why before getting the file? (every export by 代表/专家 is 备案)"""
    roles = purpose_roles()
    return bool(roles) and has_role(user, *roles)


def clean_purpose(user, purpose: str) -> str:
    purpose = (purpose or "").strip()
    if purpose_required(user):
        minimum = purpose_min_length()
        if not purpose:
            raise ValidationError("请填写导出用途，说明导出这些数据做什么。", code="required")
        if len(purpose) < minimum:
            raise ValidationError(
                f"导出用途至少需要 {minimum} 个字，请写明具体用途。", code="too_short"
            )
    return purpose


# --- one registration per confirmation page ----------------------------------------------

CONFIRM_SALT = "cms.usage.exports.confirm"
CONFIRM_MAX_AGE = 24 * 3600  # a confirmation page left open longer is asked for again


class AlreadyRegistered(Exception):
    """The confirmation page was submitted before: its export is registered already."""

    def __init__(self, registration):
        super().__init__("已登记")
        self.registration = registration


def confirmation_token(request) -> str:
    """A signed one-time token for the confirmation page of this user and this address."""
    payload = {"u": request.user.pk, "p": request.get_full_path(), "n": secrets.token_hex(16)}
    return signing.dumps(payload, salt=CONFIRM_SALT)


def token_nonce(request, token: str) -> str | None:
    """The token's nonce when it was made here for this user and address, else None."""
    try:
        payload = signing.loads(token or "", salt=CONFIRM_SALT, max_age=CONFIRM_MAX_AGE)
    except signing.BadSignature:
        return None
    if payload.get("u") != request.user.pk or payload.get("p") != request.get_full_path():
        return None
    return str(payload.get("n") or "") or None


def register_export(
    request,
    export_file: ExportFile,
    *,
    description: str,
    purpose: str = "",
    module: str = "",
    form_token: str | None = None,
) -> ExportRegistration:
    """Write the 备案登记 row and the usage record for a file about to be handed out.

    With *form_token* (the confirmation page's nonce) a token already used raises
    ``AlreadyRegistered`` and writes nothing: the database's unique index decides, so two
    submissions racing each other register once."""
    user = request.user
    purpose = clean_purpose(user, purpose)
    if form_token:
        earlier = ExportRegistration.objects.filter(form_token=form_token).first()
        if earlier is not None:
            raise AlreadyRegistered(earlier)
    try:
        return _register(request, export_file, description, purpose, module, form_token)
    except IntegrityError:
        earlier = ExportRegistration.objects.filter(form_token=form_token).first()
        if form_token and earlier is not None:
            raise AlreadyRegistered(earlier) from None
        raise


def _register(request, export_file, description, purpose, module, form_token):
    user = request.user
    with transaction.atomic():
        registration = ExportRegistration.objects.create(
            form_token=form_token or None,
            user=user,
            username=user.get_username(),
            role=primary_role(user) or "",
            module=module[:50],
            description=description[:500],
            purpose=purpose,
            filename=export_file.filename[:255],
            file_format=export_file.file_format[:16],
            row_count=export_file.rows,
            byte_size=len(export_file.content),
            sha256=export_file.sha256,
            ip_address=client_address(request),
            path=request.get_full_path()[:500],
        )
        detail = (
            f"导出{f'【{module}】' if module else ''}{description}："
            f"{export_file.filename}，{export_file.rows} 行，SHA-256 {export_file.sha256}"
        )
        if purpose:
            detail += f"；用途：{purpose}"
        record_usage(request, UsageAction.EXPORT, obj=registration, detail=detail)
    return registration


def export_response(export_file: ExportFile) -> HttpResponse:
    """The download, with a file name that survives Chinese characters (RFC 5987/6266)."""
    response = HttpResponse(export_file.content, content_type=export_file.content_type)
    response["Content-Disposition"] = content_disposition_header(True, export_file.filename)
    response["Content-Length"] = str(len(export_file.content))
    response["Cache-Control"] = "no-store"
    return response


# --- the view ----------------------------------------------------------------------------


class ExportPurposeForm(forms.Form):
    purpose = forms.CharField(
        label="用途",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "例如：准备预算初审发言材料"}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        if purpose_required(user):
            self.fields["purpose"].required = True
            self.fields["purpose"].error_messages["required"] = "请填写导出用途。"
            self.fields[
                "purpose"
            ].help_text = f"按规定，本角色的每次导出都要备案登记，请写明用途（至少 {purpose_min_length()} 个字）。"
        else:
            self.fields["purpose"].help_text = "可选。导出同样会备案登记。"

    def clean_purpose(self):
        return clean_purpose(self.user, self.cleaned_data.get("purpose", ""))


class RegisteredExportView(View):
    """Base view of every export. Subclasses implement get_export_description() and
    build_export(); they may narrow has_export_permission() and set export_module."""

    export_module = ""
    purpose_template_name = "usage/export_purpose.html"
    denied_message = "您的角色没有导出数据的权限。如需导出，请联系系统管理员。"
    http_method_names = ["get", "post"]

    def get_export_description(self) -> str:
        raise NotImplementedError("RegisteredExportView 的子类必须说明导出内容")

    def build_export(self) -> ExportFile:
        raise NotImplementedError("RegisteredExportView 的子类必须生成导出文件")

    def has_export_permission(self, request) -> bool:
        return can_export(request.user)

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not self.has_export_permission(request):
            return self.refuse(request)
        return super().dispatch(request, *args, **kwargs)

    def refuse(self, request):
        record_usage(
            request,
            UsageAction.DENIED,
            detail=f"无权导出：{self.get_export_description()}",
        )
        return render(
            request,
            "cms/error.html",
            {"title": "无权导出", "message": self.denied_message},
            status=403,
        )

    def get(self, request, *args, **kwargs):
        if purpose_required(request.user):
            return self.render_purpose_form(ExportPurposeForm(user=request.user))
        return self.produce("")

    def post(self, request, *args, **kwargs):
        form = ExportPurposeForm(request.POST, user=request.user)
        # the confirmation page's token (a POST made without the page, e.g. a script, has none
        # and registers like a GET; a page's second submission is found and registers nothing)
        token = request.POST.get("export_token", "")
        self.form_token = token_nonce(request, token) if token else None
        if token and self.form_token is None:
            form.is_valid()
            form.add_error(None, "确认页已失效，请核对后重新点击“确认登记并导出”。")
            return self.render_purpose_form(form, status=400)
        if self.form_token:
            earlier = ExportRegistration.objects.filter(form_token=self.form_token).first()
            if earlier is not None:
                return self.render_already_registered(earlier)
        if not form.is_valid():
            return self.render_purpose_form(form, status=400)
        try:
            return self.produce(form.cleaned_data["purpose"])
        except AlreadyRegistered as already:
            return self.render_already_registered(already.registration)

    def render_purpose_form(self, form, status=200):
        context = {
            "form": form,
            "description": self.get_export_description(),
            "module": self.export_module,
            "action_url": self.request.get_full_path(),
            "cancel_url": self.get_cancel_url(),
            "export_token": confirmation_token(self.request),
        }
        return render(self.request, self.purpose_template_name, context, status=status)

    def render_already_registered(self, registration):
        """A second submission of one confirmation page: say what was registered, once."""
        context = {
            "registration": registration,
            "again_url": self.request.get_full_path(),
            "cancel_url": self.get_cancel_url(),
        }
        return render(self.request, "usage/export_done.html", context, status=409)

    def get_cancel_url(self) -> str:
        """Where 取消 / 返回 lead: the page the user came from (kept in the form across posts)."""
        came_from = self.request.POST.get("back") or self.request.META.get("HTTP_REFERER", "")
        safe = url_has_allowed_host_and_scheme(
            came_from,
            allowed_hosts={self.request.get_host()},
            require_https=self.request.is_secure(),
        )
        if not came_from or not safe:
            return "/"
        if came_from.split("://", 1)[-1].endswith(self.request.get_full_path()):
            return "/"  # the confirmation page itself is no way back
        return came_from

    def produce(self, purpose: str):
        export_file = self.build_export()
        self.registration = register_export(
            self.request,
            export_file,
            description=self.get_export_description(),
            purpose=purpose,
            module=self.export_module,
            form_token=getattr(self, "form_token", None),
        )
        # shown on the next page the user opens (the browser stays where it was on a download)
        messages.success(
            self.request,
            f"上次导出已备案登记（登记号 {self.registration.pk}，{export_file.rows} 行），"
            "文件在浏览器的下载列表中。",
        )
        return export_response(export_file)


__all__ = [
    "ExportFile",
    "RegisteredExportView",
    "xlsx_export",
    "csv_export",
    "neutralise",
    "register_export",
    "export_response",
    "purpose_required",
    "can_export",
]


class TableExportView(RegisteredExportView):
    """A registered export of one report table: subclasses give ``table()`` (the table the
    request's parameters name, or None when they name none), the permission that reads the
    tables, and the words used when there is no table."""

    query_permission = ""
    fallback_description = "报表"
    invalid_message = "报表参数无效。"

    def has_export_permission(self, request):
        return super().has_export_permission(request) and request.user.has_perm(
            self.query_permission
        )

    def get_export_description(self):
        table = self.table() if self.request.user.has_perm(self.query_permission) else None
        return table.title if table else self.fallback_description

    def produce(self, purpose):
        if self.table() is None:
            return render(
                self.request,
                "cms/error.html",
                {"title": "无法导出", "message": self.invalid_message},
                status=400,
            )
        return super().produce(purpose)

    def build_export(self):
        table = self.table()
        return xlsx_export(table.title, table.headers, table.export_rows())
