//! One encoding per key, and no weak keys.
//!
//! Every public key is brought to one canonical form before its id is
//! computed, so the same key gets the same id however it was encoded:
//!
//! | algorithm | accepted encodings | canonical form |
//! | --- | --- | --- |
//! | Ed25519 | 32 bytes, `y < p` | as given |
//! | ECDSA P-256 / P-384 | uncompressed (`04‖x‖y`) or compressed (`02`/`03‖x`) point | uncompressed point |
//! | RSA | PKCS#1 `RSAPublicKey`, algorithm parameters NULL or absent | parameters NULL |
//!
//! and these keys are refused with a [`WeakKey`] reason:
//! Ed25519 points of small order (the eight torsion points, whatever their
//! encoding: with such a key one fixed signature verifies every message) or
//! with a non-canonical `y`; EC points not on the curve or with a coordinate
//! not below the field prime; RSA moduli outside 2048..=8192 bits or even,
//! and public exponents that are even, below 3 or above 2³²−1.

use der::{Decode as _, Encode as _};
use rsa::BigUint;

use crate::error::WeakKey;

/// A NIST prime curve: field prime, `b` (a = −3), group order.
pub(super) struct Curve {
    p: &'static str,
    b: &'static str,
    n: &'static str,
    /// Coordinate length in bytes.
    len: usize,
}

pub(super) const P256: Curve = Curve {
    p: "ffffffff00000001000000000000000000000000ffffffffffffffffffffffff",
    b: "5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b",
    n: "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551",
    len: 32,
};

pub(super) const P384: Curve = Curve {
    p: "fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffff",
    b: "b3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aef",
    n: "ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973",
    len: 48,
};

fn big(hex: &str) -> BigUint {
    BigUint::parse_bytes(hex.as_bytes(), 16).unwrap_or_default()
}

fn is_odd(x: &BigUint) -> bool {
    x.to_bytes_be().last().is_some_and(|b| b & 1 == 1)
}

/// `value` as big-endian bytes, left-padded to `len` (None when longer).
fn fixed(value: &BigUint, len: usize) -> Option<Vec<u8>> {
    let bytes = value.to_bytes_be();
    let pad = len.checked_sub(bytes.len())?;
    let mut out = vec![0u8; pad];
    out.extend_from_slice(&bytes);
    Some(out)
}

/// Checks an EC public point and returns its uncompressed encoding.
pub(super) fn ec_point(curve: &Curve, raw: &[u8]) -> Result<Vec<u8>, WeakKey> {
    let p = big(curve.p);
    let (tag, rest) = raw.split_first().ok_or(WeakKey::PointEncoding)?;
    let rhs = |x: &BigUint| -> BigUint {
        // x³ − 3x + b (mod p)
        let x3 = x.modpow(&BigUint::from(3u32), &p);
        let three_x = (x * BigUint::from(3u32)) % &p;
        (x3 + &p - three_x + big(curve.b)) % &p
    };
    let (x, y) = match (*tag, rest.len()) {
        (0x04, n) if n == 2 * curve.len => {
            let (xb, yb) = rest.split_at(curve.len);
            (BigUint::from_bytes_be(xb), BigUint::from_bytes_be(yb))
        }
        (0x02 | 0x03, n) if n == curve.len => {
            let x = BigUint::from_bytes_be(rest);
            if x >= p {
                return Err(WeakKey::NotOnCurve);
            }
            // p ≡ 3 (mod 4) for both curves: a square root is a^((p+1)/4).
            let a = rhs(&x);
            let root = a.modpow(&((&p + BigUint::from(1u32)) >> 2usize), &p);
            if (&root * &root) % &p != a {
                return Err(WeakKey::NotOnCurve);
            }
            let odd = is_odd(&root);
            let y = if odd == (*tag == 0x03) {
                root
            } else {
                (&p - &root) % &p
            };
            (x, y)
        }
        _ => return Err(WeakKey::PointEncoding),
    };
    if x >= p || y >= p || (&y * &y) % &p != rhs(&x) {
        return Err(WeakKey::NotOnCurve);
    }
    let mut out = vec![0x04];
    out.extend(fixed(&x, curve.len).ok_or(WeakKey::NotOnCurve)?);
    out.extend(fixed(&y, curve.len).ok_or(WeakKey::NotOnCurve)?);
    Ok(out)
}

/// Checks an Ed25519 public key: canonical `y`, not of small order.
pub(super) fn ed25519(raw: &[u8]) -> Result<(), WeakKey> {
    // 2^255 − 19, and the y of the two pairs of points of order 8 (the
    // other torsion points have y = 1, −1 and 0).
    const P: &str = "7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffed";
    const Y8: &str = "7a03ac9277fdc74ec6cc392cfa53202a0f67100d760b3cba4fd84d3d706a17c7";
    let mut le = raw.to_vec();
    if let Some(last) = le.last_mut() {
        *last &= 0x7f; // the top bit is the sign of x
    }
    let y = BigUint::from_bytes_le(&le);
    let p = big(P);
    if y >= p {
        return Err(WeakKey::NonCanonicalEncoding);
    }
    let y8 = big(Y8);
    let one = BigUint::from(1u32);
    let torsion = [
        BigUint::default(),
        one.clone(),
        &p - &one,
        y8.clone(),
        &p - &y8,
    ];
    if torsion.contains(&y) {
        return Err(WeakKey::SmallOrder);
    }
    Ok(())
}

/// PKCS#1 RSAPublicKey: SEQUENCE { modulus INTEGER, publicExponent INTEGER }.
#[derive(der::Sequence)]
pub(crate) struct RsaPublicKeyDer<'a> {
    pub(crate) modulus: der::asn1::UintRef<'a>,
    pub(crate) public_exponent: der::asn1::UintRef<'a>,
}

/// Modulus and exponent of a checked RSA key.
pub(super) struct RsaParts {
    pub(super) n: BigUint,
    pub(super) e: BigUint,
}

/// Reads a PKCS#1 RSAPublicKey without checking it.
pub(super) fn rsa_parts(raw: &[u8]) -> Result<RsaParts, der::Error> {
    let key = RsaPublicKeyDer::from_der(raw)?;
    Ok(RsaParts {
        n: BigUint::from_bytes_be(key.modulus.as_bytes()),
        e: BigUint::from_bytes_be(key.public_exponent.as_bytes()),
    })
}

/// Checks an RSA key and returns its DER re-encoded (minimal integers).
pub(super) fn rsa(raw: &[u8]) -> Result<Result<Vec<u8>, WeakKey>, der::Error> {
    let parts = rsa_parts(raw)?;
    let bits = parts.n.bits();
    if !(2048..=8192).contains(&bits) {
        return Ok(Err(WeakKey::ModulusSize { bits }));
    }
    if !is_odd(&parts.n) {
        return Ok(Err(WeakKey::EvenModulus));
    }
    if !is_odd(&parts.e) || parts.e < BigUint::from(3u32) || parts.e.bits() > 32 {
        return Ok(Err(WeakKey::Exponent));
    }
    let n = parts.n.to_bytes_be();
    let e = parts.e.to_bytes_be();
    let canonical = RsaPublicKeyDer {
        modulus: der::asn1::UintRef::new(&n)?,
        public_exponent: der::asn1::UintRef::new(&e)?,
    };
    Ok(Ok(canonical.to_der()?))
}

/// ECDSA-Sig-Value: SEQUENCE { r INTEGER, s INTEGER }.
#[derive(der::Sequence)]
struct EcdsaSigDer<'a> {
    r: der::asn1::UintRef<'a>,
    s: der::asn1::UintRef<'a>,
}

/// The low-S form of a DER ECDSA signature: `s` replaced by `n − s` when
/// `s > n/2`. Both verify; custodia's signers emit only the low form.
pub(super) fn ecdsa_low_s(curve: &Curve, der_sig: &[u8]) -> Result<Vec<u8>, der::Error> {
    let sig = EcdsaSigDer::from_der(der_sig)?;
    let n = big(curve.n);
    let s = BigUint::from_bytes_be(sig.s.as_bytes());
    if s <= (&n >> 1usize) {
        return Ok(der_sig.to_vec());
    }
    let low = (&n - &s).to_bytes_be();
    EcdsaSigDer {
        r: sig.r,
        s: der::asn1::UintRef::new(&low)?,
    }
    .to_der()
}

/// Whether a DER ECDSA signature has `s > n/2`.
#[cfg(test)]
pub(super) fn ecdsa_is_high_s(curve: &Curve, der_sig: &[u8]) -> Option<bool> {
    let sig = EcdsaSigDer::from_der(der_sig).ok()?;
    Some(BigUint::from_bytes_be(sig.s.as_bytes()) > (big(curve.n) >> 1usize))
}

/// RSASSA-PSS with SHA-256 and MGF1-SHA-256, any salt length RFC 8017
/// allows (0 to emLen − hLen − 2): the salt length is read from the
/// encoded message (as Go's `PSSSaltLengthAuto` and OpenSSL's `auto` do),
/// then the `rsa` crate verifies with that length.
pub(super) fn verify_pss_sha256_any_salt(raw: &[u8], message: &[u8], sig: &[u8]) -> bool {
    use rsa::traits::PublicKeyParts as _;
    use sha2::Digest as _;
    let Ok(parts) = rsa_parts(raw) else {
        return false;
    };
    let Ok(key) = rsa::RsaPublicKey::new_with_max_size(parts.n, parts.e, 8192) else {
        return false;
    };
    let Some(salt_len) = pss_salt_len(key.n(), key.e(), sig) else {
        return false;
    };
    let hashed = sha2::Sha256::digest(message);
    key.verify(
        rsa::pss::Pss::new_with_salt::<sha2::Sha256>(salt_len),
        &hashed,
        sig,
    )
    .is_ok()
}

/// The salt length of a PSS (SHA-256) signature, read from its encoded
/// message; None when the encoding is malformed.
fn pss_salt_len(n: &BigUint, e: &BigUint, sig: &[u8]) -> Option<usize> {
    const H_LEN: usize = 32;
    let k = n.bits().div_ceil(8);
    if sig.len() != k {
        return None;
    }
    let s = BigUint::from_bytes_be(sig);
    if &s >= n {
        return None;
    }
    let em_bits = n.bits().checked_sub(1)?;
    let em_len = em_bits.div_ceil(8);
    let em = fixed(&s.modpow(e, n), em_len)?;
    if em.last() != Some(&0xbc) || em_len < H_LEN + 2 {
        return None;
    }
    let (masked, rest) = em.split_at(em_len - H_LEN - 1);
    let h = rest.get(..H_LEN)?;
    let mask = mgf1_sha256(h, masked.len());
    let mut db: Vec<u8> = masked.iter().zip(&mask).map(|(a, b)| a ^ b).collect();
    let unused = 8 * em_len - em_bits;
    if let Some(first) = db.first_mut() {
        *first &= 0xffu8.checked_shr(u32::try_from(unused).ok()?).unwrap_or(0);
    }
    let one = db.iter().position(|b| *b != 0)?;
    (db.get(one) == Some(&1)).then(|| db.len() - one - 1)
}

fn mgf1_sha256(seed: &[u8], len: usize) -> Vec<u8> {
    use sha2::Digest as _;
    let mut out = Vec::with_capacity(len + 32);
    let mut counter: u32 = 0;
    while out.len() < len {
        let mut h = sha2::Sha256::new();
        h.update(seed);
        h.update(counter.to_be_bytes());
        out.extend_from_slice(&h.finalize());
        counter = counter.wrapping_add(1);
    }
    out.truncate(len);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_torsion_point_of_ed25519_is_refused_however_encoded() {
        let p = big("7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffed");
        let y8 = big("7a03ac9277fdc74ec6cc392cfa53202a0f67100d760b3cba4fd84d3d706a17c7");
        let one = BigUint::from(1u32);
        for y in [
            BigUint::default(),
            one.clone(),
            &p - &one,
            y8.clone(),
            &p - &y8,
        ] {
            for sign in [0u8, 0x80] {
                let mut le = fixed(&y, 32).unwrap();
                le.reverse();
                le[31] |= sign;
                assert_eq!(ed25519(&le), Err(WeakKey::SmallOrder), "{le:02x?}");
            }
        }
        // y = p + 1 encodes 1 again, non-canonically.
        let mut le = fixed(&(&p + &one), 32).unwrap();
        le.reverse();
        assert_eq!(ed25519(&le), Err(WeakKey::NonCanonicalEncoding));
        // The RFC 8032 test 1 public key is fine.
        let good: Vec<u8> = (0..32)
            .map(|i| {
                u8::from_str_radix(
                    &"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
                        [2 * i..2 * i + 2],
                    16,
                )
                .unwrap()
            })
            .collect();
        assert_eq!(ed25519(&good), Ok(()));
    }

    #[test]
    fn custodia_signs_ecdsa_with_low_s_only() {
        use crate::keys::{KeyAlgorithm, PrivateKey, Signer as _};
        for (algorithm, curve) in [
            (KeyAlgorithm::EcdsaP256, &P256),
            (KeyAlgorithm::EcdsaP384, &P384),
        ] {
            let key = PrivateKey::generate(algorithm).unwrap();
            for i in 0..40u8 {
                let sig = key.sign(&[i]).unwrap();
                assert_eq!(ecdsa_is_high_s(curve, &sig), Some(false));
            }
        }
    }

    #[test]
    fn points_off_the_curve_are_refused() {
        // The P-256 generator, then the same x with y + 1.
        let gx = "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296";
        let gy = "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5";
        let mut raw = vec![4u8];
        raw.extend(fixed(&big(gx), 32).unwrap());
        raw.extend(fixed(&big(gy), 32).unwrap());
        assert_eq!(ec_point(&P256, &raw).unwrap(), raw);
        let mut compressed = vec![if is_odd(&big(gy)) { 3u8 } else { 2 }];
        compressed.extend(fixed(&big(gx), 32).unwrap());
        assert_eq!(ec_point(&P256, &compressed).unwrap(), raw);
        let mut off = vec![4u8];
        off.extend(fixed(&big(gx), 32).unwrap());
        off.extend(fixed(&(big(gy) + BigUint::from(1u32)), 32).unwrap());
        assert_eq!(ec_point(&P256, &off), Err(WeakKey::NotOnCurve));
        assert_eq!(ec_point(&P256, &[0u8]), Err(WeakKey::PointEncoding));
        assert_eq!(ec_point(&P384, &raw), Err(WeakKey::PointEncoding));
    }
}
