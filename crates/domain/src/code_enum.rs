//! A closed list of machine codes (English kebab-case) as a Rust enum.
//!
//! Every closed list in the domain (categories, statuses, answers…) is
//! declared with [`code_enum!`] so that its serde form, its `FromStr`, its
//! `ALL` list and its `code()` can never disagree.

/// Declares `enum Name { Variant => "code", … }` with serde, `FromStr`,
/// `Display`, `ALL` and `code()`. Exported, so the device, the server and
/// the app declare their closed lists of codes the same way; a crate that
/// generates schemas or TypeScript adds those derives as attributes
/// (`#[cfg_attr(feature = "ts", derive(ts_rs::TS))]`).
///
/// A list that crosses the network from a newer peer ends with a
/// `#[serde(other)] Unknown => "unknown"` variant, so an unknown code is
/// read as `Unknown` instead of failing the whole message.
#[macro_export]
macro_rules! code_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident { $( $(#[$vmeta:meta])* $variant:ident => $code:literal ),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        $vis enum $name {
            $( $(#[$vmeta])* #[serde(rename = $code)] $variant ),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable machine code (English kebab-case).
            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.code())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::validation::UnknownCode;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($code => Ok($name::$variant),)+
                    _ => Err($crate::validation::UnknownCode {
                        list: stringify!($name),
                        value: s.to_owned(),
                        allowed: vec![$($code),+],
                    }),
                }
            }
        }
    };
}
