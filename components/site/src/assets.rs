//! The page's files, embedded at compile time from `components/site/web/`.

/// One embedded file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Asset {
    /// The request path it is served at.
    pub path: &'static str,
    pub content_type: &'static str,
    pub body: &'static str,
}

/// Every file the site serves.
pub const ASSETS: &[Asset] = &[
    Asset {
        path: "/",
        content_type: "text/html; charset=utf-8",
        body: include_str!("../web/index.html"),
    },
    Asset {
        path: "/assets/app.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("../web/app.css"),
    },
    Asset {
        path: "/assets/app.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../web/app.js"),
    },
];

/// The asset at `path` (`/index.html` is `/`).
pub fn find(path: &str) -> Option<&'static Asset> {
    let path = if path == "/index.html" { "/" } else { path };
    ASSETS.iter().find(|a| a.path == path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_links_only_embedded_same_origin_assets() {
        let html = find("/").unwrap().body;
        for asset in &ASSETS[1..] {
            assert!(
                html.contains(asset.path),
                "index.html does not use {}",
                asset.path
            );
        }
        for file in ASSETS {
            assert!(
                !file.body.contains("http://") && !file.body.contains("https://"),
                "{} loads something from elsewhere",
                file.path
            );
        }
        assert_eq!(find("/index.html"), find("/"));
        assert_eq!(find("/assets/nope.js"), None);
    }
}
