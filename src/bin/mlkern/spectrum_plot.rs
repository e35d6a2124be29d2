//! `mlkern spectrum --plot OUT.svg`: the singular spectrum on log-log axes.

use mlkern::spectrum::{MatrixSpectrum, Weighting};
use plotters::prelude::*;

/// An SVG with one line per layer (`σᵢ/σ₁` against `i`, non-zero values only) and each layer's
/// effective ranks marked on its line: a circle at `i = erank_sigma`, a square at
/// `i = erank_energy`. An all-zero spectrum is left out (nothing to draw on a log axis).
pub fn svg(layers: &[MatrixSpectrum]) -> String {
    let mut out = String::new();
    // Drawing into a String cannot fail for lack of IO; an error would only mean an empty plot.
    let _ = draw(&mut out, layers);
    out
}

fn draw(out: &mut String, layers: &[MatrixSpectrum]) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::with_string(out, (900, 560)).into_drawing_area();
    root.fill(&WHITE)?;
    let longest = layers
        .iter()
        .map(|s| s.sigma.len())
        .max()
        .unwrap_or(1)
        .max(2);
    let floor = layers
        .iter()
        .filter_map(|s| {
            let top = *s.sigma.first()?;
            s.sigma.iter().rev().find(|&&v| v > 0.0).map(|&v| v / top)
        })
        .fold(1.0f64, f64::min)
        .clamp(1e-300, 0.5);
    let first = layers.first();
    let title = match first {
        Some(s) => format!(
            "singular spectrum ({}×{}{}{})",
            s.rows,
            s.cols,
            if layers.len() > 1 {
                format!(", {} layers", layers.len())
            } else {
                String::new()
            },
            if s.centering == mlkern::spectrum::Centering::ColumnMean {
                ", centered"
            } else {
                ""
            }
        ),
        None => "singular spectrum".to_string(),
    };
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(
            (1f64..longest as f64).log_scale(),
            (floor * 0.8..1.25f64).log_scale(),
        )?;
    chart
        .configure_mesh()
        .x_desc("index i")
        .y_desc("σᵢ / σ₁")
        .draw()?;
    for (l, s) in layers.iter().enumerate() {
        let Some(&top) = s.sigma.first().filter(|&&t| t > 0.0) else {
            continue;
        };
        let color = Palette99::pick(l).to_rgba();
        let pts: Vec<(f64, f64)> = s
            .sigma
            .iter()
            .enumerate()
            .filter(|&(_, &v)| v > 0.0)
            .map(|(i, &v)| ((i + 1) as f64, v / top))
            .collect();
        let label = if layers.len() > 1 {
            format!("layer {l}")
        } else {
            "σᵢ/σ₁".to_string()
        };
        chart
            .draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))?
            .label(label)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
            });
        // The curve's value at a fractional index, for placing the markers on the line.
        let at = |r: f64| {
            let i = (r.floor() as usize).clamp(1, pts.len());
            pts[i - 1].1
        };
        let sp = s.spectrum();
        if let Some(r) = sp.erank(Weighting::Sigma) {
            chart.draw_series(std::iter::once(Circle::new(
                (r, at(r)),
                6,
                color.stroke_width(2),
            )))?;
        }
        if let Some(r) = sp.erank(Weighting::Energy) {
            chart.draw_series(std::iter::once(Rectangle::new(
                [(r * 0.97, at(r) * 0.93), (r * 1.03, at(r) * 1.07)],
                color.filled(),
            )))?;
        }
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    root.draw(&Text::new(
        "○ erank (σ weights, Roy–Vetterli)   ■ erank (energy weights)",
        (80, 540),
        ("sans-serif", 14),
    ))?;
    root.present()?;
    Ok(())
}
