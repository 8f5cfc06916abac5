//! kosoku, the Python 3 runner of Autobahn's case files, in a virtual environment of its own.
//!
//! `python3 -m venv .venv-autobahn` then `pip install kosoku==0.1.0`: one wheel (a Rust runner
//! built with PyO3, and Autobahn's case files), nothing else. `/.venv*` is in `.gitignore`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The version the results were made with.
pub const VERSION: &str = "0.1.0";

/// The virtual environment's folder, in the workspace.
pub fn venv(root: &Path) -> PathBuf {
    root.join(".venv-autobahn")
}

/// The `kosoku` command in the virtual environment.
pub fn command(root: &Path) -> PathBuf {
    venv(root).join("bin/kosoku")
}

/// Makes the virtual environment and installs kosoku into it, unless that version is there.
pub fn ensure(root: &Path) -> anyhow::Result<()> {
    let venv = venv(root);
    let pip = venv.join("bin/pip");
    let installed = Command::new(&pip).args(["show", "kosoku"]).output();
    if let Ok(output) = installed
        && String::from_utf8_lossy(&output.stdout).lines().any(|l| l == format!("Version: {VERSION}"))
    {
        return Ok(());
    }
    if !pip.exists() {
        eprintln!("making a Python virtual environment in {}", venv.display());
        let status =
            Command::new("python3").args(["-m", "venv"]).arg(&venv).status().map_err(|e| {
                anyhow::anyhow!("cannot run python3 ({e}): kosoku needs Python 3.10 or later")
            })?;
        anyhow::ensure!(
            status.success(),
            "python3 -m venv failed ({status}); on Debian and Ubuntu, install the package python3-venv"
        );
    }
    eprintln!("installing kosoku {VERSION} (Autobahn's cases under Python 3) with pip");
    let status = Command::new(&pip)
        .args(["install", "--quiet", "--disable-pip-version-check"])
        .arg(format!("kosoku=={VERSION}"))
        .status()?;
    anyhow::ensure!(status.success(), "pip could not install kosoku=={VERSION} ({status})");
    Ok(())
}

/// Runs the whole suite against `url`, `parallel` cases at a time, writing Autobahn's reports
/// (`index.json` and one file per case) into `out`.
///
/// kosoku's exit status says whether every case passed; an UNIMPLEMENTED case (compression
/// against a server without it) counts as not passed, so the status is not what decides here:
/// `index.json` is.
pub fn run(root: &Path, url: &str, parallel: usize, out: &Path) -> anyhow::Result<()> {
    if out.exists() {
        std::fs::remove_dir_all(out)?;
    }
    std::fs::create_dir_all(out)?;
    let output = Command::new(command(root))
        .args(["-p", &parallel.to_string(), "-o"])
        .arg(out)
        .arg(url)
        .output()
        .map_err(|e| anyhow::anyhow!("cannot run kosoku ({e})"))?;
    std::fs::write(out.join("kosoku.log"), [output.stdout.as_slice(), output.stderr.as_slice()].concat())?;
    anyhow::ensure!(
        out.join("index.json").exists(),
        "kosoku wrote no index.json ({}); its output is in {}",
        output.status,
        out.join("kosoku.log").display()
    );
    Ok(())
}
