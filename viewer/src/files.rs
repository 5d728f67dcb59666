//! Attachments on the open page: download with visible progress, then save.
//! Small files become a Blob URL; large ones (where Blob URLs fail and cost
//! their size in memory) are planned to stream through a service worker.

use oneshare_web::{Attachment, DownloadOptions};
use web_sys::HtmlElement;

use crate::dom::{self, Result};

/// Wires a file row's Download button.
pub fn wire(
    share_id: &str,
    a: &Attachment,
    get: &HtmlElement,
    progress: &HtmlElement,
) -> Result<()> {
    let (id, a, get2, progress) = (
        share_id.to_owned(),
        a.clone(),
        get.clone(),
        progress.clone(),
    );
    dom::on_click(get, move |_| {
        let (id, a, get, progress) = (id.clone(), a.clone(), get2.clone(), progress.clone());
        wasm_bindgen_futures::spawn_local(async move {
            let _ = download(&id, &a, &get, &progress).await;
        });
    })
}

async fn download(
    share_id: &str,
    a: &Attachment,
    get: &HtmlElement,
    bar: &HtmlElement,
) -> Result<()> {
    let c = crate::open::client_for_files().await?;
    get.set_attribute("disabled", "")?;
    bar.set_hidden(false);
    bar.set_attribute("max", &a.size.max(1).to_string())?;
    bar.set_attribute("value", "0")?;
    bar.set_attribute("aria-label", &format!("Downloading {}", a.name))?;
    let bar2 = bar.clone();
    let options = DownloadOptions {
        progress: Some(Box::new(move |done: u64, _total: u64| {
            let _ = bar2.set_attribute("value", &done.to_string());
        })),
        ..DownloadOptions::default()
    };
    let result = c.download_blob(share_id, a, options).await;
    get.remove_attribute("disabled")?;
    match result {
        Ok(blob) => {
            let url = web_sys::Url::create_object_url_with_blob(&blob)?;
            let link = dom::element("a", "", "")?;
            link.set_attribute("href", &url)?;
            link.set_attribute("download", &a.name)?;
            link.click();
            // The browser has taken the file; free the Blob soon after.
            wasm_bindgen_futures::spawn_local(async move {
                gloo_timers::future::TimeoutFuture::new(30_000).await;
                let _ = web_sys::Url::revoke_object_url(&url);
            });
            dom::set_text(get, "Download again");
            dom::announce(&format!("{} downloaded", a.name));
        }
        Err(e) => {
            bar.set_hidden(true);
            let msg = if e.code() == "attachment_uploading" {
                "Still uploading; try again in a moment"
            } else {
                "Download failed; try again"
            };
            dom::set_text(get, msg);
            dom::announce(msg);
        }
    }
    Ok(())
}
