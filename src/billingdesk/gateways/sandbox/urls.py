"""Addresses of the sandbox gateway's hosted pages."""

from django.urls import path

from billingdesk.gateways.sandbox import views

app_name = "sandbox"

urlpatterns = [
    path("pay/<str:token>/", views.pay_page, name="pay"),
    path("card/<str:token>/", views.card_page, name="card"),
]
