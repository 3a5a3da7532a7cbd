"""Intercom's own addresses (collected by ``helpdesks.urls`` through the registry)."""

from django.urls import path

from billingdesk.helpdesks.intercom import views

urlpatterns = [
    path(
        "embed/intercom/<str:connection_id>/initialize/",
        views.initialize,
        name="intercom-initialize",
    ),
    path("embed/intercom/<str:connection_id>/submit/", views.submit, name="intercom-submit"),
]
