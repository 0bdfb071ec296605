from django.contrib.auth import views as auth_views
from django.urls import path
from django.views.generic import TemplateView

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path(
        "security/", TemplateView.as_view(template_name="cms/error.html"), name="account_security"
    ),
]
