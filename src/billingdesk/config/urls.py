from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from billingdesk.accounts import login as accounts_login
from billingdesk.api.v1.urls import api as api_v1
from billingdesk.config import views as config_views
from billingdesk.core import views as core_views
from billingdesk.gateways import views as gateway_views

urlpatterns = [
    path("", config_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("favicon.ico", core_views.favicon, name="favicon"),
    path("login/", accounts_login.LoginView.as_view(), name="login"),
    path("login/code/", accounts_login.login_code, name="login-code"),
    path("account/two-factor/", accounts_login.two_factor, name="two-factor"),
    # The admin signs in through the same view: same throttle, same second factor.
    path("admin/login/", accounts_login.LoginView.as_view(), name="admin-login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Single sign-on (OpenID Connect): /oidc/authenticate/, /oidc/callback/ (404 when off).
    path("oidc/", include("mozilla_django_oidc.urls")),
    path("webhooks/<uuid:account_id>/", gateway_views.webhook_intake, name="webhook-intake"),
    # Providers' inbound email webhooks: /anymail/<esp>/inbound/ (docs/inbound-email.md).
    path("anymail/", include("billingdesk.inbound.provider_urls")),
    path("sandbox/", include("billingdesk.gateways.sandbox.urls")),
    path("documents/", include("billingdesk.documents.urls")),
    path("billing/", include("billingdesk.portal.urls")),
    path("reports/", include("billingdesk.reports.urls")),
    path("", include("billingdesk.panel.urls")),
    path("", include("billingdesk.helpdesks.urls")),
    path("api/v1/", api_v1.urls),
    path("admin/", admin.site.urls),
]

# A styled page, never a traceback; 503 when the database is what failed.
handler500 = "billingdesk.core.views.server_error"
# Styled, with the signed-in user's navigation and somewhere to go next.
handler400 = "billingdesk.core.views.bad_request"
handler403 = "billingdesk.core.views.permission_denied"
handler404 = "billingdesk.core.views.page_not_found"
