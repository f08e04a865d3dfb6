//! Google sign-in (OpenID Connect): the discovery document, the signing keys (JWKS) cached for
//! as long as Google's `Cache-Control` allows and fetched again once when a token names a key
//! we do not hold, and the verification of an ID token by the rules of EXTERNAL-APIS.md §3.
//! Every refusal is `Error::InvalidToken` naming the check that failed, never the token.

use std::collections::HashMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::Duration;
use serde::Deserialize;
use tokio::sync::Mutex;

use crate::config::{check_outbound_url, GoogleConfig};
use crate::error::{Error, Result};
use crate::security::outbound_client;
use crate::Timestamp;

/// How far `iat` and `exp` may be off from our clock (Google's own libraries allow 300 s).
const SKEW_SECS: i64 = 300;
/// Google's libraries refuse a token that claims to live longer than a day.
const MAX_LIFETIME_SECS: i64 = 86_400;
/// The keys are cached this long when Google's answer gives no `max-age`.
const DEFAULT_KEYS_MAX_AGE_SECS: i64 = 300;
/// A token naming an unknown key fetches the keys again only if they are older than this, so
/// a stream of made-up `kid`s cannot turn into a stream of fetches.
const REFETCH_AFTER_SECS: i64 = 30;
/// The two spellings of Google's issuer.
const ISSUERS: [&str; 2] = ["https://accounts.google.com", "accounts.google.com"];

/// What a verified ID token says about the person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoogleIdentity {
    /// Google's stable id for the account: what Facetra keys the account on.
    pub subject: String,
    /// Verified by Google (`email_verified`).
    pub email: String,
    pub name: Option<String>,
    pub picture: Option<String>,
}

/// The endpoints of Google's discovery document that Facetra uses.
#[derive(Debug, Clone, Deserialize)]
pub struct Discovery {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
}

#[derive(Debug, Clone)]
struct Keys {
    /// `kid` → the RSA public key's modulus and exponent (big-endian).
    by_kid: HashMap<String, (Vec<u8>, Vec<u8>)>,
    fetched_at: Timestamp,
    fresh_until: Timestamp,
}

#[derive(Debug, Default)]
struct Cache {
    discovery: Option<Discovery>,
    keys: Option<Keys>,
}

/// The Google sign-in client of one deployment.
#[derive(Debug)]
pub struct Google {
    config: GoogleConfig,
    http: reqwest::Client,
    cache: Mutex<Cache>,
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    kid: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Flag {
    Bool(bool),
    /// The tokeninfo endpoint's spelling, `"true"`.
    Text(String),
}

#[derive(Deserialize)]
struct Claims {
    iss: String,
    aud: Audience,
    sub: String,
    exp: i64,
    iat: i64,
    email: Option<String>,
    email_verified: Option<Flag>,
    nonce: Option<String>,
    name: Option<String>,
    picture: Option<String>,
}

#[derive(Deserialize)]
struct Jwks {
    keys: Vec<Jwk>,
}

#[derive(Deserialize)]
struct Jwk {
    kty: String,
    kid: Option<String>,
    alg: Option<String>,
    n: Option<String>,
    e: Option<String>,
}

fn refuse(why: &'static str) -> Error {
    Error::InvalidToken(why)
}

fn unavailable(e: impl std::fmt::Display) -> Error {
    Error::Provider {
        provider: "Google sign-in",
        message: format!("{e}"),
    }
}

impl Google {
    pub fn new(config: GoogleConfig) -> Result<Google> {
        Ok(Google {
            config,
            http: outbound_client(10, "Google sign-in")?,
            cache: Mutex::new(Cache::default()),
        })
    }

    /// The OAuth client id tokens must be issued to.
    pub fn client_id(&self) -> &str {
        &self.config.client_id
    }

    /// The OAuth client secret the browser flow needs (an ID-token sign-in needs none).
    pub fn client_secret(&self) -> Result<&crate::config::Secret> {
        self.config.client_secret.as_ref().ok_or_else(|| {
            Error::Config(format!(
                "the browser sign-in needs {}",
                crate::config::keys::GOOGLE_CLIENT_SECRET
            ))
        })
    }

    /// The discovery document, fetched once per process.
    pub async fn discovery(&self) -> Result<Discovery> {
        let mut cache = self.cache.lock().await;
        if let Some(d) = &cache.discovery {
            return Ok(d.clone());
        }
        let answer = self
            .http
            .get(&self.config.discovery_url)
            .send()
            .await
            .map_err(|e| unavailable(e.without_url()))?;
        if !answer.status().is_success() {
            return Err(unavailable(format!(
                "the discovery document answered {}",
                answer.status()
            )));
        }
        let d: Discovery = answer
            .json()
            .await
            .map_err(|_| unavailable("the discovery document is not what Google serves"))?;
        for (url, name) in [
            (&d.jwks_uri, "jwks_uri"),
            (&d.token_endpoint, "token_endpoint"),
            (&d.authorization_endpoint, "authorization_endpoint"),
        ] {
            check_outbound_url(url, name)?;
        }
        cache.discovery = Some(d.clone());
        Ok(d)
    }

    /// Fetches the signing keys and how long they may be kept.
    async fn fetch_keys(&self, jwks_uri: &str, now: Timestamp) -> Result<Keys> {
        let answer = self
            .http
            .get(jwks_uri)
            .send()
            .await
            .map_err(|e| unavailable(e.without_url()))?;
        if !answer.status().is_success() {
            return Err(unavailable(format!(
                "the signing keys answered {}",
                answer.status()
            )));
        }
        let max_age = answer
            .headers()
            .get(reqwest::header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .and_then(max_age)
            .unwrap_or(DEFAULT_KEYS_MAX_AGE_SECS);
        let jwks: Jwks = answer
            .json()
            .await
            .map_err(|_| unavailable("the signing keys are not a JWKS document"))?;
        let by_kid = jwks
            .keys
            .into_iter()
            .filter(|k| k.kty == "RSA" && k.alg.as_deref().is_none_or(|a| a == "RS256"))
            .filter_map(|k| {
                let n = URL_SAFE_NO_PAD.decode(k.n?).ok()?;
                let e = URL_SAFE_NO_PAD.decode(k.e?).ok()?;
                Some((k.kid?, (n, e)))
            })
            .collect();
        Ok(Keys {
            by_kid,
            fetched_at: now,
            fresh_until: now + Duration::seconds(max_age),
        })
    }

    /// The key `kid` names: from the cache while it is fresh, else fetched; an unknown `kid`
    /// fetches once more (Google rotates its keys about daily).
    async fn key(&self, kid: &str, now: Timestamp) -> Result<(Vec<u8>, Vec<u8>)> {
        let jwks_uri = self.discovery().await?.jwks_uri;
        let mut cache = self.cache.lock().await;
        let stale = cache.keys.as_ref().is_none_or(|k| now >= k.fresh_until);
        if stale {
            cache.keys = Some(self.fetch_keys(&jwks_uri, now).await?);
        }
        if let Some(key) = cache.keys.as_ref().and_then(|k| k.by_kid.get(kid)) {
            return Ok(key.clone());
        }
        let recent = cache
            .keys
            .as_ref()
            .is_some_and(|k| now - k.fetched_at < Duration::seconds(REFETCH_AFTER_SECS));
        if !stale && !recent {
            cache.keys = Some(self.fetch_keys(&jwks_uri, now).await?);
            if let Some(key) = cache.keys.as_ref().and_then(|k| k.by_kid.get(kid)) {
                return Ok(key.clone());
            }
        }
        Err(refuse("it is signed by a key Google does not publish"))
    }

    /// Verifies an ID token at `now`: RS256 by one of Google's keys, Google's issuer, this
    /// client as audience, within its lifetime (300 s of skew), a verified email, and the
    /// `nonce` when one was sent.
    pub async fn verify(
        &self,
        id_token: &str,
        nonce: Option<&str>,
        now: Timestamp,
    ) -> Result<GoogleIdentity> {
        let mut parts = id_token.trim().split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(refuse("it is not a signed JWT"));
        };
        let header: Header = decode_json(header)?;
        if header.alg != "RS256" {
            return Err(refuse("it is not signed with RS256"));
        }
        let kid = header.kid.ok_or(refuse("it names no signing key"))?;
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| refuse("its signature is not base64url"))?;
        let (n, e) = self.key(&kid, now).await?;
        let signed = &id_token.trim()[..header_and_payload_len(id_token.trim())];
        ring::signature::RsaPublicKeyComponents { n: &n, e: &e }
            .verify(
                &ring::signature::RSA_PKCS1_2048_8192_SHA256,
                signed.as_bytes(),
                &signature,
            )
            .map_err(|_| refuse("its signature does not verify"))?;

        let claims: Claims = decode_json(payload)?;
        if !ISSUERS.contains(&claims.iss.as_str()) {
            return Err(refuse("it was not issued by Google"));
        }
        let for_us = match &claims.aud {
            Audience::One(aud) => aud == &self.config.client_id,
            Audience::Many(auds) => auds.iter().any(|a| a == &self.config.client_id),
        };
        if !for_us {
            return Err(refuse("it was issued to another application"));
        }
        let now_secs = now.timestamp();
        if now_secs > claims.exp + SKEW_SECS {
            return Err(refuse("it has expired"));
        }
        if claims.iat > now_secs + SKEW_SECS {
            return Err(refuse("it was issued in the future"));
        }
        if claims.exp - now_secs > MAX_LIFETIME_SECS + SKEW_SECS {
            return Err(refuse("it claims to live longer than Google's tokens do"));
        }
        if let Some(expected) = nonce {
            let sent = claims.nonce.as_deref().unwrap_or_default();
            let same: bool =
                subtle::ConstantTimeEq::ct_eq(sent.as_bytes(), expected.as_bytes()).into();
            if !same {
                return Err(refuse("its nonce is not the one this sign-in sent"));
            }
        }
        let verified = match claims.email_verified {
            Some(Flag::Bool(v)) => v,
            Some(Flag::Text(v)) => v == "true",
            None => false,
        };
        let email = claims
            .email
            .filter(|_| verified)
            .ok_or(refuse("its email address is not verified by Google"))?;
        if claims.sub.is_empty() || claims.sub.len() > 255 {
            return Err(refuse("it names no Google account"));
        }
        Ok(GoogleIdentity {
            subject: claims.sub,
            email,
            name: claims.name,
            picture: claims.picture.filter(|p| p.starts_with("https://")),
        })
    }
}

#[derive(Deserialize)]
struct TokenAnswer {
    id_token: Option<String>,
}

#[derive(Deserialize)]
struct TokenError {
    error: Option<String>,
}

impl Google {
    /// Exchanges an authorization code for its ID token (the code flow's token request, with
    /// the PKCE verifier). A code Google refuses (`invalid_grant`: used, expired, or another
    /// redirect) is an `InvalidToken`; Google unreachable or failing is a `Provider` error.
    pub async fn exchange_code(
        &self,
        code: &str,
        redirect_uri: &str,
        code_verifier: &str,
    ) -> Result<String> {
        let endpoint = self.discovery().await?.token_endpoint;
        let secret = self.client_secret()?;
        let answer = self
            .http
            .post(&endpoint)
            .form(&[
                ("code", code),
                ("client_id", self.config.client_id.as_str()),
                ("client_secret", secret.expose()),
                ("redirect_uri", redirect_uri),
                ("grant_type", "authorization_code"),
                ("code_verifier", code_verifier),
            ])
            .send()
            .await
            .map_err(|e| unavailable(e.without_url()))?;
        let status = answer.status();
        if status.is_client_error() {
            let error = answer
                .json::<TokenError>()
                .await
                .ok()
                .and_then(|e| e.error)
                .unwrap_or_default();
            return Err(match error.as_str() {
                "invalid_client" | "unauthorized_client" => Error::Config(
                    "Google refused this deployment's OAuth client; check its id and secret".into(),
                ),
                _ => refuse("Google refused the sign-in code (used, expired or for another page)"),
            });
        }
        if !status.is_success() {
            return Err(unavailable(format!("the token endpoint answered {status}")));
        }
        answer
            .json::<TokenAnswer>()
            .await
            .ok()
            .and_then(|a| a.id_token)
            .ok_or_else(|| unavailable("the token endpoint's answer holds no ID token"))
    }
}

/// The length of `header.payload` in a compact JWT (what the signature covers).
fn header_and_payload_len(jwt: &str) -> usize {
    jwt.rfind('.').unwrap_or(0)
}

fn decode_json<T: serde::de::DeserializeOwned>(part: &str) -> Result<T> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| refuse("it is not base64url"))?;
    serde_json::from_slice(&bytes).map_err(|_| refuse("its contents are not what Google signs"))
}

/// `max-age=N` of a `Cache-Control` value.
fn max_age(cache_control: &str) -> Option<i64> {
    cache_control
        .split(',')
        .filter_map(|d| d.trim().strip_prefix("max-age="))
        .find_map(|v| v.trim().parse::<i64>().ok())
        .filter(|v| *v >= 0)
}

#[cfg(test)]
mod tests {
    use super::max_age;

    #[test]
    fn max_age_is_read_from_cache_control() {
        assert_eq!(
            max_age("public, max-age=19469, must-revalidate, no-transform"),
            Some(19469)
        );
        assert_eq!(max_age("no-store"), None);
        assert_eq!(max_age("max-age=-1"), None);
    }
}
