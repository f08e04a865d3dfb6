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
