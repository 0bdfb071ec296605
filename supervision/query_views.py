"""Pages of the query request register (查询申请登记). Rules live in supervision.queries."""

from functools import wraps

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from cms.uploads import checked_clean
from cms.usage.decorators import records_restricted_view

from . import problems, queries
from .query_models import QueryRequest, QueryStatus, RequesterKind


def register_user(view):
    """Staff, administrators and deputies; everyone else (liaisons too) is refused."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not queries.can_use(request.user):
            raise PermissionDenied("您没有使用查询申请登记的权限。")
        return view(request, *args, **kwargs)

    return wrapped


class RequestForm(forms.Form):
    requester_kind = forms.ChoiceField(label="提出方", choices=RequesterKind.choices)
    requester_name = forms.CharField(label="提出人或委员会名称", max_length=100)
    subject = forms.CharField(label="查询事项", max_length=200)
    question = forms.CharField(label="查询内容", widget=forms.Textarea(attrs={"rows": 4}))
    received_on = forms.DateField(label="收到日期", widget=forms.DateInput(attrs={"type": "date"}))


class DeputyRequestForm(forms.Form):
    subject = forms.CharField(label="查询事项", max_length=200)
    question = forms.CharField(label="查询内容", widget=forms.Textarea(attrs={"rows": 4}))


class MoveForm(forms.Form):
    to_status = forms.ChoiceField(label="办理")
    reason = forms.CharField(label="理由", required=False, widget=forms.Textarea(attrs={"rows": 2}))


class AnswerForm(forms.Form):
    answer = forms.CharField(label="答复内容", widget=forms.Textarea(attrs={"rows": 6}))
    file = forms.FileField(label="答复文件（PDF、DOCX 或 TXT，可不上传）", required=False)
    exports = forms.ModelMultipleChoiceField(
        label="答复时导出的数据（备案登记）",
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    clean_file = checked_clean(queries.ANSWER_UPLOAD_PURPOSE)

    def __init__(self, *args, candidates=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["exports"].queryset = candidates
        self.fields["exports"].label_from_instance = lambda e: (
            f"{e.created_at:%Y-%m-%d %H:%M} {e.description}（{e.filename}）"
        )


def _ctx(request, **extra):
    return {"section": "queries", "can_manage": queries.can_manage(request.user), **extra}


@register_user
@records_restricted_view(detail="查看查询申请登记")
def query_list(request):
    qs = queries.requests_for(request.user)
    status = request.GET.get("status", "")
    if status in QueryStatus.values:
        qs = qs.filter(status=status)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "supervision/queries/list.html",
        _ctx(
            request,
            page=page,
            status=status,
            statuses=QueryStatus.choices,
            today=timezone.localdate(),
        ),
    )


@register_user
def query_new(request):
    manage = queries.can_manage(request.user)
    form_class = RequestForm if manage else DeputyRequestForm
    form = form_class(request.POST or None, initial={"received_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        if not manage:
            data.update(
                requester_kind=RequesterKind.DEPUTY,
                requester_name="",
                received_on=timezone.localdate(),
            )
        try:
            item = queries.register(request.user, **data)
        except queries.QueryRequestError as error:
            form.add_error(None, " ".join(error.messages))
        else:
            messages.success(request, f"查询申请已登记，答复期限 {item.due_on:%Y-%m-%d}")
            return redirect("supervision:query", item.pk)
    return render(
        request,
        "supervision/queries/form.html",
        _ctx(request, form=form, due_workdays=queries.due_workdays()),
        status=400 if form.errors else 200,
    )


def _get(request, pk) -> QueryRequest:
    return get_object_or_404(queries.requests_for(request.user), pk=pk)


@register_user
@records_restricted_view(detail="查看查询申请")
def query_detail(request, pk):
    item = _get(request, pk)
    moves = queries.allowed_moves(item, request.user)
    move_form = None
    if moves:
        move_form = MoveForm()
        move_form.fields["to_status"].choices = list(moves.items())
    return render(
        request,
        "supervision/queries/detail.html",
        _ctx(
            request,
            item=item,
            events=item.events.select_related("actor"),
            exports=item.exports.all(),
            move_form=move_form,
            may_answer=queries.can_manage(request.user)
            and QueryStatus.ANSWERED in queries.TRANSITIONS[QueryStatus(item.status)],
            overdue=item.is_overdue(),
            problems=problems.problems_from(item, request.user),
            may_record_problem=problems.can_record(request.user),
        ),
    )


@register_user
@require_POST
def query_move(request, pk):
    if not queries.can_manage(request.user):
        raise PermissionDenied("只有工作人员可以办理查询申请。")
    item = _get(request, pk)
    form = MoveForm(request.POST)
    form.fields["to_status"].choices = list(queries.allowed_moves(item, request.user).items())
    if not form.is_valid():
        messages.error(request, "该查询申请不能改为所选状态。")
        return redirect("supervision:query", pk)
    try:
        queries.move(
            item, request.user, form.cleaned_data["to_status"], form.cleaned_data["reason"]
        )
    except queries.QueryRequestError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "已办理")
    return redirect("supervision:query", pk)


@register_user
def query_answer(request, pk):
    if not queries.can_manage(request.user):
        raise PermissionDenied("只有工作人员可以答复查询申请。")
    item = _get(request, pk)
    candidates = queries.exports_for_answer(item, request.user)
    form = AnswerForm(request.POST or None, request.FILES or None, candidates=candidates)
    if request.method == "POST" and form.is_valid():
        try:
            queries.answer(
                item,
                request.user,
                form.cleaned_data["answer"],
                upload=form.cleaned_data["file"],
                exports=list(form.cleaned_data["exports"]),
            )
        except queries.QueryRequestError as error:
            form.add_error(None, " ".join(error.messages))
        else:
            messages.success(request, "已答复")
            return redirect("supervision:query", pk)
    return render(
        request,
        "supervision/queries/answer.html",
        _ctx(request, item=item, form=form),
        status=400 if form.errors else 200,
    )


@register_user
def query_file(request, pk):
    item = _get(request, pk)
    if not item.answer_file:
        raise Http404("没有答复文件")
    return FileResponse(
        item.answer_file.open("rb"),
        as_attachment=True,
        filename=item.answer_file_name or "答复文件",
    )
