"""建议分析: statistics of a term or a year with their charts and exports, and hot topics.

Rules live in suggestions/statistics.py and suggestions/hot_topics.py; these views read the
period from the query string, check who is asking and render.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django import forms
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.http import urlencode

from budget.charts import FONT, _svg
from cms.usage.exports import RegisteredExportView, xlsx_export
from suggestions.opinions.services import can_read as can_read_opinions

from . import hot_topics, statistics
from .choices import Status
from .models import Session, Suggestion, Term
from .services import visible_to

HOT_TOPIC_SUGGESTIONS_SHOWN = 100


def insights_nav(user) -> dict:
    return {
        "stats": statistics.can_view_statistics(user),
        "hot": statistics.can_view_statistics(user),
        "opinions": can_read_opinions(user),
    }


def _require_statistics(request):
    if not statistics.can_view_statistics(request.user):
        raise PermissionDenied("您的角色无权查看代表建议统计。")


# --- the period ----------------------------------------------------------------------


class PeriodForm(forms.Form):
    term = forms.ModelChoiceField(
        label="届次", queryset=Term.objects.all(), required=False, empty_label="全部届次"
    )
    year = forms.IntegerField(label="提出年度", min_value=1990, max_value=2100, required=False)


def _default_term():
    return Term.objects.filter(is_current=True).first() or Term.objects.first()


def _period(request):
    """(form, term, year, ok): the term and/or year asked for; the current term by default."""
    if not request.GET:
        term = _default_term()
        form = PeriodForm(initial={"term": term.pk if term else None})
        return form, term, None, True
    form = PeriodForm(request.GET)
    if not form.is_valid():
        return form, None, None, False
    return form, form.cleaned_data.get("term"), form.cleaned_data.get("year"), True


def period_label(term, year) -> str:
    parts = [str(term) if term else "全部届次"]
    if year:
        parts.append(f"{year}年提出")
    return " · ".join(parts)


def _period_query(term, year, **extra) -> str:
    values = {"term": term.pk if term else "", "year": year or "", **extra}
    return urlencode({k: v for k, v in values.items() if v not in ("", None)})


# --- charts (server-side SVG, numbers on the bars) --------------------------------------


def bar_chart(rows, title: str, *, maximum=None, suffix: str = "") -> str:
    """Horizontal bars: rows = [(label, value, url or "")]; the value is written next to
    each bar, so the chart reads without its table (which the page shows as well)."""
    rows = [(label, value, url) for label, value, url in rows if value is not None]
    if not rows:
        return ""
    label_width, bar_width, row_height, top = 200, 420, 24, 10
    top_value = float(maximum if maximum is not None else max(float(v) for _l, v, _u in rows))
    scale = bar_width / top_value if top_value else 0
    height = top + row_height * len(rows) + 10
    parts = []
    for index, (label, value, url) in enumerate(rows):
        y = top + index * row_height
        width = max(0.0, float(value) * scale)
        shown = f"{value}{suffix}"
        tip = escape(f"{label}：{shown}")
        bar = (
            f'<rect x="{label_width}" y="{y + 4}" width="{width:.1f}" height="{row_height - 8}" '
            f'fill="#0b5cad"><title>{tip}</title></rect>'
        )
        if url:
            bar = f'<a href="{escape(url)}">{bar}</a>'
        parts.append(
            f'<text x="{label_width - 6}" y="{y + row_height / 2 + 4}" text-anchor="end" {FONT}>'
            f"{escape(str(label)[:16])}</text>{bar}"
            f'<text x="{label_width + width + 4:.1f}" y="{y + row_height / 2 + 4}" {FONT}>'
            f"{escape(shown)}</text>"
        )
    return _svg(label_width + bar_width + 80, height, title, "".join(parts))


# --- tables (the page and the export share them) -------------------------------------


def _rate_cell(value: Decimal | None) -> str:
    return statistics.format_rate(value)


def table_overall(stats) -> tuple[list[str], list[list]]:
    m = stats.overall
    headers = ["指标", "数值", "计算口径"]
    rows = [
        ["建议总数", m.total, "所选期间提出的建议（议案转为建议的只计一次）"],
        ["已交办", m.assigned, ""],
        ["已答复", m.answered, ""],
        ["办复率", _rate_cell(m.answer_rate), f"已答复 {m.answered} ÷ 已交办 {m.assigned}"],
        ["按期答复", m.on_time, ""],
        [
            "按期办结率",
            _rate_cell(m.on_time_rate),
            f"按期答复 {m.on_time} ÷ 已答复 {m.answered}",
        ],
        ["已评价", m.evaluated, "每件按代表最近一次评价计"],
        [
            "满意率（含基本满意）",
            _rate_cell(m.satisfaction_rate),
            f"（满意 {m.satisfied} + 基本满意 {m.basically}）÷ 已评价 {m.evaluated}",
        ],
        [
            "满意率（仅满意）",
            _rate_cell(m.fully_satisfied_rate),
            f"满意 {m.satisfied} ÷ 已评价 {m.evaluated}",
        ],
        ["不满意", m.dissatisfied, ""],
        [
            "附议代表满意率",
            _rate_cell(m.cosigner_satisfaction_rate),
            f"附议代表评价满意及基本满意 {m.cosigner_satisfied} ÷ 附议代表评价 "
            f"{m.cosigner_evaluated}（不影响办理状态）",
        ],
        [
            "面商率",
            _rate_cell(m.consultation_rate),
            f"答复前面商 {m.consulted} ÷ 已答复 {m.answered}",
        ],
        [
            "重点督办满意办结率",
            _rate_cell(m.key_supervision_rate),
            f"领衔代表满意或基本满意 {m.key_done} ÷ 重点督办 {m.key_total}",
        ],
        ["逾期未答复", m.overdue, "仍在办理且已过要求办结日期"],
    ]
    return headers, rows


def table_counts(rows) -> tuple[list[str], list[list]]:
    return ["项目", "件数", "占比"], [[r.label, r.count, _rate_cell(r.share)] for r in rows]


def table_units(units) -> tuple[list[str], list[list]]:
    headers = [
        "排名",
        "单位编码",
        "主办单位",
        "交办件数",
        "已答复",
        "办复率",
        "按期答复",
        "按期办结率",
        "已评价",
        "满意率（含基本满意）",
        "满意率（仅满意）",
        "逾期",
        "协办件数",
    ]
    rows = [
        [
            u.rank,
            u.code,
            u.name,
            u.measures.assigned,
            u.measures.answered,
            _rate_cell(u.measures.answer_rate),
            u.measures.on_time,
            _rate_cell(u.measures.on_time_rate),
            u.measures.evaluated,
            _rate_cell(u.measures.satisfaction_rate),
            _rate_cell(u.measures.fully_satisfied_rate),
            u.measures.overdue,
            u.co_handled,
        ]
        for u in units
    ]
    return headers, rows


def table_overdue(rows) -> tuple[list[str], list[list]]:
    headers = ["编号", "标题", "主办单位", "状态", "要求办结日期", "逾期天数", "重点督办"]
    return headers, [
        [
            r.code,
            r.title,
            r.unit,
            r.status,
            r.due_on,
            r.days_late,
            "是" if r.key_supervision else "",
        ]
        for r in rows
    ]


def table_scores(scores) -> tuple[list[str], list[list]]:
    """办理工作考评: each unit's score with every component and its weight."""
    headers = ["排名", "单位编码", "主办单位", "交办件数", "考评得分"]
    for label, _, share in scores[0].components if scores else []:
        headers.append(f"{label}（权重 {share}%）")
    rows = []
    for row in scores:
        rows.append(
            [
                row.rank or "—",
                row.unit.code,
                row.unit.name,
                row.unit.measures.assigned,
                "—" if row.score is None else str(row.score),
                *(_rate_cell(value) for _, value, _ in row.components),
            ]
        )
    return headers, rows


TABLES = {
    "overall": ("总体情况", lambda stats: table_overall(stats)),
    "status": ("按办理状态", lambda stats: table_counts(stats.by_status)),
    "category": ("按分类", lambda stats: table_counts(stats.by_category)),
    "units": ("承办单位排名", lambda stats: table_units(stats.units)),
    "overdue": ("逾期未答复", lambda stats: table_overdue(stats.overdue)),
    "scores": ("承办单位办理工作考评", lambda stats: table_scores(stats.scores)),
}


def _statistics_for(term, year, today=None):
    queryset = statistics.in_scope(Suggestion.objects.all(), term=term, year=year)
    return statistics.compute(queryset, today)


# --- pages ---------------------------------------------------------------------------


def stats_page(request):
    _require_statistics(request)
    form, term, year, ok = _period(request)
    context = {
        "section": "stats",
        "nav": insights_nav(request.user),
        "form": form,
        "terms": Term.objects.all(),
        "can_export": request.user.has_perm("cms.export_data"),
        "show_overdue_list": statistics.can_view_overdue_list(request.user),
    }
    if not ok:
        return render(request, "suggestions/insights/stats.html", context, status=400)
    stats = _statistics_for(term, year)
    query = _period_query(term, year)
    m = stats.overall
    rate_rows = [
        ("办复率", m.answer_rate, ""),
        ("按期办结率", m.on_time_rate, ""),
        ("满意率（含基本满意）", m.satisfaction_rate, ""),
        ("满意率（仅满意）", m.fully_satisfied_rate, ""),
    ]
    hot_url = reverse("suggestion_insights:hot_topics")
    context.update(
        {
            "stats": stats,
            "period": period_label(term, year),
            "query": query,
            "export_url": reverse("suggestion_insights:stats_export") + "?" + query,
            "overall_table": table_overall(stats),
            "status_table": table_counts(stats.by_status),
            "category_table": table_counts(stats.by_category),
            "units_table": table_units(stats.units),
            "overdue_table": table_overdue(stats.overdue),
            "scores_table": table_scores(stats.scores),
            "score_formula": statistics.score_formula(),
            "rates_chart": bar_chart(
                rate_rows,
                f"{period_label(term, year)}：办复率、按期办结率、满意率",
                maximum=100,
                suffix="%",
            ),
            "category_chart": bar_chart(
                [(r.label, r.count, "") for r in stats.by_category],
                f"{period_label(term, year)}：按分类的件数",
                suffix=" 件",
            ),
            "status_chart": bar_chart(
                [(r.label, r.count, "") for r in stats.by_status],
                f"{period_label(term, year)}：按办理状态的件数",
                suffix=" 件",
            ),
            "units_chart": bar_chart(
                [(u.name, u.measures.answer_rate, "") for u in stats.units[:15]],
                f"{period_label(term, year)}：承办单位办复率（前 15 名）",
                maximum=100,
                suffix="%",
            ),
            "hot_url": hot_url + "?" + query,
        }
    )
    return render(request, "suggestions/insights/stats.html", context)


class StatisticsExportView(RegisteredExportView):
    """One statistics table of a period as XLSX, registered (备案登记)."""

    export_module = "代表建议"

    def has_export_permission(self, request) -> bool:
        if not super().has_export_permission(request):
            return False
        if not statistics.can_view_statistics(request.user):
            return False
        if self._table_key() == "overdue":
            return statistics.can_view_overdue_list(request.user)
        return True

    def _table_key(self) -> str:
        key = self.request.GET.get("table", "units")
        return key if key in TABLES else "units"

    def _period(self):
        form = PeriodForm(self.request.GET)
        if not form.is_valid():
            return None, None
        return form.cleaned_data.get("term"), form.cleaned_data.get("year")

    def get_export_description(self) -> str:
        term, year = self._period()
        return f"代表建议统计：{period_label(term, year)} · {TABLES[self._table_key()][0]}"

    def build_export(self):
        term, year = self._period()
        stats = _statistics_for(term, year)
        title, builder = TABLES[self._table_key()]
        headers, rows = builder(stats)
        return xlsx_export(f"代表建议{title}（{period_label(term, year)}）", headers, rows)


# --- hot topics ------------------------------------------------------------------------


class HotTopicForm(forms.Form):
    year = forms.IntegerField(label="提出年度", min_value=1990, max_value=2100, required=False)
    session = forms.ModelChoiceField(
        label="会次",
        queryset=Session.objects.select_related("term"),
        required=False,
        empty_label="按年度",
    )
    keyword = forms.CharField(label="关键词", max_length=20, required=False)


def previous_session(session):
    earlier = (
        Session.objects.filter(term=session.term, number__lt=session.number)
        .order_by("-number")
        .first()
    )
    if earlier is not None:
        return earlier
    return (
        Session.objects.filter(term__number__lt=session.term.number)
        .order_by("-term__number", "-number")
        .first()
    )


def hot_topic_periods(year=None, session=None, today: datetime.date | None = None):
    """(label, current queryset, previous label, previous queryset) of the chosen period."""
    # deputies' drafts and items sent back for revision are not yet the office's
    base = Suggestion.objects.exclude(
        status__in=[Status.CONVERTED, Status.DRAFT, Status.RETURNED, Status.LETTER]
    )
    if session is not None:
        before = previous_session(session)
        return (
            str(session),
            base.filter(session=session),
            str(before) if before else "",
            base.filter(session=before) if before else base.none(),
        )
    year = year or (today or timezone.localdate()).year
    return (
        f"{year}年",
        base.filter(submitted_on__year=year),
        f"{year - 1}年",
        base.filter(submitted_on__year=year - 1),
    )


def hot_topics_page(request):
    _require_statistics(request)
    form = HotTopicForm(request.GET or None)
    context = {
        "section": "hot",
        "nav": insights_nav(request.user),
        "form": form,
        "minimum": hot_topics.min_count(),
    }
    if form.is_bound and not form.is_valid():
        return render(request, "suggestions/insights/hot_topics.html", context, status=400)
    data = form.cleaned_data if form.is_bound else {}
    label, current, previous_label, previous = hot_topic_periods(
        data.get("year"), data.get("session")
    )
    topics = hot_topics.hot_topics(
        current, previous, Suggestion.objects.exclude(status__in=[Status.DRAFT, Status.RETURNED])
    )
    params = {
        "year": data.get("year") or "",
        "session": data["session"].pk if data.get("session") else "",
    }
    base_query = urlencode({k: v for k, v in params.items() if v})
    for topic in topics:
        topic.url = "?" + urlencode(
            {**{k: v for k, v in params.items() if v}, "keyword": topic.word}
        )
    context.update(
        {
            "period": label,
            "previous_period": previous_label,
            "topics": topics,
            "base_query": base_query,
            "count": current.count(),
            "previous_count": previous.count(),
            "chart": bar_chart(
                [(t.word, t.count, t.url) for t in topics[:15]],
                f"{label}热点议题（涉及件数）",
                suffix=" 件",
            ),
        }
    )
    keyword = (data.get("keyword") or "").strip()
    if keyword:
        matching = hot_topics.with_keyword(current, keyword)
        visible = visible_to(request.user).filter(pk__in=matching.values("pk"))
        shown = list(
            visible.select_related("term", "session", "category", "lead_unit").order_by(
                "-submitted_on", "-pk"
            )[:HOT_TOPIC_SUGGESTIONS_SHOWN]
        )
        # only what the reader may see is listed or counted: a count of the others would
        # let anyone probe private suggestions for any word
        context.update(
            {
                "keyword": keyword,
                "keyword_suggestions": shown,
                "keyword_visible": visible.count(),
                "keyword_partial": not statistics.can_view_overdue_list(request.user),
            }
        )
    return render(request, "suggestions/insights/hot_topics.html", context)
