"""立卷归档 pages. Reading the archive: archive.view_archiveitem (档案员, 系统管理员, 工作人员);
filing, review and reports: cms.file_records. Rules live in services.py."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.encoding import escape_uri_path
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from modelsearch.backends import get_search_backend

from cms.usage.exports import RegisteredExportView

from . import catalogue, services
from .models import (
    FILE_PERMISSION,
    READ_PERMISSION,
    AccessAction,
    AccessRecord,
    ArchiveFile,
    ArchiveItem,
    Classification,
    Decision,
    FixityReport,
    ItemStatus,
    Retention,
)
from .rendition import RenditionError
from .sources import get_source, unfiled_candidates

SESSION_PURPOSES = "archive_purposes"


def _require(request, perm: str, message: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied(message)


def _require_read(request):
    _require(request, READ_PERMISSION, "您的角色无权查阅归档文件。")


def _require_file(request):
    _require(request, FILE_PERMISSION, "只有档案员和系统管理员可以立卷归档。")


def index(request):
    _require_read(request)
    query = request.GET.get("q", "").strip()
    results = None
    filed = ArchiveItem.objects.filed()
    if query:
        backend = get_search_backend()
        hits = backend.search(query, filed)
        ids = [hit.pk for hit in hits[:200]]
        by_id = {item.pk: item for item in filed.filter(pk__in=ids)}
        results = [by_id[pk] for pk in ids if pk in by_id]
    context = {
        "query": query,
        "results": results,
        "recent": filed.order_by("-filed_at", "-pk")[:10],
        "filed_count": filed.count(),
        "can_file": request.user.has_perm(FILE_PERMISSION),
        "groups": catalogue.groups()[:12],
    }
    if context["can_file"]:
        context["unfinished"] = ArchiveItem.objects.exclude(status=ItemStatus.FILED).order_by("-pk")
        context["candidate_count"] = len(unfiled_candidates())
        context["due_count"] = len(services.due_for_appraisal())
        context["last_fixity"] = FixityReport.objects.first()
    return render(request, "archive/index.html", {"section": "index"} | context)


def candidates(request):
    _require_file(request)
    found = unfiled_candidates()
    sections = {}
    for candidate in found:
        sections.setdefault(candidate.source.key, (candidate.source, []))[1].append(candidate)
    rules = {}
    for source, _items in sections.values():
        try:
            rules[source.key] = services.default_retention(source.record_type)
        except services.FilingError as exc:
            rules[source.key] = (None, None)
            messages.warning(request, str(exc))
    context = {
        "sections": [
            (source, entries, rules[source.key][0], rules[source.key][1])
            for source, entries in sections.values()
        ],
        "retentions": Retention.choices,
        "classes": services.classes_for_scheme(),
        "classifications": Classification.choices,
        "total": len(found),
    }
    return render(request, "archive/candidates.html", {"section": "candidates"} | context)


def file_source(request):
    """GET: confirm filing one record (from the page editor's 归档 action); POST: file it."""
    _require_file(request)
    if request.method != "POST":
        return _confirm_filing(request)
    key = request.POST.get("source", "")
    source_id = request.POST.get("source_id", "")
    corrects = None
    if request.POST.get("corrects"):
        corrects = get_object_or_404(ArchiveItem, pk=request.POST["corrects"])
    try:
        item = services.register_item(
            key,
            source_id,
            request.user,
            retention=request.POST.get("retention") or None,
            class_code=request.POST.get("class_code") or None,
            classification=request.POST.get("classification", ""),
            remarks=request.POST.get("remarks", "").strip(),
            corrects=corrects,
        )
    except services.FilingError as exc:
        messages.error(request, str(exc))
        return redirect(_safe_back(request))
    messages.success(request, f"已登记归档，档号 {item.item_number}。正在生成带归档章的版式文件。")
    return redirect("archive:item", pk=item.pk)


def _confirm_filing(request):
    key = request.GET.get("source", "")
    source_id = request.GET.get("source_id", "")
    try:
        source = get_source(key)
        obj = source.load(source_id)
    except Exception:
        raise Http404("要归档的材料不存在。") from None
    existing = services.already_filed(key, source.id_of(obj))
    try:
        retention, default_class = services.default_retention(source.record_type)
    except services.FilingError as exc:
        messages.warning(request, str(exc))
        retention, default_class = None, None
    context = {
        "source": source,
        "source_id": source.id_of(obj),
        "label": source.display(obj),
        "existing": existing,
        "retention": retention,
        "default_class": default_class,
        "retentions": Retention.choices,
        "classes": services.classes_for_scheme(),
        "classifications": Classification.choices,
    }
    return render(request, "archive/file_confirm.html", {"section": "candidates"} | context)


def _safe_back(request) -> str:
    back = request.POST.get("back", "")
    if back and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return back
    return reverse("archive:candidates")


def _purposes(request) -> dict:
    return request.session.get(SESSION_PURPOSES, {})


def item_detail(request, pk):
    _require_read(request)
    item = get_object_or_404(
        ArchiveItem.objects.select_related("corrects", "filed_by", "source_type"), pk=pk
    )
    can_file = request.user.has_perm(FILE_PERMISSION)
    if not item.is_filed and not can_file:
        raise Http404("该文件尚未完成归档。")
    purpose = _purposes(request).get(str(item.pk), "")
    if item.is_filed:
        services.record_access(request, item, AccessAction.CONSULT, purpose)
    context = {
        "item": item,
        "files": item.files.all(),
        "events": item.events.select_related("actor"),
        "corrections": item.corrections.all(),
        "purpose": purpose,
        "can_file": can_file,
        "appraisals": item.appraisals.select_related("decided_by"),
        "accesses": item.accesses.select_related("user", "file")[:50] if can_file else None,
        "refresh": item.status == ItemStatus.RENDERING,
        "source_url": _source_url(item),
        "sm3": services.sm3_available(),
    }
    return render(request, "archive/item.html", {"section": "index"} | context)


def _source_url(item) -> str:
    try:
        source = get_source(item.source_key)
        return source.url_of(source.load(item.source_id))
    except Exception:  # the source may be gone; the archive keeps its own copy
        return ""


@require_POST
def item_purpose(request, pk):
    _require_read(request)
    item = get_object_or_404(ArchiveItem.objects.filed(), pk=pk)
    try:
        purpose = services.clean_purpose(request.POST.get("purpose", ""))
    except services.FilingError as exc:
        messages.error(request, str(exc))
        return redirect("archive:item", pk=item.pk)
    purposes = _purposes(request)
    purposes[str(item.pk)] = purpose
    request.session[SESSION_PURPOSES] = purposes
    messages.success(request, "利用目的已登记，可以下载文件。")
    return redirect("archive:item", pk=item.pk)


def download(request, pk, file_pk):
    _require_read(request)
    item = get_object_or_404(ArchiveItem.objects.filed(), pk=pk)
    stored = get_object_or_404(ArchiveFile, pk=file_pk, item=item)
    purpose = _purposes(request).get(str(item.pk))
    if not purpose:
        messages.error(request, "下载前请先登记利用目的。")
        return redirect("archive:item", pk=item.pk)
    path = services.file_path(stored)
    if not path.is_file():
        messages.error(request, "该文件在存储区中缺失，已无法提供；请通知档案员核查。")
        return redirect("archive:item", pk=item.pk)
    sha, _sm3 = services.file_digests(path)
    if sha != stored.sha256:
        messages.error(
            request, "该文件的摘要与归档时不一致（可能已被改动），不予提供；请通知档案员核查。"
        )
        return redirect("archive:item", pk=item.pk)
    services.record_access(request, item, AccessAction.DOWNLOAD, purpose, archive_file=stored)
    response = FileResponse(path.open("rb"), content_type=_content_type(stored.name))
    name = services.download_name(stored)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{escape_uri_path(name)}"
    response["Cache-Control"] = "no-store"
    return response


def _content_type(name: str) -> str:
    import mimetypes

    return mimetypes.guess_type(name)[0] or "application/octet-stream"


@require_POST
def retry(request, pk):
    _require_file(request)
    item = get_object_or_404(ArchiveItem, pk=pk)
    try:
        services.retry_item(item, request.user)
        messages.success(request, "已重新提交生成归档文件。")
    except services.FilingError as exc:
        messages.error(request, str(exc))
    return redirect("archive:item", pk=item.pk)


# --- catalogue ------------------------------------------------------------------------------


def _catalogue_key(request) -> catalogue.CatalogueKey | None:
    try:
        year = int(request.GET.get("year", ""))
    except ValueError:
        return None
    retention = request.GET.get("retention", "")
    class_code = request.GET.get("class_code", "")
    if retention not in Retention.values or not class_code:
        return None
    return catalogue.CatalogueKey(year, retention, class_code)


def catalogue_view(request):
    _require_read(request)
    key = _catalogue_key(request)
    context = {"groups": catalogue.groups(), "key": key, "headers": catalogue.HEADERS}
    if key is not None:
        context["rows"] = catalogue.rows(key)
        context["query"] = request.GET.urlencode()
    return render(request, "archive/catalogue.html", {"section": "catalogue"} | context)


class CatalogueExportView(RegisteredExportView):
    export_module = "立卷归档"
    file_format = "xlsx"

    def has_export_permission(self, request) -> bool:
        return super().has_export_permission(request) and request.user.has_perm(READ_PERMISSION)

    def key(self):
        key = _catalogue_key(self.request)
        if key is None:
            raise Http404("请选择年度、保管期限和机构（问题）。")
        return key

    def get_export_description(self) -> str:
        key = _catalogue_key(self.request)
        return key.title if key else "归档文件目录"

    def build_export(self):
        key = self.key()
        builder = {"xlsx": catalogue.as_xlsx, "docx": catalogue.as_docx, "pdf": catalogue.as_pdf}
        return builder[self.kwargs["fmt"]](key)

    def produce(self, purpose):
        try:
            return super().produce(purpose)
        except RenditionError as exc:
            messages.error(self.request, str(exc))
            return redirect(f"{reverse('archive:catalogue')}?{self.request.GET.urlencode()}")


# --- retention review, access register, fixity ----------------------------------------------


def review(request):
    _require_file(request)
    if request.method == "POST":
        item = get_object_or_404(ArchiveItem.objects.filed(), pk=request.POST.get("item"))
        try:
            decision = services.decide_appraisal(
                item,
                request.user,
                request.POST.get("decision", ""),
                request.POST.get("reason", ""),
                extend_to_year=request.POST.get("extend_to_year") or None,
            )
            messages.success(
                request, f"{item.item_number}：已记录鉴定结论“{decision.get_decision_display()}”。"
            )
        except (services.FilingError, ValueError) as exc:
            messages.error(request, f"{item.item_number}：{exc}")
        return redirect("archive:review")
    from .models import AppraisalDecision

    context = {
        "due": services.due_for_appraisal(),
        "decisions": Decision.choices,
        "recent": AppraisalDecision.objects.select_related("item", "decided_by").order_by(
            "-at", "-id"
        )[:30],
    }
    return render(request, "archive/review.html", {"section": "review"} | context)


def access_register(request):
    _require_file(request)
    records = AccessRecord.objects.select_related("item", "file", "user")
    page = Paginator(records, 50).get_page(request.GET.get("page"))
    return render(request, "archive/access.html", {"section": "access"} | {"page": page})


def fixity_reports(request):
    _require_file(request)
    if request.method == "POST":
        from .fixity import verify_all

        report = verify_all(trigger=f"{request.user.get_full_name()}手动核验")
        if report.ok:
            messages.success(request, f"核验完成：{report.files_checked} 个文件全部完好。")
        else:
            messages.error(
                request,
                f"核验发现问题：缺失 {len(report.missing)} 个，被改动 {len(report.altered)} 个。",
            )
        return redirect("archive:fixity_report", pk=report.pk)
    page = Paginator(FixityReport.objects.all(), 30).get_page(request.GET.get("page"))
    return render(request, "archive/fixity_list.html", {"section": "fixity"} | {"page": page})


def fixity_report(request, pk):
    _require_file(request)
    report = get_object_or_404(FixityReport, pk=pk)
    return render(request, "archive/fixity_report.html", {"section": "fixity"} | {"report": report})
