//! `openapi.yaml`, read once: the operations it documents, for the tests that hold the
//! server to it (the route table in `tests/contract.rs`, the authorization matrix), and
//! the response validator every answer of the suite goes through ([`check`], called by
//! `TestServer::raw`).
//!
//! The validator finds the documented operation for a method and a concrete path (the
//! template whose literal segments match, the most literal one first), then the documented
//! response for the status (exact, else `4XX`-style, else `default`), and holds the answer
//! to it: the status must be documented, the headers the response marks `required`
//! present and every documented header valid against its schema, the `Content-Type` one of
//! the response's media types (or no body when it documents none), and the body (JSON or
//! YAML parsed, other text as a string) valid against that media type's schema, a JSON
//! Schema 2020-12 whose `$ref`s resolve inside the document, with `format`s asserted.
//! Every answer carries a sane `X-Request-Id`; a problem's `status` is the answer's, its
//! `type` names its `code` and its `request_id` is that header. A request outside the
//! document (an unknown path, or a method the path does not have) must be refused with a
//! problem (`application/problem+json`, the `Problem` schema).
//!
//! The schemas are compiled once, when the first answer is checked; a schema that does not
//! compile, or a `$ref` to nothing, panics there.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::OnceLock;

use serde_json::Value;

use crate::Response;

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

/// What [`check`] did with an answer that conforms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checked {
    /// A documented operation's answer: status, media type and body as documented.
    Validated,
    /// A documented operation's answer that documents no body (a 204), and had none.
    Empty,
    /// A request for an operation the document does not have, refused with a problem.
    Undocumented,
}

/// The media type of the `Problem` schema.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Holds one answer to `openapi.yaml`: `Err` says what does not conform (the operation,
/// the status, each validation error with its path, the body).
pub fn check(method: &str, path: &str, answer: &Response) -> Result<Checked, String> {
    let Response {
        status, ref body, ..
    } = *answer;
    let content_type = answer.header("content-type");
    let contract = Contract::get();
    // Every answer carries its request id (the document's conventions; docs/API.md).
    let request_id = answer.header("x-request-id").unwrap_or_default();
    if !is_request_id(request_id) {
        return Err(format!(
            "{method} {path} answered {status} with X-Request-Id {request_id:?}\n{body}"
        ));
    }
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let media = content_type.map(|c| {
        c.split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase()
    });
    let Some(template) = contract.template(method, path) else {
        // Outside the document: only a refusal, as a problem.
        let what = format!("{method} {path} (not in openapi.yaml) answered {status}");
        if status < 400 {
            return Err(format!(
                "{what}: an undocumented operation succeeded\n{body}"
            ));
        }
        if media.as_deref() != Some(PROBLEM_JSON) {
            return Err(format!(
                "{what} with Content-Type {content_type:?}, not {PROBLEM_JSON}\n{body}"
            ));
        }
        contract.validate(&what, PROBLEM_SCHEMA, body, Syntax::Json)?;
        problem_rules(&what, answer)?;
        return Ok(Checked::Undocumented);
    };
    let operation = format!("{method} {template}");
    let what = format!("{operation} ({path}) answered {status}");
    let Some(response) = contract.response(method, template, status) else {
        return Err(format!(
            "{what}, a status openapi.yaml does not document for {operation}\n{body}"
        ));
    };
    for header in &response.headers {
        match answer.header(&header.name) {
            Some(value) => contract.validate_header(&what, header, value)?,
            None if header.required => {
                return Err(format!(
                    "{what} without the header {}, which openapi.yaml requires\n{body}",
                    header.name
                ));
            }
            None => {}
        }
    }
    let Some(content) = response.content else {
        if !body.is_empty() {
            return Err(format!(
                "{what} with a body, but openapi.yaml documents none\n{body}"
            ));
        }
        return Ok(Checked::Empty);
    };
    let Some(media) = media else {
        return Err(format!(
            "{what} without a Content-Type; openapi.yaml documents {:?}\n{body}",
            content.keys().collect::<Vec<_>>()
        ));
    };
    let Some(schema) = content.get(&media) else {
        return Err(format!(
            "{what} with Content-Type {media}; openapi.yaml documents {:?}\n{body}",
            content.keys().collect::<Vec<_>>()
        ));
    };
    contract.validate(&what, schema, body, Syntax::of(&media))?;
    if media == PROBLEM_JSON {
        problem_rules(&what, answer)?;
    }
    Ok(Checked::Validated)
}

/// 1 to 64 of `A-Z a-z 0-9 - _ . :` (docs/API.md, "Request ids").
fn is_request_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
}

/// What a schema cannot say about a problem (RFC 9457; docs/API.md, "Errors"): its
/// `status` is the answer's, its `type` names its `code`, and its `request_id` is the
/// answer's `X-Request-Id`.
fn problem_rules(what: &str, answer: &Response) -> Result<(), String> {
    let (status, body) = (answer.status, &answer.body);
    let problem: Value = serde_json::from_str(body).unwrap_or_default();
    if problem["request_id"].as_str() != answer.header("x-request-id") {
        return Err(format!(
            "{what}: the problem's request_id is not the answer's X-Request-Id\n{body}"
        ));
    }
    let code = problem["code"].as_str().unwrap_or_default();
    if problem["status"] != status {
        return Err(format!(
            "{what}: the problem's status is not the answer's\n{body}"
        ));
    }
    if problem["type"].as_str() != Some(&format!("https://jiban.dev/problems/{code}")) {
        return Err(format!(
            "{what}: the problem's type does not name its code\n{body}"
        ));
    }
    Ok(())
}

/// The pointer of the schema problems are held to outside the document.
const PROBLEM_SCHEMA: &str = "/components/schemas/Problem";

/// How a body of a media type is read into the value its schema describes, as OpenAPI
/// tools read it: JSON and YAML parsed, any other text as the string it is.
#[derive(Clone, Copy)]
enum Syntax {
    Json,
    Yaml,
    Text,
}

impl Syntax {
    fn of(media: &str) -> Syntax {
        if media == "application/json" || media.ends_with("+json") {
            Syntax::Json
        } else if media == "application/yaml" || media.ends_with("+yaml") {
            Syntax::Yaml
        } else {
            Syntax::Text
        }
    }
}

/// The document, prepared for checking answers.
struct Contract {
    /// Each path template, split at `/` (`None` for a `{parameter}` segment).
    templates: Vec<(String, Vec<Option<String>>)>,
    /// Every schema a response documents (and the `Problem`), compiled, by its JSON
    /// pointer into the document.
    validators: BTreeMap<String, jsonschema::Validator>,
}

/// A documented response: its media types, each with the pointer of its schema, and its
/// headers.
struct DocumentedResponse {
    content: Option<BTreeMap<String, String>>,
    headers: Vec<DocumentedHeader>,
}

/// A header a response documents: whether it is always sent, the pointer of its schema,
/// and whether that schema says `integer` (a header's value is text; such a value is
/// validated as the number it spells).
struct DocumentedHeader {
    name: String,
    required: bool,
    schema: String,
    integer: bool,
}

impl Contract {
    fn get() -> &'static Contract {
        static CONTRACT: OnceLock<Contract> = OnceLock::new();
        CONTRACT.get_or_init(Contract::load)
    }

    fn load() -> Contract {
        let document = document();
        let paths = document["paths"].as_object().expect("paths");
        let templates = paths
            .keys()
            .map(|template| {
                let segments = template
                    .split('/')
                    .map(|s| (!s.starts_with('{')).then(|| s.to_owned()))
                    .collect();
                (template.clone(), segments)
            })
            .collect();
        let mut contract = Contract {
            templates,
            validators: BTreeMap::new(),
        };
        let mut pointers = BTreeSet::from([PROBLEM_SCHEMA.to_owned()]);
        for (method, template) in operations() {
            let responses = &paths[&template][method.to_lowercase()]["responses"];
            for status in responses.as_object().expect("responses").keys() {
                let response = contract
                    .documented(&method, &template, status)
                    .expect("a documented response");
                pointers.extend(response.content.into_iter().flat_map(|c| c.into_values()));
                pointers.extend(response.headers.into_iter().map(|h| h.schema));
            }
        }
        for pointer in pointers {
            let validator = compile(&pointer);
            contract.validators.insert(pointer, validator);
        }
        contract
    }

    /// The template of the documented operation `method` `path` is.
    fn template(&self, method: &str, path: &str) -> Option<&str> {
        let segments: Vec<&str> = path.split('/').collect();
        self.templates
            .iter()
            .filter(|(template, pattern)| {
                pattern.len() == segments.len()
                    && pattern.iter().zip(&segments).all(|(p, s)| match p {
                        Some(literal) => literal == s,
                        None => !s.is_empty(),
                    })
                    && document()["paths"][template]
                        .get(method.to_lowercase())
                        .is_some()
            })
            .max_by_key(|(_, pattern)| pattern.iter().filter(|p| p.is_some()).count())
            .map(|(template, _)| template.as_str())
    }

    /// The response `method` `template` documents for `status`: the status itself, else
    /// its class (`4XX`), else `default`.
    fn response(&self, method: &str, template: &str, status: u16) -> Option<DocumentedResponse> {
        let responses =
            &document()["paths"][template][method.to_lowercase()]["responses"].as_object()?;
        let key = [
            status.to_string(),
            format!("{}XX", status / 100),
            "default".to_owned(),
        ]
        .into_iter()
        .find(|k| responses.contains_key(k))?;
        self.documented(method, template, &key)
    }

    /// The response documented under `key`, its `$ref` followed.
    fn documented(&self, method: &str, template: &str, key: &str) -> Option<DocumentedResponse> {
        let mut pointer = format!(
            "/paths/{}/{}/responses/{}",
            escape(template),
            method.to_lowercase(),
            escape(key)
        );
        let mut response = document().pointer(&pointer)?;
        while let Some(target) = response.get("$ref").and_then(Value::as_str) {
            pointer = target
                .strip_prefix('#')
                .unwrap_or_else(|| panic!("{pointer}: a $ref outside the document: {target}"))
                .to_owned();
            response = document()
                .pointer(&pointer)
                .unwrap_or_else(|| panic!("{pointer}: a $ref to nothing"));
        }
        let headers = response
            .get("headers")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .map(|(name, header)| {
                let mut at = format!("{pointer}/headers/{}", escape(name));
                let mut header = header;
                while let Some(target) = header.get("$ref").and_then(Value::as_str) {
                    at = target.trim_start_matches('#').to_owned();
                    header = document()
                        .pointer(&at)
                        .unwrap_or_else(|| panic!("{at}: a $ref to nothing"));
                }
                DocumentedHeader {
                    name: name.clone(),
                    required: header["required"] == true,
                    integer: header["schema"]["type"] == "integer",
                    schema: format!("{at}/schema"),
                }
            })
            .collect();
        let content = response.get("content").map(|content| {
            content
                .as_object()
                .unwrap_or_else(|| panic!("{pointer}/content is a map"))
                .keys()
                .map(|media| {
                    (
                        media.to_ascii_lowercase(),
                        format!("{pointer}/content/{}/schema", escape(media)),
                    )
                })
                .collect()
        });
        Some(DocumentedResponse { content, headers })
    }

    /// Validates a header's value against its schema.
    fn validate_header(
        &self,
        what: &str,
        header: &DocumentedHeader,
        value: &str,
    ) -> Result<(), String> {
        let what = format!("{what}, header {}", header.name);
        if header.integer {
            if value.parse::<i64>().is_err() {
                return Err(format!("{what}: {value:?} is not an integer"));
            }
            self.validate(&what, &header.schema, value, Syntax::Json)
        } else {
            let quoted = Value::from(value).to_string();
            self.validate(&what, &header.schema, &quoted, Syntax::Json)
        }
    }

    /// Validates `body`, read as `syntax` says, against the schema at `pointer`.
    fn validate(
        &self,
        what: &str,
        pointer: &str,
        body: &str,
        syntax: Syntax,
    ) -> Result<(), String> {
        let instance = match syntax {
            Syntax::Json => serde_json::from_str(body)
                .map_err(|e| format!("{what}: the body is not JSON ({e})\n{body}"))?,
            Syntax::Yaml => serde_norway::from_str(body)
                .map_err(|e| format!("{what}: the body is not YAML ({e})\n{body}"))?,
            Syntax::Text => Value::String(body.to_owned()),
        };
        let validator = self
            .validators
            .get(pointer)
            .unwrap_or_else(|| panic!("no validator for {pointer}"));
        let errors: Vec<String> = validator
            .iter_errors(&instance)
            .map(|e| {
                format!(
                    "  at {:?} (schema {}): {e}",
                    e.instance_path().as_str(),
                    e.schema_path().as_str()
                )
            })
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "{what}: the body does not match openapi.yaml (#{pointer}):\n{}\nbody: {body}",
                errors.join("\n")
            ))
        }
    }
}

/// The schema at `pointer` in the document, compiled with the whole document as its root
/// so that every `$ref` (`#/components/schemas/…`) resolves; draft 2020-12, formats
/// asserted, nothing fetched.
fn compile(pointer: &str) -> jsonschema::Validator {
    let mut root = document().clone();
    root.as_object_mut().expect("the document is a map").insert(
        "$ref".to_owned(),
        Value::String(format!("#{}", fragment(pointer))),
    );
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .build(&root)
        .unwrap_or_else(|e| panic!("openapi.yaml: the schema at #{pointer} does not compile: {e}"))
}

/// A JSON pointer as a URI fragment: the characters a fragment may not hold (the braces of
/// a path template) percent-encoded (RFC 6901, section 6).
fn fragment(pointer: &str) -> String {
    let mut out = String::new();
    for byte in pointer.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/?".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// A JSON pointer's escaping of one key (RFC 6901).
fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}
