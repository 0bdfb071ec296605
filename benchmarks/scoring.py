#!/usr/bin/env python
"""Side by side, in one process on one index: the block scorer (search/fastscore.py)
against Whoosh's own matchers, per latency class of benchmarks/search.py.

    .venv/bin/python benchmarks/scoring.py DATA_DIR SIZE [--doc-chars N] [--repeat 3]

DATA_DIR is a directory that ``benchmarks/search.py --keep`` (or engine_profile.py) left
behind, built from the same SIZE and --doc-chars (the query sets are drawn from the same
documents). Each query runs (search + top 10 + highlight) alternately with and without the
block scorer, so both see the same machine; medians and p95 per class are printed, and the
queries where the block scorer was more than 10 % slower.
"""

import argparse
import importlib.util
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("data_dir")
    parser.add_argument("size", type=int)
    parser.add_argument("--doc-chars", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--corpus", default=str(REPO.parent / "shared/corpus/laws"))
    args = parser.parse_args()

    spec = importlib.util.spec_from_file_location("search_benchmark", REPO / "benchmarks/search.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    bench.setup_django(args.data_dir)

    from corpus import known_item_queries, latency_queries, long_documents
    from modelsearch.backends import get_search_backend
    from modelsearch.utils import parse_query_string

    import search.backend as engine
    from search.analysis import get_lexicon
    from search.highlight import highlight
    from tests.search.testapp.models import Document

    backend = get_search_backend("default")
    get_lexicon()
    block_scorer = engine.top_docs

    def run(text):
        query = parse_query_string(text)[1]
        hits = list(backend.search(query, Document)[:10])
        return [(highlight(d.title, text, max_chars=None), highlight(d.body, text)) for d in hits]

    def timed(text, scorer):
        engine.top_docs = scorer
        try:
            start = time.perf_counter()
            run(text)
            return (time.perf_counter() - start) * 1000
        finally:
            engine.top_docs = block_scorer

    docs = long_documents(args.size, args.corpus, args.doc_chars)
    classes = latency_queries(docs, known_item_queries(docs))
    print(f"{'class':10} {'block scorer median / p95 ms':>30} {'Whoosh matchers median / p95':>30}")
    for kind, queries in classes.items():
        fast, slow, slower = [], [], []
        for text in queries:
            run(text)
            a = [timed(text, block_scorer) for _ in range(args.repeat)]
            b = [timed(text, lambda *_: None) for _ in range(args.repeat)]
            fast += a
            slow += b
            if statistics.median(a) > 1.1 * statistics.median(b):
                slower.append(f"{text} ({statistics.median(a):.1f} vs {statistics.median(b):.1f})")
        print(
            f"{kind:10} {statistics.median(fast):>17.1f} / {bench.percentile(fast, 95):6.1f}"
            f" {statistics.median(slow):>20.1f} / {bench.percentile(slow, 95):6.1f}"
            + (f"   block scorer slower: {', '.join(slower)}" if slower else ""),
            flush=True,
        )


if __name__ == "__main__":
    main()
