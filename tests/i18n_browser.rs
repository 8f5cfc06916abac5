//! The Chinese edition in a real browser: mdbook's search box finds Chinese words (its own index
//! would not: mdBook#1081), the live demo speaks Chinese on a Chinese page, and the language switch
//! leads to the same page in English.
//!
//! These tests need the Debian packages `chromium` and `chromium-driver`, so a plain `cargo test`
//! ignores them; `.ci/run` runs them (`cargo test -p duplex-tests --test i18n_browser -- --ignored`).
//! The searches use the pages the sample translation covers (introduction, glossary, the heartbeat
//! chapter's first page and its page on endings); a fuller translation only finds more.

#![allow(clippy::unwrap_used, reason = "in a test, a panic is a failure with a line number")]
#![cfg(unix)]

#[path = "support/chromium.rs"]
mod chromium;

use chromium::Browser;
use fantoccini::Locator;

fn base(server: &duplex::server::Running) -> String {
    format!("http://{}", server.addr())
}

/// Types `query` into mdbook's search box (opening it first if it is closed) and returns the
/// links of the results, once the results say they are for `query`.
async fn search(browser: &Browser, query: &str) -> Vec<String> {
    let bar = browser.client.find(Locator::Css("#mdbook-searchbar")).await.unwrap();
    if !bar.is_displayed().await.unwrap() {
        browser.click("#mdbook-search-toggle").await;
    }
    bar.clear().await.unwrap();
    bar.send_keys(query).await.unwrap();
    browser.wait_for(&format!("//*[@id='mdbook-searchresults-header' and contains(., '{query}')]")).await;
    let mut links = Vec::new();
    for link in browser.client.find_all(Locator::Css("#mdbook-searchresults li a")).await.unwrap() {
        links.push(link.attr("href").await.unwrap().unwrap_or_default());
    }
    links
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs chromium and chromedriver: `apt-get install chromium chromium-driver` (.ci/run installs them)"]
async fn searching_chinese_words_in_the_chinese_edition_finds_their_pages() {
    let server = duplex_tests::book_server();
    let browser = Browser::start(false).await;
    browser.goto(&format!("{}/zh/index.html", base(&server))).await;
    for (query, pages) in [
        ("握手", ["glossary.html", "introduction.html"]),
        ("心跳", ["glossary.html", "heartbeat/index.html"]),
        ("关闭码", ["glossary.html", "heartbeat/endings.html"]),
    ] {
        let links = search(&browser, query).await;
        for page in pages {
            // A result links `page.html?highlight=…#section`, relative to this page.
            assert!(
                links
                    .iter()
                    .any(|l| l.starts_with(&format!("{page}?")) || l.starts_with(&format!("{page}#"))),
                "searching {query} should find {page}; the results link {links:?}"
            );
        }
    }
    // The English edition's search is mdbook's own, unchanged.
    browser.goto(&format!("{}/index.html", base(&server))).await;
    let links = search(&browser, "handshake").await;
    assert!(links.iter().any(|l| l.starts_with("glossary.html")), "{links:?}");
    browser.close().await;
    server.stop();
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs chromium and chromedriver: `apt-get install chromium chromium-driver` (.ci/run installs them)"]
async fn a_chinese_pages_live_demo_speaks_chinese_and_its_switch_leads_to_the_english_page() {
    let server = duplex_tests::book_server();
    let browser = Browser::start(false).await;
    browser.goto(&format!("{}/zh/echo/live.html", base(&server))).await;
    browser.click(".duplex-echo [data-action='connect']").await;
    browser.wait_for("//*[@data-role='state' and contains(., 'OPEN (1)')]").await;
    browser.wait_for("//button[@data-action='send-text' and .='发送文本']").await;
    let input = browser.client.find(Locator::Css(".duplex-echo [data-role='message']")).await.unwrap();
    input.clear().await.unwrap();
    input.send_keys("你好，回声").await.unwrap();
    browser.click(".duplex-echo [data-action='send-text']").await;
    browser.wait_for("//li[@data-kind='in' and contains(., '← 文本') and contains(., '你好，回声')]").await;

    browser.click("a.duplex-language").await;
    browser.wait_for("//html[@lang='en']").await;
    browser.wait_for("//button[@data-action='connect' and .='Connect']").await;
    let url = browser.client.current_url().await.unwrap();
    assert_eq!(url.path(), "/echo/live.html", "the switch leads to the same page in English");
    browser.close().await;
    server.stop();
}
