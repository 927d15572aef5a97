//! Printing a rendered report to PDF with headless Chromium.
//!
//! The HTML report is the source; a PDF is that page as Chromium prints it, so the two
//! never drift apart. Chromium is found on the `PATH`, runs in a private scratch folder
//! (page and profile), and is killed if it has not finished within [`PDF_DEADLINE`].

use std::fs::File;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// How long Chromium may take to print one report.
pub const PDF_DEADLINE: Duration = Duration::from_secs(120);

/// The browsers tried, in order, on the `PATH`.
pub const CHROMIUM_NAMES: &[&str] = &[
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
];

/// Why a PDF could not be printed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PdfError {
    /// No Chromium-family browser on the `PATH`: the user can install one or print
    /// the HTML report themselves.
    #[error(
        "PDF output needs Chromium and none was found on the PATH (looked for chromium, \
         chromium-browser, google-chrome); install it (Debian/Ubuntu: apt-get install \
         chromium), or write --format html and print that page from any browser"
    )]
    NoChromium,
    /// The scratch folder, the page or the output path could not be written.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder concerned.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The browser could not be started.
    #[error("starting {browser}: {source}")]
    Start {
        /// The browser's path.
        browser: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The browser did not finish within [`PDF_DEADLINE`] and was killed.
    #[error("{browser} did not finish printing within {} s", PDF_DEADLINE.as_secs())]
    Deadline {
        /// The browser's path.
        browser: PathBuf,
    },
    /// The browser exited with an error, or without writing the PDF.
    #[error("{browser} could not print {out} ({status}): {message}")]
    Failed {
        /// The browser's path.
        browser: PathBuf,
        /// The PDF that was asked for.
        out: PathBuf,
        /// How the browser exited.
        status: ExitStatus,
        /// The last line it wrote to stderr.
        message: String,
    },
}

fn io_at(path: &Path) -> impl FnOnce(std::io::Error) -> PdfError + '_ {
    move |source| PdfError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The Chromium-family browser on the `PATH`, if any.
pub fn find_chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    CHROMIUM_NAMES
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
        .find(|p| p.is_file())
}

/// The flags every headless Chromium run uses: no sandbox (CI runs as root), and no
/// background traffic of its own.
pub fn chromium_flags(profile: &Path) -> Vec<String> {
    vec![
        "--headless".into(),
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
        "--no-first-run".into(),
        format!("--user-data-dir={}", profile.display()),
    ]
}

/// A private scratch folder, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Result<Scratch, PdfError> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let dir = std::env::temp_dir().join(format!("ward-pdf-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(io_at(&dir))?;
        Ok(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Prints `html` to a PDF at `out` with headless Chromium.
pub fn html_to_pdf(html: &[u8], out: &Path) -> Result<(), PdfError> {
    let browser = find_chromium().ok_or(PdfError::NoChromium)?;
    let scratch = Scratch::new()?;
    let page = scratch.0.join("report.html");
    std::fs::write(&page, html).map_err(io_at(&page))?;
    let out_abs = if out.is_absolute() {
        out.to_path_buf()
    } else {
        std::env::current_dir().map_err(io_at(out))?.join(out)
    };
    let _ = std::fs::remove_file(&out_abs);
    // Chromium's stderr goes to a file, not a pipe: a pipe read only after exit would
    // block a chatty browser once its buffer filled, until the deadline killed it.
    let log_path = scratch.0.join("stderr.log");
    let log = File::create(&log_path).map_err(io_at(&log_path))?;
    let mut child = Command::new(&browser)
        .args(chromium_flags(&scratch.0.join("profile")))
        .arg("--no-pdf-header-footer")
        .arg(format!("--print-to-pdf={}", out_abs.display()))
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .map_err(|source| PdfError::Start {
            browser: browser.clone(),
            source,
        })?;
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|source| PdfError::Start {
            browser: browser.clone(),
            source,
        })? {
            break status;
        }
        if started.elapsed() > PDF_DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            return Err(PdfError::Deadline { browser });
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    if !status.success() || !out_abs.is_file() {
        let mut stderr = String::new();
        if let Ok(mut f) = File::open(&log_path) {
            let _ = f.read_to_string(&mut stderr);
        }
        return Err(PdfError::Failed {
            browser,
            out: out.to_path_buf(),
            status,
            message: stderr.lines().last().unwrap_or("no message").to_owned(),
        });
    }
    Ok(())
}
