#!/usr/bin/env python3
"""Example plugin: exit 75 while ORCH_ATTEMPT <= with.failures (default 1), then succeed.

On success the last stdout line is a JSON object, which the orchestrator merges into the
instance's data.
"""
import json
import os
import sys

event = json.load(sys.stdin)
failures = (event.get("with") or {}).get("failures", 1)
attempt = int(os.environ.get("ORCH_ATTEMPT", "1"))
if not isinstance(failures, (int, float)):
    print(f"flaky: with.failures must be a number, got {failures!r}", file=sys.stderr)
    sys.exit(2)
if attempt <= failures:
    print(f"flaky: attempt {attempt} of dispatch {os.environ.get('ORCH_DISPATCH_ID')} fails on purpose", file=sys.stderr)
    sys.exit(75)  # EX_TEMPFAIL
print(f"flaky: attempt {attempt} succeeds")
print(json.dumps({"flaky_ok": True}))
