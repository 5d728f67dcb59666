//! The OpenAPI 3 description of the API, served at `/v1/openapi.json`. Written by
//! hand next to the handlers so the two change together; the integration tests
//! check that every routed path is described.

use serde_json::{Value, json};

fn err(desc: &str) -> Value {
    json!({"description": desc, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}})
}

fn ok_json(desc: &str, schema: &str) -> Value {
    json!({"description": desc, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}})
}

fn ok_octets(desc: &str) -> Value {
    json!({"description": desc, "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}})
}

/// An encrypted answer: a transmission-key envelope whose plaintext is `schema`
/// (named in `x-oneshare-plaintext`, PROTOCOL.md §7 and §10.3).
fn ok_sealed(desc: &str, schema: &str) -> Value {
    let mut r = ok_octets(desc);
    r["content"]["application/octet-stream"]["x-oneshare-plaintext"] =
        json!({"$ref": format!("#/components/schemas/{schema}")});
    r
}

fn no_content() -> Value {
    json!({"description": "done"})
}

/// Common error answers of a signed route.
fn signed_errors(mut r: serde_json::Map<String, Value>) -> Value {
    for (code, d) in [
        ("400", "malformed request or header"),
        ("401", "bad_signature, stale_timestamp or replayed"),
        ("403", "signer not allowed"),
        ("404", "no such share"),
        ("405", "method not allowed"),
        ("408", "request took too long"),
        ("413", "body too large"),
        ("429", "rate limited (Retry-After)"),
    ] {
        r.entry(code.to_owned()).or_insert_with(|| err(d));
    }
    Value::Object(r)
}

fn responses(pairs: Vec<(&str, Value)>) -> serde_json::Map<String, Value> {
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

/// The signature headers (PROTOCOL.md §6), with the formats the relay parses.
fn signed_params(encrypted: bool) -> Vec<Value> {
    let b64 = |n: u32| format!("^[A-Za-z0-9_-]{{{n}}}$");
    let mut p: Vec<Value> = [
        (
            "oneshare-signer",
            "device:ID, owner:KEY or admin:KEY (base64url)",
            "^(device:[A-Za-z0-9_-]{22}|owner:[A-Za-z0-9_-]{87}|admin:[A-Za-z0-9_-]{87})$".to_owned(),
        ),
        ("oneshare-timestamp", "Unix seconds", "^[0-9]{1,12}$".to_owned()),
        ("oneshare-nonce", "base64url of 16 random bytes", b64(22)),
        ("oneshare-signature", "base64url of a 64-byte P-256 signature", b64(86)),
    ]
    .into_iter()
    .map(|(n, d, pat)| json!({"name": n, "in": "header", "required": true, "description": d, "schema": {"type": "string", "pattern": pat}}))
    .collect();
    if encrypted {
        p.push(
            json!({"name": "oneshare-transmission-key", "in": "header", "required": true,
            "description": "key_id.base64url(HPKE enc || sealed key)",
            "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{11}\\.[A-Za-z0-9_-]{151}$"}}),
        );
    }
    p
}

fn path_param(name: &str) -> Value {
    let pattern = if name == "id" || name == "rid" {
        "^[A-Za-z0-9_-]{22}$"
    } else {
        "^[A-Za-z0-9_-]{1,64}$"
    };
    json!({"name": name, "in": "path", "required": true, "schema": {"type": "string", "pattern": pattern}})
}

/// A request body: raw bytes, a transmission-key envelope of a schema, or JSON.
#[derive(Clone, Copy)]
enum Body {
    Raw,
    Sealed(&'static str),
    Json(&'static str),
}

fn op(
    summary: &str,
    mut params: Vec<Value>,
    extra: &[&str],
    body: Option<Body>,
    resp: Value,
) -> Value {
    for e in extra {
        params.push(if *e == "n" {
            json!({"name": "n", "in": "path", "required": true, "schema": {"type": "integer", "minimum": 0}})
        } else {
            path_param(e)
        });
    }
    let mut o = json!({"summary": summary, "parameters": params, "responses": resp});
    let binary = json!({"type": "string", "format": "binary"});
    let reference = |name: &str| json!({"$ref": format!("#/components/schemas/{name}")});
    o["requestBody"] = match body {
        None => return o,
        Some(Body::Raw) => {
            json!({"required": true, "content": {"application/octet-stream": {"schema": binary}}})
        }
        Some(Body::Sealed(name)) => {
            json!({"required": true, "content": {"application/octet-stream": {
            "schema": binary, "x-oneshare-plaintext": reference(name)}}})
        }
        Some(Body::Json(name)) => {
            json!({"required": true, "content": {"application/json": {"schema": reference(name)}}})
        }
    };
    o
}

fn with(mut params: Vec<Value>, extra: Value) -> Vec<Value> {
    params.push(extra);
    params
}

/// The document.
pub fn document() -> Value {
    let id = &["id"];
    let att = &["id", "aid"];
    let up = ok_json("upload progress", "UploadStatus");
    json!({
        "openapi": "3.0.3",
        "info": {"title": "oneshare relay", "version": "1",
            "description": "End-to-end-encrypted one-time sharing relay (PROTOCOL.md). Encrypted bodies are transmission-key envelopes."},
        "paths": {
            "/healthz": {"get": {"summary": "liveness", "responses": {"200": {"description": "ok", "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
            "/metrics": {"get": {"summary": "Prometheus metrics (operators: Authorization: Bearer <metrics_token>)", "responses": {"200": {"description": "metrics", "content": {"text/plain": {"schema": {"type": "string"}}}}, "403": err("wrong token"), "404": err("no metrics token configured")}}},
            "/v1/relay-key": {"get": {"summary": "relay HPKE keys", "responses": {"200": ok_json("keys", "RelayKeyResponse")}}},
            "/v1/openapi.json": {"get": {"summary": "this document", "responses": {"200": {"description": "OpenAPI", "content": {"application/json": {"schema": {"type": "object"}}}}}}},
            "/v1/shares": {
                "post": op("create a share (owner, encrypted CreateShareRequest)", signed_params(true), &[], Some(Body::Sealed("CreateShareRequest")),
                    signed_errors(responses(vec![("201", ok_json("created", "CreateShareResponse")), ("409", err("id exists or quota")), ("507", err("storage_full"))]))),
                "get": op("the owner's shares", signed_params(false), &[], None,
                    signed_errors(responses(vec![("200", ok_json("shares", "ShareList"))]))),
            },
            "/v1/shares/{id}": {"delete": op("revoke (Delete Now)", signed_params(false), id, None,
                signed_errors(responses(vec![("204", no_content()), ("410", err("already ended"))])))},
            "/v1/shares/{id}/status": {"get": {"summary": "public state; changes nothing", "parameters": [path_param("id")],
                "responses": {"200": ok_json("status", "ShareStatus"), "400": err("bad id"), "404": err("unknown"), "429": err("rate limited")}}},
            "/v1/shares/{id}/bind": {"post": op("bind (device key in the encrypted BindRequest; encrypted BindResponse)", signed_params(true), id, Some(Body::Sealed("BindRequest")),
                signed_errors(responses(vec![("200", ok_sealed("encrypted BindResponse", "BindResponse")), ("403", err("bad_token, code_required, passphrase_required, wrong_code or wrong_passphrase")), ("423", err("locked after 5 wrong codes or passphrases")), ("409", err("already_bound (another device; the owner is told) or already_confirmed (this device)")), ("410", err("expired, revoked or self_destructed"))])))},
            "/v1/shares/{id}/confirm": {"post": op("confirm the bind (device)", signed_params(false), id, None,
                signed_errors(responses(vec![("200", ok_json("access end", "ConfirmResponse")), ("410", err("ended"))])))},
            "/v1/shares/{id}/transfer": {"post": op("a refused device asks the sender to move the share to it (device key in the encrypted TransferRequest; PROTOCOL.md §12.2)", signed_params(true), id, Some(Body::Sealed("TransferRequest")),
                signed_errors(responses(vec![("202", ok_json("the request and when it expires", "TransferTicket")), ("403", err("bad_token")), ("409", err("transfer_pending, or conflict: not opened yet, this device holds it, not movable, too many requests")), ("410", err("ended"))])))},
            "/v1/shares/{id}/transfer/{rid}": {"get": op("where a transfer request stands (the device that asked)", signed_params(false), &["id", "rid"], None,
                signed_errors(responses(vec![("200", ok_json("state, and once approved the re-wrapped record key", "TransferStatus")), ("410", err("ended, or moved (the share moved on from this device)"))])))},
            "/v1/shares/{id}/transfer/{rid}/approve": {"post": op("approve a transfer (owner): the share moves to the device that asked", signed_params(false), &["id", "rid"], Some(Body::Json("ApproveTransfer")),
                signed_errors(responses(vec![("204", no_content()), ("409", err("already answered or expired")), ("410", err("ended"))])))},
            "/v1/shares/{id}/transfer/{rid}/deny": {"post": op("deny a transfer (owner)", signed_params(false), &["id", "rid"], None,
                signed_errors(responses(vec![("204", no_content()), ("409", err("already answered or expired")), ("410", err("ended"))])))},
            "/v1/transfers": {"get": op("the owner's pending transfer requests", signed_params(false), &[], None,
                signed_errors(responses(vec![("200", ok_json("pending requests", "TransferList"))])))},
            "/v1/shares/{id}/record": {
                "get": op("current record (the bound device, which appends `viewed`; or the owner, which appends nothing; encrypted RecordResponse)", signed_params(true), id, None,
                    signed_errors(responses(vec![("200", ok_sealed("encrypted RecordResponse", "RecordResponse")), ("410", err("ended"))]))),
                "put": op("publish record version +1 (owner, encrypted UpdateRecordRequest)", signed_params(true), id, Some(Body::Sealed("UpdateRecordRequest")),
                    signed_errors(responses(vec![("204", no_content()), ("409", err("wrong version")), ("410", err("ended"))]))),
            },
            "/v1/shares/{id}/attachments/{aid}/parts/{n}": {"put": op("upload part n (owner; raw bytes)", signed_params(false), &["id", "aid", "n"], Some(Body::Raw),
                signed_errors(responses(vec![("200", up.clone()), ("409", err("out of order or different bytes")), ("410", err("ended"))])))},
            "/v1/shares/{id}/attachments/{aid}/upload": {"get": op("upload progress, for resume (owner)", signed_params(false), att, None,
                signed_errors(responses(vec![("200", up.clone())])))},
            "/v1/shares/{id}/attachments/{aid}/finalize": {"post": op("finish an upload (owner)", signed_params(false), att, None,
                signed_errors(responses(vec![("200", up), ("409", err("incomplete")), ("410", err("ended"))])))},
            "/v1/shares/{id}/attachments/{aid}": {"get": op("attachment ciphertext (device; single Range supported)", with(signed_params(false), json!({"name": "range", "in": "header", "required": false, "schema": {"type": "string", "pattern": "^bytes=[0-9]*-[0-9]*$"}})), att, None,
                signed_errors(responses(vec![("200", ok_octets("STREAM ciphertext")), ("206", ok_octets("range")), ("410", err("ended")), ("416", err("bad range"))])))},
            "/v1/events": {"get": op("owner events (SSE, Last-Event-ID resumes)", with(signed_params(false), json!({"name": "last-event-id", "in": "header", "required": false, "schema": {"type": "string", "pattern": "^[0-9]{1,19}$"}})), &[], None,
                signed_errors(responses(vec![("200", {json!({"description": "event stream", "content": {"text/event-stream": {"schema": {"type": "string"}, "x-oneshare-event": {"$ref": "#/components/schemas/Event"}}}})})])))},
            "/v1/admin/policy": {
                "get": op("relay policy (admin)", signed_params(false), &[], None, signed_errors(responses(vec![("200", ok_json("policy", "Policy"))]))),
                "put": op("set the relay policy (admin)", signed_params(false), &[], Some(Body::Json("Policy")), signed_errors(responses(vec![("200", ok_json("policy", "Policy"))]))),
            },
            "/v1/admin/shares": {"get": op("every share's metadata, never content (admin)", signed_params(false), &[], None,
                signed_errors(responses(vec![("200", ok_json("shares", "ShareList"))])))},
            "/v1/admin/shares/{id}": {"delete": op("revoke any share (admin)", signed_params(false), id, None,
                signed_errors(responses(vec![("204", no_content()), ("410", err("already ended"))])))},
        },
        "components": {"schemas": schemas()},
    })
}

/// Every body of PROTOCOL.md §10.3; encrypted ones are the plaintext JSON.
fn schemas() -> Value {
    let b64 = json!({"type": "string", "pattern": "^[A-Za-z0-9_-]*$", "description": "base64url, no padding"});
    let u = json!({"type": "integer", "minimum": 0});
    let aid = json!({"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"});
    let reference = |name: &str| json!({"$ref": format!("#/components/schemas/{name}")});
    let attachments = json!({"type": "array", "items": reference("AttachmentInfo")});
    let state = json!({"type": "string", "enum": ["unbound", "binding", "bound", "expired", "revoked", "self_destructed"]});
    json!({
        "CreateShareRequest": {"type": "object", "additionalProperties": false,
            "description": "plaintext of the encrypted create body",
            "required": ["share_id", "verifier", "wrapped_key", "record", "owner_data", "expires_in"], "properties": {
            "share_id": b64, "verifier": b64, "wrapped_key": b64, "record": b64, "owner_data": b64,
            "expires_in": {"type": "integer", "minimum": 60, "maximum": 31_536_000},
            "self_destruct": {"type": "boolean", "default": false},
            "attachments": {"type": "array", "maxItems": 256, "items": reference("AttachmentDecl")},
            "guard": reference("BindGuard"), "transfer_box": b64}},
        "BindGuard": {"type": "object", "additionalProperties": false,
            "description": "protocol v2 second factors the relay checks at bind (PROTOCOL.md §12)", "properties": {
            "code_verifier": b64, "require_code": {"type": "boolean", "default": false}, "passphrase_verifier": b64}},
        "AttachmentDecl": {"type": "object", "additionalProperties": false, "required": ["id", "size"],
            "properties": {"id": aid, "size": {"type": "integer", "minimum": 1, "description": "STREAM ciphertext length"}}},
        "AttachmentInfo": {"type": "object", "required": ["id", "size"], "properties": {"id": aid, "size": u}},
        "RecordCiphertext": {"type": "object", "required": ["version", "ciphertext"],
            "properties": {"version": {"type": "integer", "minimum": 1}, "ciphertext": b64}},
        "BindRequest": {"type": "object", "additionalProperties": false, "required": ["bind_secret", "device_key"],
            "description": "plaintext of the encrypted bind body", "properties": {"bind_secret": b64, "device_key": b64,
            "evidence": reference("BindEvidence")}},
        "BindEvidence": {"type": "object", "additionalProperties": false,
            "description": "protocol v2: second-factor proofs and what the page observed (PROTOCOL.md §12.4)", "properties": {
            "code_proof": b64, "passphrase_proof": b64, "signals": reference("ClientSignals")}},
        "ClientSignals": {"type": "object", "description": "what the page reports about itself; unknown keys are ignored", "properties": {
            "webdriver": {"type": "boolean"}, "headless": {"type": "boolean"}, "user_activation": {"type": "boolean"},
            "press_after_ms": u}},
        "BindResponse": {"type": "object", "description": "plaintext of the encrypted bind answer",
            "required": ["wrapped_key", "record", "attachments", "access_expires_at", "self_destruct"], "properties": {
            "wrapped_key": b64, "record": reference("RecordCiphertext"), "attachments": attachments,
            "access_expires_at": u, "self_destruct": {"type": "boolean"}}},
        "RecordResponse": {"type": "object", "description": "plaintext of the encrypted record answer",
            "required": ["record", "attachments", "access_expires_at"], "properties": {
            "record": reference("RecordCiphertext"), "attachments": attachments, "access_expires_at": u}},
        "UpdateRecordRequest": {"type": "object", "additionalProperties": false, "required": ["record"],
            "description": "plaintext of the encrypted update body", "properties": {"record": reference("RecordCiphertext")}},
        "Event": {"type": "object", "required": ["id", "share_id", "kind", "at"], "description": "the data of one server-sent event",
            "properties": {"id": u, "share_id": b64, "at": u, "detail": {"type": "string"},
            "device_fingerprint": {"type": "string", "pattern": "^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$",
                "description": "PROTOCOL.md §9.6: the device key behind bound, confirmed, viewed, refused_device and transfer events"},
            "kind": {"type": "string", "enum": ["created", "bound", "confirmed", "refused_device", "viewed", "updated", "revoked", "expired", "self_destructed", "transfer_requested", "transfer_approved", "transfer_denied", "transfer_expired"]}}},
        "TransferRequest": {"type": "object", "additionalProperties": false, "required": ["request_id", "bind_secret", "device_key", "ecdh_key"],
            "description": "plaintext of the encrypted transfer request (PROTOCOL.md §12.2)", "properties": {
            "request_id": b64, "bind_secret": b64, "device_key": b64, "ecdh_key": b64}},
        "TransferTicket": {"type": "object", "required": ["request_id", "expires_at"], "properties": {"request_id": b64, "expires_at": u}},
        "TransferStatus": {"type": "object", "required": ["state", "expires_at"], "properties": {
            "state": {"type": "string", "enum": ["pending", "approved", "denied", "expired"]}, "expires_at": u, "transfer_key": b64}},
        "PendingTransfer": {"type": "object", "required": ["share_id", "request_id", "device_key", "ecdh_key", "requested_at", "expires_at", "transfer_box"], "properties": {
            "share_id": b64, "request_id": b64, "device_key": b64, "ecdh_key": b64, "requested_at": u, "expires_at": u, "transfer_box": b64}},
        "TransferList": {"type": "object", "required": ["transfers"], "properties": {"transfers": {"type": "array", "items": reference("PendingTransfer")}}},
        "ApproveTransfer": {"type": "object", "additionalProperties": false, "required": ["approval", "transfer_key"], "properties": {"approval": b64, "transfer_key": b64}},
        "ErrorBody": {"type": "object", "required": ["code", "message"], "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "attempts_left": {"type": "integer", "minimum": 0}}},
        "RelayKeyInfo": {"type": "object", "required": ["key_id", "public_key", "suite"], "properties": {"key_id": {"type": "string"}, "public_key": b64, "suite": {"type": "string"}}},
        "RelayKeyResponse": {"type": "object", "required": ["current", "accepted"], "properties": {
            "current": reference("RelayKeyInfo"),
            "accepted": {"type": "array", "items": {"type": "string"}}}},
        "CreateShareResponse": {"type": "object", "required": ["share_id", "created_at", "expires_at"], "properties": {"share_id": b64, "created_at": u, "expires_at": u}},
        "UploadStatus": {"type": "object", "required": ["part_size", "next_part", "received", "size", "complete"], "properties": {
            "part_size": u, "next_part": u, "received": u, "size": u, "complete": {"type": "boolean"}}},
        "ConfirmResponse": {"type": "object", "required": ["access_expires_at"], "properties": {"access_expires_at": u}},
        "ShareStatus": {"type": "object", "required": ["state", "expires_at"], "properties": {"state": state, "expires_at": u, "relay_key": reference("RelayKeyInfo")}},
        "ShareSummary": {"type": "object", "required": ["share_id", "state", "created_at", "expires_at", "bound_at", "record_version", "self_destruct"], "properties": {
            "share_id": b64, "state": state, "created_at": u, "expires_at": u, "bound_at": {"type": "integer", "minimum": 0, "nullable": true},
            "record_version": u, "self_destruct": {"type": "boolean"}, "owner_data": b64}},
        "ShareList": {"type": "object", "required": ["shares"], "properties": {"shares": {"type": "array", "items": {"$ref": "#/components/schemas/ShareSummary"}}}},
        "Policy": {"type": "object", "additionalProperties": false,
            "required": ["create", "max_expires_in", "max_record_bytes", "max_attachment_bytes", "max_shares_per_owner"], "properties": {
            "create": {"type": "string", "enum": ["anyone", "enrolled"]},
            "enrolled_owners": {"type": "array", "items": b64},
            "max_expires_in": u, "max_record_bytes": u, "max_attachment_bytes": u, "max_shares_per_owner": u}},
    })
}
