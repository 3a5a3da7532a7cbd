"""Help Scout's own addresses (collected by ``helpdesks.urls`` through the registry)."""

from django.urls import path

from billingdesk.helpdesks.helpscout import views

urlpatterns = [
    path("embed/helpscout/<str:connection_id>/", views.dynamic, name="helpscout"),
]
