"""Checks every vector file of sdk/vectors/ (PROTOCOL.md §13) with the independent
implementation in oneshare.py. Every key of every `expected` value must be computed
and equal, and every `error` must be raised with exactly that code."""

import hashlib
import json
from pathlib import Path

import oneshare as o
from oneshare import ProtocolError, b64d, b64e


def h(case, key):
    return bytes.fromhex(case[key])


def check_token(c, _doc):
    if c["op"] == "derive":
        token = h(c, "token_hex")
        d = o.derive(token)
        return {
            "token_b64": b64e(token), "link": o.link(c["base"], token),
            "share_id_b64": b64e(d["share_id"]), "share_id_hex": d["share_id"].hex(),
            "wrap_key_hex": d["wrap_key"].hex(), "bind_secret_hex": d["bind_secret"].hex(),
            "verifier_hex": d["verifier"].hex(), "alarm_verifier_hex": d["alarm_verifier"].hex(),
        }
    if c["op"] == "parse":
        return {"token_hex": o.parse_link(c["link"]).hex()}
    raise KeyError(c["op"])


def check_envelope(c, _doc):
    key = h(c, "key_hex")
    if c["op"] == "seal":
        env = o.seal(key, h(c, "nonce_hex"), h(c, "aad_hex"), h(c, "plaintext_hex"))
        assert o.open_envelope(key, h(c, "aad_hex"), env) == h(c, "plaintext_hex")
        return {"commitment_hex": o.commitment(key).hex(), "envelope_hex": env.hex()}
    if c["op"] == "open":
        return {"plaintext_hex": o.open_envelope(key, h(c, "aad_hex"), h(c, "envelope_hex")).hex()}
    raise KeyError(c["op"])


def check_record(c, _doc):
    key, sid = h(c, "record_key_hex"), b64d(c["share_id_b64"], 16)
    ad = o.record_aad(sid, c["version"])
    if c["op"] == "seal":
        plain = o.record_json(c["record"])
        env = o.seal(key, h(c, "nonce_hex"), ad, plain)
        assert o.parse_record(o.open_envelope(key, ad, env)) == json.loads(plain)
        return {"record_json": plain.decode(), "aad_hex": ad.hex(), "envelope_hex": env.hex()}
    if c["op"] == "open":
        return {"record": o.parse_record(o.open_envelope(key, ad, h(c, "envelope_hex")))}
    raise KeyError(c["op"])


def check_wrapped_key(c, _doc):
    key, sid = h(c, "wrap_key_hex"), b64d(c["share_id_b64"], 16)
    if c["op"] == "wrap":
        wrapped = o.seal(key, h(c, "nonce_hex"), o.wrap_aad(sid), h(c, "record_key_hex"))
        assert o.unwrap_key(key, sid, wrapped) == h(c, "record_key_hex")
        return {"aad_hex": o.wrap_aad(sid).hex(), "wrapped_key_hex": wrapped.hex()}
    if c["op"] == "unwrap":
        return {"record_key_hex": o.unwrap_key(key, sid, h(c, "wrapped_key_hex")).hex()}
    raise KeyError(c["op"])


def check_owner_data(c, _doc):
    if c["op"] in ("seal", "open"):
        key, sid = h(c, "owner_key_hex"), b64d(c["share_id_b64"], 16)
        ad = o.owner_data_aad(sid)
        if c["op"] == "seal":
            plain = o.owner_data_json(c["label"], h(c, "record_key_hex"))
            env = o.seal(key, h(c, "nonce_hex"), ad, plain)
            return {"owner_data_json": plain.decode(), "aad_hex": ad.hex(), "envelope_hex": env.hex()}
        return o.parse_owner_data(o.open_envelope(key, ad, h(c, "envelope_hex")))
    if c["op"] == "identity":
        scalar = h(c, "signing_key_hex")
        text = o.identity_json(scalar, h(c, "owner_key_hex"))
        back = o.parse_identity(text)
        assert back["owner_key"] == h(c, "owner_key_hex")
        return {"identity_json": text, "public_key_b64": b64e(o.public_bytes(o.private_key(scalar)))}
    if c["op"] == "parse_identity":
        ident = o.parse_identity(c["identity_json"])
        return {"public_key_b64": b64e(o.public_bytes(ident["signing_key"]))}
    raise KeyError(c["op"])


def stream_plaintext(n):
    return bytes(i % 251 for i in range(n))


def sealed_stream(c):
    return o.stream_seal(h(c, "file_key_hex"), h(c, "nonce_prefix_hex"), stream_plaintext(c["plaintext_len"]))


def tamper(c, seal_case, ct):
    t = c["tamper"]
    head, body = ct[:24], ct[24:]
    segs = [body[i:i + o.ENCRYPTED_SEGMENT] for i in range(0, len(body), o.ENCRYPTED_SEGMENT)]
    kind = t["kind"]
    if kind == "none":
        return ct
    if kind == "drop_final_segment":
        return head + b"".join(segs[:-1])
    if kind == "truncate_to":
        return ct[:t["length"]]
    if kind == "swap_segments":
        segs[t["a"]], segs[t["b"]] = segs[t["b"]], segs[t["a"]]
        return head + b"".join(segs)
    if kind == "append_copy_of_segment":
        return ct + segs[t["index"]]
    if kind == "append_hex":
        return ct + bytes.fromhex(t["hex"])
    if kind == "flip_bit":
        out = bytearray(ct)
        out[t["offset"]] ^= 1 << t["bit"]
        return bytes(out)
    if kind == "reseal_segment":
        i = t["index"]
        plain = stream_plaintext(seal_case["plaintext_len"])[i * o.SEGMENT:(i + 1) * o.SEGMENT]
        prefix = h(seal_case, "nonce_prefix_hex")
        aes = o.AESGCM(h(seal_case, "file_key_hex"))
        segs[i] = aes.encrypt(o.stream_nonce(prefix, i, t["last"]), plain, b"")
        return head + b"".join(segs)
    raise KeyError(kind)


def check_stream(c, doc):
    if c["op"] == "seal":
        ct = sealed_stream(c)
        assert o.stream_open(h(c, "file_key_hex"), ct) == stream_plaintext(c["plaintext_len"])
        return {
            "header_hex": ct[:24].hex(), "ciphertext_len": len(ct),
            "segments": max(1, -(-c["plaintext_len"] // o.SEGMENT)),
            "first_64_hex": ct[:64].hex(), "last_32_hex": ct[-32:].hex(),
            "sha256_hex": hashlib.sha256(ct).hexdigest(),
        }
    if c["op"] == "open":
        seal_case = next(s for s in doc["cases"] if s["op"] == "seal" and s["name"] == c["stream"])
        ct = tamper(c, seal_case, sealed_stream(seal_case))
        return {"plaintext_sha256_hex": hashlib.sha256(o.stream_open(h(c, "file_key_hex"), ct)).hexdigest()}
    raise KeyError(c["op"])


def body_of(c):
    return h(c, "body_hex") if "body_hex" in c else b""


def check_signing(c, _doc):
    op = c["op"]
    if op == "sign_message":
        key = o.private_key(h(c, "private_key_hex"))
        return {"public_key_hex": o.public_bytes(key).hex(),
                "signature_hex": o.sign(key, c["message"].encode()).hex()}
    if op == "sign_request":
        key = o.private_key(h(c, "private_key_hex"))
        nonce, body = h(c, "nonce_hex"), body_of(c)
        msg = o.canonical(c["method"], c["path"], c["signer"], str(c["timestamp"]), b64e(nonce),
                          body, c["transmission"])
        headers = o.sign_request(key, c["signer"], c["method"], c["path"], body, c["timestamp"],
                                 nonce, c["transmission"])
        headers.pop("oneshare-transmission-key", None)
        signature = b64d(headers["oneshare-signature"])
        o.verify(key.public_key(), msg, signature)
        return {
            "public_key_b64": b64e(o.public_bytes(key)),
            "body_sha256_b64": b64e(hashlib.sha256(body).digest()),
            "canonical": msg.decode(), "signature_hex": signature.hex(), "headers": headers,
        }
    if op == "verify":
        parsed = o.parse_headers(c["headers"].get)
        if abs(parsed["timestamp"] - c["now"]) > 300:
            raise ProtocolError("stale_timestamp")
        msg = o.canonical(c["method"], c["path"], c["headers"]["oneshare-signer"],
                          c["headers"]["oneshare-timestamp"], c["headers"]["oneshare-nonce"],
                          body_of(c), c["transmission"])
        o.verify(o.public_key(b64d(c["public_key_b64"], 65)), msg, parsed["signature"])
        return "ok"
    if op == "parse_headers":
        p = o.parse_headers(c["headers"].get)
        return {"signer": p["signer"], "timestamp": p["timestamp"],
                "nonce_hex": p["nonce"].hex(), "signature_hex": p["signature"].hex()}
    if op == "public_key":
        return {"public_key_b64": b64e(o.public_bytes(o.public_key(h(c, "public_key_hex"))))}
    raise KeyError(op)


def relay_from_ikm(ikm):
    return o.private_key(o.derive_key_pair(ikm))


def check_hpke(c, _doc):
    op = c["op"]
    if op == "derive":
        scalar = o.derive_key_pair(h(c, "ikm_hex"))
        pub = o.public_bytes(o.private_key(scalar))
        return {"private_key_hex": scalar.hex(), "public_key_hex": pub.hex(), "key_id": o.key_id(pub)}
    if op == "import":
        pub = o.public_bytes(o.private_key(h(c, "private_key_hex")))
        return {"public_key_hex": pub.hex(), "key_id": o.key_id(pub)}
    if op == "relay_public_key":
        return {"key_id": o.key_id(o.public_bytes(o.public_key(h(c, "public_key_hex"))))}
    if op == "open_header":
        relay = relay_from_ikm(h(c, "relay_ikm_hex"))
        tk = o.open_transmission_key(relay, c["header"])
        # And a header sealed here opens to what was sealed.
        pub = o.public_bytes(relay)
        assert o.open_transmission_key(relay, o.seal_transmission_key(pub, o.key_id(pub), tk)) == tk
        return {"transmission_key_hex": tk.hex()}
    if op in ("request", "response"):
        ad = (o.request_aad if op == "request" else o.response_aad)(h(c, "request_nonce_hex"))
        env = o.seal(h(c, "transmission_key_hex"), h(c, "nonce_hex"), ad, h(c, "body_hex"))
        return {"aad_hex": ad.hex(), "envelope_hex": env.hex()}
    if op in ("open_request", "open_response"):
        ad = (o.request_aad if op == "open_request" else o.response_aad)(h(c, "request_nonce_hex"))
        return {"body_hex": o.open_envelope(h(c, "transmission_key_hex"), ad, h(c, "envelope_hex")).hex()}
    raise KeyError(op)


def check_hpke_rfc9180(c, _doc):
    op = c["op"]
    if op == "key_schedule":
        key, nonce = o.hpke_key_schedule(h(c, "shared_secret_hex"), h(c, "info_hex"))
        ct = o.AESGCM(key).encrypt(nonce, h(c, "pt_hex"), h(c, "aad_hex"))
        return {"key_hex": key.hex(), "base_nonce_hex": nonce.hex(), "ct_hex": ct.hex()}
    if op == "kat":
        sk_r, sk_e = o.derive_key_pair(h(c, "ikm_r_hex")), o.derive_key_pair(h(c, "ikm_e_hex"))
        pk_r, enc = o.public_bytes(o.private_key(sk_r)), o.public_bytes(o.private_key(sk_e))
        dh = o.private_key(sk_e).exchange(o.ec.ECDH(), o.public_key(pk_r))
        assert dh == o.private_key(sk_r).exchange(o.ec.ECDH(), o.public_key(enc))
        ss = o.hpke_shared_secret(dh, enc, pk_r)
        key, nonce = o.hpke_key_schedule(ss, h(c, "info_hex"))
        ct = o.AESGCM(key).encrypt(nonce, h(c, "pt_hex"), h(c, "aad_hex"))
        return {"sk_r_hex": sk_r.hex(), "pk_r_hex": pk_r.hex(), "sk_e_hex": sk_e.hex(),
                "enc_hex": enc.hex(), "shared_secret_hex": ss.hex(), "key_hex": key.hex(),
                "base_nonce_hex": nonce.hex(), "ct_hex": ct.hex()}
    if op == "open":
        pt = o.hpke_open(h(c, "sk_r_hex"), h(c, "enc_hex"), h(c, "info_hex"), h(c, "aad_hex"), h(c, "ct_hex"))
        return {"pt_hex": pt.hex()}
    raise KeyError(op)


def check_duration(c, _doc):
    if c["op"] == "parse":
        return o.parse_duration(c["input"])
    if c["op"] == "format":
        return o.format_duration(c["seconds"])
    raise KeyError(c["op"])


def check_lifetime(c, _doc):
    if c["op"] == "deadline":
        args = (c["created_at"], c["expires_in"], c["self_destruct"], c["bound_at"])
        return {"deadline": o.deadline(*args), "state": o.state_at(c["stored"], *args, c["now"])}
    if c["op"] == "bind":
        return o.bind_decision(c["state"], c["bound_key_b64"], c["presented_key_b64"])
    raise KeyError(c["op"])


def check_factor_case(c, factor):
    o.check_factor(factor, h(c, "verifier_hex"), h(c, "proof_hex"))
    return "ok"


def check_open_code(c, _doc):
    op = c["op"]
    if op == "generate":
        code = o.open_code_from_random(h(c, "random_hex"))
        assert o.parse_open_code(o.open_code_display(code)) == code
        return {"code": code, "display": o.open_code_display(code)}
    if op == "parse":
        return {"code": o.parse_open_code(c["input"])}
    if op == "derive":
        code = o.parse_open_code(c["code"])
        proof = o.open_code_proof(h(c, "token_hex"), code)
        return {"code": code, "proof_hex": proof.hex(),
                "verifier_hex": o.factor_verifier("open-code", proof).hex()}
    if op == "check":
        return check_factor_case(c, "open-code")
    raise KeyError(op)


def check_passphrase(c, _doc):
    op = c["op"]
    if op == "check":
        return check_factor_case(c, "passphrase")
    token = h(c, "token_hex")
    sid = o.derive(token)["share_id"]
    if op == "derive":
        keys = o.passphrase_keys(token, c["passphrase"])
        return {
            "argon2_m_kib": o.ARGON2_M_KIB, "argon2_t": o.ARGON2_T, "argon2_p": o.ARGON2_P,
            "salt_hex": o.passphrase_salt(token).hex(), "stretched_hex": keys["stretched"].hex(),
            "wrap_key_hex": keys["wrap_key"].hex(), "proof_hex": keys["proof"].hex(),
            "verifier_hex": o.factor_verifier("passphrase", keys["proof"]).hex(),
        }
    if op == "wrap":
        wk = o.passphrase_keys(token, c["passphrase"])["wrap_key"]
        wrapped = o.seal(wk, h(c, "nonce_hex"), o.wrap_aad(sid), h(c, "record_key_hex"))
        assert o.unwrap_key(wk, sid, wrapped) == h(c, "record_key_hex")
        return {"aad_hex": o.wrap_aad(sid).hex(), "wrapped_key_hex": wrapped.hex()}
    if op == "unwrap":
        phrase = c["passphrase"]
        wk = o.derive(token)["wrap_key"] if phrase is None else o.passphrase_keys(token, phrase)["wrap_key"]
        return {"record_key_hex": o.unwrap_key(wk, sid, h(c, "wrapped_key_hex")).hex()}
    raise KeyError(op)


def check_transfer(c, _doc):
    op = c["op"]
    if op == "derive":
        token = h(c, "token_hex")
        return {"share_id_b64": b64e(o.derive(token)["share_id"]),
                "transfer_secret_hex": o.transfer_secret(token).hex()}
    if op in ("seal_box", "open_box"):
        key, sid = h(c, "owner_key_hex"), b64d(c["share_id_b64"], 16)
        if op == "open_box":
            return {"transfer_secret_hex": o.open_transfer_box(key, sid, h(c, "box_hex")).hex()}
        box = o.seal(key, h(c, "nonce_hex"), o.transfer_box_aad(sid), h(c, "transfer_secret_hex"))
        assert o.open_transfer_box(key, sid, box) == h(c, "transfer_secret_hex")
        return {"aad_hex": o.transfer_box_aad(sid).hex(), "box_hex": box.hex()}
    if op == "comparison":
        sid = b64d(c["share_id_b64"], 16)
        dk = b64d(c["device_key_b64"], code="invalid_key")
        ek = b64d(c["ecdh_key_b64"], code="invalid_key")
        code = o.comparison_code(h(c, "transfer_secret_hex"), sid, dk, ek)
        return {"info_hex": o.comparison_info(sid, dk, ek).hex(), "code": code,
                "display": f"{code[:3]} {code[3:]}"}
    sid = b64d(c["share_id_b64"], 16)
    rid = h(c, "request_id_hex")
    dk = o.public_bytes(o.public_key(b64d(c["device_key_b64"], 65)))
    if op == "approval":
        key = o.private_key(h(c, "owner_signing_key_hex"))
        ek = b64d(c["ecdh_key_b64"], 65)
        msg = o.approval_message(sid, rid, dk, ek)
        signature = o.sign(key, msg)
        o.verify(key.public_key(), msg, signature)
        return {"owner_key_b64": b64e(o.public_bytes(key)), "message_hex": msg.hex(),
                "signature_hex": signature.hex()}
    if op == "verify_approval":
        owner = o.public_key(b64d(c["owner_key_b64"], 65))
        msg = o.approval_message(sid, rid, dk, b64d(c["ecdh_key_b64"], 65))
        o.verify(owner, msg, h(c, "signature_hex"))
        return {}
    if op == "wrap":
        secret, context = h(c, "transfer_secret_hex"), o.transfer_context(sid, rid, dk)
        wk = o.transfer_wrap_key(secret)
        inner = o.seal(wk, h(c, "nonce_hex"), context, h(c, "record_key_hex"))
        assert o.open_envelope(wk, context, inner) == h(c, "record_key_hex")
        return {"context_hex": context.hex(), "transfer_wrap_key_hex": wk.hex(), "inner_hex": inner.hex()}
    if op == "open_transfer_key":
        ecdh = o.private_key(h(c, "ecdh_private_hex"))
        secret = h(c, "transfer_secret_hex")
        kr = o.open_transfer_key(ecdh, secret, sid, rid, dk, h(c, "transfer_key_hex"))
        ek = o.public_bytes(ecdh)
        again = o.wrap_for_device(secret, sid, rid, dk, ek, kr)
        assert o.open_transfer_key(ecdh, secret, sid, rid, dk, again) == kr
        return {"ecdh_key_b64": b64e(ek), "record_key_hex": kr.hex()}
    raise KeyError(op)


def check_fingerprint(c, _doc):
    if c["op"] == "fingerprint":
        return {"fingerprint": o.device_fingerprint(b64d(c["device_key_b64"], code="invalid_key"))}
    raise KeyError(c["op"])


CHECKERS = {
    "token.json": check_token, "envelope.json": check_envelope, "record.json": check_record,
    "wrapped_key.json": check_wrapped_key, "owner_data.json": check_owner_data,
    "stream.json": check_stream, "signing.json": check_signing, "hpke.json": check_hpke,
    "hpke_rfc9180.json": check_hpke_rfc9180,
    "duration.json": check_duration, "lifetime.json": check_lifetime,
    "open_code.json": check_open_code, "passphrase.json": check_passphrase,
    "transfer.json": check_transfer, "fingerprint.json": check_fingerprint,
}


def run_case(check, case, doc):
    """None when the case passes, else what went wrong."""
    try:
        got = check(case, doc)
    except ProtocolError as e:
        if "error" in case:
            return None if e.code == case["error"] else f"error {e.code}, expected {case['error']}"
        return f"unexpected error {e.code}"
    except Exception as e:  # a checker bug or an unknown op is a failure too
        return f"{type(e).__name__}: {e}"
    if "error" in case:
        return f"succeeded, expected error {case['error']}"
    want = case["expected"]
    if isinstance(want, dict):
        for key, value in want.items():
            if not isinstance(got, dict) or key not in got:
                return f"expected key {key} is not computed"
            if got[key] != value:
                return f"{key}: got {got[key]!r}, expected {value!r}"
        return None
    return None if got == want else f"got {got!r}, expected {want!r}"


def check_all(directory: Path):
    """Returns (passed, failures) over every file in `directory`."""
    passed, failures = 0, []
    files = sorted(directory.glob("*.json"))
    for path in files:
        check = CHECKERS.get(path.name)
        if check is None:
            failures.append(f"{path.name}: no checker for this vector file")
            continue
        doc = json.loads(path.read_text())
        for case in doc["cases"]:
            problem = run_case(check, case, doc)
            if problem is None:
                passed += 1
            else:
                failures.append(f"{path.name} {case['name']}: {problem}")
    for name in CHECKERS:
        if not (directory / name).is_file():
            failures.append(f"{name}: vector file missing")
    return passed, failures
