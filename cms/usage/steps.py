"""Writing step events: one row of a ``cms.usage.models.StepEvent`` subclass (an alert's,
an audit finding's, a query request's …) for every step in the life of a record.

- ``step_actor(user)`` — ``(user, username)`` for a signed-in user, ``(None, "系统")`` for
  none (scheduled tasks, commands, rule evaluation).
- ``record_step(event_model, user, action, from_status="", to_status="", note="", **fields)``
  — create the row; ``fields`` are the subclass's own columns (its record's foreign key and
  any extras such as an alert event's due date).
"""

from .services import SYSTEM_ACTOR


def step_actor(user) -> tuple:
    if user is not None and getattr(user, "is_authenticated", False):
        return user, user.get_username()
    return None, SYSTEM_ACTOR


def record_step(event_model, user, action, from_status="", to_status="", note="", **fields):
    actor, name = step_actor(user)
    return event_model.objects.create(
        actor=actor,
        actor_name=name,
        action=action,
        from_status=from_status,
        to_status=to_status,
        note=note,
        **fields,
    )
