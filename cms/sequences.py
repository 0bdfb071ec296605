"""Gap-free numbers (建议编号, 第×期, 发文字号, 件号) come from a counter row per scope.

``locked_counter`` returns that row locked until the caller's transaction ends, creating it
on first use; so concurrent takers queue on the lock and get consecutive numbers."""

from django.db import IntegrityError, transaction


def locked_counter(model, defaults: dict | None = None, **key):
    """The *model* row for *key*, locked (select_for_update; SQLite transactions are
    IMMEDIATE). Two first uses race on the insert: the loser waits for the winner's row."""
    counter = model.objects.select_for_update().filter(**key).first()
    if counter is not None:
        return counter
    try:
        with transaction.atomic():
            model.objects.create(**key, **(defaults or {}))
    except IntegrityError:
        pass  # a concurrent transaction inserted it; the lock below waits for that one
    return model.objects.select_for_update().get(**key)
