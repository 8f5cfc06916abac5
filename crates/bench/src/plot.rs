//! The figures the book shows, drawn as SVG with plotters: the echo's and the idle memory's from
//! a [`Run`], the transport comparison's from its [`compare::Report`].
//!
//! Every figure is drawn in one style, by the private helpers at the top of this file: panels side
//! by side, or one above the other, on white (`figure`); a caption over each (`panel`); categories
//! along the bottom with no vertical grid lines, and one way of writing the values (`axes`,
//! `value_label`); bars that leave a gap between categories (`bars`); one legend box (`legend`).

use plotters::coord::Shift;
use plotters::coord::ranged1d::{SegmentValue, SegmentedCoord, ValueFormatter};
use plotters::coord::types::RangedCoordu32;
use plotters::prelude::*;

use crate::compare::{self, Mode};
use crate::report::{TARGET_IDLE, size_label, thousands};
use crate::results::{EchoSample, Run};
use crate::servers;
use crate::stats::Spread;

/// Why a figure could not be drawn.
#[derive(Debug, thiserror::Error)]
#[error("drawing {0} failed: {1}")]
pub struct PlotError(String, String);

/// What plotters' SVG backend fails with.
type DrawError = DrawingAreaErrorKind<std::io::Error>;

/// A panel of a figure.
type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

/// A chart whose horizontal axis is categories (connection counts, servers, modes).
type Chart<'a, Y> = ChartContext<'a, SVGBackend<'a>, Cartesian2d<SegmentedCoord<RangedCoordu32>, Y>>;

const WIDTH: u32 = 760;
const HEIGHT: u32 = 330;
const STACKED_HEIGHT: u32 = 270;
const FONT: &str = "sans-serif";
const CAPTION_SIZE: u32 = 14;
const LEGEND_SIZE: u32 = 11;
/// The share of a category's width left free on each side of its bars, so that neighbouring
/// categories stand apart.
const BAR_GAP: f64 = 0.12;
/// Where the idle chart's log scale starts, KiB.
const IDLE_FLOOR_KIB: f64 = 0.5;

/// Each server keeps its colour in every figure.
fn colour(key: &str) -> RGBColor {
    match key {
        servers::ASYNC | crate::fanout::ROOM => RGBColor(31, 119, 180),
        "blocking" => RGBColor(255, 127, 14),
        "by-hand" => RGBColor(44, 160, 44),
        "async-2-threads" => RGBColor(23, 190, 207),
        "async-128k" => RGBColor(127, 127, 127),
        servers::NODE_WS => RGBColor(214, 39, 40),
        _ => RGBColor(148, 103, 189),
    }
}

/// The colours of two series shown side by side (p50 and p99, up and down): the palette's first
/// two, as the servers' are.
const PAIR: [RGBColor; 2] = [RGBColor(31, 119, 180), RGBColor(255, 127, 14)];

/// How a figure's panels are laid out.
#[derive(Clone, Copy)]
enum Layout {
    /// Side by side, [`HEIGHT`] tall: a few categories each.
    SideBySide(usize),
    /// One above the other, [`STACKED_HEIGHT`] each: room for more categories, with longer names.
    Stacked(usize),
}

/// A figure of panels on white, each drawn by `draw`; `name` is the file's, for the error.
fn figure(
    name: &str,
    layout: Layout,
    draw: impl FnOnce(&[Area<'_>]) -> Result<(), DrawError>,
) -> Result<String, PlotError> {
    let (height, grid) = match layout {
        Layout::SideBySide(n) => (HEIGHT, (1, n)),
        Layout::Stacked(n) => (STACKED_HEIGHT * n as u32, (n, 1)),
    };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        let drawn =
            root.fill(&WHITE).and_then(|()| draw(&root.split_evenly(grid))).and_then(|()| root.present());
        drawn.map_err(|e| PlotError(name.to_owned(), e.to_string()))?;
    }
    Ok(svg)
}

/// A panel's chart, captioned; `value_width` is the room for the value axis' numbers.
fn panel<'a, 'b>(
    area: &'a Area<'b>,
    caption: &str,
    value_width: u32,
) -> ChartBuilder<'a, 'b, SVGBackend<'b>> {
    let mut chart = ChartBuilder::on(area);
    chart
        .caption(caption, (FONT, CAPTION_SIZE))
        .margin(8)
        .x_label_area_size(32)
        .y_label_area_size(value_width);
    chart
}

/// The `count` categories of a panel as plotters' segmented range: `0..last` has `last + 1`
/// segments.
fn categories(count: usize) -> SegmentedCoord<RangedCoordu32> {
    (0u32..(count.max(2) - 1) as u32).into_segmented()
}

/// A number on the value axis: thousands separated from 100 up, as short as it goes below.
fn value_label(v: f64) -> String {
    if v >= 100.0 { thousands(v) } else { format!("{}", (v * 1000.0).round() / 1000.0) }
}

/// The axes: the categories named by `name` below (with `description` under them, if any), the
/// values at the left, horizontal grid lines at the labelled values only.
fn axes<Y>(
    chart: &mut Chart<'_, Y>,
    description: Option<&str>,
    name: impl Fn(usize) -> String,
) -> Result<(), DrawError>
where
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let label = |v: &SegmentValue<u32>| match v {
        SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => name(*i as usize),
        SegmentValue::Last => String::new(),
    };
    let mut mesh = chart.configure_mesh();
    mesh.disable_x_mesh()
        .light_line_style(WHITE)
        .x_label_formatter(&label)
        .y_label_formatter(&|v| value_label(*v));
    if let Some(description) = description {
        mesh.x_desc(description);
    }
    mesh.draw()
}

/// The legend box, at `position`, for every series drawn with a label.
fn legend<Y>(chart: &mut Chart<'_, Y>, position: SeriesLabelPosition) -> Result<(), DrawError>
where
    Y: Ranged<ValueType = f64>,
{
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .label_font((FONT, LEGEND_SIZE))
        .draw()
}

/// One series of a bar chart: a bar in every category, beside the other series' bars there.
struct BarSeries<'s> {
    /// Its name in the legend; `None` draws no legend entry.
    label: Option<&'s str>,
    /// Each category's bar: height and colour.
    bars: Vec<(f64, RGBColor)>,
}

/// Bars from `floor` up, the series side by side within each category, [`BAR_GAP`] of its width
/// from its edges.
fn bars<Y>(chart: &mut Chart<'_, Y>, series: &[BarSeries<'_>], floor: f64) -> Result<(), DrawError>
where
    Y: Ranged<ValueType = f64>,
{
    // A category's width in pixels, shared out among its bars by pixel margins: plotters'
    // segmented axis places a rectangle only on a segment's edges.
    let left = chart.backend_coord(&(SegmentValue::Exact(0), floor)).0;
    let right = chart.backend_coord(&(SegmentValue::Exact(1), floor)).0;
    let category = u32::try_from(right - left).unwrap_or(0);
    let gap = (f64::from(category) * BAR_GAP).round() as u32;
    let width = category.saturating_sub(2 * gap);
    let each = width / series.len().max(1) as u32;
    for (k, one) in series.iter().enumerate() {
        let k = k as u32;
        let (margin_left, margin_right) = (gap + k * each, gap + width - (k + 1) * each);
        let drawn = chart.draw_series(one.bars.iter().enumerate().map(|(i, &(value, colour))| {
            let i = i as u32;
            let mut bar = Rectangle::new(
                [(SegmentValue::Exact(i), floor), (SegmentValue::Exact(i + 1), value.max(floor))],
                colour.mix(0.75).filled(),
            );
            bar.set_margin(0, 0, margin_left, margin_right);
            bar
        }))?;
        if let (Some(label), Some(&(_, colour))) = (one.label, one.bars.first()) {
            drawn.label(label).legend(move |(x, y)| {
                Rectangle::new([(x, y - 5), (x + 10, y + 5)], colour.mix(0.75).filled())
            });
        }
    }
    Ok(())
}

/// A min–max whisker at the centre of each category, over a single series of bars.
fn whiskers<Y>(chart: &mut Chart<'_, Y>, spreads: &[Spread]) -> Result<(), DrawError>
where
    Y: Ranged<ValueType = f64>,
{
    chart.draw_series(spreads.iter().enumerate().map(|(i, s)| {
        let centre = || SegmentValue::CenterOf(i as u32);
        PathElement::new(vec![(centre(), s.min), (centre(), s.max)], BLACK.stroke_width(1))
    }))?;
    Ok(())
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

/// Two panels for one message size: messages/s and the server's CPU per message, against the
/// number of connections, one line per server (medians; the whiskers span min–max).
pub fn echo_svg(run: &Run, size: usize) -> Result<String, PlotError> {
    let metrics: [(&str, Metric); 2] = [
        ("messages/s", EchoSample::rate),
        ("server CPU per message (µs)", EchoSample::server_us_per_message),
    ];
    let connections = &run.plan.connections;
    let name = |i: usize| connections.get(i).map_or_else(String::new, |c| thousands(*c as f64));
    figure(&format!("echo-{size}.svg"), Layout::SideBySide(2), |panels| {
        for (index, (area, (title, metric))) in panels.iter().zip(metrics).enumerate() {
            let series: Vec<(&String, Vec<(u32, Spread)>)> = run
                .plan
                .servers
                .iter()
                .filter(|key| servers::by_key(key).is_none_or(|s| !s.variant))
                .map(|key| {
                    let points = connections
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
            let mut chart = panel(area, &format!("{title}, {}", size_label(size)), 62);
            if index == 0 {
                let mut chart =
                    chart.build_cartesian_2d(categories(connections.len()), 0.0..(top * 1.12).max(1.0))?;
                axes(&mut chart, Some("connections"), name)?;
                lines(&mut chart, &series)?;
                // Rates are lowest at one connection: the upper left is empty.
                legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
            } else {
                // CPU per message spans an order of magnitude between 1 and 100 connections: a log
                // scale keeps the small values readable.
                let mut chart = chart.build_cartesian_2d(
                    categories(connections.len()),
                    (1.0..(top * 1.5).max(2.0)).log_scale(),
                )?;
                axes(&mut chart, Some("connections"), name)?;
                lines(&mut chart, &series)?;
                legend(&mut chart, SeriesLabelPosition::LowerRight)?;
            }
        }
        Ok(())
    })
}

/// A figure read off a sample.
type Metric = fn(&EchoSample) -> f64;

type Series<'a> = [(&'a String, Vec<(u32, Spread)>)];

/// One line per server through the medians, with a min–max whisker at each point.
fn lines<Y>(chart: &mut Chart<'_, Y>, series: &Series<'_>) -> Result<(), DrawError>
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
    Ok(())
}

/// Bars: resident memory per idle connection, one per server, at the target's connection count
/// (or the largest measured), with min–max whiskers; on the left connections that have sent
/// nothing since their handshake, on the right the same after one message each.
pub fn idle_svg(run: &Run) -> Result<Option<String>, PlotError> {
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
    figure("idle.svg", Layout::SideBySide(2), |panels| {
        for (area, (title, servers)) in panels.iter().zip(&panels_data) {
            // A log scale: tungstenite's default read buffer makes one bar a hundred times another.
            let mut chart = panel(area, &format!("KiB per connection, {} {title}", thousands(n as f64)), 40)
                .build_cartesian_2d(
                    categories(servers.len()),
                    (IDLE_FLOOR_KIB..(top * 1.5).max(1.0)).log_scale(),
                )?;
            axes(&mut chart, None, |i| {
                servers.get(i).map_or_else(String::new, |(k, _)| short_name(k).to_owned())
            })?;
            let one = BarSeries {
                label: None,
                bars: servers.iter().map(|(key, s)| (s.median, colour(key))).collect(),
            };
            bars(&mut chart, &[one], IDLE_FLOOR_KIB)?;
            whiskers(&mut chart, &servers.iter().map(|(_, s)| *s).collect::<Vec<_>>())?;
        }
        Ok(())
    })
    .map(Some)
}

/// The transport comparison: delivery latency (p50 and p99) and bytes per message (each way), one
/// pair of bars per mode, both on a log scale because the modes differ by orders of magnitude.
pub fn comparison_svg(report: &compare::Report) -> Result<String, PlotError> {
    let names: Vec<String> = report.rows.iter().map(|r| mode_name(r.mode)).collect();
    let series = |k: usize, label, value: fn(&compare::Row) -> f64| BarSeries {
        label: Some(label),
        bars: report.rows.iter().map(|r| (value(r), PAIR[k])).collect(),
    };
    let panels_data = [
        (
            "delivery latency (ms, log scale)",
            [series(0, "p50", compare::Row::p50_ms), series(1, "p99", compare::Row::p99_ms)],
        ),
        (
            "bytes on the wire per message (log scale)",
            [
                series(0, "client → server", |r| r.up_per_message),
                series(1, "server → client", |r| r.down_per_message),
            ],
        ),
    ];
    // Six modes with two bars each, and names like "poll 1000ms": one panel above the other.
    figure(compare::FILES[2], Layout::Stacked(2), |panels| {
        for (area, (title, pair)) in panels.iter().zip(&panels_data) {
            let values = || pair.iter().flat_map(|s| s.bars.iter().map(|(v, _)| *v));
            // Room for the legend above the tallest bar (three times its height), and below the
            // shortest, a third of it, so that even that bar shows.
            let top = values().fold(1.0, f64::max) * 3.0;
            let floor = values().filter(|v| *v > 0.0).fold(top, f64::min) / 3.0;
            let mut chart = panel(area, title, 50)
                .build_cartesian_2d(categories(names.len()), (floor..top).log_scale())?;
            axes(&mut chart, None, |i| names.get(i).cloned().unwrap_or_default())?;
            bars(&mut chart, pair, floor)?;
            legend(&mut chart, SeriesLabelPosition::UpperRight)?;
        }
        Ok(())
    })
}

/// A mode's name short enough to sit under its bars.
fn mode_name(mode: Mode) -> String {
    match mode {
        Mode::ShortPoll(interval) => format!("poll {}ms", interval.as_millis()),
        Mode::LongPoll => "long poll".into(),
        Mode::Sse => "SSE".into(),
        Mode::WebSocket => "WebSocket".into(),
    }
}

/// The fan-out: deliveries/s and the server's CPU per delivery against the number of
/// subscribers, one line per server (medians; the whiskers span min–max), as [`echo_svg`] draws
/// the echo.
pub fn fanout_svg(report: &crate::fanout::Report) -> Result<String, PlotError> {
    use crate::fanout::{Sample, TARGETS};
    let metrics: [(&str, crate::fanout::Metric); 2] =
        [("deliveries/s", Sample::rate), ("server CPU per delivery (µs)", Sample::cpu_us)];
    let subscribers = &report.config.subscribers;
    let name = |i: usize| subscribers.get(i).map_or_else(String::new, |n| thousands(*n as f64));
    let keys: Vec<String> = TARGETS.iter().map(|t| (*t).to_owned()).collect();
    figure(crate::fanout::FIGURE, Layout::SideBySide(2), |panels| {
        for (index, (area, (title, metric))) in panels.iter().zip(metrics).enumerate() {
            let series: Vec<(&String, Vec<(u32, Spread)>)> = keys
                .iter()
                .map(|key| {
                    let points = subscribers
                        .iter()
                        .enumerate()
                        .filter_map(|(i, &n)| {
                            report.case(key, n, None).and_then(|c| c.spread(metric)).map(|s| (i as u32, s))
                        })
                        .collect();
                    (key, points)
                })
                .collect();
            let top = series.iter().flat_map(|(_, p)| p.iter().map(|(_, s)| s.max)).fold(0.0, f64::max);
            let mut chart = panel(area, &format!("{title}, 32 B messages"), 62);
            // Both panels are linear: the room's CPU per delivery is a fraction of Node's, and a
            // linear scale shows that fraction as it is.
            let mut chart =
                chart.build_cartesian_2d(categories(subscribers.len()), 0.0..(top * 1.12).max(1.0))?;
            axes(&mut chart, Some("subscribers"), name)?;
            lines(&mut chart, &series)?;
            // Deliveries/s are highest at the left, CPU per delivery at the right (Node's).
            let corner =
                if index == 0 { SeriesLabelPosition::UpperRight } else { SeriesLabelPosition::UpperLeft };
            legend(&mut chart, corner)?;
        }
        Ok(())
    })
}

/// Every figure of the run, as `(file name, contents)`.
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
