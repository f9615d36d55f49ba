#!/usr/bin/env python3
"""Prints what a sync put into the sandbox's Zoho organization, beside the BigCommerce totals."""
import json
import sys
import urllib.request
from decimal import Decimal

port = sys.argv[1]
base = f"http://127.0.0.1:{port}"


def get(path):
    with urllib.request.urlopen(base + path, timeout=10) as r:
        return json.loads(r.read().decode())


state = get("/_sandbox/state")
org = next(iter(state["zoho"]["organizations"].values()))
invoices = sorted(org["invoices"], key=lambda i: int(i["invoice_number"].split("-")[-1]))
print(f"{'INVOICE':<10} {'STATUS':<15} {'CUR':<4} {'BIGCOMMERCE':>12} {'ZOHO':>12} {'ADJ':>7}  MATCH")
matched = 0
for inv in invoices:
    order_id = inv["invoice_number"].split("-")[-1]
    order = get(f"/_sandbox/bc/orders/{order_id}")
    order = order.get("order", order)
    bc_total = Decimal(str(order["total_inc_tax"])).quantize(Decimal("0.01"))
    zoho_total = Decimal(str(inv["total"])).quantize(Decimal("0.01"))
    ok = bc_total == zoho_total
    matched += ok
    print(f"{inv['invoice_number']:<10} {inv['status']:<15} {inv.get('currency_code',''):<4} {bc_total:>12} {zoho_total:>12} "
          f"{Decimal(str(inv.get('adjustment', 0))):>7}  {'yes' if ok else 'NO'}")
print(f"\n{len(invoices)} invoices, {matched} equal to the BigCommerce total to the cent")
print(f"{len(org['contacts'])} contacts, {len(org['items'])} items, {len(org['payments'])} payments, "
      f"{len(org['creditnotes'])} credit notes")
for cn in org["creditnotes"]:
    print(f"  credit note {cn['creditnote_number']}: {cn.get('total')} {cn.get('status')}")
reqs = get("/_sandbox/requests?api=zoho")
rows = reqs.get("requests", reqs) if isinstance(reqs, dict) else reqs
writes = sum(1 for r in rows if r["method"] != "GET")
print(f"Zoho API calls: {len(rows)} ({writes} writes, {len(rows) - writes} reads)")
