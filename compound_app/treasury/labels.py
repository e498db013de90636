"""How an account is named on pages and in messages."""

from __future__ import annotations

from ..labels import label
from .models import AccountKind, MoneyAccount


def account_name(account: MoneyAccount) -> str:
    """Its own name, else its kind; a bank account with the last four digits (尾号)."""
    name = account.name or label("account_kind", account.kind)
    if account.kind in (AccountKind.BANK, AccountKind.COMMUNITY) and account.last4:
        return (
            f"{name} ({account.bank} …{account.last4})"
            if account.bank
            else f"{name} (…{account.last4})"
        )
    return name
