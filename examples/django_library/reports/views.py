"""JSON views of the reports."""

from django.http import JsonResponse

from .services import fines_report, genre_shelf, loans_per_month, overdue_report, popular_books


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


def fines(request):
    """Members who owe money, as JSON."""
    rows = fines_report()
    return JsonResponse({"members": rows, "total_outstanding": sum(r["outstanding"] for r in rows)})


def genres(request):
    """Books and loans per genre, as JSON."""
    return JsonResponse({"genres": genre_shelf()})


def monthly(request, year):
    """Loans per month of ``year``, as JSON (all twelve months)."""
    counts = loans_per_month(year)
    return JsonResponse({"year": year, "months": [counts.get(m, 0) for m in range(1, 13)]})
