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
