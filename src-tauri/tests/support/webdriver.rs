//! A small W3C WebDriver client over reqwest: just the calls the app's
//! end-to-end test needs (sessions, finding, clicking, typing, reading,
//! window size, screenshots). `tauri-driver` forwards them to Debian's
//! `WebKitWebDriver`, which drives the app's real WebKitGTK window.

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

pub struct Session {
    http: reqwest::Client,
    base: String,
}

#[derive(Clone)]
pub struct Element(String);

impl Session {
    /// Starts the app at `application` through the driver at `driver`.
    pub async fn start(driver: &str, application: &str) -> Result<Self> {
        Self::start_with(
            driver,
            json!({"browserName": "wry", "tauri:options": {"application": application}}),
        )
        .await
    }

    /// A session of any browser the driver at `driver` serves (Chromium
    /// through chromedriver, for the dashboard), with `caps` to match.
    pub async fn start_with(driver: &str, caps: Value) -> Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()?;
        let caps = json!({"capabilities": {"alwaysMatch": caps}});
        let v: Value = http
            .post(format!("{driver}/session"))
            .json(&caps)
            .send()
            .await?
            .json()
            .await?;
        let id = v["value"]["sessionId"]
            .as_str()
            .with_context(|| format!("no session: {v}"))?
            .to_owned();
        Ok(Self {
            http,
            base: format!("{driver}/session/{id}"),
        })
    }

    async fn cmd(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Result<Value> {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let v: Value = req.send().await?.json().await?;
        if let Some(err) = v["value"]["error"].as_str() {
            bail!("webdriver {path}: {err}: {}", v["value"]["message"]);
        }
        Ok(v["value"].clone())
    }

    async fn post(&self, path: &str, body: Value) -> Result<Value> {
        self.cmd(reqwest::Method::POST, path, Some(body)).await
    }

    async fn get(&self, path: &str) -> Result<Value> {
        self.cmd(reqwest::Method::GET, path, None).await
    }

    pub async fn all(&self, css: &str) -> Result<Vec<Element>> {
        let v = self
            .post("/elements", json!({"using": "css selector", "value": css}))
            .await?;
        Ok(v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| e[ELEMENT].as_str().map(|s| Element(s.to_owned())))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// The first element matching `css`, waiting up to 15 s for it.
    pub async fn find(&self, css: &str) -> Result<Element> {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(e) = self.all(css).await?.into_iter().next() {
                return Ok(e);
            }
            if Instant::now() > deadline {
                bail!("no element {css}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn tid(&self, testid: &str) -> Result<Element> {
        self.find(&format!("[data-testid=\"{testid}\"]")).await
    }

    pub async fn click(&self, testid: &str) -> Result<()> {
        let e = self.tid(testid).await?;
        self.click_el(&e)
            .await
            .with_context(|| format!("clicking {testid}"))
    }

    /// Goes to `url`.
    pub async fn goto(&self, url: &str) -> Result<()> {
        self.post("/url", json!({"url": url})).await?;
        Ok(())
    }

    /// Runs `script` in the page (its last argument is the callback that
    /// ends it) and returns what it passed back.
    pub async fn run_async(&self, script: &str) -> Result<Value> {
        self.post("/execute/async", json!({"script": script, "args": []}))
            .await
    }

    /// Types `text` into the element `css`.
    pub async fn type_css(&self, css: &str, text: &str) -> Result<()> {
        let e = self.find(css).await?;
        self.fill_el(&e, text).await
    }

    /// Clicks the element `css`.
    pub async fn click_css(&self, css: &str) -> Result<()> {
        let e = self.find(css).await?;
        self.click_el(&e).await
    }

    /// Scrolls `testid` to the middle of the window (for a screenshot).
    pub async fn scroll_to(&self, testid: &str) -> Result<()> {
        let e = self.tid(testid).await?;
        self.post(
            "/execute/sync",
            json!({"script": "arguments[0].scrollIntoView({block: 'center'});", "args": [{ELEMENT: e.0}]}),
        )
        .await?;
        Ok(())
    }

    /// Clicks `e` after scrolling it to the middle of the window, clear of
    /// the fixed bottom navigation.
    pub async fn click_el(&self, e: &Element) -> Result<()> {
        self.post(
            "/execute/sync",
            json!({"script": "arguments[0].scrollIntoView({block: 'center'});", "args": [{ELEMENT: e.0}]}),
        )
        .await?;
        self.post(&format!("/element/{}/click", e.0), json!({}))
            .await?;
        Ok(())
    }

    /// Replaces the text of the field `testid` with `text`, as typed keys.
    pub async fn fill(&self, testid: &str, text: &str) -> Result<()> {
        let e = self.tid(testid).await?;
        self.fill_el(&e, text).await
    }

    /// Replaces the text of the field `e` with `text`, as typed keys.
    pub async fn fill_el(&self, e: &Element, text: &str) -> Result<()> {
        self.post(&format!("/element/{}/clear", e.0), json!({}))
            .await?;
        self.post(&format!("/element/{}/value", e.0), json!({"text": text}))
            .await?;
        Ok(())
    }

    /// Chooses the file at `path` in the file input `testid`, as the file
    /// chooser (or the camera) would: WebDriver's keys to a file input.
    pub async fn attach(&self, testid: &str, path: &std::path::Path) -> Result<()> {
        let e = self.tid(testid).await?;
        self.post(
            &format!("/element/{}/value", e.0),
            json!({"text": path.to_string_lossy()}),
        )
        .await
        .with_context(|| format!("attaching {} to {testid}", path.display()))?;
        Ok(())
    }

    /// Sets the date field `testid` to `yyyy-mm-dd` as its picker would:
    /// the value, then `input` and `change` events. (WebKitGTK's date
    /// fields do not take typed keys reliably over WebDriver.)
    pub async fn set_date(&self, testid: &str, day: &str) -> Result<()> {
        let e = self.tid(testid).await?;
        self.post(
            "/execute/sync",
            json!({"script": "const e = arguments[0]; e.value = arguments[1];\
                e.dispatchEvent(new Event('input', {bubbles: true}));\
                e.dispatchEvent(new Event('change', {bubbles: true}));",
                "args": [{ELEMENT: e.0}, day]}),
        )
        .await?;
        Ok(())
    }

    /// The current value of the field `testid`.
    pub async fn value(&self, testid: &str) -> Result<String> {
        let e = self.tid(testid).await?;
        Ok(self
            .get(&format!("/element/{}/property/value", e.0))
            .await?
            .as_str()
            .unwrap_or_default()
            .to_owned())
    }

    /// Waits up to `secs` for the value of the field `testid` to be `want`.
    pub async fn wait_value(&self, testid: &str, secs: u64, want: &str) -> Result<()> {
        let read = async || self.value(testid).await.unwrap_or_default();
        poll(&format!("{testid}'s value"), secs, read, |v| v == want).await?;
        Ok(())
    }

    pub async fn text(&self, testid: &str) -> Result<String> {
        let e = self.tid(testid).await?;
        self.text_el(&e).await
    }

    pub async fn text_el(&self, e: &Element) -> Result<String> {
        Ok(self
            .get(&format!("/element/{}/text", e.0))
            .await?
            .as_str()
            .unwrap_or_default()
            .to_owned())
    }

    /// Waits up to `secs` for `testid`'s text to satisfy `ok`.
    pub async fn wait_text(
        &self,
        testid: &str,
        secs: u64,
        ok: impl Fn(&str) -> bool,
    ) -> Result<String> {
        let read = async || self.text(testid).await.unwrap_or_default();
        match poll(testid, secs, read, ok).await {
            Ok(v) => Ok(v),
            // What the window showed instead, to tell a missing element
            // from a wrong text when it fails far from here (in CI).
            Err(e) => {
                let page = self
                    .run_async("arguments[0](document.body.innerText)")
                    .await
                    .map(|v| {
                        v.as_str()
                            .unwrap_or_default()
                            .chars()
                            .take(800)
                            .collect::<String>()
                    })
                    .unwrap_or_default();
                Err(e.context(format!("the window showed: {page:?}")))
            }
        }
    }

    /// Waits up to `secs` for at least `n` elements to match `css`; how
    /// many do.
    pub async fn wait_count(&self, css: &str, secs: u64, n: usize) -> Result<usize> {
        let read = async || {
            self.all(css)
                .await
                .map(|v| v.len())
                .unwrap_or(0)
                .to_string()
        };
        let got = poll(css, secs, read, |c| {
            c.parse::<usize>().is_ok_and(|c| c >= n)
        })
        .await?;
        Ok(got.parse().unwrap_or(0))
    }

    pub async fn resize(&self, width: u32, height: u32) -> Result<()> {
        self.post("/window/rect", json!({"width": width, "height": height}))
            .await?;
        Ok(())
    }

    /// A PNG of the window.
    pub async fn screenshot(&self) -> Result<Vec<u8>> {
        use base64::Engine;
        let v = self.get("/screenshot").await?;
        Ok(base64::engine::general_purpose::STANDARD.decode(v.as_str().unwrap_or_default())?)
    }

    pub async fn close(self) -> Result<()> {
        self.cmd(reqwest::Method::DELETE, "", None).await?;
        Ok(())
    }
}

/// Reads with `read` every 200 ms until `ok` holds, for up to `secs`.
async fn poll(
    what: &str,
    secs: u64,
    read: impl AsyncFn() -> String,
    ok: impl Fn(&str) -> bool,
) -> Result<String> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let v = read().await;
        if ok(&v) {
            return Ok(v);
        }
        if Instant::now() > deadline {
            bail!("{what} never matched; last {v:?}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
