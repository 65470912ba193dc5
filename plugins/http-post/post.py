#!/usr/bin/env python3
"""Example plugin: POST the event (the JSON object read from stdin) to `with.url`.

Only loopback URLs are accepted (localhost, 127.0.0.0/8, ::1): the host is checked as
written, before anything is sent, and never looked up in DNS. Standard library only.

Exit codes: 0 when the server answers 2xx; 75 (retry later) when the connection is
refused, times out, or the server answers 5xx; 1 for other answers; 2 for a bad `with.url`.
The request carries the dispatch id in `Idempotency-Key`, the same on every attempt.
"""
import ipaddress
import json
import sys
import urllib.error
import urllib.parse
import urllib.request

EX_TEMPFAIL = 75


def loopback_host(host):
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def main():
    raw = sys.stdin.buffer.read()
    event = json.loads(raw)
    url = (event.get("with") or {}).get("url")
    if not isinstance(url, str) or not url:
        print("http-post: the hook needs with.url, e.g. with: { url: http://127.0.0.1:9000/hooks }", file=sys.stderr)
        return 2
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or not loopback_host(parts.hostname):
        print(f"http-post: refusing {url!r}: only http(s) URLs on loopback (localhost, 127.0.0.0/8, ::1) are allowed",
              file=sys.stderr)
        return 2
    request = urllib.request.Request(url, data=raw, method="POST", headers={
        "Content-Type": "application/json",
        "Idempotency-Key": str(event.get("dispatch_id", "")),
    })
    # No proxies: a loopback URL must not be sent anywhere else.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=10) as response:
            print(f"http-post: {url} answered {response.status}", file=sys.stderr)
            return 0
    except urllib.error.HTTPError as error:
        print(f"http-post: {url} answered {error.code}", file=sys.stderr)
        return EX_TEMPFAIL if error.code >= 500 else 1
    except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
        print(f"http-post: cannot reach {url}: {getattr(error, 'reason', error)}", file=sys.stderr)
        return EX_TEMPFAIL


if __name__ == "__main__":
    sys.exit(main())
