use std::fmt;

/// A secret string (token, password-bearing URL) that never prints itself in full.
///
/// `Debug` and `Display` show a masked form, so a secret cannot leak through a
/// log line or a panic message by accident; [`Secret::expose`] is the one
/// explicit way to read it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The real value, for the one place that must send it (an HTTP client, a connection).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// A form safe to print: URLs keep everything but their password; other
    /// secrets keep their first characters only (`1234…`).
    pub fn masked(&self) -> String {
        if self.0.contains("://") {
            return mask_url_password(&self.0);
        }
        let visible: String = self.0.chars().take(4).collect();
        format!("{visible}***")
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({})", self.masked())
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

/// Replaces the password of a URL with `***`: `redis://:pw@redis:6379/0` →
/// `redis://:***@redis:6379/0`. Works on strings that do not parse as URLs too,
/// because a malformed URL still must not leak its password into an error message.
pub fn mask_url_password(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let Some(at) = authority.rfind('@') else {
        return url.to_string();
    };
    let userinfo = &authority[..at];
    let masked_userinfo = match userinfo.split_once(':') {
        Some((user, _password)) => format!("{user}:***"),
        // `redis://password@host` is how some clients spell a password-only URL.
        None => "***".to_string(),
    };
    format!(
        "{}{}@{}",
        &url[..scheme_end + 3],
        masked_userinfo,
        &rest[at + 1..]
    )
}
