"""Django's model backend, with a user's groups and permissions read in one query, not three."""

from __future__ import annotations

import functools
from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection

from tracker.models import User

GROUP_ROW = "group"


class PermissionBackend(ModelBackend):
    """`ModelBackend`, whose `get_all_permissions` asks once for the user's own and groups'.

    Every write and most reads check a permission, and Django's backend reads
    the user's own permissions and their groups' in two queries; the role
    checks (`tracker.roles.roles_of`) read the groups' names in a third. This
    reads all three in one, keeps the permissions where Django keeps them for
    the rest of the request (`_perm_cache` on the user object) and the names
    beside them, and answers as Django does: nothing for inactive or anonymous
    users or per-object checks, everything for superusers.
    """

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            _load_access(user_obj)
        cached: set[str] = user_obj._perm_cache
        return cached


def group_names(user: User) -> frozenset[str]:
    """The names of `user`'s groups, read with their permissions and kept on the user object."""
    if not hasattr(user, "_group_names"):
        _load_access(user)
    names: frozenset[str] = user._group_names  # type: ignore[attr-defined]
    return names


def _load_access(user: Any) -> None:
    user._group_names, user._perm_cache = _read_access(user)


def _read_access(user: User) -> tuple[frozenset[str], set[str]]:
    """`user`'s group names, and the "app_label.codename" of every permission they hold."""
    with connection.cursor() as cursor:
        cursor.execute(_access_sql(), [user.pk, user.pk, user.pk])
        rows = cursor.fetchall()
    groups = frozenset(name for kind, name, _codename in rows if kind == GROUP_ROW)
    if user.is_superuser:
        every = Permission.objects.values_list("content_type__app_label", "codename").order_by()
        return groups, {f"{app_label}.{codename}" for app_label, codename in every}
    return groups, {
        f"{app_label}.{codename}" for kind, app_label, codename in rows if kind != GROUP_ROW
    }


@functools.cache
def _access_sql() -> str:
    # One fixed statement: building it through the ORM took longer than
    # running it. Tables and columns are named as the models name them.
    # Rows are ("group", name, '') and ("permission", app_label, codename).
    quote = connection.ops.quote_name
    own = User.user_permissions.through._meta
    granted = Group.permissions.through._meta
    member = User.groups.through._meta

    def column(meta: Any, field: str) -> str:
        return quote(meta.get_field(field).column)

    group = Group._meta
    permission = Permission._meta
    content_type = ContentType._meta
    return (
        f"SELECT '{GROUP_ROW}', g.{column(group, 'name')}, '' "  # noqa: S608 (our own tables)
        f"FROM {quote(group.db_table)} g "
        f"JOIN {quote(member.db_table)} ug "
        f"ON ug.{column(member, 'group')} = g.{column(group, 'id')} "
        f"WHERE ug.{column(member, 'user')} = %s "
        "UNION ALL "
        f"SELECT 'permission', ct.{column(content_type, 'app_label')}, "
        f"p.{column(permission, 'codename')} "
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
