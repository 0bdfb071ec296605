from django.urls import path

from . import views, webauthn_views

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("login/verify/", views.verify_view, name="login_verify"),
    path("login/key/begin/", webauthn_views.LoginKeyBeginView.as_view(), name="login_key_begin"),
    path(
        "login/key/complete/",
        webauthn_views.LoginKeyCompleteView.as_view(),
        name="login_key_complete",
    ),
    path("security/", views.security_view, name="account_security"),
    path("security/totp/start/", views.totp_start_view, name="security_totp_start"),
    path("security/totp/confirm/", views.totp_confirm_view, name="security_totp_confirm"),
    path("security/backup-codes/", views.backup_codes_view, name="security_backup_codes"),
    path("security/remove/", views.remove_device_view, name="security_remove_device"),
    path(
        "security/key/begin/",
        webauthn_views.SecurityKeyBeginView.as_view(),
        name="security_key_begin",
    ),
    path(
        "security/key/complete/",
        webauthn_views.SecurityKeyCompleteView.as_view(),
        name="security_key_complete",
    ),
]
