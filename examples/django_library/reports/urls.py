"""URL routes of the reports."""

from django.urls import path

from . import views

urlpatterns = [
    path("overdue.json", views.overdue, name="overdue"),
    path("popular.json", views.popular, name="popular"),
    path("fines.json", views.fines, name="fines"),
    path("genres.json", views.genres, name="genres"),
    path("loans/<int:year>.json", views.monthly, name="monthly"),
]
