from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billingdesk.billing"
    label = "billing"
    verbose_name = "Billing mirror"
