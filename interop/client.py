"""A minimal HTTP client of the relay API (PROTOCOL.md §10), on top of oneshare.py:
signs requests (§6), seals transmission keys and bodies (§7), and opens sealed
answers. Shared by the live lifecycle check and the schemathesis auth hook."""

import http.client
import json
import os
import time
import urllib.parse

import oneshare as o
from oneshare import b64d, b64e

# A published test key: the RFC 6979 A.2.5 P-256 private key. Only for relays that
# `cargo xtask test` starts on loopback with it as their admin key.
TEST_ADMIN_SCALAR = bytes.fromhex("c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721")


class Response:
    def __init__(self, status, headers, body, plain=None):
        self.status, self.headers, self.body = status, headers, body
        self.plain = plain  # the opened answer of a sealed response

    def json(self):
        return json.loads(self.plain if self.plain is not None else self.body)

    @property
    def code(self):
        try:
            return json.loads(self.body).get("code")
        except ValueError:
            return None


class Signer:
    """A signing key and the `oneshare-signer` value it signs as."""

    def __init__(self, key, kind, value=None):
        self.key = key
        self.header = f"{kind}:{value if value is not None else b64e(o.public_bytes(key))}"

    @classmethod
    def new(cls, kind, value=None):
        return cls(o.private_key(os.urandom(32)), kind, value)


class Relay:
    def __init__(self, base):
        self.base = base.rstrip("/")
        url = urllib.parse.urlsplit(self.base)
        self.host, self.port = url.hostname, url.port
        self.clock_offset = 0
        key = self.call("GET", "/v1/relay-key").json()["current"]
        self.key_id, self.public_key = key["key_id"], b64d(key["public_key"], 65)

    def now(self):
        return int(time.time()) + self.clock_offset

    def raw(self, method, path, body=b"", headers=None):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            return Response(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
        finally:
            conn.close()

    def signed_headers(self, signer, method, path, body, sealed=None, timestamp=None, nonce=None):
        """Signature headers (and the transmission header of a sealed request).
        Returns (headers, body as sent, transmission key, nonce)."""
        nonce = nonce or os.urandom(16)
        tk, transmission = None, None
        if sealed is not None:
            tk = os.urandom(32)
            transmission = o.seal_transmission_key(self.public_key, self.key_id, tk)
            if sealed is not False:
                plain = json.dumps(sealed).encode()
                body = o.seal(tk, os.urandom(12), o.request_aad(nonce), plain)
        ts = self.now() if timestamp is None else timestamp
        headers = o.sign_request(signer.key, signer.header, method, path, body, ts, nonce, transmission)
        return headers, body, tk, nonce

    def call(self, method, path, body=b"", signer=None, sealed=None, headers=None,
             timestamp=None, content_type=None):
        """One request. `sealed` is a JSON value to send encrypted, or False for a
        sealed request without a body (the record fetch): the answer is then opened."""
        extra = dict(headers or {})
        tk = nonce = None
        if signer is not None:
            signed, body, tk, nonce = self.signed_headers(signer, method, path, body, sealed, timestamp)
            extra.update(signed)
        if sealed not in (None, False) or (signer is not None and body and content_type is None):
            extra.setdefault("content-type", "application/octet-stream")
        if content_type:
            extra["content-type"] = content_type
        r = self.raw(method, path, body, extra)
        if tk is not None and r.status == 200 and r.headers.get("content-type") == "application/octet-stream":
            r.plain = o.open_envelope(tk, o.response_aad(nonce), r.body)
        return r

    def events(self, signer, last_event_id=None, want=lambda events: True, timeout=10):
        """Reads `GET /v1/events` until `want(events)` or the timeout; returns the
        events and the raw lines seen."""
        headers, _, _, _ = self.signed_headers(signer, "GET", "/v1/events", b"")
        if last_event_id is not None:
            headers["last-event-id"] = str(last_event_id)
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        events, lines, data, event_id = [], [], [], None
        try:
            conn.request("GET", "/v1/events", headers=headers)
            r = conn.getresponse()
            if r.status != 200:
                return r.status, events, lines
            deadline = time.time() + timeout
            while time.time() < deadline and not want(events):
                line = r.fp.readline()
                if not line:
                    break
                line = line.decode().rstrip("\r\n")
                lines.append(line)
                if line == "":
                    if data:
                        ev = json.loads("\n".join(data))
                        ev["_sse_id"] = event_id
                        events.append(ev)
                    data, event_id = [], None
                elif line.startswith(":"):
                    continue
                else:
                    field, _, value = line.partition(":")
                    value = value[1:] if value.startswith(" ") else value
                    if field == "data":
                        data.append(value)
                    elif field == "id":
                        event_id = value
            return 200, events, lines
        finally:
            conn.close()


def new_share(relay, owner, owner_key, record, expires_in=3600, self_destruct=False, files=(), label="interop",
              code=None, require_code=False, passphrase=None):
    """Composes and creates a share (§9.1), with an open code and a passphrase
    when given (§12.4). Returns a dict with everything a test needs."""
    token = os.urandom(32)
    d = o.derive(token)
    if passphrase is not None:
        d = dict(d, wrap_key=o.passphrase_keys(token, passphrase)["wrap_key"])
    sid = d["share_id"]
    record_key = os.urandom(32)
    attachments, decls, streams = [], [], {}
    for name, data in files:
        fkey, aid = os.urandom(32), b64e(os.urandom(16))
        ct = o.stream_seal(fkey, os.urandom(7), data)
        attachments.append({"id": aid, "name": name, "mime": "application/octet-stream",
                            "size": len(data), "key": b64e(fkey)})
        decls.append({"id": aid, "size": len(ct)})
        streams[aid] = (ct, data, fkey)
    full = dict(record, attachments=attachments) if attachments else record
    body = {
        "share_id": b64e(sid),
        "verifier": b64e(d["verifier"]),
        "wrapped_key": b64e(o.seal(d["wrap_key"], os.urandom(12), o.wrap_aad(sid), record_key)),
        "record": b64e(o.seal(record_key, os.urandom(12), o.record_aad(sid, 1), o.record_json(full))),
        "owner_data": b64e(o.seal(owner_key, os.urandom(12), o.owner_data_aad(sid),
                                  o.owner_data_json(label, record_key))),
        "expires_in": expires_in,
        "self_destruct": self_destruct,
        "attachments": decls,
    }
    guard = {}
    if code is not None:
        guard["code_verifier"] = b64e(o.factor_verifier("open-code", o.open_code_proof(token, code)))
        guard["require_code"] = require_code
    if passphrase is not None:
        guard["passphrase_verifier"] = b64e(o.factor_verifier(
            "passphrase", o.passphrase_keys(token, passphrase)["proof"]))
    if guard:
        body["guard"] = guard
    r = relay.call("POST", "/v1/shares", signer=owner, sealed=body)
    return {
        "response": r, "token": token, "id": b64e(sid), "share_id": sid, "keys": d,
        "record_key": record_key, "record": full, "streams": streams,
        "link": o.link(relay.base, token),
    }


def upload(relay, owner, share, aid):
    """Uploads an attachment in parts of the announced size, then finalizes."""
    base = f"/v1/shares/{share['id']}/attachments/{aid}"
    ct = share["streams"][aid][0]
    part = relay.call("GET", f"{base}/upload", signer=owner).json()["part_size"]
    for n in range(-(-len(ct) // part)):
        r = relay.call("PUT", f"{base}/parts/{n}", body=ct[n * part:(n + 1) * part], signer=owner)
        if r.status != 200:
            return r
    return relay.call("POST", f"{base}/finalize", signer=owner)


def bind(relay, share_id_b64, bind_secret, device, evidence=None):
    """A bind signed by `device` (§9.3), with v2 `evidence` (§12.4) when given."""
    body = {"bind_secret": b64e(bind_secret), "device_key": b64e(o.public_bytes(device.key))}
    if evidence is not None:
        body["evidence"] = evidence
    return relay.call("POST", f"/v1/shares/{share_id_b64}/bind", signer=device, sealed=body)
