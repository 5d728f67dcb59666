//! The link as a QR code, drawn as SVG by the `qrcode` crate.

use qrcode::QrCode;
use qrcode::render::svg;

/// The SVG markup of a QR code for `text`, or `None` when it is too long.
pub fn svg(text: &str) -> Option<String> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M).ok()?;
    Some(
        code.render::<svg::Color<'_>>()
            .min_dimensions(200, 200)
            .quiet_zone(true)
            .dark_color(svg::Color("#000000"))
            .light_color(svg::Color("#ffffff"))
            .build(),
    )
}

/// Draws the QR code of `text` into the element `id`. The markup comes from
/// [`svg`] (our own output over a link, never record data).
#[cfg(target_arch = "wasm32")]
pub fn draw(id: &str, text: &str) -> crate::dom::Result<()> {
    let el = crate::dom::by_id(id)?;
    match svg(text) {
        Some(markup) => el.set_inner_html(&markup),
        None => crate::dom::set_text(&el, "The link is too long for a QR code."),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn draws_a_link_as_svg_only() {
        let s = svg("https://relay.example/s#AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").unwrap();
        assert!(s.starts_with("<?xml") || s.starts_with("<svg"));
        assert!(s.contains("<path") || s.contains("<rect"));
        assert!(!s.contains("<script") && !s.contains("style="));
        assert!(svg(&"x".repeat(5_000)).is_none());
    }
}
