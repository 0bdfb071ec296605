"""The deputy's own pages: write a suggestion online (draft, edit, attachments), the first-login
password change, and the office's bulk opening of deputies' accounts. Every change goes
through services / accounts."""

from django import forms
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.shortcuts import redirect, render

from cms.credentials import throttle
from cms.uploads import checked_clean
from cms.usage.exports import export_response
from cms.usage.models import UsageAction
from cms.usage.services import record_usage

from . import accounts, importer, services
from .choices import Period, Status, SuggestionKind
from .middleware import SESSION_KEY
from .models import Category, Deputy, Session, Suggestion


class DraftForm(forms.Form):
    session = forms.ModelChoiceField(label="届次会次", queryset=Session.objects.none())
    kind = forms.ChoiceField(
        label="类型", choices=SuggestionKind.choices, initial=SuggestionKind.SUGGESTION
    )
    period = forms.ChoiceField(label="提出时间", choices=Period.choices)
    title = forms.CharField(label="标题（案由）", max_length=300)
    content = forms.CharField(
        label="内容", widget=forms.Textarea(attrs={"rows": 12, "id": "draft-content"})
    )
    category = forms.ModelChoiceField(label="分类", queryset=Category.objects.none())

    def __init__(self, *args, deputy: Deputy, **kwargs):
        super().__init__(*args, **kwargs)
        terms = deputy.terms.all()
        self.fields["session"].queryset = (
            Session.objects.filter(term__in=terms)
            .select_related("term")
            .order_by("-term__number", "-number")
        )
        self.fields["category"].queryset = Category.objects.filter(term__in=terms).select_related(
            "term"
        )
        self.fields["category"].label_from_instance = lambda c: f"{c.term} · {c.name}"

    def clean(self):
        data = super().clean()
        session, category = data.get("session"), data.get("category")
        if session and category and category.term_id != session.term_id:
            self.add_error("category", "分类须属于所选届次")
        return data


def _deputy_or_refuse(request) -> Deputy:
    deputy = services.deputy_of(request.user)
    if deputy is None or not deputy.is_active:
        raise PermissionDenied("只有名册中在任代表的账号可以在线提出建议")
    return deputy


@login_required
def draft_new(request):
    """起草: a new suggestion of my own."""
    deputy = _deputy_or_refuse(request)
    form = DraftForm(request.POST or None, deputy=deputy)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            s = services.create_draft(
                request.user,
                session=data["session"],
                title=data["title"],
                content=data["content"],
                category=data["category"],
                kind=data["kind"],
                period=data["period"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "草稿已保存，可以继续修改、邀请联名或提交")
            return redirect(services.deputy_url(s))
    return render(
        request,
        "suggestions/draft_form.html",
        {"form": form, "section": "mine", "s": None},
    )


@login_required
def draft_edit(request, pk):
    """修改 a draft or a suggestion returned for revision (the lead deputy only)."""
    deputy = _deputy_or_refuse(request)
    s = (
        services.visible_to(request.user)
        .filter(pk=pk, lead_deputy=deputy, status__in=services.WRITING)
        .select_related("session", "term")
        .first()
    )
    if s is None:
        record_usage(request, UsageAction.DENIED, detail=f"修改代表建议 {pk}：无权或不可修改")
        raise PermissionDenied("只有领衔代表可以修改自己的草稿或退回修改的建议")
    initial = {
        "session": s.session,
        "kind": s.kind,
        "period": s.period,
        "title": s.title,
        "content": s.content,
        "category": s.category,
    }
    form = DraftForm(request.POST or None, deputy=deputy, initial=initial)
    form.fields["session"].disabled = True  # the session is fixed once written
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.edit_draft(
                s,
                request.user,
                title=data["title"],
                content=data["content"],
                category=data["category"],
                kind=data["kind"],
                period=data["period"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "已保存")
            return redirect(services.deputy_url(s))
    return render(request, "suggestions/draft_form.html", {"form": form, "section": "mine", "s": s})


class FirstPasswordForm(PasswordChangeForm):
    def __init__(self, request, *args, **kwargs):
        self.request = request
        super().__init__(request.user, *args, **kwargs)

    def clean_old_password(self):
        """The old password is a password check like a login: it runs under the same throttle
        (failures counted per account and address, growing waits), never as a free oracle."""
        old = self.cleaned_data.get("old_password") or ""
        with throttle.guard(
            self.request, self.user.get_username(), user=self.user, clear_on_success=False
        ) as attempt:
            if attempt.refused is None:
                if self.user.check_password(old):
                    attempt.succeeded = True
                else:
                    attempt.failed = True
        if attempt.refused is not None:
            raise ValidationError(attempt.refused.message, code="throttled")
        if attempt.failed:
            raise ValidationError(
                self.error_messages["password_incorrect"], code="password_incorrect"
            )
        return old

    def clean(self):
        data = super().clean()
        password = data.get("new_password1")
        if password and self.user.check_password(password):
            self.add_error("new_password2", "新密码不能与初始密码相同")
        return data


@login_required
def password_change(request):
    """修改初始密码 (first login of a deputy's account)."""
    form = FirstPasswordForm(request, request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.save()
        update_session_auth_hash(request, form.user)
        Deputy.objects.filter(user=request.user).update(must_change_password=False)
        request.session.pop(SESSION_KEY, None)
        messages.success(request, "密码已修改")
        return redirect("/")
    return render(
        request,
        "suggestions/password_change.html",
        {"form": form, "first": bool(request.session.get(SESSION_KEY)), "section": "mine"},
    )


class AccountsForm(forms.Form):
    file = forms.FileField(
        label="代表名单（XLSX，列：姓名、代表团；不选则为名册中全部尚无账号的在任代表开通）",
        required=False,
    )
    clean_file = checked_clean("spreadsheet")


@login_required
def open_accounts(request):
    """批量开通代表账号 (系统管理员): from the register or an XLSX; the initial-password
    sheet is the response."""
    if not request.user.has_perm(accounts.MANAGE_PERMISSION):
        record_usage(request, UsageAction.DENIED, detail="批量开通代表账号")
        raise PermissionDenied("只有系统管理员可以开通代表账号")
    form = AccountsForm(*((request.POST, request.FILES) if request.method == "POST" else ()))
    pending = Deputy.objects.filter(is_active=True, user__isnull=True).count()
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        deputies, errors = None, []
        if upload is not None:
            try:
                header, body = importer.read_rows(upload.read())
            except ValueError as error:
                errors = [str(error)]
            else:
                deputies, errors = accounts.deputies_from_rows(header, body)
        if errors:
            for error in errors:
                form.add_error("file", error)
        else:
            made = accounts.create_accounts(request.user, deputies)
            record_usage(request, UsageAction.EXPORT, detail=f"开通代表账号 {len(made)} 个")
            if not made:
                messages.info(request, "没有需要开通账号的代表")
                return redirect("suggestions:open_accounts")
            return export_response(accounts.accounts_sheet(made))
    return render(
        request,
        "suggestions/open_accounts.html",
        {"form": form, "pending": pending, "section": "accounts"},
    )


def drafts_waiting(user):
    """My drafts and returned items, and the invitations I have not answered."""
    deputy = services.deputy_of(user)
    if deputy is None:
        return Suggestion.objects.none(), Suggestion.objects.none()
    writing = Suggestion.objects.filter(lead_deputy=deputy, status__in=services.WRITING)
    invited = Suggestion.objects.filter(
        Q(invitations__deputy=deputy, invitations__status="invited"),
        status__in=[*services.WRITING, Status.SUBMITTED],
    )
    return writing, invited


@login_required
def similar(request):
    """类似建议 as the deputy writes: an HTML fragment for the draft form."""
    from .similar import similar_cases

    if not (services.is_deputy_account(request.user) or services.is_staff(request.user)):
        raise PermissionDenied("只有代表和工作人员可以查看类似建议")
    title = request.GET.get("title", "")[:300]
    content = request.GET.get("content", "")[:5000]
    exclude = request.GET.get("exclude", "")
    terms, cases = similar_cases(
        request.user, title, content, exclude_pk=int(exclude) if exclude.isdigit() else None
    )
    return render(
        request, "suggestions/_similar.html", {"terms": terms, "cases": cases, "user": request.user}
    )


@login_required
def review_queue(request):
    """审查: suggestions submitted and waiting for the office, each with likely duplicates."""
    from .similar import likely_duplicates

    if not services.is_staff(request.user):
        raise PermissionDenied("只有工作人员可以审查代表建议")
    waiting = (
        services.visible_to(request.user)
        .filter(status=Status.SUBMITTED)
        .select_related("term", "session", "lead_deputy", "category")
        .order_by("submitted_on", "pk")[:50]
    )
    rows = [(s, likely_duplicates(request.user, s)) for s in waiting]
    return render(request, "suggestions/review.html", {"rows": rows, "section": "review"})
