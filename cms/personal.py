"""Personal details of people (电话、身份证号、工作单位、住址) are for 系统管理员 only.

A model lists such fields in ``personal_detail_fields``. Pages, exports, search
snippets and APIs read them through ``personal_value`` / ``public_dict`` so that no
other role ever receives them (domain.md §1).
"""

HIDDEN = "（仅系统管理员可见）"
PERMISSION = "cms.view_personal_details"


def can_see_personal_details(user) -> bool:
    return bool(user and user.is_authenticated and user.has_perm(PERMISSION))


def personal_fields(obj) -> tuple[str, ...]:
    return tuple(getattr(obj, "personal_detail_fields", ()))


def personal_value(user, obj, field: str, hidden: str = HIDDEN):
    """The field's value for a reader allowed to see it; *hidden* for everyone else."""
    if field in personal_fields(obj) and not can_see_personal_details(user):
        return hidden
    return getattr(obj, field)


def public_dict(user, obj, fields) -> dict:
    """A dict of *fields* for export or JSON; personal fields are dropped for other roles."""
    allowed = can_see_personal_details(user)
    private = personal_fields(obj)
    return {f: getattr(obj, f) for f in fields if allowed or f not in private}


def searchable_text(obj, fields) -> str:
    """Text for a search index: never includes personal fields, whoever searches."""
    private = personal_fields(obj)
    return " ".join(str(getattr(obj, f) or "") for f in fields if f not in private)
