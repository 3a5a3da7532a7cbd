"""URLs of the documents app, included under /documents/."""

from django.urls import path

from billingdesk.documents import views

app_name = "documents"

urlpatterns = [
    path("<int:document_id>/pdf", views.document_pdf, name="pdf"),
    path("<int:document_id>/resend", views.document_resend, name="resend"),
    path("persons/<int:person_id>/", views.person_documents_page, name="person"),
    path("api/persons/<int:person_id>/", views.person_documents_api, name="api-person"),
]
