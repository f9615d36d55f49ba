"""Seeded generator of realistic BigCommerce stores for the zbsync sandbox.

Everything is deterministic from (seed, number of orders, now). The store is planned up front in a cheap
pass (ids, dates, statuses, customers, refund slots) and each order's full content (lines, taxes,
shipping, fees, transactions, refunds) is built on demand from its own random stream, so a 100,000
order store costs little until it is read.

Money rules (all `Decimal`, half-up rounding) that make every order internally consistent:

* An order is priced either tax-exclusive (`is_tax_inclusive_pricing=false`, USD orders) or
  tax-inclusive (EUR/GBP orders and a few USD exceptions). Prices, discounts and costs are given in
  that order's *basis* (ex tax for exclusive, inc tax for inclusive).
* Line tax is computed per line and rounded to the cent: exclusive `round2(amount x r)`, inclusive
  `round2(amount x r / (1 + r))`. The same rule applies to shipping, handling and gift wrapping.
* A line's `total_ex_tax`/`total_inc_tax`/`total_tax` are before discounts; `applied_discounts[].amount`
  is in the basis; `discounted_total_inc_tax` is after discounts with the tax of the discounted amount.
* `total_inc_tax = subtotal_inc_tax + shipping_cost_inc_tax + handling_cost_inc_tax +
  wrapping_cost_inc_tax + fees(inc tax) - discounts(inc tax share)`, where the inc-tax share of a
  line's discounts is `total_inc_tax - discounted_total_inc_tax`.
* `total_tax` = the sum of the `taxes?details=true` rows; `total_ex_tax = total_inc_tax - total_tax`.
* Custom fees are untaxed. Bundle children are priced 0 and carry no tax.
"""

from __future__ import annotations

import random
from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal

D = Decimal
ZERO = D("0")
ONE = D("1")
HUNDRED = D("100")
_C2 = D("0.01")
_C4 = D("0.0001")


def r2(x: Decimal) -> Decimal:
    return x.quantize(_C2, rounding=ROUND_HALF_UP)


def r4(x: Decimal) -> Decimal:
    return x.quantize(_C4, rounding=ROUND_HALF_UP)


def m4(x: Decimal) -> str:
    """BigCommerce v2 money: a string with 4 decimals."""
    return str(r4(D(x)))


def rfc2822(ts: int) -> str:
    """`Tue, 05 Mar 2019 21:40:11 +0000` (always UTC)."""
    return datetime.fromtimestamp(int(ts), timezone.utc).strftime("%a, %d %b %Y %H:%M:%S +0000")


def iso_utc(ts: int) -> str:
    return datetime.fromtimestamp(int(ts), timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def iso_z(ts: int) -> str:
    return datetime.fromtimestamp(int(ts), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


STATUS_NAMES = {
    0: "Incomplete", 1: "Pending", 2: "Shipped", 3: "Partially Shipped", 4: "Refunded", 5: "Cancelled",
    6: "Declined", 7: "Awaiting Payment", 8: "Awaiting Pickup", 9: "Awaiting Shipment", 10: "Completed",
    11: "Awaiting Fulfillment", 12: "Manual Verification Required", 13: "Disputed", 14: "Partially Refunded",
}

# (name, rate in percent)
TAX_NY = ("NY State Sales Tax", D("8.875"))
TAX_VAT = ("VAT", D("20"))
TAX_GST = ("GST", D("5"))
TAX_NONE = ("", ZERO)

# store default (USD) -> transactional currency
FX = {"USD": D("1.0000000000"), "EUR": D("0.9200000000"), "GBP": D("0.7900000000")}
CURRENCY_IDS = {"USD": 1, "EUR": 2, "GBP": 3}

FIRST = ["Jane", "John", "Maria", "Ahmed", "Li", "Sofia", "Lucas", "Emma", "Noah", "Olivia", "Liam", "Ava",
         "Mateo", "Zoe", "Ivan", "Chloe", "Omar", "Hana", "Pierre", "Ingrid", "Kwame", "Aiko", "Diego",
         "Fatima", "Erik", "Nora", "Raj", "Elena", "Tom", "Grace"]
LAST = ["Smith", "Doe", "Garcia", "Khan", "Wei", "Rossi", "Martin", "Muller", "Brown", "Silva", "Novak",
        "Kim", "Dubois", "Olsen", "Mensah", "Tanaka", "Lopez", "Haddad", "Berg", "Patel", "Ivanova",
        "O'Brien", "Nguyen", "Kowalski", "Jensen", "Costa", "Fischer", "Moreau", "Ali", "Young"]
CITIES = [("New York", "New York", "10001", "United States", "US"),
          ("Brooklyn", "New York", "11201", "United States", "US"),
          ("Austin", "Texas", "73301", "United States", "US"),
          ("Portland", "Oregon", "97201", "United States", "US"),
          ("Berlin", "Berlin", "10115", "Germany", "DE"),
          ("Paris", "Ile-de-France", "75001", "France", "FR"),
          ("London", "England", "EC1A 1BB", "United Kingdom", "GB"),
          ("Toronto", "Ontario", "M5H 2N2", "Canada", "CA")]
STREETS = ["Main St", "Oak Ave", "Elm St", "Market St", "Baker St", "Rue de Rivoli", "Unter den Linden", "King St"]

# (product_id, variant_id, name, sku, price USD, options)
CATALOG = [
    (101, 201, "Classic Tee", "TEE-CL-S", D("19.99"), ["Size: S"]),
    (101, 202, "Classic Tee", "TEE-CL-M", D("19.99"), ["Size: M"]),
    (101, 203, "Classic Tee", "TEE-CL-L", D("21.49"), ["Size: L"]),
    (102, 204, "Hoodie", "HOOD-GRY", D("54.95"), ["Color: Grey"]),
    (103, 205, "Canvas Tote", "TOTE-01", D("14.50"), []),
    (104, 206, "Ceramic Mug", "MUG-11OZ", D("12.99"), []),
    (105, 207, "Espresso Beans 1kg", "COF-ESP-1K", D("27.33"), []),
    (106, 208, "Pour-over Kettle", "KET-PO", D("64.00"), []),
    (107, 209, "Notebook A5", "NB-A5-DOT", D("8.99"), ["Ruling: Dot"]),
    (107, 210, "Notebook A5", "NB-A5-LIN", D("8.99"), ["Ruling: Lined"]),
    (108, 211, "Fountain Pen", "PEN-FP-F", D("129.00"), ["Nib: Fine"]),
    (109, 212, "Ink Bottle", "INK-BLU", D("11.11"), []),
    (110, 213, "Desk Lamp", "LAMP-DSK", D("89.90"), []),
    (111, 214, "Sticker Pack", "STK-PACK", D("3.33"), []),
    (112, 215, "Wool Socks", "SOCK-WL-M", D("16.65"), ["Size: M"]),
    (113, 216, "Water Bottle", "BTL-750", D("24.95"), []),
    (114, 217, "Phone Case", "CASE-PH-12", D("29.99"), ["Model: 12"]),
    (115, 218, "Tea Sampler", "TEA-SMP", D("17.77"), []),
]
BUNDLE = (120, 230, "Coffee Starter Bundle", "BNDL-COF", D("79.00"),
          [(105, "Espresso Beans 1kg", "COF-ESP-1K"), (104, "Ceramic Mug", "MUG-11OZ")])
CUSTOM_LINES = [("Custom engraving", D("15.00")), ("Gift note service", D("2.50")), ("Rush handling", D("7.25"))]
COUPONS = [("SAVE10", D("10"), 1, "10% off"), ("WELCOME15", D("15"), 1, "15% off first order")]
GATEWAYS = [("stripe", "Credit Card", "credit_card"), ("braintree", "Credit Card", "credit_card"),
            ("paypalexpress", "PayPal", "offsite")]

# Mandatory scenarios so that even a small store covers the whole mix. Each is a dict of overrides
# on top of random choices. The plan places them at deterministic, shuffled positions.
MANDATORY = [
    {"status": 11, "multi": True},
    {"status": 11, "bundle": True},
    {"status": 2, "no_sku": True},
    {"status": 10, "coupon": True},
    {"status": 11, "manual_discount": True},
    {"status": 10, "handling": True, "shipping_taxed": True},
    {"status": 2, "wrap": True},
    {"status": 11, "fee": True},
    {"status": 11, "currency": "EUR"},
    {"status": 10, "currency": "EUR", "coupon": True},
    {"status": 11, "currency": "GBP"},
    {"status": 11, "inclusive": True},
    {"status": 11, "tax": "GST"},
    {"status": 10, "tax": "NONE"},
    {"status": 11, "store_credit": True},
    {"status": 2, "gift_certificate": True},
    {"status": 0},
    {"status": 1},
    {"status": 6, "payment": "error"},
    {"status": 7, "payment": "auth_only"},
    {"status": 7, "payment": "none"},
    {"status": 5, "payment": "void", "cancelled_later": True},
    {"status": 5, "payment": "void", "cancelled_later": True},
    {"status": 14, "refund": "partial"},
    {"status": 14, "refund": "partial+shipping"},
    {"status": 4, "refund": "full"},
    {"status": 14, "refund": "partial", "currency": "EUR"},
    {"status": 11, "payment": "auth_capture"},
    {"status": 10, "payment": "error_then_purchase"},
    {"status": 10, "payment": "manual"},
    {"status": 11, "rounding_case": True},
    {"status": 2, "rounding_case": True, "multi": True},
    {"status": 10, "rounding_case": True, "currency": "EUR"},
    {"guest": True, "status": 11},
    {"guest": True, "status": 2, "guest_repeat": True},
    {"guest": True, "status": 10, "guest_is_customer_email": True},
]

STATUS_WEIGHTS = [(11, 28), (2, 16), (10, 16), (7, 7), (0, 3), (1, 3), (6, 3), (5, 6), (14, 7), (4, 4)]


def _weighted(rng: random.Random, pairs):
    total = sum(w for _, w in pairs)
    x = rng.uniform(0, total)
    for v, w in pairs:
        x -= w
        if x <= 0:
            return v
    return pairs[-1][0]


class StorePlan:
    """A planned store. Cheap to create; `order(oid)` builds one order in full."""

    def __init__(self, seed: int = 1, n_orders: int = 50, now: int | None = None, days: int = 30,
                 store_hash: str = "sbx1a2b3c", first_order_id: int = 100):
        self.seed = int(seed)
        self.n_orders = max(0, int(n_orders))
        self.now = int(now if now is not None else 1767225600)  # 2026-01-01T00:00:00Z by default
        self.days = max(1, int(days))
        self.store_hash = store_hash
        self.first_order_id = first_order_id
        rng = random.Random(f"plan:{self.seed}")
        self.customers: dict[int, dict] = {}
        self.orders: dict[int, dict] = {}      # oid -> skeleton
        self.refund_slots: list[dict] = []    # {id, order_id, created, kind, index}
        self.features: dict[str, list[int]] = {}
        self._plan(rng)

    # ---------------------------------------------------------------- planning
    def _note(self, feature: str, oid: int):
        self.features.setdefault(feature, []).append(oid)

    def _plan(self, rng: random.Random):
        n = self.n_orders
        now = self.now
        start = now - self.days * 86400
        # Registered customers: roughly one per three orders, at least 4.
        n_cust = max(4, n * 35 // 100) if n else 0
        for cid in range(1, n_cust + 1):
            fn, ln = rng.choice(FIRST), rng.choice(LAST)
            if cid == 2 and n_cust >= 2:  # same display name as customer 1: Zoho name clash
                fn, ln = self.customers[1]["first_name"], self.customers[1]["last_name"]
            email = f"{fn.lower()}.{ln.lower().replace(chr(39), '')}{cid}@example.com"
            city = rng.choice(CITIES)
            created = start - rng.randint(86400, 400 * 86400)
            self.customers[cid] = {
                "id": cid, "email": email, "first_name": fn, "last_name": ln,
                "company": rng.choice(["", "", "", f"{ln} & Co", f"{fn} Studio"]),
                "phone": f"+1-555-{rng.randint(1000, 9999)}", "notes": "", "tax_exempt_category": "",
                "customer_group_id": 0, "_created": created, "_modified": created,
                "registration_ip_address": "", "_city": city, "_street": f"{rng.randint(1, 999)} {rng.choice(STREETS)}",
                "accepts_product_review_abandoned_cart_emails": False, "origin_channel_id": 1, "channel_ids": [1],
            }
        if n_cust >= 2:
            self._note("customers_same_name", 1)
            self._note("customers_same_name", 2)

        # Scenarios: mandatory ones at shuffled positions, random fill for the rest.
        scen = [dict(s) for s in MANDATORY[: n]]
        while len(scen) < n:
            scen.append({})
        rng.shuffle(scen)

        # Creation times ascending with ids; some groups share the same second.
        times = sorted(rng.randint(start, now - 900) for _ in range(n))
        for i in range(1, n):
            if rng.random() < 0.06:
                times[i] = times[i - 1]
        guest_emails: list[tuple[str, str, str]] = []
        cust_orders: dict[int, int] = {}
        for i in range(n):
            oid = self.first_order_id + i
            s = scen[i]
            status = s.get("status", _weighted(rng, STATUS_WEIGHTS))
            created = times[i]
            guest = s.get("guest", rng.random() < 0.22)
            sk = {"id": oid, "status": status, "created": created, "scenario": s}
            if guest:
                sk["customer_id"] = 0
                if (s.get("guest_repeat") or rng.random() < 0.2) and guest_emails:
                    sk["guest"] = guest_emails[rng.randrange(len(guest_emails))]
                    self._note("guest_returning", oid)
                elif s.get("guest_is_customer_email") and self.customers:
                    c = self.customers[1]
                    sk["guest"] = (c["email"].upper(), c["first_name"], c["last_name"])
                    self._note("guest_with_customer_email", oid)
                else:
                    fn, ln = rng.choice(FIRST), rng.choice(LAST)
                    g = (f"{fn.lower()}.{ln.lower().replace(chr(39), '')}.guest{oid}@mail.example.net", fn, ln)
                    guest_emails.append(g)
                    sk["guest"] = g
                self._note("guest", oid)
            else:
                # Zipf-ish pick: low ids are returning customers.
                cid = min(n_cust, 1 + int(rng.paretovariate(1.3)) - 1) if rng.random() < 0.5 else rng.randint(1, n_cust)
                cid = max(1, cid)
                sk["customer_id"] = cid
                cust_orders[cid] = cust_orders.get(cid, 0) + 1
                if cust_orders[cid] == 2:
                    self._note("returning_customer", cid)
            # date_modified: later for orders that moved on.
            mod = created
            if status in (2, 10, 4, 14, 5) or rng.random() < 0.25:
                mod = min(now - 600, created + rng.randint(60, 6 * 86400))
            if s.get("cancelled_later"):
                mod = min(now - 600, created + rng.randint(86400, 3 * 86400))
                self._note("cancelled_after_awaiting_fulfillment", oid)
            sk["modified"] = max(created, mod)
            self.orders[oid] = sk
            self._note(f"status_{status}", oid)
            for f in ("multi", "bundle", "no_sku", "coupon", "manual_discount", "handling", "wrap", "fee",
                      "store_credit", "gift_certificate", "rounding_case", "inclusive"):
                if s.get(f):
                    self._note(f, oid)
            if s.get("currency"):
                self._note(f"currency_{s['currency']}", oid)
            if status in (4, 14):
                kind = s.get("refund") or ("full" if status == 4 else rng.choice(["partial", "partial+shipping"]))
                sk["refund_kind"] = kind
                t1 = max(created + 1, min(now - 300, created + rng.randint(3600, 4 * 86400)))
                self.refund_slots.append({"order_id": oid, "created": t1, "index": 0, "kind": kind})
                last = t1
                if kind == "partial+shipping":
                    last = max(t1, min(now - 200, t1 + rng.randint(600, 86400)))
                    self.refund_slots.append({"order_id": oid, "created": last, "index": 1, "kind": "shipping"})
                sk["modified"] = max(sk["modified"], last)
        # Orders modified in the same second (beyond equal creation times).
        oids = list(self.orders)
        for j in range(2, len(oids), 17):
            a, b = self.orders[oids[j - 1]], self.orders[oids[j]]
            m = max(a["modified"], b["modified"])
            a["modified"] = b["modified"] = m
            self._note("same_second_modified", oids[j])
        # Refund ids ascending by creation time.
        self.refund_slots.sort(key=lambda r: (r["created"], r["order_id"], r["index"]))
        for k, r in enumerate(self.refund_slots):
            r["id"] = 1 + k
        # Customer modification times: after creation, spread; a few share a second.
        for cid, c in self.customers.items():
            c["_modified"] = rng.randint(c["_created"], now - 600) if rng.random() < 0.6 else c["_created"]
        cids = list(self.customers)
        for j in range(3, len(cids), 9):
            self.customers[cids[j]]["_modified"] = self.customers[cids[j - 1]]["_modified"]

    # ---------------------------------------------------------------- building
    def spec_for(self, oid: int) -> dict:
        """The high-level description of a planned order (input of `build_order`)."""
        sk = self.orders[oid]
        s = sk["scenario"]
        rng = random.Random(f"order:{self.seed}:{oid}")
        currency = s.get("currency") or ("EUR" if rng.random() < 0.08 else "GBP" if rng.random() < 0.03 else "USD")
        inclusive = currency != "USD" or s.get("inclusive", False) or rng.random() < 0.04
        tax_key = s.get("tax") or ("VAT" if currency != "USD" else ("GST" if rng.random() < 0.1 else
                                                                      "NONE" if rng.random() < 0.06 else "NY"))
        if currency != "USD" and tax_key in ("NY", "GST"):
            tax_key = "VAT"
        if s.get("rounding_case") and tax_key == "NONE":
            tax_key = "NY"
        tax = {"NY": TAX_NY, "VAT": TAX_VAT, "GST": TAX_GST, "NONE": TAX_NONE}[tax_key]
        factor = {"USD": ONE, "EUR": D("1.1"), "GBP": D("0.95")}[currency]
        if inclusive and currency == "USD":
            factor = D("1.09")

        if sk["customer_id"]:
            c = self.customers[sk["customer_id"]]
            city = c["_city"]
            billing = {"first_name": c["first_name"], "last_name": c["last_name"], "company": c["company"],
                       "street_1": c["_street"], "street_2": "", "city": city[0], "state": city[1],
                       "zip": city[2], "country": city[3], "country_iso2": city[4], "phone": c["phone"],
                       "email": c["email"], "form_fields": []}
        else:
            email, fn, ln = sk["guest"]
            city = random.Random(f"guest:{email.lower()}").choice(CITIES)
            billing = {"first_name": fn, "last_name": ln, "company": "", "street_1": f"{len(email) * 7} Pine Rd",
                       "street_2": "", "city": city[0], "state": city[1], "zip": city[2], "country": city[3],
                       "country_iso2": city[4], "phone": "", "email": email, "form_fields": []}

        def price(p):
            return r2(p * factor)

        lines = []
        n_lines = 1 + (rng.random() < 0.45) + (rng.random() < 0.2)
        if s.get("multi"):
            n_lines = max(n_lines, 3)
        for _ in range(n_lines):
            pid, vid, name, sku, p, opts = rng.choice(CATALOG)
            lines.append({"product_id": pid, "variant_id": vid, "name": name, "sku": sku, "price": price(p),
                          "quantity": rng.choice([1, 1, 1, 2, 2, 3, 5]), "options": opts})
        if s.get("bundle") or rng.random() < 0.04:
            pid, vid, name, sku, p, kids = BUNDLE
            lines.append({"product_id": pid, "variant_id": vid, "name": name, "sku": sku, "price": price(p),
                          "quantity": 1, "options": [],
                          "bundle": [{"product_id": k[0], "name": k[1], "sku": k[2], "quantity": 1} for k in kids]})
        if s.get("no_sku") or rng.random() < 0.04:
            name, p = rng.choice(CUSTOM_LINES)
            lines.append({"product_id": 0, "variant_id": None, "name": name, "sku": "", "price": price(p),
                          "quantity": 1, "options": []})
        if s.get("wrap") or rng.random() < 0.04:
            lines[0]["wrap"] = price(D("4.99"))
        coupon = None
        if s.get("coupon") or rng.random() < 0.12:
            code, pct, ctype, cname = rng.choice(COUPONS)
            coupon = {"code": code, "pct": pct, "type": ctype, "name": cname}
        manual = ZERO
        if s.get("manual_discount") or rng.random() < 0.05:
            manual = price(rng.choice([D("5.00"), D("7.50"), D("3.33")]))
        shipping = rng.choice([ZERO, D("5.99"), D("9.99"), D("12.50"), D("7.45")])
        if s.get("rounding_case") and shipping == ZERO:
            shipping = D("7.45")
        shipping = price(shipping)
        handling = price(D("2.50")) if (s.get("handling") or rng.random() < 0.05) else ZERO
        fee = D("1.50") if (s.get("fee") or rng.random() < 0.04) else ZERO
        if sk.get("refund_kind") == "partial+shipping" and shipping == ZERO:
            shipping = price(D("5.99"))
        shipping_taxed = s.get("shipping_taxed", rng.random() < 0.85)
        if s.get("rounding_case"):
            coupon, manual, shipping_taxed = None, ZERO, True
            self._force_rounding_case(rng, lines, [shipping, handling], tax[1], inclusive, price)
        status = sk["status"]
        payment = s.get("payment") or {
            0: "none", 1: "none", 6: "error", 7: rng.choice(["auth_only", "none"]), 5: "void",
        }.get(status) or ("auth_capture" if rng.random() < 0.15 else "error_then_purchase" if rng.random() < 0.05
                          else "manual" if rng.random() < 0.04 else "purchase")
        gw = rng.choice(GATEWAYS)
        return {
            "id": oid, "customer_id": sk["customer_id"], "billing": billing, "created": sk["created"],
            "modified": sk["modified"], "status_id": status, "currency": currency, "inclusive": inclusive,
            "tax_name": tax[0], "tax_pct": tax[1], "lines": lines, "coupon": coupon, "manual_discount": manual,
            "shipping": shipping, "shipping_taxed": shipping_taxed,
            "handling": handling, "fee": fee,
            "store_credit": price(D("10.00")) if (s.get("store_credit") or rng.random() < 0.04) else ZERO,
            "gift_certificate": price(D("25.00")) if (s.get("gift_certificate") or rng.random() < 0.03) else ZERO,
            "payment": payment, "gateway": gw[0] if payment != "manual" else "custom",
            "payment_method": gw[1] if payment != "manual" else "Manual",
            "tx_method": gw[2] if payment != "manual" else "custom",
            "customer_message": rng.choice(["", "", "", "Please leave at the door.", "Gift - no invoice in box"]),
            "is_deleted": False, "refund_kind": sk.get("refund_kind"),
        }

    @staticmethod
    def _force_rounding_case(rng, lines, extras, pct, inclusive, price):
        """Pick prices until per-line tax rounding differs from per-document rounding (by a cent or more)."""
        if pct == 0:
            return
        r = pct / HUNDRED
        for _ in range(200):
            amounts = [l["price"] * l["quantity"] for l in lines] + [w for w in (l.get("wrap") for l in lines) if w] + \
                [e for e in extras if e]
            taxes = [a * (r / (ONE + r) if inclusive else r) for a in amounts]
            if sum(r2(t) for t in taxes) != r2(sum(taxes)):
                return
            l = lines[rng.randrange(len(lines))]
            l["price"] = price(D(rng.randint(101, 9999)) / HUNDRED)
            l["quantity"] = rng.choice([1, 2, 3])

    def order(self, oid: int) -> dict:
        spec = self.spec_for(oid)
        order = build_order(spec, self.store_hash)
        if spec.get("refund_kind"):
            for slot in self._slots_by_order().get(oid, []):
                add_refund(order, self._refund_from_slot(order, slot))
        return order

    def _slots_by_order(self) -> dict:
        if getattr(self, "_slot_index", None) is None:
            self._slot_index = {}
            for slot in self.refund_slots:
                self._slot_index.setdefault(slot["order_id"], []).append(slot)
        return self._slot_index

    def _refund_from_slot(self, order: dict, slot: dict) -> dict:
        kind = slot["kind"]
        left = D(order["total_inc_tax"]) - sum((D(str(r["total_amount"])) for r in order["_refunds"]), ZERO)
        line = next((l for l in order["_products"] if not l["parent_order_product_id"]
                     and D(l["discounted_total_inc_tax"]) > 0), None)
        if kind == "full":
            req = {"full": True}
        elif kind == "shipping" and D(order["shipping_cost_inc_tax"]) > 0:
            req = {"items": [{"item_type": "SHIPPING", "item_id": order["_shipping"][0]["id"]}]}
        elif kind != "shipping" and line is not None:
            req = {"items": [{"item_type": "PRODUCT", "item_id": line["id"], "quantity": 1}]}
        else:
            req = {"amount": min(D("1.00"), left)}
        req["reason"] = {"full": "Customer returned the order", "shipping": "Late delivery"}.get(kind, "Damaged item")
        return build_refund(order, req, slot["id"], slot["created"])

    def customer(self, cid: int) -> dict:
        return self.customers[cid]


# ------------------------------------------------------------------------------------------ order builder
def _tax(amount: Decimal, r: Decimal, inclusive: bool) -> Decimal:
    if r == 0 or amount == 0:
        return ZERO
    return r2(amount * r / (ONE + r)) if inclusive else r2(amount * r)


def _split(amount_basis: Decimal, tax: Decimal, inclusive: bool):
    """-> (ex, inc, tax) for an amount given in the order's basis."""
    if inclusive:
        return amount_basis - tax, amount_basis, tax
    return amount_basis, amount_basis + tax, tax


def build_order(spec: dict, store_hash: str = "sbx1a2b3c") -> dict:
    """Builds a full, internally consistent order (API fields + `_`-prefixed sub-resources) from a spec."""
    oid = int(spec["id"])
    inclusive = bool(spec.get("inclusive", False))
    pct = D(str(spec.get("tax_pct", ZERO)))
    r = pct / HUNDRED
    tax_name = spec.get("tax_name") or ("Tax" if pct else "")
    currency = spec.get("currency", "USD")
    addr_id = oid * 10 + 1
    products = []
    coupon = spec.get("coupon")
    manual = D(str(spec.get("manual_discount", ZERO)))
    k = 0
    top_lines = []
    for line in spec["lines"]:
        k += 1
        pid = oid * 100 + k
        qty = int(line.get("quantity", 1))
        price_basis = D(str(line["price"]))
        p = _product(oid, pid, line, qty, price_basis, r, inclusive, addr_id, None)
        products.append(p)
        top_lines.append(p)
        for child in line.get("bundle", []) or []:
            k += 1
            c = dict(child)
            c.setdefault("variant_id", None)
            products.append(_product(oid, oid * 100 + k, c, int(c.get("quantity", 1)) * qty, ZERO, r, inclusive,
                                     addr_id, pid))
        wrap = line.get("wrap")
        if wrap:
            w = D(str(wrap))
            wt = _tax(w, r, inclusive)
            wex, winc, _ = _split(w, wt, inclusive)
            p.update({"wrapping_id": 1, "wrapping_name": "Gift Wrap", "base_wrapping_cost": m4(w),
                      "wrapping_cost_ex_tax": m4(wex), "wrapping_cost_inc_tax": m4(winc),
                      "wrapping_cost_tax": m4(wt), "wrapping_message": "Happy birthday!"})
    # Discounts in the basis: coupon (percent of each line), then manual (pro rata to line totals).
    coupon_total = ZERO
    manual_total = ZERO
    if coupon:
        for p in top_lines:
            amt = r2(p["_basis_total"] * D(str(coupon["pct"])) / HUNDRED)
            if amt:
                p["applied_discounts"].append({"id": str(900 + oid % 97), "amount": m4(amt), "name": coupon["name"],
                                               "code": coupon["code"], "target": "product"})
                p["_disc"] += amt
                coupon_total += amt
    if manual and top_lines:
        base = sum(p["_basis_total"] - p["_disc"] for p in top_lines)
        manual = min(manual, r2(base / 2))
        left = manual
        for i, p in enumerate(top_lines):
            share = left if i == len(top_lines) - 1 else r2(manual * (p["_basis_total"] - p["_disc"]) / base) if base else ZERO
            left -= share
            if share:
                p["applied_discounts"].append({"id": "manual-discount", "amount": m4(share), "name": "Manual Discount",
                                               "code": None, "target": "order"})
                p["_disc"] += share
                manual_total += share
    tax_rows = []
    row_id = oid * 100
    lines_after = ZERO
    tax_after_total = ZERO
    sub_ex = sub_inc = sub_tax = ZERO
    wrap_ex = wrap_inc = wrap_tax = ZERO
    for p in products:
        disc_basis = p["_basis_total"] - p["_disc"]
        t_after = _tax(disc_basis, r, inclusive)
        p["discounted_total_inc_tax"] = m4(disc_basis if inclusive else disc_basis + t_after)
        lines_after += D(p["discounted_total_inc_tax"])
        tax_after_total += t_after
        sub_ex += D(p["total_ex_tax"])
        sub_inc += D(p["total_inc_tax"])
        sub_tax += D(p["total_tax"])
        if pct and p["_basis_total"] > 0:
            row_id += 1
            tax_rows.append(_tax_row(row_id, oid, addr_id, tax_name, pct, t_after, str(p["id"]), "item"))
        if p.get("wrapping_cost_tax") is not None and D(p["wrapping_cost_inc_tax"]):
            wrap_ex += D(p["wrapping_cost_ex_tax"])
            wrap_inc += D(p["wrapping_cost_inc_tax"])
            wrap_tax += D(p["wrapping_cost_tax"])
            if pct:
                row_id += 1
                tax_rows.append(_tax_row(row_id, oid, addr_id, tax_name, pct, D(p["wrapping_cost_tax"]),
                                         str(p["id"]), "gift-wrapping"))
    ship = D(str(spec.get("shipping", ZERO)))
    ship_taxed = bool(spec.get("shipping_taxed", True))
    st = _tax(ship, r, inclusive) if ship_taxed else ZERO
    sex, sinc, _ = _split(ship, st, inclusive)
    if pct and ship_taxed and ship:
        row_id += 1
        tax_rows.append(_tax_row(row_id, oid, addr_id, tax_name, pct, st, None, "shipping"))
    hand = D(str(spec.get("handling", ZERO)))
    ht = _tax(hand, r, inclusive)
    hex_, hinc, _ = _split(hand, ht, inclusive)
    if pct and hand:
        row_id += 1
        tax_rows.append(_tax_row(row_id, oid, addr_id, tax_name, pct, ht, None, "handling"))
    fee = D(str(spec.get("fee", ZERO)))
    fees = []
    if fee:
        fees.append({"id": oid * 10 + 1, "type": "custom_fee", "display_name_customer": "Eco fee",
                     "display_name_merchant": "Eco fee", "source": "API", "base_cost": m4(fee),
                     "cost_ex_tax": m4(fee), "cost_inc_tax": m4(fee), "cost_tax": m4(ZERO), "tax_class_id": None})
    total_tax = tax_after_total + st + ht + wrap_tax
    total_inc = lines_after + sinc + hinc + wrap_inc + fee
    total_ex = total_inc - total_tax
    store_credit = min(D(str(spec.get("store_credit", ZERO))), total_inc)
    gift_cert = min(D(str(spec.get("gift_certificate", ZERO))), total_inc - store_credit)
    status_id = int(spec.get("status_id", 11))
    fx = FX.get(currency, ONE)
    b = dict(spec["billing"])
    shipping_addr = {
        "id": addr_id, "order_id": oid, "first_name": b.get("first_name", ""), "last_name": b.get("last_name", ""),
        "company": b.get("company", ""), "street_1": b.get("street_1", ""), "street_2": b.get("street_2", ""),
        "city": b.get("city", ""), "state": b.get("state", ""), "zip": b.get("zip", ""),
        "country": b.get("country", ""), "country_iso2": b.get("country_iso2", ""), "phone": b.get("phone", ""),
        "email": b.get("email", ""), "items_total": sum(pp["quantity"] for pp in products), "items_shipped": 0,
        "shipping_method": "Flat Rate" if ship else "Free Shipping", "base_cost": m4(ship),
        "cost_ex_tax": m4(sex), "cost_inc_tax": m4(sinc), "cost_tax": m4(st), "cost_tax_class_id": 2 if ship_taxed else 0,
        "base_handling_cost": m4(hand), "handling_cost_ex_tax": m4(hex_), "handling_cost_inc_tax": m4(hinc),
        "handling_cost_tax": m4(ht), "handling_cost_tax_class_id": 2, "shipping_zone_id": 1,
        "shipping_zone_name": "Domestic" if b.get("country_iso2") == "US" else "International", "form_fields": [],
    }
    if status_id in (2, 10, 4, 14):
        shipping_addr["items_shipped"] = shipping_addr["items_total"]
        for pp in products:
            pp["quantity_shipped"] = pp["quantity"]
    coupons = []
    if coupon and coupon_total:
        coupons.append({"id": oid * 10 + 1, "coupon_id": 10 + COUPONS.index(next(c for c in COUPONS if c[0] == coupon["code"]))
                        if any(c[0] == coupon["code"] for c in COUPONS) else 99, "order_id": oid,
                        "code": coupon["code"], "amount": str(coupon["pct"]), "type": coupon.get("type", 1),
                        "discount": float(coupon_total)})
    for p in products:
        p.pop("_basis_total", None)
        p.pop("_disc", None)
    payment_status = _payment_status(spec.get("payment", "purchase"), status_id)
    order = {
        "id": oid, "customer_id": int(spec.get("customer_id", 0)), "date_created": "", "date_modified": "",
        "date_shipped": "", "status_id": status_id, "status": STATUS_NAMES.get(status_id, "Unknown"),
        "custom_status": STATUS_NAMES.get(status_id, "Unknown"), "cart_id": f"c{oid:08d}-0000-4000-8000-000000000000",
        "channel_id": 1, "order_source": "www", "external_source": None, "external_id": None,
        "external_merchant_id": None, "external_order_id": "", "ebay_order_id": "0",
        "is_deleted": bool(spec.get("is_deleted", False)), "is_tax_inclusive_pricing": inclusive,
        "subtotal_ex_tax": m4(sub_ex), "subtotal_inc_tax": m4(sub_inc), "subtotal_tax": m4(sub_tax),
        "base_shipping_cost": m4(ship), "shipping_cost_ex_tax": m4(sex), "shipping_cost_inc_tax": m4(sinc),
        "shipping_cost_tax": m4(st), "shipping_cost_tax_class_id": 2 if ship_taxed else 0,
        "base_handling_cost": m4(hand), "handling_cost_ex_tax": m4(hex_), "handling_cost_inc_tax": m4(hinc),
        "handling_cost_tax": m4(ht), "handling_cost_tax_class_id": 2,
        "base_wrapping_cost": m4(wrap_inc if inclusive else wrap_ex), "wrapping_cost_ex_tax": m4(wrap_ex),
        "wrapping_cost_inc_tax": m4(wrap_inc), "wrapping_cost_tax": m4(wrap_tax), "wrapping_cost_tax_class_id": 3,
        "total_ex_tax": m4(total_ex), "total_inc_tax": m4(total_inc), "total_tax": m4(total_tax),
        "items_total": sum(pp["quantity"] for pp in products), "items_shipped": shipping_addr["items_shipped"],
        "payment_method": spec.get("payment_method", "Credit Card"), "payment_provider_id": f"pi_{oid:010d}",
        "payment_status": payment_status, "refunded_amount": m4(ZERO),
        "order_is_digital": False, "store_credit_amount": m4(store_credit),
        "gift_certificate_amount": m4(gift_cert), "ip_address": "203.0.113.7", "ip_address_v6": "",
        "geoip_country": b.get("country", ""), "geoip_country_iso2": b.get("country_iso2", ""),
        "currency_id": CURRENCY_IDS.get(currency, 9), "currency_code": currency, "currency_exchange_rate": "1.0000000000",
        "default_currency_id": CURRENCY_IDS.get(currency, 9), "default_currency_code": currency,
        "store_default_currency_code": "USD", "store_default_to_transactional_exchange_rate": str(fx),
        "staff_notes": "", "customer_message": spec.get("customer_message", ""),
        "discount_amount": m4(manual_total), "coupon_discount": m4(coupon_total),
        "shipping_address_count": 1, "is_email_opt_in": False, "credit_card_type": None,
        "customer_locale": "en", "tax_provider_id": "BasicTaxProvider" if pct else "",
        "billing_address": b,
        "_created": int(spec["created"]), "_modified": int(spec.get("modified", spec["created"])),
        "_products": products, "_shipping": [shipping_addr], "_taxes": tax_rows, "_coupons": coupons, "_fees": fees,
        "_transactions": [], "_refunds": [], "_tax_pct": str(pct), "_currency": currency,
    }
    if status_id in (2, 10, 4, 14):
        order["date_shipped"] = rfc2822(min(order["_modified"], order["_created"] + 86400))
    order["_transactions"] = _transactions(order, spec, store_credit, gift_cert)
    return order


def _product(oid, pid, line, qty, price_basis, r, inclusive, addr_id, parent):
    basis_total = price_basis * qty
    t = _tax(basis_total, r, inclusive)
    ex, inc, _ = _split(basis_total, t, inclusive)
    if inclusive:
        p_inc = price_basis
        p_ex = r4(price_basis / (ONE + r))
    else:
        p_ex = price_basis
        p_inc = price_basis + r4(price_basis * r)
    opts = []
    for j, o in enumerate(line.get("options", []) or []):
        name, _, value = o.partition(": ")
        opts.append({"id": pid * 10 + j, "option_id": 30 + j, "order_product_id": pid, "product_option_id": 40 + j,
                     "display_name": name, "display_value": value, "display_name_customer": name,
                     "display_name_merchant": name, "display_value_customer": value,
                     "display_value_merchant": value, "value": value, "type": "Multiple choice", "name": name,
                     "display_style": "Dropdown"})
    return {
        "id": pid, "order_id": oid, "product_id": int(line.get("product_id", 0)),
        "variant_id": line.get("variant_id"), "order_address_id": addr_id, "order_pickup_method_id": 0,
        "name": line["name"], "name_customer": line["name"], "name_merchant": line["name"],
        "sku": line.get("sku", ""), "upc": "", "brand": "", "bin_picking_number": "",
        "type": line.get("type", "physical"), "quantity": qty, "base_price": m4(price_basis),
        "price_ex_tax": m4(p_ex), "price_inc_tax": m4(p_inc), "price_tax": m4(p_inc - p_ex),
        "base_total": m4(basis_total), "total_ex_tax": m4(ex), "total_inc_tax": m4(inc), "total_tax": m4(t),
        "discounted_total_inc_tax": m4(inc), "applied_discounts": [], "product_options": opts,
        "is_refunded": False, "quantity_refunded": 0, "refund_amount": m4(ZERO), "return_id": 0,
        "quantity_shipped": 0, "base_cost_price": m4(ZERO), "cost_price_ex_tax": m4(ZERO),
        "cost_price_inc_tax": m4(ZERO), "cost_price_tax": m4(ZERO), "wrapping_id": 0, "wrapping_name": "",
        "base_wrapping_cost": m4(ZERO), "wrapping_cost_ex_tax": m4(ZERO), "wrapping_cost_inc_tax": m4(ZERO),
        "wrapping_cost_tax": m4(ZERO), "wrapping_message": "", "fixed_shipping_cost": m4(ZERO),
        "weight": "1.0000", "width": "0.0000", "height": "0.0000", "depth": "0.0000",
        "parent_order_product_id": parent, "is_bundled_product": parent is not None, "gift_certificate_id": None,
        "event_name": None, "event_date": None, "external_id": None, "configurable_fields": [],
        "_basis_total": basis_total, "_disc": ZERO,
    }


def _tax_row(row_id, oid, addr_id, name, pct, amount, opid, kind):
    return {"id": row_id, "order_id": oid, "order_address_id": addr_id, "tax_rate_id": 1,
            "sales_tax_id": "1", "tax_class_id": 0 if kind == "item" else 2, "name": name, "class": "Default Tax Class",
            "rate": m4(pct), "priority": 0, "priority_amount": m4(amount), "line_amount": m4(amount),
            "order_pickup_method_id": 0, "order_product_id": opid, "line_item_type": kind}


def _payment_status(payment: str, status_id: int) -> str:
    if status_id == 4:
        return "refunded"
    if status_id == 14:
        return "partially refunded"
    return {"none": "", "error": "declined", "auth_only": "authorized", "void": "void", "manual": "paid",
            "auth_capture": "captured", "purchase": "captured", "error_then_purchase": "captured"}.get(payment, "")


def _tx(order, k, event, amount, status, method, gateway, ts, ref=None, extra=None):
    t = {"id": order["id"] * 10 + k, "order_id": str(order["id"]), "event": event, "method": method,
         "amount": r2(amount), "currency": order["_currency"], "gateway": gateway,
         "gateway_transaction_id": f"{gateway[:2]}_{order['id']}_{k}", "date_created": iso_utc(ts), "test": False,
         "status": status, "fraud_review": False, "reference_transaction_id": ref, "offline": None, "custom": None,
         "payment_method_id": f"{gateway}.card", "payment_instrument_token": None, "avs_result": None,
         "cvv_result": None, "credit_card": {"card_type": "visa", "card_iin": "411111", "card_last4": "1111",
                                             "card_expiry_month": 12, "card_expiry_year": 2030}
         if method == "credit_card" else None, "gift_certificate": None, "store_credit": None, "_created": ts}
    if extra:
        t.update(extra)
    return t


def _transactions(order, spec, store_credit, gift_cert):
    payment = spec.get("payment", "purchase")
    gw = spec.get("gateway", "stripe")
    method = spec.get("tx_method", "credit_card")
    ts = order["_created"]
    card = D(order["total_inc_tax"]) - store_credit - gift_cert
    txs = []
    k = 0

    def add(event, amount, status, m=method, g=gw, ref=None, extra=None, dt=0):
        nonlocal k
        k += 1
        txs.append(_tx(order, k, event, amount, status, m, g, ts + dt, ref, extra))
        return txs[-1]

    if payment in ("none", "manual"):
        pass
    elif payment == "error":
        add("purchase", card, "error")
    elif payment == "auth_only":
        add("authorization", card, "ok")
    elif payment == "void":
        a = add("authorization", card, "ok")
        add("void", card, "ok", ref=a["id"], dt=3600)
    elif payment == "auth_capture":
        a = add("authorization", card, "ok")
        add("capture", card, "ok", ref=a["id"], dt=1800)
    elif payment == "error_then_purchase":
        add("purchase", card, "error")
        add("purchase", card, "ok", dt=60)
    else:
        add("purchase", card, "ok")
    if payment not in ("none", "error", "void"):
        if store_credit:
            add("purchase", store_credit, "ok", m="store_credit", g="storecredit",
                extra={"store_credit": {"remaining_balance": 0}})
        if gift_cert:
            add("purchase", gift_cert, "ok", m="gift_certificate", g="giftcertificate",
                extra={"gift_certificate": {"code": f"GC-{order['id']}", "original_balance": float(gift_cert),
                                            "starting_balance": float(gift_cert), "remaining_balance": 0,
                                            "status": "active"}})
    if card <= 0:
        txs = [t for t in txs if t["method"] in ("store_credit", "gift_certificate")]
    return txs


def build_refund(order: dict, req: dict, refund_id: int, created: int) -> dict:
    """A refund consistent with `order`. `req` has `items` (item_type, item_id, quantity|requested_amount),
    `amount` (an ORDER-level refund) or `full: true`."""
    inclusive = order["is_tax_inclusive_pricing"]
    items = []
    total = ZERO
    tax = ZERO
    by_line = {p["id"]: p for p in order["_products"]}
    ship = order["_shipping"][0] if order["_shipping"] else None
    reqs = list(req.get("items") or [])
    if req.get("full"):
        reqs = [{"item_type": "PRODUCT", "item_id": p["id"], "quantity": p["quantity"]}
                for p in order["_products"] if not p["parent_order_product_id"]]
        if D(order["shipping_cost_inc_tax"]) and ship:
            reqs.append({"item_type": "SHIPPING", "item_id": ship["id"]})
        if D(order["handling_cost_inc_tax"]) and ship:
            reqs.append({"item_type": "HANDLING", "item_id": ship["id"]})
        for p in order["_products"]:
            if D(p["wrapping_cost_inc_tax"]):
                reqs.append({"item_type": "GIFT_WRAPPING", "item_id": p["id"]})
        for f in order["_fees"]:
            reqs.append({"item_type": "FEE", "item_id": f["id"]})
    if req.get("amount") is not None:
        reqs.append({"item_type": "ORDER", "item_id": order["id"], "requested_amount": D(str(req["amount"]))})
    for it in reqs:
        kind = str(it.get("item_type", "")).upper()
        item = {"item_type": kind, "item_id": int(it.get("item_id", 0)), "reason": it.get("reason", req.get("reason", "")),
                "quantity": None, "requested_amount": None, "adjustments": []}
        if kind == "PRODUCT":
            p = by_line.get(item["item_id"])
            if p is None:
                raise ValueError(f"order {order['id']} has no product line {item['item_id']}")
            q = int(it.get("quantity", 1))
            if q < 1 or q > p["quantity"]:
                raise ValueError("quantity out of range")
            line_tax = next((D(t["line_amount"]) for t in order["_taxes"]
                             if t["order_product_id"] == str(p["id"]) and t["line_item_type"] == "item"), ZERO)
            amt = r2(D(p["discounted_total_inc_tax"]) * q / p["quantity"])
            t = r2(line_tax * q / p["quantity"])
            item["quantity"] = q
        elif kind in ("SHIPPING", "HANDLING"):
            key = "shipping" if kind == "SHIPPING" else "handling"
            full = D(order[f"{key}_cost_inc_tax"])
            ftax = D(order[f"{key}_cost_tax"])
            amt = D(str(it["requested_amount"])) if it.get("requested_amount") is not None else full
            if amt > full:
                raise ValueError(f"{key} refund above the charged amount")
            t = r2(ftax * amt / full) if full else ZERO
            item["requested_amount"] = r2(amt)
        elif kind == "GIFT_WRAPPING":
            p = by_line.get(item["item_id"])
            if p is None:
                raise ValueError("no such line")
            amt, t = D(p["wrapping_cost_inc_tax"]), D(p["wrapping_cost_tax"])
            item["requested_amount"] = r2(amt)
        elif kind == "FEE":
            f = next((f for f in order["_fees"] if f["id"] == item["item_id"]), None)
            if f is None:
                raise ValueError("no such fee")
            amt, t = D(f["cost_inc_tax"]), D(f["cost_tax"])
            item["requested_amount"] = r2(amt)
        elif kind == "ORDER":
            amt = D(str(it["requested_amount"]))
            t = ZERO
            item["requested_amount"] = r2(amt)
        else:
            raise ValueError(f"unknown item_type {kind!r}")
        total += amt
        tax += t
        items.append(item)
    total = r2(total)
    already = sum((D(str(r["total_amount"])) for r in order["_refunds"]), ZERO)
    if total <= 0 or already + total > D(order["total_inc_tax"]):
        raise ValueError("refund total must be positive and not exceed the order total")
    # Money goes back to the tenders: store credit / gift certificate first for full refunds, then the card.
    payments = []
    card_left = total
    pid = refund_id * 10
    for t in order["_transactions"]:
        if t["status"] == "ok" and t["event"] in ("purchase", "capture") and t["method"] in ("store_credit", "gift_certificate") \
                and req.get("full"):
            amt = min(card_left, D(str(t["amount"])))
            if amt > 0:
                pid += 1
                payments.append({"id": pid, "provider_id": t["gateway"], "amount": amt, "offline": False,
                                 "is_declined": False, "declined_message": "", "transaction_id": str(t["id"])})
                card_left -= amt
    if card_left > 0:
        gw = next((t["gateway"] for t in order["_transactions"] if t["status"] == "ok"
                   and t["method"] not in ("store_credit", "gift_certificate")), "custom")
        pid += 1
        payments.append({"id": pid, "provider_id": gw, "amount": card_left, "offline": gw == "custom",
                         "is_declined": False, "declined_message": "", "transaction_id": f"rf_{refund_id}"})
    return {"id": refund_id, "order_id": order["id"], "user_id": 0, "created": iso_utc(created),
            "reason": req.get("reason", ""), "total_amount": total, "total_tax": r2(tax),
            "uses_merchant_override_values": False, "items": items, "payments": payments, "_created": created,
            "_inclusive": inclusive}


def add_refund(order: dict, refund: dict) -> None:
    """Attaches a refund to its order, with the matching `refund` transactions."""
    order["_refunds"].append(refund)
    k = 50 + len([t for t in order["_transactions"] if t["event"] == "refund"])
    for p in refund["payments"]:
        k += 1
        method = "store_credit" if p["provider_id"] == "storecredit" else \
            "gift_certificate" if p["provider_id"] == "giftcertificate" else "credit_card"
        order["_transactions"].append(_tx(order, k, "refund", p["amount"], "ok", method, p["provider_id"],
                                          refund["_created"]))
