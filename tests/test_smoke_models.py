import pytest

from billingdesk.gateways.models import GatewayAccount


@pytest.mark.django_db
def test_credentials_are_encrypted_at_rest() -> None:
    account = GatewayAccount.objects.create(
        kind="sandbox", name="EU store", credentials={"secret_key": "sk_test_123"}
    )
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT credentials, webhook_secret FROM gateways_gatewayaccount WHERE id = %s",
            [account.id.hex if connection.vendor == "sqlite" else account.id],
        )
        stored_credentials, stored_secret = cursor.fetchone()
    assert "sk_test_123" not in stored_credentials
    assert stored_credentials.startswith("fernet:")
    assert stored_secret.startswith("fernet:")
    fresh = GatewayAccount.objects.get(pk=account.pk)
    assert fresh.credentials == {"secret_key": "sk_test_123"}
    assert fresh.webhook_secret.startswith("whsec_")
