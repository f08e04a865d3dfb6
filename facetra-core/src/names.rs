//! `names!`: an enum of fixed names (a status, a type), with its name, a parser whose error
//! lists the valid names, `Display` and the list of every value: written once for every such
//! enum of the domain.

macro_rules! names {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $text:literal),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),* }

        impl $name {
            /// Every value, in order.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The value's name.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),* }
            }

            /// Parses a name; the error lists the valid ones.
            pub fn parse(field: &'static str, s: &str) -> $crate::error::Result<$name> {
                match s.trim() {
                    $($text => Ok($name::$variant),)*
                    other => Err($crate::error::Error::invalid(field, format!(
                        "{other:?} is not one of {}",
                        [$($text),*].join(", ")
                    ))),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub(crate) use names;
