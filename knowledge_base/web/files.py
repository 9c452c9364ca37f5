"""Importing and exporting the FAQs over HTTP (admins only): ``POST /api/v1/kb/import/validate``,
``POST /api/v1/kb/import`` (multipart ``file``; all or nothing) and ``GET /api/v1/kb/export``.

The gateway's body limit (256 KB) is far below a spreadsheet of thousands of FAQs, so the upload is
read part by part with its own cap (``MAX_UPLOAD_BYTES``) instead of through ``request.post()``.
A file that cannot be imported answers 422 with the row-by-row report
``{"errors": [{"line", "field", "reason"}], "rows": n}`` (plus the usual ``error`` object).
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import BadHttpMessage

from griddesk.db import session_scope
from griddesk.web.errors import ApiError
from griddesk.web.json import json_response
from knowledge_base import importer
from knowledge_base.curation.base import author_of
from knowledge_base.export import export_faqs
from knowledge_base.web.common import admin, refresh_index

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
# multipart framing around the file (boundaries, part headers) on top of the file itself
_FRAMING_BYTES = 64 * 1024
_CHUNK = 256 * 1024
MAX_LISTED = 1000  # errors listed in a report (the count says how many there are)
_ZONE = "Asia/Shanghai"
EXPORT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "jsonl": "application/x-ndjson; charset=utf-8",
}


async def read_upload(request: web.Request, field: str = "file") -> tuple[bytes, str]:
    """The bytes and file name of the multipart part ``field``, at most ``MAX_UPLOAD_BYTES`` (413 beyond)."""
    too_large = ApiError(413, "payload_too_large", f"文件超过 {MAX_UPLOAD_BYTES // (1024 * 1024)} MB。")
    if request.content_length is not None and request.content_length > MAX_UPLOAD_BYTES + _FRAMING_BYTES:
        raise too_large
    if not request.content_type.startswith("multipart/"):
        raise ApiError(415, "unsupported_media_type", "请以 multipart/form-data 上传文件（字段名 file）。")
    try:
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader) or part.name != field:
                continue
            data = bytearray()
            while chunk := await part.read_chunk(_CHUNK):
                data.extend(chunk)
                if len(data) > MAX_UPLOAD_BYTES:
                    raise too_large
            return bytes(data), part.filename or ""
    except (ValueError, BadHttpMessage):  # malformed framing, or a part header with control characters
        raise ApiError(400, "invalid_multipart", "上传内容不是有效的 multipart/form-data。") from None
    raise ApiError(422, "missing_file", "请选择要上传的文件（字段名 file）。")


def report_json(report: importer.ImportReport) -> dict[str, Any]:
    """The row-by-row report: ``{"ok", "rows", "errors": [{"line", "field", "reason"}], "warnings", …}``
    (``field``: the field as people name it, 标准问题, 答案…; "" for a whole row or the file)."""
    return report.as_dict(max_errors=MAX_LISTED)


def _invalid(report: dict[str, Any]) -> web.Response:
    count = report.get("error_count", len(report["errors"]))
    return json_response(
        {
            "error": {
                "code": "invalid_import",
                "message": f"文件有 {count} 处问题，没有导入任何内容；请按报告修改后重新上传",
            },
            **report,
        },
        status=422,
    )


async def post_validate(request: web.Request) -> web.Response:
    await admin(request)
    data, filename = await read_upload(request)
    report = await asyncio.to_thread(importer.validate_upload, data, filename)
    body = report_json(report)
    return json_response(body) if report.ok else _invalid(body)


def _import(data: bytes, filename: str, who: str) -> dict[str, Any]:
    """Validate, then write every row in one transaction, or nothing."""
    report = importer.validate_upload(data, filename)
    if not report.ok:
        return {"invalid": report_json(report)}
    with session_scope() as session:
        created, updated, unchanged = importer.write_rows(session, report.rows, author=who)
    return {"created": created, "updated": updated, "unchanged": unchanged, "rows": len(report.rows)}


async def post_import(request: web.Request) -> web.Response:
    principal = await admin(request)
    data, filename = await read_upload(request)
    result = await asyncio.to_thread(_import, data, filename, author_of(principal))
    if "invalid" in result:
        return _invalid(result["invalid"])
    refresh_index(request.app)
    return json_response(result)


def _export(fmt: str, archived: bool) -> bytes:
    with session_scope() as session:
        return export_faqs(session, fmt, include_archived=archived)


async def get_export(request: web.Request) -> web.Response:
    await admin(request)
    fmt = request.query.get("format", "csv")
    if fmt not in EXPORT_TYPES:
        raise ApiError(400, "invalid_parameter", "文件格式（format）：必须是 csv、xlsx 或 jsonl。", field="format")
    archived = request.query.get("archived", "") in {"1", "true"}
    data = await asyncio.to_thread(_export, fmt, archived)
    stamp = datetime.now(ZoneInfo(_ZONE)).strftime("%Y%m%d")
    return web.Response(
        body=data,
        headers={
            "Content-Type": EXPORT_TYPES[fmt],
            "Content-Disposition": f'attachment; filename="griddesk-faqs-{stamp}.{fmt}"',
            "Cache-Control": "no-store",
        },
    )


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/v1/kb/import/validate", post_validate)
    app.router.add_post("/api/v1/kb/import", post_import)
    app.router.add_get("/api/v1/kb/export", get_export)
