"""``woocommerce_draft_product``: a draft product in a WooCommerce shop (REST API v3), images included.

* Products: ``POST {shop}/wp-json/wc/v3/products`` with ``status: "draft"``, ``type: "simple"``, ``name`` (the SEO
  title), ``description``, ``short_description``, ``regular_price`` (a string, as the API takes it), ``sku``,
  ``categories: [{"id": …}]`` and ``images: [{"id": …}]``; auth: the consumer key and secret as HTTP Basic over
  HTTPS (WooCommerce's documented method for HTTPS).
* Categories: found by ``GET …/products/categories?search=NAME`` (exact name match) or created with ``POST``.
* Images: uploaded first to the WordPress media endpoint, ``POST {shop}/wp-json/wp/v2/media`` with the bytes as the
  body, ``Content-Type`` the image's type and ``Content-Disposition: attachment; filename=…``; WordPress
  authenticates that endpoint with an application password (``TELEGRAM_INTEL_WORDPRESS_USER`` / ``_APP_PASSWORD``),
  not the WooCommerce keys. Without one the product is created without images and the result says so.
* Exactly once: the SKU is derived from the unit's idempotency key (``lib.decisions.make_sku``), and before creating
  the action looks the SKU up (``GET …/products?sku=…``); a product created by an attempt whose answer was lost
  (timeout, crash before the outcome was stored) is found and reused instead of created twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from telegram_intel.lib.decisions import DRAFT_PRODUCT, PRODUCT_ARGUMENTS, make_sku, seo_title
from telegram_intel.pipeline.decisions.actions import Action, ActionError, ExecContext, PlanContext, call, require_https

WC = "/wp-json/wc/v3"
WP = "/wp-json/wp/v2"


def _price(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return format(Decimal(str(value)).quantize(Decimal("0.01")), "f")


class DraftProductAction(Action):
    name = DRAFT_PRODUCT
    description = ("Create a DRAFT product in the WooCommerce shop from photos and a caption that offer an item. "
                   "Arguments: title, seo_title (≤ 60 chars), description (HTML allowed), short_description, "
                   "price (number or null), category (name or null).")
    arguments_schema = PRODUCT_ARGUMENTS

    def available(self) -> bool:
        return self.settings.woocommerce.configured

    def plan(self, ctx: PlanContext) -> dict[str, Any]:
        args = ctx.decision.arguments
        title = str(args["title"]).strip()
        product: dict[str, Any] = {
            "name": (args.get("seo_title") or seo_title(title)).strip(),
            "type": "simple",
            "status": "draft",
            "sku": make_sku(ctx.key, title, prefix=self.settings.sku_prefix),
            "description": str(args.get("description") or title),
            "short_description": str(args.get("short_description") or ""),
        }
        price = _price(args.get("price"))
        if price is not None:
            product["regular_price"] = price
        return {"product": product, "category": args.get("category") or None,
                "images": [m.as_dict() for m in ctx.media if m.mime.startswith("image/")]}

    def summary(self, payload: Mapping[str, Any]) -> str:
        p = payload["product"]
        price = f", {p['regular_price']}" if p.get("regular_price") else ""
        return f"draft product “{p['name']}”{price}, SKU {p['sku']}, {len(payload.get('images') or [])} image(s)"

    def _client(self) -> httpx.Client:
        s = self.settings.woocommerce
        return httpx.Client(base_url=s.url.rstrip("/"), auth=(s.consumer_key, s.consumer_secret),
                            timeout=s.timeout_s, headers={"Accept": "application/json"})

    def execute(self, payload: Mapping[str, Any], ctx: ExecContext) -> dict[str, Any]:
        s = self.settings.woocommerce
        if not s.configured:
            raise ActionError("woocommerce: TELEGRAM_INTEL_WOOCOMMERCE_URL / _CONSUMER_KEY / _CONSUMER_SECRET are "
                              "not set")
        require_https(s.url, "woocommerce")
        product = dict(payload["product"])
        with self._client() as client:
            found = call(client, "GET", f"{WC}/products", "woocommerce: look up SKU",
                         params={"sku": product["sku"], "status": "any"})
            if isinstance(found, list) and found:
                existing = found[0]
                return {"product_id": existing.get("id"), "sku": product["sku"], "status": existing.get("status"),
                        "reused": True, "media_ids": [i.get("id") for i in existing.get("images") or []]}
            result: dict[str, Any] = {"sku": product["sku"], "reused": False}
            media_ids, skipped = self._upload_images(payload.get("images") or [])
            if skipped:
                result["images_skipped"] = skipped
            if media_ids:
                product["images"] = [{"id": i} for i in media_ids]
            if payload.get("category"):
                product["categories"] = [{"id": self._category_id(client, str(payload["category"]))}]
            created = call(client, "POST", f"{WC}/products", "woocommerce: create product", json=product)
        result.update(product_id=created.get("id"), status=created.get("status"), media_ids=media_ids,
                      permalink=created.get("permalink"))
        return result

    def _category_id(self, client: httpx.Client, name: str) -> int:
        found = call(client, "GET", f"{WC}/products/categories", "woocommerce: find category",
                     params={"search": name, "per_page": 100})
        for category in found if isinstance(found, list) else []:
            if str(category.get("name", "")).strip().lower() == name.strip().lower():
                return int(category["id"])
        created = call(client, "POST", f"{WC}/products/categories", "woocommerce: create category",
                       json={"name": name})
        return int(created["id"])

    def _upload_images(self, images: list[Mapping[str, Any]]) -> tuple[list[int], str | None]:
        s = self.settings.woocommerce
        if not images:
            return [], None
        if not (s.wp_user and s.wp_app_password):
            return [], ("no WordPress application password (TELEGRAM_INTEL_WORDPRESS_USER / _APP_PASSWORD): "
                        f"{len(images)} image(s) not uploaded")
        ids: list[int] = []
        with httpx.Client(base_url=s.url.rstrip("/"), auth=(s.wp_user, s.wp_app_password),
                          timeout=s.timeout_s) as client:
            for n, image in enumerate(images, 1):
                path = Path(image["path"])
                try:
                    data = path.read_bytes()
                except OSError as error:
                    raise ActionError(f"woocommerce: image {n} is gone from {path}: {error.strerror}") from None
                ext = {"image/png": "png", "image/webp": "webp"}.get(image["mime"], "jpg")
                name = f"{image['sha256'][:16]}.{ext}"
                media = call(client, "POST", f"{WP}/media", f"wordpress: upload image {n}", content=data,
                             headers={"Content-Type": image["mime"],
                                      "Content-Disposition": f'attachment; filename="{name}"'})
                ids.append(int(media["id"]))
        return ids, None
