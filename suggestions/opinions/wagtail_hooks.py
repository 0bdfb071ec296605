"""Admin screens where staff enter budget review opinions, the site navigation entry, and
the demo loader."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db.models import Q
from django.urls import reverse
from wagtail import hooks
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel
from wagtail.admin.ui.tables import Column
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import CreateView, SnippetViewSet

from cms.nav import NavItem

from .models import ReviewOpinion
from .services import MANAGE_PERMISSIONS, can_read


class OpinionStaffPolicy(ModelPermissionPolicy):
    """Staff who run the workflows or publish material may do everything with opinions,
    besides anyone holding the model's own permissions."""

    def user_has_permission(self, user, action):
        if user.is_active and any(user.has_perm(p) for p in MANAGE_PERMISSIONS):
            return True
        return super().user_has_permission(user, action)

    def users_with_any_permission(self, actions):
        codenames = [p.split(".", 1)[1] for p in MANAGE_PERMISSIONS]
        perms = Permission.objects.filter(content_type__app_label="cms", codename__in=codenames)
        via_staff = (Q(user_permissions__in=perms) | Q(groups__permissions__in=perms)) & Q(
            is_active=True
        )
        via_model = self._get_users_with_any_permission_codenames_filter(
            self._get_permission_codenames(actions)
        )
        return get_user_model().objects.filter(via_model | via_staff).distinct()


register_permission_policy(ReviewOpinion, OpinionStaffPolicy(ReviewOpinion))


class OpinionCreateView(CreateView):
    def save_instance(self):
        instance = self.form.save(commit=False)
        instance.created_by = self.request.user
        instance.save()
        self.form.save_m2m()
        return instance


class ReviewOpinionViewSet(SnippetViewSet):
    model = ReviewOpinion
    icon = "openquote"
    menu_label = "预算审议意见"
    menu_name = "review_opinions"
    menu_order = 320
    add_to_admin_menu = True
    add_view_class = OpinionCreateView
    list_display = [
        "year",
        "stage",
        "title",
        Column("source_label", label="来源"),
        "raised_by",
        "handling_status",
    ]
    list_filter = ["year", "stage", "handling_status", "raised_by_kind"]
    search_fields = ["title", "text", "raised_by", "source_title"]
    panels = [
        FieldRowPanel([FieldPanel("year"), FieldPanel("stage")]),
        FieldPanel("title"),
        FieldPanel("text"),
        MultiFieldPanel(
            [
                FieldRowPanel([FieldPanel("source_title"), FieldPanel("source_issue")]),
                FieldPanel("raised_on"),
                FieldRowPanel([FieldPanel("raised_by_kind"), FieldPanel("raised_by")]),
            ],
            heading="出处与提出者",
        ),
        MultiFieldPanel(
            [FieldPanel("subjects"), FieldPanel("departments")],
            heading="相关预算项目",
        ),
        MultiFieldPanel(
            [FieldPanel("handling_status"), FieldPanel("response"), FieldPanel("responded_on")],
            heading="反馈与处理",
        ),
    ]


register_snippet(ReviewOpinionViewSet)


@hooks.register("register_site_nav")
def opinions_nav(request):
    if can_read(request.user):
        return NavItem("审议意见", reverse("review_opinions:list"), order=46)
    return None


@hooks.register("register_demo_loader")
def load_opinions_demo(stdout):
    from .demo import load_demo

    load_demo(stdout)


@hooks.register("register_site_nav")
def insights_nav(request):
    """建议分析 (statistics, hot topics) for those who may see the aggregates."""
    from suggestions.statistics import can_view_statistics

    if can_view_statistics(request.user):
        return NavItem("建议分析", reverse("suggestion_insights:stats"), order=47)
    return None
