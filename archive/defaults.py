"""The retention table and class codes a new installation starts with (the archivist
edits them in the admin). Used by the data migration and by the demo loader."""

CLASSES = [
    # code, name, kind
    ("YSGW", "预算工作委员会", "organisation"),
    ("CJW", "财政经济委员会", "organisation"),
    ("BGS", "办公室", "organisation"),
    ("YSJD", "预算监督", "subject"),
    ("ZCFG", "政策法规", "subject"),
    ("DBJY", "代表建议", "subject"),
    ("XTGL", "系统管理", "subject"),
]

# record type, label, retention, default organisation, default subject
RULES = [
    ("policy", "政策法规文件", "D30", "YSGW", "ZCFG"),
    ("alert", "监督预警及函询", "D30", "YSGW", "YSJD"),
    ("export", "数据导出备案登记", "D10", "YSGW", "XTGL"),
    ("usage_log", "月度系统使用记录", "D10", "BGS", "XTGL"),
    ("suggestion", "代表建议及办理答复", "Y", "CJW", "DBJY"),
    ("briefing", "工作资料与简报", "D30", "YSGW", "YSJD"),
]


def ensure_defaults(ArchiveClass, RetentionRule, scheme="organisation") -> None:
    """Add the missing default rows (never changes rows the archivist has edited)."""
    classes = {}
    for code, name, kind in CLASSES:
        classes[code], _ = ArchiveClass.objects.get_or_create(
            code=code, defaults={"name": name, "kind": kind}
        )
    for record_type, label, retention, organisation, subject in RULES:
        default = organisation if scheme == "organisation" else subject
        RetentionRule.objects.get_or_create(
            record_type=record_type,
            defaults={"label": label, "retention": retention, "default_class": classes[default]},
        )
