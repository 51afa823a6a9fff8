from django.apps import AppConfig


class AuditAppConfig(AppConfig):
    """Concrete chained event models for the tests of lapor.core.audit (installed by tests.settings only)."""

    name = "tests.audit_app"
    label = "audit_app"
    default_auto_field = "django.db.models.BigAutoField"
