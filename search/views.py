"""The search page (/search/) and the suggestions behind the header box."""

from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from cms.usage.services import UsageAction, record_usage

from .forms import SavedSearchForm, SearchForm
from .query_syntax import QuerySyntaxError, parse_query
from .registry import (
    FACET_LABELS,
    SORTS,
    autocomplete_titles,
    complete_shown,
    did_you_mean,
    relaxed_search,
    run_search,
)

RESULTS_PER_PAGE = 20
SUGGESTIONS = 8


def _url_with(params: dict, **changes) -> str:
    merged = {k: v for k, v in params.items() if v not in (None, "")}
    for key, value in changes.items():
        if value in (None, ""):
            merged.pop(key, None)
        else:
            merged[key] = value
    return "?" + urlencode(merged)


def _facet_groups(outcome, params) -> list[dict]:
    groups = []
    for key, label in FACET_LABELS.items():
        options = outcome.facets.get(key) or []
        if not options:
            continue
        groups.append(
            {
                "key": key,
                "label": label,
                "options": [
                    {
                        "label": option.label,
                        "count": option.count,
                        "selected": option.selected,
                        "url": _url_with(
                            params, **{key: None if option.selected else option.value}
                        ),
                    }
                    for option in options
                ],
            }
        )
    return groups


@require_GET
def search_page(request):
    form = SearchForm(request.GET)
    form.is_valid()
    data = getattr(form, "cleaned_data", {})
    # the box as typed, even past the form's length (parse_query explains the limit)
    text = " ".join((request.GET.get("q") or "").split())
    filters = form.filters()
    sort = data.get("sort") or "relevance"
    params = {"q": text, **filters, "sort": sort if sort != "relevance" else ""}
    context = {
        "search_query": text,
        "filters": filters,
        "sort": sort,
        "sorts": [
            {"key": key, "label": label, "url": _url_with(params, sort=key), "active": key == sort}
            for key, label in SORTS.items()
        ],
        "error": "",
        "outcome": None,
    }
    if text:
        try:
            parsed = parse_query(text)
        except QuerySyntaxError as exc:
            context["error"] = str(exc)
            parsed = None
        record_usage(request, UsageAction.SEARCH, detail=text[:500])
        outcome = None
        if parsed is not None and not parsed.is_empty:
            try:
                outcome = run_search(request.user, parsed, filters, sort)
            except QuerySyntaxError as exc:  # past the time budget
                context["error"] = str(exc)
        if outcome is not None:
            relaxed = relaxed_search(request.user, outcome) if outcome.total == 0 else None
            shown = relaxed or outcome
            page = Paginator(shown.results, RESULTS_PER_PAGE).get_page(data.get("page") or 1)
            complete_shown(page.object_list)
            context.update(
                outcome=outcome,
                relaxed=relaxed,
                shown=shown,
                page_obj=page,
                facet_groups=_facet_groups(outcome, params),
                notices=parsed.notices,
                page_links=[
                    {"number": n, "url": _url_with(params, page=n), "current": n == page.number}
                    for n in page.paginator.get_elided_page_range(page.number, on_each_side=2)
                    if isinstance(n, int)
                ],
                prev_url=_url_with(params, page=page.number - 1) if page.has_previous() else "",
                next_url=_url_with(params, page=page.number + 1) if page.has_next() else "",
                suggestions=(
                    [
                        {**s, "url": "?" + urlencode({"q": s["query"]})}
                        for s in did_you_mean(request.user, parsed)
                    ]
                    if outcome.total == 0 and relaxed is None
                    else []
                ),
                save_form=SavedSearchForm(initial={"name": text[:100], "q": text}),
            )
    return render(request, "search/search.html", context)


@require_GET
def suggest(request):
    """JSON titles for what the user is typing (only what the user may see)."""
    text = " ".join((request.GET.get("q") or "").split())[:50]
    items = autocomplete_titles(request.user, text, limit=SUGGESTIONS) if text else []
    return JsonResponse(
        {
            "query": text,
            "suggestions": items,
            "search_url": "/search/?" + urlencode({"q": text}) if text else "",
        },
        json_dumps_params={"ensure_ascii": False},
    )
