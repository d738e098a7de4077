from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InstrumentsConfig(AppConfig):
    name = "instruments"
    verbose_name = _("Instruments and sources")

    def ready(self) -> None:
        from tracker.history import audit_translations

        audit_translations(self.label)
