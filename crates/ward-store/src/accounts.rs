//! The accounts of `ward serve`: users, their roles over parts of the organisation
//! tree, sessions and API tokens, and the audit log.
//!
//! The store keeps facts and digests only: passwords arrive hashed (argon2id, by the
//! server), session and API tokens as their SHA-256 digests, so a copy of the database
//! lets no one log in. Who may see what is worked out by the server from
//! [`Store::memberships`] and the organisation tree.

use crate::{Store, StoreError};

/// A role, over an organisation and everything below it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AccessRole {
    /// Reads.
    Viewer,
    /// Reads, answers the self-assessment, edits domains and contacts.
    Editor,
    /// All of that, and manages users.
    Admin,
}

impl AccessRole {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            AccessRole::Viewer => "viewer",
            AccessRole::Editor => "editor",
            AccessRole::Admin => "admin",
        }
    }

    /// From its stored (or typed) name.
    pub fn parse(s: &str) -> Option<AccessRole> {
        match s {
            "viewer" => Some(AccessRole::Viewer),
            "editor" => Some(AccessRole::Editor),
            "admin" => Some(AccessRole::Admin),
            _ => None,
        }
    }
}

/// A user, as a session or token resolves to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Row id.
    pub id: i64,
    /// Login name.
    pub email: String,
}

/// A live session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Whose.
    pub user: User,
    /// The token its forms must carry.
    pub csrf: String,
}

/// An invitation, as its link finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    /// Who is invited.
    pub email: String,
    /// Where.
    pub organisation_id: String,
    /// As what.
    pub role: AccessRole,
    /// By whom (an email).
    pub invited_by: String,
    /// Until when it works (ms since the epoch).
    pub expires_ms: i64,
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditEntry {
    /// When (ms since the epoch).
    pub at_ms: i64,
    /// Who: an email, or `cli`.
    pub actor: String,
    /// What: `login`, `login-failed`, `role`, `export`, …
    pub action: String,
    /// Of what.
    pub detail: String,
}

impl Store {
    /// Adds a user; `None` when the email is taken.
    pub async fn create_user(
        &self,
        email: &str,
        password_hash: &str,
        now_ms: i64,
    ) -> Result<Option<i64>, StoreError> {
        let row: Option<(i64,)> = on_pool!(self, pool => sqlx::query_as(
            "INSERT INTO users (email, password_hash, created_ms) VALUES ($1, $2, $3) \
             ON CONFLICT (email) DO NOTHING RETURNING id",
        )
        .bind(email)
        .bind(password_hash)
        .bind(now_ms)
        .fetch_optional(pool)
        .await
        .map_err(self.db())?);
        Ok(row.map(|(id,)| id))
    }

    /// Replaces a user's password hash, ending every session of theirs. False when there
    /// is no such user.
    pub async fn set_password(&self, email: &str, password_hash: &str) -> Result<bool, StoreError> {
        let n = on_pool!(self, pool => sqlx::query("UPDATE users SET password_hash = $2 WHERE email = $1")
            .bind(email)
            .bind(password_hash)
            .execute(pool)
            .await
            .map_err(self.db())?
            .rows_affected());
        if let Some((user, _)) = self.password_hash(email).await? {
            self.end_sessions(user.id).await?;
        }
        Ok(n == 1)
    }

    /// The user with this email and their password hash.
    pub async fn password_hash(&self, email: &str) -> Result<Option<(User, String)>, StoreError> {
        let row: Option<(i64, String, String)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT id, email, password_hash FROM users WHERE email = $1",
        )
        .bind(email)
        .fetch_optional(pool)
        .await
        .map_err(self.db())?);
        Ok(row.map(|(id, email, hash)| (User { id, email }, hash)))
    }

    /// Gives `user` `role` at `organisation_id` (replacing a role they had there).
    pub async fn grant(
        &self,
        user: i64,
        organisation_id: &str,
        role: AccessRole,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => sqlx::query(
            "INSERT INTO memberships (user_id, organisation_id, role) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id, organisation_id) DO UPDATE SET role = excluded.role",
        )
        .bind(user)
        .bind(organisation_id)
        .bind(role.as_str())
        .execute(pool)
        .await
        .map_err(self.db())?
        .rows_affected());
        Ok(())
    }

    /// Every role `user` holds, by organisation id.
    pub async fn memberships(&self, user: i64) -> Result<Vec<(String, AccessRole)>, StoreError> {
        let rows: Vec<(String, String)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT organisation_id, role FROM memberships WHERE user_id = $1 ORDER BY organisation_id",
        )
        .bind(user)
        .fetch_all(pool)
        .await
        .map_err(self.db())?);
        rows.into_iter()
            .map(|(org, role)| {
                AccessRole::parse(&role)
                    .map(|r| (org, r))
                    .ok_or_else(|| self.corrupt("membership role")(role))
            })
            .collect()
    }

    /// Opens a session under the digest of its token.
    pub async fn create_session(
        &self,
        token_hash: &str,
        user: i64,
        csrf: &str,
        now_ms: i64,
        expires_ms: i64,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, csrf, created_ms, expires_ms) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token_hash)
        .bind(user)
        .bind(csrf)
        .bind(now_ms)
        .bind(expires_ms)
        .execute(pool)
        .await
        .map_err(self.db())?
        .rows_affected());
        Ok(())
    }

    /// The live session with this token digest.
    pub async fn session(
        &self,
        token_hash: &str,
        now_ms: i64,
    ) -> Result<Option<Session>, StoreError> {
        let row: Option<(i64, String, String)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT u.id, u.email, s.csrf FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.expires_ms > $2",
        )
        .bind(token_hash)
        .bind(now_ms)
        .fetch_optional(pool)
        .await
        .map_err(self.db())?);
        Ok(row.map(|(id, email, csrf)| Session {
            user: User { id, email },
            csrf,
        }))
    }

    /// Ends one session.
    pub async fn end_session(&self, token_hash: &str) -> Result<(), StoreError> {
        on_pool!(self, pool => sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(pool)
            .await
            .map_err(self.db())?
        .rows_affected());
        Ok(())
    }

    /// Ends every session of `user` (logout everywhere, a new password).
    pub async fn end_sessions(&self, user: i64) -> Result<u64, StoreError> {
        Ok(
            on_pool!(self, pool => sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user)
            .execute(pool)
            .await
            .map_err(self.db())?
            .rows_affected()),
        )
    }

    /// Stores an API token's digest for `user`.
    pub async fn create_api_token(
        &self,
        token_hash: &str,
        user: i64,
        label: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => sqlx::query(
            "INSERT INTO api_tokens (token_hash, user_id, label, created_ms) VALUES ($1, $2, $3, $4)",
        )
        .bind(token_hash)
        .bind(user)
        .bind(label)
        .bind(now_ms)
        .execute(pool)
        .await
        .map_err(self.db())?
        .rows_affected());
        Ok(())
    }

    /// The user an API token digest belongs to.
    pub async fn api_token_user(&self, token_hash: &str) -> Result<Option<User>, StoreError> {
        let row: Option<(i64, String)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT u.id, u.email FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(pool)
        .await
        .map_err(self.db())?);
        Ok(row.map(|(id, email)| User { id, email }))
    }

    /// Appends to the audit log.
    pub async fn audit(
        &self,
        now_ms: i64,
        actor: &str,
        action: &str,
        detail: &str,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => sqlx::query(
            "INSERT INTO audit_log (at_ms, actor, action, detail) VALUES ($1, $2, $3, $4)",
        )
        .bind(now_ms)
        .bind(actor)
        .bind(action)
        .bind(detail)
        .execute(pool)
        .await
        .map_err(self.db())?
        .rows_affected());
        Ok(())
    }

    /// The newest `limit` lines of the audit log, newest first.
    pub async fn audit_log(&self, limit: u32) -> Result<Vec<AuditEntry>, StoreError> {
        let rows: Vec<(i64, String, String, String)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT at_ms, actor, action, detail FROM audit_log ORDER BY id DESC LIMIT $1",
        )
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await
        .map_err(self.db())?);
        Ok(rows
            .into_iter()
            .map(|(at_ms, actor, action, detail)| AuditEntry {
                at_ms,
                actor,
                action,
                detail,
            })
            .collect())
    }

    /// Stores an invitation under the digest of its link's token.
    pub async fn create_invitation(
        &self,
        token_hash: &str,
        inv: &Invitation,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => sqlx::query(
            "INSERT INTO invitations (token_hash, email, organisation_id, role, invited_by, created_ms, expires_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(token_hash)
        .bind(&inv.email)
        .bind(&inv.organisation_id)
        .bind(inv.role.as_str())
        .bind(&inv.invited_by)
        .bind(now_ms)
        .bind(inv.expires_ms)
        .execute(pool)
        .await
        .map_err(self.db())?
        .rows_affected());
        Ok(())
    }

    /// The invitation of a link that still works: not used, not expired.
    pub async fn open_invitation(
        &self,
        token_hash: &str,
        now_ms: i64,
    ) -> Result<Option<Invitation>, StoreError> {
        let row: Option<(String, String, String, String, i64)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT email, organisation_id, role, invited_by, expires_ms FROM invitations \
             WHERE token_hash = $1 AND used_ms IS NULL AND expires_ms > $2",
        )
        .bind(token_hash)
        .bind(now_ms)
        .fetch_optional(pool)
        .await
        .map_err(self.db())?);
        row.map(|(email, organisation_id, role, invited_by, expires_ms)| {
            Ok(Invitation {
                role: AccessRole::parse(&role)
                    .ok_or_else(|| self.corrupt("invitation role")(role))?,
                email,
                organisation_id,
                invited_by,
                expires_ms,
            })
        })
        .transpose()
    }

    /// Marks a link used; true only for the one caller that used it while it still
    /// worked, so two people racing with the same link cannot both get in.
    pub async fn use_invitation(&self, token_hash: &str, now_ms: i64) -> Result<bool, StoreError> {
        let n = on_pool!(self, pool => sqlx::query(
            "UPDATE invitations SET used_ms = $2 WHERE token_hash = $1 AND used_ms IS NULL AND expires_ms > $2",
        )
        .bind(token_hash)
        .bind(now_ms)
        .execute(pool)
        .await
        .map_err(self.db())?
        .rows_affected());
        Ok(n == 1)
    }
}
