from django.contrib import messages as flash
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from . import services
from .models import Message

PAGE_SIZE = 20


def _own_message(request, pk) -> Message:
    # Another person's message is answered exactly like a missing one.
    # An e-mail-only notice is not in the inbox, so it is not found here either.
    return get_object_or_404(Message.objects.for_user(request.user), pk=pk)


def inbox(request):
    """收件箱: unread first, then newest."""
    queryset = Message.objects.for_user(request.user).inbox_order()
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "notifications/inbox.html",
        {"page": page, "unread": services.unread_count(request.user)},
    )


def message_detail(request, pk):
    message = _own_message(request, pk)
    services.mark_read(message)
    return render(
        request,
        "notifications/detail.html",
        {"message": message, "link_ok": services.is_site_path(message.url)},
    )


def open_message(request, pk):
    """Mark read, then go to where the message points (only a path on this site)."""
    message = _own_message(request, pk)
    services.mark_read(message)
    if services.is_site_path(message.url):
        return redirect(message.url)
    return redirect("notifications:detail", pk=message.pk)


@require_POST
def mark_all_read(request):
    changed = services.mark_all_read(request.user)
    if changed:
        flash.success(request, f"已将 {changed} 条消息标为已读。")
    else:
        flash.info(request, "没有未读消息。")
    return redirect("notifications:inbox")
