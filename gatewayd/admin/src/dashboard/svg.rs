//! Charts as inline SVG, drawn on the server: no scripts, nothing fetched, and it passes a
//! strict Content-Security-Policy (attributes only, no style).

use std::fmt::Write;

use super::html::escape;

const WIDTH: f64 = 760.0;
const HEIGHT: f64 = 200.0;
const LEFT: f64 = 56.0;
const BOTTOM: f64 = 24.0;
const TOP: f64 = 10.0;

/// A line chart of `points` (label, value), with the first, middle and last labels under
/// the axis and the maximum on it.
pub fn line_chart(title: &str, points: &[(String, f64)]) -> String {
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg class=\"chart\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" aria-label=\"{}\">",
        escape(title)
    );
    if points.is_empty() {
        let _ = write!(
            svg,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#667\">no traffic in this range</text></svg>",
            WIDTH / 2.0,
            HEIGHT / 2.0
        );
        return svg;
    }
    let max = points.iter().map(|(_, v)| *v).fold(0.0, f64::max).max(1.0);
    let plot_w = WIDTH - LEFT - 8.0;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let x = |i: usize| {
        if points.len() == 1 {
            LEFT + plot_w / 2.0
        } else {
            LEFT + plot_w * i as f64 / (points.len() - 1) as f64
        }
    };
    let y = |v: f64| TOP + plot_h * (1.0 - v / max);
    let _ = write!(
        svg,
        "<line x1=\"{LEFT}\" y1=\"{0}\" x2=\"{1}\" y2=\"{0}\" stroke=\"#ccd\"/>\
         <line x1=\"{LEFT}\" y1=\"{TOP}\" x2=\"{LEFT}\" y2=\"{0}\" stroke=\"#ccd\"/>\
         <text x=\"{2}\" y=\"{3}\" text-anchor=\"end\" font-size=\"11\" fill=\"#556\">{4}</text>\
         <text x=\"{2}\" y=\"{0}\" text-anchor=\"end\" font-size=\"11\" fill=\"#556\">0</text>",
        TOP + plot_h,
        LEFT + plot_w,
        LEFT - 6.0,
        TOP + 10.0,
        super::html::count(max as u64)
    );
    let mut path = String::new();
    for (i, (_, v)) in points.iter().enumerate() {
        let _ = write!(
            path,
            "{}{:.1},{:.1} ",
            if i == 0 { "M" } else { "L" },
            x(i),
            y(*v)
        );
    }
    let _ = write!(
        svg,
        "<path d=\"{path}L{:.1},{:.1} L{:.1},{:.1} Z\" fill=\"#dde8ff\" stroke=\"none\"/>\
         <path d=\"{path}\" fill=\"none\" stroke=\"#2855c8\" stroke-width=\"2\"/>",
        x(points.len() - 1),
        TOP + plot_h,
        x(0),
        TOP + plot_h
    );
    for (i, (label, v)) in points.iter().enumerate() {
        let _ = write!(
            svg,
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"2.5\" fill=\"#2855c8\"><title>{}: {}</title></circle>",
            x(i),
            y(*v),
            escape(label),
            super::html::count(*v as u64)
        );
    }
    let mut labelled = vec![0, points.len() / 2, points.len() - 1];
    labelled.dedup();
    for i in labelled {
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\" font-size=\"11\" fill=\"#556\">{}</text>",
            x(i).clamp(LEFT + 40.0, WIDTH - 48.0),
            HEIGHT - 6.0,
            escape(&points[i].0)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Horizontal bars of `items` (label, value), longest first as given, each labelled with its
/// whole count.
pub fn bar_chart(title: &str, items: &[(String, f64)]) -> String {
    bar_chart_labelled(title, items, |v| super::html::count(v as u64))
}

/// Money: bars scaled to the largest amount however small, labelled to four significant
/// digits (cents and below), so $0.0023 reads as that and not "0".
pub fn money_bar_chart(title: &str, items: &[(String, f64)]) -> String {
    bar_chart_labelled(title, items, money)
}

/// `value` US dollars to four significant digits: `$0.1575`, `$0.002250`, `$12.35`, `$1,234`.
pub fn money(value: f64) -> String {
    if value <= 0.0 || !value.is_finite() {
        return "$0".into();
    }
    if value >= 1000.0 {
        return format!("${}", super::html::count(value.round() as u64));
    }
    let digits = (3 - value.log10().floor() as i32).clamp(0, 12) as usize;
    format!("${value:.digits$}")
}

fn bar_chart_labelled(
    title: &str,
    items: &[(String, f64)],
    value_text: impl Fn(f64) -> String,
) -> String {
    let row = 22.0;
    let height = (items.len().max(1) as f64) * row + 4.0;
    let label_w = 180.0;
    let bar_w = WIDTH - label_w - 90.0;
    let max = items.iter().map(|(_, v)| *v).fold(0.0, f64::max);
    // Scaled to the largest value, not to at least 1 (spend is often cents).
    let max = if max > 0.0 { max } else { 1.0 };
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg class=\"chart\" viewBox=\"0 0 {WIDTH} {height}\" role=\"img\" aria-label=\"{}\">",
        escape(title)
    );
    for (i, (label, value)) in items.iter().enumerate() {
        let top = i as f64 * row + 2.0;
        let w = (bar_w * value / max).max(1.0);
        let short: String = label.chars().take(28).collect();
        let _ = write!(
            svg,
            "<text x=\"{0}\" y=\"{1:.1}\" text-anchor=\"end\" font-size=\"12\" fill=\"#223\">{2}</text>\
             <rect x=\"{3}\" y=\"{4:.1}\" width=\"{w:.1}\" height=\"{5}\" fill=\"#2855c8\" rx=\"2\"/>\
             <text x=\"{6:.1}\" y=\"{1:.1}\" font-size=\"12\" fill=\"#445\">{7}</text>",
            label_w - 8.0,
            top + 14.0,
            escape(&short),
            label_w,
            top + 3.0,
            row - 6.0,
            label_w + w + 6.0,
            escape(&value_text(*value))
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_escape_labels_and_handle_empty_data() {
        let svg = line_chart("t", &[("<b>".into(), 3.0), ("x".into(), 5.0)]);
        assert!(svg.contains("&lt;b&gt;"));
        assert!(!svg.contains("<b>"));
        assert!(line_chart("t", &[]).contains("no traffic"));
        let bars = bar_chart("t", &[("chatgpt".into(), 10.0)]);
        assert!(bars.contains("<rect"));
    }

    #[test]
    fn money_keeps_four_significant_digits_and_small_bars_fill_the_chart() {
        assert_eq!(money(0.1575), "$0.1575");
        assert_eq!(money(0.00225), "$0.002250");
        assert_eq!(money(12.3456), "$12.35");
        assert_eq!(money(0.0), "$0");
        assert_eq!(money(4321.2), "$4,321");
        let bars = money_bar_chart("t", &[("claude".into(), 0.1575), ("mini".into(), 0.00225)]);
        assert!(
            bars.contains(">$0.1575<") && bars.contains(">$0.002250<"),
            "{bars}"
        );
        let full = format!("width=\"{:.1}\"", WIDTH - 180.0 - 90.0);
        assert!(
            bars.contains(&full),
            "the largest bar spans the chart: {bars}"
        );
    }
}
