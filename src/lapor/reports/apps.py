from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "lapor.reports"
    label = "reports"
    verbose_name = _("Reports")

    def ready(self) -> None:
        # In ready(): models and services can be imported only once the app registry is loaded.
        from lapor.core.crypto import register_rotation
        from lapor.reports.services import report_guest_contacts_rotate

        register_rotation(
            "reports.guest_contacts",
            message=_(
                "Re-encrypted %(count)d guest contacts (e-mail addresses and phone numbers) under the newest key."
            ),
            rotate=lambda batch_size: report_guest_contacts_rotate(batch_size=batch_size),
        )
