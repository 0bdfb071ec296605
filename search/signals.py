"""Reload the segmenter everywhere when administrators edit the dictionary or synonyms.

Index writes themselves need no receivers here: modelsearch's own post_save/post_delete
handlers call the backend, and the backend defers every write until commit
(search.indexing.submit).
"""

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from search.analysis import mark_custom_terms_changed, reset_lexicon


def _lexicon_changed(**kwargs):
    def run():
        mark_custom_terms_changed()
        reset_lexicon()

    transaction.on_commit(run, robust=True)


for _model in ("site_search.DictionaryTerm", "site_search.SynonymGroup"):
    receiver(post_save, sender=_model, dispatch_uid=f"lexicon-save-{_model}")(_lexicon_changed)
    receiver(post_delete, sender=_model, dispatch_uid=f"lexicon-delete-{_model}")(_lexicon_changed)
