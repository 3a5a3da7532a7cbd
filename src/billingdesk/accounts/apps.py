from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "billingdesk.accounts"
    label = "accounts"
    verbose_name = "Agents and roles"
