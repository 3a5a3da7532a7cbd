"""Front's own addresses (collected by ``helpdesks.urls`` through the registry)."""

from django.urls import path

from billingdesk.helpdesks.front import views

urlpatterns = [
    path("embed/front/<str:connection_id>/", views.entry, name="front"),
]
