"""Addresses of the dispute screens (in the console)."""

from django.urls import path

from billingdesk.disputes import views

urlpatterns = [
    path("console/disputes/", views.disputes_list, name="disputes-list"),
    path("console/disputes/<id:dispute_id>/", views.dispute_review, name="dispute-review"),
    path("console/disputes/<id:dispute_id>/submit/", views.dispute_submit, name="dispute-submit"),
    path(
        "console/disputes/<id:dispute_id>/accept/",
        views.dispute_accept_view,
        name="dispute-accept",
    ),
    path(
        "console/disputes/<id:dispute_id>/assign/",
        views.dispute_assign_view,
        name="dispute-assign",
    ),
    path(
        "console/disputes/<id:dispute_id>/packets/<id:packet_id>.pdf",
        views.packet_pdf,
        name="dispute-packet-pdf",
    ),
]
