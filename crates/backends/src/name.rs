//! Volume names.

use std::fmt;

use crate::Error;

/// The name of one share's volume under a backend's parent: a dataset
/// component for ZFS, a directory name for Dir.
///
/// 1–64 characters from `A-Z a-z 0-9 _ . -`, starting with a letter or digit.
/// This is the intersection of what ZFS, CephFS subvolumes, RBD images and
/// directories accept, so a share can move between backends by name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VolumeName(String);

impl VolumeName {
    /// Validates `name`.
    pub fn new(name: &str) -> Result<VolumeName, Error> {
        let bad = |reason| {
            Err(Error::InvalidName {
                name: name.to_owned(),
                reason,
            })
        };
        if name.is_empty() {
            return bad("it is empty");
        }
        if name.len() > 64 {
            return bad("it is longer than 64 characters");
        }
        if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return bad("it must start with a letter or digit");
        }
        if !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        {
            return bad("only letters, digits, `_`, `.` and `-` are allowed");
        }
        Ok(VolumeName(name.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for VolumeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for VolumeName {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        VolumeName::new(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for good in ["a", "share1", "Team_Data-2024.v2", &"x".repeat(64)] {
            VolumeName::new(good).unwrap();
        }
        for (bad, why) in [
            ("", "empty"),
            (".", "start"),
            ("..", "start"),
            ("-x", "start"),
            ("a/b", "only"),
            ("a b", "only"),
            ("a@s", "only"),
            ("ä", "start"),
            ("a\n", "only"),
        ] {
            let e = VolumeName::new(bad).unwrap_err().to_string();
            assert!(e.contains(why), "{bad:?}: {e}");
        }
        assert!(VolumeName::new(&"x".repeat(65))
            .unwrap_err()
            .to_string()
            .contains("64"));
    }
}
