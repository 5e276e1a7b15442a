//! `openapi.yaml`, read once: the operations it documents, for the tests that hold the
//! server to it (the route table in `tests/contract.rs`, the authorization matrix).

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::OnceLock;

use serde_json::Value;

/// `(METHOD, /path/{param})` pairs.
pub type Operations = BTreeSet<(String, String)>;

/// The HTTP methods the API routes.
pub const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// The document, as JSON (its schemas are JSON Schema 2020-12, OpenAPI 3.1).
pub fn document() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let path = repo().join("openapi.yaml");
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        serde_norway::from_str(&text).expect("openapi.yaml is valid YAML")
    })
}

/// Every operation the document describes.
pub fn operations() -> Operations {
    let paths = document()["paths"].as_object().expect("paths");
    let mut out = Operations::new();
    for (path, item) in paths {
        for method in METHODS {
            if item.get(method).is_some() {
                out.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    out
}

/// The workspace's root folder.
pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace")
}
