"""Reads of the reports, one module per report; each returns plain dataclasses the views
render and the CSV exports write."""
