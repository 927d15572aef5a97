//! Who may see what: a role at an organisation covers it and everything below it.

use std::collections::HashMap;
use ward_model::Organisation;
use ward_store::AccessRole;

/// The organisations one user may see, each with the highest role that covers it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Access {
    roles: HashMap<String, AccessRole>,
}

impl Access {
    /// What `memberships` (organisation id, role) grant over the tree `orgs`. A
    /// membership at an organisation no longer in the tree grants nothing.
    pub fn new(memberships: &[(String, AccessRole)], orgs: &[Organisation]) -> Access {
        let mut children: HashMap<&str, Vec<&str>> = HashMap::new();
        for o in orgs {
            if let Some(p) = &o.parent {
                children.entry(p.as_str()).or_default().push(o.id.as_str());
            }
        }
        let known: std::collections::HashSet<&str> = orgs.iter().map(|o| o.id.as_str()).collect();
        let mut roles: HashMap<String, AccessRole> = HashMap::new();
        for (root, role) in memberships {
            if !known.contains(root.as_str()) {
                continue;
            }
            let mut stack = vec![root.as_str()];
            // The inventory refuses loops; the bound keeps a broken tree from spinning.
            let mut steps = 0;
            while let Some(id) = stack.pop() {
                steps += 1;
                if steps > orgs.len() {
                    break;
                }
                let e = roles.entry(id.to_owned()).or_insert(*role);
                *e = (*e).max(*role);
                stack.extend(children.get(id).into_iter().flatten());
            }
        }
        Access { roles }
    }

    /// The role covering `org`, if any: `None` means the user must get a 404.
    pub fn role(&self, org: &str) -> Option<AccessRole> {
        self.roles.get(org).copied()
    }

    /// Whether the user may see `org`.
    pub fn sees(&self, org: &str) -> bool {
        self.roles.contains_key(org)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ward_model::{OrgKind, SizeClass};

    fn org(id: &str, parent: Option<&str>) -> Organisation {
        Organisation {
            id: id.into(),
            name: id.into(),
            kind: if parent.is_none() {
                OrgKind::Party
            } else {
                OrgKind::Branch
            },
            size: SizeClass::Small,
            parent: parent.map(Into::into),
            assets: Vec::new(),
        }
    }

    #[test]
    fn a_role_covers_its_subtree_and_nothing_else() {
        let orgs = vec![
            org("hq", None),
            org("north", Some("hq")),
            org("leeds", Some("north")),
            org("south", Some("hq")),
            org("other-party", None),
        ];
        let region = Access::new(&[("north".into(), AccessRole::Viewer)], &orgs);
        assert!(region.sees("north") && region.sees("leeds"));
        assert!(!region.sees("hq") && !region.sees("south") && !region.sees("other-party"));
        let mixed = Access::new(
            &[
                ("hq".into(), AccessRole::Viewer),
                ("leeds".into(), AccessRole::Admin),
            ],
            &orgs,
        );
        assert_eq!(mixed.role("south"), Some(AccessRole::Viewer));
        assert_eq!(mixed.role("leeds"), Some(AccessRole::Admin));
        assert_eq!(mixed.role("other-party"), None);
        let gone = Access::new(&[("deleted".into(), AccessRole::Admin)], &orgs);
        assert_eq!(gone, Access::default());
    }
}
