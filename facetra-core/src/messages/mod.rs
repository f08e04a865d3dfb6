//! In-app messages (DESIGN §4): a signed-in user writes to Facetra — support, feedback or a
//! grievance — and reads the thread with the answers; staff answer (`support` for support and
//! feedback, `dpo` for grievances, through core's role table), and the user is emailed that an
//! answer is waiting, never the answer's text. A grievance also opens a grievance privacy
//! request with its 30-day due date, so the DPO sees it in the queue. Threads are a kind of the
//! registry of personal data (the person's words and the answers).

pub mod store;

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::accounts::{Actor, StaffOp};
use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::ids::{RequestId, ThreadId, UserId};
use crate::mail::templates;
use crate::names::names;
use crate::paging::{Page, PageRequest};
use crate::Facetra;

/// The longest message body.
pub const BODY_MAX: usize = 10_000;
/// The longest subject.
pub const SUBJECT_MAX: usize = 200;

names!(
    /// What a thread is about.
    MessageKind {
        Support => "support",
        Feedback => "feedback",
        Grievance => "grievance",
    }
);

names!(
    /// Where a thread stands: `open` until staff answer, `answered` after, `open` again when
    /// the user writes more.
    ThreadStatus {
        Open => "open",
        Answered => "answered",
        Closed => "closed",
    }
);

names!(
    /// Who wrote a reply.
    Author {
        User => "user",
        Staff => "staff",
    }
);

/// One reply in a thread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    pub from: Author,
    pub body: String,
    pub created_at: Timestamp,
    /// The staff member who answered (staff see it; the user sees "staff").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staff_id: Option<UserId>,
}

/// A thread: the user's first message and the replies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Thread {
    pub id: ThreadId,
    pub user_id: UserId,
    pub kind: MessageKind,
    pub subject: String,
    pub body: String,
    pub status: ThreadStatus,
    pub replies: Vec<Reply>,
    /// The grievance privacy request a grievance opened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<RequestId>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Which threads a staff listing shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ThreadFilter {
    pub user: Option<UserId>,
    pub kind: Option<MessageKind>,
    pub status: Option<ThreadStatus>,
}

fn text(field: &'static str, s: &str, max: usize) -> Result<String> {
    let t = s.trim();
    if t.is_empty() {
        return Err(Error::invalid(field, "must not be empty"));
    }
    if t.chars().count() > max {
        return Err(Error::invalid(
            field,
            format!("is longer than {max} characters"),
        ));
    }
    if t.contains('\0') {
        return Err(Error::invalid(field, "contains a NUL character"));
    }
    Ok(t.to_owned())
}

/// The messages domain, borrowed from the facade.
pub struct Messages<'a> {
    pub(crate) f: &'a Facetra,
}

impl Messages<'_> {
    /// Writes to Facetra; a grievance also opens a grievance privacy request.
    pub async fn send(
        &self,
        actor: &Actor,
        kind: MessageKind,
        subject: &str,
        body: &str,
    ) -> Result<Thread> {
        let user = self.f.accounts().me(actor).await?;
        let (subject, body) = (
            text("subject", subject, SUBJECT_MAX)?,
            text("body", body, BODY_MAX)?,
        );
        let now = self.f.now();
        let mut thread = Thread {
            id: ThreadId::new(now),
            user_id: user.id.clone(),
            kind,
            subject,
            body,
            status: ThreadStatus::Open,
            replies: Vec::new(),
            request_id: None,
            created_at: now,
            updated_at: now,
        };
        if kind == MessageKind::Grievance {
            let r = self
                .f
                .privacy()
                .grievance_from_message(actor, &user, &thread.id, &thread.subject)
                .await?;
            thread.request_id = Some(r.id);
        }
        self.f.store().threads.insert_thread(&thread).await?;
        Ok(thread)
    }

    /// The user's threads, newest first.
    pub async fn mine(&self, actor: &Actor, page: &PageRequest) -> Result<Page<Thread>> {
        let user = self.f.accounts().me(actor).await?;
        self.f
            .store()
            .threads
            .threads(
                &ThreadFilter {
                    user: Some(user.id),
                    ..ThreadFilter::default()
                },
                page,
            )
            .await
    }

    async fn load(&self, id: &str) -> Result<Thread> {
        let id = ThreadId::parse(id.trim()).ok_or(Error::NotFound("message"))?;
        self.f
            .store()
            .threads
            .thread(&id)
            .await?
            .ok_or(Error::NotFound("message"))
    }

    /// One of the user's threads; anyone else's is "not found".
    pub async fn get(&self, actor: &Actor, id: &str) -> Result<Thread> {
        let user = self.f.accounts().me(actor).await?;
        let thread = self.load(id).await?;
        if thread.user_id != user.id {
            return Err(Error::NotFound("message"));
        }
        Ok(thread)
    }

    /// The user writes more in their own thread; it is open again.
    pub async fn reply(&self, actor: &Actor, id: &str, body: &str) -> Result<Thread> {
        let mut thread = self.get(actor, id).await?;
        let now = self.f.now();
        thread.replies.push(Reply {
            from: Author::User,
            body: text("body", body, BODY_MAX)?,
            created_at: now,
            staff_id: None,
        });
        thread.status = ThreadStatus::Open;
        thread.updated_at = now;
        self.f.store().threads.update_thread(&thread).await?;
        Ok(thread)
    }

    /// Threads for staff, newest first (`--open`, `--kind`). Audited as a read.
    pub async fn all(
        &self,
        actor: &Actor,
        filter: &ThreadFilter,
        page: &PageRequest,
    ) -> Result<Page<Thread>> {
        self.f.authorize(actor, StaffOp::ReadMessages).await?;
        let found = self.f.store().threads.threads(filter, page).await?;
        self.f
            .audit_record(
                actor,
                "messages.list",
                None,
                json!({ "count": found.items.len() }),
            )
            .await?;
        Ok(found)
    }

    /// One thread, for staff. Audited as a read.
    pub async fn show(&self, actor: &Actor, id: &str) -> Result<Thread> {
        self.f.authorize(actor, StaffOp::ReadMessages).await?;
        let thread = self.load(id).await?;
        self.f
            .audit_record(actor, "messages.read", Some(thread.id.as_str()), json!({}))
            .await?;
        Ok(thread)
    }

    /// Staff answer a thread (`support` for support and feedback, `dpo` for a grievance); the
    /// user is emailed that an answer is waiting, without its text. Audited.
    pub async fn answer(&self, actor: &Actor, id: &str, body: &str) -> Result<Thread> {
        self.f.authorize(actor, StaffOp::ReadMessages).await?;
        let mut thread = self.load(id).await?;
        let op = match thread.kind {
            MessageKind::Grievance => StaffOp::AnswerGrievances,
            MessageKind::Support | MessageKind::Feedback => StaffOp::AnswerMessages,
        };
        self.f.authorize(actor, op).await?;
        let staff = match actor {
            Actor::Staff(s) => Some(s.id().clone()),
            _ => None,
        };
        let now = self.f.now();
        thread.replies.push(Reply {
            from: Author::Staff,
            body: text("body", body, BODY_MAX)?,
            created_at: now,
            staff_id: staff,
        });
        thread.status = ThreadStatus::Answered;
        thread.updated_at = now;
        self.f.store().threads.update_thread(&thread).await?;
        self.f
            .audit_record(
                actor,
                "messages.answer",
                Some(thread.id.as_str()),
                json!({ "kind": thread.kind.as_str(), "replies": thread.replies.len() }),
            )
            .await?;
        if let Some(user) = self.f.store().accounts.user_by_id(&thread.user_id).await? {
            self.f
                .mail()
                .queue(
                    Some(&user.id),
                    user.email.as_str(),
                    &format!("thread:{}:{}", thread.id, thread.replies.len()),
                    templates::answer_waiting(&user.name, thread.id.as_str()),
                )
                .await?;
        }
        Ok(thread)
    }
}
