"""Addresses of the console, the panel, the action forms and the approvals page."""

from django.urls import path

from billingdesk.panel import action_views, lists, views

urlpatterns = [
    path("console/", views.console, name="console"),
    path("console/person/<id:person_id>/", views.person_page, name="console-person"),
    path("console/approvals/", views.approvals, name="console-approvals"),
    path("console/lists/", lists.lists, name="console-lists"),
    path("console/lists/<slug:slug>/", lists.lists, name="console-list"),
    path(
        "console/person/<id:person_id>/charges/",
        lists.person_charges_page,
        name="console-person-charges",
    ),
    path(
        "console/approvals/<id:request_id>/decide/",
        views.approval_decision,
        name="console-approval-decide",
    ),
    path("panel/person/<id:person_id>/", views.panel, name="panel-person"),
    path("panel/person/<id:person_id>/fresh/", views.panel_fresh, name="panel-person-fresh"),
    path("panel/person/<id:person_id>/charges/", views.panel_charges, name="panel-person-charges"),
    path(
        "console/actions/<str:kind>/<str:target_kind>/<id:target_id>/",
        action_views.action_form,
        name="panel-action-form",
    ),
    path(
        "console/actions/<str:kind>/<str:target_kind>/<id:target_id>/review/",
        action_views.action_review,
        name="panel-action-review",
    ),
    path(
        "console/actions/<str:kind>/<str:target_kind>/<id:target_id>/confirm/",
        action_views.action_confirm,
        name="panel-action-confirm",
    ),
]
