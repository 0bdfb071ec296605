import pytest

from cms.usage.exports import register_export, xlsx_export
from cms.usage.models import AppendOnlyError, ExportRegistration, UsageAction, UsageRecord
from cms.usage.services import record_usage

pytestmark = pytest.mark.django_db


def test_usage_record_cannot_be_changed_or_deleted(staff_user):
    record = record_usage(None, UsageAction.SEARCH, user=staff_user, detail="预算")
    record.detail = "改写"
    with pytest.raises(AppendOnlyError):
        record.save()
    with pytest.raises(AppendOnlyError):
        record.delete()
    with pytest.raises(AppendOnlyError):
        UsageRecord.objects.filter(pk=record.pk).delete()
    with pytest.raises(AppendOnlyError):
        UsageRecord.objects.filter(pk=record.pk).update(detail="改写")
    assert UsageRecord.objects.get(pk=record.pk).detail == "预算"


def test_export_registration_cannot_be_changed_or_deleted(rf, staff_user):
    request = rf.get("/budget/export/")
    request.user = staff_user
    registration = register_export(
        request, xlsx_export("表", ["甲"], [[1]]), description="测试", module="预算数据"
    )
    registration.purpose = "事后补写"
    with pytest.raises(AppendOnlyError):
        registration.save()
    with pytest.raises(AppendOnlyError):
        registration.delete()
    with pytest.raises(AppendOnlyError):
        ExportRegistration.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        ExportRegistration.objects.all().update(purpose="事后补写")
    assert ExportRegistration.objects.get(pk=registration.pk).purpose == ""
