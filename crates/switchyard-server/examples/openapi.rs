//! Prints the server's OpenAPI document (what `GET /api/openapi.json` serves) without starting
//! a server: `cargo run -p switchyard-server --example openapi > openapi.json`.

fn main() {
    match switchyard_server::openapi::document_json() {
        Ok(text) => println!("{text}"),
        Err(error) => {
            eprintln!("openapi: {error}");
            std::process::exit(1);
        }
    }
}
