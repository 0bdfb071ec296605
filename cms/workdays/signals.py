"""Keep every process's copy of the overrides current (see services)."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from . import services
from .models import DayOverride, HolidayNotice


@receiver(post_save, sender=DayOverride, dispatch_uid="workdays_override_saved")
@receiver(post_delete, sender=DayOverride, dispatch_uid="workdays_override_deleted")
@receiver(post_save, sender=HolidayNotice, dispatch_uid="workdays_notice_saved")
@receiver(post_delete, sender=HolidayNotice, dispatch_uid="workdays_notice_deleted")
def overrides_changed(sender, **kwargs):
    services.overrides_changed()
