"""Report pages and exports, mounted at /reports/."""

from django.contrib.auth.views import LoginView, LogoutView
from django.urls import path

from recommendations import views

app_name = "reports"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("progress/", views.progress, name="progress"),
    path("changes/", views.changes, name="changes"),
    path("recommendations/", views.recommendation_list, name="list"),
    path("recommendations/<str:code>/", views.recommendation_detail, name="recommendation"),
    path("instruments/<slug:slug>/", views.instrument_detail, name="instrument"),
    path(
        "export/<slug:kind>.<slug:export_format>",
        views.export,
        name="export",
    ),
    path("exports/<slug:export_id>/", views.export_status, name="export-status"),
    path("exports/<slug:export_id>/download", views.export_download, name="export-download"),
    path("login/", LoginView.as_view(template_name="reports/login.html"), name="login"),
    path("logout/", LogoutView.as_view(next_page="reports:login"), name="logout"),
]
