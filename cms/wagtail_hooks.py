from wagtail import hooks

# Wagtail serves every document to anyone who is signed in; here only roles that read
# the system's material (cms.query_data) or edit documents get them (issue 14).
DOCUMENT_READERS = ("cms.query_data", "wagtaildocs.change_document")


@hooks.register("before_serve_document")
def refuse_documents_to_other_roles(document, request):
    user = request.user
    if any(user.has_perm(p) for p in DOCUMENT_READERS):
        return None
    from .views import permission_denied

    return permission_denied(request)


@hooks.register("register_admin_menu_item")
def back_to_site_menu_item():
    """Staff who come to the admin from the site (drafting, uploads) need a way back:
    the first item of the admin sidebar leads to the site's home page (issue 16 §6)."""
    from wagtail.admin.menu import MenuItem

    return MenuItem("返回网站", "/", name="back-to-site", icon_name="home", order=1)


@hooks.register("construct_main_menu")
def drop_external_help_menu(request, menu_items):
    """Wagtail's 帮助 menu links only to guide.wagtail.org (English, and unreachable on the
    closed network the system runs on): a dead end, so it is left out."""
    menu_items[:] = [item for item in menu_items if item.name != "help"]


@hooks.register("construct_reports_menu")
def drop_developer_reports(request, menu_items):
    """页面类型使用情况 lists Django's model identifiers (“policies.policypage”): a report for
    developers, not for the office, so the reports menu leaves it out."""
    menu_items[:] = [item for item in menu_items if item.name != "page-types-usage"]
