//! Who may do what: the roles of API tokens, the permissions each grants, and the
//! site scope that limits a token to some sites. Pure rules; the API asks them.

use crate::validation::Violations;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The catalogue, tokens, and everything logistics and reporters do.
    Admin,
    /// Receipts, dispatches, discards, receiving deliveries, and all reads.
    Logistics,
    /// A unit's tablet: stock reports, issues and receiving deliveries at its own sites,
    /// reads of its own sites.
    Reporter,
    /// Dashboards: reads only.
    Viewer,
}

crate::text_enum!(Role {
    Admin = "admin",
    Logistics = "logistics",
    Reporter = "reporter",
    Viewer = "viewer",
});

/// One thing an operation needs. Every API operation asks for exactly one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// Items and sites (the catalogue).
    ReadCatalogue,
    /// Balances, the ledger and transfers; scoped tokens only of their sites.
    ReadStock,
    /// Add items and sites.
    EditCatalogue,
    /// Create, list and revoke API tokens.
    ManageTokens,
    /// Record stock arriving at a warehouse.
    Receive,
    /// Dispatch a transfer from a warehouse.
    Dispatch,
    /// Throw away stock.
    Discard,
    /// A unit's count.
    ReportStock,
    /// Stock used at a site.
    Issue,
    /// Confirm that a delivery arrived (the transfer's destination).
    ReceiveTransfer,
    /// Plan vehicle routes and deliveries, and keep the fleet (distribution work).
    PlanRoutes,
    /// Ask for stock for a unit (a supply request).
    RequestSupply,
}

impl Permission {
    pub const ALL: &'static [Permission] = &[
        Permission::ReadCatalogue,
        Permission::ReadStock,
        Permission::EditCatalogue,
        Permission::ManageTokens,
        Permission::Receive,
        Permission::Dispatch,
        Permission::Discard,
        Permission::ReportStock,
        Permission::Issue,
        Permission::ReceiveTransfer,
        Permission::PlanRoutes,
        Permission::RequestSupply,
    ];
}

impl Role {
    /// Whether the role grants `p` at all (a site scope may still narrow it).
    pub fn allows(self, p: Permission) -> bool {
        use Permission as P;
        match self {
            Role::Admin => true,
            Role::Logistics => matches!(
                p,
                P::ReadCatalogue
                    | P::ReadStock
                    | P::Receive
                    | P::Dispatch
                    | P::Discard
                    | P::ReceiveTransfer
                    | P::PlanRoutes
                    | P::RequestSupply
            ),
            Role::Reporter => matches!(
                p,
                P::ReadCatalogue
                    | P::ReadStock
                    | P::ReportStock
                    | P::Issue
                    | P::ReceiveTransfer
                    | P::RequestSupply
            ),
            Role::Viewer => matches!(p, P::ReadCatalogue | P::ReadStock),
        }
    }

    /// The roles that grant `p`, in declaration order (documented per API operation).
    pub fn granting(p: Permission) -> Vec<Role> {
        Role::ALL.iter().copied().filter(|r| r.allows(p)).collect()
    }
}

/// Why an authenticated caller is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    #[error("the {role} role may not do this")]
    Role { role: Role },
    #[error("this token is not scoped to site `{site}`")]
    Site { site: String },
    #[error("this token is scoped to some sites: name one of them in `{param}`")]
    Unscoped { param: &'static str },
}

/// The caller of a request: a verified token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub token_id: i64,
    pub token_name: String,
    pub role: Role,
    /// Site codes the token is limited to; `None` means every site.
    pub sites: Option<BTreeSet<String>>,
}

impl Principal {
    /// The role check alone (operations that touch no particular site).
    pub fn require(&self, p: Permission) -> Result<(), Denied> {
        if self.role.allows(p) {
            Ok(())
        } else {
            Err(Denied::Role { role: self.role })
        }
    }

    /// The role check and the site scope: `site` must be one of the token's sites.
    pub fn require_at(&self, p: Permission, site: &str) -> Result<(), Denied> {
        self.require(p)?;
        if self.covers(site) {
            Ok(())
        } else {
            Err(Denied::Site {
                site: site.to_owned(),
            })
        }
    }

    /// A read that may span sites (`param` names the filter that narrows it): an
    /// unscoped token may read everything; a scoped one must name one of its sites.
    pub fn require_filtered(
        &self,
        p: Permission,
        param: &'static str,
        site: Option<&str>,
    ) -> Result<(), Denied> {
        match (site, &self.sites) {
            (Some(s), _) => self.require_at(p, s),
            (None, None) => self.require(p),
            (None, Some(_)) => {
                self.require(p)?;
                Err(Denied::Unscoped { param })
            }
        }
    }

    /// Whether the token may act at `site`.
    pub fn covers(&self, site: &str) -> bool {
        self.sites.as_ref().is_none_or(|s| s.contains(site.trim()))
    }
}

/// The lifecycle state of a token at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenState {
    Active,
    Expired,
    Revoked,
}

pub fn token_state(
    expires_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> TokenState {
    if revoked_at.is_some_and(|r| r <= now) {
        TokenState::Revoked
    } else if expires_at.is_some_and(|e| e <= now) {
        TokenState::Expired
    } else {
        TokenState::Active
    }
}

/// Longest lifetime a token can be given, in days (ten years).
pub const MAX_EXPIRY_DAYS: i64 = 3650;

/// A token to create, as an administrator asks for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// What the token is for, e.g. "Nursing home tablet".
    pub name: String,
    pub role: Role,
    /// Site codes the token is limited to. Required for reporters; not allowed for admins.
    #[serde(default)]
    pub sites: Vec<String>,
    /// Days until the token expires (1–3650); absent means it never expires.
    #[serde(default)]
    pub expires_in_days: Option<i64>,
}

impl NewToken {
    /// Checks the request; returns it trimmed, with sites sorted and deduplicated.
    pub fn validate(&self) -> Result<NewToken, Violations> {
        let mut v = Violations::default();
        v.text("name", &self.name, 100);
        let sites: BTreeSet<String> = self
            .sites
            .iter()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect();
        if self.sites.iter().any(|s| s.trim().is_empty()) {
            v.add("sites", "must not hold empty codes");
        }
        match self.role {
            Role::Reporter if sites.is_empty() => {
                v.add("sites", "a reporter token needs at least one site")
            }
            Role::Admin if !sites.is_empty() => {
                v.add("sites", "an admin token cannot be limited to sites")
            }
            _ => {}
        }
        if let Some(d) = self.expires_in_days
            && !(1..=MAX_EXPIRY_DAYS).contains(&d)
        {
            v.add(
                "expires_in_days",
                format!("must be between 1 and {MAX_EXPIRY_DAYS}"),
            );
        }
        v.finish()?;
        Ok(NewToken {
            name: self.name.trim().to_owned(),
            role: self.role,
            sites: sites.into_iter().collect(),
            expires_in_days: self.expires_in_days,
        })
    }
}

/// A token as listed: everything but its secret (which is never stored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenInfo {
    pub id: i64,
    pub name: String,
    pub role: Role,
    /// Site codes the token is limited to; empty means every site.
    pub sites: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// Updated at most about once a minute.
    pub last_used_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn principal(role: Role, sites: &[&str]) -> Principal {
        Principal {
            token_id: 1,
            token_name: "t".into(),
            role,
            sites: (!sites.is_empty()).then(|| sites.iter().map(|s| s.to_string()).collect()),
        }
    }

    #[test]
    fn admin_may_do_everything_and_viewer_only_read() {
        for p in Permission::ALL {
            assert!(Role::Admin.allows(*p), "{p:?}");
        }
        for p in Permission::ALL {
            let read = matches!(p, Permission::ReadCatalogue | Permission::ReadStock);
            assert_eq!(Role::Viewer.allows(*p), read, "{p:?}");
        }
        for r in Role::ALL {
            assert!(r.allows(Permission::ReadCatalogue));
        }
    }

    #[test]
    fn logistics_moves_stock_and_reporters_report_it() {
        use Permission as P;
        for p in [P::Receive, P::Dispatch, P::Discard, P::ReceiveTransfer] {
            assert!(Role::Logistics.allows(p), "{p:?}");
        }
        for p in [P::EditCatalogue, P::ManageTokens, P::ReportStock, P::Issue] {
            assert!(!Role::Logistics.allows(p), "{p:?}");
        }
        for p in [P::ReportStock, P::Issue, P::ReceiveTransfer, P::ReadStock] {
            assert!(Role::Reporter.allows(p), "{p:?}");
        }
        for p in [
            P::Receive,
            P::Dispatch,
            P::Discard,
            P::EditCatalogue,
            P::ManageTokens,
        ] {
            assert!(!Role::Reporter.allows(p), "{p:?}");
        }
        assert_eq!(Role::granting(P::Issue), vec![Role::Admin, Role::Reporter]);
    }

    #[test]
    fn a_scoped_reporter_acts_only_at_its_sites() {
        let r = principal(Role::Reporter, &["NH-01"]);
        assert_eq!(r.require_at(Permission::Issue, "NH-01"), Ok(()));
        assert_eq!(
            r.require_at(Permission::Issue, "NH-02"),
            Err(Denied::Site {
                site: "NH-02".into()
            })
        );
        assert!(matches!(
            r.require_at(Permission::Dispatch, "NH-01"),
            Err(Denied::Role { .. })
        ));
        assert_eq!(
            r.require_filtered(Permission::ReadStock, "site", None),
            Err(Denied::Unscoped { param: "site" })
        );
        assert_eq!(
            r.require_filtered(Permission::ReadStock, "site", Some("NH-01")),
            Ok(())
        );
        let l = principal(Role::Logistics, &[]);
        assert_eq!(
            l.require_filtered(Permission::ReadStock, "site", None),
            Ok(())
        );
        assert_eq!(l.require_at(Permission::Dispatch, "ANY"), Ok(()));
    }

    #[test]
    fn token_state_follows_revocation_then_expiry() {
        let t = |h| Utc.with_ymd_and_hms(2026, 1, 1, h, 0, 0).unwrap();
        assert_eq!(token_state(None, None, t(5)), TokenState::Active);
        assert_eq!(token_state(Some(t(6)), None, t(5)), TokenState::Active);
        assert_eq!(token_state(Some(t(5)), None, t(5)), TokenState::Expired);
        assert_eq!(
            token_state(Some(t(9)), Some(t(4)), t(5)),
            TokenState::Revoked
        );
        assert_eq!(
            token_state(Some(t(1)), Some(t(4)), t(5)),
            TokenState::Revoked
        );
    }

    #[test]
    fn new_tokens_are_checked() {
        let ok = NewToken {
            name: "  Tablet ".into(),
            role: Role::Reporter,
            sites: vec!["NH-02".into(), "NH-01".into(), "NH-01".into()],
            expires_in_days: Some(30),
        }
        .validate()
        .unwrap();
        assert_eq!(ok.name, "Tablet");
        assert_eq!(ok.sites, vec!["NH-01", "NH-02"]);
        let bad = |t: NewToken| -> Vec<String> {
            t.validate()
                .unwrap_err()
                .0
                .into_iter()
                .map(|e| e.field)
                .collect()
        };
        let base = NewToken {
            name: "x".into(),
            role: Role::Reporter,
            sites: vec![],
            expires_in_days: None,
        };
        assert_eq!(bad(base.clone()), vec!["sites"]);
        assert_eq!(
            bad(NewToken {
                role: Role::Admin,
                sites: vec!["NH-01".into()],
                ..base.clone()
            }),
            vec!["sites"]
        );
        assert_eq!(
            bad(NewToken {
                name: " ".into(),
                role: Role::Viewer,
                expires_in_days: Some(0),
                ..base
            }),
            vec!["name", "expires_in_days"]
        );
    }
}
