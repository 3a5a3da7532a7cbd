"""URLs of the documents app, included under /documents/."""

from django.urls import path

from billingdesk.documents import views

app_name = "documents"

urlpatterns = [
    path("<id:document_id>/pdf", views.document_pdf, name="pdf"),
    path("<id:document_id>/resend", views.document_resend, name="resend"),
    path("persons/<id:person_id>/", views.person_documents_page, name="person"),
    path("api/persons/<id:person_id>/", views.person_documents_api, name="api-person"),
]
