//! Identifiers. Reports and households get UUID v7 ids made on the device,
//! so they are unique without asking the server and sort by creation time.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

macro_rules! uuid_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[cfg_attr(feature = "ts", derive(ts_rs::TS))]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A new time-ordered id (UUID v7).
            pub fn new_v7() -> Self {
                Self(Uuid::now_v7())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s.trim()).map(Self)
            }
        }
    };
}

uuid_id!(
    /// The id of one report (tip, inspection or count), stable across revisions.
    ReportId
);
uuid_id!(
    /// The id of one household in a group's register.
    HouseholdId
);
uuid_id!(
    /// The id of one announcement of the ward to its leaders.
    AnnouncementId
);
uuid_id!(
    /// The id of one campaign (đợt cao điểm) of a ward.
    CampaignId
);

impl ReportId {
    /// When the report was first written, from its UUID v7 (every report
    /// but a count, whose id is derived: `None` for those).
    pub fn written_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        let (secs, nanos) = self.0.get_timestamp()?.to_unix();
        chrono::DateTime::from_timestamp(i64::try_from(secs).ok()?, nanos)
    }
}

/// Namespace for ids derived from content (UUID v5), see [`ReportId::for_id_count`].
const SOTAY_NAMESPACE: Uuid = Uuid::from_u128(0x5e7a_9c1d_0b4e_4f6a_9d2c_7a11_c0de_0006);

impl ReportId {
    /// The one id of a group's Đề án 06 count for a day. Derived from the
    /// place and the date, so a second count of the same day can only ever be
    /// a new revision of the same report, on this device or another.
    pub fn for_id_count(ward: &str, group: &str, date: chrono::NaiveDate) -> Self {
        let name = format!("id-count/{ward}/{group}/{date}");
        Self(Uuid::new_v5(&SOTAY_NAMESPACE, name.as_bytes()))
    }
}
