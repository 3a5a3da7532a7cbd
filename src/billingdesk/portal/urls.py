"""URLs of the customer billing pages, included under /billing/."""

from django.urls import path

from billingdesk.portal import views

app_name = "portal"

urlpatterns = [
    path("", views.history, name="history"),
    path("link/<str:token>", views.link_open, name="open"),
    path("documents/<id:document_id>/pdf", views.document_pdf, name="pdf"),
]
