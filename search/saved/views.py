"""我的检索: list, save, run, subscribe and delete one's own saved searches."""

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from search.forms import SavedSearchForm

from . import services
from .models import SavedSearch


def _own(request, pk) -> SavedSearch:
    try:
        return services.owned_saved_search(request.user, pk)
    except SavedSearch.DoesNotExist as exc:
        raise Http404("没有这条保存的检索。") from exc


@require_GET
def saved_list(request):
    items = [
        {
            "saved": saved,
            "run_url": services.saved_search_url(saved),
            "filters_text": services.describe_filters(saved.filters),
        }
        for saved in SavedSearch.objects.filter(user=request.user)
    ]
    return render(request, "search/saved_list.html", {"items": items})


@require_POST
def saved_create(request):
    form = SavedSearchForm(request.POST)
    back = "/search/?" + urlencode({"q": request.POST.get("q", "")})
    if not form.is_valid():
        messages.error(request, "保存失败：请填写名称和检索式。")
        return redirect(back)
    try:
        saved = services.create_saved_search(
            request.user,
            name=form.cleaned_data["name"],
            query=form.cleaned_data["q"],
            filters=form.filters(),
            sort=form.cleaned_data.get("sort") or "relevance",
            subscribed=form.cleaned_data["subscribed"],
        )
    except ValidationError as exc:
        messages.error(request, "保存失败：" + "；".join(exc.messages))
        return redirect(back)
    note = "，有新结果时将通知您" if saved.subscribed else ""
    messages.success(request, f"已保存检索“{saved.name}”{note}。")
    return redirect("search:saved_list")


@require_POST
def saved_subscription(request, pk):
    saved = _own(request, pk)
    subscribe = request.POST.get("subscribed") == "1"
    services.set_subscription(saved, subscribe)
    if subscribe:
        messages.success(request, f"已订阅“{saved.name}”，有新结果时将通知您。")
    else:
        messages.success(request, f"已取消订阅“{saved.name}”。")
    return redirect("search:saved_list")


@require_POST
def saved_delete(request, pk):
    saved = _own(request, pk)
    name = saved.name
    services.delete_saved_search(saved)
    messages.success(request, f"已删除检索“{name}”。")
    return redirect("search:saved_list")
