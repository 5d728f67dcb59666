"""schemathesis hooks that let the API fuzz reach the signed routes (PROTOCOL.md §6-7).

Every request schemathesis sends is signed at the last moment (a `requests` auth
object sees the final path, query and body) by the signer its route needs: the
owner, the share's bound device, or the test admin. Half of the positive cases are
also made *valid*: the path gets a real share (and attachment) of the right owner or
device, and encrypted bodies are replaced by a sealed, well-formed plaintext, so the
2xx answers of signed routes are checked against the document too. Negative cases
are signed unless schemathesis broke a header on purpose, so the relay's own
validation (not the signature check) has to refuse them.

`GET /v1/events` is never signed: a signed request opens an endless stream.
The relay is named by ONESHARE_RELAY; `cargo xtask api-fuzz` sets it."""

import atexit
import json
import os
import re
import sys
import threading
from pathlib import Path

import requests
import schemathesis

sys.path.insert(0, str(Path(__file__).resolve().parent))

import oneshare as o  # noqa: E402
from client import TEST_ADMIN_SCALAR, Relay, Signer, bind, new_share, upload  # noqa: E402
from oneshare import b64e  # noqa: E402

SID = r"(?P<id>[^/]+)"


class Pool:
    """Real shares to point valid cases at."""

    def __init__(self, base):
        self.relay = Relay(base)
        self.owner, self.owner_key = Signer.new("owner"), os.urandom(32)
        self.admin = Signer(o.private_key(TEST_ADMIN_SCALAR), "admin")
        self.policy = self.relay.call("GET", "/v1/admin/policy", signer=self.admin).json()
        self.lock = threading.Lock()
        # One bound share with an uploaded attachment, for device and owner routes.
        self.bound = self.fresh(files=[("f.bin", os.urandom(3000))], owner=self.owner)
        self.aid = next(iter(self.bound["streams"]))
        upload(self.relay, self.owner, self.bound, self.aid)
        self.device = Signer.new("device", self.bound["id"])
        bind(self.relay, self.bound["id"], self.bound["keys"]["bind_secret"], self.device)
        self.relay.call("POST", f"/v1/shares/{self.bound['id']}/confirm", signer=self.device)
        self.version = 1

    def fresh(self, files=(), owner=None):
        """A new share, by default of a new owner (no quota runs out). The policy is
        reset first: fuzzed policy writes may have made creation impossible."""
        self.relay.call("PUT", "/v1/admin/policy", body=json.dumps(self.policy).encode(),
                        signer=self.admin, content_type="application/json")
        owner = owner or Signer.new("owner")
        share = new_share(self.relay, owner, self.owner_key, {"title": "fuzz", "fields": []}, files=files)
        share["owner"] = owner
        return share

    def create_body(self):
        """A valid CreateShareRequest for a new token (not sent)."""
        token = os.urandom(32)
        d = o.derive(token)
        sid, rk = d["share_id"], os.urandom(32)
        return {
            "share_id": b64e(sid), "verifier": b64e(d["verifier"]),
            "wrapped_key": b64e(o.seal(d["wrap_key"], os.urandom(12), o.wrap_aad(sid), rk)),
            "record": b64e(o.seal(rk, os.urandom(12), o.record_aad(sid, 1), b'{"title":"fuzz","fields":[]}')),
            "owner_data": b64e(o.seal(self.owner_key, os.urandom(12), o.owner_data_aad(sid),
                                      o.owner_data_json("fuzz", rk))),
            "expires_in": 3600,
        }

    def valid(self, method, path):
        """(path, signer, sealed plaintext or None, raw body or None) of a valid
        request to this route, or None when the route has no valid form here."""
        b = self.bound
        routes = [
            ("POST", r"/v1/shares", lambda m: (path, Signer.new("owner"), self.create_body())),
            ("POST", rf"/v1/shares/{SID}/bind", lambda m: self.valid_bind()),
            ("POST", rf"/v1/shares/{SID}/confirm", lambda m: (f"/v1/shares/{b['id']}/confirm", self.device, None)),
            ("GET", rf"/v1/shares/{SID}/record", lambda m: (f"/v1/shares/{b['id']}/record", self.device, False)),
            ("PUT", rf"/v1/shares/{SID}/record", lambda m: self.valid_update()),
            ("DELETE", rf"/v1/shares/{SID}", lambda m: self.valid_revoke()),
            ("PUT", rf"/v1/shares/{SID}/attachments/[^/]+/parts/[^/]+", lambda m: self.valid_part()),
            ("DELETE", rf"/v1/admin/shares/{SID}", lambda m: (f"/v1/admin/shares/{self.fresh()['id']}", self.admin, None)),
            ("GET", rf"/v1/shares/{SID}/attachments/[^/]+/upload",
             lambda m: (f"/v1/shares/{b['id']}/attachments/{self.aid}/upload", self.owner, None)),
            ("POST", rf"/v1/shares/{SID}/attachments/[^/]+/finalize",
             lambda m: (f"/v1/shares/{b['id']}/attachments/{self.aid}/finalize", self.owner, None)),
            ("GET", rf"/v1/shares/{SID}/attachments/[^/]+",
             lambda m: (f"/v1/shares/{b['id']}/attachments/{self.aid}", self.device, None)),
        ]
        for m_, pattern, make in routes:
            match = re.fullmatch(pattern, path)
            if method == m_ and match:
                with self.lock:
                    made = make(match)
                return made if len(made) == 4 else (*made, None)
        return None

    def valid_revoke(self):
        s = self.fresh()
        return f"/v1/shares/{s['id']}", s["owner"], None

    def valid_part(self):
        s = self.fresh(files=[("p.bin", os.urandom(1000))])
        aid = next(iter(s["streams"]))
        return f"/v1/shares/{s['id']}/attachments/{aid}/parts/0", s["owner"], None, s["streams"][aid][0]

    def valid_bind(self):
        s = self.fresh()
        device = Signer.new("device", s["id"])
        body = {"bind_secret": b64e(s["keys"]["bind_secret"]), "device_key": b64e(o.public_bytes(device.key))}
        return f"/v1/shares/{s['id']}/bind", device, body

    def valid_update(self):
        b = self.bound
        self.version += 1
        env = o.seal(b["record_key"], os.urandom(12), o.record_aad(b["share_id"], self.version),
                     b'{"title":"fuzz","fields":[]}')
        return f"/v1/shares/{b['id']}/record", self.owner, {"record": {"version": self.version, "ciphertext": b64e(env)}}

    def signer_for(self, method, path):
        if method == "DELETE" and self.bound["id"] in path:
            # schemathesis reuses ids from answers (the owner's list): the pool's
            # share must survive, so its revocation is signed by a stranger (404).
            return Signer.new("owner")
        if path.startswith("/v1/admin/"):
            return self.admin
        m = re.fullmatch(rf"/v1/shares/{SID}/(bind|confirm|record|attachments/[^/]+)", path)
        if m and not path.endswith(("/upload", "/finalize")):
            # Device routes sign as device:{id} (a fresh key: the relay refuses it
            # unless the share is the pool's, which valid cases use).
            return self.device if m["id"] == self.bound["id"] else Signer.new("device", m["id"])
        return self.owner


class Sign(requests.auth.AuthBase):
    """Signs (and, for valid cases, rewrites) one prepared request."""

    def __init__(self, pool, make_valid):
        self.pool, self.make_valid = pool, make_valid

    def __call__(self, r):
        url = requests.utils.urlparse(r.url)
        path = url.path
        if path == "/v1/events":
            return r
        relay = self.pool.relay
        original = r.body or b""
        original = original.encode() if isinstance(original, str) else original
        body, sealed = original, None
        signer = self.pool.signer_for(r.method, path)
        valid = self.pool.valid(r.method, path) if self.make_valid else None
        if valid is not None:
            path, signer, sealed, raw = valid
            r.url = url._replace(path=path).geturl()
            body = raw if raw is not None else body
        target = url._replace(path=path, scheme="", netloc="").geturl() or "/"
        if sealed is None and "oneshare-transmission-key" in r.headers:
            sealed = False  # keep a sealed request sealed (the record fetch)
        headers, body, _, _ = relay.signed_headers(signer, r.method, target, body, sealed)
        if body != original:
            r.body = body
            r.headers["Content-Length"] = str(len(body))
            r.headers["Content-Type"] = "application/octet-stream"
        r.headers.update(headers)
        if sealed is None:
            r.headers.pop("oneshare-transmission-key", None)
        return r


@schemathesis.auth(refresh_interval=None)
class OneshareAuth:
    pool = None
    positives = {}

    def get(self, case, ctx):
        if OneshareAuth.pool is None:
            OneshareAuth.pool = Pool(os.environ["ONESHARE_RELAY"])
        return OneshareAuth.pool

    def set(self, case, pool, ctx):
        meta = getattr(case, "meta", None)
        positive = meta is None or meta.generation.mode == "positive"
        if not positive and any(
            str(getattr(loc, "value", loc)) == "header" and info.mode == "negative"
            for loc, info in meta.components.items()
        ):
            return  # a broken header is what this case tests: leave it unsigned
        # Every other positive case of an operation is made valid. (Not `random`:
        # hypothesis reseeds it for every example.)
        key = (case.method, case.operation.path)
        self.positives[key] = self.positives.get(key, 0) + positive
        case._auth = Sign(pool, positive and self.positives[key] % 2 == 0)


ANSWERS = {}


@schemathesis.hook
def after_call(context, case, response):
    """Counts answers per operation, so the run shows which signed routes got 2xx."""
    key = f"{case.method.upper()} {case.operation.path}"
    ok = 200 <= response.status_code < 300
    counts = ANSWERS.setdefault(key, [0, 0])
    counts[0 if ok else 1] += 1


def _summary():
    if ANSWERS:
        print("\nanswers per operation (2xx / other):", file=sys.stderr)
        for key, (ok, other) in sorted(ANSWERS.items()):
            print(f"  {ok:5} / {other:5}  {key}", file=sys.stderr)


atexit.register(_summary)
