"""iframe helpdesk integration (see docs/helpdesks/iframe.md)."""
