"""Links from opinions and suggestions to the budget figure views under /budget/.

A subject links to the execution table of its level in its year (the row sits among its
siblings), and, when it has children, to the table one level down; a department links to
the execution table filtered to that unit (and its 二级单位).
"""

from dataclasses import dataclass
from urllib.parse import urlencode

from django.urls import reverse

from budget.models import parent_code


@dataclass(frozen=True)
class BudgetLink:
    label: str
    url: str
    note: str = ""


def subject_links(subject) -> list[BudgetLink]:
    base = reverse("budget:execution")
    query = {"year": subject.year, "kind": subject.kind}
    parent = parent_code(subject.kind, subject.code)
    links = [
        BudgetLink(
            f"{subject.code} {subject.name}",
            f"{base}?{urlencode({**query, **({'parent': parent} if parent else {})})}",
            f"{subject.year}年执行情况",
        )
    ]
    if subject.children.exists():
        links.append(
            BudgetLink(
                f"{subject.name}的下级科目",
                f"{base}?{urlencode({**query, 'parent': subject.code})}",
                "逐级查看",
            )
        )
    return links


def department_link(department, year=None) -> BudgetLink:
    query = {"department": department.pk}
    if year:
        query["year"] = year
    return BudgetLink(
        f"{department.code} {department.name}",
        f"{reverse('budget:execution')}?{urlencode(query)}",
        f"{year}年单位执行情况" if year else "单位执行情况",
    )
