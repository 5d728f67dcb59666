//! Points the embedded viewer (`src/www.rs`) at `www/dist` when `cargo xtask viewer`
//! has built it, else at an empty folder, so a fresh clone builds (and answers `/s`
//! with the placeholder page).

use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let www = manifest.join("../www");
    let dist = www.join("dist");
    // Rebuilt when the viewer is (re)built: cargo scans the folder recursively.
    // (A missing path would make cargo rerun this script on every build.)
    // The migrations are embedded by `sqlx::migrate!`: a new one must rebuild.
    println!("cargo:rerun-if-changed=migrations");
    if www.is_dir() {
        println!("cargo:rerun-if-changed={}", www.display());
    } else {
        println!("cargo:rerun-if-changed=build.rs");
    }
    let folder = if dist.join("s.html").is_file() {
        dist
    } else {
        let empty =
            PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default()).join("no-viewer");
        if let Err(e) = std::fs::create_dir_all(&empty) {
            println!("cargo:warning=cannot create {}: {e}", empty.display());
        }
        empty
    };
    println!("cargo:rustc-env=ONESHARE_WWW_DIST={}", folder.display());
}
