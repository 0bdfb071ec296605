"""View decorator for restricted material (查看受限材料).

Usage::

    from cms.usage.decorators import records_restricted_view

    @records_restricted_view(detail="查看代表个人信息", lookup=lambda request, pk: Deputy.objects.get(pk=pk))
    def deputy_details(request, pk): ...

    # or let the view name the object it showed:
    @records_restricted_view(detail="查看未公开的查询数据")
    def query_result(request, pk):
        request.restricted_object = result = QueryResult.objects.get(pk=pk)
        ...

A row is written only when the view answers successfully (status 2xx), so refusals and
missing objects are not logged as views, and only once per request (a view that already
called ``record_restricted_view`` itself is not logged twice). For class-based views use
``django.utils.decorators.method_decorator(records_restricted_view(...), name="dispatch")``.
"""

from functools import wraps

from .services import record_restricted_view


def records_restricted_view(view=None, *, detail: str = "", lookup=None):
    """Decorate a view; usable bare (``@records_restricted_view``) or with arguments."""

    def decorator(view_func):
        @wraps(view_func)
        def wrapped(request, *args, **kwargs):
            response = view_func(request, *args, **kwargs)
            succeeded = 200 <= response.status_code < 300
            if succeeded and not getattr(request, "_usage_restricted_view_recorded", False):
                if lookup is not None:
                    obj = lookup(request, *args, **kwargs)
                else:
                    obj = getattr(request, "restricted_object", None)
                record_restricted_view(request, obj, detail or f"查看 {request.path}")
            return response

        return wrapped

    if view is not None:
        return decorator(view)
    return decorator
