//! The API contract: which request gets which status and JSON body.
//!
//! Every body is a JSON object with `"version": 1` (the shape version, [`API_VERSION`]).
//!
//! | request            | status | body                                                        |
//! |--------------------|--------|-------------------------------------------------------------|
//! | `GET /healthz`     | 200    | `{"version":1,"status":"alive"}`                            |
//! | `GET /readyz`      | 200    | `{"version":1,"ready":true,"release":{"digest","release_seq"}}` |
//! |                    | 503    | `{"version":1,"ready":false,"reason":"..."}`                |
//! | `GET /v1/release`  | 200    | `{"version":1,"digest","release_seq","rollback_of","verified_at","signed_by","manifest"}` |
//! |                    | 503    | `{"version":1,"error":"not_ready","reason":"..."}`          |
//! | unknown path       | 404    | `{"version":1,"error":"not_found","path":"..."}`            |
//! | other method       | 405    | `{"version":1,"error":"method_not_allowed","method":"...","allow":["GET","HEAD"]}` |
//! | not HTTP, non-ASCII| 400    | `{"version":1,"error":"bad_request","reason":"..."}`        |
//! | head too slow      | 408    | `{"version":1,"error":"request_timeout","limit_ms":5000}` |
//! | head too large     | 431    | `{"version":1,"error":"headers_too_large","limit_bytes":8192}` |
//! | too many connections | 503  | `{"version":1,"error":"busy","max_connections":64}`         |
//!
//! `HEAD` is answered like `GET` without a body. Query strings are ignored. The last four are
//! answered by the server (see [`crate::server`]) before a request reaches [`respond`].

use serde_json::{Value, json};

use crate::source::ReleaseSource;

/// The version of every response body's shape.
pub const API_VERSION: u32 = 1;

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
    fn json(status: u16, mut body: Value) -> Response {
        body["version"] = json!(API_VERSION);
        Response {
            status,
            body,
            allow: None,
        }
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
            return Response::json(404, json!({"error": "not_found", "path": path}));
        }
    };
    if !ALLOWED_METHODS.contains(&method) {
        let mut response = Response::json(
            405,
            json!({"error": "method_not_allowed", "method": method, "allow": ALLOWED_METHODS}),
        );
        response.allow = Some(ALLOWED_METHODS);
        return response;
    }
    match endpoint {
        Endpoint::Health => Response::json(200, json!({"status": "alive"})),
        Endpoint::Ready => match source.current() {
            Ok(release) => Response::json(
                200,
                json!({
                    "ready": true,
                    "release": {"digest": release.digest, "release_seq": release.release_seq},
                }),
            ),
            Err(reason) => Response::json(503, json!({"ready": false, "reason": reason})),
        },
        Endpoint::Release => match source.current() {
            Ok(release) => Response::json(
                200,
                json!({
                    "digest": release.digest,
                    "release_seq": release.release_seq,
                    "rollback_of": release.rollback_of,
                    "verified_at": release.verified_at,
                    "signed_by": release.signed_by,
                    "manifest": release.manifest,
                }),
            ),
            Err(reason) => Response::json(503, json!({"error": "not_ready", "reason": reason})),
        },
    }
}

/// The request line or a header is not HTTP (or not ASCII).
pub fn bad_request(reason: String) -> Response {
    Response::json(400, json!({"error": "bad_request", "reason": reason}))
}

/// The request head did not arrive in time.
pub fn request_timeout(limit: std::time::Duration) -> Response {
    Response::json(
        408,
        json!({"error": "request_timeout", "limit_ms": limit.as_millis() as u64}),
    )
}

/// The request line and headers are over the limit.
pub fn headers_too_large(limit_bytes: usize) -> Response {
    Response::json(
        431,
        json!({"error": "headers_too_large", "limit_bytes": limit_bytes}),
    )
}

/// Every connection slot is taken.
pub fn busy(max_connections: usize) -> Response {
    Response::json(
        503,
        json!({"error": "busy", "max_connections": max_connections}),
    )
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
    fn every_body_carries_the_shape_version() {
        let empty = Fixed(Err("no release installed".to_owned()));
        for (method, url) in [
            ("GET", "/healthz"),
            ("GET", "/readyz"),
            ("GET", "/v1/release"),
            ("GET", "/nope"),
            ("POST", "/readyz"),
        ] {
            for source in [&installed(), &empty] {
                assert_eq!(
                    respond(method, url, source).body["version"],
                    1,
                    "{method} {url}"
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
