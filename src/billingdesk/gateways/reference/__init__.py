"""The reference gateway connector: the documented example of the connector interface.

It has every module a connector package has (``apps``, ``client``, ``mapping``,
``connector``, ``actions``) with the same roles, but its "vendor" is ``service``, a small
payment service held in this process's memory, so it needs no network and tests can shape
any history or failure they want. It is not installed by default: enable it with
``BILLINGDESK_EXTRA_APPS=billingdesk.gateways.reference`` (or register
``ReferenceConnector`` in a test). ``docs/architecture.md`` ("Adding a gateway") walks
through writing a connector of this shape.
"""
