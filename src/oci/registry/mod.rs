//! A small blocking client for the OCI distribution API (feature
//! `oci-registry`): manifests, blobs, tags, and referrers (the referrers
//! API where the registry has it, the referrers tag schema where it does
//! not), plus a promotion [`crate::promotion::Store`] kept in a
//! repository ([`RegistryStore`]).
//!
//! * TLS (rustls with ring; roots from the operating system's trust store,
//!   or PEM certificates the caller gives) unless the caller asks for plain HTTP
//!   ([`RegistryOptions::plain_http`]), meant for loopback tests.
//! * Anonymous access, HTTP basic, and bearer tokens from the registry's
//!   `WWW-Authenticate` challenge (the token server is asked with the basic
//!   credentials when there are any). Credentials are never sent over
//!   plain HTTP unless plain HTTP was asked for, nor to a redirect target.
//! * Everything fetched is checked: manifests against the digest asked for
//!   (or the `Docker-Content-Digest` the registry names), blobs against
//!   their descriptor's digest and size; manifests are read up to
//!   [`super::MAX_MANIFEST_BYTES`].

mod auth;
mod store;

use std::sync::Mutex;
use std::time::Duration;

use base64::Engine as _;

use crate::digest::{DigestAlgorithm, shorten};
use crate::error::Error;

use super::OciDigest;
use super::error::OciError;
use super::layout::{Layout, MAX_ATTACHMENT_BYTES, MAX_MANIFEST_BYTES, check_blob};
use super::referrers::{
    Attachment, Referrer, ReferrerFilter, ReferrerManifest, ReferrerSource, referrer_manifest,
    referrers_index,
};
use super::spec::{
    Descriptor, EMPTY_JSON, ImageIndex, MEDIA_TYPE_DOCKER_MANIFEST,
    MEDIA_TYPE_DOCKER_MANIFEST_LIST, MEDIA_TYPE_IMAGE_INDEX, MEDIA_TYPE_IMAGE_MANIFEST, Manifest,
    MediaType,
};
use super::{ArtifactIdentity, ImageManifest};

pub use store::RegistryStore;

const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json";
/// Error bodies and tag lists are read up to this size.
const MAX_SMALL_BODY: u64 = 4 * 1024 * 1024;
/// How often the referrers tag schema index is re-read and rewritten when
/// a concurrent writer replaced it.
const TAG_SCHEMA_ATTEMPTS: usize = 8;

/// Credentials for a registry.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Credentials {
    /// HTTP basic (also sent to a bearer token server).
    Basic {
        /// User name.
        username: String,
        /// Password or access token.
        password: String,
    },
    /// A bearer token, sent as is.
    Bearer(String),
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Basic { username, .. } => write!(f, "Basic({username}, ***)"),
            Self::Bearer(_) => f.write_str("Bearer(***)"),
        }
    }
}

/// How to reach a registry.
#[derive(Debug, Clone, Default)]
pub struct RegistryOptions {
    /// Speak plain HTTP instead of HTTPS (loopback tests only).
    pub plain_http: bool,
    /// Credentials; anonymous when `None`.
    pub credentials: Option<Credentials>,
    /// PEM certificates to trust instead of the platform's roots.
    pub ca_pem: Option<Vec<u8>>,
    /// Per-request time limit (default 60 s).
    pub timeout: Option<Duration>,
}

impl RegistryOptions {
    /// HTTPS, anonymous, platform roots.
    pub fn new() -> Self {
        Self::default()
    }

    /// Plain HTTP (for a registry on loopback in tests).
    pub fn plain_http(mut self) -> Self {
        self.plain_http = true;
        self
    }

    /// Sets credentials.
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// Trusts these PEM certificates instead of the platform's roots.
    pub fn ca_pem(mut self, pem: Vec<u8>) -> Self {
        self.ca_pem = Some(pem);
        self
    }
}

/// How a registry lists referrers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferrersMode {
    /// `GET /v2/<name>/referrers/<digest>`.
    Api,
    /// The referrers tag schema: an index tagged `<alg>-<hex>`.
    TagSchema,
}

/// One repository in a registry.
pub struct Registry {
    agent: ureq::Agent,
    base: String,
    host: String,
    repository: String,
    options: RegistryOptions,
    authorization: Mutex<Option<String>>,
    mode: Mutex<Option<ReferrersMode>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("base", &self.base)
            .field("repository", &self.repository)
            .finish_non_exhaustive()
    }
}

/// A registry's answer.
struct Reply {
    status: u16,
    headers: ureq::http::HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

#[derive(Clone, Copy)]
enum Method {
    Get,
    Head,
    Put,
    Post,
    Delete,
}

impl Method {
    fn name(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Head => "HEAD",
            Self::Put => "PUT",
            Self::Post => "POST",
            Self::Delete => "DELETE",
        }
    }
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*`
fn is_repository(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 255
        && s.split('/').all(|component| {
            let bytes = component.as_bytes();
            let edges_ok = bytes
                .first()
                .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
                && bytes
                    .last()
                    .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
            let chars_ok = bytes
                .iter()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(b));
            edges_ok && chars_ok && !component.contains("..") && !component.contains("___")
        })
}

/// `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`
pub fn is_tag(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
        && s.len() <= 128
        && bytes.all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

fn is_host(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
}

/// Splits `HOST[:PORT]/REPOSITORY[:TAG|@DIGEST]` into its parts.
///
/// ```
/// use custodia::oci::registry::parse_reference;
/// let (host, repo, reference) = parse_reference("127.0.0.1:5000/team/app:v1")?;
/// assert_eq!((host.as_str(), repo.as_str(), reference.as_deref()), ("127.0.0.1:5000", "team/app", Some("v1")));
/// assert!(parse_reference("app:v1").is_err()); // no registry host
/// # Ok::<(), custodia::Error>(())
/// ```
pub fn parse_reference(s: &str) -> Result<(String, String, Option<String>), Error> {
    let bad = |reason: &str| {
        Error::Oci(OciError::Registry {
            registry: shorten(s),
            status: None,
            reason: reason.to_owned(),
        })
    };
    let s = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
        .unwrap_or(s);
    let (host, rest) = s
        .split_once('/')
        .ok_or_else(|| bad("expected HOST/REPOSITORY[:TAG|@DIGEST]"))?;
    if !is_host(host) {
        return Err(bad("invalid registry host"));
    }
    let (repository, reference) = if let Some((repo, digest)) = rest.split_once('@') {
        digest
            .parse::<OciDigest>()
            .map_err(|_| bad("invalid digest after @"))?;
        (repo, Some(digest.to_owned()))
    } else {
        match rest.rsplit_once(':') {
            Some((repo, tag)) if !tag.contains('/') => {
                if !is_tag(tag) {
                    return Err(bad("invalid tag"));
                }
                (repo, Some(tag.to_owned()))
            }
            _ => (rest, None),
        }
    };
    if !is_repository(repository) {
        return Err(bad(
            "invalid repository name (lowercase components of [a-z0-9._-] separated by /)",
        ));
    }
    Ok((host.to_owned(), repository.to_owned(), reference))
}

fn media_type_of(content_type: Option<&str>) -> Option<MediaType> {
    content_type
        .and_then(|c| c.split(';').next())
        .and_then(|c| c.trim().parse().ok())
}

impl Registry {
    /// A client for `repository` on `host` (`host[:port]`).
    pub fn new(host: &str, repository: &str, options: RegistryOptions) -> Result<Self, Error> {
        if !is_host(host) {
            return Err(OciError::Registry {
                registry: shorten(host),
                status: None,
                reason: "invalid registry host".to_owned(),
            }
            .into());
        }
        if !is_repository(repository) {
            return Err(OciError::Registry {
                registry: format!("{host}/{}", shorten(repository)),
                status: None,
                reason: "invalid repository name".to_owned(),
            }
            .into());
        }
        let roots = match &options.ca_pem {
            None => {
                // The operating system's trust store (on Linux the
                // OpenSSL-configured bundle), read once per client.
                let native = rustls_native_certs::load_native_certs();
                let certs: Vec<_> = native
                    .certs
                    .iter()
                    .map(|c| ureq::tls::Certificate::from_der(c.as_ref()).to_owned())
                    .collect();
                ureq::tls::RootCerts::Specific(std::sync::Arc::new(certs))
            }
            Some(pem) => {
                let mut certs = Vec::new();
                for item in ureq::tls::parse_pem(pem) {
                    if let Ok(ureq::tls::PemItem::Certificate(c)) = item {
                        certs.push(c);
                    }
                }
                if certs.is_empty() {
                    return Err(OciError::Registry {
                        registry: host.to_owned(),
                        status: None,
                        reason: "no certificate in the CA PEM".to_owned(),
                    }
                    .into());
                }
                ureq::tls::RootCerts::Specific(std::sync::Arc::new(certs))
            }
        };
        let tls = ureq::tls::TlsConfig::builder()
            .provider(ureq::tls::TlsProvider::Rustls)
            .root_certs(roots)
            .unversioned_rustls_crypto_provider(std::sync::Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .build();
        let agent = ureq::Agent::config_builder()
            .tls_config(tls)
            .http_status_as_error(false)
            .https_only(!options.plain_http)
            .max_redirects(5)
            .timeout_global(Some(options.timeout.unwrap_or(Duration::from_secs(60))))
            .user_agent(concat!("custodia/", env!("CARGO_PKG_VERSION")))
            .build()
            .new_agent();
        let scheme = if options.plain_http { "http" } else { "https" };
        let authorization = match &options.credentials {
            Some(Credentials::Bearer(token)) => Some(format!("Bearer {token}")),
            _ => None,
        };
        Ok(Self {
            agent,
            base: format!("{scheme}://{host}"),
            host: host.to_owned(),
            repository: repository.to_owned(),
            options,
            authorization: Mutex::new(authorization),
            mode: Mutex::new(None),
        })
    }

    /// A client for the repository in `HOST/REPOSITORY[:REF]`, and the
    /// reference if there was one.
    pub fn from_reference(
        reference: &str,
        options: RegistryOptions,
    ) -> Result<(Self, Option<String>), Error> {
        let (host, repository, reference) = parse_reference(reference)?;
        Ok((Self::new(&host, &repository, options)?, reference))
    }

    /// `host/repository`.
    pub fn name(&self) -> String {
        format!("{}/{}", self.host, self.repository)
    }

    fn fail(&self, status: Option<u16>, reason: impl Into<String>) -> Error {
        OciError::Registry {
            registry: self.name(),
            status,
            reason: reason.into(),
        }
        .into()
    }

    fn unexpected(&self, what: &str, reply: &Reply) -> Error {
        let detail = String::from_utf8_lossy(
            reply
                .body
                .get(..reply.body.len().min(300))
                .unwrap_or_default(),
        )
        .trim()
        .to_owned();
        self.fail(
            Some(reply.status),
            format!(
                "{what}: HTTP {}{}",
                reply.status,
                if detail.is_empty() {
                    String::new()
                } else {
                    format!(": {}", crate::digest::shorten(&detail))
                }
            ),
        )
    }

    fn url(&self, path: &str) -> String {
        format!("{}/v2/{}/{path}", self.base, self.repository)
    }

    /// One request, no authentication retry.
    fn raw(
        &self,
        method: Method,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
        limit: u64,
    ) -> Result<Reply, Error> {
        let authorization = self
            .authorization
            .lock()
            .map_err(|_| self.fail(None, "lock poisoned"))?
            .clone();
        macro_rules! with_headers {
            ($builder:expr) => {{
                let mut b = $builder;
                for (k, v) in headers {
                    b = b.header(*k, *v);
                }
                if let Some(a) = &authorization {
                    b = b.header("Authorization", a.as_str());
                }
                b
            }};
        }
        let result = match method {
            Method::Get => with_headers!(self.agent.get(url)).call(),
            Method::Head => with_headers!(self.agent.head(url)).call(),
            Method::Delete => with_headers!(self.agent.delete(url)).call(),
            Method::Put => with_headers!(self.agent.put(url)).send(body.unwrap_or_default()),
            Method::Post => with_headers!(self.agent.post(url)).send(body.unwrap_or_default()),
        };
        let mut response =
            result.map_err(|e| self.fail(None, format!("{} {url}: {e}", method.name())))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = if matches!(method, Method::Head) {
            Vec::new()
        } else {
            let limit = if (200..300).contains(&status) {
                limit
            } else {
                MAX_SMALL_BODY.min(64 * 1024)
            };
            match response.body_mut().with_config().limit(limit).read_to_vec() {
                Ok(b) => b,
                Err(ureq::Error::BodyExceedsLimit(_)) => {
                    return Err(OciError::TooLarge {
                        what: format!("{} {url}", method.name()),
                        limit,
                    }
                    .into());
                }
                Err(e) => {
                    return Err(self.fail(Some(status), format!("{} {url}: {e}", method.name())));
                }
            }
        };
        Ok(Reply {
            status,
            headers,
            body,
        })
    }

    /// One request; on 401 answers the challenge once and retries.
    fn send(
        &self,
        method: Method,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
        limit: u64,
    ) -> Result<Reply, Error> {
        let reply = self.raw(method, url, headers, body, limit)?;
        if reply.status != 401 {
            return Ok(reply);
        }
        let Some(challenge) = reply
            .header("www-authenticate")
            .and_then(auth::parse_challenge)
        else {
            return Err(self.unexpected("unauthorized, and no challenge", &reply));
        };
        if !self.authenticate(&challenge)? {
            return Err(self.unexpected(
                &format!(
                    "unauthorized ({} challenge; no usable credentials)",
                    challenge.scheme
                ),
                &reply,
            ));
        }
        let retried = self.raw(method, url, headers, body, limit)?;
        if retried.status == 401 {
            return Err(self.unexpected("credentials refused", &retried));
        }
        Ok(retried)
    }

    /// Answers a challenge; `false` when there is nothing to answer with.
    fn authenticate(&self, challenge: &auth::Challenge) -> Result<bool, Error> {
        let basic = match &self.options.credentials {
            Some(Credentials::Basic { username, password }) => Some(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"))
            )),
            _ => None,
        };
        let header = match challenge.scheme.as_str() {
            "basic" => match basic {
                Some(b) => b,
                None => return Ok(false),
            },
            "bearer" => {
                if let Some(Credentials::Bearer(_)) = &self.options.credentials {
                    // A given token that was refused: nothing else to try.
                    return Ok(false);
                }
                let realm = challenge
                    .params
                    .get("realm")
                    .ok_or_else(|| self.fail(Some(401), "bearer challenge without a realm"))?;
                let realm_ok = realm.starts_with("https://")
                    || (self.options.plain_http && realm.starts_with("http://"));
                if !realm_ok {
                    return Err(self.fail(
                        Some(401),
                        format!("token realm `{}` is not HTTPS", shorten(realm)),
                    ));
                }
                let mut url = realm.clone();
                let mut separator = if url.contains('?') { '&' } else { '?' };
                for key in ["service", "scope"] {
                    let default_scope = format!("repository:{}:pull,push", self.repository);
                    let value = match (key, challenge.params.get(key)) {
                        (_, Some(v)) => v.clone(),
                        ("scope", None) => default_scope,
                        _ => continue,
                    };
                    url.push(separator);
                    url.push_str(key);
                    url.push('=');
                    url.push_str(&auth::query_escape(&value));
                    separator = '&';
                }
                let mut request = self.agent.get(&url);
                if let Some(b) = &basic {
                    request = request.header("Authorization", b.as_str());
                }
                let mut response = request
                    .call()
                    .map_err(|e| self.fail(None, format!("token request: {e}")))?;
                let status = response.status().as_u16();
                let body = response
                    .body_mut()
                    .with_config()
                    .limit(MAX_SMALL_BODY)
                    .read_to_vec()
                    .map_err(|e| self.fail(Some(status), format!("token response: {e}")))?;
                if status != 200 {
                    return Err(
                        self.fail(Some(status), format!("token server answered HTTP {status}"))
                    );
                }
                let value: serde_json::Value = crate::json::from_slice(&body, "registry token")?;
                let token = value
                    .get("token")
                    .or_else(|| value.get("access_token"))
                    .and_then(serde_json::Value::as_str)
                    .ok_or_else(|| self.fail(Some(status), "token response has no token"))?;
                format!("Bearer {token}")
            }
            _ => return Ok(false),
        };
        *self
            .authorization
            .lock()
            .map_err(|_| self.fail(None, "lock poisoned"))? = Some(header);
        Ok(true)
    }

    /// `GET /v2/`: reachable, and the credentials (if any) work.
    pub fn ping(&self) -> Result<(), Error> {
        let url = format!("{}/v2/", self.base);
        let reply = self.send(Method::Get, &url, &[], None, MAX_SMALL_BODY)?;
        if reply.status == 200 {
            Ok(())
        } else {
            Err(self.unexpected("GET /v2/", &reply))
        }
    }

    /// Fetches a manifest or index by tag or digest. The bytes are checked
    /// against the digest asked for, else against `Docker-Content-Digest`.
    pub fn manifest(&self, reference: &str) -> Result<Option<(Descriptor, Vec<u8>)>, Error> {
        let by_digest = reference.parse::<OciDigest>().ok();
        if by_digest.is_none() && !is_tag(reference) {
            return Err(self.fail(None, format!("invalid tag `{}`", shorten(reference))));
        }
        let url = self.url(&format!("manifests/{reference}"));
        let reply = self.send(
            Method::Get,
            &url,
            &[("Accept", MANIFEST_ACCEPT)],
            None,
            MAX_MANIFEST_BYTES,
        )?;
        match reply.status {
            200 => {}
            404 => return Ok(None),
            _ => return Err(self.unexpected(&format!("GET manifest {reference}"), &reply)),
        }
        let media_type = media_type_of(reply.header("content-type"))
            .or_else(|| {
                serde_json::from_slice::<serde_json::Value>(&reply.body)
                    .ok()
                    .and_then(|v| {
                        v.get("mediaType")
                            .and_then(|m| m.as_str())
                            .and_then(|m| m.parse().ok())
                    })
            })
            .ok_or_else(|| self.fail(Some(200), "manifest without a media type"))?;
        let expected = match by_digest {
            Some(d) => Some(d),
            None => reply
                .header("docker-content-digest")
                .and_then(|d| d.parse::<OciDigest>().ok()),
        };
        let mut descriptor = Descriptor::of_bytes(media_type.as_str(), &reply.body)?;
        if let Some(expected) = expected {
            let candidate = Descriptor {
                digest: expected.clone(),
                ..descriptor.clone()
            };
            check_blob(&candidate, &reply.body)
                .map_err(|e| self.fail(Some(200), format!("manifest {reference}: {e}")))?;
            descriptor.digest = expected;
        }
        Manifest::from_json(&descriptor.media_type, &reply.body)?;
        Ok(Some((descriptor, reply.body)))
    }

    /// The descriptor of a manifest (`HEAD`), if it exists.
    pub fn manifest_descriptor(&self, reference: &str) -> Result<Option<Descriptor>, Error> {
        Ok(self.manifest(reference)?.map(|(d, _)| d))
    }

    /// Stores a manifest under `reference` (a tag, or its own digest).
    /// Returns its descriptor and whether the registry answered with
    /// `OCI-Subject` (it keeps the referrers API up to date itself).
    pub fn put_manifest(
        &self,
        reference: &str,
        media_type: &str,
        bytes: &[u8],
    ) -> Result<(Descriptor, bool), Error> {
        let descriptor = Descriptor::of_bytes(media_type, bytes)?;
        if reference.parse::<OciDigest>().is_err() && !is_tag(reference) {
            return Err(self.fail(None, format!("invalid tag `{}`", shorten(reference))));
        }
        let url = self.url(&format!("manifests/{reference}"));
        let reply = self.send(
            Method::Put,
            &url,
            &[("Content-Type", media_type)],
            Some(bytes),
            MAX_SMALL_BODY,
        )?;
        if reply.status != 201 && reply.status != 200 {
            return Err(self.unexpected(&format!("PUT manifest {reference}"), &reply));
        }
        if let Some(d) = reply.header("docker-content-digest") {
            if d != descriptor.digest.as_str() && d.starts_with("sha256:") {
                return Err(self.fail(
                    Some(reply.status),
                    format!("stored manifest as {d}, expected {}", descriptor.digest),
                ));
            }
        }
        let subject = reply.header("oci-subject").is_some();
        Ok((descriptor, subject))
    }

    /// Deletes a manifest by digest (the registry must allow deletes).
    pub fn delete_manifest(&self, digest: &OciDigest) -> Result<(), Error> {
        let url = self.url(&format!("manifests/{digest}"));
        let reply = self.send(Method::Delete, &url, &[], None, MAX_SMALL_BODY)?;
        match reply.status {
            200 | 202 | 404 => Ok(()),
            _ => Err(self.unexpected(&format!("DELETE manifest {digest}"), &reply)),
        }
    }

    /// Whether the repository has the blob.
    pub fn blob_exists(&self, digest: &OciDigest) -> Result<bool, Error> {
        let url = self.url(&format!("blobs/{digest}"));
        let reply = self.send(Method::Head, &url, &[], None, 0)?;
        match reply.status {
            200 => Ok(true),
            404 => Ok(false),
            _ => Err(self.unexpected(&format!("HEAD blob {digest}"), &reply)),
        }
    }

    /// Uploads a blob (monolithic: `POST` then `PUT ?digest=`), unless
    /// the repository has it. Returns its SHA-256 digest.
    pub fn push_blob(&self, bytes: &[u8]) -> Result<OciDigest, Error> {
        let digest = OciDigest::from(DigestAlgorithm::Sha256.hash(bytes));
        if self.blob_exists(&digest)? {
            return Ok(digest);
        }
        let url = self.url("blobs/uploads/");
        let reply = self.send(Method::Post, &url, &[], Some(&[]), MAX_SMALL_BODY)?;
        if reply.status != 202 {
            return Err(self.unexpected("POST blob upload", &reply));
        }
        let location = reply
            .header("location")
            .ok_or_else(|| self.fail(Some(202), "upload without a Location"))?;
        let mut target = if location.starts_with('/') {
            format!("{}{location}", self.base)
        } else if location.starts_with("https://")
            || (self.options.plain_http && location.starts_with("http://"))
        {
            location.to_owned()
        } else {
            return Err(self.fail(
                Some(202),
                format!("unusable upload location `{}`", shorten(location)),
            ));
        };
        target.push(if target.contains('?') { '&' } else { '?' });
        target.push_str("digest=");
        target.push_str(&auth::query_escape(digest.as_str()));
        let reply = self.send(
            Method::Put,
            &target,
            &[("Content-Type", "application/octet-stream")],
            Some(bytes),
            MAX_SMALL_BODY,
        )?;
        if reply.status != 201 {
            return Err(self.unexpected(&format!("PUT blob {digest}"), &reply));
        }
        Ok(digest)
    }

    /// Fetches a blob, checked against its descriptor, if it is at most
    /// `limit` bytes.
    pub fn fetch_blob(&self, descriptor: &Descriptor, limit: u64) -> Result<Vec<u8>, Error> {
        if descriptor.size > limit {
            return Err(OciError::TooLarge {
                what: format!("blob {}", descriptor.digest),
                limit,
            }
            .into());
        }
        let url = self.url(&format!("blobs/{}", descriptor.digest));
        let reply = self.send(
            Method::Get,
            &url,
            &[],
            None,
            descriptor.size.saturating_add(1),
        )?;
        match reply.status {
            200 => {}
            404 => {
                return Err(OciError::Missing {
                    digest: descriptor.digest.to_string(),
                }
                .into());
            }
            _ => return Err(self.unexpected(&format!("GET blob {}", descriptor.digest), &reply)),
        }
        check_blob(descriptor, &reply.body)?;
        Ok(reply.body)
    }

    /// Every tag of the repository (following `Link` pagination).
    pub fn tags(&self) -> Result<Vec<String>, Error> {
        let mut out = Vec::new();
        let mut url = self.url("tags/list?n=1000");
        for _ in 0..10_000 {
            let reply = self.send(Method::Get, &url, &[], None, MAX_SMALL_BODY)?;
            match reply.status {
                200 => {}
                404 => return Ok(out),
                _ => return Err(self.unexpected("GET tags/list", &reply)),
            }
            #[derive(serde::Deserialize)]
            struct Tags {
                #[serde(default)]
                tags: Option<Vec<String>>,
            }
            let tags: Tags = crate::json::from_slice(&reply.body, "registry tag list")?;
            out.extend(tags.tags.unwrap_or_default());
            // Link: </v2/<name>/tags/list?n=1000&last=x>; rel="next"
            let next = reply.header("link").and_then(|l| {
                let start = l.find('<')? + 1;
                let end = l.find('>')?;
                l.get(start..end).map(str::to_owned)
            });
            match next {
                Some(path) if path.starts_with('/') => url = format!("{}{path}", self.base),
                _ => return Ok(out),
            }
        }
        Err(self.fail(None, "tag list pagination does not end"))
    }

    /// cosign v2's `.sig` / `.att` manifest for `subject`: the manifest
    /// tagged `sha256-<hex>.sig` / `.att` in this repository, if any.
    pub fn legacy_manifest(
        &self,
        subject: &OciDigest,
        kind: super::LegacyKind,
    ) -> Result<Option<super::LegacyManifest>, Error> {
        let tag = kind.tag(subject);
        let Some((descriptor, bytes)) = self.manifest(&tag)? else {
            return Ok(None);
        };
        let Manifest::Image(manifest) = Manifest::from_json(&descriptor.media_type, &bytes)? else {
            return Err(self.fail(None, format!("{tag} is an index, not a cosign manifest")));
        };
        Ok(Some(super::LegacyManifest {
            kind,
            tag,
            descriptor,
            manifest,
        }))
    }

    /// The identity of the image `reference` (tag or digest) names: its
    /// manifest (or index) digest, and for an index the manifests it
    /// lists, each fetched and checked. Never fetches a layer.
    pub fn identity(&self, reference: &str) -> Result<ArtifactIdentity, Error> {
        let (descriptor, bytes) = self
            .manifest(reference)?
            .ok_or_else(|| OciError::NotFound(format!("{}:{reference}", self.name())))?;
        let mut manifests = Vec::new();
        let mut checks = crate::report::Report::new();
        match Manifest::from_json(&descriptor.media_type, &bytes)? {
            Manifest::Index(index) => {
                for child in index.manifests {
                    if child.is_manifest() || child.is_index() {
                        let (read, child_bytes) = self
                            .manifest(child.digest.as_str())?
                            .ok_or_else(|| OciError::Missing {
                                digest: child.digest.to_string(),
                            })?;
                        let parsed = Manifest::from_json(&read.media_type, &child_bytes)?;
                        super::layout::identity_check(&mut checks, Some(&child), &parsed);
                    }
                    manifests.push(child);
                }
            }
            image => super::layout::identity_check(&mut checks, None, &image),
        }
        Ok(ArtifactIdentity {
            descriptor,
            manifests,
            checks,
        })
    }

    /// Copies an image (manifest or index, with every blob it reaches)
    /// from a layout, and tags it. Blobs the repository has are skipped.
    pub fn push_from_layout(
        &self,
        layout: &Layout,
        descriptor: &Descriptor,
        tag: &str,
    ) -> Result<Descriptor, Error> {
        self.push_tree(layout, descriptor)?;
        let bytes = layout.read_blob(descriptor, MAX_MANIFEST_BYTES)?;
        let (pushed, _) = self.put_manifest(tag, descriptor.media_type.as_str(), &bytes)?;
        Ok(pushed)
    }

    fn push_tree(&self, layout: &Layout, descriptor: &Descriptor) -> Result<(), Error> {
        match layout.read_manifest(descriptor)? {
            Manifest::Image(m) => {
                for blob in std::iter::once(&m.config).chain(&m.layers) {
                    if !self.blob_exists(&blob.digest)? {
                        let bytes = layout.read_blob(blob, u64::MAX)?;
                        self.push_blob(&bytes)?;
                    }
                }
            }
            Manifest::Index(i) => {
                for child in &i.manifests {
                    self.push_tree(layout, child)?;
                    let bytes = layout.read_blob(child, MAX_MANIFEST_BYTES)?;
                    self.put_manifest(child.digest.as_str(), child.media_type.as_str(), &bytes)?;
                }
            }
        }
        Ok(())
    }

    /// How this registry lists referrers (probed once, then remembered).
    pub fn referrers_mode(&self, subject: &OciDigest) -> Result<ReferrersMode, Error> {
        if let Some(mode) = *self
            .mode
            .lock()
            .map_err(|_| self.fail(None, "lock poisoned"))?
        {
            return Ok(mode);
        }
        self.referrers_index(subject, None).map(|(_, mode)| mode)
    }

    fn set_mode(&self, mode: ReferrersMode) {
        if let Ok(mut m) = self.mode.lock() {
            *m = Some(mode);
        }
    }

    /// The tag of the referrers tag schema for `subject`: `<alg>-<hex>`.
    pub fn referrers_tag(subject: &OciDigest) -> String {
        let tag = format!("{}-{}", subject.algorithm(), subject.encoded());
        tag.get(..128).unwrap_or(&tag).to_owned()
    }

    /// The referrers index of `subject`: from the referrers API, else from
    /// the referrers tag schema (an empty index when neither has one).
    pub fn referrers_index(
        &self,
        subject: &OciDigest,
        artifact_type: Option<&str>,
    ) -> Result<(ImageIndex, ReferrersMode), Error> {
        let known = *self
            .mode
            .lock()
            .map_err(|_| self.fail(None, "lock poisoned"))?;
        if known != Some(ReferrersMode::TagSchema) {
            let mut url = self.url(&format!("referrers/{subject}"));
            if let Some(t) = artifact_type {
                url.push_str("?artifactType=");
                url.push_str(&auth::query_escape(t));
            }
            let reply = self.send(
                Method::Get,
                &url,
                &[("Accept", MEDIA_TYPE_IMAGE_INDEX)],
                None,
                MAX_MANIFEST_BYTES,
            )?;
            match reply.status {
                200 => {
                    self.set_mode(ReferrersMode::Api);
                    let index = ImageIndex::parse(&reply.body, "referrers index")?;
                    return Ok((index, ReferrersMode::Api));
                }
                404 | 405 => self.set_mode(ReferrersMode::TagSchema),
                _ => return Err(self.unexpected("GET referrers", &reply)),
            }
        }
        let tag = Self::referrers_tag(subject);
        let index = match self.manifest(&tag)? {
            Some((d, bytes)) if d.is_index() => {
                ImageIndex::parse(&bytes, "referrers tag schema index")?
            }
            Some((d, _)) => {
                return Err(self.fail(
                    None,
                    format!("referrers tag {tag} is a {}, not an index", d.media_type),
                ));
            }
            None => ImageIndex::new(),
        };
        Ok((index, ReferrersMode::TagSchema))
    }

    /// Attaches `attachment` to `subject`: pushes the empty config, the
    /// blob and the referrer manifest; where the registry has no referrers
    /// API, adds the manifest to the referrers tag schema index (re-reading
    /// and retrying if another writer replaced the index meanwhile).
    pub fn attach(
        &self,
        subject: &Descriptor,
        attachment: &Attachment,
    ) -> Result<ReferrerManifest, Error> {
        let referrer = referrer_manifest(subject, attachment)?;
        self.push_blob(EMPTY_JSON)?;
        self.push_blob(attachment.bytes())?;
        let (_, api) = self.put_manifest(
            referrer.descriptor.digest.as_str(),
            MEDIA_TYPE_IMAGE_MANIFEST,
            &referrer.bytes,
        )?;
        if api {
            self.set_mode(ReferrersMode::Api);
            return Ok(referrer);
        }
        if self.referrers_mode(&subject.digest)? == ReferrersMode::Api {
            return Ok(referrer);
        }
        self.add_to_tag_schema(&subject.digest, &referrer.descriptor)?;
        Ok(referrer)
    }

    fn add_to_tag_schema(&self, subject: &OciDigest, entry: &Descriptor) -> Result<(), Error> {
        let tag = Self::referrers_tag(subject);
        for _ in 0..TAG_SCHEMA_ATTEMPTS {
            let (index, _) = self.referrers_index(subject, None)?;
            if index.manifests.iter().any(|d| d.digest == entry.digest) {
                return Ok(());
            }
            let mut entries = index.manifests;
            entries.push(entry.clone());
            let updated = referrers_index(&entries);
            self.put_manifest(&tag, MEDIA_TYPE_IMAGE_INDEX, &updated.to_json()?)?;
        }
        Err(self.fail(
            None,
            format!("referrers tag {tag} keeps changing under concurrent writers"),
        ))
    }

    /// The referrers of `subject` that pass `filter`: each listed manifest
    /// is fetched by digest, checked, and must name `subject`.
    pub fn referrers(
        &self,
        subject: &OciDigest,
        filter: &ReferrerFilter,
    ) -> Result<Vec<Referrer>, Error> {
        let (index, _) = self.referrers_index(subject, filter.artifact_type.as_deref())?;
        let mut out = Vec::new();
        for d in index.manifests {
            if !d.is_manifest() || !filter.matches_descriptor(&d) {
                continue;
            }
            let Some((fetched, bytes)) = self.manifest(d.digest.as_str())? else {
                continue; // listed but deleted since
            };
            if fetched.digest != d.digest {
                continue;
            }
            let manifest = ImageManifest::from_json(&bytes)?;
            out.extend(Referrer::of(d, manifest, subject, filter));
        }
        Ok(out)
    }

    /// A referrer's attached blob, checked.
    pub fn fetch_attachment(&self, referrer: &Referrer) -> Result<Vec<u8>, Error> {
        let blob = referrer
            .blob()
            .ok_or_else(|| super::error::invalid("OCI referrer", "layers", "no layer"))?;
        self.fetch_blob(blob, MAX_ATTACHMENT_BYTES)
    }
}

impl ReferrerSource for Registry {
    fn referrers(
        &self,
        subject: &OciDigest,
        filter: &ReferrerFilter,
    ) -> Result<Vec<Referrer>, Error> {
        Registry::referrers(self, subject, filter)
    }

    fn fetch_attachment(&self, referrer: &Referrer) -> Result<Vec<u8>, Error> {
        Registry::fetch_attachment(self, referrer)
    }

    fn legacy_manifest(
        &self,
        subject: &OciDigest,
        kind: super::LegacyKind,
    ) -> Result<Option<super::LegacyManifest>, Error> {
        Registry::legacy_manifest(self, subject, kind)
    }

    fn fetch_layer(&self, layer: &Descriptor) -> Result<Vec<u8>, Error> {
        self.fetch_blob(layer, MAX_ATTACHMENT_BYTES)
    }
}

/// Media types a registry may answer for an image reference.
pub const MANIFEST_MEDIA_TYPES: [&str; 4] = [
    MEDIA_TYPE_IMAGE_MANIFEST,
    MEDIA_TYPE_IMAGE_INDEX,
    MEDIA_TYPE_DOCKER_MANIFEST,
    MEDIA_TYPE_DOCKER_MANIFEST_LIST,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_and_names() {
        let (h, r, t) = parse_reference("localhost:5000/a/b@sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a").unwrap();
        assert_eq!((h.as_str(), r.as_str()), ("localhost:5000", "a/b"));
        assert!(t.unwrap().starts_with("sha256:"));
        let (_, r, t) = parse_reference("http://127.0.0.1:5000/app").unwrap();
        assert_eq!((r.as_str(), t), ("app", None));
        for bad in [
            "host/UPPER",
            "host/a//b",
            "host/-a",
            "host/a:b/c:",
            "host/a:..",
            "ho st/a",
        ] {
            assert!(parse_reference(bad).is_err(), "{bad}");
        }
        assert!(is_tag("v1.0_rc-1"));
        assert!(!is_tag(".hidden"));
        assert!(!is_tag(&"a".repeat(129)));
    }

    #[test]
    fn https_is_the_default() {
        let r = Registry::new("registry.example", "app", RegistryOptions::new()).unwrap();
        assert!(r.base.starts_with("https://"));
        let r =
            Registry::new("127.0.0.1:5000", "app", RegistryOptions::new().plain_http()).unwrap();
        assert!(r.base.starts_with("http://"));
    }
}
