"""zendesk helpdesk integration (see docs/helpdesks/zendesk.md)."""
