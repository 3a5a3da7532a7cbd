"""What the panel's reads never load of a gateway account."""

# Never loaded for display: decrypting them costs time and they must not reach a template.
ACCOUNT_SECRETS = ("credentials", "webhook_secret")
