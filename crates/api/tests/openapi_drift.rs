//! The committed OpenAPI document changes only on purpose: regenerate it with
//! `ppe openapi > openapi/openapi.json` when the API changes.

#[test]
fn committed_openapi_matches_the_code() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ppe"))
        .arg("openapi")
        .output()
        .expect("run ppe openapi");
    assert!(out.status.success());
    let generated = String::from_utf8(out.stdout).expect("utf-8");
    let committed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../openapi/openapi.json"
    ))
    .expect("openapi/openapi.json");
    assert!(
        generated == committed,
        "openapi/openapi.json is stale: run `cargo run -p ppe-api -- openapi > openapi/openapi.json`"
    );
}

#[test]
fn every_operation_documents_its_errors_as_problems() {
    let doc: serde_json::Value =
        serde_json::from_str(&ppe_api::openapi::document_json()).expect("json");
    let paths = doc["paths"].as_object().expect("paths");
    assert!(paths.len() >= 15);
    for (path, ops) in paths {
        for (method, op) in ops.as_object().expect("ops") {
            for (status, resp) in op["responses"].as_object().expect("responses") {
                if status.starts_with('4') || status.starts_with('5') {
                    assert!(
                        resp["content"].get("application/problem+json").is_some(),
                        "{method} {path} {status} is not a problem document"
                    );
                }
            }
        }
    }
}
