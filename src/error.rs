//! One error enum for the library; every variant names what went wrong with
//! structured fields so the CLI can print a one-line, actionable message.
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A file exists but its contents are not what the format requires.
    #[error("{path}: {what}")]
    Format { path: PathBuf, what: String },
    #[error("shape mismatch for {what}: expected {expected}, got {got}")]
    Shape {
        what: String,
        expected: String,
        got: String,
    },
    #[error("{path}: missing key(s): {keys}")]
    MissingKey { path: PathBuf, keys: String },
    #[error("non-finite value (NaN or Inf) in {what}")]
    NonFinite { what: String },
    /// A user-supplied argument or parameter is out of its legal range.
    #[error("invalid {field}: {reason}")]
    InvalidArg { field: String, reason: String },
    #[error("{path}: image is {width}x{height}, needs at least {need}")]
    ImageTooSmall {
        path: PathBuf,
        width: usize,
        height: usize,
        need: String,
    },
    /// A hardware/array configuration field is inconsistent or impossible.
    #[error("config field `{field}`: {reason}")]
    Config { field: String, reason: String },
    /// The input would exceed a documented resource limit (src/limits.rs).
    #[error("{what}: {value} exceeds the limit of {limit} (README \"Limits\"): split the work or make it smaller")]
    Limit { what: String, value: String, limit: String },
    /// A combined or reused artefact was made from other inputs.
    #[error("{artefact} does not match {against}: {mismatches}")]
    Provenance {
        artefact: String,
        against: String,
        mismatches: String,
    },
    #[error("unknown {kind} `{name}` (known: {known})")]
    Unknown {
        kind: String,
        name: String,
        known: String,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
    pub fn format(path: impl Into<PathBuf>, what: impl Into<String>) -> Self {
        Error::Format {
            path: path.into(),
            what: what.into(),
        }
    }
    pub fn arg(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidArg {
            field: field.into(),
            reason: reason.into(),
        }
    }
    pub fn config(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Config {
            field: field.into(),
            reason: reason.into(),
        }
    }
    pub fn shape(what: impl Into<String>, expected: impl ToString, got: impl ToString) -> Self {
        Error::Shape {
            what: what.into(),
            expected: expected.to_string(),
            got: got.to_string(),
        }
    }
}
