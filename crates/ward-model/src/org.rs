//! The organisation tree and the assets each organisation owns.

use serde::{Deserialize, Serialize};

/// How an organisation is run, which decides how severe a finding is for it and which
/// version of the advice it is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum SizeClass {
    /// Run by volunteers on hosted services (a constituency branch).
    Small,
    /// Has its own IT people and servers (a party headquarters).
    Medium,
}

impl SizeClass {
    /// The lower-case name used in files and output.
    pub fn as_str(self) -> &'static str {
        match self {
            SizeClass::Small => "small",
            SizeClass::Medium => "medium",
        }
    }
}

/// Where an organisation sits in the tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OrgKind {
    /// The top of the tree: the national party.
    Party,
    /// A region grouping branches.
    Region,
    /// A constituency branch.
    Branch,
}

impl OrgKind {
    /// The lower-case name used in files and output.
    pub fn as_str(self) -> &'static str {
        match self {
            OrgKind::Party => "party",
            OrgKind::Region => "region",
            OrgKind::Branch => "branch",
        }
    }
}

/// What a domain is used for. Checks use roles to decide what applies: a parked domain
/// must refuse mail, a mail domain must authenticate it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Sends or receives mail.
    Mail,
    /// Serves a web site.
    Web,
    /// Held but not used: must send no mail and accept none.
    Parked,
}

impl Role {
    /// The lower-case name used in files and output.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Mail => "mail",
            Role::Web => "web",
            Role::Parked => "parked",
        }
    }
}

/// A domain an organisation owns, with what it is used for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Asset {
    /// The domain name, lower case, without a trailing dot.
    pub domain: String,
    /// What the domain is used for.
    pub roles: Vec<Role>,
    /// DKIM selectors the owner told us about, beyond the well-known ones.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dkim_selectors: Vec<String>,
    /// DKIM selectors the domain's DMARC aggregate reports show verifying its mail (a
    /// scan with a store fills these in). They are asked about like the inventory's, but
    /// a missing key at one is not a finding: keys rotate, reports look back.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reported_dkim_selectors: Vec<String>,
}

impl Asset {
    /// Whether the asset has `role`.
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

/// One organisation: the party, a region or a branch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organisation {
    /// A short stable identifier (`hq`, `north`, `leeds-central`).
    pub id: String,
    /// The name people use.
    pub name: String,
    /// Where it sits in the tree.
    pub kind: OrgKind,
    /// How it is run.
    pub size: SizeClass,
    /// The identifier of the organisation above it, if any.
    pub parent: Option<String>,
    /// The domains it owns.
    pub assets: Vec<Asset>,
}
