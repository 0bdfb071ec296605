#!/usr/bin/env python
"""类似建议 benchmark: latency of ``suggestions.similar.similar_cases`` for a ~500-character
draft against N suggestions, through the project's search backend.

    .venv/bin/python benchmarks/similar.py [--size 10000] [--queries 60] [--seed 7]

It builds an isolated project (a temporary DATA_DIR with its own SQLite database and index),
creates ``--size`` suggestions with synthetic but domain-shaped text (a topic, a place, a
problem and a request, combined at random, ~150–400 characters each), indexes them with
``update_index`` and then times ``similar_cases`` for ``--queries`` drafts of 500 characters,
once as a staff user (sees everything) and once as a deputy (sees own and public ones; a
quarter are public). Target: p95 ≤ 200 ms. It prints figures; it asserts nothing.
"""

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

TARGET_P95_MS = 200.0

TOPICS = [
    ("供水管网", "老旧供水管网漏损严重，夏季经常停水"),
    ("农村饮水", "山区村组季节性缺水，饮水工程老化"),
    ("通村公路", "通村公路路面破损，雨季塌方频繁"),
    ("义务教育", "乡镇学校教师短缺，寄宿条件差"),
    ("卫生院", "乡镇卫生院设备陈旧，医护人员流失"),
    ("垃圾处理", "农村生活垃圾收运体系不健全，随意堆放"),
    ("农田水利", "灌溉沟渠年久失修，渗漏严重"),
    ("养老服务", "农村留守老人多，养老服务设施不足"),
    ("产业发展", "特色农产品加工能力弱，销售渠道少"),
    ("河道治理", "河道淤积，防洪能力不足"),
    ("集镇建设", "集镇排水设施缺乏，雨天积水"),
    ("财政资金", "专项资金拨付慢，项目进度滞后"),
]
PLACES = ["城关镇", "曼来镇", "因远镇", "羊街镇", "那诺乡", "洼垤乡", "龙潭乡", "咪哩乡"]
ASKS = [
    "建议县级有关部门列入年度计划，安排专项资金分步实施。",
    "建议加大财政投入，整合上级补助资金，尽快解决群众反映强烈的问题。",
    "建议明确牵头单位和完成时限，并向代表反馈办理进展。",
    "建议开展专题调研，制定切实可行的实施方案。",
]
FILLER = (
    "当地群众多次反映，问题已持续多年，影响生产生活。代表在视察调研中了解到，"
    "相关部门虽做了一些工作，但由于资金不足、责任不清，问题未能根本解决。"
)


def text_for(rng, topic, place, length):
    words, problem = topic
    parts = [f"{place}{problem}。", FILLER, rng.choice(ASKS)]
    while sum(len(p) for p in parts) < length:
        parts.append(rng.choice([FILLER, f"{place}{words}问题亟待重视。", rng.choice(ASKS)]))
    return "".join(parts)[:length]


def setup(data_dir):
    os.environ["DATA_DIR"] = str(data_dir)
    os.environ.pop("DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "cms.settings.test"
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.WAGTAILSEARCH_BACKENDS = {
        "default": {"BACKEND": "search.backend", "PATH": str(Path(data_dir) / "index")}
    }
    call_command("migrate", verbosity=0, interactive=False)


def build(size, rng):
    import datetime

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from budget.models import Department
    from cms import roles
    from suggestions import services
    from suggestions.models import Category, Deputy, Session, Suggestion

    terms = [services.setup_term(n, current=(n == 18)) for n in (16, 17, 18)]
    sessions = [Session.objects.create(term=t, number=k) for t in terms for k in range(1, 6)]
    units = [Department.objects.create(code=f"{i:03d}", name=f"县单位{i}") for i in range(1, 41)]
    deputies = [
        Deputy.objects.create(name=f"代表{i}", delegation="城关镇代表团") for i in range(200)
    ]
    User = get_user_model()  # noqa: N806
    staff = User.objects.create_user("bench_staff", password="x")
    staff.groups.add(Group.objects.get(name=roles.STAFF))
    member = User.objects.create_user("bench_member", password="x")
    member.groups.add(Group.objects.get(name=roles.DEPUTY_MEMBER))
    deputies[0].user = member
    deputies[0].save()
    categories = {t.pk: list(Category.objects.filter(term=t)) for t in terms}
    rows, numbers = [], {}
    for i in range(size):
        session = rng.choice(sessions)
        numbers[session.pk] = numbers.get(session.pk, 0) + 1
        topic, place = rng.choice(TOPICS), rng.choice(PLACES)
        rows.append(
            Suggestion(
                term_id=session.term_id,
                session=session,
                number=numbers[session.pk],
                title=f"关于{place}{topic[0]}问题的建议",
                content=text_for(rng, topic, place, rng.randint(150, 400)),
                category=rng.choice(categories[session.term_id]),
                lead_deputy=rng.choice(deputies),
                lead_unit=rng.choice(units),
                status="assigned",
                is_public=rng.random() < 0.25,
                submitted_on=datetime.date(2020 + i % 6, 3, 1),
            )
        )
    Suggestion.objects.bulk_create(rows, batch_size=1000)
    return staff, member


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=10000)
    parser.add_argument("--queries", type=int, default=60)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="similar-bench-") as tmp:
        setup(tmp)
        from django.core.management import call_command

        t0 = time.perf_counter()
        staff, member = build(args.size, rng)
        t1 = time.perf_counter()
        call_command("update_index", verbosity=0)
        t2 = time.perf_counter()
        from suggestions.similar import similar_cases

        drafts = [
            (f"关于{p}{t[0]}的建议", text_for(rng, t, p, 500))
            for t, p in ((rng.choice(TOPICS), rng.choice(PLACES)) for _ in range(args.queries))
        ]
        similar_cases(staff, *drafts[0])  # warm: jieba dictionary, index readers
        print(f"suggestions: {args.size}  built in {t1 - t0:.1f} s, indexed in {t2 - t1:.1f} s")
        print(f"drafts: {len(drafts)} of {len(drafts[0][1])} characters")
        for label, user in (("staff (all)", staff), ("deputy (own+public)", member)):
            times, found = [], []
            for title, content in drafts:
                start = time.perf_counter()
                _, cases = similar_cases(user, title, content)
                times.append((time.perf_counter() - start) * 1000)
                found.append(len(cases))
            times.sort()
            p95 = times[max(0, int(round(0.95 * len(times))) - 1)]
            print(
                f"{label:22s} median {statistics.median(times):7.1f} ms  p95 {p95:7.1f} ms  "
                f"max {times[-1]:7.1f} ms  cases/draft {statistics.mean(found):.1f}  "
                f"target p95 ≤ {TARGET_P95_MS:.0f} ms: {'met' if p95 <= TARGET_P95_MS else 'NOT met'}"
            )


if __name__ == "__main__":
    main()
