"""chatwoot helpdesk integration (see docs/helpdesks/chatwoot.md)."""
