//! Signing in with Google: by ID token (`POST /auth/google/id-token`), and by the browser's
//! authorization-code flow (`/auth/google/start` → Google → `/auth/google/callback`) with
//! `state`, `nonce` and PKCE S256. The flow's pre-sign-in session lives under the one
//! `session_token` cookie; its state, nonce and verifier are derived from that cookie with the
//! `sign-in` subkey, so the store keeps only the cookie's hash, the page to return to and the
//! 18+ answer, and a stolen database row cannot finish anyone's sign-in.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::Duration;
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::google::GoogleIdentity;
use super::{parse_name, Accounts, Email, SignInAttempt, User, UserStatus};
use crate::error::{Error, Result};
use crate::security::{constant_time_eq, KeyPurpose, RawToken};

/// How long a browser has between `start` and the callback.
const ATTEMPT_SECS: i64 = 600;

/// Where `/auth/google/start` sends the browser, and the pre-sign-in cookie to set.
#[derive(Debug)]
pub struct SignInStart {
    /// Google's authorization endpoint with the request's parameters.
    pub authorization_url: String,
    /// The pre-sign-in session's token (the `session_token` cookie).
    pub token: RawToken,
    /// How long the pre-sign-in session lasts: the cookie's `Max-Age`.
    pub lifetime_secs: i64,
}

/// What the callback brings back from Google (the code and state never show in `Debug`).
#[derive(Default)]
pub struct Callback<'a> {
    pub code: Option<&'a str>,
    pub state: Option<&'a str>,
    /// Google's `error` parameter (the person declined, …).
    pub error: Option<&'a str>,
}

impl std::fmt::Debug for Callback<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Callback")
            .field("code", &self.code.map(|_| "(redacted)"))
            .field("state", &self.state.map(|_| "(redacted)"))
            .field("error", &self.error)
            .finish()
    }
}

/// How a callback ended: always a local page to return to; a session when it succeeded, else
/// the error code for `?error=`.
#[derive(Debug)]
pub struct CallbackOutcome {
    pub return_to: String,
    pub result: std::result::Result<(User, RawToken, bool), &'static str>,
}

/// `return_to` made safe: a local path with exactly one leading `/` (not `//` or `/\`), no
/// scheme, no control characters, else `/`.
pub fn safe_return_to(asked: Option<&str>) -> String {
    let Some(path) = asked else {
        return "/".into();
    };
    let local = path.starts_with('/')
        && !path.starts_with("//")
        && !path.contains('\\')
        && !path.chars().any(char::is_control)
        && path.len() <= 2000;
    if local {
        path.to_owned()
    } else {
        "/".into()
    }
}

/// The error code a failed sign-in shows in `?error=`.
fn error_code(e: &Error) -> &'static str {
    match e {
        Error::InvalidToken(_) => "invalid_token",
        Error::Invalid { field, .. } if *field == "age_confirmed" => "age_confirmation_required",
        Error::Conflict(_) => "account_conflict",
        Error::Forbidden(_) => "account_closed",
        Error::Provider { .. } | Error::Unavailable(_) => "google_unavailable",
        _ => "sign_in_failed",
    }
}

/// The three secrets of one sign-in, derived from its cookie.
struct Derived {
    state: String,
    nonce: String,
    verifier: String,
}

impl Accounts<'_> {
    fn derive(&self, token: &RawToken) -> Derived {
        let key = self.f.keys().subkey(KeyPurpose::SignIn);
        let part = |label: &str| {
            let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&key) else {
                return String::new();
            };
            mac.update(label.as_bytes());
            mac.update(b":");
            mac.update(token.expose().as_bytes());
            URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
        };
        Derived {
            state: part("state"),
            nonce: part("nonce"),
            verifier: part("pkce"),
        }
    }

    /// Starts the browser flow: a pre-sign-in session (10 minutes, single use) and Google's
    /// authorization URL. `redirect_uri` is this server's callback; `previous`, what the
    /// browser's cookie still holds (an earlier attempt or a session), is ended.
    pub async fn google_start(
        &self,
        redirect_uri: &str,
        return_to: Option<&str>,
        age_confirmed: bool,
        previous: Option<&RawToken>,
    ) -> Result<SignInStart> {
        let google = self.f.google()?;
        google.client_secret()?;
        let endpoint = google.discovery().await?.authorization_endpoint;
        let store = &self.f.store().accounts;
        if let Some(old) = previous {
            // Whatever the cookie held (an earlier attempt, or a session this sign-in
            // replaces) ends here.
            store.take_sign_in_attempt(&old.hash()).await?;
            store.delete_session(&old.hash()).await?;
        }
        let now = self.f.now();
        let token = RawToken::generate("");
        store
            .insert_sign_in_attempt(&SignInAttempt {
                id: crate::ids::random("sia"),
                token_hash: token.hash(),
                return_to: safe_return_to(return_to),
                age_confirmed,
                created_at: now,
                expires_at: now + Duration::seconds(ATTEMPT_SECS),
            })
            .await?;
        let d = self.derive(&token);
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(d.verifier.as_bytes()));
        let mut url = reqwest::Url::parse(&endpoint)
            .map_err(|_| Error::Config("Google's authorization endpoint is not a URL".into()))?;
        url.query_pairs_mut()
            .append_pair("client_id", google.client_id())
            .append_pair("response_type", "code")
            .append_pair("scope", "openid email profile")
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("state", &d.state)
            .append_pair("nonce", &d.nonce)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256");
        Ok(SignInStart {
            authorization_url: url.into(),
            token,
            lifetime_secs: ATTEMPT_SECS,
        })
    }

    /// Finishes the browser flow. The pre-sign-in session is taken (deleted) first, so a
    /// replayed callback finds nothing; `state` is compared in constant time; the code is
    /// exchanged with the PKCE verifier and the ID token verified with the nonce. Never an
    /// `Err` for the person's failures: those are the outcome's error code, with the page to
    /// return to.
    pub async fn google_callback(
        &self,
        cookie: Option<&RawToken>,
        redirect_uri: &str,
        back: Callback<'_>,
    ) -> Result<CallbackOutcome> {
        let store = &self.f.store().accounts;
        let attempt = match cookie {
            Some(token) => store.take_sign_in_attempt(&token.hash()).await?,
            None => None,
        };
        let (Some(token), Some(attempt)) = (cookie, attempt) else {
            self.refused("no_sign_in_in_progress").await?;
            return Ok(CallbackOutcome {
                return_to: "/".into(),
                result: Err("sign_in_expired"),
            });
        };
        let failed = |code: &'static str| CallbackOutcome {
            return_to: attempt.return_to.clone(),
            result: Err(code),
        };
        if self.f.now() >= attempt.expires_at {
            return Ok(failed("sign_in_expired"));
        }
        if let Some(declined) = back.error {
            let code = if declined == "access_denied" {
                "access_denied"
            } else {
                "google_error"
            };
            return Ok(failed(code));
        }
        let d = self.derive(token);
        let state_ok = back
            .state
            .is_some_and(|s| constant_time_eq(s.as_bytes(), d.state.as_bytes()));
        let (true, Some(code)) = (state_ok, back.code) else {
            self.refused("state_mismatch").await?;
            return Ok(failed("invalid_state"));
        };
        let google = self.f.google()?;
        let signed = async {
            let id_token = google
                .exchange_code(code, redirect_uri, &d.verifier)
                .await?;
            self.google_sign_in(&id_token, attempt.age_confirmed, Some(&d.nonce), None)
                .await
        };
        Ok(match signed.await {
            Ok(done) => CallbackOutcome {
                return_to: attempt.return_to.clone(),
                result: Ok(done),
            },
            Err(e @ (Error::Unavailable(_) | Error::Internal(_) | Error::Corrupt(_))) => {
                return Err(e)
            }
            Err(e) => failed(error_code(&e)),
        })
    }

    async fn refused(&self, reason: &'static str) -> Result<()> {
        self.f
            .record_security_event("auth.google_refused", None, json!({ "reason": reason }))
            .await
    }

    /// Signs in with a Google ID token (`POST /auth/google/id-token`, and the end of the
    /// browser flow). The account is keyed on Google's subject; an unknown subject whose
    /// verified email belongs to an account not yet linked (a local owner, an invitation) is
    /// linked to it; an email linked to another subject is a `Conflict`; a new account needs
    /// the 18+ confirmation and gets the trial credits and a welcome email. `nonce` is what
    /// this sign-in sent, if it sent one. A session presented with the request is revoked.
    pub async fn google_sign_in(
        &self,
        id_token: &str,
        age_confirmed: bool,
        nonce: Option<&str>,
        previous: Option<&RawToken>,
    ) -> Result<(User, RawToken, bool)> {
        let google = self.f.google()?;
        let identity = match google.verify(id_token, nonce, self.f.now()).await {
            Ok(identity) => identity,
            Err(e) => {
                if let Error::InvalidToken(why) = &e {
                    self.refused(why).await?;
                }
                return Err(e);
            }
        };
        let (user, created) = self.google_account(&identity, age_confirmed).await?;
        let store = &self.f.store().accounts;
        if let Some(old) = previous {
            store.delete_session(&old.hash()).await?;
        }
        let token = self.open_session(&user.id).await?;
        self.f
            .record_security_event(
                "auth.google",
                Some(&user.id),
                json!({ "new_account": created }),
            )
            .await?;
        Ok((user, token, created))
    }

    /// The account a verified Google identity signs into, made or linked when needed.
    async fn google_account(
        &self,
        identity: &GoogleIdentity,
        age_confirmed: bool,
    ) -> Result<(User, bool)> {
        let store = &self.f.store().accounts;
        if let Some(user) = store.user_by_google_subject(&identity.subject).await? {
            if user.status != UserStatus::Active {
                return Err(Error::Forbidden(
                    "this account is being erased and cannot be signed into".into(),
                ));
            }
            return Ok((user, false));
        }
        let email = Email::parse(&identity.email)
            .map_err(|_| Error::InvalidToken("its email address is not one Facetra accepts"))?;
        if let Some(existing) = store.user_by_email(&email).await? {
            if existing.google_subject.is_some() {
                return Err(Error::Conflict(
                    "this email address is linked to another Google account".into(),
                ));
            }
            let linked = store
                .link_google_if_unlinked(
                    &existing.id,
                    &identity.subject,
                    identity.picture.as_deref(),
                    self.f.now(),
                )
                .await?
                .ok_or_else(|| {
                    Error::Conflict("this account changed while signing in; try again".into())
                })?;
            return Ok((linked, false));
        }
        self.f.onboarding().may_join(&email).await?;
        let name = identity
            .name
            .as_deref()
            .and_then(|n| parse_name(n).ok())
            .or_else(|| parse_name(email.as_str().split('@').next().unwrap_or_default()).ok())
            .unwrap_or_else(|| "Facetra user".into());
        let mut user = self.new_user(email.as_str(), &name, age_confirmed)?;
        user.google_subject = Some(identity.subject.clone());
        user.avatar_url = identity.picture.clone();
        match store.insert_user(&user).await {
            Ok(()) => {}
            // The same person signing in twice at once: the other sign-in made the account.
            Err(Error::Conflict(_)) => {
                if let Some(made) = store.user_by_google_subject(&identity.subject).await? {
                    return Ok((made, false));
                }
                return Err(Error::Conflict(
                    "this email address was just taken; try again".into(),
                ));
            }
            Err(e) => return Err(e),
        }
        self.f.on_account_created(&user).await?;
        Ok((user, true))
    }
}
