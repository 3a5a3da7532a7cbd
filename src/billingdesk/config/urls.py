from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from billingdesk.config import views as config_views
from billingdesk.core import views as core_views
from billingdesk.gateways import views as gateway_views

urlpatterns = [
    path("", config_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("webhooks/<uuid:account_id>/", gateway_views.webhook_intake, name="webhook-intake"),
    path("sandbox/", include("billingdesk.gateways.sandbox.urls")),
    path("documents/", include("billingdesk.documents.urls")),
    path("", include("billingdesk.panel.urls")),
    path("", include("billingdesk.helpdesks.urls")),
    path("admin/", admin.site.urls),
]
