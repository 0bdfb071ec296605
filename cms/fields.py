"""Model fields the apps share."""

from django.db import models


class OrderedJSONField(models.JSONField):
    """A JSON object (dict) whose keys come back in the order they were written, on every
    database: PostgreSQL's jsonb sorts an object's keys, and the figures of an alert or a
    letter are shown in the order their author (or rule) listed them. Stored as a list of
    [key, value] pairs; objects stored before (plain JSON objects) are read as they are."""

    def get_prep_value(self, value):
        if isinstance(value, dict):
            value = [[key, item] for key, item in value.items()]
        return super().get_prep_value(value)

    def from_db_value(self, value, expression, connection):
        value = super().from_db_value(value, expression, connection)
        if isinstance(value, list) and all(
            isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str) for pair in value
        ):
            return {key: item for key, item in value}
        return value
