#!/usr/bin/env python
"""The PostgreSQL search backend at city size: 100,000 and 1,000,000 law articles.

    .venv/bin/python benchmarks/pg_scale.py --sizes 100000,1000000 \
        --corpus /work/shared/corpus/laws [--db-prefix bench_pg] [--reuse] [--workers 2]

Every size gets its own PostgreSQL database (``<db-prefix>_<size>``, created when missing,
kept afterwards) with the project migrated into it and ``SEARCH_BACKEND=postgres``. The
documents go into the benchmark model ``searchtestapp.Document`` (title boost 3, as in
``benchmarks/search.py``):

* **Documents**: the ~17,450 distinct articles of the law corpus, then copies of them
  varied by ``vary_article`` (a place name in the title, the order of the sentences, the
  numbers and years, an organ name, a sentence or two from a written vocabulary), until
  the size is reached. No two documents are equal, and the words of the laws keep their
  share of the documents (规定, 应当, 人民政府 stay as dense as in the corpus). Loaded
  with ``COPY``.
* **Rebuild** (timed): the index table emptied, its GIN indexes dropped, the documents
  indexed through the backend's own ``add_items`` (jieba segmentation in Python,
  ``to_tsvector`` in PostgreSQL) by ``--workers`` processes over pk-ordered chunks, then
  the GIN indexes built again, the title norms set and the table analysed. Phases are
  timed separately.
* **Sizes**: ``pg_total_relation_size`` / ``pg_relation_size`` / ``pg_indexes_size`` of
  the index table and of the document table, and each index of the index table.
* **Latency**: a search through the backend (``backend.search(query, Document)``), the top
  10 and their highlighted title and body snippet, as ``benchmarks/search.py`` does it;
  the classes of ``benchmarks/corpus.py`` (selective, dense, phrase, one-character) plus
  prefixes (``backend.autocomplete``) and questions (the search box's question wording
  removed by ``search.query_syntax``). Each query once to warm up, then ``--repeat``
  times; median and p95 of the wall clock, and the process's CPU time (the database's
  CPU time is not in it: PostgreSQL runs in its own processes).
* **Phrase exactness**: the result set of each phrase query against the documents whose
  normalised text contains the phrase (worked out in SQL).

``--reuse`` keeps a loaded and indexed database: the load and the rebuild are skipped
when the database already holds *size* documents and an index entry for each.
"""

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

PG = "postgres://postgres@127.0.0.1:5432"
TARGETS = {100_000: 100.0, 1_000_000: 200.0}
REBUILD_TARGET = 2000.0
CLASSES = ("selective", "dense", "phrase", "one_char", "prefix", "question")

# ------------------------------------------------------------------ varied copies
# Word lists written for this benchmark.
PLACES = [
    "北京市",
    "天津市",
    "河北省",
    "山西省",
    "内蒙古自治区",
    "辽宁省",
    "吉林省",
    "黑龙江省",
    "上海市",
    "江苏省",
    "浙江省",
    "安徽省",
    "福建省",
    "江西省",
    "山东省",
    "河南省",
    "湖北省",
    "湖南省",
    "广东省",
    "广西壮族自治区",
    "海南省",
    "重庆市",
    "四川省",
    "贵州省",
    "云南省",
    "西藏自治区",
    "陕西省",
    "甘肃省",
    "青海省",
    "宁夏回族自治区",
    "新疆维吾尔自治区",
    "元江县",
    "临沧市",
    "大理州",
    "景洪市",
    "石林县",
    "宜良县",
    "弥勒市",
    "泸西县",
    "安宁市",
    "富民县",
    "嵩明县",
    "禄劝县",
    "寻甸县",
    "晋宁区",
    "呈贡区",
    "官渡区",
]
ORGANS = [
    ("国务院", ["省人民政府", "市人民政府", "县人民政府", "自治州人民政府"]),
    ("县级以上人民政府", ["设区的市人民政府", "县级人民政府", "乡镇人民政府"]),
    ("主管部门", ["行业主管部门", "业务主管部门", "归口管理部门"]),
    ("有关部门", ["相关部门", "有关单位", "职能部门"]),
    ("财政部门", ["财政局", "财政厅", "财政所"]),
    ("审计机关", ["审计局", "审计厅"]),
]
EXTRA_SUBJECTS = [
    "本行政区域内的财政部门",
    "各级审计机关",
    "乡镇人民代表大会",
    "县人大常委会预算工作委员会",
    "街道办事处",
    "开发区管理委员会",
    "国有企业",
    "事业单位",
    "社会组织",
    "村民委员会",
]
EXTRA_VERBS = [
    "应当每年报告",
    "可以委托第三方评估",
    "负责组织核查",
    "按季度公开",
    "依照本办法执行",
    "会同有关部门制定",
    "建立健全",
    "不得挪用",
    "及时整改",
    "定期检查",
]
EXTRA_OBJECTS = [
    "专项资金使用情况",
    "项目绩效评价结果",
    "财政收支审计报告",
    "国有资产管理情况",
    "政府投资项目",
    "债务风险防控措施",
    "民生实事项目",
    "预算执行进度",
    "整改落实情况",
    "基层监督台账",
    "公共服务事项清单",
    "重点支出政策",
]
CN_DIGITS = "一二三四五六七八九"
NUMBER_RE = re.compile(r"[一二三四五六七八九十百千]+(?=日|个月|年|倍|人|元|万元|项|次)")
ARABIC_RE = re.compile(r"\d+")
YEAR_RE = re.compile(r"(19|20)\d\d年")
SENTENCE_RE = re.compile(r"[^。；]+[。；]?")


def chinese_number(rng):
    n = rng.randint(1, 99)
    tens, ones = divmod(n, 10)
    text = (CN_DIGITS[tens - 1] if tens > 1 else "") + ("十" if tens else "")
    return text + (CN_DIGITS[ones - 1] if ones else "")


def vocabulary_sentence(rng, place):
    return (
        f"{place}{rng.choice(EXTRA_SUBJECTS)}{rng.choice(EXTRA_VERBS)}{rng.choice(EXTRA_OBJECTS)}。"
    )


def vary_article(article, copy, rng):
    """A varied copy of one article (dict with title, body, year, law); copy ≥ 1."""
    place = PLACES[(copy * 7 + rng.randrange(len(PLACES))) % len(PLACES)]
    body = article["body"]
    body = NUMBER_RE.sub(lambda m: chinese_number(rng), body)
    body = ARABIC_RE.sub(lambda m: str(rng.randint(1, 500)), body)
    body = YEAR_RE.sub(lambda m: f"{rng.randint(1990, 2026)}年", body)
    for organ, replacements in ORGANS:
        if organ in body and rng.random() < 0.5:
            body = body.replace(organ, rng.choice(replacements), 1)
    sentences = SENTENCE_RE.findall(body.replace("\n", ""))
    if len(sentences) > 1:
        rng.shuffle(sentences)
    for _ in range(rng.choice((0, 1, 1, 2))):
        sentences.insert(rng.randint(0, len(sentences)), vocabulary_sentence(rng, place))
    law, _, number = article["title"].rpartition(" ")
    year = article.get("year")
    return {
        "title": f"{place}实施《{law}》办法（{copy}） {number}",
        "body": "".join(sentences),
        "year": (year or 2000) + rng.randint(0, 10),
    }


def documents(size, corpus_path, seed=7):
    """*size* documents: the corpus's distinct articles, then varied copies (a generator)."""
    base = _distinct(corpus_path, seed)
    rng = random.Random(seed)
    for i in range(size):
        copy, index = divmod(i, len(base))
        if copy == 0:
            yield base[index]
        else:
            yield vary_article(base[index], copy, rng)


def _distinct(corpus_path, seed):
    from corpus import normalise, read_law_articles

    articles = read_law_articles(corpus_path)
    random.Random(seed).shuffle(articles)
    seen, out = set(), []
    for article in articles:
        key = normalise(article["body"])
        if key not in seen:
            seen.add(key)
            out.append(article)
    return out


# ------------------------------------------------------------------ the database


def ensure_database(name):
    exists = subprocess.run(
        ["psql", PG + "/postgres", "-Atc", f"SELECT 1 FROM pg_database WHERE datname = '{name}'"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if not exists:
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", name], check=True)


def setup_django(db_name, data_dir):
    os.environ["DATABASE_URL"] = f"{PG}/{db_name}"
    os.environ["SEARCH_BACKEND"] = "postgres"
    os.environ["DATA_DIR"] = str(data_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "cms.settings.test"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def scalar(sql, params=None):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchone()[0]


def load_documents(size, corpus_path):
    from django.db import connection

    from tests.search.testapp.models import Document

    table = Document._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {table} RESTART IDENTITY")
    columns = "title, body, doc_number, issuer, year, effect_level, status, published, restricted"
    connection.ensure_connection()
    raw = connection.connection
    with raw.cursor() as cursor:
        with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for doc in documents(size, corpus_path):
                copy.write_row(
                    (
                        doc["title"][:255],
                        doc["body"],
                        "",
                        "全国人民代表大会常务委员会",
                        doc.get("year"),
                        "法律",
                        "现行有效",
                        True,
                        False,
                    )
                )
    raw.commit()
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {table}")


# ------------------------------------------------------------------ the rebuild


def _postgres_cpu_seconds():
    """CPU seconds of the PostgreSQL server so far: every running postgres process, plus
    what the postmaster has collected from the backends that ended (cutime, cstime)."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name = text[text.index("(") + 1 : text.rindex(")")]
        if name != "postgres":
            continue
        fields = text.rsplit(")", 1)[1].split()
        total += sum(int(v) for v in fields[11:15]) / tick
    return total


def rebuild(workers, chunk):
    """The product's parallel rebuild (``manage.py search_rebuild``, search.pg_rebuild):
    index emptied and its GIN indexes dropped, every document indexed by forked workers,
    title norms, VACUUM ANALYZE, GIN indexes built again in parallel, ANALYZE. Returns
    the count and the phase timings, with the workers' and PostgreSQL's CPU seconds."""
    from modelsearch.backends import get_search_backend

    from search import pg_rebuild

    pg_cpu = _postgres_cpu_seconds()
    report = pg_rebuild.rebuild(get_search_backend(), workers=workers, chunk=chunk)
    phases = dict(report.seconds)
    phases["index_cpu_python"] = report.worker_cpu
    phases["cpu_postgres"] = _postgres_cpu_seconds() - pg_cpu
    return report.objects, phases


def relation_sizes():
    from modelsearch.backends.database.postgres.postgres import IndexEntry

    from tests.search.testapp.models import Document

    sizes = {}
    for label, table in (
        ("index_table", IndexEntry._meta.db_table),
        ("documents", Document._meta.db_table),
    ):
        sizes[label] = {
            "total": scalar("SELECT pg_total_relation_size(%s)", [table]),
            "heap": scalar("SELECT pg_relation_size(%s)", [table]),
            "toast": scalar(
                "SELECT COALESCE(pg_relation_size(reltoastrelid), 0) FROM pg_class"
                " WHERE oid = %s::regclass",
                [table],
            ),
            "indexes": scalar("SELECT pg_indexes_size(%s)", [table]),
        }
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexrelid::regclass::text, pg_relation_size(indexrelid) FROM pg_index"
            " WHERE indrelid = %s::regclass ORDER BY 2 DESC",
            [IndexEntry._meta.db_table],
        )
        sizes["index_table_indexes"] = dict(cursor.fetchall())
    sizes["database"] = scalar("SELECT pg_database_size(current_database())")
    return sizes


# ------------------------------------------------------------------ queries

PREFIX_QUERIES = ["制度汇", "个人所", "政府采", "预算审", "行政处", "税收征", "国有资", "审计监"]
QUESTION_QUERIES = [
    "政府债务怎么管理",
    "预算调整需要哪些程序",
    "什么是转移支付",
    "行政处罚如何听证",
    "税收征收管理有哪些规定",
    "国有资产是否可以出租",
]


def query_classes(corpus_path):
    """The classes of benchmarks/corpus.py, drawn from the corpus's distinct articles."""
    from corpus import build_corpus, known_item_queries, latency_queries

    base = build_corpus(20000, corpus_path)
    queries = latency_queries(base, known_item_queries(base))
    queries["prefix"] = PREFIX_QUERIES
    queries["question"] = QUESTION_QUERIES
    return queries


class Runner:
    def __init__(self):
        from modelsearch.backends import get_search_backend

        self.backend = get_search_backend()

    @staticmethod
    def _query(text):
        from modelsearch.utils import parse_query_string

        return parse_query_string(text)[1]

    def results(self, kind, text):
        from tests.search.testapp.models import Document

        if kind == "prefix":
            return self.backend.autocomplete(text, Document)
        if kind == "question":
            from search.query_syntax import parse_query

            return self.backend.search(parse_query(text).query, Document)
        return self.backend.search(self._query(text), Document)

    def search_and_highlight(self, kind, text):
        from search.highlight import highlight

        docs = list(self.results(kind, text)[:10])
        return [(highlight(d.title, text, max_chars=None), highlight(d.body, text)) for d in docs]


def percentile(values, pct):
    ordered = sorted(values)
    k = (len(ordered) - 1) * pct / 100
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def _run_ns(pid):
    """Nanoseconds a process has spent on a CPU (/proc/PID/schedstat, first field)."""
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])


def measure_latency(runner, queries, repeat):
    """Wall clock, and CPU time of the query: this process (search, highlighting) plus
    its PostgreSQL backend process (the plan), which a loaded machine cannot inflate."""
    me = os.getpid()
    db = scalar("SELECT pg_backend_pid()")
    latency = {}
    for kind in CLASSES:
        texts = queries[kind]
        for text in texts:
            runner.search_and_highlight(kind, text)
        timings, cpu, db_cpu, per_query = [], [], [], {}
        for _ in range(repeat):
            for text in texts:
                t0 = time.perf_counter()
                c0, d0 = _run_ns(me), _run_ns(db)
                runner.search_and_highlight(kind, text)
                own, database = (_run_ns(me) - c0) / 1e6, (_run_ns(db) - d0) / 1e6
                ms = (time.perf_counter() - t0) * 1000
                timings.append(ms)
                cpu.append(own + database)
                db_cpu.append(database)
                per_query.setdefault(text, []).append(own + database)
        latency[kind] = {
            "median_ms": statistics.median(timings),
            "p95_ms": percentile(timings, 95),
            "cpu_median_ms": statistics.median(cpu),
            "cpu_p95_ms": percentile(cpu, 95),
            "db_cpu_median_ms": statistics.median(db_cpu),
            "n": len(timings),
            "slowest_cpu": sorted(
                ((t, statistics.median(v)) for t, v in per_query.items()), key=lambda x: -x[1]
            )[:3],
        }
    return latency


def phrase_exactness(runner, phrases):
    from corpus import normalise

    from tests.search.testapp.models import Document

    table = Document._meta.db_table
    out = []
    for text in phrases:
        phrase = normalise(text.strip('"'))
        truth = {
            row
            for row in _column(
                f"SELECT id FROM {table} WHERE strpos(lower(normalize(title || E'\\n' || body,"
                " NFKC)), %s) > 0",
                [phrase],
            )
        }
        got = {d.pk for d in runner.results("phrase", text)}
        out.append(
            {"query": text, "expected": len(truth), "returned": len(got), "exact": got == truth}
        )
    return out


def _column(sql, params):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [r[0] for r in cursor.fetchall()]


# ------------------------------------------------------------------ one size


def run_size(args, size):
    """Everything for one size, in this process (a fresh interpreter per size)."""
    db_name = f"{args.db_prefix}_{size}"
    ensure_database(db_name)
    data_dir = Path(args.data_dir) / db_name
    data_dir.mkdir(parents=True, exist_ok=True)
    setup_django(db_name, data_dir)
    from django.contrib.contenttypes.models import ContentType
    from modelsearch.backends.database.postgres.postgres import IndexEntry

    from tests.search.testapp.models import Document

    report = {"size": size, "database": db_name, "load_average_start": os.getloadavg()}
    docs = scalar(f"SELECT count(*) FROM {Document._meta.db_table}")
    # the documents' entries (the site's own pages are indexed too)
    entries = scalar(
        f"SELECT count(*) FROM {IndexEntry._meta.db_table} WHERE content_type_id = %s",
        [ContentType.objects.get_for_model(Document).pk],
    )
    if args.reuse and docs == size and entries == size:
        report["reused"] = True
        print(f"[{size}] reusing {db_name}: {docs} documents, {entries} index entries", flush=True)
    else:
        report["reused"] = False
        if not (args.reuse and docs == size):
            t = time.perf_counter()
            load_documents(size, args.corpus)
            report["load_seconds"] = time.perf_counter() - t
            print(f"[{size}] loaded in {report['load_seconds']:.1f}s", flush=True)
        load_before = os.getloadavg()[0]
        t = time.perf_counter()
        indexed, phases = rebuild(args.workers, args.chunk)
        seconds = time.perf_counter() - t
        report["rebuild"] = {
            "seconds": seconds,
            "articles_per_s": indexed / seconds,
            "indexed": indexed,
            "phases": phases,
            "workers": args.workers,
            "load_average_before": load_before,
            "load_average_after": os.getloadavg()[0],
        }
        print(f"[{size}] rebuilt: {json.dumps(report['rebuild'])}", flush=True)
    report["sizes"] = relation_sizes()
    report["mean_body_chars"] = float(
        scalar(f"SELECT avg(char_length(body)) FROM {Document._meta.db_table}")
    )
    queries = query_classes(args.corpus)
    runner = Runner()
    report["latency"] = measure_latency(runner, queries, args.repeat)
    report["load_average_after_queries"] = os.getloadavg()
    report["phrases"] = phrase_exactness(runner, queries["phrase"])
    report["queries"] = queries
    return report


# ------------------------------------------------------------------ printing


def mb(n):
    return f"{n / 2**20:,.0f} MB"


def print_report(r):
    size = r["size"]
    print(
        f"\n=== {size:,} articles (database {r['database']}, mean body {r['mean_body_chars']:.0f} characters) ==="
    )
    print(f"load average at start: {', '.join(f'{x:.2f}' for x in r['load_average_start'])}")
    if r.get("rebuild"):
        b = r["rebuild"]
        ok = "OK" if b["articles_per_s"] >= REBUILD_TARGET else "MISSED"
        print(
            f"rebuild: {b['seconds']:.1f} s, {b['articles_per_s']:,.0f} articles/s "
            f"(target ≥ {REBUILD_TARGET:,.0f}: {ok}); {b['workers']} workers; load average "
            f"{b['load_average_before']:.2f} → {b['load_average_after']:.2f}"
        )
        print("  phases: " + ", ".join(f"{k} {v:.1f} s" for k, v in b["phases"].items()))
        p = b["phases"]
        cpu = p.get("index_cpu_python", 0) + p.get("cpu_postgres", 0)
        if cpu:
            print(
                f"  CPU: {cpu:.0f} s for the whole rebuild (workers + PostgreSQL server) = "
                f"{b['indexed'] / cpu:,.0f} articles per CPU-second; on 2 idle cores "
                f"≈ {2 * b['indexed'] / cpu:,.0f} articles/s"
            )
    else:
        print("rebuild: reused database (not rebuilt in this run)")
    s = r["sizes"]
    for label in ("index_table", "documents"):
        x = s[label]
        print(
            f"{label}: total {mb(x['total'])} (heap {mb(x['heap'])}, toast {mb(x['toast'])}, "
            f"indexes {mb(x['indexes'])})"
        )
    print("  " + ", ".join(f"{k} {mb(v)}" for k, v in s["index_table_indexes"].items()))
    print(f"database: {mb(s['database'])}")
    target = TARGETS.get(size, 200.0)
    print(
        f"{'class':10}{'median':>9}{'p95':>9}{'CPU med':>9}{'CPU p95':>9}{'of it PG':>9}"
        "  slowest by CPU (median ms)"
    )
    worst = worst_cpu = 0.0
    for kind in CLASSES:
        x = r["latency"][kind]
        worst = max(worst, x["p95_ms"])
        worst_cpu = max(worst_cpu, x["cpu_p95_ms"])
        slow = ", ".join(f"{q} {ms:.0f}" for q, ms in x["slowest_cpu"])
        print(
            f"{kind:10}{x['median_ms']:>9.1f}{x['p95_ms']:>9.1f}{x['cpu_median_ms']:>9.1f}"
            f"{x['cpu_p95_ms']:>9.1f}{x['db_cpu_median_ms']:>9.1f}  {slow}"
        )
    print(
        f"target p95 ≤ {target:.0f} ms every class: worst wall-clock p95 {worst:.1f} ms "
        f"{'OK' if worst <= target else 'MISSED'}; worst CPU p95 (Python + PostgreSQL) "
        f"{worst_cpu:.1f} ms {'OK' if worst_cpu <= target else 'MISSED'}"
    )
    exact = sum(p["exact"] for p in r["phrases"])
    print(f"phrases exact: {exact}/{len(r['phrases'])}")
    for p in r["phrases"]:
        if not p["exact"]:
            print(f"  not exact: {p['query']} expected {p['expected']} got {p['returned']}")
    print(
        f"load average after queries: {', '.join(f'{x:.2f}' for x in r['load_average_after_queries'])}"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100000")
    parser.add_argument("--corpus", default="/work/shared/corpus/laws")
    parser.add_argument("--db-prefix", default="bench_pg")
    parser.add_argument("--reuse", action="store_true", help="keep a loaded, indexed database")
    parser.add_argument("--workers", type=int, default=2, help="indexing processes")
    parser.add_argument("--chunk", type=int, default=2000, help="documents per add_items call")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data-dir", default="/tmp/pg-scale")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--one-size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.one_size:
        report = run_size(args, args.one_size)
        Path(args.out).write_text(json.dumps(report, ensure_ascii=False, default=list))
        return 0

    reports = []
    for size in [int(s) for s in args.sizes.split(",") if s.strip()]:
        out = Path(args.data_dir) / f"report-{size}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, __file__, "--one-size", str(size), "--out", str(out)]
        for flag in ("corpus", "db_prefix", "workers", "chunk", "repeat", "data_dir"):
            command += [f"--{flag.replace('_', '-')}", str(getattr(args, flag))]
        if args.reuse:
            command.append("--reuse")
        subprocess.run(command, check=True)
        report = json.loads(out.read_text())
        reports.append(report)
        print_report(report)
    if args.json:
        Path(args.json).write_text(json.dumps(reports, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
