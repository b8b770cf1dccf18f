"""JSON views of the reports."""

from django.http import JsonResponse

from .services import overdue_report, popular_books


def overdue(request):
    """The overdue report as JSON."""
    rows = overdue_report()
    return JsonResponse({"count": len(rows), "loans": rows})


def popular(request):
    """The most lent books as JSON (``?limit=N``, default 10)."""
    try:
        limit = max(1, min(int(request.GET.get("limit", 10)), 100))
    except ValueError:
        return JsonResponse({"error": "limit must be a number"}, status=400)
    return JsonResponse({"books": popular_books(limit)})
