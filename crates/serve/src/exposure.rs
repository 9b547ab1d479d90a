//! Who may reach a server — this crate's, which answers requests to models, or any
//! other (the trainer's device server takes the same rules): loopback unless an
//! address is given, and beyond it only with a token (or an opt-out that says what it
//! gives away).

use std::net::IpAddr;

/// A server that must not start as asked; the messages name the command line's flags
/// (`--bind`, `--token`, `--insecure-no-token`), the fields of [`Exposure`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExposureError {
    /// An empty token, or one of spaces only.
    #[error("--token: the token is empty or only spaces")]
    EmptyToken,
    /// A token that no `Authorization` header could carry as it is.
    #[error(
        "--token: the token starts or ends with spaces, or holds control characters, \
         which an Authorization header cannot carry"
    )]
    UnsendableToken,
    /// An address beyond loopback without a token and without the opt-out.
    #[error(
        "--bind {bind}: listening beyond this machine without a token would let anyone who \
         reaches the port {risk}; pass --token (or set {token_env}), which every client must \
         then present, or --insecure-no-token to serve without one"
    )]
    Open {
        /// The address.
        bind: IpAddr,
        /// What strangers could then do.
        risk: String,
        /// The environment variable that can hold the token.
        token_env: String,
    },
}

/// The address a server listens on and what a client must present.
#[derive(Clone, Debug)]
pub struct Exposure {
    /// The address to listen on; loopback keeps every other machine out.
    pub bind: IpAddr,
    /// The token every client must present.
    pub token: Option<String>,
    /// Listen beyond this machine without a token (the flag that says so loudly).
    pub insecure_no_token: bool,
}

impl Exposure {
    /// This machine only (loopback), no token.
    pub fn local() -> Self {
        Self {
            bind: std::net::Ipv4Addr::LOCALHOST.into(),
            token: None,
            insecure_no_token: false,
        }
    }

    /// Refuses a server that any machine able to reach the port could use (to do
    /// `risk`): an address other than loopback needs a token (`--token`, or the
    /// environment variable `token_env`), unless the opt-out says otherwise. A token
    /// that is empty, has spaces at either end or is made of spaces (no client could
    /// send it in a header as it is) is refused too.
    pub fn check(&self, risk: &str, token_env: &str) -> Result<(), ExposureError> {
        if let Some(token) = self.token.as_deref() {
            if token.trim().is_empty() {
                return Err(ExposureError::EmptyToken);
            }
            if token.trim() != token || token.chars().any(char::is_control) {
                return Err(ExposureError::UnsendableToken);
            }
        }
        if !self.bind.is_loopback() && self.token.is_none() && !self.insecure_no_token {
            return Err(ExposureError::Open {
                bind: self.bind,
                risk: risk.to_string(),
                token_env: token_env.to_string(),
            });
        }
        Ok(())
    }

    /// Whether `presented` (an `Authorization` header's value) carries the token, when
    /// one is required. The comparison takes the same time wherever the two differ.
    pub fn admits(&self, presented: Option<&[u8]>) -> bool {
        let Some(token) = &self.token else {
            return true;
        };
        let Some(presented) = presented.and_then(|p| p.strip_prefix(b"Bearer ")) else {
            return false;
        };
        let expected = token.as_bytes();
        // Every byte is compared whatever the lengths, the difference accumulated.
        let mut diff = u8::from(presented.len() != expected.len());
        for i in 0..presented.len().max(expected.len()) {
            let a = presented.get(i).copied().unwrap_or(0);
            let b = expected.get(i).copied().unwrap_or(0xff);
            diff |= a ^ b;
        }
        diff == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exposure(bind: &str, token: Option<&str>, insecure: bool) -> Exposure {
        Exposure {
            bind: bind.parse().expect("an address"),
            token: token.map(String::from),
            insecure_no_token: insecure,
        }
    }

    #[test]
    fn only_loopback_serves_without_a_token() {
        let check = |e: Exposure| e.check("run work on its devices", "AE_REMOTE_TOKEN");
        for loopback in ["127.0.0.1", "::1"] {
            assert!(check(exposure(loopback, None, false)).is_ok(), "{loopback}");
        }
        for open in ["0.0.0.0", "::", "192.168.1.5"] {
            let msg = check(exposure(open, None, false))
                .expect_err("no token")
                .to_string();
            assert!(
                msg.starts_with(&format!("--bind {open}:"))
                    && msg.contains("run work on its devices")
                    && msg.contains("--token (or set AE_REMOTE_TOKEN)")
                    && msg.contains("--insecure-no-token"),
                "{msg}"
            );
            assert!(!msg.contains("  "), "a run of spaces: {msg:?}");
            assert!(check(exposure(open, Some("secret"), false)).is_ok());
            assert!(check(exposure(open, None, true)).is_ok());
        }
        for blank in ["", " ", "\t \n"] {
            let empty = check(exposure("127.0.0.1", Some(blank), false));
            assert!(
                empty.is_err_and(|e| e.to_string().contains("empty or only spaces")),
                "{blank:?}"
            );
        }
        let padded = check(exposure("127.0.0.1", Some(" s3cret"), false));
        assert!(padded.is_err_and(|e| e.to_string().contains("starts or ends with spaces")));
    }

    #[test]
    fn only_the_bearer_of_the_token_is_admitted() {
        let open = exposure("127.0.0.1", None, false);
        assert!(open.admits(None));
        let guarded = exposure("0.0.0.0", Some("s3cret"), false);
        assert!(guarded.admits(Some(b"Bearer s3cret")));
        for wrong in [
            None,
            Some(&b"s3cret"[..]),
            Some(b"Bearer s3cre"),
            Some(b"Bearer s3cret!"),
            Some(b"Bearer S3cret"),
            Some(b"Bearer "),
            Some(b"Basic s3cret"),
        ] {
            assert!(!guarded.admits(wrong), "{wrong:?}");
        }
    }
}
