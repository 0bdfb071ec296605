"""Browser fixtures (Debian's chromium driven by Playwright against pytest-django's live server).

Loaded for the whole test tree by tests/conftest.py (pytest_plugins), so any test module can
ask for ``page`` without importing fixtures (a second import of the session-scoped ``browser``
would start a second Playwright inside the first one's event loop)."""

import os
import shutil

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests
# make between browser steps are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's chromium package")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def site_tree(transactional_db):
    """The page tree, site and role groups the data migrations make.

    Transactional tests flush the database after each test and serialized rollback
    does not reliably bring the migrated rows back, so build them here when missing.
    """
    from django.contrib.auth.models import Group
    from wagtail.models import Collection, Locale, Page, Site

    from cms.models import HomePage
    from cms.roles import ROLES, sync_role_permissions

    Locale.objects.get_or_create(language_code="zh-hans")
    if not Collection.objects.filter(depth=1).exists():
        Collection.add_root(name="Root")
    root = Page.objects.filter(depth=1).first() or Page.add_root(
        instance=Page(title="Root", slug="root")
    )
    home = HomePage.objects.first()
    if home is None:
        home = root.add_child(instance=HomePage(title="首页", slug="home"))
    if not Site.objects.exists():
        Site.objects.create(hostname="localhost", port=80, root_page=home, is_default_site=True)
    for role in ROLES:
        Group.objects.get_or_create(name=role)
    sync_role_permissions()
    return home


@pytest.fixture
def page(browser, live_server, site_tree):
    context = browser.new_context(locale="zh-CN", base_url=live_server.url)
    outside = []

    def guard(route):
        url = route.request.url
        if url.startswith(live_server.url) or url.startswith(("data:", "blob:", "about:")):
            route.continue_()
        else:  # the system runs on a closed network: record and refuse
            outside.append(url)
            route.abort()

    context.route("**/*", guard)
    page = context.new_page()
    page.outside_requests = outside
    # The CSP stops a reference to an outside address before it becomes a request; the
    # browser reports that on the console, and it counts as a page loading from outside.
    blocked = []
    page.on(
        "console",
        lambda msg: blocked.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    yield page
    context.close()
    assert not outside, f"pages requested outside addresses: {outside}"
    assert not blocked, f"pages referred to addresses the CSP blocked: {blocked}"


def login(page, username, password):
    page.goto("/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
