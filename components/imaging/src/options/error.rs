//! Why an options string was rejected. Each variant names the option.

/// A rejected option: unknown name, unparsable value, or a value outside its range.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OptionError {
    #[error("unknown option `{option}`")]
    Unknown { option: String },
    #[error("bad value `{value}` for option `{option}`")]
    BadValue { option: String, value: String },
    #[error("value `{value}` for option `{option}` is out of range")]
    OutOfRange { option: String, value: String },
}

impl OptionError {
    /// A stable machine-readable code for JSON error bodies.
    pub fn code(&self) -> &'static str {
        match self {
            OptionError::Unknown { .. } => "unknown_option",
            OptionError::BadValue { .. } => "bad_option_value",
            OptionError::OutOfRange { .. } => "option_out_of_range",
        }
    }

    /// The option the error is about (its name as written in the request).
    pub fn option(&self) -> &str {
        match self {
            OptionError::Unknown { option }
            | OptionError::BadValue { option, .. }
            | OptionError::OutOfRange { option, .. } => option,
        }
    }
}
