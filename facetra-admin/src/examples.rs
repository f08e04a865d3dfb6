//! The examples of `facetra-admin`'s commands (shown in `--help` and the man pages). Every
//! command but `bootstrap` and `completions` needs `--operator EMAIL` (or FACETRA_OPERATOR),
//! set once in the examples below.

/// Command path → example lines.
pub const EXAMPLES: &[(&str, &str)] = &[
    ("", "export FACETRA_OPERATOR=dpo@example.com\nfacetra-admin dsr list --overdue\nfacetra-admin datamap"),
    ("bootstrap", "facetra-admin bootstrap admin@example.com"),
    ("users list", "facetra-admin users list --limit 20"),
    ("users show", "facetra-admin users show asha@example.com"),
    ("users set-role", "facetra-admin users set-role asha@example.com user dpo"),
    ("credits grant", "facetra-admin credits grant asha@example.com 20 --reason \"render failed twice\""),
    ("credits ledger", "facetra-admin credits ledger asha@example.com"),
    ("credits verify", "facetra-admin credits verify"),
    ("mail outbox", "facetra-admin mail outbox --failed"),
    ("mail retry", "facetra-admin mail retry msg_…"),
    ("audit list", "facetra-admin audit list --limit 50\nfacetra-admin audit list --cursor 120 --json"),
    ("audit verify", "facetra-admin audit verify"),
    ("waitlist list", "facetra-admin waitlist list --status pending"),
    ("waitlist approve", "facetra-admin waitlist approve sgn_…"),
    ("demos list", "facetra-admin demos list"),
    ("dsr open", "facetra-admin dsr open --email asha@example.com --type access"),
    ("dsr list", "facetra-admin dsr list --overdue\nfacetra-admin dsr list --due-within 7 --as-of 2027-01-01"),
    ("dsr show", "facetra-admin dsr show dsr_…"),
    ("dsr verify", "facetra-admin dsr verify dsr_… --send-code\nfacetra-admin dsr verify dsr_… --code 123456"),
    ("dsr extend", "facetra-admin dsr extend dsr_… --days 30 --reason \"many stores to search\""),
    ("dsr reject", "facetra-admin dsr reject dsr_… --reason no_match"),
    ("dsr correct", "facetra-admin dsr correct dsr_… --name \"Asha Rao\""),
    ("dsr close", "facetra-admin dsr close dsr_… --outcome \"Export sent\""),
    ("dsr export", "facetra-admin dsr export dsr_… --out asha.zip"),
    ("dsr erase", "facetra-admin dsr erase dsr_… --dry-run\nfacetra-admin --yes dsr erase dsr_… --forfeit-credits"),
    ("dsr replay", "facetra-admin --yes dsr replay     # after restoring a backup"),
    ("anonymise logs", "facetra-admin anonymise logs --older-than 90d --dry-run"),
    ("retention plan", "facetra-admin retention plan --as-of 2027-03-01"),
    ("retention apply", "facetra-admin --yes retention apply"),
    ("breach open", "facetra-admin breach open --detected-at 2026-12-01T09:30:00Z --summary \"backup bucket was public\""),
    ("breach list", "facetra-admin breach list"),
    ("breach report", "facetra-admin breach report brc_… --to cert-in"),
    ("breach notify", "facetra-admin breach notify brc_… --users affected.txt --dry-run\nfacetra-admin --yes breach notify brc_… --all --template notice.txt"),
    ("messages list", "facetra-admin messages list --open --kind grievance"),
    ("messages show", "facetra-admin messages show thr_…"),
    ("messages reply", "facetra-admin messages reply thr_… --body \"We refunded the second charge.\""),
    ("datamap", "facetra-admin datamap\nfacetra-admin datamap --json > ropa.json"),
    ("completions", "source <(facetra-admin completions bash)    # this shell only"),
];

/// `facetra-admin`'s command definition with its examples.
pub fn command() -> clap::Command {
    facetra_cli::help::with_examples(<crate::Cli as clap::CommandFactory>::command(), EXAMPLES)
}
