"""Browsing the library: filters by category, effect level, status, issuer and year, each
with the counts the other chosen filters leave."""

from django.core.paginator import Paginator
from django.db.models import Count

from .choices import EffectLevel, Validity
from .models import PolicyCategory, PolicyPage

FILTERS = ("category", "level", "status", "issuer", "year")
PER_PAGE = 20


def _filters_from(params) -> dict:
    chosen = {}
    for name in FILTERS:
        value = (params.get(name) or "").strip()
        if value:
            chosen[name] = value
    return chosen


def _apply(queryset, chosen: dict, skip: str = ""):
    for name, value in chosen.items():
        if name == skip:
            continue
        if name == "category":
            category = PolicyCategory.objects.filter(pk=value if value.isdigit() else 0).first()
            ids = category.descendant_ids() if category else [0]
            queryset = queryset.filter(categories__in=ids)
        elif name == "level":
            queryset = queryset.filter(effect_level=value)
        elif name == "status":
            queryset = queryset.filter(status=value)
        elif name == "issuer":
            queryset = queryset.filter(issuer=value)
        elif name == "year":
            queryset = queryset.filter(year=int(value) if value.isdigit() else 0)
    return queryset.distinct()


def _link(chosen: dict, name: str, value) -> str:
    from urllib.parse import urlencode

    params = {k: v for k, v in chosen.items() if k != name}
    if value is not None and str(chosen.get(name)) != str(value):
        params[name] = value
    return "?" + urlencode(params) if params else "?"


def facets(chosen: dict) -> list[dict]:
    base = PolicyPage.objects.live()
    out = []

    def facet(name, title, rows):
        out.append(
            {
                "name": name,
                "title": title,
                "options": [
                    {
                        "value": value,
                        "label": label,
                        "count": count,
                        "active": str(chosen.get(name)) == str(value),
                        "url": _link(chosen, name, value),
                    }
                    for value, label, count in rows
                    if count
                ],
            }
        )

    # categories: counted with their sub-categories
    pages = _apply(base, chosen, "category")
    direct = dict(
        PolicyCategory.objects.filter(policypage__in=pages)
        .values_list("pk")
        .annotate(n=Count("policypage", distinct=True))
    )
    categories = list(PolicyCategory.objects.all())
    rows = []
    for category in sorted(
        categories, key=lambda c: [(n.sort_order, n.name) for n in c.ancestry()]
    ):
        ids = set(category.descendant_ids())
        count = pages.filter(categories__in=ids).distinct().count() if ids & direct.keys() else 0
        depth = len(category.ancestry()) - 1
        rows.append((category.pk, "\u3000" * depth + category.name, count))
    facet("category", "分类", rows)

    # order_by() first: Page's default ordering (path) would split every group into rows of 1
    levels = dict(
        _apply(base, chosen, "level").order_by().values_list("effect_level").annotate(n=Count("pk"))
    )
    facet("level", "效力级别", [(v, label, levels.get(v, 0)) for v, label in EffectLevel.choices])
    statuses = dict(
        _apply(base, chosen, "status").order_by().values_list("status").annotate(n=Count("pk"))
    )
    facet("status", "时效性", [(v, label, statuses.get(v, 0)) for v, label in Validity.choices])
    issuers = (
        _apply(base, chosen, "issuer")
        .exclude(issuer="")
        .values_list("issuer")
        .annotate(n=Count("pk"))
        .order_by("-n", "issuer")[:30]
    )
    facet("issuer", "发文机关", [(i, i, n) for i, n in issuers])
    years = (
        _apply(base, chosen, "year")
        .exclude(year=None)
        .values_list("year")
        .annotate(n=Count("pk"))
        .order_by("-year")
    )
    facet("year", "年份", [(y, f"{y}年", n) for y, n in years])
    return out


def browse_context(request, index_page=None) -> dict:
    chosen = _filters_from(request.GET)
    results = _apply(PolicyPage.objects.live(), chosen).order_by("-issued_on", "-pk")
    paginator = Paginator(results, PER_PAGE)
    page_obj = paginator.get_page(request.GET.get("page"))
    recent = PolicyPage.objects.live().order_by("-first_published_at")[:8]
    return {
        "page": index_page,
        "facets": facets(chosen),
        "chosen": chosen,
        "results": page_obj,
        "total": paginator.count,
        "recent": recent,
        "can_upload": request.user.has_perm("cms.publish_material"),
    }
