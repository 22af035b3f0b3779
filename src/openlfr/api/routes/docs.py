"""``/openapi.json`` and ``/docs`` for logged-in users. The docs page is rendered on the server from the
OpenAPI schema: no script at all, so it works under the strict CSP and without internet access (Swagger UI
would need inline script and a CDN)."""

from __future__ import annotations

import html
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse

from openlfr.api.deps import require
from openlfr.api.permissions import Permission, permission_matrix

router = APIRouter(include_in_schema=False, dependencies=[require(Permission.AUTHENTICATED)])


@router.get("/openapi.json")
def openapi(request: Request) -> JSONResponse:
    return JSONResponse(request.app.openapi())


@router.get("/docs", response_class=HTMLResponse)
def docs(request: Request) -> HTMLResponse:
    schema: dict[str, Any] = request.app.openapi()
    rows = []
    permissions = {(row.method, row.path): row for row in permission_matrix(request.app)}
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            row = permissions.get((method.upper(), path))
            roles = ", ".join(sorted(r.value for r in row.roles)) if row else ""
            who = "anyone" if row and row.permission is Permission.PUBLIC else roles
            rows.append(
                "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>".format(
                    html.escape(method.upper()),
                    html.escape(path),
                    html.escape(operation.get("summary", "")),
                    html.escape(who),
                )
            )
    title = html.escape(f"{schema['info']['title']} API {schema['info']['version']}")
    body = (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{title}</title></head><body>"
        f"<h1>{title}</h1><p>Machine-readable schema: <a href=/openapi.json>/openapi.json</a>. "
        'Errors always have the shape <code>{"error": {"code", "message", "details"}}</code>.</p>'
        "<table><thead><tr><th>Method</th><th>Path</th><th>Summary</th><th>Allowed roles</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></body></html>"
    )
    return HTMLResponse(body)
