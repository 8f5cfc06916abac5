//! Headless Chromium through chromedriver (WebDriver), for the browser tests of the JavaScript
//! pages (`tests/node_browser.rs`). A module of the test, not of the support library, because it
//! needs the test-only dependency fantoccini: `#[path = "support/chromium.rs"] mod chromium;`.
//!
//! chromedriver is started with `--port=0` and says which port it got ("ChromeDriver was started
//! successfully on port N."), so no port is picked here and bound later by someone else.

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
    driver: Child,
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
        // Its own process group, which the Chromium it starts joins: Drop ends both.
        let mut driver = Command::new(chromedriver)
            .args(["--port=0", "--log-level=WARNING"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .process_group(0)
            .spawn()
            .expect("chromedriver starts");
        let stdout = driver.stdout.take().expect("chromedriver's stdout");
        // The port, from chromedriver's first lines; then the rest of its output is read and
        // dropped, so that it never writes into a closed pipe.
        let (port, port_said) = tokio::sync::oneshot::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            let mut port = Some(port);
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(rest) = line.split("started successfully on port ").nth(1)
                    && let Some(sender) = port.take()
                {
                    let _ = sender.send(rest.trim_end_matches('.').trim().parse::<u16>().ok());
                }
            }
        });
        let port = tokio::time::timeout(PATIENCE, port_said)
            .await
            .expect("chromedriver says its port within the patience")
            .expect("chromedriver says `started successfully on port N` before it ends")
            .expect("a port number");
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
        Browser { client, driver, _profile: profile, _turn: turn }
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

impl Drop for Browser {
    fn drop(&mut self) {
        // Also when a test fails half-way: chromedriver and the Chromium it started share a
        // process group whose id is the driver's process id.
        let group = format!("-{}", self.driver.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
