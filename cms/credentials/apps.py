from django.apps import AppConfig


class CredentialsConfig(AppConfig):
    name = "cms.credentials"
    label = "credentials"
    verbose_name = "登录凭证"

    def ready(self):
        from django.contrib.auth.signals import user_logged_out

        user_logged_out.connect(_note_sign_out, dispatch_uid="credentials_sign_out")


def _note_sign_out(sender, request, user, **kwargs):
    # The middleware forgets the signed-in marker on this response.
    if request is not None:
        request.credentials_signed_out = True
