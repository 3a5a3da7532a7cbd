"""The "custom" gateway: the merchant's own billing code, pushed in and answering actions.

Records arrive through the API's push endpoints (``billingdesk.api.v1.push``); each action an
administrator enables is sent to the merchant's action URL as a Standard Webhooks-signed
request (``client``), and its answer becomes the action's result (``connector``). See
docs/gateways/custom.md.
"""
