from django import forms
from django.utils import timezone

from cms.uploads import checked_clean

from .choices import Period, SuggestionKind
from .models import Category, Deputy, Session


class SubmitForm(forms.Form):
    """提出: the office records a suggestion as handed in."""

    session = forms.ModelChoiceField(
        label="届次会次",
        queryset=Session.objects.select_related("term").order_by("-term__number", "-number"),
    )
    kind = forms.ChoiceField(
        label="类型", choices=SuggestionKind.choices, initial=SuggestionKind.SUGGESTION
    )
    period = forms.ChoiceField(label="提出时间", choices=Period.choices)
    title = forms.CharField(label="标题（案由）", max_length=300)
    content = forms.CharField(
        label="内容", widget=forms.Textarea(attrs={"rows": 8}), required=False
    )
    category = forms.ModelChoiceField(
        label="分类", queryset=Category.objects.select_related("term"), required=False
    )
    lead_deputy = forms.ModelChoiceField(
        label="领衔代表", queryset=Deputy.objects.filter(is_active=True)
    )
    co_signers = forms.ModelMultipleChoiceField(
        label="附议代表", queryset=Deputy.objects.filter(is_active=True), required=False
    )
    is_public = forms.BooleanField(label="公开（所有代表可见）", required=False)
    submitted_on = forms.DateField(label="提出日期", initial=timezone.localdate)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].label_from_instance = lambda c: f"{c.term} · {c.name}"


class ImportForm(forms.Form):
    session = forms.ModelChoiceField(
        label="届次会次（表中没有“届次”“会次”列时使用）",
        queryset=Session.objects.select_related("term").order_by("-term__number", "-number"),
        required=False,
    )
    file = forms.FileField(label="交办清单（XLSX）")
    clean_file = checked_clean("spreadsheet")  # type by content, size (cms.uploads)
