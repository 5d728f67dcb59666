"""An independent implementation of the oneshare protocol, written from PROTOCOL.md
alone (no code of the Rust core was consulted). Primitives come from the
`cryptography` package; every section number below refers to PROTOCOL.md.

Errors are `ProtocolError(code)` with the stable codes of PROTOCOL.md §13.
"""

import base64
import hashlib
import hmac
import json
import os
import re
import unicodedata

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, hpke
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from cryptography.hazmat.primitives.kdf.hkdf import HKDF, HKDFExpand


class ProtocolError(Exception):
    """A failure with a stable code (`invalid_link`, `decrypt`, …)."""

    def __init__(self, code, detail=""):
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code


# §0 conventions --------------------------------------------------------------

B64_ALPHABET = re.compile(r"^[A-Za-z0-9_-]*$")


def b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64d(text: str, length=None, code="encoding") -> bytes:
    """Strict base64url without padding: one text form per byte string."""
    if not isinstance(text, str) or not B64_ALPHABET.match(text) or len(text) % 4 == 1:
        raise ProtocolError(code, "not canonical base64url")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if b64e(data) != text:
        raise ProtocolError(code, "non-canonical trailing bits")
    if length is not None and len(data) != length:
        raise ProtocolError(code, f"expected {length} bytes")
    return data


def aad(label: str, *parts: bytes) -> bytes:
    return label.encode() + b"\x00" + b"".join(parts)


def u64be(n: int) -> bytes:
    return n.to_bytes(8, "big")


def hkdf(ikm: bytes, info: bytes, length: int, salt=None) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(ikm)


# §1 token and link -------------------------------------------------------------

def link(base: str, token: bytes) -> str:
    return f"{base.rstrip('/')}/s#{b64e(token)}"


def _is_white_space(c: str) -> bool:
    # Unicode White_Space (the property §1 names).
    return c in "\t\n\x0b\x0c\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000" or (
        "\u2000" <= c <= "\u200a"
    )


def strip_white_space(text: str) -> str:
    start, end = 0, len(text)
    while start < end and _is_white_space(text[start]):
        start += 1
    while end > start and _is_white_space(text[end - 1]):
        end -= 1
    return text[start:end]


def parse_link(text: str) -> bytes:
    text = strip_white_space(text).lstrip("<").rstrip(">")
    lower = text.lower()
    if "#" in text:
        after = text[text.index("#") + 1:]
    elif "%2523" in lower:
        after = text[lower.index("%2523") + 5:]
    elif "%23" in lower:
        after = text[lower.index("%23") + 3:]
    elif "/" not in text:
        after = text
    else:
        raise ProtocolError("invalid_link", "no token")
    m = re.match(r"[A-Za-z0-9_-]*", after)
    token = m.group(0) if m else ""
    if len(token) != 43:
        raise ProtocolError("invalid_link", "token length")
    return b64d(token, 32, code="invalid_link")


# §2 derivation -------------------------------------------------------------------

def derive(token: bytes) -> dict:
    share_id = hkdf(token, b"oneshare/v1/share-id", 16)
    wrap_key = hkdf(token, b"oneshare/v1/wrap-key", 32)
    bind_secret = hkdf(token, b"oneshare/v1/bind-secret", 32)
    return {
        "share_id": share_id,
        "wrap_key": wrap_key,
        "bind_secret": bind_secret,
        "verifier": hashlib.sha256(bind_secret).digest(),
        "alarm_verifier": hashlib.sha256(b"oneshare/v1/alarm-verifier" + bind_secret).digest(),
    }


# §3 envelope ---------------------------------------------------------------------

def commitment(key: bytes) -> bytes:
    return hashlib.sha256(b"oneshare/v1/key-commitment" + key).digest()[:16]


def seal(key: bytes, nonce: bytes, aad_bytes: bytes, plaintext: bytes) -> bytes:
    return b"\x01" + commitment(key) + nonce + AESGCM(key).encrypt(nonce, plaintext, aad_bytes)


def open_envelope(key: bytes, aad_bytes: bytes, data: bytes) -> bytes:
    if not data:
        raise ProtocolError("malformed", "empty")
    if data[0] != 1:
        raise ProtocolError("unsupported_version")
    if len(data) < 45:
        raise ProtocolError("malformed", "too short")
    if not hmac.compare_digest(data[1:17], commitment(key)):
        raise ProtocolError("wrong_key")
    try:
        return AESGCM(key).decrypt(data[17:29], data[29:], aad_bytes)
    except InvalidTag:
        raise ProtocolError("decrypt") from None


# §4 record -----------------------------------------------------------------------

FIELD_TYPES = {"login", "password", "url", "note", "totp", "custom"}


def record_json(record: dict) -> bytes:
    """The exact encoding of §4.1."""
    fields = []
    for f in record.get("fields", []):
        out = {"type": f["type"]}
        if f.get("label") is not None:
            out["label"] = f["label"]
        out["value"] = f["value"]
        fields.append(out)
    doc = {"title": record["title"], "fields": fields}
    if record.get("attachments"):
        doc["attachments"] = [
            {k: a[k] for k in ("id", "name", "mime", "size", "key")} for a in record["attachments"]
        ]
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()


def _strict_object(value, required, optional, what):
    if not isinstance(value, dict):
        raise ProtocolError("json", f"{what} is not an object")
    for k in value:
        if k not in required and k not in optional:
            raise ProtocolError("json", f"unknown key in {what}")
    for k in required:
        if k not in value:
            raise ProtocolError("json", f"missing {k} in {what}")


def parse_json(data: bytes, what: str):
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ProtocolError("json", f"{what} is not JSON") from None


def parse_record(data: bytes) -> dict:
    record = parse_json(data, "record")
    _strict_object(record, {"title"}, {"fields", "attachments"}, "record")
    if not isinstance(record["title"], str):
        raise ProtocolError("json", "title")
    for f in record.get("fields", []):
        _strict_object(f, {"type", "value"}, {"label"}, "field")
        if f["type"] not in FIELD_TYPES or not isinstance(f["value"], str):
            raise ProtocolError("json", "field type")
        if f["type"] == "custom" and not f.get("label"):
            raise ProtocolError("json", "custom field without label")
    for a in record.get("attachments", []):
        _strict_object(a, {"id", "name", "mime", "size", "key"}, set(), "attachment")
    return record


def record_aad(share_id: bytes, version: int) -> bytes:
    return aad("oneshare/v1/record", share_id, u64be(version))


def wrap_aad(share_id: bytes) -> bytes:
    return aad("oneshare/v1/wrapped-key", share_id)


def unwrap_key(wrap_key: bytes, share_id: bytes, wrapped: bytes) -> bytes:
    if len(wrapped) != 77:
        raise ProtocolError("length")
    return open_envelope(wrap_key, wrap_aad(share_id), wrapped)


# §5 STREAM -----------------------------------------------------------------------

SEGMENT = 65536
ENCRYPTED_SEGMENT = SEGMENT + 16


def stream_nonce(prefix: bytes, i: int, last: bool) -> bytes:
    return prefix + i.to_bytes(4, "big") + (b"\x01" if last else b"\x00")


def stream_seal(key: bytes, prefix: bytes, plaintext: bytes) -> bytes:
    aes = AESGCM(key)
    chunks = [plaintext[i:i + SEGMENT] for i in range(0, len(plaintext), SEGMENT)] or [b""]
    out = [b"\x01" + commitment(key) + prefix]
    for i, chunk in enumerate(chunks):
        out.append(aes.encrypt(stream_nonce(prefix, i, i == len(chunks) - 1), chunk, b""))
    return b"".join(out)


def stream_open(key: bytes, data: bytes) -> bytes:
    """Segments one by one, in order (§5, steps 1-4)."""
    if len(data) < 24:
        raise ProtocolError("truncated")
    if data[0] != 1:
        raise ProtocolError("unsupported_version")
    if not hmac.compare_digest(data[1:17], commitment(key)):
        raise ProtocolError("wrong_key")
    prefix, body, aes = data[17:24], data[24:], AESGCM(key)

    def attempt(i, last, seg):
        try:
            return aes.decrypt(stream_nonce(prefix, i, last), seg, b"")
        except InvalidTag:
            return None

    pieces = [body[i:i + ENCRYPTED_SEGMENT] for i in range(0, len(body), ENCRYPTED_SEGMENT)] or [b""]
    out = []
    for i, seg in enumerate(pieces[:-1]):
        pt = attempt(i, False, seg)
        if pt is None:
            raise ProtocolError("trailing_data" if attempt(i, True, seg) is not None else "decrypt")
        out.append(pt)
    i, final = len(pieces) - 1, pieces[-1]
    if len(final) < 16:
        raise ProtocolError("truncated")
    pt = attempt(i, True, final)
    if pt is None:
        raise ProtocolError("truncated" if attempt(i, False, final) is not None else "decrypt")
    if not pt and i > 0:
        raise ProtocolError("trailing_data")
    out.append(pt)
    return b"".join(out)


# §6 signed requests -----------------------------------------------------------------

P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def private_key(scalar: bytes) -> ec.EllipticCurvePrivateKey:
    n = int.from_bytes(scalar, "big")
    if len(scalar) != 32 or not 0 < n < P256_ORDER:
        raise ProtocolError("invalid_key")
    return ec.derive_private_key(n, ec.SECP256R1())


def public_bytes(key) -> bytes:
    pub = key.public_key() if isinstance(key, ec.EllipticCurvePrivateKey) else key
    n = pub.public_numbers()
    return b"\x04" + n.x.to_bytes(32, "big") + n.y.to_bytes(32, "big")


def public_key(data: bytes) -> ec.EllipticCurvePublicKey:
    if len(data) != 65 or data[0] != 4:
        raise ProtocolError("invalid_key")
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), data)
    except ValueError:
        raise ProtocolError("invalid_key") from None


def sign(key: ec.EllipticCurvePrivateKey, message: bytes) -> bytes:
    der = key.sign(message, ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
    r, s = decode_dss_signature(der)
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def verify(pub: ec.EllipticCurvePublicKey, message: bytes, signature: bytes):
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    if len(signature) != 64 or not (0 < r < P256_ORDER and 0 < s < P256_ORDER):
        raise ProtocolError("bad_signature")
    try:
        pub.verify(encode_dss_signature(r, s), message, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise ProtocolError("bad_signature") from None


def canonical(method, path, signer, timestamp, nonce_b64, body, transmission):
    return "\n".join([
        "oneshare/v1/request", method, path, signer, timestamp, nonce_b64,
        b64e(hashlib.sha256(body).digest()), transmission if transmission is not None else "-",
    ]).encode()


def parse_headers(get) -> dict:
    """The four signature headers; `get(name)` returns the value or None."""
    def need(name):
        v = get(name)
        if v is None:
            raise ProtocolError("invalid_header", name)
        return v

    signer = need("oneshare-signer")
    kind, sep, value = signer.partition(":")
    try:
        if not sep or kind not in ("device", "owner", "admin"):
            raise ProtocolError("invalid_header")
        if kind == "device":
            b64d(value, 16)
        else:
            public_key(b64d(value, 65))
    except ProtocolError:
        raise ProtocolError("invalid_header", "oneshare-signer") from None
    ts = need("oneshare-timestamp")
    if not re.fullmatch(r"0|[1-9][0-9]{0,11}", ts):
        raise ProtocolError("invalid_header", "oneshare-timestamp")
    try:
        nonce = b64d(need("oneshare-nonce"), 16)
    except ProtocolError:
        raise ProtocolError("invalid_header", "oneshare-nonce") from None
    try:
        signature = b64d(need("oneshare-signature"), 64)
    except ProtocolError:
        raise ProtocolError("invalid_header", "oneshare-signature") from None
    return {"signer": signer, "timestamp": int(ts), "nonce": nonce, "signature": signature}


def sign_request(key, signer, method, path, body, timestamp, nonce, transmission=None) -> dict:
    msg = canonical(method, path, signer, str(timestamp), b64e(nonce), body, transmission)
    headers = {
        "oneshare-signer": signer,
        "oneshare-timestamp": str(timestamp),
        "oneshare-nonce": b64e(nonce),
        "oneshare-signature": b64e(sign(key, msg)),
    }
    if transmission is not None:
        headers["oneshare-transmission-key"] = transmission
    return headers


# §7 transmission keys ---------------------------------------------------------------

SUITE = hpke.Suite(hpke.KEM.P256, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)
KEM_SUITE_ID = b"KEM" + (0x0010).to_bytes(2, "big")
HPKE_SUITE_ID = b"HPKE" + (0x0010).to_bytes(2, "big") + (0x0001).to_bytes(2, "big") + (0x0002).to_bytes(2, "big")


def _labeled_extract(salt: bytes, label: bytes, ikm: bytes, suite: bytes = KEM_SUITE_ID) -> bytes:
    return hmac.new(salt or bytes(32), b"HPKE-v1" + suite + label + ikm, hashlib.sha256).digest()


def _labeled_expand(prk: bytes, label: bytes, info: bytes, length: int, suite: bytes = KEM_SUITE_ID) -> bytes:
    labeled_info = length.to_bytes(2, "big") + b"HPKE-v1" + suite + label + info
    out, block, counter = b"", b"", 1
    while len(out) < length:
        block = hmac.new(prk, block + labeled_info + bytes([counter]), hashlib.sha256).digest()
        out += block
        counter += 1
    return out[:length]


def derive_key_pair(ikm: bytes) -> bytes:
    """RFC 9180 §7.1.3 DeriveKeyPair for DHKEM(P-256): the private scalar."""
    prk = _labeled_extract(b"", b"dkp_prk", ikm)
    for counter in range(256):
        candidate = bytearray(_labeled_expand(prk, b"candidate", bytes([counter]), 32))
        candidate[0] &= 0xFF
        n = int.from_bytes(candidate, "big")
        if 0 < n < P256_ORDER:
            return bytes(candidate)
    raise ProtocolError("hpke", "DeriveKeyPairError")


def hpke_shared_secret(dh: bytes, enc: bytes, pk_r: bytes) -> bytes:
    """RFC 9180 §4.1 ExtractAndExpand(dh, enc || pkRm)."""
    prk = _labeled_extract(b"", b"eae_prk", dh)
    return _labeled_expand(prk, b"shared_secret", enc + pk_r, 32)


def hpke_key_schedule(shared_secret: bytes, info: bytes):
    """RFC 9180 §5.1 KeySchedule in base mode: (key, base_nonce)."""
    psk_id_hash = _labeled_extract(b"", b"psk_id_hash", b"", HPKE_SUITE_ID)
    info_hash = _labeled_extract(b"", b"info_hash", info, HPKE_SUITE_ID)
    context = b"\x00" + psk_id_hash + info_hash
    secret = _labeled_extract(shared_secret, b"secret", b"", HPKE_SUITE_ID)
    key = _labeled_expand(secret, b"key", context, 32, HPKE_SUITE_ID)
    return key, _labeled_expand(secret, b"base_nonce", context, 12, HPKE_SUITE_ID)


def hpke_open(sk_r: bytes, enc: bytes, info: bytes, aad_bytes: bytes, ct: bytes) -> bytes:
    """Single-shot base-mode open; every failure is `hpke`."""
    recipient = private_key(sk_r)
    try:
        dh = recipient.exchange(ec.ECDH(), public_key(enc))
    except ProtocolError:
        raise ProtocolError("hpke") from None
    key, nonce = hpke_key_schedule(hpke_shared_secret(dh, enc, public_bytes(recipient)), info)
    try:
        return AESGCM(key).decrypt(nonce, ct, aad_bytes)
    except InvalidTag:
        raise ProtocolError("hpke") from None


def key_id(public: bytes) -> str:
    return b64e(hashlib.sha256(public).digest()[:8])


def _info(kid: str) -> bytes:
    return aad("oneshare/v1/transmission-key", kid.encode())


def seal_transmission_key(relay_public: bytes, kid: str, tk: bytes) -> str:
    sealed = SUITE.encrypt(tk, public_key(relay_public), info=_info(kid))
    return f"{kid}.{b64e(sealed)}"


def open_transmission_key(relay_private: ec.EllipticCurvePrivateKey, header: str) -> bytes:
    kid, dot, payload = header.partition(".")
    if not dot or kid != key_id(public_bytes(relay_private)):
        raise ProtocolError("invalid_header")
    try:
        sealed = b64d(payload, 113)
    except ProtocolError:
        raise ProtocolError("invalid_header") from None
    try:
        return SUITE.decrypt(sealed, relay_private, info=_info(kid))
    except Exception:  # an invalid point or a failed tag: both are `hpke`
        raise ProtocolError("hpke") from None


def request_aad(nonce: bytes) -> bytes:
    return aad("oneshare/v1/request", nonce)


def response_aad(nonce: bytes) -> bytes:
    return aad("oneshare/v1/response", nonce)


# §8 owners ------------------------------------------------------------------------

def owner_data_aad(share_id: bytes) -> bytes:
    return aad("oneshare/v1/owner-data", share_id)


def owner_data_json(label: str, record_key: bytes) -> bytes:
    doc = {"label": label, "record_key": b64e(record_key)}
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()


def parse_owner_data(data: bytes) -> dict:
    doc = parse_json(data, "owner data")
    _strict_object(doc, {"label", "record_key"}, set(), "owner data")
    return doc


def identity_json(signing_scalar: bytes, owner_key: bytes) -> str:
    doc = {"version": 1, "signing_key": b64e(signing_scalar), "owner_key": b64e(owner_key)}
    return json.dumps(doc, indent=2)


def parse_identity(text: str) -> dict:
    doc = parse_json(text.encode(), "identity")
    _strict_object(doc, {"version", "signing_key", "owner_key"}, set(), "identity")
    if doc["version"] != 1:
        raise ProtocolError("unsupported_version")
    try:
        scalar = b64d(doc["signing_key"], 32)
        owner_key = b64d(doc["owner_key"], 32)
    except ProtocolError:
        raise ProtocolError("invalid_key") from None
    return {"signing_key": private_key(scalar), "owner_key": owner_key}


# §9.4 durations and lifetimes -------------------------------------------------------

UNITS = [("w", 604800), ("d", 86400), ("h", 3600), ("m", 60), ("s", 1)]


def parse_duration(text: str) -> int:
    text = strip_white_space(text)
    if not re.fullmatch(r"([0-9]+[wdhms])+", text):
        raise ProtocolError("duration", "syntax")
    total, last = 0, None
    for number, unit in re.findall(r"([0-9]+)([wdhms])", text):
        size = dict(UNITS)[unit]
        if last is not None and size >= last:
            raise ProtocolError("duration", "unit order")
        last = size
        total += int(number) * size
    if not 60 <= total <= 31536000:
        raise ProtocolError("duration", "range")
    return total


def format_duration(seconds: int) -> str:
    out = ""
    for unit, size in UNITS:
        if seconds >= size:
            out += f"{seconds // size}{unit}"
            seconds %= size
    return out or "0s"


def deadline(created_at, expires_in, self_destruct, bound_at) -> int:
    if bound_at is None:
        return created_at + expires_in
    if not self_destruct:
        return bound_at + expires_in
    return min(created_at + expires_in, bound_at + 300)


def state_at(stored, created_at, expires_in, self_destruct, bound_at, now) -> str:
    live = stored in ("unbound", "binding", "bound")
    if live and now >= deadline(created_at, expires_in, self_destruct, bound_at):
        return "self_destructed" if self_destruct else "expired"
    return stored


def bind_decision(state, bound_key, presented) -> dict:
    if state == "unbound":
        return {"decision": "bind"}
    if state == "binding" and bound_key == presented:
        return {"decision": "retry"}
    if state == "bound" and bound_key == presented:
        return {"decision": "already_yours"}
    if state in ("binding", "bound"):
        return {"decision": "other_device"}
    return {"decision": "gone", "state": state}


# §12.1 open code -----------------------------------------------------------------

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212"


def open_code_from_random(data: bytes) -> str:
    n = int.from_bytes(data, "big")
    return "".join(CROCKFORD[(n >> (5 * (7 - i))) & 31] for i in range(8))


def open_code_display(code: str) -> str:
    return code[:4] + "-" + code[4:]


def parse_open_code(text: str) -> str:
    out = []
    for c in text:
        if _is_white_space(c) or c in CODE_DASHES:
            continue
        u = c.upper() if c.isascii() else c
        u = {"O": "0", "I": "1", "L": "1"}.get(u, u)
        if u not in CROCKFORD:
            raise ProtocolError("invalid_code", "character outside the alphabet")
        out.append(u)
    if len(out) != 8:
        raise ProtocolError("invalid_code", "not 8 symbols")
    return "".join(out)


def open_code_proof(token: bytes, code: str) -> bytes:
    return hkdf(token, b"oneshare/v2/open-code-proof", 32, salt=code.encode())


def factor_verifier(factor: str, proof: bytes) -> bytes:
    return hashlib.sha256(f"oneshare/v2/{factor}-verifier".encode() + proof).digest()


def check_factor(factor: str, verifier: bytes, proof: bytes):
    if not hmac.compare_digest(factor_verifier(factor, proof), verifier):
        raise ProtocolError("wrong_code" if factor == "open-code" else "wrong_passphrase")


# §12.2 transfer ---------------------------------------------------------------------

def transfer_secret(token: bytes) -> bytes:
    return hkdf(token, b"oneshare/v2/transfer-secret", 32)


def transfer_box_aad(share_id: bytes) -> bytes:
    return aad("oneshare/v2/transfer-secret", share_id)


def open_transfer_box(owner_key: bytes, share_id: bytes, box: bytes) -> bytes:
    if len(box) != 77:
        raise ProtocolError("length")
    return open_envelope(owner_key, transfer_box_aad(share_id), box)


def device_fingerprint(device_key: bytes) -> str:
    """§9.6: SHA-256("oneshare/v1/device-fingerprint" || key), first 80 bits as
    16 Crockford base32 symbols in four groups of four."""
    public_key(device_key)
    n = int.from_bytes(hashlib.sha256(b"oneshare/v1/device-fingerprint" + device_key).digest()[:10], "big")
    symbols = "".join(CROCKFORD[(n >> (5 * (15 - i))) & 31] for i in range(16))
    return "-".join(symbols[i:i + 4] for i in range(0, 16, 4))


def comparison_info(share_id: bytes, device_key: bytes, ecdh_key: bytes) -> bytes:
    public_key(device_key)
    public_key(ecdh_key)
    return aad("oneshare/v2/comparison-code", share_id, device_key, ecdh_key)


def comparison_code(secret: bytes, share_id: bytes, device_key: bytes, ecdh_key: bytes) -> str:
    info = comparison_info(share_id, device_key, ecdh_key)
    digest = HKDFExpand(algorithm=hashes.SHA256(), length=8, info=info).derive(secret)
    return f"{int.from_bytes(digest, 'big') % 1_000_000:06d}"


def approval_message(share_id: bytes, request_id: bytes, device_key: bytes, ecdh_key: bytes) -> bytes:
    return aad("oneshare/v2/transfer-approval", share_id, request_id, device_key, ecdh_key)


def transfer_context(share_id: bytes, request_id: bytes, device_key: bytes) -> bytes:
    return aad("oneshare/v2/transfer-key", share_id, request_id, device_key)


def transfer_wrap_key(secret: bytes) -> bytes:
    return HKDFExpand(algorithm=hashes.SHA256(), length=32,
                      info=b"oneshare/v2/transfer-wrap-key").derive(secret)


def wrap_for_device(secret, share_id, request_id, device_key, ecdh_key, record_key) -> bytes:
    context = transfer_context(share_id, request_id, device_key)
    inner = seal(transfer_wrap_key(secret), os.urandom(12), context, record_key)
    return SUITE.encrypt(inner, public_key(ecdh_key), info=context)


def open_transfer_key(ecdh_private, secret, share_id, request_id, device_key, sealed) -> bytes:
    if len(sealed) != 65 + 77 + 16:
        raise ProtocolError("length")
    context = transfer_context(share_id, request_id, device_key)
    try:
        inner = SUITE.decrypt(sealed, ecdh_private, info=context)
    except Exception:  # an invalid point or a failed tag: both are `hpke`
        raise ProtocolError("hpke") from None
    return open_envelope(transfer_wrap_key(secret), context, inner)


# §12.3 passphrase -------------------------------------------------------------------

ARGON2_M_KIB, ARGON2_T, ARGON2_P = 19456, 2, 1


def passphrase_salt(token: bytes) -> bytes:
    return hkdf(token, b"oneshare/v2/passphrase-salt", 16)


def stretch_passphrase(passphrase: str, salt: bytes) -> bytes:
    data = unicodedata.normalize("NFC", passphrase).encode()
    if not data or len(data) > 1024:
        raise ProtocolError("passphrase", "empty or longer than 1024 bytes")
    kdf = Argon2id(salt=salt, length=32, iterations=ARGON2_T, lanes=ARGON2_P, memory_cost=ARGON2_M_KIB)
    return kdf.derive(data)


def passphrase_keys(token: bytes, passphrase: str) -> dict:
    stretched = stretch_passphrase(passphrase, passphrase_salt(token))
    return {
        "stretched": stretched,
        "wrap_key": hkdf(token, b"oneshare/v2/wrap-key", 32, salt=stretched),
        "proof": hkdf(token, b"oneshare/v2/passphrase-proof", 32, salt=stretched),
    }
