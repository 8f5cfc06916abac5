//! Headless Chromium through chromedriver (WebDriver), for the browser tests (`tests/browser.rs`,
//! `tests/node_browser.rs`). A module of each test, not of the support library, because it needs
//! the test-only dependency fantoccini: `#[path = "support/chromium.rs"] mod chromium;`.
//!
//! chromedriver is started with `--port=0` and says which port it got ("ChromeDriver was started
//! successfully on port N."), so no port is picked here and bound later by someone else (another
//! test binary running beside this one could take it in between, and the session would go to
//! that program). `DUPLEX_CHROMEDRIVER_LOG=FILE` keeps chromedriver's and Chromium's full log, to
//! debug a failure.

#![allow(dead_code, reason = "each test binary uses a part of it")]

use std::os::unix::process::CommandExt as _;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};

/// Longest wait for anything a working browser does in well under a second.
pub const PATIENCE: Duration = Duration::from_secs(60);

fn progress(step: &str) {
    eprintln!("browser test: {step}");
}

fn binary(env: &str, default: &str) -> PathBuf {
    let path = std::env::var_os(env).map_or_else(|| PathBuf::from(default), PathBuf::from);
    assert!(
        path.exists(),
        "{} is not installed: `apt-get install chromium chromium-driver` (Debian), or set {env} \
         to the binary",
        path.display()
    );
    path
}

/// One browser at a time: a Chromium is heavy on a two-core machine.
static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// chromedriver and a headless Chromium with a fresh profile. Dropping it ends both.
pub struct Browser {
    pub client: Client,
    _driver: Driver,
    _profile: tempfile::TempDir,
    _turn: tokio::sync::MutexGuard<'static, ()>,
}

impl Browser {
    /// Starts a browser. With `bfcache` false, the back/forward cache is switched off, so that
    /// leaving a page always unloads it.
    pub async fn start(bfcache: bool) -> Browser {
        Browser::start_with(bfcache, &[]).await
    }

    /// Starts a browser with more command-line switches (such as
    /// `--ignore-certificate-errors`, for a test server's own certificate).
    pub async fn start_with(bfcache: bool, extra: &[&str]) -> Browser {
        let turn = TURN.lock().await;
        let chromium = binary("CHROMIUM", "/usr/bin/chromium");
        let chromedriver = binary("CHROMEDRIVER", "/usr/bin/chromedriver");
        let mut command = Command::new(chromedriver);
        command.arg("--port=0");
        match std::env::var_os("DUPLEX_CHROMEDRIVER_LOG") {
            Some(file) => command
                .arg("--verbose")
                .arg(format!("--log-path={}", PathBuf::from(file).display()))
                .arg("--append-log"),
            None => command.arg("--log-level=WARNING"),
        };
        // Its own process group, which the Chromium it starts joins: dropping the `Driver` ends
        // both, also when the test fails before the session opens.
        let mut driver = Driver(
            command
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .process_group(0)
                .spawn()
                .expect("chromedriver starts"),
        );
        let stdout = driver.0.stdout.take().expect("chromedriver's stdout");
        let port = tokio::time::timeout(PATIENCE, chromedriver_port(stdout)).await.unwrap_or_else(|_| {
            panic!("chromedriver did not say which port it listens on within {PATIENCE:?}")
        });
        let profile = tempfile::tempdir().expect("a profile folder");
        let mut args = vec![
            "--headless".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--no-first-run".to_owned(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        if !bfcache {
            args.push("--disable-features=BackForwardCache".to_owned());
        }
        args.extend(extra.iter().map(|a| (*a).to_owned()));
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("pageLoadStrategy".to_owned(), serde_json::json!("eager"));
        capabilities.insert(
            "goog:chromeOptions".to_owned(),
            serde_json::json!({ "binary": chromium.display().to_string(), "args": args }),
        );
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("chromedriver starts a Chromium session");
        let timeouts = fantoccini::wd::TimeoutConfiguration::new(Some(PATIENCE), Some(PATIENCE), None);
        client.update_timeouts(timeouts).await.expect("chromedriver accepts timeouts");
        progress("a Chromium session is open");
        Browser { client, _driver: driver, _profile: profile, _turn: turn }
    }

    pub async fn goto(&self, url: &str) {
        progress(&format!("goto {url}"));
        self.client.goto(url).await.unwrap_or_else(|e| panic!("the browser should load {url}: {e}"));
    }

    pub async fn click(&self, css: &str) {
        progress(&format!("click {css}"));
        self.wait_for(css).await.click().await.unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    /// Waits until an element matches `selector` (CSS, or XPath if it starts with `/`).
    pub async fn wait_for(&self, selector: &str) -> fantoccini::elements::Element {
        progress(&format!("wait for {selector}"));
        let locator =
            if selector.starts_with('/') { Locator::XPath(selector) } else { Locator::Css(selector) };
        self.client
            .wait()
            .at_most(PATIENCE)
            .for_element(locator)
            .await
            .unwrap_or_else(|e| panic!("the page should show {selector} within {PATIENCE:?}: {e}"))
    }

    /// Types `text` into the input that matches `css`, in place of what it held.
    pub async fn type_into(&self, css: &str, text: &str) {
        let input = self.wait_for(css).await;
        input.clear().await.unwrap_or_else(|e| panic!("clear {css}: {e}"));
        input.send_keys(text).await.unwrap_or_else(|e| panic!("type into {css}: {e}"));
    }

    /// The text of the page's log entry of `kind` (`<li data-kind=KIND>`), once there is one.
    pub async fn entry(&self, kind: &str) -> String {
        let element = self.wait_for(&format!("#log li[data-kind='{kind}']")).await;
        element.text().await.unwrap_or_else(|e| panic!("the text of {kind}: {e}"))
    }

    /// Every entry of the page's log, one line each, as `kind: text`.
    pub async fn log(&self) -> String {
        let script = "return Array.from(document.querySelectorAll('#log li'), \
                      (li) => `${li.dataset.kind}: ${li.textContent}`).join('\\n');";
        let value = self.client.execute(script, vec![]).await.expect("the page's log");
        format!("{}\n", value.as_str().unwrap_or_default())
    }

    pub async fn close(self) {
        progress("closing the session");
        let _ = tokio::time::timeout(PATIENCE, self.client.clone().close()).await;
    }
}

/// The port chromedriver listens on, from the line it prints once it listens (`ChromeDriver was
/// started successfully on port 41235.`, since chromedriver 128 or so; the first line, `Starting
/// ChromeDriver … on port 0`, only repeats the flag). The rest of its output is read and dropped,
/// so that a full pipe never blocks it.
async fn chromedriver_port(stdout: std::process::ChildStdout) -> u16 {
    use std::io::BufRead;
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let mut tx = Some(tx);
        let mut seen = Vec::new();
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("started successfully on port ").nth(1)
                && let Some(tx) = tx.take()
            {
                let _ = tx.send(rest.trim_end_matches('.').trim().parse::<u16>().map_err(|_| line.clone()));
            } else if tx.is_some() {
                seen.push(line);
            }
        }
        // chromedriver ended (or closed its output) without naming a port.
        if let Some(tx) = tx {
            let _ = tx.send(Err(seen.join("\n")));
        }
    });
    match rx.await {
        Ok(Ok(port)) => port,
        Ok(Err(said)) => panic!(
            "chromedriver --port=0 should print the port it took (\"started successfully on port N\"; \
             older versions do not, 128 does). It printed:\n{said}"
        ),
        Err(_) => panic!("chromedriver's output ended before it named its port"),
    }
}

/// The chromedriver process, ended with the Chromium it started when this is dropped.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        // Also when a test fails half-way: chromedriver and the Chromium it started share a
        // process group whose id is the driver's process id.
        let group = format!("-{}", self.0.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
