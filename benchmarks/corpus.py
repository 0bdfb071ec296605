"""Benchmark corpora and known-item query sets.

Documents are plain dicts (title, body, year). With a path to the shared law corpus
(Markdown, ``## 第一章`` headings, one paragraph per ``第X条``) each article becomes a
document titled "<law> 第X条"; otherwise, or when more documents are asked for than the
corpus has, documents are generated from a seeded vocabulary of budget-supervision words.
"""

import random
import re
import unicodedata
from collections import Counter
from pathlib import Path

ARTICLE_RE = re.compile(
    r"^(第[零一二三四五六七八九十百千]+条(?:之[一二三四五六七八九十]+)?)\s*(.*)$"
)
YEAR_RE = re.compile(r"\((\d{4})-\d{2}-\d{2}\)")
HAN_RE = re.compile(r"[\u4e00-\u9fff]")

# Word lists for generated documents (written for this benchmark).
SUBJECTS = [
    "县人民政府",
    "财政部门",
    "审计机关",
    "预算单位",
    "人大常委会",
    "发展改革部门",
    "国有资产监督管理机构",
    "乡镇人民政府",
    "税务机关",
    "主管部门",
    "街道办事处",
    "政府采购代理机构",
]
VERBS = [
    "应当编制",
    "负责审查",
    "依法公开",
    "定期报告",
    "加强监督",
    "组织实施",
    "及时调整",
    "严格控制",
    "统筹安排",
    "按规定报送",
]
OBJECTS = [
    "部门预算",
    "政府性基金预算",
    "国有资本经营预算",
    "社会保险基金预算",
    "转移支付资金",
    "专项债券",
    "三公经费",
    "绩效目标",
    "决算草案",
    "预算调整方案",
    "政府债务限额",
    "行政事业性收费",
    "土地出让收入",
    "民生项目资金",
    "采购合同",
    "审计查出问题整改情况",
]
TAILS = [
    "并向社会公开",
    "报本级人民代表大会常务委员会备案",
    "确保资金安全",
    "提高资金使用效益",
    "不得擅自改变用途",
    "接受人大代表监督",
    "按照规定程序办理",
    "每年第三季度完成",
]
TOPICS = ["预算管理", "国有资产", "审计监督", "政府债务", "税收征管", "政府采购", "社会保障"]


def normalise(text):
    return unicodedata.normalize("NFKC", text).lower()


def read_law_articles(root):
    """Every article of every law under *root*: dicts with title, body, year, law."""
    docs = []
    for path in sorted(Path(root).rglob("*.md")):
        if path.name.startswith("_"):
            continue
        text = path.read_text(encoding="utf-8")
        head = text.split("<!-- INFO END -->", 1)
        if len(head) != 2:
            continue
        title_match = re.search(r"^# (.+)$", head[0], re.M)
        law = (title_match.group(1) if title_match else path.stem).strip()
        law = law.removeprefix("中华人民共和国")
        year_match = YEAR_RE.search(path.name)
        year = int(year_match.group(1)) if year_match else None
        current = None
        for line in head[1].splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            match = ARTICLE_RE.match(line)
            if match:
                current = {
                    "title": f"{law} {match.group(1)}",
                    "body": match.group(2).strip(),
                    "year": year,
                    "law": law,
                }
                docs.append(current)
            elif current is not None:
                current["body"] += "\n" + line
    return [d for d in docs if d["body"]]


def generated_documents(count, seed=7, start=0):
    rng = random.Random(seed + start)
    docs = []
    for i in range(start, start + count):
        topic = rng.choice(TOPICS)
        sentences = []
        for _ in range(rng.randint(2, 6)):
            sentences.append(
                rng.choice(SUBJECTS)
                + rng.choice(VERBS)
                + rng.choice(OBJECTS)
                + "，"
                + rng.choice(TAILS)
                + "。"
            )
        docs.append(
            {
                "title": f"{topic}规定（生成{i + 1}号） 第{rng.randint(1, 80)}条",
                "body": "".join(sentences),
                "year": rng.randint(2000, 2025),
                "law": f"{topic}规定（生成{i + 1}号）",
                "generated": True,
            }
        )
    return docs


def build_corpus(size, corpus_path=None, seed=7):
    """*size* documents: real articles first (shuffled, seeded), then generated ones."""
    docs = []
    if corpus_path:
        articles = read_law_articles(corpus_path)
        random.Random(seed).shuffle(articles)
        # The corpus keeps several versions of a law; an article unchanged between
        # versions would be two identical documents and make a known item ambiguous.
        seen = set()
        for article in articles:
            key = normalise(article["body"])
            if key not in seen:
                seen.add(key)
                docs.append(article)
        docs = docs[:size]
    if len(docs) < size:
        docs.extend(generated_documents(size - len(docs), seed=seed, start=len(docs)))
    return docs


def long_documents(size, corpus_path=None, doc_chars=0, seed=7):
    """*size* documents of about *doc_chars* characters each (0: the articles as they are).

    Consecutive corpus articles are joined until a body has ``doc_chars`` characters
    (700 Han characters ≈ 2 KB of UTF-8, the document size of the issue's measurements);
    the document keeps the title of its first article. The pool wraps round, so bodies
    overlap: known-item quality on these documents means little (measure it on articles)."""
    if not doc_chars:
        return build_corpus(size, corpus_path, seed=seed)
    pool = build_corpus(size * 4, corpus_path, seed=seed)
    docs, i = [], 0
    while len(docs) < size:
        base = dict(pool[i % len(pool)])
        i += 1
        while len(base["body"]) < doc_chars:
            base["body"] += "\n" + pool[i % len(pool)]["body"]
            i += 1
        docs.append(base)
    return docs


# ---------------------------------------------------------------------------- queries


def _doc_text(doc):
    return normalise(doc["title"] + "\n" + doc["body"])


def known_item_queries(docs, count=60, seed=11, strict=True):
    """Queries written from one document each, with that document as the expected hit.

    Three kinds: ``keywords`` (the article's most specific words, as a user would type
    them), ``phrase`` (a quoted stretch of the article that occurs nowhere else) and
    ``one_char`` (a Han character that occurs in no other document).

    With ``strict`` (the default since the second round of measurements) two kinds of
    document are not used as known items, because no query can single them out — whatever
    the engine:

    * generated filler documents: they are sentences drawn from ~50 stock phrases, so any
      three of their keywords occur, equally often, in dozens of other generated documents
      (at 20k, 6 of the 60 keyword items of the first set came from them; no engine can
      rank "the" right one first);
    * an article whose title (law + article number) another document has too: the corpus
      keeps several versions of a law, and an article amended in a word or two is a
      near-duplicate of its other version (13% of the real articles at 20k; in the first
      set 文物保护法 第二十三条 lost to its other version, which has every query word).

    ``strict=False`` builds the first set (kept so that both can be reported).
    """
    import jieba
    import jieba.analyse
    from django.conf import settings

    if settings.configured:
        from search.analysis import _cache_dir

        jieba.dt.tmp_dir = str(_cache_dir())  # jieba's own cache under DATA_DIR, not /tmp
    rng = random.Random(seed)
    texts = [_doc_text(d) for d in docs]
    char_df = Counter()
    for text in texts:
        char_df.update(set(HAN_RE.findall(text)))
    title_count = Counter(d["title"] for d in docs)
    order = list(range(len(docs)))
    rng.shuffle(order)
    if strict:
        order = [
            i for i in order if not docs[i].get("generated") and title_count[docs[i]["title"]] == 1
        ]
    queries = []
    wanted = {"keywords": count, "phrase": count // 2, "one_char": count // 4}
    have = Counter()
    for i in order:
        if all(have[k] >= n for k, n in wanted.items()):
            break
        body = normalise(docs[i]["body"])
        if have["keywords"] < wanted["keywords"] and len(body) >= 30:
            tags = jieba.analyse.extract_tags(body, topK=3)
            if len(tags) >= 2:
                queries.append({"kind": "keywords", "query": " ".join(tags), "expected": i})
                have["keywords"] += 1
        if have["phrase"] < wanted["phrase"] and len(body) >= 40:
            start = rng.randint(0, len(body) - 12)
            phrase = body[start : start + 8]
            if HAN_RE.search(phrase) and not re.search(r"[\s，。；：、“”（）]", phrase):
                if sum(phrase in t for t in texts) == 1:
                    queries.append({"kind": "phrase", "query": f'"{phrase}"', "expected": i})
                    have["phrase"] += 1
        if have["one_char"] < wanted["one_char"]:
            unique = sorted(c for c in set(HAN_RE.findall(texts[i])) if char_df[c] == 1)
            if unique:
                queries.append({"kind": "one_char", "query": rng.choice(unique), "expected": i})
                have["one_char"] += 1
    return queries


DENSE_QUERIES = ["规定", "应当", "国家", "人民政府", "管理", "监督", "依法", "部门", "责任", "工作"]
ONE_CHAR_QUERIES = ["税", "罚", "债", "林", "港", "矿", "粮", "药", "船", "渔"]


def latency_queries(docs, known):
    """Query strings per latency class: selective, dense, phrase, one_char."""
    selective = [q["query"] for q in known if q["kind"] == "keywords"][:20]
    phrases = [q["query"] for q in known if q["kind"] == "phrase"][:10]
    # Phrases that occur in many documents, too (dense phrases).
    dense_phrases = ['"人民政府"', '"法律责任"', '"国务院有关部门"', '"依照本法规定"', '"预算"']
    return {
        "selective": selective,
        "dense": DENSE_QUERIES,
        "phrase": phrases + dense_phrases,
        "one_char": ONE_CHAR_QUERIES,
    }
