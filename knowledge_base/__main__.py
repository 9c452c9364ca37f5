"""Command line of the knowledge base: ``python -m knowledge_base {import,export,search,evaluate,train,seed}``."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tqdm import tqdm

from griddesk.db import session_scope
from griddesk.settings import get_settings
from knowledge_base.encoders import EncoderError, get_encoder
from knowledge_base.import_formats import ImportFileError
from knowledge_base.importer import read_file, write_rows
from knowledge_base.index import Thresholds
from knowledge_base.learning import (
    Figures,
    NotEnoughData,
    activate_version,
    rollback,
    train_from_knowledge_base,
    versions,
)
from knowledge_base.models import FaqStatus
from knowledge_base.search import (
    QueryError,
    build_index,
    get_knowledge_base,
    load_entries,
)
from knowledge_base.training import TrainingConfig

SEED_FILE = Path(__file__).resolve().parent / "seed" / "faqs.jsonl"


def _bar(label: str, total: int | None) -> tuple[tqdm, Callable[[int], object]]:
    bar = tqdm(total=total, desc=label, unit="行", file=sys.stderr, disable=None, dynamic_ncols=True)
    return bar, bar.update


def import_file(path: Path, status: FaqStatus = FaqStatus.PUBLISHED) -> int:
    """Validate ``path``, write it all or nothing, then encode what the index will need."""
    started = time.perf_counter()
    bar, tick = _bar("校验", None)
    try:
        report = read_file(path, progress=tick)
    except ImportFileError as exc:
        bar.close()
        print(f"导入失败：{exc}", file=sys.stderr)
        return 2
    bar.close()
    if not report.ok:
        for error in report.errors:
            print(error, file=sys.stderr)
        print(f"导入失败：{len(report.errors)} 行有错误，未写入任何内容。", file=sys.stderr)
        return 1
    bar, tick = _bar("写入", len(report.rows))
    with session_scope() as session:
        created, updated, unchanged = write_rows(session, report.rows, status=status, progress=tick)
    bar.close()
    settings = get_settings()
    encoder = get_encoder(settings.encoder)
    with session_scope() as session:
        entries = load_entries(session)
        bar, tick = _bar("编码", sum(len(e.texts()) for e in entries))
        build_index(session, encoder, entries, settings.kb_dense_weight, Thresholds(), progress=tick)
        bar.close()
    elapsed = time.perf_counter() - started
    print(f"导入完成：新增 {created}，更新 {updated}，未变 {unchanged}（共 {len(report.rows)} 行，{elapsed:.1f} 秒）")
    return 0


def export_file(path: Path, include_archived: bool = False) -> int:
    """Write the whole knowledge base to ``path`` in the import format its suffix names."""
    from knowledge_base.export import ExportFormatError, export_faqs

    started = time.perf_counter()
    try:
        with session_scope() as session:
            data = export_faqs(session, path.suffix, include_archived=include_archived)
    except ExportFormatError:
        print(
            f"导出失败：不支持的文件类型「{path.suffix or '无扩展名'}」，请使用 .jsonl、.csv 或 .xlsx", file=sys.stderr
        )
        return 2
    try:
        path.write_bytes(data)
    except OSError as exc:
        print(f"导出失败：{exc}", file=sys.stderr)
        return 2
    print(f"导出完成：{path}（{len(data) / 1024:.0f} KB，{time.perf_counter() - started:.1f} 秒）")
    return 0


def seed() -> int:
    """Import the demo knowledge base when the FAQ table is empty (first start)."""
    from sqlalchemy import func, select

    from knowledge_base.models import Faq

    with session_scope() as session:
        count = session.scalar(select(func.count(Faq.id)))
    if count:
        print(f"知识库已有 {count} 条问答，跳过示例数据。")
        return 0
    print(f"导入示例知识库：{SEED_FILE.name}")
    return import_file(SEED_FILE)


def search(text: str, k: int, grid: str | None, as_json: bool) -> int:
    try:
        result = get_knowledge_base().search(text, k=k, grid=grid)
    except QueryError as exc:
        print(f"查询无效：{exc}", file=sys.stderr)
        return 2
    if as_json:
        print(
            json.dumps(
                {"decision": str(result.decision), "hits": [h.as_dict() for h in result.hits]},
                ensure_ascii=False,
                indent=2,
            )
        )
        return 0
    print(f"决策 decision: {result.decision}")
    for rank, hit in enumerate(result.hits, start=1):
        print(
            f"{rank}. [{hit.score:.3f}] (dense {hit.dense:.3f} · lexical {hit.lexical:.3f}) "
            f"#{hit.faq.id} {hit.faq.question}"
        )
    return 0


def evaluate(
    path: Path,
    db: Path | None,
    as_json: bool,
    sample: int | None = None,
    seed: int = 0,
    train: bool = False,
    folds: int = 5,
) -> int:
    from knowledge_base.evaluate import evaluate as run
    from knowledge_base.evaluate import format_scores, scores_json

    settings = get_settings()
    encoder = get_encoder(settings.encoder)
    bars: list[tqdm] = []

    def progress(label: str, total: int) -> Callable[[int], object]:
        bar, tick = _bar(label, total)
        bars.append(bar)
        return tick

    db_path = db or settings.data_dir / "eval" / f"{path.stem}-{encoder.name.replace('/', '_').replace(':', '_')}.db"
    try:
        scores = run(
            path,
            encoder,
            db_path,
            settings.kb_dense_weight,
            Thresholds(),
            progress,
            sample,
            seed,
            train=train,
            folds=folds,
        )
    except (ImportFileError, OSError) as exc:
        print(f"评测失败：{exc}", file=sys.stderr)
        return 2
    finally:
        for bar in bars:
            bar.close()
    print(scores_json(scores) if as_json else format_scores(path, encoder.name, scores))
    return 0


def _figures(label: str, figures: Figures) -> str:
    return f"{label:<24}{figures.queries:>8}{figures.top1:>8.3f}{figures.top3:>8.3f}{figures.mrr:>8.3f}"


def train(epochs: int | None, force: bool) -> int:
    """Learn an adapter from the knowledge base's similar questions; print validation before/after."""
    settings = get_settings()
    encoder = get_encoder(settings.encoder)
    config = TrainingConfig() if epochs is None else TrainingConfig(epochs=epochs)
    started = time.perf_counter()
    with session_scope() as session:
        try:
            outcome = train_from_knowledge_base(
                session,
                encoder,
                load_entries(session),
                settings.kb_dense_weight,
                Thresholds(settings.kb_answer_threshold, settings.kb_suggest_threshold, settings.kb_answer_margin),
                config,
                force=force,
                progress=lambda message: print(message, file=sys.stderr),
            )
        except NotEnoughData as exc:
            print(f"无法训练：{exc}", file=sys.stderr)
            return 1
    print(
        f"编码器 {encoder.name} · {outcome.faqs} 条 FAQ 的 {outcome.pairs} 个相似问 · "
        f"{time.perf_counter() - started:.1f} 秒"
    )
    print(f"{'validation':<24}{'queries':>8}{'top-1':>8}{'top-3':>8}{'MRR@10':>8}")
    print(_figures("before (encoder only)", outcome.before))
    print(_figures("after (adapter)", outcome.after))
    if outcome.activated:
        print(f"适配器版本 {outcome.version} 已启用（撤销：python -m knowledge_base train --rollback）")
    else:
        print(f"适配器版本 {outcome.version} 已保存但未启用：验证结果变差（--force 可强制启用）")
    return 0


def train_rollback() -> int:
    with session_scope() as session:
        outcome = rollback(session)
    if outcome.previous is None:
        print("没有启用中的适配器，无需撤销。")
    else:
        now = f"版本 {outcome.now}" if outcome.now else "不使用适配器"
        print(f"已撤销适配器版本 {outcome.previous}，现在：{now}")
    return 0


def train_list() -> int:
    with session_scope() as session:
        rows = versions(session)
        if not rows:
            print("还没有训练过适配器。")
        for row in rows:
            report: dict[str, Any] = row.report if isinstance(row.report, dict) else {}
            after, before = report.get("after") or {}, report.get("before") or {}
            print(
                f"{'*' if row.active else ' '} v{row.id}  {row.created_at:%Y-%m-%d %H:%M}  {row.encoder}  "
                f"{row.faqs} FAQ / {row.pairs} 相似问  "
                f"验证 top-1 {before.get('top1', 0):.3f} → {after.get('top1', 0):.3f}"
            )
    return 0


def train_use(version: int) -> int:
    with session_scope() as session:
        if not activate_version(session, version):
            print(f"没有适配器版本 {version}", file=sys.stderr)
            return 2
    print(f"已启用适配器版本 {version}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m knowledge_base", description="GridDesk 知识库工具")
    commands = parser.add_subparsers(dest="command", required=True)
    p_import = commands.add_parser("import", help="导入问答（.jsonl/.csv/.xlsx），全部成功或全部不写入")
    p_import.add_argument("file", type=Path)
    p_import.add_argument("--draft", action="store_true", help="以草稿状态导入新 FAQ")
    p_export = commands.add_parser("export", help="导出整个知识库（.jsonl/.csv/.xlsx，与导入格式相同）")
    p_export.add_argument("file", type=Path)
    p_export.add_argument("--archived", action="store_true", help="同时导出已下架的 FAQ")
    p_search = commands.add_parser("search", help="检索知识库")
    p_search.add_argument("text")
    p_search.add_argument("-k", type=int, default=5)
    p_search.add_argument("--grid", default=None)
    p_search.add_argument("--json", action="store_true")
    p_eval = commands.add_parser("evaluate", help="按 faq_eval 协议评测检索效果")
    p_eval.add_argument("file", type=Path)
    p_eval.add_argument("--db", type=Path, default=None, help="评测数据库（默认在数据目录下，可复用向量缓存）")
    p_eval.add_argument("--json", action="store_true")
    p_eval.add_argument(
        "--sample",
        type=int,
        default=None,
        help="只评测随机抽取的 N 个有查询的 FAQ（干扰项全部保留），便于与同规模的基线比较",
    )
    p_eval.add_argument("--seed", type=int, default=0, help="--sample 的随机种子")
    p_eval.add_argument(
        "--train",
        action="store_true",
        help="再用训练的适配器评测：用样本之外的 FAQ 训练（无 --sample 时按 FAQ 交叉拟合）",
    )
    p_eval.add_argument("--folds", type=int, default=5, help="无 --sample 时 --train 的折数")
    p_train = commands.add_parser("train", help="用知识库自己的相似问训练适配器（有版本，可撤销）")
    p_train.add_argument("--epochs", type=int, default=None)
    p_train.add_argument("--force", action="store_true", help="验证结果变差也启用新版本")
    p_train.add_argument("--rollback", action="store_true", help="撤销当前版本，回到上一个启用过的版本")
    p_train.add_argument("--list", action="store_true", help="列出所有版本")
    p_train.add_argument("--use", type=int, default=None, metavar="VERSION", help="启用指定版本")
    commands.add_parser("seed", help="知识库为空时导入示例 FAQ")
    args = parser.parse_args(argv)
    try:
        if args.command == "import":
            return import_file(args.file, FaqStatus.DRAFT if args.draft else FaqStatus.PUBLISHED)
        if args.command == "export":
            return export_file(args.file, args.archived)
        if args.command == "search":
            return search(args.text, args.k, args.grid, args.json)
        if args.command == "evaluate":
            return evaluate(args.file, args.db, args.json, args.sample, args.seed, args.train, args.folds)
        if args.command == "train":
            if args.rollback:
                return train_rollback()
            if args.list:
                return train_list()
            if args.use is not None:
                return train_use(args.use)
            return train(args.epochs, args.force)
        return seed()
    except EncoderError as exc:
        print(f"编码器错误：{exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
