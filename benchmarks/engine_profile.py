#!/usr/bin/env python
"""Private profile of the Whoosh + jieba engine (search/backend.py): rebuild speed and
per-class latency (search + top-10 highlight), optionally under cProfile.

    .venv/bin/python benchmarks/engine_profile.py --size 2000 [--doc-chars 700]
        [--profile rebuild|query] [--repeat 3] [--corpus /work/shared/corpus/laws]

``--doc-chars`` joins consecutive corpus articles until each document has about that many
characters (700 Han characters ≈ 2 KB of UTF-8), to model the issue's ~2 KB documents.
It complements benchmarks/search.py (the comparison benchmark) and asserts nothing.
"""

import argparse
import cProfile
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

MIXED = ["2019年 预算", "GDP 增长", "第三条 规定", "ppp项目 合同", "13号 文件", "a类 资金"]


def percentile(values, pct):
    ordered = sorted(values)
    k = (len(ordered) - 1) * pct / 100
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=2000)
    parser.add_argument("--doc-chars", type=int, default=0)
    parser.add_argument("--corpus", default="/work/shared/corpus/laws")
    parser.add_argument("--profile", choices=["rebuild", "query", ""], default="")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--single", action="store_true", help="rebuild with one writer process")
    parser.add_argument("--no-queries", action="store_true")
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="engine-profile-"))
    import importlib.util

    # benchmarks/search.py (S2's benchmark) under another name: "search" is the app
    spec = importlib.util.spec_from_file_location("search_benchmark", REPO / "benchmarks/search.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    load_documents, setup_django = bench.load_documents, bench.setup_django

    setup_django(data_dir)
    from corpus import known_item_queries, latency_queries, long_documents
    from modelsearch.backends import get_search_backend
    from modelsearch.utils import parse_query_string

    from search.highlight import highlight
    from tests.search.testapp.models import Document

    docs = long_documents(args.size, args.corpus, args.doc_chars)
    chars = statistics.mean(len(d["body"]) for d in docs)
    print(f"{len(docs)} documents, mean body {chars:.0f} characters", flush=True)
    load_documents(docs)
    backend = get_search_backend("default")
    if args.single:
        import search.backend

        search.backend.PARALLEL_REBUILD_MIN = 10**9

    profiler = cProfile.Profile()
    backend.reset_indexes()
    from search.analysis import get_lexicon

    get_lexicon()  # jieba's dictionary is loaded once per process, not per rebuild
    t0 = time.perf_counter()
    cpu0 = _cpu_seconds()
    if args.profile == "rebuild":
        profiler.enable()
    bench.rebuild_documents(backend)
    backend.refresh_indexes()
    profiler.disable()
    seconds = time.perf_counter() - t0
    cpu = _cpu_seconds() - cpu0
    print(
        f"rebuild {seconds:.1f} s, {len(docs) / seconds:.0f} docs/s "
        f"(CPU {cpu:.1f} s in this process and its writers: {len(docs) / cpu:.0f} docs per CPU-s)",
        flush=True,
    )

    if args.no_queries:
        if args.profile == "rebuild":
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
        return
    known = known_item_queries(docs)
    classes = latency_queries(docs, known)
    classes["mixed"] = MIXED

    def run(text):
        query = parse_query_string(text)[1]
        hits = list(backend.search(query, Document)[:10])
        return [(highlight(d.title, text, max_chars=None), highlight(d.body, text)) for d in hits]

    if args.profile == "query":
        profiler.enable()
    for kind, queries in classes.items():
        for text in queries:
            run(text)
        timings = []
        for _ in range(args.repeat):
            for text in queries:
                t = time.perf_counter()
                run(text)
                timings.append((time.perf_counter() - t) * 1000)
        worst = max(queries, key=lambda q: _time_one(run, q))
        print(
            f"{kind:10} median {statistics.median(timings):6.1f} ms  "
            f"p95 {percentile(timings, 95):6.1f} ms  slowest: {worst}",
            flush=True,
        )
    profiler.disable()
    if args.profile:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)


def _cpu_seconds():
    """CPU time of this process and its finished children (the sub-writers): on a shared
    machine it says more about the code than the wall clock does."""
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _time_one(run, text):
    t = time.perf_counter()
    run(text)
    return time.perf_counter() - t


if __name__ == "__main__":
    main()
