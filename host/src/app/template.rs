//! Spin's variable names and `{{ name }}` templates, shared by the manifest
//! check (which names a template may reference) and variable resolution.

/// Spin's variable names: lower-case ASCII letters, digits and `_`, starting with a letter.
pub fn check_variable_name(name: &str) -> Result<(), String> {
    let ok = name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(format!("invalid variable name {name:?} (use lower-case letters, digits and '_', starting with a letter)"))
    }
}

/// The application variables named by `{{ ... }}` in a template.
pub fn template_references(template: &str) -> Result<Vec<String>, String> {
    Ok(parse_template(template)?
        .into_iter()
        .filter_map(|part| match part {
            Part::Var(name) => Some(name.to_string()),
            Part::Text(_) => None,
        })
        .collect())
}

pub enum Part<'a> {
    Text(&'a str),
    Var(&'a str),
}

pub fn parse_template(template: &str) -> Result<Vec<Part<'_>>, String> {
    let mut parts = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        if start > 0 {
            parts.push(Part::Text(&rest[..start]));
        }
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or_else(|| format!("unclosed '{{{{' in template {template:?}"))?;
        let name = after[..end].trim();
        check_variable_name(name)?;
        parts.push(Part::Var(name));
        rest = &after[end + 2..];
    }
    if !rest.is_empty() {
        parts.push(Part::Text(rest));
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_are_checked() {
        assert_eq!(
            template_references("a {{ b }} c {{d}}").unwrap(),
            vec!["b", "d"]
        );
        assert!(template_references("{{ b ").is_err());
        assert!(template_references("{{ B }}").is_err());
    }
}
