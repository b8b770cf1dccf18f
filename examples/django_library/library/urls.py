"""URL routes of the library example project (the reports' JSON views)."""

from django.urls import include, path

urlpatterns = [
    path("reports/", include("reports.urls")),
]
