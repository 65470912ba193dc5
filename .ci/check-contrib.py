#!/usr/bin/env python3
"""Checks contrib/ against the code: the Grafana dashboard and the Prometheus rules use only
metric names the Swift sources export, and each file has the structure its tool expects.
docs/operations.md must list every exported name too.

Run from the repository root: python3 .ci/check-contrib.py   (.ci/run does; exit 1 on a problem)

The exported names are read from the sources: every swift-metrics `Counter`, `Gauge`,
`Timer`, `Recorder` or `Meter` made with a literal `label: "..."` (and a `static let label`
that a `Timer(label: Self.label` uses). A Timer is a Prometheus histogram, so its
`_bucket`, `_count` and `_sum` series count as exported. The rules are YAML: PyYAML parses
them (`python3 -m pip install pyyaml`); promtool, when present, checks them further.
"""
import json
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
DASHBOARD = ROOT / "contrib/grafana/orchestrator.json"
RULES = ROOT / "contrib/prometheus/alerts.yml"
RULE_TESTS = ROOT / "contrib/prometheus/alerts_test.yml"
OPERATIONS = ROOT / "docs/operations.md"
# Series Prometheus makes itself for every target.
BUILTIN = {"up"}
# Names our exporters use: a token with one of these prefixes in an expression must be exported.
PREFIXES = ("raft_", "orchestrator_")

MAKER = re.compile(r'\b(Counter|FloatingPointCounter|Gauge|Timer|Recorder|Meter)\(label:\s*"([a-zA-Z_:][a-zA-Z0-9_:]*)"')
STATIC_LABEL = re.compile(r'static let label\s*=\s*"([a-zA-Z_:][a-zA-Z0-9_:]*)"')
TOKEN = re.compile(r'(?<![A-Za-z0-9_:.$-])[a-z_:][a-z0-9_:]*(?![A-Za-z0-9_:])')
DURATION = re.compile(r'^([0-9]+(ms|s|m|h|d|w|y))+$')

problems = []


def exported_names():
    names, histograms = set(), set()
    for path in sorted((ROOT / "Sources").rglob("*.swift")):
        text = path.read_text(encoding="utf-8")
        for kind, name in MAKER.findall(text):
            names.add(name)
            if kind == "Timer":
                histograms.add(name)
        for name in STATIC_LABEL.findall(text):
            names.add(name)
            if "Timer(label: Self.label" in text:
                histograms.add(name)
    series = set(names)
    for name in histograms:
        series |= {name + "_bucket", name + "_count", name + "_sum"}
    return names, series


def check_names(where, text, series):
    """Every prefixed token in `text` must be an exported series; returns the names found."""
    found = set()
    for token in TOKEN.findall(text):
        if token in series or token in BUILTIN:
            found.add(token)
        elif token.startswith(PREFIXES):
            problems.append(f"{where}: '{token}' is not a metric the code exports")
    return found


def check_dashboard(series):
    try:
        dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        problems.append(f"{DASHBOARD.relative_to(ROOT)}: not JSON: {error}")
        return set()
    where = DASHBOARD.relative_to(ROOT)
    for key in ("title", "uid", "panels", "schemaVersion"):
        if key not in dashboard:
            problems.append(f"{where}: no '{key}'")
    used, ids = set(), set()
    for panel in dashboard.get("panels", []):
        title = panel.get("title", "?")
        if panel.get("id") in ids:
            problems.append(f"{where}: panel '{title}' repeats id {panel.get('id')}")
        ids.add(panel.get("id"))
        if not {"x", "y", "w", "h"} <= set(panel.get("gridPos", {})):
            problems.append(f"{where}: panel '{title}' has no complete gridPos")
        if panel.get("type") == "row":
            continue
        targets = panel.get("targets") or []
        if not targets:
            problems.append(f"{where}: panel '{title}' has no query")
        for target in targets:
            expr = target.get("expr", "")
            if not expr.strip():
                problems.append(f"{where}: panel '{title}' has an empty query")
            names = check_names(f"{where}: panel '{title}'", expr, series)
            if expr.strip() and not names:
                problems.append(f"{where}: panel '{title}' queries no exported metric: {expr}")
            used |= names
    for variable in dashboard.get("templating", {}).get("list", []):
        query = variable.get("query")
        text = query.get("query", "") if isinstance(query, dict) else str(query or "")
        used |= check_names(f"{where}: variable '{variable.get('name')}'", text, series)
    return used


def check_rules(series):
    where = RULES.relative_to(ROOT)
    try:
        import yaml
    except ImportError:
        problems.append(f"{where}: cannot check the rules without PyYAML (python3 -m pip install pyyaml)")
        return set()
    try:
        document = yaml.safe_load(RULES.read_text(encoding="utf-8"))
        yaml.safe_load(RULE_TESTS.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        problems.append(f"{where}: not YAML: {error}")
        return set()
    groups = document.get("groups") if isinstance(document, dict) else None
    if not isinstance(groups, list) or not groups:
        problems.append(f"{where}: needs a non-empty 'groups' list")
        return set()
    used, alerts = set(), set()
    for group in groups:
        if not isinstance(group, dict) or not group.get("name") or not isinstance(group.get("rules"), list):
            problems.append(f"{where}: every group needs a 'name' and a 'rules' list")
            continue
        for rule in group["rules"]:
            name = rule.get("alert") or rule.get("record")
            if not name:
                problems.append(f"{where}: a rule in group '{group['name']}' has neither 'alert' nor 'record'")
                continue
            unknown = set(rule) - {"alert", "record", "expr", "for", "keep_firing_for", "labels", "annotations"}
            if unknown:
                problems.append(f"{where}: rule '{name}' has unknown keys {sorted(unknown)}")
            if "alert" in rule:
                if name in alerts:
                    problems.append(f"{where}: alert '{name}' is defined twice")
                alerts.add(name)
                if not re.fullmatch(r"[A-Z][A-Za-z0-9]*", name):
                    problems.append(f"{where}: alert '{name}' is not CamelCase")
                if "for" in rule and not DURATION.match(str(rule["for"])):
                    problems.append(f"{where}: alert '{name}' has a malformed 'for': {rule['for']}")
                if (rule.get("labels") or {}).get("severity") not in {"critical", "warning", "info"}:
                    problems.append(f"{where}: alert '{name}' needs labels.severity critical, warning or info")
                for key in ("summary", "description"):
                    if not (rule.get("annotations") or {}).get(key):
                        problems.append(f"{where}: alert '{name}' needs annotations.{key}")
            expr = rule.get("expr")
            if not isinstance(expr, str) or not expr.strip():
                problems.append(f"{where}: rule '{name}' needs an 'expr'")
                continue
            names = check_names(f"{where}: rule '{name}'", expr, series)
            if not names:
                problems.append(f"{where}: rule '{name}' uses no exported metric: {expr}")
            used |= names
            for text in (rule.get("annotations") or {}).values():
                check_names(f"{where}: rule '{name}' annotation", str(text), series)
    return used


def main():
    names, series = exported_names()
    if not names:
        problems.append("found no metric in Sources/: has the way metrics are made changed? (see .ci/check-contrib.py)")
    used = check_dashboard(series) | check_rules(series)
    operations = OPERATIONS.read_text(encoding="utf-8")
    for name in sorted(names):
        if f"`{name}`" not in operations and f"`{name}{{" not in operations:
            problems.append(f"{OPERATIONS.relative_to(ROOT)}: the exported metric '{name}' is not documented")
    if problems:
        for problem in problems:
            print(f"error: {problem}", file=sys.stderr)
        sys.exit(1)
    print(f"contrib: {len(names)} exported metrics; the dashboard and the rules use {len(used)} series, all exported")


if __name__ == "__main__":
    main()
