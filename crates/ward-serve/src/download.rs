//! An organisation's report to hand to its committee, downloaded as HTML or PDF: the
//! same report as `ward report --org ID`, for the organisation and everything below
//! it. Each download is written to the audit log.

use crate::pages::{Fail, asker, seen_org};
use crate::{App, now_ms};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use ward_advice::html::Detail;

/// How many PDFs are printed at once: each is a Chromium of its own.
static PRINTING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

pub(crate) async fn report(
    State(app): State<App>,
    headers: HeaderMap,
    Path((id, file)): Path<(String, String)>,
) -> Result<Response, Fail> {
    let pdf = match file.as_str() {
        "report.html" => false,
        "report.pdf" => true,
        _ => return Err(Fail::NotFound),
    };
    let who = asker(&app, &headers, false).await?;
    let (org, _, _) = seen_org(&app, &who, &id).await?;
    let stored = ward_export::Stored::load(&app.store).await?;
    let Some(latest) = &stored.latest else {
        return Err(Fail::Invalid(format!(
            "There is no complete scan of {} yet, so there is no report to download.",
            org.name
        )));
    };
    let html = ward_export::render(
        ward_export::Format::Html,
        latest,
        &stored.sources(),
        &org,
        Detail::Full,
    )
    .map_err(|e| Fail::Invalid(format!("The report could not be drawn: {e}.")))?;
    let (bytes, kind) = if pdf {
        let _turn = PRINTING
            .acquire()
            .await
            .map_err(|_| Fail::Invalid("The server is stopping.".into()))?;
        let printed = tokio::task::spawn_blocking(move || print(&html))
            .await
            .map_err(|e| Fail::Invalid(format!("Printing stopped: {e}.")))?;
        (printed.map_err(Fail::Invalid)?, "application/pdf")
    } else {
        (html, "text/html; charset=utf-8")
    };
    app.store
        .audit(
            now_ms(),
            &who.user.email,
            "export",
            &format!("{} {file}", org.id),
        )
        .await?;
    let mut res = (StatusCode::OK, bytes).into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    // An attachment, not a page of the site: the report's own inline styles are then
    // not subject to the dashboard's policy, and it opens as the file it is.
    let name = format!(
        "attachment; filename=\"ward-{}.{}\"",
        org.id,
        if pdf { "pdf" } else { "html" }
    );
    if let Ok(v) = HeaderValue::from_str(&name) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}

/// Prints `html` to PDF with headless Chromium, in a scratch file of its own.
fn print(html: &[u8]) -> Result<Vec<u8>, String> {
    let out = std::env::temp_dir().join(format!("ward-serve-{}.pdf", crate::secrets::token()));
    let r = ward_advice::pdf::html_to_pdf(html, &out)
        .map_err(|e| {
            format!("The PDF could not be printed: {e}. The HTML report has the same content.")
        })
        .and_then(|()| {
            std::fs::read(&out).map_err(|e| format!("The PDF could not be read back: {e}."))
        });
    let _ = std::fs::remove_file(&out);
    r
}
