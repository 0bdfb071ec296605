"""工作日历: working days, due dates and calendar months.

    from cms.workdays import add_workdays, workdays_between, is_workday, add_months

See cms/workdays/services.py for the rules and the provisional (暂定) flag.
"""

from .services import (
    DayInfo,
    DueDate,
    WorkdayCount,
    add_months,
    add_workdays,
    day_info,
    is_provisional,
    is_workday,
    is_year_covered,
    month_view,
    uncovered_years_to_warn,
    workdays_between,
)

__all__ = [
    "DayInfo",
    "DueDate",
    "WorkdayCount",
    "add_months",
    "add_workdays",
    "day_info",
    "is_provisional",
    "is_workday",
    "is_year_covered",
    "month_view",
    "uncovered_years_to_warn",
    "workdays_between",
]
