from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InstitutionsConfig(AppConfig):
    name = "lapor.institutions"
    label = "institutions"
    verbose_name = _("Institutions")

    def ready(self) -> None:
        # In ready(): models and services can be imported only once the app registry is loaded.
        from django.db.models.signals import post_delete, post_save

        from lapor.core import reference
        from lapor.institutions.models import Category, DeadlineOverride, Institution

        # Cache invalidation only (see lapor.core.reference): no business logic hangs on signals.
        for model in (Category, DeadlineOverride, Institution):
            for event, signal in (("saved", post_save), ("deleted", post_delete)):
                signal.connect(reference.changed, sender=model, dispatch_uid=f"reference-{model.__name__}-{event}")
