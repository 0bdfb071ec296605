"""Chinese text analysis shared by every search backend.

One place decides what a "word" is, so that the Whoosh index, the PostgreSQL
backend and the highlighter agree:

* text is NFKC-normalised (full-width letters and digits become ASCII) and lowercased;
* jieba (precise mode) cuts it into a *primary* stream of words with sequential positions;
* dictionary sub-words of a long word (知识 in 知识管理), number+unit compounds (2019年, 13号)
  and document numbers (元人办发〔2019〕13号, its issuer prefix and its serial) are emitted as
  *secondary* tokens sharing the position of the word they came from, so phrases still line up;
* stop words are dropped from the primary stream but keep their position slot;
* synonyms are expanded at query time (editing a synonym group needs no re-index).

jieba runs once per process with its cache under settings.JIEBA_CACHE_DIR and is rebuilt
lazily when the administrator-maintained terms change (a stamp file marks the change).
"""

from __future__ import annotations

import gc
import logging
import operator
import os
import re
import threading
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

DICT_DIR = Path(__file__).resolve().parent / "dict"
STAMP_NAME = "custom-terms.stamp"
# How often (seconds) a process looks at the stamp file for administrator edits.
STAMP_CHECK_INTERVAL = 2.0

HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_HAN_RE = re.compile(f"[{HAN}]")
_HAN_RUN_RE = re.compile(f"[{HAN}]+")
_WORD_CHAR_RE = re.compile(rf"[{HAN}\w]", re.UNICODE)
# 元人办发〔2019〕13号 — issuer abbreviation, year in brackets, serial number.
# After NFKC the brackets may be 〔〕, [] or () — all accepted.
DOC_SERIAL_RE = re.compile(r"[〔\[(【]\s*\d{4}\s*[〕\])】]\s*\d{1,5}\s*号")
_HAN_ONLY_RE = re.compile(f"[{HAN}]+")
_NUMBER_RE = re.compile(r"^\d+(?:\.\d+)?$")
_UNITS = set("年月日号条款项章节期次届元万亿个件")

log = logging.getLogger(__name__)
#: How many distinct jieba pieces each process remembers the sub-words of.
PIECE_CACHE_SIZE = 200_000


@dataclass(frozen=True, slots=True)
class Token:
    """One analysed token: ``pos`` is its slot in the primary stream."""

    text: str
    pos: int
    start: int
    end: int
    primary: bool = True


try:  # compiled helpers (make install): the full-width forms folded in one pass, the walk
    # over a text's pieces of word_positions
    from search._fastwrite import fold_wide_forms as _fold_wide_forms
    from search._fastwrite import word_positions as _native_word_positions
except ImportError:  # pragma: no cover - a tree nobody ran make install in
    _fold_wide_forms = _native_word_positions = None


def normalize(text: str) -> str:
    """NFKC + lowercase; keeps the length of typical CJK/ASCII text unchanged.

    Chinese text's full-width punctuation sends ``unicodedata.normalize`` down its slow
    path (~160 ns a character for a statute); those forms are folded first as NFKC folds
    them (``search/_fastwrite.c``), after which most text is NFKC already and only checked
    (exact: NFKC of the folded text is NFKC of the text; tests compare the two)."""
    text = text or ""
    if _fold_wide_forms is not None:
        text = _fold_wide_forms(text)
        if unicodedata.is_normalized("NFKC", text):
            return text.lower()
    return unicodedata.normalize("NFKC", text).lower()


def is_han(text: str) -> bool:
    return bool(_HAN_RE.search(text))


def _read_lines(path: Path) -> list[str]:
    if not path.exists():
        return []
    lines = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            lines.append(line)
    return lines


def _cache_dir() -> Path:
    path = Path(getattr(settings, "JIEBA_CACHE_DIR", Path(settings.DATA_DIR) / "jieba"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def stamp_path() -> Path:
    return _cache_dir() / STAMP_NAME


def mark_custom_terms_changed() -> None:
    """Tell every process (through a file under JIEBA_CACHE_DIR) to reload its lexicon."""
    path = stamp_path()
    path.write_text(str(time.time()), encoding="utf-8")


def _stamp_value() -> float:
    try:
        return os.stat(stamp_path()).st_mtime_ns
    except FileNotFoundError:
        return 0


def _custom_entries() -> tuple[list[tuple[str, int]], list[list[str]]]:
    """Administrator-entered terms and synonym groups (empty before migrations ran)."""
    try:
        from django.db import transaction

        from search.models import DictionaryTerm, SynonymGroup

        # a savepoint, so a missing table cannot poison the caller's transaction
        with transaction.atomic():
            terms = [(normalize(t.word), t.frequency) for t in DictionaryTerm.objects.all()]
            groups = [g.term_list() for g in SynonymGroup.objects.all()]
        return terms, groups
    except Exception:  # table missing (fresh database, migration not applied yet)
        log.debug("custom search terms unavailable", exc_info=True)
        return [], []


def _jieba_dictionary() -> Path:
    """The dictionary jieba ships (and rjieba embeds), found without importing jieba."""
    import importlib.util

    spec = importlib.util.find_spec("jieba")
    return Path(spec.origin).parent / "dict.txt"


def _stock_words() -> dict[str, int]:
    """word → frequency of jieba's stock dictionary, as its prefix dictionary holds them
    (without the zero-frequency prefixes it adds for its own search), read from a marshal
    copy under JIEBA_CACHE_DIR (~0.1 s; jieba's own cache, prefixes included, ~0.6 s)."""
    import marshal

    source = _jieba_dictionary()
    info = source.stat()
    cached = _cache_dir() / f"stock-words-{info.st_size}-{info.st_mtime_ns}.marshal"
    try:
        words = marshal.loads(cached.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        words = None
    if isinstance(words, dict):
        return words
    words: dict[str, int] = {}
    with source.open(encoding="utf-8") as lines:
        for line in lines:
            parts = line.strip().split(" ")
            if len(parts) >= 2:  # jieba's own reading: word, frequency[, tag]
                words[parts[0]] = int(parts[1])
    partial = cached.with_name(f"{cached.name}.{os.getpid()}.tmp")
    try:
        partial.write_bytes(marshal.dumps(words))
        os.replace(partial, cached)
    except OSError:
        log.warning("could not keep the word list under %s", cached.parent, exc_info=True)
        partial.unlink(missing_ok=True)
    return words


class Lexicon:
    """A loaded jieba tokenizer plus stop words and synonyms; immutable once built.

    Where rjieba cuts the text (the default), jieba's own Python tokenizer is built only
    when something asks for it (``cut_python``, part-of-speech tagging): the dictionary
    look-ups need only the words and their frequencies (``vocabulary``), loaded in a
    fraction of the time jieba takes to load its prefix dictionary."""

    def __init__(self, custom_terms, custom_groups):
        words: dict[str, int] = {}
        for line in _read_lines(DICT_DIR / "terms.txt"):
            parts = line.split()
            freq = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 20000
            words[normalize(parts[0])] = freq
        for word, freq in custom_terms:
            if word:
                words[word] = max(freq, words.get(word, 0))
        self.accelerator = _accelerated_tokenizer({}) if accelerator_enabled() else None
        self._tokenizer = None
        self._tokenizer_lock = threading.Lock()
        if self.accelerator is None:
            self.vocabulary = self._jieba_tokenizer().FREQ
        else:
            self.vocabulary = _stock_words()
        # the words added on top of jieba's stock dictionary, in the order they were added
        self.added_words: dict[str, int] = {}
        for word, freq in words.items():
            self._add_word(word, freq)
        # analysed query strings (tokenize_query), valid as long as this lexicon is
        self.query_cache: dict[str, tuple[str, ...]] = {}
        # the postings of short indexed field values (search.backend), likewise
        self.field_cache: dict[tuple, list] = {}
        self._piece_cache: dict[str, tuple[str, ...] | None] = {}
        self.domain_words = set(words)
        self.stop_words = {normalize(w) for w in _read_lines(DICT_DIR / "stopwords.txt")}
        groups = [
            [normalize(t) for t in re.split(r"[,，]", line) if t.strip()]
            for line in _read_lines(DICT_DIR / "synonyms.txt")
        ]
        groups.extend([normalize(t) for t in g] for g in custom_groups)
        self.synonyms: dict[str, set[str]] = {}
        for group in groups:
            for term in group:
                self.synonyms.setdefault(term, set()).update(t for t in group if t != term)
        # The members of a synonym group must be whole words for query expansion to work.
        for group in groups:
            for term in group:
                if not self.vocabulary.get(term):
                    self._add_word(term, 20000)

    def _add_word(self, word: str, freq: int) -> None:
        self.added_words[word] = freq
        if self._tokenizer is not None:
            self._tokenizer.add_word(word, freq)  # its FREQ is the vocabulary
        else:
            self.vocabulary[word] = freq
        if self.accelerator is not None:
            self.accelerator.add_word(word, freq, None)

    def _jieba_tokenizer(self):
        """jieba's own tokenizer with the same added words (built once, on first use)."""
        with self._tokenizer_lock:
            if self._tokenizer is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                tokenizer = jieba.Tokenizer()
                tokenizer.tmp_dir = str(_cache_dir())
                tokenizer.initialize()
                for word, freq in getattr(self, "added_words", {}).items():
                    tokenizer.add_word(word, freq)
                self._tokenizer = tokenizer
            return self._tokenizer

    @property
    def tokenizer(self):
        return self._jieba_tokenizer()

    def cut(self, text: str) -> list[str]:
        if self.accelerator is not None:
            return self.accelerator.cut(text, True)
        return list(self.tokenizer.cut(text, HMM=True))

    def cut_python(self, text: str) -> list[str]:
        """jieba's own (pure Python) segmentation, whatever the accelerator setting."""
        return list(self.tokenizer.cut(text, HMM=True))

    def is_word(self, text: str) -> bool:
        return bool(self.vocabulary.get(text))

    def piece_info(self, piece: str) -> tuple[str, ...] | None:
        """None for a piece that is no word (whitespace, punctuation), else the dictionary
        sub-words inside it (memoised: the same pieces recur in every document)."""
        cache = self._piece_cache
        try:
            return cache[piece]
        except KeyError:
            pass
        if not _WORD_CHAR_RE.search(piece):
            info = None
        else:
            info = tuple(sub for sub, _at in _sub_words(piece, self))
        if len(cache) >= PIECE_CACHE_SIZE:
            cache.clear()
        cache[piece] = info
        return info


def accelerator_enabled() -> bool:
    return bool(getattr(settings, "SEARCH_JIEBA_ACCELERATOR", True))


def _accelerated_tokenizer(added_words: dict[str, int]):
    """rjieba (jieba-rs, the same dictionary, HMM and algorithm compiled) with the same added
    words, or None when it is switched off or not installed (jieba itself is the fallback).

    rjieba embeds the dictionary jieba ships; its cuts were checked token for token against
    jieba's on the law corpus (tests/search/test_analysis.py checks a sample on every run)."""
    if not accelerator_enabled():
        return None
    try:
        import rjieba
    except ImportError:
        log.info("rjieba not installed; jieba (pure Python) segments the text")
        return None
    accelerator = rjieba.Jieba()
    for word, freq in added_words.items():
        accelerator.add_word(word, freq, None)
    return accelerator


_lexicon: Lexicon | None = None
_lexicon_stamp: float = -1
_last_check = 0.0
_lock = threading.Lock()


def get_lexicon() -> Lexicon:
    """The process-wide lexicon, built on first use and rebuilt when the stamp file moves."""
    global _lexicon, _lexicon_stamp, _last_check
    now = time.monotonic()
    if _lexicon is not None and now - _last_check < STAMP_CHECK_INTERVAL:
        return _lexicon
    with _lock:
        _last_check = now
        stamp = _stamp_value()
        if _lexicon is None or stamp != _lexicon_stamp:
            terms, groups = _custom_entries()
            _lexicon = Lexicon(terms, groups)
            _lexicon_stamp = stamp
            # jieba's dictionary is a quarter of a million objects that live as long as
            # the process; Python's cyclic collector walked them on every full
            # collection, a pause of ~120 ms CPU in whatever request was running
            # (a search's p95). Frozen, the collector leaves them (and what was loaded
            # before them) alone; reference counting still frees a lexicon replaced later.
            gc.freeze()
        return _lexicon


def reset_lexicon() -> None:
    """Forget the loaded lexicon (tests, or after editing the files in search/dict/)."""
    global _lexicon, _lexicon_stamp
    with _lock:
        _lexicon = None
        _lexicon_stamp = -1


def _sub_words(word: str, lexicon: Lexicon) -> list[tuple[str, int]]:
    """Dictionary words of 2+ characters inside ``word`` (with their offsets), like jieba's
    search mode but without breaking the primary position stream."""
    found = []
    n = len(word)
    if n < 3 or not is_han(word):
        return found
    for size in (2, 3, 4):
        if size >= n:
            break
        for i in range(n - size + 1):
            piece = word[i : i + size]
            if lexicon.is_word(piece):
                found.append((piece, i))
    return found


def _doc_number_starts(norm: str, piece_starts: list[int]) -> dict[int, list[tuple[str, str]]]:
    """Map a word start to the (issuer, whole number) pairs that begin there.

    The issuer abbreviation has no marked beginning (根据元人办发〔2019〕13号), so every word
    boundary up to eight characters before the bracket yields a candidate; the extra
    candidates cost a few index terms and make 元人办发 and the whole number findable.
    """
    starts: dict[int, list[tuple[str, str]]] = {}
    for match in DOC_SERIAL_RE.finditer(norm):
        bracket = match.start()
        tail = re.sub(r"\s+", "", match.group(0))
        for start in piece_starts:
            if bracket - 8 <= start < bracket and _HAN_ONLY_RE.fullmatch(norm[start:bracket]):
                issuer = norm[start:bracket]
                starts.setdefault(start, []).append((issuer, issuer + tail))
    return starts


def analyze(text: str, *, keep_stop_words: bool = False) -> list[Token]:
    """Analyse ``text`` for the word index: primary words and stacked secondary tokens."""
    return analyze_normalized(normalize(text), keep_stop_words=keep_stop_words)


def analyze_normalized(norm: str, *, keep_stop_words: bool = False) -> list[Token]:
    """:func:`analyze` for text that :func:`normalize` has already been applied to."""
    lexicon = get_lexicon()
    pieces = []
    offset = 0
    for piece in lexicon.cut(norm):
        pieces.append((piece, offset))
        offset += len(piece)
    doc_numbers = _doc_number_starts(norm, [start for _, start in pieces])
    tokens: list[Token] = []
    pos = 0
    previous: Token | None = None
    for piece, start in pieces:
        end = start + len(piece)
        if not _WORD_CHAR_RE.search(piece):
            # whitespace and punctuation: no token, no position slot
            continue
        if not keep_stop_words and piece in lexicon.stop_words:
            pos += 1
            previous = None
            continue
        token = Token(piece, pos, start, end)
        tokens.append(token)
        for sub, at in _sub_words(piece, lexicon):
            tokens.append(Token(sub, pos, start + at, start + at + len(sub), primary=False))
        if (
            previous is not None
            and previous.end == start
            and piece in _UNITS
            and _NUMBER_RE.match(previous.text)
        ):
            tokens.append(
                Token(previous.text + piece, previous.pos, previous.start, end, primary=False)
            )
        for issuer, whole in doc_numbers.get(start, ()):
            if issuer != piece:
                tokens.append(Token(issuer, pos, start, start + len(issuer), primary=False))
            tokens.append(Token(whole, pos, start, start + len(whole), primary=False))
        previous = token
        pos += 1
    return _dedupe(tokens)


def _dedupe(tokens: list[Token]) -> list[Token]:
    seen = set()
    out = []
    for token in tokens:
        key = (token.text, token.pos)
        if key in seen:
            continue
        seen.add(key)
        out.append(token)
    return out


def han_bigrams(text: str) -> list[tuple[str, int]]:
    """Character bigrams of each run of Han characters plus whole non-Han words, in order,
    each with its start offset. Used for exact phrases, partial words and sub-word recall;
    a lone Han character yields itself."""
    norm = normalize(text)
    out: list[tuple[str, int]] = []
    for match in _PAIR_RUN_RE.finditer(norm):
        run = match.group(0)
        base = match.start()
        if _HAN_RE.match(run):
            if len(run) == 1:
                out.append((run, base))
            else:
                out.extend((run[i : i + 2], base + i) for i in range(len(run) - 1))
        else:
            out.append((run, base))
    return out


# a Han run, or a run of other word characters (Han characters are word characters too, so
# they must be excluded from the second kind, or 2019年中央 would become one token)
_PAIR_RUN_RE = re.compile(rf"[{HAN}]+|[^\W_{HAN}]+")


def pair_tokens(norm: str) -> list[tuple[str, int]]:
    """The character-pair stream of the index, for normalised text: (token, start) in order,
    one position each.

    Each Han run yields its character pairs followed by its last character alone, so

    * every occurrence of a character starts exactly one token (a pair or the run's final
      character): a one-character query is a prefix query over this stream;
    * a pair is only ever followed by the next pair of the same run, so a positional phrase
      of pairs matches exactly the Han string (the lone final character separates runs);
    * non-Han words (ASCII words, numbers) are tokens of their own.
    """
    out: list[tuple[str, int]] = []
    for match in _PAIR_RUN_RE.finditer(norm):
        run = match.group(0)
        base = match.start()
        if _HAN_RE.match(run):
            out.extend((run[i : i + 2], base + i) for i in range(len(run) - 1))
            out.append((run[-1], base + len(run) - 1))
        else:
            out.append((run, base))
    return out


def _walk_words(norm: str, primary, secondary) -> None:
    """The word stream of normalised text (:func:`analyze_normalized`'s tokens, without a
    Token object for each): ``primary(word, pos)`` for each word in reading order,
    ``secondary(token, pos)`` for the tokens stacked on it (dictionary sub-words, number +
    unit compounds, document-number parts), in the order analyze_normalized gives them."""
    lexicon = get_lexicon()
    pieces, doc_numbers = _pieces(norm, lexicon)
    info = lexicon.piece_info
    stop_words = lexicon.stop_words
    pos = 0
    start = 0
    previous = None  # (text, pos, end) of the previous kept word
    for piece in pieces:
        end = start + len(piece)
        subs = info(piece)
        if subs is None:  # whitespace and punctuation
            start = end
            continue
        if piece in stop_words:
            pos += 1
            previous = None
            start = end
            continue
        primary(piece, pos)
        for sub in subs:
            secondary(sub, pos)
        if (
            previous is not None
            and previous[2] == start
            and piece in _UNITS
            and _NUMBER_RE.match(previous[0])
        ):
            secondary(previous[0] + piece, previous[1])
        if doc_numbers is not None:
            for issuer, whole in doc_numbers.get(start, ()):
                if issuer != piece:
                    secondary(issuer, pos)
                secondary(whole, pos)
        previous = (piece, pos, end)
        pos += 1
        start = end


def _pieces(norm: str, lexicon: Lexicon):
    """The segmenter's pieces of normalised text, and the document numbers that start at
    their offsets (:func:`_doc_number_starts`; None when the text has none)."""
    pieces = lexicon.cut(norm)
    doc_numbers = None
    if DOC_SERIAL_RE.search(norm):
        starts, offset = [], 0
        for piece in pieces:
            starts.append(offset)
            offset += len(piece)
        doc_numbers = _doc_number_starts(norm, starts)
    return pieces, doc_numbers


def word_positions(norm: str, *, native: bool = True) -> dict[str, list[int]]:
    """Term → ascending positions of the word stream (:func:`analyze`) of normalised text.

    The same tokens as :func:`analyze_normalized` (tests compare them), without making a
    Token object for each: this runs for every indexed field of every document. The walk
    over the pieces is compiled where ``search/_fastwrite.c`` is built (its twin is
    :func:`_walk_words`; ``native=False`` runs the twin)."""
    if native and _native_word_positions is not None:
        lexicon = get_lexicon()
        pieces, doc_numbers = _pieces(norm, lexicon)
        if type(pieces) is not list:
            pieces = list(pieces)
        return _native_word_positions(
            pieces,
            lexicon._piece_cache,
            lexicon.piece_info,
            lexicon.stop_words,
            _UNITS,
            _NUMBER_RE.match,
            doc_numbers,
        )
    positions: dict[str, list[int]] = {}

    def put(text, at):
        slots = positions.get(text)
        if slots is None:
            positions[text] = [at]
        elif slots[-1] != at:
            slots.append(at)

    _walk_words(norm, put, put)
    for slots in positions.values():
        if len(slots) > 1:
            slots.sort()
    return positions


def pair_positions(norm: str) -> dict[str, list[int]]:
    """Term → ascending positions of the pair stream (:func:`pair_tokens`).

    The same stream, without a (token, start) tuple per token: a run's pairs are made by
    ``map`` (this runs for every indexed text of every document)."""
    positions: dict[str, list[int]] = {}
    get = positions.get
    pos = 0
    for run in _PAIR_RUN_RE.findall(norm):
        if _HAN_RE.match(run):
            terms = list(map(operator.add, run, run[1:]))
            terms.append(run[-1])
        else:
            terms = (run,)
        for term in terms:
            slots = get(term)
            if slots is None:
                positions[term] = [pos]
            else:
                slots.append(pos)
            pos += 1
    return positions


def han_chars(text: str) -> list[str]:
    """Every Han character of ``text`` (for one-character queries)."""
    return _HAN_RE.findall(normalize(text))


def segment_for_index(text: str) -> str:
    """Space-separated tokens for a database full-text column (the PostgreSQL backend).

    The primary stream comes first in reading order, so adjacent words stay adjacent for
    phrase search; secondary tokens (sub-words, compounds, document-number parts) and single
    Han characters (for one-character queries) follow after it.

    The same tokens, in the same order, as :func:`analyze_normalized` gives (tests compare
    them), without a Token object for each: this runs for every text the PostgreSQL
    backend indexes, and the objects were a third of its Python time.
    """
    norm = normalize(text)
    primary: list[str] = []
    secondary: list[str] = []
    seen: set[tuple[str, int]] = set()  # (text, position) of the secondary tokens

    def add(word, at):
        key = (word, at)
        if key not in seen:
            seen.add(key)
            secondary.append(word)

    # a primary word has a position of its own: never a duplicate
    _walk_words(norm, lambda word, _at: primary.append(word), add)
    singles = sorted(set(_HAN_RE.findall(norm)))
    return " ".join(_space_free(primary + secondary + singles))


def _space_free(words):
    return [w.replace(" ", "") for w in words if w.strip()]


@dataclass
class ParsedQuery:
    """A user's query string split into quoted phrases and free terms (both normalised)."""

    terms: list[str]
    phrases: list[str]
    excluded: list[str]


_QUOTE_RE = re.compile(r'"([^"]+)"|“([^”]+)”|「([^」]+)」')


def parse_query(text: str) -> ParsedQuery:
    """Quoted parts become exact phrases; ``-word`` excludes; the rest is tokenised."""
    norm = normalize(text)
    phrases = []

    def take(match):
        phrase = next(g for g in match.groups() if g)
        if phrase.strip():
            phrases.append(phrase.strip())
        return " "

    rest = _QUOTE_RE.sub(take, norm)
    excluded = []
    kept = []
    for chunk in rest.split():
        if chunk.startswith("-") and len(chunk) > 1:
            excluded.extend(tokenize_query(chunk[1:]))
        else:
            kept.append(chunk)
    return ParsedQuery(tokenize_query(" ".join(kept)), phrases, excluded)


def tokenize_query(text: str) -> list[str]:
    """The words of a query, normalised, in order, without duplicates.

    Stop words are dropped unless the query has nothing else; a document number stays whole
    (元人办发〔2019〕13号), so does a number with its unit (13号).
    """
    lexicon = get_lexicon()
    key = normalize(text)
    cache = lexicon.query_cache
    words = cache.get(key)
    if words is None:
        words = _tokenize_query(key, lexicon)
        if len(cache) >= QUERY_CACHE_SIZE:
            cache.clear()
        cache[key] = words
    return list(words)


#: How many analysed query strings each process keeps (per loaded lexicon).
QUERY_CACHE_SIZE = 4096


def _tokenize_query(norm: str, lexicon: Lexicon) -> tuple[str, ...]:
    tokens = analyze_normalized(norm, keep_stop_words=True)
    by_pos: dict[int, list[Token]] = {}
    for token in tokens:
        by_pos.setdefault(token.pos, []).append(token)
    words: list[str] = []
    skip_to = -1
    for pos in sorted(by_pos):
        if pos <= skip_to:
            continue
        group = by_pos[pos]
        primary = next((t for t in group if t.primary), group[0])
        # prefer the widest secondary token that starts here (doc number, 13号)
        widest = max(group, key=lambda t: t.end - t.start)
        choice = primary
        if widest is not primary and widest.start == primary.start and widest.end > primary.end:
            choice = widest
            skip_to = max(t.pos for t in tokens if t.start < widest.end and t.primary)
        words.append(choice.text)
    meaningful = [w for w in words if w not in lexicon.stop_words]
    result = meaningful or words
    return tuple(dict.fromkeys(result))


def expand_synonyms(term: str) -> list[str]:
    """The term followed by its synonyms (from search/dict/synonyms.txt and the admin)."""
    lexicon = get_lexicon()
    return [term, *sorted(lexicon.synonyms.get(term, ()))]
