//! Headless Chromium, for tests that look at a page as a person would: a screenshot (checked
//! for ink) and the DOM after scripts ran.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::TempDir;

/// How long one browser run may take before the test gives up on it.
const RUN_LIMIT: Duration = Duration::from_secs(90);

/// A Chromium that started on this machine, with a fresh profile.
pub struct Browser {
    program: PathBuf,
    profile: TempDir,
}

impl Browser {
    /// Chromium (`HASTE_CHROMIUM`, else `chromium`, `chromium-browser`, `google-chrome` on
    /// PATH), after checking that it starts and renders; `None` after printing `SKIP:` and
    /// why, where it is missing or cannot start.
    pub fn start(test: &str) -> Option<Browser> {
        let candidates: Vec<PathBuf> = match std::env::var_os("HASTE_CHROMIUM") {
            Some(path) => vec![PathBuf::from(path)],
            None => ["chromium", "chromium-browser", "google-chrome"]
                .iter()
                .filter_map(|name| on_path(name))
                .collect(),
        };
        let Some(program) = candidates.into_iter().next() else {
            eprintln!(
                "SKIP: {test}: no Chromium on this machine (scripts/bootstrap installs Debian's `chromium`)"
            );
            return None;
        };
        let browser = Browser { program, profile: TempDir::new("chromium-profile") };
        let probe = browser.profile.write("probe.html", "<!DOCTYPE html><p id=probe>ok</p>");
        match browser.dump_dom(&probe) {
            Ok(dom) if dom.contains("id=\"probe\"") => Some(browser),
            Ok(dom) => {
                eprintln!(
                    "SKIP: {test}: Chromium started but rendered nothing: {}",
                    dom.chars().take(200).collect::<String>()
                );
                None
            }
            Err(error) => {
                eprintln!("SKIP: {test}: Chromium cannot start here: {error}");
                None
            }
        }
    }

    fn run(&self, extra: &[String], page: &Path) -> Result<String, String> {
        let mut child = Command::new(&self.program)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                "--virtual-time-budget=3000",
            ])
            .arg(format!("--user-data-dir={}", self.profile.path().join("profile").display()))
            .args(extra)
            .arg(format!("file://{}", page.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|error| format!("{}: {error}", self.program.display()))?;
        let started = Instant::now();
        // Reads stdout while waiting: a large DOM would fill the pipe.
        let stdout = child.stdout.take().expect("piped stdout");
        let reader = std::thread::spawn(move || std::io::read_to_string(stdout).unwrap_or_default());
        loop {
            match child.try_wait().map_err(|error| error.to_string())? {
                Some(status) => {
                    let out = reader.join().unwrap_or_default();
                    let err = child
                        .stderr
                        .take()
                        .map(|e| std::io::read_to_string(e).unwrap_or_default())
                        .unwrap_or_default();
                    return if status.success() { Ok(out) } else { Err(format!("{status}: {}", err.trim())) };
                }
                None if started.elapsed() > RUN_LIMIT => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(format!("no answer in {} s", RUN_LIMIT.as_secs()));
                }
                None => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }

    /// The DOM of `page` after its scripts ran, as HTML.
    pub fn dump_dom(&self, page: &Path) -> Result<String, String> {
        self.run(&["--dump-dom".to_owned()], page)
    }

    /// A `width`×`height` screenshot of `page`, written to `png`.
    pub fn screenshot(&self, page: &Path, png: &Path, width: u32, height: u32) -> Result<(), String> {
        let _ = std::fs::remove_file(png);
        self.run(
            &[format!("--screenshot={}", png.display()), format!("--window-size={width},{height}")],
            page,
        )?;
        if png.is_file() { Ok(()) } else { Err(format!("no screenshot written to {}", png.display())) }
    }
}

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?).map(|dir| dir.join(name)).find(|path| path.is_file())
}

/// The share of pixels of a PNG that are not (nearly) white, from 0 to 1: a blank page is 0.
pub fn ink(png: &Path) -> f64 {
    let file = std::fs::File::open(png).expect("open the screenshot");
    let mut decoder = png::Decoder::new(std::io::BufReader::new(file));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().expect("a PNG");
    let mut pixels = vec![0; reader.output_buffer_size().expect("a PNG of a sane size")];
    let info = reader.next_frame(&mut pixels).expect("a PNG frame");
    let channels = info.color_type.samples();
    let pixels = &pixels[..info.buffer_size()];
    let total = pixels.len() / channels;
    let inked = pixels.chunks(channels).filter(|p| p.iter().take(3).any(|&v| v < 235)).count();
    inked as f64 / total.max(1) as f64
}
