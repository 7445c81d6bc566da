//! What custodia reads from a bundle's certificates itself (the chain and
//! signature checks are the verifier's): is it well-formed DER X.509, is it
//! self-signed, its validity window.

use der::{Decode as _, Encode as _};
use x509_cert::Certificate;

/// What custodia reads from one DER certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CertInfo {
    /// Subject equals issuer: a root (or a self-signed leaf).
    pub self_signed: bool,
    /// The subject name, DER.
    pub subject: Vec<u8>,
    /// The issuer name, DER.
    pub issuer: Vec<u8>,
    /// notBefore, seconds since the epoch.
    pub not_before: u64,
    /// notAfter, seconds since the epoch.
    pub not_after: u64,
}

/// Parses a DER certificate; `Err` says why it is not one.
pub(crate) fn parse(der: &[u8]) -> Result<CertInfo, String> {
    let cert = Certificate::from_der(der).map_err(|e| e.to_string())?;
    let tbs = &cert.tbs_certificate;
    Ok(CertInfo {
        self_signed: tbs.subject == tbs.issuer,
        subject: tbs.subject.to_der().map_err(|e| e.to_string())?,
        issuer: tbs.issuer.to_der().map_err(|e| e.to_string())?,
        not_before: tbs.validity.not_before.to_unix_duration().as_secs(),
        not_after: tbs.validity.not_after.to_unix_duration().as_secs(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(parse(b"").is_err());
        assert!(parse(&[0x30, 0x82, 0xff, 0xff]).is_err());
        assert!(parse(&[0x30; 64]).is_err());
    }
}
