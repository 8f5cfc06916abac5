//! The figures the book shows, drawn as SVG with plotters from a [`Run`].

use plotters::coord::ranged1d::{SegmentValue, SegmentedCoord, ValueFormatter};
use plotters::coord::types::RangedCoordu32;
use plotters::prelude::*;

use crate::report::{TARGET_IDLE, size_label, thousands};
use crate::results::{EchoSample, Run};
use crate::servers;
use crate::stats::Spread;

/// Why a figure could not be drawn.
#[derive(Debug, thiserror::Error)]
#[error("drawing {0} failed: {1}")]
pub struct PlotError(String, String);

const WIDTH: u32 = 760;
/// Where the idle chart's log scale starts, KiB.
const IDLE_FLOOR_KIB: f64 = 0.5;
const HEIGHT: u32 = 330;

/// Each server keeps its colour in every figure.
fn colour(key: &str) -> RGBColor {
    match key {
        servers::ASYNC => RGBColor(31, 119, 180),
        "blocking" => RGBColor(255, 127, 14),
        "by-hand" => RGBColor(44, 160, 44),
        "async-2-threads" => RGBColor(23, 190, 207),
        "async-128k" => RGBColor(127, 127, 127),
        servers::NODE_WS => RGBColor(214, 39, 40),
        _ => RGBColor(148, 103, 189),
    }
}

/// A name short enough to sit under a bar.
fn short_name(key: &str) -> &str {
    match key {
        "async-2-threads" => "2 threads",
        "async-128k" => "128K buf",
        servers::NODE_WS => "node ws",
        other => other,
    }
}

/// The last index of `count` categories: plotters' segmented range `0..last` has `last + 1`
/// segments.
fn last_index(count: usize) -> u32 {
    (count.max(2) - 1) as u32
}

fn connections_label(plan_connections: &[usize], v: &SegmentValue<u32>) -> String {
    match v {
        SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => {
            plan_connections.get(*i as usize).map_or_else(String::new, |c| thousands(*c as f64))
        }
        SegmentValue::Last => String::new(),
    }
}

/// Two panels for one message size: messages/s and the server's CPU per message, against the
/// number of connections, one line per server (medians; the whiskers span min–max).
pub fn echo_svg(run: &Run, size: usize) -> Result<String, PlotError> {
    let name = format!("echo-{size}.svg");
    let fail = |e: &dyn std::fmt::Display| PlotError(name.clone(), e.to_string());
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| fail(&e))?;
        let panels = root.split_evenly((1, 2));
        let metrics: [(&str, Metric); 2] = [
            ("messages/s", EchoSample::rate),
            ("server CPU per message (µs)", EchoSample::server_us_per_message),
        ];
        let last = last_index(run.plan.connections.len());
        for (index, (panel, (title, metric))) in panels.iter().zip(metrics).enumerate() {
            let is_rate = index == 0;
            let series: Vec<(&String, Vec<(u32, Spread)>)> = run
                .plan
                .servers
                .iter()
                .filter(|key| servers::by_key(key).is_none_or(|s| !s.variant))
                .map(|key| {
                    let points = run
                        .plan
                        .connections
                        .iter()
                        .enumerate()
                        .filter_map(|(i, &c)| {
                            run.echo_case(key, c, size)
                                .and_then(|case| case.spread(metric))
                                .map(|s| (i as u32, s))
                        })
                        .collect();
                    (key, points)
                })
                .collect();
            let top = series.iter().flat_map(|(_, p)| p.iter().map(|(_, s)| s.max)).fold(0.0, f64::max);
            let builder = |chart: &mut ChartBuilder<'_, '_, SVGBackend<'_>>| {
                chart
                    .caption(format!("{title}, {}", size_label(size)), ("sans-serif", 15))
                    .margin(8)
                    .x_label_area_size(32)
                    .y_label_area_size(62);
            };
            let mut chart = ChartBuilder::on(panel);
            builder(&mut chart);
            if is_rate {
                let mut chart = chart
                    .build_cartesian_2d((0u32..last).into_segmented(), 0.0..(top * 1.12).max(1.0))
                    .map_err(|e| fail(&e))?;
                mesh(&mut chart, &run.plan.connections).map_err(|e| fail(&e))?;
                // Rates are lowest at one connection: the upper left is empty.
                lines(&mut chart, &series, SeriesLabelPosition::UpperLeft).map_err(|e| fail(&e))?;
            } else {
                // CPU per message spans an order of magnitude between 1 and 100 connections: a log
                // scale keeps the small values readable.
                let mut chart = chart
                    .build_cartesian_2d(
                        (0u32..last).into_segmented(),
                        (1.0..(top * 1.5).max(2.0)).log_scale(),
                    )
                    .map_err(|e| fail(&e))?;
                mesh(&mut chart, &run.plan.connections).map_err(|e| fail(&e))?;
                lines(&mut chart, &series, SeriesLabelPosition::LowerRight).map_err(|e| fail(&e))?;
            }
        }
        root.present().map_err(|e| fail(&e))?;
    }
    Ok(svg)
}

/// A figure read off a sample.
type Metric = fn(&EchoSample) -> f64;

type Series<'a> = [(&'a String, Vec<(u32, Spread)>)];

/// The axes of an echo panel: connections below, the metric at the left, no minor grid.
fn mesh<Y>(
    chart: &mut ChartContext<'_, SVGBackend<'_>, Cartesian2d<SegmentedCoord<RangedCoordu32>, Y>>,
    connections: &[usize],
) -> Result<(), DrawingAreaErrorKind<std::io::Error>>
where
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    chart
        .configure_mesh()
        .disable_x_mesh()
        .light_line_style(WHITE)
        .x_desc("connections")
        .x_label_formatter(&|v| connections_label(connections, v))
        .y_label_formatter(&|v| if *v >= 100.0 { thousands(*v) } else { format!("{v}") })
        .draw()
}

/// One line per server through the medians, with a min–max whisker at each point, and a legend.
fn lines<'a, Y>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, Cartesian2d<SegmentedCoord<RangedCoordu32>, Y>>,
    series: &Series<'_>,
    legend: SeriesLabelPosition,
) -> Result<(), DrawingAreaErrorKind<std::io::Error>>
where
    Y: Ranged<ValueType = f64>,
{
    for (key, points) in series {
        let style = colour(key);
        let centre = |i: u32| SegmentValue::CenterOf(i);
        chart
            .draw_series(LineSeries::new(
                points.iter().map(|(i, s)| (centre(*i), s.median)),
                style.stroke_width(2),
            ))?
            .label(key.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], style.stroke_width(2)));
        chart.draw_series(
            points.iter().map(|(i, s)| Circle::new((centre(*i), s.median), 3, style.filled())),
        )?;
        chart.draw_series(
            points
                .iter()
                .map(|(i, s)| PathElement::new(vec![(centre(*i), s.min), (centre(*i), s.max)], style)),
        )?;
    }
    chart
        .configure_series_labels()
        .position(legend)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .label_font(("sans-serif", 11))
        .draw()
}

/// Bars: resident memory per idle connection, one per server, at the target's connection count
/// (or the largest measured), with min–max whiskers; on the left connections that have sent
/// nothing since their handshake, on the right the same after one message each.
pub fn idle_svg(run: &Run) -> Result<Option<String>, PlotError> {
    let name = "idle.svg".to_owned();
    let fail = |e: &dyn std::fmt::Display| PlotError(name.clone(), e.to_string());
    let Some(n) = (if run.plan.idle.contains(&TARGET_IDLE) {
        Some(TARGET_IDLE)
    } else {
        run.plan.idle.iter().copied().max()
    }) else {
        return Ok(None);
    };
    let kib = |s: Spread| Spread { median: s.median / 1024.0, min: s.min / 1024.0, max: s.max / 1024.0 };
    let panels_data: [(&str, Vec<(&String, Spread)>); 2] = [
        (
            "idle since the handshake",
            run.plan
                .servers
                .iter()
                .filter_map(|key| Some((key, kib(run.idle_case(key, n)?.per_connection()?))))
                .collect(),
        ),
        (
            "idle after one message",
            run.plan
                .servers
                .iter()
                .filter_map(|key| Some((key, kib(run.idle_case(key, n)?.per_used_connection()?))))
                .collect(),
        ),
    ];
    if panels_data[0].1.is_empty() {
        return Ok(None);
    }
    let top = panels_data.iter().flat_map(|(_, bars)| bars.iter().map(|(_, s)| s.max)).fold(0.0, f64::max);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| fail(&e))?;
        for (panel, (title, bars)) in root.split_evenly((1, 2)).iter().zip(&panels_data) {
            // A log scale: tungstenite's default read buffer makes one bar a hundred times another.
            let mut chart = ChartBuilder::on(panel)
                .caption(format!("KiB per connection, {} {title}", thousands(n as f64)), ("sans-serif", 14))
                .margin(8)
                .x_label_area_size(32)
                .y_label_area_size(40)
                .build_cartesian_2d(
                    (0u32..last_index(bars.len())).into_segmented(),
                    (IDLE_FLOOR_KIB..(top * 1.5).max(1.0)).log_scale(),
                )
                .map_err(|e| fail(&e))?;
            chart
                .configure_mesh()
                .disable_x_mesh()
                .light_line_style(WHITE)
                .x_label_formatter(&|v| match v {
                    SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => {
                        bars.get(*i as usize).map_or_else(String::new, |(k, _)| short_name(k).to_owned())
                    }
                    SegmentValue::Last => String::new(),
                })
                .draw()
                .map_err(|e| fail(&e))?;
            for (i, (key, s)) in bars.iter().enumerate() {
                let i = i as u32;
                let mut bar = Rectangle::new(
                    [(SegmentValue::Exact(i), IDLE_FLOOR_KIB), (SegmentValue::Exact(i + 1), s.median)],
                    colour(key).mix(0.75).filled(),
                );
                bar.set_margin(0, 0, 6, 6);
                chart.draw_series([bar]).map_err(|e| fail(&e))?;
                chart
                    .draw_series([PathElement::new(
                        vec![(SegmentValue::CenterOf(i), s.min), (SegmentValue::CenterOf(i), s.max)],
                        BLACK.stroke_width(1),
                    )])
                    .map_err(|e| fail(&e))?;
            }
        }
        root.present().map_err(|e| fail(&e))?;
    }
    Ok(Some(svg))
}

/// Every figure, as `(file name, contents)`.
pub fn figures(run: &Run) -> Result<Vec<(String, String)>, PlotError> {
    let mut files = Vec::new();
    for &size in &run.plan.sizes {
        files.push((format!("echo-{size}.svg"), echo_svg(run, size)?));
    }
    if let Some(svg) = idle_svg(run)? {
        files.push(("idle.svg".to_owned(), svg));
    }
    Ok(files)
}
