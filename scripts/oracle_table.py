#!/usr/bin/env python3
"""Writes the "every scenario x {ours, Go}" table of docs/conformance.md from the JSON report of
`tunedhttp run --compare go --json scenarios` (read from a file or stdin), between the markers
<!-- oracle-table:begin --> and <!-- oracle-table:end -->.

    ./build/harness/tunedhttp run --compare go --json scenarios > build/oracle.json
    python3 scripts/oracle_table.py build/oracle.json docs/conformance.md
"""
import json
import sys

BEGIN = "<!-- oracle-table:begin -->"
END = "<!-- oracle-table:end -->"


def cell_time(side):
    timings = side.get("timings") or []
    if not timings:
        return "-"
    return "%.1f ms" % timings[0]["fired_at_ms"]


def render(report):
    lines = [
        "| scenario | verdict | ours | Go | fired at (ours / Go) | dials (ours / Go) | reuses (ours / Go) |",
        "|---|---|---|---|---|---|---|",
    ]
    for s in report["scenarios"]:
        ours, go = s["ours"], s["go"]

        def outcome(side):
            return ("pass" if side["result"] == "pass" else "FAIL") + (
                " (%s)" % side["error"] if side["error"] else "")

        lines.append("| `%s` | %s | %s | %s | %s / %s | %d / %d | %d / %d |" % (
            s["name"], s["verdict"], outcome(ours), outcome(go), cell_time(ours), cell_time(go),
            ours["dials"], go["dials"], ours["reuses"], go["reuses"]))
    declared = [s for s in report["scenarios"] if s.get("declared")]
    lines.append("")
    lines.append("%d scenarios: %d agree, %d differ on purpose, %d other." % (
        report["total"], sum(s["verdict"] == "agree" for s in report["scenarios"]),
        len(declared), report["failed"]))
    for s in declared:
        lines.append("- `%s`: %s" % (s["name"], s["declared"]))
    return "\n".join(lines)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: oracle_table.py REPORT.json DOC.md")
    report = json.load(open(sys.argv[1]) if sys.argv[1] != "-" else sys.stdin)
    doc_path = sys.argv[2]
    text = open(doc_path).read()
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        sys.exit("%s: no %s ... %s markers" % (doc_path, BEGIN, END))
    text = text[:start + len(BEGIN)] + "\n" + render(report) + "\n" + text[end:]
    open(doc_path, "w").write(text)


if __name__ == "__main__":
    main()
