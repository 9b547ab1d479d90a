//! The routes, in one table: the router is built from it, and the OpenAPI document
//! (`/openapi.json`) is checked against it.

use std::sync::Arc;

use axum::Router;
use axum::routing::{MethodRouter, get, post};

use crate::state::AppState;
use crate::{openapi, v1, v2};

/// Who may call a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Access {
    /// Anyone: health and the document of the routes.
    Open,
    /// With the token, when the server has one.
    Token,
}

/// Every route: its path (in the OpenAPI document's form), who may call it, and its
/// handlers.
pub(crate) fn table() -> Vec<(&'static str, Access, MethodRouter<Arc<AppState>>)> {
    use Access::{Open, Token};
    vec![
        ("/health", Open, get(v1::health)),
        ("/openapi.json", Open, get(openapi::document)),
        ("/metrics", Token, get(v1::metrics)),
        ("/v1/models", Token, get(v1::models)),
        ("/v1/models/{name}/{action}", Token, post(v1::infer)),
        ("/v2/health/live", Open, get(v2::live)),
        ("/v2/health/ready", Open, get(v2::ready)),
        ("/v2", Token, get(v2::server)),
        ("/v2/models/{name}", Token, get(v2::metadata)),
        ("/v2/models/{name}/ready", Token, get(v2::model_ready)),
        ("/v2/models/{name}/infer", Token, post(v2::infer)),
        (
            "/v2/models/{name}/versions/{version}",
            Token,
            get(v2::metadata_version),
        ),
        (
            "/v2/models/{name}/versions/{version}/ready",
            Token,
            get(v2::model_ready_version),
        ),
        (
            "/v2/models/{name}/versions/{version}/infer",
            Token,
            post(v2::infer_version),
        ),
    ]
}

/// The router of [`table`]: the token checked on the routes that need it, every
/// request counted, any other path answered 404.
pub(crate) fn router(state: Arc<AppState>) -> Router {
    let (open, guarded): (Vec<_>, Vec<_>) = table()
        .into_iter()
        .partition(|(_, access, _)| *access == Access::Open);
    let mut router = Router::new();
    for (path, _, handlers) in guarded {
        router = router.route(path, handlers);
    }
    router = router.route_layer(axum::middleware::from_fn_with_state(
        state.clone(),
        v1::authorize,
    ));
    for (path, _, handlers) in open {
        router = router.route(path, handlers);
    }
    router
        .fallback(v1::not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            v1::track,
        ))
        .with_state(state)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::{Access, table};
    use crate::error::ErrorKind;
    use crate::openapi::DOCUMENT;

    fn parsed() -> serde_json::Value {
        serde_json::from_str(DOCUMENT).expect("the document is JSON")
    }

    #[test]
    fn the_document_lists_every_route_and_who_may_call_it() {
        let doc = parsed();
        let paths = doc["paths"].as_object().expect("paths");
        let routes = table();
        let documented: BTreeSet<&str> = paths.keys().map(String::as_str).collect();
        let served: BTreeSet<&str> = routes.iter().map(|(path, _, _)| *path).collect();
        assert_eq!(documented, served);
        for (path, access, _) in &routes {
            for (method, operation) in paths[*path].as_object().expect("operations") {
                let open = operation["security"]
                    .as_array()
                    .is_some_and(|s| s.is_empty());
                assert_eq!(open, *access == Access::Open, "{method} {path}");
            }
        }
    }

    #[test]
    fn the_document_names_every_error_kind_and_this_version() {
        let doc = parsed();
        let kinds: Vec<&str> = doc["components"]["schemas"]["ErrorKind"]["enum"]
            .as_array()
            .expect("the kinds")
            .iter()
            .filter_map(|k| k.as_str())
            .collect();
        let ours: Vec<&str> = ErrorKind::ALL.iter().map(|k| k.name()).collect();
        assert_eq!(kinds, ours);
        for kind in ErrorKind::ALL {
            let status = kind.status().as_u16().to_string();
            assert!(
                doc["components"]["responses"][format!("E{status}")].is_object(),
                "{kind:?}: no response {status}"
            );
        }
        assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(doc["openapi"], "3.1.0");
    }
}
