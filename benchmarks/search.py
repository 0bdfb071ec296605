#!/usr/bin/env python
"""Search benchmark: our Whoosh + jieba backend against two stock set-ups, side by side.

    .venv/bin/python benchmarks/search.py --sizes 2000,20000 [--corpus /work/shared/corpus/laws]
                                          [--repeat 3] [--json out.json]

For every corpus size it builds an isolated project (a temporary DATA_DIR with its own
SQLite database), loads the documents into the test model ``searchtestapp.Document`` and
measures, for each backend, in its own forked process:

* ``ours``        — ``search.backend`` (Whoosh + jieba, the project's default backend);
* ``db_sqlite``   — Wagtail's stock database backend on SQLite (FTS5);
* ``whoosh_stock``— plain Whoosh with jieba's stock ``ChineseAnalyzer`` (title + body);

full rebuild speed (docs/s), index size on disk, peak memory (ru_maxrss of the process),
median and p95 latency of a search that fetches the top 10 and highlights them, for
selective, dense, phrase and one-character queries; the exactness of phrase queries
(the result set equals the set of documents containing the string); and quality on a
known-item query set built from the corpus (MRR@10, recall@10), by query kind.

It is a script, not a test: nothing here asserts the targets, it prints them.
"""

import argparse
import json
import multiprocessing
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

TARGETS = {"p95_ms": 100.0, "docs_per_s": 300.0, "mrr": 0.9}
BACKENDS = ["ours", "db_sqlite", "whoosh_stock"]


def setup_django(data_dir):
    os.environ["DATA_DIR"] = str(data_dir)
    os.environ.pop("DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "cms.settings.test"
    import django

    django.setup()
    from django.conf import settings

    settings.WAGTAILSEARCH_BACKENDS = {
        "default": {"BACKEND": "search.backend", "PATH": str(Path(data_dir) / "index")},
        "db_sqlite": {"BACKEND": "modelsearch.backends.database", "AUTO_UPDATE": False},
    }
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def warm_segmenters():
    """Load both jieba set-ups before the clock starts: a process loads its dictionary
    once, not once per rebuild (our lexicon, and jieba's default one for ChineseAnalyzer)."""
    import jieba

    from search.analysis import _cache_dir, get_lexicon

    get_lexicon()
    jieba.dt.tmp_dir = str(_cache_dir())  # its cache under DATA_DIR, not /tmp
    jieba.initialize()


def cpu_seconds():
    """CPU time of this process and its finished children (rebuild sub-writers). On a
    machine shared with other work it describes the code better than the wall clock."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def dir_size(path):
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file())


def percentile(values, pct):
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * pct / 100
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


# ---------------------------------------------------------------------------- runners


def rebuild_documents(backend, chunk_size=1000):
    """What ``manage.py update_index`` does (the backend's rebuilder, pk-ordered chunks),
    limited to the benchmark's model, so that other apps' tables play no part."""
    from modelsearch.index import get_indexed_models

    from tests.search.testapp.models import Document

    assert Document in get_indexed_models()
    rebuilder = backend.rebuilder_class(backend.get_index_for_model(Document))
    index = rebuilder.start()
    index.add_model(Document)
    queryset = Document.get_indexed_objects().order_by("pk")
    start = 0
    while True:
        chunk = list(queryset[start : start + chunk_size])
        if not chunk:
            break
        index.add_items(Document, chunk)
        start += chunk_size
    rebuilder.finish()


class WagtailRunner:
    """A modelsearch backend reached the way the site reaches it."""

    def __init__(self, alias, data_dir):
        from modelsearch.backends import get_search_backend

        self.alias = alias
        self.data_dir = Path(data_dir)
        self.backend = get_search_backend(alias)

    def rebuild(self):
        self.backend.reset_indexes()
        rebuild_documents(self.backend)
        self.backend.refresh_indexes()

    def index_size(self):
        if self.alias == "default":
            return dir_size(self.data_dir / "index")
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            cursor.execute(
                "SELECT COALESCE(SUM(pgsize), 0) FROM dbstat WHERE name LIKE '%indexentry%'"
            )
            return cursor.fetchone()[0]

    def _query(self, text):
        from modelsearch.utils import parse_query_string

        return parse_query_string(text)[1]

    def ranked_pks(self, text, limit=10):
        from tests.search.testapp.models import Document

        results = self.backend.search(self._query(text), Document)
        if limit is not None:
            results = results[:limit]
        return [doc.pk for doc in results]

    def search_and_highlight(self, text):
        from search.highlight import highlight
        from tests.search.testapp.models import Document

        docs = list(self.backend.search(self._query(text), Document)[:10])
        return [(highlight(d.title, text, max_chars=None), highlight(d.body, text)) for d in docs]


class StockWhooshRunner:
    """Whoosh as its documentation shows it for Chinese: jieba's ChineseAnalyzer."""

    def __init__(self, data_dir):
        self.path = Path(data_dir) / "whoosh-stock"
        self.ix = None
        self.searcher = None

    def rebuild(self):
        from jieba.analyse import ChineseAnalyzer
        from whoosh import fields, index

        from tests.search.testapp.models import Document

        shutil.rmtree(self.path, ignore_errors=True)
        self.path.mkdir(parents=True)
        analyzer = ChineseAnalyzer()
        schema = fields.Schema(
            pk=fields.ID(stored=True, unique=True),
            title=fields.TEXT(analyzer=analyzer, stored=True, field_boost=3.0),
            body=fields.TEXT(analyzer=analyzer, stored=True),
        )
        self.ix = index.create_in(str(self.path), schema)
        writer = self.ix.writer(limitmb=256)
        for pk, title, body in Document.objects.values_list("pk", "title", "body").iterator():
            writer.add_document(pk=str(pk), title=title, body=body)
        writer.commit()
        self.searcher = self.ix.searcher()

    def index_size(self):
        return dir_size(self.path)

    def _parse(self, text):
        from whoosh.qparser import MultifieldParser

        return MultifieldParser(["title", "body"], self.ix.schema).parse(text)

    def ranked_pks(self, text, limit=10):
        hits = self.searcher.search(self._parse(text), limit=limit)
        return [int(hit["pk"]) for hit in hits]

    def search_and_highlight(self, text):
        hits = self.searcher.search(self._parse(text), limit=10)
        return [(hit["title"], hit.highlights("body")) for hit in hits]


def make_runner(name, data_dir):
    if name == "ours":
        return WagtailRunner("default", data_dir)
    if name == "db_sqlite":
        return WagtailRunner("db_sqlite", data_dir)
    return StockWhooshRunner(data_dir)


# ---------------------------------------------------------------------------- measuring


def measure_backend(name, data_dir, n_docs, latency_queries, known, phrase_truth, pk_of, repeat):
    rss_before = rss_mb()
    runner = make_runner(name, data_dir)
    warm_segmenters()
    started = time.perf_counter()
    cpu_started = cpu_seconds()
    runner.rebuild()
    build_seconds = time.perf_counter() - started
    build_cpu = cpu_seconds() - cpu_started
    result = {
        "backend": name,
        "docs": n_docs,
        "build_seconds": build_seconds,
        "build_cpu_seconds": build_cpu,
        "docs_per_s": n_docs / build_seconds if build_seconds else float("inf"),
        "docs_per_cpu_s": n_docs / build_cpu if build_cpu else float("inf"),
        "load_average": os.getloadavg()[0],
        "index_bytes": runner.index_size(),
    }

    latency = {}
    for kind, queries in latency_queries.items():
        for text in queries:  # warm-up: caches, lazy loading
            runner.search_and_highlight(text)
        timings = []
        cpu_timings = []
        for _ in range(repeat):
            for text in queries:
                t0 = time.perf_counter()
                c0 = time.process_time()
                runner.search_and_highlight(text)
                cpu_timings.append((time.process_time() - c0) * 1000)
                timings.append((time.perf_counter() - t0) * 1000)
        latency[kind] = {
            "median_ms": statistics.median(timings),
            "p95_ms": percentile(timings, 95),
            # CPU time of the query in this process (SQLite runs in-process too): what the
            # query costs without waiting for a core on a shared machine
            "cpu_median_ms": statistics.median(cpu_timings),
            "cpu_p95_ms": percentile(cpu_timings, 95),
            "n": len(timings),
        }
    result["load_average_after_queries"] = os.getloadavg()[0]
    result["latency"] = latency

    exact = 0
    phrase_details = []
    for text, truth in phrase_truth.items():
        got = set(runner.ranked_pks(text, limit=None))
        ok = got == truth
        exact += ok
        phrase_details.append(
            {"query": text, "expected": len(truth), "returned": len(got), "exact": ok}
        )
    result["phrase_exact"] = {"exact": exact, "total": len(phrase_truth), "queries": phrase_details}

    quality = {}
    for q in known:
        ranked = runner.ranked_pks(q["query"], limit=10)
        expected = pk_of[q["expected"]]
        rr = 1.0 / (ranked.index(expected) + 1) if expected in ranked else 0.0
        kinds = ("v1_all",) if q.get("set") == "v1" else (q["kind"], "all")
        for kind in kinds:
            bucket = quality.setdefault(kind, {"rr": [], "hit": []})
            bucket["rr"].append(rr)
            bucket["hit"].append(1.0 if rr else 0.0)
    result["quality"] = {
        kind: {
            "mrr10": statistics.mean(b["rr"]),
            "recall10": statistics.mean(b["hit"]),
            "n": len(b["rr"]),
        }
        for kind, b in quality.items()
    }
    result["peak_rss_mb"] = rss_mb()
    result["rss_at_start_mb"] = rss_before
    return result


def _child(name, args, conn):
    try:
        conn.send(measure_backend(name, *args))
    except Exception as exc:  # reported, not raised: the other backends still run
        import traceback

        conn.send({"backend": name, "error": f"{exc!r}\n{traceback.format_exc()}"})
    finally:
        conn.close()


def run_isolated(name, args):
    """Run one backend's measurements in a forked process: its own peak memory."""
    from django.db import connections

    connections.close_all()
    ctx = multiprocessing.get_context("fork")
    parent_conn, child_conn = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(name, args, child_conn))
    proc.start()
    child_conn.close()
    result = parent_conn.recv()
    proc.join()
    return result


def load_documents(docs):
    from django.db import connection

    from tests.search.testapp.models import Document, EffectLevel

    # the previous size's rows go without delete signals: each one would otherwise
    # remove its document from the index in a commit of its own (the rebuild that
    # follows empties the index anyway)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {connection.ops.quote_name(Document._meta.db_table)}")
    objs = [
        Document(
            title=d["title"][:255],
            body=d["body"],
            issuer="全国人民代表大会常务委员会",
            year=d.get("year"),
            effect_level=EffectLevel.LAW,
        )
        for d in docs
    ]
    Document.objects.bulk_create(objs, batch_size=500)
    return list(Document.objects.order_by("pk").values_list("pk", flat=True))


def phrase_ground_truth(docs, pks, phrase_queries):
    from corpus import normalise

    texts = [normalise(d["title"][:255] + "\n" + d["body"]) for d in docs]
    truth = {}
    for text in phrase_queries:
        phrase = normalise(text.strip('"'))
        truth[text] = {pk for pk, t in zip(pks, texts, strict=True) if phrase in t}
    return truth


def run_size(size, corpus_path, repeat, data_dir, backends, doc_chars=0):
    from corpus import known_item_queries, latency_queries, long_documents

    docs = long_documents(size, corpus_path, doc_chars)
    known = known_item_queries(docs)
    # the first round's set too (it includes items no query can single out, see corpus.py)
    known_v1 = [dict(q, set="v1") for q in known_item_queries(docs, strict=False)]
    # Without --corpus every document is generated filler, which the strict set leaves out
    # entirely: the latency classes then take their queries from the first set (the query
    # strings only; quality is still reported per set).
    kinds = {q["kind"] for q in known}
    queries = latency_queries(docs, known if {"keywords", "phrase"} <= kinds else known_v1)
    pks = load_documents(docs)
    truth = phrase_ground_truth(docs, pks, queries["phrase"])
    results = []
    for name in backends:
        print(f"  [{size}] {name} …", flush=True)
        results.append(
            run_isolated(name, (data_dir, len(docs), queries, known + known_v1, truth, pks, repeat))
        )
    return {
        "size": size,
        "mean_body_chars": sum(len(d["body"]) for d in docs) / len(docs),
        "known_items": len(known),
        "known_items_v1": len(known_v1),
        "queries": queries,
        "results": results,
    }


# ---------------------------------------------------------------------------- printing


def fmt_bytes(n):
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024:
            return f"{n:.0f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"


def print_size(report):
    size = report["size"]
    results = {r["backend"]: r for r in report["results"]}
    print(
        f"\n=== {size} documents (mean body {report.get('mean_body_chars', 0):.0f} characters), "
        f"{report['known_items']} known-item queries "
        f"(v1_all: the first round's {report.get('known_items_v1', 0)}, ambiguous items "
        "included) ==="
    )
    for name, r in results.items():
        if "error" in r:
            print(f"{name}: ERROR {r['error']}")
    ok = [n for n in BACKENDS if n in results and "error" not in results[n]]
    width = 14
    header = "".join(f"{n:>{width}}" for n in ok)
    print(f"{'':28}{header}")

    def row(label, fn):
        print(f"{label:28}" + "".join(f"{fn(results[n]):>{width}}" for n in ok))

    row("rebuild docs/s", lambda r: f"{r['docs_per_s']:.0f}")
    row("rebuild seconds", lambda r: f"{r['build_seconds']:.1f}")
    row("rebuild docs per CPU-s", lambda r: f"{r['docs_per_cpu_s']:.0f}")
    row("load average at rebuild", lambda r: f"{r['load_average']:.1f}")
    row("index size", lambda r: fmt_bytes(r["index_bytes"]))
    row("peak RSS MB (at start)", lambda r: f"{r['peak_rss_mb']:.0f} ({r['rss_at_start_mb']:.0f})")
    for kind in ("selective", "dense", "phrase", "one_char"):
        row(f"{kind} median ms", lambda r, k=kind: f"{r['latency'][k]['median_ms']:.1f}")
        row(f"{kind} p95 ms", lambda r, k=kind: f"{r['latency'][k]['p95_ms']:.1f}")
    for kind in ("selective", "dense", "phrase", "one_char"):
        row(f"{kind} CPU median ms", lambda r, k=kind: f"{r['latency'][k]['cpu_median_ms']:.1f}")
        row(f"{kind} CPU p95 ms", lambda r, k=kind: f"{r['latency'][k]['cpu_p95_ms']:.1f}")
    row("load average after queries", lambda r: f"{r['load_average_after_queries']:.1f}")
    row("phrase exact", lambda r: f"{r['phrase_exact']['exact']}/{r['phrase_exact']['total']}")
    for kind in ("keywords", "phrase", "one_char", "all", "v1_all"):
        row(
            f"{kind} MRR@10 / R@10",
            lambda r, k=kind: (
                f"{r['quality'][k]['mrr10']:.2f}/{r['quality'][k]['recall10']:.2f}"
                if k in r["quality"]
                else "-"
            ),
        )

    if "ours" in ok:
        ours = results["ours"]
        print("\nratios (other ÷ ours; >1 means ours is faster/smaller):")
        for other in [n for n in ok if n != "ours"]:
            o = results[other]
            parts = [
                f"rebuild time ×{o['build_seconds'] / ours['build_seconds']:.2f}",
                f"index size ×{o['index_bytes'] / max(ours['index_bytes'], 1):.2f}",
            ]
            for kind in ("selective", "dense", "phrase", "one_char"):
                parts.append(
                    f"{kind} p95 ×{o['latency'][kind]['p95_ms'] / ours['latency'][kind]['p95_ms']:.2f}"
                )
            print(f"  {other}: " + ", ".join(parts))
        p95_worst = max(v["p95_ms"] for v in ours["latency"].values())
        cpu_worst = max(v["cpu_p95_ms"] for v in ours["latency"].values())
        print(
            f"CPU time per query (ours), worst class p95: {cpu_worst:.1f} ms; "
            f"rebuild {ours['docs_per_cpu_s']:.0f} docs per CPU-second"
        )
        # a generated corpus has no strict known items: the first set's figure stands in
        quality = ours["quality"].get("all") or ours["quality"]["v1_all"]
        mrr = quality["mrr10"]
        print(
            f"\ntargets (ours): p95 ≤ {TARGETS['p95_ms']:.0f} ms → worst class {p95_worst:.1f} ms "
            f"{'OK' if p95_worst <= TARGETS['p95_ms'] else 'MISSED'}; "
            f"rebuild ≥ {TARGETS['docs_per_s']:.0f} docs/s → {ours['docs_per_s']:.0f} "
            f"{'OK' if ours['docs_per_s'] >= TARGETS['docs_per_s'] else 'MISSED'}; "
            f"MRR@10 ≥ {TARGETS['mrr']} → {mrr:.2f} {'OK' if mrr >= TARGETS['mrr'] else 'MISSED'}; "
            f"phrases exact {ours['phrase_exact']['exact']}/{ours['phrase_exact']['total']}"
        )
        misses = [q for q in ours["phrase_exact"]["queries"] if not q["exact"]]
        for q in misses:
            print(f"  phrase not exact: {q['query']} expected {q['expected']} got {q['returned']}")


def print_growth(reports):
    if len(reports) < 2:
        return
    print("\n=== latency growth of ours (p95 ms: wall, CPU) ===")
    print(f"{'class':12}" + "".join(f"{r['size']:>18}" for r in reports))
    for kind in ("selective", "dense", "phrase", "one_char"):
        cells = []
        for r in reports:
            ours = next((x for x in r["results"] if x["backend"] == "ours"), None)
            cells.append(
                f"{ours['latency'][kind]['p95_ms']:>10.1f}"
                f"{ours['latency'][kind]['cpu_p95_ms']:>8.1f}"
                if ours and "error" not in ours
                else f"{'-':>18}"
            )
        print(f"{kind:12}" + "".join(cells))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="2000", help="comma-separated corpus sizes")
    parser.add_argument("--corpus", help="path of the law corpus (Markdown files)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each query")
    parser.add_argument(
        "--doc-chars",
        type=int,
        default=0,
        help="join consecutive articles into documents of about this many characters "
        "(700 ≈ 2 KB); 0 keeps one article per document",
    )
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args(argv)

    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    backends = [b for b in args.backends.split(",") if b in BACKENDS]
    data_dir = Path(tempfile.mkdtemp(prefix="search-bench-"))
    print(
        f"DATA_DIR {data_dir}; sizes {sizes}; backends {backends}; corpus {args.corpus or '(generated)'}"
    )
    t0 = time.perf_counter()
    setup_django(data_dir)
    print(f"project set up in {time.perf_counter() - t0:.1f}s")
    reports = []
    try:
        for size in sizes:
            report = run_size(size, args.corpus, args.repeat, data_dir, backends, args.doc_chars)
            reports.append(report)
            print_size(report)
        print_growth(reports)
        if args.json:
            Path(args.json).write_text(
                json.dumps(reports, ensure_ascii=False, indent=2, default=list)
            )
            print(f"\nfigures written to {args.json}")
    finally:
        if not args.keep:
            shutil.rmtree(data_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
