"""URLs of the reports, included under /reports/."""

from django.urls import path

from billingdesk.reports import views

app_name = "reports"

urlpatterns = [
    path("", views.reports_home, name="home"),
    path("revenue/", views.revenue_page, name="revenue"),
    path("revenue.csv", views.revenue_csv, name="revenue-csv"),
    path("subscriptions/", views.subscriptions_page, name="subscriptions"),
    path("subscriptions.csv", views.subscriptions_csv, name="subscriptions-csv"),
    path("invoices/", views.invoices_page, name="invoices"),
    path("tax/", views.tax_page, name="tax"),
    path("tax.csv", views.tax_csv, name="tax-csv"),
    path("tax.xlsx", views.tax_xlsx, name="tax-xlsx"),
    path("refunds/", views.refunds_page, name="refunds"),
    path("audit/", views.audit_page_view, name="audit"),
]
