"""Append a row to a table of an Excel workbook in OneDrive / SharePoint through Microsoft Graph:
``POST {graph}/me/drive/items/{item-id}/workbook/tables/{table}/rows`` with ``{"values": [[…]]}`` and a Bearer token
(delegated permission ``Files.ReadWrite``). Graph answers ``201 Created`` with the new ``workbookTableRow``
(``index``, ``values``). Graph documents an occasional 504 for this call, to be repeated: 5xx and 429 are transient
(the engine retries them with backoff)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import httpx

from telegram_intel.pipeline.decisions.actions import ActionError, call, require_https
from telegram_intel.pipeline.decisions.config import GraphSettings


def append_row(settings: GraphSettings, values: Sequence[Any]) -> dict[str, Any]:
    if not settings.configured:
        raise ActionError("graph: TELEGRAM_INTEL_GRAPH_TOKEN and TELEGRAM_INTEL_GRAPH_ITEM_ID are not set")
    require_https(settings.base_url, "graph")
    path = (f"/me/drive/items/{quote(settings.item_id, safe='')}/workbook/tables/"
            f"{quote(settings.table, safe='')}/rows")
    with httpx.Client(base_url=settings.base_url.rstrip("/"), timeout=settings.timeout_s,
                      headers={"Authorization": f"Bearer {settings.token}", "Accept": "application/json"}) as client:
        row = call(client, "POST", path, "graph: add table row", ok=(200, 201), json={"values": [list(values)]})
    return {"backend": "graph", "table": settings.table, "index": row.get("index") if isinstance(row, dict) else None}
