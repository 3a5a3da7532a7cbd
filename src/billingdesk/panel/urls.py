"""Addresses of the console, the panel, the action forms and the approvals page, each
served in the agent's language (``panel.language``)."""

from django.urls import path

from billingdesk.panel import action_views, lists, views
from billingdesk.panel.language import in_agent_language as agent

urlpatterns = [
    path("console/", agent(views.console), name="console"),
    path("console/person/<id:person_id>/", agent(views.person_page), name="console-person"),
    path("console/approvals/", agent(views.approvals), name="console-approvals"),
    path("console/lists/", agent(lists.lists), name="console-lists"),
    path("console/lists/<slug:slug>/", agent(lists.lists), name="console-list"),
    path(
        "console/person/<id:person_id>/charges/",
        agent(lists.person_charges_page),
        name="console-person-charges",
    ),
    path(
        "console/approvals/<id:request_id>/decide/",
        agent(views.approval_decision),
        name="console-approval-decide",
    ),
    path("panel/person/<id:person_id>/", agent(views.panel), name="panel-person"),
    path("panel/person/<id:person_id>/fresh/", agent(views.panel_fresh), name="panel-person-fresh"),
    path(
        "panel/person/<id:person_id>/charges/",
        agent(views.panel_charges),
        name="panel-person-charges",
    ),
    path(
        "console/actions/<str:kind>/<str:target_kind>/<id:target_id>/",
        agent(action_views.action_form),
        name="panel-action-form",
    ),
    path(
        "console/actions/<str:kind>/<str:target_kind>/<id:target_id>/review/",
        agent(action_views.action_review),
        name="panel-action-review",
    ),
    path(
        "console/actions/<str:kind>/<str:target_kind>/<id:target_id>/confirm/",
        agent(action_views.action_confirm),
        name="panel-action-confirm",
    ),
]
