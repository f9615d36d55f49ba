"""Tests of the zbsync sandbox: `python3 -m unittest sandbox/test_sandbox.py -v` (standard library only)."""

from __future__ import annotations

import concurrent.futures
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse
from decimal import Decimal as D

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import seed  # noqa: E402
import zbsandbox  # noqa: E402

STORE = "sbx1a2b3c"
BC_TOKEN = "bc-sandbox-token"


class Sandbox:
    """Starts the sandbox as a subprocess on a free port and talks to it."""

    def __init__(self, *flags: str):
        self.dir = tempfile.TemporaryDirectory(prefix="zbsandbox-test-")
        port_file = os.path.join(self.dir.name, "port")
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "zbsandbox.py"), "--port", "0", "--port-file", port_file,
             "--state-dir", self.dir.name, "--ttl", "120", *flags],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 15
        while not os.path.exists(port_file):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("sandbox did not start: " + self.proc.stderr.read().decode())
            time.sleep(0.02)
        with open(port_file) as fh:
            self.port = int(fh.read())
        self._token = None

    def close(self):
        if self.proc.poll() is None:
            try:
                self.request("POST", "/_sandbox/shutdown")
                self.proc.wait(5)
            except Exception:  # noqa: BLE001
                self.proc.kill()
                self.proc.wait(5)
        self.proc.stderr.close()
        self.dir.cleanup()

    # ------------------------------------------------------------------ raw HTTP
    def request(self, method, path, body=None, headers=None, raw=False):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        try:
            data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
            h = dict(headers or {})
            if data is not None and not isinstance(body, bytes):
                h.setdefault("Content-Type", "application/json")
            conn.request(method, path, body=data, headers=h)
            resp = conn.getresponse()
            payload = resp.read()
            hdrs = {k.lower(): v for k, v in resp.getheaders()}
            if raw:
                return resp.status, payload, hdrs
            return resp.status, (json.loads(payload, parse_float=D) if payload else None), hdrs
        finally:
            conn.close()

    def control(self, method, path, body=None):
        status, data, _ = self.request(method, "/_sandbox/" + path, body)
        assert status == 200, (status, data)
        return data

    # ------------------------------------------------------------------ BigCommerce
    def bc(self, path, token=BC_TOKEN, accept="application/json", store=STORE):
        h = {}
        if token:
            h["X-Auth-Token"] = token
        if accept:
            h["Accept"] = accept
        return self.request("GET", f"/stores/{store}{path}", headers=h)

    # ------------------------------------------------------------------ Zoho
    def refresh(self, **over):
        form = {"grant_type": "refresh_token", "client_id": "zoho-sandbox-client",
                "client_secret": "zoho-sandbox-secret", "refresh_token": "zoho-sandbox-refresh", **over}
        return self.request("POST", "/oauth/v2/token", urllib.parse.urlencode(form).encode(),
                            {"Content-Type": "application/x-www-form-urlencoded"})

    def token(self):
        if self._token is None:
            status, body, _ = self.refresh()
            assert status == 200 and "access_token" in body, body
            self._token = body["access_token"]
        return self._token

    def org_id(self):
        status, body, _ = self.zoho("GET", "/organizations", org=False)
        return body["organizations"][0]["organization_id"]

    def zoho(self, method, path, body=None, query=None, org=True, token=None, headers=None):
        q = dict(query or {})
        if org:
            q.setdefault("organization_id", "10234695")
        url = "/books/v3" + path + ("?" + urllib.parse.urlencode(q) if q else "")
        h = {"Authorization": "Zoho-oauthtoken " + (token or self.token())}
        h.update(headers or {})
        return self.request(method, url, body, h)

    def ok(self, method, path, body=None, query=None, expect=(200, 201)):
        status, data, _ = self.zoho(method, path, body, query)
        assert status in expect and data["code"] == 0, (status, data)
        return data


class Base(unittest.TestCase):
    flags: tuple = ()

    @classmethod
    def setUpClass(cls):
        cls.sb = Sandbox(*cls.flags)

    @classmethod
    def tearDownClass(cls):
        cls.sb.close()

    def setUp(self):
        self.sb.control("POST", "reset", {})


def _contact(sb, name, email="", currency_id=None):
    body = {"contact_name": name, "contact_persons": [{"first_name": name, "email": email,
                                                        "is_primary_contact": True}]}
    if currency_id:
        body["currency_id"] = currency_id
    return sb.ok("POST", "/contacts", body)["contact"]


def _taxes(sb):
    return {t["tax_name"]: t for t in sb.ok("GET", "/settings/taxes")["taxes"]}


def _invoice(sb, customer_id, number, lines=None, **extra):
    body = {"customer_id": customer_id, "invoice_number": number,
            "line_items": lines or [{"name": "Thing", "rate": 10, "quantity": 1}], **extra}
    return sb.zoho("POST", "/invoices", body, {"ignore_auto_number_generation": "true"})


def _creditnote(sb, customer_id, number, lines=None, **extra):
    body = {"customer_id": customer_id, "creditnote_number": number,
            "line_items": lines or [{"name": "Refund", "rate": 10, "quantity": 1}], **extra}
    return sb.ok("POST", "/creditnotes", body, {"ignore_auto_number_generation": "true"})["creditnote"]


# ============================================================================== seed (no server)
class SeedTests(unittest.TestCase):
    NOW = 1767225600

    def _orders(self, s, n):
        plan = seed.StorePlan(seed=s, n_orders=n, now=self.NOW)
        return plan, [plan.order(oid) for oid in plan.orders]

    def test_determinism(self):
        _, a = self._orders(7, 60)
        _, b = self._orders(7, 60)
        _, c = self._orders(8, 60)
        dump = lambda os_: json.dumps(os_, default=str, sort_keys=True)  # noqa: E731
        self.assertEqual(dump(a), dump(b))
        self.assertNotEqual(dump(a), dump(c))

    def test_orders_are_internally_consistent(self):
        for s in (1, 2, 3, 42):
            plan, orders = self._orders(s, 80)
            for o in orders:
                with self.subTest(seed=s, order=o["id"]):
                    self._check_order(o)
            for slot in plan.refund_slots:
                o = plan.order(slot["order_id"])
                self.assertTrue(any(r["id"] == slot["id"] for r in o["_refunds"]))

    def _check_order(self, o):
        m = lambda k, src=o: D(src[k])  # noqa: E731
        products = o["_products"]
        disc_inc = sum(m("total_inc_tax", p) - m("discounted_total_inc_tax", p) for p in products)
        fees = sum(D(f["cost_inc_tax"]) for f in o["_fees"])
        self.assertEqual(m("total_inc_tax"), m("subtotal_inc_tax") + m("shipping_cost_inc_tax")
                         + m("handling_cost_inc_tax") + m("wrapping_cost_inc_tax") + fees - disc_inc)
        self.assertEqual(m("subtotal_inc_tax"), sum(m("total_inc_tax", p) for p in products))
        self.assertEqual(m("total_tax"), sum(D(t["line_amount"]) for t in o["_taxes"]))
        self.assertEqual(m("total_ex_tax") + m("total_tax"), m("total_inc_tax"))
        for p in products:
            self.assertEqual(m("total_ex_tax", p) + m("total_tax", p), m("total_inc_tax", p))
            basis = "total_inc_tax" if o["is_tax_inclusive_pricing"] else "total_ex_tax"
            applied = sum(D(a["amount"]) for a in p["applied_discounts"])
            after = m(basis, p) - applied
            if o["is_tax_inclusive_pricing"]:
                self.assertEqual(m("discounted_total_inc_tax", p), after)
            if p["parent_order_product_id"]:
                self.assertEqual(m("total_inc_tax", p), 0)
                self.assertTrue(p["is_bundled_product"])
        self.assertEqual(m("discount_amount") + m("coupon_discount"),
                         sum(D(a["amount"]) for p in products for a in p["applied_discounts"]))
        for r in o["_refunds"]:
            self.assertEqual(D(str(r["total_amount"])), sum(D(str(p["amount"])) for p in r["payments"]))
            self.assertLessEqual(D(str(r["total_amount"])), m("total_inc_tax"))
        for t in o["_transactions"]:
            self.assertIsInstance(t["order_id"], str)
        self.assertTrue(o["date_created"] == "" and o["_modified"] >= o["_created"])

    def test_mix(self):
        plan, orders = self._orders(1, 50)
        f = plan.features
        for feature in ("guest", "guest_returning", "returning_customer", "bundle", "no_sku", "coupon",
                        "manual_discount", "wrap", "fee", "handling", "currency_EUR", "store_credit",
                        "gift_certificate", "rounding_case", "cancelled_after_awaiting_fulfillment",
                        "same_second_modified", "customers_same_name"):
            self.assertIn(feature, f, feature)
        statuses = {o["status_id"] for o in orders}
        self.assertTrue({0, 1, 2, 4, 5, 6, 7, 10, 11, 14} <= statuses, statuses)
        self.assertTrue(any(o["is_tax_inclusive_pricing"] for o in orders))
        self.assertTrue(any(not o["is_tax_inclusive_pricing"] for o in orders))
        rates = {D(t["rate"]) for o in orders for t in o["_taxes"]}
        self.assertTrue({D("8.875"), D("20"), D("5")} <= rates, rates)
        events = {(t["event"], t["status"]) for o in orders for t in o["_transactions"]}
        for e in (("purchase", "ok"), ("capture", "ok"), ("authorization", "ok"), ("purchase", "error")):
            self.assertIn(e, events)
        # rounding cases: per-line rounding differs from per-document rounding
        for oid in f["rounding_case"]:
            o = plan.order(oid)
            r = D(o["_tax_pct"]) / 100
            inc = o["is_tax_inclusive_pricing"]
            raw = []
            for t in o["_taxes"]:
                if t["line_item_type"] == "item":
                    p = next(p for p in o["_products"] if str(p["id"]) == t["order_product_id"])
                    amount = D(p["discounted_total_inc_tax"]) if inc else D(p["total_ex_tax"])
                elif t["line_item_type"] == "shipping":
                    amount = D(o["shipping_cost_inc_tax" if inc else "shipping_cost_ex_tax"])
                elif t["line_item_type"] == "handling":
                    amount = D(o["handling_cost_inc_tax" if inc else "handling_cost_ex_tax"])
                else:
                    p = next(p for p in o["_products"] if str(p["id"]) == t["order_product_id"])
                    amount = D(p["wrapping_cost_inc_tax" if inc else "wrapping_cost_ex_tax"])
                raw.append(amount * (r / (1 + r) if inc else r))
            self.assertNotEqual(D(o["total_tax"]), seed.r2(sum(raw)), oid)

    def test_5000_orders_fast(self):
        t = time.monotonic()
        plan = seed.StorePlan(seed=3, n_orders=5000, now=self.NOW)
        for oid in plan.orders:
            plan.order(oid)
        self.assertLess(time.monotonic() - t, 5.0)


class TotalsTests(unittest.TestCase):
    TAXES = {"t1": {"tax_name": "NY", "tax_percentage": D("8.875")}, "t2": {"tax_name": "VAT", "tax_percentage": D("20")}}

    def _lines(self, spec):
        return [dict(rate=D(r), quantity=D(q), **kw) for r, q, kw in spec]

    def test_exclusive_both_roundings(self):
        lines = self._lines([("1.05", "1", {"tax_id": "t1"})] * 3 + [
            ("10.00", "2", {"tax_id": "t2", "discount_amount": "1.50"}), ("5.00", "1", {})])
        item = zbsandbox.compute_totals(lines, self.TAXES, False, D("4.99"), D("-0.01"), "item_level")
        self.assertEqual((item["sub_total"], item["tax_total"], item["total"]), (D("26.65"), D("3.97"), D("35.60")))
        self.assertEqual([l["item_total"] for l in item["lines"]], [D("1.05")] * 3 + [D("18.50"), D("5.00")])
        ent = zbsandbox.compute_totals(lines, self.TAXES, False, D("4.99"), D("-0.01"), "entity_level")
        self.assertEqual((ent["sub_total"], ent["tax_total"], ent["total"]), (D("26.65"), D("3.98"), D("35.61")))

    def test_inclusive_both_roundings(self):
        lines = self._lines([("12.34", "1", {"tax_id": "t2"})] * 2 + [("9.99", "3", {"tax_id": "t1", "discount": "10%"})])
        item = zbsandbox.compute_totals(lines, self.TAXES, True, D("0"), D("0"), "item_level")
        self.assertEqual(item["lines"][2]["item_total"], D("26.97"))
        self.assertEqual((item["sub_total"], item["tax_total"], item["total"]), (D("45.33"), D("6.32"), D("51.65")))
        ent = zbsandbox.compute_totals(lines, self.TAXES, True, D("0"), D("0"), "entity_level")
        self.assertEqual((ent["sub_total"], ent["tax_total"], ent["total"]), (D("45.34"), D("6.31"), D("51.65")))

    def test_half_up(self):
        # 0.125 -> 0.13 (half-up, not banker's)
        r = zbsandbox.compute_totals(self._lines([("0.125", "1", {})]), {}, False, D("0"), D("0"))
        self.assertEqual(r["total"], D("0.13"))


# ============================================================================== BigCommerce
class BigCommerceTests(Base):
    flags = ("--seed", "5", "--orders", "60", "--bc-quota", "1000")

    def test_auth_accept_and_store(self):
        status, body, _ = self.sb.bc("/v2/orders", token="nope")
        self.assertEqual(status, 401)
        self.assertIsInstance(body, list)
        self.assertEqual(body[0]["status"], 401)
        status, body, _ = self.sb.bc("/v3/customers", token=None)
        self.assertEqual(status, 401)
        self.assertEqual(body["status"], 401)
        self.assertIn("title", body)
        status, _, _ = self.sb.bc("/v2/orders", accept=None)
        self.assertEqual(status, 406)
        status, _, _ = self.sb.bc("/v2/orders", store="other")
        self.assertEqual(status, 404)

    def test_204_and_413(self):
        status, body, _ = self.sb.bc("/v2/orders?min_id=999999")
        self.assertEqual((status, body), (204, None))
        status, body, _ = self.sb.bc("/v2/orders?page=50&limit=250")
        self.assertEqual((status, body), (204, None))
        status, body, _ = self.sb.bc("/v2/orders?limit=251")
        self.assertEqual(status, 413)
        status, body, _ = self.sb.bc("/v2/orders/100/products?limit=500")
        self.assertEqual(status, 413)
        status, body, _ = self.sb.bc("/v2/orders/999999")
        self.assertEqual(status, 404)
        self.assertEqual(body[0]["status"], 404)

    def test_list_paging_and_shapes(self):
        status, page1, hdrs = self.sb.bc("/v2/orders")
        self.assertEqual(status, 200)
        self.assertEqual(len(page1), 50)
        self.assertIn("x-rate-limit-requests-left", hdrs)
        _, page2, _ = self.sb.bc("/v2/orders?page=2")
        self.assertEqual(len(page2), 10)
        o = page1[0]
        self.assertRegex(o["date_created"], r"^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000$")
        self.assertRegex(o["total_inc_tax"], r"^\d+\.\d{4}$")
        self.assertEqual(set(o["products"]), {"url", "resource"})
        status, full, _ = self.sb.bc("/v2/orders?limit=5&include=consignments.line_items,fees&consignment_structure=object")
        c = full[0]["consignments"]
        self.assertEqual(set(c), {"shipping", "pickups", "downloads", "email"})
        self.assertIsInstance(c["shipping"][0]["line_items"], list)
        self.assertIn("price_ex_tax", c["shipping"][0]["line_items"][0])
        self.assertIsInstance(full[0]["fees"], list)

    def test_date_filters_inclusive_and_sorted(self):
        _, orders, _ = self.sb.bc("/v2/orders?limit=250&sort=date_modified:asc")
        mods = [o["date_modified"] for o in orders]
        ts = [zbsandbox.parse_bc_date(m) for m in mods]
        self.assertEqual(ts, sorted(ts))
        pivot = orders[20]
        q = urllib.parse.quote(pivot["date_modified"])
        _, sub, _ = self.sb.bc(f"/v2/orders?limit=250&sort=date_modified:asc&min_date_modified={q}")
        self.assertIn(pivot["id"], [o["id"] for o in sub])
        self.assertTrue(all(zbsandbox.parse_bc_date(o["date_modified"]) >= ts[20] for o in sub))
        iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts[20])) + "+00:00"
        _, sub2, _ = self.sb.bc(f"/v2/orders?limit=250&sort=date_modified:asc&max_date_modified={urllib.parse.quote(iso)}")
        self.assertIn(pivot["id"], [o["id"] for o in sub2])
        status, body, _ = self.sb.bc("/v2/orders?min_date_modified=yesterday")
        self.assertEqual(status, 400)
        # a literal '+' decodes to a space: refused, like a bad date
        status, _, _ = self.sb.bc("/v2/orders?min_date_modified=2026-01-01T00:00:00+00:00")
        self.assertEqual(status, 400)

    def test_subresources_consistent(self):
        _, orders, _ = self.sb.bc("/v2/orders?limit=250")
        for o in orders[:30]:
            status, taxes, _ = self.sb.bc(f"/v2/orders/{o['id']}/taxes?details=true")
            rows = taxes or []
            self.assertEqual(sum(D(t["line_amount"]) for t in rows), D(o["total_tax"]))
            for t in rows:
                self.assertIn(t["line_item_type"], ("item", "shipping", "handling", "gift-wrapping"))
            status, products, _ = self.sb.bc(f"/v2/orders/{o['id']}/products")
            self.assertEqual(status, 200)
            status, fees, _ = self.sb.bc(f"/v2/orders/{o['id']}/fees")
            self.assertIn("fees", fees)
            status, tx, _ = self.sb.bc(f"/v3/orders/{o['id']}/transactions")
            if status == 200:
                self.assertIsInstance(tx["data"][0]["order_id"], str)
                self.assertNotIsInstance(tx["data"][0]["amount"], str)
            else:
                self.assertEqual((status, tx), (204, None))

    def test_refunds_and_customers(self):
        status, refunds, _ = self.sb.bc("/v3/orders/payment_actions/refunds?limit=250")
        self.assertEqual(status, 200)
        ids = [r["id"] for r in refunds["data"]]
        self.assertEqual(ids, sorted(ids))
        self.assertTrue(ids)
        first = refunds["data"][len(ids) // 2]
        q = urllib.parse.quote(first["created"])
        _, later, _ = self.sb.bc(f"/v3/orders/payment_actions/refunds?created:min={q}")
        self.assertIn(first["id"], [r["id"] for r in later["data"]])
        _, per_order, _ = self.sb.bc(f"/v3/orders/{first['order_id']}/payment_actions/refunds")
        self.assertIn(first["id"], [r["id"] for r in per_order["data"]])
        # cursor paging walks every customer exactly once
        seen, path = [], "/v3/customers?limit=7&sort=date_modified:asc&include=addresses"
        while True:
            status, page, _ = self.sb.bc(path)
            self.assertEqual(status, 200)
            seen += [c["id"] for c in page["data"]]
            nxt = page["meta"]["cursor_pagination"]["links"].get("next")
            if not nxt:
                break
            path = "/v3/customers" + nxt + "&sort=date_modified:asc"
        _, everyone, _ = self.sb.bc("/v3/customers?limit=250")
        self.assertEqual(sorted(seen), sorted(c["id"] for c in everyone["data"]))
        self.assertEqual(len(seen), len(set(seen)))

    def test_control_edits_bump_date_modified(self):
        _, t, _ = self.sb.bc("/v2/time")
        created = self.sb.control("POST", "bc/orders", {"lines": [{"name": "Widget", "sku": "W-1", "price": "9.99",
                                                                   "quantity": 2}], "tax_pct": "8.875",
                                                        "shipping": "5.00"})
        oid = created["id"]
        self.assertEqual(created["total_inc_tax"], "27.1900")  # 19.98 + 1.77 + 5.00 + 0.44
        self.sb.control("POST", "clock", {"advance": 120})
        edited = self.sb.control("POST", "bc/orders", {"id": oid, "status_id": 5})
        self.assertEqual(edited["status"], "Cancelled")
        self.assertGreaterEqual(zbsandbox.parse_bc_date(edited["date_modified"]), t["time"] + 120)
        refund = self.sb.control("POST", "bc/refunds", {"order_id": 101, "amount": "1.00"})
        status, got, _ = self.sb.bc(f"/v2/orders/101")
        self.assertIn(got["status_id"], (4, 14))
        _, rf, _ = self.sb.bc(f"/v3/orders/payment_actions/refunds?id:in={refund['id']}")
        self.assertEqual(rf["data"][0]["total_amount"], D("1.00"))

    def test_control_raw_overrides(self):
        created = self.sb.control("POST", "bc/orders", {"lines": [{"name": "Widget", "sku": "W-1", "price": "5.00"}]})
        oid = created["id"]
        edited = self.sb.control("POST", "bc/orders", {"id": oid, "raw": {"date_created": "not a date",
                                                                          "total_inc_tax": {"amount": 1}},
                                                       "raw_unset": ["date_modified"]})
        self.assertEqual(edited["date_created"], "not a date")
        self.assertNotIn("date_modified", edited)
        # The list and the single order show the overrides; filters still use the real dates.
        _, t, _ = self.sb.bc("/v2/time")
        since = urllib.parse.quote(seed.rfc2822(t["time"] - 60))
        _, rows, _ = self.sb.bc(f"/v2/orders?min_id={oid}&max_id={oid}&min_date_modified={since}")
        self.assertEqual(len(rows), 1)
        self.assertEqual(rows[0]["total_inc_tax"], {"amount": 1})
        self.assertNotIn("date_modified", rows[0])
        _, one, _ = self.sb.bc(f"/v2/orders/{oid}")
        self.assertEqual(one["date_created"], "not a date")
        # Overrides survive an edit of the lines, and `{}` / `[]` clear them.
        self.sb.control("POST", "bc/orders", {"id": oid, "lines": [{"name": "Widget", "sku": "W-1", "quantity": 2}]})
        _, one, _ = self.sb.bc(f"/v2/orders/{oid}")
        self.assertEqual(one["date_created"], "not a date")
        self.sb.control("POST", "bc/orders", {"id": oid, "raw": {}, "raw_unset": []})
        _, one, _ = self.sb.bc(f"/v2/orders/{oid}")
        self.assertEqual(one["total_inc_tax"], "21.7800")
        self.assertIn("date_modified", one)
        self.assertGreater(zbsandbox.parse_bc_date(one["date_created"]), 0)
        # A new order can be made with overrides; a malformed override is refused and changes nothing.
        fresh = self.sb.control("POST", "bc/orders", {"lines": [{"name": "Gadget"}], "raw": {"status_id": None}})
        self.assertIsNone(fresh["status_id"])
        status, _, _ = self.sb.request("POST", "/_sandbox/bc/orders", {"id": oid, "status_id": 5, "raw": ["x"]})
        self.assertEqual(status, 400)
        _, one, _ = self.sb.bc(f"/v2/orders/{oid}")
        self.assertNotEqual(one["status_id"], 5)


class BigCommerceRateLimitTests(Base):
    flags = ("--bc-quota", "5", "--orders", "5")

    def test_429_after_quota(self):
        statuses = [self.sb.bc("/v2/time")[0] for _ in range(6)]
        self.assertEqual(statuses, [200] * 5 + [429])
        _, _, hdrs = self.sb.bc("/v2/time")
        self.assertEqual(hdrs["x-rate-limit-requests-left"], "0")
        self.sb.control("POST", "clock", {"advance": 31})
        self.assertEqual(self.sb.bc("/v2/time")[0], 200)


# ============================================================================== Zoho auth and limits
class ZohoAuthTests(Base):
    flags = ("--orders", "5", "--time-scale", "1200")

    def test_token_endpoint(self):
        status, body, _ = self.sb.refresh(client_secret="wrong")
        self.assertEqual((status, body.get("error")), (200, "invalid_client"))
        status, body, _ = self.sb.refresh(refresh_token="revoked-or-unknown")
        self.assertEqual((status, body.get("error")), (200, "invalid_code"))
        status, body, _ = self.sb.refresh()
        self.assertEqual(body["expires_in"], 3600)
        self.assertEqual(body["api_domain"], f"http://127.0.0.1:{self.sb.port}")
        form = urllib.parse.urlencode({"grant_type": "authorization_code", "client_id": "zoho-sandbox-client",
                                       "client_secret": "zoho-sandbox-secret", "code": "zoho-sandbox-code"}).encode()
        hdr = {"Content-Type": "application/x-www-form-urlencoded"}
        status, body, _ = self.sb.request("POST", "/oauth/v2/token", form, hdr)
        self.assertEqual(body["refresh_token"], "zoho-sandbox-refresh")
        status, body, _ = self.sb.request("POST", "/oauth/v2/token", form, hdr)
        self.assertEqual((status, body.get("error")), (200, "invalid_code"))

    def test_api_auth_rules_and_expiry_under_time_scale(self):
        status, body, _ = self.sb.request("GET", "/books/v3/organizations")
        self.assertEqual((status, body["code"]), (401, 57))
        tok = self.sb.refresh()[1]["access_token"]
        status, body, _ = self.sb.request("GET", f"/books/v3/organizations?authtoken={tok}")
        self.assertEqual((status, body["code"]), (401, 57))
        status, body, _ = self.sb.zoho("GET", "/contacts", org=False, token=tok)
        self.assertEqual((status, body["code"]), (400, 2))
        status, body, _ = self.sb.zoho("GET", "/contacts", token=tok)
        self.assertEqual((status, body["code"]), (200, 0))
        time.sleep(3.2)  # 3.2 wall seconds x 1200 > the 3600 s token lifetime
        status, body, _ = self.sb.zoho("GET", "/contacts", token=tok)
        self.assertEqual(status, 401)
        self.assertIn(body["code"], (14, 57))


class ZohoRefreshThrottleRealTime(Base):
    flags = ("--orders", "5")

    def test_eleventh_refresh_is_throttled(self):
        out = [self.sb.refresh() for _ in range(11)]
        self.assertTrue(all("access_token" in r[1] for r in out[:10]))
        self.assertEqual(out[10][0], 400)
        self.assertEqual(out[10][1]["error"], "Access Denied")
        self.sb.control("POST", "clock", {"advance": 601})
        self.assertIn("access_token", self.sb.refresh()[1])


class ZohoLimitTests(Base):
    flags = ("--orders", "5", "--zoho-rpm", "100", "--zoho-daily", "150")

    def test_code_44_at_101st_call_then_45_daily(self):
        codes = [self.sb.zoho("GET", "/contacts")[1]["code"] for _ in range(101)]
        self.assertEqual(codes[:100], [0] * 100)
        status, body, _ = self.sb.zoho("GET", "/contacts")
        self.assertEqual((status, body["code"]), (429, 44))
        log = self.sb.control("GET", "requests?api=zoho")["requests"]
        self.assertEqual(sum(1 for e in log if e["code"] == 44), 2)
        self.sb.control("POST", "clock", {"advance": 61})
        codes = [self.sb.zoho("GET", "/contacts")[1]["code"] for _ in range(51)]
        self.assertEqual(codes[:50], [0] * 50)
        self.assertEqual(codes[50], 45)

    def test_1070_concurrency(self):
        self.sb.control("POST", "config", {"zoho_concurrency": 2})
        self.sb.control("POST", "faults", [{"match": {"api": "zoho", "path_regex": "/items"}, "action": "delay",
                                            "seconds": 1.5, "times": 2}])
        tok = self.sb.token()
        with concurrent.futures.ThreadPoolExecutor(3) as ex:
            slow = [ex.submit(self.sb.zoho, "GET", "/items", None, None, True, tok) for _ in range(2)]
            deadline = time.monotonic() + 5
            while self.sb.control("GET", "health")["zoho_in_flight"] < 2 and time.monotonic() < deadline:
                time.sleep(0.02)
            fast = ex.submit(self.sb.zoho, "GET", "/contacts", None, None, True, tok).result()
            self.assertEqual((fast[0], fast[1]["code"]), (429, 1070))
            self.assertEqual([f.result()[1]["code"] for f in slow], [0, 0])


# ============================================================================== Zoho documents
class ZohoDocumentTests(Base):
    flags = ("--orders", "5", "--zoho-rpm", "100000", "--zoho-daily", "1000000")

    def test_contacts_and_items(self):
        c = _contact(self.sb, "Jane Doe", "jane@example.com")
        self.assertEqual(c["email"], "jane@example.com")
        self.assertRegex(c["contact_id"], r"^\d{15,19}$")
        status, body, _ = self.sb.zoho("POST", "/contacts", {"contact_name": "jane doe"})
        self.assertEqual((status, body["code"]), (400, 3062))
        _contact(self.sb, "Janet", "xjane@example.com")
        found = self.sb.ok("GET", "/contacts", query={"email": "jane@example.com"})["contacts"]
        self.assertEqual(len(found), 2)  # loose: clients must re-check
        self.sb.ok("POST", "/items", {"name": "Mug", "rate": "12.99", "sku": "MUG"})
        self.sb.ok("POST", "/items", {"name": "Mug XL", "rate": "14.99", "sku": "MUG-XL"})
        status, body, _ = self.sb.zoho("POST", "/items", {"name": "mug", "rate": 1})
        self.assertEqual((status, body["code"]), (400, 1000))
        self.assertEqual(len(self.sb.ok("GET", "/items", query={"sku": "MUG"})["items"]), 2)
        status, body, _ = self.sb.zoho("POST", "/contacts", b"contact_name=x",
                                       headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(body["code"], 1038)
        status, body, _ = self.sb.zoho("POST", "/contacts", b"{not json", headers={"Content-Type": "application/json"})
        self.assertEqual(body["code"], 1038)

    def test_invoice_numbers_and_loose_search(self):
        c = _contact(self.sb, "Buyer", "b@example.com")
        status, body, _ = _invoice(self.sb, c["contact_id"], "BC-12")
        self.assertEqual(status, 201)
        self.assertEqual(body["invoice"]["status"], "draft")
        self.assertEqual(_invoice(self.sb, c["contact_id"], "BC-123")[0], 201)
        status, body, _ = _invoice(self.sb, c["contact_id"], "BC-12")
        self.assertEqual((status, body["code"]), (400, 1001))
        got = self.sb.ok("GET", "/invoices", query={"invoice_number": "BC-12"})["invoices"]
        self.assertEqual(sorted(i["invoice_number"] for i in got), ["BC-12", "BC-123"])
        status, body, _ = self.sb.zoho("POST", "/invoices", {"customer_id": c["contact_id"],
                                                             "line_items": [{"name": "x", "rate": 1}]},
                                       {"ignore_auto_number_generation": "true"})
        self.assertEqual((status, body["code"]), (400, 6))
        auto = self.sb.ok("POST", "/invoices", {"customer_id": c["contact_id"], "invoice_number": "BC-99",
                                                "line_items": [{"name": "x", "rate": 1}]})
        self.assertEqual(auto["invoice"]["invoice_number"], "INV-000001")
        status, body, _ = _invoice(self.sb, c["contact_id"], "BC-7", [{"name": "x", "rate": 1, "tax_id": "1"}])
        self.assertEqual((status, body["code"]), (400, 1002))

    def test_totals_through_the_api_both_roundings(self):
        t = _taxes(self.sb)
        ny, vat = t["NY State Sales Tax"]["tax_id"], t["VAT"]["tax_id"]
        c = _contact(self.sb, "Totals", "t@example.com")
        lines = [{"name": "a", "rate": 1.05, "quantity": 1, "tax_id": ny}] * 3 + [
            {"name": "b", "rate": 10.00, "quantity": 2, "tax_id": vat, "discount_amount": 1.50},
            {"name": "c", "rate": 5.00, "quantity": 1}]
        inv = _invoice(self.sb, c["contact_id"], "T-1", lines, shipping_charge=4.99, adjustment=-0.01)[1]["invoice"]
        self.assertEqual((inv["sub_total"], inv["tax_total"], inv["total"], inv["balance"]),
                         (D("26.65"), D("3.97"), D("35.60"), D("35.60")))
        self.assertEqual(inv["tax_rounding"], "item_level")
        self.sb.control("POST", "config", {"tax_rounding": "entity_level"})
        inv = _invoice(self.sb, c["contact_id"], "T-2", lines, shipping_charge=4.99, adjustment=-0.01)[1]["invoice"]
        self.assertEqual((inv["tax_total"], inv["total"]), (D("3.98"), D("35.61")))
        inc = [{"name": "d", "rate": 12.34, "quantity": 1, "tax_id": vat}] * 2 + [
            {"name": "e", "rate": 9.99, "quantity": 3, "tax_id": ny, "discount": "10%"}]
        inv = _invoice(self.sb, c["contact_id"], "T-3", inc, is_inclusive_tax=True)[1]["invoice"]
        self.assertEqual((inv["sub_total"], inv["tax_total"], inv["total"]), (D("45.34"), D("6.31"), D("51.65")))
        self.sb.control("POST", "config", {"tax_rounding": "item_level"})
        inv = _invoice(self.sb, c["contact_id"], "T-4", inc, is_inclusive_tax=True)[1]["invoice"]
        self.assertEqual((inv["sub_total"], inv["tax_total"], inv["total"]), (D("45.33"), D("6.32"), D("51.65")))
        self.assertEqual([l["item_total"] for l in inv["line_items"]], [D("12.34"), D("12.34"), D("26.97")])

    def test_payments_credits_and_void(self):
        c = _contact(self.sb, "Payer", "p@example.com")
        other = _contact(self.sb, "Other", "o@example.com")
        inv = _invoice(self.sb, c["contact_id"], "BC-500", [{"name": "x", "rate": 100, "quantity": 1}])[1]["invoice"]
        iid = inv["invoice_id"]
        acct = next(a for a in self.sb.ok("GET", "/chartofaccounts")["chartofaccounts"] if a["account_type"] == "bank")
        pay = {"customer_id": c["contact_id"], "amount": 40, "date": "2026-01-02", "payment_mode": "creditcard",
               "reference_number": "tx-1", "account_id": acct["account_id"],
               "invoices": [{"invoice_id": iid, "amount_applied": 40}]}
        status, body, _ = self.sb.zoho("POST", "/customerpayments", pay)
        self.assertEqual((status, body["code"]), (400, 24003))  # draft invoice
        cn = self.sb.ok("POST", "/creditnotes", {"customer_id": c["contact_id"], "creditnote_number": "BCR-1",
                                                 "line_items": [{"name": "refund", "rate": 30, "quantity": 1}]},
                        {"ignore_auto_number_generation": "true", "invoice_id": iid})["creditnote"]
        self.assertEqual(cn["invoice_id"], iid)
        status, body, _ = self.sb.zoho("POST", "/creditnotes", {"customer_id": c["contact_id"],
                                                                "creditnote_number": "BCR-1",
                                                                "line_items": [{"name": "r", "rate": 1}]},
                                       {"ignore_auto_number_generation": "true"})
        self.assertEqual((status, body["code"]), (400, 12018))
        apply = {"invoices": [{"invoice_id": iid, "amount_applied": 30}]}
        status, body, _ = self.sb.zoho("POST", f"/creditnotes/{cn['creditnote_id']}/invoices", apply)
        self.assertEqual((status, body["code"]), (400, 12005))
        self.sb.ok("POST", f"/invoices/{iid}/status/sent")
        self.sb.ok("POST", "/customerpayments", pay)
        status, body, _ = self.sb.zoho("POST", "/customerpayments", {**pay, "amount": 70,
                                                                     "invoices": [{"invoice_id": iid,
                                                                                   "amount_applied": 70}]})
        self.assertEqual((status, body["code"]), (400, 24016))
        status, body, _ = self.sb.zoho("POST", f"/creditnotes/{cn['creditnote_id']}/invoices",
                                       {"invoices": [{"invoice_id": iid, "amount_applied": 31}]})
        self.assertEqual(status, 400)  # more than the credit note's balance
        self.sb.ok("POST", f"/creditnotes/{cn['creditnote_id']}/invoices", apply)
        inv = self.sb.ok("GET", f"/invoices/{iid}")["invoice"]
        self.assertEqual((inv["status"], inv["balance"], inv["payment_made"], inv["credits_applied"]),
                         ("partially_paid", D("30.00"), D("40"), D("30")))
        # edits are blocked once money is applied
        status, body, _ = self.sb.zoho("PUT", f"/invoices/{iid}", {"line_items": [{"name": "x", "rate": 90}]})
        self.assertEqual((status, body["code"]), (400, 3009))
        status, body, _ = self.sb.zoho("PUT", f"/invoices/{iid}", {"customer_id": other["contact_id"]})
        self.assertEqual((status, body["code"]), (400, 3010))
        self.sb.ok("PUT", f"/invoices/{iid}", {"notes": "fine"})
        # void: money becomes customer credit
        self.sb.ok("POST", f"/invoices/{iid}/status/void")
        state = self.sb.control("GET", "state")["zoho"]["organizations"]["10234695"]
        p = state["payments"][0]
        self.assertEqual((p["unused_amount"], p["invoices"]), (D("40"), []))
        self.assertEqual(state["creditnotes"][0]["balance"], D("30"))
        status, body, _ = self.sb.zoho("POST", f"/creditnotes/{cn['creditnote_id']}/invoices", apply)
        self.assertEqual((status, body["code"]), (400, 12007))
        status, body, _ = self.sb.zoho("POST", f"/creditnotes/{cn['creditnote_id']}/refunds",
                                       {"amount": 31, "from_account_id": acct["account_id"], "date": "2026-01-03"})
        self.assertEqual(status, 400)
        self.sb.ok("POST", f"/creditnotes/{cn['creditnote_id']}/refunds",
                   {"amount": 30, "from_account_id": acct["account_id"], "date": "2026-01-03"})
        self.assertEqual(self.sb.ok("GET", f"/creditnotes/{cn['creditnote_id']}")["creditnote"]["status"], "closed")

    def test_creditnote_update_recomputes_totals(self):
        t = _taxes(self.sb)
        ny, vat = t["NY State Sales Tax"]["tax_id"], t["VAT"]["tax_id"]
        c = _contact(self.sb, "Editor", "ed@example.com")
        pennies = [{"name": "a", "rate": 1.05, "quantity": 1, "tax_id": ny}] * 3
        cn = _creditnote(self.sb, c["contact_id"], "BCR-10", pennies + [
            {"name": "b", "rate": 10.00, "quantity": 2, "tax_id": vat}], reference_number="refund 10")
        cid = cn["creditnote_id"]
        self.assertEqual((cn["sub_total"], cn["tax_total"], cn["total"], cn["balance"]),
                         (D("23.15"), D("4.27"), D("27.42"), D("27.42")))
        status, body, _ = self.sb.zoho("PUT", f"/creditnotes/{cid}", {"adjustment": -0.42, "notes": "edited"})
        self.assertEqual((status, body["code"], body["message"]),
                         (200, 0, "Credit Note information has been updated."))
        got = body["creditnote"]
        self.assertEqual((got["sub_total"], got["tax_total"], got["adjustment"], got["total"], got["balance"]),
                         (D("23.15"), D("4.27"), D("-0.42"), D("27.00"), D("27.00")))
        self.assertEqual((got["notes"], got["reference_number"], got["creditnote_number"], got["status"]),
                         ("edited", "refund 10", "BCR-10", "open"))
        self.assertEqual([l["line_item_id"] for l in got["line_items"]], [l["line_item_id"] for l in cn["line_items"]])
        self.assertEqual(self.sb.ok("GET", f"/creditnotes/{cid}")["creditnote"], got)
        # lines given replace the lines; the adjustment given before is kept
        got = self.sb.ok("PUT", f"/creditnotes/{cid}",
                         {"line_items": [{"name": "c", "rate": 5.00, "quantity": 3, "tax_id": vat}]})["creditnote"]
        self.assertEqual((len(got["line_items"]), got["sub_total"], got["tax_total"], got["total"], got["balance"]),
                         (1, D("15.00"), D("3.00"), D("17.58"), D("17.58")))
        # the organization's tax rounding applies as on create
        self.sb.control("POST", "config", {"tax_rounding": "entity_level"})
        self.addCleanup(self.sb.control, "POST", "config", {"tax_rounding": "item_level"})
        got = self.sb.ok("PUT", f"/creditnotes/{cid}", {"line_items": pennies})["creditnote"]
        self.assertEqual((got["sub_total"], got["tax_total"], got["total"]), (D("3.15"), D("0.28"), D("3.01")))
        # a refused update changes nothing
        status, body, _ = self.sb.zoho("PUT", f"/creditnotes/{cid}", {"adjustment": -100, "is_inclusive_tax": True})
        self.assertEqual((status, body["code"]), (400, 6))
        self.assertEqual(self.sb.ok("GET", f"/creditnotes/{cid}")["creditnote"], got)
        status, body, _ = self.sb.zoho("PUT", "/creditnotes/999", {"adjustment": 1})
        self.assertEqual((status, body["code"]), (404, 1002))

    def test_creditnote_update_refused_after_apply_refund_or_void(self):
        c = _contact(self.sb, "Locked", "l@example.com")
        inv = _invoice(self.sb, c["contact_id"], "BC-600", [{"name": "x", "rate": 100, "quantity": 1}])[1]["invoice"]
        self.sb.ok("POST", f"/invoices/{inv['invoice_id']}/status/sent")
        acct = next(a for a in self.sb.ok("GET", "/chartofaccounts")["chartofaccounts"] if a["account_type"] == "bank")
        applied, refunded, voided = (_creditnote(self.sb, c["contact_id"], f"BCR-6{i}") for i in range(3))
        self.sb.ok("POST", f"/creditnotes/{applied['creditnote_id']}/invoices",
                   {"invoices": [{"invoice_id": inv["invoice_id"], "amount_applied": 4}]})
        self.sb.ok("POST", f"/creditnotes/{refunded['creditnote_id']}/refunds",
                   {"amount": 10, "from_account_id": acct["account_id"], "date": "2026-01-03"})
        self.sb.ok("POST", f"/creditnotes/{voided['creditnote_id']}/status/void")
        for cn in (applied, refunded, voided):
            before = self.sb.ok("GET", f"/creditnotes/{cn['creditnote_id']}")["creditnote"]
            for change in ({"adjustment": 1}, {"notes": "late edit"}):
                status, body, _ = self.sb.zoho("PUT", f"/creditnotes/{cn['creditnote_id']}", change)
                self.assertEqual((status, body["code"]), (400, 12014), (cn["creditnote_number"], body))
            self.assertEqual(self.sb.ok("GET", f"/creditnotes/{cn['creditnote_id']}")["creditnote"], before)
        status, body, _ = self.sb.zoho("PUT", f"/creditnotes/{applied['creditnote_id']}", {"adjustment": 1})
        self.assertEqual(body["message"], "A credit note that has been applied or refunded cannot be edited.")

    def test_creditnote_update_number(self):
        c = _contact(self.sb, "Numbers", "n@example.com")
        first = _creditnote(self.sb, c["contact_id"], "BCR-1")
        second = _creditnote(self.sb, c["contact_id"], "BCR-2")
        sid = second["creditnote_id"]
        flag = {"ignore_auto_number_generation": "true"}
        for number in ("BCR-1", "bcr-1"):
            status, body, _ = self.sb.zoho("PUT", f"/creditnotes/{sid}", {"creditnote_number": number}, flag)
            self.assertEqual((status, body["code"]), (400, 12018))
        status, body, _ = self.sb.zoho("PUT", f"/creditnotes/{sid}", {"creditnote_number": "BCR-3"})
        self.assertEqual((status, body["code"]), (400, 6))  # own numbers need ignore_auto_number_generation
        self.assertEqual(self.sb.ok("GET", f"/creditnotes/{sid}")["creditnote"]["creditnote_number"], "BCR-2")
        self.sb.ok("PUT", f"/creditnotes/{sid}", {"creditnote_number": "BCR-2", "notes": "same"}, flag)
        got = self.sb.ok("PUT", f"/creditnotes/{sid}", {"creditnote_number": "BCR-3"}, flag)["creditnote"]
        self.assertEqual(got["creditnote_number"], "BCR-3")
        found = self.sb.ok("GET", "/creditnotes", query={"creditnote_number": "BCR-3"})["creditnotes"]
        self.assertEqual([n["creditnote_id"] for n in found], [sid])
        self.assertEqual(self.sb.ok("GET", f"/creditnotes/{first['creditnote_id']}")["creditnote"]["creditnote_number"],
                         "BCR-1")
        _creditnote(self.sb, c["contact_id"], "BCR-2")  # the old number is free again

    def test_foreign_currency_needs_rate(self):
        eur = next(c for c in self.sb.ok("GET", "/settings/currencies")["currencies"] if c["currency_code"] == "EUR")
        c = _contact(self.sb, "Euro Buyer", "e@example.com", eur["currency_id"])
        status, body, _ = _invoice(self.sb, c["contact_id"], "BC-E1")
        self.assertEqual((status, body["code"]), (400, 2))
        status, body, _ = _invoice(self.sb, c["contact_id"], "BC-E1", exchange_rate=1.0869565217)
        self.assertEqual((status, body["invoice"]["currency_code"]), (201, "EUR"))


# ============================================================================== indexes (no server)
class IndexTests(unittest.TestCase):
    """The lookup indexes (uniqueness checks, loose searches, per-customer sums, BigCommerce paging, request log)
    answer exactly what a scan of every record answers, through a random mix of changes and refusals."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="zbsandbox-index-")
        args = zbsandbox.parse_args(["--state-dir", self.tmp.name, "--orders", "400", "--zoho-rpm", "1000000",
                                     "--zoho-daily", "100000000"])
        self.box = zbsandbox.Sandbox(zbsandbox.Config(args))
        self.box.log._fh.close()
        self.box.log._fh = None
        self.auth = None

    def tearDown(self):
        self.tmp.cleanup()

    def call(self, method, path, query=None, body=None, headers=None):
        h = {"Accept": "application/json", "X-Auth-Token": BC_TOKEN, **(headers or {})}
        raw = b""
        if body is not None:
            raw = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        if path.startswith("/books/v3"):
            h["Authorization"] = "Zoho-oauthtoken " + self.auth
            query = {"organization_id": "10234695", **(query or {})}
        req = zbsandbox.Request(method, path, urllib.parse.urlencode(query or {}), zbsandbox._CIDict(h), raw)
        reply = self.box.process(req)
        return reply.status, (json.loads(reply.body, parse_float=D) if reply.body else None)

    def test_zoho_indexes_match_scans(self):
        import random
        rng = random.Random(5)
        form = urllib.parse.urlencode({"grant_type": "refresh_token", "client_id": "zoho-sandbox-client",
                                       "client_secret": "zoho-sandbox-secret",
                                       "refresh_token": "zoho-sandbox-refresh"}).encode()
        req = zbsandbox.Request("POST", "/oauth/v2/token", "", zbsandbox._CIDict(
            {"Content-Type": "application/x-www-form-urlencoded"}), form)
        self.auth = json.loads(self.box.process(req).body)["access_token"]
        org = self.box.zoho.orgs["10234695"]
        eur = next(c for c, v in org.currencies.items() if v["currency_code"] == "EUR")
        names = ["Ann Lee", "ann lee", "Bob", "Zoë Ünal", "ZOË ÜNAL", "Carl Smith", "carl smithson"]
        mails = ["ann@x.com", "ANN@X.COM", "bob@example.com", "xbob@example.com", "", "zoe@ex.de", "cs@ex.org"]
        contacts, invoices = [], []
        for step in range(700):
            op = rng.random()
            if op < 0.2 or not contacts:
                persons = [{"email": rng.choice(mails), "is_primary_contact": rng.random() < 0.7}
                           for _ in range(rng.choice([0, 1, 2]))]
                st, body = self.call("POST", "/books/v3/contacts", body={
                    "contact_name": rng.choice(names + [f"P{step}"]), "contact_persons": persons})
                if st == 201:
                    contacts.append(body["contact"]["contact_id"])
            elif op < 0.3:
                # Some updates are refused after changing the name: the indexes must follow anyway.
                self.call("PUT", f"/books/v3/contacts/{rng.choice(contacts)}", body={
                    "contact_name": rng.choice(names + [f"Q{step}"]),
                    "contact_persons": rng.choice([[{"email": rng.choice(mails)}], [{"email": "no-at"}], None]),
                    **({"currency_id": eur} if rng.random() < 0.3 else {})})
            elif op < 0.35:
                self.box.cfg.zoho_allow_duplicate_names = rng.random() < 0.3
            elif op < 0.55:
                st, body = self.call("POST", "/books/v3/invoices", {"ignore_auto_number_generation": "true"}, {
                    "customer_id": rng.choice(contacts), "invoice_number": rng.choice(["BC-1", "bc-1", f"BC-{step}"]),
                    "reference_number": rng.choice(["R1", f"ord {step}"]),
                    "line_items": [{"name": "x", "rate": "10", "quantity": 1}]})
                if st == 201:
                    invoices.append(body["invoice"]["invoice_id"])
                    self.call("POST", f"/books/v3/invoices/{invoices[-1]}/status/sent")
            elif op < 0.62 and invoices:
                self.call("PUT", f"/books/v3/invoices/{rng.choice(invoices)}", {"ignore_auto_number_generation": "true"},
                          {"invoice_number": rng.choice(["BC-1", f"BC-U{step}", "INV-000002"]),
                           "customer_id": rng.choice(contacts), "reference_number": f"ref {step}"})
            elif op < 0.7:
                self.call("POST", "/books/v3/invoices", body={"customer_id": rng.choice(contacts),
                                                              "line_items": [{"name": "x", "rate": "1"}]})
            elif op < 0.8 and invoices:
                inv = org.invoices[rng.choice(invoices)]
                self.call("POST", "/books/v3/customerpayments", body={
                    "customer_id": inv["customer_id"], "amount": "3", "date": "2026-01-01",
                    "reference_number": rng.choice(["P1", f"pay {step}"]),
                    "invoices": [{"invoice_id": inv["invoice_id"], "amount_applied": "1"}]})
            elif op < 0.87:
                self.call("POST", "/books/v3/creditnotes", body={
                    "customer_id": rng.choice(contacts), "line_items": [{"name": "r", "rate": "1"}]})
            else:
                self.call("POST", "/books/v3/items", body={"name": rng.choice(["Mug", "mug ", f"I{step}"]),
                                                           "rate": "1"})
        # Credit-note updates (some refused: a taken number, a foreign-currency customer without a rate).
        notes = list(org.creditnotes)
        for step in range(60):
            self.call("PUT", f"/books/v3/creditnotes/{rng.choice(notes)}", {"ignore_auto_number_generation": "true"},
                      {"creditnote_number": rng.choice(["CN-00001", "cn-00002", f"BCR-{step}"]),
                       "customer_id": rng.choice(contacts), "reference_number": f"cref {step}"})
        org.check_indexes()

        def ids(path, key, query, listing=None):
            st, body = self.call("GET", "/books/v3" + path, query)
            self.assertEqual(st, 200)
            return [r[key] for r in body[listing or path.strip("/")]]

        for needle in ["ann", "x.com", "@", "bob@e", "ÜNAL".lower(), "zz", "a"]:
            want = [c["contact_id"] for c in org.contacts.values()
                    if needle.lower() in str(zbsandbox.primary_person(c)["email"] if zbsandbox.primary_person(c)
                                             else "").lower()]
            self.assertEqual(ids("/contacts", "contact_id", {"email": needle, "filter_by": "Status.All"}), want)
            want = [c["contact_id"] for c in org.contacts.values() if c["contact_name"].lower().startswith(needle)]
            self.assertEqual(ids("/contacts", "contact_id", {"contact_name": needle, "filter_by": "Status.All"}), want)
        for needle in ["bc-1", "BC-U", "INV-0", "bc"]:
            want = [i["invoice_id"] for i in org.invoices.values() if i["invoice_number"].lower().startswith(needle.lower())]
            self.assertEqual(ids("/invoices", "invoice_id", {"invoice_number": needle}), want[:200])
        for cid in contacts[:20]:
            want = [i["invoice_id"] for i in org.invoices.values() if i["customer_id"] == cid]
            self.assertEqual(ids("/invoices", "invoice_id", {"customer_id": cid}), want)
            want = [p["payment_id"] for p in org.payments.values() if p["customer_id"] == cid]
            self.assertEqual(ids("/customerpayments", "payment_id", {"customer_id": cid, "reference_number": "p"},
                                 "customer_payments"),
                             [p for p in want if "p" in org.payments[p]["reference_number"].lower()])
            owed = sum((i["balance"] for i in org.invoices.values() if i["customer_id"] == cid
                        and i["status"] not in ("draft", "void")), D("0"))
            st, body = self.call("GET", f"/books/v3/contacts/{cid}")
            self.assertEqual(body["contact"]["outstanding_receivable_amount"], owed)

    def test_bc_paging_and_request_log_match_scans(self):
        index = self.box.bc.index
        for sort in ("id:asc", "id:desc", "date_modified:asc"):
            everything = sorted(index, reverse=sort == "id:desc") if sort.startswith("id") else \
                sorted(index, key=lambda i: (index[i][1], i))
            for lo, hi in ((None, None), (150, None), (None, 250), (260, 120), (390, 10_000), (-5, 3)):
                want = [i for i in everything if (lo is None or i >= lo) and (hi is None or i <= hi)]
                for page, limit in ((1, 50), (2, 7), (9, 50)):
                    q = {"sort": sort, "limit": limit, "page": page,
                         **({"min_id": lo} if lo is not None else {}), **({"max_id": hi} if hi is not None else {})}
                    st, body = self.call("GET", f"/stores/{STORE}/v2/orders", q)
                    chunk = want[(page - 1) * limit:page * limit]
                    self.assertEqual([o["id"] for o in body] if st == 200 else [], chunk, q)
                    self.assertEqual(st, 200 if chunk else 204)
        rids = sorted(self.box.bc.refunds)
        for oid in list(index)[:60]:
            st, body = self.call("GET", f"/stores/{STORE}/v3/orders/{oid}/payment_actions/refunds")
            self.assertEqual([r["id"] for r in body["data"]],
                             [r for r in rids if self.box.bc.refunds[r]["order_id"] == oid][:50])
        log = self.box.log
        for n in (-3, 0, 1, log.seq - 5, log.seq, log.seq + 4):
            self.assertEqual(log.since(n), [e for e in log.entries if e["seq"] > n])
        log.clear()
        self.assertEqual(log.since(0), [])


# ============================================================================== faults, control, lifecycle
class FaultTests(Base):
    flags = ("--orders", "5", "--zoho-rpm", "100000", "--zoho-daily", "1000000")

    def test_drop_after_apply_and_status(self):
        c = _contact(self.sb, "Faulty", "f@example.com")
        self.sb.control("POST", "faults", [
            {"match": {"api": "zoho", "method": "POST", "path_regex": "^/books/v3/invoices$"},
             "action": "drop_after_apply", "times": 1},
            {"match": {"api": "zoho", "method": "POST", "path_regex": "^/books/v3/creditnotes$"},
             "action": "status", "status": 503, "times": 1}])
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError)):
            _invoice(self.sb, c["contact_id"], "BC-1")
        status, body, _ = _invoice(self.sb, c["contact_id"], "BC-1")
        self.assertEqual(body["code"], 1001)  # the dropped create had been applied
        status, body, _ = self.sb.zoho("POST", "/creditnotes", {"customer_id": c["contact_id"],
                                                                "creditnote_number": "BCR-1",
                                                                "line_items": [{"name": "r", "rate": 1}]},
                                       {"ignore_auto_number_generation": "true"})
        self.assertEqual(status, 503)
        self.assertEqual(self.sb.control("GET", "state")["zoho"]["organizations"]["10234695"]["creditnotes"], [])
        rules = self.sb.control("GET", "faults")["rules"]
        self.assertEqual([r["fired"] for r in rules], [1, 1])
        log = self.sb.control("GET", "requests")["requests"]
        self.assertEqual([e["fault"] for e in log if e["fault"]], ["drop_after_apply", "status"])

    def test_creditnote_update_faults_and_log(self):
        c = _contact(self.sb, "Faulty", "f@example.com")
        cn = _creditnote(self.sb, c["contact_id"], "BCR-1")
        self.sb.control("POST", "faults", [
            {"match": {"api": "zoho", "method": "PUT", "path_regex": r"^/books/v3/creditnotes/\d+$"},
             "action": "drop_after_apply", "times": 1},
            {"match": {"api": "zoho", "method": "PUT", "path_regex": r"^/books/v3/creditnotes/\d+$"},
             "action": "status", "status": 503, "times": 1}])
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError)):
            self.sb.zoho("PUT", f"/creditnotes/{cn['creditnote_id']}", {"adjustment": -1})
        status, _, _ = self.sb.zoho("PUT", f"/creditnotes/{cn['creditnote_id']}", {"adjustment": -2})
        self.assertEqual(status, 503)
        self.assertEqual(self.sb.ok("GET", f"/creditnotes/{cn['creditnote_id']}")["creditnote"]["total"], D("9.00"))
        log = [e for e in self.sb.control("GET", "requests")["requests"] if e["method"] == "PUT"]
        self.assertEqual([(e["fault"], e["applied"], e["status"]) for e in log],
                         [("drop_after_apply", True, 0), ("status", False, 503)])

    def test_truncate_garble_after_and_expire_token(self):
        self.sb.control("POST", "faults", [
            {"match": {"api": "zoho", "path_regex": "/contacts$"}, "action": "truncate_after_apply", "after": 1},
            {"match": {"api": "bc", "path_regex": "/v2/time"}, "action": "garble", "times": 2}])
        self.assertEqual(self.sb.zoho("GET", "/contacts")[0], 200)  # skipped (after=1)
        status, raw, _ = self.sb.request("GET", "/books/v3/contacts?organization_id=10234695",
                                         headers={"Authorization": "Zoho-oauthtoken " + self.sb.token()}, raw=True)
        self.assertEqual(status, 200)
        with self.assertRaises(ValueError):
            json.loads(raw)
        for _ in range(2):
            status, raw, _ = self.sb.request("GET", f"/stores/{STORE}/v2/time",
                                             headers={"X-Auth-Token": BC_TOKEN, "Accept": "application/json"}, raw=True)
            with self.assertRaises(ValueError):
                json.loads(raw)
        self.assertEqual(self.sb.bc("/v2/time")[0], 200)
        self.sb.control("POST", "faults", {"clear": True, "rules": [
            {"match": {"api": "zoho"}, "action": "expire_token", "code": 57}]})
        status, body, _ = self.sb.zoho("GET", "/items")
        self.assertEqual((status, body["code"]), (401, 57))
        status, body, _ = self.sb.zoho("GET", "/items")  # the token stays expired
        self.assertEqual((status, body["code"]), (401, 14))
        self.sb._token = None
        self.assertEqual(self.sb.zoho("GET", "/items")[0], 200)
        self.assertEqual(self.sb.control("GET", "faults")["rules"][0]["fired"], 1)

    def test_status_429_injection_without_apply(self):
        self.sb.control("POST", "faults", [{"match": {"api": "zoho", "method": "POST"}, "action": "status",
                                            "status": 429, "code": 1070, "times": 2}])
        for _ in range(2):
            status, body, _ = self.sb.zoho("POST", "/contacts", {"contact_name": "Later"})
            self.assertEqual((status, body["code"]), (429, 1070))
        self.assertEqual(self.sb.zoho("POST", "/contacts", {"contact_name": "Later"})[0], 201)


class LifecycleTests(unittest.TestCase):
    def test_ttl_and_shutdown_and_body_limit(self):
        sb = Sandbox("--orders", "3", "--ttl", "2")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", sb.port, timeout=10)
            conn.putrequest("POST", "/books/v3/contacts")
            conn.putheader("Content-Length", str(6 * 1024 * 1024))
            conn.endheaders()
            self.assertEqual(conn.getresponse().status, 413)
            conn.close()
            sb.proc.wait(10)
            self.assertEqual(sb.proc.returncode, 0)
            self.assertTrue(os.path.exists(os.path.join(sb.dir.name, "state.json")))
            self.assertTrue(os.path.getsize(os.path.join(sb.dir.name, "requests.log")) > 0)
        finally:
            sb.close()
        sb = Sandbox("--orders", "3")
        try:
            sb.control("POST", "shutdown")
            sb.proc.wait(10)
            self.assertEqual(sb.proc.returncode, 0)
        finally:
            sb.close()

    def test_preexisting_and_two_orgs(self):
        sb = Sandbox("--orders", "20", "--zoho-preexisting", "--zoho-orgs", "2")
        try:
            orgs = sb.zoho("GET", "/organizations", org=False)[1]["organizations"]
            self.assertEqual(len(orgs), 2)
            state = sb.control("GET", "state")["zoho"]["organizations"][orgs[0]["organization_id"]]
            self.assertGreaterEqual(len(state["contacts"]), 1)
            self.assertIn("TEE-CL-S", [i["sku"] for i in state["items"]])
        finally:
            sb.close()


if __name__ == "__main__":
    unittest.main()
