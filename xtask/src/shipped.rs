//! The release build of every wasm module that ships (the npm package's and the
//! viewer's), tuned for size: bulk crypto runs in SubtleCrypto, so the Rust code
//! is small control logic whose speed hardly matters, while every kilobyte is
//! downloaded by each recipient.
//!
//! Beyond `opt-level = "z"`, fat LTO and one codegen unit, the standard library is
//! rebuilt with the module (`-Zbuild-std`) so that a panic is an immediate trap
//! (`-Cpanic=immediate-abort`) and carries no source location
//! (`-Zlocation-detail=none`): the panic formatting machinery, its messages and
//! the file paths are not linked. The open page's module loses 23 KB gzipped
//! (172.0 → 149.6 KB). These flags are unstable, so the build sets
//! `RUSTC_BOOTSTRAP=1` for this one command: the compiler is the installed stable
//! one, only its unstable switches are unlocked. The cost: a panic in a shipped
//! module shows as `RuntimeError: unreachable` with no message (the workspace
//! lints forbid `unwrap`, `expect` and `panic!`, so panics are bugs), and a rustc
//! update can rename these switches; the wasm tests build without them.
//!
//! The workspace's release profile (the relay's) is untouched: everything is set
//! through the environment of this one `cargo build`.

use std::path::PathBuf;

use crate::setup::WASM_TARGET;
use crate::{Result, root, run_in, target_dir};

/// The flags `.cargo/config.toml` gives every wasm32 build (RUSTFLAGS replaces
/// them, so they are repeated here; a test keeps the two in step).
const CONFIG_RUSTFLAGS: &[&str] = &[
    "--cfg",
    "sha2_backend_soft=\"compact\"",
    "--cfg",
    "aes_backend_soft=\"compact\"",
];

/// The unstable size switches described above.
const SIZE_RUSTFLAGS: &[&str] = &[
    "-Zunstable-options",
    "-Cpanic=immediate-abort",
    "-Zlocation-detail=none",
];

/// Builds `package`'s cdylib with `features` for the browser and returns the
/// path of the `.wasm` (before wasm-bindgen).
///
/// # Errors
/// The build failed.
pub fn build(package: &str, features: &str) -> Result<PathBuf> {
    // RUSTFLAGS as one string: the cfg values hold quotes but no spaces.
    let rustflags = CONFIG_RUSTFLAGS
        .iter()
        .chain(SIZE_RUSTFLAGS)
        .copied()
        .collect::<Vec<_>>()
        .join(" ");
    run_in(
        &root(),
        "cargo",
        &[
            "build",
            "-p",
            package,
            "--lib",
            "--features",
            features,
            "--target",
            WASM_TARGET,
            "--release",
            "-Zbuild-std=std,panic_abort",
        ],
        &[
            ("RUSTC_BOOTSTRAP", "1"),
            ("RUSTFLAGS", &rustflags),
            ("CARGO_PROFILE_RELEASE_OPT_LEVEL", "z"),
            ("CARGO_PROFILE_RELEASE_LTO", "fat"),
            ("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "1"),
            ("CARGO_PROFILE_RELEASE_PANIC", "abort"),
        ],
    )?;
    let lib = package.replace('-', "_");
    Ok(target_dir().join(format!("{WASM_TARGET}/release/{lib}.wasm")))
}

#[cfg(test)]
mod tests {
    use super::CONFIG_RUSTFLAGS;

    /// RUSTFLAGS replaces the config's wasm32 rustflags, so the shipped build
    /// must repeat each of them.
    #[test]
    fn repeats_the_configured_wasm_flags() {
        let config =
            std::fs::read_to_string(crate::root().join(".cargo/config.toml")).unwrap_or_default();
        let line = config
            .lines()
            .find(|l| l.starts_with("rustflags"))
            .unwrap_or_default();
        let configured: Vec<String> = line
            .split('\'')
            .skip(1)
            .step_by(2)
            .map(str::to_owned)
            .collect();
        assert_eq!(configured, CONFIG_RUSTFLAGS);
    }
}
