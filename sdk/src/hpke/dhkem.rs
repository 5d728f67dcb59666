//! DHKEM(P-256) key handling and Diffie-Hellman with RustCrypto `p256`, for
//! native builds (the relay, the CLI, tests); the browser does the same with
//! WebCrypto. RFC 9180 §4.1 (`Encap`/`Decap`, whose `ExtractAndExpand` is in the
//! parent module) and §7.1.3 (`DeriveKeyPair`).

use p256::elliptic_curve::sec1::ToSec1Point as _;
use p256::{NonZeroScalar, PublicKey};
use zeroize::Zeroizing;

use super::{ENC_LEN, Encapped, SECRET_LEN, SharedSecret, enc_bytes, kem_expand, kem_extract};
use crate::secret::Secret;
use crate::{Error, Result, random};

/// A P-256 private scalar (32 bytes, big-endian, zeroized on drop).
pub type PrivateKey = Secret<32>;

/// `DeriveKeyPair(ikm)` (§7.1.3): candidates from `LabeledExpand(dkp_prk,
/// "candidate", counter, 32)` until one is a valid scalar (bitmask 0xff).
///
/// # Errors
/// [`Error::InvalidKey`] if 256 candidates fail (`DeriveKeyPairError`, never
/// seen: each fails with probability below 2⁻³²).
pub fn derive_key_pair(ikm: &[u8]) -> Result<(PrivateKey, [u8; ENC_LEN])> {
    let dkp_prk = kem_extract(b"dkp_prk", ikm);
    for counter in 0..=u8::MAX {
        let mut candidate = Zeroizing::new([0u8; 32]);
        kem_expand(
            &dkp_prk,
            b"candidate",
            &[&[counter]],
            candidate.as_mut_slice(),
        );
        let private = Secret::new(*candidate);
        if let Ok(public) = public_key(&private) {
            return Ok((private, public));
        }
    }
    Err(Error::InvalidKey("hpke"))
}

/// A fresh key pair from OS randomness (`GenerateKeyPair`, as `DeriveKeyPair`
/// of random input).
///
/// # Errors
/// [`Error::Random`].
pub fn generate_key_pair() -> Result<(PrivateKey, [u8; ENC_LEN])> {
    derive_key_pair(Zeroizing::new(random::bytes::<32>()?).as_slice())
}

fn scalar(private: &PrivateKey) -> Result<NonZeroScalar> {
    NonZeroScalar::try_from(&private.expose()[..]).map_err(|_| Error::InvalidKey("hpke"))
}

/// `pk(sk)`, serialized (`SerializePublicKey`, §7.1.1: uncompressed SEC1).
///
/// # Errors
/// [`Error::InvalidKey`] for zero or a scalar not below the group order.
pub fn public_key(private: &PrivateKey) -> Result<[u8; ENC_LEN]> {
    let point = PublicKey::from_secret_scalar(&scalar(private)?).to_sec1_point(false);
    point
        .as_bytes()
        .try_into()
        .map_err(|_| Error::InvalidKey("hpke"))
}

/// `DH(sk, pk)`: the x-coordinate of `sk · pk`, where `peer` must be a 65-byte
/// uncompressed point on the curve (`DeserializePublicKey`, §7.1.1).
///
/// # Errors
/// [`Error::Hpke`] for any other encoding or a point not on the curve.
pub fn dh(private: &PrivateKey, peer: &[u8]) -> Result<SharedSecret> {
    let peer = PublicKey::from_sec1_bytes(enc_bytes(peer)?).map_err(|_| Error::Hpke)?;
    let shared = p256::ecdh::diffie_hellman(scalar(private)?, peer.as_affine());
    let mut out = [0u8; SECRET_LEN];
    out.copy_from_slice(shared.raw_secret_bytes());
    Ok(Secret::new(out))
}

/// `Encap(pkR)` up to the DH (§4.1) with the ephemeral key from `ikm_e`
/// (`DeriveKeyPair`, as the CFRG vectors do): `enc = pkE` and `DH(skE, pkR)`.
///
/// # Errors
/// [`Error::Hpke`] when `pk_r` is not a point on the curve.
pub fn encap_derand(pk_r: &[u8; ENC_LEN], ikm_e: &[u8]) -> Result<Encapped> {
    let (sk_e, enc) = derive_key_pair(ikm_e)?;
    Ok(Encapped {
        enc,
        dh: dh(&sk_e, pk_r)?,
    })
}

/// `Encap(pkR)` up to the DH with a fresh ephemeral key.
///
/// # Errors
/// [`Error::Hpke`] when `pk_r` is not a point on the curve, [`Error::Random`].
pub fn encap(pk_r: &[u8; ENC_LEN]) -> Result<Encapped> {
    encap_derand(pk_r, Zeroizing::new(random::bytes::<32>()?).as_slice())
}
