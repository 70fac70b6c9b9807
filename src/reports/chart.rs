//! The picture beside `/stats`: orders per day and revenue per master,
//! drawn with `plotters` into a PNG. The font is embedded (DejaVu Sans,
//! free to redistribute, see `assets/fonts/`): a slim container has no
//! system fonts, and Cyrillic names must still read.

use std::sync::Once;

use plotters::prelude::*;
use plotters::style::{register_font, FontStyle};

use crate::domain::Money;

static FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
const SIZE: (u32, u32) = (1000, 800);

fn font() {
    static REGISTER: Once = Once::new();
    REGISTER.call_once(|| {
        if register_font("sans-serif", FontStyle::Normal, FONT).is_err() {
            tracing::warn!("the embedded chart font could not be read");
        }
    });
}

/// A PNG: `days` (label, orders filed) above `masters` (name, revenue).
pub fn stats_png(
    title_days: &str,
    days: &[(String, i64)],
    title_masters: &str,
    masters: &[(String, Money)],
) -> anyhow::Result<Vec<u8>> {
    font();
    let mut rgb = vec![0u8; (SIZE.0 * SIZE.1 * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, SIZE).into_drawing_area();
        root.fill(&WHITE)?;
        let (top, bottom) = root.split_vertically(SIZE.1 / 2);
        let most = days.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
        let mut chart = ChartBuilder::on(&top)
            .caption(title_days, ("sans-serif", 26))
            .margin(16)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(0..days.len().max(1), 0..most + most / 5 + 1)?;
        chart
            .configure_mesh()
            .x_labels(days.len().clamp(1, 10))
            .x_label_formatter(&|i| days.get(*i).map(|(l, _)| l.clone()).unwrap_or_default())
            .label_style(("sans-serif", 14))
            .draw()?;
        chart.draw_series(days.iter().enumerate().map(|(i, (_, n))| {
            let mut bar = Rectangle::new([(i, 0), (i + 1, *n)], BLUE.mix(0.6).filled());
            bar.set_margin(0, 0, 3, 3);
            bar
        }))?;
        let top_revenue = masters
            .iter()
            .map(|(_, m)| m.kopecks() / 100)
            .max()
            .unwrap_or(0)
            .max(1);
        let mut chart = ChartBuilder::on(&bottom)
            .caption(title_masters, ("sans-serif", 26))
            .margin(16)
            .x_label_area_size(40)
            .y_label_area_size(80)
            .build_cartesian_2d(
                0..masters.len().max(1),
                0..top_revenue + top_revenue / 5 + 1,
            )?;
        chart
            .configure_mesh()
            .x_labels(masters.len().clamp(1, 12))
            .x_label_formatter(&|i| masters.get(*i).map(|(n, _)| n.clone()).unwrap_or_default())
            .label_style(("sans-serif", 14))
            .draw()?;
        chart.draw_series(masters.iter().enumerate().map(|(i, (_, m))| {
            let mut bar = Rectangle::new(
                [(i, 0), (i + 1, m.kopecks() / 100)],
                GREEN.mix(0.6).filled(),
            );
            bar.set_margin(0, 0, 8, 8);
            bar
        }))?;
        root.present()?;
    }
    let mut png = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut png, SIZE.0, SIZE.1);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.write_header()?.write_image_data(&rgb)?;
    }
    Ok(png)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chart_is_a_png_with_cyrillic_labels_and_no_system_fonts() {
        let days = vec![("01.12".to_string(), 3), ("02.12".to_string(), 5)];
        let masters = vec![("Пётр".to_string(), Money::from_roubles(12_500))];
        let png = stats_png("Заявки по дням", &days, "Выручка по мастерам", &masters).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let decoder = png::Decoder::new(std::io::Cursor::new(&png));
        let reader = decoder.read_info().unwrap();
        assert_eq!((reader.info().width, reader.info().height), SIZE);
        // An empty period still draws.
        assert!(stats_png("a", &[], "b", &[]).is_ok());
    }
}
