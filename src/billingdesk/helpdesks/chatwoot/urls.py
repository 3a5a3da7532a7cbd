"""Chatwoot's own addresses (collected by ``helpdesks.urls`` through the registry)."""

from django.urls import path

from billingdesk.helpdesks.chatwoot import views

urlpatterns = [
    path("embed/chatwoot/<str:connection_id>/", views.entry, name="chatwoot"),
]
