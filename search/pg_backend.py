"""PostgreSQL full-text search on jieba-segmented text: the scale-out search backend.

Wagtail's database backend for PostgreSQL stores one row per object in
``modelsearch_indexentry`` with ``tsvector`` columns. PostgreSQL's own parsers do not
split Chinese into words, so this backend segments every indexed text with
``search.analysis.segment_for_index`` before ``to_tsvector`` and the query with
``search.analysis.tokenize_query``, always under the ``simple`` text search
configuration (no stemming, no stop words of its own, Chinese tokens kept as they are).

On top of the word index it keeps the NFKC-normalised, lower-cased plain text of the
object (``title_text`` / ``body_text``) so that

* a quoted phrase matches exactly that string (the token index narrows, a substring
  test on the normalised text decides),
* a one-character query such as 税 also finds words that contain the character
  (个人所得税) even though the segmenter never emits it on its own, and
* a Han word of a query is found as a word or, like the Whoosh backend finds it, as a
  substring of the text (截留挪 typed half-way, 级政府编 across two words): every pair of
  adjacent Han characters of a text is a lexeme of the entry's ``han_pairs`` vector, so
  the word's pairs narrow and the text decides (a phrase likewise, by the pairs of its
  Han runs).

Settings::

    WAGTAILSEARCH_BACKENDS = {
        "default": {"BACKEND": "search.pg_backend"},  # on a PostgreSQL database
    }
"""

import re
from functools import reduce

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.search import SearchQuery, SearchVectorField
from django.db import connections, transaction
from django.db.models import (
    BigIntegerField,
    Case,
    Exists,
    F,
    FloatField,
    IntegerField,
    Lookup,
    OuterRef,
    Q,
    Value,
    When,
)
from django.db.models.expressions import Col, Expression
from django.db.models.functions import Cast
from django.utils.functional import cached_property
from modelsearch.backends.database.postgres.postgres import (
    IndexEntry,
    ObjectIndexer,
    PostgresAutocompleteQueryCompiler,
    PostgresIndex,
    PostgresSearchBackend,
    PostgresSearchQueryCompiler,
    PostgresSearchResults,
)
from modelsearch.backends.database.postgres.query import Lexeme
from modelsearch.index import AutocompleteField, SearchField
from modelsearch.query import And, Boost, Fuzzy, MatchAll, Not, Or, Phrase, PlainText
from modelsearch.utils import get_content_type_pk, get_descendants_content_types_pks

from search.analysis import (
    HAN,
    expand_synonyms,
    han_chars,
    is_han,
    normalize,
    segment_for_index,
    tokenize_query,
)

TEXT_SEARCH_CONFIG = "simple"
HAN_WORD_RE = re.compile(f"[{HAN}]+")
NEVER = Q(pk__in=[])


def normalise(text):
    """The form in which plain text is stored and compared: NFKC, lower case."""
    return normalize(text or "")


def segment(text):
    """Space-separated index tokens for *text* (jieba, domain dictionary, sub-words)."""
    return segment_for_index(text or "")


def query_groups(text):
    """The query's words, each with its synonyms: a list of groups of alternatives.

    An alternative is a tuple of tokens that must all occur, because a synonym such as
    因公出国（境）费 is itself cut into several index tokens.
    For 三公经费 2019 the result is
    [[("三公经费",), ("公务接待费",), ...], [("2019",)]].
    """
    groups = []
    for token in tokenize_query(text or ""):
        alternatives = [(token,)]
        for synonym in expand_synonyms(token)[1:]:
            tokens = tuple(tokenize_query(synonym)) or (normalise(synonym),)
            if tokens not in alternatives:
                alternatives.append(tokens)
        groups.append(alternatives)
    return groups


def han_pairs(*texts):
    """The distinct pairs of adjacent Han characters in *texts* (normalised text): the
    lexemes of an entry's ``han_pairs`` vector. A Han string of two or more characters
    that occurs in a text has all its pairs among them, so they narrow a substring test
    far better than its single characters do (五十万元: 五十, 十万 and 万元 together are
    rarer than 五, 十, 万 and 元 apart)."""
    pairs = set()
    for text in texts:
        for run in HAN_WORD_RE.findall(text or ""):
            pairs.update(run[i : i + 2] for i in range(len(run) - 1))
    return pairs


#: The index table's column of Han pairs (migration site_search 0003), which
#: modelsearch's IndexEntry model does not declare.
PAIRS_COLUMN = "han_pairs"


class PairsQuery(SearchQuery):
    """``'p1' & 'p2' & …`` as a tsquery literal. No text search parser reads it, as
    none made the han_pairs vector (``array_to_tsvector``): both sides hold the pairs
    exactly as Python found them."""

    def __init__(self, pairs):
        self.literal = " & ".join(f"'{pair}'" for pair in sorted(pairs))
        super().__init__(self.literal)

    def as_sql(self, compiler, connection, **extra_context):
        return "%s::tsquery", [self.literal]


class EntryPairs(Expression):
    """The han_pairs column of the index entry reached through *prefix* (``""`` on
    IndexEntry itself, ``"index_entries__"`` from an indexed model): the same join as
    F(prefix + "title_text") takes, with the column the model does not declare."""

    output_field = SearchVectorField()

    def __init__(self, prefix=""):
        super().__init__()
        self.prefix = prefix

    def resolve_expression(
        self, query=None, allow_joins=True, reuse=None, summarize=False, for_save=False
    ):
        column = F(f"{self.prefix}id").resolve_expression(
            query, allow_joins, reuse, summarize, for_save
        )
        field = SearchVectorField(null=True)
        field.set_attributes_from_name(PAIRS_COLUMN)
        field.model = IndexEntry
        return Col(column.alias, field, output_field=field)


class _InArray(Lookup):
    """lhs = ANY(rhs), rhs an array."""

    lookup_name = "in_array"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY({rhs})", [*lhs_params, *rhs_params]


class _IntegerArray(Expression):
    """A list of integers as one ``integer[]`` parameter, handed to psycopg as it is
    (a Value of an ArrayField prepared each element through the field: ~1.5 ms a search
    for a thousand ids)."""

    output_field = ArrayField(IntegerField())

    def __init__(self, values):
        super().__init__()
        self.values = [int(value) for value in values]

    def as_sql(self, compiler, connection):
        return "%s::integer[]", [self.values]


def id_in(ids):
    """The entries whose id is in *ids*, a list sent as one array parameter. id__in sends
    one placeholder per id: with a thousand, psycopg parsed and sent a long statement for
    every search (10-20 ms of Python CPU at 1M), and PostgreSQL planned a list of literals."""
    return _InArray(F("id"), _IntegerArray(ids))


def integer_pk_field(model):
    """An IntegerField or BigIntegerField for the model's primary key (a parent link
    followed to its target), or None when the key is not an integer."""
    pk = model._meta.pk
    while pk.is_relation:
        pk = pk.target_field
    kind = pk.get_internal_type()
    if kind in ("AutoField", "IntegerField", "SmallAutoField", "SmallIntegerField"):
        return IntegerField()
    if kind in ("BigAutoField", "BigIntegerField"):
        return BigIntegerField()
    return None


def entry_column(vector):
    """The index table's column behind F("index_entries__<column>"), or None."""
    name = getattr(vector, "name", "")
    prefix = "index_entries__"
    if isinstance(vector, F) and name.startswith(prefix) and "__" not in name[len(prefix) :]:
        return name[len(prefix) :]
    return None


def contains_not(query):
    if isinstance(query, Not):
        return True
    if isinstance(query, Boost):
        return contains_not(query.subquery)
    if isinstance(query, (And, Or)):
        return any(contains_not(q) for q in query.subqueries)
    return False


def is_single_cjk_char(term):
    return len(term) == 1 and not term.isascii() and not term.isspace()


class SegmentedObjectIndexer(ObjectIndexer):
    """Extracts (segmented text, weight) pairs for the three tsvector columns.

    modelsearch's indexer walks the search fields (and reads their values) once for each
    of its five columns; here they are read once per object (``_prepared``) and every
    column is taken from that list, in the same order and with the same weights.
    """

    @cached_property
    def _prepared(self):
        prepared = []
        for field in self.search_fields:
            for current_field, weight, value in self.prepare_field(self.obj, field):
                if isinstance(current_field, AutocompleteField):
                    kind = "autocomplete"
                elif isinstance(current_field, SearchField):
                    kind = "title" if current_field.field_name == "title" else "body"
                else:
                    continue
                prepared.append((kind, weight, value.strip()))
        return prepared

    def _segment(self, text):
        """segment(text), once per distinct text of the object: the title is both a
        search field and an autocomplete field, and cutting it is most of the cost."""
        cache = self.__dict__.setdefault("_segments", {})
        if text not in cache:
            cache[text] = segment(text)
        return cache[text]

    def _parts(self, kind):
        return [
            (self._segment(text), weight)
            for part_kind, weight, text in self._prepared
            if part_kind == kind and text
        ]

    def _text(self, kind):
        return normalise(
            " ".join(text for part_kind, _, text in self._prepared if part_kind == kind and text)
        )

    @cached_property
    def title_parts(self):
        return self._parts("title")

    @cached_property
    def body_parts(self):
        return self._parts("body")

    @cached_property
    def autocomplete_parts(self):
        return self._parts("autocomplete")

    @cached_property
    def title_text(self):
        return self._text("title")

    @cached_property
    def body_text(self):
        return self._text("body")

    @cached_property
    def pairs_text(self):
        """The Han pairs of the title and body text, space-separated."""
        return " ".join(han_pairs(self.title_text, self.body_text))


class SegmentedPostgresIndex(PostgresIndex):
    def add_item(self, obj):
        """Index one saved object now and once more when its transaction commits.

        modelsearch's post_save handler indexes the object as the database holds it at
        that moment. A page's 主题词 and categories (modelcluster), and many-to-many rows
        such as a suggestion's units, are written *after* post_save in the same
        transaction, so that entry would keep the old ones. The write at commit re-reads
        the object and stores what was committed; the write now keeps the object
        searchable inside its own transaction (scripts, tests).
        """
        from search import indexing

        if indexing.is_held(obj):
            return
        super().add_item(obj)
        connection = self.write_connection
        if not connection.in_atomic_block:
            return
        callback = getattr(connection, "_search_reindex_at_commit", None)
        # still to run for this transaction? (a rollback drops it with the transaction)
        if (
            callback is None
            or callback.done
            or not any(item[1] is callback for item in connection.run_on_commit)
        ):
            callback = _ReindexAtCommit(self)
            connection._search_reindex_at_commit = callback
            transaction.on_commit(callback, using=connection.alias, robust=True)
        callback.objects.add((type(obj), obj.pk))

    def add_items(self, model, objs, title_average=None):
        """Write the entries of *objs*. *title_average*, a rebuild's estimate of the mean
        title length (``pg_rebuild.estimated_title_average``), sets their title_norm;
        without it the table's own rows are sampled."""
        if not model.get_search_fields():
            return
        indexers = [SegmentedObjectIndexer(obj, self.backend) for obj in objs]
        if not indexers:
            return

        config = self.backend.config
        content_type_pk = get_content_type_pk(model)
        table = IndexEntry._meta.db_table
        average = title_average
        if average is None:
            with self.write_connection.cursor() as cursor:
                average = self._sampled_title_average(cursor, table)
        # Rows whose parts have the same weights in the same order share one statement,
        # which takes each column as an array (unnest): a short statement text that
        # psycopg converts once, and a few parameters however many rows it carries.
        # (One VALUES statement of many rows was converted again each time: a fifth of
        # the indexing CPU.)
        groups = {}
        for indexer in indexers:
            parts = (indexer.title_parts, indexer.autocomplete_parts, indexer.body_parts)
            shape = tuple(tuple(weight for _, weight in column) for column in parts)
            row = [content_type_pk, indexer.id]
            row.extend(text for column in parts for text, _ in column)
            row.extend([indexer.title_text, indexer.body_text, indexer.pairs_text])
            groups.setdefault(shape, []).append(row)
        batch_size = 500
        with self.write_connection.cursor() as cursor:
            for shape, rows in groups.items():
                sql = self._rows_sql(table, shape)
                for start in range(0, len(rows), batch_size):
                    batch = rows[start : start + batch_size]
                    columns = [list(values) for values in zip(*batch, strict=True)]
                    configs = [config] * sum(len(weights) for weights in shape)
                    cursor.execute(sql, [average, average, *configs, *columns])

        if average is None:
            self._refresh_title_norms_of(content_type_pk, [indexer.id for indexer in indexers])

    @staticmethod
    def _rows_sql(table, shape):
        """INSERT … ON CONFLICT of rows given as arrays, one per column: content type,
        object id, the segmented text of each part (weights as in *shape*: one tuple
        of weights for the title, autocomplete and body parts), title and body text,
        and their Han pairs (space-separated; a vector without positions).
        title_norm is written with the row (one row version, not insert + update) when
        the table is large enough for a sampled average."""
        names = ["ct", "oid"]
        vectors = []
        for column, weights in zip(("t", "a", "b"), shape, strict=True):
            pieces = []
            for n, weight in enumerate(weights):
                if weight not in ("A", "B", "C", "D"):
                    raise ValueError(f"not a tsvector weight: {weight!r}")
                names.append(f"{column}{n}")
                pieces.append(f"setweight(to_tsvector(%s::regconfig, v.{column}{n}), '{weight}')")
            vectors.append(" || ".join(pieces) if pieces else "''::tsvector")
        names += ["tt", "bt", "hp"]
        types = ["int", "text"] + ["text"] * (len(names) - 2)
        arrays = ", ".join(f"%s::{kind}[]" for kind in types)
        title, auto, body = vectors
        return (
            f"INSERT INTO {table} (content_type_id, object_id, title, autocomplete, body,"
            f" title_norm, title_text, body_text, {PAIRS_COLUMN})"
            " SELECT w.ct, w.oid, w.title, w.auto, w.body,"
            " CASE WHEN %s::float8 IS NOT NULL AND length(w.title) > 0"
            " THEN %s::float8 / length(w.title) ELSE 1.0 END, w.tt, w.bt,"
            " array_to_tsvector(string_to_array(w.hp, ' '))"
            f" FROM (SELECT v.ct, v.oid, {title} AS title, {auto} AS auto, {body} AS body,"
            f" v.tt, v.bt, v.hp FROM unnest({arrays}) AS v({', '.join(names)})) AS w"
            " ON CONFLICT (content_type_id, object_id) DO UPDATE SET"
            " title = EXCLUDED.title, autocomplete = EXCLUDED.autocomplete,"
            " body = EXCLUDED.body, title_norm = EXCLUDED.title_norm,"
            " title_text = EXCLUDED.title_text, body_text = EXCLUDED.body_text,"
            f" {PAIRS_COLUMN} = EXCLUDED.{PAIRS_COLUMN}"
        )

    def title_lengths(self, model, objs):
        """The length (distinct lexemes) of the title vector add_items writes for each
        of *objs*, worked out by PostgreSQL from the same segmented title parts, without
        writing anything."""
        indexers = [SegmentedObjectIndexer(obj, self.backend) for obj in objs]
        if not model.get_search_fields() or not indexers:
            return []
        titles = [" ".join(text for text, _weight in i.title_parts) for i in indexers]
        with self.write_connection.cursor() as cursor:
            cursor.execute(
                "SELECT length(to_tsvector(%s::regconfig, t)) FROM unnest(%s::text[]) AS t",
                [self.backend.config, titles],
            )
            return [row[0] for row in cursor.fetchall()]

    # Title vectors read for the average title length of a large table.
    TITLE_SAMPLE_ROWS = 20000

    def _sampled_title_average(self, cursor, table):
        """The mean length of non-empty title vectors from a sample of about
        TITLE_SAMPLE_ROWS entries, or None when the table holds fewer (then the exact
        average is used).

        modelsearch averaged the whole table and scanned it again for rows still at 1.0
        after every write: a rebuild of a million objects read the table twice per
        batch. Here the cost of a write is bounded: a random sample of pages
        (TABLESAMPLE SYSTEM) once the planner's row estimate is known, the first rows
        until then; the rebuild's finish corrects what is far off."""
        cursor.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM {table} LIMIT %s) AS head",
            [self.TITLE_SAMPLE_ROWS],
        )
        if cursor.fetchone()[0] < self.TITLE_SAMPLE_ROWS:
            return None
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])
        estimated = cursor.fetchone()[0]
        if estimated > 2 * self.TITLE_SAMPLE_ROWS:
            percent = 100.0 * self.TITLE_SAMPLE_ROWS / estimated
            cursor.execute(
                f"SELECT avg(length(title)) FROM {table} TABLESAMPLE SYSTEM ({percent:.6f})"
                " WHERE length(title) > 0"
            )
        else:
            cursor.execute(
                "SELECT avg(n) FROM (SELECT length(title) AS n"
                f" FROM {table} WHERE length(title) > 0 LIMIT %s) AS head",
                [self.TITLE_SAMPLE_ROWS],
            )
        average = cursor.fetchone()[0]
        return float(average) if average is not None else None

    @staticmethod
    def _exact_title_average(cursor, table):
        """The mean title length over every entry with a title (None when there is none)."""
        cursor.execute(f"SELECT avg(length(title)) FROM {table} WHERE length(title) > 0")
        average = cursor.fetchone()[0]
        return float(average) if average is not None else None

    def _refresh_title_norms_of(self, content_type_pk, object_ids):
        """title_norm of the entries just written, from the exact average (small tables)."""
        table = IndexEntry._meta.db_table
        with self.write_connection.cursor() as cursor:
            average = self._exact_title_average(cursor, table)
            if average is None:
                return
            cursor.execute(
                f"UPDATE {table} SET title_norm = %s / length(title)"
                " WHERE content_type_id = %s AND object_id = ANY(%s) AND length(title) > 0",
                [float(average), content_type_pk, list(object_ids)],
            )

    # The rebuild's finish rewrites an entry whose title_norm is off by more than this.
    TITLE_NORM_TOLERANCE = 0.05

    def _refresh_title_norms(self, full=False):
        """With *full* (a rebuild's finish): title_norm from the exact average, rewriting
        only the entries off by more than TITLE_NORM_TOLERANCE (those written while the
        table was small, or from a sample far from the mean). Rewriting every row of a
        million to move it by 1 % took longer than the rebuild (each rewrite goes into
        every index of the table)."""
        if not full:
            return super()._refresh_title_norms(full=False)
        table = IndexEntry._meta.db_table
        with self.write_connection.cursor() as cursor:
            average = self._exact_title_average(cursor, table)
            if average is None:
                return
            cursor.execute(
                f"UPDATE {table} SET title_norm = %s / length(title)"
                " WHERE length(title) > 0"
                " AND abs(title_norm - %s / length(title)) > %s * %s / length(title)",
                [float(average), float(average), self.TITLE_NORM_TOLERANCE, float(average)],
            )


class _ReindexAtCommit:
    """The objects saved in one transaction, indexed again once it has committed."""

    def __init__(self, index):
        self.index = index
        self.objects = set()
        self.done = False

    def __call__(self):
        self.done = True
        by_model = {}
        for model, pk in self.objects:
            by_model.setdefault(model, set()).add(pk)
        connection = self.index.write_connection
        for model, pks in by_model.items():
            # One short transaction per model: the rows are locked while their entries are
            # written, so a delete committed meanwhile either came first (the object is not
            # found, nothing is written back) or waits for this write and then removes the
            # entry itself. An object no longer indexable is skipped the same way.
            with transaction.atomic(using=connection.alias):
                objects = list(
                    model.get_indexed_objects()
                    .filter(pk__in=pks)
                    .order_by("pk")
                    .select_for_update(of=("self",))
                )
                if objects:
                    self.index.add_items(model, objects)


class SegmentedSearchQueryCompiler(PostgresSearchQueryCompiler):
    """Compiles modelsearch queries into a filter (Q) and a rank over segmented tsvectors.

    The filter is built per node so that phrases and one-character terms can add a
    test on the stored plain text; the rank reuses the parent's ts_rank machinery
    with the segmented lexemes.
    """

    USE_TEXT_FALLBACK = True
    # The character pairs of a phrase or of a Han word (the characters of a one-character
    # run) narrow its rows through a GIN index; the text test decides.
    # _unnarrowed_condition builds the condition without them.
    _narrow = True
    _narrowings = 0
    _phrases = 0

    # ---- lexemes -------------------------------------------------------------------
    # Autocomplete sets this: every token of the last term may be the start of a word.
    PREFIX_WHOLE_LAST_TERM = False

    def _lexeme(self, groups, *, invert=False, prefix_last=False, operator="and"):
        """One Lexeme tree: tokens of an alternative AND'ed, alternatives OR'ed, groups
        joined by *operator*; with *invert* every operator flips (De Morgan)."""
        both = (lambda a, b: a & b, lambda a, b: a | b)
        all_of, any_of = both if not invert else both[::-1]
        group_lexemes = []
        for index, alternatives in enumerate(groups):
            prefix = prefix_last and (self.PREFIX_WHOLE_LAST_TERM or index == len(groups) - 1)
            group_lexemes.append(
                reduce(
                    any_of,
                    [
                        reduce(all_of, [Lexeme(t, invert=invert, prefix=prefix) for t in tokens])
                        for tokens in alternatives
                    ],
                )
            )
        return reduce(all_of if operator == "and" else any_of, group_lexemes)

    def _raw_query(self, lexeme, config):
        return SearchQuery(lexeme, search_type="raw", config=config)

    def _fallback_groups(self, text):
        """Groups for text that has no tokens (stop words only): the text itself."""
        compact = "".join(normalise(text).split())
        return [[(compact,)]] if compact else []

    def build_tsquery_content(self, query, config=None, invert=False):
        """tsquery used for ranking: every token of a node, alternatives included."""
        if isinstance(query, PlainText):
            groups = query_groups(query.query_string) or self._fallback_groups(query.query_string)
            if not groups:
                return None
            lexeme = self._lexeme(
                groups, invert=invert, prefix_last=self.LAST_TERM_IS_PREFIX, operator="or"
            )
            return self._raw_query(lexeme, config)
        if isinstance(query, Phrase):
            groups = query_groups(query.query_string) or self._fallback_groups(query.query_string)
            if not groups:
                return None
            return self._raw_query(self._lexeme(groups, invert=invert, operator="and"), config)
        if isinstance(query, Boost):
            return self.build_tsquery_content(query.subquery, config=config, invert=invert)
        return super().build_tsquery_content(query, config=config, invert=invert)

    def build_tsrank(self, vector, query, config=None, boost=1.0):
        if isinstance(query, MatchAll):
            return Value(0.0)
        if isinstance(query, Not) and isinstance(query.subquery, MatchAll):
            return Value(0.0)
        return super().build_tsrank(vector, query, config=config, boost=boost)

    # ---- filter ----------------------------------------------------------------------
    def _text_contains(self, text):
        if self.fields is None:
            # title and body apart: no copy of a long text per row to test it
            return Q(_title_text__contains=text) | Q(_body_text__contains=text)
        return reduce(
            lambda a, b: a | b,
            [Q(**{f"{lookup}__icontains": text}) for lookup in self.search_fields],
        )

    def _han_chars_condition(self, text, config):
        """Every Han character of *text* occurs in the object.

        ``segment_for_index`` indexes each Han character of every search field on its own,
        so this is a GIN match, exactly the objects whose text holds the characters (a
        superset for a phrase, the answer for one character: 税 finds 个人所得税). With named
        fields (no vector of their own) it is a test on the fields' text."""
        chars = list(dict.fromkeys(han_chars(text)))
        if self.fields is not None:
            return reduce(lambda a, b: a & b, [self._text_contains(c) for c in chars])
        lexeme = reduce(lambda a, b: a & b, [Lexeme(c) for c in chars])
        return Q(_vector_=self._raw_query(lexeme, config))

    def _token_condition(self, groups, config, prefix_last):
        if self.fields is None:
            if self.USE_TEXT_FALLBACK:
                return self._word_or_substring_condition(groups, config)
            lexeme = self._lexeme(groups, prefix_last=prefix_last, operator="and")
            return Q(_vector_=self._raw_query(lexeme, config))
        # Searching named model fields: there is no segmented vector for a single
        # field, so every token group must occur in one of the fields as text.
        return reduce(
            lambda a, b: a & b,
            [
                reduce(
                    lambda a, b: a | b,
                    [
                        reduce(lambda a, b: a & b, [self._text_contains(t) for t in tokens])
                        for tokens in alternatives
                    ],
                )
                for alternatives in groups
            ],
        )

    def _word_or_substring_condition(self, groups, config):
        """Every group as a word (or a synonym), or else a Han word of the query as a
        substring of the text, as the Whoosh backend matches it: 级政府编 or 截留挪
        (typed half-way, across the text's own words) is found in 本级政府编制 and
        截留挪用.

        The index look-up narrows: each group's words in the word vector, and for a Han
        word its character pairs in the entry's pairs vector (a text that holds the word,
        as a word or as a substring, holds its pairs); the substring test on the stored
        plain text then decides.
        """
        narrow = []  # lexemes of the word vector
        pairs = set()  # pairs the entry must hold (Han words without synonyms)
        either = []  # a Han word's pairs or one of its synonyms
        checks = []
        for alternatives in groups:
            word = alternatives[0][0]
            if len(alternatives[0]) == 1 and len(word) > 1 and HAN_WORD_RE.fullmatch(word):
                # only an index look-up: the check below implies it
                self._narrowings += 1
                synonyms = alternatives[1:]
                synonym_query = (
                    self._raw_query(self._lexeme([synonyms]), config) if synonyms else None
                )
                if self._narrow:
                    if synonyms:
                        either.append(
                            Q(_pairs_=PairsQuery(han_pairs(word))) | Q(_vector_=synonym_query)
                        )
                    else:
                        pairs |= han_pairs(word)
                # Every Han token of a vector is a substring of the object's normalised
                # text, so the word itself is found by the substring test; the word
                # test (which builds title || body for every row it sees) is needed only
                # for the synonyms, and comes second: PostgreSQL evaluates an OR's arms
                # in order.
                check = self._text_contains(word)
                if synonyms:
                    check |= Q(_vector_=synonym_query)
                checks.append(check)
            else:
                narrow.append(self._lexeme([alternatives]))
        conditions = []
        if narrow:
            lexeme = reduce(lambda a, b: a & b, narrow)
            conditions.append(Q(_vector_=self._raw_query(lexeme, config)))
        if pairs:
            conditions.append(Q(_pairs_=PairsQuery(pairs)))
        return reduce(lambda a, b: a & b, [*conditions, *either, *checks])

    def _plain_text_condition(self, query, config):
        terms = query.query_string.split()
        conditions = []
        for index, term in enumerate(terms):
            prefix_last = self.LAST_TERM_IS_PREFIX and index == len(terms) - 1
            groups = query_groups(term)
            normalised = normalise(term).strip()
            single_char = is_single_cjk_char(normalised)
            if single_char and is_han(normalised) and not prefix_last:
                condition = self._han_chars_condition(normalised, config)
            elif groups:
                condition = self._token_condition(groups, config, prefix_last)
                if single_char and self.USE_TEXT_FALLBACK:
                    condition |= self._text_contains(normalised)
            elif single_char:
                condition = self._text_contains(normalised)
            else:
                continue  # only stop words
            conditions.append(condition)
        if not conditions:
            return NEVER
        if query.operator == "or":
            return reduce(lambda a, b: a | b, conditions)
        return reduce(lambda a, b: a & b, conditions)

    def _phrase_condition(self, query, config):
        phrase = normalise(query.query_string).strip()
        if not phrase:
            return NEVER
        groups = query_groups(query.query_string)
        condition = self._text_contains(phrase)
        if self.fields is None:
            # The index narrows the candidates, the text test decides. The pairs of the
            # phrase's Han runs are in every text that contains it; its words may not be
            # (jieba cuts 务院根据宪法和 alone into 务院 …, a word the text, which has
            # 国务院, lacks).
            runs = HAN_WORD_RE.findall(phrase)
            if runs:
                # Only an index look-up: the text test alone decides (a text holding
                # the phrase holds the pairs of its Han runs, and the character of a
                # run of one), so it is left out where another index or a bounded scan
                # finds the rows (_best_of_bounded_candidates).
                self._narrowings += 1
                self._phrases += 1
                if self._narrow:
                    pairs = han_pairs(*runs)
                    if pairs:
                        condition &= Q(_pairs_=PairsQuery(pairs))
                    singles = list(dict.fromkeys(run for run in runs if len(run) == 1))
                    if singles:
                        lexeme = reduce(lambda a, b: a & b, [Lexeme(c) for c in singles])
                        condition &= Q(_vector_=self._raw_query(lexeme, config))
            elif groups:
                condition &= self._token_condition(groups, config, prefix_last=False)
        return condition

    def build_condition(self, query, config):
        if isinstance(query, MatchAll):
            return Q()
        if isinstance(query, PlainText):
            return self._plain_text_condition(query, config)
        if isinstance(query, Phrase):
            return self._phrase_condition(query, config)
        if isinstance(query, Fuzzy):
            # Typos in Chinese are mostly wrong characters: match any of the terms.
            return self._plain_text_condition(PlainText(query.query_string, operator="or"), config)
        if isinstance(query, Boost):
            return self.build_condition(query.subquery, config)
        if isinstance(query, Not):
            if isinstance(query.subquery, MatchAll):
                return NEVER
            return ~self.build_condition(query.subquery, config)
        if isinstance(query, And):
            return reduce(
                lambda a, b: a & b, [self.build_condition(q, config) for q in query.subqueries]
            )
        if isinstance(query, Or):
            return reduce(
                lambda a, b: a | b, [self.build_condition(q, config) for q in query.subqueries]
            )
        raise NotImplementedError(
            f"`{query.__class__.__name__}` is not supported by the segmented PostgreSQL backend."
        )

    def _rank_query(self, query):
        """The query used for the rank: Fuzzy is ranked like an OR of its terms."""
        if isinstance(query, Fuzzy):
            return PlainText(query.query_string, operator="or")
        return query

    #: Added to the rank of an object whose title holds the whole query: a statute
    #: searched by its name (体育法) comes first, not a short article that happens to
    #: hold the words, as the Whoosh backend's title boost ranks it.
    TITLE_MATCH_BONUS = 1.0
    #: Added when the text holds the whole query as typed: 工作人 typed half-way ranks
    #: 工作人员 ahead of texts that only have 工作 and 人 apart.
    TEXT_MATCH_BONUS = 0.5

    def _with_whole_query_bonus(self, rank_expression, query):
        if not isinstance(query, PlainText):
            return rank_expression
        whole = "".join(normalise(query.query_string).split())
        if len(whole) < 2:
            return rank_expression
        bonus = Case(
            When(_title_text__contains=whole, then=Value(self.TITLE_MATCH_BONUS)),
            When(_body_text__contains=whole, then=Value(self.TEXT_MATCH_BONUS)),
            default=Value(0.0),
            output_field=FloatField(),
        )
        return rank_expression + bonus

    def _entry_types_condition(self):
        """The index entries of the types the queryset can return, for Wagtail pages.

        modelsearch joins a Page queryset to the entries of every page type; the site's
        generic page search excludes the types searched on their own (statutes), whose
        long vectors were then tested for every query and thrown away at the join.
        """
        from wagtail.models import Page

        if self.queryset.model is not Page:
            return Q()
        types = self.queryset.model._default_manager.filter(
            pk__in=self.queryset.order_by().values("pk")
        ).values_list("content_type_id", flat=True)
        return Q(_entry_type__in=set(types.order_by().distinct()))

    def get_search_vectors(self, search_query):
        # Ranking always uses the segmented index vectors, also when named fields
        # restrict the filter: a raw SearchVector over a field would not be segmented.
        return self.get_index_vectors(search_query)

    def search(self, config, start, stop, score_field=None, backend=None):
        from search.budget import check as check_budget

        check_budget()  # the same time budget as the Whoosh backend, between statements
        if isinstance(self.query, MatchAll):
            return self.queryset[start:stop]
        if isinstance(self.query, Not) and isinstance(self.query.subquery, MatchAll):
            return self.queryset.none()

        vectors = self.get_index_vectors(None)
        original_query = self.query
        self.query = self._rank_query(original_query)
        try:
            rank_expression = self._build_rank_expression(vectors, config)
        finally:
            self.query = original_query
        rank_expression = self._with_whole_query_bonus(rank_expression, original_query)

        combined_vector = vectors[0][0]
        for vector, _boost in vectors[1:]:
            combined_vector = combined_vector._combine(vector, "||", False)

        condition = self.build_condition(original_query, config)
        best = None
        if stop is not None and self.order_by_relevance and self.fields is None:
            best = self._best_of_bounded_candidates(
                condition, vectors, config, max(self.CANDIDATES, stop), stop
            )
            if best is not None:
                # the page's few objects are tested one by one: no GIN look-up of
                # characters for them
                condition = self._unnarrowed_condition(original_query, config) or condition
        # alias(), not annotate(): the vectors and texts are tested, never fetched.
        queryset = self.queryset.alias(
            _vector_=combined_vector,
            _title_text=F("index_entries__title_text"),
            _body_text=F("index_entries__body_text"),
            _entry_type=F("index_entries__content_type_id"),
            _pairs_=EntryPairs("index_entries__"),
        ).filter(condition, self._entry_types_condition())
        if best is not None:
            queryset = queryset.filter(pk__in=best)

        return self._apply_ordering_and_scoring(queryset, rank_expression, start, stop, score_field)

    # A page of ranked results ranks at most 2 × CANDIDATES objects (or 2 × its end).
    CANDIDATES = 1000
    # The bounded scan (_probe): a sample of PROBE_SAMPLE_ROWS entries first; the scan
    # goes on, up to PROBE_MAX_ROWS, only when the sample promises enough matches there.
    PROBE_SAMPLE_ROWS = 2_000
    # (40,000 while the characters narrowed Han words; their pairs make the index cheaper:
    # 行政 规定 法规 at 1M, 240 ms with a 40,000-row scan, 180 ms through the index)
    PROBE_MAX_ROWS = 10_000
    # The title candidates' sample is smaller: the rows the title index returns lie on
    # pages of their own (2,000 of them cost 15-35 ms at 1M), and a smaller sample tells
    # as well whether 1,000 matches lie within PROBE_MAX_ROWS of them.
    PROBE_TITLE_SAMPLE_ROWS = 500

    def _unnarrowed_condition(self, query, config):
        """The condition without the GIN look-ups of pairs and characters (phrases and
        Han words decided by their text tests alone), or None when it has none to leave
        out."""
        self._narrow = False
        self._narrowings = self._phrases = 0
        try:
            condition = self.build_condition(query, config)
        finally:
            self._narrow = True
        return condition if self._narrowings else None

    def _scan_head(self, ids, head, rows, limit):
        """The first *limit* ids of *ids* (a values("id") queryset of index entries) among
        the first *rows* entries of *head* (a queryset of index entries, read in its own
        order: table order, or the order of its index), and whether *head* holds more than
        *rows* entries, as ``(ids, more)``; None when the statement is not of the expected
        form.

        The entries come from a subquery with LIMIT, which PostgreSQL cannot flatten: at
        most *rows* + 1 are read, fewer when *limit* matches come first. They are numbered
        as they come; the entry after the first *rows*, matching or not, is returned too,
        and tells that *head* goes on (no second statement counts *head*: the rows of an
        index's head lie on pages of their own, and counting read them all again)."""
        sql, params = ids.query.sql_with_params()
        head_sql, head_params = head[: rows + 1].query.sql_with_params()
        quote = connections[ids.db].ops.quote_name
        table = quote(IndexEntry._meta.db_table)
        number = f"{table}.{quote(self._PROBE_ROW)}"
        source = f"FROM {table} WHERE"
        if sql.count(source) != 1 or not sql.startswith("SELECT "):
            return None
        at = sql.index(source)
        before = sql[:at].count("%s")
        numbered = (
            f"SELECT *, row_number() OVER () AS {quote(self._PROBE_ROW)} "
            f"FROM ({head_sql}) AS {quote('_probe_head')}"
        )
        sql = (
            f"{sql[:at].rstrip()}, {number} FROM ({numbered}) AS {table} "
            f"WHERE (({sql[at + len(source) :]}) OR {number} > %s) LIMIT %s"
        )
        params = [*params[:before], *head_params, *params[before:], rows, limit + 1]
        with connections[ids.db].cursor() as cursor:
            cursor.execute(sql, params)
            found = cursor.fetchall()
        more = any(n > rows for _id, n in found)
        return [pk for pk, n in found if n <= rows][:limit], more

    _PROBE_ROW = "_probe_row"

    # The types with at most this many entries in all are ranked whole, in one statement
    # (the bound would take every match as a candidate anyway, in more statements).
    UNBOUNDED_MAX_ENTRIES = 1000
    # A bounded scan is tried only where the entries' stored text is at most this long on
    # average (a law article: ~350 bytes; a statute's page: ~9 KB compressed, and 300 of
    # them took a scan 70 ms, the index a few).
    PROBE_MAX_ENTRY_BYTES = 2_000
    # Entries per type whose stored size is read for that mean.
    PROBE_SIZE_ROWS = 10

    def _entries_profile(self, using, types, limit):
        """``(short, few)`` for the entries of *types* (content type ids), from one short
        statement: *short* when every type's entries are short enough for a bounded scan
        (the mean stored size, ``pg_column_size``, compressed and read without fetching
        the text, of the title and body text of each type's first PROBE_SIZE_ROWS entries
        is at most PROBE_MAX_ENTRY_BYTES); *few* when they are no more than *limit* in all
        (every match is then a candidate: the bound changes nothing)."""
        table = connections[using].ops.quote_name(IndexEntry._meta.db_table)
        types = list(types)
        with connections[using].cursor() as cursor:
            cursor.execute(
                "SELECT (SELECT max((SELECT avg(pg_column_size(e.title_text)"
                " + pg_column_size(e.body_text))"
                f" FROM (SELECT title_text, body_text FROM {table} WHERE content_type_id = t"
                " LIMIT %s) AS e)) FROM unnest(%s::integer[]) AS t),"
                f" EXISTS (SELECT 1 FROM {table}"
                " WHERE content_type_id = ANY(%s::integer[]) OFFSET %s)",
                [self.PROBE_SIZE_ROWS, types, types, limit],
            )
            longest, more = cursor.fetchone()
        return longest is None or longest <= self.PROBE_MAX_ENTRY_BYTES, not more

    def _probe(self, ids, head, limit, sample=None):
        """The first *limit* matches (*ids*) among the entries of *head*, found by a bounded
        scan of *head*, or every match when *head* holds no more than the sample; None
        when the index should answer.

        A frequent word or phrase (人民政府 is in two articles of five; 行政, 规定 and
        法规 together in one of six) costs the GIN index the whole posting lists of its
        characters, hundreds of thousands of rows at a million, before LIMIT can stop
        anything, while a plain scan finds a thousand matches in the first few thousand
        rows. A sample of the first *sample* (PROBE_SAMPLE_ROWS) entries of *head* tells
        how dense the matches are; the scan goes on only if *limit* of them are expected
        within PROBE_MAX_ROWS. A rare query pays the sample (a few milliseconds) and is
        then answered through the index, as before."""
        sample = sample or self.PROBE_SAMPLE_ROWS
        scanned = self._scan_head(ids, head, sample, limit)
        if scanned is None:
            return None
        found, more = scanned
        if len(found) == limit or not more:
            return found  # enough, or the sample was all of head: every match
        if not found:
            return None
        needed = int(1.5 * limit * sample / len(found))
        if needed > self.PROBE_MAX_ROWS:
            return None
        scanned = self._scan_head(ids, head, needed, limit)
        return scanned[0] if scanned is not None and len(scanned[0]) == limit else None

    def _best_of_bounded_candidates(self, condition, vectors, config, limit, stop):
        """A subquery of the primary keys of the *stop* best-ranked objects among at most
        2 × *limit* candidates, or None to rank every match.

        ts_rank is worked out per matching row; 规定 matches a third of a million
        articles, and ranking them all read the whole table. The candidates are

        * the first *limit* matches whose **title** matches the rank query (a title word
          carries the title field's higher weight, times title_norm: the best-ranked
          objects are nearly always among these), and
        * the first *limit* matches of any kind,

        both in table order, read through the GIN indexes (or for frequent words and
        phrases a bounded scan, ``_probe``) and cut off by LIMIT, then ranked exactly on
        the index table alone; only the *stop* best are joined to the caller's queryset,
        which orders them by the same rank. For a query with Han words or phrases the
        first matches are read first: when they are fewer than *limit* they are every
        match, and the title candidates are not looked for. A query with at most *limit* matches is therefore ranked exactly
        (so are up to *limit* title matches);
        beyond that, the body-only matches shown come from the first *limit* in table
        order. The caller's filters (roles, publication) are applied per candidate by
        primary key, so they never empty the page. Counts and facets (no *stop*) still
        count every match.
        """
        model = self.queryset.model
        pk_field = integer_pk_field(model)
        columns = [entry_column(vector) for vector, _boost in vectors]
        boosts = [
            F(entry_column(boost)) if isinstance(boost, F) else boost for _vector, boost in vectors
        ]
        if pk_field is None or None in columns or F(None) in boosts:
            return None
        entry_vector = F(columns[0])
        for column in columns[1:]:
            entry_vector = entry_vector._combine(F(column), "||", False)
        types = get_descendants_content_types_pks(model)
        short, few = self._entries_profile(
            self.queryset.db, types, min(limit, self.UNBOUNDED_MAX_ENTRIES)
        )
        if few:
            return None  # every match is a candidate: ranked in one statement

        def matching_ids(where):
            entries = (
                IndexEntry._default_manager.using(self.queryset.db)
                .filter(content_type_id__in=types)
                .alias(
                    _vector_=entry_vector,
                    _title_text=F("title_text"),
                    _body_text=F("body_text"),
                    _pairs_=EntryPairs(),
                )
                .filter(where)
            )
            if self.queryset.query.where:
                visible = self.queryset.order_by().filter(
                    pk=Cast(OuterRef("object_id"), output_field=pk_field)
                )
                entries = entries.filter(Exists(visible))
            return entries.values("id")

        ids = matching_ids(condition)
        # The first matches are read first. A query with phrases or Han words tries a
        # bounded scan (frequent characters cost the (title || body) index whole posting
        # lists); otherwise, or when the scan finds too few, the index answers.
        unnarrowed = self._unnarrowed_condition(self.query, config)
        has_phrase = bool(self._phrases)
        loose_ids = None if unnarrowed is None else matching_ids(unnarrowed)
        entries_of_types = IndexEntry._default_manager.using(ids.db).filter(
            content_type_id__in=types
        )
        complete = False
        # A scan tests every text it meets: worth it for short entries (articles), not
        # where a type's entries are whole documents (a statute's page: 20 KB of text).
        scan = loose_ids is not None and short
        if loose_ids is None:
            # nothing the index reads at length (one character, Latin words): one statement
            parts = [ids[:limit]]
        else:
            first = self._probe(loose_ids, entries_of_types, limit) if scan else None
            if first is None:
                first = [row["id"] for row in ids[:limit]]
            parts = [entries_of_types.filter(id_in(first)).values("id")]
            # Fewer than *limit*: these are all the matches, every one a candidate, and
            # the title candidates (a subset) need not be looked for; the index's bitmap
            # was built once.
            complete = len(first) < limit
        # A phrase's title candidates come through the title index alone.
        title_ids = loose_ids if has_phrase else ids
        original_query = self.query
        self.query = self._rank_query(original_query)
        try:
            if not complete and len(columns) > 1 and not contains_not(original_query):
                title_query = self.build_tsquery(self.query, config=config)
                if title_query is not None:
                    # Through the title index: rows with a query word in the title, and
                    # of them those that match, by a bounded scan when it finds enough.
                    titled = None
                    if scan:
                        head = entries_of_types.filter(**{columns[0]: title_query})
                        titled = self._probe(loose_ids, head, limit, self.PROBE_TITLE_SAMPLE_ROWS)
                    if titled is None:
                        titled = title_ids.filter(**{columns[0]: title_query})[:limit]
                    else:
                        titled = entries_of_types.filter(id_in(titled)).values("id")
                    parts.insert(0, titled)
            rank = self._build_rank_expression(
                [(F(c), b) for c, b in zip(columns, boosts, strict=True)], config
            )
        finally:
            self.query = original_query
        # the same whole-query bonus as the final order, so the page's best are chosen alike
        rank = self._with_whole_query_bonus(rank, original_query)
        candidates = parts[0].union(*parts[1:]) if len(parts) > 1 else parts[0]
        return (
            IndexEntry._default_manager.using(self.queryset.db)
            .filter(id__in=candidates)
            .alias(_title_text=F("title_text"), _body_text=F("body_text"))
            .annotate(_rank=rank, _object_pk=Cast("object_id", output_field=pk_field))
            .order_by("-_rank", "-_object_pk")
            .values("_object_pk")[:stop]
        )


class SegmentedAutocompleteQueryCompiler(SegmentedSearchQueryCompiler):
    """Autocomplete: every token of the last term is matched as a prefix of an indexed token."""

    LAST_TERM_IS_PREFIX = True
    # A partial term such as 制度汇 is cut into 制度 + 汇: each may begin an indexed word.
    PREFIX_WHOLE_LAST_TERM = True
    TARGET_SEARCH_FIELD_TYPE = AutocompleteField
    # The stored plain text holds search fields, not autocomplete fields.
    USE_TEXT_FALLBACK = False

    get_config = PostgresAutocompleteQueryCompiler.get_config
    get_search_fields_for_model = PostgresAutocompleteQueryCompiler.get_search_fields_for_model
    get_index_vectors = PostgresAutocompleteQueryCompiler.get_index_vectors

    def _text_contains(self, text):
        if self.fields is None:
            return NEVER
        return super()._text_contains(text)


class SegmentedSearchResults(PostgresSearchResults):
    """Runs each search statement with PostgreSQL's JIT compilation off.

    At a million entries the plan of a frequent phrase passes ``jit_above_cost`` and
    PostgreSQL compiles it (37 ms of a 420 ms "人民政府"; 312 ms without): JIT pays off for
    long analytical scans, not for a bounded search. ``SET LOCAL`` in a transaction of its
    own limits it to the search statement (inside a transaction already open, such as a
    request's, it lasts until that one ends).

    The same statement gets SEARCH_WORK_MEM: a frequent phrase's bitmap of candidate rows
    outgrew the default 4 MB at a million entries and went lossy, and every row of a lossy
    page was tested again ("依照本法规定": 224 → 126–160 ms)."""

    SEARCH_WORK_MEM = "16MB"

    def _without_jit(self, run):
        alias = self.query_compiler.queryset.db
        with transaction.atomic(using=alias):
            with connections[alias].cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")
                cursor.execute("SELECT set_config('work_mem', %s, true)", [self.SEARCH_WORK_MEM])
            return run()

    def _do_search(self):
        return self._without_jit(super()._do_search)

    def _do_count(self):
        return self._without_jit(super()._do_count)


class SegmentedPostgresSearchBackend(PostgresSearchBackend):
    query_compiler_class = SegmentedSearchQueryCompiler
    autocomplete_query_compiler_class = SegmentedAutocompleteQueryCompiler
    index_class = SegmentedPostgresIndex
    results_class = SegmentedSearchResults

    def __init__(self, params):
        super().__init__(params)
        # Chinese tokens are produced by jieba; PostgreSQL must keep them as they are.
        self.config = params.get("SEARCH_CONFIG") or TEXT_SEARCH_CONFIG
        self.autocomplete_config = TEXT_SEARCH_CONFIG

    @staticmethod
    def is_available(using="default"):
        return connections[using].vendor == "postgresql"


SearchBackend = SegmentedPostgresSearchBackend
