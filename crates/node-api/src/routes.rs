//! The API contract: which request gets which status and JSON body.
//!
//! Every body is one of four shapes (`output_types::node_api`, `schemas/node-api-*.v1.json`),
//! named by its top-level `"schema"`:
//!
//! | request            | status | body                                                        |
//! |--------------------|--------|-------------------------------------------------------------|
//! | `GET /healthz`     | 200    | `node-api-health/v1`: `{"schema","status":"alive"}`         |
//! | `GET /readyz`      | 200    | `node-api-ready/v1`: `{"schema","ready":true,"release":{"digest","release_seq"},"reason":null}` |
//! |                    | 503    | `node-api-ready/v1`: `{"schema","ready":false,"release":null,"reason":"..."}` |
//! | `GET /v1/release`  | 200    | `node-api-release/v1`: `{"schema","digest","release_seq","rollback_of","verified_at","signed_by","manifest"}` |
//! |                    | 503    | `node-api-error/v1`: `{"schema","error":"not-ready","reason":"..."}` |
//! | unknown path       | 404    | `{"schema","error":"not-found","path":"..."}`                |
//! | other method       | 405    | `{"schema","error":"method-not-allowed","method":"...","allow":["GET","HEAD"]}` |
//! | not HTTP, non-ASCII| 400    | `{"schema","error":"bad-request","reason":"..."}`            |
//! | head too slow      | 408    | `{"schema","error":"request-timeout","limit_ms":5000}`       |
//! | head too large     | 431    | `{"schema","error":"headers-too-large","limit_bytes":8192}`  |
//! | too many connections | 503  | `{"schema","error":"busy","max_connections":64}`             |
//!
//! `HEAD` is answered like `GET` without a body. Query strings are ignored. The last four are
//! answered by the server (see [`crate::server`]) before a request reaches [`respond`].

use output_types::ReleaseRef;
use output_types::Shape;
use output_types::node_api::{Error, ErrorKind, Health, Liveness, Ready, Release};
use serde_json::Value;

use crate::source::ReleaseSource;

/// Methods every endpoint accepts (sent in `Allow` with a 405).
pub const ALLOWED_METHODS: &[&str] = &["GET", "HEAD"];

/// A response before it is written: status and JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    pub status: u16,
    pub body: Value,
    /// Set on 405: the methods the path accepts.
    pub allow: Option<&'static [&'static str]>,
}

impl Response {
    fn json(status: u16, body: &impl serde::Serialize) -> Response {
        Response {
            status,
            body: serde_json::to_value(body).expect("response shapes serialize"),
            allow: None,
        }
    }

    fn error(status: u16, error: ErrorKind) -> Response {
        Response::json(
            status,
            &Error {
                schema: Error::schema(),
                error,
            },
        )
    }
}

/// Answers one request. `url` may carry a query string, which is ignored.
pub fn respond(method: &str, url: &str, source: &dyn ReleaseSource) -> Response {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let endpoint = match path {
        "/healthz" => Endpoint::Health,
        "/readyz" => Endpoint::Ready,
        "/v1/release" => Endpoint::Release,
        _ => {
            return Response::error(
                404,
                ErrorKind::NotFound {
                    path: path.to_owned(),
                },
            );
        }
    };
    if !ALLOWED_METHODS.contains(&method) {
        let mut response = Response::error(
            405,
            ErrorKind::MethodNotAllowed {
                method: method.to_owned(),
                allow: ALLOWED_METHODS.iter().map(|m| (*m).to_owned()).collect(),
            },
        );
        response.allow = Some(ALLOWED_METHODS);
        return response;
    }
    match endpoint {
        Endpoint::Health => Response::json(
            200,
            &Health {
                schema: Health::schema(),
                status: Liveness::Alive,
            },
        ),
        Endpoint::Ready => match source.current() {
            Ok(release) => Response::json(
                200,
                &Ready {
                    schema: Ready::schema(),
                    ready: true,
                    release: Some(ReleaseRef {
                        digest: release.digest,
                        release_seq: release.release_seq,
                    }),
                    reason: None,
                },
            ),
            Err(reason) => Response::json(
                503,
                &Ready {
                    schema: Ready::schema(),
                    ready: false,
                    release: None,
                    reason: Some(reason),
                },
            ),
        },
        Endpoint::Release => match source.current() {
            Ok(release) => Response::json(
                200,
                &Release::<Value> {
                    schema: Release::<Value>::schema(),
                    digest: release.digest,
                    release_seq: release.release_seq,
                    rollback_of: release.rollback_of,
                    verified_at: release.verified_at,
                    signed_by: release.signed_by,
                    manifest: release.manifest,
                },
            ),
            Err(reason) => Response::error(503, ErrorKind::NotReady { reason }),
        },
    }
}

/// The request line or a header is not HTTP (or not ASCII).
pub fn bad_request(reason: String) -> Response {
    Response::error(400, ErrorKind::BadRequest { reason })
}

/// The request head did not arrive in time.
pub fn request_timeout(limit: std::time::Duration) -> Response {
    Response::error(
        408,
        ErrorKind::RequestTimeout {
            limit_ms: u64::try_from(limit.as_millis()).unwrap_or(u64::MAX),
        },
    )
}

/// The request line and headers are over the limit.
pub fn headers_too_large(limit_bytes: usize) -> Response {
    Response::error(431, ErrorKind::HeadersTooLarge { limit_bytes })
}

/// Every connection slot is taken.
pub fn busy(max_connections: usize) -> Response {
    Response::error(503, ErrorKind::Busy { max_connections })
}

enum Endpoint {
    Health,
    Ready,
    Release,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::InstalledRelease;
    use serde_json::json;

    struct Fixed(Result<InstalledRelease, String>);

    impl ReleaseSource for Fixed {
        fn current(&self) -> Result<InstalledRelease, String> {
            self.0.clone()
        }
    }

    fn installed() -> Fixed {
        Fixed(Ok(InstalledRelease {
            digest: "sha256:ab".to_owned(),
            release_seq: 3,
            rollback_of: None,
            verified_at: "2026-06-01T00:00:00Z".to_owned(),
            signed_by: None,
            manifest: json!({"release_seq": 3}),
        }))
    }

    #[test]
    fn every_body_names_its_shape() {
        let empty = Fixed(Err("no release installed".to_owned()));
        for (method, url) in [
            ("GET", "/healthz"),
            ("GET", "/readyz"),
            ("GET", "/v1/release"),
            ("GET", "/nope"),
            ("POST", "/readyz"),
        ] {
            for source in [&installed(), &empty] {
                let body = respond(method, url, source).body;
                assert!(
                    body["schema"]
                        .as_str()
                        .is_some_and(|s| s.starts_with("node-api-") && s.ends_with("/v1")),
                    "{method} {url}: {body}"
                );
            }
        }
    }

    #[test]
    fn query_strings_are_ignored_and_unknown_paths_are_404() {
        assert_eq!(
            respond("GET", "/readyz?verbose=1", &installed()).status,
            200
        );
        let missing = respond("GET", "/v1/releases", &installed());
        assert_eq!(missing.status, 404);
        assert_eq!(missing.body["path"], "/v1/releases");
    }

    #[test]
    fn wrong_methods_get_405_with_allow() {
        let response = respond("DELETE", "/v1/release", &installed());
        assert_eq!(response.status, 405);
        assert_eq!(response.allow, Some(ALLOWED_METHODS));
        assert_eq!(respond("HEAD", "/healthz", &installed()).status, 200);
    }
}
