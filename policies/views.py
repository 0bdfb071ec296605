from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from . import services
from .browse import browse_context
from .models import READ_PERMISSION, UPLOAD_PERMISSION, Bookmark, PolicyFile, PolicyPage
from .reading import build_reading, status_context

reader_required = permission_required(READ_PERMISSION, raise_exception=True)


def _same_site_path(candidate: str) -> str:
    """Only a path on this site ("/..."), never another host (issue 14)."""
    if (
        candidate.startswith("/")
        and not candidate.startswith(("//", "/\\"))
        and url_has_allowed_host_and_scheme(candidate, allowed_hosts=set())
    ):
        return candidate
    return ""


def _readable_page(request, page_id) -> PolicyPage:
    page = get_object_or_404(PolicyPage, pk=page_id)
    if not page.live and not request.user.has_perm(UPLOAD_PERMISSION):
        raise Http404
    return page


@reader_required
def browse(request):
    return render(request, "policies/browse.html", browse_context(request))


@reader_required
def print_view(request, page_id):
    page = _readable_page(request, page_id)
    return render(
        request,
        "policies/policy_print.html",
        {
            "page": page,
            "reading": build_reading(page, request.GET.get("q", "")[:200]),
            **status_context(page),
        },
    )


@reader_required
def download_original(request, file_id):
    record = get_object_or_404(PolicyFile, pk=file_id)
    if not record.file:
        raise Http404
    if not (record.page and record.page.live) and not request.user.has_perm(UPLOAD_PERMISSION):
        raise PermissionDenied
    return FileResponse(record.file.open("rb"), as_attachment=True, filename=record.original_name)


@require_POST
@reader_required
def toggle_bookmark(request, page_id):
    page = _readable_page(request, page_id)
    now = services.toggle_bookmark(request.user, page)
    messages.success(
        request, f"已收藏《{page.title}》。" if now else f"已取消收藏《{page.title}》。"
    )
    return redirect(_same_site_path(request.POST.get("next", "")) or page.url)


@require_POST
@reader_required
def add_excerpt(request, page_id):
    page = _readable_page(request, page_id)
    try:
        excerpt = services.create_excerpt(
            request.user,
            page,
            article_label=request.POST.get("article", ""),
            text=request.POST.get("text", ""),
            note=request.POST.get("note", ""),
            tags=request.POST.get("tags", ""),
        )
    except ValidationError as error:
        messages.error(request, "；".join(error.messages))
        return redirect(page.url)
    messages.success(request, f"已摘录{excerpt.citation}。")
    return redirect(excerpt.url)


@require_POST
@login_required
def delete_excerpt(request, excerpt_id):
    services.delete_excerpt(request.user, excerpt_id)
    messages.success(request, "已删除摘录。")
    return redirect("policies:excerpts")


@reader_required
def my_bookmarks(request):
    bookmarks = Bookmark.objects.filter(user=request.user).select_related("page")
    return render(request, "policies/bookmarks.html", {"bookmarks": bookmarks})


@reader_required
def my_excerpts(request):
    excerpts = services.excerpts_of(request.user)
    tag = request.GET.get("tag", "").strip()
    if tag:
        excerpts = excerpts.filter(tags__name=tag)
    tags = sorted({t.name for e in services.excerpts_of(request.user) for t in e.tags.all()})
    export_url = ""
    if request.user.has_perm("cms.export_data"):
        export_url = reverse("policies:export_excerpts") + (f"?tag={quote(tag)}" if tag else "")
    return render(
        request,
        "policies/excerpts.html",
        {"excerpts": excerpts, "tags": tags, "tag": tag, "export_url": export_url},
    )
