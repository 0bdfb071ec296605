"""Admin pages of the library: upload (one file, many, or a ZIP) and the status list the
uploader watches while the worker extracts."""

from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from cms.usage.services import UsageAction, record_usage

from .extraction import max_upload_bytes
from .ingest import LATER, Report, _error, new_batch, page_link, queue_together, receive_upload
from .models import UPLOAD_PERMISSION, PolicyFile


def _require_uploader(request):
    if not request.user.has_perm(UPLOAD_PERMISSION):
        record_usage(request, UsageAction.DENIED, detail="无权上传政策法规文件")
        raise PermissionDenied("只有工作人员可以上传政策法规文件。")


def upload(request):
    _require_uploader(request)
    if request.method == "POST":
        files = request.FILES.getlist("files")
        if not files:
            return render(
                request,
                "policies/admin/upload.html",
                {"error": "请选择要上传的文件。", "limit_mb": max_upload_bytes() // 1048576},
            )
        publish = bool(request.POST.get("publish"))
        batch = new_batch()
        received = []
        for uploaded in files:
            if uploaded.size > max_upload_bytes():
                # refused without reading it into memory
                received.append(
                    _error(
                        uploaded.name,
                        f"文件过大（{uploaded.size / 1048576:.1f} MB），超过上限 "
                        f"{max_upload_bytes() / 1048576:.0f} MB。",
                        request.user,
                        batch,
                        uploaded.size,
                        publish,
                    )
                )
                continue
            received.extend(
                receive_upload(uploaded.name, uploaded.read(), request.user, publish, batch, LATER)
            )
        queue_together(received)  # one task: the index is written in batches
        record_usage(
            request,
            UsageAction.UPLOAD,
            detail=f"政策法规库上传 {len(files)} 个文件（{len(received)} 项）：批次 {batch}",
        )
        return redirect(reverse("policies_admin:status") + f"?batch={batch}")
    return render(
        request, "policies/admin/upload.html", {"limit_mb": max_upload_bytes() // 1048576}
    )


def status(request):
    _require_uploader(request)
    batch = request.GET.get("batch", "")
    records = PolicyFile.objects.select_related("page", "duplicate_of")
    if batch:
        records = records.filter(batch=batch)
    else:
        records = records.all()[:100]
    records = list(records)
    finished = all(record.is_finished for record in records)
    if request.GET.get("format") == "json":
        return JsonResponse(
            {
                "finished": finished,
                "files": [
                    {
                        **Report(record).as_dict(),
                        "state": record.get_status_display(),
                        "message": record.message,
                    }
                    for record in records
                ],
            },
            json_dumps_params={"ensure_ascii": False},
        )
    rows = [
        {
            "record": record,
            "link": page_link(record.page or record.duplicate_of),
            "linked": record.page or record.duplicate_of,
        }
        for record in records
    ]
    return render(
        request,
        "policies/admin/status.html",
        {
            "rows": rows,
            "finished": finished,
            "batch": batch,
            "done": sum(record.is_finished for record in records),
        },
    )
