//! Node.js and its `ws` library, installed by the bench itself into a git-ignored folder.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The `ws` release the comparison uses; pinned so every reader measures the same code.
pub const WS_VERSION: &str = "8.23.0";

/// Where npm installs `ws`: `.bench-cache/node` under the workspace (git-ignored).
pub fn node_dir(root: &Path) -> PathBuf {
    root.join(".bench-cache/node")
}

/// `ws`'s `package.json`, once installed.
pub fn ws_package_json(root: &Path) -> PathBuf {
    node_dir(root).join("node_modules/ws/package.json")
}

/// Installs `ws` with npm unless the pinned version is already there.
pub fn ensure_ws(root: &Path) -> anyhow::Result<()> {
    let installed = std::fs::read_to_string(ws_package_json(root)).unwrap_or_default();
    if installed.contains(&format!("\"version\": \"{WS_VERSION}\"")) {
        return Ok(());
    }
    let dir = node_dir(root);
    std::fs::create_dir_all(&dir)?;
    eprintln!("installing ws@{WS_VERSION} with npm into {}", dir.display());
    let status = Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--no-save", "--prefix"])
        .arg(&dir)
        .arg(format!("ws@{WS_VERSION}"))
        .status()
        .map_err(|e| {
            anyhow::anyhow!("cannot run npm ({e}); install Node.js 18 or later, which brings npm")
        })?;
    anyhow::ensure!(status.success(), "npm could not install ws@{WS_VERSION} ({status})");
    Ok(())
}
