"""intercom helpdesk integration (see docs/helpdesks/intercom.md)."""
