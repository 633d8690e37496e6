"""A secret as the domain holds it: already encrypted, never in plaintext.

The application shell (`infra/secrets.py`) seals Moka tokens and the Jurnal client secret before
they reach an aggregate, and unseals them only where a client needs them. So events, snapshots,
logs and reprs carry ciphertext and the id of the key that made it, nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Sealed:
    key_id: str
    ciphertext: str = field(repr=False)

    def __str__(self) -> str:
        return f"<sealed with key {self.key_id}>"
