"""Errors of the accounts services; ``str(error)`` is a message for people (Chinese)."""

from __future__ import annotations

from datetime import datetime


class AccountError(Exception):
    """Base of the account errors; ``str(error)`` is a message for people (Chinese)."""


class InvalidAccountData(AccountError):
    """A username, display name, role, skill or grid is not acceptable."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class UsernameTaken(AccountError):
    def __init__(self, username: str) -> None:
        super().__init__(f"用户名 {username} 已被使用")
        self.username = username


class WeakPassword(AccountError):
    """The password breaks the policy (at least MIN_PASSWORD_CHARS characters)."""


class AccountNotFound(AccountError):
    def __init__(self, username: str) -> None:
        super().__init__(f"找不到账号 {username}")
        self.username = username


class InvalidCredentials(AccountError):
    """Unknown user, wrong password, disabled account or no password set: deliberately one error."""

    def __init__(self) -> None:
        super().__init__("用户名或密码错误")


class AccountLocked(AccountError):
    """Too many failed logins of this username or from this address; no login (not even a correct one)
    until ``until``. Said alike of every username, existing or not."""

    def __init__(self, until: datetime) -> None:
        super().__init__("登录失败次数过多，请稍后再试。")
        self.until = until


class StaffSeedError(AccountError):
    """The staff seed file cannot be read or names unknown grids."""
