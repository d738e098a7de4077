from django import template

from tracker.history import audit_available

register = template.Library()


@register.simple_tag
def audit_unavailable() -> bool:
    """True where field-level history cannot be recorded (not PostgreSQL)."""
    return not audit_available()
