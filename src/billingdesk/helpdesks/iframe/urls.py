"""The signed iframe's own addresses (collected by ``helpdesks.urls`` through the registry)."""

from django.urls import path

from billingdesk.helpdesks.iframe import views

urlpatterns = [
    path("embed/iframe/<str:connection_id>/", views.entry, name="iframe"),
]
