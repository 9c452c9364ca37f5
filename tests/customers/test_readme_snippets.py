"""The README's server snippets (Python and Node.js) make proofs the gateway accepts."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time

import pytest

from customers.identity import VerifiedCustomer, verify_identity
from griddesk.settings import REPO_ROOT

SECRET = "readme-secret-0123456789"
WANG = VerifiedCustomer(external_id="u-1001", name="王先生", region="成都市武侯区", tier="key")


def snippet(language: str) -> str:
    section = (REPO_ROOT / "README.md").read_text(encoding="utf-8").split("## Identity verification", 1)[1]
    match = re.search(rf"```{language}\n(.*?)```", section, re.DOTALL)
    assert match, f"no {language} snippet in README 'Identity verification'"
    return match.group(1)


def check(output: str) -> None:
    token, signature = output.split()
    assert verify_identity({"customer_token": token}, [SECRET], time.time()) == WANG
    signed = {"id": "u-1001", "name": "王先生", "region": "成都市武侯区", "tier": "key", "signature": signature}
    assert verify_identity({"customer": signed}, [SECRET], time.time()) == WANG


def run(command: list[str], source: str) -> str:
    env = {**os.environ, "GRIDDESK_IDENTITY_SECRET": SECRET, "PYTHONIOENCODING": "utf-8"}
    done = subprocess.run(command, input=source, capture_output=True, text=True, env=env, timeout=60, check=True)
    return done.stdout


def test_the_python_snippet():
    check(run([sys.executable, "-"], snippet("python")))


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed here")
def test_the_node_snippet():
    check(run(["node", "-"], snippet("js")))
