"""``officina init`` and the commands that create instances, users, API keys and
applications.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from officina.cli.common import (
    DEFAULT_ADMIN,
    AdminEmail,
    AsJson,
    CliError,
    DatabaseUrl,
    DataDir,
    InstanceName,
    _check_email,
    _emit_json,
    _instance_store,
    _one_line_errors,
    _open,
    _progress_printer,
    _settings,
    _store,
    _urls,
    _where,
    apikey_app,
    app,
    application_app,
    base_url,
    instance_app,
    show_credentials,
    user_app,
)
from officina.core import people
from officina.core.bootstrap import create_instance
from officina.core.store import Instances
from officina.settings import Settings

# -- init and instances -----------------------------------------------------------------


@app.command()
@_one_line_errors
def init(
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    admin_email: AdminEmail = DEFAULT_ADMIN,
    as_json: AsJson = False,
) -> None:
    """Create the store and instance 'main' with an admin; prints its credentials once."""
    settings = _settings(data_dir, database_url)
    with _open(settings, create=True) as instances:
        existing = instances.names()
        if existing:
            raise CliError(
                f"already initialised: {_where(settings)} holds instance(s) {', '.join(existing)}"
            )
        _created(settings, instances, settings.default_instance, admin_email, as_json)


def _created(
    settings: Settings,
    instances: Instances,
    name: str,
    email: str,
    as_json: bool,
    own_database: str | None = None,
) -> None:
    creds = create_instance(instances, name, _check_email(email), database_url=own_database)
    base = base_url(settings)
    urls = _urls(base, name, None)
    if as_json:
        _emit_json(
            {
                "instance": creds.instance,
                "email": creds.email,
                "password": creds.password,
                "api_key": creds.api_key,
                "base_url": base,
                "urls": urls,
            }
        )
    else:
        show_credentials(creds, base, urls, False)


@instance_app.command("create")
@_one_line_errors
def instance_create(
    name: Annotated[str, typer.Argument(help="Instance name: a-z, 0-9, '_' and '-'.")],
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    admin_email: AdminEmail = DEFAULT_ADMIN,
    own_database: Annotated[
        str | None,
        typer.Option(
            "--own-database",
            help="Place the instance in this PostgreSQL database (postgresql:// URL) "
            "instead of the server's store.",
        ),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Create an instance with an admin; prints its credentials once."""
    settings = _settings(data_dir, database_url)
    with _open(settings, create=True) as instances:
        _created(settings, instances, name, admin_email, as_json, own_database)


@instance_app.command("move")
@_one_line_errors
def instance_move(
    name: Annotated[str, typer.Argument(help="Instance to move.")],
    to: Annotated[str, typer.Option("--to", help="postgresql:// URL of its new database.")],
    grace: Annotated[
        float | None,
        typer.Option("--grace", help="Seconds to wait for running servers to follow."),
    ] = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """Move an instance into a database of its own; read-only (503) while it is copied."""
    import officina.migrations.models  # noqa: F401 - every face's tables
    from officina.core.backup import move

    settings = _settings(data_dir, database_url)
    with _open(settings) as instances:
        summary = move(instances, name, to, grace, _progress_printer(as_json))
    if as_json:
        _emit_json({"instance": name, "database_url": to, "rows": summary.rows})
    else:
        print(f"moved {name}: {summary.rows} rows now live in the new database")


@instance_app.command("list")
@_one_line_errors
def instance_list(
    data_dir: DataDir = None, database_url: DatabaseUrl = None, as_json: AsJson = False
) -> None:
    """List the instances of this store."""
    with _open(_settings(data_dir, database_url)) as instances:
        names = instances.names()
    if as_json:
        _emit_json(names)
    else:
        for name in names:
            print(name)


# -- users and API keys -----------------------------------------------------------------


@user_app.command("create")
@_one_line_errors
def user_create(
    email: Annotated[str, typer.Option("--email", help="E-mail address (also a login name).")],
    password: Annotated[
        str | None,
        typer.Option("--password", help="At least 8 characters; random when omitted."),
    ] = None,
    name: Annotated[
        str | None, typer.Option("--name", help="User name [part of the e-mail before @].")
    ] = None,
    admin: Annotated[bool, typer.Option("--admin", help="Make the user an admin.")] = False,
    group: Annotated[
        list[str] | None,
        typer.Option("--group", help="Make the user a member of this group (repeatable)."),
    ] = None,
    instance: InstanceName = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """Create a user; a generated password is printed once."""
    from officina.core.bootstrap import new_password

    secret = password if password is not None else new_password()
    with _instance_store(instance, data_dir, database_url) as store, store.write() as conn:
        user = people.create_user(conn, email=email, password=secret, name=name, admin=admin)
        group_ids = [people.group_id_by_name(conn, g) for g in group or []]
        for group_id in group_ids:
            people.add_member(conn, group_id, user.id, writable=True)
    data: dict[str, Any] = {
        "instance": store.name,
        "id": user.id,
        "uuid": user.uuid,
        "email": user.email,
        "name": user.name,
        "admin": admin,
        "groups": [g.strip() for g in group or []],
    }
    if password is None:
        data["password"] = secret
    if as_json:
        _emit_json(data)
        return
    role = "admin " if admin else ""
    print(f"created {role}user {user.name} <{user.email}> (ID {user.id}) in {store.name}")
    if group:
        print(f"member of: {', '.join(g.strip() for g in group)}")
    if password is None:
        print(f"password: {secret}")


@apikey_app.command("create")
@_one_line_errors
def apikey_create(
    email: Annotated[str, typer.Option("--email", help="E-mail of the key's user.")],
    label: Annotated[str, typer.Option("--label", help="A note to recognise the key.")] = "",
    instance: InstanceName = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """Create an API key (use as Basic api:<key>); the key is printed once."""
    with _instance_store(instance, data_dir, database_url) as store, store.write() as conn:
        key = people.create_api_key(conn, people.user_id_by_email(conn, email), label)
    if as_json:
        _emit_json({"instance": store.name, "email": email.strip(), "api_key": key})
    else:
        print(key)


@application_app.command("create")
@_one_line_errors
def application_create(
    name: Annotated[str, typer.Option("--name", help="Name shown on the consent page.")],
    identifier: Annotated[
        str, typer.Option("--identifier", help="The OAuth client_id: letters, digits, _ . -")
    ],
    callback: Annotated[
        list[str] | None,
        typer.Option("--callback", help="Allowed redirect URI (repeatable); HTTPS or loopback."),
    ] = None,
    restricted: Annotated[
        bool,
        typer.Option("--restricted", help="Only users granted this application may use it."),
    ] = False,
    instance: InstanceName = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """Register an application; its client_secret is printed once."""
    from officina.core.applications import create_application

    if not callback:
        raise CliError("at least one --callback URL is required")
    with _instance_store(instance, data_dir, database_url) as store, store.write() as conn:
        created = create_application(
            conn,
            name=name,
            identifier=identifier,
            callbacks=callback,
            restricted=restricted,
        )
    data = {
        "instance": store.name,
        "id": created.id,
        "name": created.name,
        "client_id": created.identifier,
        "client_secret": created.secret,
        "callbacks": list(created.callbacks),
        "restricted": restricted,
    }
    if as_json:
        _emit_json(data)
        return
    print(f"created application {created.name} (ID {created.id}) in {store.name}")
    print(f"client_id: {created.identifier}")
    print(f"client_secret: {created.secret}")
    print("keep the secret: it is not shown again")


# -- credentials: unlock, passwords, sessions, API keys ----------------------------------


Email = Annotated[str, typer.Option("--email", help="E-mail of the user.")]


@user_app.command("unlock")
@_one_line_errors
def user_unlock(
    email: Email,
    address: Annotated[
        str | None,
        typer.Option("--address", help="Also clear this client address's count across users."),
    ] = None,
    instance: InstanceName = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """Clear the failed sign-in counts of a user (and of one client address)."""
    from officina.core import throttle

    with _instance_store(instance, data_dir, database_url) as store:
        with store.read() as conn:
            people.user_id_by_email(conn, email)
        cleared = throttle.forget_account(store, email)
        if address:
            cleared += throttle.forget_address(store, address)
    if as_json:
        _emit_json({"instance": store.name, "email": email.strip(), "cleared": cleared})
    else:
        print(f"unlocked {email.strip()} in {store.name} ({cleared} counters cleared)")


@user_app.command("password")
@_one_line_errors
def user_password(
    email: Email,
    password: Annotated[
        str | None,
        typer.Option("--password", help="At least 8 characters; random when omitted."),
    ] = None,
    instance: InstanceName = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """Set a user's password; every session and sign-in token of the user ends."""
    from officina.core.bootstrap import new_password
    from officina.core.credentials import CredentialError, set_password

    secret = password if password is not None else new_password()
    with _instance_store(instance, data_dir, database_url) as store, store.write() as conn:
        try:
            ended = set_password(conn, people.user_id_by_email(conn, email), secret)
        except CredentialError as err:
            raise CliError(str(err)) from None
    data: dict[str, Any] = {"instance": store.name, "email": email.strip(), "ended": ended}
    if password is None:
        data["password"] = secret
    if as_json:
        _emit_json(data)
        return
    print(f"password of {email.strip()} set in {store.name}; {ended} sessions and tokens ended")
    if password is None:
        print(f"password: {secret}")


@user_app.command("sessions")
@_one_line_errors
def user_sessions(
    email: Email,
    instance: InstanceName = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """List a user's live cookie sessions and sign-in tokens."""
    from officina.core.credentials import list_sign_ins

    with _instance_store(instance, data_dir, database_url) as store, store.read() as conn:
        rows = list_sign_ins(conn, people.user_id_by_email(conn, email))
    if as_json:
        _emit_json(rows)
        return
    if not rows:
        print(f"{email.strip()} has no live sessions or sign-in tokens")
    for row in rows:
        where = row.get("ip") or row.get("application") or row.get("device") or ""
        print(f"{row['kind']:<13} {row['id']:>8}  created {row['created']}  {where}")


@user_app.command("revoke-tokens")
@_one_line_errors
def user_revoke_tokens(
    email: Email,
    api_keys: Annotated[
        bool, typer.Option("--api-keys", help="End the user's API keys as well.")
    ] = False,
    instance: InstanceName = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """End every cookie session and sign-in token of a user (API keys with --api-keys)."""
    from officina.core.credentials import end_sign_ins

    with _instance_store(instance, data_dir, database_url) as store, store.write() as conn:
        ended = end_sign_ins(conn, people.user_id_by_email(conn, email), api_keys)
    if as_json:
        _emit_json({"instance": store.name, "email": email.strip(), "ended": ended})
    else:
        print(f"ended {ended} sessions and tokens of {email.strip()} in {store.name}")


@apikey_app.command("list")
@_one_line_errors
def apikey_list(
    email: Annotated[str | None, typer.Option("--email", help="Only this user's keys.")] = None,
    instance: InstanceName = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """List API keys (their IDs and labels; a key itself is never shown again)."""
    from officina.core.credentials import list_api_keys

    with _instance_store(instance, data_dir, database_url) as store, store.read() as conn:
        user_id = people.user_id_by_email(conn, email) if email else None
        rows = list_api_keys(conn, user_id)
    if as_json:
        _emit_json(rows)
        return
    for row in rows:
        state = "revoked" if row["revoked"] else "live"
        print(f"{row['id']:>8}  {state:<7}  {row['email']}  {row['label']}")


@apikey_app.command("revoke")
@_one_line_errors
def apikey_revoke(
    key_id: Annotated[int, typer.Argument(help="ID of the key (see 'apikey list').")],
    instance: InstanceName = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """Revoke an API key; it stops working at the next request on every face."""
    from officina.core.credentials import revoke_api_key

    with _instance_store(instance, data_dir, database_url) as store, store.write() as conn:
        if not revoke_api_key(conn, key_id):
            raise CliError(f"no live API key with ID {key_id}")
    if as_json:
        _emit_json({"instance": store.name, "id": key_id, "revoked": True})
    else:
        print(f"revoked API key {key_id} in {store.name}")


@application_app.command("one-pair")
@_one_line_errors
def application_one_pair(
    state: Annotated[str, typer.Argument(help="'on' or 'off'.")],
    instance: InstanceName = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """'on': a new OAuth sign-in ends the user's earlier token pairs for that application
    (the vendor's rule); 'off' (the default): each sign-in keeps its own pair."""
    from sqlalchemy import delete, insert

    from officina.core.schema import instance_settings

    key = "oauth.one_pair"
    if state not in ("on", "off"):
        raise CliError(f"invalid state {state!r}: 'on' or 'off'")
    settings = _settings(data_dir, database_url)
    with _open(settings) as instances:
        store = _store(instances, instance or settings.default_instance)
        with store.write() as conn:
            conn.execute(delete(instance_settings).where(instance_settings.c.key == key))
            conn.execute(insert(instance_settings).values(key=key, value=state == "on"))
    if as_json:
        _emit_json({"instance": store.name, "one_pair": state == "on"})
    else:
        print(f"one token pair per user and application: {state} in {store.name}")
