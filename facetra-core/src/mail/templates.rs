//! The email templates, in text and HTML. Values are escaped for HTML; the privacy and breach
//! notices arrive with their features.

use crate::credits::Pack;

/// A rendered email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub template: &'static str,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Escapes text for HTML.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{}</title></head>\
         <body style=\"font-family:sans-serif;line-height:1.5\">{body}\
         <p style=\"color:#666;font-size:12px\">Facetra Technologies Pvt. Ltd. · privacy@facetra.studio</p>\
         </body></html>",
        escape(title)
    )
}

/// The welcome email for a new account.
pub fn welcome(name: &str, trial_credits: i64) -> Rendered {
    let subject = "Welcome to Facetra".to_owned();
    let text = format!(
        "Hello {name},\n\nYour Facetra studio is ready. You have {trial_credits} trial credits: one render variant costs one credit.\n\nUpload a sketch, describe the materials, and get photoreal renders in minutes.\n\nFacetra\n"
    );
    let html = page(
        &subject,
        &format!(
            "<p>Hello {},</p><p>Your Facetra studio is ready. You have <b>{trial_credits}</b> trial credits: one render variant costs one credit.</p><p>Upload a sketch, describe the materials, and get photoreal renders in minutes.</p>",
            escape(name)
        ),
    );
    Rendered {
        template: "welcome",
        subject,
        text,
        html,
    }
}

/// The receipt for a purchased pack.
pub fn payment_receipt(name: &str, pack: &Pack, payment_ref: &str, balance: i64) -> Rendered {
    let price = format!("₹{}.{:02}", pack.price_paise / 100, pack.price_paise % 100);
    let subject = format!("Your Facetra receipt: {} pack", pack.name);
    let text = format!(
        "Hello {name},\n\nThank you for your purchase.\n\nPack: {} ({} credits)\nAmount: {price}\nReference: {payment_ref}\nBalance now: {balance} credits\n\nFacetra\n",
        pack.name, pack.credits
    );
    let html = page(
        &subject,
        &format!(
            "<p>Hello {},</p><p>Thank you for your purchase.</p><table><tr><td>Pack</td><td>{} ({} credits)</td></tr>\
             <tr><td>Amount</td><td>{price}</td></tr><tr><td>Reference</td><td>{}</td></tr>\
             <tr><td>Balance now</td><td>{balance} credits</td></tr></table>",
            escape(name),
            escape(&pack.name),
            pack.credits,
            escape(payment_ref)
        ),
    );
    Rendered {
        template: "payment_receipt",
        subject,
        text,
        html,
    }
}

/// The confirmation of a demo booking.
pub fn demo_confirmation(name: &str) -> Rendered {
    let subject = "Your Facetra demo request".to_owned();
    let text = format!(
        "Hello {name},\n\nThank you for booking a Facetra demo. We will write within two working days to find a time that suits you.\n\nFacetra\n"
    );
    let html = page(
        &subject,
        &format!(
            "<p>Hello {},</p><p>Thank you for booking a Facetra demo. We will write within two working days to find a time that suits you.</p>",
            escape(name)
        ),
    );
    Rendered {
        template: "demo_confirmation",
        subject,
        text,
        html,
    }
}

/// The invitation of an approved waitlist entry.
pub fn studio_ready(name: &str, trial_credits: i64) -> Rendered {
    let subject = "Your Facetra studio is ready".to_owned();
    let text = format!(
        "Hello {name},\n\nYou are in: sign in to Facetra with Google using this email address and your studio opens with {trial_credits} trial credits waiting.\n\nFacetra\n"
    );
    let html = page(
        &subject,
        &format!(
            "<p>Hello {},</p><p>You are in: sign in to Facetra with Google using this email address and your studio opens with <b>{trial_credits}</b> trial credits waiting.</p>",
            escape(name)
        ),
    );
    Rendered {
        template: "studio_ready",
        subject,
        text,
        html,
    }
}

/// Where a person turns when a privacy request is not answered to their satisfaction.
const HOW_TO_COMPLAIN: &str = "If you are not satisfied, write to our Data Protection Officer at privacy@facetra.studio; you may also complain to the Data Protection Board of India.";

/// A message of paragraphs, in text and HTML.
fn paragraphs(template: &'static str, subject: String, lines: &[String]) -> Rendered {
    let text = format!("{}\n\nFacetra\n", lines.join("\n\n"));
    let body: String = lines
        .iter()
        .map(|l| format!("<p>{}</p>", escape(l)))
        .collect();
    let html = page(&subject, &body);
    Rendered {
        template,
        subject,
        text,
        html,
    }
}

fn privacy_mail(template: &'static str, subject: String, lines: &[String]) -> Rendered {
    let mut all = vec!["Hello,".to_owned()];
    all.extend_from_slice(lines);
    paragraphs(template, subject, &all)
}

/// A privacy request has been received.
pub fn privacy_received(kind: &str, id: &str, due: &str, verify_by_code: bool) -> Rendered {
    let mut lines = vec![
        format!("We have received your privacy request ({kind}), reference {id}."),
        format!("We will answer it by {due}."),
    ];
    if verify_by_code {
        lines.push(
            "Before we act on it we must check that it comes from you: we will send a one-time code to this address, valid for 10 minutes. Tell it only to our Data Protection Officer."
                .into(),
        );
    }
    lines.push(HOW_TO_COMPLAIN.into());
    privacy_mail(
        "privacy_request_received",
        format!("We received your privacy request {id}"),
        &lines,
    )
}

/// The one-time code that verifies a privacy request.
pub fn privacy_code(id: &str, code: &str) -> Rendered {
    privacy_mail(
        "privacy_request_code",
        format!("Your verification code for privacy request {id}"),
        &[
            format!("Your verification code is {code}. It is valid for 10 minutes."),
            "Give it to our Data Protection Officer only if you made this request. If you did not, ignore this email: nothing happens without the code.".into(),
        ],
    )
}

/// A privacy request has been completed.
pub fn privacy_completed(kind: &str, id: &str, outcome: &str) -> Rendered {
    privacy_mail(
        "privacy_request_completed",
        format!("Your privacy request {id} is complete"),
        &[
            format!("Your privacy request ({kind}), reference {id}, is complete."),
            outcome.to_owned(),
            HOW_TO_COMPLAIN.into(),
        ],
    )
}

/// A privacy request has been turned down.
pub fn privacy_rejected(kind: &str, id: &str, reason: &str, note: Option<&str>) -> Rendered {
    let mut lines = vec![format!(
        "We could not act on your privacy request ({kind}), reference {id}, because {reason}."
    )];
    if let Some(note) = note {
        lines.push(note.to_owned());
    }
    lines.push(HOW_TO_COMPLAIN.into());
    privacy_mail(
        "privacy_request_rejected",
        format!("About your privacy request {id}"),
        &lines,
    )
}

/// A breach notice to a person whose data was affected.
pub fn breach_notice(name: &str, what: &str, detected: crate::Timestamp) -> Rendered {
    let subject = "Important: a security incident affecting your Facetra data".to_owned();
    let lines = [
        format!("Dear {name},"),
        format!(
            "On {} we detected a security incident that affected data we hold about you.",
            detected.format("%Y-%m-%d")
        ),
        what.to_owned(),
        "What you can do: sign out of Facetra everywhere, revoke any API tokens you do not recognise (facetra tokens list), and watch for emails that claim to be from us.".to_owned(),
        "Our Data Protection Officer answers questions at privacy@facetra.studio. You may also complain to the Data Protection Board of India.".to_owned(),
    ];
    paragraphs("breach_notice", subject, &lines)
}

/// An answer waits in the app (its text is not in the email).
pub fn answer_waiting(name: &str, thread: &str) -> Rendered {
    let subject = "An answer to your message is waiting".to_owned();
    let lines = [
        format!("Hello {name},"),
        format!("Facetra has answered your message ({thread}). Read it in the app or with `facetra messages show {thread}`."),
    ];
    paragraphs("answer_waiting", subject, &lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_escaped_in_html_only() {
        let r = welcome("<b>Ana & Co</b>", 10);
        assert!(r.html.contains("&lt;b&gt;Ana &amp; Co&lt;/b&gt;"));
        assert!(!r.html.contains("<b>Ana"));
        assert!(r.text.contains("<b>Ana & Co</b>"));
        let pack = crate::credits::default_packs().remove(1);
        let receipt = payment_receipt("Ana", &pack, "pay_x", 210);
        assert!(receipt.text.contains("₹1499.00") && receipt.text.contains("210 credits"));
    }
}
