import pytest
from django.http import HttpResponse, HttpResponseForbidden
from django.utils.decorators import method_decorator
from django.views import View

from cms.usage.decorators import records_restricted_view
from cms.usage.models import UsageAction, UsageRecord
from cms.usage.services import record_restricted_view

pytestmark = pytest.mark.django_db


def restricted_rows():
    return UsageRecord.objects.filter(action=UsageAction.VIEW_RESTRICTED).order_by("id")


def get(rf, user, path="/deputies/7/"):
    request = rf.get(path, REMOTE_ADDR="10.1.1.1")
    request.user = user
    return request


def test_helper_names_the_object(rf, admin_user_role, deputy_user):
    record = record_restricted_view(get(rf, admin_user_role), deputy_user, "查看代表个人信息")
    assert record.action == UsageAction.VIEW_RESTRICTED
    assert record.user == admin_user_role
    assert record.object_id == str(deputy_user.pk) and record.object_repr == "deputy1"
    assert record.detail == "查看代表个人信息"
    assert record.ip_address == "10.1.1.1" and record.path == "/deputies/7/"


def test_decorator_with_lookup_records_successful_views_only(rf, admin_user_role, deputy_user):
    @records_restricted_view(detail="查看代表个人信息", lookup=lambda request, pk: deputy_user)
    def details(request, pk):
        if request.GET.get("deny"):
            return HttpResponseForbidden()
        return HttpResponse("ok")

    details(get(rf, admin_user_role), pk=deputy_user.pk)
    details(get(rf, admin_user_role, "/deputies/7/?deny=1"), pk=deputy_user.pk)

    rows = list(restricted_rows())
    assert len(rows) == 1
    assert rows[0].object_repr == "deputy1" and rows[0].detail == "查看代表个人信息"


def test_bare_decorator_uses_the_object_the_view_names(rf, archivist_user, deputy_user):
    @records_restricted_view
    def query_result(request):
        request.restricted_object = deputy_user
        return HttpResponse("ok")

    query_result(get(rf, archivist_user, "/queries/3/"))
    row = restricted_rows().get()
    assert row.object_repr == "deputy1" and row.detail == "查看 /queries/3/"


def test_no_double_record_and_class_based_views(rf, archivist_user, deputy_user):
    @method_decorator(records_restricted_view(detail="查看档案"), name="dispatch")
    class ItemView(View):
        def get(self, request):
            record_restricted_view(request, deputy_user, "查看档案条目")
            return HttpResponse("ok")

    ItemView.as_view()(get(rf, archivist_user))
    assert [r.detail for r in restricted_rows()] == ["查看档案条目"]
