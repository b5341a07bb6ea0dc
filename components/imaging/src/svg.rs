//! SVG input: parsed with `roxmltree` under our limits, simplified by
//! `usvg` and rasterised by `resvg` (pure Rust) at the size the plan asks
//! for, so a vector is drawn sharp at any size, never an upscaled bitmap.
//!
//! The security model: nothing outside the file is ever loaded. `usvg`'s
//! image resolvers are replaced by ones that resolve nothing (no files, no
//! URLs, not even `data:` images, whose bitmaps would bypass the pixel
//! limits, nor nested SVGs); external XML entities resolve to nothing; the
//! text feature is off, so no font is ever looked up (text is not drawn);
//! there is no script engine. Before conversion the document is bounded:
//! at most `max_svg_nodes` XML nodes, at most that many elements once
//! every `use` and `url(#…)` reference is expanded (a "billion laughs" of
//! nested `use` is refused before it is built), and at most
//! [`MAX_DEPTH`] levels of nesting through children and references, as
//! conversion and rendering recurse that deep.

use crate::pipeline::image::Image;
use crate::{Error, Format, Limits};
use resvg::tiny_skia;
use resvg::usvg::{self, roxmltree};
use std::collections::HashMap;

/// Deepest nesting of elements and references (conversion and rendering
/// recurse once a level; a wasm stack is 1 MiB).
pub(crate) const MAX_DEPTH: u32 = 64;

/// Parses and checks `bytes` (sniffed as SVG) into a renderable tree.
pub(crate) fn parse(bytes: &[u8], limits: &Limits) -> Result<usvg::Tree, Error> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| Error::decode(Format::Svg, "not UTF-8 (SVGZ is not read)"))?;
    let xml = roxmltree::ParsingOptions {
        allow_dtd: true,
        nodes_limit: limits.max_svg_nodes,
        entity_resolver: None,
    };
    let doc = roxmltree::Document::parse_with_options(text, xml).map_err(|e| match e {
        roxmltree::Error::NodesLimitReached => Error::TooComplex {
            reason: format!("SVG of more than {} nodes", limits.max_svg_nodes),
        },
        other => Error::decode(Format::Svg, other),
    })?;
    bound(&doc, limits)?;
    usvg::Tree::from_xmltree(&doc, &options()).map_err(|e| Error::decode(Format::Svg, e))
}

/// `usvg`'s options, every field written out: `usvg::Options::default()`
/// would build its default image resolver, which reads files with
/// `std::fs`, and so link `wasi:filesystem` into the components (an import
/// they must not add) even though it is replaced.
fn options() -> usvg::Options<'static> {
    usvg::Options {
        resources_dir: None,
        dpi: 96.0,
        font_family: String::new(),
        font_size: 12.0,
        languages: vec!["en".into()],
        shape_rendering: usvg::ShapeRendering::default(),
        text_rendering: usvg::TextRendering::default(),
        image_rendering: usvg::ImageRendering::default(),
        default_size: usvg::Size::from_wh(100.0, 100.0).expect("a valid size"),
        image_href_resolver: usvg::ImageHrefResolver {
            resolve_data: Box::new(|_, _, _| None),
            resolve_string: Box::new(|_, _| None),
        },
        style_sheet: None,
    }
}

/// The intrinsic size in whole pixels (at least 1).
pub(crate) fn size(tree: &usvg::Tree) -> (u32, u32) {
    let s = tree.size();
    let px = |v: f32| (v.round() as u32).max(1);
    (px(s.width()), px(s.height()))
}

/// Draws the whole image scaled to `width` × `height`, as straight RGBA.
pub(crate) fn render(tree: &usvg::Tree, (width, height): (u32, u32)) -> Result<Image, Error> {
    let mut pixmap = tiny_skia::Pixmap::new(width, height)
        .ok_or_else(|| Error::decode(Format::Svg, "cannot allocate the canvas"))?;
    let s = tree.size();
    let transform =
        tiny_skia::Transform::from_scale(width as f32 / s.width(), height as f32 / s.height());
    resvg::render(tree, transform, &mut pixmap.as_mut());
    let mut data = pixmap.take();
    for px in data.chunks_exact_mut(4) {
        let a = u32::from(px[3]);
        if a != 0 && a != 255 {
            for c in &mut px[..3] {
                *c = ((u32::from(*c) * 255 + a / 2) / a).min(255) as u8;
            }
        }
    }
    Ok(Image {
        width,
        height,
        alpha: true,
        data,
    })
}

/// Refuses a document whose elements, expanded through `use` and
/// `url(#…)` references, exceed `max_svg_nodes`, that nests deeper than
/// [`MAX_DEPTH`], or whose references form a cycle. Iterative, so a hostile
/// document cannot overflow the stack here either.
fn bound(doc: &roxmltree::Document<'_>, limits: &Limits) -> Result<(), Error> {
    let too_complex = |reason: String| Error::TooComplex { reason };
    let by_id: HashMap<&str, roxmltree::Node<'_, '_>> = doc
        .descendants()
        .filter_map(|n| n.attribute("id").map(|id| (id, n)))
        .collect();
    let max = u64::from(limits.max_svg_nodes);
    // Per node: (elements it expands to, depth it reaches), once done.
    let mut done: HashMap<roxmltree::NodeId, (u64, u32)> = HashMap::new();
    let mut open: HashMap<roxmltree::NodeId, ()> = HashMap::new();
    let root = doc.root_element();
    let mut stack = vec![(root, false)];
    while let Some((node, children_done)) = stack.pop() {
        if done.contains_key(&node.id()) {
            continue;
        }
        let deps = dependencies(node, &by_id);
        if !children_done {
            if open.insert(node.id(), ()).is_some() {
                return Err(too_complex("SVG references form a cycle".into()));
            }
            stack.push((node, true));
            for dep in deps {
                if open.contains_key(&dep.id()) && !done.contains_key(&dep.id()) {
                    return Err(too_complex("SVG references form a cycle".into()));
                }
                stack.push((dep, false));
            }
            continue;
        }
        let (mut count, mut depth) = (1u64, 0u32);
        for dep in deps {
            let (c, d) = done.get(&dep.id()).copied().unwrap_or((0, 0));
            count = count.saturating_add(c);
            depth = depth.max(d);
        }
        if count > max {
            return Err(too_complex(format!(
                "SVG expands to more than {max} elements through its references"
            )));
        }
        if depth + 1 > MAX_DEPTH {
            return Err(too_complex(format!(
                "SVG nests deeper than {MAX_DEPTH} levels"
            )));
        }
        open.remove(&node.id());
        done.insert(node.id(), (count, depth + 1));
    }
    Ok(())
}

/// An element's child elements and the elements it references by `href`
/// (`use`, gradients, patterns, filters) or `url(#id)` in any attribute.
fn dependencies<'a, 'i>(
    node: roxmltree::Node<'a, 'i>,
    by_id: &HashMap<&str, roxmltree::Node<'a, 'i>>,
) -> Vec<roxmltree::Node<'a, 'i>> {
    let mut deps: Vec<_> = node.children().filter(|c| c.is_element()).collect();
    for attr in node.attributes() {
        let value = attr.value();
        let target = if attr.name() == "href" {
            value.strip_prefix('#')
        } else {
            value
                .find("url(#")
                .map(|at| &value[at + 5..])
                .and_then(|rest| rest.split(')').next())
        };
        if let Some(target) = target.and_then(|id| by_id.get(id.trim().trim_matches(['"', '\'']))) {
            deps.push(*target);
        }
    }
    deps
}

#[cfg(test)]
mod tests;
