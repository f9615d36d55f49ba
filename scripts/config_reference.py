#!/usr/bin/env python3
"""Turns the template `zbsync init` writes into docs/CONFIGURATION.md (one table row per key).

Usage: scripts/config_reference.py HOME/zbsync.conf > docs/CONFIGURATION.md
"""
import re
import sys

lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
rows, section, doc = [], None, []
for line in lines:
    m = re.match(r"^\[(\w+)\]$", line)
    if m:
        section, doc = m.group(1), []
        continue
    if section is None:
        continue
    m = re.match(r"^#?\s*([a-z_]+) =\s*(.*)$", line)
    if m and doc:
        key, value = m.group(1), m.group(2)
        text = " ".join(d for d in doc if not d.startswith("Type:"))
        typ = next((d for d in doc if d.startswith("Type:")), "")
        typ, _, default = typ.partition(". Default: ")
        rows.append((section, key, typ.removeprefix("Type: "), default.rstrip("."), text))
        doc = []
        continue
    if line.startswith("# "):
        doc.append(line[2:])

print("# Configuration reference\n")
print("`HOME/zbsync.conf` holds one connection (one BigCommerce store → one Zoho Books organization). Syntax:")
print("`[section]` headers, `key = value` lines, `#` comments, values may be quoted with `\"…\"`. A bad line")
print("stops zbsync with exit 78 and names the file and line. Every key can be overridden by the environment")
print("variable `ZBSYNC_<SECTION>_<KEY>` (upper case); a bad value there names the variable.")
print("Credentials never go in this file: `zbsync auth` stores them encrypted in `state.db`.\n")
print("This page is generated from the template `zbsync init` writes (`scripts/config_reference.py`).\n")
print("| key | environment variable | default | type | meaning |")
print("|---|---|---|---|---|")
for section, key, typ, default, text in rows:
    env = f"ZBSYNC_{section.upper()}_{key.upper()}"
    print(f"| `{section}.{key}` | `{env}` | {default} | {typ} | {text} |")
