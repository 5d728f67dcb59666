//! The store behaviour suite, run on every backend. A backend's test file does
//!
//! ```ignore
//! mod conformance;
//! async fn make() -> (Arc<dyn Store>, impl Sized) { /* fresh, empty store + guard */ }
//! conformance::conformance_tests!(make);
//! ```
//!
//! which expands to one `#[tokio::test]` per case below, each on a fresh store.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use oneshare_sdk::api::{
    AttachmentDecl, BindGuard, ClientSignals, CreatePolicy, EventKind, Policy, RecordCiphertext,
    UploadStatus,
};
use oneshare_sdk::factor::{Factor, Proof};
use oneshare_sdk::fingerprint::fingerprint;
use oneshare_sdk::lifetime::{SELF_DESTRUCT_AFTER_VIEW_SECS, State};
use oneshare_sdk::risk::Observation;
use oneshare_sdk::signing::{PublicKey, SigningKey};
use oneshare_sdk::token::ShareId;
use oneshare_sdk::transfer;
use oneshare_server::Error;
use oneshare_server::store::{BindProof, NewShare, Nonce, Store, TransferAnswer, TransferAsk};

/// Generates one test per conformance case for a store factory.
#[macro_export]
macro_rules! conformance_tests {
    ($make:path) => {
        $crate::conformance_tests!(@cases $make,
            create_and_quota, bind_two_phase, refused_device_event, alarm_needs_the_token,
            update_versions, storage_quota, nonces_ride_with_writes, concurrent_writes_fail_alone,
            revoke_purges, attachments_in_parts, nonces_replay_and_expire,
            expiry_and_sweep, self_destruct_after_view, policy_round_trip,
            concurrent_binders_one_winner, event_signal_changes, list_all_hides_owner_data,
            open_code_steps_up_and_locks, open_code_required_or_observed,
            passphrase_and_code_share_the_count, transfer_moves_the_binding,
            transfer_denied_expired_and_bounded, concurrent_transfers_one_binding);
    };
    (@cases $make:path, $($case:ident),*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let (store, _guard) = $make().await;
                $crate::conformance::$case(store).await;
            }
        )*
    };
}

pub const T0: u64 = 1_800_000_000;
pub const HOUR: u64 = 3_600;
pub const PART: u64 = 1000;

pub fn key() -> PublicKey {
    SigningKey::generate().unwrap().public_key()
}

/// The proof of the token of [`share`] (its verifier is `[7; 32]`).
pub fn good() -> BindProof {
    BindProof {
        verifier: [7; 32],
        alarm: [17; 32],
        ..BindProof::default()
    }
}

/// A proof that matches nothing.
pub fn bad(b: u8) -> BindProof {
    BindProof {
        verifier: [b; 32],
        alarm: [b; 32],
        ..BindProof::default()
    }
}

pub fn new_id() -> ShareId {
    ShareId(oneshare_sdk::random::bytes().unwrap())
}

pub fn share(owner: &PublicKey, marker: &[u8]) -> NewShare {
    NewShare {
        share_id: new_id(),
        owner: *owner,
        verifier: [7; 32],
        wrapped_key: vec![1; 77],
        record: marker.to_vec(),
        owner_data: b"owner-data".to_vec(),
        created_at: T0,
        expires_in: HOUR,
        self_destruct: false,
        attachments: vec![],
        part_size: PART,
        guard: BindGuard::default(),
        transfer_box: Some([3; transfer::BOX_LEN]),
    }
}

fn is<T: std::fmt::Debug>(r: Result<T, Error>, want: &str) {
    match r {
        Err(e) => assert_eq!(e.code(), want, "{e}"),
        Ok(v) => panic!("expected {want}, got Ok({v:?})"),
    }
}

async fn kinds(store: &Arc<dyn Store>, owner: &PublicKey) -> Vec<EventKind> {
    store
        .events_since(owner, 0, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect()
}

pub async fn create_and_quota(store: Arc<dyn Store>) {
    let owner = key();
    let s = share(&owner, b"r1");
    store.create_share(&s, 2, u64::MAX, None).await.unwrap();
    is(store.create_share(&s, 10, u64::MAX, None).await, "conflict");
    let m = store.share(&s.share_id).await.unwrap().unwrap();
    assert_eq!(m.state, State::Unbound);
    assert_eq!(m.owner, owner);
    assert_eq!(m.record_version, 1);
    assert_eq!(m.deadline(), T0 + HOUR);
    assert!(store.share(&new_id()).await.unwrap().is_none());
    store
        .create_share(&share(&owner, b"r2"), 2, u64::MAX, None)
        .await
        .unwrap();
    is(
        store
            .create_share(&share(&owner, b"r3"), 2, u64::MAX, None)
            .await,
        "quota",
    );
    // Another owner has its own quota.
    store
        .create_share(&share(&key(), b"r4"), 2, u64::MAX, None)
        .await
        .unwrap();
    let list = store.list_shares(Some(&owner), T0).await.unwrap();
    assert_eq!(list.len(), 2);
    assert!(list.iter().all(|s| s.owner_data == b"owner-data"));
    assert_eq!(
        kinds(&store, &owner).await,
        [EventKind::Created, EventKind::Created]
    );
}

pub async fn bind_two_phase(store: Arc<dyn Store>) {
    let owner = key();
    let s = share(&owner, b"record-v1");
    store.create_share(&s, 10, u64::MAX, None).await.unwrap();
    let dev = key();
    is(
        store.bind(&s.share_id, &bad(8), &dev, T0 + 10, None).await,
        "bad_token",
    );
    is(
        store.bind(&new_id(), &good(), &dev, T0 + 10, None).await,
        "not_found",
    );
    let first = store
        .bind(&s.share_id, &good(), &dev, T0 + 10, None)
        .await
        .unwrap();
    assert!(!first.retry);
    assert_eq!(first.wrapped_key, vec![1; 77]);
    assert_eq!(
        first.record,
        RecordCiphertext {
            version: 1,
            ciphertext: b"record-v1".to_vec()
        }
    );
    assert_eq!(first.access_expires_at, T0 + 10 + HOUR);
    // The same device may retry until confirm.
    let again = store
        .bind(&s.share_id, &good(), &dev, T0 + 20, None)
        .await
        .unwrap();
    assert!(again.retry);
    assert_eq!(again.wrapped_key, first.wrapped_key);
    assert_eq!(again.access_expires_at, first.access_expires_at);
    // Confirm only by the bound device; idempotent.
    is(
        store.confirm(&s.share_id, &key(), T0 + 30, None).await,
        "bad_signature",
    );
    assert_eq!(
        store
            .confirm(&s.share_id, &dev, T0 + 30, None)
            .await
            .unwrap(),
        T0 + 10 + HOUR
    );
    assert_eq!(
        store
            .confirm(&s.share_id, &dev, T0 + 31, None)
            .await
            .unwrap(),
        T0 + 10 + HOUR
    );
    let m = store.share(&s.share_id).await.unwrap().unwrap();
    assert_eq!(m.state, State::Bound);
    assert_eq!(m.device_key, Some(dev));
    // The token is dead now; the bound device binding again is told so, distinctly.
    is(
        store.bind(&s.share_id, &good(), &dev, T0 + 40, None).await,
        "already_confirmed",
    );
    let view = store
        .fetch_record(&s.share_id, &dev, T0 + 50, None)
        .await
        .unwrap();
    assert_eq!(view.record.ciphertext, b"record-v1");
    is(
        store.fetch_record(&s.share_id, &key(), T0 + 50, None).await,
        "bad_signature",
    );
    assert_eq!(
        kinds(&store, &owner).await,
        [
            EventKind::Created,
            EventKind::Bound,
            EventKind::Confirmed,
            EventKind::Viewed
        ]
    );
    // Each event of the device names it by its fingerprint; the others by none.
    let events = store.events_since(&owner, 0, 100).await.unwrap();
    let ours = Some(fingerprint(&dev));
    for e in &events {
        let expected = if e.kind == EventKind::Created {
            None
        } else {
            ours.clone()
        };
        assert_eq!(e.device_fingerprint, expected, "{:?}", e.kind);
    }
}

pub async fn refused_device_event(store: Arc<dyn Store>) {
    let owner = key();
    let s = share(&owner, b"x");
    store.create_share(&s, 10, u64::MAX, None).await.unwrap();
    let (a, b) = (key(), key());
    store
        .bind(&s.share_id, &good(), &a, T0 + 1, None)
        .await
        .unwrap();
    is(
        store.bind(&s.share_id, &good(), &b, T0 + 2, None).await,
        "already_bound",
    );
    // A wrong token from the other device is just a bad token (no event).
    is(
        store.bind(&s.share_id, &bad(9), &b, T0 + 3, None).await,
        "bad_token",
    );
    let events = store.events_since(&owner, 0, 100).await.unwrap();
    let refused: Vec<_> = events
        .iter()
        .filter(|e| e.kind == EventKind::RefusedDevice)
        .collect();
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].share_id, s.share_id);
    assert_eq!(refused[0].at, T0 + 2);
    // The sender can tell the refused device from the bound one.
    assert_eq!(refused[0].device_fingerprint, Some(fingerprint(&b)));
    let bound = events.iter().find(|e| e.kind == EventKind::Bound);
    assert_eq!(
        bound.and_then(|e| e.device_fingerprint.clone()),
        Some(fingerprint(&a))
    );
    // events_since resumes after an id.
    let later = store.events_since(&owner, events[1].id, 100).await.unwrap();
    assert_eq!(later.len(), events.len() - 2);
    assert!(store.events_since(&key(), 0, 100).await.unwrap().is_empty());
    // Still bound to a.
    assert!(
        store
            .bind(&s.share_id, &good(), &a, T0 + 4, None)
            .await
            .unwrap()
            .retry
    );
}

/// After confirm only a holder of the token (the alarm verifier) raises
/// `refused_device`; anything else is `bad_token` without an event, and a share
/// reports a bounded number of refusals.
pub async fn alarm_needs_the_token(store: Arc<dyn Store>) {
    let owner = key();
    let s = share(&owner, b"x");
    store.create_share(&s, 10, u64::MAX, None).await.unwrap();
    let dev = key();
    store
        .bind(&s.share_id, &good(), &dev, T0 + 1, None)
        .await
        .unwrap();
    store
        .confirm(&s.share_id, &dev, T0 + 2, None)
        .await
        .unwrap();
    let refused = || async {
        store
            .events_since(&owner, 0, 100)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.kind == EventKind::RefusedDevice)
            .collect::<Vec<_>>()
    };
    // A share id and any secret: no alarm.
    is(
        store.bind(&s.share_id, &bad(9), &key(), T0 + 3, None).await,
        "bad_token",
    );
    // The old verifier alone (it was deleted at confirm) proves nothing either.
    let verifier_only = BindProof {
        verifier: [7; 32],
        alarm: [9; 32],
        ..BindProof::default()
    };
    is(
        store
            .bind(&s.share_id, &verifier_only, &key(), T0 + 3, None)
            .await,
        "bad_token",
    );
    assert!(refused().await.is_empty());
    // The token on another device: 409 and an alarm, bounded per share.
    for i in 0..oneshare_server::store::MAX_REFUSED_EVENTS + 5 {
        is(
            store
                .bind(&s.share_id, &good(), &key(), T0 + 4 + i, None)
                .await,
            "already_bound",
        );
    }
    let events = refused().await;
    assert_eq!(
        events.len() as u64,
        oneshare_server::store::MAX_REFUSED_EVENTS
    );
    let last = events.last().unwrap().detail.clone().unwrap();
    assert!(last.contains("further attempts"), "{last}");
    // Ending the share forgets the alarm verifier with the rest.
    store
        .revoke(&s.share_id, Some(&owner), T0 + 100, None)
        .await
        .unwrap();
    is(
        store
            .bind(&s.share_id, &good(), &key(), T0 + 101, None)
            .await,
        "revoked",
    );
}

/// The relay-wide storage quota counts what live shares reserve, frees it when a
/// share ends, and follows record updates (issue 8, item 10).
pub async fn storage_quota(store: Arc<dyn Store>) {
    let one = |o: &PublicKey| share(o, &[1; 100]);
    // record 100 + owner data 10 + wrapped key 77.
    let each = 187;
    let (a, b) = (key(), key());
    let first = one(&a);
    store
        .create_share(&first, 10, 2 * each, None)
        .await
        .unwrap();
    store
        .create_share(&one(&b), 10, 2 * each, None)
        .await
        .unwrap();
    // A fresh owner key gets a fresh per-owner quota, not more storage.
    is(
        store.create_share(&one(&key()), 10, 2 * each, None).await,
        "storage_full",
    );
    store
        .revoke(&first.share_id, Some(&a), T0 + 1, None)
        .await
        .unwrap();
    let c = one(&key());
    store.create_share(&c, 10, 2 * each, None).await.unwrap();
    // A bigger record version takes more; once full, the next create is refused.
    let v2 = RecordCiphertext {
        version: 2,
        ciphertext: vec![2; 150],
    };
    store
        .update_record(&c.share_id, &c.owner, &v2, T0 + 2, None)
        .await
        .unwrap();
    store
        .revoke(&c.share_id, Some(&c.owner), T0 + 3, None)
        .await
        .unwrap();
    store
        .create_share(&one(&key()), 10, 2 * each, None)
        .await
        .unwrap();
    is(
        store.create_share(&one(&key()), 10, 2 * each, None).await,
        "storage_full",
    );
}

pub async fn update_versions(store: Arc<dyn Store>) {
    let owner = key();
    let s = share(&owner, b"v1");
    store.create_share(&s, 10, u64::MAX, None).await.unwrap();
    let v = |n, c: &[u8]| RecordCiphertext {
        version: n,
        ciphertext: c.to_vec(),
    };
    is(
        store
            .update_record(&s.share_id, &owner, &v(3, b"v3"), T0, None)
            .await,
        "conflict",
    );
    is(
        store
            .update_record(&s.share_id, &owner, &v(1, b"v1b"), T0, None)
            .await,
        "conflict",
    );
    is(
        store
            .update_record(&s.share_id, &key(), &v(2, b"v2"), T0, None)
            .await,
        "not_found",
    );
    store
        .update_record(&s.share_id, &owner, &v(2, b"v2"), T0, None)
        .await
        .unwrap();
    let dev = key();
    let b = store
        .bind(&s.share_id, &good(), &dev, T0 + 5, None)
        .await
        .unwrap();
    assert_eq!(b.record, v(2, b"v2"));
    store
        .update_record(&s.share_id, &owner, &v(3, b"v3"), T0 + 6, None)
        .await
        .unwrap();
    let r = store
        .fetch_record(&s.share_id, &dev, T0 + 7, None)
        .await
        .unwrap();
    assert_eq!(r.record, v(3, b"v3"));
    assert_eq!(
        store
            .share(&s.share_id)
            .await
            .unwrap()
            .unwrap()
            .record_version,
        3
    );
}

pub async fn revoke_purges(store: Arc<dyn Store>) {
    let owner = key();
    let mut s = share(&owner, b"secret");
    s.attachments = vec![AttachmentDecl {
        id: "a1".into(),
        size: 10,
    }];
    store.create_share(&s, 10, u64::MAX, None).await.unwrap();
    store
        .put_part(&s.share_id, &owner, "a1", 0, &[5; 10], T0, None)
        .await
        .unwrap();
    is(
        store.revoke(&s.share_id, Some(&key()), T0, None).await,
        "not_found",
    );
    store
        .revoke(&s.share_id, Some(&owner), T0 + 1, None)
        .await
        .unwrap();
    is(
        store.revoke(&s.share_id, Some(&owner), T0 + 2, None).await,
        "revoked",
    );
    is(
        store.revoke(&s.share_id, None, T0 + 2, None).await,
        "revoked",
    );
    is(
        store.bind(&s.share_id, &good(), &key(), T0 + 2, None).await,
        "revoked",
    );
    is(store.read_part(&s.share_id, "a1", 0).await, "not_found");
    let list = store.list_shares(Some(&owner), T0 + 2).await.unwrap();
    assert_eq!(list[0].state, State::Revoked);
    assert!(list[0].owner_data.is_empty());
    assert_eq!(
        kinds(&store, &owner).await.last(),
        Some(&EventKind::Revoked)
    );
    // An admin may revoke anyone's share.
    let s2 = share(&owner, b"two");
    store.create_share(&s2, 10, u64::MAX, None).await.unwrap();
    store
        .revoke(&s2.share_id, None, T0 + 3, None)
        .await
        .unwrap();
    assert_eq!(
        store.share(&s2.share_id).await.unwrap().unwrap().state,
        State::Revoked
    );
}

pub async fn attachments_in_parts(store: Arc<dyn Store>) {
    let owner = key();
    let mut s = share(&owner, b"r");
    s.attachments = vec![
        AttachmentDecl {
            id: "big".into(),
            size: 2 * PART + 5,
        },
        AttachmentDecl {
            id: "small".into(),
            size: 3,
        },
    ];
    store.create_share(&s, 10, u64::MAX, None).await.unwrap();
    let id = &s.share_id;
    let st = store.upload_status(id, &owner, "big").await.unwrap();
    assert_eq!(
        st,
        UploadStatus {
            part_size: PART,
            next_part: 0,
            received: 0,
            size: 2 * PART + 5,
            complete: false
        }
    );
    is(store.upload_status(id, &key(), "big").await, "not_found");
    is(store.upload_status(id, &owner, "nope").await, "not_found");
    let p0 = vec![0xA0; PART as usize];
    let p1 = vec![0xA1; PART as usize];
    is(
        store.put_part(id, &owner, "big", 1, &p1, T0, None).await,
        "conflict",
    );
    is(
        store
            .put_part(id, &owner, "big", 0, &p0[..10], T0, None)
            .await,
        "bad_request",
    );
    is(
        store.put_part(id, &key(), "big", 0, &p0, T0, None).await,
        "not_found",
    );
    assert_eq!(
        store
            .put_part(id, &owner, "big", 0, &p0, T0, None)
            .await
            .unwrap()
            .next_part,
        1
    );
    // Idempotent re-put of the same bytes; different bytes refused.
    assert_eq!(
        store
            .put_part(id, &owner, "big", 0, &p0, T0, None)
            .await
            .unwrap()
            .next_part,
        1
    );
    is(
        store.put_part(id, &owner, "big", 0, &p1, T0, None).await,
        "conflict",
    );
    store
        .put_part(id, &owner, "big", 1, &p1, T0, None)
        .await
        .unwrap();
    is(
        store.finalize(id, &owner, "big", T0, None).await,
        "conflict",
    );
    is(
        store
            .put_part(id, &owner, "big", 2, &[1; 6], T0, None)
            .await,
        "too_large",
    );
    let st = store
        .put_part(id, &owner, "big", 2, &[0xA2; 5], T0, None)
        .await
        .unwrap();
    assert_eq!(
        (st.next_part, st.received, st.complete),
        (3, 2 * PART + 5, false)
    );
    // Bound before finalize: the attachment is not offered yet.
    let dev = key();
    assert!(
        store
            .bind(id, &good(), &dev, T0 + 1, None)
            .await
            .unwrap()
            .attachments
            .is_empty()
    );
    let st = store.finalize(id, &owner, "big", T0, None).await.unwrap();
    assert!(st.complete);
    assert!(
        store
            .finalize(id, &owner, "big", T0, None)
            .await
            .unwrap()
            .complete
    );
    is(
        store.put_part(id, &owner, "big", 3, &[1], T0, None).await,
        "conflict",
    );
    assert_eq!(store.upload_status(id, &owner, "big").await.unwrap(), st);
    let layout = store.attachment(id, "big").await.unwrap();
    assert_eq!(
        (layout.size, layout.part_size, layout.complete),
        (2 * PART + 5, PART, true)
    );
    assert_eq!(store.read_part(id, "big", 1).await.unwrap(), p1);
    assert_eq!(store.read_part(id, "big", 2).await.unwrap(), vec![0xA2; 5]);
    is(store.read_part(id, "big", 3).await, "not_found");
    let b = store.bind(id, &good(), &dev, T0 + 2, None).await.unwrap();
    assert_eq!(b.attachments.len(), 1);
    assert_eq!(
        (b.attachments[0].id.as_str(), b.attachments[0].size),
        ("big", 2 * PART + 5)
    );
    assert!(!store.attachment(id, "small").await.unwrap().complete);
    // Duplicate ids at create are refused.
    let mut dup = share(&owner, b"d");
    dup.attachments = vec![
        AttachmentDecl {
            id: "x".into(),
            size: 1,
        },
        AttachmentDecl {
            id: "x".into(),
            size: 1,
        },
    ];
    is(
        store.create_share(&dup, 10, u64::MAX, None).await,
        "bad_request",
    );
    assert!(store.share(&dup.share_id).await.unwrap().is_none());
}

pub fn nonce(signer: &str, b: u8, expires_at: u64) -> Nonce {
    Nonce {
        signer: signer.to_owned(),
        nonce: [b; 16],
        expires_at,
    }
}

pub async fn nonces_replay_and_expire(store: Arc<dyn Store>) {
    store
        .record_nonce(&nonce("owner:a", 1, T0 + 600))
        .await
        .unwrap();
    is(
        store.record_nonce(&nonce("owner:a", 1, T0 + 600)).await,
        "replayed",
    );
    store
        .record_nonce(&nonce("owner:b", 1, T0 + 600))
        .await
        .unwrap();
    store
        .record_nonce(&nonce("owner:a", 2, T0 + 600))
        .await
        .unwrap();
    let r = store.sweep(T0 + 600).await.unwrap();
    assert_eq!(r.nonces, 3);
    store
        .record_nonce(&nonce("owner:a", 1, T0 + 1200))
        .await
        .unwrap();
}

/// A write's nonce is recorded with it: a replay runs nothing, and a refused
/// write leaves no row but keeps its nonce (so replaying it cannot succeed later).
pub async fn nonces_ride_with_writes(store: Arc<dyn Store>) {
    let owner = key();
    let n1 = nonce("owner:x", 1, T0 + 600);
    let a = share(&owner, b"a");
    store
        .create_share(&a, 10, u64::MAX, Some(&n1))
        .await
        .unwrap();
    let b = share(&owner, b"b");
    is(
        store.create_share(&b, 10, u64::MAX, Some(&n1)).await,
        "replayed",
    );
    assert!(store.share(&b.share_id).await.unwrap().is_none());
    is(store.record_nonce(&n1).await, "replayed");
    // Storage full is found after the share row was inserted: that row goes.
    let n2 = nonce("owner:x", 2, T0 + 600);
    let c = share(&owner, b"c");
    is(
        store.create_share(&c, 10, 0, Some(&n2)).await,
        "storage_full",
    );
    assert!(store.share(&c.share_id).await.unwrap().is_none());
    is(store.record_nonce(&n2).await, "replayed");
    is(
        store.create_share(&c, 10, u64::MAX, Some(&n2)).await,
        "replayed",
    );
    assert_eq!(kinds(&store, &owner).await, vec![EventKind::Created]);
    // A refusal that is answered after committing keeps its event and its nonce.
    let dev = key();
    let n3 = nonce("device:a", 3, T0 + 600);
    store
        .bind(&a.share_id, &good(), &dev, T0 + 1, Some(&n3))
        .await
        .unwrap();
    let n4 = nonce("device:a", 4, T0 + 600);
    is(
        store
            .bind(&a.share_id, &good(), &key(), T0 + 2, Some(&n4))
            .await,
        "already_bound",
    );
    is(store.record_nonce(&n4).await, "replayed");
    assert_eq!(
        kinds(&store, &owner).await,
        vec![
            EventKind::Created,
            EventKind::Bound,
            EventKind::RefusedDevice
        ]
    );
    // Every write route takes its nonce the same way.
    let n5 = nonce("device:a", 5, T0 + 600);
    store
        .confirm(&a.share_id, &dev, T0 + 3, Some(&n5))
        .await
        .unwrap();
    is(
        store.confirm(&a.share_id, &dev, T0 + 3, Some(&n5)).await,
        "replayed",
    );
    let n6 = nonce("device:a", 6, T0 + 600);
    store
        .fetch_record(&a.share_id, &dev, T0 + 4, Some(&n6))
        .await
        .unwrap();
    is(
        store
            .fetch_record(&a.share_id, &dev, T0 + 4, Some(&n6))
            .await,
        "replayed",
    );
    let n7 = nonce("owner:x", 7, T0 + 600);
    is(
        store
            .revoke(&a.share_id, Some(&key()), T0 + 5, Some(&n7))
            .await,
        "not_found",
    );
    is(
        store
            .revoke(&a.share_id, Some(&owner), T0 + 5, Some(&n7))
            .await,
        "replayed",
    );
    assert!(
        store
            .share(&a.share_id)
            .await
            .unwrap()
            .unwrap()
            .state
            .is_live()
    );
}

/// Concurrent writes, some of which fail after writing a row: each failure
/// undoes only its own writes (on SQLite they share one transaction), and
/// every nonce is recorded.
pub async fn concurrent_writes_fail_alone(store: Arc<dyn Store>) {
    let owner = key();
    let tasks: Vec<_> = (0..48u8)
        .map(|i| {
            let store = store.clone();
            let s = share(&owner, &[i; 8]);
            let n = nonce("owner:c", i, T0 + 600);
            tokio::spawn(async move {
                let fails = i % 3 == 0;
                let room = if fails { 0 } else { u64::MAX };
                let r = store.create_share(&s, 100, room, Some(&n)).await;
                (s.share_id, n, fails, r.map_err(|e| e.code()))
            })
        })
        .collect();
    for t in tasks {
        let (id, n, fails, r) = t.await.unwrap();
        if fails {
            assert_eq!(r, Err("storage_full"));
            assert!(store.share(&id).await.unwrap().is_none());
        } else {
            assert_eq!(r, Ok(()));
            assert!(store.share(&id).await.unwrap().is_some());
        }
        is(store.record_nonce(&n).await, "replayed");
    }
    assert_eq!(kinds(&store, &owner).await.len(), 32);
}

pub async fn expiry_and_sweep(store: Arc<dyn Store>) {
    let owner = key();
    let unused = share(&owner, b"u");
    let used = share(&owner, b"b");
    store
        .create_share(&unused, 10, u64::MAX, None)
        .await
        .unwrap();
    store.create_share(&used, 10, u64::MAX, None).await.unwrap();
    let dev = key();
    store
        .bind(&used.share_id, &good(), &dev, T0 + HOUR / 2, None)
        .await
        .unwrap();
    store
        .confirm(&used.share_id, &dev, T0 + HOUR / 2, None)
        .await
        .unwrap();
    // Before the sweeper runs, the clock alone ends the unused link.
    is(
        store
            .bind(&unused.share_id, &good(), &key(), T0 + HOUR, None)
            .await,
        "expired",
    );
    assert_eq!(store.sweep(T0 + HOUR - 1).await.unwrap().ended, 0);
    assert_eq!(store.sweep(T0 + HOUR).await.unwrap().ended, 1);
    assert_eq!(
        store.share(&unused.share_id).await.unwrap().unwrap().state,
        State::Expired
    );
    // The bound one lasts D after binding.
    store
        .fetch_record(&used.share_id, &dev, T0 + HOUR + 10, None)
        .await
        .unwrap();
    is(
        store
            .fetch_record(&used.share_id, &dev, T0 + HOUR / 2 + HOUR, None)
            .await,
        "expired",
    );
    assert_eq!(store.sweep(T0 + 2 * HOUR).await.unwrap().ended, 1);
    assert_eq!(store.sweep(T0 + 2 * HOUR).await.unwrap().ended, 0);
    let list = store
        .list_shares(Some(&owner), T0 + 2 * HOUR)
        .await
        .unwrap();
    assert!(list.iter().all(|s| s.state == State::Expired));
    let k = kinds(&store, &owner).await;
    assert_eq!(k.iter().filter(|k| **k == EventKind::Expired).count(), 2);
    // Ended shares no longer count against the quota.
    let mut later = share(&owner, b"n");
    later.created_at = T0 + 2 * HOUR;
    store.create_share(&later, 1, u64::MAX, None).await.unwrap();
}

pub async fn self_destruct_after_view(store: Arc<dyn Store>) {
    let owner = key();
    let mut s = share(&owner, b"sd");
    s.self_destruct = true;
    store.create_share(&s, 10, u64::MAX, None).await.unwrap();
    let dev = key();
    let b = store
        .bind(&s.share_id, &good(), &dev, T0 + 100, None)
        .await
        .unwrap();
    assert!(b.self_destruct);
    assert_eq!(
        b.access_expires_at,
        T0 + 100 + SELF_DESTRUCT_AFTER_VIEW_SECS
    );
    store
        .confirm(&s.share_id, &dev, T0 + 101, None)
        .await
        .unwrap();
    let end = T0 + 100 + SELF_DESTRUCT_AFTER_VIEW_SECS;
    store
        .fetch_record(&s.share_id, &dev, end - 1, None)
        .await
        .unwrap();
    is(
        store.fetch_record(&s.share_id, &dev, end, None).await,
        "self_destructed",
    );
    assert_eq!(store.sweep(end).await.unwrap().ended, 1);
    assert_eq!(
        store.share(&s.share_id).await.unwrap().unwrap().state,
        State::SelfDestructed
    );
    assert_eq!(
        kinds(&store, &owner).await.last(),
        Some(&EventKind::SelfDestructed)
    );
}

pub async fn policy_round_trip(store: Arc<dyn Store>) {
    assert_eq!(store.policy().await.unwrap(), None);
    let mut p = Policy {
        create: CreatePolicy::Enrolled,
        enrolled_owners: vec![key()],
        max_expires_in: 86_400,
        max_record_bytes: 1000,
        max_attachment_bytes: 5000,
        max_shares_per_owner: 3,
    };
    store.set_policy(&p, None).await.unwrap();
    assert_eq!(store.policy().await.unwrap(), Some(p.clone()));
    p.create = CreatePolicy::Anyone;
    store.set_policy(&p, None).await.unwrap();
    assert_eq!(store.policy().await.unwrap(), Some(p));
}

pub async fn concurrent_binders_one_winner(store: Arc<dyn Store>) {
    for round in 0..5 {
        let s = share(&key(), b"race");
        store.create_share(&s, 10, u64::MAX, None).await.unwrap();
        let mut tasks = Vec::new();
        for _ in 0..16 {
            let store = store.clone();
            let id = s.share_id;
            tasks.push(tokio::spawn(async move {
                store.bind(&id, &good(), &key(), T0 + round, None).await
            }));
        }
        let mut wins = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(_) => wins += 1,
                Err(e) => assert_eq!(e.code(), "already_bound"),
            }
        }
        assert_eq!(wins, 1, "round {round}");
    }
}

/// An owner's signal changes with its own events only, so an event wakes only
/// that owner's streams (issue 8, item 4).
pub async fn event_signal_changes(store: Arc<dyn Store>) {
    let (mine, other) = (key(), key());
    let mut rx = store.event_signal(&mine);
    let mut quiet = store.event_signal(&other);
    let before = *rx.borrow_and_update();
    quiet.borrow_and_update();
    store
        .create_share(&share(&mine, b"e"), 10, u64::MAX, None)
        .await
        .unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(5), rx.changed())
        .await
        .unwrap()
        .unwrap();
    assert_ne!(*rx.borrow(), before);
    let woke = tokio::time::timeout(std::time::Duration::from_millis(500), quiet.changed()).await;
    assert!(woke.is_err(), "another owner's stream was woken");
}

pub async fn list_all_hides_owner_data(store: Arc<dyn Store>) {
    let (a, b) = (key(), key());
    let first = share(&a, b"1");
    store
        .create_share(&first, 10, u64::MAX, None)
        .await
        .unwrap();
    store
        .create_share(&share(&b, b"2"), 10, u64::MAX, None)
        .await
        .unwrap();
    let all = store.list_shares(None, T0).await.unwrap();
    assert_eq!(all.len(), 2);
    assert!(all.iter().all(|s| s.owner_data.is_empty()));
    let counts = store.count_by_state().await.unwrap();
    assert_eq!(counts, vec![(State::Unbound, 2)]);
    // Counts follow a revoke at once, and a sweep's fold keeps them.
    store
        .revoke(&first.share_id, Some(&a), T0, None)
        .await
        .unwrap();
    let counts = store.count_by_state().await.unwrap();
    assert_eq!(counts, vec![(State::Revoked, 1), (State::Unbound, 1)]);
    store.sweep(T0).await.unwrap();
    assert_eq!(store.count_by_state().await.unwrap(), counts);
}

/// The open-code proof of the shares below, and a wrong one.
const CODE: [u8; 32] = [21; 32];
const PASSPHRASE: [u8; 32] = [22; 32];

/// A share with an open code (and a passphrase when asked).
fn guarded(owner: &PublicKey, require_code: bool, passphrase: bool) -> NewShare {
    NewShare {
        guard: BindGuard {
            code_verifier: Some(Proof::from_bytes(Factor::OpenCode, CODE).verifier()),
            require_code,
            passphrase_verifier: passphrase
                .then(|| Proof::from_bytes(Factor::Passphrase, PASSPHRASE).verifier()),
        },
        ..share(owner, b"x")
    }
}

/// `good()` with these second-factor proofs, signals and a 15 s quick-bind window.
fn with(code: Option<[u8; 32]>, passphrase: Option<[u8; 32]>, webdriver: bool) -> BindProof {
    BindProof {
        code,
        passphrase,
        observed: Observation {
            signals: ClientSignals {
                webdriver,
                ..ClientSignals::default()
            },
            ..Observation::default()
        },
        quick_bind_secs: 15,
        ..good()
    }
}

async fn refusals(store: &Arc<dyn Store>, owner: &PublicKey) -> Vec<String> {
    store
        .events_since(owner, 0, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == EventKind::RefusedDevice)
        .map(|e| e.detail.unwrap_or_default())
        .collect()
}

/// A bind 3 s after create asks for the code (event: what happened, nothing
/// delivered); wrong codes count, the fifth locks the share for every device and
/// code, and the sender is told. A wrong token never counts.
pub async fn open_code_steps_up_and_locks(store: Arc<dyn Store>) {
    let owner = key();
    let s = guarded(&owner, false, false);
    store.create_share(&s, 10, u64::MAX, None).await.unwrap();
    let (id, dev) = (s.share_id, key());
    is(
        store
            .bind(&id, &with(None, None, false), &dev, T0 + 3, None)
            .await,
        "code_required",
    );
    let told = refusals(&store, &owner).await;
    assert_eq!(told.len(), 1);
    assert!(
        told[0].contains("looks automated")
            && told[0].contains("asked for the open code")
            && told[0].ends_with("content delivered: no"),
        "{}",
        told[0]
    );
    // Someone with only the share id cannot spend the attempts.
    for i in 0..10 {
        let p = BindProof {
            code: Some([9; 32]),
            ..bad(9)
        };
        is(
            store.bind(&id, &p, &key(), T0 + 4 + i, None).await,
            "bad_token",
        );
    }
    let wrong = || with(Some([9; 32]), None, false);
    for (n, left) in [(1, "4"), (2, "3"), (3, "2"), (4, "1")] {
        let e = store
            .bind(&id, &wrong(), &dev, T0 + 20 + n, None)
            .await
            .unwrap_err();
        assert_eq!(
            (e.code(), e.to_string().contains(left)),
            ("wrong_code", true),
            "{e}"
        );
    }
    is(
        store.bind(&id, &wrong(), &dev, T0 + 30, None).await,
        "locked",
    );
    let told = refusals(&store, &owner).await;
    assert_eq!(told.len(), 6, "{told:?}");
    assert!(told[5].contains("locked"), "{}", told[5]);
    // Locked means locked: the right code on any device, no more events.
    for d in [dev, key()] {
        is(
            store
                .bind(&id, &with(Some(CODE), None, false), &d, T0 + 40, None)
                .await,
            "locked",
        );
    }
    assert_eq!(refusals(&store, &owner).await.len(), 6);
    assert_eq!(
        store.share(&id).await.unwrap().unwrap().state,
        State::Unbound
    );
}

/// The code opens a quick or automated-looking bind; a share that requires it
/// asks even a quiet bind; a retry of the bound device needs nothing more; a v1
/// share (no code) binds whatever the signals, and says they looked automated.
pub async fn open_code_required_or_observed(store: Arc<dyn Store>) {
    let owner = key();
    let quick = guarded(&owner, false, false);
    store
        .create_share(&quick, 10, u64::MAX, None)
        .await
        .unwrap();
    let dev = key();
    let out = store
        .bind(
            &quick.share_id,
            &with(Some(CODE), None, true),
            &dev,
            T0 + 2,
            None,
        )
        .await
        .unwrap();
    assert!(!out.retry);
    let again = store
        .bind(&quick.share_id, &with(None, None, true), &dev, T0 + 3, None)
        .await
        .unwrap();
    assert!(again.retry, "the binding device retries without the code");
    let bound = store.events_since(&owner, 0, 100).await.unwrap();
    let detail = bound
        .iter()
        .find(|e| e.kind == EventKind::Bound)
        .and_then(|e| e.detail.clone())
        .unwrap();
    assert!(
        detail.contains("navigator.webdriver")
            && detail.contains("the open code was given")
            && detail.ends_with("content delivered: yes"),
        "{detail}"
    );

    let quiet = |s: &NewShare| (s.share_id, with(None, None, false));
    let required = guarded(&owner, true, false);
    store
        .create_share(&required, 10, u64::MAX, None)
        .await
        .unwrap();
    let (id, p) = quiet(&required);
    is(
        store.bind(&id, &p, &key(), T0 + 600, None).await,
        "code_required",
    );
    store
        .bind(&id, &with(Some(CODE), None, false), &key(), T0 + 601, None)
        .await
        .unwrap();

    let observed = guarded(&owner, false, false);
    store
        .create_share(&observed, 10, u64::MAX, None)
        .await
        .unwrap();
    is(
        store
            .bind(
                &observed.share_id,
                &with(None, None, true),
                &key(),
                T0 + 600,
                None,
            )
            .await,
        "code_required",
    );
    let (id, p) = quiet(&observed);
    store.bind(&id, &p, &key(), T0 + 601, None).await.unwrap();

    let v1 = share(&owner, b"v1");
    store.create_share(&v1, 10, u64::MAX, None).await.unwrap();
    store
        .bind(&v1.share_id, &with(None, None, true), &key(), T0 + 1, None)
        .await
        .unwrap();
    let events = store.events_since(&owner, 0, 100).await.unwrap();
    let last = events.last().unwrap();
    assert_eq!((last.kind, last.share_id), (EventKind::Bound, v1.share_id));
    assert!(last.detail.as_deref().unwrap().contains("looks automated"));
}

/// A passphrase share asks for it (no event: that is the normal path), and wrong
/// codes and passphrases count together towards the lock.
pub async fn passphrase_and_code_share_the_count(store: Arc<dyn Store>) {
    let owner = key();
    let s = guarded(&owner, true, true);
    store.create_share(&s, 10, u64::MAX, None).await.unwrap();
    let (id, dev) = (s.share_id, key());
    is(
        store
            .bind(&id, &with(Some(CODE), None, false), &dev, T0 + 600, None)
            .await,
        "passphrase_required",
    );
    assert!(refusals(&store, &owner).await.is_empty());
    for i in 0..3 {
        let p = with(Some([9; 32]), Some(PASSPHRASE), false);
        is(
            store.bind(&id, &p, &dev, T0 + 601 + i, None).await,
            "wrong_code",
        );
    }
    let p = with(Some(CODE), Some([9; 32]), false);
    let e = store.bind(&id, &p, &dev, T0 + 610, None).await.unwrap_err();
    assert_eq!(e.code(), "wrong_passphrase");
    assert!(e.to_string().contains("1 attempt"), "{e}");
    let unlocked = with(Some(CODE), Some(PASSPHRASE), false);
    store
        .bind(&id, &unlocked, &dev, T0 + 611, None)
        .await
        .unwrap();
    store.confirm(&id, &dev, T0 + 612, None).await.unwrap();
    // After confirm the token is dead, whatever factors come with it.
    is(
        store.bind(&id, &unlocked, &key(), T0 + 613, None).await,
        "already_bound",
    );
}

/// A transfer request of a fresh device.
fn ask(rid: u8) -> (TransferAsk, PublicKey) {
    let device = key();
    let ask = TransferAsk {
        request_id: [rid; transfer::REQUEST_ID_LEN],
        proof: good(),
        device_key: device,
        ecdh_key: key(),
    };
    (ask, device)
}

/// The owner's approval of `ask` on share `id`.
fn approve(owner: &SigningKey, id: &ShareId, ask: &TransferAsk) -> TransferAnswer {
    TransferAnswer::Approve {
        approval: transfer::sign_approval(
            owner,
            &transfer::Binding {
                share_id: id,
                request_id: &ask.request_id,
                device_key: &ask.device_key,
                ecdh_key: &ask.ecdh_key,
            },
        ),
        transfer_key: Box::new([9; transfer::TRANSFER_KEY_LEN]),
    }
}

/// A share of `owner` bound (and confirmed) by a first device, which is returned.
async fn bound_share(store: &Arc<dyn Store>, owner: &PublicKey, now: u64) -> (NewShare, PublicKey) {
    let s = share(owner, b"moving");
    store.create_share(&s, 100, u64::MAX, None).await.unwrap();
    let first = key();
    store
        .bind(&s.share_id, &good(), &first, now, None)
        .await
        .unwrap();
    store.confirm(&s.share_id, &first, now, None).await.unwrap();
    (s, first)
}

/// PROTOCOL.md §12.2: only a link holder may ask, for an opened share, from a
/// device that does not hold it; one request pends; the owner's signed approval
/// moves the binding and keeps the old key as moved.
pub async fn transfer_moves_the_binding(store: Arc<dyn Store>) {
    let signing = SigningKey::generate().unwrap();
    let owner = signing.public_key();
    let unbound = share(&owner, b"unbound");
    store
        .create_share(&unbound, 100, u64::MAX, None)
        .await
        .unwrap();
    let (b, _) = ask(1);
    is(
        store
            .request_transfer(&unbound.share_id, &b, T0, None)
            .await,
        "conflict",
    );
    let mut v1 = share(&owner, b"v1");
    v1.transfer_box = None;
    store.create_share(&v1, 100, u64::MAX, None).await.unwrap();
    store
        .bind(&v1.share_id, &good(), &key(), T0, None)
        .await
        .unwrap();
    is(
        store.request_transfer(&v1.share_id, &b, T0, None).await,
        "conflict",
    );

    let (s, first) = bound_share(&store, &owner, T0).await;
    let id = s.share_id;
    let wrong = TransferAsk {
        proof: bad(5),
        ..b.clone()
    };
    is(
        store.request_transfer(&id, &wrong, T0, None).await,
        "bad_token",
    );
    let mine = TransferAsk {
        device_key: first,
        ..b.clone()
    };
    is(
        store.request_transfer(&id, &mine, T0, None).await,
        "conflict",
    );
    let expires = store.request_transfer(&id, &b, T0 + 5, None).await.unwrap();
    assert_eq!(expires, T0 + 5 + 600);
    assert_eq!(
        store.request_transfer(&id, &b, T0 + 6, None).await.unwrap(),
        expires
    );
    let (c, _) = ask(2);
    is(
        store.request_transfer(&id, &c, T0 + 6, None).await,
        "transfer_pending",
    );

    let pending = store.pending_transfers(&owner, T0 + 7).await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(
        (pending[0].share_id, pending[0].device_key),
        (id, b.device_key)
    );
    assert_eq!(pending[0].transfer_box, [3; transfer::BOX_LEN]);
    assert!(
        store
            .pending_transfers(&key(), T0 + 7)
            .await
            .unwrap()
            .is_empty()
    );
    let seen = store.transfer(&id, &b.request_id, T0 + 7).await.unwrap();
    assert_eq!(seen.state, oneshare_sdk::api::TransferState::Pending);
    assert!(seen.transfer_key.is_none() && !seen.holds_share);

    // Another owner sees nothing; an approval of other keys does not verify.
    let rid = b.request_id;
    is(
        store
            .answer_transfer(&id, &key(), &rid, &approve(&signing, &id, &b), T0 + 8, None)
            .await,
        "not_found",
    );
    is(
        store
            .answer_transfer(&id, &owner, &rid, &approve(&signing, &id, &c), T0 + 8, None)
            .await,
        "bad_signature",
    );
    let stranger = SigningKey::generate().unwrap();
    is(
        store
            .answer_transfer(
                &id,
                &owner,
                &rid,
                &approve(&stranger, &id, &b),
                T0 + 8,
                None,
            )
            .await,
        "bad_signature",
    );
    store
        .answer_transfer(&id, &owner, &rid, &approve(&signing, &id, &b), T0 + 9, None)
        .await
        .unwrap();
    is(
        store
            .answer_transfer(&id, &owner, &rid, &TransferAnswer::Deny, T0 + 9, None)
            .await,
        "conflict",
    );

    let m = store.share(&id).await.unwrap().unwrap();
    assert_eq!((m.state, m.device_key), (State::Bound, Some(b.device_key)));
    assert_eq!(store.moved_from(&id).await.unwrap(), vec![first]);
    let seen = store.transfer(&id, &rid, T0 + 10).await.unwrap();
    assert_eq!(seen.state, oneshare_sdk::api::TransferState::Approved);
    assert_eq!(seen.transfer_key, Some([9; transfer::TRANSFER_KEY_LEN]));
    assert!(seen.holds_share);
    store
        .fetch_record(&id, &b.device_key, T0 + 10, None)
        .await
        .unwrap();
    is(
        store.fetch_record(&id, &first, T0 + 10, None).await,
        "bad_signature",
    );
    assert!(
        store
            .pending_transfers(&owner, T0 + 10)
            .await
            .unwrap()
            .is_empty()
    );
    let k = kinds(&store, &owner).await;
    assert!(
        k.ends_with(&[
            EventKind::TransferRequested,
            EventKind::TransferApproved,
            EventKind::Viewed
        ]),
        "{k:?}"
    );

    // It can move on again; then the second device is moved too.
    let (d, _) = ask(3);
    store
        .request_transfer(&id, &d, T0 + 20, None)
        .await
        .unwrap();
    store
        .answer_transfer(
            &id,
            &owner,
            &d.request_id,
            &approve(&signing, &id, &d),
            T0 + 21,
            None,
        )
        .await
        .unwrap();
    assert!(
        !store
            .transfer(&id, &rid, T0 + 22)
            .await
            .unwrap()
            .holds_share
    );
    let mut moved = store.moved_from(&id).await.unwrap();
    moved.sort_by_key(PublicKey::to_bytes);
    let mut want = vec![first, b.device_key];
    want.sort_by_key(PublicKey::to_bytes);
    assert_eq!(moved, want);

    // When the share ends, its transfers go with it.
    store
        .revoke(&id, Some(&owner), T0 + 30, None)
        .await
        .unwrap();
    is(store.transfer(&id, &rid, T0 + 31).await, "revoked");
    assert!(store.moved_from(&id).await.unwrap().is_empty());
}

/// Denied and expired requests free the share for the next one, each with its
/// event; the sweep expires requests nobody answered; a share takes at most
/// `MAX_TRANSFER_REQUESTS`.
pub async fn transfer_denied_expired_and_bounded(store: Arc<dyn Store>) {
    let signing = SigningKey::generate().unwrap();
    let owner = signing.public_key();
    let (s, _) = bound_share(&store, &owner, T0).await;
    let id = s.share_id;
    let (b, _) = ask(1);
    store.request_transfer(&id, &b, T0, None).await.unwrap();
    store
        .answer_transfer(
            &id,
            &owner,
            &b.request_id,
            &TransferAnswer::Deny,
            T0 + 1,
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        store
            .transfer(&id, &b.request_id, T0 + 2)
            .await
            .unwrap()
            .state,
        oneshare_sdk::api::TransferState::Denied
    );
    is(
        store.request_transfer(&id, &b, T0 + 2, None).await,
        "conflict",
    );

    let (c, _) = ask(2);
    store.request_transfer(&id, &c, T0 + 3, None).await.unwrap();
    assert_eq!(
        store
            .transfer(&id, &c.request_id, T0 + 603)
            .await
            .unwrap()
            .state,
        oneshare_sdk::api::TransferState::Expired
    );
    is(
        store
            .answer_transfer(
                &id,
                &owner,
                &c.request_id,
                &approve(&signing, &id, &c),
                T0 + 603,
                None,
            )
            .await,
        "conflict",
    );
    // The refusal committed the expiry and its event.
    assert_eq!(
        kinds(&store, &owner).await.last(),
        Some(&EventKind::TransferExpired)
    );

    let (d, _) = ask(3);
    store
        .request_transfer(&id, &d, T0 + 700, None)
        .await
        .unwrap();
    assert_eq!(
        store
            .pending_transfers(&owner, T0 + 700)
            .await
            .unwrap()
            .len(),
        1
    );
    store.sweep(T0 + 1300).await.unwrap();
    assert_eq!(
        kinds(&store, &owner).await.last(),
        Some(&EventKind::TransferExpired)
    );
    assert!(
        store
            .pending_transfers(&owner, T0 + 1300)
            .await
            .unwrap()
            .is_empty()
    );

    for n in 4..=oneshare_server::store::MAX_TRANSFER_REQUESTS as u8 {
        let (e, _) = ask(n);
        store
            .request_transfer(&id, &e, T0 + 1400, None)
            .await
            .unwrap();
        store
            .answer_transfer(
                &id,
                &owner,
                &e.request_id,
                &TransferAnswer::Deny,
                T0 + 1400,
                None,
            )
            .await
            .unwrap();
    }
    let (f, _) = ask(99);
    is(
        store.request_transfer(&id, &f, T0 + 1500, None).await,
        "conflict",
    );
    let k = kinds(&store, &owner).await;
    assert_eq!(
        k.iter()
            .filter(|k| **k == EventKind::TransferRequested)
            .count(),
        10
    );
    assert_eq!(
        k.iter()
            .filter(|k| **k == EventKind::TransferDenied)
            .count(),
        8
    );
    assert_eq!(
        k.iter()
            .filter(|k| **k == EventKind::TransferExpired)
            .count(),
        2
    );
}

/// Many devices asking at once leave one request pending; approvals and
/// denials racing on it end in exactly one answer and one binding.
pub async fn concurrent_transfers_one_binding(store: Arc<dyn Store>) {
    let signing = SigningKey::generate().unwrap();
    let owner = signing.public_key();
    for round in 0..3u64 {
        let now = T0 + round;
        let (s, first) = bound_share(&store, &owner, now).await;
        let id = s.share_id;
        let asks: Vec<TransferAsk> = (0..8).map(|i| ask(i).0).collect();
        let mut tasks = Vec::new();
        for a in asks.clone() {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                store.request_transfer(&id, &a, now, None).await
            }));
        }
        let mut pending = Vec::new();
        for (t, a) in tasks.into_iter().zip(&asks) {
            match t.await.unwrap() {
                Ok(_) => pending.push(a.clone()),
                Err(e) => assert_eq!(e.code(), "transfer_pending"),
            }
        }
        assert_eq!(pending.len(), 1, "round {round}");
        let winner = pending.remove(0);
        let mut tasks = Vec::new();
        for i in 0..8 {
            let store = store.clone();
            let answer = if i % 2 == 0 {
                approve(&signing, &id, &winner)
            } else {
                TransferAnswer::Deny
            };
            let rid = winner.request_id;
            tasks.push(tokio::spawn(async move {
                (
                    i % 2 == 0,
                    store
                        .answer_transfer(&id, &owner, &rid, &answer, now, None)
                        .await,
                )
            }));
        }
        let mut answered = Vec::new();
        for t in tasks {
            match t.await.unwrap() {
                (approved, Ok(())) => answered.push(approved),
                (_, Err(e)) => assert_eq!(e.code(), "conflict"),
            }
        }
        assert_eq!(answered.len(), 1, "round {round}");
        let m = store.share(&id).await.unwrap().unwrap();
        let holder = if answered[0] {
            winner.device_key
        } else {
            first
        };
        assert_eq!(m.device_key, Some(holder), "round {round}");
    }
}
