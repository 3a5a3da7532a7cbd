"""FreeScout's own addresses (collected by ``helpdesks.urls`` through the registry)."""

from django.urls import path

from billingdesk.helpdesks.freescout import views

urlpatterns = [
    path("embed/freescout/<str:connection_id>/", views.entry, name="freescout"),
]
