#!/usr/bin/env python3
"""zbsandbox: a local, stateful emulator of the BigCommerce and Zoho Books APIs used by zbsync.

One process, standard library only, bound to 127.0.0.1. It enforces the documented contracts of both
APIs (auth headers, envelopes, 204-on-empty, page limits, date formats, rate limits, token expiry and
refresh throttling, unique document numbers, draft rules, Zoho's own total computation), records every
request, injects faults on request and runs on a scalable clock. See README.md beside this file.
"""

from __future__ import annotations

import argparse
import base64
import bisect
import collections
import itertools
import json
import operator
import os
import re
import secrets
import signal
import socket
import sys
import threading
import time
import traceback
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import seed as seedlib  # noqa: E402

D = Decimal
ZERO = D("0")
HUNDRED = D("100")
MAX_BODY = 5 * 1024 * 1024


def r2(x: Decimal) -> Decimal:
    return x.quantize(D("0.01"), rounding=ROUND_HALF_UP)


# ------------------------------------------------------------------------------------------------ JSON
_DEC_RE = re.compile(r'"__dec__(-?[0-9.]+)__"')


def _json_default(o):
    if isinstance(o, Decimal):
        return f"__dec__{format(o, 'f')}__"
    if isinstance(o, (set, tuple)):
        return list(o)
    raise TypeError(f"not JSON serializable: {type(o).__name__}")


def dumps(obj) -> bytes:
    """JSON with `Decimal` written as exact JSON numbers."""
    text = json.dumps(obj, default=_json_default, ensure_ascii=False, separators=(",", ":"))
    return _DEC_RE.sub(r"\1", text).encode("utf-8")


def loads(raw: bytes | str):
    """JSON with numbers parsed as `Decimal` (never through a binary float)."""
    return json.loads(raw, parse_float=Decimal)


def to_dec(v, field: str = "value") -> Decimal:
    if isinstance(v, bool) or v is None:
        raise ValueError(field)
    try:
        d = D(str(v).strip())
    except (InvalidOperation, ValueError):
        raise ValueError(field) from None
    if not d.is_finite():
        raise ValueError(field)
    return d


def zoho_time(ts: float) -> str:
    return datetime.fromtimestamp(int(ts), timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+0000")


def zoho_date(ts: float) -> str:
    return datetime.fromtimestamp(int(ts), timezone.utc).strftime("%Y-%m-%d")


# ----------------------------------------------------------------------------------------------- clock
class Clock:
    """Sandbox time: `start + (wall elapsed) x scale + jumps`. All windows and expiries use it."""

    def __init__(self, scale: float = 1.0, start: float | None = None):
        self.scale = float(scale) if scale and scale > 0 else 1.0
        self._wall0 = time.monotonic()
        self._base = float(start if start is not None else int(time.time()))
        self._offset = 0.0

    def now(self) -> float:
        return self._base + (time.monotonic() - self._wall0) * self.scale + self._offset

    def advance(self, seconds: float):
        self._offset += float(seconds)

    def set(self, ts: float):
        self._offset += float(ts) - self.now()

    def wall_ms(self, sandbox_seconds: float) -> int:
        """Converts a sandbox duration into wall-clock milliseconds (what a client should sleep)."""
        return max(0, int(round(sandbox_seconds * 1000.0 / self.scale)))


# --------------------------------------------------------------------------------------- request log
class RequestLog:
    """Every API request (not control calls), in memory (bounded) and one line each in `requests.log`."""

    def __init__(self, path: str, keep: int = 200_000):
        self.entries: collections.deque = collections.deque(maxlen=keep)
        self.seq = 0
        self.path = path
        self._fh = open(path, "a", encoding="utf-8", buffering=1) if path else None

    def record(self, entry: dict) -> dict:
        self.seq += 1
        entry["seq"] = self.seq
        self.entries.append(entry)
        if self._fh:
            self._fh.write(
                f"{entry['seq']} t={entry['time']:.3f} {entry['api']} {entry['method']} {entry['path']}"
                f"{'?' + entry['query'] if entry['query'] else ''} -> {entry['status']}"
                f"{' code=' + str(entry['code']) if entry.get('code') is not None else ''}"
                f"{' fault=' + entry['fault'] if entry.get('fault') else ''}\n")
        return entry

    def note(self, line: str):
        if self._fh:
            self._fh.write(line.rstrip("\n") + "\n")

    def since(self, n: int) -> list:
        entries = self.entries
        if not entries:
            return []
        first, last = entries[0]["seq"], entries[-1]["seq"]
        if last - first == len(entries) - 1:
            # Consecutive sequence numbers (always, as `record` numbers them): take just the tail.
            take = min(len(entries), max(0, last - n))
            if take == 0:
                return []
            tail = list(itertools.islice(reversed(entries), take))
            tail.reverse()
            return tail
        return [e for e in entries if e["seq"] > n]

    def clear(self):
        self.entries.clear()


# -------------------------------------------------------------------------------------------- faults
FAULT_ACTIONS = {"drop_after_apply", "status_after_apply", "status", "truncate_after_apply", "garble", "delay",
                 "expire_token"}


class Faults:
    def __init__(self):
        self.rules: list[dict] = []
        self._next = 1

    def add(self, rule: dict) -> dict:
        if not isinstance(rule, dict):
            raise ValueError("a rule is an object")
        action = rule.get("action")
        if action not in FAULT_ACTIONS:
            raise ValueError(f"unknown action {action!r}; one of {sorted(FAULT_ACTIONS)}")
        match = rule.get("match") or {}
        if not isinstance(match, dict):
            raise ValueError("match is an object")
        for key in ("path_regex", "query_regex"):
            if match.get(key):
                re.compile(match[key])
        times = rule.get("times", 1)
        r = {
            "id": self._next, "match": {k: match.get(k) for k in ("api", "method", "path_regex", "query_regex")
                                        if match.get(k) is not None},
            "action": action, "status": rule.get("status"), "code": rule.get("code"),
            "message": rule.get("message"), "body": rule.get("body"), "seconds": rule.get("seconds", 1.0),
            "times": None if times in (None, -1, "unlimited") else int(times), "after": int(rule.get("after", 0)),
            "seen": 0, "fired": 0, "fired_seqs": [],
        }
        self._next += 1
        self.rules.append(r)
        return r

    def check(self, api: str, method: str, path: str, query: str) -> dict | None:
        chosen = None
        for r in self.rules:
            m = r["match"]
            if m.get("api") not in (None, "*", api):
                continue
            if m.get("method") and m["method"].upper() != method:
                continue
            if m.get("path_regex") and not re.search(m["path_regex"], path):
                continue
            if m.get("query_regex") and not re.search(m["query_regex"], query):
                continue
            r["seen"] += 1
            if chosen is None and r["seen"] > r["after"] and (r["times"] is None or r["fired"] < r["times"]):
                r["fired"] += 1
                chosen = r
        return chosen

    def clear(self):
        self.rules.clear()


# ------------------------------------------------------------------------------------------- replies
class Reply:
    __slots__ = ("status", "body", "headers", "code", "drop", "fault", "applied", "org")

    def __init__(self, status: int, body=None, headers: dict | None = None, code=None):
        self.status = status
        self.headers = dict(headers or {})
        if body is None:
            self.body = b""
        elif isinstance(body, (bytes, bytearray)):
            self.body = bytes(body)
        else:
            self.body = dumps(body)
            self.headers.setdefault("Content-Type", "application/json; charset=utf-8")
        self.code = code
        self.drop = False
        self.fault = None
        self.applied = True
        self.org = None


class Request:
    def __init__(self, method, path, query_string, headers, body):
        self.method = method
        self.path = path
        self.query_string = query_string
        self.q = {k: v[-1] for k, v in parse_qs(query_string, keep_blank_values=True).items()}
        self.headers = headers
        self.body = body

    def header(self, name, default=None):
        return self.headers.get(name, default)


class ApiError(Exception):
    def __init__(self, status: int, code: int, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


# ====================================================================================== BigCommerce
BC_STATUS_DESC = {i: n for i, n in seedlib.STATUS_NAMES.items()}


def parse_bc_date(value: str, allow_naive: bool = False) -> float:
    """RFC 2822 (`Tue, 05 Mar 2019 21:40:11 +0000`) or ISO 8601 with an offset -> unix seconds."""
    v = (value or "").strip()
    if not v:
        raise ValueError("empty date")
    if re.match(r"^[A-Za-z]{3},", v) or re.match(r"^\d{1,2} [A-Za-z]{3} \d{4}", v):
        try:
            dt = parsedate_to_datetime(v)
        except (TypeError, ValueError, IndexError):
            raise ValueError(v) from None
        if dt is None or dt.tzinfo is None:
            raise ValueError(v)
        return dt.timestamp()
    if re.match(r"^\d{4}-\d{2}-\d{2}$", v):
        if not allow_naive:
            raise ValueError(v)
        return datetime.fromisoformat(v).replace(tzinfo=timezone.utc).timestamp()
    if not re.match(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$", v):
        raise ValueError(v)
    try:
        dt = datetime.fromisoformat(v.replace(" ", "T", 1) if "T" not in v else v)
    except ValueError:
        raise ValueError(v) from None
    if dt.tzinfo is None:
        if not allow_naive:
            raise ValueError(v)
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


class BigCommerce:
    """BigCommerce store: v2 orders (+ sub-resources), v3 transactions, refunds and customers. Read-only API."""

    def __init__(self, sb: "Sandbox", plan: seedlib.StorePlan):
        self.sb = sb
        self.plan = plan
        self.store_hash = plan.store_hash
        self.overrides: dict[int, dict] = {}
        self.cache: collections.OrderedDict = collections.OrderedDict()
        self.cache_max = 20000
        # oid -> [created, modified, status, customer_id, is_deleted]
        self.index: dict[int, list] = {oid: [sk["created"], sk["modified"], sk["status"], sk["customer_id"], False]
                                       for oid, sk in plan.orders.items()}
        self.refunds: dict[int, dict] = {}   # rid -> {order_id, created}; only through _add_refund_meta
        self._refund_ids: list[int] = []     # every refund id, ascending
        self._refunds_of: dict[int, list[int]] = {}  # order id -> its refund ids, ascending
        for slot in plan.refund_slots:
            self._add_refund_meta(slot["id"], slot["order_id"], slot["created"])
        self.customers: dict[int, dict] = {cid: dict(c) for cid, c in plan.customers.items()}
        self.window_start = None
        self.window_used = 0
        self._sorted: dict = {}  # (field, desc) -> ids in that order; cleared whenever an order changes

    # -------------------------------------------------------------- data access
    def order(self, oid: int) -> dict | None:
        if oid in self.overrides:
            return self.overrides[oid]
        if oid not in self.index:
            return None
        o = self.cache.get(oid)
        if o is None:
            o = self.plan.order(oid)
            self.cache[oid] = o
            if len(self.cache) > self.cache_max:
                self.cache.popitem(last=False)
        return o

    def _own(self, oid: int) -> dict:
        """A mutable copy of an order that stays in memory (edits)."""
        if oid not in self.overrides:
            self.overrides[oid] = self.order(oid)
            self.cache.pop(oid, None)
        return self.overrides[oid]

    def _reindex(self, o: dict):
        self.index[o["id"]] = [o["_created"], o["_modified"], o["status_id"], o["customer_id"], o["is_deleted"]]
        self._sorted.clear()

    def _add_refund_meta(self, rid: int, oid: int, created):
        old = self.refunds.get(rid)
        if old is not None:
            self._refund_ids.remove(rid)
            self._refunds_of[old["order_id"]].remove(rid)
        self.refunds[rid] = {"order_id": oid, "created": created}
        bisect.insort(self._refund_ids, rid)
        bisect.insort(self._refunds_of.setdefault(oid, []), rid)

    def refund(self, rid: int) -> dict | None:
        meta = self.refunds.get(rid)
        if not meta:
            return None
        o = self.order(meta["order_id"])
        return next((r for r in o["_refunds"] if r["id"] == rid), None) if o else None

    # -------------------------------------------------------------- rendering
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.sb.port}/stores/{self.store_hash}"

    def _link(self, oid: int, sub: str, res: str | None = None) -> dict:
        return {"url": f"{self.base_url()}/v2/orders/{oid}/{sub}", "resource": f"/orders/{oid}/{res or sub}"}

    def render_order(self, o: dict, include: set, object_structure: bool) -> dict:
        d = {k: v for k, v in o.items() if not k.startswith("_")}
        d["date_created"] = seedlib.rfc2822(o["_created"])
        d["date_modified"] = seedlib.rfc2822(o["_modified"])
        oid = o["id"]
        d["products"] = self._link(oid, "products")
        d["shipping_addresses"] = self._link(oid, "shipping_addresses", "shippingaddresses")
        d["coupons"] = self._link(oid, "coupons")
        if "consignments" in include or "consignments.line_items" in include:
            full = "consignments.line_items" in include
            shipping = []
            for s in o["_shipping"]:
                c = {k: v for k, v in s.items() if k not in ("order_id", "form_fields")}
                c["line_items"] = ([dict(p) for p in o["_products"] if p["order_address_id"] == s["id"]] if full
                                   else {"url": f"{self.base_url()}/v2/orders/{oid}/products",
                                         "resource": f"/orders/{oid}/products"})
                c["shipping_quotes"] = self._link(oid, f"shipping_addresses/{s['id']}/shipping_quotes")
                shipping.append(c)
            structure = {"shipping": shipping, "pickups": [], "downloads": [], "email": {"gift_certificates": []}}
            d["consignments"] = structure if object_structure else [structure]
        else:
            d["consignments"] = self._link(oid, "consignments")
        d["fees"] = [dict(f) for f in o["_fees"]] if "fees" in include else self._link(oid, "fees")
        # Raw overrides (control endpoint `raw` / `raw_unset`): the API shows exactly these, whatever they are.
        for key in o.get("_raw_unset") or ():
            d.pop(key, None)
        d.update(o.get("_raw") or {})
        return d

    @staticmethod
    def public(obj: dict) -> dict:
        return {k: v for k, v in obj.items() if not k.startswith("_")}

    def render_customer(self, c: dict, with_addresses: bool) -> dict:
        d = {k: v for k, v in c.items() if not k.startswith("_")}
        d["date_created"] = seedlib.iso_z(c["_created"])
        d["date_modified"] = seedlib.iso_z(c["_modified"])
        d["authentication"] = {"force_password_reset": False}
        d["address_count"] = 1 if c.get("_city") else 0
        d["attribute_count"] = 0
        if with_addresses:
            d["addresses"] = self._addresses(c)
        return d

    @staticmethod
    def _addresses(c: dict) -> list:
        if not c.get("_city"):
            return []
        city = c["_city"]
        return [{"id": c["id"] * 10 + 1, "customer_id": c["id"], "first_name": c["first_name"],
                 "last_name": c["last_name"], "company": c.get("company", ""), "address1": c.get("_street", ""),
                 "address2": "", "city": city[0], "state_or_province": city[1], "postal_code": city[2],
                 "country_code": city[4], "country": city[3], "phone": c.get("phone", ""),
                 "address_type": "residential", "form_fields": []}]

    # -------------------------------------------------------------- errors
    @staticmethod
    def v2_error(status: int, message: str) -> Reply:
        return Reply(status, [{"status": status, "message": message}])

    @staticmethod
    def v3_error(status: int, title: str, errors: dict | None = None) -> Reply:
        body = {"status": status, "title": title, "type": "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes"}
        if errors is not None:
            body["errors"] = errors
        return Reply(status, body)

    def error(self, version: str, status: int, message: str) -> Reply:
        return self.v2_error(status, message) if version == "v2" else self.v3_error(status, message)

    # -------------------------------------------------------------- rate limit
    def rate_headers(self, now: float, count: bool = True) -> tuple[dict, bool]:
        cfg = self.sb.cfg
        window = float(cfg.bc_window)
        if self.window_start is None or now >= self.window_start + window or now < self.window_start:
            self.window_start = now  # a window opens with the first request after the previous one closed
            self.window_used = 0
        allowed = self.window_used < cfg.bc_quota
        if allowed and count:
            self.window_used += 1
        left = max(0, cfg.bc_quota - self.window_used)
        reset = self.sb.clock.wall_ms(self.window_start + window - now)
        return ({"X-Rate-Limit-Requests-Left": str(left), "X-Rate-Limit-Requests-Quota": str(cfg.bc_quota),
                 "X-Rate-Limit-Time-Reset-Ms": str(reset),
                 "X-Rate-Limit-Time-Window-Ms": str(self.sb.clock.wall_ms(window))}, allowed)

    # -------------------------------------------------------------- dispatch
    def handle(self, req: Request, now: float) -> Reply:
        m = re.match(r"^/stores/([^/]+)/(v2|v3)(/.*)?$", req.path)
        if not m:
            return self.v2_error(404, "The requested resource was not found.")
        store_hash, version, rest = m.group(1), m.group(2), (m.group(3) or "/").rstrip("/") or "/"
        if store_hash != self.store_hash or req.header("X-Auth-Token") != self.sb.cfg.bc_token:
            r = self.error(version, 404, "The requested store was not found.") if store_hash != self.store_hash \
                else self.error(version, 401, "You are not authorized: missing or invalid X-Auth-Token.")
            r.headers.update(self.rate_headers(now, count=False)[0])
            return r
        headers, allowed = self.rate_headers(now)
        if not allowed:
            r = self.error(version, 429, "Too many requests: the store's rate limit quota is exhausted.")
            r.headers.update(headers)
            r.headers["X-Retry-After"] = str(max(1, int(headers["X-Rate-Limit-Time-Reset-Ms"]) // 1000))
            return r
        if version == "v2" and "application/json" not in (req.header("Accept") or ""):
            r = self.v2_error(406, "The requested content type is not acceptable: send Accept: application/json.")
        elif req.method != "GET":
            r = self.error(version, 405, "The sandbox BigCommerce store is read-only through the API.")
        else:
            try:
                r = self.route(version, rest, req, now)
            except ValueError as e:
                r = self.error(version, 400 if version == "v2" else 422, f"Invalid request: {e}")
        r.headers.update(headers)
        return r

    def route(self, version: str, rest: str, req: Request, now: float) -> Reply:
        q = req.q
        if version == "v2":
            if rest == "/time":
                return Reply(200, {"time": int(now)})
            if rest == "/orders":
                return self.list_orders(q)
            if rest == "/orders/count":
                return self.count_orders(q)
            if rest == "/order_statuses":
                return Reply(200, [{"id": i, "name": n, "system_label": n, "custom_label": n,
                                    "system_description": n, "order": i} for i, n in BC_STATUS_DESC.items()])
            m = re.match(r"^/orders/(\d+)(?:/(products|taxes|coupons|shipping_addresses|fees)(?:/(\d+))?)?$", rest)
            if not m:
                return self.v2_error(404, "The requested resource was not found.")
            o = self.order(int(m.group(1)))
            if o is None:
                return self.v2_error(404, "The requested resource was not found.")
            sub = m.group(2)
            if sub is None:
                inc, obj = self._includes(q)
                return Reply(200, self.render_order(o, inc, obj))
            if sub == "products":
                if m.group(3):
                    p = next((p for p in o["_products"] if p["id"] == int(m.group(3))), None)
                    return Reply(200, dict(p)) if p else self.v2_error(404, "The requested resource was not found.")
                return self._page_v2([dict(p) for p in o["_products"]], q)
            if m.group(3):
                return self.v2_error(404, "The requested resource was not found.")
            if sub == "taxes":
                if q.get("details") == "true":
                    rows = [dict(t) for t in o["_taxes"]]
                else:
                    agg: dict = {}
                    for t in o["_taxes"]:
                        key = (t["name"], t["rate"])
                        if key not in agg:
                            a = {k: v for k, v in t.items() if k not in ("order_product_id", "line_item_type")}
                            a["line_amount"] = a["priority_amount"] = "0.0000"
                            a["id"] = o["id"] * 10 + len(agg) + 1
                            agg[key] = a
                        a = agg[key]
                        a["line_amount"] = seedlib.m4(D(a["line_amount"]) + D(t["line_amount"]))
                        a["priority_amount"] = a["line_amount"]
                    rows = list(agg.values())
                return self._page_v2(rows, q)
            if sub == "coupons":
                return self._page_v2([dict(c) for c in o["_coupons"]], q)
            if sub == "shipping_addresses":
                rows = []
                for s in o["_shipping"]:
                    s = dict(s)
                    s["shipping_quotes"] = self._link(o["id"], f"shipping_addresses/{s['id']}/shipping_quotes")
                    rows.append(s)
                return self._page_v2(rows, q)
            if sub == "fees":
                return Reply(200, {"fees": [dict(f) for f in o["_fees"]]})
        # v3
        if rest == "/customers":
            return self.list_customers(q)
        if rest == "/orders/payment_actions/refunds":
            return self.list_refunds(q, None)
        m = re.match(r"^/orders/payment_actions/refunds/(\d+)$", rest)
        if m:
            r = self.refund(int(m.group(1)))
            return Reply(200, {"data": self.public(r), "meta": {}}) if r else self.v3_error(404, "Refund not found")
        m = re.match(r"^/orders/(\d+)/payment_actions/refunds$", rest)
        if m:
            if self.order(int(m.group(1))) is None:
                return self.v3_error(404, "Order not found")
            return self.list_refunds(q, int(m.group(1)))
        m = re.match(r"^/orders/(\d+)/transactions$", rest)
        if m:
            o = self.order(int(m.group(1)))
            if o is None:
                return self.v3_error(404, "Order not found")
            txs = [self.public(t) for t in o["_transactions"]]
            if not txs:
                return Reply(204)
            return Reply(200, {"data": txs, "meta": {"pagination": self._pagination(len(txs), len(txs), len(txs), 1)}})
        return self.v3_error(404, "The requested resource was not found.")

    # -------------------------------------------------------------- helpers
    @staticmethod
    def _int(q: dict, name: str, default=None, lo=None):
        if name not in q or q[name] == "":
            return default
        try:
            v = int(q[name])
        except ValueError:
            raise ValueError(f"{name} must be an integer") from None
        if lo is not None and v < lo:
            raise ValueError(f"{name} must be >= {lo}")
        return v

    def _limit(self, q: dict, default=50) -> int | Reply:
        limit = self._int(q, "limit", default, lo=1)
        if limit > 250:
            return -1
        return limit

    def _page_v2(self, rows: list, q: dict) -> Reply:
        limit = self._limit(q)
        if limit == -1:
            return self.v2_error(413, "The limit must be 250 or less.")
        page = self._int(q, "page", 1, lo=1)
        chunk = rows[(page - 1) * limit: page * limit]
        return Reply(200, chunk) if chunk else Reply(204)

    @staticmethod
    def _includes(q: dict) -> tuple[set, bool]:
        inc = {s.strip() for s in (q.get("include") or "").split(",") if s.strip()}
        return inc, q.get("consignment_structure") == "object"

    SORT_FIELDS = {"id": None, "date_created": 0, "date_modified": 1, "status_id": 2, "customer_id": 3}

    def _sorted_ids(self, field: str, desc: bool) -> list[int]:
        key = (field, desc)
        ids = self._sorted.get(key)
        if ids is None:
            col = self.SORT_FIELDS[field]
            index = self.index
            ids = sorted(index, key=(lambda i: i) if col is None else (lambda i: (index[i][col], i)), reverse=desc)
            self._sorted[key] = ids
        return ids

    def _filter_orders(self, q: dict, order: list[int] | None = None, by_id: bool | None = None,
                       want: int | None = None) -> list[int]:
        """The ids of the orders matching `q`, in the order of `order` (default: the index's).

        `by_id` (False ascending, True descending) says `order` is sorted by id, so `min_id` / `max_id` are
        found by bisection instead of a scan; `want` stops the scan once that many match (a page needs no
        more). Neither changes the result's first `want` ids."""
        min_id, max_id = self._int(q, "min_id"), self._int(q, "max_id")
        status = self._int(q, "status_id")
        cust = self._int(q, "customer_id")
        bounds = {}
        for key in ("min_date_created", "max_date_created", "min_date_modified", "max_date_modified"):
            if q.get(key):
                try:
                    bounds[key] = parse_bc_date(q[key])
                except ValueError:
                    raise ValueError(f"{key} must be an RFC 2822 or ISO 8601 date with a UTC offset, got {q[key]!r}") \
                        from None
        hide_archived = self.sb.cfg.hide_archived
        out = []
        index = self.index
        candidates = order if order is not None else index
        if order is not None and by_id is not None and (min_id is not None or max_id is not None):
            if not by_id:
                lo = bisect.bisect_left(order, min_id) if min_id is not None else 0
                hi = bisect.bisect_right(order, max_id) if max_id is not None else len(order)
            else:
                lo = bisect.bisect_left(order, -max_id, key=operator.neg) if max_id is not None else 0
                hi = bisect.bisect_right(order, -min_id, key=operator.neg) if min_id is not None else len(order)
            candidates = (order[i] for i in range(lo, hi))
        if q.get("min_total") or q.get("max_total") or q.get("email"):
            want = None  # those filters read whole orders (and may fail on any of them): keep the full scan
        for oid in candidates:
            if want is not None and len(out) >= want:
                break
            cr, mo, st, cid, deleted = index[oid]
            if min_id is not None and oid < min_id or max_id is not None and oid > max_id:
                continue
            if status is not None and st != status or cust is not None and cid != cust:
                continue
            if hide_archived and deleted:
                continue
            if bounds:
                if "min_date_created" in bounds and cr < bounds["min_date_created"]:
                    continue
                if "max_date_created" in bounds and cr > bounds["max_date_created"]:
                    continue
                if "min_date_modified" in bounds and mo < bounds["min_date_modified"]:
                    continue
                if "max_date_modified" in bounds and mo > bounds["max_date_modified"]:
                    continue
            out.append(oid)
        for key, cmp in (("min_total", lambda a, b: a >= b), ("max_total", lambda a, b: a <= b)):
            if q.get(key):
                bound = to_dec(q[key], key)
                out = [oid for oid in out if cmp(D(self.order(oid)["total_inc_tax"]), bound)]
        if q.get("email"):
            e = q["email"].lower()
            out = [oid for oid in out if self.order(oid)["billing_address"].get("email", "").lower() == e]
        return out

    def list_orders(self, q: dict) -> Reply:
        limit = self._limit(q)
        if limit == -1:
            return self.v2_error(413, "The limit must be 250 or less.")
        page = self._int(q, "page", 1, lo=1)
        sort = q.get("sort") or "id"
        field, _, direction = sort.partition(":")
        direction = direction or "asc"
        if field not in self.SORT_FIELDS or direction not in ("asc", "desc"):
            raise ValueError(f"unsupported sort {sort!r}")
        desc = direction == "desc"
        ids = self._filter_orders(q, self._sorted_ids(field, desc), by_id=desc if field == "id" else None,
                                  want=page * limit)
        chunk = ids[(page - 1) * limit: page * limit]
        if not chunk:
            return Reply(204)
        inc, obj = self._includes(q)
        return Reply(200, [self.render_order(self.order(i), inc, obj) for i in chunk])

    def count_orders(self, q: dict) -> Reply:
        ids = self._filter_orders(q)
        counts = collections.Counter(self.index[i][2] for i in ids)
        statuses = [{"id": i, "name": n, "system_label": n, "custom_label": n, "system_description": n,
                     "count": counts.get(i, 0), "sort_order": i} for i, n in BC_STATUS_DESC.items()]
        return Reply(200, {"statuses": statuses, "count": len(ids)})

    @staticmethod
    def _pagination(total, count, per_page, page, extra_links=None) -> dict:
        pages = max(1, -(-total // per_page)) if per_page else 1
        links = {"current": f"?page={page}&limit={per_page}"}
        if page > 1:
            links["previous"] = f"?page={page - 1}&limit={per_page}"
        if page < pages:
            links["next"] = f"?page={page + 1}&limit={per_page}"
        return {"total": total, "count": count, "per_page": per_page, "current_page": page, "total_pages": pages,
                "links": links}

    def list_refunds(self, q: dict, order_id: int | None) -> Reply:
        limit = self._limit(q)
        if limit == -1:
            return self.v3_error(413, "The limit must be 250 or less.")
        page = self._int(q, "page", 1, lo=1)
        lo = hi = None
        try:
            if q.get("created:min"):
                lo = parse_bc_date(q["created:min"])
            if q.get("created:max"):
                hi = parse_bc_date(q["created:max"])
        except ValueError:
            return self.v3_error(422, "Invalid date: created:min/created:max take RFC 3339 date-times with an offset",
                                 {"created": "invalid date-time"})
        ids_in = {int(x) for x in q["id:in"].split(",") if x.strip()} if q.get("id:in") else None
        orders_in = {int(x) for x in q["order_id:in"].split(",") if x.strip()} if q.get("order_id:in") else None
        rows = []
        # Ascending ids: one order's refunds from its own list, else all of them.
        for rid in (self._refunds_of.get(order_id, ()) if order_id is not None else self._refund_ids):
            meta = self.refunds[rid]
            if order_id is not None and meta["order_id"] != order_id:
                continue
            if ids_in is not None and rid not in ids_in or orders_in is not None and meta["order_id"] not in orders_in:
                continue
            if lo is not None and meta["created"] < lo or hi is not None and meta["created"] > hi:
                continue
            rows.append(rid)
        if q.get("transaction_id"):
            rows = [rid for rid in rows if any(p["transaction_id"] == q["transaction_id"]
                                               for p in self.refund(rid)["payments"])]
        chunk = rows[(page - 1) * limit: page * limit]
        data = [self.public(self.refund(rid)) for rid in chunk]
        return Reply(200, {"data": data, "meta": {"pagination": self._pagination(len(rows), len(data), limit, page)}})

    @staticmethod
    def _cursor(key) -> str:
        return base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode().rstrip("=")

    @staticmethod
    def _uncursor(s: str):
        try:
            return tuple(json.loads(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))))
        except (ValueError, TypeError):
            raise ValueError("invalid cursor") from None

    def list_customers(self, q: dict) -> Reply:
        limit = self._limit(q)
        if limit == -1:
            return self.v3_error(413, "The limit must be 250 or less.")
        page = self._int(q, "page", 1, lo=1)
        rows = list(self.customers.values())
        try:
            for key, field, cmp in (("date_modified:min", "_modified", lambda a, b: a >= b),
                                    ("date_modified:max", "_modified", lambda a, b: a <= b),
                                    ("date_created:min", "_created", lambda a, b: a >= b),
                                    ("date_created:max", "_created", lambda a, b: a <= b)):
                if q.get(key):
                    bound = parse_bc_date(q[key], allow_naive=True)
                    rows = [c for c in rows if cmp(c[field], bound)]
        except ValueError as e:
            return self.v3_error(422, "The filter date is invalid", {"date": f"invalid date {e}"})
        if q.get("id:in"):
            try:
                ids = {int(x) for x in q["id:in"].split(",") if x.strip()}
            except ValueError:
                return self.v3_error(422, "id:in must be a list of integers", {"id:in": "invalid"})
            rows = [c for c in rows if c["id"] in ids]
        if q.get("email:in"):
            emails = {x.strip().lower() for x in q["email:in"].split(",") if x.strip()}
            rows = [c for c in rows if c["email"].lower() in emails]
        sort = q.get("sort") or "id:asc"
        field, _, direction = sort.partition(":")
        skey = {"id": lambda c: (c["id"],), "date_modified": lambda c: (c["_modified"], c["id"]),
                "date_created": lambda c: (c["_created"], c["id"]),
                "last_name": lambda c: (c["last_name"], c["id"])}.get(field)
        if skey is None or direction not in ("asc", "desc", ""):
            return self.v3_error(422, f"Unsupported sort {sort!r}", {"sort": "invalid"})
        desc = direction == "desc"
        rows.sort(key=skey, reverse=desc)
        with_addr = "addresses" in (q.get("include") or "").split(",")
        meta: dict = {}
        after, before = q.get("after"), q.get("before")
        if after or before:
            c = self._uncursor(after or before)
            if after:
                sel = [r for r in rows if (skey(r) < c if desc else skey(r) > c)][:limit]
                more = len([r for r in rows if (skey(r) < c if desc else skey(r) > c)]) > limit
                has_prev = True
            else:
                prior = [r for r in rows if (skey(r) > c if desc else skey(r) < c)]
                sel = prior[-limit:]
                more = True
                has_prev = len(prior) > limit
            current = f"?{'after' if after else 'before'}={after or before}&limit={limit}"
        else:
            sel = rows[(page - 1) * limit: page * limit]
            more = page * limit < len(rows)
            has_prev = page > 1
            current = f"?page={page}&limit={limit}"
            meta["pagination"] = self._pagination(len(rows), len(sel), limit, page)
        if after or before or page == 1:
            start = self._cursor(skey(sel[0])) if sel else None
            end = self._cursor(skey(sel[-1])) if sel else None
            links = {"current": current}
            if more and end:
                links["next"] = f"?after={end}&limit={limit}"
            if has_prev and start:
                links["previous"] = f"?before={start}&limit={limit}"
            meta["cursor_pagination"] = {"count": len(sel), "per_page": limit, "start_cursor": start,
                                         "end_cursor": end, "links": links}
        return Reply(200, {"data": [self.render_customer(c, with_addr) for c in sel], "meta": meta})

    # -------------------------------------------------------------- control (writes from tests)
    def control_order(self, body: dict, now: float) -> dict:
        raw_update = _raw_from_body(body)
        oid = body.get("id")
        ts_mod = None
        if body.get("date_modified") is not None:
            ts_mod = _ts(body["date_modified"])
        if oid is not None and int(oid) in self.index:
            oid = int(oid)
            o = self._own(oid)
            if "lines" in body or "spec" in body:
                spec = self.plan.spec_for(oid) if oid in self.plan.orders else dict(o.get("_spec") or {})
                spec.update(_spec_from_body(body))
                spec["id"], spec["created"] = oid, o["_created"]
                refunds = o["_refunds"]
                raw = {k: o[k] for k in ("_raw", "_raw_unset") if k in o}
                o = seedlib.build_order(spec, self.store_hash)
                o["_spec"] = spec
                o.update(raw)
                for r in refunds:
                    seedlib.add_refund(o, r)
                self.overrides[oid] = o
            for key in ("status_id", "is_deleted", "payment_status", "customer_message", "staff_notes",
                        "customer_id", "payment_method"):
                if key in body:
                    o[key] = body[key]
            if "status_id" in body:
                o["status_id"] = int(body["status_id"])
                o["status"] = o["custom_status"] = seedlib.STATUS_NAMES.get(o["status_id"], "Unknown")
            if isinstance(body.get("billing_address"), dict):
                o["billing_address"] = {**o["billing_address"], **body["billing_address"]}
            o["_modified"] = int(ts_mod if ts_mod is not None else now)
        else:
            oid = int(oid) if oid is not None else (max(self.index) + 1 if self.index else self.plan.first_order_id)
            spec = self._random_spec(oid, now)
            spec.update(_spec_from_body(body))
            spec["id"] = oid
            if body.get("date_created") is not None:
                spec["created"] = int(_ts(body["date_created"]))
            o = seedlib.build_order(spec, self.store_hash)
            o["_spec"] = spec
            o["_modified"] = int(ts_mod if ts_mod is not None else max(now, o["_created"]))
            self.overrides[oid] = o
        o.update(raw_update)
        self._reindex(o)
        return self.render_order(o, {"consignments.line_items", "fees"}, True) | {
            "_transactions": [self.public(t) for t in o["_transactions"]]}

    def _random_spec(self, oid: int, now: float) -> dict:
        """A fresh order for a registered customer (or a guest) built like the seeded ones."""
        import random
        rng = random.Random(f"new:{self.plan.seed}:{oid}")
        cid = rng.choice(list(self.customers)) if self.customers else 0
        sk = {"id": oid, "status": 11, "created": int(now), "modified": int(now), "customer_id": cid,
              "scenario": {}, "guest": ("guest.new%d@mail.example.net" % oid, "New", "Guest")}
        saved = self.plan.orders.get(oid)
        self.plan.orders[oid] = sk
        try:
            if cid and cid not in self.plan.customers:
                self.plan.customers[cid] = self.customers[cid]
            spec = self.plan.spec_for(oid)
        finally:
            if saved is None:
                del self.plan.orders[oid]
            else:
                self.plan.orders[oid] = saved
        spec["refund_kind"] = None
        return spec

    def control_refund(self, body: dict, now: float) -> dict:
        oid = int(body["order_id"])
        if oid not in self.index:
            raise KeyError(f"order {oid} does not exist")
        o = self._own(oid)
        rid = self._refund_ids[-1] + 1 if self._refund_ids else 1
        created = int(_ts(body["created"])) if body.get("created") is not None else int(now)
        refund = seedlib.build_refund(o, body, rid, created)
        seedlib.add_refund(o, refund)
        self._add_refund_meta(rid, oid, created)
        refunded = sum((D(str(r["total_amount"])) for r in o["_refunds"]), ZERO)
        full = refunded >= D(o["total_inc_tax"])
        o["status_id"] = 4 if full else 14
        o["status"] = o["custom_status"] = seedlib.STATUS_NAMES[o["status_id"]]
        o["payment_status"] = "refunded" if full else "partially refunded"
        o["_modified"] = max(o["_modified"], created) if body.get("bump", True) else o["_modified"]
        self._reindex(o)
        return self.public(refund)

    def control_transaction(self, body: dict, now: float) -> dict:
        oid = int(body["order_id"])
        if oid not in self.index:
            raise KeyError(f"order {oid} does not exist")
        o = self._own(oid)
        k = 100 + len(o["_transactions"])
        t = seedlib._tx(o, k, body.get("event", "purchase"), to_dec(body.get("amount", o["total_inc_tax"]), "amount"),
                        body.get("status", "ok"), body.get("method", "credit_card"), body.get("gateway", "stripe"),
                        int(now), body.get("reference_transaction_id"))
        o["_transactions"].append(t)
        if body.get("bump", False):
            o["_modified"] = int(now)
            self._reindex(o)
        return self.public(t)

    def control_customer(self, body: dict, now: float) -> dict:
        cid = body.get("id")
        if cid is not None and int(cid) in self.customers:
            c = self.customers[int(cid)]
        else:
            cid = int(cid) if cid is not None else (max(self.customers) + 1 if self.customers else 1)
            if not body.get("email"):
                raise ValueError("a new customer needs an email")
            c = {"id": cid, "email": "", "first_name": "", "last_name": "", "company": "", "phone": "", "notes": "",
                 "tax_exempt_category": "", "customer_group_id": 0, "_created": int(now), "_modified": int(now),
                 "registration_ip_address": "", "_city": seedlib.CITIES[0], "_street": "1 Main St",
                 "accepts_product_review_abandoned_cart_emails": False, "origin_channel_id": 1, "channel_ids": [1]}
            self.customers[cid] = c
        for key in ("email", "first_name", "last_name", "company", "phone", "notes"):
            if key in body:
                c[key] = body[key]
        c["_modified"] = int(_ts(body["date_modified"])) if body.get("date_modified") is not None else int(now)
        return self.render_customer(c, True)

    def summary(self) -> dict:
        statuses = collections.Counter(v[2] for v in self.index.values())
        return {"store_hash": self.store_hash, "orders": len(self.index),
                "order_ids": [min(self.index), max(self.index)] if self.index else [],
                "by_status": {str(k): v for k, v in sorted(statuses.items())}, "refunds": len(self.refunds),
                "customers": len(self.customers), "edited_orders": sorted(self.overrides),
                "scenarios": self.plan.features}


def _raw_from_body(body: dict) -> dict:
    """The order's raw overrides from a control body, checked before anything changes.

    `raw: {field: value}` replaces top-level fields of the rendered v2 order verbatim (any JSON, `null`
    included); `raw_unset: [field]` leaves fields out. Both stay until replaced; `{}` / `[]` clear them.
    Filters, sorting and paging keep using the order's real values."""
    out = {}
    if "raw" in body:
        raw = body["raw"] or {}
        if not isinstance(raw, dict):
            raise ValueError("raw must be an object of field -> value")
        out["_raw"] = dict(raw)
    if "raw_unset" in body:
        unset = body["raw_unset"] or []
        if not isinstance(unset, list) or not all(isinstance(k, str) for k in unset):
            raise ValueError("raw_unset must be a list of field names")
        out["_raw_unset"] = list(unset)
    return out


def _ts(v) -> float:
    if isinstance(v, (int, float, Decimal)) and not isinstance(v, bool):
        return float(v)
    return parse_bc_date(str(v), allow_naive=True)


def _spec_from_body(body: dict) -> dict:
    """Maps a control-endpoint order body onto a `seed.build_order` spec."""
    spec = dict(body.get("spec") or {})
    simple = {"customer_id": int, "status_id": int, "currency": str, "inclusive": bool, "tax_name": str,
              "payment": str, "gateway": str, "payment_method": str, "customer_message": str,
              "shipping_taxed": bool, "is_deleted": bool}
    for key, typ in simple.items():
        if key in body:
            spec[key] = typ(body[key])
    for key in ("tax_pct", "shipping", "handling", "fee", "store_credit", "gift_certificate", "manual_discount"):
        if key in body:
            spec[key] = to_dec(body[key], key)
    if "coupon" in body:
        c = body["coupon"]
        spec["coupon"] = None if not c else {"code": c.get("code", "SAVE10"), "pct": to_dec(c.get("pct", 10)),
                                              "type": 1, "name": c.get("name", "Coupon")}
    if "lines" in body:
        # Explicit lines: everything not given is plain (no discounts, charges or extra tenders).
        for key, default in (("coupon", None), ("manual_discount", ZERO), ("shipping", ZERO), ("handling", ZERO),
                             ("fee", ZERO), ("store_credit", ZERO), ("gift_certificate", ZERO), ("currency", "USD"),
                             ("inclusive", False), ("shipping_taxed", True), ("tax_pct", D("8.875")),
                             ("tax_name", "NY State Sales Tax")):
            spec.setdefault(key, default)
        lines = []
        for i, l in enumerate(body["lines"]):
            lines.append({"product_id": int(l.get("product_id", 500 + i)), "variant_id": l.get("variant_id"),
                          "name": l.get("name", f"Product {i + 1}"), "sku": l.get("sku", ""),
                          "price": to_dec(l.get("price", "10.00"), "price"), "quantity": int(l.get("quantity", 1)),
                          "options": l.get("options", []), "wrap": to_dec(l["wrap"]) if l.get("wrap") else None,
                          "bundle": l.get("bundle") or []})
        spec["lines"] = lines
    if "billing_address" in body or "email" in body:
        b = dict(spec.get("billing") or {})
        b.update(body.get("billing_address") or {})
        if "email" in body:
            b["email"] = body["email"]
        for k in ("first_name", "last_name", "company", "street_1", "street_2", "city", "state", "zip", "country",
                  "country_iso2", "phone", "email"):
            b.setdefault(k, "")
        b.setdefault("form_fields", [])
        spec["billing"] = b
    if spec.get("customer_id") == 0 and "billing" not in spec:
        spec["billing"] = {"first_name": "Guest", "last_name": "Shopper", "email": "guest@mail.example.net"}
    if "payment" in spec and spec["payment"] == "manual":
        spec.setdefault("payment_method", "Manual")
    return spec


# ========================================================================================= Zoho Books
CURRENCIES = [("USD", "US Dollar", "$"), ("EUR", "Euro", "€"), ("GBP", "Pound Sterling", "£"),
              ("CAD", "Canadian Dollar", "$"), ("AUD", "Australian Dollar", "$")]
ACCOUNTS = [("Undeposited Funds", "cash"), ("Petty Cash", "cash"), ("Business Checking", "bank"),
            ("Stripe Clearing", "bank"), ("Sales", "income"), ("Shipping Charge", "income"),
            ("General Income", "income"), ("Discount", "income"), ("Accounts Receivable", "accounts_receivable"),
            ("Sales Tax Payable", "other_current_liability")]


def compute_totals(lines: list[dict], taxes: dict, inclusive: bool, shipping: Decimal, adjustment: Decimal,
                   rounding: str = "item_level") -> dict:
    """Zoho's document total computation (see README "Totals").

    `lines`: dicts with `rate`, `quantity` (Decimal), optional `discount` ("10%" string = percent of
    rate x quantity; a number = an amount) or `discount_amount` (an amount; wins over `discount`), optional
    `tax_id` (a key of `taxes`: {tax_id: {"tax_name", "tax_percentage"}}).
    Returns per-line results and the document's sub_total, tax_total, taxes[], total.
    """
    out_lines = []
    per_tax_raw: dict[str, Decimal] = {}
    per_tax_rounded: dict[str, Decimal] = {}
    sum_items = ZERO
    for line in lines:
        gross = line["rate"] * line["quantity"]
        disc = ZERO
        disc_str = None
        if line.get("discount_amount") is not None:
            disc = to_dec(line["discount_amount"], "discount_amount")
        elif line.get("discount") not in (None, ""):
            dv = line["discount"]
            if isinstance(dv, str) and dv.strip().endswith("%"):
                pct = to_dec(dv.strip()[:-1], "discount")
                disc = gross * pct / HUNDRED
                disc_str = f"{pct}%"
            else:
                disc = to_dec(dv, "discount")
        item_total = r2(gross - disc)
        tax_raw = ZERO
        tax_id = line.get("tax_id") or ""
        if tax_id:
            p = taxes[tax_id]["tax_percentage"]
            tax_raw = item_total * p / (HUNDRED + p) if inclusive else item_total * p / HUNDRED
            per_tax_raw[tax_id] = per_tax_raw.get(tax_id, ZERO) + tax_raw
            per_tax_rounded[tax_id] = per_tax_rounded.get(tax_id, ZERO) + r2(tax_raw)
        sum_items += item_total
        out_lines.append({"item_total": item_total, "discount_amount": r2(disc), "discount_display": disc_str,
                          "tax_amount": r2(tax_raw)})
    if rounding == "entity_level":
        per_tax = {t: r2(v) for t, v in per_tax_raw.items()}
    else:
        per_tax = per_tax_rounded
    tax_total = sum(per_tax.values(), ZERO)
    sub_total = sum_items - tax_total if inclusive else sum_items
    total = r2(sum_items + (ZERO if inclusive else tax_total) + shipping + adjustment)
    return {"lines": out_lines, "sub_total": r2(sub_total), "tax_total": r2(tax_total),
            "taxes": [{"tax_id": t, "tax_name": taxes[t]["tax_name"], "tax_amount": a} for t, a in per_tax.items()],
            "total": total}


_NO_IDS: frozenset = frozenset()


def primary_person(c: dict) -> dict | None:
    """A contact's primary contact person (its email, names and phone are the contact's)."""
    return next((p for p in c["contact_persons"] if p["is_primary_contact"]), None)


class KeyIndex:
    """Document id -> key, and key -> the ids with that key. Kept in step with every change of the documents
    (the `Org.index_*` methods), so uniqueness checks and lookups need no scan of the whole table."""

    def __init__(self):
        self.key_of: dict[str, str] = {}
        self.ids_of: dict[str, set] = {}

    def set(self, did: str, key: str):
        old = self.key_of.get(did)
        if old == key and did in self.key_of:
            return
        if did in self.key_of:
            self._drop(did, old)
        self.key_of[did] = key
        self.ids_of.setdefault(key, set()).add(did)

    def _drop(self, did: str, old: str):
        ids = self.ids_of.get(old)
        if ids is not None:
            ids.discard(did)
            if not ids:
                del self.ids_of[old]

    def get(self, key: str):
        """The ids whose key equals `key` (do not mutate)."""
        return self.ids_of.get(key, _NO_IDS)

    def __contains__(self, key: str) -> bool:
        return key in self.ids_of


class TextIndex(KeyIndex):
    """A `KeyIndex` over lower-cased text plus a trigram index, so `contains` / `startswith` searches start from
    a small superset of the matches instead of every document. The search itself still checks every candidate."""

    N = 3

    def __init__(self):
        super().__init__()
        self.grams: dict[str, set] = {}

    @classmethod
    def _grams(cls, text: str) -> set:
        return {text[i:i + cls.N] for i in range(len(text) - cls.N + 1)}

    def set(self, did: str, key: str):
        old = self.key_of.get(did)
        if old == key and did in self.key_of:
            return
        if did in self.key_of:
            for g in self._grams(old):
                ids = self.grams.get(g)
                if ids is not None:
                    ids.discard(did)
                    if not ids:
                        del self.grams[g]
        super().set(did, key)
        for g in self._grams(key):
            self.grams.setdefault(g, set()).add(did)

    def candidates(self, needle: str) -> set | None:
        """Ids whose text may contain `needle` (lower-cased): a superset of the matches, or None when the
        needle is too short to narrow anything (then every document is a candidate)."""
        grams = self._grams(needle)
        if not grams:
            return None
        sets = sorted((self.grams.get(g, _NO_IDS) for g in grams), key=len)
        out = set(sets[0])
        for s in sets[1:]:
            if not out:
                break
            out &= s
        return out


class Org:
    def __init__(self, books: "ZohoBooks", org_id: str, name: str, tax_specs: list):
        self.books = books
        self.organization_id = org_id
        self.name = name
        self.tax_rounding = books.sb.cfg.tax_rounding
        self.currencies: dict[str, dict] = {}
        for code, cname, sym in CURRENCIES:
            cid = books.new_id()
            self.currencies[cid] = {"currency_id": cid, "currency_code": code, "currency_name": f"{code}- {cname}",
                                    "currency_symbol": sym, "price_precision": 2, "currency_format": "1,234,567.89",
                                    "is_base_currency": code == "USD",
                                    "exchange_rate": {"USD": D("1"), "EUR": D("1.08"), "GBP": D("1.27"),
                                                      "CAD": D("0.73"), "AUD": D("0.66")}[code],
                                    "effective_date": "2026-01-01"}
        self.base_currency_id = next(c for c, v in self.currencies.items() if v["is_base_currency"])
        self.accounts: dict[str, dict] = {}
        for aname, atype in ACCOUNTS:
            aid = books.new_id()
            self.accounts[aid] = {"account_id": aid, "account_name": aname, "account_type": atype, "is_active": True,
                                  "currency_id": self.base_currency_id, "currency_code": "USD",
                                  "account_code": "", "description": ""}
        self.taxes: dict[str, dict] = {}
        for tname, pct in tax_specs:
            self.add_tax({"tax_name": tname, "tax_percentage": pct})
        self.contacts: dict[str, dict] = {}
        self.items: dict[str, dict] = {}
        self.invoices: dict[str, dict] = {}
        self.creditnotes: dict[str, dict] = {}
        self.payments: dict[str, dict] = {}
        self.counters = collections.Counter()
        # limits
        self.window: collections.deque = collections.deque()
        self.daily: dict[str, int] = {}
        # Indexes over the documents, so no request scans a whole table. Documents are stored only through
        # `insert`, and every change of an indexed field is followed by the matching `index_*` call.
        self._pos: dict[str, int] = {}          # document id -> position in its table (insertion order)
        self.contact_email = TextIndex()        # lower-cased email of the primary contact person ("" if none)
        self.contact_name = TextIndex()         # lower-cased contact_name
        self.contact_name_key = KeyIndex()      # contact_name stripped and lower-cased (duplicate-name check)
        self.item_name_key = KeyIndex()         # item name stripped and lower-cased (duplicate-name check)
        self.invoice_number = TextIndex()       # lower-cased invoice_number
        self.invoice_ref = TextIndex()          # lower-cased reference_number
        self.invoice_customer = KeyIndex()      # customer_id
        self.cn_number = TextIndex()            # lower-cased creditnote_number
        self.cn_ref = TextIndex()               # lower-cased reference_number
        self.cn_customer = KeyIndex()           # customer_id
        self.payment_ref = TextIndex()          # lower-cased reference_number
        self.payment_customer = KeyIndex()      # customer_id

    # ------------------------------------------------------------------ document indexes
    def insert(self, table: dict, did: str, doc: dict):
        """Stores a new document and indexes it."""
        table[did] = doc
        self._pos.setdefault(did, len(self._pos))
        if table is self.contacts:
            self.index_contact(doc)
        elif table is self.items:
            self.index_item(doc)
        elif table is self.invoices:
            self.index_invoice(doc)
        elif table is self.creditnotes:
            self.index_creditnote(doc)
        elif table is self.payments:
            self.index_payment(doc)

    def ordered(self, table: dict, ids) -> list:
        """The documents of `table` with these ids, in the table's (insertion) order; every document for None."""
        if ids is None:
            return list(table.values())
        pos = self._pos
        return [table[i] for i in sorted(ids, key=pos.__getitem__)]

    def index_contact(self, c: dict):
        cid = c["contact_id"]
        if self.contacts.get(cid) is not c:
            return  # not stored (yet)
        primary = primary_person(c)
        self.contact_email.set(cid, str(primary["email"] if primary else "").lower())
        self.contact_name.set(cid, str(c["contact_name"]).lower())
        self.contact_name_key.set(cid, str(c["contact_name"]).strip().lower())

    def index_item(self, item: dict):
        iid = item["item_id"]
        if self.items.get(iid) is not item:
            return
        self.item_name_key.set(iid, str(item["name"]).strip().lower())

    def index_invoice(self, inv: dict):
        iid = inv["invoice_id"]
        if self.invoices.get(iid) is not inv:
            return
        self.invoice_number.set(iid, str(inv["invoice_number"]).lower())
        self.invoice_ref.set(iid, str(inv["reference_number"]).lower())
        self.invoice_customer.set(iid, inv["customer_id"])

    def index_creditnote(self, cn: dict):
        cid = cn["creditnote_id"]
        if self.creditnotes.get(cid) is not cn:
            return
        self.cn_number.set(cid, str(cn["creditnote_number"]).lower())
        self.cn_ref.set(cid, str(cn["reference_number"]).lower())
        self.cn_customer.set(cid, cn["customer_id"])

    def index_payment(self, p: dict):
        pid = p["payment_id"]
        if self.payments.get(pid) is not p:
            return
        self.payment_ref.set(pid, str(p["reference_number"]).lower())
        self.payment_customer.set(pid, p["customer_id"])

    def check_indexes(self):
        """Rebuilds every index from the tables and raises AssertionError if a kept one differs (tests)."""
        fresh = Org.__new__(Org)
        fresh.__dict__.update({k: v for k, v in self.__dict__.items()})
        for name in ("contact_email", "contact_name", "invoice_number", "invoice_ref", "cn_number", "cn_ref",
                     "payment_ref"):
            setattr(fresh, name, TextIndex())
        for name in ("contact_name_key", "item_name_key", "invoice_customer", "cn_customer", "payment_customer"):
            setattr(fresh, name, KeyIndex())
        for c in self.contacts.values():
            fresh.index_contact(c)
        for i in self.items.values():
            fresh.index_item(i)
        for i in self.invoices.values():
            fresh.index_invoice(i)
        for c in self.creditnotes.values():
            fresh.index_creditnote(c)
        for p in self.payments.values():
            fresh.index_payment(p)
        for name in ("contact_email", "contact_name", "contact_name_key", "item_name_key", "invoice_number",
                     "invoice_ref", "invoice_customer", "cn_number", "cn_ref", "cn_customer", "payment_ref",
                     "payment_customer"):
            mine, want = getattr(self, name), getattr(fresh, name)
            assert mine.key_of == want.key_of, f"{name}: keys differ"
            assert mine.ids_of == want.ids_of, f"{name}: ids differ"
            if isinstance(want, TextIndex):
                assert mine.grams == want.grams, f"{name}: trigrams differ"
        for table in (self.contacts, self.items, self.invoices, self.creditnotes, self.payments):
            assert list(table) == sorted(table, key=self._pos.__getitem__), "positions differ from table order"

    def add_tax(self, body: dict) -> dict:
        tid = self.books.new_id()
        t = {"tax_id": tid, "tax_name": str(body["tax_name"]), "tax_percentage": to_dec(body["tax_percentage"]),
             "tax_type": body.get("tax_type", "tax"), "tax_factor": "rate", "tax_specific_type": "",
             "is_value_added": bool(body.get("is_value_added", False)), "is_default_tax": False,
             "is_editable": True, "tax_account_id": ""}
        self.taxes[tid] = t
        return t

    def record(self) -> dict:
        base = self.currencies[self.base_currency_id]
        return {"organization_id": self.organization_id, "name": self.name, "contact_name": "Sandbox Owner",
                "email": "owner@example.com", "is_default_org": self.books.orgs and
                next(iter(self.books.orgs)) == self.organization_id, "plan_type": 0, "plan_name": "FREE",
                "plan_period": "", "language_code": "en", "fiscal_year_start_month": 0, "time_zone": "Etc/UTC",
                "is_org_active": True, "currency_id": self.base_currency_id, "currency_code": base["currency_code"],
                "currency_symbol": base["currency_symbol"], "currency_format": "1,234,567.89",
                "price_precision": 2, "tax_rounding": self.tax_rounding}


ZOHO_LIMIT_MESSAGES = {
    44: "You have made too many requests per minute. The API call for this organization has exceeded the maximum "
        "number of requests per minute.",
    45: "The API call for this organization has exceeded the maximum call rate limit of {n}.",
    1070: "You have reached the maximum number of in process requests allowed. Kindly try again after some time.",
}


class ZohoBooks:
    """Zoho Books organization(s) plus the Zoho Accounts token endpoint."""

    def __init__(self, sb: "Sandbox"):
        self.sb = sb
        self._next_id = 982000000567100
        self.orgs: dict[str, Org] = {}
        cfg = sb.cfg
        taxes = [("NY State Sales Tax", D("8.875")), ("VAT", D("20"))]
        if cfg.zoho_taxes is not None:
            taxes = [(f"Tax {p}%", to_dec(p)) for p in cfg.zoho_taxes.split(",") if p.strip()]
        for i in range(max(1, cfg.zoho_orgs)):
            oid = str(10234695 + i * 1111)
            self.orgs[oid] = Org(self, oid, "Sandbox Store Books" if i == 0 else f"Sandbox Books {i + 1}", taxes)
        self.tokens: dict[str, dict] = {}
        self.refresh_tokens = {cfg.zoho_refresh_token: {"revoked": False}}
        self.refresh_history: dict[str, collections.deque] = {}
        self.used_codes: set = set()

    def new_id(self) -> str:
        self._next_id += 1
        return str(self._next_id)

    # ---------------------------------------------------------------------------------- accounts server
    def token_endpoint(self, req: Request, now: float) -> Reply:
        cfg = self.sb.cfg
        if req.path == "/oauth/v2/token/revoke":
            tok = req.q.get("token") or _form(req).get("token")
            if tok in self.refresh_tokens:
                self.refresh_tokens[tok]["revoked"] = True
            self.tokens = {k: v for k, v in self.tokens.items() if v["refresh_token"] != tok}
            return Reply(200, {"status": "success"})
        if req.method != "POST":
            return Reply(405, {"error": "invalid_request", "error_description": "use POST"})
        params = dict(req.q)
        params.update(_form(req))
        grant = params.get("grant_type")
        if grant not in ("refresh_token", "authorization_code"):
            return Reply(200, {"error": "unsupported_grant_type"}, code="unsupported_grant_type")
        if params.get("client_id") != cfg.zoho_client_id:
            return Reply(200, {"error": "invalid_client"}, code="invalid_client")
        if params.get("client_secret") != cfg.zoho_client_secret:
            return Reply(200, {"error": "invalid_client"}, code="invalid_client")
        if grant == "authorization_code":
            code = params.get("code")
            if code != cfg.zoho_grant_code or code in self.used_codes:
                return Reply(200, {"error": "invalid_code"}, code="invalid_code")
            self.used_codes.add(code)
            rt = cfg.zoho_refresh_token
            self.refresh_tokens[rt] = {"revoked": False}
            body = self._issue(rt, now)
            body["refresh_token"] = rt
            return Reply(200, body)
        rt = params.get("refresh_token")
        info = self.refresh_tokens.get(rt)
        if not info or info["revoked"]:
            return Reply(200, {"error": "invalid_code"}, code="invalid_code")
        hist = self.refresh_history.setdefault(rt, collections.deque())
        window = 600.0
        while hist and hist[0] <= now - window:
            hist.popleft()
        if len(hist) >= cfg.zoho_refresh_limit:
            return Reply(400, {"error_description": "You have made too many requests continuously. Please try again "
                                                    "after some time.", "error": "Access Denied", "status": "failure"},
                         code="Access Denied")
        hist.append(now)
        return Reply(200, self._issue(rt, now))

    def _issue(self, rt: str, now: float) -> dict:
        tok = "1000." + secrets.token_hex(16) + "." + secrets.token_hex(16)
        self.tokens[tok] = {"expires": now + self.sb.cfg.zoho_token_ttl, "refresh_token": rt, "expired": False}
        if len(self.tokens) > 5000:  # bounded: forget the oldest
            for k in list(self.tokens)[:1000]:
                del self.tokens[k]
        return {"access_token": tok, "expires_in": int(self.sb.cfg.zoho_token_ttl),
                "api_domain": f"http://127.0.0.1:{self.sb.port}", "token_type": "Bearer",
                "scope": "ZohoBooks.fullaccess.all"}

    def expire_token(self, req: Request):
        tok = _bearer(req)
        if tok in self.tokens:
            self.tokens[tok]["expired"] = True

    # ---------------------------------------------------------------------------------- API front door
    def handle(self, req: Request, now: float) -> Reply:
        try:
            reply = self._handle(req, now)
        except ApiError as e:
            reply = Reply(e.status, {"code": e.code, "message": e.message}, code=e.code)
        if reply.code is None:
            reply.code = 0
        return reply

    def _handle(self, req: Request, now: float) -> Reply:
        auth = req.header("Authorization") or ""
        if not auth:
            if any(k in req.q for k in ("authtoken", "access_token", "oauthtoken")):
                raise ApiError(401, 57, "You are not authorized to perform this operation. The access token must be "
                                        "sent in the Authorization header.")
            raise ApiError(401, 57, "You are not authorized to perform this operation")
        if not auth.startswith("Zoho-oauthtoken "):
            raise ApiError(401, 57, "You are not authorized to perform this operation")
        tok = auth[len("Zoho-oauthtoken "):].strip()
        info = self.tokens.get(tok)
        if info is None or info["expired"] or now >= info["expires"]:
            raise ApiError(401, 14, "Invalid value passed for authtoken")
        path = req.path[len("/books/v3"):].rstrip("/") or "/"
        if path == "/organizations" and req.method == "GET":
            return Reply(200, {"code": 0, "message": "success",
                               "organizations": [o.record() for o in self.orgs.values()]})
        org = self.orgs.get(req.q.get("organization_id", ""))
        if org is None:
            raise ApiError(400, 2, "Invalid value passed for organization_id")
        # limits (sandbox time)
        cfg = self.sb.cfg
        while org.window and org.window[0] <= now - 60.0:
            org.window.popleft()
        if len(org.window) >= cfg.zoho_rpm:
            raise ApiError(429, 44, ZOHO_LIMIT_MESSAGES[44])
        day = zoho_date(now)
        if org.daily.get(day, 0) >= cfg.zoho_daily:
            raise ApiError(429, 45, ZOHO_LIMIT_MESSAGES[45].format(n=cfg.zoho_daily))
        org.window.append(now)
        org.daily[day] = org.daily.get(day, 0) + 1
        reply = ZohoRoutes(self, org, req, now).dispatch(path)
        reply.org = org.organization_id
        used = org.daily[day]
        reply.headers.update({"X-Rate-Limit-Limit": str(cfg.zoho_daily),
                              "X-Rate-Limit-Remaining": str(max(0, cfg.zoho_daily - used)),
                              "X-Rate-Limit-Reset": str(int(86400 - now % 86400))})
        return reply


def _bearer(req: Request) -> str:
    a = req.header("Authorization") or ""
    return a[len("Zoho-oauthtoken "):].strip() if a.startswith("Zoho-oauthtoken ") else ""


def _form(req: Request) -> dict:
    ctype = (req.header("Content-Type") or "").lower()
    if req.body and ("x-www-form-urlencoded" in ctype or not ctype):
        try:
            return {k: v[-1] for k, v in parse_qs(req.body.decode("utf-8"), keep_blank_values=True).items()}
        except UnicodeDecodeError:
            return {}
    return {}


def _page_context(q: dict, total: int) -> tuple[int, int, dict]:
    try:
        page = int(q.get("page", 1) or 1)
        per_page = int(q.get("per_page", 200) or 200)
    except ValueError:
        raise ApiError(400, 2, "Invalid value passed for page") from None
    if page < 1:
        raise ApiError(400, 2, "Invalid value passed for page")
    if per_page < 1 or per_page > 200:
        raise ApiError(400, 2, "Invalid value passed for per_page")
    ctx = {"page": page, "per_page": per_page, "has_more_page": page * per_page < total,
           "report_name": "", "applied_filter": q.get("filter_by", ""), "sort_column": "created_time",
           "sort_order": "A"}
    return (page - 1) * per_page, per_page, ctx


def _narrow(q: dict, searches) -> set | None:
    """Candidate ids for the loose text filters of a list call: the intersection, over the filters given, of
    each index's candidates (a superset of the documents that match them all), or None for no narrowing.
    `searches`: (query key, TextIndex or KeyIndex); a KeyIndex matches the whole value exactly."""
    out = None
    for key, index in searches:
        if not q.get(key):
            continue
        if isinstance(index, TextIndex):
            cands = index.candidates(q[key].lower())
            if cands is None:
                continue
        else:
            cands = index.get(q[key])
        out = set(cands) if out is None else out & cands
    return out


class ZohoRoutes:
    """One Zoho Books API request against one organization."""

    def __init__(self, books: ZohoBooks, org: Org, req: Request, now: float):
        self.books, self.org, self.req, self.now = books, org, req, now
        self.q = req.q

    # ------------------------------------------------------------------ plumbing
    def body(self) -> dict:
        raw = self.req.body
        if not raw:
            return {}
        ctype = (self.req.header("Content-Type") or "").lower()
        if "application/json" in ctype:
            try:
                data = loads(raw)
            except (ValueError, UnicodeDecodeError):
                raise ApiError(400, 1038, "JSON is not well formed") from None
        elif "x-www-form-urlencoded" in ctype:
            form = _form(self.req)
            if "JSONString" not in form:
                raise ApiError(400, 1038, "JSON is not well formed")
            try:
                data = loads(form["JSONString"])
            except ValueError:
                raise ApiError(400, 1038, "JSON is not well formed") from None
        else:
            raise ApiError(400, 1038, "JSON is not well formed")
        if not isinstance(data, dict):
            raise ApiError(400, 1038, "JSON is not well formed")
        return data

    @staticmethod
    def ok(payload: dict, message: str = "success", status: int = 200) -> Reply:
        return Reply(status, {"code": 0, "message": message, **payload}, code=0)

    def listing(self, key: str, rows: list, render) -> Reply:
        start, per_page, ctx = _page_context(self.q, len(rows))
        return self.ok({key: [render(r) for r in rows[start:start + per_page]], "page_context": ctx})

    def flag(self, name: str) -> bool:
        return str(self.q.get(name, "")).lower() == "true"

    def dispatch(self, path: str) -> Reply:
        m = self.req.method
        routes = [
            ("GET", r"/organizations/(\d+)", self.get_org),
            ("GET", r"/settings/currencies", self.list_currencies),
            ("GET", r"/settings/taxes", self.list_taxes),
            ("POST", r"/settings/taxes", self.create_tax),
            ("GET", r"/settings/taxes/(\d+)", self.get_tax),
            ("GET", r"/chartofaccounts", self.list_accounts),
            ("GET", r"/bankaccounts", self.list_bank_accounts),
            ("GET", r"/contacts", self.list_contacts),
            ("POST", r"/contacts", self.create_contact),
            ("GET", r"/contacts/(\d+)", self.get_contact),
            ("PUT", r"/contacts/(\d+)", self.update_contact),
            ("POST", r"/contacts/(\d+)/(active|inactive)", self.contact_active),
            ("GET", r"/items", self.list_items),
            ("POST", r"/items", self.create_item),
            ("GET", r"/items/(\d+)", self.get_item),
            ("PUT", r"/items/(\d+)", self.update_item),
            ("GET", r"/invoices", self.list_invoices),
            ("POST", r"/invoices", self.create_invoice),
            ("GET", r"/invoices/(\d+)", self.get_invoice),
            ("PUT", r"/invoices/(\d+)", self.update_invoice),
            ("POST", r"/invoices/(\d+)/status/sent", self.invoice_sent),
            ("POST", r"/invoices/(\d+)/status/void", self.invoice_void),
            ("GET", r"/invoices/(\d+)/payments", self.invoice_payments),
            ("GET", r"/invoices/(\d+)/creditsapplied", self.invoice_credits),
            ("GET", r"/creditnotes", self.list_creditnotes),
            ("POST", r"/creditnotes", self.create_creditnote),
            ("GET", r"/creditnotes/(\d+)", self.get_creditnote),
            ("PUT", r"/creditnotes/(\d+)", self.update_creditnote),
            ("POST", r"/creditnotes/(\d+)/invoices", self.apply_creditnote),
            ("GET", r"/creditnotes/(\d+)/invoices", self.creditnote_invoices),
            ("POST", r"/creditnotes/(\d+)/refunds", self.refund_creditnote),
            ("GET", r"/creditnotes/(\d+)/refunds", self.creditnote_refunds),
            ("POST", r"/creditnotes/(\d+)/status/void", self.creditnote_void),
            ("GET", r"/customerpayments", self.list_payments),
            ("POST", r"/customerpayments", self.create_payment),
            ("GET", r"/customerpayments/(\d+)", self.get_payment),
        ]
        path_known = False
        for method, pattern, fn in routes:
            mm = re.fullmatch(pattern, path)
            if mm:
                path_known = True
                if method == m:
                    return fn(*mm.groups())
        if path_known:
            raise ApiError(405, 37, "The HTTP method is not allowed for the requested resource")
        raise ApiError(404, 5, "Invalid URL Passed")

    # ------------------------------------------------------------------ lookups
    def _get(self, table: dict, oid: str, what: str) -> dict:
        obj = table.get(oid)
        if obj is None:
            raise ApiError(404, 1002, f"{what} does not exist.")
        return obj

    def _ref(self, table: dict, oid, what: str, code: int = 1002) -> dict:
        obj = table.get(str(oid)) if oid not in (None, "") else None
        if obj is None:
            raise ApiError(400, code, f"{what} does not exist.")
        return obj

    def _date(self, value, field: str) -> str:
        if value in (None, ""):
            return zoho_date(self.now)
        try:
            return date.fromisoformat(str(value)).isoformat()
        except ValueError:
            raise ApiError(400, 2, f"Invalid value passed for {field}") from None

    def _dec(self, value, field: str, positive: bool = False, allow_none: bool = False) -> Decimal | None:
        if value is None and allow_none:
            return None
        try:
            d = to_dec(value, field)
        except ValueError:
            raise ApiError(400, 2, f"Invalid value passed for {field}") from None
        if positive and d <= 0:
            raise ApiError(400, 2, f"Invalid value passed for {field}")
        return d

    # ------------------------------------------------------------------ settings
    def get_org(self, oid):
        if oid != self.org.organization_id:
            raise ApiError(404, 1002, "Organization does not exist.")
        return self.ok({"organization": self.org.record()})

    def list_currencies(self):
        rows = list(self.org.currencies.values())
        if self.q.get("filter_by") == "Currencies.ExcludeBaseCurrency":
            rows = [c for c in rows if not c["is_base_currency"]]
        return self.ok({"currencies": rows, "page_context": _page_context(self.q, len(rows))[2]})

    def list_taxes(self):
        return self.listing("taxes", list(self.org.taxes.values()), dict)

    def get_tax(self, tid):
        return self.ok({"tax": self._get(self.org.taxes, tid, "Tax")})

    def create_tax(self):
        b = self.body()
        if not str(b.get("tax_name", "")).strip():
            raise ApiError(400, 2, "Invalid value passed for tax_name")
        pct = self._dec(b.get("tax_percentage"), "tax_percentage")
        if pct < 0 or pct > 100:
            raise ApiError(400, 2, "Invalid value passed for tax_percentage")
        t = self.org.add_tax({**b, "tax_percentage": pct})
        return self.ok({"tax": t}, "The tax has been added.", 201)

    def list_accounts(self):
        rows = list(self.org.accounts.values())
        fb = self.q.get("filter_by", "AccountType.All")
        want = {"AccountType.Bank": {"bank"}, "AccountType.Cash": {"cash"}, "AccountType.Income": {"income"},
                "AccountType.PaymentClearing": {"bank"}}.get(fb)
        if want:
            rows = [a for a in rows if a["account_type"] in want]
        return self.listing("chartofaccounts", rows, dict)

    def list_bank_accounts(self):
        rows = [a for a in self.org.accounts.values() if a["account_type"] in ("bank", "cash")]
        return self.listing("bankaccounts", rows, dict)

    # ------------------------------------------------------------------ contacts
    def _contact_base(self, c: dict) -> dict:
        """The contact's fields with its primary person's, without the receivable sums."""
        primary = primary_person(c)
        d = {k: v for k, v in c.items() if not k.startswith("_")}
        d.update({"email": primary["email"] if primary else "", "first_name": primary["first_name"] if primary else "",
                  "last_name": primary["last_name"] if primary else "", "phone": primary["phone"] if primary else "",
                  "currency_code": self.org.currencies[c["currency_id"]]["currency_code"]})
        return d

    def _contact_view(self, c: dict, full: bool = True) -> dict:
        d = self._contact_base(c)
        org, cid = self.org, c["contact_id"]
        # Only this customer's documents (per-customer indexes), in table order.
        d["outstanding_receivable_amount"] = sum(
            (i["balance"] for i in org.ordered(org.invoices, org.invoice_customer.get(cid))
             if i["status"] not in ("draft", "void")), ZERO)
        d["unused_credits_receivable_amount"] = sum(
            (p["unused_amount"] for p in org.ordered(org.payments, org.payment_customer.get(cid))), ZERO) + \
            sum((n["balance"] for n in org.ordered(org.creditnotes, org.cn_customer.get(cid))
                 if n["status"] == "open"), ZERO)
        if not full:
            d.pop("contact_persons", None)
            d.pop("billing_address", None)
            d.pop("shipping_address", None)
        return d

    def _has_transactions(self, cid: str) -> bool:
        org = self.org
        return bool(org.invoice_customer.get(cid) or org.cn_customer.get(cid) or org.payment_customer.get(cid))

    def _persons(self, raw, existing: list | None = None) -> list:
        if raw is None:
            return existing or []
        if not isinstance(raw, list):
            raise ApiError(400, 2, "Invalid value passed for contact_persons")
        persons = []
        for i, p in enumerate(raw):
            if not isinstance(p, dict):
                raise ApiError(400, 2, "Invalid value passed for contact_persons")
            email = str(p.get("email") or "")
            if len(email) > 100 or (email and "@" not in email):
                raise ApiError(400, 2, "Invalid value passed for email")
            persons.append({"contact_person_id": str(p.get("contact_person_id") or self.books.new_id()),
                            "salutation": p.get("salutation", ""), "first_name": p.get("first_name", "") or "",
                            "last_name": p.get("last_name", "") or "", "email": email,
                            "phone": p.get("phone", "") or "", "mobile": p.get("mobile", "") or "",
                            "is_primary_contact": bool(p.get("is_primary_contact", False))})
        if persons and not any(p["is_primary_contact"] for p in persons):
            persons[0]["is_primary_contact"] = True
        if sum(p["is_primary_contact"] for p in persons) > 1:
            raise ApiError(400, 2, "Only one contact person can be the primary contact")
        return persons

    def _check_contact_name(self, name, skip_id=None) -> str:
        name = str(name or "").strip()
        if not name or len(name) > 200:
            raise ApiError(400, 3013, "Enter a valid Contact Name")
        if not self.books.sb.cfg.zoho_allow_duplicate_names:
            if any(other != skip_id for other in self.org.contact_name_key.get(name.strip().lower())):
                raise ApiError(400, 3062, "The contact already exists.Please specify a different name")
        return name

    def _currency(self, cid) -> str:
        if cid in (None, ""):
            return self.org.base_currency_id
        if str(cid) not in self.org.currencies:
            raise ApiError(400, 9004, "This currency does not exist")
        return str(cid)

    @staticmethod
    def _address(a) -> dict:
        a = a if isinstance(a, dict) else {}
        return {k: str(a.get(k, "") or "") for k in ("attention", "address", "street2", "state_code", "city", "state",
                                                     "zip", "country", "fax", "phone")}

    def create_contact(self):
        b = self.body()
        name = self._check_contact_name(b.get("contact_name"))
        cid = self.books.new_id()
        c = {"contact_id": cid, "contact_name": name, "customer_name": name,
             "company_name": str(b.get("company_name", "") or ""),
             "contact_type": b.get("contact_type", "customer"), "customer_sub_type": b.get("customer_sub_type",
                                                                                           "individual"),
             "status": "active", "currency_id": self._currency(b.get("currency_id")),
             "payment_terms": b.get("payment_terms", 0), "payment_terms_label": b.get("payment_terms_label",
                                                                                      "Due on Receipt"),
             "notes": str(b.get("notes", "") or ""), "billing_address": self._address(b.get("billing_address")),
             "shipping_address": self._address(b.get("shipping_address")),
             "contact_persons": self._persons(b.get("contact_persons")), "custom_fields": b.get("custom_fields", []),
             "created_time": zoho_time(self.now), "last_modified_time": zoho_time(self.now)}
        self.org.insert(self.org.contacts, cid, c)
        return self.ok({"contact": self._contact_view(c)}, "The contact has been added.", 201)

    def update_contact(self, cid):
        c = self._get(self.org.contacts, cid, "Contact")
        try:
            return self._update_contact(cid, c)
        finally:
            self.org.index_contact(c)  # also after a refusal that left some fields changed

    def _update_contact(self, cid, c):
        b = self.body()
        if "contact_name" in b:
            c["contact_name"] = c["customer_name"] = self._check_contact_name(b["contact_name"], cid)
        if "currency_id" in b:
            new = self._currency(b["currency_id"])
            if new != c["currency_id"] and self._has_transactions(cid):
                raise ApiError(400, 3043, "Currency cannot be changed for a contact that has transactions.")
            c["currency_id"] = new
        for k in ("company_name", "contact_type", "customer_sub_type", "notes", "payment_terms",
                  "payment_terms_label", "custom_fields"):
            if k in b:
                c[k] = b[k]
        for k in ("billing_address", "shipping_address"):
            if k in b:
                c[k] = self._address(b[k])
        if "contact_persons" in b:
            c["contact_persons"] = self._persons(b["contact_persons"], c["contact_persons"])
        c["last_modified_time"] = zoho_time(self.now)
        return self.ok({"contact": self._contact_view(c)}, "Contact has been updated successfully.")

    def get_contact(self, cid):
        return self.ok({"contact": self._contact_view(self._get(self.org.contacts, cid, "Contact"))})

    def contact_active(self, cid, state):
        c = self._get(self.org.contacts, cid, "Contact")
        c["status"] = state
        self.org.index_contact(c)
        return self.ok({}, f"The contact has been marked as {state}.")

    def list_contacts(self):
        q = self.q
        org = self.org
        # The email / name indexes narrow the rows to a superset of the matches (in table order); the filters
        # below still decide. Only the page is rendered with the receivable sums.
        cands = _narrow(q, (("email", org.contact_email), ("email_contains", org.contact_email),
                            ("email_startswith", org.contact_email), ("contact_name", org.contact_name),
                            ("contact_name_startswith", org.contact_name),
                            ("contact_name_contains", org.contact_name)))
        rows = org.ordered(org.contacts, cands)
        fb = q.get("filter_by", "Status.Active")
        if fb == "Status.Active":
            rows = [c for c in rows if c["status"] == "active"]
        elif fb == "Status.Inactive":
            rows = [c for c in rows if c["status"] == "inactive"]
        views = [(c, self._contact_base(c)) for c in rows]
        # Loose, like Zoho: `email` matches by substring, names by prefix. Clients must re-check.
        for key, field, mode in (("email", "email", "contains"), ("email_contains", "email", "contains"),
                                 ("email_startswith", "email", "startswith"),
                                 ("contact_name", "contact_name", "startswith"),
                                 ("contact_name_startswith", "contact_name", "startswith"),
                                 ("contact_name_contains", "contact_name", "contains"),
                                 ("company_name", "company_name", "startswith"),
                                 ("company_name_startswith", "company_name", "startswith"),
                                 ("company_name_contains", "company_name", "contains"),
                                 ("first_name", "first_name", "startswith"), ("last_name", "last_name", "startswith"),
                                 ("phone", "phone", "contains")):
            if q.get(key):
                needle = q[key].lower()
                views = [(c, v) for c, v in views if (needle in str(v.get(field, "")).lower() if mode == "contains"
                                                      else str(v.get(field, "")).lower().startswith(needle))]
        if q.get("contact_type"):
            views = [(c, v) for c, v in views if v["contact_type"] == q["contact_type"]]
        if q.get("search_text"):
            s = q["search_text"].lower()
            views = [(c, v) for c, v in views if s in v["contact_name"].lower() or s in v.get("notes", "").lower()]
        return self.listing("contacts", [c for c, _ in views], lambda c: self._contact_view(c, full=False))

    # ------------------------------------------------------------------ items
    def _item_fields(self, b: dict, item: dict, creating: bool):
        if creating or "name" in b:
            name = str(b.get("name") or "").strip()
            if not name or len(name) > 100:
                raise ApiError(400, 2, "Invalid value passed for name")
            if any(other != item.get("item_id") for other in self.org.item_name_key.get(name.strip().lower())):
                raise ApiError(400, 1000, "The item name already exist")
            item["name"] = name
            self.org.index_item(item)  # (a stored item: an update; a new one is indexed when stored)
        if creating or "rate" in b:
            if b.get("rate") is None:
                raise ApiError(400, 2, "Invalid value passed for rate")
            item["rate"] = self._dec(b["rate"], "rate")
        if "tax_id" in b and b["tax_id"]:
            t = self._ref(self.org.taxes, b["tax_id"], "Tax")
            item.update({"tax_id": t["tax_id"], "tax_name": t["tax_name"], "tax_percentage": t["tax_percentage"]})
        if "account_id" in b and b["account_id"]:
            a = self._ref(self.org.accounts, b["account_id"], "Account")
            item.update({"account_id": a["account_id"], "account_name": a["account_name"]})
        for k in ("sku", "description", "unit", "product_type", "item_type", "custom_fields"):
            if k in b:
                item[k] = b[k] if b[k] is not None else ""

    def create_item(self):
        b = self.body()
        iid = self.books.new_id()
        item = {"item_id": iid, "name": "", "status": "active", "sku": "", "description": "", "rate": ZERO,
                "unit": "", "tax_id": "", "tax_name": "", "tax_percentage": ZERO, "product_type": "goods",
                "item_type": "sales", "account_id": "", "account_name": "", "custom_fields": [],
                "created_time": zoho_time(self.now)}
        self._item_fields(b, item, True)
        item["last_modified_time"] = zoho_time(self.now)
        self.org.insert(self.org.items, iid, item)
        return self.ok({"item": item}, "The item has been added.", 201)

    def update_item(self, iid):
        item = self._get(self.org.items, iid, "Item")
        self._item_fields(self.body(), item, False)
        item["last_modified_time"] = zoho_time(self.now)
        return self.ok({"item": item}, "The item details have been updated.")

    def get_item(self, iid):
        return self.ok({"item": self._get(self.org.items, iid, "Item")})

    def list_items(self):
        q = self.q
        rows = list(self.org.items.values())
        fb = q.get("filter_by", "Status.Active")
        if fb == "Status.Active":
            rows = [i for i in rows if i["status"] == "active"]
        elif fb == "Status.Inactive":
            rows = [i for i in rows if i["status"] == "inactive"]
        if q.get("sku"):
            s = q["sku"].lower()  # loose: prefix match, case-insensitive; clients must re-check
            rows = [i for i in rows if str(i.get("sku", "")).lower().startswith(s)]
        for key, mode in (("name", "startswith"), ("name_startswith", "startswith"), ("name_contains", "contains")):
            if q.get(key):
                s = q[key].lower()
                rows = [i for i in rows if (i["name"].lower().startswith(s) if mode == "startswith"
                                            else s in i["name"].lower())]
        if q.get("search_text"):
            s = q["search_text"].lower()
            rows = [i for i in rows if s in i["name"].lower() or s in i.get("description", "").lower()
                    or s in str(i.get("sku", "")).lower()]
        return self.listing("items", rows, dict)

    # ------------------------------------------------------------------ documents (shared)
    def _lines(self, raw) -> list[dict]:
        if not isinstance(raw, list) or not raw:
            raise ApiError(400, 6, "Invalid values are given for creation: line_items must be a non-empty list")
        out = []
        for i, l in enumerate(raw):
            if not isinstance(l, dict):
                raise ApiError(400, 6, "Invalid values are given for creation: a line item must be an object")
            item = None
            if l.get("item_id") not in (None, ""):
                item = self.org.items.get(str(l["item_id"]))
                if item is None:
                    raise ApiError(400, 2006, "Item does not exist.")
            name = l.get("name") or (item["name"] if item else "")
            if not name and not l.get("description"):
                raise ApiError(400, 6, "Invalid values are given for creation: a line item without item_id needs "
                                       "a name")
            if len(str(name)) > 100:
                raise ApiError(400, 2, "Invalid value passed for name")
            rate = l.get("rate")
            if rate is None:
                if item is None:
                    raise ApiError(400, 2, "Invalid value passed for rate")
                rate = item["rate"]
            rate = self._dec(rate, "rate")
            qty = self._dec(l.get("quantity", 1), "quantity")
            if qty <= 0:
                raise ApiError(400, 2, "Invalid value passed for quantity")
            tax = None
            if l.get("tax_id") not in (None, ""):
                tax = self.org.taxes.get(str(l["tax_id"]))
                if tax is None:
                    raise ApiError(400, 1002, "Tax does not exist.")
            disc = l.get("discount")
            if disc not in (None, "") and not (isinstance(disc, str) and disc.strip().endswith("%")):
                self._dec(disc, "discount")
            if disc not in (None, "") and isinstance(disc, str) and disc.strip().endswith("%"):
                self._dec(disc.strip()[:-1], "discount")
            if l.get("discount_amount") is not None:
                self._dec(l["discount_amount"], "discount_amount")
            out.append({"line_item_id": str(l.get("line_item_id") or self.books.new_id()),
                        "item_id": item["item_id"] if item else "", "name": str(name),
                        "description": str(l.get("description", "") or ""), "item_order": l.get("item_order", i + 1),
                        "rate": rate, "quantity": qty, "unit": l.get("unit", "") or "",
                        "discount": disc if disc not in (None, "") else None,
                        "discount_amount": l.get("discount_amount"),
                        "tax_id": tax["tax_id"] if tax else "", "tax_name": tax["tax_name"] if tax else "",
                        "tax_type": "tax" if tax else "", "tax_percentage": tax["tax_percentage"] if tax else ZERO,
                        "product_type": l.get("product_type", "goods"), "account_id": l.get("account_id", "") or "",
                        "sku": item.get("sku", "") if item else "",
                        "invoice_id": l.get("invoice_id"), "invoice_item_id": l.get("invoice_item_id")})
        return out

    def _compute(self, doc: dict):
        res = compute_totals(doc["line_items"], self.org.taxes, doc["is_inclusive_tax"], doc["shipping_charge"],
                             doc["adjustment"], self.org.tax_rounding)
        for line, r in zip(doc["line_items"], res["lines"]):
            line["item_total"] = r["item_total"]
            line["tax_amount"] = r["tax_amount"]
            line["computed_discount_amount"] = r["discount_amount"]
        doc["sub_total"], doc["tax_total"], doc["total"], doc["taxes"] = (res["sub_total"], res["tax_total"],
                                                                         res["total"], res["taxes"])
        doc["tax_rounding"] = self.org.tax_rounding

    def _doc_common(self, b: dict, doc: dict, creating: bool, kind: str):
        """Customer, currency, dates, lines, charges. Shared by invoices and credit notes."""
        if creating or "customer_id" in b:
            c = self.org.contacts.get(str(b.get("customer_id") or ""))
            if c is None:
                raise ApiError(400, 1002 if kind == "invoice" else 1002, "Contact does not exist.")
            doc["customer_id"], doc["customer_name"] = c["contact_id"], c["contact_name"]
            doc["currency_id"] = c["currency_id"]
        c = self.org.contacts[doc["customer_id"]]
        cur = self.org.currencies[c["currency_id"]]
        if b.get("currency_id") not in (None, "") and str(b["currency_id"]) != c["currency_id"]:
            raise ApiError(400, 9005, "The currency of the transaction must be the customer's currency.")
        doc["currency_id"], doc["currency_code"] = cur["currency_id"], cur["currency_code"]
        if "exchange_rate" in b or creating:
            if cur["is_base_currency"]:
                rate = self._dec(b.get("exchange_rate", 1), "exchange_rate", positive=True)
            else:
                if b.get("exchange_rate") in (None, ""):
                    raise ApiError(400, 2, "Invalid value passed for exchange_rate: it is required when the "
                                           "currency differs from the base currency")
                rate = self._dec(b["exchange_rate"], "exchange_rate", positive=True)
            doc["exchange_rate"] = rate
        if creating or "date" in b:
            doc["date"] = self._date(b.get("date"), "date")
        if kind == "invoice" and (creating or "due_date" in b):
            doc["due_date"] = self._date(b.get("due_date") or doc["date"], "due_date")
        for k, limit in (("reference_number", 100), ("notes", 5000), ("terms", 10000),
                         ("adjustment_description", 100)):
            if k in b or creating:
                v = str(b.get(k) or "")
                if len(v) > limit:
                    raise ApiError(400, 2, f"Invalid value passed for {k}")
                doc[k] = v
        if "is_inclusive_tax" in b or creating:
            doc["is_inclusive_tax"] = bool(b.get("is_inclusive_tax", False))
        if "shipping_charge" in b or creating:
            doc["shipping_charge"] = r2(self._dec(b.get("shipping_charge") or 0, "shipping_charge"))
        if "adjustment" in b or creating:
            doc["adjustment"] = r2(self._dec(b.get("adjustment") or 0, "adjustment"))
        if "line_items" in b or creating:
            doc["line_items"] = self._lines(b.get("line_items"))
        if "custom_fields" in b:
            doc["custom_fields"] = b["custom_fields"]
        self._compute(doc)
        if doc["total"] < 0:
            raise ApiError(400, 6, f"Invalid values are given for creation: the {kind} total cannot be negative")

    @staticmethod
    def _line_view(l: dict) -> dict:
        v = {k: l[k] for k in ("line_item_id", "item_id", "name", "description", "item_order", "rate", "quantity",
                               "unit", "tax_id", "tax_name", "tax_type", "tax_percentage", "item_total",
                               "tax_amount", "product_type", "account_id", "sku")}
        v["discount"] = l["discount"] if l["discount"] is not None else ZERO
        v["discount_amount"] = l["computed_discount_amount"]
        for k in ("invoice_id", "invoice_item_id"):
            if l.get(k):
                v[k] = l[k]
        return v

    # ------------------------------------------------------------------ invoices
    def _invoice_view(self, inv: dict, full: bool = True) -> dict:
        keys = ["invoice_id", "invoice_number", "status", "date", "due_date", "reference_number", "customer_id",
                "customer_name", "currency_id", "currency_code", "exchange_rate", "is_inclusive_tax",
                "shipping_charge", "adjustment", "adjustment_description", "sub_total", "tax_total", "total",
                "payment_made", "credits_applied", "balance", "write_off_amount", "created_time",
                "last_modified_time", "tax_rounding"]
        v = {k: inv[k] for k in keys}
        v["price_precision"] = 2
        if full:
            v.update({"line_items": [self._line_view(l) for l in inv["line_items"]], "taxes": inv["taxes"],
                      "notes": inv["notes"], "terms": inv["terms"], "custom_fields": inv.get("custom_fields", []),
                      "discount": ZERO, "discount_type": "item_level", "is_discount_before_tax": True,
                      "payments": [{"payment_id": p["payment_id"], "amount": p["amount"]} for p in inv["_payments"]],
                      "credits": [{"creditnote_id": c["creditnote_id"], "amount": c["amount"]}
                                  for c in inv["_credits"]],
                      "invoice_url": f"http://127.0.0.1:{self.books.sb.port}/books/invoice/{inv['invoice_id']}"})
        return v

    def _refresh_invoice(self, inv: dict):
        inv["payment_made"] = sum((p["amount"] for p in inv["_payments"]), ZERO)
        inv["credits_applied"] = sum((c["amount"] for c in inv["_credits"]), ZERO)
        if inv["status"] == "void":
            inv["balance"] = ZERO
            return
        inv["balance"] = inv["total"] - inv["payment_made"] - inv["credits_applied"]
        if inv["status"] == "draft":
            return
        if inv["balance"] <= 0:
            inv["status"] = "paid"
        elif inv["payment_made"] + inv["credits_applied"] > 0:
            inv["status"] = "partially_paid"
        else:
            inv["status"] = "sent"

    def _next_number(self, prefix: str, width: int, taken: KeyIndex) -> str:
        """The next free auto number; `taken` indexes the lower-cased numbers in use."""
        while True:
            self.org.counters[prefix] += 1
            n = f"{prefix}{self.org.counters[prefix]:0{width}d}"
            if n.lower() not in taken:
                return n

    def create_invoice(self):
        b = self.body()
        if self.flag("ignore_auto_number_generation"):
            number = str(b.get("invoice_number") or "").strip()
            if not number:
                raise ApiError(400, 6, "Invalid values are given for creation: invoice_number is required when "
                                       "ignore_auto_number_generation=true")
            if len(number) > 100:
                raise ApiError(400, 2, "Invalid value passed for invoice_number")
        else:
            number = None  # auto numbering ignores a number in the body
        if number and self.org.invoice_number.get(number.lower()):
            raise ApiError(400, 1001, "Invoice Number already exist")
        inv = {"invoice_id": self.books.new_id(), "status": "draft", "_payments": [], "_credits": [],
               "write_off_amount": ZERO, "created_time": zoho_time(self.now)}
        self._doc_common(b, inv, True, "invoice")
        inv["invoice_number"] = number or self._next_number("INV-", 6, self.org.invoice_number)
        inv["last_modified_time"] = zoho_time(self.now)
        self._refresh_invoice(inv)
        self.org.insert(self.org.invoices, inv["invoice_id"], inv)
        return self.ok({"invoice": self._invoice_view(inv)}, "The invoice has been created.", 201)

    def update_invoice(self, iid):
        inv = self._get(self.org.invoices, iid, "Invoice")
        b = self.body()
        if inv["status"] == "void":
            raise ApiError(400, 1010, "Void invoices cannot be edited. Mark the invoice as draft first.")
        locked = bool(inv["_payments"] or inv["_credits"])
        if "customer_id" in b and str(b["customer_id"]) != inv["customer_id"] and locked:
            raise ApiError(400, 3010, "The customer cannot be changed for an invoice that has payments or credits "
                                      "recorded.")
        if "invoice_number" in b and str(b["invoice_number"]).strip() != inv["invoice_number"]:
            number = str(b["invoice_number"]).strip()
            if not self.flag("ignore_auto_number_generation") or not number:
                raise ApiError(400, 6, "Invalid values: changing invoice_number requires "
                                       "ignore_auto_number_generation=true")
            if any(other != iid for other in self.org.invoice_number.get(number.lower())):
                raise ApiError(400, 1001, "Invoice Number already exist")
        trial = {k: (list(v) if isinstance(v, list) else v) for k, v in inv.items()}
        self._doc_common(b, trial, False, "invoice")
        if locked:
            before = [(l["name"], l["rate"], l["quantity"], l["item_total"], l["tax_id"]) for l in inv["line_items"]]
            after = [(l["name"], l["rate"], l["quantity"], l["item_total"], l["tax_id"]) for l in trial["line_items"]]
            if before != after or trial["total"] != inv["total"] or trial["currency_id"] != inv["currency_id"] \
                    or trial["exchange_rate"] != inv["exchange_rate"]:
                raise ApiError(400, 3009, "The line items, charges and amounts of an invoice that has payments or "
                                          "credits applied cannot be edited.")
        if "invoice_number" in b and str(b["invoice_number"]).strip():
            trial["invoice_number"] = str(b["invoice_number"]).strip()
        trial["last_modified_time"] = zoho_time(self.now)
        inv.clear()
        inv.update(trial)
        self.org.index_invoice(inv)  # number, reference and customer may have changed
        self._refresh_invoice(inv)
        return self.ok({"invoice": self._invoice_view(inv)}, "Invoice information has been updated.")

    def get_invoice(self, iid):
        return self.ok({"invoice": self._invoice_view(self._get(self.org.invoices, iid, "Invoice"))})

    def list_invoices(self):
        q = self.q
        org = self.org
        rows = org.ordered(org.invoices, _narrow(q, (
            ("invoice_number", org.invoice_number), ("invoice_number_startswith", org.invoice_number),
            ("invoice_number_contains", org.invoice_number), ("reference_number", org.invoice_ref),
            ("reference_number_startswith", org.invoice_ref), ("reference_number_contains", org.invoice_ref),
            ("customer_id", org.invoice_customer))))
        for key, field, mode in (("invoice_number", "invoice_number", "startswith"),
                                 ("invoice_number_startswith", "invoice_number", "startswith"),
                                 ("invoice_number_contains", "invoice_number", "contains"),
                                 ("reference_number", "reference_number", "startswith"),
                                 ("reference_number_startswith", "reference_number", "startswith"),
                                 ("reference_number_contains", "reference_number", "contains")):
            if q.get(key):
                s = q[key].lower()
                rows = [r for r in rows if (r[field].lower().startswith(s) if mode == "startswith"
                                            else s in r[field].lower())]
        if q.get("customer_id"):
            rows = [r for r in rows if r["customer_id"] == q["customer_id"]]
        status = q.get("status") or {"Status.Draft": "draft", "Status.Sent": "sent", "Status.Paid": "paid",
                                     "Status.Void": "void", "Status.Unpaid": "unpaid",
                                     "Status.PartiallyPaid": "partially_paid"}.get(q.get("filter_by", ""))
        if status:
            if status == "unpaid":
                rows = [r for r in rows if r["status"] in ("sent", "partially_paid", "overdue")]
            else:
                rows = [r for r in rows if r["status"] == status]
        return self.listing("invoices", rows, lambda r: self._invoice_view(r, full=False))

    def invoice_sent(self, iid):
        inv = self._get(self.org.invoices, iid, "Invoice")
        if inv["status"] == "void":
            raise ApiError(400, 1011, "A void invoice cannot be marked as sent.")
        if inv["status"] == "draft":
            inv["status"] = "sent"
            inv["last_modified_time"] = zoho_time(self.now)
            self._refresh_invoice(inv)
        return self.ok({}, "Invoice status has been changed to Sent.")

    def invoice_void(self, iid):
        inv = self._get(self.org.invoices, iid, "Invoice")
        if inv["status"] != "void":
            for app in inv["_payments"]:
                p = self.org.payments[app["payment_id"]]
                p["invoices"] = [x for x in p["invoices"] if x["invoice_id"] != iid]
                p["unused_amount"] += app["amount"]
            for app in inv["_credits"]:
                cn = self.org.creditnotes[app["creditnote_id"]]
                cn["_applied"] = [x for x in cn["_applied"] if x["invoice_id"] != iid]
                self._refresh_creditnote(cn)
            inv["_payments"], inv["_credits"] = [], []
            inv["status"] = "void"
            inv["last_modified_time"] = zoho_time(self.now)
            self._refresh_invoice(inv)
        return self.ok({}, "Invoice status has been changed to Void.")

    def invoice_payments(self, iid):
        inv = self._get(self.org.invoices, iid, "Invoice")
        rows = []
        for app in inv["_payments"]:
            p = self.org.payments[app["payment_id"]]
            rows.append({"payment_id": p["payment_id"], "invoice_payment_id": app["invoice_payment_id"],
                         "payment_number": p["payment_number"], "payment_mode": p["payment_mode"],
                         "reference_number": p["reference_number"], "date": p["date"], "amount": app["amount"],
                         "description": p["description"], "account_id": p["account_id"]})
        return self.ok({"payments": rows})

    def invoice_credits(self, iid):
        inv = self._get(self.org.invoices, iid, "Invoice")
        rows = [{"creditnote_id": c["creditnote_id"], "creditnote_invoice_id": c["creditnote_invoice_id"],
                 "creditnote_number": self.org.creditnotes[c["creditnote_id"]]["creditnote_number"],
                 "amount_applied": c["amount"]} for c in inv["_credits"]]
        return self.ok({"credits": rows})

    # ------------------------------------------------------------------ credit notes
    def _refresh_creditnote(self, cn: dict):
        applied = sum((a["amount"] for a in cn["_applied"]), ZERO)
        refunded = sum((r["amount"] for r in cn["_refunds"]), ZERO)
        cn["balance"] = cn["total"] - applied - refunded
        if cn["status"] in ("void", "draft"):
            return
        cn["status"] = "closed" if cn["balance"] <= 0 else "open"

    def _cn_view(self, cn: dict, full: bool = True) -> dict:
        keys = ["creditnote_id", "creditnote_number", "status", "date", "reference_number", "customer_id",
                "customer_name", "currency_id", "currency_code", "exchange_rate", "is_inclusive_tax",
                "shipping_charge", "adjustment", "adjustment_description", "sub_total", "tax_total", "total",
                "balance", "invoice_id", "invoice_number", "created_time", "last_modified_time", "tax_rounding"]
        v = {k: cn[k] for k in keys}
        v["price_precision"] = 2
        if full:
            v.update({"line_items": [self._line_view(l) for l in cn["line_items"]], "taxes": cn["taxes"],
                      "notes": cn["notes"], "terms": cn["terms"],
                      "invoices": [{"invoice_id": a["invoice_id"], "creditnote_invoice_id": a["creditnote_invoice_id"],
                                    "invoice_number": self.org.invoices[a["invoice_id"]]["invoice_number"],
                                    "amount_applied": a["amount"]} for a in cn["_applied"]],
                      "creditnote_refunds": [dict(r) for r in cn["_refunds"]]})
        return v

    def create_creditnote(self):
        b = self.body()
        if self.flag("ignore_auto_number_generation"):
            number = str(b.get("creditnote_number") or "").strip()
            if not number:
                raise ApiError(400, 6, "Invalid values are given for creation: creditnote_number is required when "
                                       "ignore_auto_number_generation=true")
            if len(number) > 100:
                raise ApiError(400, 2, "Invalid value passed for creditnote_number")
        else:
            number = None
        if number and self.org.cn_number.get(number.lower()):
            raise ApiError(400, 12018, "The specified Credit Note Number already exists")
        cn = {"creditnote_id": self.books.new_id(), "status": "draft" if b.get("is_draft") else "open",
              "_applied": [], "_refunds": [], "invoice_id": "", "invoice_number": "",
              "created_time": zoho_time(self.now)}
        self._doc_common(b, cn, True, "creditnote")
        link = self.q.get("invoice_id") or b.get("invoice_id")
        if link:
            inv = self.org.invoices.get(str(link))
            if inv is None:
                raise ApiError(400, 1002, "Invoice does not exist.")
            if inv["customer_id"] != cn["customer_id"]:
                raise ApiError(400, 2, "Invalid value passed for invoice_id: the invoice belongs to another customer")
            cn["invoice_id"], cn["invoice_number"] = inv["invoice_id"], inv["invoice_number"]
        cn["creditnote_number"] = number or self._next_number("CN-", 5, self.org.cn_number)
        cn["last_modified_time"] = zoho_time(self.now)
        self._refresh_creditnote(cn)
        self.org.insert(self.org.creditnotes, cn["creditnote_id"], cn)
        return self.ok({"creditnote": self._cn_view(cn)}, "The credit note has been created.", 201)

    def get_creditnote(self, cid):
        return self.ok({"creditnote": self._cn_view(self._get(self.org.creditnotes, cid, "Credit Note"))})

    def update_creditnote(self, cid):
        """Fields not given keep their values; `line_items` given replace the lines; totals are recomputed.
        Only a note with nothing applied or refunded (and not void) can be edited (codes chosen: 12014)."""
        cn = self._get(self.org.creditnotes, cid, "Credit Note")
        b = self.body()
        if cn["status"] == "void":
            raise ApiError(400, 12014, "A void credit note cannot be edited.")
        if cn["_applied"] or cn["_refunds"]:
            raise ApiError(400, 12014, "A credit note that has been applied or refunded cannot be edited.")
        number = None
        if "creditnote_number" in b and str(b["creditnote_number"] or "").strip() != cn["creditnote_number"]:
            number = str(b["creditnote_number"] or "").strip()
            if not self.flag("ignore_auto_number_generation") or not number:
                raise ApiError(400, 6, "Invalid values: changing creditnote_number requires "
                                       "ignore_auto_number_generation=true")
            if len(number) > 100:
                raise ApiError(400, 2, "Invalid value passed for creditnote_number")
            if any(other != cid for other in self.org.cn_number.get(number.lower())):
                raise ApiError(400, 12018, "The specified Credit Note Number already exists")
        # Work on a copy (lines included: the computation writes into them) so a refusal changes nothing.
        trial = {k: (list(v) if isinstance(v, list) else v) for k, v in cn.items()}
        trial["line_items"] = [dict(l) for l in cn["line_items"]]
        self._doc_common(b, trial, False, "creditnote")
        if trial["currency_id"] != cn["currency_id"] and "exchange_rate" not in b:
            if not self.org.currencies[trial["currency_id"]]["is_base_currency"]:
                raise ApiError(400, 2, "Invalid value passed for exchange_rate: it is required when the "
                                       "currency differs from the base currency")
            trial["exchange_rate"] = D("1")
        link = self.q.get("invoice_id") or b.get("invoice_id")
        if link:
            inv = self.org.invoices.get(str(link))
            if inv is None:
                raise ApiError(400, 1002, "Invoice does not exist.")
            if inv["customer_id"] != trial["customer_id"]:
                raise ApiError(400, 2, "Invalid value passed for invoice_id: the invoice belongs to another customer")
            trial["invoice_id"], trial["invoice_number"] = inv["invoice_id"], inv["invoice_number"]
        elif trial["invoice_id"] and trial["customer_id"] != cn["customer_id"]:
            trial["invoice_id"], trial["invoice_number"] = "", ""  # the linked invoice belongs to the old customer
        if number:
            trial["creditnote_number"] = number
        trial["last_modified_time"] = zoho_time(self.now)
        cn.clear()
        cn.update(trial)
        self.org.index_creditnote(cn)  # number, reference and customer may have changed
        self._refresh_creditnote(cn)
        return self.ok({"creditnote": self._cn_view(cn)}, "Credit Note information has been updated.")

    def list_creditnotes(self):
        q = self.q
        org = self.org
        rows = org.ordered(org.creditnotes, _narrow(q, (
            ("creditnote_number", org.cn_number), ("creditnote_number_startswith", org.cn_number),
            ("creditnote_number_contains", org.cn_number), ("reference_number", org.cn_ref),
            ("customer_id", org.cn_customer))))
        for key, field, mode in (("creditnote_number", "creditnote_number", "startswith"),
                                 ("creditnote_number_startswith", "creditnote_number", "startswith"),
                                 ("creditnote_number_contains", "creditnote_number", "contains"),
                                 ("reference_number", "reference_number", "startswith")):
            if q.get(key):
                s = q[key].lower()
                rows = [r for r in rows if (r[field].lower().startswith(s) if mode == "startswith"
                                            else s in r[field].lower())]
        if q.get("customer_id"):
            rows = [r for r in rows if r["customer_id"] == q["customer_id"]]
        if q.get("status"):
            rows = [r for r in rows if r["status"] == q["status"]]
        return self.listing("creditnotes", rows, lambda r: self._cn_view(r, full=False))

    def apply_creditnote(self, cid):
        cn = self._get(self.org.creditnotes, cid, "Credit Note")
        b = self.body()
        apps = b.get("invoices")
        if not isinstance(apps, list) or not apps:
            raise ApiError(400, 2, "Invalid value passed for invoices")
        if cn["status"] == "void":
            raise ApiError(400, 12004, "Credits cannot be applied from a void credit note.")
        if cn["status"] == "draft":
            raise ApiError(400, 12003, "Credits cannot be applied from a draft credit note.")
        if cn["status"] == "closed" or cn["balance"] <= 0:
            raise ApiError(400, 12003, "Closed credit notes cannot be applied.")
        plan = []
        total = ZERO
        for a in apps:
            inv = self._ref(self.org.invoices, (a or {}).get("invoice_id"), "Invoice")
            amt = self._dec(a.get("amount_applied"), "amount_applied", positive=True)
            if inv["customer_id"] != cn["customer_id"]:
                raise ApiError(400, 2, "Invalid value passed for invoice_id: the invoice belongs to another customer")
            if inv["status"] == "draft":
                raise ApiError(400, 12005, "Credits cannot be applied to invoices in the draft status")
            if inv["status"] == "void":
                raise ApiError(400, 12007, "Credits cannot be applied to void invoices")
            if inv["status"] == "paid" or inv["balance"] <= 0:
                raise ApiError(400, 12006, "Credits cannot be applied to closed invoices")
            if amt > inv["balance"]:
                raise ApiError(400, 12009, "The amount applied is more than the balance due of the invoice")
            plan.append((inv, amt))
            total += amt
        if total > cn["balance"]:
            raise ApiError(400, 12011, "The amount applied is more than the available credit of the credit note")
        for inv, amt in plan:
            link = self.books.new_id()
            cn["_applied"].append({"invoice_id": inv["invoice_id"], "amount": amt, "creditnote_invoice_id": link})
            inv["_credits"].append({"creditnote_id": cid, "amount": amt, "creditnote_invoice_id": link})
            self._refresh_invoice(inv)
        self._refresh_creditnote(cn)
        return self.ok({"apply_to_invoices": {"invoices": [{"invoice_id": i["invoice_id"], "amount_applied": a}
                                                           for i, a in plan]}},
                       "Credits have been applied to the invoice(s).")

    def creditnote_invoices(self, cid):
        cn = self._get(self.org.creditnotes, cid, "Credit Note")
        return self.ok({"invoices_credited": [
            {"creditnote_id": cid, "creditnote_invoice_id": a["creditnote_invoice_id"], "invoice_id": a["invoice_id"],
             "invoice_number": self.org.invoices[a["invoice_id"]]["invoice_number"], "credited_amount": a["amount"]}
            for a in cn["_applied"]]})

    def refund_creditnote(self, cid):
        cn = self._get(self.org.creditnotes, cid, "Credit Note")
        b = self.body()
        if cn["status"] in ("void", "draft"):
            raise ApiError(400, 12004, f"A {cn['status']} credit note cannot be refunded.")
        acct = self.org.accounts.get(str(b.get("from_account_id") or ""))
        if acct is None or acct["account_type"] not in ("bank", "cash"):
            raise ApiError(400, 2, "Invalid value passed for from_account_id: a bank or cash account is required")
        amt = self._dec(b.get("amount"), "amount", positive=True)
        if amt > cn["balance"]:
            raise ApiError(400, 12012, "The refund amount is more than the available credit of the credit note")
        r = {"creditnote_refund_id": self.books.new_id(), "creditnote_id": cid, "date": self._date(b.get("date"), "date"),
             "refund_mode": str(b.get("refund_mode") or "cash"), "reference_number": str(b.get("reference_number") or ""),
             "amount": amt, "exchange_rate": self._dec(b.get("exchange_rate", cn["exchange_rate"]), "exchange_rate",
                                                         positive=True),
             "from_account_id": acct["account_id"], "from_account_name": acct["account_name"],
             "description": str(b.get("description") or "")}
        cn["_refunds"].append(r)
        self._refresh_creditnote(cn)
        return self.ok({"creditnote_refund": r}, "The refund information for this credit note has been saved.", 201)

    def creditnote_refunds(self, cid):
        cn = self._get(self.org.creditnotes, cid, "Credit Note")
        return self.ok({"creditnote_refunds": [dict(r) for r in cn["_refunds"]],
                        "page_context": _page_context({}, len(cn["_refunds"]))[2]})

    def creditnote_void(self, cid):
        cn = self._get(self.org.creditnotes, cid, "Credit Note")
        if cn["_applied"] or cn["_refunds"]:
            raise ApiError(400, 12013, "A credit note that has been applied or refunded cannot be voided.")
        cn["status"] = "void"
        return self.ok({}, "The credit note has been voided.")

    # ------------------------------------------------------------------ customer payments
    def _payment_view(self, p: dict) -> dict:
        return {k: v for k, v in p.items() if not k.startswith("_")}

    def create_payment(self):
        b = self.body()
        c = self.org.contacts.get(str(b.get("customer_id") or ""))
        if c is None:
            raise ApiError(400, 3004, "Customer field is blank or incorrect.")
        amount = self._dec(b.get("amount"), "amount", positive=True)
        pdate = self._date(b.get("date"), "date")
        if b.get("date") in (None, ""):
            raise ApiError(400, 2, "Invalid value passed for date")
        acct = None
        if b.get("account_id") not in (None, ""):
            acct = self.org.accounts.get(str(b["account_id"]))
            if acct is None or acct["account_type"] not in ("bank", "cash"):
                raise ApiError(400, 2, "Invalid value passed for account_id: a bank or cash account is required")
        apps = b.get("invoices") or []
        if not isinstance(apps, list):
            raise ApiError(400, 2, "Invalid value passed for invoices")
        plan = []
        applied = ZERO
        for a in apps:
            inv = self._ref(self.org.invoices, (a or {}).get("invoice_id"), "Invoice")
            amt = self._dec(a.get("amount_applied"), "amount_applied")
            if amt < 0:
                raise ApiError(400, 2, "Invalid value passed for amount_applied")
            if inv["customer_id"] != c["contact_id"]:
                raise ApiError(400, 2, "Invalid value passed for invoice_id: the invoice belongs to another customer")
            if inv["status"] == "draft":
                raise ApiError(400, 24003, "Payments cannot be recorded for invoices in the draft status. Mark the "
                                           "invoice as sent first.")
            if inv["status"] == "void":
                raise ApiError(400, 24004, "Payments cannot be recorded for void invoices.")
            if amt > inv["balance"]:
                raise ApiError(400, 24016, "The amount entered is more than the balance due for this invoice")
            plan.append((inv, amt))
            applied += amt
        if applied > amount:
            raise ApiError(400, 24017, "The total amount applied to invoices is more than the payment amount.")
        cur = self.org.currencies[c["currency_id"]]
        if cur["is_base_currency"]:
            xrate = self._dec(b.get("exchange_rate", 1), "exchange_rate", positive=True)
        else:
            if b.get("exchange_rate") in (None, ""):
                raise ApiError(400, 2, "Invalid value passed for exchange_rate: it is required when the currency "
                                       "differs from the base currency")
            xrate = self._dec(b["exchange_rate"], "exchange_rate", positive=True)
        pid = self.books.new_id()
        self.org.counters["payment"] += 1
        p = {"payment_id": pid, "payment_number": str(self.org.counters["payment"]),
             "payment_mode": str(b.get("payment_mode") or "cash"), "amount": amount, "amount_refunded": ZERO,
             "bank_charges": r2(self._dec(b.get("bank_charges") or 0, "bank_charges")), "date": pdate,
             "status": "success", "reference_number": str(b.get("reference_number") or ""),
             "description": str(b.get("description") or ""), "customer_id": c["contact_id"],
             "customer_name": c["contact_name"], "currency_id": cur["currency_id"],
             "currency_code": cur["currency_code"], "exchange_rate": xrate,
             "account_id": acct["account_id"] if acct else "", "account_name": acct["account_name"] if acct else "",
             "invoices": [], "unused_amount": amount - applied, "custom_fields": b.get("custom_fields", []),
             "created_time": zoho_time(self.now)}
        if len(p["reference_number"]) > 100:
            raise ApiError(400, 2, "Invalid value passed for reference_number")
        for inv, amt in plan:
            link = self.books.new_id()
            p["invoices"].append({"invoice_id": inv["invoice_id"], "invoice_number": inv["invoice_number"],
                                  "invoice_payment_id": link, "amount_applied": amt,
                                  "balance_amount": inv["balance"] - amt, "total": inv["total"]})
            inv["_payments"].append({"payment_id": pid, "amount": amt, "invoice_payment_id": link})
            self._refresh_invoice(inv)
        self.org.insert(self.org.payments, pid, p)
        return self.ok({"payment": self._payment_view(p)}, "The payment has been created.", 201)

    def get_payment(self, pid):
        return self.ok({"payment": self._payment_view(self._get(self.org.payments, pid, "Payment"))})

    def list_payments(self):
        q = self.q
        org = self.org
        rows = org.ordered(org.payments, _narrow(q, (
            ("reference_number", org.payment_ref), ("reference_number_startswith", org.payment_ref),
            ("reference_number_contains", org.payment_ref), ("customer_id", org.payment_customer))))
        for key, mode in (("reference_number", "contains"), ("reference_number_startswith", "startswith"),
                          ("reference_number_contains", "contains")):
            if q.get(key):
                s = q[key].lower()
                rows = [r for r in rows if (r["reference_number"].lower().startswith(s) if mode == "startswith"
                                            else s in r["reference_number"].lower())]
        if q.get("customer_id"):
            rows = [r for r in rows if r["customer_id"] == q["customer_id"]]
        return self.listing("customer_payments", rows, self._payment_view)


# =========================================================================================== sandbox
class Config:
    def __init__(self, args):
        self.port = args.port
        self.state_dir = args.state_dir
        self.seed = args.seed
        self.orders = args.orders
        self.days = args.days
        self.time_scale = args.time_scale
        self.ttl = args.ttl
        self.start_time = args.start_time
        self.store_hash = args.store_hash
        self.bc_token = args.bc_token
        self.bc_quota = args.bc_quota
        self.bc_window = args.bc_window
        self.hide_archived = args.hide_archived
        self.zoho_client_id = args.zoho_client_id
        self.zoho_client_secret = args.zoho_client_secret
        self.zoho_refresh_token = args.zoho_refresh_token
        self.zoho_grant_code = args.zoho_grant_code
        self.zoho_rpm = args.zoho_rpm
        self.zoho_daily = args.zoho_daily
        self.zoho_concurrency = args.zoho_concurrency
        self.zoho_token_ttl = args.zoho_token_ttl
        self.zoho_refresh_limit = args.zoho_refresh_limit
        self.zoho_orgs = args.zoho_orgs
        self.zoho_taxes = args.zoho_taxes
        self.zoho_preexisting = args.zoho_preexisting
        self.zoho_allow_duplicate_names = args.zoho_allow_duplicate_names
        self.tax_rounding = args.tax_rounding

    RUNTIME = {"bc_quota": int, "bc_window": float, "bc_token": str, "hide_archived": bool, "zoho_rpm": int,
               "zoho_daily": int, "zoho_concurrency": int, "zoho_token_ttl": float, "zoho_refresh_limit": int,
               "tax_rounding": str, "zoho_allow_duplicate_names": bool}

    def view(self) -> dict:
        return {k: v for k, v in vars(self).items()}


class Sandbox:
    def __init__(self, cfg: Config):
        self.cfg = cfg
        self.port = 0
        self.lock = threading.RLock()
        self.cc_lock = threading.Lock()
        self.inflight = 0
        self.clock = Clock(cfg.time_scale, cfg.start_time)
        os.makedirs(cfg.state_dir, exist_ok=True)
        self.log = RequestLog(os.path.join(cfg.state_dir, "requests.log"))
        self.faults = Faults()
        self.started_wall = time.monotonic()
        self.server: ThreadingHTTPServer | None = None
        self._stopping = threading.Event()
        self.build(cfg.seed, cfg.orders)

    def build(self, seed: int, orders: int):
        now = int(self.clock.now())
        t0 = time.monotonic()
        plan = seedlib.StorePlan(seed=seed, n_orders=orders, now=now, days=self.cfg.days,
                                 store_hash=self.cfg.store_hash)
        self.bc = BigCommerce(self, plan)
        old_tokens = getattr(self, "zoho", None)
        self.zoho = ZohoBooks(self)
        if old_tokens is not None:  # a reset keeps issued tokens valid
            self.zoho.tokens = old_tokens.tokens
            self.zoho.refresh_history = old_tokens.refresh_history
        if self.cfg.zoho_preexisting:
            preexisting(self.zoho, plan)
        self.log.note(f"# seeded store seed={seed} orders={orders} in {time.monotonic() - t0:.2f}s")

    # ---------------------------------------------------------------- request processing
    @staticmethod
    def classify(path: str) -> str:
        if path.startswith("/_sandbox/") or path == "/_sandbox":
            return "control"
        if path.startswith("/oauth/v2/token"):
            return "accounts"
        if path.startswith("/books/v3/") or path == "/books/v3":
            return "zoho"
        if path.startswith("/stores/"):
            return "bc"
        return "unknown"

    def process(self, req: Request) -> Reply:
        api = self.classify(req.path)
        if api == "control":
            with self.lock:
                try:
                    return Control(self).handle(req)
                except (ValueError, KeyError, TypeError, InvalidOperation) as e:
                    return Reply(400, {"error": f"{type(e).__name__}: {e}"})
                except Exception as e:  # noqa: BLE001 - report, never kill the server
                    self.log.note("# control error: " + "".join(traceback.format_exception(e)).replace("\n", " | "))
                    return Reply(500, {"error": f"{type(e).__name__}: {e}"})
        started = time.monotonic()
        counted = False
        try:
            if api == "zoho":
                with self.cc_lock:
                    self.inflight += 1
                    counted = True
                    inflight = self.inflight
                if inflight > self.cfg.zoho_concurrency:
                    with self.lock:
                        reply = Reply(429, {"code": 1070, "message": ZOHO_LIMIT_MESSAGES[1070]}, code=1070)
                        reply.applied = False
                        return self._record(req, api, reply, started)
            with self.lock:
                rule = self.faults.check(api, req.method, req.path, req.query_string)
            if rule and rule["action"] == "delay":
                time.sleep(max(0.0, min(float(rule["seconds"]), 600.0)))
            with self.lock:
                now = self.clock.now()
                if rule and rule["action"] in ("status", "expire_token"):
                    reply = self._fault_reply(api, req, rule)
                    reply.applied = False
                else:
                    reply = self._route(api, req, now)
                    if rule and rule["action"] != "delay":
                        reply = self._after_apply(api, req, rule, reply)
                if rule:
                    reply.fault = rule["action"]
                    rule["fired_seqs"].append(self.log.seq + 1)
                    del rule["fired_seqs"][:-50]
                return self._record(req, api, reply, started)
        finally:
            if counted:
                with self.cc_lock:
                    self.inflight -= 1

    def _route(self, api: str, req: Request, now: float) -> Reply:
        try:
            if api == "bc":
                return self.bc.handle(req, now)
            if api == "zoho":
                return self.zoho.handle(req, now)
            if api == "accounts":
                return self.zoho.token_endpoint(req, now)
            return Reply(404, {"error": "not found", "path": req.path})
        except Exception as e:  # a sandbox bug must not kill the connection silently
            self.log.note("# internal error: " + "".join(traceback.format_exception(e)).replace("\n", " | "))
            if api == "zoho":
                return Reply(500, {"code": 1000, "message": f"Internal error: {e}"}, code=1000)
            return Reply(500, {"status": 500, "title": f"Internal error: {e}"})

    def _fault_reply(self, api: str, req: Request, rule: dict) -> Reply:
        if rule["action"] == "expire_token":
            self.zoho.expire_token(req)
            code = int(rule.get("code") or 57)
            msg = rule.get("message") or ("Invalid value passed for authtoken" if code == 14 else
                                          "You are not authorized to perform this operation")
            return Reply(int(rule.get("status") or 401), {"code": code, "message": msg}, code=code)
        status = int(rule.get("status") or 500)
        return self._error_body(api, req, rule, status)

    def _error_body(self, api: str, req: Request, rule: dict, status: int) -> Reply:
        if rule.get("body") is not None:
            body = rule["body"]
            return Reply(status, body if not isinstance(body, str) else body.encode(),
                         code=body.get("code") if isinstance(body, dict) else None)
        if status in (502, 504):
            return Reply(status, f"<html><body><h1>{status} Gateway Error</h1></body></html>".encode(),
                         {"Content-Type": "text/html"})
        if api == "zoho":
            code = int(rule.get("code") or (44 if status == 429 else 1000))
            msg = rule.get("message") or (ZOHO_LIMIT_MESSAGES.get(code, "Internal error")
                                          .format(n=self.cfg.zoho_daily))
            return Reply(status, {"code": code, "message": msg}, code=code)
        if api == "accounts":
            return Reply(status, {"error": rule.get("message") or "server_error"})
        if api == "bc":
            msg = rule.get("message") or f"Injected failure {status}"
            if "/v2/" in req.path:
                return Reply(status, [{"status": status, "message": msg}])
            return Reply(status, {"status": status, "title": msg, "type": "about:blank"})
        return Reply(status, {"error": "injected"})

    def _after_apply(self, api: str, req: Request, rule: dict, reply: Reply) -> Reply:
        action = rule["action"]
        if action == "drop_after_apply":
            reply.drop = True
            return reply
        if action == "status_after_apply":
            out = self._error_body(api, req, rule, int(rule.get("status") or 502))
            out.applied = reply.applied
            return out
        if action == "truncate_after_apply":
            body = reply.body or b'{"code":0}'
            reply.body = body[: max(1, len(body) // 2)]
            return reply
        if action == "garble":
            reply.body = b"\x00\xffgarbled<<" + bytes(reversed(reply.body[:64])) + b">>not json"
            reply.headers["Content-Type"] = "application/json; charset=utf-8"
            return reply
        return reply

    def _record(self, req: Request, api: str, reply: Reply, started: float) -> Reply:
        self.log.record({
            "time": round(self.clock.now(), 3), "wall": round(time.time(), 3), "method": req.method,
            "path": req.path, "query": req.query_string, "status": 0 if reply.drop else reply.status, "api": api,
            "code": reply.code if api in ("zoho", "accounts") else None, "org": reply.org,
            "fault": reply.fault, "applied": reply.applied,
            "duration_ms": round((time.monotonic() - started) * 1000, 2)})
        return reply

    # ---------------------------------------------------------------- state
    def state(self) -> dict:
        orgs = {}
        for oid, org in self.zoho.orgs.items():
            r = ZohoRoutes(self.zoho, org, Request("GET", "/", "", {}, b""), self.clock.now())
            orgs[oid] = {
                "organization": org.record(),
                "taxes": list(org.taxes.values()),
                "contacts": [r._contact_view(c) for c in org.contacts.values()],
                "items": list(org.items.values()),
                "invoices": [r._invoice_view(i) for i in org.invoices.values()],
                "creditnotes": [r._cn_view(c) for c in org.creditnotes.values()],
                "payments": [r._payment_view(p) for p in org.payments.values()],
                "calls": {"last_60s": len(org.window), "today": dict(org.daily)},
            }
        return {"time": self.clock.now(), "zoho": {"organizations": orgs}, "bc": self.bc.summary(),
                "config": self.cfg.view()}

    def persist(self):
        try:
            path = os.path.join(self.cfg.state_dir, "state.json")
            with open(path + ".tmp", "wb") as fh:
                fh.write(dumps(self.state()))
            os.replace(path + ".tmp", path)
        except OSError as e:
            self.log.note(f"# could not write state.json: {e}")

    def stop(self):
        if self._stopping.is_set():
            return
        self._stopping.set()

        def _go():
            with self.lock:
                self.persist()
            if self.server:
                self.server.shutdown()
        threading.Thread(target=_go, daemon=True).start()


def preexisting(books: ZohoBooks, plan: seedlib.StorePlan):
    """A few Zoho documents that already exist before the first sync, to exercise adoption."""
    org = next(iter(books.orgs.values()))
    now = books.sb.clock.now()
    r = ZohoRoutes(books, org, Request("POST", "/", "", {"Content-Type": "application/json"}, b""), now)

    def contact(name, email, fn="", ln=""):
        r.req.body = dumps({"contact_name": name, "contact_persons": [{"first_name": fn, "last_name": ln,
                                                                         "email": email, "is_primary_contact": True}]})
        return r.create_contact()

    custs = list(plan.customers.values())
    if custs:
        c = custs[0]  # adopt by email, stored with different case
        contact(f"{c['first_name']} {c['last_name']} (existing)", c["email"].upper(), c["first_name"], c["last_name"])
    if len(custs) > 3:
        c = custs[3]  # a decoy whose email merely contains the customer's email
        contact(f"Decoy {c['last_name']}", "x" + c["email"], "Decoy", c["last_name"])
        c = custs[2]  # a different person who already uses the customer's natural display name
        contact(f"{c['first_name']} {c['last_name']}", f"someone.else.{c['id']}@example.org", c["first_name"],
                c["last_name"])
    for body in ({"name": "Classic Tee (S)", "sku": "TEE-CL-S", "rate": "19.99"},  # adopt by SKU
                 {"name": "Classic Tee (M) old", "sku": "TEE-CL-M-OLD", "rate": "19.99"},  # loose SKU decoy
                 {"name": "Ceramic Mug", "sku": "LEGACY-MUG", "rate": "12.99"}):  # name clash, other SKU
        r.req.body = dumps(body)
        r.create_item()


# =========================================================================================== control
class Control:
    def __init__(self, sb: Sandbox):
        self.sb = sb

    def handle(self, req: Request) -> Reply:
        sb = self.sb
        path = req.path.rstrip("/")
        body = {}
        if req.body:
            try:
                body = loads(req.body)
            except ValueError:
                return Reply(400, {"error": "the body must be JSON"})
        now = sb.clock.now()
        m = req.method
        if path == "/_sandbox/health":
            return Reply(200, {"ok": True, "port": sb.port, "time": now, "pid": os.getpid(),
                               "zoho_in_flight": sb.inflight})
        if path == "/_sandbox/requests" and m == "GET":
            since = int(req.q.get("since", 0) or 0)
            rows = sb.log.since(since)
            if req.q.get("api"):
                rows = [e for e in rows if e["api"] == req.q["api"]]
            return Reply(200, {"requests": rows, "last_seq": sb.log.seq})
        if path == "/_sandbox/requests" and m == "DELETE":
            sb.log.clear()
            return Reply(200, {"ok": True, "last_seq": sb.log.seq})
        if path == "/_sandbox/state" and m == "GET":
            return Reply(200, sb.state())
        if path == "/_sandbox/reset" and m == "POST":
            seed = int(body.get("seed", sb.cfg.seed))
            orders = int(body.get("orders", sb.cfg.orders))
            if "zoho_preexisting" in body:
                sb.cfg.zoho_preexisting = bool(body["zoho_preexisting"])
            sb.cfg.seed, sb.cfg.orders = seed, orders
            sb.build(seed, orders)
            sb.faults.clear()
            if not body.get("keep_log", False):
                sb.log.clear()
            return Reply(200, {"ok": True, "seed": seed, "orders": orders, "bc": sb.bc.summary()})
        if path == "/_sandbox/save" and m == "POST":
            sb.persist()
            return Reply(200, {"ok": True, "path": os.path.join(sb.cfg.state_dir, "state.json")})
        if path == "/_sandbox/shutdown" and m == "POST":
            sb.stop()
            return Reply(200, {"ok": True})
        if path == "/_sandbox/clock":
            if m == "POST":
                if "advance" in body:
                    sb.clock.advance(float(body["advance"]))
                if "set" in body:
                    sb.clock.set(_ts(body["set"]))
            return Reply(200, {"time": sb.clock.now(), "scale": sb.clock.scale})
        if path == "/_sandbox/config":
            if m == "POST":
                for k, v in body.items():
                    if k not in Config.RUNTIME:
                        return Reply(400, {"error": f"{k} cannot be changed at run time",
                                           "changeable": sorted(Config.RUNTIME)})
                    setattr(sb.cfg, k, Config.RUNTIME[k](v))
                    if k == "tax_rounding":
                        for org in sb.zoho.orgs.values():
                            org.tax_rounding = str(v)
            return Reply(200, sb.cfg.view())
        if path == "/_sandbox/faults":
            if m == "DELETE":
                sb.faults.clear()
            elif m == "POST":
                if isinstance(body, dict) and "action" in body:
                    rules = [body]
                else:
                    rules = body.get("rules") if isinstance(body, dict) else body
                if isinstance(body, dict) and body.get("clear"):
                    sb.faults.clear()
                if isinstance(rules, dict):
                    rules = [rules]
                added = [sb.faults.add(r) for r in (rules or [])]
                return Reply(200, {"added": [r["id"] for r in added], "rules": sb.faults.rules})
            return Reply(200, {"rules": sb.faults.rules})
        if path == "/_sandbox/zoho/revoke" and m == "POST":
            tok = body.get("refresh_token", sb.cfg.zoho_refresh_token)
            sb.zoho.refresh_tokens.setdefault(tok, {})["revoked"] = True
            return Reply(200, {"ok": True})
        if path == "/_sandbox/zoho/tokens" and m == "GET":
            return Reply(200, {"tokens": [{"expires": v["expires"], "expired": v["expired"] or now >= v["expires"]}
                                          for v in sb.zoho.tokens.values()],
                               "refreshes_last_10min": {("…" + k[-4:]): len([t for t in h if t > now - 600])
                                                        for k, h in sb.zoho.refresh_history.items()}})
        if m == "POST" and path == "/_sandbox/bc/orders":
            return Reply(200, sb.bc.control_order(body, now))
        if m == "POST" and path == "/_sandbox/bc/refunds":
            return Reply(200, sb.bc.control_refund(body, now))
        if m == "POST" and path == "/_sandbox/bc/customers":
            return Reply(200, sb.bc.control_customer(body, now))
        if m == "POST" and path == "/_sandbox/bc/transactions":
            return Reply(200, sb.bc.control_transaction(body, now))
        mm = re.fullmatch(r"/_sandbox/bc/orders/(\d+)", path)
        if mm and m == "GET":
            o = sb.bc.order(int(mm.group(1)))
            if o is None:
                return Reply(404, {"error": "no such order"})
            return Reply(200, {**sb.bc.render_order(o, {"consignments.line_items", "fees"}, True),
                               "_taxes": o["_taxes"], "_coupons": o["_coupons"],
                               "_transactions": [sb.bc.public(t) for t in o["_transactions"]],
                               "_refunds": [sb.bc.public(r) for r in o["_refunds"]]})
        return Reply(404, {"error": f"unknown control endpoint {m} {path}"})


# =========================================================================================== HTTP
class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; without this, Nagle's algorithm holds the body ~40 ms
    # on every reply of a kept-alive connection.
    disable_nagle_algorithm = True
    server_version = "zbsandbox/1.0"
    timeout = 120  # idle keep-alive connections are closed
    sandbox: Sandbox = None  # set by main

    def log_message(self, fmt, *args):  # quiet: requests go to the state dir log
        pass

    def _handle(self):
        sb = self.sandbox
        split = urlsplit(self.path)
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            self.close_connection = True
            self._send(Reply(413, {"error": "request body too large", "limit": MAX_BODY}))
            return
        body = self.rfile.read(length) if length else b""
        headers = {k: v for k, v in self.headers.items()}
        # Header lookups are case-insensitive.
        req = Request(self.command, split.path, split.query, _CIDict(headers), body)
        reply = sb.process(req)
        if reply.drop:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self._send(reply)

    def _send(self, reply: Reply):
        try:
            self.send_response(reply.status)
            for k, v in reply.headers.items():
                self.send_header(k, v)
            if reply.status != 204 and reply.status >= 200:
                self.send_header("Content-Length", str(len(reply.body)))
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if reply.status != 204 and reply.body:
                self.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle


class _CIDict(dict):
    def __init__(self, src: dict):
        super().__init__({k.lower(): v for k, v in src.items()})

    def get(self, key, default=None):
        return super().get(key.lower(), default)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def handle_error(self, request, client_address):
        # A client that hangs up mid-reply is not news; anything else goes to the log file, not stderr.
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)):
            return
        sb = Handler.sandbox
        if sb is not None:
            sb.log.note("# connection error: " + traceback.format_exc().replace("\n", " | "))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description="Local emulator of the BigCommerce and Zoho Books APIs for zbsync.")
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0 = pick a free one)")
    p.add_argument("--port-file", help="write the port here once listening")
    p.add_argument("--state-dir", required=True, help="folder for requests.log and state.json")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--orders", type=int, default=50)
    p.add_argument("--days", type=int, default=30, help="spread orders over this many days before now")
    p.add_argument("--time-scale", type=float, default=1.0, help="sandbox seconds per wall second")
    p.add_argument("--start-time", type=float, default=None, help="sandbox clock start (unix seconds)")
    p.add_argument("--ttl", type=float, default=1800.0, help="stop after this many wall seconds")
    p.add_argument("--store-hash", default="sbx1a2b3c")
    p.add_argument("--bc-token", default="bc-sandbox-token")
    p.add_argument("--bc-quota", type=int, default=450, help="BigCommerce requests per window")
    p.add_argument("--bc-window", type=float, default=30.0, help="BigCommerce window, sandbox seconds")
    p.add_argument("--hide-archived", action="store_true", help="leave archived orders out of GET /v2/orders")
    p.add_argument("--zoho-client-id", default="zoho-sandbox-client")
    p.add_argument("--zoho-client-secret", default="zoho-sandbox-secret")
    p.add_argument("--zoho-refresh-token", default="zoho-sandbox-refresh")
    p.add_argument("--zoho-grant-code", default="zoho-sandbox-code")
    p.add_argument("--zoho-rpm", type=int, default=100, help="Zoho requests per rolling 60 s per organization")
    p.add_argument("--zoho-daily", type=int, default=1000, help="Zoho requests per day per organization")
    p.add_argument("--zoho-concurrency", type=int, default=10, help="Zoho requests in flight")
    p.add_argument("--zoho-token-ttl", type=float, default=3600.0, help="access-token lifetime, sandbox seconds")
    p.add_argument("--zoho-refresh-limit", type=int, default=10, help="refreshes per 10 minutes per refresh token")
    p.add_argument("--zoho-orgs", type=int, default=1, choices=(1, 2))
    p.add_argument("--zoho-taxes", default=None, help="comma-separated tax percentages the org starts with "
                                                      "(default: 8.875,20 named 'NY State Sales Tax' and 'VAT')")
    p.add_argument("--zoho-preexisting", action="store_true", help="seed a few Zoho contacts and items")
    p.add_argument("--zoho-allow-duplicate-names", action="store_true")
    p.add_argument("--tax-rounding", default="item_level", choices=("item_level", "entity_level"))
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    cfg = Config(args)
    sb = Sandbox(cfg)
    Handler.sandbox = sb
    server = Server(("127.0.0.1", args.port), Handler)
    sb.server = server
    sb.port = server.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as fh:
            fh.write(str(sb.port))
        os.replace(tmp, args.port_file)
    sb.log.note(f"# listening on 127.0.0.1:{sb.port} pid={os.getpid()} ttl={args.ttl}s scale={args.time_scale}")
    timer = threading.Timer(max(1.0, args.ttl), sb.stop)
    timer.daemon = True
    timer.start()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: sb.stop())
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        timer.cancel()
        server.server_close()
        sb.log.note("# stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
