"""The usage report (使用记录) and the list of export registrations (备案登记), shown in the
Wagtail admin's look to holders of cms.view_usage_log (系统管理员, 档案员).

They are served under /usage/ rather than /admin/ because Wagtail's admin wrapper answers a
refusal with a redirect; here anyone else gets a plain 403 and a ``denied`` usage record."""

from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from wagtail.admin.ui.tables import Column
from wagtail.admin.views.reports import ReportView
from wagtail.admin.widgets.button import HeaderButton

from .exports import RegisteredExportView, can_export, xlsx_export
from .filters import ExportRegistrationFilterSet, UsageRecordFilterSet, describe_filters
from .models import ExportRegistration, UsageAction, UsageRecord
from .services import record_usage

READ_PERMISSION = "cms.view_usage_log"


def local_time(row):
    return timezone.localtime(row.created_at).strftime("%Y-%m-%d %H:%M:%S")


def short_digest(row):
    return f"{row.sha256[:16]}…"


def can_read_usage_log(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.has_perm(READ_PERMISSION))


def refuse(request, what):
    record_usage(request, UsageAction.DENIED, detail=f"无权查看{what}")
    return render(
        request,
        "cms/error.html",
        {"title": "无权访问", "message": f"只有系统管理员和档案员可以查看{what}。"},
        status=403,
    )


class UsageLogReaderMixin:
    report_name = ""

    def dispatch(self, request, *args, **kwargs):
        if not can_read_usage_log(request.user):
            return refuse(request, self.report_name)
        return super().dispatch(request, *args, **kwargs)


class RegisteredReportView(UsageLogReaderMixin, ReportView):
    """A ReportView whose only download is the registered export named by export_url_name."""

    paginate_by = 50
    export_url_name = ""

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        # Wagtail's own ?export= download would bypass 备案登记.
        self.is_export = False

    @cached_property
    def header_buttons(self):
        if not can_export(self.request.user):
            return []
        query = self.request.GET.copy()
        query.pop("p", None)
        url = reverse(self.export_url_name)
        if query:
            url += "?" + query.urlencode()
        return [HeaderButton("导出 Excel（备案登记）", url=url, icon_name="download", priority=10)]


NOWRAP = "w-whitespace-nowrap"
WRAP = "usage-wrap"  # usage/report.css


class UsageReportView(RegisteredReportView):
    report_name = "使用记录"
    page_title = "使用记录"
    header_icon = "list-ul"
    model = UsageRecord
    filterset_class = UsageRecordFilterSet
    index_url_name = "usage:records"
    index_results_url_name = "usage:records_results"
    export_url_name = "usage:records_export"
    no_results_message = "没有符合条件的使用记录。"
    columns = [
        Column("created_at", label="时间", accessor=local_time, classname="w-whitespace-nowrap"),
        # short values never wrap (names went one character per line at 1366 px); the
        # long ones (对象, 详情, 网址) wrap anywhere instead of pushing 地址 off the screen
        Column("username", label="账号", classname=NOWRAP),
        Column("user", label="用户", classname=NOWRAP),
        Column("action", label="操作", accessor="get_action_display", classname=NOWRAP),
        Column("ip_address", label="地址", classname=NOWRAP),
        Column("object_repr", label="对象", classname=WRAP),
        Column("detail", label="详情", classname=WRAP),
        Column("path", label="网址", classname=WRAP),
    ]

    def get_queryset(self):
        return UsageRecord.objects.select_related("user").order_by("-created_at", "-id")


class ExportRegistrationReportView(RegisteredReportView):
    report_name = "导出备案登记"
    page_title = "导出备案登记"
    header_icon = "download"
    model = ExportRegistration
    filterset_class = ExportRegistrationFilterSet
    index_url_name = "usage:exports"
    index_results_url_name = "usage:exports_results"
    export_url_name = "usage:exports_export"
    no_results_message = "没有符合条件的导出备案登记。"
    columns = [
        Column("created_at", label="时间", accessor=local_time, classname="w-whitespace-nowrap"),
        Column("username", label="账号"),
        Column("user", label="用户"),
        Column("role", label="导出时角色"),
        Column("module", label="模块"),
        Column("description", label="导出内容"),
        Column("purpose", label="用途"),
        Column("filename", label="文件名"),
        Column("row_count", label="行数"),
        Column("sha256", label="SHA-256 摘要（前 16 位）", accessor=short_digest),
        Column("ip_address", label="地址"),
    ]

    def get_queryset(self):
        return ExportRegistration.objects.select_related("user").order_by("-created_at", "-id")


class ReportExportView(RegisteredExportView):
    """Export of a filtered report; readers of the usage log only."""

    export_module = "使用记录"
    report_title = ""
    filterset_class = None
    headers: list[str] = []

    def has_export_permission(self, request):
        return can_read_usage_log(request.user) and super().has_export_permission(request)

    @cached_property
    def filterset(self):
        queryset = self.filterset_class.Meta.model.objects.select_related("user").order_by(
            "-created_at", "-id"
        )
        return self.filterset_class(self.request.GET, queryset=queryset, request=self.request)

    def get_export_description(self):
        filters = describe_filters(self.filterset)
        return f"{self.report_title}（{filters or '全部'}）"

    def row(self, item):
        raise NotImplementedError

    def build_export(self):
        rows = (self.row(item) for item in self.filterset.qs.iterator(chunk_size=2000))
        return xlsx_export(self.report_title, self.headers, rows)


class UsageRecordExportView(ReportExportView):
    report_title = "使用记录"
    filterset_class = UsageRecordFilterSet
    headers = ["时间", "账号", "用户", "操作", "地址", "对象类型", "对象", "详情", "网址"]

    def row(self, record):
        return [
            record.created_at,
            record.username,
            str(record.user) if record.user else "",
            record.get_action_display(),
            record.ip_address or "",
            record.object_type,
            record.object_repr,
            record.detail,
            record.path,
        ]


class ExportRegistrationExportView(ReportExportView):
    report_title = "导出备案登记"
    filterset_class = ExportRegistrationFilterSet
    headers = [
        "时间",
        "账号",
        "用户",
        "导出时角色",
        "模块",
        "导出内容",
        "用途",
        "文件名",
        "格式",
        "行数",
        "SHA-256 摘要",
        "地址",
    ]

    def row(self, registration):
        return [
            registration.created_at,
            registration.username,
            str(registration.user) if registration.user else "",
            registration.role,
            registration.module,
            registration.description,
            registration.purpose,
            registration.filename,
            registration.file_format,
            registration.row_count,
            registration.sha256,
            registration.ip_address or "",
        ]
