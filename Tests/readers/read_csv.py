#!/usr/bin/env python3
"""Reads a CSV file with Python's csv module (RFC 4180 dialect) and prints the rows as JSON.

Usage: read_csv.py FILE
Prints {"bom": bool, "header": [...], "rows": [{column: value}], "lineEndings": "CRLF"|"mixed"}.
Fails when a row's field count differs from the header's.
"""
import csv
import io
import json
import sys

raw = open(sys.argv[1], "rb").read()
bom = raw.startswith(b"\xef\xbb\xbf")
text = raw.decode("utf-8-sig")
# Every record ends in CRLF; bare LF may only appear inside quoted fields.
endings = "CRLF" if raw.endswith(b"\r\n") else "mixed"

reader = csv.reader(io.StringIO(text, newline=""), dialect="excel", strict=True)
records = list(reader)
header, body = records[0], records[1:]
bad = [i + 2 for i, r in enumerate(body) if len(r) != len(header)]
print(json.dumps({"bom": bom, "lineEndings": endings, "header": header,
                  "rows": [dict(zip(header, r)) for r in body]}, indent=1, ensure_ascii=False))
sys.exit(1 if bad else 0)
