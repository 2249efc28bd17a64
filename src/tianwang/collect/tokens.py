"""Customer tokens: how a beacon may speak for a customer.

A page cannot keep a secret, so a beacon's own word for who is signed in proves nothing: anyone
can post one naming any customer, and the customer's next application would read behaviour
nobody of theirs produced. The lender's back end, which knows who signed in, asks for a token
(`POST /v1/collect/customer-token`, with its API key) and hands it to the page
(`tianwang.identify(customer_id, token)`). A beacon's `customer_id` counts only with a token
that names that customer and has not expired (or on a request carrying the tenant's API key);
otherwise its events are the device's and the session's alone.

A token is `ct1.<expires, epoch ms>.<HMAC-SHA256 of tenant, customer and expiry>`, signed with a
key derived from the PII key, so every replica verifies what any replica issued.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

MIN_TTL_S, MAX_TTL_S, DEFAULT_TTL_S = 60, 86_400, 3_600


def _mac(key: bytes, tenant: str, customer_id: str, expires_ms: int) -> str:
    msg = b"\0".join((tenant.encode(), customer_id.encode(), str(expires_ms).encode()))
    return base64.urlsafe_b64encode(hmac.new(key, msg, hashlib.sha256).digest()).rstrip(b"=").decode()


def issue(key: bytes, *, tenant: str, customer_id: str, now_ms: int, ttl_s: int = DEFAULT_TTL_S) -> tuple[str, int]:
    """A token for the customer and when it expires (epoch ms)."""
    expires_ms = now_ms + ttl_s * 1000
    return f"ct1.{expires_ms}.{_mac(key, tenant, customer_id, expires_ms)}", expires_ms


def verify(key: bytes, token: str | None, *, tenant: str, customer_id: str, now_ms: int) -> bool:
    """Whether `token` names this tenant's customer and has not expired."""
    if not isinstance(token, str) or len(token) > 256:
        return False
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != "ct1" or not (parts[1].isascii() and parts[1].isdigit()):
        return False
    expires_ms = int(parts[1])
    if expires_ms < now_ms:
        return False
    return hmac.compare_digest(parts[2], _mac(key, tenant, customer_id, expires_ms))
