//! Quota sizes: parsing and display.

use std::fmt;
use std::num::NonZeroU64;
use std::str::FromStr;

use crate::Error;

/// A volume size limit in bytes, never zero.
///
/// # Accepted syntax
///
/// `<integer>[unit]`, no space between number and unit, surrounding
/// whitespace ignored. **All units are binary (powers of 1024)**, spelled
/// either as a single letter or as the IEC name, case-insensitively:
///
/// | unit | bytes |
/// |---|---|
/// | none or `B` | 1 |
/// | `K` / `KiB` | 1024 |
/// | `M` / `MiB` | 1024² |
/// | `G` / `GiB` | 1024³ |
/// | `T` / `TiB` | 1024⁴ |
/// | `P` / `PiB` | 1024⁵ |
/// | `E` / `EiB` | 1024⁶ |
///
/// So `10G` = `10GiB` = 10737418240 bytes, which is what `zfs`, `df -h` and
/// Proxmox mean by `10G`.
///
/// Rejected, with an error that says what to write instead:
/// * `10GB`, `10gb`, `10Gb`: ambiguous (decimal gigabytes? gigabits?); the
///   gateway never guesses, so decimal-looking units are refused rather than
///   silently read as binary;
/// * `10 G`: space between number and unit;
/// * `1.5G`: fractions (write `1536M`);
/// * `0`, `-1G`, an unknown unit (`10X`, `10Gi`), and anything above
///   `u64::MAX` bytes.
///
/// ```
/// use backends::Quota;
/// let q: Quota = "10G".parse().unwrap();
/// assert_eq!(q.bytes(), 10 * 1024 * 1024 * 1024);
/// assert_eq!(q, "10GiB".parse().unwrap());
/// assert_eq!(q.to_string(), "10GiB");
/// assert!("10GB".parse::<Quota>().unwrap_err().to_string().contains("write `10G` or `10GiB`"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quota(NonZeroU64);

/// Why a quota string was rejected (see [`Quota`] for the syntax).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum QuotaProblem {
    /// Nothing was given.
    Empty,
    /// A leading `-`.
    Negative,
    /// The size is zero.
    Zero,
    /// No leading decimal integer.
    NotANumber,
    /// `1.5G`.
    Fraction,
    /// `10 G`.
    SpaceBeforeUnit,
    /// `10GB`: a decimal-looking unit (the binary spelling is given).
    DecimalUnit {
        /// The unit as written.
        unit: String,
        /// The single-letter binary unit to write instead, e.g. `G`.
        letter: char,
    },
    /// A unit that is not in the table.
    UnknownUnit(String),
    /// More than `u64::MAX` bytes.
    Overflow,
}

impl fmt::Display for QuotaProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QuotaProblem::Empty => f.write_str("empty size; write a size such as `10G`"),
            QuotaProblem::Negative => f.write_str("a size cannot be negative"),
            QuotaProblem::Zero => f.write_str("a quota of zero bytes is not allowed; omit the quota for none"),
            QuotaProblem::NotANumber => {
                f.write_str("a size starts with a whole number, e.g. `500M`, `10G`, `1T` or plain bytes")
            }
            QuotaProblem::Fraction => {
                f.write_str("fractions are not accepted; use a smaller unit, e.g. `1536M` instead of `1.5G`")
            }
            QuotaProblem::SpaceBeforeUnit => {
                f.write_str("remove the space between number and unit, e.g. `10G`")
            }
            QuotaProblem::DecimalUnit { unit, letter } => write!(
                f,
                "unit `{unit}` is ambiguous (decimal or binary?); sizes are binary: write `10{letter}` or `10{letter}iB` (1024-based)"
            ),
            QuotaProblem::UnknownUnit(unit) => write!(
                f,
                "unknown unit `{unit}`; use B, K, M, G, T, P, E or KiB, MiB, GiB, TiB, PiB, EiB"
            ),
            QuotaProblem::Overflow => f.write_str("size too large (more than 16 EiB)"),
        }
    }
}

const LETTERS: [char; 6] = ['K', 'M', 'G', 'T', 'P', 'E'];

fn unit_shift(unit: &str) -> Result<u32, QuotaProblem> {
    if unit.is_empty() || unit.eq_ignore_ascii_case("b") {
        return Ok(0);
    }
    let upper = unit.to_ascii_uppercase();
    let mut chars = upper.chars();
    let first = chars.next().unwrap_or('?');
    let rest: String = chars.collect();
    let Some(pos) = LETTERS.iter().position(|&l| l == first) else {
        return Err(QuotaProblem::UnknownUnit(unit.to_owned()));
    };
    match rest.as_str() {
        "" | "IB" => Ok(10 * (pos as u32 + 1)),
        "B" => Err(QuotaProblem::DecimalUnit {
            unit: unit.to_owned(),
            letter: first,
        }),
        _ => Err(QuotaProblem::UnknownUnit(unit.to_owned())),
    }
}

impl Quota {
    /// A quota of exactly `bytes`; `None` for zero.
    pub fn from_bytes(bytes: u64) -> Option<Quota> {
        NonZeroU64::new(bytes).map(Quota)
    }

    /// The size in bytes.
    pub fn bytes(self) -> u64 {
        self.0.get()
    }

    /// Parses the syntax described on [`Quota`], naming the problem.
    pub fn parse(input: &str) -> Result<Quota, QuotaProblem> {
        let s = input.trim();
        if s.is_empty() {
            return Err(QuotaProblem::Empty);
        }
        if s.starts_with('-') {
            return Err(QuotaProblem::Negative);
        }
        let digits_end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        if digits_end == 0 {
            return Err(QuotaProblem::NotANumber);
        }
        let (digits, rest) = s.split_at(digits_end);
        if rest.starts_with(['.', ',']) {
            return Err(QuotaProblem::Fraction);
        }
        if rest.starts_with(char::is_whitespace) {
            return Err(QuotaProblem::SpaceBeforeUnit);
        }
        let shift = unit_shift(rest)?;
        let n: u64 = digits.parse().map_err(|_| QuotaProblem::Overflow)?;
        let bytes = n.checked_mul(1u64 << shift).ok_or(QuotaProblem::Overflow)?;
        Quota::from_bytes(bytes).ok_or(QuotaProblem::Zero)
    }
}

impl FromStr for Quota {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Quota::parse(s).map_err(|problem| Error::InvalidQuota {
            input: s.to_owned(),
            problem,
        })
    }
}

impl fmt::Display for Quota {
    /// The largest exact binary unit: `10GiB`, `1536MiB`, `1000B`. The
    /// output parses back to the same quota.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.bytes();
        for (i, l) in LETTERS.iter().enumerate().rev() {
            let shift = 10 * (i as u32 + 1);
            if b.trailing_zeros() >= shift {
                return write!(f, "{}{l}iB", b >> shift);
            }
        }
        write!(f, "{b}B")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> u64 {
        Quota::parse(s)
            .unwrap_or_else(|e| panic!("{s}: {e}"))
            .bytes()
    }

    #[test]
    fn accepted_spellings() {
        assert_eq!(ok("10G"), 10 << 30);
        assert_eq!(ok("10GiB"), 10 << 30);
        assert_eq!(ok("10g"), 10 << 30);
        assert_eq!(ok("10gib"), 10 << 30);
        assert_eq!(ok("500M"), 500 << 20);
        assert_eq!(ok("1T"), 1 << 40);
        assert_eq!(ok("1TiB"), 1 << 40);
        assert_eq!(ok("4096"), 4096);
        assert_eq!(ok("4096B"), 4096);
        assert_eq!(ok(" 1K \n"), 1024);
        assert_eq!(ok("15E"), 15 << 60);
        assert_eq!(ok("18446744073709551615"), u64::MAX);
    }

    #[test]
    fn rejected_spellings_say_why() {
        use QuotaProblem::*;
        let err = |s: &str| Quota::parse(s).unwrap_err();
        assert_eq!(err(""), Empty);
        assert_eq!(err("  "), Empty);
        assert_eq!(err("0"), Zero);
        assert_eq!(err("0G"), Zero);
        assert_eq!(err("-1G"), Negative);
        assert_eq!(err("G10"), NotANumber);
        assert_eq!(err("+5G"), NotANumber);
        assert_eq!(err("1.5G"), Fraction);
        assert_eq!(err("10 G"), SpaceBeforeUnit);
        assert_eq!(err("10 GB"), SpaceBeforeUnit);
        assert_eq!(
            err("10GB"),
            DecimalUnit {
                unit: "GB".into(),
                letter: 'G'
            }
        );
        assert_eq!(
            err("10gb"),
            DecimalUnit {
                unit: "gb".into(),
                letter: 'G'
            }
        );
        assert_eq!(err("10Gi"), UnknownUnit("Gi".into()));
        assert_eq!(err("10X"), UnknownUnit("X".into()));
        assert_eq!(err("10GiBs"), UnknownUnit("GiBs".into()));
        assert_eq!(err("16E"), Overflow);
        assert_eq!(err("18446744073709551616"), Overflow);
        assert_eq!(err("99999999999999999999999T"), Overflow);
    }

    #[test]
    fn error_messages() {
        let e = "10 GB".parse::<Quota>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid quota `10 GB`: remove the space between number and unit, e.g. `10G`"
        );
        let e = "10GB".parse::<Quota>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid quota `10GB`: unit `GB` is ambiguous (decimal or binary?); sizes are binary: write `10G` or `10GiB` (1024-based)"
        );
    }

    #[test]
    fn display() {
        assert_eq!(Quota::parse("10G").unwrap().to_string(), "10GiB");
        assert_eq!(Quota::parse("1536M").unwrap().to_string(), "1536MiB");
        assert_eq!(Quota::parse("1000").unwrap().to_string(), "1000B");
        assert_eq!(Quota::parse("1024").unwrap().to_string(), "1KiB");
    }

    proptest::proptest! {
        #[test]
        fn display_round_trips(bytes in 1u64..) {
            let q = Quota::from_bytes(bytes).unwrap();
            proptest::prop_assert_eq!(Quota::parse(&q.to_string()).unwrap(), q);
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,12}") {
            let _ = Quota::parse(&s);
        }
    }
}
