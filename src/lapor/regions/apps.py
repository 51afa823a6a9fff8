from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegionsConfig(AppConfig):
    name = "lapor.regions"
    label = "regions"
    verbose_name = _("Regions")

    def ready(self) -> None:
        # In ready(): models can be imported only once the app registry is loaded.
        from django.db.models.signals import post_delete, post_save

        from lapor.core import reference
        from lapor.regions.models import Region

        # Cache invalidation only (the filing form's region lists, lapor.portal.options); the bulk
        # load, which sends no signals, empties the cache itself.
        for event, signal in (("saved", post_save), ("deleted", post_delete)):
            signal.connect(reference.changed, sender=Region, dispatch_uid=f"reference-Region-{event}")
