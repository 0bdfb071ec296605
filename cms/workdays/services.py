"""Working days (工作日) under the State Council's holiday notice, including 调休.

Sources, strongest first:
1. ``DayOverride`` rows staff enter in the admin (a local holiday, a late change);
2. the ``chinesecalendar`` package for the years it was released with;
3. for any other year without an entered notice, the statutory holidays that the
   全国年节及纪念日放假办法 fixes (``STATUTORY_HOLIDAYS``: 元旦, 春节, 清明节, 劳动节,
   端午节, 中秋节, 国庆节; lunar dates by ``lunardate``, 清明 by the solar term), with
   补假 for a holiday falling on a weekend, and the weekend rule otherwise. Such
   answers stay provisional; entering the year's notice replaces them.

A year is *covered* when the package knows it or staff have entered its
``HolidayNotice``. Answers that depend on a day of an uncovered year are
**provisional** (暂定): the next year's notice appears around November and until
staff enter it a deadline in that year may still move (domain.md §9).

Results carry that flag while still behaving like their plain types:
``add_workdays`` returns a ``DueDate`` (a ``datetime.date``) and ``workdays_between``
returns a ``WorkdayCount`` (an ``int``), each with ``.provisional``.

Overrides are read once per process and kept in memory. Saving or deleting an
override or a notice clears this process's copy and, after the commit, bumps a
version stamp in the shared cache that every other process (web workers, the
Celery worker) compares before answering. While the changing transaction is still
open, its thread reads the overrides afresh on every call and caches nothing, so
a rolled-back change never lingers in memory.

This module must not import models at import time: ``cms.workdays`` re-exports it
and the package itself is loaded while the app registry is being populated.
"""

from __future__ import annotations

import calendar
import datetime
import threading
import uuid
from dataclasses import dataclass
from functools import cache as memoize

import chinese_calendar
from chinese_calendar.constants import Holiday
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from lunardate import LunarDate

VERSION_KEY = "workdays:overrides-version"

# Kinds of day, as the calendar page shows them.
WORKDAY = "workday"
WEEKEND = "weekend"
HOLIDAY = "holiday"
SWAPPED_WORKDAY = "swapped_workday"
KIND_LABELS = {
    WORKDAY: "工作日",
    WEEKEND: "周末",
    HOLIDAY: "放假",
    SWAPPED_WORKDAY: "调休上班",
}

# Where an answer came from.
SOURCE_OVERRIDE = "override"
SOURCE_PACKAGE = "package"
SOURCE_WEEKEND_RULE = "weekend_rule"
SOURCE_STATUTORY = "statutory"

# 全体公民放假的节日 of the 全国年节及纪念日放假办法 as revised by 国务院令第795号 (in force
# from 1 January 2025): (name, calendar, month, day, first day's offset, days). "solar" is
# a Gregorian date, "lunar" a lunar date of the same year, "qingming" the 清明 solar term.
# 春节 is 农历除夕 and 正月初一至初三 (offset -1, 4 days); 劳动节 5月1日、2日. The办法's
# article 6 gives a working day off (补假) for one that falls on a Saturday or Sunday.
# Settings may replace the table (WORKDAYS_STATUTORY_HOLIDAYS) if the rules change again.
STATUTORY_HOLIDAYS = (
    ("元旦", "solar", 1, 1, 0, 1),
    ("春节", "lunar", 1, 1, -1, 4),
    ("清明节", "qingming", 0, 0, 0, 1),
    ("劳动节", "solar", 5, 1, 0, 2),
    ("端午节", "lunar", 5, 5, 0, 1),
    ("中秋节", "lunar", 8, 15, 0, 1),
    ("国庆节", "solar", 10, 1, 0, 3),
)

# From this month on, an uncovered next year triggers the admin warning (the
# notice usually appears in November; Q4 deadlines already reach into January).
DEFAULT_NEXT_YEAR_WARNING_MONTH = 10


class DueDate(datetime.date):
    """A date that also says whether it is provisional (暂定).

    Use it wherever a date is expected. Arithmetic on it (``due + timedelta``)
    gives a plain ``datetime.date``: a shifted day is no longer the computed
    answer, so it must not carry the flag.
    """

    provisional: bool

    def __new__(cls, year, month, day, provisional=False):
        obj = super().__new__(cls, year, month, day)
        obj.provisional = bool(provisional)
        return obj

    @classmethod
    def from_date(cls, d: datetime.date, provisional: bool) -> DueDate:
        return cls(d.year, d.month, d.day, provisional=provisional)

    def as_date(self) -> datetime.date:
        return datetime.date(self.year, self.month, self.day)

    def __add__(self, other):
        return self.as_date() + other

    __radd__ = __add__

    def __sub__(self, other):
        return self.as_date() - other

    def replace(self, *args, **kwargs):
        return self.as_date().replace(*args, **kwargs)

    def __reduce__(self):
        return (type(self), (self.year, self.month, self.day, self.provisional))

    def __repr__(self):
        return f"DueDate({self.isoformat()}, provisional={self.provisional})"


class WorkdayCount(int):
    """A number of working days that also says whether it is provisional."""

    provisional: bool

    def __new__(cls, value, provisional=False):
        obj = super().__new__(cls, value)
        obj.provisional = bool(provisional)
        return obj

    def __reduce__(self):
        return (type(self), (int(self), self.provisional))

    def __repr__(self):
        return f"WorkdayCount({int(self)}, provisional={self.provisional})"


@dataclass(frozen=True)
class DayInfo:
    """Everything known about one day."""

    date: datetime.date
    is_workday: bool
    kind: str  # one of WORKDAY, WEEKEND, HOLIDAY, SWAPPED_WORKDAY
    name: str  # e.g. 国庆节; empty for an ordinary day
    source: str  # SOURCE_OVERRIDE, SOURCE_PACKAGE or SOURCE_WEEKEND_RULE
    provisional: bool

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]


# --- the package ------------------------------------------------------------


@memoize
def package_covers(year: int) -> bool:
    """Whether the installed chinesecalendar release knows *year*'s notice."""
    try:
        chinese_calendar.is_workday(datetime.date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


def _chinese_holiday_name(english: str | None) -> str:
    if not english:
        return ""
    try:
        return Holiday(english).chinese
    except ValueError:
        return english


# --- the statutory holidays, for years without a notice ---------------------


def _statutory_table() -> tuple:
    return tuple(
        tuple(row) for row in getattr(settings, "WORKDAYS_STATUTORY_HOLIDAYS", STATUTORY_HOLIDAYS)
    )


def _first_day(year: int, calendar_kind: str, month: int, day: int) -> datetime.date:
    if calendar_kind == "solar":
        return datetime.date(year, month, day)
    if calendar_kind == "lunar":
        return LunarDate(year, month, day).to_solar_date()
    if calendar_kind == "qingming":
        april = chinese_calendar.get_solar_terms(
            datetime.date(year, 4, 1), datetime.date(year, 4, 10)
        )
        return next(d for d, name in april if name == "清明")
    raise ValueError(f"未知的历法：{calendar_kind}")


@memoize
def _statutory_days(year: int, table: tuple) -> dict:
    days = {}
    for name, calendar_kind, month, day, offset, length in table:
        first = _first_day(year, calendar_kind, month, day) + datetime.timedelta(days=offset)
        for i in range(length):
            days[first + datetime.timedelta(days=i)] = name
    # 补假: each holiday day on a weekend gives the next working day after its holiday
    for d, name in sorted(days.items()):
        if d.weekday() >= 5 and not name.endswith("（补假）"):
            extra = d
            while extra.weekday() >= 5 or extra in days:
                extra += datetime.timedelta(days=1)
            days[extra] = f"{name}（补假）"
    return days


def statutory_holidays(year: int) -> dict:
    """{date: name} of *year*'s statutory holidays and 补假 under STATUTORY_HOLIDAYS."""
    return _statutory_days(year, _statutory_table())


# --- staff overrides, cached per process ------------------------------------


@dataclass(frozen=True)
class _Overrides:
    by_date: dict  # date -> (kind, name)
    notice_years: frozenset
    version: object


_state: _Overrides | None = None
_lock = threading.Lock()


def _load(version) -> _Overrides:
    from .models import DayOverride, HolidayNotice

    by_date = {
        row.date: (row.kind, row.name) for row in DayOverride.objects.only("date", "kind", "name")
    }
    years = frozenset(HolidayNotice.objects.values_list("year", flat=True))
    return _Overrides(by_date=by_date, notice_years=years, version=version)


_changing = threading.local()  # .dirty: this thread changed overrides in an open transaction


def _overrides() -> _Overrides:
    global _state
    if getattr(_changing, "dirty", False):
        if transaction.get_connection().in_atomic_block:
            # Our own uncommitted change: read it, but keep it out of the shared copy.
            return _load(version=None)
        _changing.dirty = False  # the transaction ended (a commit or a rollback)
    version = cache.get(VERSION_KEY)
    state = _state
    if state is None or state.version != version:
        with _lock:
            state = _load(version)
            _state = state
    return state


def clear_local_cache() -> None:
    """Forget this process's copy of the overrides."""
    global _state
    _state = None
    _changing.dirty = False


def bump_version() -> None:
    """Tell every process that the overrides changed."""
    cache.set(VERSION_KEY, uuid.uuid4().hex, None)


def overrides_changed() -> None:
    """Called when an override or a notice is saved or deleted."""
    global _state
    _state = None
    if transaction.get_connection().in_atomic_block:
        _changing.dirty = True
    bump_version()
    transaction.on_commit(bump_version)


# --- coverage ---------------------------------------------------------------


def year_source(year: int) -> str | None:
    """How *year* is covered: "package", "notice", or None (provisional)."""
    if package_covers(year):
        return "package"
    if year in _overrides().notice_years:
        return "notice"
    return None


def is_year_covered(year: int) -> bool:
    return year_source(year) is not None


def is_provisional(d) -> bool:
    """Whether answers about day *d* are provisional (its year is not covered)."""
    return not is_year_covered(_as_date(d).year)


def uncovered_years_to_warn(today: datetime.date | None = None) -> list[int]:
    """Years staff should enter a notice for now: this year if uncovered, and next
    year from the warning month on (setting WORKDAYS_NEXT_YEAR_WARNING_MONTH)."""
    today = today or timezone.localdate()
    from_month = getattr(
        settings, "WORKDAYS_NEXT_YEAR_WARNING_MONTH", DEFAULT_NEXT_YEAR_WARNING_MONTH
    )
    years = [today.year]
    if today.month >= from_month:
        years.append(today.year + 1)
    return [y for y in years if not is_year_covered(y)]


# --- days -------------------------------------------------------------------


def _as_date(d) -> datetime.date:
    if isinstance(d, datetime.datetime):
        if timezone.is_aware(d):
            d = timezone.localtime(d)
        return d.date()
    if isinstance(d, datetime.date):
        return d
    raise TypeError("需要日期（datetime.date）。")


def _day_info(d: datetime.date, state: _Overrides) -> DayInfo:
    in_package = package_covers(d.year)
    provisional = not (in_package or d.year in state.notice_years)
    weekend = d.weekday() >= 5
    override = state.by_date.get(d)
    if override is not None:
        from .models import DayKind

        kind, name = override
        if kind == DayKind.WORKDAY:
            return DayInfo(d, True, SWAPPED_WORKDAY, name, SOURCE_OVERRIDE, provisional)
        return DayInfo(d, False, HOLIDAY, name, SOURCE_OVERRIDE, provisional)
    if in_package:
        workday = chinese_calendar.is_workday(d)
        _on_holiday, english = chinese_calendar.get_holiday_detail(d)
        name = _chinese_holiday_name(english)
        if workday:
            kind = SWAPPED_WORKDAY if weekend else WORKDAY
        else:
            kind = HOLIDAY if name else WEEKEND
        return DayInfo(d, workday, kind, name, SOURCE_PACKAGE, provisional)
    if provisional:
        name = statutory_holidays(d.year).get(d)
        if name:
            return DayInfo(d, False, HOLIDAY, name, SOURCE_STATUTORY, provisional)
    return DayInfo(
        d, not weekend, WEEKEND if weekend else WORKDAY, "", SOURCE_WEEKEND_RULE, provisional
    )


def day_info(d) -> DayInfo:
    return _day_info(_as_date(d), _overrides())


def is_workday(d) -> bool:
    """Whether *d* is a working day (use ``day_info`` to learn if that is provisional)."""
    return day_info(d).is_workday


def add_workdays(d, n: int) -> DueDate:
    """The *n*-th working day after *d*: counting starts the day after *d*, so with
    d = 2026-09-30 and n = 1 the answer is the first working day in October.

    n = 0 returns *d* itself (whatever kind of day it is). The result is provisional
    when any day looked at (d itself for n = 0) lies in an uncovered year.
    """
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError("工作日数必须是整数。")
    if n < 0:
        raise ValueError("工作日数不能为负数。")
    start = _as_date(d)
    state = _overrides()
    if n == 0:
        return DueDate.from_date(start, _day_info(start, state).provisional)
    # Even a year of holidays entered by mistake must not loop for ever.
    limit = n * 7 + 400
    provisional = False
    current = start
    counted = 0
    for _ in range(limit):
        current += datetime.timedelta(days=1)
        info = _day_info(current, state)
        provisional = provisional or info.provisional
        if info.is_workday:
            counted += 1
            if counted == n:
                return DueDate.from_date(current, provisional)
    raise ValueError(f"自 {start:%Y-%m-%d} 起 {limit} 天内找不到 {n} 个工作日，请检查节假日调整。")


def workdays_between(a, b) -> WorkdayCount:
    """Working days in the half-open interval (a, b]: *a* is not counted, *b* is.

    So ``add_workdays(a, workdays_between(a, b)) == b`` whenever *b* is a working
    day after *a*. When b < a the answer is negative: minus the working days in
    (b, a] — e.g. how many working days a deadline is overdue. a == b gives 0.
    """
    start, end = _as_date(a), _as_date(b)
    sign = 1
    if end < start:
        start, end, sign = end, start, -1
    state = _overrides()
    count = 0
    provisional = False
    current = start
    while current < end:
        current += datetime.timedelta(days=1)
        info = _day_info(current, state)
        provisional = provisional or info.provisional
        if info.is_workday:
            count += 1
    return WorkdayCount(sign * count, provisional)


def add_months(d, n: int) -> datetime.date:
    """Calendar months (自然月): the same day *n* months later, clamped to the end
    of a shorter month (2026-11-30 + 3 months = 2027-02-28). Domain §4 counts
    suggestion deadlines this way from 交办."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError("月数必须是整数。")
    start = _as_date(d)
    index = start.year * 12 + (start.month - 1) + n
    year, month0 = divmod(index, 12)
    month = month0 + 1
    if not datetime.MINYEAR <= year <= datetime.MAXYEAR:
        raise ValueError("月数超出可计算的范围。")
    day = min(start.day, calendar.monthrange(year, month)[1])
    return datetime.date(year, month, day)


# --- a month for the calendar page ------------------------------------------


@dataclass(frozen=True)
class MonthView:
    year: int
    month: int
    weeks: list  # lists of 7 (DayInfo, in_month) pairs, Monday first
    provisional: bool  # any day of the month itself is provisional


def month_view(year: int, month: int) -> MonthView:
    state = _overrides()
    weeks = []
    provisional = False
    for week in calendar.Calendar(firstweekday=0).monthdatescalendar(year, month):
        row = []
        for d in week:
            info = _day_info(d, state)
            in_month = d.month == month
            if in_month:
                provisional = provisional or info.provisional
            row.append((info, in_month))
        weeks.append(row)
    return MonthView(year=year, month=month, weeks=weeks, provisional=provisional)
