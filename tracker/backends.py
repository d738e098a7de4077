"""Django's model backend, with a user's permissions read in one query instead of two."""

from __future__ import annotations

import functools
from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection

from tracker.models import User


class PermissionBackend(ModelBackend):
    """`ModelBackend`, whose `get_all_permissions` asks once for the user's own and groups'.

    Every write and most reads check a permission, and Django's backend reads
    the user's own permissions and their groups' in two queries. This reads
    both in one, keeps the set where Django keeps it for the rest of the
    request (`_perm_cache` on the user object), and answers as Django does:
    nothing for inactive or anonymous users or per-object checks, everything
    for superusers.
    """

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            user_obj._perm_cache = permission_names(user_obj)
        cached: set[str] = user_obj._perm_cache
        return cached


def permission_names(user: User) -> set[str]:
    """The "app_label.codename" of every permission `user` holds, directly or through a group."""
    if user.is_superuser:
        rows = Permission.objects.values_list("content_type__app_label", "codename").order_by()
        return {f"{app_label}.{codename}" for app_label, codename in rows}
    with connection.cursor() as cursor:
        cursor.execute(_permissions_sql(), [user.pk, user.pk])
        return {f"{app_label}.{codename}" for app_label, codename in cursor.fetchall()}


@functools.cache
def _permissions_sql() -> str:
    # One fixed statement: building it through the ORM took longer than
    # running it. Tables and columns are named as the models name them.
    quote = connection.ops.quote_name
    own = User.user_permissions.through._meta
    granted = Group.permissions.through._meta
    member = User.groups.through._meta

    def column(meta: Any, field: str) -> str:
        return quote(meta.get_field(field).column)

    permission = Permission._meta
    content_type = ContentType._meta
    return (
        f"SELECT ct.{column(content_type, 'app_label')}, p.{column(permission, 'codename')} "  # noqa: S608 (our own tables)
        f"FROM {quote(permission.db_table)} p "
        f"JOIN {quote(content_type.db_table)} ct "
        f"ON ct.{column(content_type, 'id')} = p.{column(permission, 'content_type')} "
        f"WHERE p.{column(permission, 'id')} IN ("
        f"SELECT {column(own, 'permission')} FROM {quote(own.db_table)} "
        f"WHERE {column(own, 'user')} = %s "
        f"UNION SELECT gp.{column(granted, 'permission')} FROM {quote(granted.db_table)} gp "
        f"JOIN {quote(member.db_table)} ug "
        f"ON ug.{column(member, 'group')} = gp.{column(granted, 'group')} "
        f"WHERE ug.{column(member, 'user')} = %s)"
    )
