"""Issue 16 §6: each role walks its main tasks from the home page by clicking only.

One test (the demo data is loaded once: a transactional test empties the database after
each test) logs in as every demo account in turn and follows, for each task, the links and
buttons a person would click, starting from the home page. Every page reached must answer
without 404/500, offer a way back to the site (a link to the home page: the site header, or
返回网站 in the admin sidebar), and show no English word beyond a short allow-list of
product names, file types and codes."""

import re

import pytest
from django.core.management import call_command

from .fixtures import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Product names, file types and codes people here read as they are.
ALLOWED = {
    "Wagtail", "DOCX", "PDF", "XLSX", "XLS", "CSV", "TXT", "ZIP", "Markdown", "Word", "Excel",
    "WebAuthn", "TOTP", "GMT", "UTF", "GBK", "MB", "KB", "ID", "URL", "OK",
}  # fmt: skip
WORD = re.compile(r"[A-Za-z](?:[A-Za-z'’]*[A-Za-z])?")
# classification codes (档号 parts such as YSGW, file-type names) are capitals, not words
CODE = re.compile(r"[A-Z]{2,5}")
# hashes, e-mail addresses and addresses are not words
NOT_WORDS = re.compile(r"\b[0-9a-fA-F-]{7,}\b|[\w.+-]+@[\w.-]+|https?://\S+")

# The visible text: the body's innerText, each <select> reduced to its chosen option.
VISIBLE_TEXT = """() => {
  const body = document.body.cloneNode(true);
  const live = document.body.querySelectorAll('select');
  body.querySelectorAll('select').forEach((s, i) => {
    const o = live[i] && live[i].selectedOptions[0];
    s.replaceWith(document.createTextNode(o ? o.textContent : ''));
  });
  body.querySelectorAll('script,style,template,[hidden]').forEach(e => e.remove());
  const host = document.createElement('div');
  host.style.position = 'absolute';
  host.style.left = '-99999px';
  host.appendChild(body);
  document.documentElement.appendChild(host);
  const text = body.innerText;
  host.remove();
  return text;
}"""

# Each task: what to click, in order, starting from the home page. A step is the visible
# name of a link or button ("设置>用户": open the admin sidebar's 设置 menu, then 用户), or
# "@selector": the first visible link the CSS selector finds (a list's first entry).
WALKS = {
    "admin": [
        ["管理后台", "设置>用户", "王芳", "保存"],
        ["管理后台", "设置>组"],
        ["管理后台", "返回网站"],
        ["立卷归档"],
    ],
    "staff": [
        ["工作资料"],
        ["代表建议"],
        ["管理后台", "页面"],
        # the page editor, from the dashboard's list of the pages she submitted for review
        ["管理后台", "@main a[href$='/edit/']"],
    ],
    "head": [
        ["工作资料"],
        ["预警函件"],
        ["管理后台", "报告>工作流"],
    ],
    "archivist": [
        ["立卷归档"],
        ["归档文件目录"],
        ["管理后台"],
    ],
    "liaison": [
        ["代表建议"],
        ["本单位函件"],
        ["工作资料"],
    ],
    "deputy": [
        ["代表建议"],
        ["工作资料"],
        ["预算数据"],
    ],
}


def english_words(page) -> list[str]:
    text = NOT_WORDS.sub(" ", page.evaluate(VISIBLE_TEXT))
    words = {w for w in WORD.findall(text) if len(w) > 1}
    return sorted(w for w in words if w not in ALLOWED and not CODE.fullmatch(w))


def settle(page):
    page.wait_for_load_state("load")
    if "/admin/" in page.url:  # the admin's sidebar (with 返回网站) is drawn by its script
        page.wait_for_selector("a[href='/']", timeout=10_000)


def click(page, name):
    """Click the visible link or button called *name* (exact), waiting for what follows."""
    if name.startswith("@"):
        found = page.locator(name[1:]).filter(visible=True)
        if found.count():
            found.first.click()
            settle(page)
            return
        raise AssertionError(f"{page.url}: nothing to click matches {name[1:]!r}")
    for role in ("link", "button", "menuitem"):
        found = page.get_by_role(role, name=name, exact=True)
        for i in range(found.count()):
            target = found.nth(i)
            if target.is_visible():
                target.click()
                settle(page)
                return
    raise AssertionError(f"{page.url}: nothing to click called {name!r}")


def load_demo_site():
    from wagtail import hooks

    from cms.demo import BACKGROUND_LOADERS, _loader_name, create_demo_accounts, index_paused

    call_command("compile_translations")
    create_demo_accounts()
    # the slow suggestions and archive demos are left out (the worker's part of make run)
    with index_paused():
        for loader in hooks.get_hooks("register_demo_loader"):
            if _loader_name(loader) not in BACKGROUND_LOADERS:
                loader(None)


def test_each_role_walks_its_tasks_by_clicking(page, site_tree):
    from django.contrib.auth import get_user_model

    from cms.demo import DEMO_ACCOUNTS

    load_demo_site()
    page.set_viewport_size({"width": 1366, "height": 900})
    failed_responses = []
    page.on(
        "response",
        lambda r: (
            failed_responses.append(f"{r.status} {r.url}")
            if r.request.is_navigation_request() and r.status >= 400
            else None
        ),
    )
    usernames = set(get_user_model().objects.values_list("username", flat=True))
    # the letter runs of each username too: "member" of member1 is part of an identifier
    username_words = usernames | {w for u in usernames for w in WORD.findall(u)}
    problems = []
    passwords = {username: password for username, *_, password in DEMO_ACCOUNTS}
    for username, walks in WALKS.items():
        page.context.clear_cookies()
        login(page, username, passwords[username])
        for walk in walks:
            page.locator("a[href='/']:visible").first.click()  # back to the home page
            settle(page)
            for step in walk:
                where = f"{username} {' → '.join(walk)} @ {step}"
                try:
                    for part in step.split(">"):
                        click(page, part)
                except AssertionError as exc:
                    problems.append(f"{where}: {exc}")
                    break
                if failed_responses:
                    problems.append(f"{where}: {failed_responses}")
                    failed_responses.clear()
                    break
                if page.locator("a[href='/']:visible").count() == 0:
                    problems.append(f"{where}: no way back to the site on {page.url}")
                # usernames are identifiers (the users list shows them), not English text
                words = [w for w in english_words(page) if w not in username_words]
                if words:
                    problems.append(f"{where}: English on {page.url}: {words}")
                if step == "保存":
                    assert "无法保存用户" not in page.inner_text("body"), page.url
    assert not problems, "\n".join(problems)
