//! Extracts the Swagger UI files `/docs` serves from the zip that `utoipa-swagger-ui-vendored` (crates.io)
//! carries, into `OUT_DIR/swagger-ui/`. Nothing is downloaded: the build works offline.
//!
//! Only what the page needs is kept (bundle, stylesheet, favicon, license and notice): ~1.6 MB instead of
//! the ~11 MB `dist/` (source maps, ES bundles) that `utoipa-swagger-ui` would embed in the bootstrap.

use std::error::Error;
use std::io::{Cursor, Read};
use std::path::Path;

/// Files served under `/docs/`, by their path in the upstream archive (below its top-level folder).
const FILES: &[&str] = &[
    "dist/swagger-ui-bundle.js",
    "dist/swagger-ui.css",
    "dist/favicon-32x32.png",
    "LICENSE",
    "NOTICE",
];

fn main() -> Result<(), Box<dyn Error>> {
    println!("cargo:rerun-if-changed=build.rs");
    let out = Path::new(&std::env::var("OUT_DIR")?).join("swagger-ui");
    std::fs::create_dir_all(&out)?;
    let mut zip =
        zip::ZipArchive::new(Cursor::new(utoipa_swagger_ui_vendored::SWAGGER_UI_VENDORED))?;
    let top = zip
        .file_names()
        .find_map(|name| name.split('/').next())
        .ok_or("the vendored Swagger UI archive is empty")?
        .to_owned();
    for file in FILES {
        let mut entry = zip.by_name(&format!("{top}/{file}"))?;
        let mut bytes = Vec::with_capacity(usize::try_from(entry.size())?);
        entry.read_to_end(&mut bytes)?;
        let name = file.rsplit('/').next().unwrap_or(file);
        std::fs::write(out.join(name), bytes)?;
    }
    // The Swagger UI version, for the page and the asset cache key.
    let version = top.trim_start_matches("swagger-ui-");
    println!("cargo:rustc-env=SWAGGER_UI_VERSION={version}");
    Ok(())
}
