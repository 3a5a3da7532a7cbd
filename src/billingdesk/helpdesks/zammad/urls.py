"""Zammad's own addresses (collected by ``helpdesks.urls`` through the registry)."""

from django.urls import path

from billingdesk.helpdesks.zammad import views

urlpatterns = [
    path("embed/zammad/<str:connection_id>/", views.entry, name="zammad"),
]
