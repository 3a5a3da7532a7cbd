"""Addresses helpdesks call (embed entries, Help Scout and Intercom endpoints) and our APIs."""

from django.urls import path

from billingdesk.helpdesks import views
from billingdesk.helpdesks.chatwoot import views as chatwoot
from billingdesk.helpdesks.freshdesk import views as freshdesk
from billingdesk.helpdesks.front import views as front
from billingdesk.helpdesks.helpscout import views as helpscout
from billingdesk.helpdesks.iframe import views as iframe
from billingdesk.helpdesks.intercom import views as intercom
from billingdesk.helpdesks.zendesk import views as zendesk

app_name = "helpdesks"

urlpatterns = [
    path("embed/api/panel/", views.panel_api, name="panel-api"),
    path("embed/api/renew/", views.renew_api, name="renew-api"),
    path("embed/signin/<str:connection_id>/", views.signin, name="signin"),
    path("embed/iframe/<str:connection_id>/", iframe.entry, name="iframe"),
    path("embed/zendesk/<str:connection_id>/", zendesk.entry, name="zendesk"),
    path("embed/front/<str:connection_id>/", front.entry, name="front"),
    path("embed/chatwoot/<str:connection_id>/", chatwoot.entry, name="chatwoot"),
    path("embed/freshdesk/<str:connection_id>/launch/", freshdesk.launch, name="freshdesk-launch"),
    path("embed/helpscout/<str:connection_id>/", helpscout.dynamic, name="helpscout"),
    path(
        "embed/intercom/<str:connection_id>/initialize/",
        intercom.initialize,
        name="intercom-initialize",
    ),
    path("embed/intercom/<str:connection_id>/submit/", intercom.submit, name="intercom-submit"),
    path("api/helpdesks/<str:connection_id>/tickets/", views.ticket_api, name="ticket-api"),
]
