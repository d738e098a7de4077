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


def keep_access(user: User, names: list[str], permissions: list[str]) -> None:
    """Keep on `user` the group names and permissions read with it (`access_columns`).

    A superuser's permissions are every permission there is: those are
    still read at the first check.
    """
    user._group_names = frozenset(names)  # type: ignore[attr-defined]
    if not user.is_superuser:
        user._perm_cache = set(permissions)  # type: ignore[attr-defined]


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


# Fixed statements: building them through the ORM took longer than running
# them. Tables and columns are named as the models name them; the groups
# are `g`, the permissions `p` with their content types `ct`.


def _quote(meta: Any, field: str) -> str:
    return connection.ops.quote_name(meta.get_field(field).column)


def _group_rows(user: str) -> str:
    """FROM and WHERE of the groups of the user whose id is the SQL expression `user`."""
    quote = connection.ops.quote_name
    group = Group._meta
    member = User.groups.through._meta
    return (
        f"FROM {quote(group.db_table)} g "
        f"JOIN {quote(member.db_table)} ug "
        f"ON ug.{_quote(member, 'group')} = g.{_quote(group, 'id')} "
        f"WHERE ug.{_quote(member, 'user')} = {user}"
    )


def _permission_rows(user: str) -> str:
    """FROM and WHERE of the permissions of that user, their own and their groups'."""
    quote = connection.ops.quote_name
    own = User.user_permissions.through._meta
    granted = Group.permissions.through._meta
    member = User.groups.through._meta
    permission = Permission._meta
    content_type = ContentType._meta
    return (
        f"FROM {quote(permission.db_table)} p "  # noqa: S608 (our own tables)
        f"JOIN {quote(content_type.db_table)} ct "
        f"ON ct.{_quote(content_type, 'id')} = p.{_quote(permission, 'content_type')} "
        f"WHERE p.{_quote(permission, 'id')} IN ("
        f"SELECT {_quote(own, 'permission')} FROM {quote(own.db_table)} "
        f"WHERE {_quote(own, 'user')} = {user} "
        f"UNION SELECT gp.{_quote(granted, 'permission')} FROM {quote(granted.db_table)} gp "
        f"JOIN {quote(member.db_table)} ug "
        f"ON ug.{_quote(member, 'group')} = gp.{_quote(granted, 'group')} "
        f"WHERE ug.{_quote(member, 'user')} = {user})"
    )


def _access_values() -> tuple[str, str, str]:
    """The columns read of each: a group's name, a permission's app label and codename."""
    return (
        f"g.{_quote(Group._meta, 'name')}",
        f"ct.{_quote(ContentType._meta, 'app_label')}",
        f"p.{_quote(Permission._meta, 'codename')}",
    )


@functools.cache
def _access_sql() -> str:
    # Rows are ("group", name, '') and ("permission", app_label, codename).
    name, app_label, codename = _access_values()
    return (
        f"SELECT '{GROUP_ROW}', {name}, '' {_group_rows('%s')} "
        f"UNION ALL SELECT 'permission', {app_label}, {codename} {_permission_rows('%s')}"
    )


def access_columns(user: str) -> list[str]:
    """Two columns to read with a user (PostgreSQL): their group names and permissions.

    `user` is the SQL expression of the user's id; `keep_access` keeps what
    the columns hold, so that the request's checks ask nothing more.
    """
    name, app_label, codename = _access_values()
    return [
        f"ARRAY(SELECT {name} {_group_rows(user)})",
        f"ARRAY(SELECT {app_label} || '.' || {codename} {_permission_rows(user)})",
    ]
