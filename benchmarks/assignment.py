#!/usr/bin/env python
"""智能分办 evaluation: top-1 / top-3 accuracy of ``suggestions.assignment.suggest_units`` on
a labelled set written for this purpose (benchmarks/data/assignment_labelled.csv: 84
suggestions, 12 county units, 7 each — written by hand from the units' usual duties, not
produced by the demo generator).

    .venv/bin/python benchmarks/assignment.py [--folds 3] [--neighbours 15]

Three-fold cross-validation, stratified by unit: in fold k, the items at positions ≡ k (mod
3) within each unit are held back; the others are loaded as past assignments (assigned to
their unit), indexed through the project's search backend, and every held-back item is asked
for three suggested units. Prints accuracy per fold and overall, next to the baseline that
always suggests the three units with the most past assignments. It asserts nothing.
"""

import argparse
import csv
import datetime
import os
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
DATA = REPO / "benchmarks" / "data" / "assignment_labelled.csv"


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


def load_rows():
    with DATA.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--neighbours", type=int, help="SUGGESTIONS_ASSIGNMENT_NEIGHBOURS")
    args = parser.parse_args()
    rows = load_rows()
    with tempfile.TemporaryDirectory(prefix="assignment-bench-") as tmp:
        setup(tmp)
        from django.conf import settings

        if args.neighbours:
            settings.SUGGESTIONS_ASSIGNMENT_NEIGHBOURS = args.neighbours
        from suggestions.assignment import neighbours_count

        print(f"neighbours voting: {neighbours_count()}")
        from django.contrib.auth import get_user_model
        from django.contrib.auth.models import Group
        from django.core.management import call_command

        from budget.models import Department
        from cms import roles
        from suggestions import services
        from suggestions.assignment import suggest_units
        from suggestions.models import Deputy, Session, Suggestion

        term = services.setup_term(18)
        session = Session.objects.create(term=term, number=1)
        deputy = Deputy.objects.create(name="评测代表")
        staff = get_user_model().objects.create_user("bench_staff", password="x")
        staff.groups.add(Group.objects.get(name=roles.STAFF))
        names = sorted({r["unit"] for r in rows})
        units = {
            name: Department.objects.create(code=f"{i:03d}", name=name)
            for i, name in enumerate(names, 1)
        }
        position = defaultdict(int)
        for row in rows:
            row["pos"] = position[row["unit"]]
            position[row["unit"]] += 1
        total = Counter()
        print(f"labelled set: {len(rows)} items, {len(units)} units ({DATA.name})")
        for fold in range(args.folds):
            Suggestion.objects.all().delete()
            train = [r for r in rows if r["pos"] % args.folds != fold]
            test = [r for r in rows if r["pos"] % args.folds == fold]
            Suggestion.objects.bulk_create(
                Suggestion(
                    term=term,
                    session=session,
                    number=i,
                    title=r["title"],
                    content=r["content"],
                    lead_deputy=deputy,
                    lead_unit=units[r["unit"]],
                    status="assigned",
                    submitted_on=datetime.date(2025, 3, 1),
                    assigned_on=datetime.date(2025, 3, 10),
                )
                for i, r in enumerate(train, 1)
            )
            call_command("update_index", verbosity=0)
            busiest = [u for u, _ in Counter(r["unit"] for r in train).most_common(3)]
            counts = Counter()
            for r in test:
                got = [u.unit.name for u in suggest_units(staff, r["title"], r["content"])]
                counts["n"] += 1
                counts["top1"] += bool(got) and got[0] == r["unit"]
                counts["top3"] += r["unit"] in got
                counts["none"] += not got
                counts["base3"] += r["unit"] in busiest
                if r["unit"] not in got:
                    print(f"  fold {fold} miss: {r['title']} → {r['unit']}; suggested {got}")
            total.update(counts)
            print(
                f"fold {fold}: train {len(train)}, held back {counts['n']}: "
                f"top-1 {counts['top1'] / counts['n']:.1%}, top-3 {counts['top3'] / counts['n']:.1%}"
                f", no suggestion {counts['none']}, baseline top-3 {counts['base3'] / counts['n']:.1%}"
            )
        n = total["n"]
        print(
            f"overall ({n} held-back predictions): top-1 {total['top1'] / n:.1%}, "
            f"top-3 {total['top3'] / n:.1%}, baseline (3 busiest units) top-3 "
            f"{total['base3'] / n:.1%}"
        )


if __name__ == "__main__":
    main()
