"""URL routes of the reports."""

from django.urls import path

from . import views

urlpatterns = [
    path("overdue.json", views.overdue, name="overdue"),
    path("popular.json", views.popular, name="popular"),
]
