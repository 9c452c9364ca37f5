"""Import speed: a faq_eval file, converted to the import format, through `python -m knowledge_base import`.

Usage: .venv/app/bin/python benchmarks/kb_import.py ../shared/data/faq_eval/afqmc_train_faq.jsonl
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import faq_eval_to_import_rows
from knowledge_base.importer import read_file


def main() -> None:
    source = Path(sys.argv[1])
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "faqs.jsonl"
        rows = faq_eval_to_import_rows(source)
        data.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
        started = time.perf_counter()
        report = read_file(data)
        validate_s = time.perf_counter() - started
        assert report.ok, report.errors[:5]
        env = {**os.environ, "GRIDDESK_DATA_DIR": str(Path(tmp) / "var")}
        subprocess.run([sys.executable, "-m", "ops.setup_db", "--no-seed"], check=True, env=env)
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "knowledge_base", "import", str(data)], check=True, env=env)
        import_s = time.perf_counter() - started
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "knowledge_base", "import", str(data)], check=True, env=env)
        reimport_s = time.perf_counter() - started
    print(f"rows: {len(rows)}")
    print(f"baseline read+validate: {validate_s:.1f} s")
    print(
        f"first import (validate, write, encode): {import_s:.1f} s = {import_s / validate_s:.1f}x baseline, "
        f"{len(rows) / import_s:.0f} rows/s"
    )
    print(f"re-import (nothing changed, vectors cached): {reimport_s:.1f} s = {reimport_s / validate_s:.1f}x baseline")


if __name__ == "__main__":
    main()
