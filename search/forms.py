from django import forms

from .registry import FACETS, SORTS


class SearchForm(forms.Form):
    """The search page's query string: q, the facet filters, sort and page."""

    q = forms.CharField(label="检索词", required=False, max_length=500)
    type = forms.CharField(required=False, max_length=100)
    sort = forms.ChoiceField(choices=list(SORTS.items()), required=False)
    page = forms.IntegerField(required=False, min_value=1)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for facet in FACETS:
            self.fields[facet] = forms.CharField(required=False, max_length=200)

    def filters(self) -> dict[str, str]:
        data = self.cleaned_data if self.is_valid() else {}
        return {key: data[key] for key in ("type", *FACETS) if data.get(key) not in (None, "")}


class SavedSearchForm(forms.Form):
    """保存此检索: name, query, filters (hidden, copied from the results page), subscribe."""

    name = forms.CharField(label="名称", max_length=100)
    q = forms.CharField(label="检索式", max_length=200)
    sort = forms.CharField(required=False, max_length=20)
    subscribed = forms.BooleanField(label="有新结果时通知我", required=False)
    type = forms.CharField(required=False, max_length=100)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for facet in FACETS:
            self.fields[facet] = forms.CharField(required=False, max_length=200)

    def filters(self) -> dict[str, str]:
        return {
            key: self.cleaned_data[key] for key in ("type", *FACETS) if self.cleaned_data.get(key)
        }
