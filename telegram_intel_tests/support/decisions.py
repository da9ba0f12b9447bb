"""Shared test fixtures: decisions — contract fakes of WooCommerce (+ the WordPress media endpoint) and Microsoft
Graph's Excel table rows API, as real HTTP servers on 127.0.0.1.

Each fake checks what the documented API requires — auth header, method and path, payload shape — and answers what
the service answers (status codes, bodies). A request that breaks the contract gets the service's 400/401/404 *and*
is appended to ``server.violations``, so a test can assert ``server.violations == []`` as well as the outcome.

* ``FakeWooCommerce``: ``GET/POST /wp-json/wc/v3/products`` (``?sku=``), ``GET/POST
  /wp-json/wc/v3/products/categories`` (``?search=``) with HTTP Basic consumer key/secret; ``POST
  /wp-json/wp/v2/media`` with HTTP Basic WordPress user/application password, raw image body, ``Content-Type`` and
  ``Content-Disposition: attachment; filename=…``. Product fields checked against WooCommerce REST API v3's product
  properties (``status`` draft|pending|private|publish, ``regular_price`` a string, ``images`` ``[{id}|{src}]`` of
  uploaded media, ``categories`` ``[{id}]`` of existing ones, unique ``sku``).
* ``FakeGraph``: ``POST /v1.0/me/drive/items/{item-id}/workbook/tables/{table}/rows`` with ``Authorization: Bearer``,
  body ``{"values": [[…]]}`` (optionally ``index``), each row as long as the table's columns; 201 with the
  ``workbookTableRow``.
* ``fail(prefix, status, times)`` makes the next ``times`` requests under a path prefix answer ``status``;
  ``lose_answer(method, path)`` performs the next such request and then answers 502 (the answer was lost on the way).
"""

from __future__ import annotations

import base64
import io
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from telegram_intel.pipeline.decisions.config import DecisionSettings, GraphSettings, WooCommerceSettings

WC_KEY, WC_SECRET = "ck_test_4f1c9a77e2", "cs_test_b81d03aa95"
WP_USER, WP_APP_PASSWORD = "shopbot", "abcd EFGH ijkl MNOP qrst UVWX"
GRAPH_TOKEN = "eyJ0eXAiOi.test-graph-token"
GRAPH_ITEM, GRAPH_TABLE = "01ABCDEF2GHIJKLMNOPQ", "Orders"

WC_PRODUCT_FIELDS = {
    "name", "slug", "type", "status", "featured", "catalog_visibility", "description", "short_description", "sku",
    "regular_price", "sale_price", "date_on_sale_from", "date_on_sale_to", "virtual", "downloadable", "tax_status",
    "tax_class", "manage_stock", "stock_quantity", "stock_status", "backorders", "weight", "dimensions",
    "shipping_class", "reviews_allowed", "upsell_ids", "cross_sell_ids", "parent_id", "purchase_note", "categories",
    "tags", "images", "attributes", "default_attributes", "menu_order", "meta_data",
}


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@dataclass
class _Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")


class _Reply(Exception):
    def __init__(self, status: int, payload: Any) -> None:
        self.status, self.payload = status, payload


class ContractServer:
    """A threaded HTTP server on 127.0.0.1 that hands each request to ``handle`` under one lock."""

    def __init__(self) -> None:
        self.requests: list[_Request] = []
        self.violations: list[str] = []
        self._failures: list[list[Any]] = []  # [prefix, status, times]
        self._lose: list[str] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> ContractServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def fail(self, prefix: str, status: int, times: int = 1) -> None:
        with self._lock:
            self._failures.append([prefix, status, times])

    def lose_answer(self, method: str, path: str) -> None:
        """The next ``method path`` request is carried out, then answered 502 (the answer was lost)."""
        with self._lock:
            self._lose.append(f"{method} {path}")

    def violate(self, status: int, message: str, code: str = "rest_invalid_param") -> _Reply:
        self.violations.append(message)
        return _Reply(status, {"code": code, "message": message, "data": {"status": status}})

    def handle(self, request: _Request) -> tuple[int, Any]:
        raise NotImplementedError

    def _dispatch(self, request: _Request) -> tuple[int, Any]:
        with self._lock:
            self.requests.append(request)
            for failure in self._failures:
                if request.path.startswith(failure[0]) and failure[2] > 0:
                    failure[2] -= 1
                    return failure[1], {"code": "internal_server_error", "message": "injected failure"}
            lost = next((p for p in self._lose if p == f"{request.method} {request.path}"), None)
            if lost is not None:
                self._lose.remove(lost)
            try:
                status, payload = self.handle(request)
            except _Reply as reply:
                status, payload = reply.status, reply.payload
            if lost is not None:
                return 502, {"message": "bad gateway (the answer was lost)"}
            return status, payload

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                parts = urlsplit(self.path)
                request = _Request(self.command, unquote(parts.path), parse_qs(parts.query),
                                   {k.lower(): v for k, v in self.headers.items()}, self.rfile.read(length))
                status, payload = server._dispatch(request)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

        return Handler


class FakeWooCommerce(ContractServer):
    def __init__(self) -> None:
        super().__init__()
        self.products: list[dict[str, Any]] = []
        self.categories: list[dict[str, Any]] = [{"id": 15, "name": "Uncategorized", "slug": "uncategorized"}]
        self.media: dict[int, dict[str, Any]] = {}
        self._next_id = 100

    def _id(self) -> int:
        self._next_id += 1
        return self._next_id

    def handle(self, r: _Request) -> tuple[int, Any]:
        if r.path.startswith("/wp-json/wp/v2/"):
            if r.headers.get("authorization") != _basic(WP_USER, WP_APP_PASSWORD):
                raise self.violate(401, "media: not the WordPress application password", "rest_cannot_create")
            if (r.method, r.path) == ("POST", "/wp-json/wp/v2/media"):
                return self._upload(r)
        elif r.path.startswith("/wp-json/wc/v3/"):
            if r.headers.get("authorization") != _basic(WC_KEY, WC_SECRET):
                raise self.violate(401, "woocommerce: not the consumer key/secret", "woocommerce_rest_cannot_view")
            route = (r.method, r.path.rstrip("/"))
            if route == ("GET", "/wp-json/wc/v3/products"):
                sku = (r.query.get("sku") or [None])[0]
                return 200, [p for p in self.products if sku is None or p["sku"] == sku]
            if route == ("POST", "/wp-json/wc/v3/products"):
                return self._create_product(r)
            if route == ("GET", "/wp-json/wc/v3/products/categories"):
                search = (r.query.get("search") or [""])[0].lower()
                return 200, [c for c in self.categories if search in c["name"].lower()]
            if route == ("POST", "/wp-json/wc/v3/products/categories"):
                body = r.json()
                if not isinstance(body, dict) or not isinstance(body.get("name"), str) or not body["name"]:
                    raise self.violate(400, "category: name (string) is required")
                category = {"id": self._id(), "name": body["name"], "slug": body["name"].lower().replace(" ", "-")}
                self.categories.append(category)
                return 201, category
        raise self.violate(404, f"no route {r.method} {r.path}", "rest_no_route")

    def _upload(self, r: _Request) -> tuple[int, Any]:
        ctype = r.headers.get("content-type", "")
        disposition = r.headers.get("content-disposition", "")
        if not ctype.startswith("image/"):
            raise self.violate(400, f"media: Content-Type {ctype!r} is not an image", "rest_upload_invalid_type")
        match = re.match(r'attachment;\s*filename="?([^";]+)"?', disposition)
        if not match:
            raise self.violate(400, "media: Content-Disposition attachment; filename=… is required",
                               "rest_upload_no_content_disposition")
        if not r.body:
            raise self.violate(400, "media: empty body", "rest_upload_no_data")
        media_id = self._id()
        self.media[media_id] = {"id": media_id, "mime_type": ctype, "size": len(r.body), "filename": match.group(1)}
        return 201, {"id": media_id, "media_type": "image", "mime_type": ctype,
                     "source_url": f"{self.url}/wp-content/uploads/{match.group(1)}"}

    def _create_product(self, r: _Request) -> tuple[int, Any]:
        body = r.json()
        if not isinstance(body, dict):
            raise self.violate(400, "product: body must be a JSON object")
        unknown = set(body) - WC_PRODUCT_FIELDS
        if unknown:
            raise self.violate(400, f"product: unknown fields {sorted(unknown)}")
        if not isinstance(body.get("name"), str) or not body["name"]:
            raise self.violate(400, "product: name (string) is required")
        if body.get("status", "publish") not in ("draft", "pending", "private", "publish"):
            raise self.violate(400, f"product: invalid status {body.get('status')!r}")
        if body.get("type", "simple") not in ("simple", "grouped", "external", "variable"):
            raise self.violate(400, f"product: invalid type {body.get('type')!r}")
        for price in ("regular_price", "sale_price"):
            if price in body and not (isinstance(body[price], str) and re.fullmatch(r"\d+(\.\d+)?", body[price])):
                raise self.violate(400, f"product: {price} must be a decimal string, not {body[price]!r}")
        for image in body.get("images") or []:
            if not (isinstance(image, dict) and (image.get("id") in self.media or isinstance(image.get("src"), str))):
                raise self.violate(400, f"product: image {image!r} is neither an uploaded media id nor a src",
                                   "woocommerce_product_invalid_image_id")
        known = {c["id"] for c in self.categories}
        for category in body.get("categories") or []:
            if not (isinstance(category, dict) and category.get("id") in known):
                raise self.violate(400, f"product: category {category!r} does not exist")
        sku = body.get("sku")
        if sku is not None and (not isinstance(sku, str) or any(p["sku"] == sku for p in self.products)):
            raise self.violate(400, "Invalid or duplicated SKU.", "product_invalid_sku")
        product_id = self._id()
        product = {**body, "id": product_id, "status": body.get("status", "publish"), "sku": sku or "",
                   "permalink": f"{self.url}/?post_type=product&p={product_id}",
                   "images": [{"id": i.get("id"), "src": i.get("src")} for i in body.get("images") or []]}
        self.products.append(product)
        return 201, product


class FakeGraph(ContractServer):
    def __init__(self, columns: int = 8) -> None:
        super().__init__()
        self.columns = columns
        self.rows: list[list[Any]] = []

    def handle(self, r: _Request) -> tuple[int, Any]:
        if r.headers.get("authorization") != f"Bearer {GRAPH_TOKEN}":
            self.violations.append("graph: missing or wrong Bearer token")
            return 401, {"error": {"code": "InvalidAuthenticationToken", "message": "Access token is empty."}}
        match = re.fullmatch(r"/v1\.0/me/drive/items/([^/]+)/workbook/tables/([^/]+)/rows(?:/add)?", r.path)
        if r.method != "POST" or not match:
            raise self.violate(404, f"graph: no route {r.method} {r.path}", "itemNotFound")
        if match.group(1) != GRAPH_ITEM or match.group(2) != GRAPH_TABLE:
            raise self.violate(404, f"graph: no workbook table {match.group(1)}/{match.group(2)}", "itemNotFound")
        body = r.json()
        if not isinstance(body, dict) or set(body) - {"values", "index"}:
            raise self.violate(400, f"graph: body must be {{values, index?}}, got {body!r}", "InvalidArgument")
        values = body.get("values")
        if not (isinstance(values, list) and values and all(isinstance(v, list) for v in values)):
            raise self.violate(400, "graph: values must be a non-empty 2-D array", "InvalidArgument")
        if any(len(v) != self.columns for v in values):
            raise self.violate(400, f"graph: each row must have {self.columns} values", "InvalidArgument")
        index = len(self.rows)
        self.rows.extend(values)
        return 201, {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#workbookTableRow",
                     "index": index, "values": values}


@pytest.fixture
def woocommerce_server() -> Iterator[FakeWooCommerce]:
    server = FakeWooCommerce().start()
    yield server
    server.stop()


@pytest.fixture
def graph_server() -> Iterator[FakeGraph]:
    server = FakeGraph().start()
    yield server
    server.stop()


def woo_settings(server: FakeWooCommerce, *, media: bool = True) -> WooCommerceSettings:
    return WooCommerceSettings(url=server.url, consumer_key=WC_KEY, consumer_secret=WC_SECRET,
                               wp_user=WP_USER if media else None, wp_app_password=WP_APP_PASSWORD if media else "",
                               timeout_s=5)


def graph_settings(server: FakeGraph) -> GraphSettings:
    return GraphSettings(token=GRAPH_TOKEN, item_id=GRAPH_ITEM, table=GRAPH_TABLE, base_url=f"{server.url}/v1.0",
                         timeout_s=5)


@pytest.fixture
def decision_settings(tmp_path, woocommerce_server):
    """Settings factory: act mode, offline, the fake shop, a local workbook and media under ``tmp_path``;
    no backoff sleeps (``backoff_base_s=0``)."""

    def make(**overrides: Any) -> DecisionSettings:
        values: dict[str, Any] = dict(
            mode="act", woocommerce=woo_settings(woocommerce_server), xlsx_path=tmp_path / "orders.xlsx",
            media_dir=tmp_path / "media", action_attempts=2, backoff_base_s=0.0, backoff_max_s=0.0)
        values.update(overrides)
        return DecisionSettings(**values)

    return make


def jpeg_bytes(color: tuple[int, int, int] = (200, 30, 30), size: tuple[int, int] = (24, 16)) -> bytes:
    """A real JPEG (Pillow, matplotlib's dependency)."""
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, format="JPEG")
    return buf.getvalue()


@dataclass
class Album:
    """Parts of one album as Telegram delivers them: one message per photo, the caption on the first."""

    chat_id: int
    group: str
    caption: str
    first_id: int = 500
    count: int = 3
    sender_id: int = 42
    photos: list[bytes] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.photos:
            self.photos = [jpeg_bytes((60 * i % 255, 120, 200)) for i in range(self.count)]

    def parts(self):
        from telegram_intel.lib.decisions import MediaItem, MessagePart

        return [MessagePart(chat_id=self.chat_id, message_id=self.first_id + i, sender_id=self.sender_id,
                            text=self.caption if i == 0 else "", media_group_id=self.group,
                            media=(MediaItem("photo", f"file-{self.group}-{i}", f"uniq-{self.group}-{i}",
                                             file_size=len(self.photos[i]), width=24, height=16),))
                for i in range(self.count)]

    def contents(self) -> dict[str, bytes]:
        return {f"uniq-{self.group}-{i}": self.photos[i] for i in range(self.count)}
