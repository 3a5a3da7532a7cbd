"""URLs of the customer billing pages, included under /billing/."""

from django.urls import path

from billingdesk.portal import agent_views, views

app_name = "portal"

urlpatterns = [
    path("", views.history, name="history"),
    path("link/<str:token>", views.link_open, name="open"),
    path("send-link", views.link_request, name="link-request"),
    path("embed", views.embed_open, name="embed"),
    path("documents/<id:document_id>/pdf", views.document_pdf, name="pdf"),
    path("tax-id", views.tax_id, name="tax-id"),
    path("card", views.card, name="card"),
    path("card/<id:customer_id>", views.card_update, name="card-update"),
    path("ask", views.ask, name="ask"),
    path(
        "subscriptions/<id:subscription_id>/cancel",
        views.subscription_cancel,
        name="subscription-cancel",
    ),
    path(
        "subscriptions/<id:subscription_id>/<str:action>",
        views.subscription_pause,
        name="subscription-pause",
    ),
    path("agent/people/<id:person_id>", agent_views.agent_link, name="agent-link"),
]
