from django.apps import AppConfig


class ActionsConfig(AppConfig):
    name = "billingdesk.actions"
    label = "actions"
    verbose_name = "Agent actions and audit"
