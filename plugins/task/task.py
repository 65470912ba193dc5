#!/usr/bin/env python3
"""Example plugin: pretends to run the task named in the hook's `with.action`.

Reads the event (one JSON object) from stdin. Exit 0 = success, 75 = retryable failure,
anything else = failure. A last stdout line that is a JSON object is merged into the
instance's data.
"""
import json
import os
import sys

event = json.load(sys.stdin)
params = event.get("with") or {}
action = params.get("action", "noop")
attempt = int(os.environ.get("ORCH_ATTEMPT", "1"))

print(f"task {action} for {event.get('workflow')}/{event.get('instance')} (attempt {attempt})", file=sys.stderr)
if params.get("fail_first_attempts", 0) >= attempt:
    sys.exit(75)  # EX_TEMPFAIL: retried per the hook's policy
print(json.dumps({f"{action}_done": True}))
