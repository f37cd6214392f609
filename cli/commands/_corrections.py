"""`sasaeai understand export-corrections`: coordinators' reviewed readings as training rows.

Writes the training corpus's TSV (text, category, safety, signal, note) with a header line, to
--output or stdout. Only residents who consented; names, phone numbers and addresses removed
(domain.readings.export_corrections).
"""
from __future__ import annotations

import sys

from cli.commands._common import unit_of_work
from domain.readings import CORPUS_COLUMNS, export_corrections


def run_export_corrections(args) -> int:
    with unit_of_work() as session:
        rows = export_corrections(session)
    lines = ["\t".join(CORPUS_COLUMNS)] + [row.tsv() for row in rows]
    data = "\n".join(lines) + "\n"
    if args.output:
        with open(args.output, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(data)
        print(f"{len(rows)} 件を書き出しました: {args.output}", file=sys.stderr)
    else:
        out = sys.stdout
        if hasattr(out, "reconfigure"):
            out.reconfigure(encoding="utf-8")
        out.write(data)
    return 0
