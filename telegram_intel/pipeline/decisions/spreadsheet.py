"""``spreadsheet_row``: one row per order — to an Excel table through Microsoft Graph when
``TELEGRAM_INTEL_GRAPH_TOKEN`` / ``_ITEM_ID`` are set, else to the local workbook (``xlsx.py``, the embedded
default). Columns: ``settings.row_columns`` (date, customer, item, quantity, unit_price, total, note, ref); a Graph
table must have the same columns in that order."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from telegram_intel.lib.decisions import ROW_ARGUMENTS, SPREADSHEET_ROW, row_values
from telegram_intel.pipeline.decisions import graph_excel, xlsx
from telegram_intel.pipeline.decisions.actions import Action, ExecContext, PlanContext


class SpreadsheetRowAction(Action):
    name = SPREADSHEET_ROW
    description = ("Append one row to the orders spreadsheet for a message that places or records an order. "
                   "Arguments: item, customer, quantity, unit_price, total, note (numbers as numbers, unknown as "
                   "null).")
    arguments_schema = ROW_ARGUMENTS

    def plan(self, ctx: PlanContext) -> dict[str, Any]:
        args = dict(ctx.decision.arguments)
        args["ref"] = ctx.key
        columns = list(self.settings.row_columns)
        return {"backend": "graph" if self.settings.graph.configured else "xlsx", "columns": columns,
                "values": row_values(args, columns, ctx.created_at)}

    def summary(self, payload: Mapping[str, Any]) -> str:
        cells = dict(zip(payload["columns"], payload["values"]))
        qty = f"{cells.get('quantity')} × " if cells.get("quantity") not in (None, "") else ""
        total = f", total {cells.get('total')}" if cells.get("total") not in (None, "") else ""
        return f"spreadsheet row ({payload['backend']}): {qty}{cells.get('item')}{total}"

    def execute(self, payload: Mapping[str, Any], ctx: ExecContext) -> dict[str, Any]:
        if payload["backend"] == "graph":
            return graph_excel.append_row(self.settings.graph, payload["values"])
        return xlsx.append_row(self.settings.xlsx_path, payload["columns"], payload["values"])
