//! UTC timestamps in the RFC 3339 form attestations use.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, SecondsFormat, Utc};

use crate::error::{Error, PredicateError};

/// 0000-01-01T00:00:00Z.
const MIN_UNIX: i64 = -62_167_219_200;
/// 9999-12-31T23:59:59Z.
const MAX_UNIX: i64 = 253_402_300_799;

/// A UTC instant, written as RFC 3339 with a `Z` suffix and only as many
/// fractional digits as it has (`2024-05-01T12:00:00Z`).
///
/// ```
/// use custodia::time::Timestamp;
/// let t: Timestamp = "2023-08-08T18:40:21.016140505Z".parse()?;
/// assert_eq!(t.to_string(), "2023-08-08T18:40:21.016140505Z");
/// assert_eq!(Timestamp::from_unix(0).to_string(), "1970-01-01T00:00:00Z");
/// assert!("yesterday".parse::<Timestamp>().is_err());
/// // RFC 3339 has four-digit years: later instants are refused or clamped.
/// assert!("9999-12-31T23:59:59-01:00".parse::<Timestamp>().is_err());
/// assert_eq!(Timestamp::from_unix(i64::MAX).to_string(), "9999-12-31T23:59:59Z");
/// # Ok::<(), custodia::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(DateTime<Utc>);

impl Timestamp {
    /// The current time.
    pub fn now() -> Self {
        Self(Utc::now())
    }

    /// Seconds since the Unix epoch, clamped to the years RFC 3339 can
    /// write (0000 to 9999).
    pub fn from_unix(seconds: i64) -> Self {
        let clamped = seconds.clamp(MIN_UNIX, MAX_UNIX);
        Self(DateTime::from_timestamp(clamped, 0).unwrap_or_default())
    }

    /// Seconds since the Unix epoch.
    pub fn unix(&self) -> i64 {
        self.0.timestamp()
    }

    /// The time given by `SOURCE_DATE_EPOCH` (reproducible builds), if set
    /// and valid; `Err` when set but not a non-negative integer.
    pub fn source_date_epoch() -> Result<Option<Self>, Error> {
        match std::env::var("SOURCE_DATE_EPOCH") {
            Ok(v) => v
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|s| *s >= 0)
                .map(|s| Some(Self::from_unix(s)))
                .ok_or_else(|| {
                    PredicateError::Invalid {
                        path: "SOURCE_DATE_EPOCH".to_owned(),
                        reason: format!("`{}` is not a Unix time", crate::digest::shorten(&v)),
                    }
                    .into()
                }),
            Err(_) => Ok(None),
        }
    }

    /// Seconds from `self` to `later` (negative if `later` is earlier).
    pub fn seconds_until(&self, later: &Timestamp) -> i64 {
        (later.0 - self.0).num_seconds()
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.to_rfc3339_opts(SecondsFormat::AutoSi, true))
    }
}

impl FromStr for Timestamp {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        let invalid = |reason: String| -> Error {
            PredicateError::Invalid {
                path: "timestamp".to_owned(),
                reason: format!("`{}` {reason}", crate::digest::shorten(s)),
            }
            .into()
        };
        // RFC 3339 allows a space between date and time; JSON Schema's
        // date-time (and so SBOM and attestation formats) does not.
        if !matches!(s.as_bytes().get(10), Some(b'T' | b't')) {
            return Err(invalid(
                "is not RFC 3339 date-time (`YYYY-MM-DDThh:mm:ssZ`)".to_owned(),
            ));
        }
        let t = DateTime::parse_from_rfc3339(s)
            .map_err(|e| invalid(format!("is not RFC 3339: {e}")))?
            .with_timezone(&Utc);
        // Only instants whose UTC form has a four-digit year can be written
        // back as RFC 3339, so only those are accepted.
        if !(MIN_UNIX..=MAX_UNIX).contains(&t.timestamp()) {
            return Err(invalid("is outside the years 0000-9999 in UTC".to_owned()));
        }
        Ok(Self(t))
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = crate::json::Text::deserialize(d)?.0;
        s.parse().map_err(serde::de::Error::custom)
    }
}
