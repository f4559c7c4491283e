"""Handlers of the eight operations every node type offers, plus archive (GN1).

One set of functions serves all six types; ``routes.py`` binds them to each type's paths
and models. Each write runs in one transaction; a failure anywhere rolls all of it back.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Request
from starlette.responses import Response

from officina.core.clock import now
from officina.flow import changelog, node_view, nodes, search, tree
from officina.flow.body import Body
from officina.flow.context import Ctx
from officina.flow.errors import FlowError, not_found
from officina.flow.http import (
    check_if_match,
    check_path_id,
    created,
    etag_of,
    flag,
    ids_param,
    lock_row,
    no_content,
    ok,
    signed,
)
from officina.flow.node_models import CREATE_MODELS, PATCH_MODELS
from officina.flow.params import (
    REQUIRED,
    Flag,
    IdsQuery,
    NodeId,
    Reader,
    SearchBody,
    Table,
    Writer,
    path_id,
)
from officina.flow.tables import nodes as nodes_table

NOUNS = {
    "projectFolder": "project folder",
    "project": "project",
    "group": "group",
    "workPackage": "work package",
    "subWorkPackage": "sub work package",
    "task": "task",
}


def list_by_ids(ctx: Ctx, request: Request, node_type: str) -> Response:
    ids = ids_param(request, required=True) or []
    with ctx.store.read() as conn:
        return ok(node_view.fetch_ids(conn, node_type, ids))


def get_one(ctx: Ctx, node_type: str, node_id: str, name: str) -> Response:
    check_path_id(node_id, name)
    with ctx.store.read() as conn:
        found = node_view.fetch_one(conn, node_type, node_id)
    if found is None:
        raise not_found(NOUNS[node_type])
    return ok(found, headers={"ETag": etag_of(found)})


def create(
    ctx: Ctx, node_type: str, body: Body, collection: str, node_id: str | None = None
) -> Response:
    ts = now()
    with ctx.store.write() as conn:
        new_id = nodes.create(
            conn,
            node_type,
            body,
            ctx.user,
            ts,
            node_id,
            principal=ctx.principal,
            actor=changelog.actor(ctx),
        )
    return created(new_id, f"/{ctx.instance}/flow/api/v1/{collection}/{new_id}")


def put_create(
    ctx: Ctx, node_type: str, node_id: str, name: str, body: Body, collection: str
) -> Response:
    check_path_id(node_id, name)
    return create(ctx, node_type, body, collection, node_id)


def _row(conn: Any, node_type: str, node_id: str, request: Request) -> Any:
    row = tree.load(conn, node_id, node_type)
    if row is None:
        raise not_found(NOUNS[node_type])
    if request.headers.get("if-match") is not None:
        lock_row(conn, nodes_table.c.id, node_id)
        check_if_match(request, node_view.fetch_one(conn, node_type, node_id))
    return row


def patch(
    ctx: Ctx, request: Request, node_type: str, node_id: str, name: str, body: Body
) -> Response:
    check_path_id(node_id, name)
    ts = now()
    with ctx.store.write() as conn:
        row = _row(conn, node_type, node_id, request)
        nodes.patch(
            conn,
            node_type,
            row,
            body,
            ctx.user,
            ts,
            principal=ctx.principal,
            actor=changelog.actor(ctx),
        )
    return no_content()


def delete(ctx: Ctx, request: Request, node_type: str, node_id: str, name: str) -> Response:
    check_path_id(node_id, name)
    with ctx.store.write() as conn:
        row = _row(conn, node_type, node_id, request)
        tree.delete_subtree(conn, row, changelog.actor(ctx))
    return no_content()


def simple_search(
    ctx: Ctx, request: Request, node_type: str, ident: str, value: str | None
) -> Response:
    query = search.leaf(ident, value)
    return _search(ctx, request, node_type, query)


def complex_search(ctx: Ctx, request: Request, node_type: str, body: Any) -> Response:
    query = search.parse(body)
    return _search(ctx, request, node_type, query)


def _search(ctx: Ctx, request: Request, node_type: str, query: search.Query) -> Response:
    objects = flag(request, "yieldObjects")
    compiled = search.compile_nodes(node_type, query, ctx.store.dialect)
    if compiled.needs_root:
        with ctx.store.write() as conn:
            tree.ensure_root(conn, now(), changelog.actor(ctx))
    with ctx.store.read() as conn:
        return ok(search.run_nodes(conn, node_type, compiled, objects))


def set_archive(ctx: Ctx, node_id: str, value: str) -> Response:
    check_path_id(node_id, "nodeId")
    if value not in ("0", "1"):
        raise FlowError(
            400, "validation_error", "archive: must be 0 or 1", [("archive", "must be 0 or 1")]
        )
    ts = now()
    with ctx.store.write() as conn:
        row = tree.load(conn, node_id)
        if row is None:
            raise not_found("node")
        tree.set_archived(conn, row, value == "1", ctx.user, ts, changelog.actor(ctx))
    return no_content()


# (tag, collection path, node type, path parameter name)
NODE_RESOURCES = [
    ("Project folders", "projectFolders", "projectFolder", "projectFolderId"),
    ("Projects", "projects", "project", "projectId"),
    ("Groups", "groups", "group", "groupId"),
    ("Work packages", "workPackages", "workPackage", "workPackageId"),
    ("Sub work packages", "subWorkPackages", "subWorkPackage", "subWorkPackageId"),
    ("Tasks", "tasks", "task", "taskId"),
]


def _node_routes(t: Table, tag: str, coll: str, node_type: str, pid: str) -> None:
    create_model, patch_model = CREATE_MODELS[node_type], PATCH_MODELS[node_type]
    noun = NOUNS[node_type]
    item = f"/{coll}/{{{pid}}}"
    ident = ("ident", Annotated[str, Path()], REQUIRED)
    value = ("value", Annotated[str, Path()], REQUIRED)
    yield_objects = ("yieldObjects", Flag, None)

    def _by_ids(ctx: Ctx, request: Request, ids: Any = None) -> Response:
        return list_by_ids(ctx, request, node_type)

    def _search_ident(ctx: Ctx, request: Request, ident: str, **kw: Any) -> Response:
        return simple_search(ctx, request, node_type, ident, kw.get("value"))

    def _search_tree(ctx: Ctx, request: Request, body: Any, **_: Any) -> Response:
        return complex_search(ctx, request, node_type, body)

    def _create(ctx: Ctx, body: Any) -> Response:
        return create(ctx, node_type, body, coll)

    def _get(ctx: Ctx, **kw: Any) -> Response:
        return get_one(ctx, node_type, kw[pid], pid)

    def _put(ctx: Ctx, body: Any, **kw: Any) -> Response:
        return put_create(ctx, node_type, kw[pid], pid, body, coll)

    def _patch(ctx: Ctx, request: Request, body: Any, **kw: Any) -> Response:
        return patch(ctx, request, node_type, kw[pid], pid, body)

    def _delete(ctx: Ctx, request: Request, **kw: Any) -> Response:
        return delete(ctx, request, node_type, kw[pid], pid)

    req = ("request", Request, REQUIRED)
    the_id = (pid, path_id(f"UUID of the {noun}"), REQUIRED)
    name = node_type[0].upper() + node_type[1:]
    t.add(
        "GET",
        f"/{coll}",
        signed(_by_ids, f"get{name}s", [("ctx", Reader, REQUIRED), req, ("ids", IdsQuery, None)]),
        f"Gets {noun}s by ids",
        tag,
    )
    t.add(
        "POST",
        f"/{coll}",
        signed(
            _create, f"create{name}", [("ctx", Writer, REQUIRED), ("body", create_model, REQUIRED)]
        ),
        f"Creates a {noun}",
        tag,
        201,
    )
    for method in ("GET", "POST"):
        suffix = "" if method == "GET" else "Post"
        t.add(
            method,
            f"/{coll}/search/{{ident}}",
            signed(
                _search_ident,
                f"search{name}{suffix}",
                [("ctx", Reader, REQUIRED), req, ident, yield_objects],
            ),
            "Simple search",
            tag,
        )
        t.add(
            method,
            f"/{coll}/search/{{ident}}/{{value:path}}",
            signed(
                _search_ident,
                f"search{name}Value{suffix}",
                [("ctx", Reader, REQUIRED), req, ident, value, yield_objects],
            ),
            "Simple search",
            tag,
        )
    t.add(
        "POST",
        f"/{coll}/search",
        signed(
            _search_tree,
            f"complexSearch{name}",
            [("ctx", Reader, REQUIRED), req, ("body", SearchBody, REQUIRED), yield_objects],
        ),
        "Complex search",
        tag,
    )
    t.add(
        "GET",
        item,
        signed(_get, f"get{name}", [("ctx", Reader, REQUIRED), the_id]),
        f"Gets a {noun}",
        tag,
    )
    t.add(
        "PUT",
        item,
        signed(
            _put,
            f"put{name}",
            [("ctx", Writer, REQUIRED), the_id, ("body", create_model, REQUIRED)],
        ),
        f"Creates a {noun} (id in path)",
        tag,
        201,
    )
    t.add(
        "PATCH",
        item,
        signed(
            _patch,
            f"patch{name}",
            [("ctx", Writer, REQUIRED), req, the_id, ("body", patch_model, REQUIRED)],
        ),
        f"Patches a {noun}",
        tag,
        204,
    )
    t.add(
        "DELETE",
        item,
        signed(_delete, f"delete{name}", [("ctx", Writer, REQUIRED), req, the_id]),
        f"Deletes a {noun}",
        tag,
        204,
    )


def archive_subtree(
    ctx: Writer,
    nodeId: NodeId,
    archive: Annotated[str, Path(description="1 archives, 0 unarchives")],
) -> Response:
    """GN1: any node type; the whole subtree changes."""
    return set_archive(ctx, nodeId, archive)


def _general_routes(t: Table) -> None:
    t.add(
        "PUT",
        "/nodes/{nodeId}/archive/{archive}",
        archive_subtree,
        "Archive subtree",
        "General",
        204,
    )


def routes(t: Table) -> None:
    _general_routes(t)
    for tag, coll, node_type, pid in NODE_RESOURCES:
        _node_routes(t, tag, coll, node_type, pid)
