"""CPU per page of the load benchmark's kinds, in one process (no server, no clients).

    DATA_DIR=/path/set/up/by/load.py .venv/bin/python benchmarks/page_cpu.py [--repeat 5]

The load benchmark (benchmarks/load.py) measures the stack under N clients, where every
figure also holds the queueing of the other clients' work. This script measures what one
request of each kind costs the CPU (time.process_time), with Django's test client logged in
as the demo 工作人员, on a DATA_DIR that ``benchmarks/load.py --setup-only --keep`` made. It
runs as deployed (cms.settings.onebox, DEBUG off). Running it from another checkout on the
same DATA_DIR (``cd /other/checkout && DATA_DIR=… .venv/bin/python benchmarks/page_cpu.py``)
compares two versions of the code side by side; CPU time is steadier than wall time when
other work shares the machine, but not immune to it, so alternate the runs.

Prints, per kind, the median and the maximum over --repeat rounds of its URLs (the first
round included: the maximum is the request that fills the caches).
"""

import argparse
import os
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms.settings.onebox")

SEARCHES = {
    "search_selective": ["政府债务 管理", "预算绩效", "审计监督"],
    "search_dense": ["规定", "应当", "人民政府"],
    "search_phrase": ['"人民政府"', '"依照本法规定"'],
    "search_onechar": ["税", "罚"],
    "search_heavy": [" ".join("税费债罚款项目资金收支预决算审计监督管理")],
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    settings.ALLOWED_HOSTS = ["*"]
    client = Client()
    client.force_login(get_user_model().objects.get(username="staff"))
    html = client.get("/suggestions/").content.decode()
    suggestions = sorted(set(re.findall(r'href="(/suggestions/\d+/)"', html)))[:3]
    html = client.get("/search/", {"q": "条例"}).content.decode()
    policies = [
        u for u in sorted(set(re.findall(r'<h2><a href="(/[^"#?]+)"', html))) if "/search" not in u
    ][:3]
    kinds = {kind: [("/search/", {"q": q}) for q in queries] for kind, queries in SEARCHES.items()}
    kinds |= {
        "suggestion_list": [("/suggestions/", {})],
        "suggestion_page": [(url, {}) for url in suggestions],
        "policy_page": [(url, {}) for url in policies],
        "budget_view": [(url, {}) for url in ("/budget/execution/", "/budget/departments/")],
        "home": [("/", {})],
    }
    print(f"{'kind':<18}{'n':>4}{'CPU p50 ms':>12}{'CPU max ms':>12}")
    for kind, requests in kinds.items():
        times = []
        for _round in range(args.repeat):
            for url, params in requests:
                began = time.process_time()
                response = client.get(url, params)
                times.append((time.process_time() - began) * 1000)
                if response.status_code != 200:
                    raise SystemExit(f"{url} {params}: HTTP {response.status_code}")
        print(f"{kind:<18}{len(times):>4}{statistics.median(times):>12.1f}{max(times):>12.1f}")


if __name__ == "__main__":
    main()
