"""Standard Webhooks signatures (https://www.standardwebhooks.com), without I/O.

A delivery carries three headers: ``webhook-id`` (the message id, the same on every
retry), ``webhook-timestamp`` (Unix seconds when it was signed) and
``webhook-signature``: space-separated ``v1,<base64 HMAC-SHA256>`` entries over
``"{id}.{timestamp}.{body}"``. Several entries let a sender sign with several keys.

Secrets are ``whsec_<base64 of the key bytes>`` as the specification writes them;
any other text is taken as the key itself (UTF-8), for senders and proxies that
are configured with a plain shared secret. A project may hold several secrets at
once, so a secret can be rotated without dropping deliveries: a signature made with
any of them is valid.

Toloka signs its webhook notifications its own way (its documentation, "Event
authentication": ``github.com/Toloka/docs``, ``en/api/concepts/authentication.md``): when
the subscription has a ``secret_key``, a ``Toloka-Signature: {v=1, ts=<Unix
milliseconds>, sign=<hex HMAC-SHA256>}`` header signs ``"{ts}.{v}.{body}"`` with
the ``secret_key`` text itself (UTF-8, even if it starts with ``whsec_``). See
:func:`verify_toloka`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Mapping, Sequence

from qc_service.errors import FieldError, Unauthorized

SECRET_PREFIX = "whsec_"
#: How far a timestamp may be from our clock, either way, in seconds.
TOLERANCE_SECONDS = 5 * 60
#: Shortest key accepted: the specification asks for 24 to 64 random bytes.
MIN_KEY_BYTES = 16
MAX_ID_LENGTH = 256
#: Bounds the work a forged header can cause (each entry is one HMAC comparison).
MAX_SIGNATURE_ENTRIES = 10
SIGNATURE_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")
TOLOKA_HEADER = "Toloka-Signature"
_TOLOKA_FIELDS = ("v", "ts", "sign")


def decode_secret(secret: str) -> bytes:
    """The key bytes of a secret; ``ValueError`` says why a secret is unusable."""
    if secret.startswith(SECRET_PREFIX):
        try:
            key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
        except binascii.Error:
            raise ValueError("the part after 'whsec_' is not valid base64") from None
    else:
        key = secret.encode()
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"a secret needs at least {MIN_KEY_BYTES} bytes of key")
    return key


def fingerprint(secret: str) -> str:
    """A short public name for a secret, so an admin can tell which ones are set."""
    return "sha256:" + hashlib.sha256(decode_secret(secret)).hexdigest()[:12]


def sign(secret: str, delivery_id: str, timestamp: int, body: bytes) -> str:
    """One ``v1,<base64>`` signature entry."""
    signed = f"{delivery_id}.{timestamp}.".encode() + body
    digest = hmac.new(decode_secret(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_headers(
    secret: str, delivery_id: str, body: bytes, timestamp: int | None = None
) -> dict[str, str]:
    """The three headers a sender (or a signing proxy) adds to a delivery."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {
        "webhook-id": delivery_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, delivery_id, timestamp, body),
    }


def verify(
    headers: Mapping[str, str], body: bytes, secrets: Sequence[str], now: float | None = None
) -> str:
    """The delivery id of a correctly signed delivery; anything else raises
    :class:`Unauthorized` naming the offending header. Never raises anything else."""
    delivery_id = _header(headers, "webhook-id")
    if len(delivery_id) > MAX_ID_LENGTH or not delivery_id.isprintable():
        raise _refused("webhook-id", f"1 to {MAX_ID_LENGTH} printable characters")
    raw_timestamp = _header(headers, "webhook-timestamp")
    if not (raw_timestamp.isascii() and raw_timestamp.isdigit() and len(raw_timestamp) <= 12):
        raise _refused("webhook-timestamp", "Unix time in whole seconds")
    timestamp = int(raw_timestamp)
    now = time.time() if now is None else now
    if abs(now - timestamp) > TOLERANCE_SECONDS:
        raise _refused(
            "webhook-timestamp",
            f"more than {TOLERANCE_SECONDS} s from the service's clock: re-sign the delivery "
            "(a replayed old delivery is refused)",
        )
    candidates = _signatures(_header(headers, "webhook-signature"))
    signed = f"{delivery_id}.{timestamp}.".encode() + body
    for secret in secrets:
        expected = hmac.new(decode_secret(secret), signed, hashlib.sha256).digest()
        if any(hmac.compare_digest(expected, candidate) for candidate in candidates):
            return delivery_id
    raise _refused("webhook-signature", "matches no webhook secret of this project's platform")


def toloka_signature(secret: str, body: bytes, timestamp_ms: int, version: str = "1") -> str:
    """A ``Toloka-Signature`` header value, as Toloka computes it."""
    signed = f"{timestamp_ms}.{version}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"{{v={version}, ts={timestamp_ms}, sign={digest}}}"


def verify_toloka(
    header: str, body: bytes, secrets: Sequence[str], now: float | None = None
) -> str:
    """The delivery id of a notification correctly signed by Toloka; anything else
    raises :class:`Unauthorized` naming the header. Never raises anything else.

    Toloka sends no message id, so the delivery id is the body's digest: a retry of
    the same notification, re-signed or not, is answered from the first delivery.
    """
    fields = _toloka_fields(header)
    version, raw_timestamp, sign = (fields[name] for name in _TOLOKA_FIELDS)
    if not (version.isascii() and version.isalnum() and len(version) <= 16):
        raise _refused(TOLOKA_HEADER, "v must be a short alphanumeric key version")
    if not (raw_timestamp.isascii() and raw_timestamp.isdigit() and len(raw_timestamp) <= 16):
        raise _refused(TOLOKA_HEADER, "ts must be Unix time in milliseconds")
    now = time.time() if now is None else now
    if abs(now - int(raw_timestamp) / 1000) > TOLERANCE_SECONDS:
        raise _refused(
            TOLOKA_HEADER,
            f"ts is more than {TOLERANCE_SECONDS} s from the service's clock "
            "(a replayed old notification is refused)",
        )
    try:
        candidate = bytes.fromhex(sign)
    except ValueError:
        raise _refused(TOLOKA_HEADER, "sign is not hexadecimal") from None
    if len(candidate) != hashlib.sha256().digest_size:
        raise _refused(TOLOKA_HEADER, "sign is not an HMAC-SHA256")
    signed = f"{raw_timestamp}.{version}.".encode() + body
    for secret in secrets:
        expected = hmac.new(secret.encode(), signed, hashlib.sha256).digest()
        if hmac.compare_digest(expected, candidate):
            return "toloka:" + hashlib.sha256(body).hexdigest()
    raise _refused(TOLOKA_HEADER, "matches no webhook secret of this project's toloka platform")


def _toloka_fields(header: str) -> dict[str, str]:
    """``{v=1, ts=946728000000, sign=d3...ab}`` -> its fields (braces optional)."""
    text = header.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]
    fields: dict[str, str] = {}
    for part in text.split(","):
        name, equals, value = part.partition("=")
        name, value = name.strip(), value.strip()
        if not equals or name in fields:
            raise _refused(TOLOKA_HEADER, "expected {v=<version>, ts=<ms>, sign=<hex>}")
        fields[name] = value
    missing = [name for name in _TOLOKA_FIELDS if not fields.get(name)]
    if missing:
        raise _refused(
            TOLOKA_HEADER,
            f"{', '.join(missing)} missing: expected {{v=<version>, ts=<ms>, sign=<hex>}}",
        )
    return fields


def _header(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name)
    if value is None or not value.strip():
        raise _refused(name, "is required")
    return value.strip()


def _signatures(header: str) -> list[bytes]:
    """The ``v1`` digests of a signature header; entries of other versions are ignored."""
    entries = header.split()
    if len(entries) > MAX_SIGNATURE_ENTRIES:
        raise _refused("webhook-signature", f"at most {MAX_SIGNATURE_ENTRIES} signatures")
    digests = []
    for entry in entries:
        version, _, encoded = entry.partition(",")
        if version != "v1":
            continue
        try:
            digest = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            raise _refused("webhook-signature", "a v1 signature is not valid base64") from None
        if len(digest) != hashlib.sha256().digest_size:
            raise _refused("webhook-signature", "a v1 signature is not an HMAC-SHA256")
        digests.append(digest)
    if not digests:
        raise _refused("webhook-signature", "no 'v1,<base64>' signature")
    return digests


def _refused(header: str, message: str) -> Unauthorized:
    return Unauthorized(
        "the webhook signature does not verify; nothing was stored",
        [FieldError(f"/headers/{header}", message)],
    )
