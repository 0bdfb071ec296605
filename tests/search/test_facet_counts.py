"""search.registry._facet_counts: one pass over the hits gives, per facet, the counts of the
hits that pass every filter but that facet's own (the definition, checked here on random
hits and filters against a direct count)."""

import random
from collections import Counter
from types import SimpleNamespace

from search.registry import FACET_LABELS, _facet_counts, _hit_value, _passes


def definition(hits, filters, facet):
    return Counter(
        _hit_value(hit, facet)
        for hit in hits
        if _passes(hit, filters, skip=facet) and _hit_value(hit, facet) is not None
    )


def random_hit(rng):
    facets = {}
    for facet in FACET_LABELS:
        if facet != "type" and rng.random() < 0.8:
            facets[facet] = rng.choice(["甲", "乙", "丙"])
    key = rng.choice(["policies.policypage", "suggestions.suggestion", "briefings.briefingpage"])
    return SimpleNamespace(facets=facets, searchable=SimpleNamespace(key=key), type_key=key)


def test_one_pass_counts_match_the_definition():
    rng = random.Random(15)
    for _round in range(200):
        hits = [random_hit(rng) for _ in range(rng.randrange(0, 40))]
        chosen = rng.sample(list(FACET_LABELS), rng.randrange(0, 4))
        filters = {
            facet: rng.choice(["policies.policypage", "suggestions.suggestion"])
            if facet == "type"
            else rng.choice(["甲", "乙", "丙"])
            for facet in chosen
        }
        counts = _facet_counts(hits, filters)
        for facet in FACET_LABELS:
            assert counts[facet] == definition(hits, filters, facet), (filters, facet)
