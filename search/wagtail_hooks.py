"""Admin screens for the administrator-maintained search dictionary and synonyms."""

from django.urls import reverse
from wagtail import hooks
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from cms.nav import NavItem
from search.models import DictionaryTerm, SynonymGroup


class DictionaryTermViewSet(SnippetViewSet):
    model = DictionaryTerm
    icon = "openquote"
    menu_label = "分词词语"
    list_display = ["word", "frequency", "note", "updated_at"]
    form_fields = ["word", "frequency", "note"]


class SynonymGroupViewSet(SnippetViewSet):
    model = SynonymGroup
    icon = "link"
    menu_label = "同义词组"
    list_display = ["terms", "note", "updated_at"]
    form_fields = ["terms", "note"]


class SearchDictionaryGroup(SnippetViewSetGroup):
    menu_label = "检索词典"
    menu_icon = "search"
    menu_order = 900
    items = (DictionaryTermViewSet, SynonymGroupViewSet)


register_snippet(SearchDictionaryGroup)


@hooks.register("register_site_nav")
def search_nav(request):
    return NavItem("全文检索", reverse("search:index"), order=10)
