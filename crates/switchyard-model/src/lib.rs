//! Plain data types shared by every Switchyard stage.
//!
//! The pipeline is `extract → link → graph`. `extract` turns one repository's files into
//! [`RepoFacts`]: the services it declares, what they serve ([`Endpoint`]), what they call
//! ([`Reference`]), environment values ([`EnvEntry`]), and [`Diagnostic`]s for files it could not
//! read. `link` resolves references across the fleet into a [`FleetModel`] of services and
//! [`Edge`]s. Every fact carries a [`Location`] so a user can check it.
//!
//! This crate holds data, not behaviour, with one exception: [`redact`], because every output
//! path must redact secrets the same way.
//!
//! ```
//! use switchyard_model::{Location, ByteSpan};
//! let loc = Location::new("api", "docker-compose.yml", 3, 5, ByteSpan::new(20, 28));
//! assert_eq!(loc.to_string(), "api/docker-compose.yml:3:5");
//! ```

mod facts;
mod fleet;
mod location;
pub mod redact;

pub use facts::*;
pub use fleet::*;
pub use location::*;
