//! Examples in every command's `--help` and man page, for both CLIs: each CLI keeps its
//! examples in one table (command path → lines), attached to the clap definition here, and a
//! test fails for a command without any.

/// Adds "Examples:" after each command's own help, from `examples` (`("portfolio show",
/// "facetra portfolio show \"Living room\"\n…")`), recursively.
pub fn with_examples(cmd: clap::Command, examples: &[(&str, &str)]) -> clap::Command {
    attach(cmd, "", examples)
}

fn attach(mut cmd: clap::Command, path: &str, examples: &[(&str, &str)]) -> clap::Command {
    if let Some((_, lines)) = examples.iter().find(|(p, _)| *p == path) {
        let shown: String = lines.lines().map(|l| format!("  {l}\n")).collect();
        let text = match cmd.get_after_help() {
            Some(before) => format!("{before}\n\nExamples:\n{shown}"),
            None => format!("Examples:\n{shown}"),
        };
        cmd = cmd.after_help(text.trim_end().to_owned());
    }
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_owned())
        .collect();
    for name in names {
        let sub_path = if path.is_empty() {
            name.clone()
        } else {
            format!("{path} {name}")
        };
        cmd = cmd.mut_subcommand(&name, |s| attach(s, &sub_path, examples));
    }
    cmd
}

/// The paths of every command without a subcommand of its own (each must have an example).
pub fn leaves(cmd: &clap::Command) -> Vec<String> {
    fn walk(cmd: &clap::Command, path: &str, out: &mut Vec<String>) {
        let subs: Vec<_> = cmd
            .get_subcommands()
            .filter(|s| s.get_name() != "help")
            .collect();
        if subs.is_empty() || cmd.is_args_conflicts_with_subcommands_set() {
            out.push(path.to_owned());
        }
        for s in subs {
            let p = if path.is_empty() {
                s.get_name().to_owned()
            } else {
                format!("{path} {}", s.get_name())
            };
            walk(s, &p, out);
        }
    }
    let mut out = Vec::new();
    walk(cmd, "", &mut out);
    out.retain(|p| !p.is_empty());
    out
}
