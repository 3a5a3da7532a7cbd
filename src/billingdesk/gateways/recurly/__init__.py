"""Recurly connector (official ``recurly`` client, API v2021-02-25)."""
