"""Addresses helpdesks call and our APIs: the shared embed endpoints here, and each
provider's own launch addresses from its package (``<kind>/urls.py``, via the registry)."""

from django.urls import path

from billingdesk.helpdesks import registry, views

app_name = "helpdesks"

urlpatterns = [
    path("embed/api/panel/", views.panel_api, name="panel-api"),
    path("embed/api/renew/", views.renew_api, name="renew-api"),
    path("embed/signin/<str:connection_id>/", views.signin, name="signin"),
    path("api/helpdesks/<str:connection_id>/tickets/", views.ticket_api, name="ticket-api"),
    *registry.url_patterns(),
]
