"""The material types and distribution groups a county starts with (domain.md §5). They
are data: staff change them in the admin (工作资料 → 资料类型 / 印送对象)."""

# name, code, kind, cadence, responsible kind, department name, due working days, numbered
MATERIAL_TYPES = [
    ("季度简报", "quarterly-briefing", "briefing", "quarterly", "staff", "", 15, True),
    ("半年简报", "half-year-briefing", "briefing", "half_year", "staff", "", 15, True),
    ("年报", "annual-report", "briefing", "annual", "staff", "", 15, True),
    ("专项查询分析报告", "special-query-report", "briefing", "ad_hoc", "staff", "", 15, False),
    ("联网查询情况通报", "query-bulletin", "briefing", "ad_hoc", "staff", "", 10, False),
    ("财政局季度预算执行分析", "finance-quarterly-analysis", "pushed", "quarterly", "department",
     "县财政局", 15, False),
    ("审计局季度报告", "audit-quarterly-report", "pushed", "quarterly", "department", "县审计局",
     15, False),
    ("财经委半年预算监督报告", "committee-half-year-report", "pushed", "half_year", "staff", "",
     15, False),
    ("四本预算分析表", "four-budgets-tables", "pushed", "monthly", "department", "县财政局", 10,
     False),
    ("部门预算执行分析表", "department-execution-tables", "pushed", "monthly", "department",
     "县财政局", 10, False),
]  # fmt: skip

# the routine briefings' 印送 list: groups of people, then units of the register
RECIPIENT_GROUPS = [
    "县委财经委员会",
    "县人大常委会领导、委员",
    "县人大各专门委员会、常委会办公室",
    "县政府分管财政工作的领导",
    "县国资委",
    "县税务局",
    "人民银行县支行",
]
RECIPIENT_DEPARTMENTS = ["县财政局", "县自然资源局", "县审计局"]
ROUTINE_CODES = ["quarterly-briefing", "half-year-briefing", "annual-report"]


def ensure_defaults(apps=None) -> int:
    """Create the missing default types and groups; link departments that exist. Returns
    how many types were created. Works with migration models (apps) or the real ones."""
    if apps is None:
        from django.apps import apps as global_apps

        apps = global_apps
    MaterialType = apps.get_model("briefings", "MaterialType")
    RecipientGroup = apps.get_model("briefings", "RecipientGroup")
    Department = apps.get_model("budget", "Department")
    groups = []
    for order, name in enumerate(RECIPIENT_GROUPS):
        group, _ = RecipientGroup.objects.get_or_create(name=name, defaults={"sort_order": order})
        groups.append(group)
    created = 0
    for order, row in enumerate(MATERIAL_TYPES):
        name, code, kind, cadence, responsible, department_name, days, numbered = row
        department = (
            Department.objects.filter(name=department_name).order_by("code").first()
            if department_name
            else None
        )
        material_type, new = MaterialType.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "kind": kind,
                "cadence": cadence,
                "responsible_kind": responsible,
                "responsible_department": department,
                "due_workdays": days,
                "is_briefing_issue": numbered,
                "sort_order": order,
            },
        )
        created += int(new)
        if material_type.responsible_department_id is None and department is not None:
            material_type.responsible_department = department
            material_type.save(update_fields=["responsible_department"])
        if code in ROUTINE_CODES and (new or not material_type.default_recipient_groups.exists()):
            material_type.default_recipient_groups.set(groups)
            material_type.default_recipient_departments.set(
                Department.objects.filter(name__in=RECIPIENT_DEPARTMENTS)
            )
    return created
