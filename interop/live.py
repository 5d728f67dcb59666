"""The whole share lifecycle, live against a relay, as PROTOCOL.md §9-10 describe it:
create with an attachment, upload in parts, bind/confirm, signed fetch, download,
update, list, events, revoke, expiry and self-destruct (through the relay's test
clock), and the refusal paths. Every error answer is also checked against the
code → status table of PROTOCOL.md §10.5."""

import hashlib
import json
import os
from pathlib import Path

import oneshare as o
from client import TEST_ADMIN_SCALAR, Relay, Signer, bind, new_share, upload
from oneshare import b64d, b64e


class Checks:
    def __init__(self):
        self.passed, self.failures = 0, []

    def __call__(self, name, ok, detail=""):
        if ok:
            self.passed += 1
        else:
            self.failures.append(f"{name}: {detail}")
        return ok

    def status(self, name, r, status, code=None):
        ok = r.status == status and (code is None or r.code == code)
        return self(name, ok, f"got {r.status} {r.code!r} {r.body[:200]!r}, expected {status} {code!r}")


def _fails(f):
    try:
        f()
    except o.ProtocolError:
        return True
    return False


def error_table(protocol_md: Path):
    """`code -> status` from the table of PROTOCOL.md §10.5."""
    section = protocol_md.read_text().split("### 10.5 Errors", 1)[1].split("\n## ", 1)[0]
    table = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) > 3 and cells[1].startswith("`") and cells[2].isdigit():
            table[cells[1].strip("`")] = int(cells[2])
    return table


RECORD = {
    "title": "Interop — «production» DB",
    "fields": [
        {"type": "login", "value": "admin"},
        {"type": "password", "value": "correct horse\tbattery \"staple\""},
        {"type": "custom", "label": "PIN", "value": "0042"},
    ],
}


def run(c: Checks, base: str, protocol_md: Path):
    """Runs every check into `c`. The relay must be fresh (its test clock moves)."""
    relay = Relay(base)
    seen_errors = []
    raw = relay.raw

    def recording_raw(method, path, body=b"", headers=None):
        r = raw(method, path, body, headers)
        if r.status >= 400:
            seen_errors.append((method, path, r))
        return r

    relay.raw = recording_raw
    c("relay key id is derived from its public key", relay.key_id == o.key_id(relay.public_key))

    owner = Signer.new("owner")
    owner_key = os.urandom(32)
    other_owner = Signer.new("owner")
    part = 2 * o.ENCRYPTED_SEGMENT  # the relay under test is configured with 2-segment parts
    data = bytes((i * 7) % 256 for i in range(part * 2 + 5000))

    # Create with an attachment (§9.1, §10.3).
    s = new_share(relay, owner, owner_key, RECORD, files=[("data.bin", data)])
    r = s["response"]
    if c.status("create answers 201", r, 201):
        body = r.json()
        c("create answer", body["share_id"] == s["id"] and body["expires_at"] == body["created_at"] + 3600,
          json.dumps(body))
    c("the link parses back to the token", o.parse_link(f"  <{s['link']}>. ") == s["token"])
    c.status("create with the same share id again", relay.call("POST", "/v1/shares", signer=owner, sealed={
        "share_id": s["id"], "verifier": b64e(bytes(32)), "wrapped_key": b64e(bytes(77)),
        "record": b64e(bytes(60)), "owner_data": b64e(bytes(60)), "expires_in": 3600}), 409, "conflict")
    st = relay.call("GET", f"/v1/shares/{s['id']}/status")
    c.status("status of a new share", st, 200)
    c("status says unbound", st.json()["state"] == "unbound", st.body)
    key = st.json().get("relay_key") or {}
    c("status carries the current relay key", key.get("key_id") == relay.key_id
      and key.get("public_key") == b64e(relay.public_key), st.body)

    # Upload in parts (§10.3): resume point, idempotent re-send, order, finalize.
    aid = next(iter(s["streams"]))
    ct = s["streams"][aid][0]
    ab = f"/v1/shares/{s['id']}/attachments/{aid}"
    up = relay.call("GET", f"{ab}/upload", signer=owner)
    c.status("upload status", up, 200)
    c("upload starts at part 0 with the configured part size",
      up.json() == {"part_size": part, "next_part": 0, "received": 0, "size": len(ct), "complete": False},
      up.body)
    c.status("part 1 before part 0", relay.call("PUT", f"{ab}/parts/1", body=ct[part:2 * part], signer=owner),
             409, "conflict")
    c.status("part 0", relay.call("PUT", f"{ab}/parts/0", body=ct[:part], signer=owner), 200)
    c.status("part 0 again, same bytes", relay.call("PUT", f"{ab}/parts/0", body=ct[:part], signer=owner), 200)
    c.status("part 0 again, other bytes",
             relay.call("PUT", f"{ab}/parts/0", body=bytes(part), signer=owner), 409, "conflict")
    c.status("finalize before the last part", relay.call("POST", f"{ab}/finalize", signer=owner), 409, "conflict")
    c.status("another owner's upload status", relay.call("GET", f"{ab}/upload", signer=other_owner),
             404, "not_found")
    fin = upload(relay, owner, s, aid)
    c.status("resume from the status and finalize", fin, 200)
    c("finalize says complete", fin.status == 200 and fin.json()["complete"] is True, fin.body)

    # Bind (§9.3) and the refusal paths around it.
    device, stranger = Signer.new("device", s["id"]), Signer.new("device", s["id"])
    c.status("bind with a wrong bind secret", bind(relay, s["id"], os.urandom(32), device), 403, "bad_token")
    b = bind(relay, s["id"], s["keys"]["bind_secret"], device)
    if c.status("bind", b, 200):
        bound = b.json()
        rk = o.unwrap_key(s["keys"]["wrap_key"], s["share_id"], b64d(bound["wrapped_key"]))
        c("the wrapped key opens to the record key", rk == s["record_key"])
        rec = o.parse_record(o.open_envelope(rk, o.record_aad(s["share_id"], 1), b64d(bound["record"]["ciphertext"])))
        c("the record decrypts to what was sent", rec == s["record"] and bound["record"]["version"] == 1)
        c("bind lists the finalized attachment", bound["attachments"] == [{"id": aid, "size": len(ct)}],
          json.dumps(bound["attachments"]))
        c("bind answer", bound["self_destruct"] is False and bound["access_expires_at"] >= relay.now() + 3590)
    c("status says binding", relay.call("GET", f"/v1/shares/{s['id']}/status").json()["state"] == "binding")
    c.status("the same device binds again before confirm", bind(relay, s["id"], s["keys"]["bind_secret"], device), 200)
    c.status("another device binds", bind(relay, s["id"], s["keys"]["bind_secret"], stranger), 409, "already_bound")
    rec_path = f"/v1/shares/{s['id']}/record"
    c.status("record fetch between bind and confirm", relay.call("GET", rec_path, signer=device, sealed=False), 200)
    c.status("record fetch signed by another device key", relay.call("GET", rec_path, signer=stranger, sealed=False),
             401, "bad_signature")
    own = relay.call("GET", rec_path, signer=owner, sealed=False)
    c.status("record fetch signed by its owner", own, 200)
    if own.status == 200 and b.status == 200:
        mine = json.loads(own.plain)["record"]
        c("the owner's fetch is the current record", mine == bound["record"], own.plain)
    c.status("record fetch signed by another owner", relay.call("GET", rec_path, signer=other_owner, sealed=False),
             404, "not_found")
    conf = relay.call("POST", f"/v1/shares/{s['id']}/confirm", signer=device)
    c.status("confirm", conf, 200)
    c.status("confirm again", relay.call("POST", f"/v1/shares/{s['id']}/confirm", signer=device), 200)
    c("status says bound", relay.call("GET", f"/v1/shares/{s['id']}/status").json()["state"] == "bound")
    c.status("the bound device binds again after confirm",
             bind(relay, s["id"], s["keys"]["bind_secret"], device), 409, "already_confirmed")

    # Signed requests: replay, clock window, canonical timestamp, tampering (§6).
    headers, _, _, _ = relay.signed_headers(device, "POST", f"/v1/shares/{s['id']}/confirm", b"")
    c.status("a signed request", relay.raw("POST", f"/v1/shares/{s['id']}/confirm", b"", headers), 200)
    c.status("the same request replayed", relay.raw("POST", f"/v1/shares/{s['id']}/confirm", b"", headers),
             401, "replayed")
    c.status("a timestamp 301 s old",
             relay.call("POST", f"/v1/shares/{s['id']}/confirm", signer=device, timestamp=relay.now() - 301),
             401, "stale_timestamp")
    headers, _, _, _ = relay.signed_headers(device, "POST", f"/v1/shares/{s['id']}/confirm", b"")
    padded = dict(headers, **{"oneshare-timestamp": "0" + headers["oneshare-timestamp"]})
    c.status("a zero-padded timestamp", relay.raw("POST", f"/v1/shares/{s['id']}/confirm", b"", padded),
             400, "invalid_header")
    c.status("a signature over another path",
             relay.raw("POST", f"/v1/shares/{s['id']}/confirm?x=1", b"", headers), 401, "bad_signature")
    sealed_tk = o.seal_transmission_key(relay.public_key, relay.key_id, os.urandom(32))
    bad_kid = o.sign_request(device.key, device.header, "GET", rec_path, b"", relay.now(), os.urandom(16),
                             "AAAAAAAAAAA" + sealed_tk[11:])
    c.status("an unknown relay key id", relay.raw("GET", rec_path, b"", bad_kid), 400, "invalid_header")

    # Signed fetch, download with and without Range (§10.3).
    rr = relay.call("GET", rec_path, signer=device, sealed=False)
    if c.status("signed record fetch", rr, 200):
        body = rr.json()
        c("record answer", body["record"]["version"] == 1 and body["attachments"] == [{"id": aid, "size": len(ct)}])
    dl = relay.call("GET", ab, signer=device)
    c.status("download", dl, 200)
    c("downloaded ciphertext decrypts to the file",
      dl.body == ct and o.stream_open(s["streams"][aid][2], dl.body) == data)
    rng = relay.call("GET", ab, signer=device, headers={"range": f"bytes=24-{24 + o.ENCRYPTED_SEGMENT - 1}"})
    c.status("ranged download", rng, 206)
    c("a range is one whole segment", rng.body == ct[24:24 + o.ENCRYPTED_SEGMENT]
      and rng.headers.get("content-range") == f"bytes 24-{24 + o.ENCRYPTED_SEGMENT - 1}/{len(ct)}")
    c.status("two ranges", relay.call("GET", ab, signer=device, headers={"range": "bytes=0-1,5-6"}),
             416, "range_not_satisfiable")

    # List and owner data (§8), update (§9.5).
    lst = relay.call("GET", "/v1/shares", signer=owner)
    c.status("list", lst, 200)
    mine = [x for x in lst.json()["shares"] if x["share_id"] == s["id"]]
    if c("the share is listed", len(mine) == 1, lst.body[:300]):
        od = o.parse_owner_data(o.open_envelope(owner_key, o.owner_data_aad(s["share_id"]), b64d(mine[0]["owner_data"])))
        c("owner data opens to the label and record key", od == {"label": "interop", "record_key": b64e(s["record_key"])})
        c("summary", mine[0]["state"] == "bound" and mine[0]["record_version"] == 1 and mine[0]["bound_at"] is not None)
    c("another owner's list is empty", relay.call("GET", "/v1/shares", signer=other_owner).json() == {"shares": []})
    v2 = dict(RECORD, title="Interop v2")
    env2 = o.seal(s["record_key"], os.urandom(12), o.record_aad(s["share_id"], 2), o.record_json(v2))
    c.status("update to version 2", relay.call("PUT", rec_path, signer=owner, sealed={
        "record": {"version": 2, "ciphertext": b64e(env2)}}), 204)
    c.status("update to version 2 again", relay.call("PUT", rec_path, signer=owner, sealed={
        "record": {"version": 2, "ciphertext": b64e(env2)}}), 409, "conflict")
    c.status("update of another owner's share", relay.call("PUT", rec_path, signer=other_owner, sealed={
        "record": {"version": 3, "ciphertext": b64e(env2)}}), 404, "not_found")
    c.status("update with an unknown key", relay.call("PUT", rec_path, signer=owner, sealed={
        "record": {"version": 3, "ciphertext": b64e(env2)}, "x": 1}), 400, "bad_request")
    rr = relay.call("GET", rec_path, signer=device, sealed=False)
    if c.status("fetch after update", rr, 200):
        got = rr.json()["record"]
        c("the device sees version 2", got["version"] == 2 and o.parse_record(o.open_envelope(
            s["record_key"], o.record_aad(s["share_id"], 2), b64d(got["ciphertext"]))) == v2)

    # Events (§10.4): replay from the start, resume after an id.
    kinds = ["created", "bound", "refused_device", "confirmed", "viewed", "updated"]

    def has_all(evs):
        got = [e["kind"] for e in evs if e["share_id"] == s["id"]]
        return all(k in got for k in kinds)

    status, evs, lines = relay.events(owner, want=has_all)
    c("events answer 200", status == 200, status)
    c("events replay every kind so far", has_all(evs), [e["kind"] for e in evs])
    c("each SSE id line is the event's id", evs and all(e["_sse_id"] == str(e["id"]) for e in evs))
    c("events are in id order", [e["id"] for e in evs] == sorted(e["id"] for e in evs))
    # §9.6: each device event names its device by fingerprint, the refused one too.
    ours, theirs = (o.device_fingerprint(o.public_bytes(d.key)) for d in (device, stranger))
    fps = {e["kind"]: e.get("device_fingerprint") for e in evs if e["share_id"] == s["id"]}
    c("bound, confirmed and viewed carry the bound device's fingerprint",
      [fps.get(k) for k in ("bound", "confirmed", "viewed")] == [ours] * 3, fps)
    c("refused_device carries the refused device's fingerprint", fps.get("refused_device") == theirs, fps)
    c("created and updated carry none", fps.get("created") is None and fps.get("updated") is None, fps)
    if evs:
        first = evs[0]["id"]
        _, after, _ = relay.events(owner, last_event_id=first, want=lambda e: len(e) >= len(evs) - 1)
        c("Last-Event-ID resumes after that event", [e["id"] for e in after] == [e["id"] for e in evs[1:]],
          [e["id"] for e in after])
    bad = relay.signed_headers(owner, "GET", "/v1/events", b"")[0]
    bad["last-event-id"] = "x1"
    c.status("a malformed Last-Event-ID", relay.raw("GET", "/v1/events", b"", bad), 400, "invalid_header")

    # Revoke (§9.4): 410 everywhere, status reports it.
    c.status("another owner revokes", relay.call("DELETE", f"/v1/shares/{s['id']}", signer=other_owner),
             404, "not_found")
    c.status("revoke", relay.call("DELETE", f"/v1/shares/{s['id']}", signer=owner), 204)
    st = relay.call("GET", f"/v1/shares/{s['id']}/status")
    c("status of a revoked share answers 200 revoked", st.status == 200 and st.json()["state"] == "revoked", st.body)
    c.status("fetch after revoke", relay.call("GET", rec_path, signer=device, sealed=False), 410, "revoked")
    c.status("bind after revoke", bind(relay, s["id"], s["keys"]["bind_secret"], device), 410, "revoked")
    c.status("revoke again", relay.call("DELETE", f"/v1/shares/{s['id']}", signer=owner), 410, "revoked")
    c.status("download after revoke", relay.call("GET", ab, signer=device), 410, "revoked")

    # Lifetimes (§9.4) through the relay's test clock.
    sd = new_share(relay, owner, owner_key, {"title": "self-destruct", "fields": []}, self_destruct=True)
    un = new_share(relay, owner, owner_key, {"title": "unused", "fields": []}, expires_in=600)
    sdd = Signer.new("device", sd["id"])
    b = bind(relay, sd["id"], sd["keys"]["bind_secret"], sdd)
    if c.status("bind a self-destructing share", b, 200):
        c("self-destruct answer: 300 s after the view", b.json()["self_destruct"] is True
          and abs(b.json()["access_expires_at"] - (relay.now() + 300)) <= 2, b.plain)
    adv = relay.raw("POST", "/test/clock/advance/301")
    if c.status("the test clock moves 301 s", adv, 200):
        relay.clock_offset += 301
        c.status("fetch after 300 s", relay.call("GET", f"/v1/shares/{sd['id']}/record", signer=sdd, sealed=False),
                 410, "self_destructed")
        st = relay.call("GET", f"/v1/shares/{un['id']}/status")
        c("an unused link is still unbound", st.json()["state"] == "unbound", st.body)
        relay.raw("POST", "/test/clock/advance/300")
        relay.clock_offset += 300
        st = relay.call("GET", f"/v1/shares/{un['id']}/status")
        c("an unused link expires at created + D", st.json()["state"] == "expired", st.body)
        c.status("bind an expired link", bind(relay, un["id"], un["keys"]["bind_secret"], Signer.new("device", un["id"])),
                 410, "expired")

    # Version 2 second factors (§12.4): a quick first bind is asked for the open
    # code, wrong codes count, the right one binds; a passphrase share asks for it.
    code = o.open_code_from_random(os.urandom(5))
    v2 = new_share(relay, owner, owner_key, RECORD, code=code)
    c.status("create with an open code", v2["response"], 201)
    dev2 = Signer.new("device", v2["id"])
    tok = v2["token"]
    c.status("a quick bind without the code", bind(relay, v2["id"], v2["keys"]["bind_secret"], dev2,
                                                    {"signals": {"webdriver": True}}), 403, "code_required")
    wrong = {"code_proof": b64e(o.open_code_proof(tok, "0000000" + ("1" if code[-1] == "0" else "0")))}
    c.status("a wrong open code", bind(relay, v2["id"], v2["keys"]["bind_secret"], dev2, wrong), 403, "wrong_code")
    typed = o.parse_open_code(o.open_code_display(code).lower())
    right = {"code_proof": b64e(o.open_code_proof(tok, typed))}
    c.status("the open code as typed", bind(relay, v2["id"], v2["keys"]["bind_secret"], dev2, right), 200)
    phrase = "interop passphrase"
    pp = new_share(relay, owner, owner_key, RECORD, passphrase=phrase)
    c.status("create with a passphrase", pp["response"], 201)
    dev3 = Signer.new("device", pp["id"])
    c.status("bind without the passphrase", bind(relay, pp["id"], pp["keys"]["bind_secret"], dev3),
             403, "passphrase_required")
    proof = b64e(o.passphrase_keys(pp["token"], phrase)["proof"])
    b = bind(relay, pp["id"], pp["keys"]["bind_secret"], dev3, {"passphrase_proof": proof})
    if c.status("bind with the passphrase", b, 200):
        wk = b64d(b.json()["wrapped_key"])
        c("the link alone does not unwrap the key", _fails(lambda: o.unwrap_key(
            o.derive(pp["token"])["wrap_key"], pp["share_id"], wk)))
        c("the link and the passphrase do", o.unwrap_key(pp["keys"]["wrap_key"], pp["share_id"], wk)
          == pp["record_key"])

    # Plain refusals and admin (§10.2).
    c.status("an unknown share", relay.call("GET", f"/v1/shares/{b64e(bytes(16))}/status"), 404, "not_found")
    c.status("a malformed share id", relay.call("GET", "/v1/shares/abc/status"), 400, "bad_request")
    c.status("an unknown route", relay.call("GET", "/v1/nothing"), 404, "not_found")
    c.status("a wrong method", relay.call("PATCH", "/v1/relay-key"), 405, "method_not_allowed")
    c.status("an unsigned owner route", relay.call("GET", "/v1/shares"), 400, "invalid_header")
    admin = Signer(o.private_key(TEST_ADMIN_SCALAR), "admin")
    c.status("an owner key on an admin route", relay.call("GET", "/v1/admin/policy", signer=owner), 403, "forbidden")
    pol = relay.call("GET", "/v1/admin/policy", signer=admin)
    if c.status("admin reads the policy", pol, 200):
        p = pol.json()
        put = relay.call("PUT", "/v1/admin/policy", body=json.dumps(p).encode(), signer=admin,
                         content_type="application/json")
        c("admin writes the policy back", put.status == 200 and put.json() == p, put.body)
    al = relay.call("GET", "/v1/admin/shares", signer=admin)
    c("the admin list has no owner data", al.status == 200 and al.json()["shares"]
      and all("owner_data" not in x for x in al.json()["shares"]), al.body[:200])
    c.status("admin revokes any share", relay.call("DELETE", f"/v1/admin/shares/{sd['id']}", signer=admin), 410,
             "self_destructed")

    # Every error answer matches PROTOCOL.md §10.5.
    table = error_table(protocol_md)
    c("PROTOCOL.md §10.5 has the error table", len(table) > 15, table)
    for method, path, r in seen_errors:
        try:
            body = json.loads(r.body)
        except ValueError:
            body = None
        # §10.3 ErrorBody: code and message; wrong_code and wrong_passphrase
        # add an integer attempts_left.
        extra = {"attempts_left"} if isinstance(body, dict) and body.get("code") in (
            "wrong_code", "wrong_passphrase") else set()
        shape = (isinstance(body, dict) and set(body) - extra == {"code", "message"}
                 and all(isinstance(body[k], int) and not isinstance(body[k], bool)
                         for k in extra & set(body)))
        c(f"error shape of {method} {path[:40]}", shape, r.body[:100])
        if shape:
            c(f"{body['code']} answers {table.get(body['code'])}", table.get(body["code"]) == r.status,
              f"{method} {path[:40]} answered {r.status} {body['code']}")
