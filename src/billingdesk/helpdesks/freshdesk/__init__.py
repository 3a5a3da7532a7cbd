"""freshdesk helpdesk integration (see docs/helpdesks/freshdesk.md)."""
