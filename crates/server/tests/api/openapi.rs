//! The OpenAPI document (`crates/server/openapi.json`): it is what `GET /api/openapi.json`
//! serves, it is a well-formed OpenAPI 3.1 document whose schemas are valid JSON Schema
//! (draft 2020-12), every route the router serves is documented and every documented operation
//! is served, and the answers of the real API validate against the schemas it documents.

use crate::harness::{Api, Reply};
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::Path;

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

pub(crate) fn document() -> Value {
    serde_json::from_str(gaffer_server::openapi::OPENAPI_JSON).unwrap()
}

/// `~` and `/` escaped for a JSON pointer.
fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// Follows a local `$ref` (`#/components/...`).
fn resolve<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
    match value.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let target = doc
                .pointer(r.strip_prefix('#').unwrap())
                .unwrap_or_else(|| panic!("{r} does not resolve"));
            resolve(doc, target)
        }
        None => value,
    }
}

/// Every `(path, method)` the document describes.
fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in METHODS {
            if item.get(method).is_some() {
                out.insert((path.clone(), method.to_string()));
            }
        }
    }
    out
}

#[tokio::test]
async fn the_served_document_is_the_checked_in_one() {
    let api = Api::new();
    let reply = api.get("/api/openapi.json").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.content_type.starts_with("application/json"));
    assert_eq!(reply.json(), document());
    let on_disk =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi.json"))
            .unwrap();
    assert_eq!(on_disk, gaffer_server::openapi::OPENAPI_JSON);
}

/// The structure of an OpenAPI 3.1 document, for everything this one uses.
#[test]
fn the_document_is_well_formed_openapi_3_1() {
    let doc = document();
    let version = doc["openapi"].as_str().unwrap();
    assert!(version.starts_with("3.1."), "openapi: {version}");
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());
    let allowed_top = [
        "openapi",
        "info",
        "jsonSchemaDialect",
        "servers",
        "paths",
        "webhooks",
        "components",
        "security",
        "tags",
        "externalDocs",
    ];
    for key in doc.as_object().unwrap().keys() {
        assert!(
            allowed_top.contains(&key.as_str()) || key.starts_with("x-"),
            "top-level {key}"
        );
    }
    let schemes: BTreeSet<&String> = doc["components"]["securitySchemes"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    for requirement in doc["security"].as_array().unwrap() {
        for name in requirement.as_object().unwrap().keys() {
            assert!(schemes.contains(name), "unknown security scheme {name}");
        }
    }

    // Every $ref resolves.
    fn refs<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get("$ref") {
                    out.push(r);
                }
                map.values().for_each(|v| refs(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(!all.is_empty());
    for r in all {
        let pointer = r
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("non-local $ref {r}"));
        assert!(doc.pointer(pointer).is_some(), "{r} does not resolve");
    }

    // Every schema is valid JSON Schema 2020-12.
    for (name, schema) in doc["components"]["schemas"].as_object().unwrap() {
        if let Err(e) = jsonschema::draft202012::meta::validate(schema) {
            panic!("components.schemas.{name} is not valid JSON Schema: {e}");
        }
    }

    let mut operation_ids = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        assert!(path.starts_with('/'), "{path}");
        let item = item.as_object().unwrap();
        for key in item.keys() {
            assert!(
                METHODS.contains(&key.as_str())
                    || ["summary", "description", "servers", "parameters"].contains(&key.as_str()),
                "{path}: {key}"
            );
        }
        let templated: BTreeSet<String> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(str::to_string)
            .collect();
        let shared: Vec<Value> = item
            .get("parameters")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            let id = op["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path}: no operationId"));
            assert!(
                operation_ids.insert(id.to_string()),
                "operationId {id} twice"
            );
            assert!(op["summary"].is_string(), "{method} {path}: no summary");
            let own: Vec<Value> = op
                .get("parameters")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let mut in_path = BTreeSet::new();
            for parameter in shared.iter().chain(&own) {
                let parameter = resolve(&doc, parameter);
                let location = parameter["in"].as_str().unwrap();
                assert!(
                    ["query", "header", "path", "cookie"].contains(&location),
                    "{parameter}"
                );
                assert!(parameter["name"].is_string(), "{parameter}");
                let schema = &parameter["schema"];
                assert!(
                    schema.is_object(),
                    "{method} {path}: a parameter without a schema"
                );
                if location == "path" {
                    assert_eq!(
                        parameter["required"], true,
                        "{method} {path}: path parameters are required"
                    );
                    in_path.insert(parameter["name"].as_str().unwrap().to_string());
                }
            }
            assert_eq!(in_path, templated, "{method} {path}: path parameters");
            if let Some(body) = op.get("requestBody") {
                assert!(
                    body["content"].as_object().is_some_and(|c| !c.is_empty()),
                    "{method} {path}"
                );
            }
            let responses = op["responses"].as_object().unwrap();
            assert!(
                responses
                    .keys()
                    .any(|code| code.starts_with('2') || code.starts_with('3')),
                "{method} {path}: no success response"
            );
            for (code, response) in responses {
                assert!(
                    code == "default" || (code.len() == 3 && code.parse::<u16>().is_ok()),
                    "{method} {path}: response {code}"
                );
                let response = resolve(&doc, response);
                assert!(
                    response["description"].is_string(),
                    "{method} {path} {code}: no description"
                );
                if let Some(content) = response.get("content") {
                    for (media, body) in content.as_object().unwrap() {
                        assert!(
                            media.contains('/'),
                            "{method} {path} {code}: media type {media}"
                        );
                        if let Err(e) = jsonschema::draft202012::meta::validate(&body["schema"]) {
                            panic!(
                                "{method} {path} {code}: the schema is not valid JSON Schema: {e}"
                            );
                        }
                    }
                }
            }
        }
    }
}

/// `(path, method)` of every `.route("…", get(…).post(…))` in the server's source, with axum's
/// `{*rest}` written as OpenAPI's `{rest}`.
fn routes_in_source() -> BTreeSet<(String, String)> {
    let mut files = Vec::new();
    let mut dirs = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("src")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    let mut out = BTreeSet::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let mut rest = text.as_str();
        while let Some(at) = rest.find(".route(") {
            rest = &rest[at + ".route(".len()..];
            // The call's arguments, up to the matching parenthesis.
            let mut depth = 1;
            let end = rest
                .char_indices()
                .find(|(_, c)| {
                    match c {
                        '(' => depth += 1,
                        ')' => depth -= 1,
                        _ => {}
                    }
                    depth == 0
                })
                .map(|(i, _)| i)
                .unwrap();
            let args = &rest[..end];
            let Some((path, handlers)) = args
                .trim_start()
                .strip_prefix('"')
                .and_then(|a| a.split_once('"'))
            else {
                continue;
            };
            let path = path.replace("{*", "{");
            // Method routers at the top level of the handler chain: `get(`, `.post(`, ...
            let mut depth = 0;
            for (i, c) in handlers.char_indices() {
                match c {
                    '(' => {
                        if depth == 0 {
                            let word: String = handlers[..i]
                                .chars()
                                .rev()
                                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                                .collect::<Vec<_>>()
                                .into_iter()
                                .rev()
                                .collect();
                            if METHODS.contains(&word.as_str()) {
                                out.insert((path.clone(), word));
                            }
                        }
                        depth += 1;
                    }
                    ')' => depth -= 1,
                    _ => {}
                }
            }
        }
    }
    out
}

/// A concrete URI for a documented path.
fn concrete(path: &str) -> String {
    path.replace("{id}", "999999")
        .replace("{path}", "index.html")
}

#[tokio::test]
async fn every_route_is_documented_and_every_documented_route_is_served() {
    let doc = document();
    let documented = documented(&doc);

    // Served → documented. Routes nested under `/api` appear in the source without it.
    let source = routes_in_source();
    assert!(
        source.len() >= 20,
        "the route scan found too little: {source:?}"
    );
    for (path, method) in &source {
        let api_path = format!("/api{path}");
        assert!(
            documented.contains(&(path.clone(), method.clone()))
                || documented.contains(&(api_path.clone(), method.clone())),
            "{} {path} (or {api_path}) is served but not documented in crates/server/openapi.json",
            method.to_uppercase()
        );
    }

    // Documented → served: the router has a handler for it (not the fallback, not 405).
    for (path, method) in &documented {
        let api = Api::with_engine();
        let request = Request::builder()
            .method(Method::from_bytes(method.to_uppercase().as_bytes()).unwrap())
            .uri(concrete(path))
            .header(header::CONTENT_TYPE, "application/json")
            .header("x-gaffer", "1")
            .body(Body::from(if method == "get" { "" } else { "{}" }))
            .unwrap();
        let response = api.send(request).await;
        let status = response.status();
        assert_ne!(
            status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path} is documented but not served"
        );
        if status == StatusCode::NOT_FOUND {
            let reply = api
                .call(
                    Request::builder()
                        .method(Method::from_bytes(method.to_uppercase().as_bytes()).unwrap())
                        .uri(concrete(path))
                        .header(header::CONTENT_TYPE, "application/json")
                        .header("x-gaffer", "1")
                        .body(Body::from(if method == "get" { "" } else { "{}" }))
                        .unwrap(),
                )
                .await;
            assert!(
                !reply.text.contains("no route for"),
                "{method} {path} is documented but not served: {}",
                reply.text
            );
        }
    }
}

/// Checks a reply against the schema the document gives for `method path` and its status.
pub(crate) fn check(doc: &Value, method: &str, path: &str, reply: &Reply) {
    let op = &doc["paths"][path][method];
    assert!(op.is_object(), "{method} {path} is not documented");
    let code = reply.status.as_u16().to_string();
    let response = op["responses"].get(&code).unwrap_or_else(|| {
        panic!(
            "{method} {path}: status {code} is not documented: {}",
            reply.text
        )
    });
    let response = resolve(doc, response);
    let Some(content) = response.get("content").and_then(Value::as_object) else {
        return;
    };
    let (media, _) = content.iter().next().unwrap();
    if media != "application/json" {
        assert!(
            reply
                .content_type
                .starts_with(media.split(';').next().unwrap()),
            "{method} {path}: {} is not {media}",
            reply.content_type
        );
        return;
    }
    assert!(
        reply.content_type.starts_with("application/json"),
        "{method} {path}: {}",
        reply.content_type
    );
    let instance = reply.json();
    let errors = violations(doc, method, path, &code, &instance);
    assert!(
        errors.is_empty(),
        "{method} {path} {code} does not match its schema:\n{}\n{instance:#}",
        errors.join("\n")
    );
}

/// What is wrong with `instance` as the JSON answer of `method path` with status `code`.
fn violations(doc: &Value, method: &str, path: &str, code: &str, instance: &Value) -> Vec<String> {
    // Validate against the schema where it sits in the document, so that its $refs resolve.
    let response = &doc["paths"][path][method]["responses"][code];
    let pointer = match response.get("$ref").and_then(Value::as_str) {
        Some(shared) => format!("{shared}/content/application~1json/schema"),
        None => format!(
            "#/paths/{}/{method}/responses/{code}/content/application~1json/schema",
            escape(path).replace('{', "%7B").replace('}', "%7D")
        ),
    };
    violations_at(doc, &pointer, instance)
}

#[test]
fn the_schemas_reject_what_the_api_does_not_send() {
    let doc = document();
    let bad_task = json!({"id": "seven", "title": 3});
    assert!(!violations(&doc, "post", "/api/tasks", "201", &bad_task).is_empty());
    let bad_error = json!({"error": {"code": "oops", "message": "x", "hint": null}});
    assert!(!violations(&doc, "get", "/api/tasks/{id}", "404", &bad_error).is_empty());
    let good_error = json!({"error": {"code": "not_found", "message": "x", "hint": null}});
    assert_eq!(
        violations(&doc, "get", "/api/tasks/{id}", "404", &good_error),
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn answers_match_their_documented_schemas() {
    let doc = document();
    let api = Api::with_engine();
    let board = api.board().clone();
    let t = "/api/tasks/{id}";

    check(&doc, "get", "/healthz", &api.get("/healthz").await);
    let reply = api
        .post(
            "/api/tasks",
            r#"{"title": "Fix the login", "labels": ["ui"]}"#,
        )
        .await;
    check(&doc, "post", "/api/tasks", &reply);
    let id = reply.json()["id"].as_i64().unwrap();
    let other = api.add_task("Add dark mode").await;
    let edited = api
        .patch(
            &format!("/api/tasks/{id}"),
            r#"{"priority": 2, "body": "details"}"#,
        )
        .await;
    check(&doc, "patch", t, &edited);
    check(
        &doc,
        "post",
        "/api/tasks/{id}/progress",
        &api.post(
            &format!("/api/tasks/{id}/progress"),
            r#"{"text": "reading"}"#,
        )
        .await,
    );
    let run = api.start_run(id);
    check(
        &doc,
        "post",
        "/api/tasks/{id}/propose",
        &api.post(
            &format!("/api/tasks/{id}/propose"),
            r#"{"title": "Cache the config", "body": "It is parsed twice."}"#,
        )
        .await,
    );
    check(
        &doc,
        "post",
        "/api/tasks/{id}/propose",
        &api.post(
            &format!("/api/tasks/{id}/propose"),
            r#"{"title": "Cache the config"}"#,
        )
        .await,
    );
    check(
        &doc,
        "post",
        "/api/tasks/{id}/ask",
        &api.post(&format!("/api/tasks/{id}/ask"), r#"{"question": "Which?"}"#)
            .await,
    );

    api.board()
        .store()
        .announce_host("daemon:a:1:", &["gpu".to_string()], 1, Some(2), None)
        .unwrap();
    for (path, uri) in [
        ("/api/tasks", "/api/tasks".to_string()),
        ("/api/status", "/api/status".to_string()),
        ("/api/projects", "/api/projects".to_string()),
        ("/api/usage", "/api/usage".to_string()),
        (
            "/api/usage/breakdown",
            "/api/usage/breakdown?by=model".to_string(),
        ),
        ("/api/events", "/api/events?limit=5".to_string()),
        ("/api/events/recent", "/api/events/recent".to_string()),
        ("/api/queue", "/api/queue".to_string()),
        ("/api/workers", "/api/workers".to_string()),
        (t, format!("/api/tasks/{id}")),
        ("/api/tasks/{id}/events", format!("/api/tasks/{id}/events")),
        ("/api/tasks/{id}/diff", format!("/api/tasks/{id}/diff")),
        ("/api/runs/{id}", format!("/api/runs/{run}")),
        ("/api/runs/{id}/events", format!("/api/runs/{run}/events")),
        ("/api/openapi.json", "/api/openapi.json".to_string()),
        ("/metrics", "/metrics".to_string()),
    ] {
        check(&doc, "get", path, &api.get(&uri).await);
    }
    let reply = api
        .post(
            &format!("/api/tasks/{other}/cancel"),
            r#"{"reason": "not now"}"#,
        )
        .await;
    check(&doc, "post", "/api/tasks/{id}/cancel", &reply);
    for (path, body) in [
        ("/api/tasks/{id}/revert", ""),
        ("/api/tasks/{id}/move", r#"{"to": 1}"#),
    ] {
        let uri = path.replace("{id}", &id.to_string());
        check(&doc, "post", path, &api.post(&uri, body).await);
    }
    let scoped = api
        .patch(
            &format!("/api/tasks/{id}"),
            r#"{"write_scope": ["src/**"], "remove_deps": [1]}"#,
        )
        .await;
    check(&doc, "patch", t, &scoped);
    // Taken over by hand (refused in the backlog), then handed back.
    let by_hand = api.add_task("Do it by hand").await;
    let attach = "/api/tasks/{id}/attach";
    let refused = api.post(&format!("/api/tasks/{by_hand}/attach"), "").await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text);
    check(&doc, "post", attach, &refused);
    board
        .act(
            gaffer_core::TaskId(by_hand),
            gaffer_core::Input::Promote,
            "test",
        )
        .unwrap();
    let reply = api.post(&format!("/api/tasks/{by_hand}/attach"), "").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    check(&doc, "post", attach, &reply);
    let reply = api.post(&format!("/api/tasks/{by_hand}/release"), "").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    check(&doc, "post", "/api/tasks/{id}/release", &reply);
    let reply = api.post("/api/scale", r#"{"concurrency": 3}"#).await;
    check(&doc, "post", "/api/scale", &reply);
    let reply = api.post("/api/clean", "").await;
    check(&doc, "post", "/api/clean", &reply);
    let reply = api
        .post(
            "/api/worker-tokens",
            r#"{"name": "gpu box", "labels": ["gpu"]}"#,
        )
        .await;
    check(&doc, "post", "/api/worker-tokens", &reply);
    let token = reply.json()["token"]["id"].as_i64().unwrap();
    check(
        &doc,
        "post",
        "/api/worker-tokens",
        &api.post("/api/worker-tokens", r#"{"labels": []}"#).await,
    );
    let revoke = "/api/worker-tokens/{id}/revoke";
    for _ in 0..2 {
        let reply = api
            .post(&format!("/api/worker-tokens/{token}/revoke"), "")
            .await;
        check(&doc, "post", revoke, &reply);
    }
    check(
        &doc,
        "get",
        "/api/worker-tokens",
        &api.get("/api/worker-tokens").await,
    );

    // Errors have the documented shape too.
    check(&doc, "get", t, &api.get("/api/tasks/999").await);
    check(
        &doc,
        "get",
        "/api/tasks",
        &api.get("/api/tasks?status=done").await,
    );
    check(
        &doc,
        "post",
        "/api/tasks/{id}/approve",
        &api.post(&format!("/api/tasks/{id}/approve"), "").await,
    );
    check(
        &doc,
        "patch",
        t,
        &api.patch(&format!("/api/tasks/{other}"), r#"{"priority": 1}"#)
            .await,
    );
    check(
        &doc,
        "post",
        "/api/tasks",
        &api.post("/api/tasks", r#"{"title": 5}"#).await,
    );
    check(
        &doc,
        "get",
        "/api/usage/breakdown",
        &api.get("/api/usage/breakdown").await,
    );
    check(
        &doc,
        "post",
        "/api/worker-tokens",
        &api.post("/api/worker-tokens", r#"{"labels": ["two words"]}"#)
            .await,
    );
    check(
        &doc,
        "post",
        "/api/worker-tokens/{id}/revoke",
        &api.post("/api/worker-tokens/999/revoke", "").await,
    );

    // Without the token, and with a run's token where it does not reach.
    let reply = api
        .call(
            Request::get("/api/tasks")
                .header(header::COOKIE, "gaffer_token=wrong")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.text);
    check(&doc, "get", "/api/tasks", &reply);
    let token = board.run_access().issue(gaffer_core::TaskId(id), run);
    let reply = api
        .call(
            Request::post(format!("/api/tasks/{id}/approve"))
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .header("x-gaffer", "1")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text);
    check(&doc, "post", "/api/tasks/{id}/approve", &reply);
}

/// Every operation but the health check and the dashboard's files needs a token and says so
/// (401 and 403 documented), and only the three reports accept a run's token.
#[test]
fn the_document_says_who_may_call_what() {
    let doc = document();
    let public = [("/healthz", "get"), ("/", "get"), ("/assets/{path}", "get")];
    let reports = [
        "/api/tasks/{id}/progress",
        "/api/tasks/{id}/ask",
        "/api/tasks/{id}/propose",
    ];
    assert_eq!(doc["security"], json!([{"bearer": []}, {"cookie": []}]));
    for (path, method) in documented(&doc) {
        let op = &doc["paths"][&path][&method];
        if public.contains(&(path.as_str(), method.as_str())) {
            assert_eq!(op["security"], json!([]), "{method} {path} needs no token");
            continue;
        }
        for code in ["401", "403"] {
            assert!(
                op["responses"].get(code).is_some(),
                "{method} {path} does not document {code}"
            );
        }
        let run_token = op["security"]
            .as_array()
            .is_some_and(|s| s.iter().any(|r| r.get("runToken").is_some()));
        assert_eq!(
            run_token,
            method == "post" && reports.contains(&path.as_str()),
            "{method} {path}: runToken"
        );
    }
}

/// What is wrong with `instance` against the schema at `pointer` in the document, validated
/// where it sits so that its $refs resolve.
fn violations_at(doc: &Value, pointer: &str, instance: &Value) -> Vec<String> {
    let mut root = doc.clone();
    root.as_object_mut()
        .unwrap()
        .insert("$ref".into(), json!(pointer));
    let validator = jsonschema::draft202012::new(&root).unwrap();
    validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

/// What is wrong with `instance` as the request body of `method path`.
fn body_violations(doc: &Value, method: &str, path: &str, instance: &Value) -> Vec<String> {
    let pointer = format!(
        "#/paths/{}/{method}/requestBody/content/application~1json/schema",
        escape(path).replace('{', "%7B").replace('}', "%7D")
    );
    violations_at(doc, &pointer, instance)
}

/// The document is checked against the protocol's types: every action of `gaffer_api::Action`
/// has its route, and the body every client sends for it is one the document accepts.
#[test]
fn every_action_of_the_protocol_is_documented_with_the_body_clients_send() {
    use gaffer_api::Action;
    let doc = document();
    let actions = [
        Action::Cancel { reason: None },
        Action::Cancel {
            reason: Some("dup".into()),
        },
        Action::Retry { fresh: false },
        Action::Retry { fresh: true },
        Action::Approve,
        Action::Reject {
            reason: "no tests".into(),
            cancel: true,
        },
        Action::Answer { text: "yes".into() },
        Action::Accept,
        Action::Decline {
            reason: Some("later".into()),
        },
        Action::Budget { usd: Some(1.5) },
        Action::Budget { usd: None },
        Action::Revert,
        Action::Move {
            to: gaffer_api::Place::To(2),
        },
        Action::Move {
            to: gaffer_api::Place::Before(gaffer_core::TaskId(3)),
        },
        Action::Move {
            to: gaffer_api::Place::After(gaffer_core::TaskId(3)),
        },
        Action::Say {
            text: "use the v2 API".into(),
        },
        Action::Attach,
        Action::Release,
    ];
    let mut named: BTreeSet<&str> = BTreeSet::new();
    for action in &actions {
        named.insert(action.name());
        let path = format!("/api/tasks/{{id}}/{}", action.name());
        let op = &doc["paths"][&path]["post"];
        assert!(op.is_object(), "{path} is not documented");
        let body = action.body();
        if op.get("requestBody").is_some() {
            assert_eq!(
                body_violations(&doc, "post", &path, &body),
                Vec::<String>::new(),
                "{path} with {body}"
            );
        } else {
            assert_eq!(body, json!({}), "{path} documents no body");
        }
    }
    assert_eq!(named, Action::NAMES.into_iter().collect());
}
