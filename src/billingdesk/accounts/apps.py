from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "billingdesk.accounts"
    label = "accounts"
    verbose_name = "Agents and roles"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from billingdesk.accounts.twofactor import on_logged_in

        user_logged_in.connect(on_logged_in, dispatch_uid="billingdesk.accounts.twofactor")
