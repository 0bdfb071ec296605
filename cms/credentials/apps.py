from django.apps import AppConfig


class CredentialsConfig(AppConfig):
    name = "cms.credentials"
    label = "credentials"
    verbose_name = "登录凭证"
