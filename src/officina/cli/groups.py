"""``officina group``: the groups that give users module permissions.

A user who is not an administrator may use a module only through a group that holds a grant
for it, read-only or writable; these commands are the way to hand such grants out.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from officina.cli.common import (
    AsJson,
    DatabaseUrl,
    DataDir,
    InstanceName,
    _emit_json,
    _instance_store,
    _one_line_errors,
    group_app,
)
from officina.core import people

GroupName = Annotated[str, typer.Argument(help="Name of the group (any case).")]
Modules = Annotated[
    list[str],
    typer.Argument(
        help="Module names, e.g. accounts contacts ('officina group grant --help' lists all).",
        show_default=False,
    ),
]
Email = Annotated[str, typer.Option("--email", help="E-mail of the user.")]


# A docstring cannot name the modules from the list they are checked against; this can.
GRANT_HELP = (
    "Give a group modules, read-only (or writable with --write). Modules: "
    + ", ".join(people.GRANTABLE)
    + "."
)


@group_app.command("create")
@_one_line_errors
def group_create(
    name: GroupName,
    instance: InstanceName = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """Create a group without any permission."""
    with _instance_store(instance, data_dir, database_url) as store, store.write() as conn:
        group_id = people.create_group(conn, name)
    if as_json:
        _emit_json({"instance": store.name, "id": group_id, "name": name.strip()})
    else:
        print(f"created group {name.strip()} (ID {group_id}) in {store.name}")


@group_app.command("list")
@_one_line_errors
def group_list(
    instance: InstanceName = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """List the groups with their permissions (rw: writable, r: read-only) and members."""
    with _instance_store(instance, data_dir, database_url) as store, store.read() as conn:
        found = people.list_groups(conn)
    if as_json:
        _emit_json([_as_dict(g) for g in found])
        return
    for group in found:
        grants = ", ".join(f"{m} {'rw' if w else 'r'}" for m, w in group.grants.items())
        members = ", ".join(group.members)
        print(f"{group.name} (ID {group.id})")
        print(f"  permissions: {grants or '-'}")
        print(f"  members: {members or '-'}")


def _as_dict(group: people.GroupInfo) -> dict[str, Any]:
    return {
        "id": group.id,
        "name": group.name,
        "permissions": [{"module": m, "writable": w} for m, w in group.grants.items()],
        "members": [{"email": e, "writable": w} for e, w in group.members.items()],
    }


@group_app.command("grant", help=GRANT_HELP)
@_one_line_errors
def group_grant(
    name: GroupName,
    modules: Modules,
    write: Annotated[
        bool, typer.Option("--write", help="Writable: create, change and delete too.")
    ] = False,
    instance: InstanceName = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    checked = [people.check_module(m) for m in modules]
    with _instance_store(instance, data_dir, database_url) as store, store.write() as conn:
        group_id = people.group_id_by_name(conn, name)
        for module in checked:
            people.grant(conn, group_id, module, writable=write)
    if as_json:
        _emit_json({"instance": store.name, "group": name, "modules": checked, "writable": write})
    else:
        how = "read and write" if write else "read"
        print(f"group {name} may now {how} {', '.join(checked)}")


@group_app.command("revoke")
@_one_line_errors
def group_revoke(
    name: GroupName,
    modules: Modules,
    instance: InstanceName = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """Take modules from a group (reading and writing both)."""
    checked = [people.check_module(m) for m in modules]
    with _instance_store(instance, data_dir, database_url) as store, store.write() as conn:
        group_id = people.group_id_by_name(conn, name)
        held = [m for m in checked if people.revoke(conn, group_id, m)]
    if as_json:
        _emit_json({"instance": store.name, "group": name, "revoked": held})
    elif held:
        print(f"group {name} no longer holds {', '.join(held)}")
    else:
        print(f"group {name} held none of {', '.join(checked)}: nothing changed")


@group_app.command("add-user")
@_one_line_errors
def group_add_user(
    name: GroupName,
    email: Email,
    read_only: Annotated[
        bool,
        typer.Option(
            "--read-only-member",
            help="The member may read, not change, the records the group owns.",
        ),
    ] = False,
    instance: InstanceName = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """Make a user a member of a group, so the group's permissions apply to them."""
    with _instance_store(instance, data_dir, database_url) as store, store.write() as conn:
        group_id = people.group_id_by_name(conn, name)
        user_id = people.user_id_by_email(conn, email)
        people.add_member(conn, group_id, user_id, writable=not read_only)
    if as_json:
        _emit_json(
            {
                "instance": store.name,
                "group": name,
                "email": email.strip(),
                "writable": not read_only,
            }
        )
    else:
        print(f"{email.strip()} is now a member of {name}")


@group_app.command("remove-user")
@_one_line_errors
def group_remove_user(
    name: GroupName,
    email: Email,
    instance: InstanceName = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """Take a user out of a group."""
    with _instance_store(instance, data_dir, database_url) as store, store.write() as conn:
        group_id = people.group_id_by_name(conn, name)
        user_id = people.user_id_by_email(conn, email)
        was = people.remove_member(conn, group_id, user_id)
    if as_json:
        _emit_json({"instance": store.name, "group": name, "email": email.strip(), "removed": was})
    elif was:
        print(f"{email.strip()} is no longer a member of {name}")
    else:
        print(f"{email.strip()} was not a member of {name}: nothing changed")
