from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "lapor.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from lapor.core import logs, reference
        from lapor.core.models import HolidayOverride

        # Cache invalidation only (see lapor.core.reference): no business logic hangs on signals.
        for event, signal in (("saved", post_save), ("deleted", post_delete)):
            signal.connect(reference.changed, sender=HolidayOverride, dispatch_uid=f"reference-holiday-{event}")
        # Access logs never show a reporter's private link (lapor.core.logs).
        logs.install()
