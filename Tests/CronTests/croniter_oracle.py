#!/usr/bin/env python3
"""croniter as an oracle for CronTests' differential test.

Reads JSON lines on stdin, one case each:
    {"expr": "*/5 1-3 * * MON", "tz": "Europe/Berlin", "from": <ms since epoch>, "count": 5}
and writes one JSON line per case, in order:
    {"next": [<ms>, ...]}   or   {"error": "<croniter's message>"}
Exits 3 with a hint on stderr when croniter is not installed.
"""
import json
import sys
from datetime import datetime, timezone

try:
    from croniter import croniter
except ImportError:
    sys.stderr.write("croniter is not installed; run: python3 -m pip install croniter\n")
    sys.exit(3)
from zoneinfo import ZoneInfo

zones = {}


def zone(name):
    if name not in zones:
        zones[name] = timezone.utc if name == "UTC" else ZoneInfo(name)
    return zones[name]


def run(case):
    start = datetime.fromtimestamp(case["from"] / 1000, tz=timezone.utc).astimezone(zone(case["tz"]))
    iterator = croniter(case["expr"], start)
    return [round(iterator.get_next(datetime).timestamp() * 1000) for _ in range(case["count"])]


def main():
    out = sys.stdout
    for line in sys.stdin:
        if not line.strip():
            continue
        case = json.loads(line)
        try:
            out.write(json.dumps({"next": run(case)}) + "\n")
        except Exception as error:  # croniter raises several types; report them all as data
            out.write(json.dumps({"error": f"{type(error).__name__}: {error}"}) + "\n")
    out.flush()


if __name__ == "__main__":
    main()
