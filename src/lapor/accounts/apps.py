from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "lapor.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        # In ready(): models and services can be imported only once the app registry is loaded.
        from lapor.accounts.services import user_nik_rotate
        from lapor.core.crypto import register_rotation

        register_rotation(
            "accounts.nik",
            message=_("Re-encrypted %(count)d NIK values under the newest key."),
            rotate=lambda batch_size: user_nik_rotate(batch_size=batch_size),
        )
