"""What a web worker would otherwise do in its first requests, done when it starts.

gunicorn imports ``cms.wsgi`` in each worker before the worker takes requests; without this,
the first admin click a worker serves also imported every app's URLs and views, loaded the
translation catalogue, compiled the page editor's templates and loaded the jieba dictionary of
the search analyser (its first index write or search) and jieba's part-of-speech tagger (the
first suggestion page's key terms): 1—3 s on this machine, more when it is
busy (benchmarks/admin_actions.py, column "first"). A failure here is logged and never stops
the worker: the same work then happens in the first request, as before.
"""

import logging
import time

log = logging.getLogger(__name__)

# compiled once per process by the cached template loader (DEBUG off)
TEMPLATES = [
    "wagtailadmin/pages/edit.html",
    "wagtailadmin/pages/index.html",
    "wagtailadmin/home.html",
    "base.html",
]


def warm_up() -> float:
    """Returns the seconds it took."""
    from django.conf import settings
    from django.db import connections
    from django.template import TemplateDoesNotExist
    from django.template.loader import get_template
    from django.urls import get_resolver
    from django.utils import translation

    started = time.perf_counter()
    try:
        get_resolver().url_patterns  # noqa: B018 (imports every app's urls.py and views)
        translation.activate(settings.LANGUAGE_CODE)
        for name in TEMPLATES:
            try:
                get_template(name)
            except TemplateDoesNotExist:
                log.debug("warm-up: no template %s", name)
        translation.deactivate()
        from search.analysis import get_lexicon

        get_lexicon()  # jieba's dictionary and the office's own terms
        from suggestions.hot_topics import topic_words

        # jieba's part-of-speech tagger (~1 s): a suggestion page's key terms
        topic_words("预算执行")
    except Exception:
        log.warning("warm-up failed; the first requests do it instead", exc_info=True)
    finally:
        connections.close_all()  # the request threads open their own
    return time.perf_counter() - started
