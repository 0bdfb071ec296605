from django import forms

UNIT_WORKDAYS = "workdays"
UNIT_MONTHS = "months"


class DueDateForm(forms.Form):
    """期限计算: a start date plus working days or calendar months."""

    start = forms.DateField(
        label="起算日期",
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"required": "请填写起算日期。", "invalid": "日期格式应为 2026-09-30。"},
    )
    amount = forms.IntegerField(
        label="期限",
        min_value=0,
        max_value=1000,
        error_messages={
            "required": "请填写期限。",
            "invalid": "期限应为整数。",
            "min_value": "期限不能为负数。",
            "max_value": "期限不能超过 1000。",
        },
    )
    unit = forms.ChoiceField(
        label="单位",
        choices=[(UNIT_WORKDAYS, "个工作日"), (UNIT_MONTHS, "个自然月")],
        initial=UNIT_WORKDAYS,
        error_messages={"invalid_choice": "请选择“个工作日”或“个自然月”。"},
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("unit") == UNIT_MONTHS and (cleaned.get("amount") or 0) > 120:
            self.add_error("amount", "自然月期限不能超过 120 个月。")
        return cleaned
