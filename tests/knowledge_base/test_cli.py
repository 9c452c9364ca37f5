"""The command line, run as a user runs it: ``python -m knowledge_base …`` in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from griddesk.db import session_scope
from knowledge_base.models import Faq


def run_cli(settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GRIDDESK_DATA_DIR": str(settings.data_dir), "GRIDDESK_ENCODER": "use"}
    return subprocess.run(
        [sys.executable, "-m", "knowledge_base", *args], capture_output=True, text=True, env=env, timeout=300
    )


def faq_count() -> int:
    with session_scope() as session:
        return session.scalar(select(func.count(Faq.id))) or 0


def test_import_then_search_prints_the_top_hits_with_scores(settings, tmp_path: Path):
    path = tmp_path / "faqs.csv"
    path.write_text(
        "question,answer,similar_questions,external_id\n"
        "怎么开发票,请在公众号申请电子发票。,如何开票|发票在哪申请,inv\n"
        "客服电话是多少,400-800-1234,热线电话|你们的电话是多少,tel\n",
        encoding="utf-8",
    )
    imported = run_cli(settings, "import", str(path))
    assert imported.returncode == 0, imported.stderr
    assert "新增 2" in imported.stdout
    assert faq_count() == 2

    found = run_cli(settings, "search", "你們的電話是多少", "--json")
    assert found.returncode == 0, found.stderr
    body = json.loads(found.stdout)
    assert body["decision"] == "answer"
    assert body["hits"][0]["external_id"] == "tel" and body["hits"][0]["score"] > 0.7

    again = run_cli(settings, "import", str(path))
    assert "新增 0，更新 0，未变 2" in again.stdout


def test_a_file_with_bad_rows_writes_nothing_and_lists_every_bad_row(settings, tmp_path: Path):
    path = tmp_path / "faqs.jsonl"
    path.write_text(
        "\n".join(
            [
                json.dumps({"question": "好问题", "answer": "好答案"}, ensure_ascii=False),
                json.dumps({"question": "没有答案"}, ensure_ascii=False),
                "{broken",
            ]
        ),
        encoding="utf-8",
    )
    result = run_cli(settings, "import", str(path))
    assert result.returncode == 1
    assert "第 2 行：缺少答案" in result.stderr and "第 3 行" in result.stderr
    assert "未写入任何内容" in result.stderr
    assert faq_count() == 0


def test_unreadable_files_get_a_clear_error(settings, tmp_path: Path):
    missing = run_cli(settings, "import", str(tmp_path / "nope.jsonl"))
    assert missing.returncode == 2 and "找不到文件" in missing.stderr
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes("question,answer\n发票,公众号\n".encode("gbk"))
    result = run_cli(settings, "import", str(gbk))
    assert result.returncode == 2 and "UTF-8" in result.stderr


def test_empty_search_is_refused(settings):
    result = run_cli(settings, "search", "  ")
    assert result.returncode == 2 and "查询无效" in result.stderr


def test_seed_loads_the_demo_base_once(settings):
    first = run_cli(settings, "seed")
    assert first.returncode == 0, first.stderr
    count = faq_count()
    assert count >= 80
    second = run_cli(settings, "seed")
    assert second.returncode == 0 and "跳过" in second.stdout
    assert faq_count() == count


def test_train_prints_validation_before_and_after_and_can_be_listed_and_rolled_back(settings, tmp_path: Path):
    path = tmp_path / "faqs.csv"
    path.write_text(
        "question,answer,similar_questions\n"
        "怎么开发票,公众号申请,如何开票|发票在哪申请|我要开发票\n"
        "客服电话是多少,400-800-1234,热线电话|你们的电话是多少|怎么联系客服\n"
        "怎么修改密码,账户安全,密码怎么改|重设密码|忘记密码怎么办\n"
        "宽带断网了怎么办,重启光猫,网络连不上|上不了网|网断了\n",
        encoding="utf-8",
    )
    assert run_cli(settings, "import", str(path)).returncode == 0
    trained = run_cli(settings, "train", "--force")
    assert trained.returncode == 0, trained.stderr
    assert "before (encoder only)" in trained.stdout and "after (adapter)" in trained.stdout
    assert "适配器版本 1 已启用" in trained.stdout
    listed = run_cli(settings, "train", "--list")
    assert listed.stdout.startswith("* v1")
    rolled = run_cli(settings, "train", "--rollback")
    assert "已撤销适配器版本 1" in rolled.stdout and "不使用适配器" in rolled.stdout
    assert run_cli(settings, "train", "--list").stdout.startswith("  v1")
