"""Search latency over an index of a faq_eval file's FAQs (all of them, distractors included).

Usage: .venv/app/bin/python benchmarks/kb_search.py ../shared/data/faq_eval/afqmc_train_faq.jsonl [QUERIES] [--adapter]
Reuses the evaluation database (GRIDDESK_DATA_DIR/eval/…) that `python -m knowledge_base evaluate`
fills, so vectors are encoded once. ``--adapter`` searches through an adapter (a random matrix near
the identity: what a trained one costs, not what it finds). Also reports the time to encode one new
FAQ (its question and three similar questions, as one batch) with the configured encoder.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
from sqlalchemy.orm import Session

from benchmarks.common import faq_eval_to_import_rows, percentiles, queries_of
from griddesk.settings import get_settings
from knowledge_base.adapter import Adapter
from knowledge_base.encoders import get_encoder
from knowledge_base.evaluate import cache_engine
from knowledge_base.importer import validate_record, write_rows
from knowledge_base.index import Thresholds
from knowledge_base.search import build_index, load_entries


def main() -> None:
    source = Path(sys.argv[1])
    positional = [a for a in sys.argv[2:] if not a.startswith("--")]
    count = int(positional[0]) if positional else 500
    adapter = None
    if "--adapter" in sys.argv:
        rng = np.random.default_rng(0)
    settings = get_settings()
    encoder = get_encoder(settings.encoder)
    if "--adapter" in sys.argv:
        matrix = np.eye(encoder.dim, dtype=np.float32) + 0.01 * rng.normal(size=(encoder.dim, encoder.dim))
        adapter = Adapter(encoder.name, matrix.astype(np.float32))
    db_path = settings.data_dir / "eval" / f"{source.stem}-{encoder.name.replace('/', '_').replace(':', '_')}.db"
    engine = cache_engine(db_path)
    with Session(engine) as session:
        rows = [validate_record(i, r) for i, r in enumerate(faq_eval_to_import_rows(source), 1)]
        write_rows(session, rows)
        session.commit()
        started = time.perf_counter()
        index = build_index(
            session, encoder, load_entries(session), settings.kb_dense_weight, Thresholds(), adapter=adapter
        )
        build_s = time.perf_counter() - started
    queries = queries_of(source, count)
    for query in queries[:20]:  # warm-up
        index.search(query)
    encode_ms, search_ms = [], []
    for query in queries:
        started = time.perf_counter()
        encoder.encode([query])
        encode_ms.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        index.search(query, k=3)
        search_ms.append((time.perf_counter() - started) * 1000)
    faq_ms = []
    for start in range(0, min(len(queries), 200), 4):  # a new FAQ: question + 3 similar questions
        started = time.perf_counter()
        encoder.encode(queries[start : start + 4])
        faq_ms.append((time.perf_counter() - started) * 1000)
    enc, srch, faq = percentiles(encode_ms), percentiles(search_ms), percentiles(faq_ms)
    print(f"encoder {encoder.name}, adapter {'yes' if adapter is not None else 'no'}")
    print(f"index: {len(index)} FAQs, {index.rows} rows, built in {build_s:.1f} s (vectors from cache when re-run)")
    print(f"encode one new FAQ (4 texts): p50 {faq['p50']:.1f} ms, p95 {faq['p95']:.1f} ms")
    print(f"baseline query encode: p50 {enc['p50']:.1f} ms, p95 {enc['p95']:.1f} ms")
    print(
        f"search (encode + dense + lexical + fuse + top-k): p50 {srch['p50']:.1f} ms "
        f"({srch['p50'] / enc['p50']:.2f}x baseline), p95 {srch['p95']:.1f} ms "
        f"({srch['p95'] / enc['p95']:.2f}x baseline), n={srch['n']}"
    )


if __name__ == "__main__":
    main()
