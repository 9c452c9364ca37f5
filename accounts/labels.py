"""Chinese labels of account values, for the consoles (served by ``GET /api/v1/console/labels``)."""

from __future__ import annotations

from accounts.models import Role

ROLE_LABELS: dict[str, str] = {Role.AGENT: "客服", Role.MANAGER: "网格经理", Role.ADMIN: "管理员"}
