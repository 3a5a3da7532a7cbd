"""Freshdesk's own addresses (collected by ``helpdesks.urls`` through the registry)."""

from django.urls import path

from billingdesk.helpdesks.freshdesk import views

urlpatterns = [
    path("embed/freshdesk/<str:connection_id>/launch/", views.launch, name="freshdesk-launch"),
]
