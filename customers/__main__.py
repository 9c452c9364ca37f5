"""Command line of identity verification: ``python -m customers {token,sign}``.

It makes, with the configured ``GRIDDESK_IDENTITY_SECRET``, what the embedding site's server makes for
a logged-in customer: ``token`` an HS256 JWT (``metadata.customer_token``, the widget's
``data-customer-token``), ``sign`` the HMAC signature of ``metadata.customer``. For trying a set-up and
for the demo (open ``/#customer_token=…``); a site signs on its own server (README "Identity verification").
Exit codes: 0 done, 1 no secret configured, 2 bad usage.
"""

from __future__ import annotations

import argparse
import sys
import time

from customers.identity import TIERS, make_token, sign_customer
from griddesk.settings import get_settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m customers", description="客户身份验证：生成令牌或签名")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (("token", "HS256 令牌（customer_token）"), ("sign", "HMAC 签名（customer.signature）")):
        command = commands.add_parser(name, help=help_text)
        command.add_argument("--id", required=True, help="网站自己的客户编号")
        command.add_argument("--name")
        command.add_argument("--phone")
        command.add_argument("--region", help="如 成都市武侯区")
        command.add_argument("--tier", choices=sorted(TIERS))
        if name == "token":
            command.add_argument("--hours", type=float, default=24.0, help="有效小时数（默认 24）")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    secrets = get_settings().identity_secrets
    if not secrets:
        print("未配置 GRIDDESK_IDENTITY_SECRET：请先设置网站的签名密钥。", file=sys.stderr)
        return 1
    secret = secrets[0].reveal()
    attributes = {name: getattr(args, name) for name in ("name", "phone", "region", "tier") if getattr(args, name)}
    if args.command == "token":
        print(make_token(secret, {"sub": args.id, "exp": int(time.time() + args.hours * 3600), **attributes}))
    else:
        print(sign_customer(secret, args.id, **attributes))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
