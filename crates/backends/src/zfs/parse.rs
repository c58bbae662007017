//! Pure parsers of `zfs` output and error messages. Tested on output
//! captured from zfs-fuse 0.7 (`tests/fixtures/zfs-fuse-0.7/`), whose texts
//! match OpenZFS's.

use crate::{Error, Result};

/// One row of `zfs get -Hp -o name,property,value,source`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZfsProp {
    /// Dataset or snapshot name.
    pub name: String,
    /// Property name.
    pub property: String,
    /// Raw value (`-p`: sizes in bytes, times in epoch seconds).
    pub value: String,
    /// `local`, `default`, `inherited from X`, `-`, …
    pub source: String,
}

/// Parses `zfs get -Hp -o name,property,value,source …` output: one
/// tab-separated row per dataset and property. Values may contain spaces
/// (but not tabs).
pub fn parse_zfs_get(out: &str) -> Result<Vec<ZfsProp>> {
    out.lines()
        .filter(|l| !l.is_empty())
        .map(|line| {
            let mut f = line.split('\t');
            match (f.next(), f.next(), f.next(), f.next(), f.next()) {
                (Some(name), Some(property), Some(value), Some(source), None)
                    if !name.is_empty() && !property.is_empty() =>
                {
                    Ok(ZfsProp {
                        name: name.to_owned(),
                        property: property.to_owned(),
                        value: value.to_owned(),
                        source: source.to_owned(),
                    })
                }
                _ => Err(Error::UnexpectedOutput {
                    tool: "zfs get",
                    line: line.to_owned(),
                    problem: "expected 4 tab-separated fields (name, property, value, source)",
                }),
            }
        })
        .collect()
}

/// Parses `zfs list -H -o name …` output: one name per line.
pub fn parse_zfs_list_names(out: &str) -> Vec<String> {
    out.lines()
        .map(str::trim_end)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A `-p` size or count (`used`, `refquota`, `creation`, …) as a number.
/// `quota=none` reads as `0` with `-p`.
pub fn parse_zfs_number(prop: &ZfsProp) -> Result<u64> {
    prop.value.parse().map_err(|_| Error::UnexpectedOutput {
        tool: "zfs get",
        line: format!(
            "{}\t{}\t{}\t{}",
            prop.name, prop.property, prop.value, prop.source
        ),
        problem: "expected a number of bytes (was -p given?)",
    })
}

/// What a failed `zfs`/`zpool` command complained about, from its stderr.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ZfsFailure {
    /// `cannot open 'x': dataset does not exist`.
    DoesNotExist,
    /// `no such pool 'p'` / `cannot open 'p': no such pool`.
    NoSuchPool,
    /// `cannot create 'a/b/c': parent does not exist`.
    ParentDoesNotExist,
    /// `cannot create 'x': dataset already exists`.
    AlreadyExists,
    /// `dataset is busy`, `pool or dataset is busy`, `target is busy`.
    Busy,
    /// `invalid property 'acltype'` (this zfs does not know the property).
    InvalidProperty(String),
    /// `'xattr' must be one of 'on | off'` (the value is not supported).
    InvalidValue(String),
    /// `size is less than current used or reserved space`.
    BelowUsage,
    /// `filesystem has children`.
    HasChildren,
    /// `out of space` (e.g. a refquota too small for the new dataset).
    OutOfSpace,
    /// Anything else.
    Other,
}

fn quoted_after<'a>(s: &'a str, marker: &str) -> Option<&'a str> {
    let rest = &s[s.find(marker)? + marker.len()..];
    let rest = rest.strip_prefix('\'')?;
    Some(&rest[..rest.find('\'')?])
}

/// Classifies a `zfs`/`zpool` error message (OpenZFS and zfs-fuse word them
/// the same way).
pub fn classify_zfs_error(stderr: &str) -> ZfsFailure {
    let s = stderr;
    if s.contains("dataset does not exist") {
        ZfsFailure::DoesNotExist
    } else if s.contains("no such pool") {
        ZfsFailure::NoSuchPool
    } else if s.contains("parent does not exist") {
        ZfsFailure::ParentDoesNotExist
    } else if s.contains("dataset already exists") {
        ZfsFailure::AlreadyExists
    } else if s.contains("is busy") {
        ZfsFailure::Busy
    } else if let Some(p) = quoted_after(s, "invalid property ") {
        ZfsFailure::InvalidProperty(p.to_owned())
    } else if let Some(idx) = s.find("' must be one of '") {
        let before = &s[..idx];
        let start = before.rfind('\'').map_or(0, |i| i + 1);
        ZfsFailure::InvalidValue(before[start..].to_owned())
    } else if s.contains("size is less than current used or reserved space") {
        ZfsFailure::BelowUsage
    } else if s.contains("has children") {
        ZfsFailure::HasChildren
    } else if s.contains("out of space") {
        ZfsFailure::OutOfSpace
    } else {
        ZfsFailure::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_with_spaces_and_empty_sources() {
        let rows = parse_zfs_get("tank/a\tmountpoint\t/srv/my share\tlocal\ntank/a\tused\t0\t-\n")
            .unwrap();
        assert_eq!(rows[0].value, "/srv/my share");
        assert_eq!(parse_zfs_number(&rows[1]).unwrap(), 0);
    }

    #[test]
    fn malformed_rows_are_errors() {
        let e = parse_zfs_get("NAME  PROPERTY  VALUE  SOURCE\n").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("unexpected output from `zfs get`: expected 4 tab-separated fields"),
            "{e}"
        );
        let rows = parse_zfs_get("tank\tused\t1.5G\t-\n").unwrap();
        assert!(parse_zfs_number(&rows[0])
            .unwrap_err()
            .to_string()
            .contains("was -p given?"));
    }

    #[test]
    fn openzfs_wordings() {
        assert_eq!(
            classify_zfs_error("cannot unmount '/tank/a': pool or dataset is busy\n"),
            ZfsFailure::Busy
        );
        assert_eq!(
            classify_zfs_error("cannot open 'nopool': no such pool\n"),
            ZfsFailure::NoSuchPool
        );
        assert_eq!(classify_zfs_error("something else\n"), ZfsFailure::Other);
    }
}
