"""Zendesk's own addresses (collected by ``helpdesks.urls`` through the registry)."""

from django.urls import path

from billingdesk.helpdesks.zendesk import views

urlpatterns = [
    path("embed/zendesk/<str:connection_id>/", views.entry, name="zendesk"),
]
